// Checks of hand-offs between procedures (`opens:`), made when publishing.
//
// The loader checks what one file can tell (the copied fields exist in it);
// these checks need the other published procedures: the target exists, the
// copied and set fields fit the target's fields and its `open:` section, and
// no chain of hand-offs leads back to where it started (a loop would open
// cases forever).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sopir/procedure.h"

namespace sopir {

// The current published version of a procedure id, or null.
using ProcedureLookup = std::function<ProcedurePtr(const std::string& sop_id)>;

// "file:line:col: " of a place in `procedure`'s file, to start a problem with.
std::string where(const Procedure& procedure, const SourcePos& pos);

// Problems with the hand-offs of `procedure`, each as "file:line:col: message".
std::vector<std::string> check_handoffs(const Procedure& procedure, const ProcedureLookup& lookup);

}  // namespace sopir

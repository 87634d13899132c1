// What a whole copy (copy.cc) and an office's move (move_in.cc) share
// (sopir/copy.h).
#pragma once

#include <string>
#include <vector>

#include "sopir/case.h"
#include "sopir/store.h"

namespace sopir::copying {

// A value this session cannot read (encrypted, no key held) cannot be
// copied: its text would be lost (kDenied).
void require_readable(const StoredValue& value, const std::string& case_id);
// Cases in an order that puts every parent before the cases it opened.
std::vector<CaseRecord> parents_first(std::vector<CaseRecord> cases);
// The site "moved-in" rows of `store`'s registry, oldest first.
std::vector<MovedIn> moves(Store& store);

}  // namespace sopir::copying

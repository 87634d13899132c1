// Moving running cases to a new version of their procedure.
//
// The new version says how cases of older versions move (`migrate:`,
// MigrationDef in procedure.h); the loader checks what it can from the new
// file alone. check_migration() checks the section against one older
// version; `sop validate NEW --from OLD` and `sop publish` (against the
// published versions the section names) call it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sopir/case.h"
#include "sopir/loader.h"
#include "sopir/procedure.h"

namespace sopir {

// Checks `next`'s migrate: section against `old`, an older version of the
// same procedure: the section names old's version; every state a case of old
// can be in (reachable from the initial state, not terminal: finished cases
// do not move) is mapped, kept by name, or declared not movable (`stays`);
// no landing state is one from which no end can be reached; the old states,
// fields and events it names exist in old; a mapped field keeps its type
// and its enum values. A field of old that the new version neither keeps
// nor drops on purpose is a warning (an error under `strict`).
// Diagnostics are located in next's file (next.file, next.source). Never
// throws for problems in the procedures.
std::vector<Diagnostic> check_migration(const Procedure& old, const Procedure& next, bool strict = false);

// By state index: whether a terminal state can be reached from it (guards
// ignored; terminal states themselves count).
std::vector<bool> states_that_can_end(const Procedure& procedure);
// By state index: whether a case can be in it (from the initial state, and
// from reopen_to when finished cases may be reopened).
std::vector<bool> reachable_states(const Procedure& procedure);

// One field of a moving case whose value is not simply kept: taken from a
// renamed field, given its default, or (field -1) an older field's value
// left behind.
struct FieldMove {
  int field = -1;          // index in the new version; -1: left behind
  std::string old_field;   // the older field the value came from or stays in; "" for a default
  Value before;            // the case's value of the same-named older field (missing when none)
  Value after;             // the value in the new version (missing when left behind)
};

// Where one case lands (plan_case).
struct Landing {
  bool moves = false;
  std::string reason;       // why it cannot move, when !moves (in `lang`; "" the process's)
  int from_state = -1;      // the case's state in the older version
  int state = -1;           // its state in the new version, when it moves
  std::vector<Value> data;  // its values by the new version's field index, when it moves
  std::vector<FieldMove> changes;  // what is not simply kept, new field order then left behind
  std::optional<DateTime> due_at;  // its deadline in the new state, recomputed (none: no deadline)
};

// Where case `c` of `old` lands in `next` (the section of `next.migrations` naming old's version
// says how), or why it cannot move: it is closed or finished, its state is declared not movable, no
// branch of its state's split holds, its state is mapped nowhere, or a value it carries is not one
// the new version accepts (an enum value, a bound, a pattern). Values are moved first; a split's
// `when:` reads them. The deadline is the new state's, counted from
// `entered_at` (when the case entered its current state), shifted as the
// case's own due time was (time on hold). `now` is what today() and now()
// read in a split's guard. Pure: no clock, no I/O; never throws for a
// case that cannot move.
Landing plan_case(const Procedure& old, const Procedure& next, const CaseSnapshot& c, DateTime entered_at,
                  DateTime now, std::string_view lang = {});

// Where each field of `next` takes its value from, for cases of `old`:
// worked out once per pair of versions (plan_case works it out on each call
// otherwise). Valid while both procedures live.
struct FieldPlan {
  struct Field {
    int source = -1;         // the older field index its value comes from; -1 none
    int same = -1;           // the older field of the same name, type and not dropped; -1 none
    const Value* default_value = nullptr;  // when the case has no value
  };
  std::vector<Field> fields;  // by field index of `next`
  std::vector<bool> taken;    // by older field index: some field of `next` takes its value
};
FieldPlan field_plan(const Procedure& old, const Procedure& next);
Landing plan_case(const Procedure& old, const Procedure& next, const FieldPlan& fields, const CaseSnapshot& c,
                  DateTime entered_at, DateTime now, std::string_view lang = {});

}  // namespace sopir

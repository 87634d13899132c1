// Hand-offs seen by the auditor (internal to audit): which cases a case
// opened, what their logs say about each other, and whether the two sides
// of every hand-off agree.
//
// A hand-off (`opens:` in a procedure) writes two log rows in one
// transaction: the parent's step, naming the child in `linked_case`, and
// the child's open row directly after it, naming the parent; the child's
// case row names the parent in `parent_case`. LinkChecker is told about
// every replayed case and, at the end, reports each hand-off that is only
// half there, each link to nothing, and each child opened with values other
// than those the parent's procedure version copies and sets.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/replay.h"
#include "sopir/audit.h"
#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir::audit_internal {

// Whether any guard of the procedure reads the cases it opened (tracks).
bool reads_children(const Procedure& procedure);

// The timelines of `children` (id and procedure id; status unused) from
// their logs.
std::vector<ChildTimeline> child_timelines(Store& store, const std::vector<LinkedCase>& children);
std::vector<ChildTimeline> child_timelines(Store& store, const std::vector<CaseRecord>& children);

// The cases whose case row names `parent_id` as their parent.
std::vector<CaseRecord> children_of(Store& store, const std::string& parent_id);

// The case, its parents up to the first, and everything it opened,
// recursively: parents first, then the case, then its descendants
// (breadth-first). kNotFound for an unknown case.
std::vector<CaseRecord> linked_family(Store& store, const std::string& case_id);

class LinkChecker {
 public:
  // One replayed case: its row (null when only its log exists), its log,
  // its procedure and the replay's verdicts (same order as `history`).
  void add_case(const CaseRecord* record, const std::vector<LogEntry>& history,
                const ProcedurePtr& procedure, const CaseReplay& replay);
  // A case whose procedure could not be loaded: only its links are known.
  void add_unreplayed(const CaseRecord* record, const std::vector<LogEntry>& history);

  // Every problem found, once all cases have been added.
  std::vector<audit::Finding> findings() const;
  // The databases moved in (verify's): a rule of a moved case naming a
  // site (or a field giving one) names the database's own, so its default
  // site is the one it became here (MovedIn::here).
  void set_moves(const std::vector<MovedIn>* moves) { moves_ = moves; }

 private:
  // A step that opened, or by its rule should have opened, another case:
  // one per track when the step opened several.
  struct ParentStep {
    int64_t seq = 0;
    int track = 0;             // 0-based position among the step's hand-offs
    std::string case_id;
    std::string step;          // "log row 12 (case ... step 3, 'refer')"
    std::string linked;        // the case the row names for this track, "" when none
    std::string site;          // the site the parent was at after the row ("" before sites)
    ProcedurePtr procedure;    // null: the rule is not known
    const HandOff* opens = nullptr;  // the rule's hand-off, null when none
    std::map<std::string, StoredValue> data_after;
  };
  // A case's open row and what its case row says about its parent.
  struct Opening {
    int64_t seq = 0;
    std::string case_id;
    std::string sop_id;
    std::string linked;         // from the open row
    std::string site;           // from the open row ("" before sites)
    std::string parent_case;    // from the case row
    bool has_record = false;
    std::vector<std::pair<std::string, std::string>> inputs;
    std::vector<LogEntry::Change> changes;
  };

  void add_opening(const CaseRecord* record, const LogEntry& open, const std::string& sop_id);
  // One ParentStep per case the row names or its rule opens.
  void add_parent(const LogEntry& e, const ProcedurePtr& procedure, const std::vector<HandOff>* opens,
                  const std::optional<std::map<std::string, StoredValue>>& data_after, const std::string& site);
  void check_parent(const ParentStep& step, std::vector<audit::Finding>& out,
                    std::set<std::string>& claimed) const;
  void check_opening(const Opening& child, const std::set<std::pair<std::string, std::string>>& opened,
                     std::vector<audit::Finding>& out) const;
  std::string compare_values(const ParentStep& step, const Opening& child) const;

  std::vector<ParentStep> parents_;
  std::map<std::string, Opening> openings_;  // by case id
  std::set<std::string> known_cases_;        // with a case row or log rows
  const std::vector<MovedIn>* moves_ = nullptr;
};

}  // namespace sopir::audit_internal

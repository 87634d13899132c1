// LinkChecker and the linked-case helpers: hand-offs as the auditor sees them.
#include "audit/links.h"

#include <algorithm>
#include <deque>

#include "audit/common.h"
#include "base/sha256.h"
#include "lang/expr/expr.h"
#include "sopir/error.h"
#include "sopir/privacy.h"
#include "sopir/messages/audit.h"

namespace sopir::audit_internal {

using audit::Finding;
using audit::FindingKind;

namespace {

// "log row 12 (case K7F-3QX step 3, 'refer')".
std::string step_text(const LogEntry& e) {
  return tr(msg::audit_step_text, {log_row(e.seq), e.case_id, std::to_string(e.case_seq), e.event});
}

constexpr const char* kPiiInput = kPersonalInput;  // sopir/privacy.h

// Whether a value the parent held and a value the child was given are the
// same. Personal values compare by text while both are known, by salted
// digest when one was erased; when both were erased nothing can be said and
// they count as equal.
bool same_value(const StoredValue& parent, const StoredValue& child) {
  if (parent.missing || child.missing) return parent.missing == child.missing;
  const bool parent_known = !parent.erased, child_known = !child.erased;
  if (parent_known && child_known) return parent.text == child.text;
  if (parent_known && child.pii) return sha256_hex(child.salt + parent.text) == child.digest;
  if (child_known && parent.pii) return sha256_hex(parent.salt + child.text) == parent.digest;
  return true;
}

std::string shown(const StoredValue& v) {
  if (v.missing) return tr(msg::audit_value_none);
  if (v.pii) return tr(msg::audit_personal_data);
  return "'" + v.text + "'";
}

StoredValue plain(const std::string& field, const std::string& text) {
  StoredValue v;
  v.field = field;
  v.missing = false;
  v.text = text;
  return v;
}

// What the child was given for `field`: its input, with a personal input
// ("<pii>") taken from the child's open-row change; nullopt when not given.
std::optional<StoredValue> given(const std::vector<std::pair<std::string, std::string>>& inputs,
                                 const std::vector<LogEntry::Change>& changes,
                                 const std::string& field) {
  auto in = std::find_if(inputs.begin(), inputs.end(), [&](const auto& i) { return i.first == field; });
  if (in == inputs.end()) return std::nullopt;
  if (in->second != kPiiInput) return plain(field, in->second);
  auto ch = std::find_if(changes.begin(), changes.end(),
                         [&](const LogEntry::Change& c) { return c.after.field == field; });
  if (ch == changes.end()) {
    StoredValue none;
    none.field = field;
    return none;  // given as personal data but no value recorded: missing
  }
  return ch->after;
}

}  // namespace

bool reads_children(const Procedure& procedure) {
  return std::any_of(procedure.transitions.begin(), procedure.transitions.end(), [](const TransitionDef& t) {
    return t.guard && reads_tracks(*t.guard);
  });
}

std::vector<CaseRecord> children_of(Store& store, const std::string& parent_id) {
  CaseFilter filter;
  filter.linked_to = parent_id;
  std::vector<CaseRecord> out;
  for (auto& c : store.cases(filter)) {
    if (c.parent_case == parent_id) out.push_back(std::move(c));
  }
  return out;
}

std::vector<ChildTimeline> child_timelines(Store& store, const std::vector<CaseRecord>& children) {
  std::vector<LinkedCase> linked;
  for (const CaseRecord& c : children)
    linked.push_back(linked_case(c.id, c.sop_id, c.status, c.state, c.closure_reason));
  return child_timelines(store, linked);
}

std::vector<ChildTimeline> child_timelines(Store& store, const std::vector<LinkedCase>& children) {
  std::vector<ChildTimeline> out;
  for (const LinkedCase& child : children) {
    ChildTimeline t{child.id, child.sop_id, {}};
    for (const LogEntry& e : store.history(child.id)) {
      auto status = status_from_string(e.to_status);
      if (!status) continue;
      const bool closing = e.kind == LogKind::kLifecycle && e.event == "close";
      t.statuses.push_back({e.seq, *status, e.to_state, closing ? e.reason : ""});
    }
    out.push_back(std::move(t));
  }
  // Oldest first, by their open rows (the engine orders them the same way).
  std::stable_sort(out.begin(), out.end(), [](const ChildTimeline& a, const ChildTimeline& b) {
    const int64_t first_a = a.statuses.empty() ? 0 : a.statuses.front().seq;
    const int64_t first_b = b.statuses.empty() ? 0 : b.statuses.front().seq;
    return first_a < first_b;
  });
  return out;
}

std::vector<CaseRecord> linked_family(Store& store, const std::string& case_id) {
  auto self = store.find_case(case_id);
  if (!self) throw not_found(tr(msg::audit_no_case, {case_id}));
  std::set<std::string> seen{self->id};
  std::deque<CaseRecord> parents;
  for (std::string up = self->parent_case; !up.empty() && seen.insert(up).second;) {
    auto parent = store.find_case(up);
    if (!parent) break;  // a dangling link: verify reports it
    up = parent->parent_case;
    parents.push_front(std::move(*parent));
  }
  std::vector<CaseRecord> out(parents.begin(), parents.end());
  const size_t first_descendant = out.size();
  out.push_back(*self);
  for (size_t i = first_descendant; i < out.size(); ++i) {
    for (auto& child : children_of(store, out[i].id)) {
      if (seen.insert(child.id).second) out.push_back(std::move(child));
    }
  }
  return out;
}

void LinkChecker::add_opening(const CaseRecord* record, const LogEntry& open, const std::string& sop_id) {
  Opening o;
  o.seq = open.seq;
  o.case_id = open.case_id;
  o.sop_id = sop_id;
  o.linked = open.linked_case;
  o.site = open.site;
  o.has_record = record != nullptr;
  if (record) o.parent_case = record->parent_case;
  if (o.linked.empty() && o.parent_case.empty()) {
    openings_.emplace(o.case_id, std::move(o));  // a case opened by staff: no values kept
    return;
  }
  o.inputs = open.inputs;
  o.changes = open.changes;
  openings_.emplace(o.case_id, std::move(o));
}

void LinkChecker::add_case(const CaseRecord* record, const std::vector<LogEntry>& history,
                           const ProcedurePtr& procedure, const CaseReplay& replay) {
  std::string site;  // where the case is: its open row's site, then each transfer's
  for (size_t i = 0; i < history.size(); ++i) {
    const LogEntry& e = history[i];
    known_cases_.insert(e.case_id);
    if (e.kind == LogKind::kOpen || e.kind == LogKind::kTransfer) site = e.site;
    if (e.kind == LogKind::kOpen) {
      add_opening(record, e, record ? record->sop_id : procedure->id);
      continue;
    }
    const StepReplay& s = replay.steps[i];
    if (s.transition < 0) {
      add_parent(e, nullptr, nullptr, s.data_after, site);
    } else {
      const ProcedurePtr& under = s.under ? s.under : procedure;
      add_parent(e, under, &under->transitions[static_cast<size_t>(s.transition)].opens, s.data_after, site);
    }
  }
  if (record) known_cases_.insert(record->id);
}

void LinkChecker::add_parent(const LogEntry& e, const ProcedurePtr& procedure,
                             const std::vector<HandOff>* opens,
                             const std::optional<std::map<std::string, StoredValue>>& data_after,
                             const std::string& site) {
  const std::vector<std::string> linked = split_case_ids(e.linked_case);
  const size_t rules = opens ? opens->size() : 0;
  for (size_t k = 0; k < std::max(linked.size(), rules); ++k) {
    ParentStep p;
    p.seq = e.seq;
    p.track = static_cast<int>(k);
    p.case_id = e.case_id;
    p.step = step_text(e);
    p.site = site;
    if (k < linked.size()) p.linked = linked[k];
    p.procedure = procedure;
    if (k < rules) p.opens = &(*opens)[k];
    if (data_after) p.data_after = *data_after;
    parents_.push_back(std::move(p));
  }
}

void LinkChecker::add_unreplayed(const CaseRecord* record, const std::vector<LogEntry>& history) {
  for (const LogEntry& e : history) {
    known_cases_.insert(e.case_id);
    if (e.kind == LogKind::kOpen) {
      add_opening(record, e, record ? record->sop_id : "");
    } else {
      add_parent(e, nullptr, nullptr, std::nullopt, "");
    }
  }
  if (record) known_cases_.insert(record->id);
}

std::string LinkChecker::compare_values(const ParentStep& step, const Opening& child) const {
  const HandOff& h = *step.opens;
  std::vector<std::string> problems;
  if (!child.sop_id.empty() && child.sop_id != h.sop)
    problems.push_back(tr(msg::audit_link_other_sop, {child.sop_id, h.sop}));
  std::set<std::string> expected;
  for (const auto& [to_field, from_index] : h.copy) {
    expected.insert(to_field);
    const std::string& from_field = step.procedure->fields[static_cast<size_t>(from_index)].id;
    StoredValue parent;
    parent.field = from_field;
    if (auto it = step.data_after.find(from_field); it != step.data_after.end()) parent = it->second;
    const auto got = given(child.inputs, child.changes, to_field);
    if (parent.missing) {
      if (got) problems.push_back(tr(msg::audit_link_given_parent_empty, {to_field, shown(*got), step.case_id, from_field}));
      continue;
    }
    if (!got) {
      problems.push_back(tr(msg::audit_link_not_given, {to_field, step.case_id, shown(parent), from_field}));
    } else if (!same_value(parent, *got)) {
      problems.push_back(tr(parent.pii ? msg::audit_link_differs_pii : msg::audit_link_differs,
                            {to_field, shown(*got), step.case_id, shown(parent), from_field}));
    }
  }
  for (const auto& [to_field, text] : h.set) {
    expected.insert(to_field);
    const auto got = given(child.inputs, child.changes, to_field);
    if (!got) {
      problems.push_back(tr(msg::audit_link_set_missing, {to_field, text}));
    } else if (!same_value(plain(to_field, text), *got)) {
      problems.push_back(tr(msg::audit_link_set_differs, {to_field, shown(*got), text}));
    }
  }
  for (const auto& [field, text] : child.inputs) {
    if (!expected.count(field))
      problems.push_back(tr(msg::audit_link_extra, {field}));
  }
  // The site the rule opens the case at (cases opened before sites name none).
  std::string site = step.site;
  if (!h.site.empty()) site = h.site;
  if (h.site_field >= 0) {
    const std::string& field = step.procedure->fields[static_cast<size_t>(h.site_field)].id;
    auto it = step.data_after.find(field);
    site = it == step.data_after.end() || it->second.missing ? std::string() : it->second.text;
  }
  if (moves_)
    for (const MovedIn& m : *moves_)
      if (m.holds(step.seq)) site = m.here(site);
  if (!child.site.empty() && !site.empty() && child.site != site)
    problems.push_back(tr(msg::audit_link_other_site, {child.site, site}));
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "; ") + p;
  return out;
}

void LinkChecker::check_parent(const ParentStep& step, std::vector<Finding>& out,
                               std::set<std::string>& claimed) const {
  if (step.linked.empty()) {
    out.push_back({FindingKind::kLinkMissing, step.seq, step.case_id,
                   tr(msg::audit_link_unrecorded, {step.step, step.opens->sop})});
    return;
  }
  if (step.procedure && !step.opens) {
    out.push_back({FindingKind::kLinkUnknown, step.seq, step.case_id,
                   tr(msg::audit_link_no_rule, {step.step, step.linked})});
    return;
  }
  auto it = openings_.find(step.linked);
  if (it == openings_.end()) {
    out.push_back({known_cases_.count(step.linked) ? FindingKind::kLinkMissing : FindingKind::kLinkUnknown,
                   step.seq, step.case_id,
                   tr(known_cases_.count(step.linked) ? msg::audit_link_no_open_row : msg::audit_link_no_such_case,
                      {step.step, step.linked})});
    return;
  }
  if (!claimed.insert(step.linked).second) {
    out.push_back({FindingKind::kLinkUnknown, step.seq, step.case_id,
                   tr(msg::audit_link_twice, {step.step, step.linked})});
    return;
  }
  const Opening& child = it->second;
  if (child.linked != step.case_id) {
    out.push_back({FindingKind::kLinkMissing, step.seq, step.case_id,
                   child.linked.empty()
                       ? tr(msg::audit_link_names_none, {step.step, child.case_id, log_row(child.seq)})
                       : tr(msg::audit_link_names_other, {step.step, child.case_id, log_row(child.seq), child.linked})});
    return;
  }
  if (child.seq != step.seq + 1 + step.track) {
    out.push_back({FindingKind::kLinkMissing, step.seq, step.case_id,
                   tr(msg::audit_link_other_row,
                      {step.step, child.case_id, log_row(child.seq),
                       step.track == 0 ? tr(msg::audit_link_row_after) : log_row(step.seq + 1 + step.track)})});
  }
  if (!step.opens) return;  // the rule is not known: values cannot be checked
  if (std::string diff = compare_values(step, child); !diff.empty()) {
    out.push_back({FindingKind::kLinkValues, child.seq, child.case_id,
                   tr(msg::audit_link_values, {child.case_id, step.step, diff})});
  }
}

void LinkChecker::check_opening(const Opening& child, const std::set<std::pair<std::string, std::string>>& opened,
                                std::vector<Finding>& out) const {
  if (child.has_record && child.parent_case != child.linked) {
    out.push_back({FindingKind::kCaseRow, child.seq, child.case_id,
                   tr(msg::audit_link_row_names,
                      {child.case_id,
                       child.parent_case.empty() ? tr(msg::audit_link_no_parent)
                                                 : tr(msg::audit_link_parent, {child.parent_case}),
                       log_row(child.seq),
                       child.linked.empty() ? tr(msg::audit_none) : tr(msg::audit_link_case, {child.linked})})});
  }
  const std::string& parent = child.linked.empty() ? child.parent_case : child.linked;
  if (parent.empty()) return;
  if (opened.count({parent, child.case_id})) return;
  if (!known_cases_.count(parent)) {
    out.push_back({FindingKind::kLinkUnknown, child.seq, child.case_id,
                   tr(msg::audit_link_unknown_parent, {child.case_id, parent})});
  } else {
    out.push_back({FindingKind::kLinkMissing, child.seq, child.case_id,
                   tr(msg::audit_link_not_by_parent, {child.case_id, parent})});
  }
}

std::vector<Finding> LinkChecker::findings() const {
  std::vector<Finding> out;
  std::vector<const ParentStep*> steps;
  std::set<std::pair<std::string, std::string>> opened;  // (parent, child) named by a parent's row
  for (const ParentStep& step : parents_) {
    steps.push_back(&step);
    if (!step.linked.empty()) opened.emplace(step.case_id, step.linked);
  }
  std::sort(steps.begin(), steps.end(), [](const ParentStep* a, const ParentStep* b) { return a->seq < b->seq; });
  std::set<std::string> claimed;
  for (const ParentStep* step : steps) check_parent(*step, out, claimed);
  for (const auto& [id, child] : openings_) check_opening(child, opened, out);
  return out;
}

}  // namespace sopir::audit_internal

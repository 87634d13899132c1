// Engine::todo: what one staff member can do now, across the active cases.
#include <algorithm>
#include <tuple>

#include "sopir/engine.h"

namespace sopir {

namespace {

// Sort key: overdue and soonest due first. Every overdue case is due
// before every other one, so ordering by due time puts them first.
// A case past a clock's limit counts as overdue too.
auto todo_order(const TodoItem& item) {
  const CaseRecord& c = item.record;
  return std::make_tuple(!item.overdue, !c.due_at.has_value(), c.due_at ? c.due_at->seconds : 0,
                         c.opened_at.seconds, std::cref(c.id));
}

}  // namespace

TodoList Engine::todo(const std::string& actor_id, int64_t limit) {
  TodoList out;
  reading([&] { out = todo_read(actor_id); });
  std::sort(out.items.begin(), out.items.end(),
            [](const TodoItem& a, const TodoItem& b) { return todo_order(a) < todo_order(b); });
  if (limit > 0 && static_cast<int64_t>(out.items.size()) > limit) {
    out.more = static_cast<int64_t>(out.items.size()) - limit;
    out.items.resize(static_cast<size_t>(limit));
  }
  return out;
}

TodoList Engine::todo_read(const std::string& actor_id) {
  const Actor who = actor(actor_id);
  const DateTime now = clock_->now();
  CaseFilter filter;
  filter.status = Status::kActive;
  filter.sites = who.sites;  // only cases one may act on
  if (std::find(who.roles.begin(), who.roles.end(), "auditor") != who.roles.end()) filter.sites->clear();
  TodoList out;
  for (CaseRecord& record : store_->cases(filter)) {
    ProcedurePtr p = procedure(record.sha256);
    TodoItem item;
    // A procedure with clocks needs the case's log for them: read once.
    const bool clocked = !p->clocks.empty();
    std::vector<LogEntry> history;
    if (clocked) history = store_->history(record.id);
    for (EventCheck& check :
         check_events(*p, snapshot(*p, record, clocked ? &history : nullptr), who, now)) {
      if (check.possible) item.events.push_back(std::move(check));
    }
    if (item.events.empty()) continue;
    item.overdue = record.due_at && *record.due_at < now;
    if (clocked) {
      for (const ClockStatus& c : clock_statuses(*p, history)) {
        if (c.overdue(now)) item.clocks_overdue.push_back(p->clocks[c.clock].id);
      }
      item.overdue = item.overdue || !item.clocks_overdue.empty();
    }
    item.record = std::move(record);
    item.procedure = std::move(p);
    out.items.push_back(std::move(item));
  }
  return out;
}

}  // namespace sopir

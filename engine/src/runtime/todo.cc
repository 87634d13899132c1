// Engine::todo: what one staff member can do now, across the active cases.
#include <algorithm>
#include <tuple>
#include <vector>

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

bool todo_before(const TodoItem& a, const TodoItem& b) { return todo_order(a) < todo_order(b); }

}  // namespace

TodoList Engine::todo(const std::string& actor_id, int64_t limit) {
  TodoList out;
  reading([&] { out = todo_read(actor_id, limit); });
  std::sort(out.items.begin(), out.items.end(), todo_before);
  return out;
}

TodoList Engine::todo_read(const std::string& actor_id, int64_t limit) {
  const Actor who = actor(actor_id);
  const DateTime now = clock_->now();
  CaseFilter filter;
  filter.status = Status::kActive;
  filter.sites = who.sites;  // only cases one may act on
  if (std::find(who.roles.begin(), who.roles.end(), "auditor") != who.roles.end()) filter.sites->clear();
  TodoList out;
  // With a limit, only the first `limit` items are kept: a heap whose front
  // is the last of them, replaced when a case comes before it. A list over
  // every site holds `limit` cases, not every active one.
  const auto keep = [&](TodoItem&& item) {
    if (limit <= 0 || static_cast<int64_t>(out.items.size()) < limit) {
      out.items.push_back(std::move(item));
      if (limit > 0) std::push_heap(out.items.begin(), out.items.end(), todo_before);
      return;
    }
    ++out.more;
    if (!todo_before(item, out.items.front())) return;
    std::pop_heap(out.items.begin(), out.items.end(), todo_before);
    out.items.back() = std::move(item);
    std::push_heap(out.items.begin(), out.items.end(), todo_before);
  };
  // A part of the cases at a time (in id order, inside todo()'s one read
  // snapshot), their logs and the cases they opened read together
  // (Engine::snapshots).
  store_->each_part(
      std::move(filter),
      [&](std::vector<CaseRecord>& part) {
        std::vector<ProcedurePtr> procedures;
        for (const CaseRecord& record : part) procedures.push_back(procedure(record.sha256));
        const PartRead read = snapshots(part, procedures);
        for (size_t i = 0; i < part.size(); ++i) {
          const Procedure& p = *procedures[i];
          TodoItem item;
          item.events = possible_events(p, read.snapshots[i], who, now);
          if (item.events.empty()) continue;
          item.overdue = part[i].due_at && *part[i].due_at < now;
          if (!p.clocks.empty()) {
            for (const ClockStatus& c : clock_statuses(p, read.logs[i])) {
              if (c.overdue(now)) item.clocks_overdue.push_back(p.clocks[c.clock].id);
            }
            item.overdue = item.overdue || !item.clocks_overdue.empty();
          }
          item.record = std::move(part[i]);
          item.procedure = procedures[i];
          keep(std::move(item));
        }
      },
      static_cast<int64_t>(kCasesPerRead));
  return out;
}

}  // namespace sopir

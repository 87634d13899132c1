// todo: the cases the acting staff member can move now, from Engine::todo.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.h"
#include "sopir/messages/cli.h"
#include "output.h"
#include "sopir/messages/cli.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

const StateDef* state_def(const Procedure& p, const std::string& id) {
  const int i = p.state_index(id);
  return i < 0 ? nullptr : &p.states[static_cast<size_t>(i)];
}

std::string state_label(const Procedure& p, const std::string& id, const std::string& lang) {
  const StateDef* state = state_def(p, id);
  const std::string label = state ? state->label.get(lang) : "";
  return label.empty() ? id : label;
}

// What is still to give before `check` can fire: its fields, or a reason.
std::string to_give(const EventCheck& check) {
  if (!check.refusal) return "";
  if (check.refusal->kind == RefusalKind::kReasonRequired) return tr(msg::cli_w_a_reason);
  std::string fields;
  for (const auto& f : check.refusal->missing) fields += (fields.empty() ? "" : ", ") + f;
  return fields;
}

json item_json(Context& ctx, const TodoItem& item) {
  const CaseRecord& c = item.record;
  const Procedure& p = *item.procedure;
  const std::string& lang = ctx.options.lang;
  const int state = p.state_index(c.state);
  json events = json::array();
  for (const EventCheck& check : item.events) {
    const bool reason = check.refusal && check.refusal->kind == RefusalKind::kReasonRequired;
    const auto fields = check.refusal ? check.refusal->missing : std::vector<std::string>{};
    events.push_back({{"event", check.event},
                      {"label", event_label(p, state, check.event, lang)},
                      {"fields_to_give", fields},
                      {"reason_to_give", reason}});
  }
  return {{"id", c.id},
          {"sop", c.sop_id},
          {"state", c.state},
          {"state_label", state_label(p, c.state, lang)},
          {"due_at", c.due_at ? json(format_datetime(*c.due_at)) : json()},
          {"overdue", item.overdue},
          {"clocks_overdue", item.clocks_overdue},
          {"events", events}};
}

std::string events_cell(Context&, const TodoItem& item) {
  std::string cell;
  for (const EventCheck& check : item.events) {
    cell += (cell.empty() ? "" : "; ") + check.event;
    const std::string give = to_give(check);
    if (!give.empty()) cell += " (" + tr(msg::cli_todo_give, {give}) + ")";
  }
  return cell;
}

}  // namespace

void def_todo(CLI::App& app, Args& a) {
  app.add_option("--limit", a.limit, tr(msg::cli_opt_limit));
}

int run_todo(Context& ctx, Args& a) {
  if (!a.positional.empty()) throw usage_error(tr(msg::cli_only_options, {"todo"}));
  const std::string actor_id = ctx.actor_id();
  const TodoList list = ctx.engine().todo(actor_id, listing_limit(ctx, a));
  if (ctx.options.json) {
    json cases = json::array();
    for (const TodoItem& item : list.items) cases.push_back(item_json(ctx, item));
    ctx.out << json{{"actor", actor_id}, {"count", list.items.size()}, {"more", list.more},
                    {"cases", cases}}
                   .dump(2)
            << "\n";
    return 0;
  }
  if (list.items.empty()) {
    ctx.out << tr(msg::cli_w_nothing_to_do_now) << "\n";
    return 0;
  }
  Table table({tr(msg::cli_w_case), tr(msg::cli_w_procedure), tr(msg::cli_w_step), tr(msg::cli_w_due),
               tr(msg::cli_w_you_can_still_to_give)});
  for (const TodoItem& item : list.items) {
    const CaseRecord& c = item.record;
    std::string due = c.due_at ? format_datetime(*c.due_at) : "";
    if (item.overdue) due += " (" + tr(msg::cli_w_overdue) + ")";
    for (const std::string& clock : item.clocks_overdue)
      due += "; " + tr(msg::cli_clock_due_cell, ctx.options.lang, {clock});
    table.add({c.id, c.sop_id, state_label(*item.procedure, c.state, ctx.options.lang), due,
               events_cell(ctx, item)});
  }
  std::ostringstream text;
  table.print(text, ctx.options.width, ctx.options.color);
  text << more_line(ctx, list.more);
  print_paged(ctx, text.str());
  return 0;
}

}  // namespace sopir::cli

// Deadline lint (loader_internal.h): anchors that may be empty, and
// calendars that end before a working-day deadline would.
#include "lang/loader_internal.h"
#include "sopir/messages/lang.h"

namespace sopir {

void lint_deadlines(const Procedure& p, const SourceMap& map, const LoadOptions& options,
                    const std::vector<std::vector<bool>>& set_on_entry, DiagnosticSink& sink) {
  for (size_t s = 0; s < p.states.size(); ++s) {
    const StateDef& state = p.states[s];
    const SourcePos at = s < map.deadline_pos.size() ? map.deadline_pos[s] : state.pos;
    if (state.deadline_from >= 0 && s < set_on_entry.size() && !set_on_entry[s][state.deadline_from]) {
      const std::string& field = p.fields[state.deadline_from].id;
      sink.warning("anchor-may-be-empty", at,
                   tr(msg::lang_anchor_may_be_empty, {state.id, field}));
    }
    if (state.working_days <= 0 || !p.calendar || !options.today) continue;
    // From today the deadline ends on this day; past the calendar's last
    // day only weekends are known.
    const Date today = *options.today;
    const Date ends = date_of(p.calendar->add_working_days(start_of(today), state.working_days));
    if (!p.calendar->covers(today) || !p.calendar->covers(ends)) {
      sink.warning("calendar-range", at,
                   tr(msg::lang_calendar_range,
                      {state.id, state.deadline_text, format_date(today), format_date(ends), p.calendar->name,
                       format_date(p.calendar->first), format_date(p.calendar->last)}));
    } else if (p.calendar->partial_from && !(ends < *p.calendar->partial_from)) {
      sink.warning("calendar-partial", at,
                   tr(msg::lang_calendar_partial,
                      {state.id, state.deadline_text, format_date(today), format_date(ends), p.calendar->name,
                       format_date(*p.calendar->partial_from)}));
    }
  }
}

}  // namespace sopir

// report_text() / report_html(): per procedure, cases per state, time in
// states, deadline breaches, steps per staff member per week, closure
// reasons. One pass over the log plus the case rows.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <ostream>
#include <set>
#include <unordered_map>

#include "audit/common.h"
#include "sopir/audit.h"
#include "sopir/clocks.h"
#include "sopir/messages/audit.h"
#include "sopir/text.h"
#include "sopir/diagram.h"
#include "sopir/error.h"
#include "sopir/loader.h"
#include "sopir/messages/audit.h"

namespace sopir::audit {

using namespace audit_internal;

namespace {

// The report's note on the sites it is held to (ExportOptions::sites).
std::string sites_line(const std::vector<std::string>& sites) {
  return sites.empty() ? tr(msg::audit_rep_no_sites) : tr(msg::audit_rep_sites, {join(sites)});
}

struct SopFigures {
  std::string sop_id;
  ProcedurePtr procedure;                       // current version, for labels and the diagram
  std::map<std::string, int64_t> cases_now;     // state -> cases (not closed)
  std::map<std::string, int64_t> closed_in;     // state -> closed cases
  std::map<std::string, std::vector<int64_t>> stays;  // state -> seconds spent (completed stays)
  std::map<std::string, int64_t> breaches_by_state, overdue_now;
  std::map<std::string, int64_t> breaches_by_staff;
  std::map<std::string, std::map<std::string, int64_t>> steps_by_staff_week;  // staff -> week -> steps
  std::map<std::string, int64_t> closure_reasons;
  int64_t total_cases = 0;
  // Published version number -> (cases, of them not closed): how far a
  // migration has moved them.
  std::map<int, std::pair<int64_t, int64_t>> by_version;
  // Case-level clocks (sopir/clocks.h), by clock id in the order of the
  // current version, worked out from each case's rows.
  struct ClockFigures {
    std::string limit;
    int64_t running = 0, overdue = 0, stopped = 0, late = 0;
  };
  std::vector<std::pair<std::string, ClockFigures>> clocks;
};

SopFigures::ClockFigures& clock_figures(SopFigures& f, const ClockDef& c) {
  for (auto& [id, figures] : f.clocks) {
    if (id == c.id) return figures;
  }
  f.clocks.emplace_back(c.id, SopFigures::ClockFigures{c.limit_text});
  return f.clocks.back().second;
}

struct CaseTrack {
  std::string sop_id, state;
  DateTime entered;
  std::optional<DateTime> due_at;
};

// ISO 8601 week of a time, "2026-W10".
std::string iso_week(DateTime t) {
  const int64_t days = t.seconds >= 0 ? t.seconds / 86400 : -((-t.seconds + 86399) / 86400);
  const int64_t weekday = ((days + 3) % 7 + 7) % 7 + 1;  // 1970-01-01 was a Thursday; Monday = 1
  const int64_t thursday = days - (weekday - 1) + 3;
  const std::string date = format_date(Date{thursday});
  const std::string year = date.substr(0, 4);
  const int64_t jan1 = parse_date(year + "-01-01")->days;
  const int64_t week = (thursday - jan1) / 7 + 1;
  return year + "-W" + (week < 10 ? "0" : "") + std::to_string(week);
}

int64_t percentile(std::vector<int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
  return values[std::min(index, values.size() - 1)];
}

// A stay's length, in the language shown: "2d5h", "5h20m", "45m".
std::string duration_text(int64_t seconds) {
  auto part = [](int64_t n, const Message& unit) { return std::to_string(n) + tr(unit); };
  if (seconds < 3600) return part(seconds / 60, msg::audit_rep_unit_minutes);
  if (seconds < 86400 * 2) {
    const int64_t h = seconds / 3600, m = seconds % 3600 / 60;
    return part(h, msg::audit_rep_unit_hours) + (m ? part(m, msg::audit_rep_unit_minutes) : "");
  }
  const int64_t d = seconds / 86400, h = seconds % 86400 / 3600;
  return part(d, msg::audit_rep_unit_days) + (h ? part(h, msg::audit_rep_unit_hours) : "");
}

// "Cases per version: 2: 40 (12 running), 3: 60 (60 running)".
std::string by_version_text(const SopFigures& f) {
  std::vector<std::string> parts;
  for (const auto& [version, n] : f.by_version)
    parts.push_back(tr(msg::audit_rep_version_count,
                       {std::to_string(version), std::to_string(n.first), std::to_string(n.second)}));
  return tr(msg::audit_rep_by_version, {parts.empty() ? tr(msg::audit_rep_none) : join(parts)});
}

// Log rows that cannot be read are left out of the figures, kept in `unread`.
std::vector<SopFigures> gather(Store& store, const ReportOptions& options, DamagedRows& unread) {
  ProcedureCache procedures(store);
  std::map<std::string, SopFigures> by_sop;
  for (const auto& pub : store.versions()) {
    if (options.sop_id && pub.sop_id != *options.sop_id) continue;
    SopFigures& f = by_sop[pub.sop_id];
    f.sop_id = pub.sop_id;
    if (pub.current || !f.procedure) {
      if (auto p = procedures.get(pub.sha256, nullptr)) f.procedure = p;
    }
  }
  CaseFilter filter;
  filter.sop_id = options.sop_id;
  filter.sites = options.sites;
  std::set<std::string> at_sites;  // with options.sites: the cases counted
  store.each_case(filter, [&](const CaseRecord& c) {
    if (options.sites) at_sites.insert(c.id);
    auto it = by_sop.find(c.sop_id);
    if (it == by_sop.end()) return;
    SopFigures& f = it->second;
    ++f.total_cases;
    if (const PublishedProcedure* pub = procedures.published(c.sha256)) {
      auto& n = f.by_version[pub->version];
      ++n.first;
      if (c.status != Status::kClosed) ++n.second;
    }
    if (c.status == Status::kClosed) {
      ++f.closed_in[c.state];
      ++f.closure_reasons[c.closure_reason.empty() ? tr(msg::audit_rep_finished_in, {c.state}) : c.closure_reason];
      return;
    }
    ++f.cases_now[c.state];
    if (c.status == Status::kActive && c.due_at && *c.due_at < options.now) {
      ++f.overdue_now[c.state];
      ++f.breaches_by_state[c.state];
      ++f.breaches_by_staff[tr(msg::audit_rep_nobody)];
    }
  });
  std::unordered_map<std::string, CaseTrack> tracks;
  // The clocks of each case whose procedure has clocks, fed its rows as the
  // log is read (not the rows themselves: a national log would not fit). A
  // case whose rows ran under two versions with clocks (a migration) is
  // read again at the end, all its rows under the newer one, as before.
  struct CaseClocks {
    ProcedurePtr procedure;  // the newest of its rows' versions with clocks
    ClockRuns runs;
    bool mixed = false;      // rows under another version too: read again
  };
  std::unordered_map<std::string, CaseClocks> clocks;
  for (auto& [id, f] : by_sop) {
    if (f.procedure)
      for (const ClockDef& c : f.procedure->clocks) clock_figures(f, c);
  }
  // The figures a row counts in: its version is published and its
  // procedure in the report. Null otherwise.
  auto counted = [&](const LogEntry& e) -> SopFigures* {
    const PublishedProcedure* pub = procedures.published(e.sha256);
    if (!pub) return nullptr;
    auto it = by_sop.find(pub->sop_id);
    return it == by_sop.end() ? nullptr : &it->second;
  };
  // The version a row ran under when it has clocks; null otherwise.
  auto with_clocks = [&](const LogEntry& e) -> ProcedurePtr {
    ProcedurePtr p = procedures.get(e.sha256, nullptr);
    return p && !p->clocks.empty() ? p : nullptr;
  };
  LogFilter log_filter;
  log_filter.sop_id = options.sop_id;
  log_filter.damaged = unread.hook();
  store.scan_log(log_filter, [&](const LogEntry& e) {
    if (is_registry(e.kind)) return true;
    if (options.sites && !at_sites.count(e.case_id)) return true;
    SopFigures* counts = counted(e);
    if (!counts) return true;
    SopFigures& f = *counts;
    ++f.steps_by_staff_week[e.actor][iso_week(e.occurred_at)];
    if (ProcedurePtr p = with_clocks(e)) {
      auto it = clocks.find(e.case_id);
      if (it == clocks.end()) it = clocks.emplace(e.case_id, CaseClocks{p, ClockRuns(*p)}).first;
      CaseClocks& c = it->second;
      if (c.procedure != p) {
        c.mixed = true;
        c.procedure = p;
      }
      if (!c.mixed) c.runs.add(e);
    }
    auto track = tracks.find(e.case_id);
    if (track != tracks.end() && e.kind != LogKind::kOpen) {
      CaseTrack& t = track->second;
      if (t.due_at && e.occurred_at.seconds > t.due_at->seconds && e.from_state != e.to_state &&
          e.kind != LogKind::kLifecycle && e.kind != LogKind::kMigration) {
        ++f.breaches_by_state[t.state];
        ++f.breaches_by_staff[e.actor];
      }
      if (e.to_state != t.state) {
        f.stays[t.state].push_back(e.occurred_at.seconds - t.entered.seconds);
        t.state = e.to_state;
        t.entered = e.occurred_at;
      }
      t.due_at = e.due_at;
    } else {
      tracks[e.case_id] = CaseTrack{f.sop_id, e.to_state, e.occurred_at, e.due_at};
    }
    return true;
  });
  for (auto& entry : clocks) {
    // Named, not bound: a lambda below captures it (C++17 captures no
    // structured binding; clang refuses it).
    const std::string& id = entry.first;
    auto& kept = entry.second;
    if (kept.mixed) {
      // The rows the scan above took for this case, read again.
      kept.runs = ClockRuns(*kept.procedure);
      LogFilter rows;
      rows.case_id = id;
      rows.damaged = unread.hook();
      store.scan_log(rows, [&](const LogEntry& e) {
        if (counted(e) && with_clocks(e)) kept.runs.add(e);
        return true;
      });
    }
    const Procedure& p = *kept.procedure;
    SopFigures& f = by_sop[p.id];
    for (const ClockStatus& c : kept.runs.statuses()) {
      SopFigures::ClockFigures& n = clock_figures(f, p.clocks[static_cast<size_t>(c.clock)]);
      if (c.phase == ClockPhase::kRunning || c.phase == ClockPhase::kPaused) ++n.running;
      if (c.overdue(options.now)) ++n.overdue;
      if (c.phase == ClockPhase::kStopped) ++(c.stopped_late() ? n.late : n.stopped);
    }
  }
  std::vector<SopFigures> out;
  for (auto& [id, f] : by_sop) out.push_back(std::move(f));
  return out;
}

std::vector<std::string> state_order(const SopFigures& f) {
  std::vector<std::string> order;
  if (f.procedure) order = f.procedure->state_ids();
  auto add = [&](const std::string& s) {
    if (std::find(order.begin(), order.end(), s) == order.end()) order.push_back(s);
  };
  for (const auto& [s, n] : f.cases_now) add(s);
  for (const auto& [s, n] : f.stays) add(s);
  return order;
}

int64_t get(const std::map<std::string, int64_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

std::string pad(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

// gather() over one snapshot of the database (Store::read_snapshot): on a
// database in use, every figure is of the same moment.
std::vector<SopFigures> gather_at_once(Store& store, const ReportOptions& options,
                                       DamagedRows& unread) {
  std::vector<SopFigures> figures;
  store.read_snapshot([&] { figures = gather(store, options, unread); });
  return figures;
}

}  // namespace

UnreadRows report_text(Store& store, const ReportOptions& options, std::ostream& out) {
  DamagedRows unread;
  const auto figures = gather_at_once(store, options, unread);
  const std::string& lang = message_language();
  for (const auto& [seq, message] : unread.rows())
    out << escape_for_display(tr(msg::audit_unread_in_report, {message})) << "\n";
  if (!unread.empty()) out << "\n";
  if (figures.empty()) out << tr(msg::audit_rep_no_procedures) << "\n";
  if (options.sites) out << sites_line(*options.sites) << "\n\n";
  for (const SopFigures& f : figures) {
    out << tr(msg::audit_rep_procedure, {f.sop_id});
    if (f.procedure)
      out << tr(msg::audit_rep_title_version, {f.procedure->title.get(lang), std::to_string(f.procedure->version)});
    out << "\n  " << tr(msg::audit_rep_cases_as_of, {std::to_string(f.total_cases), format_datetime(options.now)})
        << "\n  " << by_version_text(f) << "\n\n";
    // Columns as wide as their heading in the language shown, at least as
    // wide as the English layout.
    const std::pair<const Message*, size_t> columns[] = {
        {&msg::audit_rep_col_state, 22}, {&msg::audit_rep_col_open, 10}, {&msg::audit_rep_col_closed, 8},
        {&msg::audit_rep_col_overdue, 9}, {&msg::audit_rep_col_stays, 7}, {&msg::audit_rep_col_median, 9},
        {&msg::audit_rep_col_p90, 10}};
    size_t width[7];
    const std::vector<std::string> states = state_order(f);
    out << "  ";
    for (size_t i = 0; i < 7; ++i) {
      const std::string heading = tr(*columns[i].first);
      width[i] = std::max(columns[i].second, heading.size() + 1);
      // The state column also fits the longest state id (ids are ASCII).
      if (i == 0)
        for (const std::string& s : states) width[0] = std::max(width[0], s.size() + 1);
      out << pad(heading, width[i]);
    }
    out << tr(msg::audit_rep_col_breaches) << "\n";
    for (const std::string& s : states) {
      auto stays = f.stays.count(s) ? f.stays.at(s) : std::vector<int64_t>{};
      out << "  " << pad(s, width[0]) << pad(std::to_string(get(f.cases_now, s)), width[1])
          << pad(std::to_string(get(f.closed_in, s)), width[2]) << pad(std::to_string(get(f.overdue_now, s)), width[3])
          << pad(std::to_string(stays.size()), width[4])
          << pad(stays.empty() ? "-" : duration_text(percentile(stays, 0.5)), width[5])
          << pad(stays.empty() ? "-" : duration_text(percentile(stays, 0.9)), width[6])
          << get(f.breaches_by_state, s) << "\n";
    }
    out << "\n  " << tr(msg::audit_rep_breaches_by_staff) << "\n";
    if (f.breaches_by_staff.empty()) out << "    " << tr(msg::audit_rep_none) << "\n";
    for (const auto& [who, n] : f.breaches_by_staff) out << "    " << pad(who, 28) << n << "\n";
    out << "\n  " << tr(msg::audit_rep_steps_per_week) << "\n";
    if (f.steps_by_staff_week.empty()) out << "    " << tr(msg::audit_rep_none) << "\n";
    for (const auto& [who, weeks] : f.steps_by_staff_week) {
      out << "    " << pad(who, 16);
      bool first = true;
      for (const auto& [week, n] : weeks) {
        out << (first ? "" : ", ") << week << ": " << n;
        first = false;
      }
      out << "\n";
    }
    out << "\n  " << tr(msg::audit_rep_closure_reasons) << "\n";
    if (f.closure_reasons.empty()) out << "    " << tr(msg::audit_rep_no_closed) << "\n";
    for (const auto& [reason, n] : f.closure_reasons) out << "    " << pad(reason, 28) << n << "\n";
    if (!f.clocks.empty()) {
      out << "\n  " << tr(msg::report_clocks_heading) << "\n";
      for (const auto& [id, n] : f.clocks)
        out << "    "
            << tr(msg::report_clock_row, {id, std::to_string(n.running), std::to_string(n.overdue),
                                          std::to_string(n.stopped), std::to_string(n.late), n.limit})
            << "\n";
    }
    out << "\n";
  }
  return unread.rows();
}

namespace {

// HTML text: control and bidirectional characters escaped visibly first
// (escape_for_display), then HTML's own.
std::string esc(const std::string& raw) {
  const std::string text = escape_for_display(raw);
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Horizontal bar chart of (label, value) as inline SVG.
void bar_chart(std::ostream& out, const std::string& title,
               const std::vector<std::pair<std::string, int64_t>>& bars) {
  int64_t max = 1;
  for (const auto& [l, v] : bars) max = std::max(max, v);
  const int row = 22, left = 170, width = 360;
  const int height = static_cast<int>(bars.size()) * row + 30;
  out << "<figure><figcaption>" << esc(title) << "</figcaption><svg class=\"bars\" role=\"img\" width=\""
      << left + width + 60 << "\" height=\"" << height << "\" viewBox=\"0 0 " << left + width + 60 << " "
      << height << "\">";
  int y = 10;
  for (const auto& [label, value] : bars) {
    const int64_t w = value * width / max;
    out << "<text x=\"" << left - 6 << "\" y=\"" << y + 14 << "\" text-anchor=\"end\">" << esc(label)
        << "</text><rect x=\"" << left << "\" y=\"" << y << "\" width=\"" << std::max<int64_t>(w, 1)
        << "\" height=\"16\" class=\"bar\"/><text x=\"" << left + w + 6 << "\" y=\"" << y + 14 << "\">"
        << value << "</text>";
    y += row;
  }
  out << "</svg></figure>\n";
}

// Graphviz's SVG made fit to stand inside the page: from the <svg> element
// on (no XML prolog, DOCTYPE or comments), without namespace declarations
// (HTML needs none, and the page names no address), classed "diagram".
std::string inline_svg(std::string svg) {
  const size_t start = svg.find("<svg");
  if (start == std::string::npos)
    throw storage_error(tr(msg::audit_no_svg));
  svg.erase(0, start);
  for (const char* attribute :
       {" xmlns=\"http://www.w3.org/2000/svg\"", " xmlns:xlink=\"http://www.w3.org/1999/xlink\""}) {
    if (size_t at = svg.find(attribute); at != std::string::npos)
      svg.erase(at, std::strlen(attribute));
  }
  svg.insert(4, " class=\"diagram\" role=\"img\"");
  return svg;
}

// The procedure drawn by Graphviz, each state filled by the cases waiting
// in it (darker: more), every edge labelled with its event, guard and roles.
void diagram(std::ostream& out, const SopFigures& f, const ReportOptions& options) {
  if (!f.procedure) return;
  const Procedure& p = *f.procedure;
  int64_t most = 1;
  for (const auto& [s, c] : f.cases_now) most = std::max(most, c);
  DotShading shading;
  for (const StateDef& state : p.states) {
    const int64_t waiting = get(f.cases_now, state.id);
    const int shade = static_cast<int>(235 - 150 * waiting / most);
    char colour[8];
    std::snprintf(colour, sizeof colour, "#%02x%02xff", shade, shade);
    shading.fill[state.id] = colour;
    shading.note[state.id] = tr(msg::audit_rep_waiting, {std::to_string(waiting)});
  }
  const std::string dot = to_dot(p, message_language(), shading);
  // Drawn at its own size (labels stay readable); a wide one scrolls.
  out << "<figure><figcaption>" << esc(tr(msg::audit_rep_diagram_caption)) << "</figcaption>"
      << "<div class=\"diagram-box\">";
  if (options.draw_svg) {
    out << inline_svg(options.draw_svg(dot));
  } else {
    out << "<pre class=\"diagram-source\">" << esc(dot) << "</pre>";
  }
  out << "</div></figure>\n";
}

}  // namespace

UnreadRows report_html(Store& store, const ReportOptions& options, std::ostream& out) {
  DamagedRows unread;
  const auto figures = gather_at_once(store, options, unread);
  const std::string& lang = message_language();
  out << "<!DOCTYPE html>\n<html lang=\"" << lang << "\"><head><meta charset=\"utf-8\"><title>"
      << esc(tr(msg::audit_rep_html_title)) << "</title>"
      << "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
      << "td,th{border:1px solid #bbb;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
      << "svg.bars text{font-size:12px;font-family:sans-serif}.bar{fill:#4a6fb5}"
      << ".diagram-box{overflow-x:auto}"
      << "figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}</style></head><body>\n"
      << "<h1>" << esc(tr(msg::audit_rep_html_title)) << "</h1><p>"
      << esc(tr(msg::audit_rep_as_of, {format_datetime(options.now)}));
  if (options.sites) out << " " << esc(sites_line(*options.sites));
  out << "</p>\n";
  for (const auto& [seq, message] : unread.rows())
    out << "<p class=\"warning\"><strong>" << esc(tr(msg::audit_unread_in_report, {message}))
        << "</strong></p>\n";
  if (figures.empty()) out << "<p>" << esc(tr(msg::audit_rep_no_procedures)) << "</p>\n";
  for (const SopFigures& f : figures) {
    out << "<section><h2>" << esc(f.sop_id);
    if (f.procedure) out << ": " << esc(f.procedure->title.get(lang));
    out << "</h2><p>" << esc(tr(msg::audit_rep_cases, {std::to_string(f.total_cases)})) << "</p>\n";
    out << "<p>" << esc(by_version_text(f)) << "</p>\n";
    diagram(out, f, options);
    std::vector<std::pair<std::string, int64_t>> now;
    for (const auto& s : state_order(f)) now.emplace_back(s, get(f.cases_now, s));
    bar_chart(out, tr(msg::audit_rep_chart_now), now);
    out << "<table><tr>";
    for (const Message* heading :
         {&msg::audit_rep_col_state, &msg::audit_rep_col_open, &msg::audit_rep_col_closed,
          &msg::audit_rep_col_overdue_now, &msg::audit_rep_col_stays, &msg::audit_rep_col_median,
          &msg::audit_rep_col_p90_long, &msg::audit_rep_col_breaches_long})
      out << "<th>" << esc(tr(*heading)) << "</th>";
    out << "</tr>\n";
    for (const auto& s : state_order(f)) {
      auto stays = f.stays.count(s) ? f.stays.at(s) : std::vector<int64_t>{};
      out << "<tr><td>" << esc(s) << "</td><td>" << get(f.cases_now, s) << "</td><td>" << get(f.closed_in, s)
          << "</td><td>" << get(f.overdue_now, s) << "</td><td>" << stays.size() << "</td><td>"
          << (stays.empty() ? "-" : duration_text(percentile(stays, 0.5))) << "</td><td>"
          << (stays.empty() ? "-" : duration_text(percentile(stays, 0.9))) << "</td><td>"
          << get(f.breaches_by_state, s) << "</td></tr>\n";
    }
    out << "</table>\n";
    std::vector<std::pair<std::string, int64_t>> staff(f.breaches_by_staff.begin(), f.breaches_by_staff.end());
    bar_chart(out, tr(msg::audit_rep_chart_breaches), staff);
    out << "<h3>" << esc(tr(msg::audit_rep_steps_heading)) << "</h3><table><tr><th>" << esc(tr(msg::audit_rep_col_staff))
        << "</th><th>" << esc(tr(msg::audit_rep_col_week)) << "</th><th>" << esc(tr(msg::audit_rep_col_steps))
        << "</th></tr>\n";
    for (const auto& [who, weeks] : f.steps_by_staff_week)
      for (const auto& [week, n] : weeks)
        out << "<tr><td>" << esc(who) << "</td><td>" << week << "</td><td>" << n << "</td></tr>\n";
    out << "</table>\n";
    std::vector<std::pair<std::string, int64_t>> reasons(f.closure_reasons.begin(), f.closure_reasons.end());
    bar_chart(out, tr(msg::audit_rep_chart_closure), reasons);
    if (!f.clocks.empty()) {
      out << "<h3>" << esc(tr(msg::report_clocks_table)) << "</h3><table><tr>";
      const std::string columns = tr(msg::report_clock_columns);
      for (size_t at = 0, bar; at <= columns.size(); at = bar + 1) {
        bar = columns.find('|', at);
        if (bar == std::string::npos) bar = columns.size();
        out << "<th>" << esc(columns.substr(at, bar - at)) << "</th>";
      }
      out << "</tr>\n";
      for (const auto& [id, n] : f.clocks)
        out << "<tr><td>" << esc(id) << "</td><td>" << esc(n.limit) << "</td><td>" << n.running << "</td><td>"
            << n.overdue << "</td><td>" << n.stopped << "</td><td>" << n.late << "</td></tr>\n";
      out << "</table>\n";
    }
    out << "</section>\n";
  }
  out << "</body></html>\n";
  return unread.rows();
}

}  // namespace sopir::audit

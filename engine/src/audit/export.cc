// Log and case exports (table, CSV, JSON lines), personal data masked unless
// revealed to an allowed actor, every reveal recorded first.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <sstream>

#include "audit/common.h"
#include "audit/links.h"
#include "audit/replay.h"
#include "sopir/audit.h"
#include "sopir/display.h"
#include "sopir/error.h"
#include "sopir/messages/audit.h"
#include "sopir/privacy.h"
#include "sopir/table.h"
#include "sopir/text.h"

namespace sopir::audit {

using namespace audit_internal;
using json = nlohmann::json;

Format parse_format(const std::string& text) {
  if (text.empty() || text == "table") return Format::kTable;
  if (text == "csv") return Format::kCsv;
  if (text == "jsonl") return Format::kJsonl;
  throw usage_error(tr(msg::audit_unknown_format, {text}));
}

namespace {

std::string time_text(const std::optional<DateTime>& t) { return t ? format_datetime(*t) : ""; }

std::string value_text(const StoredValue& v, bool reveal) { return shown_value(v, reveal); }

// The `kind` of a warning row (Exporter::warning), which no log row has.
constexpr const char* kWarningKind = "warning";

// One exported row: the log entry's columns as text.
struct Row {
  std::vector<std::string> cells;
};

const std::vector<std::string>& columns(bool with_rule) {
  static const std::vector<std::string> kBase = {
      "seq",        "case_id",    "case_seq",    "sop_id",      "procedure_version", "kind",
      "event",      "from_state", "to_state",    "from_status", "to_status",         "actor",
      "role",       "occurred_at", "recorded_at", "due_at",     "reason",            "note",
      "inputs",     "changes",    "linked_case", "hash"};
  static const std::vector<std::string> kWithRule = [] {
    auto c = kBase;
    c.insert(c.end() - 1, "rule");
    return c;
  }();
  return with_rule ? kWithRule : kBase;
}

std::string inputs_text(const LogEntry& e, bool reveal) {
  std::string out;
  for (const auto& [name, shown] : shown_inputs(e, reveal)) {
    out += (out.empty() ? "" : "; ") + name + "=" + shown;
  }
  return out;
}

// A value for people (the table format): labels and words in `lang`
// (display.h); as stored when there is no procedure or no such field.
std::string value_for_people(const StoredValue& v, bool reveal, const Procedure* p,
                             const std::string& lang) {
  std::string text = value_text(v, reveal);
  const int f = p ? p->field_index(v.field) : -1;
  return f < 0 ? text : display_value(p->fields[static_cast<size_t>(f)], text, lang);
}

// A value in JSON lines: a set as an array of its ids.
json value_json(const StoredValue& v, bool reveal, const Procedure* p) {
  if (v.missing) return json();
  std::string text = value_text(v, reveal);
  const int f = p ? p->field_index(v.field) : -1;
  if (f < 0) return text;
  const FieldDef& field = p->fields[static_cast<size_t>(f)];
  if (field.type != Type::kSet || !parse_typed(Type::kSet, field.values, text, nullptr)) return text;
  return set_members(text);
}

// `p` null: values as stored (CSV, JSON lines); else labelled in `lang`.
std::string changes_text(const LogEntry& e, bool reveal, const Procedure* p = nullptr,
                         const std::string& lang = "") {
  // CSV and JSON lines keep their one word for no value in every language.
  const std::string none = p ? tr(msg::audit_case_no_value, lang) : "(none)";
  std::string out;
  for (const auto& c : e.changes) {
    const std::string before = c.before.missing ? none
                               : p              ? value_for_people(c.before, reveal, p, lang)
                                                : value_text(c.before, reveal);
    const std::string after = c.after.missing ? none
                              : p             ? value_for_people(c.after, reveal, p, lang)
                                              : value_text(c.after, reveal);
    out += (out.empty() ? "" : "; ") + c.after.field + ": " + before + " -> " + after;
  }
  return out;
}

// A row's link in words: the case its step opened, or the case that opened it.
std::string link_text(const LogEntry& e, const std::string& lang) {
  if (e.linked_case.empty()) return "";
  return tr(e.kind == LogKind::kOpen ? msg::audit_link_opened_by : msg::audit_link_opened, lang,
            {e.linked_case});
}

class Exporter {
 public:
  Exporter(Store& store, const ExportOptions& options, std::ostream& out)
      : store_(store), options_(options), out_(out), procedures_(store) {}

  // Decides which cases may be revealed and records each access first.
  void prepare_reveal(const std::vector<std::string>& case_ids) {
    if (!options_.reveal) return;
    const auto allowed = record_reveal(store_, procedures_, *options_.reveal, case_ids);
    revealed_.insert(allowed.begin(), allowed.end());
  }

  // Sets up the CSV header or the table's headings; they are written with
  // the first row (begin()), or by finish() when there is none, so a read
  // that fails before its first row writes nothing.
  void header(bool with_rule) {
    with_rule_ = with_rule;
    pending_header_ = true;
  }

  void row(const LogEntry& e, const std::string& rule = "") {
    begin();
    const bool reveal = revealed_.count(e.case_id) > 0;
    const PublishedProcedure* p = procedures_.published(e.sha256);
    // Only what shows labels or set arrays needs the compiled procedure.
    const ProcedurePtr compiled =
        options_.format == Format::kCsv ? nullptr : procedures_.get(e.sha256, nullptr);
    std::vector<std::string> cells = {std::to_string(e.seq),
                                      e.case_id,
                                      std::to_string(e.case_seq),
                                      p ? p->sop_id : "",
                                      p ? std::to_string(p->version) : "",
                                      to_string(e.kind),
                                      e.event,
                                      e.from_state,
                                      e.to_state,
                                      e.from_status,
                                      e.to_status,
                                      e.actor,
                                      e.role,
                                      format_datetime(e.occurred_at),
                                      format_datetime(e.recorded_at),
                                      time_text(e.due_at),
                                      e.reason,
                                      e.note,
                                      inputs_text(e, reveal),
                                      changes_text(e, reveal),
                                      e.linked_case,
                                      e.hash};
    if (with_rule_) cells.insert(cells.end() - 1, rule);
    const auto& cols = columns(with_rule_);
    switch (options_.format) {
      case Format::kCsv:
        for (size_t i = 0; i < cells.size(); ++i) out_ << (i ? "," : "") << csv_field(cells[i]);
        out_ << "\r\n";
        break;
      case Format::kJsonl: {
        json j = json::object();
        for (size_t i = 0; i < cells.size(); ++i) j[cols[i]] = cells[i];
        j["seq"] = e.seq;
        j["case_seq"] = e.case_seq;
        json changes = json::array();
        for (const auto& c : e.changes)
          changes.push_back({{"field", c.after.field},
                             {"pii", c.after.pii},
                             {"before", value_json(c.before, reveal, compiled.get())},
                             {"after", value_json(c.after, reveal, compiled.get())}});
        j["changes"] = changes;
        out_ << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
        break;
      }
      case Format::kTable: {
        std::string move = e.from_state.empty() ? "-> " + e.to_state : e.from_state + " -> " + e.to_state;
        if (e.from_status != e.to_status && !e.from_status.empty())
          move += " [" + e.from_status + " -> " + e.to_status + "]";
        // The kind where it says more than the event does: an override, a
        // timer, a lifecycle move, a migration, a transfer.
        std::string event = e.event;
        if (e.kind != LogKind::kProcedure && e.event != to_string(e.kind))
          event += std::string(" (") + to_string(e.kind) + ")";
        std::string detail =
            compiled ? changes_text(e, reveal, compiled.get(), options_.lang) : cells[19];
        const std::string& lang = options_.lang;
        if (!e.reason.empty())
          detail += (detail.empty() ? "" : "; ") + tr(msg::audit_log_reason, lang, {e.reason});
        if (!e.note.empty())
          detail += (detail.empty() ? "" : "; ") + tr(msg::audit_log_note, lang, {e.note});
        if (!e.linked_case.empty()) detail += (detail.empty() ? "" : "; ") + link_text(e, lang);
        if (with_rule_ && !rule.empty())
          detail += (detail.empty() ? "" : "; ") + tr(msg::audit_log_rule, lang, {rule});
        table_row({std::to_string(e.seq), cells[13], e.case_id, std::to_string(e.case_seq), event,
                   move, e.actor + " (" + e.role + ")"},
                  detail);
        break;
      }
    }
    ++rows_;
  }

  // A warning of export_case (CaseWarning) in CSV and JSON lines: a row of
  // the same columns, kind "warning", the finding's kind as its event and
  // its message as its note; the table tells it in the story instead.
  void warning(const CaseWarning& w) {
    if (options_.format == Format::kTable) return;
    begin();
    const auto& cols = columns(with_rule_);
    std::vector<std::string> cells(cols.size());
    auto cell = [&](const char* name, std::string text) {
      cells[static_cast<size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin())] =
          std::move(text);
    };
    cell("seq", w.seq ? std::to_string(w.seq) : "");
    cell("case_id", w.case_id);
    cell("case_seq", w.case_seq ? std::to_string(w.case_seq) : "");
    cell("kind", kWarningKind);
    cell("event", to_string(w.kind));
    cell("note", w.message);
    if (options_.format == Format::kCsv) {
      for (size_t i = 0; i < cells.size(); ++i) out_ << (i ? "," : "") << csv_field(cells[i]);
      out_ << "\r\n";
      return;
    }
    json j = json::object();
    for (size_t i = 0; i < cells.size(); ++i) j[cols[i]] = cells[i];
    j["seq"] = w.seq ? json(w.seq) : json();
    j["case_seq"] = w.case_seq ? json(w.case_seq) : json();
    j["changes"] = json::array();
    out_ << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }

  // A log row left out because it cannot be read (DamagedRows): the table
  // marks its place; CSV and JSON lines keep their columns (the caller
  // names the row).
  void unread_row(int64_t seq, const std::string& message) {
    if (options_.format != Format::kTable) return;
    begin();
    table_row({std::to_string(seq)}, tr(msg::audit_unread_in_log, options_.lang, {message}));
  }

  // Writes what is still held: the header when no row came, the table's
  // rows, and a WARNING line naming the rows left out.
  void finish(const UnreadRows& unread) {
    begin();
    if (options_.format != Format::kTable) return;
    write_held();
    if (unread.empty()) return;
    std::string rows;
    for (const auto& [seq, message] : unread)
      rows += (rows.empty() ? "" : ", ") + std::to_string(seq);
    out_ << escape_for_display(
                tr(msg::audit_unread_tail, options_.lang, {std::to_string(unread.size()), rows}))
         << "\n";
  }

  int64_t rows_ = 0;

  Store& store_;
  const ExportOptions& options_;
  std::ostream& out_;
  ProcedureCache procedures_;
  std::set<std::string> revealed_;

 private:
  // The CSV header, once (header()).
  void begin() {
    if (!pending_header_) return;
    pending_header_ = false;
    if (options_.format != Format::kCsv) return;
    const auto& cols = columns(with_rule_);
    out_ << "\xEF\xBB\xBF";  // BOM: Excel then reads the file as UTF-8
    for (size_t i = 0; i < cols.size(); ++i) out_ << (i ? "," : "") << csv_field(cols[i]);
    out_ << "\r\n";
  }

  // The table (sopir/table.h, as every table of the program): a log row's
  // columns, and its changes, reason and note on lines of their own below
  // it, under its time. The rows wait until kMeasured are in (or the rows
  // end); the columns are fitted to those and kept for every later row,
  // which wraps in them, so the table streams.
  static constexpr size_t kMeasured = 500;

  void table_row(std::vector<std::string> cells, const std::string& detail) {
    // Stored text is shown with control and direction characters escaped.
    for (auto& cell : cells) cell = escape_for_display(cell);
    held_cells_.push_back(std::move(cells));
    held_details_.push_back(escape_for_display(detail));
    if (!widths_.empty() || held_cells_.size() >= kMeasured) write_held();
  }

  void write_held() {
    if (widths_.empty()) {
      std::vector<std::string> headings;
      std::istringstream names(tr(msg::audit_log_headings, options_.lang));
      for (std::string name; std::getline(names, name, '|');) headings.push_back(name);
      widths_ = fit_columns(headings, held_cells_, options_.width, options_.split_long_words);
      for (const auto& line : table_lines(headings, widths_)) out_ << line << "\n";
      write_detail(tr(msg::audit_log_detail_heading, options_.lang));
    }
    for (size_t i = 0; i < held_cells_.size(); ++i) {
      for (const auto& line : table_lines(held_cells_[i], widths_)) out_ << line << "\n";
      if (!held_details_[i].empty()) write_detail(held_details_[i]);
    }
    held_cells_.clear();
    held_details_.clear();
  }

  // `text` wrapped below a row, from its second column to the width.
  void write_detail(const std::string& text) {
    const size_t indent = widths_[0] + 2;
    const size_t room =
        options_.width > static_cast<int>(indent) + 20 ? options_.width - indent : 20;
    for (const auto& line : wrap(text, room)) out_ << std::string(indent, ' ') << line << "\n";
  }

  bool with_rule_ = false;
  bool pending_header_ = false;
  std::vector<std::vector<std::string>> held_cells_;
  std::vector<std::string> held_details_;
  std::vector<size_t> widths_;  // the table's, once fitted
};

// The one transition of `p` that moves by the step's event from its recorded
// state to its recorded state; -1 when none or more than one does.
int recorded_transition(const Procedure& p, const LogEntry& e) {
  const int from = p.state_index(e.from_state), event = p.event_index(e.event);
  if (from < 0 || event < 0) return -1;
  int found = -1;
  for (int ti : p.transitions_from[static_cast<size_t>(from)]) {
    const TransitionDef& t = p.transitions[static_cast<size_t>(ti)];
    if (t.event != event || p.states[static_cast<size_t>(t.target(from))].id != e.to_state)
      continue;
    if (found >= 0) return -1;
    found = ti;
  }
  return found;
}

// The rule that allowed a step, in words in `lang`.
std::string rule_text(const Procedure& p, const LogEntry& e, const StepReplay& s,
                      const std::string& lang) {
  if (e.kind == LogKind::kOpen) return tr(msg::audit_rule_open, lang, {p.id});
  if (e.kind == LogKind::kLifecycle) return tr(msg::audit_rule_lifecycle, lang, {e.event, s.role});
  if (e.kind == LogKind::kMigration) {
    std::map<std::string, std::string> in(e.inputs.begin(), e.inputs.end());
    return tr(msg::audit_migration_step, lang,
              {in["from_version"], in["to_version"], short_hash(in["plan"]), in["planned_at"]});
  }
  // A step not decided again (its personal inputs cannot be read here) is
  // still shown with its rule when one transition makes the recorded move.
  int index = s.transition;
  if (index < 0 && s.verdict == Verdict::kUnverifiable) index = recorded_transition(p, e);
  if (index < 0)
    return s.verdict == Verdict::kUnverifiable ? tr(msg::audit_inputs_erased, lang) : "";
  const TransitionDef& t = p.transitions[static_cast<size_t>(index)];
  std::string roles;
  for (int r : t.roles) {
    const std::string& role = p.roles[static_cast<size_t>(r)];
    roles = roles.empty() ? role : tr(msg::audit_rule_or, lang, {roles, role});
  }
  std::string from;
  for (int f : t.from) from += (from.empty() ? "" : "|") + p.states[static_cast<size_t>(f)].id;
  std::string out = tr(msg::audit_rule_transition, lang,
                       {std::to_string(t.index + 1), p.events[static_cast<size_t>(t.event)]});
  const std::string label = t.label.get(lang);
  if (!label.empty()) out += " (" + label + ")";
  out += " " + tr(msg::audit_rule_move, lang, {from, p.to_id(t), roles});
  if (!t.guard_text.empty()) out += ", " + tr(msg::audit_rule_when, lang, {t.guard_text});
  if (e.kind == LogKind::kOverride) out += " " + tr(msg::audit_rule_overridden, lang, {s.role});
  if (e.kind == LogKind::kTimer) out += " " + tr(msg::audit_rule_timer, lang);
  if (s.transition < 0) out += " " + tr(msg::audit_rule_as_recorded, lang);
  return out;
}

bool has_personal(const LogEntry& e) {
  for (const auto& c : e.changes) {
    if ((c.after.pii && !c.after.missing) || (c.before.pii && !c.before.missing)) return true;
  }
  return false;
}

}  // namespace

ExportResult export_log(Store& store, const LogFilter& filter, const ExportOptions& options,
                        std::ostream& out) {
  Exporter exporter(store, options, out);
  // A row that cannot be read is left out and the rest read on, as verify
  // reads on (DamagedRows); the reading that writes marks and names it.
  DamagedRows skipped;
  DamagedRows unread(
      [&](int64_t seq, const std::string& message) { exporter.unread_row(seq, message); });
  LogFilter reading = filter, writing = filter;
  reading.damaged = skipped.hook();
  writing.damaged = unread.hook();
  // A reader held to some sites (docs/DEPLOY.md "Sites") reads their cases'
  // rows only.
  std::set<std::string> readable;
  auto read_sites = [&] {
    if (!options.sites) return;
    CaseFilter at_sites;
    at_sites.sites = options.sites;
    for (const CaseRecord& c : store.cases(at_sites)) readable.insert(c.id);
  };
  auto shown = [&](const LogEntry& e) { return !options.sites || e.case_id.empty() || readable.count(e.case_id); };
  // The readable cases and the rows in one snapshot. Revealing writes (the
  // access log) between its scan of the rows and the export's: a row
  // written in between is shown as any row of a case not revealed (or, of
  // a case opened in between at a reader's site, left out).
  if (options.reveal) {
    std::set<std::string> ids;
    store.read_snapshot([&] {
      read_sites();
      store.scan_log(reading, [&](const LogEntry& e) {
        if (shown(e) && has_personal(e)) ids.insert(e.case_id);
        return true;
      });
    });
    exporter.prepare_reveal(std::vector<std::string>(ids.begin(), ids.end()));
  }
  exporter.header(false);
  store.read_snapshot([&] {
    if (!options.reveal) read_sites();
    store.scan_log(writing, [&](const LogEntry& e) {
      if (shown(e)) exporter.row(e);
      return true;
    });
  });
  exporter.finish(unread.rows());
  return ExportResult{exporter.rows_, unread.rows()};
}

namespace {

// One case's log with what the auditor's replay says about each step.
struct CaseStory {
  std::string id;
  std::optional<CaseRecord> record;
  std::vector<LogEntry> history;
  std::string pinned;
  ProcedurePtr procedure;  // null when it cannot be loaded (`why`)
  std::string why;
  CaseReplay replay;
  std::string row_problems;  // case_row_problems(), when replayed
  // Rows it was told without: its own, its children's (which its guards
  // read) or the staff rows' that cannot be read. Then it is not replayed:
  // what replay said would follow from the rows left out (as verify does).
  UnreadRows unread;
  bool replayed() const { return procedure && unread.empty(); }
};

// `staff_unread`: the staff rows `staff` was read without.
CaseStory load_story(Store& store, ProcedureCache& procedures, const StaffTimeline& staff,
                     const UnreadRows& staff_unread, const std::string& case_id) {
  CaseStory story;
  story.id = case_id;
  story.record = store.find_case(case_id);
  DamagedRows unread;
  try {
    story.history = store.history(case_id);  // kNotFound for an unknown case
  } catch (const Error& e) {
    if (!unread.take(e)) throw;
    // Its other rows, read on past those that cannot be read.
    LogFilter rows;
    rows.case_id = case_id;
    rows.damaged = unread.hook();
    story.history.clear();
    store.scan_log(rows, [&](const LogEntry& row) {
      story.history.push_back(row);
      return true;
    });
  }
  story.pinned = story.record ? story.record->sha256
                              : (story.history.empty() ? "" : story.history.front().sha256);
  // A migrated case replays from the version it was opened under.
  const bool migrated = std::any_of(story.history.begin(), story.history.end(),
                                    [](const LogEntry& e) { return e.kind == LogKind::kMigration; });
  story.procedure = procedures.get(migrated ? story.history.front().sha256 : story.pinned, &story.why);
  std::vector<ChildTimeline> children;
  if (story.procedure && reads_children(*story.procedure)) {
    try {
      children = child_timelines(store, children_of(store, case_id));
    } catch (const Error& e) {
      if (!unread.take(e)) throw;
    }
  }
  story.unread = unread.rows();
  story.unread.insert(staff_unread.begin(), staff_unread.end());
  if (story.replayed()) {
    const VersionLookup versions = [&procedures](const std::string& sha256, std::string* why) {
      return procedures.get(sha256, why);
    };
    story.replay = replay_case(*story.procedure, story.history, children, &staff, &versions);
    // The case row as verify checks it: "Now:" is the row's, which someone
    // may have changed behind sopir's back.
    if (story.record && !story.history.empty())
      story.row_problems = case_row_problems(*story.record, story.replay.end, story.procedure->id,
                                             story.history.front().kind == LogKind::kOpen
                                                 ? std::optional(story.history.front().occurred_at)
                                                 : std::nullopt);
  }
  return story;
}

std::string rule_of(const CaseStory& story, size_t i, const std::string& lang) {
  if (!story.replayed()) return "";
  const StepReplay& s = story.replay.steps[i];
  return rule_text(s.under ? *s.under : *story.procedure, story.history[i], s, lang);
}

// "Case K7F-3QX  procedure x version 2" and, when its row exists, where it is now.
// A WARNING line for each row the case is told without.
void case_heading(const CaseStory& story, ProcedureCache& procedures, const std::string& indent,
                  const std::string& lang, std::ostream& out) {
  const PublishedProcedure* pub = procedures.published(story.pinned);
  out << indent << tr(msg::audit_case_heading, lang, {story.id});
  if (pub)
    out << "  "
        << tr(msg::audit_procedure_version, lang, {pub->sop_id, std::to_string(pub->version)});
  out << "\n";
  if (const auto& record = story.record) {
    out << indent << tr(msg::audit_case_now, lang, {record->state, to_string(record->status)});
    if (record->due_at)
      out << ", " << tr(msg::audit_case_due, lang, {format_datetime(*record->due_at)});
    if (!record->closure_reason.empty())
      out << ", " << tr(msg::audit_case_closed, lang, {record->closure_reason});
    const std::string opened = format_datetime(record->opened_at);
    out << "\n"
        << indent
        << (record->parent_case.empty()
                ? tr(msg::audit_case_opened, lang, {opened})
                : tr(msg::audit_case_opened_by, lang, {opened, record->parent_case}))
        << "\n";
  }
  if (!story.procedure)
    out << indent << tr(msg::audit_case_no_procedure, lang, {story.why}) << "\n";
  if (!story.row_problems.empty())
    out << indent << tr(msg::audit_case_row_warning, lang, {story.row_problems}) << "\n";
  for (const auto& [seq, message] : story.unread)
    out << indent << tr(msg::audit_unread_in_case, lang, {message}) << "\n";
}

// "\n   who:      ": a step's line starting with its label in `lang`, the
// text after it in one column (ten wide, as "WARNING:  ", or wider).
std::string step_line(const Message& label, const std::string& lang) {
  std::string text = tr(label, lang);
  text.resize(std::max<size_t>(10, text.size() + 1), ' ');
  return "\n   " + text;
}

// One step told in words; `title` starts its first line.
// Values show as people read them in `lang` (display.h).
void narrate(const CaseStory& story, size_t i, bool reveal, const std::string& title,
             const std::string& lang, std::ostream& out) {
  const LogEntry& e = story.history[i];
  out << "\n" << title << e.event;
  if (e.kind == LogKind::kOverride) out << "  " << tr(msg::audit_case_override, lang);
  if (e.kind == LogKind::kTimer) out << "  " << tr(msg::audit_case_timer, lang);
  out << "   " << (e.from_state.empty() ? "" : e.from_state + " -> ") << e.to_state;
  if (e.from_status != e.to_status)
    out << "  [" << (e.from_status.empty() ? "" : e.from_status + " -> ") << e.to_status << "]";
  out << step_line(msg::audit_case_who, lang)
      << tr(msg::audit_case_actor_as, lang, {e.actor, e.role});
  out << step_line(msg::audit_case_when, lang)
      << tr(msg::audit_case_recorded, lang,
            {format_datetime(e.occurred_at), format_datetime(e.recorded_at)});
  if (story.replayed()) {
    const StepReplay& s = story.replay.steps[i];
    out << step_line(msg::audit_case_rule, lang) << rule_of(story, i, lang);
    if (s.sequence_gap)
      out << "\n   "
          << tr(msg::audit_case_steps_missing, lang,
                {std::to_string(s.expected_case_seq - 1), std::to_string(e.case_seq)});
    if (s.verdict == Verdict::kRefused)
      out << "\n   " << tr(msg::audit_case_step_refused, lang, {s.message});
    if (s.verdict == Verdict::kDiffers)
      out << "\n   " << tr(msg::audit_case_step_differs, lang, {s.message});
    if (!s.staff_caveat.empty())
      out << "\n   " << tr(msg::audit_case_staff_caveat, lang, {s.staff_caveat});
  }
  if (!e.linked_case.empty()) out << step_line(msg::audit_case_link, lang) << link_text(e, lang);
  for (const auto& c : e.changes) {
    const Procedure* p = story.procedure.get();
    out << step_line(msg::audit_case_set, lang) << c.after.field << " = "
        << (c.after.missing ? tr(msg::audit_case_no_value, lang)
                            : value_for_people(c.after, reveal, p, lang));
    if (!c.before.missing)
      out << "  " << tr(msg::audit_case_was, lang, {value_for_people(c.before, reveal, p, lang)});
  }
  if (!e.reason.empty()) out << step_line(msg::audit_case_reason, lang) << e.reason;
  if (!e.note.empty()) out << step_line(msg::audit_case_note, lang) << e.note;
  if (e.due_at) out << step_line(msg::audit_case_due_label, lang) << format_datetime(*e.due_at);
  out << "\n";
}

// "log row 7 (case K7F-3QX step 3, 'approve' by budi as supervisor)", as
// verify names a step.
std::string step_name(const LogEntry& e, const std::string& lang) {
  return tr(
      msg::audit_step_name, lang,
      {tr(msg::audit_log_row, lang, {std::to_string(e.seq)}), e.case_id, std::to_string(e.case_seq),
       e.event, e.actor, e.role.empty() ? tr(msg::audit_no_role, lang) : e.role});
}

// The findings the story's heading shows (its case row), in verify's words.
void heading_warnings(const CaseStory& story, const std::string& lang,
                      std::vector<CaseWarning>& out) {
  if (!story.row_problems.empty())
    out.push_back({FindingKind::kCaseRow, story.id, 0, 0,
                   tr(msg::audit_row_differs, lang, {story.id, story.row_problems})});
}

// The findings step `i` of the story shows, in verify's words.
void step_warnings(const CaseStory& story, size_t i, const std::string& lang,
                   std::vector<CaseWarning>& out) {
  if (!story.replayed()) return;
  const LogEntry& e = story.history[i];
  const StepReplay& s = story.replay.steps[i];
  auto add = [&](FindingKind kind, std::string message) {
    out.push_back({kind, story.id, e.seq, e.case_seq, std::move(message)});
  };
  if (s.sequence_gap)
    add(FindingKind::kCaseSeqGap,
        tr(msg::audit_seq_gap, lang,
           {story.id, std::to_string(s.expected_case_seq - 1), std::to_string(e.case_seq),
            tr(msg::audit_log_row, lang, {std::to_string(e.seq)})}));
  const Procedure& p = s.under ? *s.under : *story.procedure;
  if (s.verdict == Verdict::kRefused)
    add(FindingKind::kStepRefused,
        tr(msg::audit_step_refused, lang,
           {step_name(e, lang), p.id, std::to_string(p.version), s.message}));
  if (s.verdict == Verdict::kDiffers)
    add(FindingKind::kStepDiffers,
        tr(msg::audit_step_differs, lang, {step_name(e, lang), s.message}));
}

// CSV and JSON lines: after the log rows, a warning row for each row the
// stories were told without and for each finding they show.
void write_warnings(Exporter& exporter, const std::vector<const CaseStory*>& stories,
                    const std::vector<CaseWarning>& warnings) {
  for (const CaseStory* story : stories)
    for (const auto& [seq, message] : story->unread)
      exporter.warning({FindingKind::kRecordDamaged, story->id, seq, 0, message});
  for (const CaseWarning& w : warnings) exporter.warning(w);
}

// Every row the stories were told without.
UnreadRows unread_of(const std::vector<CaseStory>& stories) {
  UnreadRows all;
  for (const CaseStory& story : stories) all.insert(story.unread.begin(), story.unread.end());
  return all;
}

CaseExport export_family(Store& store, const std::string& case_id, const ExportOptions& options,
                         std::ostream& out) {
  Exporter exporter(store, options, out);
  std::vector<std::string> ids;
  std::vector<CaseStory> stories;
  int64_t left_out = 0;  // linked cases at sites the reader does not read
  // The cases, their logs and the staff rows as of one moment (see
  // export_case); the access to personal data is recorded after.
  store.read_snapshot([&] {
    for (const auto& c : linked_family(store, case_id)) {
      const bool readable =
          !options.sites || c.id == case_id ||
          std::find(options.sites->begin(), options.sites->end(), c.site) != options.sites->end();
      if (readable) {
        ids.push_back(c.id);
      } else {
        ++left_out;
      }
    }
    DamagedRows staff_unread;
    const StaffTimeline staff(store, staff_unread.hook());
    for (const auto& id : ids)
      stories.push_back(load_story(store, exporter.procedures_, staff, staff_unread.rows(), id));
  });
  if (options.reveal) exporter.prepare_reveal(ids);
  // Every step of every case, in the order things happened.
  std::vector<std::pair<size_t, size_t>> steps;  // (story, step)
  for (size_t c = 0; c < stories.size(); ++c)
    for (size_t i = 0; i < stories[c].history.size(); ++i) steps.emplace_back(c, i);
  std::stable_sort(steps.begin(), steps.end(), [&](const auto& a, const auto& b) {
    const LogEntry& x = stories[a.first].history[a.second];
    const LogEntry& y = stories[b.first].history[b.second];
    if (x.occurred_at.seconds != y.occurred_at.seconds) return x.occurred_at.seconds < y.occurred_at.seconds;
    return x.seq < y.seq;
  });
  // The findings as the table shows them: under each case's heading, then
  // at each step.
  CaseExport result;
  for (const CaseStory& story : stories) heading_warnings(story, options.lang, result.warnings);
  for (const auto& [c, i] : steps) step_warnings(stories[c], i, options.lang, result.warnings);
  result.unread = unread_of(stories);
  if (options.format != Format::kTable) {
    exporter.header(true);
    for (const auto& [c, i] : steps)
      exporter.row(stories[c].history[i], rule_of(stories[c], i, options.lang));
    std::vector<const CaseStory*> told;
    for (const CaseStory& story : stories) told.push_back(&story);
    write_warnings(exporter, told, result.warnings);
    exporter.finish({});
    return result;
  }
  std::ostringstream text;
  text << (stories.size() == 1
               ? tr(msg::audit_case_family_one, options.lang,
                    {case_id, std::to_string(steps.size())})
               : tr(msg::audit_case_family, options.lang,
                    {case_id, std::to_string(stories.size()), std::to_string(steps.size())}))
       << "\n";
  if (left_out > 0)
    text << tr(msg::audit_linked_left_out, options.lang, {std::to_string(left_out)}) << "\n";
  for (const CaseStory& story : stories) {
    text << "\n";
    case_heading(story, exporter.procedures_, "  ", options.lang, text);
  }
  for (const auto& [c, i] : steps) {
    const CaseStory& story = stories[c];
    const std::string title = "[" + story.id + " " + std::to_string(story.history[i].case_seq) + "] ";
    narrate(story, i, exporter.revealed_.count(story.id) > 0, title, options.lang, text);
  }
  out << escape_for_display(text.str(), true);
  return result;
}

}  // namespace

CaseExport export_case(Store& store, const std::string& case_id, const ExportOptions& options,
                       std::ostream& out) {
  if (options.with_linked) return export_family(store, case_id, options, out);
  Exporter exporter(store, options, out);
  // The case row, its log, its children's and the staff rows read in one
  // snapshot: with a step written between two of those reads, the heading's
  // "Now:" would be older than the last step told. Revealing writes (the
  // access log), so it comes after.
  CaseStory story;
  store.read_snapshot([&] {
    DamagedRows staff_unread;
    const StaffTimeline staff(store, staff_unread.hook());
    story = load_story(store, exporter.procedures_, staff, staff_unread.rows(), case_id);
  });
  if (options.reveal) exporter.prepare_reveal({case_id});
  CaseExport result;
  heading_warnings(story, options.lang, result.warnings);
  for (size_t i = 0; i < story.history.size(); ++i)
    step_warnings(story, i, options.lang, result.warnings);
  result.unread = story.unread;
  if (options.format == Format::kTable) {
    const bool reveal = exporter.revealed_.count(case_id) > 0;
    std::ostringstream text;
    case_heading(story, exporter.procedures_, "", options.lang, text);
    for (size_t i = 0; i < story.history.size(); ++i)
      narrate(story, i, reveal, std::to_string(story.history[i].case_seq) + ". ", options.lang, text);
    out << escape_for_display(text.str(), true);
    return result;
  }
  exporter.header(true);
  for (size_t i = 0; i < story.history.size(); ++i)
    exporter.row(story.history[i], rule_of(story, i, options.lang));
  write_warnings(exporter, {&story}, result.warnings);
  exporter.finish({});
  return result;
}

}  // namespace sopir::audit

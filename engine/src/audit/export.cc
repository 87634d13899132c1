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
#include "sopir/error.h"
#include "sopir/display.h"
#include "sopir/text.h"
#include "sopir/privacy.h"
#include "sopir/messages/audit.h"

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
  std::string out;
  for (const auto& c : e.changes) {
    const std::string before = c.before.missing ? "(none)" : p ? value_for_people(c.before, reveal, p, lang) : value_text(c.before, reveal);
    const std::string after = c.after.missing ? "(none)" : p ? value_for_people(c.after, reveal, p, lang) : value_text(c.after, reveal);
    out += (out.empty() ? "" : "; ") + c.after.field + ": " + before + " -> " + after;
  }
  return out;
}

// A row's link in words: the case its step opened, or the case that opened it.
std::string link_text(const LogEntry& e) {
  if (e.linked_case.empty()) return "";
  return (e.kind == LogKind::kOpen ? "opened by case " : "opened case ") + e.linked_case;
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

  void header(bool with_rule) {
    with_rule_ = with_rule;
    const auto& cols = columns(with_rule);
    if (options_.format == Format::kCsv) {
      out_ << "\xEF\xBB\xBF";  // BOM: Excel then reads the file as UTF-8
      for (size_t i = 0; i < cols.size(); ++i) out_ << (i ? "," : "") << csv_field(cols[i]);
      out_ << "\r\n";
    }
  }

  void row(const LogEntry& e, const std::string& rule = "") {
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
        // Fixed widths so the table streams; long cells simply push on.
        auto pad = [](const std::string& text, size_t width) {
          return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
        };
        std::string move = e.from_state.empty() ? "-> " + e.to_state : e.from_state + " -> " + e.to_state;
        if (e.from_status != e.to_status && !e.from_status.empty())
          move += " [" + e.from_status + " -> " + e.to_status + "]";
        // Stored text is shown with control and direction characters escaped.
        std::string line = pad(std::to_string(e.seq), 7) + pad(cells[13], 21) + pad(e.case_id, 9)
             + pad(std::to_string(e.case_seq), 4) + pad(std::string(to_string(e.kind)), 10)
             + pad(e.event, 14) + pad(move, 28) + pad(e.actor + " (" + e.role + ")", 22);
        std::string detail =
            compiled ? changes_text(e, reveal, compiled.get(), options_.lang) : cells[19];
        if (!e.reason.empty()) detail += (detail.empty() ? "" : "; ") + std::string("reason: ") + e.reason;
        if (!e.note.empty()) detail += (detail.empty() ? "" : "; ") + std::string("note: ") + e.note;
        if (!e.linked_case.empty())
          detail += (detail.empty() ? "" : "; ") + link_text(e);
        if (with_rule_ && !rule.empty()) detail += (detail.empty() ? "" : "; ") + std::string("rule: ") + rule;
        out_ << escape_for_display(line + detail) << "\n";
        break;
      }
    }
    ++rows_;
  }

  void table_header() {
    if (options_.format != Format::kTable) return;
    out_ << "seq    occurred_at          case     #   kind      event         from -> to                  "
            "actor (role)          changes / reason / note\n";
  }

  int64_t rows_ = 0;

  Store& store_;
  const ExportOptions& options_;
  std::ostream& out_;
  ProcedureCache procedures_;
  std::set<std::string> revealed_;
  bool with_rule_ = false;
};

// The rule that allowed a step, in words.
std::string rule_text(const Procedure& p, const LogEntry& e, const StepReplay& s) {
  if (e.kind == LogKind::kOpen) return "open a case of " + p.id + " (any role of the procedure)";
  if (e.kind == LogKind::kLifecycle) return "lifecycle " + e.event + " (as " + s.role + ")";
  if (e.kind == LogKind::kMigration) {
    std::map<std::string, std::string> in(e.inputs.begin(), e.inputs.end());
    return tr(msg::audit_migration_step, {in["from_version"], in["to_version"], short_hash(in["plan"]), in["planned_at"]});
  }
  if (s.transition < 0) return "";
  const TransitionDef& t = p.transitions[static_cast<size_t>(s.transition)];
  std::string roles;
  for (int r : t.roles) roles += (roles.empty() ? "" : " or ") + p.roles[static_cast<size_t>(r)];
  std::string from;
  for (int f : t.from) from += (from.empty() ? "" : "|") + p.states[static_cast<size_t>(f)].id;
  std::string out = "transition " + std::to_string(t.index + 1) + " '" + p.events[static_cast<size_t>(t.event)] +
                    "'";
  const std::string label = t.label.get("en");
  if (!label.empty()) out += " (" + label + ")";
  out += " " + from + " -> " + p.to_id(t) + ", by " + roles;
  if (!t.guard_text.empty()) out += ", when " + t.guard_text;
  if (e.kind == LogKind::kOverride) out += " [guard overridden as " + s.role + "]";
  if (e.kind == LogKind::kTimer) out += " [fired by the timer: deadline passed]";
  return out;
}

bool has_personal(const LogEntry& e) {
  for (const auto& c : e.changes) {
    if ((c.after.pii && !c.after.missing) || (c.before.pii && !c.before.missing)) return true;
  }
  return false;
}

}  // namespace

int64_t export_log(Store& store, const LogFilter& filter, const ExportOptions& options, std::ostream& out) {
  Exporter exporter(store, options, out);
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
      store.scan_log(filter, [&](const LogEntry& e) {
        if (shown(e) && has_personal(e)) ids.insert(e.case_id);
        return true;
      });
    });
    exporter.prepare_reveal(std::vector<std::string>(ids.begin(), ids.end()));
  }
  exporter.header(false);
  exporter.table_header();
  store.read_snapshot([&] {
    if (!options.reveal) read_sites();
    store.scan_log(filter, [&](const LogEntry& e) {
      if (shown(e)) exporter.row(e);
      return true;
    });
  });
  return exporter.rows_;
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
};

CaseStory load_story(Store& store, ProcedureCache& procedures, const StaffTimeline& staff,
                     const std::string& case_id) {
  CaseStory story;
  story.id = case_id;
  story.record = store.find_case(case_id);
  story.history = store.history(case_id);  // kNotFound for an unknown case
  story.pinned = story.record ? story.record->sha256
                              : (story.history.empty() ? "" : story.history.front().sha256);
  // A migrated case replays from the version it was opened under.
  const bool migrated = std::any_of(story.history.begin(), story.history.end(),
                                    [](const LogEntry& e) { return e.kind == LogKind::kMigration; });
  story.procedure = procedures.get(migrated ? story.history.front().sha256 : story.pinned, &story.why);
  if (story.procedure) {
    std::vector<ChildTimeline> children;
    if (reads_children(*story.procedure)) children = child_timelines(store, children_of(store, case_id));
    const VersionLookup versions = [&procedures](const std::string& sha256, std::string* why) {
      return procedures.get(sha256, why);
    };
    story.replay = replay_case(*story.procedure, story.history, children, &staff, &versions);
  }
  return story;
}

std::string rule_of(const CaseStory& story, size_t i) {
  if (!story.procedure) return "";
  const StepReplay& s = story.replay.steps[i];
  return rule_text(s.under ? *s.under : *story.procedure, story.history[i], s);
}

// "Case K7F-3QX  procedure x version 2" and, when its row exists, where it is now.
void case_heading(const CaseStory& story, ProcedureCache& procedures, const std::string& indent,
                  std::ostream& out) {
  const PublishedProcedure* pub = procedures.published(story.pinned);
  out << indent << "Case " << story.id;
  if (pub) out << "  procedure " << pub->sop_id << " version " << pub->version;
  out << "\n";
  if (const auto& record = story.record) {
    out << indent << "Now: " << record->state << " (" << to_string(record->status) << ")";
    if (record->due_at) out << ", due " << format_datetime(*record->due_at);
    if (!record->closure_reason.empty()) out << ", closed: " << record->closure_reason;
    out << "\n" << indent << "Opened: " << format_datetime(record->opened_at);
    if (!record->parent_case.empty()) out << " by case " << record->parent_case;
    out << "\n";
  }
  if (!story.procedure) out << indent << "(the procedure cannot be loaded: " << story.why << ")\n";
}

// One step told in words; `title` starts its first line.
// Values show as people read them in `lang` (display.h).
void narrate(const CaseStory& story, size_t i, bool reveal, const std::string& title,
             const std::string& lang, std::ostream& out) {
  const LogEntry& e = story.history[i];
  out << "\n" << title << e.event;
  if (e.kind == LogKind::kOverride) out << "  OVERRIDE";
  if (e.kind == LogKind::kTimer) out << "  (timer)";
  out << "   " << (e.from_state.empty() ? "" : e.from_state + " -> ") << e.to_state;
  if (e.from_status != e.to_status)
    out << "  [" << (e.from_status.empty() ? "" : e.from_status + " -> ") << e.to_status << "]";
  out << "\n   who:      " << e.actor << " as " << e.role;
  out << "\n   when:     " << format_datetime(e.occurred_at) << " (recorded " << format_datetime(e.recorded_at)
      << ")";
  if (story.procedure) {
    const StepReplay& s = story.replay.steps[i];
    out << "\n   rule:     " << rule_text(s.under ? *s.under : *story.procedure, e, s);
    if (s.verdict == Verdict::kRefused)
      out << "\n   WARNING:  the procedure would not have allowed this step: " << s.message;
    if (s.verdict == Verdict::kDiffers) out << "\n   WARNING:  the record differs from the rules: " << s.message;
    if (!s.staff_caveat.empty()) out << "\n   WARNING:  who may act: " << s.staff_caveat;
  }
  if (!e.linked_case.empty()) out << "\n   link:     " << link_text(e);
  for (const auto& c : e.changes) {
    const Procedure* p = story.procedure.get();
    out << "\n   set:      " << c.after.field << " = "
        << (c.after.missing ? "(none)" : value_for_people(c.after, reveal, p, lang));
    if (!c.before.missing) out << "  (was " << value_for_people(c.before, reveal, p, lang) << ")";
  }
  if (!e.reason.empty()) out << "\n   reason:   " << e.reason;
  if (!e.note.empty()) out << "\n   note:     " << e.note;
  if (e.due_at) out << "\n   due:      " << format_datetime(*e.due_at);
  out << "\n";
}

void export_family(Store& store, const std::string& case_id, const ExportOptions& options, std::ostream& out) {
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
    const StaffTimeline staff(store);
    for (const auto& id : ids)
      stories.push_back(load_story(store, exporter.procedures_, staff, id));
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
  if (options.format != Format::kTable) {
    exporter.header(true);
    for (const auto& [c, i] : steps) exporter.row(stories[c].history[i], rule_of(stories[c], i));
    return;
  }
  std::ostringstream text;
  text << "Case " << case_id << " and its linked cases (" << stories.size() << " case"
      << (stories.size() == 1 ? "" : "s") << ", " << steps.size() << " steps in the order they happened)\n";
  if (left_out > 0)
    text << tr(msg::audit_linked_left_out, options.lang, {std::to_string(left_out)}) << "\n";
  for (const CaseStory& story : stories) {
    text << "\n";
    case_heading(story, exporter.procedures_, "  ", text);
  }
  for (const auto& [c, i] : steps) {
    const CaseStory& story = stories[c];
    const std::string title = "[" + story.id + " " + std::to_string(story.history[i].case_seq) + "] ";
    narrate(story, i, exporter.revealed_.count(story.id) > 0, title, options.lang, text);
  }
  out << escape_for_display(text.str(), true);
}

}  // namespace

void export_case(Store& store, const std::string& case_id, const ExportOptions& options, std::ostream& out) {
  if (options.with_linked) return export_family(store, case_id, options, out);
  Exporter exporter(store, options, out);
  // The case row, its log, its children's and the staff rows read in one
  // snapshot: with a step written between two of those reads, the heading's
  // "Now:" would be older than the last step told. Revealing writes (the
  // access log), so it comes after.
  CaseStory story;
  store.read_snapshot([&] {
    const StaffTimeline staff(store);
    story = load_story(store, exporter.procedures_, staff, case_id);
  });
  if (options.reveal) exporter.prepare_reveal({case_id});
  if (options.format == Format::kTable) {
    const bool reveal = exporter.revealed_.count(case_id) > 0;
    std::ostringstream text;
    case_heading(story, exporter.procedures_, "", text);
    for (size_t i = 0; i < story.history.size(); ++i)
      narrate(story, i, reveal, std::to_string(story.history[i].case_seq) + ". ", options.lang, text);
    out << escape_for_display(text.str(), true);
    return;
  }
  exporter.header(true);
  for (size_t i = 0; i < story.history.size(); ++i) exporter.row(story.history[i], rule_of(story, i));
}

}  // namespace sopir::audit

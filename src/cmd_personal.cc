// `sopir case export-personal`: an access request (UU 27/2022). Everything
// held on one person, as JSON or as text in the message language, for an
// allowed staff member who gives a reason; the engine records the access
// before anything is returned, and the file is written 0600.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli.h"
#include "output.h"
#include "sopir/error.h"
#include "sopir/messages/audit.h"
#include "sopir/messages/cli.h"
#include "values.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

json data_json(const Procedure& p, const CaseRecord& c) {
  json data = json::object();
  for (const StoredValue& v : c.data) {
    if (v.missing) continue;
    data[v.field] = v.erased ? json() : value_json(p, v);
  }
  return data;
}

json steps_json(const CaseHistory& h) {
  json list = json::array();
  for (const LogEntry& e : h.entries) list.push_back(history_entry_json(*h.procedure, e));
  return list;
}

json case_doc(const CaseHistory& h) {
  const CaseRecord& c = h.record;
  return {{"case", c.id},
          {"sop", c.sop_id},
          {"sop_version", h.procedure->version},
          {"state", c.state},
          {"status", to_string(c.status)},
          {"opened_at", format_datetime(c.opened_at)},
          {"parent_case", c.parent_case.empty() ? json() : json(c.parent_case)},
          {"personal_data_shown", h.personal_data_shown},
          {"data", data_json(*h.procedure, c)},
          {"steps", steps_json(h)}};
}

std::string export_json(const PersonalExport& x, const std::string& actor, const std::string& reason) {
  json doc = case_doc(x.history);
  json out = {{"exported_at", format_datetime(x.at)}, {"exported_by", actor}, {"reason", reason}};
  for (auto& [key, value] : doc.items()) out[key] = value;
  json linked = json::array();
  for (const CaseHistory& h : x.linked) linked.push_back(case_doc(h));
  out["linked_cases"] = linked;
  out["linked_cases_not_shown"] = x.linked_not_shown;
  json accesses = json::array();
  for (const AccessRecord& r : x.accesses) {
    accesses.push_back({{"at", format_datetime(r.at)}, {"actor", r.actor}, {"case_id", r.case_id},
                        {"what", r.what}, {"reason", r.reason}});
  }
  out["accesses"] = accesses;
  return out.dump(2) + "\n";
}

void case_text(Context& ctx, const CaseHistory& h, std::ostream& out) {
  const std::string& lang = ctx.options.lang;
  const Procedure& p = *h.procedure;
  const CaseRecord& c = h.record;
  out << tr(msg::cli_w_case) << " " << c.id << "  " << p.title.get(lang) << " (" << p.id << " v" << p.version
      << ")\n";
  out << tr(msg::cli_w_state) << ": " << c.state << "\n";
  out << tr(msg::cli_w_status) << ": " << status_label(ctx, c.status) << "\n";
  out << tr(msg::cli_w_opened) << ": " << format_datetime(c.opened_at) << "\n";
  if (!c.parent_case.empty()) out << tr(msg::cli_w_opened_by_case) << ": " << c.parent_case << "\n";
  if (!h.personal_data_shown) out << tr(msg::cli_personal_masked_for_you) << "\n";
  Table data({tr(msg::cli_w_field), tr(msg::cli_w_value)});
  for (const FieldDef& f : p.fields) {
    for (const StoredValue& v : c.data) {
      if (v.field != f.id || v.missing) continue;
      const std::string label = f.label.get(lang);
      data.add({label.empty() ? f.id : label + " (" + f.id + ")", shown_value(p, v, lang)});
    }
  }
  if (!data.empty()) {
    out << "\n";
    data.print(out, ctx.options.width, false);
  }
  out << "\n" << tr(msg::cli_w_steps) << ":\n";
  Table steps({"#", tr(msg::cli_w_when), tr(msg::cli_w_actor), tr(msg::cli_w_event), tr(msg::cli_w_state),
               tr(msg::cli_w_note)});
  for (const LogEntry& e : h.entries) {
    std::string text = e.note;
    if (!e.reason.empty()) text += (text.empty() ? "" : "; ") + tr(msg::cli_w_reason) + ": " + e.reason;
    for (const auto& ch : e.changes)
      text += (text.empty() ? "" : "; ") + ch.after.field + "=" + shown_value(p, ch.after, lang);
    const std::string move =
        e.from_state.empty() || e.from_state == e.to_state ? e.to_state : e.from_state + " -> " + e.to_state;
    steps.add({std::to_string(e.case_seq), format_datetime(e.occurred_at), e.actor, e.event, move, text});
  }
  steps.print(out, ctx.options.width, false);
}

std::string export_text(Context& ctx, const PersonalExport& x, const std::string& actor, const std::string& reason) {
  std::ostringstream out;
  out << tr(msg::cli_personal_export_title, {x.history.record.id}) << "\n";
  out << tr(msg::cli_personal_export_by, {actor, format_datetime(x.at), reason}) << "\n\n";
  case_text(ctx, x.history, out);
  for (const CaseHistory& h : x.linked) {
    out << "\n" << tr(msg::cli_personal_linked_case) << "\n";
    case_text(ctx, h, out);
  }
  if (x.linked_not_shown > 0)
    out << "\n" << tr(msg::audit_linked_left_out, {std::to_string(x.linked_not_shown)}) << "\n";
  out << "\n" << tr(msg::cli_personal_who_saw) << ":\n";
  Table seen({tr(msg::cli_w_when), tr(msg::cli_w_actor), tr(msg::cli_w_case), tr(msg::cli_w_seen_through),
              tr(msg::cli_w_reason)});
  for (const AccessRecord& r : x.accesses) seen.add({format_datetime(r.at), r.actor, r.case_id, r.what, r.reason});
  seen.print(out, ctx.options.width, false);
  return out.str();
}

// Refuses (kStorage, nothing recorded) an output file that cannot be
// written, before the engine records the access.
void check_writable(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  struct stat info {};
  const bool exists = ::stat(path.c_str(), &info) == 0;
  if ((exists && (!S_ISREG(info.st_mode) || ::access(path.c_str(), W_OK) != 0)) ||
      (!exists && ::access(dir.c_str(), W_OK) != 0))
    throw storage_error(tr(msg::cli_cannot_write, {path}));
}

// Writes `text` to `path`, readable and writable by its owner only (0600),
// an existing file's mode made so too: it holds a person's data.
void write_private(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw storage_error(tr(msg::cli_cannot_write, {path}));
  bool ok = ::fchmod(fd, 0600) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) throw storage_error(tr(msg::cli_cannot_write, {path}));
}

}  // namespace

void def_case_export_personal(CLI::App& app, Args& a) {
  app.add_option("case", a.positional, tr(msg::cli_opt_case));
  app.add_option("--reason", a.reason, tr(msg::cli_opt_reveal_reason));
  app.add_option("--output", a.output, tr(msg::cli_opt_personal_output));
  app.add_option("--format", a.format, tr(msg::cli_opt_personal_format));
}

int run_case_export_personal(Context& ctx, Args& a) {
  if (a.positional.size() > 1) throw usage_error(tr(msg::cli_takes_one_case, {"case export-personal"}));
  std::string format = a.format.empty() ? (ctx.options.json ? "json" : "text") : a.format;
  if (format != "json" && format != "text") throw usage_error(tr(msg::cli_personal_format_value, {format}));
  if (!a.output.empty()) check_writable(a.output);
  const std::string typed = case_arg(ctx, a.positional.empty() ? "" : a.positional[0]);
  const std::string actor_id = ctx.actor_id();
  RevealRequest reveal{"case export-personal", reveal_reason(ctx, a)};
  const PersonalExport x = ctx.engine().export_personal(typed, actor_id, reveal);
  const std::string text =
      format == "json" ? export_json(x, actor_id, reveal.reason) : export_text(ctx, x, actor_id, reveal.reason);
  if (a.output.empty()) {
    ctx.out << text;
    return 0;
  }
  write_private(a.output, text);
  ctx.out << tr(msg::cli_wrote, {a.output}) << "\n";
  return 0;
}

}  // namespace sopir::cli

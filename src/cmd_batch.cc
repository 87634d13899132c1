// case import and case advance --batch: many rows, one transaction, all or
// nothing unless --partial, and a per-row report of what was refused.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli.h"
#include "csv.h"
#include "output.h"
#include "sopir/error.h"

namespace sopir::cli {
namespace {

using nlohmann::json;

struct RowResult {
  int line = 0;
  bool ok = false;
  std::string case_id;
  std::string detail;  // "opened", "approve: a -> b"
  std::optional<Error> error;
};

class Progress {
 public:
  Progress(size_t total, bool enabled) : total_(total), enabled_(enabled && total > 1) {}
  void step(size_t done, std::ostream& err) {
    if (!enabled_) return;
    const int width = 30;
    int filled = static_cast<int>(width * done / total_);
    err << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << done
        << "/" << total_ << std::flush;
    if (done == total_) err << "\r" << std::string(width + 24, ' ') << "\r" << std::flush;
  }

 private:
  size_t total_;
  bool enabled_;
};

// Runs every row through `apply` as one batch (Engine::run_batch: all or
// nothing unless --partial). A refusal keeps the options that act on it.
std::vector<RowResult> run_rows(Context& ctx, const std::vector<CsvRecord>& rows, bool partial,
                                const std::function<RowResult(const CsvRecord&)>& apply,
                                bool* committed) {
  std::vector<RowResult> results(rows.size());
  Progress progress(rows.size(), stderr_is_terminal());
  BatchOutcome outcome = ctx.engine().run_batch(
      rows.size(), partial,
      [&](size_t i) {
        try {
          results[i] = apply(rows[i]);
        } catch (const RefusedError& e) {
          throw refused(error_message(e));
        }
      },
      [&](size_t i) { progress.step(i + 1, ctx.err); });
  for (size_t i = 0; i < rows.size(); ++i) {
    results[i].line = rows[i].line;
    results[i].ok = !outcome.errors[i];
    results[i].error = outcome.errors[i];
  }
  *committed = outcome.committed;
  return results;
}

int report(Context& ctx, const std::string& file, const std::vector<RowResult>& results,
           bool committed, const Message& verb) {
  size_t good = 0;
  const Error* first = nullptr;
  for (const auto& r : results) {
    if (r.ok) {
      ++good;
    } else if (!first) {
      first = &*r.error;
    }
  }
  const size_t written = committed ? good : 0;
  if (ctx.options.json) {
    json rows = json::array();
    for (const auto& r : results) {
      json row = {{"line", r.line}, {"ok", r.ok}, {"case", r.case_id.empty() ? json() : json(r.case_id)}};
      if (r.error) {
        row["error"] = {{"kind", to_string(r.error->kind())}, {"message", r.error->message()}};
      }
      rows.push_back(row);
    }
    ctx.out << json{{"file", file},
                    {"ok", first == nullptr},
                    {"committed", committed},
                    {"written", written},
                    {"refused", results.size() - good},
                    {"rows", rows}}
                   .dump(2)
            << "\n";
  } else {
    for (const auto& r : results) {
      if (r.ok) {
        if (committed) ctx.out << file << ":" << r.line << ": " << r.case_id << " " << r.detail << "\n";
      } else {
        ctx.err << file << ":" << r.line << ": " << error_prefix(*r.error) << r.error->message() << "\n";
      }
    }
    if (first == nullptr) {
      ctx.out << tr(verb, {std::to_string(written)}) << "\n";
    } else if (committed) {
      ctx.err << tr(msg::cli_batch_partial_written, {std::to_string(results.size() - good),
                                                      std::to_string(results.size()), std::to_string(written)})
              << "\n";
    } else {
      ctx.err << tr(msg::cli_batch_nothing_written,
                    {std::to_string(results.size() - good), std::to_string(results.size())})
              << "\n";
    }
  }
  return first ? exit_code(first->kind()) : 0;
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
}

std::string cell(const CsvRecord& row, size_t index) {
  return index < row.cells.size() ? row.cells[index] : std::string();
}

// A column named twice would give one of its cells to nobody.
void check_header(const std::string& file, const std::vector<std::string>& header) {
  for (size_t c = 0; c < header.size(); ++c)  // empty names (trailing commas) name no column
    if (!header[c].empty() && column(header, header[c]) != c)
      throw usage_error(file + ":1: " + tr(msg::cli_csv_column_twice, {header[c]}));
}

void check_width(const CsvRecord& row, size_t width) {
  if (row.cells.size() != width) {
    throw usage_error(tr(msg::cli_batch_row_width, {std::to_string(row.cells.size()), std::to_string(width)}));
  }
}

}  // namespace

int run_case_import(Context& ctx, Args& a) {
  if (a.positional.size() != 1) throw usage_error(tr(msg::cli_import_one_file));
  const std::string& file = a.positional[0];
  const std::string actor = ctx.actor_id();
  auto records = read_csv_file(file);
  if (records.empty()) throw usage_error(tr(msg::cli_import_empty, {file}));
  const std::vector<std::string> header = records.front().cells;
  records.erase(records.begin());
  check_header(file, header);
  ProcedurePtr p = ctx.engine().current_procedure(a.sop);
  for (const auto& name : header) {
    if (name == "note" || name == "at" || p->field_index(name) >= 0) continue;
    std::string message = file + ":1: " + tr(msg::cli_import_column_not_field, {name, p->id});
    throw usage_error(message + did_you_mean(name, p->field_ids()) + "\n" +
                      tr(msg::cli_import_columns_may_be, {join(p->field_ids())}));
  }
  const size_t note_col = column(header, "note"), at_col = column(header, "at");
  bool committed = false;
  // Used only inside run_rows' one transaction: the actor and procedure are
  // looked up once for all rows, each row still decided by decide_open().
  Engine::Opener opener(ctx.engine());
  auto results = run_rows(ctx, records, a.partial, [&](const CsvRecord& row) {
    check_width(row, header.size());
    OpenRequest request;
    request.sop_id = a.sop;
    request.actor = actor;
    for (size_t c = 0; c < header.size(); ++c) {
      if (c == note_col || c == at_col || row.cells[c].empty()) continue;
      request.inputs.emplace_back(header[c], row.cells[c]);
    }
    request.note = cell(row, note_col);
    request.at = parse_at(cell(row, at_col));
    StepResult r = opener.open(request);
    RowResult out;
    out.case_id = r.after.id;
    out.detail = tr(msg::cli_import_row_opened, {r.after.state});
    return out;
  }, &committed);
  spdlog::info("case import {}: {} rows, committed={} by {}", file, results.size(), committed, actor);
  return report(ctx, file, results, committed, msg::cli_import_done);
}

int run_advance_batch(Context& ctx, Args& a) {
  if (!a.positional.empty() || !a.sets.empty() || !a.note.empty() || !a.reason.empty() ||
      !a.at.empty() || a.override) {
    throw usage_error(tr(msg::cli_batch_only_csv));
  }
  const std::string actor = ctx.actor_id();
  auto records = read_csv_file(a.batch);
  if (records.empty()) throw usage_error(tr(msg::cli_batch_empty, {a.batch}));
  const std::vector<std::string> header = records.front().cells;
  records.erase(records.begin());
  check_header(a.batch, header);
  const size_t case_col = column(header, "case"), event_col = column(header, "event");
  if (case_col == header.size() || event_col == header.size()) {
    throw usage_error(a.batch + ":1: " + tr(msg::cli_batch_header));
  }
  const size_t reason_col = column(header, "reason"), note_col = column(header, "note"),
               at_col = column(header, "at");
  bool committed = false;
  auto results = run_rows(ctx, records, a.partial, [&](const CsvRecord& row) {
    check_width(row, header.size());
    StepRequest request;
    request.actor = actor;
    request.case_id = cell(row, case_col);
    request.event = cell(row, event_col);
    request.reason = cell(row, reason_col);
    request.note = cell(row, note_col);
    request.at = parse_at(cell(row, at_col));
    for (size_t c = 0; c < header.size(); ++c) {
      if (c == case_col || c == event_col || c == reason_col || c == note_col || c == at_col ||
          row.cells[c].empty()) {
        continue;
      }
      request.inputs.emplace_back(header[c], row.cells[c]);
    }
    RowResult out;
    StepResult r = ctx.engine().advance(request);
    out.case_id = r.after.id;
    out.detail = r.entry.event + ": " + r.entry.from_state + " -> " + r.entry.to_state;
    return out;
  }, &committed);
  spdlog::info("case advance --batch {}: {} rows, committed={} by {}", a.batch, results.size(),
               committed, actor);
  return report(ctx, a.batch, results, committed, msg::cli_batch_done);
}

}  // namespace sopir::cli

// The auditors' layer: read-only checks and exports over a sopir database.
//
// Auditors (internal oversight, donors, inspectors) ask three questions:
// what happened to this person, was every step allowed by the procedure in
// force at the time, and has anyone changed the record since. Everything
// here reads the Store only; nothing writes, with one exception the caller
// controls: revealing personal data records the access through a second,
// writable Store the caller passes in (see RevealAccess).
//
// Functions write their text to a caller's std::ostream; they never print to
// the terminal themselves. Errors: sopir::Error (kStorage for an unreadable
// database, kNotFound for an unknown case, kUsage for bad options).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sopir/decide.h"
#include "sopir/procedure.h"
#include "sopir/store.h"

namespace sopir::audit {

// Log rows a read left out because their stored record is not one sopir
// writes (someone changed it behind the engine's back: verify's
// record-damaged): row -> what is wrong with it, a sentence naming the row.
// The exports and the report read on past such a row and return these, so
// the caller can say what was left out.
using UnreadRows = std::map<int64_t, std::string>;

// ---------------------------------------------------------------------------
// verify

enum class FindingKind {
  kChainHash,         // a row's content no longer matches its stored hash
  kChainLink,         // a row's prev_hash is not the previous row's hash
  kSeqGap,            // seq numbers missing: rows deleted
  kPiiDigest,         // personal text no longer matches its salted digest
  kPiiGone,           // personal text or its case's key deleted with no erasure row
  kRecordDamaged,     // a case's log row is not a record sopir writes: the case is not replayed
  kProcedureMissing,  // the pinned procedure version is not in the database or does not load
  kCaseSeqGap,        // a case's step numbers (case_seq) have a gap
  kStepRefused,       // the procedure would not have allowed a recorded step
  kStepDiffers,       // allowed, but the recorded outcome differs from the rules'
  kCaseRow,           // a case row disagrees with its log
  kAnchorMissing,     // the anchored row is gone
  kAnchorMismatch,    // the anchored row has a different hash now
  kAnchorTruncated,   // the log ends before the anchored row
  kLinkMissing,  // half a hand-off: a child without the parent step that opened it, or the reverse
  kLinkUnknown,  // a row claims a link to a case that does not exist or that its rule does not open
  kLinkValues,   // a child was opened with values other than its parent's hand-off gives
  kSchemaChanged,       // the database's definitions differ from sopir's: triggers removed, columns
                        // redefined
  kCompiledDiffers,     // a published version's saved compiled form does not match its source
  kCheckpointMismatch,  // a checkpoint's root is not the one the rows it covers give
  kProcedureChanged,    // a published version's stored source does not match its SHA-256, or its
                        // publish row
  kProcedureUnlogged,   // a published version with no publish row in the log
  kStaffRow,            // the staff table disagrees with the staff rows of the log
  kMovedRegistry,  // a moved-in database's kept registry disagrees with its moved-in row or the
                   // rows issued again
};
// "chain-hash", "chain-link", "seq-gap", "pii-digest", "pii-gone", "record-damaged",
// "procedure-missing", "case-seq-gap", "step-refused", "step-differs", "case-row",
// "anchor-missing", "anchor-mismatch", "anchor-truncated", "link-missing",
// "link-unknown", "link-values", "schema-changed", "compiled-differs",
// "checkpoint-mismatch", "procedure-changed", "procedure-unlogged", "staff-row",
// "moved-registry".
const char* to_string(FindingKind kind);

struct Finding {
  FindingKind kind;
  int64_t seq = 0;       // the log row concerned, 0 when none
  std::string case_id;   // the case concerned, "" when none
  std::string message;   // one or two sentences an auditor understands
};

// A (seq, hash) pair written down earlier (`sopir audit anchor`), e.g. in a
// donor report: later verification proves the log still holds what it held
// then. `hash` is the Merkle root over every chain's head as of row `seq`
// (a checkpoint's root, docs/SCHEMA.md), or, as anchors were before chains
// per case, the hash of row `seq` itself; verify accepts either.
struct Anchor {
  int64_t seq = 0;
  std::string hash;
};
// "SEQ:HASH" (hash: 64 hex digits). Throws kUsage explaining the form.
Anchor parse_anchor(const std::string& text);
std::string format_anchor(const Anchor& anchor);  // "SEQ:HASH"

struct VerifyOptions {
  std::optional<Anchor> anchor;
  bool chain = true;   // recompute the hash chain
  bool replay = true;  // replay every case through its pinned procedure
};

// What verify is doing when it reports progress: hashing the log in order,
// or replaying each case through its pinned procedure.
enum class VerifyPhase { kChain, kReplay };

struct VerifyProgress {
  VerifyPhase phase = VerifyPhase::kChain;
  int64_t done = 0;
  int64_t total = 0;  // an estimate; 0 when unknown
};
using ProgressFn = std::function<void(const VerifyProgress&)>;

struct VerifyReport {
  std::vector<Finding> findings;  // empty: clean
  int64_t rows = 0;               // log rows read
  int64_t cases = 0;              // cases replayed
  int64_t steps = 0;              // steps replayed (log rows after each case's opening row)
  // Steps whose inputs included personal data that has since been erased:
  // they cannot be re-decided and are not flagged.
  int64_t unverifiable_steps = 0;
  Anchor head;                    // the chain head seen
  // A copy of one site (Store::site_copy, `sopir db copy --site`): the
  // site ("" for a whole database), the checkpoint row its proof is for (0:
  // the source had none), and the checkpoints before it, which cover other
  // sites' chains too and so are not checked in the copy.
  std::string site_copy;
  int64_t proven_checkpoint = 0;
  int64_t checkpoints_elsewhere = 0;
  bool clean() const { return findings.empty(); }
};

// Checks the whole database (see docs/AUDIT.md for every finding kind).
VerifyReport verify(Store& store, const VerifyOptions& options, const ProgressFn& progress = {});

// What to write down as an anchor: the newest checkpoint (upto_seq, root);
// without one, the root over the chain heads as of the newest row,
// computed from the rows.
Anchor anchor(Store& store);

// ---------------------------------------------------------------------------
// replay with a proposed procedure

struct ReplayDifference {
  std::string case_id;
  int64_t seq = 0;
  int64_t case_seq = 0;
  std::string event;
  std::string recorded_to;   // the state the step went to
  std::string proposed_to;   // where the proposed version sends it; "" when refused
  bool refused = false;
  std::string message;       // the refusal message, or what differs
};

struct ReplayReport {
  std::string sop_id;
  int64_t cases = 0;
  int64_t steps = 0;
  int64_t unverifiable_steps = 0;
  std::vector<ReplayDifference> differences;
};

// Runs the recorded steps of every case of `proposed.id` through `proposed`.
ReplayReport replay_proposed(Store& store, const Procedure& proposed);

// ---------------------------------------------------------------------------
// log and case exports

enum class Format { kTable, kCsv, kJsonl };
// "table", "csv", "jsonl"; throws kUsage naming the accepted ones.
Format parse_format(const std::string& text);

// Personal data is shown as "***" unless revealed. Revealing needs an actor
// with a role in the procedure's pii_visible_to; each case whose personal
// data is shown gets one access row (Store::record_access) in `access_log`,
// written before anything is shown. `access_log` must be writable; audit
// reads come from the read-only store.
struct RevealAccess {
  Actor actor;
  Store* access_log = nullptr;
  DateTime now;
  std::string what;    // e.g. "audit log --reveal"
  std::string reason;  // why the actor needs to see it: must not be empty
};

struct ExportOptions {
  Format format = Format::kTable;
  const RevealAccess* reveal = nullptr;  // null: mask
  // export_case only: tell the story across hand-offs. The case's parents
  // (up to the first), the case and every case it opened, recursively; all
  // their steps in one list in time order (occurred_at, then seq), each row
  // naming its case.
  bool with_linked = false;
  // The table format shows enum and set values by their labels and bools
  // as words in this language ("en", "id"), and its labels and warnings;
  // CSV and JSON lines keep ids, their `rule` column and warning messages
  // in this language.
  std::string lang = "en";
  // export_log's table: its lines fit this many display columns
  // (sopir/table.h; the program passes the terminal's width).
  int width = 100;
  // Whether a cell's long word may be split to fit `width` (fit_columns;
  // the program: when standard output is a terminal).
  bool split_long_words = true;
  // export_log: the rows of cases at these sites (and registry rows when
  // the filter asks for them); export_case with `with_linked`: the linked
  // cases at these sites (the case asked for is shown whatever its site;
  // the caller checks the reader may read it), the table saying how many
  // were left out. Unset: every site's.
  std::optional<std::vector<std::string>> sites;
};

struct ExportResult {
  int64_t rows = 0;   // log rows written
  UnreadRows unread;  // rows matching that could not be read, left out
};

// The log rows matching `filter`, oldest first. CSV: UTF-8 with a BOM, CRLF
// line ends, RFC 4180 quoting, one header row, ISO-8601 UTC times. The
// table: one row a log row, the changes, reason and note on lines of their
// own below it, fitted to options.width. A row whose record is not one
// sopir writes is left out and the rest written (`filter.damaged` is not
// used); the table marks its place and ends with a WARNING line for each.
// The rows are written as they are read (the table's widths are fitted to
// its first rows): nothing is written before the first row is read, but an
// error after it leaves the rows before it written.
ExportResult export_log(Store& store, const LogFilter& filter, const ExportOptions& options,
                        std::ostream& out);

// A WARNING export_case shows that `verify` reports as a finding too: the
// case row disagrees with its log (kCaseRow), a step's case step number
// jumps (kCaseSeqGap), the procedure would not have allowed a step
// (kStepRefused) or gives it another outcome (kStepDiffers).
struct CaseWarning {
  FindingKind kind;
  std::string case_id;
  int64_t seq = 0;       // the log row it is about; 0 for the case row
  int64_t case_seq = 0;  // that row's case step number; 0 for the case row
  std::string message;   // in verify's words, in the export's language
};

struct CaseExport {
  std::vector<CaseWarning> warnings;  // in the order they are written
  UnreadRows unread;                  // log rows the story was told without
};

// One case told step by step: who, when (occurred and recorded), the rule
// that allowed it, field changes, overrides and their reasons, and the case
// a step opened or whose step opened it (CSV and JSON lines: `linked_case`).
// A case with a log row that cannot be read is told from its other rows,
// not checked against its procedure (no rule, no warning about a step:
// those would follow from the row left out), the table saying so in a
// WARNING line; its unread rows are returned. The findings it shows are
// returned as `warnings`; CSV and JSON lines write them, and each unread
// row, after the log rows as rows of kind "warning" (docs/AUDIT.md).
CaseExport export_case(Store& store, const std::string& case_id, const ExportOptions& options,
                       std::ostream& out);

// ---------------------------------------------------------------------------
// report

struct ReportOptions {
  DateTime now;                  // "still overdue now"
  std::optional<std::string> sop_id;  // one procedure only
  // The cases of these sites only (and their steps); unset: every site's.
  std::optional<std::vector<std::string>> sites;
  // report_html: draws a diagram's dot text (to_dot) as SVG, e.g. by running
  // Graphviz; unset, the page shows the dot text instead. Its errors
  // propagate.
  std::function<std::string(const std::string& dot)> draw_svg;
};
// Per procedure: cases per state, time in states (median, 90th percentile),
// deadline breaches per state and staff member, steps per staff member per
// ISO week, closure reasons. Log rows that cannot be read are left out of
// the figures, named in WARNING lines at the top, and returned.
UnreadRows report_text(Store& store, const ReportOptions& options, std::ostream& out);
// The same as one self-contained HTML page (inline CSS and SVG, no network),
// with each procedure's diagram coloured by the cases waiting in each state.
UnreadRows report_html(Store& store, const ReportOptions& options, std::ostream& out);

// ---------------------------------------------------------------------------
// HTCDS export (htcds_export.cc): a procedure's cases as records of IOM's
// Human Trafficking Case Data Standard, through the procedure's
// `standards: htcds:` mapping (workflows/README.md, docs/AUDIT.md).

enum class FileFormat { kCsv, kJson };
// "csv", "json"; throws kUsage naming them.
FileFormat parse_file_format(const std::string& text);
// Throws kUsage unless `standard` is "htcds", the one standard exported.
void check_export_standard(const std::string& standard);

struct HtcdsOptions {
  FileFormat format = FileFormat::kCsv;
  // The procedure whose cases are exported; unset: the one published
  // procedure with an HTCDS mapping.
  std::optional<std::string> sop_id;
  const RevealAccess* reveal = nullptr;  // null: personal values masked
};

// One record per case of the procedure (every version), oldest first; the
// columns are the HTCDS fields the mapping of the procedure's current
// version fills, in the standard's order, and sopir's own: cas_Status,
// cas_ReasonForCaseClosure and, with referral tracks, the outgoing referral
// fields (one value per referral). CSV as export_log writes it, several
// values joined by ';' (the standard's spreadsheets do the same); JSON one
// document {"standard", "version", "procedure", "records": [...]}. Personal
// values show as "***" unless revealed (RevealAccess, as for export_log).
// Everything is worked out before the first byte is written: on an error
// nothing is written. The cases are read a part at a time and only their
// records as written are kept, so what the export holds grows with its
// output, not with the cases' data. With a reveal, the cases are read twice:
// once to record the reveal, then to write (a case changed in between is
// masked unless it was recorded). Throws kNotFound for an unknown procedure, kUsage when
// it has no mapping (or none or several have one and none was named).
// Returns the number of records.
int64_t export_htcds(Store& store, const HtcdsOptions& options, std::ostream& out);

}  // namespace sopir::audit


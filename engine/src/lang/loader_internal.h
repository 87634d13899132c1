// Pieces shared by the loader's stages (internal).
//
// build_procedure() walks the YAML tree into a Procedure and reports hard
// errors; lint_procedure() then looks at a procedure that built cleanly and
// reports warnings. The SourceMap carries what the Procedure itself does not
// keep but the warnings need to point at.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/diagnostics.h"
#include "base/source_text.h"
#include "sopir/loader.h"
#include "sopir/procedure.h"

namespace sopir {

struct SourceMap {
  // A label, description or title, with what it belongs to ("label of state
  // 'intake'"), for the missing-language warning.
  struct TextSite {
    Text text;
    SourcePos pos;
    std::string what;
  };
  std::vector<TextSite> texts;
  std::vector<SourcePos> role_pos;    // by role index
  // By transition index: where the `when:` scalar starts (byte offset into
  // the source), or npos without a guard.
  std::vector<size_t> guard_start;
  std::vector<SourcePos> roles_pos;   // by transition index: its `roles:` key, else the transition
  // Roles named in an explicit `lifecycle:` section (the default names all).
  std::vector<int> lifecycle_roles;
  std::vector<SourcePos> calendar_pos;  // by entry of `calendar:`
  std::vector<SourcePos> deadline_pos;  // by state index: its `deadline:` value, else 0:0
};

// Fills `procedure` from `root` (a map). Reports every hard error to `sink`;
// the procedure is only meaningful when the sink has no errors afterwards.
void build_procedure(const YAML::Node& root, const SourceText& source, DiagnosticSink& sink,
                     Procedure* procedure, SourceMap* map);

// Reports lint warnings for a procedure that built without errors.
void lint_procedure(const Procedure& procedure, const SourceMap& map, const SourceText& source,
                    DiagnosticSink& sink, const LoadOptions& options);

// Deadline lint (lint_deadlines.cc): a date-anchored deadline on a field
// that may be empty in its state; a calendar that does not cover a
// working-day deadline counted from options.today.
// `set_on_entry[state][field]`: the field has a value on every path into
// the state (lint.cc works it out for unset-field-read).
void lint_deadlines(const Procedure& procedure, const SourceMap& map, const LoadOptions& options,
                    const std::vector<std::vector<bool>>& set_on_entry, DiagnosticSink& sink);

// Field ids a guard's text reads outside has(...): a look at the text, not the
// parsed form, because has(x) exists precisely to test a value that may be
// missing. Each with its byte offset in the text, first occurrence only.
std::vector<std::pair<int, size_t>> guard_reads(std::string_view text,
                                                const std::vector<FieldDef>& fields);

// The fields a compiled guard reads where a missing value would decide it
// unnoticed: every read but those the guard makes safe itself (inside
// has(x), x == null, count(s), len(x), or after has(x) and ..., not has(x)
// or ...), in field order (expr/unguarded.cc).
std::vector<int> unguarded_reads(const Expr& expr);

// Comparisons of count(a set field) with a number it can never reach, as
// (byte offset in `text`, message) (expr/set_lint.cc).
std::vector<std::pair<size_t, std::string>> impossible_counts(std::string_view text,
                                                              const std::vector<FieldDef>& fields);

}  // namespace sopir

namespace sopir {

// The `standards:` block (standards.cc): `key` is its key, `value` its map
// of standard names; fills procedure->standards and reports every problem.
// Call after fields, states, transitions and closure reasons are read.
void read_standards(const YAML::Node& key, const YAML::Node& value, DiagnosticSink& sink, Procedure* procedure);
// Warns when a standard's core fields are neither filled nor listed under
// not_recorded: (standards.cc).
void lint_standards(const Procedure& procedure, DiagnosticSink& sink);

}  // namespace sopir

namespace sopir {

// The `migrate:` section (migration.cc): fills procedure->migrations and
// reports every problem of this file alone (the older versions are checked
// by check_migration, sopir/migration.h). Call after fields, states and
// transitions are read.
void read_migration(const YAML::Node& key, const YAML::Node& value, const SourceText& source,
                    DiagnosticSink& sink, Procedure* procedure);

}  // namespace sopir

// The loader's front: size cap, byte checks and YAML reading (yaml_reader),
// building (procedure_builder), lint; then the compiled procedure is sealed
// with its source and hash.
#include "sopir/loader.h"

#include <fstream>

#include "lang/calendar_loader.h"
#include "lang/loader_internal.h"
#include "base/sha256.h"
#include "sopir/error.h"
#include "lang/yaml_reader.h"
#include "sopir/messages/lang.h"

namespace sopir {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

std::string size_text(size_t bytes) {
  return tr(msg::lang_bytes, {std::to_string(bytes)});
}

}  // namespace

namespace {

LoadResult load_in(std::string_view text, const std::string& name, const LoadOptions& options,
                   const std::string& dir);

}  // namespace

LoadResult load_procedure_string(std::string_view text, const std::string& name,
                                 const LoadOptions& options) {
  return load_in(text, name, options, "");
}

namespace {

LoadResult load_in(std::string_view text, const std::string& name, const LoadOptions& options,
                   const std::string& dir) {
  LoadResult result;
  if (text.size() > kMaxProcedureBytes) {
    DiagnosticSink sink(name, nullptr);
    sink.error("too-large", SourcePos{},
               tr(msg::lang_file_too_large, {size_text(text.size()), size_text(kMaxProcedureBytes)}));
    result.diagnostics = sink.take(options.strict);
    return result;
  }
  // yaml-cpp skips a byte order mark and counts positions after it; so do we.
  std::string_view body = text;
  if (body.substr(0, kByteOrderMark.size()) == kByteOrderMark) body.remove_prefix(kByteOrderMark.size());
  const SourceText source(body);
  DiagnosticSink sink(name, &source);
  auto procedure = std::make_shared<Procedure>();
  SourceMap map;
  std::vector<Diagnostic> calendar_diagnostics;
  if (auto root = read_yaml(source, sink)) {
    // yaml-cpp throws on misuse (a missing key read as a value, a bad
    // conversion); none should escape the walk, but if one does it becomes
    // a diagnostic, never a crash.
    try {
      build_procedure(*root, source, sink, procedure.get(), &map);
      if (!sink.has_errors()) attach_calendar(procedure.get(), map, options, dir, sink, &calendar_diagnostics);
      if (!sink.has_errors()) lint_procedure(*procedure, map, source, sink, options);
      if (!sink.has_errors()) lint_standards(*procedure, sink);
    } catch (const YAML::Exception& e) {
      sink.error("yaml-syntax", position_of(e.mark), tr(msg::lang_yaml_unreadable_here, {e.msg}));
    } catch (const std::exception& e) {
      sink.error("internal", SourcePos{}, tr(msg::lang_loader_failed, {e.what()}));
    }
  }
  result.diagnostics = sink.take(options.strict);
  result.diagnostics.insert(result.diagnostics.end(), calendar_diagnostics.begin(), calendar_diagnostics.end());
  if (result.error_count() == 0) {
    procedure->file = name;
    procedure->source = std::string(text);
    procedure->sha256 = sha256_hex(text);
    procedure->build_name_tables();
    procedure->build_candidate_table();
    procedure->build_field_checks();
    result.procedure = std::move(procedure);
  }
  return result;
}

}  // namespace

LoadResult load_procedure_file(const std::string& file, const LoadOptions& options) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw not_found(tr(msg::lang_cannot_read_file, {file}));
  // Read one byte past the cap: enough to know the file is too large
  // without reading all of a huge one.
  std::string text(kMaxProcedureBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) throw not_found(tr(msg::lang_cannot_read_file, {file}));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxProcedureBytes) {
    in.seekg(0, std::ios::end);
    const auto end = in.tellg();
    LoadResult result;
    DiagnosticSink sink(file, nullptr);
    sink.error("too-large", SourcePos{},
               tr(msg::lang_file_too_large, {end > 0 ? size_text(static_cast<size_t>(end)) : tr(msg::lang_over_1_mib),
                                             size_text(kMaxProcedureBytes)}));
    result.diagnostics = sink.take(options.strict);
    return result;
  }
  const size_t slash = file.find_last_of('/');
  return load_in(text, file, options, slash == std::string::npos ? "." : file.substr(0, slash));
}

}  // namespace sopir

// Reading a state's `deadline:` text (deadline_spec.h).
#include "lang/deadline_spec.h"

#include <regex>

namespace sopir {

std::optional<DeadlineSpec> parse_deadline_spec(std::string_view text) {
  static const std::regex re(
      R"(^\s*(?:(\d{1,6})\s+working\s+days?|(\d{1,6})\s+(days?|weeks?)|(\S+?))(?:\s+from\s+(\S+))?\s*$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, re)) return std::nullopt;
  DeadlineSpec spec;
  if (m[1].matched) {
    spec.working_days = std::stoll(m[1].str());
  } else if (m[2].matched) {
    const int64_t unit = m[3].str()[0] == 'w' ? 7 * 86400 : 86400;
    spec.duration = Duration{std::stoll(m[2].str()) * unit};
  } else {
    auto d = parse_duration(m[4].str());
    if (!d) return std::nullopt;
    spec.duration = *d;
  }
  if (m[5].matched) {
    spec.from = m[5].str();
    spec.from_offset = static_cast<size_t>(m.position(5));
  }
  return spec;
}

SourcePos deadline_anchor_pos(const SourceText& source, SourcePos scalar, std::string_view text,
                              size_t offset) {
  if (scalar.line <= 0) return scalar;
  const std::string_view line = source.line(scalar.line);
  const size_t col0 = static_cast<size_t>(scalar.column - 1);
  // A quoted scalar starts one column before its text; a plain one keeps
  // its text as written on one line.
  const bool quoted = col0 < line.size() && (line[col0] == '\'' || line[col0] == '"');
  (void)text;
  return SourcePos{scalar.line, scalar.column + static_cast<int>(offset) + (quoted ? 1 : 0)};
}

}  // namespace sopir

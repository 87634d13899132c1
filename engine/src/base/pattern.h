// A field's `pattern:` compiled once: an ECMAScript regular expression that
// must match the whole text, as std::regex_match says.
//
// The simple patterns procedures use (a sequence of literal bytes, escaped
// punctuation, \d \w \s and their negations, bracket classes, each with an
// optional greedy ? * + {n} {n,} {n,m}) are matched here: a table per class
// and a walk over the reachable positions of the text, without allocating
// for texts of up to a few hundred bytes (or, when no two atoms' classes
// share a byte, as `\+?[0-9 ]{6,20}`, one pass over the runs of each). Every other pattern (groups,
// alternatives, anchors, `.`, lazy quantifiers, non-ASCII bytes, ...) is
// compiled into a std::regex, once, and matched by it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace sopir {

class CompiledPattern {
 public:
  // Throws std::regex_error when the pattern is not a valid ECMAScript
  // regular expression (only patterns outside the subset are checked by
  // std::regex; the subset is valid by construction).
  explicit CompiledPattern(std::string pattern);

  // Whether the whole of `text`, byte by byte, matches the pattern.
  bool matches(std::string_view text) const;

  // Whether the pattern is outside the subset, so std::regex matches it.
  bool uses_regex() const { return regex_.has_value(); }
  // Whether its atoms' classes share no byte, so it is matched by runs
  // (matches_runs()), not by the walk over positions.
  bool by_runs() const { return by_runs_; }
  const std::string& source() const { return source_; }

  // The most each quantifier may count before the pattern goes to std::regex.
  static constexpr size_t kMaxCount = 100000;

 private:
  static constexpr size_t kUnbounded = static_cast<size_t>(-1);
  using ByteSet = std::array<uint8_t, 256>;  // 1: the byte is in the class
  struct Atom {
    size_t set;       // index into sets_
    size_t min, max;  // how many bytes of the class, max kUnbounded for * and +
  };

  bool compile_subset();
  bool read_class(size_t* i, ByteSet* set) const;
  bool add_atom(const ByteSet& set, size_t min, size_t max);
  bool matches_subset(std::string_view text) const;
  bool matches_runs(std::string_view text) const;

  std::string source_;
  std::vector<ByteSet> sets_;  // distinct classes
  std::vector<Atom> atoms_;
  size_t min_length_ = 0, max_length_ = 0;
  bool by_runs_ = false;
  std::optional<std::regex> regex_;
};

}  // namespace sopir

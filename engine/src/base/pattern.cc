// A field's pattern compiled once: the subset matched by tables and a walk
// over reachable positions, std::regex for the rest (pattern.h).
#include "base/pattern.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace sopir {
namespace {

constexpr char kSpecial[] = "^$\\.*+?()[]{}|";  // what ECMAScript gives a meaning outside a class

// Punctuation an escape makes literal (`\+`, `\.`, `\-`, `\/` ...). Letters
// and digits escaped mean other things (\b, \n, \1, \x41 ...): not here.
bool escapable(unsigned char c) {
  return c >= 0x20 && c < 0x7f && !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z');
}

bool plain_byte(unsigned char c) { return c != 0 && c < 0x80; }

// \d \D \w \W \s \S, as std::regex's traits classify each byte (the same
// lookup std::regex makes for them, in the same locale).
bool quoted_class(char letter, std::array<uint8_t, 256>* set) {
  const char lower = static_cast<char>(letter | 0x20);
  if (lower != 'd' && lower != 'w' && lower != 's') return false;
  const std::regex_traits<char> traits;
  const auto mask = traits.lookup_classname(&lower, &lower + 1);
  const bool negated = letter != lower;
  for (int b = 0; b < 256; ++b)
    if (traits.isctype(static_cast<char>(b), mask) != negated) (*set)[static_cast<size_t>(b)] = 1;
  return true;
}

// Whether the bytes text[K...] are all in `set` (one AND a byte, no branch).
template <size_t... K>
inline bool all_in(const uint8_t* set, const unsigned char* text, std::index_sequence<K...>) {
  return (set[text[K]] & ...) != 0;
}

// Where the run of bytes of `set` starting at `from` ends: past its first
// byte, sixteen, eight, four bytes a step while all are in the set, then one by one.
inline size_t run_end(const uint8_t* set, const unsigned char* text, size_t from, size_t n) {
  size_t q = from;
  if (q == n || !set[text[q]]) return q;  // most runs a walk asks for are empty or long
  while (q + 16 <= n && all_in(set, text + q, std::make_index_sequence<16>())) q += 16;
  if (q + 8 <= n && all_in(set, text + q, std::make_index_sequence<8>())) q += 8;
  if (q + 4 <= n && all_in(set, text + q, std::make_index_sequence<4>())) q += 4;
  while (q < n && set[text[q]]) ++q;
  return q;
}

// Reachable positions lo..hi (inclusive).
struct Span {
  size_t lo, hi;
};
constexpr size_t kStackSpans = 128;  // texts of up to 252 bytes walk on the stack

}  // namespace

CompiledPattern::CompiledPattern(std::string pattern) : source_(std::move(pattern)) {
  if (!compile_subset()) {
    sets_.clear();
    atoms_.clear();
    regex_.emplace(source_, std::regex::ECMAScript);
    return;
  }
  // By runs when no byte is in the classes of two atoms (one atom has its
  // own way, in matches()).
  by_runs_ = atoms_.size() > 1;
  for (size_t i = 0; i < atoms_.size() && by_runs_; ++i)
    for (size_t j = i + 1; j < atoms_.size() && by_runs_; ++j)
      for (size_t b = 0; b < 256 && by_runs_; ++b)
        by_runs_ = !(sets_[atoms_[i].set][b] && sets_[atoms_[j].set][b]);
}

bool CompiledPattern::compile_subset() {
  const std::string& p = source_;
  size_t i = 0;
  while (i < p.size()) {
    const auto c = static_cast<unsigned char>(p[i]);
    ByteSet set{};
    if (c == '[') {
      if (!read_class(&i, &set)) return false;
    } else if (c == '\\') {
      if (i + 1 >= p.size()) return false;
      const auto e = static_cast<unsigned char>(p[i + 1]);
      if (escapable(e)) {
        set[e] = 1;
      } else if (!quoted_class(static_cast<char>(e), &set)) {
        return false;
      }
      i += 2;
    } else if (!plain_byte(c) || std::strchr(kSpecial, c)) {
      return false;
    } else {
      set[c] = 1;
      ++i;
    }
    size_t min = 1, max = 1;
    if (i < p.size()) {
      const char q = p[i];
      bool quantified = true;
      if (q == '?' || q == '*' || q == '+') {
        min = q == '+' ? 1 : 0;
        max = q == '?' ? 1 : kUnbounded;
        ++i;
      } else if (q == '{') {
        // The digits after p[i] (the `{` or the `,`); i is left past them.
        auto number = [&](size_t* out) {
          const size_t start = ++i;
          size_t value = 0;
          while (i < p.size() && p[i] >= '0' && p[i] <= '9') {
            value = value * 10 + static_cast<size_t>(p[i] - '0');
            if (value > kMaxCount) return false;
            ++i;
          }
          *out = value;
          return i > start && i < p.size();
        };
        if (!number(&min)) return false;
        if (p[i] == '}') {
          max = min;
        } else if (p[i] != ',') {
          return false;
        } else if (i + 1 < p.size() && p[i + 1] == '}') {
          max = kUnbounded;
          ++i;
        } else if (!number(&max) || p[i] != '}' || max < min) {
          return false;
        }
        ++i;
      } else {
        quantified = false;
      }
      // A lazy quantifier (`+?`) or one quantifier on another: std::regex.
      if (quantified && i < p.size() && std::strchr("?*+{", p[i])) return false;
    }
    if (!add_atom(set, min, max)) return false;
  }
  return true;
}

// A bracket class from p[*i] == '[' to its `]`, read as std::regex reads it
// (a `-` first, last, or after a range is literal; `x-y` a range); what it
// would refuse or read otherwise goes to std::regex.
bool CompiledPattern::read_class(size_t* i, ByteSet* set) const {
  const std::string& p = source_;
  size_t at = *i + 1;
  bool negated = false;
  if (at < p.size() && p[at] == '^') {
    negated = true;
    ++at;
  }
  enum class Kind { kChar, kClass, kDash, kEnd, kOther };
  struct Token {
    Kind kind;
    unsigned char c;
  };
  ByteSet quoted{};
  auto next = [&]() -> Token {
    if (at >= p.size()) return {Kind::kOther, 0};
    const auto c = static_cast<unsigned char>(p[at]);
    if (c == ']') return ++at, Token{Kind::kEnd, 0};
    if (c == '-') return ++at, Token{Kind::kDash, 0};
    if (c == '\\' && at + 1 < p.size()) {
      const auto e = static_cast<unsigned char>(p[at + 1]);
      at += 2;
      if (escapable(e)) return {Kind::kChar, e};
      quoted.fill(0);
      return quoted_class(static_cast<char>(e), &quoted) ? Token{Kind::kClass, 0} : Token{Kind::kOther, 0};
    }
    if (c == '[' || !plain_byte(c)) return {Kind::kOther, 0};
    ++at;
    return {Kind::kChar, c};
  };
  // The last single byte read, not yet added (it may begin a range).
  bool pending = false, after_class = false;
  unsigned char last = 0;
  auto push = [&](unsigned char c) {
    if (pending) (*set)[last] = 1;
    pending = true;
    after_class = false;
    last = c;
  };
  for (bool first = true;; first = false) {
    const Token t = next();
    if (t.kind == Kind::kEnd) {
      if (first) return false;  // `[]`, `[^]`: std::regex
      break;
    }
    if (t.kind == Kind::kChar) {
      push(t.c);
    } else if (t.kind == Kind::kClass) {
      if (pending) (*set)[last] = 1;
      pending = false;
      after_class = true;
      for (size_t b = 0; b < 256; ++b) (*set)[b] |= quoted[b];
    } else if (t.kind == Kind::kDash) {
      const size_t dash_at = at;
      Token u = next();
      if (u.kind == Kind::kEnd) {
        push('-');
        break;
      }
      if (after_class) return false;  // `[\d-z]`: refused by std::regex
      if (pending) {
        const unsigned char to = u.kind == Kind::kChar ? u.c : u.kind == Kind::kDash ? '-' : 0;
        if ((u.kind != Kind::kChar && u.kind != Kind::kDash) || to < last) return false;
        for (unsigned b = last; b <= to; ++b) (*set)[b] = 1;
        pending = false;
      } else {
        at = dash_at;  // a dash after a range: a literal `-`, then what follows
        push('-');
      }
    } else {
      return false;
    }
  }
  if (pending) (*set)[last] = 1;
  if (negated)
    for (auto& b : *set) b ^= 1;
  *i = at;
  return true;
}

bool CompiledPattern::add_atom(const ByteSet& set, size_t min, size_t max) {
  auto found = std::find(sets_.begin(), sets_.end(), set);
  if (found == sets_.end()) {
    if (sets_.size() >= 64) return false;  // tables stay small; beyond, std::regex
    found = sets_.insert(sets_.end(), set);
  }
  atoms_.push_back(Atom{static_cast<size_t>(found - sets_.begin()), min, max});
  min_length_ += min;
  max_length_ = max == kUnbounded || max_length_ == kUnbounded ? kUnbounded : max_length_ + max;
  return true;
}

bool CompiledPattern::matches(std::string_view text) const {
  if (regex_) return std::regex_match(text.begin(), text.end(), *regex_);
  const size_t n = text.size();
  if (n < min_length_ || n > max_length_) return false;
  // One atom (`[0-9]{16}`): the length is within its bounds, every byte in its class.
  if (atoms_.size() == 1)
    return run_end(sets_[atoms_[0].set].data(), reinterpret_cast<const unsigned char*>(text.data()), 0, n) == n;
  return by_runs_ ? matches_runs(text) : matches_subset(text);
}

// Atoms whose classes share no byte: each takes exactly the run of bytes of
// its class where it starts, since a byte of its class it left would be
// one no later atom can take. So one pass: each run's length within its
// atom's count, and the last run ending the text.
bool CompiledPattern::matches_runs(std::string_view view) const {
  const size_t n = view.size();
  const auto* text = reinterpret_cast<const unsigned char*>(view.data());
  size_t at = 0;
  for (const Atom& atom : atoms_) {
    const size_t end = run_end(sets_[atom.set].data(), text, at, n);
    if (end - at < atom.min || end - at > atom.max) return false;
    at = end;
  }
  return at == n;
}

// Which positions of the text each atom can end at, from the positions the
// atoms before it can: from a reachable p, p + k for k from the atom's min to
// its max, as far as bytes of its class run from p. Kept as sorted spans of
// positions, so every match is found, not only the greedy one.
bool CompiledPattern::matches_subset(std::string_view view) const {
  const size_t n = view.size();
  const auto* text = reinterpret_cast<const unsigned char*>(view.data());
  if (atoms_.empty()) return n == 0;

  // Spans are disjoint and not adjacent within 0..n: at most n / 2 + 1.
  const size_t capacity = n / 2 + 2;
  Span on_stack[2][kStackSpans];
  std::vector<Span> on_heap;
  Span* from = on_stack[0];
  Span* to = on_stack[1];
  if (capacity > kStackSpans) {
    on_heap.resize(2 * capacity);
    from = on_heap.data();
    to = from + capacity;
  }
  from[0] = Span{0, 0};
  size_t spans = 1;
  for (const Atom& atom : atoms_) {
    const uint8_t* set = sets_[atom.set].data();
    size_t out = 0;
    size_t run_start = 1, run_stop = 0;  // [run_start, run_stop]: positions whose run ends at run_stop
    for (size_t s = 0; s < spans; ++s) {
      for (size_t p = from[s].lo; p <= from[s].hi;) {
        if (p < run_start || p > run_stop) {
          run_start = p;
          run_stop = run_end(set, text, p, n);
        }
        const size_t end = run_stop;
        const size_t last = std::min(from[s].hi, end);  // p..last run to `end`
        if (end >= atom.min && std::min(last, end - atom.min) >= p) {
          const size_t top = std::min(last, end - atom.min);
          const Span reach{p + atom.min, end - top <= atom.max ? end : top + atom.max};
          if (out > 0 && reach.lo <= to[out - 1].hi + 1) {
            to[out - 1].hi = std::max(to[out - 1].hi, reach.hi);
          } else {
            to[out++] = reach;
          }
        }
        p = last + 1;
      }
    }
    if (out == 0) return false;
    std::swap(from, to);
    spans = out;
  }
  return from[spans - 1].hi == n;
}

}  // namespace sopir

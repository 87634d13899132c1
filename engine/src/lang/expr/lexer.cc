// Lexer of the expression language. Bytes outside the language (NUL,
// invalid UTF-8, stray punctuation) become an error token with a message
// naming the byte, never a crash.
#include <algorithm>
#include <cstdio>

#include "lang/expr/syntax.h"
#include "sopir/text.h"
#include "sopir/messages/lang.h"

namespace sopir {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_word(char c) { return is_alpha(c) || is_digit(c); }

std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02X", u);
  return tr(msg::lang_byte, {buf});
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      skip_space();
      Token t = next();
      const TokenKind kind = t.kind;
      out.push_back(std::move(t));
      if (kind == TokenKind::kEnd || kind == TokenKind::kError) break;
    }
    if (out.back().kind == TokenKind::kError) {
      Token end;
      end.kind = TokenKind::kEnd;
      end.begin = end.end = text_.size();
      out.push_back(end);
    }
    return out;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool at_end(size_t ahead = 0) const { return pos_ + ahead >= text_.size(); }

  Token make(TokenKind kind, size_t begin) {
    Token t;
    t.kind = kind;
    t.begin = begin;
    t.end = pos_;
    return t;
  }
  Token error(size_t begin, std::string message) {
    Token t = make(TokenKind::kError, begin);
    t.text = std::move(message);
    return t;
  }
  Token op(TokenKind kind, size_t length) {
    const size_t begin = pos_;
    pos_ += length;
    return make(kind, begin);
  }

  Token next() {
    const size_t begin = pos_;
    if (at_end()) return make(TokenKind::kEnd, begin);
    const char c = peek();
    if (is_alpha(c)) return name();
    if (is_digit(c) || (c == '-' && !at_end(1) && is_digit(peek(1)))) return number();
    switch (c) {
      case '\'':
      case '"':
        return string(c);
      case '(':
        return op(TokenKind::kLParen, 1);
      case ')':
        return op(TokenKind::kRParen, 1);
      case '[':
        return op(TokenKind::kLBracket, 1);
      case ']':
        return op(TokenKind::kRBracket, 1);
      case ',':
        return op(TokenKind::kComma, 1);
      case '<':
        return peek(1) == '=' ? op(TokenKind::kLe, 2) : op(TokenKind::kLt, 1);
      case '>':
        return peek(1) == '=' ? op(TokenKind::kGe, 2) : op(TokenKind::kGt, 1);
      case '!':
        return peek(1) == '=' ? op(TokenKind::kNe, 2) : op(TokenKind::kBang, 1);
      case '=':
        if (peek(1) == '=') return op(TokenKind::kEq, 2);
        return error(begin, tr(msg::lang_lone_equals));
      case '&':
        if (peek(1) == '&') return op(TokenKind::kAndAnd, 2);
        return error(begin, tr(msg::lang_lone_amp));
      case '|':
        if (peek(1) == '|') return op(TokenKind::kOrOr, 2);
        return error(begin, tr(msg::lang_lone_bar));
      default:
        break;
    }
    return error(begin, tr(msg::lang_unexpected_char, {describe_byte(c)}));
  }

  Token name() {
    const size_t begin = pos_;
    while (!at_end() && is_word(peek())) ++pos_;
    Token t = make(TokenKind::kName, begin);
    t.text = std::string(text_.substr(begin, pos_ - begin));
    return t;
  }

  // A run of digits, letters and '-': an int, a date or a duration.
  Token number() {
    const size_t begin = pos_;
    ++pos_;  // a digit or the leading '-'
    while (!at_end() && (is_word(peek()) || peek() == '-')) ++pos_;
    const std::string_view word = text_.substr(begin, pos_ - begin);
    const std::string shown =
        word.size() > 40 ? std::string(word.substr(0, 40)) + "..." : std::string(word);
    bool all_digits = true;
    for (size_t i = word[0] == '-' ? 1 : 0; i < word.size(); ++i) all_digits &= is_digit(word[i]);
    if (all_digits) return integer(begin, word, shown);
    if (word.size() > 10 && word[4] == '-' && word[7] == '-' && word[10] == 'T')
      return datetime(begin);
    if (word.size() == 10 && word[4] == '-' && word[7] == '-' && word[0] != '-') {
      Token t = make(TokenKind::kDate, begin);
      if (auto d = parse_date(word)) {
        t.date_value = *d;
        return t;
      }
      return error(begin,
                   tr(msg::lang_not_calendar_date, {shown}));
    }
    if (word[0] != '-') {
      if (auto d = parse_duration(word)) {
        Token t = make(TokenKind::kDuration, begin);
        t.duration_value = *d;
        return t;
      }
    }
    return error(begin, tr(msg::lang_not_number, {shown}));
  }

  // 2026-11-29T08:30, seconds, 'Z' or an offset +07:00 optional.
  Token datetime(size_t begin) {
    while (!at_end() &&
           (is_digit(peek()) || peek() == ':' || peek() == '+' || peek() == '-' || peek() == 'Z')) {
      ++pos_;
    }
    const std::string_view word = text_.substr(begin, pos_ - begin);
    if (auto t = parse_datetime(word)) {
      Token token = make(TokenKind::kDateTime, begin);
      token.datetime_value = *t;
      return token;
    }
    const std::string shown =
        word.size() > 40 ? std::string(word.substr(0, 40)) + "..." : std::string(word);
    return error(begin, tr(msg::lang_not_datetime, {shown}));
  }

  Token integer(size_t begin, std::string_view word, const std::string& shown) {
    const bool negative = word[0] == '-';
    uint64_t magnitude = 0;
    const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    for (size_t i = negative ? 1 : 0; i < word.size(); ++i) {
      const uint64_t digit = static_cast<uint64_t>(word[i] - '0');
      if (magnitude > (limit - digit) / 10) {
        return error(begin, tr(negative ? msg::lang_number_too_small : msg::lang_number_too_large, {shown}));
      }
      magnitude = magnitude * 10 + digit;
    }
    Token t = make(TokenKind::kInt, begin);
    // Two's complement negation in unsigned arithmetic: defined for 2^63.
    t.int_value = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    return t;
  }

  Token string(char quote) {
    const size_t begin = pos_;
    ++pos_;
    std::string value;
    while (true) {
      if (at_end()) {
        return error(begin, tr(msg::lang_text_not_closed, {std::string(1, quote)}));
      }
      const char c = peek();
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c == '\\') {
        const char e = peek(1);
        if (e == '\'' || e == '"' || e == '\\') {
          value += e;
          pos_ += 2;
          continue;
        }
        const size_t at = pos_;
        pos_ += at_end(1) ? 1 : 2;
        return error(at, tr(msg::lang_unknown_escape));
      }
      value += c;
      ++pos_;
    }
    Token t = make(TokenKind::kString, begin);
    t.text = std::move(value);
    return t;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::string printable(std::string_view text) {
  // Most text (every guard explanation a refusal shows) is printable ASCII
  // already: copied whole, not a character at a time.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b >= 0x20 && b < 0x7f;
  });
  if (plain) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else if (n == 1) {
      const auto c = static_cast<unsigned char>(text[i]);
      out += c < 0x20 || c == 0x7f ? '?' : text[i];
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::vector<Token> lex_expr(std::string_view text) { return Lexer(text).run(); }

}  // namespace sopir

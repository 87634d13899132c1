// Lexer and parser of the expression language (internal): text -> syntax
// tree. Names are not resolved and nothing is type-checked here; that is the
// checker's job (expr_check.cc).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lang/expr/expr.h"
#include "lang/expr/tree.h"
#include "sopir/value.h"

namespace sopir {

// Deepest nesting of parentheses, lists, function calls and `not` accepted.
constexpr int kMaxExprDepth = 64;

enum class TokenKind {
  kEnd,
  kInt,       // int_value
  kString,    // text (escapes decoded)
  kDate,      // date_value
  kDateTime,  // datetime_value
  kDuration,  // duration_value
  kName,      // text; also the keywords and/or/not/in/true/false/null
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAndAnd,
  kOrOr,
  kBang,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kError,  // text holds the message
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t begin = 0, end = 0;  // byte offsets in the source
  std::string text;
  int64_t int_value = 0;
  Date date_value;
  DateTime datetime_value;
  Duration duration_value;
};

// `text` made safe for a one-line message (and for JSON): control bytes
// become '?', bytes that are not valid UTF-8 become U+FFFD.
std::string printable(std::string_view text);

// Splits `text` into tokens, always ending with kEnd. A lexical error
// becomes a kError token (and lexing stops there).
std::vector<Token> lex_expr(std::string_view text);

enum class SynKind {
  kLiteral,  // value (int, text, bool, date, datetime, duration) or null
  kName,     // text
  kCall,     // text(kids...)
  kNot,      // not kids[0]
  kAnd,      // kids[0] and kids[1] and ...
  kOr,
  kCompare,  // kids[0] op kids[1]
  kIn,       // kids[0] in [kids[1..]]; negated for `not in`
  kMember,   // kids[0] in kids[1] (a set); negated for `not in`
  kList,     // [kids...]: a set of values, typed by what it meets
};

struct Syn {
  SynKind kind = SynKind::kLiteral;
  size_t begin = 0, end = 0;  // source span, parentheses included
  size_t op_offset = 0;       // operator / function name position
  CompareOp op = CompareOp::kEq;
  bool negated = false;
  bool is_null = false;
  bool is_string = false;  // a quoted literal
  std::string text;
  Value value;
  std::vector<Syn> kids;
};

// Parses the whole text; on a syntax error returns false with the error in
// `*error` (syntax errors stop parsing: what follows cannot be trusted).
bool parse_syntax(std::string_view text, Syn* out, ExprError* error);

}  // namespace sopir

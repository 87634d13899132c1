// Recursive-descent parser: tokens -> syntax tree.
//
//   or      := and (('or' | '||') and)*
//   and     := not (('and' | '&&') not)*
//   not     := ('not' | '!') not | compare
//   compare := primary [ cmp_op primary | ['not'] 'in' '[' or (',' or)* ']' ]
//   primary := literal | name | name '(' [or (',' or)*] ')' | '(' or ')'
//
// `and`/`or` chains become one node with many children (no deep left
// spine), and every '(' '[' call or `not` counts towards kMaxExprDepth, so
// neither the parser nor the walkers over its result can run out of stack.
#include <stdexcept>

#include "lang/expr/syntax.h"
#include "sopir/messages/lang.h"

namespace sopir {
namespace {

struct SyntaxError {
  ExprError error;
};

bool is_keyword(const Token& t, const char* word) {
  return t.kind == TokenKind::kName && t.text == word;
}

bool is_compare(TokenKind k) {
  return k == TokenKind::kEq || k == TokenKind::kNe || k == TokenKind::kLt || k == TokenKind::kLe ||
         k == TokenKind::kGt || k == TokenKind::kGe;
}

CompareOp compare_op(TokenKind k) {
  switch (k) {
    case TokenKind::kEq:
      return CompareOp::kEq;
    case TokenKind::kNe:
      return CompareOp::kNe;
    case TokenKind::kLt:
      return CompareOp::kLt;
    case TokenKind::kLe:
      return CompareOp::kLe;
    case TokenKind::kGt:
      return CompareOp::kGt;
    default:
      return CompareOp::kGe;
  }
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> tokens)
      : text_(text), tokens_(std::move(tokens)) {}

  Syn parse() {
    if (peek().kind == TokenKind::kEnd) {
      fail(0, tr(msg::lang_expr_empty));
    }
    Syn out = parse_or();
    if (peek().kind != TokenKind::kEnd) {
      const Token& t = peek();
      if (t.kind == TokenKind::kRParen) fail(t.begin, tr(msg::lang_unmatched_rparen));
      fail(t.begin, tr(msg::lang_after_complete, {describe(t)}));
    }
    return out;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    const size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& take() {
    const Token& t = peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }

  [[noreturn]] void fail(size_t offset, std::string message) {
    throw SyntaxError{ExprError{offset, std::move(message)}};
  }

  std::string describe(const Token& t) const {
    if (t.kind == TokenKind::kEnd) return tr(msg::lang_end_of_expr);
    std::string_view s = text_.substr(t.begin, t.end - t.begin);
    if (s.size() > 30) return "'" + printable(s.substr(0, 30)) + "...'";
    return "'" + printable(s) + "'";
  }

  // Called on every token that opens a nested level.
  void enter(const Token& t) {
    if (++depth_ > kMaxExprDepth) {
      fail(t.begin, tr(msg::lang_too_nested, {std::to_string(kMaxExprDepth)}));
    }
  }
  void leave() { --depth_; }

  void check_token() {
    if (peek().kind == TokenKind::kError) fail(peek().begin, peek().text);
  }

  Syn parse_or() { return parse_chain(SynKind::kOr, "or", TokenKind::kOrOr); }

  Syn parse_chain(SynKind kind, const char* word, TokenKind symbol) {
    Syn first =
        kind == SynKind::kOr ? parse_chain(SynKind::kAnd, "and", TokenKind::kAndAnd) : parse_not();
    if (!is_keyword(peek(), word) && peek().kind != symbol) return first;
    Syn chain;
    chain.kind = kind;
    chain.begin = first.begin;
    chain.op_offset = peek().begin;
    chain.kids.push_back(std::move(first));
    while (is_keyword(peek(), word) || peek().kind == symbol) {
      take();
      chain.kids.push_back(kind == SynKind::kOr
                               ? parse_chain(SynKind::kAnd, "and", TokenKind::kAndAnd)
                               : parse_not());
    }
    chain.end = chain.kids.back().end;
    return chain;
  }

  Syn parse_not() {
    check_token();
    if (is_keyword(peek(), "not") || peek().kind == TokenKind::kBang) {
      const Token& t = take();
      enter(t);
      Syn out;
      out.kind = SynKind::kNot;
      out.begin = out.op_offset = t.begin;
      out.kids.push_back(parse_not());
      out.end = out.kids[0].end;
      leave();
      return out;
    }
    return parse_compare();
  }

  Syn parse_compare() {
    Syn left = parse_primary();
    check_token();
    const Token& t = peek();
    if (is_compare(t.kind)) {
      take();
      Syn out;
      out.kind = SynKind::kCompare;
      out.op = compare_op(t.kind);
      out.op_offset = t.begin;
      out.begin = left.begin;
      out.kids.push_back(std::move(left));
      out.kids.push_back(parse_primary());
      out.end = out.kids[1].end;
      check_token();
      if (is_compare(peek().kind)) {
        fail(peek().begin, tr(msg::lang_chained_compare));
      }
      return out;
    }
    const bool negated = is_keyword(t, "not") && is_keyword(peek(1), "in");
    if (is_keyword(t, "in") || negated) {
      Syn out;
      out.kind = SynKind::kIn;
      out.negated = negated;
      out.op_offset = t.begin;
      take();
      if (negated) take();
      out.begin = left.begin;
      out.kids.push_back(std::move(left));
      check_token();
      if (peek().kind == TokenKind::kLBracket) {
        parse_list(&out);
      } else {  // x in a_set_field
        out.kind = SynKind::kMember;
        out.kids.push_back(parse_primary());
        out.end = out.kids[1].end;
      }
      return out;
    }
    return left;
  }

  void parse_list(Syn* out) {
    check_token();
    const Token& open = peek();
    if (open.kind != TokenKind::kLBracket) {
      fail(open.begin,
           tr(msg::lang_in_bracket, {describe(open)}));
    }
    take();
    enter(open);
    if (peek().kind == TokenKind::kRBracket) {
      fail(peek().begin, tr(msg::lang_in_list_empty));
    }
    while (true) {
      out->kids.push_back(parse_or());
      check_token();
      const Token& t = take();
      if (t.kind == TokenKind::kRBracket) {
        out->end = t.end;
        break;
      }
      if (t.kind != TokenKind::kComma) {
        if (t.kind == TokenKind::kEnd) fail(open.begin, tr(msg::lang_bracket_not_closed));
        fail(t.begin, tr(msg::lang_list_separator, {describe(t)}));
      }
    }
    leave();
  }

  Syn parse_primary() {
    check_token();
    const Token& t = take();
    Syn out;
    out.begin = out.op_offset = t.begin;
    out.end = t.end;
    switch (t.kind) {
      case TokenKind::kInt:
        out.value = t.int_value;
        return out;
      case TokenKind::kString:
        out.value = t.text;
        out.text = t.text;
        out.is_string = true;
        return out;
      case TokenKind::kDate:
        out.value = t.date_value;
        return out;
      case TokenKind::kDateTime:
        out.value = t.datetime_value;
        return out;
      case TokenKind::kDuration:
        out.value = t.duration_value;
        return out;
      case TokenKind::kLParen:
        return parse_parens(t);
      case TokenKind::kLBracket:
        return parse_set_literal(t);
      case TokenKind::kName:
        return parse_name(t);
      default:
        break;
    }
    if (t.kind == TokenKind::kEnd) fail(t.begin, tr(msg::lang_ends_early));
    fail(t.begin, tr(msg::lang_expected_value, {describe(t)}));
  }

  // [a, b] or [] standing for a set of values (next to a set field).
  Syn parse_set_literal(const Token& open) {
    enter(open);
    Syn out;
    out.kind = SynKind::kList;
    out.begin = out.op_offset = open.begin;
    while (true) {
      check_token();
      if (out.kids.empty() && peek().kind == TokenKind::kRBracket) break;
      out.kids.push_back(parse_or());
      check_token();
      if (peek().kind != TokenKind::kComma) break;
      take();
    }
    check_token();
    if (peek().kind != TokenKind::kRBracket) {
      if (peek().kind == TokenKind::kEnd) fail(open.begin, tr(msg::lang_bracket_not_closed));
      fail(peek().begin, tr(msg::lang_list_separator, {describe(peek())}));
    }
    out.end = take().end;
    leave();
    return out;
  }

  Syn parse_parens(const Token& open) {
    enter(open);
    Syn inner = parse_or();
    check_token();
    if (peek().kind != TokenKind::kRParen) {
      if (peek().kind == TokenKind::kEnd) fail(open.begin, tr(msg::lang_paren_not_closed));
      fail(peek().begin, tr(msg::lang_close_paren, {describe(peek())}));
    }
    inner.begin = open.begin;
    inner.end = take().end;
    leave();
    return inner;
  }

  Syn parse_name(const Token& t) {
    Syn out;
    out.begin = out.op_offset = t.begin;
    out.end = t.end;
    if (t.text == "true" || t.text == "false") {
      out.value = t.text == "true";
      return out;
    }
    if (t.text == "null") {
      out.is_null = true;
      return out;
    }
    if (t.text == "and" || t.text == "or" || t.text == "not" || t.text == "in") {
      fail(t.begin, tr(msg::lang_keyword_not_value, {t.text}));
    }
    out.text = t.text;
    if (peek().kind != TokenKind::kLParen) {
      out.kind = SynKind::kName;
      return out;
    }
    out.kind = SynKind::kCall;
    const Token& open = take();
    enter(open);
    if (peek().kind != TokenKind::kRParen) {
      while (true) {
        out.kids.push_back(parse_or());
        check_token();
        if (peek().kind != TokenKind::kComma) break;
        take();
      }
    }
    check_token();
    if (peek().kind != TokenKind::kRParen) {
      if (peek().kind == TokenKind::kEnd) fail(open.begin, tr(msg::lang_paren_not_closed));
      fail(peek().begin, tr(msg::lang_call_separator, {t.text, describe(peek())}));
    }
    out.end = take().end;
    leave();
    return out;
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

bool parse_syntax(std::string_view text, Syn* out, ExprError* error) {
  try {
    *out = Parser(text, lex_expr(text)).parse();
    return true;
  } catch (const SyntaxError& e) {
    *error = e.error;
    return false;
  }
}

}  // namespace sopir

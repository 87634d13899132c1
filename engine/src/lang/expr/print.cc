// Canonical text of expressions: keywords spelled out (and, or, not),
// single-quoted text, minimal parentheses. parse_expr accepts the output
// back and yields the same expression.
#include "sopir/display.h"
#include "lang/expr/tree.h"

namespace sopir {

const char* op_text(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "==";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

namespace {

// Binding strength, loosest first.
constexpr int kOrPrec = 1, kAndPrec = 2, kNotPrec = 3, kComparePrec = 4, kPrimaryPrec = 5;

int precedence(NodeKind kind) {
  switch (kind) {
    case NodeKind::kOr:
      return kOrPrec;
    case NodeKind::kAnd:
      return kAndPrec;
    case NodeKind::kNot:
      return kNotPrec;
    case NodeKind::kCompare:
    case NodeKind::kIn:
    case NodeKind::kMember:
      return kComparePrec;
    default:
      return kPrimaryPrec;
  }
}

bool is_keyword(const std::string& s) {
  return s == "and" || s == "or" || s == "not" || s == "in" || s == "true" || s == "false" ||
         s == "null";
}

bool is_identifier(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

class Printer {
 public:
  Printer(const Expr& expr, const std::vector<FieldDef>& fields, std::string_view lang = {})
      : expr_(expr), fields_(fields), lang_(lang) {}

  std::string print(int n, int min_precedence) const {
    const ExprNode& node = expr_.nodes[n];
    std::string text = bare(node);
    if (precedence(node.kind) < min_precedence) return "(" + text + ")";
    return text;
  }

 private:
  std::string field_name(int index) const {
    if (index < 0 || static_cast<size_t>(index) >= fields_.size())
      return "field#" + std::to_string(index);
    return fields_[index].id;
  }

  bool is_field_name(const std::string& s) const {
    for (const auto& f : fields_) {
      if (f.id == s) return true;
    }
    return false;
  }

  std::string list(const ExprNode& node, const char* separator, int min_precedence) const {
    std::string out;
    for (int i = 0; i < node.count; ++i) {
      if (i) out += separator;
      out += print(expr_.lists[node.first + i], min_precedence);
    }
    return out;
  }

  // The field whose values a comparison's constants are (for labels).
  const FieldDef* owner_of(const ExprNode& node) const {
    for (int side : {node.a, node.b}) {
      if (side < 0) continue;
      const ExprNode& n = expr_.nodes[side];
      if (n.kind == NodeKind::kField && n.index >= 0 && static_cast<size_t>(n.index) < fields_.size())
        return &fields_[n.index];
    }
    return nullptr;
  }

  // A constant enum value or set by its label(s) in lang_, in quotes.
  std::string labelled(const ExprNode& node, const std::string& text) const {
    if (node.type == Type::kSet) {
      std::vector<std::string> labels;
      for (const auto& id : set_members(text)) labels.push_back(quote_text(value_label(*owner_, id, lang_)));
      return "[" + join(labels, ", ") + "]";
    }
    return quote_text(value_label(*owner_, text, lang_));
  }

  std::string constant(const ExprNode& node) const {
    if (node.is_null) return "null";
    const Value& v = expr_.consts[node.index];
    if (!lang_.empty() && owner_ && (node.enum_value || node.type == Type::kSet)) {
      // Only values that have a label print differently.
      const std::string& text = std::get<std::string>(v);
      bool any = false;
      for (const auto& id : node.type == Type::kSet ? set_members(text) : std::vector<std::string>{text})
        any = any || value_label(*owner_, id, lang_) != id;
      if (any) return labelled(node, text);
    }
    if (node.type == Type::kSet) return "[" + join(set_members(std::get<std::string>(v)), ", ") + "]";
    if (const std::string* s = std::get_if<std::string>(&v)) {
      if (node.enum_value && is_identifier(*s) && !is_keyword(*s) && !is_field_name(*s)) return *s;
      return quote_text(*s);
    }
    return format_value(v);
  }

  std::string bare(const ExprNode& node) const {
    switch (node.kind) {
      case NodeKind::kConst:
        return constant(node);
      case NodeKind::kField:
        return field_name(node.index);
      case NodeKind::kNot:
        return "not " + print(node.a, kNotPrec);
      case NodeKind::kAnd:
        return list(node, " and ", kNotPrec);
      case NodeKind::kOr:
        return list(node, " or ", kAndPrec);
      case NodeKind::kCompare: {
        Owner o(this, owner_of(node));
        return print(node.a, kPrimaryPrec) + " " + op_text(node.op) + " " +
               print(node.b, kPrimaryPrec);
      }
      case NodeKind::kIn: {
        Owner o(this, owner_of(node));
        return print(node.a, kPrimaryPrec) + (node.negated ? " not in [" : " in [") +
               list(node, ", ", 0) + "]";
      }
      case NodeKind::kMember: {
        Owner o(this, owner_of(node));
        return print(node.a, kPrimaryPrec) + (node.negated ? " not in " : " in ") +
               print(node.b, kPrimaryPrec);
      }
      case NodeKind::kCount:
        return "count(" + print(node.a, 0) + ")";
      case NodeKind::kHas:
        return "has(" + field_name(node.index) + ")";
      case NodeKind::kToday:
        return "today()";
      case NodeKind::kNow:
        return "now()";
      case NodeKind::kDaysSince:
        return "days_since(" + print(node.a, 0) + ")";
      case NodeKind::kLen:
        return "len(" + print(node.a, 0) + ")";
      case NodeKind::kHasChild:
        return "has_child(" + quote_text(std::get<std::string>(expr_.consts[node.index])) + ")";
      case NodeKind::kChildClosed:
        return "child_closed(" + quote_text(std::get<std::string>(expr_.consts[node.index])) + ")";
      case NodeKind::kTrackState:
        return "track_state(" + quote_text(std::get<std::string>(expr_.consts[node.index])) + ")";
      case NodeKind::kTrackOutcome:
        return "track_outcome(" + quote_text(std::get<std::string>(expr_.consts[node.index])) + ")";
      case NodeKind::kCountTracks:
        return "count_tracks(" + quote_text(std::get<std::string>(expr_.consts[node.index])) +
               (node.b >= 0 ? ", " + quote_text(std::get<std::string>(expr_.consts[node.b])) : "") + ")";
      case NodeKind::kAllTracksClosed:
        return "all_tracks_closed()";
      case NodeKind::kAnyTrackOpen:
        return "any_track_open()";
      case NodeKind::kClockOverdue:
        return "clock_overdue(" + quote_text(std::get<std::string>(expr_.consts[node.index])) + ")";
    }
    return "?";
  }

  // Sets owner_ while a comparison's operands print.
  struct Owner {
    Owner(const Printer* p, const FieldDef* f) : p_(p), saved_(p->owner_) { p_->owner_ = f; }
    ~Owner() { p_->owner_ = saved_; }
    const Printer* p_;
    const FieldDef* saved_;
  };

  const Expr& expr_;
  const std::vector<FieldDef>& fields_;
  std::string_view lang_;
  mutable const FieldDef* owner_ = nullptr;
};

}  // namespace

std::string quote_text(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string node_text(const Expr& expr, int n, const std::vector<FieldDef>& fields,
                      int min_precedence) {
  return Printer(expr, fields).print(n, min_precedence);
}

std::string to_string(const Expr& expr, const std::vector<FieldDef>& fields) {
  if (expr.root < 0) return "";
  return node_text(expr, expr.root, fields, 0);
}

std::string to_string(const Expr& expr, const std::vector<FieldDef>& fields, std::string_view lang) {
  if (expr.root < 0) return "";
  return Printer(expr, fields, lang).print(expr.root, 0);
}

}  // namespace sopir

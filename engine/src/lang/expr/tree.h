// The compiled form of a guard or `set` expression (internal to the engine).
//
// parse_expr (expr_parse.cc, expr_check.cc) builds an Expr; evaluation
// (expr_eval.cc), explanations (expr_explain.cc) and printing
// (expr_print.cc) read it. Nodes live in one vector and refer to each other
// by index; field references are field indices, literals sit in a constant
// pool, so evaluating a guard allocates nothing. The checker guarantees the
// tree is well-typed and at most a few hundred levels deep (the parser's
// nesting limit), so the recursive walkers here cannot overflow the stack.
#pragma once

#include <cstdint>
#include <vector>

#include "lang/expr/expr.h"
#include "sopir/value.h"

namespace sopir {

enum class NodeKind : uint8_t {
  kConst,      // consts[index]
  kField,      // the case's value of field `index`
  kNot,        // not a
  kAnd,        // all of list[first .. first+count)
  kOr,         // any of list[first .. first+count)
  kCompare,    // a op b
  kIn,         // a in list[first .. first+count)  (negated: a not in [...])
  kHas,        // field `index` holds a value
  kToday,      // date_of(now)
  kNow,        // now
  kDaysSince,  // whole days from a (date or datetime) to now
  kLen,        // length of text a in characters
  kHasChild,   // a case of procedure consts[index] was opened by this one
  kChildClosed,  // ... and every such case is closed
  kMember,     // enum value a is in set b (negated: not in)
  kCount,      // members of set a (0 when missing)
  kAllTracksClosed,  // this case opened at least one case, and every one is closed
  kAnyTrackOpen,     // some case this one opened is not closed
  kTrackState,       // state id of the newest case of procedure consts[index] it opened
  kTrackOutcome,     // ... its closure reason, or its state once it ended without one
  kCountTracks,      // how many cases of procedure consts[index] it opened; with b >= 0,
                     // only those now in state consts[b]
  kClockOverdue,     // the case's clock consts[index] runs and is past its limit at `now`
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

// A node shape the evaluator has a shortcut for, found once the tree is
// built (mark_fast_paths). Every shortcut gives what the general path gives
// for any value the field may hold (missing, or even of another type);
// kNone, the default, always takes the general path.
enum class FastPath : uint8_t {
  kNone,
  kFieldText,   // kCompare == / !=: field a against a text (or enum) constant b
  kFieldInt,    // kCompare, any op: field a against an int constant b
  kFieldBool,   // kCompare == / !=: field a against a bool constant b
  kFieldTexts,  // kIn: field a against a list of text (or enum) constants
  kTrackText,   // kCompare == / !=: track_state() or track_outcome() a against a text constant b
};

// "==", "!=", "<", ... as written in expressions (expr_print.cc).
const char* op_text(CompareOp op);

struct ExprNode {
  NodeKind kind = NodeKind::kConst;
  CompareOp op = CompareOp::kEq;
  bool negated = false;      // kIn written as `not in`
  bool enum_value = false;   // kConst that is an enum value (printed bare when it can be)
  Type type = Type::kBool;   // result type (kConst null: see is_null)
  bool is_null = false;      // the literal `null`
  FastPath fast = FastPath::kNone;  // derived from the rest (mark_fast_paths)
  int a = -1, b = -1;        // operands
  int index = -1;            // constant or field index
  int first = 0, count = 0;  // children in Expr::lists
};

class Expr {
 public:
  std::vector<ExprNode> nodes;
  std::vector<Value> consts;
  std::vector<int> lists;
  int root = -1;
};

// Sets ExprNode::fast on every node with a shape the evaluator has a
// shortcut for. parse_expr calls it on each tree it builds (the loader's
// and the compiled form's alike, since the codec parses the text again).
void mark_fast_paths(Expr& expr);

}  // namespace sopir

namespace sopir {

// Walks a compiled expression over one case. Holds references only; cheap
// to construct per evaluation. Computed values land in caller-provided
// scratch Values, which never hold text, so nothing here allocates.
class Evaluator {
 public:
  Evaluator(const Expr& expr, const EvalContext& context) : expr_(expr), context_(context) {}

  // The value of node `n`: a reference to a field value or constant, or to
  // `scratch` holding a computed value.
  const Value& value(int n, Value& scratch) const;
  // The truth of a condition node; a missing bool reads as false.
  bool truth(int n) const;
  // truth(), with a comparison (the usual guard, and the usual part of an
  // and/or) taken without the call.
  bool part(int n) const {
    const ExprNode& node = expr_.nodes[n];
    return node.kind == NodeKind::kCompare ? compare(node) : truth(n);
  }
  // value(), with fields and constants (most operands) read in place
  // without the call.
  const Value& operand(int n, Value& scratch) const {
    const ExprNode& node = expr_.nodes[n];
    if (node.kind == NodeKind::kField) return field(node.index);
    if (node.kind == NodeKind::kConst) return expr_.consts[node.index];
    return value(n, scratch);
  }

 private:
  const Value& field(int index) const;
  // truth() of the kinds it does not handle itself.
  bool truth_other(int n) const;
  bool compare(const ExprNode& node) const;
  bool compare_general(const ExprNode& node) const;
  bool in_list(const ExprNode& node) const;
  bool in_list_general(const ExprNode& node) const;
  // The field operand a and the constant operand b of a node marked fast.
  const Value& field_operand(const ExprNode& node) const {
    return field(expr_.nodes[node.a].index);
  }
  template <typename T>
  const T& const_operand(int n) const {
    return *std::get_if<T>(&expr_.consts[expr_.nodes[n].index]);
  }
  const LinkedCase* newest_track(const std::string& sop) const;
  // The value of a kTrackState or kTrackOutcome node.
  const Value& track_value(const ExprNode& node) const;

  const Expr& expr_;
  const EvalContext& context_;
};

// Canonical text of node `n` (expr_print.cc); `min_precedence` decides
// parentheses (0: none needed).
std::string node_text(const Expr& expr, int n, const std::vector<FieldDef>& fields,
                      int min_precedence = 0);
// Text literal in canonical quoted form: 'it\'s'.
std::string quote_text(const std::string& text);

}  // namespace sopir

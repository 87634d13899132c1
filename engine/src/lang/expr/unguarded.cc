// Which fields a guard reads where a missing value would decide it
// unnoticed (the unset-field-read check, lint.cc): every read of a field
// except those the guard itself makes safe. A read is safe
//   - inside has(x), or compared with null (x == null, x != null);
//   - as count(s) or len(x), which are 0 for a missing value;
//   - beside a part that decides the whole when x is missing: has(x) and
//     ... x ..., x != null and ..., not has(x) or ... x ..., x == null or
//     ... (in any order: the result does not depend on which runs first).
#include <algorithm>

#include "lang/expr/tree.h"
#include "lang/loader_internal.h"

namespace sopir {
namespace {

class Reads {
 public:
  explicit Reads(const Expr& expr) : expr_(expr) {}

  // Fields read under `present` (fields known to hold a value here).
  void walk(int n, std::vector<int>& present) {
    const ExprNode& node = expr_.nodes[n];
    switch (node.kind) {
      case NodeKind::kField:
        if (!has(present, node.index)) add(out_, node.index);
        return;
      case NodeKind::kHas:
      case NodeKind::kCount:
      case NodeKind::kLen:
        if (node.kind != NodeKind::kHas && expr_.nodes[node.a].kind == NodeKind::kField) return;
        break;
      case NodeKind::kCompare:
        if (null_test(node) >= 0) return;
        break;
      case NodeKind::kAnd:
      case NodeKind::kOr: {
        // When x is missing, a part of an `and` that holds only with x
        // makes the whole false, and a part of an `or` that fails only with
        // x makes it true, whatever the other parts read of x.
        std::vector<int> known = present;
        for (int i = 0; i < node.count; ++i)
          present_when(expr_.lists[static_cast<size_t>(node.first + i)],
                       node.kind == NodeKind::kAnd, known);
        for (int i = 0; i < node.count; ++i)
          walk(expr_.lists[static_cast<size_t>(node.first + i)], known);
        return;
      }
      case NodeKind::kCountTracks:  // its b is a constant, not a node
        return;
      default:
        break;
    }
    if (node.a >= 0) walk(node.a, present);
    if (node.b >= 0) walk(node.b, present);
    for (int i = 0; i < node.count; ++i)
      walk(expr_.lists[static_cast<size_t>(node.first + i)], present);
  }

  std::vector<int> result() {
    std::sort(out_.begin(), out_.end());
    return out_;
  }

 private:
  static bool has(const std::vector<int>& fields, int f) {
    return std::find(fields.begin(), fields.end(), f) != fields.end();
  }
  static void add(std::vector<int>& fields, int f) {
    if (!has(fields, f)) fields.push_back(f);
  }

  // The field of `x == null` / `x != null` (either way round), or -1.
  int null_test(const ExprNode& node) const {
    if (node.op != CompareOp::kEq && node.op != CompareOp::kNe) return -1;
    const ExprNode& a = expr_.nodes[node.a];
    const ExprNode& b = expr_.nodes[node.b];
    if (a.kind == NodeKind::kField && b.kind == NodeKind::kConst && b.is_null) return a.index;
    if (b.kind == NodeKind::kField && a.kind == NodeKind::kConst && a.is_null) return b.index;
    return -1;
  }

  // Adds to `known` the fields that surely hold a value when node `n` is
  // `truth`.
  void present_when(int n, bool truth, std::vector<int>& known) const {
    const ExprNode& node = expr_.nodes[n];
    switch (node.kind) {
      case NodeKind::kHas:
        if (truth) add(known, node.index);
        return;
      case NodeKind::kNot:
        present_when(node.a, !truth, known);
        return;
      case NodeKind::kCompare: {
        const int f = null_test(node);
        if (f >= 0 && truth == (node.op == CompareOp::kNe)) add(known, f);
        return;
      }
      case NodeKind::kAnd:
      case NodeKind::kOr:
        // All parts of a true `and` hold; all parts of a false `or` fail.
        if (truth == (node.kind == NodeKind::kAnd))
          for (int i = 0; i < node.count; ++i)
            present_when(expr_.lists[static_cast<size_t>(node.first + i)], truth, known);
        return;
      default:
        return;
    }
  }

  const Expr& expr_;
  std::vector<int> out_;
};

}  // namespace

std::vector<int> unguarded_reads(const Expr& expr) {
  Reads reads(expr);
  std::vector<int> present;
  if (expr.root >= 0) reads.walk(expr.root, present);
  return reads.result();
}

}  // namespace sopir

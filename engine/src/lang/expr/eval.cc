// Evaluation of compiled expressions: evaluate(), guard_holds(),
// fields_read(). Semantics of missing values are those stated in expr.h.
#include <algorithm>

#include "lang/expr/tree.h"
#include "sopir/text.h"

namespace sopir {
namespace {

const Value kMissing;

// Whether an ordering (-1, 0, 1) satisfies `op`.
bool satisfies(CompareOp op, int order) {
  switch (op) {
    case CompareOp::kEq:
      return order == 0;
    case CompareOp::kNe:
      return order != 0;
    case CompareOp::kLt:
      return order < 0;
    case CompareOp::kLe:
      return order <= 0;
    case CompareOp::kGt:
      return order > 0;
    default:
      return order >= 0;
  }
}

// Whole days from `from` to `to`, rounded down; nullopt on overflow.
std::optional<int64_t> days_between(int64_t from_seconds, int64_t to_seconds) {
  int64_t diff;
  if (__builtin_sub_overflow(to_seconds, from_seconds, &diff)) return std::nullopt;
  int64_t days = diff / 86400;
  if (diff % 86400 < 0) --days;
  return days;
}

}  // namespace

const Value kNoFieldValue;

const Value& Evaluator::field(int index) const { return field_value(context_, index); }

const Value& Evaluator::value(int n, Value& scratch) const {
  const ExprNode& node = expr_.nodes[n];
  switch (node.kind) {
    case NodeKind::kConst:
      return expr_.consts[node.index];
    case NodeKind::kField:
      return field(node.index);
    case NodeKind::kToday:
      scratch = date_of(context_.now);
      return scratch;
    case NodeKind::kNow:
      scratch = context_.now;
      return scratch;
    case NodeKind::kDaysSince: {
      Value s;
      const Value& v = value(node.a, s);
      std::optional<int64_t> days;
      if (const Date* d = std::get_if<Date>(&v)) {
        int64_t diff;
        if (!__builtin_sub_overflow(date_of(context_.now).days, d->days, &diff)) days = diff;
      } else if (const DateTime* t = std::get_if<DateTime>(&v)) {
        days = days_between(t->seconds, context_.now.seconds);
      }
      if (days) {
        scratch = *days;
      } else {
        scratch = std::monostate{};
      }
      return scratch;
    }
    case NodeKind::kCount: {
      Value s;
      const std::string* set = std::get_if<std::string>(&value(node.a, s));
      scratch = set ? set_count(*set) : int64_t{0};
      return scratch;
    }
    case NodeKind::kLen: {
      Value s;
      const Value& v = value(node.a, s);
      const std::string* text = std::get_if<std::string>(&v);
      scratch = text ? text_length(*text) : int64_t{0};
      return scratch;
    }
    case NodeKind::kTrackState:
    case NodeKind::kTrackOutcome:
      return track_value(node);
    case NodeKind::kCountTracks: {
      const auto& sop = std::get<std::string>(expr_.consts[node.index]);
      const std::string* state = node.b >= 0 ? &std::get<std::string>(expr_.consts[node.b]) : nullptr;
      int64_t count = 0;
      if (context_.children) {
        for (const LinkedCase& child : *context_.children) {
          if (child.sop_id != sop) continue;
          const std::string* in = std::get_if<std::string>(&child.state);
          if (!state || (in && *in == *state)) ++count;
        }
      }
      scratch = count;
      return scratch;
    }
    default:
      scratch = truth(n);
      return scratch;
  }
}

const LinkedCase* Evaluator::newest_track(const std::string& sop) const {
  const LinkedCase* out = nullptr;
  if (!context_.children) return out;
  for (const LinkedCase& child : *context_.children) {
    if (child.sop_id == sop) out = &child;  // children come oldest first
  }
  return out;
}

const Value& Evaluator::track_value(const ExprNode& node) const {
  const LinkedCase* track = newest_track(std::get<std::string>(expr_.consts[node.index]));
  if (!track) return kMissing;
  return node.kind == NodeKind::kTrackState ? track->state : track->outcome;
}

// The kinds guards are mostly made of, kept in a small function (few
// registers to save per call); the rest go to truth_other().
bool Evaluator::truth(int n) const {
  const ExprNode& node = expr_.nodes[n];
  switch (node.kind) {
    case NodeKind::kNot:
      return !truth(node.a);
    case NodeKind::kAnd:
      for (int i = 0; i < node.count; ++i) {
        if (!part(expr_.lists[node.first + i])) return false;
      }
      return true;
    case NodeKind::kOr:
      for (int i = 0; i < node.count; ++i) {
        if (part(expr_.lists[node.first + i])) return true;
      }
      return false;
    case NodeKind::kCompare:
      return compare(node);
    case NodeKind::kIn:
      return in_list(node) != node.negated;
    case NodeKind::kField: {
      // A bare bool field (`consent_tracing`): read in place, no scratch.
      const bool* b = std::get_if<bool>(&field(node.index));
      return b && *b;
    }
    case NodeKind::kHas:
      return !is_missing(field(node.index));
    default:
      return truth_other(n);
  }
}

bool Evaluator::truth_other(int n) const {
  const ExprNode& node = expr_.nodes[n];
  switch (node.kind) {
    case NodeKind::kMember: {
      // As `in [..]`: a missing side is never a member (so `not in` holds).
      Value sx, ss;
      const std::string* x = std::get_if<std::string>(&value(node.a, sx));
      const std::string* set = std::get_if<std::string>(&value(node.b, ss));
      return (x && set && set_contains(*set, *x)) != node.negated;
    }
    case NodeKind::kHasChild:
    case NodeKind::kChildClosed: {
      const auto& sop = std::get<std::string>(expr_.consts[node.index]);
      bool any = false, all_closed = true;
      if (context_.children) {
        for (const LinkedCase& child : *context_.children) {
          if (child.sop_id != sop) continue;
          any = true;
          all_closed = all_closed && child.status == Status::kClosed;
        }
      }
      return node.kind == NodeKind::kHasChild ? any : any && all_closed;
    }
    case NodeKind::kClockOverdue: {
      const auto& id = std::get<std::string>(expr_.consts[node.index]);
      if (!context_.clocks) return false;
      for (const ClockReading& c : *context_.clocks) {
        if (c.id == id) return c.running && c.due_at && !(context_.now < *c.due_at);
      }
      return false;
    }
    case NodeKind::kAllTracksClosed:
    case NodeKind::kAnyTrackOpen: {
      bool any = false, any_open = false;
      if (context_.children) {
        for (const LinkedCase& child : *context_.children) {
          any = true;
          any_open = any_open || child.status != Status::kClosed;
        }
      }
      return node.kind == NodeKind::kAllTracksClosed ? any && !any_open : any_open;
    }
    default: {
      Value s;
      const Value& v = value(n, s);
      const bool* b = std::get_if<bool>(&v);
      return b && *b;
    }
  }
}

// The shortcuts read the field in place and compare it with the constant
// by its type. A field holding no value of that type (missing, or another
// type in a malformed case) equals no constant and orders with none, so
// only != holds, as in the general path.
bool Evaluator::compare(const ExprNode& node) const {
  switch (node.fast) {
    case FastPath::kFieldText: {
      const std::string* x = std::get_if<std::string>(&field_operand(node));
      const bool equal = x && same_text(*x, const_operand<std::string>(node.b));
      return equal != (node.op == CompareOp::kNe);
    }
    case FastPath::kFieldInt: {
      const int64_t* x = std::get_if<int64_t>(&field_operand(node));
      if (!x) return node.op == CompareOp::kNe;
      const int64_t y = const_operand<int64_t>(node.b);
      return satisfies(node.op, *x < y ? -1 : (y < *x ? 1 : 0));
    }
    case FastPath::kFieldBool: {
      const bool* x = std::get_if<bool>(&field_operand(node));
      const bool equal = x && *x == const_operand<bool>(node.b);
      return equal != (node.op == CompareOp::kNe);
    }
    default:
      return compare_general(node);
  }
}

bool Evaluator::compare_general(const ExprNode& node) const {
  if (node.fast == FastPath::kTrackText) {  // here, so compare() stays small
    const std::string* x = std::get_if<std::string>(&track_value(expr_.nodes[node.a]));
    const bool equal = x && same_text(*x, const_operand<std::string>(node.b));
    return equal != (node.op == CompareOp::kNe);
  }
  Value sa, sb;
  const Value& a = operand(node.a, sa);
  const Value& b = operand(node.b, sb);
  switch (node.op) {
    case CompareOp::kEq:
      return a == b;
    case CompareOp::kNe:
      return !(a == b);
    default:
      break;
  }
  const std::optional<int> order = compare_values(a, b);
  return order && satisfies(node.op, *order);
}

bool Evaluator::in_list(const ExprNode& node) const {
  if (node.fast != FastPath::kFieldTexts) return in_list_general(node);
  // Missing is in no list; a value of another type equals no text.
  const std::string* x = std::get_if<std::string>(&field_operand(node));
  if (!x) return false;
  for (int i = 0; i < node.count; ++i) {
    if (same_text(*x, const_operand<std::string>(expr_.lists[node.first + i]))) return true;
  }
  return false;
}

bool Evaluator::in_list_general(const ExprNode& node) const {
  Value sx;
  const Value& x = operand(node.a, sx);
  if (is_missing(x)) return false;
  for (int i = 0; i < node.count; ++i) {
    Value se;
    if (operand(expr_.lists[node.first + i], se) == x) return true;
  }
  return false;
}

Value evaluate(const Expr& expr, const EvalContext& context) {
  if (expr.root < 0) return Value{};
  Value scratch;  // operand(): a `set:` value is mostly a constant or a field
  return Evaluator(expr, context).operand(expr.root, scratch);
}

bool guard_holds(const Expr& expr, const EvalContext& context) {
  return expr.root >= 0 && Evaluator(expr, context).part(expr.root);
}

void mark_fast_paths(Expr& expr) {
  auto is_field = [&](int n) { return n >= 0 && expr.nodes[n].kind == NodeKind::kField; };
  auto is_track = [&](int n) {
    return n >= 0 && (expr.nodes[n].kind == NodeKind::kTrackState ||
                      expr.nodes[n].kind == NodeKind::kTrackOutcome);
  };
  // The constant node `n` holds a T (never so for `null`).
  auto holds = [&](int n, auto type) {
    using T = decltype(type);
    return n >= 0 && expr.nodes[n].kind == NodeKind::kConst &&
           std::holds_alternative<T>(expr.consts[expr.nodes[n].index]);
  };
  for (ExprNode& node : expr.nodes) {
    node.fast = FastPath::kNone;
    const bool equality = node.op == CompareOp::kEq || node.op == CompareOp::kNe;
    if (node.kind == NodeKind::kCompare && is_field(node.a)) {
      if (equality && holds(node.b, std::string{})) node.fast = FastPath::kFieldText;
      if (holds(node.b, int64_t{})) node.fast = FastPath::kFieldInt;
      if (equality && holds(node.b, bool{})) node.fast = FastPath::kFieldBool;
    } else if (node.kind == NodeKind::kCompare && is_track(node.a)) {
      if (equality && holds(node.b, std::string{})) node.fast = FastPath::kTrackText;
    } else if (node.kind == NodeKind::kIn && is_field(node.a)) {
      bool texts = true;
      for (int i = 0; i < node.count; ++i) {
        texts = texts && holds(expr.lists[node.first + i], std::string{});
      }
      if (texts) node.fast = FastPath::kFieldTexts;
    }
  }
}

std::vector<int> fields_read(const Expr& expr) {
  std::vector<int> out;
  for (const ExprNode& node : expr.nodes) {
    if ((node.kind == NodeKind::kField || node.kind == NodeKind::kHas) &&
        std::find(out.begin(), out.end(), node.index) == out.end()) {
      out.push_back(node.index);
    }
  }
  return out;
}

bool reads_field(const Expr& expr, int field) {
  return std::any_of(expr.nodes.begin(), expr.nodes.end(), [&](const ExprNode& node) {
    return (node.kind == NodeKind::kField || node.kind == NodeKind::kHas) && node.index == field;
  });
}

bool reads_tracks(const Expr& expr) {
  return std::any_of(expr.nodes.begin(), expr.nodes.end(), [](const ExprNode& node) {
    return node.kind == NodeKind::kHasChild || node.kind == NodeKind::kChildClosed ||
           node.kind == NodeKind::kAllTracksClosed || node.kind == NodeKind::kAnyTrackOpen ||
           node.kind == NodeKind::kTrackState || node.kind == NodeKind::kTrackOutcome ||
           node.kind == NodeKind::kCountTracks;
  });
}

bool reads_clocks(const Expr& expr) {
  return std::any_of(expr.nodes.begin(), expr.nodes.end(),
                     [](const ExprNode& node) { return node.kind == NodeKind::kClockOverdue; });
}

std::vector<std::string> clocks_read(const Expr& expr) {
  std::vector<std::string> out;
  for (const ExprNode& node : expr.nodes) {
    if (node.kind != NodeKind::kClockOverdue) continue;
    const auto& id = std::get<std::string>(expr.consts[static_cast<size_t>(node.index)]);
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

std::vector<std::string> children_read(const Expr& expr) {
  std::vector<std::string> out;
  for (const ExprNode& node : expr.nodes) {
    if (node.kind != NodeKind::kHasChild && node.kind != NodeKind::kChildClosed &&
        node.kind != NodeKind::kTrackState && node.kind != NodeKind::kTrackOutcome &&
        node.kind != NodeKind::kCountTracks)
      continue;
    const auto& sop = std::get<std::string>(expr.consts[node.index]);
    if (std::find(out.begin(), out.end(), sop) == out.end()) out.push_back(sop);
  }
  return out;
}

std::vector<TrackLiteral> track_literals(const Expr& expr) {
  std::vector<TrackLiteral> out;
  auto track = [&](int n) -> const ExprNode* {
    if (n < 0) return nullptr;
    const ExprNode& node = expr.nodes[static_cast<size_t>(n)];
    return node.kind == NodeKind::kTrackState || node.kind == NodeKind::kTrackOutcome ? &node : nullptr;
  };
  auto literal = [&](int n) -> const std::string* {
    if (n < 0) return nullptr;
    const ExprNode& node = expr.nodes[static_cast<size_t>(n)];
    if (node.kind != NodeKind::kConst || node.is_null) return nullptr;
    return std::get_if<std::string>(&expr.consts[static_cast<size_t>(node.index)]);
  };
  auto add = [&](const ExprNode& t, const std::string& value) {
    out.push_back(TrackLiteral{std::get<std::string>(expr.consts[static_cast<size_t>(t.index)]),
                               t.kind == NodeKind::kTrackOutcome, value});
  };
  for (const ExprNode& node : expr.nodes) {
    if (node.kind == NodeKind::kCountTracks && node.b >= 0) {  // count_tracks('sop', 'state')
      out.push_back(TrackLiteral{std::get<std::string>(expr.consts[static_cast<size_t>(node.index)]), false,
                                 std::get<std::string>(expr.consts[static_cast<size_t>(node.b)])});
    } else if (node.kind == NodeKind::kCompare && (node.op == CompareOp::kEq || node.op == CompareOp::kNe)) {
      if (const ExprNode* t = track(node.a); t && literal(node.b)) add(*t, *literal(node.b));
      if (const ExprNode* t = track(node.b); t && literal(node.a)) add(*t, *literal(node.a));
    } else if (node.kind == NodeKind::kIn) {
      const ExprNode* t = track(node.a);
      if (!t) continue;
      for (int i = node.first; i < node.first + node.count; ++i) {
        if (const std::string* v = literal(expr.lists[static_cast<size_t>(i)])) add(*t, *v);
      }
    }
  }
  return out;
}

}  // namespace sopir

// Type checker: syntax tree -> compiled Expr, and parse_expr itself.
//
// Type rules (the language is typed so that mistakes show at load time):
//  - == and != need both sides of one type (int, text, bool, date,
//    datetime, duration, enum); either side may be null instead.
//  - < <= > >= order ints, dates, datetimes and durations only: text order
//    is rarely what a procedure means, and an enum's declared order is not
//    something staff should have to remember. Never null.
//  - An enum field compares with another enum field sharing a value, with a
//    bare name or a quoted text that is one of its values.
//  - `x in [a, b]` follows the == rules for x against every element.
//  - `x in s` (s a set): x is a value of s (a bare name or quoted text) or
//    an enum sharing a value with it; count(s) is an int; a list [a, b]
//    next to a set (==, !=, or a set field's `set:`) is a set of its values.
//  - and / or / not take conditions (bool).
// Every problem is reported at the byte offset of the token it concerns;
// checking goes on after a type error, so one pass reports them all.
#include <algorithm>

#include "lang/expr/syntax.h"
#include "sopir/messages/lang.h"

namespace sopir {
namespace {

// What the checker knows about a checked sub-expression.
enum class Cat {
  kTyped,  // a value of `type`
  kNull,   // the literal null
  kBare,   // a name that is not a field: maybe an enum value, decided by context
  kText,   // a quoted literal: text, or an enum value next to an enum
  kList,   // [a, b]: a set of values, typed by the set it meets
  kBad,    // already reported
};

struct Operand {
  Cat cat = Cat::kBad;
  Type type = Type::kBool;
  const std::vector<std::string>* values = nullptr;  // for enums
  std::string owner;                                 // whose values, for messages
  int node = -1;
  const Syn* syn = nullptr;
};

bool contains(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// "an int", "a date", ...: for sentences.
std::string a_type(Type type) {
  switch (type) {
    case Type::kString:
      return tr(msg::lang_a_text);
    case Type::kInt:
      return tr(msg::lang_an_int);
    case Type::kBool:
      return tr(msg::lang_a_bool);
    case Type::kDate:
      return tr(msg::lang_a_date);
    case Type::kDateTime:
      return tr(msg::lang_a_datetime);
    case Type::kEnum:
      return tr(msg::lang_an_enum_value);
    case Type::kDuration:
      return tr(msg::lang_a_duration);
    case Type::kSet:
      return tr(msg::lang_a_set);
  }
  return tr(msg::lang_a_value);
}

bool orderable(Type t) {
  return t == Type::kInt || t == Type::kDate || t == Type::kDateTime || t == Type::kDuration;
}

class Checker {
 public:
  Checker(std::string_view text, const std::vector<FieldDef>& fields, Expr* out,
          std::vector<ExprError>* errors)
      : text_(text), fields_(fields), out_(out), errors_(errors) {}

  void check_root(const Syn& root, Type target, const std::vector<std::string>& target_enum) {
    Operand o = check(root);
    if (o.cat == Cat::kBad) return;
    if (target == Type::kBool) {
      if (o.cat == Cat::kBare) return unknown_field(*o.syn);
      if (o.cat == Cat::kTyped && o.type == Type::kBool) {
        out_->root = o.node;
        return;
      }
      return error(root.begin,
                   tr(msg::lang_guard_not_condition, {slice(root), a_kind(o)}));
    }
    Operand want;
    want.cat = Cat::kTyped;
    want.type = target;
    want.values = &target_enum;
    if (target == Type::kEnum || target == Type::kSet) {
      resolve(&o, want);
      if (o.cat == Cat::kBad) return;
    }
    if (!settled(&o)) return;
    if (o.cat == Cat::kBare) return unknown_field(*o.syn);
    const Type got = o.cat == Cat::kText ? Type::kString : o.type;
    if (o.cat == Cat::kNull || got != target) {
      return error(root.begin,
                   tr(msg::lang_expected_type, {a_type(target), slice(root), a_kind(o)}));
    }
    if ((target == Type::kEnum || target == Type::kSet) && o.values != &target_enum) {
      std::vector<std::string> extra;
      for (const auto& v : *o.values) {
        if (!contains(target_enum, v)) extra.push_back(v);
      }
      if (!extra.empty()) {
        return error(root.begin, tr(msg::lang_values_not_allowed, {slice(root), join(extra), join(target_enum)}));
      }
    }
    out_->root = o.node;
  }

 private:
  void error(size_t offset, std::string message) {
    errors_->push_back({offset, std::move(message)});
  }

  std::string slice(const Syn& s) const {
    std::string_view v = text_.substr(s.begin, s.end - s.begin);
    if (v.size() > 60) return printable(v.substr(0, 57)) + "...";
    return printable(v);
  }

  static std::string type_word(const Operand& o) {
    switch (o.cat) {
      case Cat::kText:
        return "text";
      case Cat::kNull:
        return "null";
      default:
        return type_name(o.type);
    }
  }
  // "age (int)"
  std::string described(const Operand& o) const {
    return slice(*o.syn) + " (" + type_word(o) + ")";
  }
  static std::string a_kind(const Operand& o) {
    if (o.cat == Cat::kNull) return "null";
    if (o.cat == Cat::kText) return tr(msg::lang_a_text);
    if (o.cat == Cat::kList) return tr(msg::lang_a_list_of_values);
    return a_type(o.type);
  }

  int add(ExprNode node) {
    out_->nodes.push_back(node);
    return static_cast<int>(out_->nodes.size() - 1);
  }
  int add_const(Value v, Type type) {
    out_->consts.push_back(std::move(v));
    ExprNode n;
    n.kind = NodeKind::kConst;
    n.type = type;
    n.index = static_cast<int>(out_->consts.size() - 1);
    return add(n);
  }
  int add_list(const std::vector<int>& items) {
    const int first = static_cast<int>(out_->lists.size());
    out_->lists.insert(out_->lists.end(), items.begin(), items.end());
    return first;
  }

  int field_index(std::string_view id) const {
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (fields_[i].id == id) return static_cast<int>(i);
    }
    return -1;
  }

  Operand bad() const { return Operand{}; }

  void unknown_field(const Syn& s) {
    std::vector<std::string> ids;
    for (const auto& f : fields_) ids.push_back(f.id);
    std::string m = tr(msg::lang_unknown_field_q, {s.text});
    if (auto near = nearest(s.text, ids)) {
      m += tr(msg::lang_did_you_mean_q, {*near});
    } else if (ids.empty()) {
      m += tr(msg::lang_no_fields_declared);
    } else {
      m += tr(msg::lang_fields_are, {join(ids)});
    }
    error(s.begin, m);
  }

  void not_a_value(const Syn& s, const Operand& en) {
    std::string m = tr(msg::lang_not_value_one_of,
                       {printable(s.text), en.owner.empty() ? tr(msg::lang_this_field) : en.owner, join(*en.values)});
    m += did_you_mean(s.text, *en.values);
    error(s.begin, m);
  }

  // Gives a bare name or quoted text its meaning next to `other`.
  void resolve(Operand* x, const Operand& other) {
    const bool enum_context =
        other.cat == Cat::kTyped && (other.type == Type::kEnum || other.type == Type::kSet);
    if (x->cat == Cat::kList) {
      if (other.cat == Cat::kTyped && other.type == Type::kSet) *x = set_literal(*x->syn, other);
      return;
    }
    if (x->cat == Cat::kBare) {
      if (!enum_context) {
        unknown_field(*x->syn);
      } else if (!contains(*other.values, x->syn->text)) {
        not_a_value(*x->syn, other);
      } else {
        *x = enum_value(*x->syn, other);
        return;
      }
      *x = bad();
    } else if (x->cat == Cat::kText && enum_context) {
      if (!contains(*other.values, x->syn->text)) {
        not_a_value(*x->syn, other);
        *x = bad();
        return;
      }
      *x = enum_value(*x->syn, other);
    }
  }

  // A list [a, b] met by a set: a constant set of those values.
  Operand set_literal(const Syn& s, const Operand& set) {
    std::vector<std::string> members;
    bool ok = true;
    for (const Syn& kid : s.kids) {
      const bool named = (kid.kind == SynKind::kName) || (kid.kind == SynKind::kLiteral && kid.is_string);
      if (!named) {
        error(kid.begin, tr(msg::lang_set_list_names, {set.owner.empty() ? tr(msg::lang_this_set) : set.owner,
                                                        join(*set.values, ", ").substr(0, 40), slice(kid)}));
        ok = false;
      } else if (!contains(*set.values, kid.text)) {
        not_a_value(kid, set);
        ok = false;
      } else {
        members.push_back(kid.text);
      }
    }
    if (!ok) return bad();
    Operand o;
    o.cat = Cat::kTyped;
    o.type = Type::kSet;
    o.values = set.values;
    o.owner = set.owner;
    o.syn = &s;
    o.node = add_const(*canonical_set(*set.values, members), Type::kSet);
    return o;
  }

  // False (reported) when `o` is a list no set gave a meaning.
  bool settled(Operand* o) {
    if (o->cat != Cat::kList) return true;
    error(o->syn->begin, tr(msg::lang_list_is_set, {slice(*o->syn)}));
    *o = bad();
    return false;
  }

  Operand enum_value(const Syn& s, const Operand& en) {
    Operand o;
    o.cat = Cat::kTyped;
    o.type = Type::kEnum;
    o.values = en.values;
    o.owner = en.owner;
    o.syn = &s;
    o.node = add_const(s.text, Type::kEnum);
    out_->nodes[o.node].enum_value = true;
    return o;
  }

  static Type value_type(const Value& v) {
    switch (v.index()) {
      case 1:
        return Type::kBool;
      case 2:
        return Type::kInt;
      case 3:
        return Type::kString;
      case 4:
        return Type::kDate;
      case 5:
        return Type::kDateTime;
      default:
        return Type::kDuration;
    }
  }

  Operand check(const Syn& s) {
    switch (s.kind) {
      case SynKind::kLiteral:
        return literal(s);
      case SynKind::kName:
        return name(s);
      case SynKind::kCall:
        return call(s);
      case SynKind::kNot:
        return negation(s);
      case SynKind::kAnd:
      case SynKind::kOr:
        return chain(s);
      case SynKind::kCompare:
        return compare(s);
      case SynKind::kIn:
        return in_list(s);
      case SynKind::kMember:
        return member(s);
      case SynKind::kList: {
        Operand o;
        o.cat = Cat::kList;
        o.syn = &s;
        return o;
      }
    }
    return bad();
  }

  Operand typed(const Syn& s, Type type, int node) {
    Operand o;
    o.cat = Cat::kTyped;
    o.type = type;
    o.node = node;
    o.syn = &s;
    return o;
  }

  Operand literal(const Syn& s) {
    Operand o;
    o.syn = &s;
    if (s.is_null) {
      o.cat = Cat::kNull;
      o.node = add_const(std::monostate{}, Type::kBool);
      out_->nodes[o.node].is_null = true;
      return o;
    }
    o = typed(s, value_type(s.value), add_const(s.value, value_type(s.value)));
    if (s.is_string) o.cat = Cat::kText;
    return o;
  }

  Operand name(const Syn& s) {
    const int index = field_index(s.text);
    if (index < 0) {
      Operand o;
      o.cat = Cat::kBare;
      o.syn = &s;
      return o;
    }
    ExprNode n;
    n.kind = NodeKind::kField;
    n.index = index;
    n.type = fields_[index].type;
    Operand o = typed(s, n.type, add(n));
    o.values = &fields_[index].values;
    o.owner = fields_[index].id;
    return o;
  }

  // A sub-expression that must be a condition; -1 when it is not.
  int condition(const Syn& s, const std::string& what) {
    Operand o = check(s);
    if (!settled(&o) || o.cat == Cat::kBad) return -1;
    if (o.cat == Cat::kBare) {
      unknown_field(s);
      return -1;
    }
    if (o.cat == Cat::kTyped && o.type == Type::kBool) return o.node;
    error(s.begin,
          tr(msg::lang_needs_conditions, {what, slice(s), a_kind(o)}));
    return -1;
  }

  Operand negation(const Syn& s) {
    const int a = condition(s.kids[0], "'not'");
    if (a < 0) return bad();
    ExprNode n;
    n.kind = NodeKind::kNot;
    n.a = a;
    return typed(s, Type::kBool, add(n));
  }

  Operand chain(const Syn& s) {
    const std::string what = s.kind == SynKind::kAnd ? "'and'" : "'or'";
    std::vector<int> items;
    bool ok = true;
    for (const Syn& kid : s.kids) {
      const int node = condition(kid, what);
      ok &= node >= 0;
      items.push_back(node);
    }
    if (!ok) return bad();
    ExprNode n;
    n.kind = s.kind == SynKind::kAnd ? NodeKind::kAnd : NodeKind::kOr;
    n.first = add_list(items);
    n.count = static_cast<int>(items.size());
    return typed(s, Type::kBool, add(n));
  }

  // Checks that `x` and `y` (resolved) may be compared with ==; reports
  // at `y` otherwise.
  bool comparable(const Operand& x, const Operand& y) {
    const Type tx = x.cat == Cat::kText ? Type::kString : x.type;
    const Type ty = y.cat == Cat::kText ? Type::kString : y.type;
    if (x.cat == Cat::kNull || y.cat == Cat::kNull) return true;
    if (tx != ty) {
      error(y.syn->begin, tr(msg::lang_cannot_compare, {described(x), described(y)}));
      return false;
    }
    if (tx == Type::kEnum || tx == Type::kSet) {
      for (const auto& v : *x.values) {
        if (contains(*y.values, v)) return true;
      }
      error(y.syn->begin,
            tr(msg::lang_no_common_value, {slice(*x.syn), slice(*y.syn), join(*x.values), join(*y.values)}));
      return false;
    }
    return true;
  }

  Operand compare(const Syn& s) {
    Operand l = check(s.kids[0]);
    Operand r = check(s.kids[1]);
    if (l.cat == Cat::kBad || r.cat == Cat::kBad) return bad();
    resolve(&l, r);
    resolve(&r, l);
    if (l.cat == Cat::kBad || r.cat == Cat::kBad) return bad();
    if (!settled(&l) || !settled(&r)) return bad();
    const bool ordering = s.op != CompareOp::kEq && s.op != CompareOp::kNe;
    const std::string op = op_text(s.op);
    if (l.cat == Cat::kNull && r.cat == Cat::kNull) {
      error(s.op_offset,
            tr(msg::lang_null_null));
      return bad();
    }
    if (ordering && (l.cat == Cat::kNull || r.cat == Cat::kNull)) {
      error(s.op_offset, tr(msg::lang_op_null, {op}));
      return bad();
    }
    if (!comparable(l, r)) return bad();
    if (ordering && l.cat != Cat::kNull) {
      const Type t = l.cat == Cat::kText ? Type::kString : l.type;
      if (!orderable(t)) {
        error(s.op_offset,
              tr(msg::lang_cannot_order, {op, described(l)}));
        return bad();
      }
    }
    ExprNode n;
    n.kind = NodeKind::kCompare;
    n.op = s.op;
    n.a = l.node;
    n.b = r.node;
    return typed(s, Type::kBool, add(n));
  }

  Operand in_list(const Syn& s) {
    Operand x = check(s.kids[0]);
    settled(&x);
    if (x.cat == Cat::kTyped && x.type == Type::kSet) {
      error(s.op_offset, tr(msg::lang_in_on_set, {slice(s.kids[0]), x.values->front()}));
      x = bad();
    }
    if (x.cat == Cat::kBare) {
      unknown_field(*x.syn);
      x = bad();
    } else if (x.cat == Cat::kNull) {
      error(s.kids[0].begin,
            tr(msg::lang_null_in_list));
      x = bad();
    }
    std::vector<int> items;
    bool ok = x.cat != Cat::kBad;
    for (size_t i = 1; i < s.kids.size(); ++i) {
      Operand e = check(s.kids[i]);
      if (e.cat == Cat::kBad || !ok) {
        ok = false;
        continue;
      }
      if (e.cat == Cat::kNull) {
        error(e.syn->begin,
              tr(msg::lang_null_list_item));
        ok = false;
        continue;
      }
      resolve(&e, x);
      if (e.cat == Cat::kBad || !settled(&e) || !comparable(x, e)) {
        ok = false;
        continue;
      }
      items.push_back(e.node);
    }
    if (!ok) return bad();
    ExprNode n;
    n.kind = NodeKind::kIn;
    n.negated = s.negated;
    n.a = x.node;
    n.first = add_list(items);
    n.count = static_cast<int>(items.size());
    return typed(s, Type::kBool, add(n));
  }

  // x in set: x an enum value (bare, quoted, or an enum field sharing a
  // value with the set).
  Operand member(const Syn& s) {
    Operand set = check(s.kids[1]);
    if (set.cat == Cat::kBad) return bad();
    if (set.cat != Cat::kTyped || set.type != Type::kSet) {
      if (set.cat == Cat::kBare) {
        error(s.kids[1].begin, tr(msg::lang_expected_bracket, {printable(s.kids[1].text),
                                                               did_you_mean(s.kids[1].text, set_field_ids())}));
      } else {
        error(s.kids[1].begin, tr(msg::lang_in_needs_list, {slice(s.kids[1]), a_kind(set)}));
      }
      check(s.kids[0]);  // report problems there too
      return bad();
    }
    Operand x = check(s.kids[0]);
    if (x.cat == Cat::kBad) return bad();
    resolve(&x, set);
    if (x.cat == Cat::kBad || !settled(&x)) return bad();
    if (x.cat == Cat::kNull) {
      error(s.kids[0].begin, tr(msg::lang_null_in_set));
      return bad();
    }
    if (x.cat != Cat::kTyped || x.type != Type::kEnum) {
      error(s.kids[0].begin, tr(msg::lang_only_value_in_set, {set.owner, join(*set.values), slice(s.kids[0]), a_kind(x)}));
      return bad();
    }
    Operand as_enum = set;
    as_enum.type = Type::kEnum;
    if (!comparable(as_enum, x)) return bad();
    ExprNode n;
    n.kind = NodeKind::kMember;
    n.negated = s.negated;
    n.a = x.node;
    n.b = set.node;
    return typed(s, Type::kBool, add(n));
  }

  std::vector<std::string> set_field_ids() const {
    std::vector<std::string> ids;
    for (const auto& f : fields_) {
      if (f.type == Type::kSet) ids.push_back(f.id);
    }
    return ids;
  }

  Operand count(const Syn& s) {
    const std::string usage = tr(msg::lang_count_usage);
    if (s.kids.size() != 1) {
      error(s.begin, usage);
      return bad();
    }
    Operand a = check(s.kids[0]);
    if (a.cat == Cat::kBad) return bad();
    if (a.cat == Cat::kBare) {
      unknown_field(*a.syn);
      return bad();
    }
    if (a.cat != Cat::kTyped || a.type != Type::kSet) {
      error(s.kids[0].begin, tr(msg::lang_count_needs_set, {slice(s.kids[0]), a_kind(a)}));
      return bad();
    }
    ExprNode n;
    n.kind = NodeKind::kCount;
    n.type = Type::kInt;
    n.a = a.node;
    return typed(s, Type::kInt, add(n));
  }

  Operand call(const Syn& s) {
    const std::string& f = s.text;
    if (f == "today" || f == "now") {
      if (!s.kids.empty()) {
        error(s.kids[0].begin, tr(msg::lang_no_arguments, {f}));
        return bad();
      }
      ExprNode n;
      n.kind = f == "today" ? NodeKind::kToday : NodeKind::kNow;
      n.type = f == "today" ? Type::kDate : Type::kDateTime;
      return typed(s, n.type, add(n));
    }
    if (f == "has") return has(s);
    if (f == "days_since" || f == "len") return one_arg_call(s);
    if (f == "has_child" || f == "child_closed" || f == "track_state" || f == "track_outcome")
      return child_call(s);
    if (f == "all_tracks_closed" || f == "any_track_open") return tracks_call(s);
    if (f == "count_tracks") return count_tracks(s);
    if (f == "clock_overdue") return clock_call(s);
    if (f == "count") return count(s);
    std::string m = tr(msg::lang_unknown_function, {f});
    if (auto near = nearest(f, {"has", "today", "now", "days_since", "len", "count", "has_child",
                                "child_closed", "all_tracks_closed", "any_track_open",
                                "track_state", "track_outcome", "count_tracks", "clock_overdue"})) {
      m += tr(msg::lang_did_you_mean_q, {*near});
    } else {
      m += tr(msg::lang_functions_are);
    }
    error(s.begin, m);
    for (const Syn& kid : s.kids) check(kid);  // report problems inside too
    return bad();
  }

  Operand has(const Syn& s) {
    if (s.kids.size() != 1) {
      error(s.begin, tr(msg::lang_has_one));
      return bad();
    }
    const Syn& arg = s.kids[0];
    if (arg.kind != SynKind::kName) {
      error(arg.begin, tr(msg::lang_has_name));
      return bad();
    }
    const int index = field_index(arg.text);
    if (index < 0) {
      unknown_field(arg);
      return bad();
    }
    ExprNode n;
    n.kind = NodeKind::kHas;
    n.index = index;
    return typed(s, Type::kBool, add(n));
  }

  // has_child('sop-id') / child_closed('sop-id') (conditions) and
  // track_state('sop-id') / track_outcome('sop-id') (text): about cases this
  // case opened by hand-offs. The argument is a procedure id in quotes.
  Operand child_call(const Syn& s) {
    const std::string usage = tr(msg::lang_child_usage, {s.text});
    if (s.kids.size() != 1) {
      error(s.begin, usage);
      return bad();
    }
    const Syn& arg = s.kids[0];
    const std::string* sop =
        arg.kind == SynKind::kLiteral && arg.is_string ? std::get_if<std::string>(&arg.value) : nullptr;
    if (!sop) {
      error(arg.begin, usage);
      return bad();
    }
    ExprNode n;
    n.kind = s.text == "has_child"       ? NodeKind::kHasChild
             : s.text == "child_closed"  ? NodeKind::kChildClosed
             : s.text == "track_state"   ? NodeKind::kTrackState
                                         : NodeKind::kTrackOutcome;
    n.type = s.text.rfind("track_", 0) == 0 ? Type::kString : Type::kBool;
    n.index = static_cast<int>(out_->consts.size());
    out_->consts.push_back(*sop);
    return typed(s, n.type, add(n));
  }

  // count_tracks('sop-id') / count_tracks('sop-id', 'state'): how many cases
  // of that procedure this one opened (a case may open several referrals),
  // or how many of them are now in that state.
  Operand count_tracks(const Syn& s) {
    auto literal = [](const Syn& arg) {
      return arg.kind == SynKind::kLiteral && arg.is_string ? std::get_if<std::string>(&arg.value) : nullptr;
    };
    const std::string* sop = s.kids.empty() ? nullptr : literal(s.kids[0]);
    const std::string* state = s.kids.size() == 2 ? literal(s.kids[1]) : nullptr;
    if (s.kids.empty() || s.kids.size() > 2 || !sop || (s.kids.size() == 2 && !state)) {
      error(s.kids.empty() ? s.begin : s.kids[0].begin, tr(msg::count_tracks_usage));
      return bad();
    }
    ExprNode n;
    n.kind = NodeKind::kCountTracks;
    n.type = Type::kInt;
    n.index = static_cast<int>(out_->consts.size());
    out_->consts.push_back(*sop);
    if (state) {
      n.b = static_cast<int>(out_->consts.size());
      out_->consts.push_back(*state);
    }
    return typed(s, n.type, add(n));
  }

  // clock_overdue('clock-id'): a case-level clock of this procedure runs and
  // is past its limit. The id is checked against the procedure's clocks by
  // the procedure builder, which knows them.
  Operand clock_call(const Syn& s) {
    const Syn* arg = s.kids.size() == 1 ? &s.kids[0] : nullptr;
    const std::string* id =
        arg && arg->kind == SynKind::kLiteral && arg->is_string ? std::get_if<std::string>(&arg->value) : nullptr;
    if (!id) {
      error(s.kids.empty() ? s.begin : s.kids[0].begin, tr(msg::clock_overdue_usage));
      return bad();
    }
    ExprNode n;
    n.kind = NodeKind::kClockOverdue;
    n.index = static_cast<int>(out_->consts.size());
    out_->consts.push_back(*id);
    return typed(s, Type::kBool, add(n));
  }

  // all_tracks_closed() / any_track_open(): joins over every case this one
  // opened by hand-offs.
  Operand tracks_call(const Syn& s) {
    if (!s.kids.empty()) {
      error(s.kids[0].begin, tr(msg::lang_tracks_no_arguments, {s.text}));
      return bad();
    }
    ExprNode n;
    n.kind = s.text == "all_tracks_closed" ? NodeKind::kAllTracksClosed : NodeKind::kAnyTrackOpen;
    return typed(s, Type::kBool, add(n));
  }

  Operand one_arg_call(const Syn& s) {
    const bool days = s.text == "days_since";
    const std::string usage =
        days ? tr(msg::lang_days_since_usage) : tr(msg::lang_len_usage);
    if (s.kids.size() != 1) {
      error(s.begin, usage);
      return bad();
    }
    Operand a = check(s.kids[0]);
    if (!settled(&a) || a.cat == Cat::kBad) return bad();
    if (a.cat == Cat::kBare) {
      unknown_field(*a.syn);
      return bad();
    }
    if (!days && a.cat == Cat::kTyped && a.type == Type::kSet) {
      error(s.begin, tr(msg::lang_len_on_set, {slice(s.kids[0])}));
      return bad();
    }
    const Type t = a.cat == Cat::kText ? Type::kString : a.type;
    const bool ok = a.cat != Cat::kNull &&
                    (days ? (t == Type::kDate || t == Type::kDateTime) : t == Type::kString);
    if (!ok) {
      error(s.kids[0].begin,
            tr(days ? msg::lang_days_since_needs : msg::lang_len_needs, {slice(s.kids[0]), a_kind(a)}));
      return bad();
    }
    ExprNode n;
    n.kind = days ? NodeKind::kDaysSince : NodeKind::kLen;
    n.type = Type::kInt;
    n.a = a.node;
    return typed(s, Type::kInt, add(n));
  }

  std::string_view text_;
  const std::vector<FieldDef>& fields_;
  Expr* out_;
  std::vector<ExprError>* errors_;
};

}  // namespace

ParsedExpr parse_expr(std::string_view text, const std::vector<FieldDef>& fields, Type target,
                      const std::vector<std::string>& target_enum) {
  ParsedExpr result;
  Syn root;
  ExprError syntax_error;
  if (!parse_syntax(text, &root, &syntax_error)) {
    result.errors.push_back(std::move(syntax_error));
    return result;
  }
  auto expr = std::make_shared<Expr>();
  Checker(text, fields, expr.get(), &result.errors).check_root(root, target, target_enum);
  if (result.errors.empty() && expr->root >= 0) {
    mark_fast_paths(*expr);
    result.expr = std::move(expr);
  }
  if (!result.expr && result.errors.empty())
    result.errors.push_back({0, tr(msg::lang_not_checked)});
  return result;
}

std::shared_ptr<const Expr> constant_expr(const Value& value, Type type) {
  auto expr = std::make_shared<Expr>();
  expr->consts.push_back(value);
  ExprNode n;
  n.kind = NodeKind::kConst;
  n.type = type;
  n.index = 0;
  n.is_null = is_missing(value);
  n.enum_value = type == Type::kEnum;
  expr->nodes.push_back(n);
  expr->root = 0;
  return expr;
}

}  // namespace sopir

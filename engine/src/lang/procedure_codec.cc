// encode_procedure / decode_procedure (see procedure_codec.h).
#include "lang/procedure_codec.h"

#include <charconv>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "lang/calendar_loader.h"
#include "lang/expr/expr.h"
#include "base/sha256.h"
#include "sopir/text.h"

namespace sopir {

namespace {

// The form, after its tag line, is a run of items in the order the
// describe() functions below name them, with nothing to say what each is:
//   a whole number   its decimal digits (a '-' first when negative), then ';'
//   a text           its size in bytes as a whole number but ending in ':',
//                    then its bytes as they are
//   a list           its size as a whole number, then its elements
//   a yes or no      the whole number 1 or 0
//   something that may be missing   yes or no, then the thing when yes
// So reading it is walking it once: no names to look up, no text to scan
// for where it ends. It stays text (UTF-8, checked once as a whole when
// read), so both stores keep it in a text column.

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void integer(int64_t v) { number(v, ';'); }
  void text(std::string_view s) {
    number(static_cast<int64_t>(s.size()), ':');
    out_.append(s);
  }

 private:
  void number(int64_t v, char end) {
    char digits[24];
    const auto written = std::to_chars(digits, digits + sizeof digits, v);
    out_.append(digits, written.ptr);
    out_ += end;
  }
  std::string& out_;
};

[[noreturn]] void damaged(const char* what) { throw std::runtime_error(what); }

class Reader {
 public:
  explicit Reader(std::string_view text) : at_(text.data()), end_(text.data() + text.size()) {}
  int64_t integer() { return number(';'); }
  std::string_view text() {
    const int64_t size = number(':');
    if (size < 0 || size > end_ - at_) damaged("a text runs past the end");
    const std::string_view out(at_, static_cast<size_t>(size));
    at_ += size;
    return out;
  }
  // A list's size: each element takes at least two bytes ("0;"), so a size
  // the rest of the form cannot hold is refused before anything is sized
  // by it.
  size_t count() {
    const int64_t n = integer();
    if (n < 0 || n > (end_ - at_) / 2) damaged("a list larger than the form");
    return static_cast<size_t>(n);
  }
  bool at_end() const { return at_ == end_; }

 private:
  // By hand rather than std::from_chars: a form holds thousands of small
  // numbers, and this is a third of the instructions for each.
  int64_t number(char end) {
    const char* p = at_;
    const bool negative = p != end_ && *p == '-';
    if (negative) ++p;
    const char* const digits = p;
    uint64_t v = 0;
    for (; p != end_ && static_cast<unsigned char>(*p - '0') < 10; ++p)
      if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, static_cast<unsigned>(*p - '0'), &v))
        damaged("a number out of range");
    if (p == digits || p == end_ || *p != end) damaged("not a whole number");
    const uint64_t limit = uint64_t{std::numeric_limits<int64_t>::max()} + (negative ? 1 : 0);
    if (v > limit) damaged("a number out of range");
    at_ = p + 1;
    return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  }
  const char* at_;
  const char* end_;
};

// The items are named once for both directions (describe() below): a Put
// writes what a const procedure holds, a Get reads into a procedure being
// built. Each describe() takes its struct as P, const in a Put.
class Put;
class Get;
template <class P, class T>
using If = std::enable_if_t<std::is_same_v<std::remove_const_t<P>, T>, int>;

// What each struct is, in form order. Expressions are kept as their text
// and parsed again against the fields when read (link() below): the
// parser is fast, and the text is what `case why` and the diagrams show,
// so the two cannot disagree.
template <class C, class P, If<P, FieldDef> = 0>
void describe(C& c, P& f) {
  c.items(f.id, f.type, f.values, f.pii, f.min, f.max, f.min_now, f.max_now, f.pattern, f.label,
          f.value_labels, f.pos, f.sources);
}

template <class C, class P, If<P, StateDef> = 0>
void describe(C& c, P& s) {
  c.items(s.id, s.label, s.description, s.initial, s.terminal, s.deadline, s.on_deadline, s.working_days,
          s.deadline_from, s.deadline_text, s.pos, s.sources);
}

template <class C, class P, If<P, ClockDef> = 0>
void describe(C& c, P& k) {
  c.items(k.id, k.label, k.description, k.start, k.start_at_open, k.stop, k.limit, k.working_days, k.limit_from,
          k.limit_text, k.pos, k.sources);
}

template <class C, class P, If<P, Assignment> = 0>
void describe(C& c, P& a) {
  c.items(a.field, a.text, a.constant);
}

template <class C, class P, If<P, HandOff> = 0>
void describe(C& c, P& h) {
  c.items(h.sop, h.copy, h.set, h.site, h.site_field, h.pos);
}

// An expression is written as its text, "" when there is none (a guard,
// a `when:` is never written empty); link() parses it when read.
template <class C, class E, class S>
void expression(C& c, E& expr, S& text) {
  if constexpr (std::is_same_v<C, Put>) c(expr ? text : std::string());
  else c(text);
}

template <class C, class P, If<P, TransitionDef> = 0>
void describe(C& c, P& t) {
  c.items(t.index, t.event, t.from, t.to, t.stays);
  expression(c, t.guard, t.guard_text);
  c.items(t.roles, t.requires_fields, t.accepts_fields, t.set, t.reason_required, t.distinct_from, t.override_roles,
          t.opens, t.label, t.description, t.pos, t.sources);
}

template <class C, class P, If<P, ClosureReason> = 0>
void describe(C& c, P& r) {
  c.items(r.id, r.label);
}

template <class C, class P, If<P, MigrationBranch> = 0>
void describe(C& c, P& b) {
  c(b.to);
  expression(c, b.when, b.when_text);
  c(b.pos);
}

template <class C, class P, If<P, MigrationState> = 0>
void describe(C& c, P& s) {
  c.items(s.from, s.branches, s.stays, s.stays_reason, s.pos);
}

template <class C, class P, If<P, MigrationField> = 0>
void describe(C& c, P& f) {
  // A default may be "" (for a text field), so whether there is one is
  // written beside it.
  c.items(f.field, f.from, f.default_text);
  if constexpr (std::is_same_v<C, Put>) {
    c(f.default_value.has_value());
  } else {
    bool present = false;
    c(present);
    if (present) f.default_value = Value{};  // a mark: link() parses default_text in its place
  }
  c(f.pos);
}

template <class C, class P, If<P, MigrationEvent> = 0>
void describe(C& c, P& e) {
  c.items(e.from, e.to, e.pos);
}

// The sections of migrate: are a list; a form written when there was at
// most one (an optional: 0, or 1 and the section) reads the same.
template <class C, class P, If<P, MigrationDef> = 0>
void describe(C& c, P& m) {
  c.items(m.from_versions, m.states, m.fields, m.drop, m.drop_pos, m.events, m.pos);
}

template <class C, class P, If<P, Retention> = 0>
void describe(C& c, P& r) {
  c(r.count);
  if constexpr (std::is_same_v<C, Put>) {
    c(static_cast<int>(r.unit));
  } else {
    int unit = -1;
    c(unit);
    if (unit < 0 || unit > static_cast<int>(Retention::Unit::kYears) || r.count < 1) damaged("not a retention");
    r.unit = static_cast<Retention::Unit>(unit);
  }
  c(r.pos);
}

// Everything after the tag and the hash.
template <class C, class P, If<P, Procedure> = 0>
void describe(C& c, P& p) {
  c.items(p.id, p.version, p.title, p.description, p.roles, p.fields, p.states, p.events, p.transitions,
          p.closure_reasons, p.initial_state, p.open_declared, p.open_requires, p.open_accepts);
  expression(c, p.open_guard, p.open_guard_text);
  c.items(p.hold_roles, p.resume_roles, p.close_roles, p.reopen_roles, p.reopen_to, p.pii_roles,
          p.transitions_from, p.calendar_names, p.clocks, p.sources, p.open_sources, p.migrations,
          p.retention);
}


class Put {
 public:
  explicit Put(std::string& out) : w_(out) {}
  void operator()(const std::string& s) { w_.text(s); }
  void operator()(bool b) { w_.integer(b ? 1 : 0); }
  void operator()(int v) { w_.integer(v); }
  void operator()(int64_t v) { w_.integer(v); }
  void operator()(const Text& t) {
    const auto entries = t.entries();
    w_.integer(static_cast<int64_t>(entries.size()));
    for (const auto& [lang, value] : entries) {
      w_.text(lang);
      w_.text(value);
    }
  }
  void operator()(const SourcePos& p) {
    w_.integer(p.line);
    w_.integer(p.column);
  }
  void operator()(Type type) { w_.text(type_name(type)); }
  void operator()(const Duration& d) { w_.integer(d.seconds); }
  // A bound: Value's alternative index and its canonical text.
  void operator()(const Value& v) {
    w_.integer(static_cast<int64_t>(v.index()));
    w_.text(format_value(v));
  }
  template <class T>
  void operator()(const std::optional<T>& v) {
    (*this)(v.has_value());
    if (v) (*this)(*v);
  }
  template <class A, class B>
  void operator()(const std::pair<A, B>& pair) {
    (*this)(pair.first);
    (*this)(pair.second);
  }
  template <class T>
  void operator()(const std::vector<T>& list) {
    w_.integer(static_cast<int64_t>(list.size()));
    for (const T& e : list) (*this)(e);
  }
  // Several items, in order.
  template <class... T>
  void items(const T&... x) {
    ((*this)(x), ...);
  }
  template <class T, class = decltype(describe(std::declval<Put&>(), std::declval<const T&>()))>
  void operator()(const T& s) {
    describe(*this, s);
  }

 private:
  Writer w_;
};

// The cases in Get's Value read rely on Value's alternatives in this order.
static_assert(std::variant_size_v<Value> == 7);
static_assert(std::is_same_v<std::variant_alternative_t<1, Value>, bool> &&
              std::is_same_v<std::variant_alternative_t<2, Value>, int64_t> &&
              std::is_same_v<std::variant_alternative_t<3, Value>, std::string> &&
              std::is_same_v<std::variant_alternative_t<4, Value>, Date> &&
              std::is_same_v<std::variant_alternative_t<5, Value>, DateTime> &&
              std::is_same_v<std::variant_alternative_t<6, Value>, Duration>);

class Get {
 public:
  explicit Get(std::string_view text) : r_(text) {}
  Reader& reader() { return r_; }
  void operator()(std::string& s) { s.assign(r_.text()); }
  void operator()(bool& b) {
    const int64_t v = r_.integer();
    if (v != 0 && v != 1) damaged("not a yes or no");
    b = v == 1;
  }
  void operator()(int& v) {
    const int64_t wide = r_.integer();
    if (wide < std::numeric_limits<int>::min() || wide > std::numeric_limits<int>::max()) damaged("out of range");
    v = static_cast<int>(wide);
  }
  void operator()(int64_t& v) { v = r_.integer(); }
  // One allocation a Text (procedure.h): the entries are read once to size
  // it, then set.
  void operator()(Text& t) {
    const size_t n = r_.count();
    Reader sizing = r_;
    size_t bytes = 0;
    for (size_t i = 0; i < n; ++i) bytes += 5 + sizing.text().size() + sizing.text().size();
    t.reserve(bytes);
    for (size_t i = 0; i < n; ++i) {
      const std::string_view lang = r_.text();
      t.set(lang, r_.text());  // a code past 255 bytes throws
    }
  }
  void operator()(SourcePos& p) {
    (*this)(p.line);
    (*this)(p.column);
  }
  void operator()(Type& type) {
    const auto read = type_from_name(r_.text());
    if (!read) damaged("not a type");
    type = *read;
  }
  void operator()(Duration& d) { d.seconds = r_.integer(); }
  void operator()(Value& v) {
    const int64_t index = r_.integer();
    const std::string t(r_.text());
    std::optional<Value> out;
    switch (index) {
      case 1:
        if (auto b = parse_bool(t)) out = *b;
        break;
      case 2:
        if (auto i = parse_int(t)) out = *i;
        break;
      case 3: out = t; break;
      case 4:
        if (auto d = parse_date(t)) out = *d;
        break;
      case 5:
        if (auto d = parse_datetime(t)) out = *d;
        break;
      case 6:
        if (auto d = parse_duration(t)) out = *d;
        break;
      default: break;
    }
    if (!out) damaged("not a bound");
    v = std::move(*out);
  }
  template <class T>
  void operator()(std::optional<T>& v) {
    bool present = false;
    (*this)(present);
    v.reset();
    if (present) (*this)(v.emplace());
  }
  template <class A, class B>
  void operator()(std::pair<A, B>& pair) {
    (*this)(pair.first);
    (*this)(pair.second);
  }
  template <class T>
  void operator()(std::vector<T>& list) {
    const size_t n = r_.count();
    list.clear();
    list.reserve(n);
    for (size_t i = 0; i < n; ++i) (*this)(list.emplace_back());
  }
  template <class... T>
  void items(T&... x) {
    ((*this)(x), ...);
  }
  template <class T, class = decltype(describe(std::declval<Get&>(), std::declval<T&>()))>
  void operator()(T& s) {
    describe(*this, s);
  }

 private:
  Reader r_;
};

constexpr std::string_view kTagLine = "sopir-compiled-6\n";
static_assert(kTagLine.substr(0, kTagLine.size() - 1) == kCompiledFormat);

// Indices must stay inside the procedure: decide() and the planner trust
// them.
bool indices_inside(const Procedure& p) {
  const auto states = static_cast<int>(p.states.size()), events = static_cast<int>(p.events.size());
  const auto fields = static_cast<int>(p.fields.size()), roles = static_cast<int>(p.roles.size());
  const auto transitions = static_cast<int>(p.transitions.size());
  auto in = [](int i, int n) { return i >= 0 && i < n; };
  auto all_in = [&](const std::vector<int>& v, int n) {
    for (int i : v)
      if (!in(i, n)) return false;
    return true;
  };
  if (!in(p.initial_state, states) || (p.reopen_to != -1 && !in(p.reopen_to, states)) ||
      p.transitions_from.size() != p.states.size() || !all_in(p.open_requires, fields) ||
      !all_in(p.open_accepts, fields) || !all_in(p.hold_roles, roles) || !all_in(p.resume_roles, roles) ||
      !all_in(p.close_roles, roles) || !all_in(p.reopen_roles, roles) || !all_in(p.pii_roles, roles))
    return false;
  for (const auto& from : p.transitions_from)
    if (!all_in(from, transitions)) return false;
  for (const FieldDef& f : p.fields) {
    if (f.value_labels.size() != f.values.size()) return false;
    // `today` / `now` bound a date or a date-time alone, in place of a
    // fixed bound on the same side (as the loader makes them).
    if ((f.min_now || f.max_now) && f.type != Type::kDate && f.type != Type::kDateTime)
      return false;
    if ((f.min_now && f.min) || (f.max_now && f.max)) return false;
  }
  for (const auto& s : p.states)
    if ((s.on_deadline != -1 && !in(s.on_deadline, events)) ||
        (s.deadline_from != -1 && !in(s.deadline_from, fields)))
      return false;
  for (const ClockDef& c : p.clocks)
    if (!all_in(c.start, states) || !all_in(c.stop, states) || (c.limit_from != -1 && !in(c.limit_from, fields)))
      return false;
  for (int i = 0; i < transitions; ++i) {
    const TransitionDef& t = p.transitions[static_cast<size_t>(i)];
    if (t.index != i || !in(t.event, events) || !(t.stays ? t.to == -1 : in(t.to, states)) ||
        !all_in(t.from, states) || !all_in(t.roles, roles) || !all_in(t.requires_fields, fields) || !all_in(t.accepts_fields, fields) ||
        !all_in(t.distinct_from, events) || !all_in(t.override_roles, roles))
      return false;
    for (const HandOff& h : t.opens) {
      for (const auto& [theirs, ours] : h.copy)
        if (!in(ours, fields)) return false;
      if (h.site_field != -1 && !in(h.site_field, fields)) return false;
    }
    for (const Assignment& a : t.set)
      if (!in(a.field, fields)) return false;
  }
  for (const MigrationDef& m : p.migrations) {
    for (const MigrationState& s : m.states)
      for (const MigrationBranch& b : s.branches)
        if (!in(b.to, states)) return false;
    for (const MigrationField& f : m.fields)
      if (!in(f.field, fields)) return false;
    for (const MigrationEvent& e : m.events)
      if (!in(e.to, events)) return false;
    if (m.drop_pos.size() != m.drop.size()) return false;
  }
  return true;
}

std::shared_ptr<const Expr> parsed(const std::string& text, const std::vector<FieldDef>& fields, Type type,
                                   const std::vector<std::string>& values = {}) {
  ParsedExpr out = parse_expr(text, fields, type, values);
  if (!out.expr) damaged("an expression no longer parses");
  return out.expr;
}

// The expressions and `set:` values from their text, once the indices are
// known to be inside the procedure.
void link(Procedure& p) {
  if (!p.open_guard_text.empty()) p.open_guard = parsed(p.open_guard_text, p.fields, Type::kBool);
  for (TransitionDef& t : p.transitions) {
    if (!t.guard_text.empty()) t.guard = parsed(t.guard_text, p.fields, Type::kBool);
    for (Assignment& a : t.set) {
      const FieldDef& f = p.fields[static_cast<size_t>(a.field)];
      if (a.constant) {
        std::string accepted;
        auto literal = parse_typed(f.type, f.values, a.text, &accepted);
        if (!literal) damaged("a set value no longer parses");
        a.expr = constant_expr(*literal, f.type);
      } else {
        a.expr = parsed(a.text, p.fields, f.type, f.values);
      }
    }
  }
  for (MigrationDef& m : p.migrations) {
    for (MigrationState& s : m.states)
      for (MigrationBranch& b : s.branches)
        if (!b.when_text.empty()) b.when = parsed(b.when_text, p.fields, Type::kBool);
    for (MigrationField& f : m.fields) {
      if (!f.default_value) continue;
      const FieldDef& def = p.fields[static_cast<size_t>(f.field)];
      std::string accepted;
      f.default_value = parse_typed(def.type, def.values, f.default_text, &accepted);
      if (!f.default_value) damaged("a migration default no longer parses");
    }
  }
}

}  // namespace

std::string encode_procedure(const Procedure& p) {
  std::string out(kTagLine);
  out.reserve(p.source.size() / 2 + 4096);
  Put put(out);
  put(p.sha256);
  describe(put, p);
  return out;
}

namespace {

// decode_procedure's body: the form is read only when it names `sha256`;
// `source`, when given, is kept in the procedure (decode_pinned_procedure
// gives none); the pinned calendars are asked for only when the form names
// one.
ProcedurePtr decode(std::string_view text, const std::string& sha256, const std::string* source,
                    const std::string& file, const PinnedCalendars& pinned) {
  try {
    if (text.substr(0, kTagLine.size()) != kTagLine) return nullptr;
    text.remove_prefix(kTagLine.size());
    Get get(text);
    if (get.reader().text() != sha256) return nullptr;
    if (!valid_utf8(text)) return nullptr;
    auto p = std::make_shared<Procedure>();
    describe(get, *p);
    if (!get.reader().at_end() || !indices_inside(*p)) return nullptr;
    link(*p);
    p->sha256 = sha256;
    p->file = file;
    if (!p->calendar_names.empty()) {
      // Counted on the calendar bytes pinned when it was published.
      p->calendar = pinned_calendar(p->calendar_names, pinned());
      if (!p->calendar) return nullptr;
    }
    p->build_name_tables();
    p->build_candidate_table();
    p->build_field_checks();
    if (source) p->source = *source;
    return p;
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

ProcedurePtr decode_procedure(std::string_view text, const std::string& source, const std::string& file,
                              const std::map<std::string, CalendarSource>& pinned_calendars) {
  return decode(text, sha256_hex(source), &source, file, [&] { return pinned_calendars; });
}

ProcedurePtr decode_pinned_procedure(std::string_view text, const std::string& sha256, const std::string& file,
                                     const PinnedCalendars& pinned_calendars) {
  return decode(text, sha256, nullptr, file, pinned_calendars);
}

}  // namespace sopir

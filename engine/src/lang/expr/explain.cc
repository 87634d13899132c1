// evaluate_guard(): a guard's verdict and, when false, why.
//
// The explanation names the smallest part that made the guard false: the
// first false conjunct of an `and` (recursively), every alternative of an
// `or`, otherwise the failing comparison or test itself, followed by the
// values it saw. Values of pii fields, and anything computed from them,
// show as *** so personal data never reaches a message.
#include <algorithm>

#include "lang/expr/syntax.h"
#include "sopir/display.h"
#include "lang/expr/tree.h"
#include "sopir/messages/lang.h"

namespace sopir {
namespace {

class Explainer {
 public:
  Explainer(const Expr& expr, const std::vector<FieldDef>& fields, const EvalContext& context)
      : expr_(expr), fields_(fields), eval_(expr, context), context_(context),
        lang_(context.lang == "id" ? "id" : "en") {}

  bool truth(int n) const { return eval_.truth(n); }

  // Why node `n`, which is false, is false.
  std::string explain(int n) {
    const ExprNode& node = expr_.nodes[n];
    switch (node.kind) {
      case NodeKind::kAnd:
        for (int i = 0; i < node.count; ++i) {
          const int kid = expr_.lists[node.first + i];
          if (!truth(kid)) return explain(kid);
        }
        break;
      case NodeKind::kOr: {
        std::string out;
        for (int i = 0; i < node.count; ++i) {
          if (i) out += tr(msg::lang_explain_and, lang_);
          out += explain(expr_.lists[node.first + i]);
        }
        return out;
      }
      case NodeKind::kField:
        if (is_missing(field_value(node.index))) return tr(msg::lang_explain_no_value, lang_, {name(node.index)});
        if (!context_.lang.empty()) return name(node.index) + " = " + bool_word(false, context_.lang);
        return tr(msg::lang_explain_is_false, lang_, {name(node.index)});
      case NodeKind::kConst:
        return tr(msg::lang_explain_always_false, lang_);
      default:
        break;
    }
    return tr(msg::lang_explain_is_false, lang_, {node_text(expr_, n, fields_)}) + seen(n);
  }

 private:
  std::string name(int index) const {
    return index >= 0 && static_cast<size_t>(index) < fields_.size() ? fields_[index].id : "?";
  }
  bool pii(int index) const {
    return index >= 0 && static_cast<size_t>(index) < fields_.size() && fields_[index].pii;
  }
  const Value& field_value(int index) const { return sopir::field_value(context_, index); }

  // A field's value with its label(s) in context_.lang: "overstay
  // (Overstay)", "[a, b] (A, B)", "no"; ids only when lang is "".
  std::string labelled(int index, const Value& v) const {
    const FieldDef& f = fields_[index];
    const std::string text = shown(v);
    std::string ids = f.type == Type::kSet ? "[" + join(set_members(text), ", ") + "]" : text;
    if (context_.lang.empty()) return ids;
    if (f.type == Type::kBool) return display_value(f, text, context_.lang);
    if (f.type != Type::kEnum && f.type != Type::kSet) return ids;
    const std::string label = display_value(f, text, context_.lang);
    return label == text || (f.type == Type::kSet && text.empty()) ? ids : ids + " (" + label + ")";
  }

  static std::string shown(const Value& v) {
    if (const std::string* s = std::get_if<std::string>(&v)) return *s;
    return format_value(v);
  }

  bool reads_pii(int n) const {
    const ExprNode& node = expr_.nodes[n];
    if (node.kind == NodeKind::kField || node.kind == NodeKind::kHas) return pii(node.index);
    if (node.a >= 0 && reads_pii(node.a)) return true;
    if (node.b >= 0 && reads_pii(node.b)) return true;
    for (int i = 0; i < node.count; ++i) {
      if (reads_pii(expr_.lists[node.first + i])) return true;
    }
    return false;
  }

  void add(const std::string& key, std::string item) {
    if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) return;
    keys_.push_back(key);
    items_.push_back(std::move(item));
  }

  // Collects "field = value" for every field and function call under `n`.
  void collect(int n) {
    const ExprNode& node = expr_.nodes[n];
    if (node.a >= 0) collect(node.a);
    if (node.b >= 0) collect(node.b);
    for (int i = 0; i < node.count; ++i) collect(expr_.lists[node.first + i]);
    switch (node.kind) {
      case NodeKind::kField:
      case NodeKind::kHas: {
        const std::string id = name(node.index);
        const Value& v = field_value(node.index);
        if (is_missing(v)) return add(id, tr(msg::lang_explain_no_value, lang_, {id}));
        const bool text = node.index >= 0 && static_cast<size_t>(node.index) < fields_.size() &&
                          fields_[node.index].type == Type::kString;
        if (text && !pii(node.index)) {
          return add(id, id + " = " + quote_text(shown(v)));
        }
        if (pii(node.index)) return add(id, id + " = ***");
        const bool known = node.index >= 0 && static_cast<size_t>(node.index) < fields_.size();
        return add(id, id + " = " + (known ? labelled(node.index, v) : shown(v)));
      }
      case NodeKind::kAllTracksClosed:
      case NodeKind::kAnyTrackOpen:
        return add("tracks", tracks_seen());
      case NodeKind::kClockOverdue:
        return add(node_text(expr_, n, fields_), clock_seen(std::get<std::string>(expr_.consts[node.index])));
      case NodeKind::kToday:
      case NodeKind::kNow:
      case NodeKind::kDaysSince:
      case NodeKind::kTrackState:
      case NodeKind::kTrackOutcome:
      case NodeKind::kCountTracks:
      case NodeKind::kLen:
      case NodeKind::kCount: {
        const std::string text = node_text(expr_, n, fields_);
        Value scratch;
        const Value& v = eval_.value(n, scratch);
        if (is_missing(v)) return add(text, tr(msg::lang_explain_no_value, lang_, {text}));
        return add(text, text + " = " + (reads_pii(n) ? std::string("***") : shown(v)));
      }
      default:
        return;
    }
  }

  // "clock 'stay' runs, due 2026-03-09 08:00" / "... is not running".
  std::string clock_seen(const std::string& id) const {
    if (context_.clocks) {
      for (const ClockReading& c : *context_.clocks) {
        if (c.id != id || !c.running) continue;
        if (!c.due_at) return tr(msg::lang_explain_clock_no_due, lang_, {id});
        return tr(msg::lang_explain_clock_due, lang_, {id, format_datetime(*c.due_at)});
      }
    }
    return tr(msg::lang_explain_clock_not_running, lang_, {id});
  }

  // "open: medical-track K7F-3QX (in_care)" or "no track opened yet".
  std::string tracks_seen() const {
    std::string open;
    int count = 0;
    if (context_.children) {
      for (const LinkedCase& child : *context_.children) {
        ++count;
        if (child.status == Status::kClosed) continue;
        const std::string* state = std::get_if<std::string>(&child.state);
        open += (open.empty() ? "" : ", ") + child.sop_id + " " + child.id + (state ? " (" + *state + ")" : "");
      }
    }
    if (count == 0) return tr(msg::lang_explain_no_track, lang_);
    return open.empty() ? tr(msg::lang_explain_tracks_closed, lang_) : tr(msg::lang_explain_tracks_open, lang_, {open});
  }

  std::string seen(int n) {
    keys_.clear();
    items_.clear();
    collect(n);
    if (items_.empty()) return "";
    std::string out = " (";
    for (size_t i = 0; i < items_.size(); ++i) out += (i ? ", " : "") + items_[i];
    return out + ")";
  }

  const Expr& expr_;
  const std::vector<FieldDef>& fields_;
  Evaluator eval_;
  const EvalContext& context_;
  // The language of the words around names and values: the context's, ""
  // being English (explanations kept in the log are English with ids).
  const std::string_view lang_;
  std::vector<std::string> keys_, items_;
};

}  // namespace

GuardResult evaluate_guard(const Expr& expr, const std::vector<FieldDef>& fields,
                           const EvalContext& context) {
  GuardResult result;
  if (expr.root < 0) {
    result.explanation = tr(msg::lang_explain_empty_guard, context.lang == "id" ? "id" : "en");
    return result;
  }
  Explainer explainer(expr, fields, context);
  result.value = explainer.truth(expr.root);
  // Text from the expression and the case may hold any bytes; the
  // explanation is one line of valid UTF-8.
  if (!result.value) result.explanation = printable(explainer.explain(expr.root));
  return result;
}

}  // namespace sopir

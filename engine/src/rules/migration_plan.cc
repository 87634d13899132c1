// plan_case (sopir/migration.h): where one case of an older version lands
// in the new one. Pure, like decide(): the procedures, the case as read and
// the times come from the caller.
#include <algorithm>

#include "lang/expr/expr.h"
#include "rules/deadline.h"
#include "rules/field_bounds.h"
#include "sopir/messages/migrate.h"
#include "sopir/migration.h"

namespace sopir {

namespace {

const MigrationField* mapping_of(const MigrationDef& m, int field) {
  for (const auto& f : m.fields)
    if (f.field == field) return &f;
  return nullptr;
}

Landing cannot(Landing out, std::string reason) {
  out.moves = false;
  out.reason = std::move(reason);
  out.state = -1;
  out.data.clear();
  out.changes.clear();
  out.due_at.reset();
  return out;
}

// "" when the value fits the new field (its enum values, bounds, pattern).
std::string fits(const FieldDef& field, const Value& v, std::string_view lang) {
  if (is_missing(v)) return "";
  std::string accepted;
  if (!parse_typed(field.type, field.values, format_value(v), &accepted, lang)) return accepted;
  return check_bounds(field, v, lang, std::nullopt);  // no step: a `today` bound is the step's
}

}  // namespace

FieldPlan field_plan(const Procedure& old, const Procedure& next) {
  FieldPlan out;
  out.fields.resize(next.fields.size());
  out.taken.assign(old.fields.size(), false);
  const MigrationDef* section = next.migration_from(old.version);
  if (!section) return out;
  const MigrationDef& m = *section;
  for (size_t g = 0; g < next.fields.size(); ++g) {
    const FieldDef& field = next.fields[g];
    const MigrationField* mapped = mapping_of(m, static_cast<int>(g));
    FieldPlan::Field& f = out.fields[g];
    const int named = old.field_index(field.id);
    // A same-named older field is kept only when it is not dropped and has
    // the same type (check_migration asks for one or the other).
    if (named >= 0 && old.fields[static_cast<size_t>(named)].type == field.type &&
        std::find(m.drop.begin(), m.drop.end(), field.id) == m.drop.end())
      f.same = named;
    f.source = mapped && !mapped->from.empty() ? old.field_index(mapped->from) : f.same;
    if (mapped && mapped->default_value) f.default_value = &*mapped->default_value;
    if (f.source >= 0) out.taken[static_cast<size_t>(f.source)] = true;
  }
  return out;
}

Landing plan_case(const Procedure& old, const Procedure& next, const CaseSnapshot& c, DateTime entered_at,
                  DateTime now, std::string_view lang) {
  return plan_case(old, next, field_plan(old, next), c, entered_at, now, lang);
}

Landing plan_case(const Procedure& old, const Procedure& next, const FieldPlan& fields, const CaseSnapshot& c,
                  DateTime entered_at, DateTime now, std::string_view lang) {
  lang = lang_or_process(lang);  // migrate apply and audit replay give none
  Landing out;
  out.from_state = c.state;
  const std::string version = std::to_string(next.version);
  // The section whose from: names the case's version says how it moves.
  const MigrationDef* section = next.migration_from(old.version);
  if (old.id != next.id || !section || old.version >= next.version)
    return cannot(out, tr(msg::mig_plan_no_migration, lang, {std::to_string(old.version), old.id, version}));
  const MigrationDef& m = *section;
  if (c.status == Status::kClosed) return cannot(out, tr(msg::mig_plan_closed, lang));
  const StateDef& from = old.states.at(static_cast<size_t>(c.state));
  if (from.terminal) return cannot(out, tr(msg::mig_plan_finished, lang, {from.id}));

  // Values first: a split's when: reads them.
  out.data.assign(next.fields.size(), Value{});
  static const Value kMissing;
  auto old_value = [&](int f) -> const Value& {
    return f >= 0 && static_cast<size_t>(f) < c.data.size() ? c.data[static_cast<size_t>(f)] : kMissing;
  };
  for (size_t g = 0; g < next.fields.size(); ++g) {
    const FieldDef& field = next.fields[g];
    const FieldPlan::Field& plan = fields.fields[g];
    const Value& source = old_value(plan.source);
    Value v = source;
    const bool defaulted = is_missing(source) && plan.default_value;
    if (defaulted) v = *plan.default_value;
    if (const std::string why = fits(field, v, lang); !why.empty())
      return cannot(out, tr(msg::mig_plan_value, lang, {field.id, version, why}));
    // What the case held under this field's name, when that is the same
    // field (same type, not dropped); a dropped one is listed as left behind.
    const Value& before = old_value(plan.same);
    if (v != before) {
      const std::string from = defaulted || plan.source < 0 ? "" : old.fields[static_cast<size_t>(plan.source)].id;
      out.changes.push_back(FieldMove{static_cast<int>(g), from, before, v});
    }
    out.data[g] = std::move(v);
  }
  // Older values no field of the new version takes: left behind.
  for (size_t f = 0; f < old.fields.size() && f < c.data.size(); ++f)
    if (!is_missing(c.data[f]) && !fields.taken[f])
      out.changes.push_back(FieldMove{-1, old.fields[f].id, c.data[f], Value{}});

  // Then the state.
  if (const MigrationState* s = m.state(from.id)) {
    if (s->stays)
      return cannot(out, s->stays_reason.empty() ? tr(msg::mig_plan_stays, lang, {from.id})
                                                 : tr(msg::mig_plan_stays_reason, lang, {from.id, s->stays_reason}));
    EvalContext context;
    context.fields = &out.data;
    context.now = now;
    context.children = &c.children;
    for (const auto& b : s->branches) {
      if (!b.when || guard_holds(*b.when, context)) {
        out.state = b.to;
        break;
      }
    }
    if (out.state < 0) {
      std::vector<std::string> tried;
      for (const auto& b : s->branches) tried.push_back(b.when_text);
      return cannot(out, tr(msg::mig_plan_no_branch, lang, {from.id, join(tried, "; ")}));
    }
  } else {
    out.state = next.state_index(from.id);
    if (out.state < 0) return cannot(out, tr(msg::mig_plan_unmapped, lang, {from.id, version}));
  }

  // The new state's deadline from when the case entered its state, moved as
  // far as the case's own due time was moved (time on hold).
  out.due_at = due_for(next, out.state, entered_at, out.data);
  if (out.due_at && c.due_at) {
    if (auto base = due_for(old, c.state, entered_at, c.data))
      out.due_at->seconds += c.due_at->seconds - base->seconds;
  }
  out.moves = true;
  return out;
}

}  // namespace sopir

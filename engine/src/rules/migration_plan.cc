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

const Value& value_of(const Procedure& p, const CaseSnapshot& c, const std::string& id) {
  static const Value kMissing;
  const int f = p.field_index(id);
  return f >= 0 && static_cast<size_t>(f) < c.data.size() ? c.data[static_cast<size_t>(f)] : kMissing;
}

// "" when the value fits the new field (its enum values, bounds, pattern).
std::string fits(const FieldDef& field, const Value& v, std::string_view lang) {
  if (is_missing(v)) return "";
  std::string accepted;
  if (!parse_typed(field.type, field.values, format_value(v), &accepted, lang)) return accepted;
  return check_bounds(field, v, lang);
}

}  // namespace

Landing plan_case(const Procedure& old, const Procedure& next, const CaseSnapshot& c, DateTime entered_at,
                  DateTime now, std::string_view lang) {
  Landing out;
  out.from_state = c.state;
  const std::string version = std::to_string(next.version);
  if (old.id != next.id || !next.migration || !next.migration->from_version(old.version) ||
      old.version >= next.version)
    return cannot(out, tr(msg::mig_plan_no_migration, lang, {std::to_string(old.version), old.id, version}));
  const MigrationDef& m = *next.migration;
  if (c.status == Status::kClosed) return cannot(out, tr(msg::mig_plan_closed, lang));
  const StateDef& from = old.states.at(static_cast<size_t>(c.state));
  if (from.terminal) return cannot(out, tr(msg::mig_plan_finished, lang, {from.id}));

  // Values first: a split's when: reads them.
  out.data.assign(next.fields.size(), Value{});
  for (size_t g = 0; g < next.fields.size(); ++g) {
    const FieldDef& field = next.fields[g];
    const MigrationField* mapped = mapping_of(m, static_cast<int>(g));
    const std::string source = mapped && !mapped->from.empty() ? mapped->from : field.id;
    // A same-named older field is kept only when it is not dropped and has
    // the same type (check_migration asks for one or the other).
    const int same = source == field.id ? old.field_index(source) : -1;
    const bool kept = source != field.id ||
                      (same >= 0 && old.fields[static_cast<size_t>(same)].type == field.type &&
                       std::find(m.drop.begin(), m.drop.end(), source) == m.drop.end());
    Value v = kept ? value_of(old, c, source) : Value{};
    if (is_missing(v) && mapped && mapped->default_value) v = *mapped->default_value;
    if (const std::string why = fits(field, v, lang); !why.empty())
      return cannot(out, tr(msg::mig_plan_value, lang, {field.id, version, why}));
    // What the case held under this field's name, when that is the same
    // field (same type, not dropped); a dropped one is listed as left behind.
    const int named = old.field_index(field.id);
    const bool same_field = named >= 0 && old.fields[static_cast<size_t>(named)].type == field.type &&
                            std::find(m.drop.begin(), m.drop.end(), field.id) == m.drop.end();
    const Value before = same_field ? value_of(old, c, field.id) : Value{};
    if (v != before) {
      const bool defaulted = mapped && mapped->default_value && v == *mapped->default_value &&
                             is_missing(value_of(old, c, source));
      out.changes.push_back(FieldMove{static_cast<int>(g), defaulted ? "" : source, before, v});
    }
    out.data[g] = std::move(v);
  }
  // Older values no field of the new version takes: left behind.
  for (size_t f = 0; f < old.fields.size() && f < c.data.size(); ++f) {
    if (is_missing(c.data[f])) continue;
    const std::string& id = old.fields[f].id;
    bool taken = false;
    for (size_t g = 0; g < next.fields.size() && !taken; ++g) {
      const MigrationField* mapped = mapping_of(m, static_cast<int>(g));
      const bool by_name = !(mapped && !mapped->from.empty());
      taken = (by_name ? next.fields[g].id : mapped->from) == id &&
              !(by_name && (next.fields[g].type != old.fields[f].type ||
                            std::find(m.drop.begin(), m.drop.end(), id) != m.drop.end()));
    }
    if (!taken) out.changes.push_back(FieldMove{-1, id, c.data[f], Value{}});
  }

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

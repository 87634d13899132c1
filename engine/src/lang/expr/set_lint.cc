// Lint of guards over set fields: a count compared with a number the set
// can never reach ("count(means) >= 5" when means has four values).
#include "lang/expr/syntax.h"
#include "lang/loader_internal.h"
#include "sopir/messages/lang.h"

namespace sopir {
namespace {

// The set field `count(...)` reads, or null.
const FieldDef* counted(const Syn& s, const std::vector<FieldDef>& fields) {
  if (s.kind != SynKind::kCall || s.text != "count" || s.kids.size() != 1) return nullptr;
  if (s.kids[0].kind != SynKind::kName) return nullptr;
  for (const auto& f : fields) {
    if (f.id == s.kids[0].text && f.type == Type::kSet) return &f;
  }
  return nullptr;
}

// Whether `count op n` (count on the left) can hold for a count 0..size.
bool reachable(CompareOp op, int64_t n, int64_t size) {
  switch (op) {
    case CompareOp::kEq: return n >= 0 && n <= size;
    case CompareOp::kNe: return true;
    case CompareOp::kLt: return n > 0;
    case CompareOp::kLe: return n >= 0;
    case CompareOp::kGt: return n < size;
    case CompareOp::kGe: return n <= size;
  }
  return true;
}

// `n op count` as `count op' n`.
CompareOp mirrored(CompareOp op) {
  switch (op) {
    case CompareOp::kLt: return CompareOp::kGt;
    case CompareOp::kLe: return CompareOp::kGe;
    case CompareOp::kGt: return CompareOp::kLt;
    case CompareOp::kGe: return CompareOp::kLe;
    default: return op;
  }
}

void walk(const Syn& s, std::string_view text, const std::vector<FieldDef>& fields,
          std::vector<std::pair<size_t, std::string>>* out) {
  if (s.kind == SynKind::kCompare) {
    for (int side = 0; side < 2; ++side) {
      const FieldDef* f = counted(s.kids[side], fields);
      const Syn& other = s.kids[1 - side];
      const int64_t* n = std::get_if<int64_t>(&other.value);
      if (!f || other.kind != SynKind::kLiteral || !n) continue;
      const CompareOp op = side == 0 ? s.op : mirrored(s.op);
      const int64_t size = static_cast<int64_t>(f->values.size());
      if (reachable(op, *n, size)) continue;
      out->emplace_back(s.begin, tr(msg::lang_count_never_holds,
                                    {text.substr(s.begin, s.end - s.begin), f->id, std::to_string(size)}));
    }
  }
  for (const Syn& kid : s.kids) walk(kid, text, fields, out);
}

}  // namespace

std::vector<std::pair<size_t, std::string>> impossible_counts(std::string_view text,
                                                              const std::vector<FieldDef>& fields) {
  std::vector<std::pair<size_t, std::string>> out;
  Syn root;
  ExprError error;
  if (parse_syntax(text, &root, &error)) walk(root, text, fields, &out);
  return out;
}

}  // namespace sopir

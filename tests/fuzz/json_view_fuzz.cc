// Fuzzes the in-place JSON reader (base/json_view.h) against nlohmann::json,
// which writes what it reads. Invariants beyond "no crash": both accept the
// same texts (but for the differences json_view.h names: nesting past
// kMaxDepth, numbers past a double's range, text after a NUL), and what the
// view reads back is nlohmann's value, member for member.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/json_view.h"

namespace {

using sopir::json_view::Kind;
using sopir::json_view::Node;

// Whether the view's `n` holds nlohmann's `j` (numbers that are not whole
// int64 values only checked to be numbers).
bool same(Node n, const nlohmann::json& j) {
  switch (n.kind()) {
    case Kind::kNull: return j.is_null();
    case Kind::kBool: return j.is_boolean() && j.get<bool>() == n.boolean();
    case Kind::kNumber:
      if (!j.is_number()) return false;
      try {
        const int64_t v = n.integer();
        return j.is_number_integer() && j == v;
      } catch (const std::runtime_error&) {
        return true;
      }
    case Kind::kString: {
      std::string scratch;
      return j.is_string() && j.get<std::string>() == n.str() && n.str_view(scratch) == n.str();
    }
    case Kind::kArray: {
      if (!j.is_array() || j.size() != n.size()) return false;
      size_t i = 0;
      for (Node e : n)
        if (!same(e, j[i++])) return false;
      return true;
    }
    case Kind::kObject: {
      if (!j.is_object()) return false;
      // nlohmann keeps the last of a repeated name, the view finds the
      // first: values are compared for names given once.
      std::map<std::string, int> names;
      for (Node e : n) ++names[e.key()];
      if (names.size() != j.size()) return false;
      for (Node e : n) {
        auto it = j.find(e.key());
        if (it == j.end() || (names[e.key()] == 1 && !same(e, *it))) return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sopir::json_view::Document doc;
  const bool view_ok = doc.parse(text);
  // nlohmann stops at a NUL byte and accepts what came before it, and
  // skips a byte order mark.
  if (text.find('\0') != std::string_view::npos || text.substr(0, 3) == "\xEF\xBB\xBF") return 0;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::out_of_range&) {
    return 0;  // a number past a double's range: the view keeps numbers as text
  } catch (const nlohmann::json::parse_error&) {
    j = nlohmann::json(nlohmann::json::value_t::discarded);
  }
  size_t brackets = 0;
  for (char c : text) brackets += c == '[' || c == '{';
  if (view_ok != !j.is_discarded() && (view_ok || brackets <= static_cast<size_t>(sopir::json_view::kMaxDepth)))
    std::abort();
  if (view_ok && !same(doc.root(), j)) std::abort();
  return 0;
}

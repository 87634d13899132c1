// The ORDER BY of Store::cases(), the same text for both stores' SQL
// (store.h: by opened_at; by due_at for the overdue; by id for a pass a
// page at a time), so that a page boundary means the same on both. In C++:
// listed_before() (store.h); the overdue's, Engine::due_cases().
#pragma once

#include "sopir/store.h"

namespace sopir {

inline const char* case_order_by(const CaseFilter& filter) {
  if (filter.after_id) return " ORDER BY id";
  return filter.due_before ? " ORDER BY due_at, id" : " ORDER BY opened_at, id";
}

}  // namespace sopir

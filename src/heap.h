// The heap of a command that opens a database, mapped at once (heap.cc).
#pragma once

#include <cstddef>

namespace sopir::cli {

// Maps the first `bytes` of the heap in one call instead of a page fault per
// page, and keeps them mapped to the end of the process; a no-op where
// malloc is not glibc's (or under AddressSanitizer).
void prefault_heap(std::size_t bytes);

}  // namespace sopir::cli

// The heap of a command that opens a database, asked of the kernel at once.
//
// A `sopir case advance` process uses about 600 KB of heap (SQLite's page
// cache and schema, the decoded procedure, the step). Touched a page at a
// time, that is about 140 page faults; in a virtual machine each costs
// several microseconds (docs/PERFORMANCE.md, 2026-12-05b), a good part of a
// one-shot command. One madvise(MADV_POPULATE_WRITE) over the heap maps the
// same pages in one call. Only glibc's malloc is handled (its main arena is
// the contiguous region below the program break); under AddressSanitizer,
// whose allocator is its own, and anywhere else this does nothing.
#include "heap.h"

#include "sanitizers.h"

#if defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include <cstdint>
#include <cstdlib>

namespace sopir::cli {

void prefault_heap(std::size_t bytes) {
#if defined(__linux__) && defined(__GLIBC__) && defined(MADV_POPULATE_WRITE) && !defined(SOPIR_UNDER_ASAN)
  if (bytes == 0 || bytes > (64u << 20)) return;
  // Keep `bytes` free above the heap's top from now on: each growth asks
  // for that much more, and a free never gives back the last `bytes`, so
  // the pages mapped here stay mapped until the process ends.
  if (mallopt(M_TOP_PAD, static_cast<int>(bytes)) != 1) return;
  // Grow the heap now if its free top is smaller: blocks below the size
  // malloc maps on its own (128 KB) until one comes from the top, which then
  // grows by `bytes` more; all freed again at once. Freed blocks are given
  // back to the top, and the top keeps `bytes`.
  constexpr int kMaxBlocks = 64;
  void* held[kMaxBlocks];
  int n = 0;
  while (n < kMaxBlocks && mallinfo2().keepcost < bytes) {
    held[n] = std::malloc(64u << 10);
    if (!held[n]) break;
    ++n;
  }
  for (int i = 0; i < n; ++i) std::free(held[i]);
  const auto top = reinterpret_cast<std::uintptr_t>(sbrk(0));
  const struct mallinfo2 heap = mallinfo2();
  const std::size_t arena = heap.arena;  // bytes taken below the break
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  if (arena == 0 || arena > top || page == 0) return;
  const std::uintptr_t start = (top - arena + page - 1) / page * page;
  // An older kernel (before 5.14) answers EINVAL: the pages then fault in
  // one by one, as without this call. A heap that has been grown and
  // trimmed by a long process (a test run, an embedding program) can count
  // more bytes than lie mapped below the break, which is ENOMEM: then the
  // free top alone, the part malloc hands out next.
  if (top <= start) return;
  if (madvise(reinterpret_cast<void*>(start), top - start, MADV_POPULATE_WRITE) == 0) return;
  const std::uintptr_t free_start = (top - heap.keepcost + page - 1) / page * page;
  if (top > free_start) madvise(reinterpret_cast<void*>(free_start), top - free_start, MADV_POPULATE_WRITE);
#else
  (void)bytes;
#endif
}

}  // namespace sopir::cli

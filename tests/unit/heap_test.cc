// src/heap.cc: the heap a command that opens a database maps at once.
#include <catch2/catch.hpp>

#include <unistd.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#endif

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "heap.h"
#include "sanitizers.h"

#if defined(__linux__) && defined(__GLIBC__) && !defined(SOPIR_UNDER_ASAN)
namespace {

// Whether every page of [start, top) is in memory (mincore); `start` is
// rounded up to a page and `top`, the program break, is a page's start.
bool all_resident(std::uintptr_t start, std::uintptr_t top) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  start = (start + page - 1) / page * page;
  REQUIRE(top > start);
  std::vector<unsigned char> in((top - start) / page);
  REQUIRE(mincore(reinterpret_cast<void*>(start), top - start, in.data()) == 0);
  for (unsigned char c : in)
    if ((c & 1) == 0) return false;
  return true;
}

}  // namespace

TEST_CASE("prefault_heap maps the heap's free top at once and keeps it", "[heap]") {
  constexpr size_t kBytes = 768u << 10;
  sopir::cli::prefault_heap(kBytes);
  const auto top = reinterpret_cast<std::uintptr_t>(sbrk(0));
  const size_t free_top = mallinfo2().keepcost;
  // At least the asked bytes lie free above what is in use, every page of
  // them in memory before anything has written there.
  REQUIRE(free_top >= kBytes);
  CHECK(all_resident(top - free_top, top));

  // Blocks taken and given back again do not hand those pages back to the
  // kernel: the break stays where it was, and the pages stay mapped.
  std::vector<void*> blocks;
  for (int i = 0; i < 200; ++i) {
    blocks.push_back(std::malloc(2000));
    std::memset(blocks.back(), i, 2000);
  }
  for (void* p : blocks) std::free(p);
  CHECK(reinterpret_cast<std::uintptr_t>(sbrk(0)) == top);
  CHECK(all_resident(top - kBytes, top));
}
#endif

TEST_CASE("prefault_heap of nothing or of too much changes nothing", "[heap]") {
  const void* before = sbrk(0);
  sopir::cli::prefault_heap(0);
  sopir::cli::prefault_heap(size_t{1} << 40);
  CHECK(sbrk(0) == before);
}

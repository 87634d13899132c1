// Whether this build runs under AddressSanitizer, whose allocator and
// leak checker the program must leave alone (main.cc, heap.cc).
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define SOPIR_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOPIR_UNDER_ASAN 1
#endif
#endif

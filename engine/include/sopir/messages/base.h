// The catalogue's messages of values, dates and texts (engine/src/base).
#pragma once

#include <cstdint>
#include <string>

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/base.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

namespace sopir {

// "1 site", "2 sites": `n` in `one` when it is 1, else in `many` (each with
// the count as {0}; the counted nouns are base_n_*), in the process's
// message language.
std::string counted(int64_t n, const Message& one, const Message& many);

}  // namespace sopir

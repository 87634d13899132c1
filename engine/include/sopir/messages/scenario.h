// The catalogue's messages of scenario tests (engine/src/scenario).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/scenario.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

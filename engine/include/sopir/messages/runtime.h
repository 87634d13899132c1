// The catalogue's messages of the Engine (engine/src/runtime).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/runtime.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

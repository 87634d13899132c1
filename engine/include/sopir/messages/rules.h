// The catalogue's messages of decide(), the case lifecycle and hand-offs (engine/src/rules).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/rules.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

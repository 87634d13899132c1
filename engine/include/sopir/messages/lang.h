// The catalogue's messages of the loader, the checker and lint (engine/src/lang).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/lang.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

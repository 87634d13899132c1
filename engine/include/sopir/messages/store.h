// The catalogue's messages of the stores and their schemas (engine/src/store).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/store.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

// The catalogue's messages of values, dates and texts (engine/src/base).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/base.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

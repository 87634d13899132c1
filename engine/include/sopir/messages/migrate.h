// The catalogue's messages of moving running cases to a new version (`migrate:`).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/migrate.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

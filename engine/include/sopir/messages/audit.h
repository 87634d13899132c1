// The catalogue's messages of verify, replay, reports and exports (engine/src/audit).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/audit.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

// The catalogue's messages of the case data standards (`standards:` and the HTCDS export).
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/standards.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

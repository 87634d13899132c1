// The catalogue's messages of the command line and the shell (src/): errors, help and prompts.
#pragma once

#include "sopir/messages.h"

#define SOPIR_MESSAGE(name, en, id) extern const Message name;
namespace sopir::msg {
#include "sopir/messages/cli.def"
}  // namespace sopir::msg
#undef SOPIR_MESSAGE

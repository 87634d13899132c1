// Fuzzes the compiled-form decoder (decode_procedure): the text a database
// keeps beside each published procedure's source, which the engine runs
// cases by and which anyone holding the file can edit. Beyond "no crash":
// whatever it accepts has every index inside the procedure (the engine
// trusts them), and encodes and decodes back to the same form.
//
// A form is only read for the source whose SHA-256 it names, so inputs name
// it as @SHA@ (the seeds are shipped procedures' forms with their hash so
// replaced) and the source is a fixed text: the decoder never reads the
// source beyond hashing it.
#include <cstdint>
#include <string>

#include "base/sha256.h"
#include "lang/procedure_codec.h"
#include "procedure_checks.h"

namespace {
const std::string kSource = "id: fuzzed\n";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sopir;
  static const std::string sha = sha256_hex(kSource);
  std::string text(reinterpret_cast<const char*>(data), size);
  if (const size_t at = text.find("@SHA@"); at != std::string::npos) text.replace(at, 5, sha);
  const ProcedurePtr p = decode_procedure(text, kSource, "fuzz.yaml");
  if (!p) return 0;
  fuzz::check(p->sha256 == sha && p->source == kSource);
  fuzz::check_indices(*p);
  const std::string again = encode_procedure(*p);
  const ProcedurePtr back = decode_procedure(again, kSource, "fuzz.yaml");
  fuzz::check(back && encode_procedure(*back) == again);
  return 0;
}

// Key files: the key that seals a server database's database key, held
// outside the database server (docs/PRIVACY.md, docs/DEPLOY.md).
//
// On a database file the database key is sealed by each staff member's
// passphrase. A PostgreSQL server keeps no passphrases (its server logs
// staff in), so there the database key is sealed by the key of a key file
// kept on the office machines (never on the database server or in its
// backups). A process that has loaded the key file reads and writes
// personal text; one without it reads personal values as locked and is
// refused writing them (kDenied), as on a database file without a log-in.
//
// The file holds the key as 64 hexadecimal digits (32 random bytes)
// followed by a newline, nothing else, and must be readable by its owner
// only (mode 0600 or 0400). Its key id, shown by `sopir key new` and
// stored by the database beside the sealed database key, is a keyed hash
// of the key: it names the key without revealing it, so a wrong key file is
// recognised as such.
#pragma once

#include <string>

#include "sopir/store.h"

namespace sopir {

// The environment variable naming the key file (the global option
// --key-file overrides it).
inline constexpr char kKeyFileEnv[] = "SOPIR_KEY_FILE";

// Writes a fresh random key to a new file `path`, created 0600 and never
// overwritten; returns its key id. kConflict when `path` exists, kStorage
// when it cannot be written (nothing is left behind).
std::string create_key_file(const std::string& path);

// Reads the key file at `path` and holds its key in this process (guarded
// memory, wiped at exit) for every server store it opens; returns its key
// id. kNotFound for a missing file; kDenied for a file others may read or
// write, or one that cannot be read; kUsage for a file that is not a key
// file (wrong size or not hexadecimal). Nothing is kept on failure.
std::string load_key_file(const std::string& path);

// Checks the key file loaded from `path` (load_key_file returned `id`)
// against `store`: kDenied when the database's key is sealed under another
// key file (nothing was read or written). A database without a database
// key, or one whose keys are wrapped by passphrases, passes.
void check_key_file(Store& store, const std::string& path, const std::string& id);

}  // namespace sopir

// SHA-256 (OpenSSL) and cryptographically random bytes (the kernel).
#pragma once

#include <string>
#include <string_view>

namespace sopir {

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Incremental hashing for long inputs.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string hex_digest();  // finishes; the object may not be updated after
  std::string digest();      // the same as 32 raw bytes
  void reset();              // starts a new hash (reuses the context)

 private:
  void* ctx_;
};

// `bytes` cryptographically random bytes as lowercase hex (salts).
std::string random_hex(size_t bytes);

}  // namespace sopir

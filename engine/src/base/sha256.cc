// SHA-256 through OpenSSL's SHA256_* functions, random bytes from the
// kernel. Both deliberately avoid OpenSSL 3's provider machinery (EVP
// fetches, the DRBG): initialising it costs more than everything else a
// one-shot `sopir case advance` hashes, while these functions run the same
// assembly (SHA extensions where the CPU has them).
#define OPENSSL_SUPPRESS_DEPRECATED  // SHA256_Init & co. are deprecated, not going away in 3.x
#include "base/sha256.h"

#include <openssl/sha.h>
#include <sys/random.h>

#include <cerrno>
#include <vector>

#include "sopir/error.h"
#include "sopir/messages/base.h"

namespace sopir {

namespace {
std::string to_hex(const unsigned char* bytes, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

SHA256_CTX* context(void* ctx) { return static_cast<SHA256_CTX*>(ctx); }
}  // namespace

Sha256::Sha256() : ctx_(new SHA256_CTX) { reset(); }

Sha256::~Sha256() { delete context(ctx_); }

void Sha256::reset() {
  if (SHA256_Init(context(ctx_)) != 1) throw storage_error(tr(msg::base_sha256_init));
}

void Sha256::update(std::string_view data) { SHA256_Update(context(ctx_), data.data(), data.size()); }

std::string Sha256::hex_digest() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, context(ctx_));
  return to_hex(digest, sizeof digest);
}

std::string Sha256::digest() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, context(ctx_));
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string sha256_hex(std::string_view data) {
  // Not OpenSSL's one-shot SHA256(): in 3.x that goes through EVP.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &ctx);
  return to_hex(digest, sizeof digest);
}

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  size_t filled = 0;
  while (filled < bytes) {
    // getrandom(2): the kernel's CSPRNG; blocks only until it is seeded at boot.
    const ssize_t n = getrandom(buf.data() + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw storage_error(tr(msg::base_no_random));
    }
    filled += static_cast<size_t>(n);
  }
  return to_hex(buf.data(), bytes);
}

}  // namespace sopir

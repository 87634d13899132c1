// Key files (sopir/key_file.h): made, read and checked here; their keys
// are held in the sealing module's ring of key files.
#include "sopir/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sopir/error.h"
#include "sopir/messages/store.h"
#include "store/sealing.h"

namespace sopir {
namespace {

// 64 hex digits and a newline.
constexpr size_t kHexDigits = sealing::kKeyBytes * 2;

std::string mode_text(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

std::string create_key_file(const std::string& path) {
  if (path.empty()) throw usage_error(tr(msg::store_key_file_no_path));
  const sealing::SecretKey key;
  std::string text =
      sealing::to_hex(std::string_view(reinterpret_cast<const char*>(key.data()), sealing::kKeyBytes)) + "\n";
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    sealing::wipe(text);
    if (error == EEXIST) throw conflict(tr(msg::store_key_file_exists, {path}));
    throw storage_error(tr(msg::store_key_file_write, {path, std::strerror(error)}));
  }
  const bool written = ::fchmod(fd, 0600) == 0 && ::write(fd, text.data(), text.size()) ==
                                                        static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  sealing::wipe(text);
  if (!written) {
    ::unlink(path.c_str());
    throw storage_error(tr(msg::store_key_file_write, {path, std::strerror(error)}));
  }
  return sealing::key_file_id(key);
}

std::string load_key_file(const std::string& path) {
  if (path.empty()) throw usage_error(tr(msg::store_key_file_no_path));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) throw not_found(tr(msg::store_key_file_missing, {path}));
    throw denied(tr(msg::store_key_file_unreadable, {path, std::strerror(error)}));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw usage_error(tr(msg::store_key_file_not_file, {path}));
  }
  // As ssh does with its keys: a key others could read is no secret.
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    throw denied(tr(msg::store_key_file_mode, {path, mode_text(info.st_mode)}));
  }
  std::string text(kHexDigits + 2, '\0');
  const ssize_t got = ::read(fd, &text[0], text.size());
  ::close(fd);
  if (got < 0) throw denied(tr(msg::store_key_file_unreadable, {path, std::strerror(errno)}));
  text.resize(static_cast<size_t>(got));
  const size_t size = static_cast<size_t>(info.st_size);
  std::string_view hex(text);
  if (hex.size() == kHexDigits + 1 && hex.back() == '\n') hex.remove_suffix(1);
  std::optional<std::string> raw;
  if (hex.size() == kHexDigits) raw = sealing::from_hex(hex);
  sealing::wipe(text);
  if (!raw || size != static_cast<size_t>(got)) {
    if (raw) sealing::wipe(*raw);
    throw usage_error(tr(msg::store_key_file_format, {path, std::to_string(size)}));
  }
  auto key = sealing::key_from_bytes(*raw);
  sealing::wipe(*raw);
  const std::string id = sealing::key_file_id(*key);
  sealing::remember_key_file(id, std::move(key));
  return id;
}

void check_key_file(Store& store, const std::string& path, const std::string& id) {
  const std::string wanted = store.key_file_id();
  if (wanted.empty() || wanted == id || sealing::key_file_key(wanted)) return;
  throw denied(tr(msg::store_key_file_wrong, {path, id, wanted}));
}

}  // namespace sopir

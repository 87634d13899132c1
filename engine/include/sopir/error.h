// The engine's one error type.
//
// Every failure the engine reports to its caller is a sopir::Error: a kind
// (which the CLI turns into its documented exit code) and a message written
// for the person at the keyboard. Adapters around yaml-cpp and SQLiteCpp
// catch those libraries' exceptions and rethrow them as Error, adding the
// file, procedure, state or case the failure concerns.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace sopir {

enum class ErrorKind {
  kRefused = 1,    // the procedure's rules refuse the step (also: invalid procedure)
  kUsage = 2,      // bad input from the caller: an unparsable value, a wrong option
  kNotFound = 3,   // unknown case, staff member, procedure, file
  kConflict = 4,   // the case changed since it was read; an id already taken
  kStorage = 5,    // the database cannot be opened, read or written
  kDenied = 6,     // log-in refused: a wrong, missing or unreadable passphrase (sopir/login.h)
};

// Stable exit code for an error kind: 1 refused, 2 usage, 3 not found,
// 4 conflict, 5 storage, 6 log-in refused.
inline int exit_code(ErrorKind kind) { return static_cast<int>(kind); }

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message)
      : std::runtime_error(message), kind_(kind), message_(std::move(message)) {}

  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // The log row whose stored record is not one sopir writes (kStorage), for
  // a reader that reports it and reads on (audit verify); 0 otherwise.
  int64_t damaged_row() const { return damaged_row_; }

  // A copy whose message starts with `context: `; the kind and row stay.
  Error with_context(const std::string& context) const {
    Error out(kind_, context + ": " + message_);
    out.damaged_row_ = damaged_row_;
    return out;
  }

  friend Error damaged_record(int64_t seq, std::string m);

 private:
  ErrorKind kind_;
  std::string message_;
  int64_t damaged_row_ = 0;
};

inline Error refused(std::string m) { return Error(ErrorKind::kRefused, std::move(m)); }
inline Error usage_error(std::string m) { return Error(ErrorKind::kUsage, std::move(m)); }
inline Error not_found(std::string m) { return Error(ErrorKind::kNotFound, std::move(m)); }
inline Error conflict(std::string m) { return Error(ErrorKind::kConflict, std::move(m)); }
inline Error storage_error(std::string m) { return Error(ErrorKind::kStorage, std::move(m)); }
inline Error denied(std::string m) { return Error(ErrorKind::kDenied, std::move(m)); }
// kStorage for log row `seq`, whose record cannot be read as one sopir writes.
inline Error damaged_record(int64_t seq, std::string m) {
  Error out(ErrorKind::kStorage, std::move(m));
  out.damaged_row_ = seq;
  return out;
}

}  // namespace sopir

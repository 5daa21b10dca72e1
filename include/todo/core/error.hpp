// The one error model: expected failures are todo::Error with an Errc; Errc → HTTP status lives in
// http/problem.
#pragma once

#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace todo {

/// What went wrong, in terms a client can act on.
enum class Errc {
  bad_request,         // malformed syntax (JSON that does not parse, a bad query string)
  unauthorized,        // no token, a bad or expired token, wrong credentials
  forbidden,           // a browser origin that may not call the API
  not_found,           // does not exist or is not the caller's
  method_not_allowed,  // the path exists, the method does not
  conflict,            // version mismatch, duplicate
  precondition,        // If-None-Match names the current version of what a change would change (412)
  payload_too_large,   // body over the limit
  unprocessable,       // well-formed but invalid values
  unsupported_media,   // body is not JSON
  too_many_requests,   // a limit was hit
  uri_too_long,        // the request target is over the header limit
  headers_too_large,   // the header fields are over the header limit
  upgrade_required,    // a WebSocket endpoint asked without the upgrade
  not_implemented,     // a transfer coding the server does not speak
  http_version,        // an HTTP major version other than 1 (505)
  unavailable,         // a dependency (the database) is down
  internal,            // a bug
};

/// One invalid input field and why.
struct FieldError {
  std::string field;
  std::string message;
};

/// An expected failure, thrown by validation and services and answered as problem+json.
class Error : public std::runtime_error {
 public:
  Error(Errc code, std::string detail, std::vector<FieldError> errors = {})
      : std::runtime_error(detail), code_(code), detail_(std::move(detail)), errors_(std::move(errors)) {}

  Errc code() const noexcept { return code_; }
  /// The whole detail: what() is a C string, cut short at a NUL a client's input may hold.
  const std::string& detail() const noexcept { return detail_; }
  const std::vector<FieldError>& errors() const noexcept { return errors_; }

 private:
  Errc code_;
  std::string detail_;
  std::vector<FieldError> errors_;
};

/// The problems of several fields, for one 422 that names every bad field. Only the first kMaxListed are
/// listed (a body of 90 000 unknown keys made a 4 MB answer); the rest are counted. A problem already added
/// (a repeated query parameter's) is neither listed nor counted again.
class FieldErrors {
 public:
  static constexpr std::size_t kMaxListed = 20;
  void add(std::string field, std::string message) {
    for (const auto& e : listed_)
      if (e.field == field && e.message == message) return;
    if (listed_.size() < kMaxListed) {
      listed_.push_back({std::move(field), std::move(message)});
      return;
    }
    // Counted once too: a field is at most as long as the body it came from, so this stays within its size.
    field += '\0';
    field += message;
    unlisted_.insert(std::move(field));
  }
  bool empty() const { return listed_.empty(); }
  /// Runs `parse`; the fields of a 422 it throws are added here instead (any other error goes on).
  template <class F>
  void collect(const F& parse) {
    try {
      parse();
    } catch (const Error& e) {
      if (e.code() != Errc::unprocessable) throw;
      for (const auto& fe : e.errors())
        add(fe.field, fe.message);
    }
  }
  /// Throws Error(unprocessable) with every problem added, if any.
  void throw_if_any() {
    if (listed_.empty()) return;
    std::string detail = listed_.size() == 1
                             ? listed_[0].field + ": " + listed_[0].message
                             : std::to_string(listed_.size() + unlisted_.size()) + " fields are invalid";
    if (!unlisted_.empty()) detail += " (the first " + std::to_string(listed_.size()) + " are listed)";
    throw Error(Errc::unprocessable, std::move(detail), std::move(listed_));
  }

 private:
  std::vector<FieldError> listed_;
  std::unordered_set<std::string> unlisted_;  // field NUL message
};

/// 422 for one field.
inline Error invalid(std::string field, std::string message) {
  std::string detail = field + ": " + message;
  return Error(Errc::unprocessable, std::move(detail), {{std::move(field), std::move(message)}});
}

/// 400 for a single-valued query parameter given more than once (which one is meant is unknowable).
inline Error repeated_parameter(const std::string& name) {
  return Error(Errc::bad_request, name + ": given more than once", {{name, "given more than once"}});
}

}  // namespace todo

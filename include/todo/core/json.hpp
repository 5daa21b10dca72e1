// Strict JSON input: parse a request body, reject unknown fields, read typed fields and collect every error.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "todo/core/error.hpp"

namespace todo::json {

/// Parses a request body that must be a JSON object, naming `body` in the error: Error(bad_request) when it
/// is not JSON at all, Error(unprocessable) when it is JSON of another type.
nlohmann::json parse_object(std::string_view body);

/// Reads the fields of one JSON object, collecting a FieldError for each problem; finish() throws them as one
/// 422.
class Reader {
 public:
  /// Unknown keys (not in `allowed`) are recorded as errors straight away.
  Reader(const nlohmann::json& object, std::initializer_list<std::string_view> allowed);

  bool has(std::string_view key) const { return object_.contains(key); }
  /// Present and JSON null.
  bool is_null(std::string_view key) const;

  std::optional<std::string> string(std::string_view key);
  /// A string or null: outer nullopt when absent, inner nullopt for null.
  std::optional<std::optional<std::string>> nullable_string(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  /// A JSON integer from `min` to `max`; anything else (another type, a fraction, an integer out of range
  /// however large) is one problem, "must be an integer from <min> to <max>".
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<std::vector<std::string>> string_array(std::string_view key);

  /// Records a problem (see FieldErrors).
  void fail(std::string field, std::string message) { errors_.add(std::move(field), std::move(message)); }
  bool ok() const { return errors_.empty(); }
  /// Throws Error(unprocessable) with every collected error, if any.
  void finish() { errors_.throw_if_any(); }

 private:
  const nlohmann::json& object_;
  FieldErrors errors_;
};

}  // namespace todo::json

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
  std::optional<std::int64_t> integer(std::string_view key);
  std::optional<std::vector<std::string>> string_array(std::string_view key);

  /// Records a problem. Only the first kMaxListed are listed (a body of 90 000 unknown keys made a 4 MB
  /// answer); the rest are counted.
  void fail(std::string field, std::string message) {
    if (errors_.size() < kMaxListed)
      errors_.push_back({std::move(field), std::move(message)});
    else
      ++unlisted_;
  }
  bool ok() const { return errors_.empty(); }
  static constexpr std::size_t kMaxListed = 20;
  /// Throws Error(unprocessable) with every collected error, if any.
  void finish();

 private:
  const nlohmann::json& object_;
  std::vector<FieldError> errors_;
  std::size_t unlisted_ = 0;
};

}  // namespace todo::json

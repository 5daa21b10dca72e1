// JSON output without building a document first: appends text to a string, for the responses the server sends
// most (a task, a page of tasks). The text is byte-for-byte what nlohmann::json::dump(-1, ' ', false,
// error_handler_t::replace) gives for the same values, so either may be used for any response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "todo/core/time.hpp"

namespace todo::json {

/// A JSON string literal: `"`, `\` and control characters escaped as nlohmann does (\b \f \n \r \t, else
/// \u00xx), UTF-8 kept as is, each invalid UTF-8 sequence replaced by U+FFFD.
void append_string(std::string& out, std::string_view s);

/// Appends an object member by member: `{"k":v,...}`. Keys are written as given (callers pass them in
/// std::map order to match nlohmann's output).
class ObjectWriter {
 public:
  explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
  /// Each value the typed members write is put between `before` and `after`: ("[null,", "]") writes
  /// `{"k":[null,v],...}`. raw() members are not wrapped.
  ObjectWriter(std::string& out, std::string_view before, std::string_view after)
      : out_(out), before_(before), after_(after) {
    out_ += '{';
  }
  ~ObjectWriter() { out_ += '}'; }
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  ObjectWriter& string(std::string_view key, std::string_view value);
  ObjectWriter& string(std::string_view key, const std::string& value) {
    return string(key, std::string_view(value));
  }
  ObjectWriter& string(std::string_view key, const char* value) {
    return string(key, std::string_view(value));
  }
  ObjectWriter& string(std::string_view key, const std::optional<std::string>& value);
  ObjectWriter& integer(std::string_view key, std::int64_t value);
  ObjectWriter& integer(std::string_view key, std::optional<std::int64_t> value);
  ObjectWriter& boolean(std::string_view key, bool value);
  ObjectWriter& strings(std::string_view key, const std::vector<std::string>& values);
  ObjectWriter& null(std::string_view key);
  /// The instant as format_rfc3339 writes it (a JSON string), or null.
  ObjectWriter& instant(std::string_view key, std::optional<Instant> value);
  /// `"key":` followed by whatever the caller appends to the string next (one value).
  std::string& raw(std::string_view key);

 private:
  void key(std::string_view k);
  void open(std::string_view k);  // key(k), then before_
  std::string& out_;
  std::string_view before_;
  std::string_view after_;
  bool first_ = true;
};

}  // namespace todo::json

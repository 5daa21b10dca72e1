// Strict JSON input helpers.
#include "todo/core/json.hpp"

#include <limits>

namespace todo::json {

nlohmann::json parse_object(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw Error(Errc::bad_request, "the body is not valid JSON", {{"body", "malformed JSON"}});
  if (!j.is_object())
    throw Error(Errc::unprocessable, "the body must be a JSON object", {{"body", "expected a JSON object"}});
  return j;
}

Reader::Reader(const nlohmann::json& object, std::initializer_list<std::string_view> allowed)
    : object_(object) {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    bool known = false;
    for (auto a : allowed)
      known = known || a == it.key();
    if (!known) fail(it.key(), "unknown field");
  }
}

bool Reader::is_null(std::string_view key) const {
  auto it = object_.find(key);
  return it != object_.end() && it->is_null();
}

std::optional<std::string> Reader::string(std::string_view key) {
  auto it = object_.find(key);
  if (it == object_.end()) return std::nullopt;
  if (!it->is_string()) {
    fail(std::string(key), "must be a string");
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<std::optional<std::string>> Reader::nullable_string(std::string_view key) {
  auto it = object_.find(key);
  if (it == object_.end()) return std::nullopt;
  if (it->is_null()) return std::optional<std::string>{};
  if (!it->is_string()) {
    fail(std::string(key), "must be a string or null");
    return std::nullopt;
  }
  return std::optional<std::string>{it->get<std::string>()};
}

std::optional<bool> Reader::boolean(std::string_view key) {
  auto it = object_.find(key);
  if (it == object_.end()) return std::nullopt;
  if (!it->is_boolean()) {
    fail(std::string(key), "must be true or false");
    return std::nullopt;
  }
  return it->get<bool>();
}

std::optional<std::int64_t> Reader::integer(std::string_view key) {
  auto it = object_.find(key);
  if (it == object_.end()) return std::nullopt;
  // An unsigned value above INT64_MAX would wrap to a negative one.
  if (!it->is_number_integer() ||
      (it->is_number_unsigned() &&
       it->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
    fail(std::string(key), "must be an integer");
    return std::nullopt;
  }
  return it->get<std::int64_t>();
}

std::optional<std::vector<std::string>> Reader::string_array(std::string_view key) {
  auto it = object_.find(key);
  if (it == object_.end()) return std::nullopt;
  if (!it->is_array()) {
    fail(std::string(key), "must be an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool good = true;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const auto& e = (*it)[i];
    if (!e.is_string()) {
      fail(std::string(key) + "[" + std::to_string(i) + "]", "must be a string");
      good = false;
      continue;
    }
    out.push_back(e.get<std::string>());
  }
  if (!good) return std::nullopt;
  return out;
}

}  // namespace todo::json

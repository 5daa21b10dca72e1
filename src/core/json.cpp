// Strict JSON input helpers.
#include "todo/core/json.hpp"

#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

namespace todo::json {

namespace {

/// Watches the parser's events for a key repeated within one object (RFC 8259 4: names SHOULD be unique;
/// nlohmann keeps the last silently, so {"password":"a","password":"b"} would mean whichever the reader
/// happens to pick). Each repeat is named by its path (`title`, `recurrence.by_day`, `items[2].name`).
/// The keys of all objects are in one set, each prefixed with its object's serial number, and a frame is
/// small: a body of a million nested arrays costs a fraction of what its DOM does.
class RepeatedKeys {
 public:
  bool on_event(nlohmann::json::parse_event_t event, const nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
        frames_.push_back({true, serial_++, nullptr});
        break;
      case E::array_start:
        frames_.push_back({false, 0, nullptr});
        break;
      case E::key: {
        auto& top = frames_.back();
        std::string entry = std::to_string(top.number);
        entry += '\0';
        entry += parsed.get_ref<const std::string&>();
        const auto [it, fresh] = keys_.insert(std::move(entry));
        top.key = &*it;
        // Each repeated path once, however often it repeats, and in however many objects at that path.
        if (!fresh) {
          std::string at = path();
          if (repeated_.insert(at).second && repeats_.size() < FieldErrors::kMaxListed)
            repeats_.push_back({std::move(at), "repeated key"});
        }
        break;
      }
      case E::object_end:
      case E::array_end:
        frames_.pop_back();
        element_done();
        break;
      case E::value:
        element_done();
        break;
    }
    return true;
  }
  /// The first FieldErrors::kMaxListed repeated keys, each once.
  std::vector<FieldError>& repeats() { return repeats_; }
  /// How many different paths had a repeated key (all of them, listed or not).
  std::size_t repeated_keys() const { return repeated_.size(); }

 private:
  struct Frame {
    bool object;
    std::size_t number;      // objects: the serial number; arrays: the index of the element being read
    const std::string* key;  // objects: the entry of the key being read, in keys_ (nodes do not move)
  };
  void element_done() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().number;
  }
  std::string path() const {
    std::string out;
    for (const auto& f : frames_) {
      if (f.object) {
        if (!out.empty()) out += '.';
        out += std::string_view(*f.key).substr(f.key->find('\0') + 1);
      } else {
        out += '[' + std::to_string(f.number) + ']';
      }
    }
    return out;
  }
  std::vector<Frame> frames_;
  std::unordered_set<std::string> keys_;
  std::size_t serial_ = 0;
  std::vector<FieldError> repeats_;
  std::unordered_set<std::string> repeated_;  // the paths of the keys seen more than once
};

}  // namespace

nlohmann::json parse_object(std::string_view body) {
  RepeatedKeys repeated;
  nlohmann::json j = nlohmann::json::parse(
      body,
      [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        return repeated.on_event(event, parsed);
      },
      /*allow_exceptions=*/false);
  if (j.is_discarded())
    throw Error(Errc::bad_request, "the body is not valid JSON", {{"body", "malformed JSON"}});
  // Syntax first: a body that does not parse is that, whatever keys it repeated before the error.
  if (auto& repeats = repeated.repeats(); !repeats.empty()) {
    std::string detail = "the body repeats a key: " + repeats[0].field;
    if (const auto others = repeated.repeated_keys() - 1; others > 0)
      detail += " (and " + std::to_string(others) + (others == 1 ? " other)" : " others)");
    throw Error(Errc::bad_request, std::move(detail), std::move(repeats));
  }
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

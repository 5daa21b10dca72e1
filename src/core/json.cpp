// Strict JSON input helpers.
#include "todo/core/json.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace todo::json {

namespace {

/// Watches the parser's events for a key repeated within one object (RFC 8259 4: names SHOULD be unique;
/// nlohmann keeps the last silently, so {"password":"a","password":"b"} would mean whichever the reader
/// happens to pick). Each repeat is named by its path (`title`, `recurrence.by_day`, `items[2].name`).
/// The keys of all objects are in one set, each prefixed with its object's serial number, and a frame is
/// small: a body of a million nested arrays costs a fraction of what its DOM does. A repeat's path is known
/// by a number, made of its parent's number and its last step and worked out for a container only when a
/// key in it repeats (once per container), so a repeat costs the same at any depth: only the listed ones are
/// spelt out (a body of 40 000 nested objects each repeating a key took 92 s and 1.7 GB when every repeat's
/// path was built and kept as text).
class RepeatedKeys {
 public:
  bool on_event(nlohmann::json::parse_event_t event, const nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
        frames_.push_back({true, serial_++, nullptr, kUnknown});
        break;
      case E::array_start:
        frames_.push_back({false, 0, nullptr, kUnknown});
        break;
      case E::key: {
        auto& top = frames_.back();
        const auto& name = parsed.get_ref<const std::string&>();
        std::string entry = std::to_string(top.number);
        entry += '\0';
        entry += name;
        const auto [it, fresh] = keys_.insert(std::move(entry));
        top.key = &*it;
        // Each repeated path once, however often it repeats, and in however many objects at that path.
        if (!fresh && repeated_.insert(intern(container_path(), 'k', name)).second &&
            repeats_.size() < FieldErrors::kMaxListed)
          repeats_.push_back({path(), "repeated key"});
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

  /// The path of the value being read (its key in an object, its index in an array), at most kMaxPath
  /// characters: a longer one keeps its end, after "…".
  std::string path() const {
    std::string out;
    for (const auto& f : frames_) {
      if (f.object) {
        if (!f.key) break;  // no key read yet
        if (!out.empty()) out += '.';
        out += key_name(*f.key);
      } else {
        out += '[' + std::to_string(f.number) + ']';
      }
      if (out.size() > 2 * kMaxPath) keep_end(out);  // bounded work at any depth
    }
    if (out.size() > kMaxPath) {
      keep_end(out);
      out.insert(0, "…");
    }
    return out;
  }

 private:
  static constexpr std::size_t kMaxPath = 200;
  /// The key of a keys_ entry (its object's serial number, NUL, the key).
  static std::string_view key_name(const std::string& entry) {
    return std::string_view(entry).substr(entry.find('\0') + 1);
  }
  /// Keeps the last kMaxPath bytes of `s`, from the first whole UTF-8 character on.
  static void keep_end(std::string& s) {
    std::size_t from = s.size() - kMaxPath;
    while (from < s.size() && (static_cast<unsigned char>(s[from]) & 0xC0) == 0x80)
      ++from;
    s.erase(0, from);
  }
  struct Frame {
    bool object;
    std::size_t number;      // objects: the serial number; arrays: the index of the element being read
    const std::string* key;  // objects: the entry of the key being read, in keys_ (nodes do not move)
    std::uint64_t path;      // this container's path number, kUnknown until a repeat needs it (0: the root)
  };
  static constexpr std::uint64_t kUnknown = std::numeric_limits<std::uint64_t>::max();
  void element_done() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().number;
  }
  /// The path number of the innermost container, working out those of its containers not known yet (a
  /// container's own stays as it is while it is open: its parent's key or index does not move meanwhile).
  std::uint64_t container_path() {
    std::size_t known = frames_.size() - 1;
    while (known > 0 && frames_[known].path == kUnknown)
      --known;
    if (frames_[known].path == kUnknown) frames_[known].path = 0;  // the root
    for (std::size_t i = known + 1; i < frames_.size(); ++i) {
      const auto& parent = frames_[i - 1];
      frames_[i].path = parent.object ? intern(parent.path, 'k', key_name(*parent.key))
                                      : intern(parent.path, 'i', std::to_string(parent.number));
    }
    return frames_.back().path;
  }
  /// The number of the path `parent` followed by one step (`kind` 'k': a key, 'i': an index).
  std::uint64_t intern(std::uint64_t parent, char kind, std::string_view step) {
    std::string entry(reinterpret_cast<const char*>(&parent), sizeof parent);
    entry += kind;
    entry += step;
    return paths_.try_emplace(std::move(entry), paths_.size() + 1).first->second;
  }
  std::vector<Frame> frames_;
  std::unordered_set<std::string> keys_;
  std::unordered_map<std::string, std::uint64_t> paths_;
  std::size_t serial_ = 0;
  std::vector<FieldError> repeats_;
  std::unordered_set<std::uint64_t> repeated_;  // the path numbers of the keys seen more than once
};

}  // namespace

nlohmann::json parse_object(std::string_view body) {
  const auto malformed = [] {
    return Error(Errc::bad_request, "the body is not valid JSON", {{"body", "malformed JSON"}});
  };
  // nlohmann's reader ends the input at a NUL byte, which JSON allows nowhere (not even inside a string):
  // `{"title":"a"}\0{"title":"b"}` was read as the first object.
  if (body.find('\0') != std::string_view::npos) throw malformed();
  RepeatedKeys repeated;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(body, [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
      return repeated.on_event(event, parsed);
    });
  } catch (const nlohmann::json::out_of_range&) {
    // A number too large for a double (1e400): valid JSON, a value out of range for any field.
    const std::string at = repeated.path();
    throw Error(Errc::unprocessable, (at.empty() ? std::string("a number") : at) + ": number out of range",
                {{at.empty() ? std::string("body") : at, "number out of range"}});
  } catch (const nlohmann::json::exception&) {
    throw malformed();
  }
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

std::optional<std::int64_t> Reader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
  auto it = object_.find(key);
  if (it == object_.end()) return std::nullopt;
  // An unsigned value above INT64_MAX would wrap to a negative one; it is out of range like any other.
  const bool fits =
      it->is_number_integer() &&
      (!it->is_number_unsigned() ||
       it->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (fits) {
    const auto v = it->get<std::int64_t>();
    if (v >= min && v <= max) return v;
  }
  fail(std::string(key), "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return std::nullopt;
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

// Task input validation and in-memory patching.
#include "todo/tasks/validation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "todo/core/error.hpp"
#include "todo/core/json.hpp"
#include "todo/core/text.hpp"
#include "todo/recurrence/expand.hpp"
#include "todo/recurrence/rule.hpp"
#include "todo/recurrence/zone.hpp"

namespace todo::tasks {
namespace {

constexpr const char* kNeedsARule = "is a setting of a recurring task: give a recurrence too";

/// Whether a stored rule and a patch's (canonical) one are the same rule, whatever the stored one's spelling.
bool same_rule(const std::optional<std::string>& stored, const std::optional<std::string>& patched) {
  if (!stored || !patched) return !stored && !patched;
  if (*stored == *patched) return true;
  try {
    return recurrence::to_string(recurrence::parse(*stored)) == *patched;
  } catch (const recurrence::RuleError&) {
    return false;  // stored before rules were checked: any valid rule replaces it
  }
}

// A title is one line: trimmed of Unicode white space (no-break and ideographic spaces included, so one of
// those alone is empty), with no control character (newlines and tabs included, and C1's U+0085).
std::optional<std::string> check_title(json::Reader& r, const std::string& raw) {
  // JSON strings are valid UTF-8 (json::parse checks). NFC: "e" + U+0301 and "é" are one title to search.
  std::string t = nfc(trim_unicode(raw));
  if (t.empty())
    r.fail("title", "must not be empty");
  else if (!has_visible_char(t))
    r.fail("title", "must have a visible character (not only zero-width or formatting characters)");
  else if (utf8_length(t) > kMaxTitle)
    r.fail("title", "must be at most 500 characters");
  else if (!is_one_line(t))
    r.fail("title",
           "must be one line without control characters (no tab, newline or U+0000–U+001F, "
           "U+007F–U+009F)");
  else
    return t;
  return std::nullopt;
}

std::optional<std::string> check_description(json::Reader& r, const std::string& raw) {
  const std::string d = nfc(raw);  // as titles: searched in one spelling
  if (utf8_length(d) > kMaxDescription) {
    r.fail("description", "must be at most 10000 characters");
    return std::nullopt;
  }
  // PostgreSQL text cannot hold U+0000; libpq would silently cut the value there.
  if (d.find('\0') != std::string::npos) {
    r.fail("description", "must not contain NUL characters");
    return std::nullopt;
  }
  return d;
}

// At most 20 once lower-cased and de-duplicated: ["a", "A", …] is one tag however often it is sent.
std::optional<std::vector<std::string>> check_tags(json::Reader& r, std::vector<std::string> tags) {
  std::vector<std::string> out;
  bool good = true;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (auto problem = tag_problem(tags[i])) {
      r.fail("tags[" + std::to_string(i) + "]", *problem);
      good = false;
    } else if (std::find(out.begin(), out.end(), tags[i]) == out.end()) {
      out.push_back(std::move(tags[i]));
      if (out.size() > kMaxTags) {
        r.fail("tags", "at most 20 different tags (after lower-casing)");
        return std::nullopt;
      }
    }
  }
  if (!good) return std::nullopt;
  return out;
}

std::optional<Instant> check_instant(json::Reader& r, const char* field, const std::string& s) {
  auto t = parse_rfc3339(s);
  if (!t) r.fail(field, rfc3339_problem(s));
  return t;
}

std::optional<std::string> check_recurrence(json::Reader& r, const std::string& s) {
  if (s.empty() || s.size() > kMaxRecurrence || has_any_control_char(s)) {
    r.fail("recurrence", s.empty()                   ? "must not be empty (null means no recurrence)"
                         : s.size() > kMaxRecurrence ? "must be at most 1000 characters"
                                                     : "must not contain control characters");
    return std::nullopt;
  }
  try {
    // Stored in its canonical form ("rrule:freq=daily;interval=1" is "FREQ=DAILY"), as the chat writes rules.
    return recurrence::to_string(recurrence::parse(s));
  } catch (const recurrence::RuleError& e) {
    r.fail("recurrence", e.what());
    return std::nullopt;
  }
}

std::optional<int> check_generate_ahead(json::Reader& r) {
  const auto v = r.integer("generate_ahead", 0, kMaxGenerateAhead);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

constexpr const char* kRecurrenceModeValues = "fixed, after_completion";

template <class T, class Parse>
std::optional<T> check_enum(json::Reader& r, const char* field, const std::optional<std::string>& s,
                            Parse parse, const char* allowed) {
  if (!s) return std::nullopt;
  auto v = parse(*s);
  if (!v) r.fail(field, std::string("must be one of ") + allowed);
  return v;
}

constexpr const char* kPriorityValues = "none, low, medium, high, urgent";
constexpr const char* kStatusValues = "open, done";

// A body's "version": the task version a change expects, 1 to 2^63-1 as in If-Match. One that no task has
// (above 2^31-1, say) is no error here: it does not match the task's (409).
std::optional<std::int64_t> check_version_field(json::Reader& r) {
  return r.integer("version", 1, std::numeric_limits<std::int64_t>::max());
}

}  // namespace

std::optional<std::string> tag_problem(std::string& tag) {
  // Tags from a query string are raw percent-decoded bytes.
  if (!valid_utf8(tag)) return "must be valid UTF-8";
  // Lower-cased by Unicode, not ASCII alone: "ÉCOLE" and "école" are one tag, and tag=привет finds ПРИВЕТ.
  // NFC first: "e" + U+0301 and "é" are one tag.
  std::string t = lower_unicode(nfc(trim_unicode(tag)));
  if (t.empty()) return "must not be empty";
  if (utf8_length(t) > kMaxTagLength) return "must be at most 50 characters";
  if (t.find(',') != std::string::npos || has_unicode_space(t) || has_any_control_char(t))
    return "must not contain spaces, commas or control characters";
  if (has_invisible_separator(t))
    return "must not contain invisible characters (zero-width space, direction mark, …)";
  if (!has_visible_char(t)) return "must have a visible character";
  tag = std::move(t);
  return std::nullopt;
}

NewTask parse_new_task(const nlohmann::json& body) {
  json::Reader r(body, {"title", "description", "status", "priority", "tags", "due_at", "all_day", "timezone",
                        "recurrence", "recurrence_mode", "generate_ahead"});
  NewTask t;
  if (auto title = r.string("title")) {
    if (auto ok = check_title(r, *title)) t.title = std::move(*ok);
  } else if (!r.has("title")) {
    r.fail("title", "is required");
  }
  // null is the default (an empty description, no tags), as it clears them in a PATCH.
  if (!r.is_null("description"))
    if (auto d = r.string("description"))
      if (auto ok = check_description(r, *d)) t.description = std::move(*ok);
  if (auto s = check_enum<Status>(r, "status", r.string("status"), parse_status, kStatusValues))
    t.status = *s;
  if (auto p = check_enum<Priority>(r, "priority", r.string("priority"), parse_priority, kPriorityValues))
    t.priority = *p;
  if (!r.is_null("tags"))
    if (auto tags = r.string_array("tags"))
      if (auto ok = check_tags(r, std::move(*tags))) t.tags = std::move(*ok);
  if (auto due = r.nullable_string("due_at"); due && *due) t.due_at = check_instant(r, "due_at", **due);
  if (auto all_day = r.boolean("all_day")) t.all_day = *all_day;
  if (auto tz = r.string("timezone")) {
    if (!is_valid_timezone(*tz)) r.fail("timezone", "must be an IANA time zone such as Europe/Berlin");
    t.timezone = std::move(*tz);
  }
  if (auto rec = r.nullable_string("recurrence"); rec && *rec) {
    t.recurrence = check_recurrence(r, **rec);
    if (!r.has("due_at") || r.is_null("due_at")) r.fail("due_at", "is required for a recurring task");
  }
  if (auto m = check_enum<RecurrenceMode>(r, "recurrence_mode", r.string("recurrence_mode"),
                                          parse_recurrence_mode, kRecurrenceModeValues))
    t.recurrence_mode = *m;
  if (auto g = check_generate_ahead(r)) t.generate_ahead = *g;
  if (!r.has("recurrence") || r.is_null("recurrence")) {
    // Settings of a series on a task that is none would be kept and never used.
    if (t.generate_ahead > 0) r.fail("generate_ahead", kNeedsARule);
    if (t.recurrence_mode != RecurrenceMode::fixed) r.fail("recurrence_mode", kNeedsARule);
  }
  r.finish();
  return t;
}

TaskPatch parse_task_patch(const nlohmann::json& body) {
  json::Reader r(body, {"title", "description", "status", "priority", "tags", "due_at", "all_day", "timezone",
                        "recurrence", "recurrence_mode", "generate_ahead", "version"});
  TaskPatch p;
  if (auto title = r.string("title")) p.title = check_title(r, *title);
  if (r.is_null("description"))
    p.description = "";
  else if (auto d = r.string("description"))
    p.description = check_description(r, *d);
  p.status = check_enum<Status>(r, "status", r.string("status"), parse_status, kStatusValues);
  p.priority = check_enum<Priority>(r, "priority", r.string("priority"), parse_priority, kPriorityValues);
  if (r.is_null("tags"))
    p.tags = std::vector<std::string>{};
  else if (auto tags = r.string_array("tags"))
    p.tags = check_tags(r, std::move(*tags));
  if (auto due = r.nullable_string("due_at")) {
    if (!*due)
      p.due_at = std::optional<Instant>{};
    else if (auto t = check_instant(r, "due_at", **due))
      p.due_at = std::optional<Instant>{*t};
  }
  p.all_day = r.boolean("all_day");
  if (auto tz = r.string("timezone")) {
    if (!is_valid_timezone(*tz))
      r.fail("timezone", "must be an IANA time zone such as Europe/Berlin");
    else
      p.timezone = std::move(*tz);
  }
  if (auto rec = r.nullable_string("recurrence")) {
    if (!*rec)
      p.recurrence = std::optional<std::string>{};
    else if (auto ok = check_recurrence(r, **rec))
      p.recurrence = std::optional<std::string>{*ok};
  }
  p.recurrence_mode = check_enum<RecurrenceMode>(r, "recurrence_mode", r.string("recurrence_mode"),
                                                 parse_recurrence_mode, kRecurrenceModeValues);
  p.generate_ahead = check_generate_ahead(r);
  p.version = check_version_field(r);
  r.finish();
  return p;
}

std::optional<std::int64_t> parse_version_body(const nlohmann::json& body) {
  json::Reader r(body, {"version"});
  auto v = check_version_field(r);
  r.finish();
  return v;
}

bool Expected::matches(std::int64_t version) const {
  return any() || std::find(versions.begin(), versions.end(), version) != versions.end();
}

Expected Expected::with_body(std::optional<std::int64_t> body_version) const {
  if (!body_version) return *this;
  if (any()) {
    Expected body = *this;
    body.versions = {*body_version};
    body.source = "version";
    return body;
  }
  if (!matches(*body_version)) throw invalid("version", "differs from the If-Match header");
  return *this;
}

void Expected::check(std::int64_t current) const {
  if (matches(current)) {
    // RFC 9110 13.2.2: If-None-Match after If-Match.
    if (none_match_any)
      throw Error(Errc::precondition,
                  "If-None-Match: * refuses a change of a task that exists (its version is " +
                      std::to_string(current) + ")",
                  {{"If-None-Match", "* matches the task, version " + std::to_string(current)}});
    if (std::find(none_match.begin(), none_match.end(), current) != none_match.end())
      throw Error(Errc::precondition,
                  "If-None-Match names the task's current version, " + std::to_string(current) +
                      ": the change is refused",
                  {{"If-None-Match", "names the current version " + std::to_string(current)}});
    return;
  }
  if (versions.empty())
    throw Error(Errc::conflict,
                source +
                    " names no version of the task (a weak tag never matches, and a tag is the ETag as "
                    "given: \"03\" is not \"3\"); it is " +
                    std::to_string(current) + "; reload it and try again",
                {{source, "names no version, current " + std::to_string(current)}});
  std::string wanted;
  for (std::size_t i = 0; i < versions.size(); ++i)
    wanted += (i == 0 ? "" : i + 1 == versions.size() ? " or " : ", ") + std::to_string(versions[i]);
  throw Error(Errc::conflict,
              "the task was changed meanwhile: version " + wanted + " was expected but it is " +
                  std::to_string(current) + "; reload it and try again",
              {{source, "expected " + wanted + ", current " + std::to_string(current)}});
}

Scope parse_scope(const std::vector<std::pair<std::string, std::string>>& query) {
  Scope scope = Scope::this_occurrence;
  bool seen = false;
  for (const auto& [k, v] : query) {
    if (k != "scope") continue;
    if (seen) throw repeated_parameter(k);
    seen = true;
    if (v == "this")
      scope = Scope::this_occurrence;
    else if (v == "series")
      scope = Scope::series;
    else
      throw invalid("scope", "must be this or series");
  }
  return scope;
}

void check_rule_settings(const Task& t, const TaskPatch& p, const Task& before) {
  if (t.recurrence) return;
  // The values the task has (kept when its rule was removed) are no new setting: a client saving its whole
  // form sends them back.
  if (p.generate_ahead && *p.generate_ahead > 0 && *p.generate_ahead != before.generate_ahead)
    throw invalid("generate_ahead", kNeedsARule);
  if (p.recurrence_mode && *p.recurrence_mode != RecurrenceMode::fixed &&
      *p.recurrence_mode != before.recurrence_mode)
    throw invalid("recurrence_mode", kNeedsARule);
}

void check_recurring(const Task& t) {
  if (!t.recurrence) return;
  if (!t.due_at) throw invalid("due_at", "is required for a recurring task");
  if (t.generate_ahead > 0 && t.recurrence_mode != RecurrenceMode::fixed)
    throw invalid("generate_ahead",
                  "needs recurrence_mode fixed (after_completion dates depend on completion)");
}

void check_occurs(const Task& t) {
  if (!t.recurrence || !t.due_at || t.recurrence_mode != RecurrenceMode::fixed) return;
  const Instant start = t.series_start.value_or(*t.due_at);
  if (recurrence::never_occurs_after_start(recurrence::parse(*t.recurrence), start, t.timezone))
    throw invalid("recurrence", "never occurs after the series' start (due_at " + format_rfc3339(start) +
                                    ", " + t.timezone + "): no later date matches the rule");
}

std::vector<Change> apply_patch(Task& t, const TaskPatch& p, Instant now) {
  std::vector<Change> changes;
  auto instant_json = [](const std::optional<Instant>& i) -> nlohmann::json {
    return i ? nlohmann::json(format_rfc3339(*i)) : nlohmann::json(nullptr);
  };
  auto set = [&](const char* field, auto& slot, const auto& value, auto to_json) {
    if (slot == value) return;
    changes.push_back({field, to_json(slot), to_json(value)});
    slot = value;
  };
  auto same = [](const auto& v) { return nlohmann::json(v); };
  auto opt_string = [](const std::optional<std::string>& s) {
    return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
  };
  if (p.title) set("title", t.title, *p.title, same);
  if (p.description) set("description", t.description, *p.description, same);
  if (p.priority)
    set("priority", t.priority, *p.priority, [](Priority v) { return nlohmann::json(to_string(v)); });
  if (p.tags) set("tags", t.tags, *p.tags, same);
  if (p.due_at) set("due_at", t.due_at, *p.due_at, instant_json);
  if (p.all_day) set("all_day", t.all_day, *p.all_day, same);
  if (p.timezone && *p.timezone != t.timezone) {
    // An all-day task's day is the date of its due_at in its zone: in a new zone it keeps its day (and wall
    // time) unless the patch gives a due_at too. A timed task keeps its instant.
    if (t.all_day && t.due_at && !p.due_at && !t.timezone.empty()) {
      const Instant kept =
          recurrence::zone(*p.timezone).to_instant(recurrence::zone(t.timezone).to_local(*t.due_at));
      if (in_rfc3339_range(kept)) set("due_at", t.due_at, std::optional<Instant>{kept}, instant_json);
    }
    set("timezone", t.timezone, *p.timezone, same);
  }
  // A rule stored before rules were stored in canonical form is the same rule in another spelling.
  if (p.recurrence && !same_rule(t.recurrence, *p.recurrence))
    set("recurrence", t.recurrence, *p.recurrence, opt_string);
  if (p.recurrence_mode)
    set("recurrence_mode", t.recurrence_mode, *p.recurrence_mode,
        [](RecurrenceMode v) { return nlohmann::json(to_string(v)); });
  if (p.generate_ahead) set("generate_ahead", t.generate_ahead, *p.generate_ahead, same);
  if (p.status && *p.status != t.status) {
    const auto completed = *p.status == Status::done ? std::optional<Instant>{now} : std::nullopt;
    set("status", t.status, *p.status, [](Status v) { return nlohmann::json(to_string(v)); });
    set("completed_at", t.completed_at, completed, instant_json);
  }
  return changes;
}

}  // namespace todo::tasks

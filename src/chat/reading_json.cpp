// Strict reading of a Reading's JSON form: what a language model's tool call may say, checked field by field.
#include "todo/chat/reading_json.hpp"

#include <charconv>
#include <cmath>

#include "todo/core/text.hpp"
#include "todo/tasks/model.hpp"
#include "todo/tasks/validation.hpp"

namespace todo::chat {
namespace {

constexpr Intent kIntents[] = {
    Intent::create, Intent::list,         Intent::complete,       Intent::reopen,         Intent::remove,
    Intent::update, Intent::add_reminder, Intent::make_recurring, Intent::stop_recurring, Intent::undo,
    Intent::help,   Intent::confirm,      Intent::deny,           Intent::select,         Intent::unknown};

using Errors = std::vector<FieldError>;

constexpr const char* kShiftRule =
    "must be an ISO 8601 duration of one unit with a count from 1 to 9999 (P2D, P1W, P1M, P1Y, PT3H, PT30M; "
    "-P2D for earlier), or null";

std::optional<Priority> priority_of(const nlohmann::json& v) {
  if (!v.is_string()) return std::nullopt;
  auto p = tasks::parse_priority(v.get<std::string>());
  if (!p) return std::nullopt;
  return static_cast<Priority>(static_cast<int>(*p));
}

std::optional<Instant> instant_of(const nlohmann::json& v) {
  if (!v.is_string()) return std::nullopt;
  return parse_rfc3339(v.get<std::string>());
}

bool good_text(const nlohmann::json& v, std::size_t max) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return valid_utf8(s) && utf8_length(s) <= max && !has_control_chars(s);
}

/// An RRULE value: FREQ=…;KEY=VALUE… in upper-case letters, digits and , ; = : + - (the recurrence module
/// validates the rule itself once it lands).
bool good_rule(std::string& s) {
  if (s.rfind("RRULE:", 0) == 0) s.erase(0, 6);
  if (s.empty() || s.size() > tasks::kMaxRecurrence || s.find("FREQ=") == std::string::npos) return false;
  for (unsigned char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ';' || c == '=' || c == ',' || c == ':' ||
          c == '+' || c == '-'))
      return false;
  return true;
}

/// "PT30M", "P1D", "PT1H30M", "PT0S" → seconds; nullopt for anything else (no years, months or weeks).
std::optional<std::chrono::seconds> duration_of(std::string_view s) {
  if (s.size() < 3 || s.front() != 'P') return std::nullopt;
  s.remove_prefix(1);
  long long total = 0;
  bool in_time = false, any = false;
  while (!s.empty()) {
    if (s.front() == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      s.remove_prefix(1);
      continue;
    }
    long long n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || p == s.data() || p == s.data() + s.size() || n > 366LL * 86400)
      return std::nullopt;
    const char unit = *p;
    s.remove_prefix(static_cast<std::size_t>(p - s.data()) + 1);
    if (!in_time && unit == 'D')
      total += n * 86400;
    else if (in_time && unit == 'H')
      total += n * 3600;
    else if (in_time && unit == 'M')
      total += n * 60;
    else if (in_time && unit == 'S')
      total += n;
    else
      return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  return std::chrono::seconds(total);
}

void read_query(const nlohmann::json& v, Reading& r, Errors& errors) {
  if (v.is_null()) return;
  if (!v.is_object()) {
    errors.push_back({"query", "must be an object or null"});
    return;
  }
  Query q;
  for (const auto& [key, value] : v.items()) {
    const std::string field = "query." + key;
    if (key == "status") {
      if (value.is_string() && (value == "open" || value == "done"))
        q.status = value.get<std::string>();
      else
        errors.push_back({field, "must be open or done"});
    } else if (key == "priority") {
      if (!value.is_array() || value.size() > 5) {
        errors.push_back({field, "must be an array of priorities"});
        continue;
      }
      for (const auto& p : value) {
        if (auto pr = priority_of(p))
          q.priorities.push_back(*pr);
        else
          errors.push_back({field, "must be none, low, medium, high or urgent"});
      }
    } else if (key == "tag") {
      if (!value.is_array() || value.size() > tasks::kMaxTags) {
        errors.push_back({field, "must be an array of at most 20 tags"});
        continue;
      }
      for (const auto& t : value) {
        std::string tag = t.is_string() ? t.get<std::string>() : std::string();
        if (auto problem =
                t.is_string() ? tasks::tag_problem(tag) : std::optional<std::string>("must be a string"))
          errors.push_back({field, *problem});
        else
          q.tags.push_back(std::move(tag));
      }
    } else if (key == "due_after" || key == "due_before") {
      if (value.is_null()) continue;
      auto t = instant_of(value);
      if (!t)
        errors.push_back({field, "must be an RFC 3339 date-time with an offset"});
      else
        (key == "due_after" ? q.due_after : q.due_before) = t;
    } else if (key == "overdue" || key == "has_due") {
      if (!value.is_boolean()) {
        errors.push_back({field, "must be true or false"});
        continue;
      }
      if (key == "overdue")
        q.overdue = value.get<bool>();
      else
        q.has_due = value.get<bool>();
    } else if (key == "q") {
      if (value.is_null()) continue;
      if (!good_text(value, 500))
        errors.push_back({field, "must be text of at most 500 characters"});
      else if (!trim(value.get<std::string>()).empty())
        q.q = value.get<std::string>();
    } else {
      errors.push_back({field, "unknown field"});
    }
  }
  r.query = std::move(q);
}

void read_reminders(const nlohmann::json& v, Reading& r, Errors& errors) {
  if (!v.is_array() || v.size() > 10) {
    errors.push_back({"reminders", "must be an array of at most 10 reminders"});
    return;
  }
  for (const auto& m : v) {
    Reminder rem;
    if (m.is_object() && m.size() == 1 && m.contains("before_due") && m["before_due"].is_string())
      rem.before_due = duration_of(m["before_due"].get<std::string>());
    else if (m.is_object() && m.size() == 1 && m.contains("at"))
      rem.at = instant_of(m["at"]);
    if (!rem.before_due && !rem.at)
      errors.push_back({"reminders", "each is {\"before_due\": ISO 8601 duration} or {\"at\": RFC 3339}"});
    else
      r.reminders.push_back(rem);
  }
}

}  // namespace

std::optional<Intent> parse_intent(std::string_view s) {
  for (auto i : kIntents)
    if (to_string(i) == s) return i;
  return std::nullopt;
}

std::optional<Reading> reading_from_json(const nlohmann::json& j, Instant now, Errors& errors) {
  const std::size_t before = errors.size();
  if (!j.is_object()) {
    errors.push_back({"", "must be a JSON object"});
    return std::nullopt;
  }
  Reading r;
  r.confidence = 0.8;  // a model's answer that passes every check, unless it says otherwise
  bool has_intent = false;
  for (const auto& [key, v] : j.items()) {
    if (key == "intent") {
      auto i = v.is_string() ? parse_intent(v.get<std::string>()) : std::nullopt;
      if (!i)
        errors.push_back({key,
                          "must be one of create, list, complete, reopen, delete, update, add_reminder, "
                          "make_recurring, stop_recurring, undo, help, confirm, deny, select, unknown"});
      else
        r.intent = *i, has_intent = true;
    } else if (key == "confidence") {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0 || v.get<double>() > 1)
        errors.push_back({key, "must be a number from 0 to 1"});
      else
        r.confidence = v.get<double>();
    } else if (key == "title") {
      if (!good_text(v, tasks::kMaxTitle))
        errors.push_back({key, "must be text of at most 500 characters without control characters"});
      else
        r.title = std::string(trim(v.get<std::string>()));
    } else if (key == "target") {
      if (!good_text(v, tasks::kMaxTitle))
        errors.push_back({key, "must be text of at most 500 characters without control characters"});
      else
        r.target = std::string(trim(v.get<std::string>()));
    } else if (key == "due_at") {
      if (v.is_null()) continue;
      auto t = instant_of(v);
      if (!t)
        errors.push_back({key, "must be an RFC 3339 date-time with an offset, or null"});
      else if (*t < now - std::chrono::hours(24))
        errors.push_back({key, "is in the past"});
      else
        r.due_at = t;
    } else if (key == "shift") {
      if (v.is_null()) continue;
      auto shift = v.is_string() ? parse_shift(v.get<std::string>()) : std::nullopt;
      if (!shift)
        errors.push_back({key, kShiftRule});
      else
        r.shift = shift;
    } else if (key == "all_day") {
      if (!v.is_boolean())
        errors.push_back({key, "must be true or false"});
      else
        r.all_day = v.get<bool>();
    } else if (key == "recurrence") {
      if (v.is_null()) continue;
      std::string rule = v.is_string() ? v.get<std::string>() : std::string();
      if (!good_rule(rule))
        errors.push_back({key, "must be an RFC 5545 RRULE value such as FREQ=WEEKLY;BYDAY=MO, or null"});
      else
        r.recurrence = std::move(rule);
    } else if (key == "recurrence_mode") {
      if (v == "fixed")
        r.recurrence_mode = RecurrenceMode::fixed;
      else if (v == "after_completion")
        r.recurrence_mode = RecurrenceMode::after_completion;
      else
        errors.push_back({key, "must be fixed or after_completion"});
    } else if (key == "priority") {
      if (v.is_null()) continue;
      if (auto p = priority_of(v))
        r.priority = p;
      else
        errors.push_back({key, "must be none, low, medium, high or urgent, or null"});
    } else if (key == "tags") {
      if (!v.is_array() || v.size() > tasks::kMaxTags) {
        errors.push_back({key, "must be an array of at most 20 tags"});
        continue;
      }
      for (const auto& t : v) {
        std::string tag = t.is_string() ? t.get<std::string>() : std::string();
        if (auto problem =
                t.is_string() ? tasks::tag_problem(tag) : std::optional<std::string>("must be a string"))
          errors.push_back({key, *problem});
        else if (std::find(r.tags.begin(), r.tags.end(), tag) == r.tags.end())
          r.tags.push_back(std::move(tag));
      }
    } else if (key == "query") {
      read_query(v, r, errors);
    } else if (key == "index") {
      if (v.is_null()) continue;
      if (!v.is_number_integer() ||
          (v.get<long long>() != -1 && (v.get<long long>() < 1 || v.get<long long>() > 50)))
        errors.push_back({key, "must be a whole number from 1 to 50, or -1 for the last one"});
      else
        r.index = static_cast<int>(v.get<long long>());
    } else if (key == "reminders") {
      read_reminders(v, r, errors);
    } else {
      errors.push_back({key, "unknown field"});
    }
  }
  if (!has_intent && errors.size() == before) errors.push_back({"intent", "is required"});
  if (errors.size() == before) {
    switch (r.intent) {
      case Intent::create:
        if (r.title.empty()) errors.push_back({"title", "is required to create a task"});
        break;
      case Intent::complete:
      case Intent::reopen:
      case Intent::remove:
      case Intent::update:
      case Intent::add_reminder:
      case Intent::make_recurring:
      case Intent::stop_recurring:
        if (r.target.empty()) errors.push_back({"target", "is required to name the task"});
        if (r.intent == Intent::make_recurring && !r.recurrence)
          errors.push_back({"recurrence", "is required to make a task recurring"});
        break;
      case Intent::select:
        if (!r.index) errors.push_back({"index", "is required to select an option"});
        break;
      case Intent::list:
        if (!r.query) r.query = Query{};
        break;
      default:
        break;
    }
    if (r.shift && r.intent != Intent::update)
      errors.push_back({"shift", "only an update moves a task by an amount"});
    else if (r.shift && (r.due_at || r.recurrence))
      errors.push_back({"shift", "a move by an amount goes without due_at and recurrence"});
    if (r.intent != Intent::list) r.query.reset();
    if (r.all_day && !r.due_at) r.all_day = false;
  }
  if (errors.size() != before) return std::nullopt;
  return r;
}

nlohmann::json reading_schema() {
  const nlohmann::json priority = {{"type", {"string", "null"}},
                                   {"enum", {"none", "low", "medium", "high", "urgent", nullptr}}};
  const nlohmann::json instant = {{"type", {"string", "null"}},
                                  {"format", "date-time"},
                                  {"description", "RFC 3339 with an offset, e.g. 2026-03-05T17:00:00Z"}};
  const nlohmann::json text = {{"type", "string"}, {"maxLength", 500}};
  const nlohmann::json tags = {{"type", "array"}, {"items", {{"type", "string"}}}, {"maxItems", 20}};
  nlohmann::json intents = nlohmann::json::array();
  for (auto i : kIntents)
    intents.push_back(to_string(i));

  nlohmann::json query_props = nlohmann::json::object();
  query_props["status"] = {{"type", "string"}, {"enum", {"open", "done"}}};
  query_props["priority"] = {{"type", "array"}, {"items", priority}};
  query_props["tag"] = tags;
  query_props["due_after"] = instant;
  query_props["due_before"] = instant;
  query_props["overdue"] = {{"type", "boolean"}};
  query_props["has_due"] = {{"type", "boolean"}};
  query_props["q"] = text;
  nlohmann::json query = {{"type", {"object", "null"}},
                          {"description", "list: filters as for GET /api/v1/tasks"},
                          {"additionalProperties", false}};
  query["properties"] = std::move(query_props);

  nlohmann::json reminder_props = nlohmann::json::object();
  reminder_props["before_due"] = {{"type", "string"}, {"description", "ISO 8601 duration, e.g. PT30M"}};
  reminder_props["at"] = instant;
  nlohmann::json reminder = {{"type", "object"}, {"additionalProperties", false}};
  reminder["properties"] = std::move(reminder_props);

  nlohmann::json props = nlohmann::json::object();
  props["intent"] = {{"type", "string"}, {"enum", intents}, {"description", "what the user asks for"}};
  props["confidence"] = {{"type", "number"}, {"minimum", 0}, {"maximum", 1}};
  props["title"] = text;
  props["title"]["description"] = "create: the new task's title; update: a new title";
  props["due_at"] = instant;
  props["due_at"]["description"] =
      "create/update: the due date; add_reminder: the time the user gives the task named (\"remind me 1 hour "
      "before the meeting tomorrow at 3pm\"), which before_due reminders count back from";
  props["shift"] = {
      {"type", {"string", "null"}},
      {"pattern", "^-?P(T[1-9][0-9]{0,3}[HM]|[1-9][0-9]{0,3}[DWMY])$"},
      {"description",
       "update: move the task's due date by this amount instead of to a date (\"postpone X by 2 days\"): "
       "P2D, P1W, P1M, P1Y, PT3H, PT30M; with a leading minus sign earlier (-P1D). Never with due_at"}};
  props["all_day"] = {
      {"type", "boolean"},
      {"description", "true when only a day was given; due_at is then its start in the user's zone"}};
  props["recurrence"] = {{"type", {"string", "null"}},
                         {"description", "RFC 5545 RRULE value without 'RRULE:', e.g. FREQ=WEEKLY;BYDAY=SU"}};
  props["recurrence_mode"] = {{"type", "string"}, {"enum", {"fixed", "after_completion"}}};
  props["priority"] = priority;
  props["tags"] = tags;
  props["target"] = text;
  props["target"]["description"] = "commands on an existing task: words of its title";
  props["index"] = {{"type", {"integer", "null"}},
                    {"description", "select: the 1-based choice, -1 for the last"}};
  props["reminders"] = {{"type", "array"}, {"items", reminder}, {"maxItems", 10}};
  props["query"] = std::move(query);

  nlohmann::json schema = {{"type", "object"}, {"additionalProperties", false}};
  schema["required"] = nlohmann::json::array({"intent"});
  schema["properties"] = std::move(props);
  return schema;
}

}  // namespace todo::chat

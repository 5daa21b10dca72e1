// Reminder JSON and input validation.
#include "todo/reminders/model.hpp"

#include "todo/core/error.hpp"
#include "todo/core/json.hpp"

namespace todo::reminders {
namespace {

nlohmann::json optional_time(const std::optional<Instant>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

// A duration field: ISO 8601, within the limit, and positive unless zero is allowed.
std::optional<Duration> check_duration(json::Reader& r, const char* field, const std::string& s,
                                       bool allow_zero) {
  auto d = parse_duration(s);
  if (!d) {
    r.fail(field, "must be an ISO 8601 duration such as PT15M, PT1H or P1D");
    return std::nullopt;
  }
  const double secs = approx_seconds(*d);
  if (!allow_zero && secs <= 0) {
    r.fail(field, "must be longer than zero");
    return std::nullopt;
  }
  if (secs > kMaxDurationSeconds) {
    r.fail(field, "must be at most a year (P1Y)");
    return std::nullopt;
  }
  return d;
}

}  // namespace

nlohmann::json to_json(const Reminder& r) {
  return {{"id", r.id},
          {"task_id", r.task_id},
          {"at", optional_time(r.at)},
          {"before_due", r.before_due ? nlohmann::json(*r.before_due) : nlohmann::json(nullptr)},
          {"fire_at", optional_time(r.fire_at)},
          {"snoozed", r.snoozed},
          {"state", r.state},
          {"fired_at", optional_time(r.fired_at)},
          {"delivered_at", optional_time(r.delivered_at)},
          {"attempts", r.attempts},
          {"next_attempt_at", optional_time(r.next_attempt_at)},
          {"last_error", r.last_error ? nlohmann::json(*r.last_error) : nlohmann::json(nullptr)},
          {"created_at", format_rfc3339(r.created_at)},
          {"updated_at", format_rfc3339(r.updated_at)}};
}

NewReminder parse_new_reminder(const nlohmann::json& body) {
  json::Reader r(body, {"at", "before_due"});
  NewReminder out;
  const bool has_at = r.has("at") && !r.is_null("at");
  const bool has_before = r.has("before_due") && !r.is_null("before_due");
  if (has_at && has_before) {
    r.fail("before_due", "give either at or before_due, not both");
  } else if (!has_at && !has_before) {
    r.fail("at", "give at (an RFC 3339 date-time) or before_due (an ISO 8601 duration)");
  } else if (has_at) {
    if (auto s = r.string("at")) {
      out.at = parse_rfc3339(*s);
      if (!out.at) r.fail("at", rfc3339_problem(*s));
    }
  } else if (auto s = r.string("before_due")) {
    out.before_due = check_duration(r, "before_due", *s, /*allow_zero=*/true);
  }
  r.finish();
  return out;
}

Duration parse_snooze(const nlohmann::json& body) {
  json::Reader r(body, {"duration"});
  std::optional<Duration> d;
  if (!r.has("duration") || r.is_null("duration"))
    r.fail("duration", "is required (an ISO 8601 duration such as PT10M)");
  else if (auto s = r.string("duration"))
    d = check_duration(r, "duration", *s, /*allow_zero=*/false);
  r.finish();
  return *d;
}

}  // namespace todo::reminders

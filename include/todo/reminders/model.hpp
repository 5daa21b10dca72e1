// Reminders: the stored reminder, its JSON view, and validation of reminder input.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "todo/core/time.hpp"
#include "todo/reminders/duration.hpp"

namespace todo::reminders {

/// At most this many reminders per task.
inline constexpr int kMaxPerTask = 10;
/// The longest `before_due` and snooze duration (about a year: P1Y passes, P13M does not).
inline constexpr double kMaxDurationSeconds = 366.0 * 86400;

/// A reminder as stored. Exactly one of `at` (absolute) and `before_due` (relative to the task's due_at) is
/// set.
struct Reminder {
  std::string id;
  std::string user_id;
  std::string task_id;
  std::optional<Instant> at;
  std::optional<std::string> before_due;  // canonical ISO 8601 duration
  std::optional<Instant> fire_at;         // null: relative and the task has no due date
  bool snoozed = false;
  std::string state;  // scheduled | firing | delivered | failed | cancelled (task done) | missed
  std::optional<Instant> fired_at;
  std::optional<Instant> delivered_at;
  int attempts = 0;  // e-mail attempts for the current firing
  std::optional<Instant> next_attempt_at;
  std::optional<std::string> last_error;
  Instant created_at{};
  Instant updated_at{};
};

/// The API's view of a reminder.
nlohmann::json to_json(const Reminder& r);

/// A validated POST /tasks/{id}/reminders body: {"at": RFC 3339} or {"before_due": ISO 8601 duration}.
struct NewReminder {
  std::optional<Instant> at;
  std::optional<Duration> before_due;
};
/// Throws Error(unprocessable) naming each bad field.
NewReminder parse_new_reminder(const nlohmann::json& body);

/// A validated POST /reminders/{id}/snooze body: {"duration": ISO 8601 duration > 0}.
Duration parse_snooze(const nlohmann::json& body);

}  // namespace todo::reminders

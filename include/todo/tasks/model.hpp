// The task model and its JSON form.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "todo/core/time.hpp"

namespace todo::tasks {

/// Importance, ordered so that a larger value is more urgent (stored as smallint 0..4).
enum class Priority { none = 0, low = 1, medium = 2, high = 3, urgent = 4 };

std::string_view to_string(Priority p);
std::optional<Priority> parse_priority(std::string_view s);

/// Open or done.
enum class Status { open, done };
std::string_view to_string(Status s);
std::optional<Status> parse_status(std::string_view s);

/// How a recurring task's next occurrence is scheduled: by the rule's schedule, or the rule's interval after
/// the completion (like Todoist's "every!").
enum class RecurrenceMode { fixed, after_completion };
std::string_view to_string(RecurrenceMode m);
std::optional<RecurrenceMode> parse_recurrence_mode(std::string_view s);

inline constexpr int kMaxGenerateAhead = 52;

/// A stored task.
struct Task {
  std::string id;
  std::string user_id;
  std::string title;
  std::string description;
  Status status = Status::open;
  Priority priority = Priority::none;
  std::vector<std::string> tags;
  std::optional<Instant> due_at;
  bool all_day = false;
  std::string timezone;
  std::optional<std::string> recurrence;
  RecurrenceMode recurrence_mode = RecurrenceMode::fixed;
  std::optional<std::string> series_id;  // the series of a recurring task: the id of its first task
  std::optional<int> occurrence;         // index in the series, 0 = the first
  int generate_ahead = 0;                // future occurrences kept created in advance (fixed mode)
  std::optional<Instant> series_start;   // the rule's anchor (dtstart); not part of the API
  Instant created_at{};
  Instant updated_at{};
  std::optional<Instant> completed_at;
  int version = 1;
};

/// The API representation of a task.
nlohmann::json to_json(const Task& t);
/// The same as JSON text (to_json(t).dump(), byte for byte), written directly: responses that carry tasks
/// use it, since building the document costs more than the rest of such a request.
void append_json(std::string& out, const Task& t);
/// What the audit trail records for a task created (`{"field":[null,value],...}`) or deleted
/// (`[value,null]`): every member of its JSON but `id`.
void append_snapshot(std::string& out, const Task& t, bool created);

}  // namespace todo::tasks

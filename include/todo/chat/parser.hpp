// The offline chat parser: plain English about tasks → a structured Reading. Pure (no I/O, no Boost, no
// database), allocation-light and deterministic given its ParseContext.
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "todo/core/time.hpp"

namespace date {
class time_zone;
}

namespace todo::chat {

/// What the message asks for. Phase 2 (the dialog) acts on it; confirm/deny/select answer its questions.
enum class Intent {
  create,
  list,
  complete,
  reopen,
  remove,  // "delete" on the wire
  update,
  add_reminder,
  make_recurring,
  stop_recurring,
  undo,
  help,
  confirm,
  deny,
  select,
  unknown,
};
std::string_view to_string(Intent i);

/// How "3/5" reads: March 5 (month_first, the default) or 3 May (day_first).
enum class DateOrder { month_first, day_first };

/// Everything parse() depends on besides the text.
struct ParseContext {
  Instant now{};
  const date::time_zone* zone = nullptr;  // required; see make_context
  DateOrder order = DateOrder::month_first;
  /// The user's task titles, when known (the dialog's reading): the words after a command that spell one of
  /// them (case and spacing aside) name that task, date, recurrence, priority and tag words included
  /// ("delete weekly report", "move weekly report to friday").
  const std::vector<std::string>* titles = nullptr;
};

/// A context for `timezone` (an IANA name); nullopt when the zone is unknown.
std::optional<ParseContext> make_context(Instant now, std::string_view timezone,
                                         DateOrder order = DateOrder::month_first);

/// Same scale as tasks::Priority.
enum class Priority { none = 0, low = 1, medium = 2, high = 3, urgent = 4 };
std::string_view to_string(Priority p);

enum class RecurrenceMode { fixed, after_completion };

/// A reminder: relative to the due time (before_due, zero = at the due time) or at an instant.
struct Reminder {
  std::optional<std::chrono::seconds> before_due;
  std::optional<Instant> at;
};

/// Filters for list intents, named as GET /api/v1/tasks query parameters.
struct Query {
  std::optional<std::string> status;  // "open" | "done"
  std::vector<Priority> priorities;
  std::vector<std::string> tags;      // all of them (the `tag` parameter)
  std::optional<Instant> due_after;   // inclusive
  std::optional<Instant> due_before;  // exclusive
  bool overdue = false;
  std::optional<bool> has_due;
  std::optional<std::string> q;  // free-text search
};

/// A recognised part of the text, in Unicode code points [start, end).
enum class SpanKind { command, date, time, recurrence, priority, tag, reminder, filter, selection, shift };
std::string_view to_string(SpanKind k);
struct Span {
  std::size_t start = 0;
  std::size_t end = 0;
  SpanKind kind = SpanKind::command;
};

/// A move of a task's due date by an amount ("postpone X by 2 days", "push X back a week"): `count` units
/// later, or earlier when negative ("move X earlier by a day"). Days, weeks, months and years count on the
/// calendar in the task's zone (the time of day kept, month ends clamped); hours and minutes are elapsed
/// time.
struct Shift {
  enum class Unit { minute, hour, day, week, month, year };
  int count = 0;  // ±1..9999
  Unit unit = Unit::day;
  bool operator==(const Shift&) const = default;
};

/// The structured reading of one message.
struct Reading {
  Intent intent = Intent::unknown;
  double confidence = 0.0;        // 0..1; below 0.7 the dialog asks instead of acting
  std::string title;              // create: the task's title; update: the new title (rename), else empty
  std::optional<Instant> due_at;  // all-day: the start of that day in the zone
  bool all_day = false;
  std::optional<Shift> shift;             // update: move the due date by an amount (never with due_at)
  std::optional<std::string> recurrence;  // RFC 5545 RRULE value without "RRULE:"
  RecurrenceMode recurrence_mode = RecurrenceMode::fixed;
  std::vector<Reminder> reminders;
  std::optional<Priority> priority;  // only when the text names one
  std::vector<std::string> tags;     // lower case, without '#'
  std::string target;                // commands on existing tasks: the words naming the task
  std::optional<Query> query;        // list intent only
  std::optional<int> index;          // select: 1-based; -1 = "the last one"
  std::vector<Span> spans;
  /// Why the confidence is low (empty when it is not): "unreadable date '35th'" …
  std::vector<std::string> problems;
};

/// The longest message the endpoint accepts, in Unicode code points.
inline constexpr std::size_t kMaxText = 2000;
/// parse() reads at most this many bytes (4 × kMaxText); callers refuse longer messages first.
inline constexpr std::size_t kMaxParseBytes = 4 * kMaxText;

/// Reads one message. Never throws, for any input (invalid UTF-8 included).
Reading parse(std::string_view text, const ParseContext& ctx);

/// The JSON form (the body of POST /api/v1/chat/parse).
nlohmann::json to_json(const Reading& r);

/// "PT30M", "PT1H30M", "P1D", "PT0S": an ISO 8601 duration of whole seconds.
std::string iso_duration(std::chrono::seconds s);

/// A shift as an ISO 8601 duration of its one unit: "P2D", "P1W", "P1M", "P1Y", "PT3H", "PT30M"; an earlier
/// one with a leading minus sign, "-P2D" (a common extension: ISO 8601 itself has no negative durations).
std::string iso_duration(const Shift& s);
/// The inverse of iso_duration(const Shift&): one unit, a count from 1 to 9999; nullopt for anything else.
std::optional<Shift> parse_shift(std::string_view s);

}  // namespace todo::chat

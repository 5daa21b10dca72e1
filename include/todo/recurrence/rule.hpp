// RFC 5545 recurrence rules (RRULE values): the parsed form and a strict parser whose errors name the part.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace todo::recurrence {

/// The supported frequencies (HOURLY, MINUTELY and SECONDLY are refused: tasks recur by the day at least).
enum class Freq { yearly, monthly, weekly, daily };

/// A BYDAY entry: weekday 0 = Monday … 6 = Sunday, ordinal n (0 = every such weekday; 2 = second, -1 = last).
struct WeekdayNum {
  int weekday = 0;
  int n = 0;
  friend bool operator==(const WeekdayNum&, const WeekdayNum&) = default;
};

/// UNTIL: a UTC instant ("…Z"), or a wall time / date in the series' own zone ("19970714T133000",
/// "19970714").
struct Until {
  /// Seconds since the epoch: UTC when `utc`, otherwise a floating local wall time (a date is its midnight).
  std::chrono::sys_seconds at{};
  bool utc = true;
  friend bool operator==(const Until&, const Until&) = default;
};

/// A parsed, validated rule.
struct Rule {
  Freq freq = Freq::daily;
  int interval = 1;
  std::vector<WeekdayNum> by_day;
  std::vector<int> by_month_day;  // ±1…31
  std::vector<int> by_month;      // 1…12
  std::vector<int> by_set_pos;    // ±1…366
  std::optional<std::uint32_t> count;
  std::optional<Until> until;
  int wkst = 0;  // week start, 0 = Monday
  friend bool operator==(const Rule&, const Rule&) = default;
};

/// A rule that does not parse or breaks RFC 5545; what() names the part: "BYDAY: 'XX' is not a weekday".
class RuleError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

inline constexpr int kMaxInterval = 10'000;
inline constexpr std::uint32_t kMaxCount = 100'000;

/// Parses an RRULE value ("FREQ=WEEKLY;BYDAY=MO,WE", an optional "RRULE:" prefix allowed; names are
/// case-insensitive). Refuses what RFC 5545 forbids (COUNT with UNTIL, ordinals in BYDAY unless MONTHLY or
/// YEARLY, BYMONTHDAY with WEEKLY, BYSETPOS without another BYxxx part), parts this server does not evaluate
/// (BYHOUR, BYMINUTE, BYSECOND, BYYEARDAY, BYWEEKNO, sub-daily frequencies), BYDAY mixing weekdays with and
/// without ordinals, and BYMONTH/BYMONTHDAY combinations no month can satisfy. Throws RuleError.
Rule parse(std::string_view text);

/// The canonical text of a rule ("FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR"); parse(to_string(r)) == r.
std::string to_string(const Rule& r);

}  // namespace todo::recurrence

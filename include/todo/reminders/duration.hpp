// ISO 8601 durations (PT15M, P1D, P1W, P1Y2M3DT4H5M6S): parsing, the canonical form, and rough size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace todo::reminders {

/// A calendar duration as PostgreSQL's interval holds it: months and days stay calendar units (P1D before
/// 09:00 is 09:00 the day before, across a DST change), the time part is exact seconds.
struct Duration {
  std::int64_t months = 0;
  std::int64_t days = 0;
  std::int64_t seconds = 0;
  friend bool operator==(const Duration&, const Duration&) = default;
};

/// Parses P[nY][nM][nW][nD][T[nH][nM][nS]] with whole, non-negative numbers, designators in that order, at
/// least one component, and a T only before a time component. Nothing else (no signs, no fractions, no
/// lower case, no alternative format): nullopt.
std::optional<Duration> parse_duration(std::string_view s);

/// The canonical form: years and months from months, days (weeks become days), hours/minutes/seconds from
/// seconds (PT90M → PT1H30M); zero is PT0S. parse_duration(format_duration(d)) == d.
std::string format_duration(const Duration& d);

/// Approximate length in seconds (a month as 30.436875 days, the mean Gregorian month), for limits.
double approx_seconds(const Duration& d);

}  // namespace todo::reminders

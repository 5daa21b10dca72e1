// Calendar arithmetic in a user's zone for the chat grammar: local days, wall times → instants across DST.
#pragma once

#include <date/tz.h>

#include <string>

#include "todo/core/time.hpp"

namespace todo::chat::detail {

using date::local_days;

/// The reader's "now" in its zone.
struct Clock {
  const date::time_zone* zone = nullptr;
  Instant now{};
  local_days today{};
  int minute = 0;  // minute of the day now
};
Clock make_clock(const date::time_zone* zone, Instant now);

/// The wall time of an instant in the zone, to the second.
date::local_seconds to_local(const date::time_zone* zone, Instant t);

/// The instant of a wall time: a skipped wall time moves forward by the gap (it is read with the offset
/// before the transition); a repeated one takes the first instant. `minute` may be 1440 (midnight at the end
/// of day).
Instant wall_to_instant(const date::time_zone* zone, local_days day, int minute);

/// 0 = Monday … 6 = Sunday.
int iso_weekday(local_days d);
int days_in_month(int year, unsigned month);
/// A valid date or nullopt.
std::optional<local_days> make_date(int year, int month, int day);
int year_of(local_days d);
unsigned month_of(local_days d);
unsigned day_of(local_days d);
/// The first day of the month `months` after d's month.
local_days add_months_first(local_days d, int months);
/// d plus `months` calendar months, clamped to the end of a shorter month (Jan 31 + 1 month = Feb 28).
local_days add_months(local_days d, int months);

/// RRULE UNTIL form: YYYYMMDDTHHMMSSZ.
std::string rrule_utc(Instant t);

}  // namespace todo::chat::detail

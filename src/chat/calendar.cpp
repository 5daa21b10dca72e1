// Calendar helpers over the howardhinnant date library.
#include "calendar.hpp"

#include <algorithm>
#include <cstdio>

#include "todo/recurrence/zone.hpp"

namespace todo::chat::detail {

using namespace std::chrono;

Clock make_clock(const date::time_zone* zone, Instant now) {
  Clock c;
  c.zone = zone;
  c.now = now;
  const auto local = to_local(zone, now);
  c.today = floor<date::days>(local);
  c.minute = static_cast<int>(duration_cast<minutes>(local - c.today).count());
  return c;
}

// The conversions go through recurrence::Zone, which applies the tz database's rule for the years after its
// last listed transition (2037): the date library alone has no DST after it.
date::local_seconds to_local(const date::time_zone* zone, Instant t) {
  return floor<seconds>(recurrence::zone(zone->name()).to_local(t));
}

Instant wall_to_instant(const date::time_zone* zone, local_days day, int minute) {
  // A skipped wall time moves forward by the gap; a repeated one is its first instant.
  return recurrence::zone(zone->name()).to_instant(recurrence::LocalTime{day + minutes(minute)});
}

int iso_weekday(local_days d) {
  return static_cast<int>(date::weekday(d).iso_encoding()) - 1;
}

int days_in_month(int year, unsigned month) {
  return static_cast<int>(static_cast<unsigned>((date::year(year) / date::month(month) / date::last).day()));
}

std::optional<local_days> make_date(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  const date::year_month_day ymd{date::year(year), date::month(static_cast<unsigned>(month)),
                                 date::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return local_days(ymd);
}

int year_of(local_days d) {
  return static_cast<int>(date::year_month_day(d).year());
}
unsigned month_of(local_days d) {
  return static_cast<unsigned>(date::year_month_day(d).month());
}
unsigned day_of(local_days d) {
  return static_cast<unsigned>(date::year_month_day(d).day());
}

local_days add_months_first(local_days d, int months) {
  const date::year_month_day ymd(d);
  const auto ym = date::year_month(ymd.year(), ymd.month()) + date::months(months);
  return local_days(ym / date::day(1));
}

local_days add_months(local_days d, int months) {
  const date::year_month_day ymd(d);
  const auto ym = date::year_month(ymd.year(), ymd.month()) + date::months(months);
  const auto last = (ym / date::last).day();
  return local_days(ym / (ymd.day() > last ? last : ymd.day()));
}

std::string rrule_utc(Instant t) {
  // Rules are expanded up to the year 9999 (recurrence/expand.cpp): a later UNTIL ends nothing sooner.
  constexpr Instant kLast{std::chrono::sys_days{std::chrono::year{9999} / 12 / 31} + hours{23} + minutes{59} +
                          seconds{59}};
  const auto s = floor<seconds>(std::min(t, kLast));
  const auto day = floor<date::days>(s);
  const date::year_month_day ymd(day);
  const date::hh_mm_ss hms(s - day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace todo::chat::detail

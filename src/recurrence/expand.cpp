// The expander: python-dateutil's rrule iteration (periods of the frequency, a day set filtered by the BYxxx
// parts, BYSETPOS over each period's set) on floating wall times, then wall time → instant with the zone's
// rules.
#include "todo/recurrence/expand.hpp"

#include <date/tz.h>

#include <algorithm>
#include <numeric>

namespace todo::recurrence {
namespace {

using date::days;
using date::local_days;
using std::chrono::microseconds;

constexpr int kMaxYear = 9999;

/// 0 = Monday … 6 = Sunday.
int weekday_of(local_days d) {
  return static_cast<int>((date::weekday{d}.c_encoding() + 6) % 7);
}

local_days first_of(date::year y, date::month m) {
  return local_days{y / m / 1};
}

int days_in_month(date::year y, date::month m) {
  return static_cast<int>(static_cast<unsigned>((y / m / date::last).day()));
}

bool contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

/// The rule with dateutil's defaults from dtstart: without BYDAY/BYMONTHDAY a YEARLY rule recurs on dtstart's
/// month and day, a MONTHLY one on its day, a WEEKLY one on its weekday.
struct Effective {
  const Rule& rule;
  std::vector<int> by_month;
  std::vector<int> by_month_day_pos;
  std::vector<int> by_month_day_neg;
  std::vector<int> by_weekday;  // plain weekdays
  std::vector<WeekdayNum> by_nweekday;

  Effective(const Rule& r, local_days start) : rule(r), by_month(r.by_month) {
    const date::year_month_day ymd{start};
    std::vector<int> month_days = r.by_month_day;
    if (r.by_day.empty() && r.by_month_day.empty()) {
      if (r.freq == Freq::yearly) {
        if (by_month.empty()) by_month.push_back(static_cast<int>(static_cast<unsigned>(ymd.month())));
        month_days.push_back(static_cast<int>(static_cast<unsigned>(ymd.day())));
      } else if (r.freq == Freq::monthly) {
        month_days.push_back(static_cast<int>(static_cast<unsigned>(ymd.day())));
      } else if (r.freq == Freq::weekly) {
        by_weekday.push_back(weekday_of(start));
      }
    }
    for (int d : month_days)
      (d > 0 ? by_month_day_pos : by_month_day_neg).push_back(d);
    for (const auto& w : r.by_day) {
      if (w.n == 0 || (r.freq != Freq::monthly && r.freq != Freq::yearly))
        by_weekday.push_back(w.weekday);
      else
        by_nweekday.push_back(w);
    }
  }

  /// The days of [first, first + length) matching BYDAY ordinals: the nth weekday of each range (the month
  /// for MONTHLY; the year, or each BYMONTH month, for YEARLY), as dateutil computes them.
  std::vector<local_days> nth_weekdays(date::year y, date::month m) const {
    std::vector<std::pair<local_days, local_days>> ranges;  // [first, last]
    if (rule.freq == Freq::yearly) {
      if (!by_month.empty())
        for (int bm : by_month) {
          const date::month mm{static_cast<unsigned>(bm)};
          ranges.emplace_back(first_of(y, mm), local_days{y / mm / date::last});
        }
      else
        ranges.emplace_back(first_of(y, date::January), local_days{y / date::December / 31});
    } else {
      ranges.emplace_back(first_of(y, m), local_days{y / m / date::last});
    }
    std::vector<local_days> out;
    for (const auto& [first, last] : ranges)
      for (const auto& w : by_nweekday) {
        local_days d;
        if (w.n < 0) {
          d = last + days{(w.n + 1) * 7};
          d -= days{((weekday_of(d) - w.weekday) % 7 + 7) % 7};
        } else {
          d = first + days{(w.n - 1) * 7};
          d += days{((7 - weekday_of(d) + w.weekday) % 7 + 7) % 7};
        }
        if (first <= d && d <= last) out.push_back(d);
      }
    return out;
  }

  bool matches(local_days d, const std::vector<local_days>& nth) const {
    const date::year_month_day ymd{d};
    if (!by_month.empty() && !contains(by_month, static_cast<int>(static_cast<unsigned>(ymd.month()))))
      return false;
    if (!by_weekday.empty() && !contains(by_weekday, weekday_of(d))) return false;
    if (!by_nweekday.empty() && std::find(nth.begin(), nth.end(), d) == nth.end()) return false;
    if (!by_month_day_pos.empty() || !by_month_day_neg.empty()) {
      const int md = static_cast<int>(static_cast<unsigned>(ymd.day()));
      const int nmd = md - days_in_month(ymd.year(), ymd.month()) - 1;
      if (!contains(by_month_day_pos, md) && !contains(by_month_day_neg, nmd)) return false;
    }
    return true;
  }
};

/// The periods of the frequency, from dtstart's, INTERVAL apart: [first, first + length) days.
class Periods {
 public:
  Periods(const Rule& r, local_days start) : rule_(r), start_(start) {
    const date::year_month_day ymd{start};
    year_ = ymd.year();
    month_ = ymd.month();
  }

  /// The current period's days; empty once past year 9999.
  std::vector<local_days> days_of() const {
    std::vector<local_days> out;
    local_days first;
    int length = 0;
    switch (rule_.freq) {
      case Freq::yearly:
        first = first_of(year_, date::January);
        length = static_cast<int>((first_of(year_ + date::years{1}, date::January) - first).count());
        break;
      case Freq::monthly:
        first = first_of(year_, month_);
        length = days_in_month(year_, month_);
        break;
      case Freq::weekly:
        if (index_ == 0) {
          // dateutil's first weekly period runs from dtstart to the next week start.
          first = start_;
          length = 1;
          while (weekday_of(first + days{length}) != rule_.wkst)
            ++length;
        } else {
          first = week_start() + days{7L * rule_.interval * index_};
          length = 7;
        }
        break;
      case Freq::daily:
        first = start_ + days{static_cast<long>(rule_.interval) * index_};
        length = 1;
        break;
    }
    if (date::year_month_day{first}.year() > date::year{kMaxYear}) return out;
    out.reserve(static_cast<std::size_t>(length));
    for (int i = 0; i < length; ++i)
      out.push_back(first + days{i});
    return out;
  }

  date::year year() const { return year_; }
  date::month month() const { return month_; }

  void advance() {
    ++index_;
    if (rule_.freq == Freq::yearly) {
      year_ += date::years{rule_.interval};
    } else if (rule_.freq == Freq::monthly) {
      const auto ym = year_ / month_ + date::months{rule_.interval};
      year_ = ym.year();
      month_ = ym.month();
    } else {
      const date::year_month_day ymd{days_of_index_first()};
      year_ = ymd.year();
      month_ = ymd.month();
    }
  }

  bool past_end() const { return year_ > date::year{kMaxYear}; }

  /// Jumps ahead to the last whole period that starts at least a week before `day` (never backwards): the
  /// periods skipped cannot hold occurrences after `day`. Only for rules without COUNT, which must count
  /// every occurrence from the start.
  void skip_before(local_days day) {
    const local_days target = day - days{7};
    long k = 0;
    switch (rule_.freq) {
      case Freq::daily:
        k = (target - start_).count() / rule_.interval;
        break;
      case Freq::weekly:
        k = (target - week_start()).count() / (7L * rule_.interval);
        break;
      case Freq::monthly: {
        const date::year_month_day a{start_}, b{target};
        const long months = (static_cast<int>(b.year()) - static_cast<int>(a.year())) * 12L +
                            static_cast<long>(static_cast<unsigned>(b.month())) -
                            static_cast<long>(static_cast<unsigned>(a.month()));
        k = months / rule_.interval;
        break;
      }
      case Freq::yearly: {
        const date::year_month_day a{start_}, b{target};
        k = (static_cast<int>(b.year()) - static_cast<int>(a.year())) / rule_.interval;
        break;
      }
    }
    k -= 1;
    if (k <= index_) return;
    index_ = k;
    const date::year_month_day a{start_};
    if (rule_.freq == Freq::yearly) {
      year_ = a.year() + date::years{rule_.interval * k};
    } else if (rule_.freq == Freq::monthly) {
      const auto ym = a.year() / a.month() + date::months{rule_.interval * k};
      year_ = ym.year();
      month_ = ym.month();
    } else {
      const date::year_month_day ymd{days_of_index_first()};
      year_ = ymd.year();
      month_ = ymd.month();
    }
  }

 private:
  local_days week_start() const { return start_ - days{((weekday_of(start_) - rule_.wkst) % 7 + 7) % 7}; }
  local_days days_of_index_first() const {
    if (rule_.freq == Freq::weekly) return week_start() + days{7L * rule_.interval * index_};
    return start_ + days{static_cast<long>(rule_.interval) * index_};
  }

  const Rule& rule_;
  local_days start_;
  date::year year_;
  date::month month_;
  long index_ = 0;
};

/// The rule without COUNT and UNTIL: the days it selects, however long the series.
Rule without_bounds(Rule r) {
  r.count.reset();
  r.until.reset();
  return r;
}

/// How many periods it takes the calendar to repeat itself for the rule's periods: the Gregorian calendar
/// repeats every 400 years (146 097 days, 20 871 weeks, 4 800 months, a whole number of weeks), and the
/// periods come INTERVAL apart, so their places in that cycle repeat after cycle / gcd(INTERVAL, cycle)
/// periods. A rule that looks at weekdays only repeats after 7 days (and week after week).
long cycle_periods(const Rule& r) {
  const bool weekdays_only = r.by_month.empty() && r.by_month_day.empty();
  long cycle = 400;
  switch (r.freq) {
    case Freq::daily:
      cycle = weekdays_only ? 7 : 146'097;
      break;
    case Freq::weekly:
      cycle = weekdays_only ? 1 : 20'871;
      break;
    case Freq::monthly:
      cycle = 4'800;
      break;
    case Freq::yearly:
      cycle = 400;
      break;
  }
  return cycle / std::gcd(static_cast<long>(r.interval), cycle);
}

/// expand_local over at most `max_periods` periods when given; `*cut` says whether that limit (rather than
/// COUNT, UNTIL, `count` or year 9999) ended the expansion.
std::vector<LocalTime> expand_periods(const Rule& rule, LocalTime dtstart, const Zone* tz,
                                      std::optional<LocalTime> after, std::size_t count,
                                      std::optional<long> max_periods, bool* cut) {
  std::vector<LocalTime> out;
  if (count == 0) return out;
  const local_days start_day = date::floor<days>(dtstart);
  const microseconds time_of_day = dtstart - start_day;
  const Effective eff(rule, start_day);
  Periods periods(rule, start_day);
  if (after && !rule.count && *after > dtstart) periods.skip_before(date::floor<days>(*after));
  std::uint64_t remaining = rule.count ? *rule.count : UINT64_MAX;
  // The series ends after UNTIL: a wall time for a floating UNTIL, an instant for a UTC one.
  auto beyond_until = [&](LocalTime t) {
    if (!rule.until) return false;
    if (!rule.until->utc) return t > LocalTime{rule.until->at.time_since_epoch()};
    if (!tz) throw RuleError("UNTIL: a UTC date-time needs the series' time zone");
    return tz->to_instant(t) > Instant{rule.until->at.time_since_epoch()};
  };
  std::vector<LocalTime> candidates;
  std::vector<local_days> matched;
  std::vector<local_days> nth;
  for (long n = 0; !periods.past_end(); periods.advance(), ++n) {
    if (max_periods && n == *max_periods) {
      if (cut) *cut = true;
      return out;
    }
    const auto period = periods.days_of();
    if (period.empty()) break;
    nth.clear();
    if (!eff.by_nweekday.empty()) nth = eff.nth_weekdays(periods.year(), periods.month());
    matched.clear();
    for (auto d : period)
      if (eff.matches(d, nth)) matched.push_back(d);
    candidates.clear();
    if (!rule.by_set_pos.empty()) {
      const auto n = static_cast<long>(matched.size());
      for (int pos : rule.by_set_pos) {
        const long i = pos > 0 ? pos - 1 : n + pos;
        if (i < 0 || i >= n) continue;
        const LocalTime t = LocalTime{matched[static_cast<std::size_t>(i)]} + time_of_day;
        if (std::find(candidates.begin(), candidates.end(), t) == candidates.end()) candidates.push_back(t);
      }
      std::sort(candidates.begin(), candidates.end());
    } else {
      for (auto d : matched)
        candidates.push_back(LocalTime{d} + time_of_day);
    }
    for (auto t : candidates) {
      if (beyond_until(t)) return out;
      if (t < dtstart) continue;
      if (remaining-- == 0) return out;
      if (after && t <= *after) continue;
      out.push_back(t);
      if (out.size() == count) return out;
    }
  }
  return out;
}

}  // namespace

std::vector<LocalTime> expand_local(const Rule& rule, LocalTime dtstart, const Zone* tz,
                                    std::optional<LocalTime> after, std::size_t count) {
  return expand_periods(rule, dtstart, tz, after, count, std::nullopt, nullptr);
}

std::vector<Instant> expand(const Rule& rule, Instant dtstart, std::string_view tz, Instant after,
                            std::size_t count) {
  const Zone* z = &zone(tz);
  const LocalTime start = z->to_local(dtstart);
  std::vector<Instant> out;
  if (count == 0) return out;
  // Wall times map to instants monotonically (never backwards), so the local expansion can start just before
  // `after`'s wall time and be filtered exactly on instants; one day of slack covers any offset change.
  std::optional<LocalTime> local_after;
  if (after >= dtstart) local_after = z->to_local(after) - date::days{1};
  std::size_t want = count;
  while (true) {
    const auto locals = expand_local(rule, start, z, local_after, want + 8);
    for (auto lt : locals) {
      const Instant t = z->to_instant(lt);
      if (t <= after) continue;
      // The wall times end with local year 9999; west of UTC its last days are instants of year 10000,
      // which RFC 3339 cannot write: the series ends there too (instants only grow from here).
      if (!in_rfc3339_range(t)) return out;
      out.push_back(t);
      if (out.size() == count) return out;
    }
    if (locals.size() < want + 8) return out;
    local_after = locals.back();
    want = count - out.size();
  }
}

std::optional<Instant> next_after(const Rule& rule, Instant dtstart, std::string_view tz, Instant after) {
  auto v = expand(rule, dtstart, tz, after, 1);
  if (v.empty()) return std::nullopt;
  return v.front();
}

bool matches_start(const Rule& rule, Instant dtstart, std::string_view tz) {
  const Zone* z = &zone(tz);
  const LocalTime start = z->to_local(dtstart);
  const auto first = expand_local(without_bounds(rule), start, z, std::nullopt, 1);
  return !first.empty() && first.front() == start;
}

bool never_occurs_after_start(const Rule& rule, Instant dtstart, std::string_view tz) {
  const Rule unbounded = without_bounds(rule);
  const Zone* z = &zone(tz);
  const LocalTime start = z->to_local(dtstart);
  // The first period may hold days before the start; the next cycle_periods() ones are the whole cycle.
  bool whole_cycle = false;
  const auto next = expand_periods(unbounded, start, z, start, 1, cycle_periods(unbounded) + 1, &whole_cycle);
  return next.empty() && whole_cycle;
}

Instant add_interval(const Rule& rule, Instant from, Instant time_of_day, std::string_view tz) {
  const Zone& z = zone(tz);
  const local_days day = date::floor<days>(z.to_local(from));
  const LocalTime tod_source = z.to_local(time_of_day);
  const microseconds tod = tod_source - date::floor<days>(tod_source);
  local_days next;
  switch (rule.freq) {
    case Freq::daily:
      next = day + days{rule.interval};
      break;
    case Freq::weekly:
      next = day + days{7L * rule.interval};
      break;
    case Freq::monthly:
    case Freq::yearly: {
      const date::year_month_day ymd{day};
      const date::months step{rule.freq == Freq::monthly ? rule.interval : 12 * rule.interval};
      const auto ym = ymd.year() / ymd.month() + step;
      const auto last = (ym / date::last).day();
      next = local_days{ym / std::min(ymd.day(), last)};
      break;
    }
  }
  return z.to_instant(LocalTime{next} + tod);
}

}  // namespace todo::recurrence

// RRULE parsing and validation.
#include "todo/recurrence/rule.hpp"

#include <date/date.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace todo::recurrence {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
constexpr std::array<std::string_view, 4> kFreqs = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY"};

[[noreturn]] void fail(std::string_view part, const std::string& why) {
  throw RuleError(std::string(part) + ": " + why);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

/// An optionally signed decimal integer and nothing else.
std::optional<long> integer(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view digits = s;
  if (digits.front() == '+' || digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  long v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return s.front() == '-' ? -v : v;
}

std::optional<int> weekday(std::string_view s) {
  for (std::size_t i = 0; i < kWeekdays.size(); ++i)
    if (kWeekdays[i] == s) return static_cast<int>(i);
  return std::nullopt;
}

/// A list of nonzero integers within ±limit (positive only when `positive`).
std::vector<int> int_list(std::string_view part, std::string_view value, int limit, bool positive) {
  std::vector<int> out;
  for (auto item : split(value, ',')) {
    auto v = integer(item);
    if (!v) fail(part, quoted(item) + " is not a number");
    if (positive ? (*v < 1 || *v > limit) : (*v == 0 || *v < -limit || *v > limit))
      fail(part, quoted(item) + " is out of range (" +
                     (positive ? "1 to " + std::to_string(limit)
                               : "-" + std::to_string(limit) + " to -1 or 1 to " + std::to_string(limit)) +
                     ")");
    if (std::find(out.begin(), out.end(), static_cast<int>(*v)) == out.end())
      out.push_back(static_cast<int>(*v));
  }
  return out;
}

/// YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ.
Until parse_until(std::string_view v) {
  auto bad = [&] { fail("UNTIL", quoted(v) + " is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSSZ)"); };
  auto digits = [&](std::size_t pos, std::size_t n) {
    int out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (v[i] < '0' || v[i] > '9') bad();
      out = out * 10 + (v[i] - '0');
    }
    return out;
  };
  if (v.size() != 8 && v.size() != 15 && v.size() != 16) bad();
  const date::year_month_day ymd{date::year{digits(0, 4)}, date::month{static_cast<unsigned>(digits(4, 2))},
                                 date::day{static_cast<unsigned>(digits(6, 2))}};
  if (!ymd.ok() || ymd.year() < date::year{1}) fail("UNTIL", quoted(v) + " is not a valid date");
  Until u;
  u.utc = false;
  u.at = date::sys_days{ymd};
  if (v.size() == 8) return u;
  if (v[8] != 'T') bad();
  const int h = digits(9, 2), m = digits(11, 2), s = digits(13, 2);
  if (h > 23 || m > 59 || s > 59) fail("UNTIL", quoted(v) + " is not a valid time");
  if (v.size() == 16) {
    if (v[15] != 'Z') bad();
    u.utc = true;
  }
  u.at += std::chrono::hours{h} + std::chrono::minutes{m} + std::chrono::seconds{s};
  return u;
}

std::string format_until(const Until& u) {
  const auto day = date::floor<date::days>(u.at);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss tod{u.at - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02d%s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()), u.utc ? "Z" : "");
  return buf;
}

constexpr std::array<int, 12> kMaxMonthDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/// True when some month of BYMONTH (every month without it) has some day of BYMONTHDAY.
bool month_days_possible(const Rule& r) {
  for (int m = 1; m <= 12; ++m) {
    if (!r.by_month.empty() && std::find(r.by_month.begin(), r.by_month.end(), m) == r.by_month.end())
      continue;
    for (int d : r.by_month_day)
      if (std::abs(d) <= kMaxMonthDays[static_cast<std::size_t>(m - 1)]) return true;
  }
  return false;
}

/// An upper bound on the days of one period (day, week, month, year) that the BYxxx parts can select.
int max_days_per_period(const Rule& r) {
  int plain = 0, ordinals = 0;
  for (const auto& w : r.by_day)
    ++(w.n ? ordinals : plain);
  const int months = r.by_month.empty() ? 12 : static_cast<int>(r.by_month.size());
  const int month_days = static_cast<int>(r.by_month_day.size());
  switch (r.freq) {
    case Freq::daily:
      return 1;
    case Freq::weekly:
      return plain ? plain : 1;
    case Freq::monthly: {
      int bound = 31;
      if (month_days) bound = std::min(bound, month_days);
      if (ordinals) bound = std::min(bound, ordinals);
      if (plain) bound = std::min(bound, 5 * plain);
      if (!month_days && r.by_day.empty()) bound = 1;  // dtstart's day of the month
      return bound;
    }
    case Freq::yearly: {
      int bound = 366;
      if (month_days) bound = std::min(bound, month_days * months);
      if (ordinals) bound = std::min(bound, ordinals * (r.by_month.empty() ? 1 : months));
      if (plain) bound = std::min(bound, (r.by_month.empty() ? 53 : 5 * months) * plain);
      if (!month_days && r.by_day.empty()) bound = r.by_month.empty() ? 1 : months;
      return bound;
    }
  }
  return 366;
}

}  // namespace

Rule parse(std::string_view text) {
  if (text.size() >= 6 && upper(text.substr(0, 6)) == "RRULE:") text.remove_prefix(6);
  if (text.empty()) throw RuleError("the rule is empty; it needs at least FREQ, e.g. FREQ=WEEKLY");
  Rule r;
  std::vector<std::string> seen;
  bool has_freq = false;
  for (auto item : split(text, ';')) {
    if (item.empty()) throw RuleError("empty part between ';' separators");
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) throw RuleError(quoted(item) + " is not NAME=VALUE");
    const std::string name = upper(item.substr(0, eq));
    const std::string value = upper(item.substr(eq + 1));
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) fail(name, "given more than once");
    seen.push_back(name);
    if (value.empty()) fail(name, "has no value");
    if (name == "FREQ") {
      has_freq = true;
      const auto f = std::find(kFreqs.begin(), kFreqs.end(), value);
      if (f != kFreqs.end())
        r.freq = static_cast<Freq>(f - kFreqs.begin());
      else if (value == "HOURLY" || value == "MINUTELY" || value == "SECONDLY")
        fail(name, quoted(value) + " is not supported (DAILY, WEEKLY, MONTHLY or YEARLY)");
      else
        fail(name, quoted(value) + " is not a frequency (DAILY, WEEKLY, MONTHLY or YEARLY)");
    } else if (name == "INTERVAL") {
      auto v = integer(value);
      if (!v || value.front() == '+') fail(name, quoted(value) + " is not a number");
      if (*v < 1 || *v > kMaxInterval)
        fail(name, quoted(value) + " is out of range (1 to " + std::to_string(kMaxInterval) + ")");
      r.interval = static_cast<int>(*v);
    } else if (name == "COUNT") {
      auto v = integer(value);
      if (!v || value.front() == '+') fail(name, quoted(value) + " is not a number");
      if (*v < 1 || *v > static_cast<long>(kMaxCount))
        fail(name, quoted(value) + " is out of range (1 to " + std::to_string(kMaxCount) + ")");
      r.count = static_cast<std::uint32_t>(*v);
    } else if (name == "UNTIL") {
      r.until = parse_until(value);
    } else if (name == "BYDAY") {
      for (auto item2 : split(value, ',')) {
        if (item2.size() < 2) fail(name, quoted(item2) + " is not a weekday");
        auto wd = weekday(item2.substr(item2.size() - 2));
        if (!wd) fail(name, quoted(item2) + " is not a weekday (MO, TU, WE, TH, FR, SA, SU)");
        WeekdayNum w{*wd, 0};
        if (item2.size() > 2) {
          auto n = integer(item2.substr(0, item2.size() - 2));
          if (!n) fail(name, quoted(item2) + " is not a weekday with an ordinal such as 2TU or -1FR");
          if (*n == 0 || *n < -53 || *n > 53) fail(name, quoted(item2) + " has an ordinal out of range");
          w.n = static_cast<int>(*n);
        }
        if (std::find(r.by_day.begin(), r.by_day.end(), w) == r.by_day.end()) r.by_day.push_back(w);
      }
    } else if (name == "BYMONTHDAY") {
      r.by_month_day = int_list(name, value, 31, false);
    } else if (name == "BYMONTH") {
      r.by_month = int_list(name, value, 12, true);
    } else if (name == "BYSETPOS") {
      r.by_set_pos = int_list(name, value, 366, false);
    } else if (name == "WKST") {
      auto wd = weekday(value);
      if (!wd) fail(name, quoted(value) + " is not a weekday (MO, TU, WE, TH, FR, SA, SU)");
      r.wkst = *wd;
    } else if (name == "BYHOUR" || name == "BYMINUTE" || name == "BYSECOND" || name == "BYYEARDAY" ||
               name == "BYWEEKNO") {
      fail(name, "is not supported (occurrences keep the start's time of day)");
    } else {
      throw RuleError(quoted(item.substr(0, eq)) + " is not a rule part");
    }
  }
  if (!has_freq) fail("FREQ", "is required, e.g. FREQ=WEEKLY");
  if (r.count && r.until) fail("UNTIL", "must not be combined with COUNT");
  const bool ordinals_allowed = r.freq == Freq::monthly || r.freq == Freq::yearly;
  bool with_n = false, without_n = false;
  for (const auto& w : r.by_day) {
    (w.n ? with_n : without_n) = true;
    const std::string item =
        (w.n ? std::to_string(w.n) : "") + std::string(kWeekdays[static_cast<std::size_t>(w.weekday)]);
    if (w.n && !ordinals_allowed)
      fail("BYDAY", quoted(item) + " has an ordinal, which only MONTHLY and YEARLY rules allow");
    if (w.n && r.freq == Freq::monthly && (w.n < -5 || w.n > 5))
      fail("BYDAY", quoted(item) + " has an ordinal out of range for a MONTHLY rule (-5 to 5)");
    if (w.n && r.freq == Freq::yearly && !r.by_month.empty() && (w.n < -5 || w.n > 5))
      fail("BYDAY",
           quoted(item) + " can never be met: with BYMONTH the ordinal counts within the month (-5 to 5)");
  }
  if (with_n && without_n)
    fail("BYDAY", "mixing weekdays with and without ordinals (e.g. MO,2TU) is not supported");
  if (!r.by_month_day.empty() && r.freq == Freq::weekly)
    fail("BYMONTHDAY", "is not allowed with FREQ=WEEKLY");
  if (!r.by_set_pos.empty() && r.by_day.empty() && r.by_month_day.empty() && r.by_month.empty())
    fail("BYSETPOS", "needs another BYxxx part (BYDAY, BYMONTHDAY or BYMONTH)");
  if (!r.by_set_pos.empty()) {
    const int most = max_days_per_period(r);
    for (int pos : r.by_set_pos)
      if (std::abs(pos) > most)
        fail("BYSETPOS", quoted(std::to_string(pos)) + " can never be met: at most " + std::to_string(most) +
                             (most == 1 ? " day" : " days") + " of each period match the rule");
  }
  if (!r.by_month_day.empty() && !month_days_possible(r))
    fail("BYMONTHDAY", "no month of the rule has such a day, so the rule never occurs");
  return r;
}

std::string to_string(const Rule& r) {
  std::string out = "FREQ=" + std::string(kFreqs[static_cast<std::size_t>(r.freq)]);
  if (r.interval != 1) out += ";INTERVAL=" + std::to_string(r.interval);
  // A list is a set: its values in ascending order (BYDAY by ordinal, then from Monday), so that BYDAY=TH,TU
  // and BYDAY=TU,TH are one spelling of one rule.
  auto list = [&](const char* name, std::vector<int> v) {
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    out += ";";
    out += name;
    out += "=";
    for (std::size_t i = 0; i < v.size(); ++i)
      out += (i ? "," : "") + std::to_string(v[i]);
  };
  list("BYMONTH", r.by_month);
  list("BYMONTHDAY", r.by_month_day);
  if (!r.by_day.empty()) {
    auto days = r.by_day;
    std::sort(days.begin(), days.end(), [](const WeekdayNum& a, const WeekdayNum& b) {
      return std::pair(a.n, a.weekday) < std::pair(b.n, b.weekday);
    });
    out += ";BYDAY=";
    for (std::size_t i = 0; i < days.size(); ++i) {
      if (i) out += ",";
      if (days[i].n) out += std::to_string(days[i].n);
      out += kWeekdays[static_cast<std::size_t>(days[i].weekday)];
    }
  }
  list("BYSETPOS", r.by_set_pos);
  if (r.count) out += ";COUNT=" + std::to_string(*r.count);
  if (r.until) out += ";UNTIL=" + format_until(*r.until);
  if (r.wkst != 0) out += ";WKST=" + std::string(kWeekdays[static_cast<std::size_t>(r.wkst)]);
  return out;
}

}  // namespace todo::recurrence

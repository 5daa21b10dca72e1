// Zones: the date library's transitions up to the last one in the database, the TZif footer's POSIX rule
// after it.
#include "todo/recurrence/zone.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "todo/recurrence/rule.hpp"

namespace todo::recurrence {

using std::chrono::seconds;

/// A POSIX TZ string with DST: "EST5EDT,M3.2.0,M11.1.0". Offsets here are east-positive (UTC + offset =
/// local), the opposite of the string's sign.
struct Zone::Posix {
  /// When a change happens in a year: a day rule and the wall time of day (in the offset before the change).
  struct When {
    char kind = 'M';  // 'M' month.week.weekday, 'J' Julian day 1-365 (no Feb 29), 'N' zero-based day 0-365
    int month = 0, week = 0, weekday = 0, day = 0;
    seconds time{7200};
  };
  seconds std_offset{0};
  seconds dst_offset{0};
  std::string std_name, dst_name;  // their abbreviations ("CET", "CEST"; "+03" for "<+03>")
  When start;                      // into DST (given in standard time)
  When end;                        // out of DST (given in DST)

  date::local_seconds local_at(const When& w, int year) const {
    using namespace date;
    local_days d;
    if (w.kind == 'M') {
      const local_days first{date::year{year} / static_cast<unsigned>(w.month) / 1};
      const int first_wd = static_cast<int>(weekday{first}.c_encoding());
      d = first + days{(w.weekday - first_wd + 7) % 7 + 7 * (w.week - 1)};
      if (w.week == 5) {
        const local_days last{date::year{year} / static_cast<unsigned>(w.month) / date::last};
        while (d > last)
          d -= days{7};
      }
    } else if (w.kind == 'J') {
      // Day 1-365 never counting Feb 29: day 60 is always March 1.
      d = local_days{date::year{year} / 1 / 1} + days{w.day - 1};
      if (date::year{year}.is_leap() && w.day >= 60) d += days{1};
    } else {
      d = local_days{date::year{year} / 1 / 1} + days{w.day};
    }
    return d + w.time;
  }

  /// The changes of years y-1 … y+1 as (instant, offset after it), in order.
  std::array<std::pair<date::sys_seconds, seconds>, 6> changes_around(int year) const {
    std::array<std::pair<date::sys_seconds, seconds>, 6> out;
    std::size_t i = 0;
    for (int y = year - 1; y <= year + 1; ++y) {
      out[i++] = {date::sys_seconds{(local_at(start, y) - std_offset).time_since_epoch()}, dst_offset};
      out[i++] = {date::sys_seconds{(local_at(end, y) - dst_offset).time_since_epoch()}, std_offset};
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  seconds offset_at(date::sys_seconds t) const {
    const int year = static_cast<int>(date::year_month_day{date::floor<date::days>(t)}.year());
    const auto changes = changes_around(year);
    // Before the first listed change: the offset it changes from.
    seconds off = changes.front().second == dst_offset ? std_offset : dst_offset;
    for (const auto& [at, after] : changes)
      if (at <= t) off = after;
    return off;
  }
};

namespace {

/// Parses a POSIX TZ string; nullopt when it has no DST part or is not understood.
std::optional<Zone::Posix> parse_posix(std::string_view s) {
  std::size_t i = 0;
  auto name = [&](std::string& out) -> bool {
    if (i < s.size() && s[i] == '<') {
      const auto close = s.find('>', i);
      if (close == std::string_view::npos) return false;
      out = s.substr(i + 1, close - i - 1);
      i = close + 1;
      return true;
    }
    const std::size_t begin = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i])))
      ++i;
    out = s.substr(begin, i - begin);
    return i - begin >= 3;
  };
  auto number = [&](int& out) -> bool {
    const std::size_t begin = i;
    out = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      out = out * 10 + (s[i++] - '0');
    return i > begin;
  };
  // [+-]hh[:mm[:ss]]
  auto hms = [&](seconds& out) -> bool {
    int sign = 1;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
    int h = 0, m = 0, sec = 0;
    if (!number(h)) return false;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!number(m)) return false;
      if (i < s.size() && s[i] == ':') {
        ++i;
        if (!number(sec)) return false;
      }
    }
    out = seconds{sign * (h * 3600 + m * 60 + sec)};
    return true;
  };
  auto when = [&](Zone::Posix::When& w) -> bool {
    if (i >= s.size()) return false;
    if (s[i] == 'M') {
      ++i;
      w.kind = 'M';
      if (!number(w.month) || i >= s.size() || s[i++] != '.' || !number(w.week) || i >= s.size() ||
          s[i++] != '.' || !number(w.weekday))
        return false;
      if (w.month < 1 || w.month > 12 || w.week < 1 || w.week > 5 || w.weekday > 6) return false;
    } else if (s[i] == 'J') {
      ++i;
      w.kind = 'J';
      if (!number(w.day) || w.day < 1 || w.day > 365) return false;
    } else {
      w.kind = 'N';
      if (!number(w.day) || w.day > 365) return false;
    }
    if (i < s.size() && s[i] == '/') {
      ++i;
      if (!hms(w.time)) return false;
    }
    return true;
  };
  Zone::Posix p;
  seconds west{0};
  if (!name(p.std_name) || !hms(west)) return std::nullopt;
  p.std_offset = -west;
  if (i >= s.size()) return std::nullopt;  // no DST
  if (!name(p.dst_name)) return std::nullopt;
  p.dst_offset = p.std_offset + std::chrono::hours{1};
  if (i < s.size() && s[i] != ',') {
    if (!hms(west)) return std::nullopt;
    p.dst_offset = -west;
  }
  if (i >= s.size() || s[i++] != ',' || !when(p.start) || i >= s.size() || s[i++] != ',' || !when(p.end))
    return std::nullopt;
  if (i != s.size()) return std::nullopt;
  return p;
}

/// The footer of a TZif file: the text between its last two newlines.
std::string tzif_footer(const std::string& iana) {
  std::ifstream in("/usr/share/zoneinfo/" + iana, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  if (data.size() < 2 || data.back() != '\n') return {};
  const auto start = data.rfind('\n', data.size() - 2);
  if (start == std::string::npos) return {};
  return data.substr(start + 1, data.size() - start - 2);
}

}  // namespace

Zone::Zone(std::string name, const date::time_zone* tz, std::shared_ptr<const Posix> footer,
           date::sys_seconds footer_from)
    : name_(std::move(name)), tz_(tz), footer_(std::move(footer)), footer_from_(footer_from) {}

seconds Zone::offset(Instant t) const {
  const auto s = date::floor<seconds>(t);
  if (footer_ && s >= footer_from_) return footer_->offset_at(s);
  return tz_->get_info(s).offset;
}

std::string Zone::abbreviation(Instant t) const {
  const auto s = date::floor<seconds>(t);
  if (footer_ && s >= footer_from_)
    return footer_->offset_at(s) == footer_->dst_offset ? footer_->dst_name : footer_->std_name;
  return tz_->get_info(s).abbrev;
}

LocalTime Zone::to_local(Instant t) const {
  return LocalTime{(t + offset(t)).time_since_epoch()};
}

Instant Zone::to_instant(LocalTime t) const {
  // Well past the database's last transition (a day covers any offset), the footer's rule decides.
  if (footer_ && LocalTime{footer_from_.time_since_epoch()} + date::days{1} < t) {
    const seconds a = footer_->std_offset, b = footer_->dst_offset;
    std::optional<Instant> first;
    for (seconds off : {a, b}) {
      const Instant candidate{t.time_since_epoch() - off};
      if (offset(candidate) == off && (!first || candidate < *first)) first = candidate;
    }
    if (first) return *first;  // unique, or the earlier of a repeated wall time
    // Skipped: the offset before the (forward) jump is the smaller one.
    return Instant{t.time_since_epoch() - std::min(a, b)};
  }
  const auto info = tz_->get_info(date::floor<seconds>(t));
  // unique: its offset; ambiguous: `first` is the earlier instant; nonexistent: `first` is the offset before
  // the gap, which moves the wall time forward by the gap's length.
  return Instant{t.time_since_epoch() - info.first.offset};
}

const Zone& zone(std::string_view iana) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Zone>, std::less<>> zones;
  std::lock_guard lock(mutex);
  if (auto it = zones.find(iana); it != zones.end()) return *it->second;
  if (!is_valid_timezone(iana))
    throw RuleError("timezone: '" + std::string(iana) + "' is not an IANA time zone such as Europe/Berlin");
  const std::string name(iana);
  const date::time_zone* tz = date::locate_zone(name);
  std::shared_ptr<const Zone::Posix> footer;
  date::sys_seconds from{};
  if (auto p = parse_posix(tzif_footer(name))) {
    footer = std::make_shared<const Zone::Posix>(*p);
    // The last transition the database lists: the begin of the period that runs to the end of time.
    from = tz->get_info(date::sys_days{date::year{9000} / 1 / 1}).begin;
  }
  auto [it, inserted] = zones.emplace(name, std::make_unique<Zone>(name, tz, std::move(footer), from));
  return *it->second;
}

}  // namespace todo::recurrence

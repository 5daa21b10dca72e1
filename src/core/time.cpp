// Parsing and formatting of UTC instants (RFC 3339, PostgreSQL timestamptz) and IANA zone checks.
#include "todo/core/time.hpp"

#include <date/tz.h>

#include <cstdint>
#include <limits>

namespace todo {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kSecondsPerDay = 86'400;

bool is_leap(std::int64_t y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil); 64-bit years so
// that every year PostgreSQL prints fits, which std::chrono::year (±32767) does not promise.
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;  // astronomical: 0 is 1 BC
  unsigned month;
  unsigned day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

// A date-time as written, before validation.
struct Fields {
  std::int64_t year = 0;  // astronomical
  std::int64_t month = 0;
  std::int64_t day = 0;
  std::int64_t hour = 0;
  std::int64_t minute = 0;
  std::int64_t second = 0;
  std::int64_t micros = 0;
  std::int64_t offset_seconds = 0;  // local time minus UTC
};

// Checks the calendar and clock ranges and converts, refusing what would overflow Instant.
std::optional<Instant> to_instant(const Fields& f) {
  if (f.month < 1 || f.month > 12) return std::nullopt;
  if (f.day < 1 || f.day > days_in_month(f.year, static_cast<unsigned>(f.month))) return std::nullopt;
  if (f.hour > 23 || f.minute > 59 || f.second > 59) return std::nullopt;
  const std::int64_t seconds =
      days_from_civil(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day)) * kSecondsPerDay +
      f.hour * 3600 + f.minute * 60 + f.second - f.offset_seconds;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / kMicrosPerSecond - 1;
  if (seconds > kMax || seconds < -kMax) return std::nullopt;
  return Instant{std::chrono::microseconds{seconds * kMicrosPerSecond + f.micros}};
}

// A forward-only reader over ASCII text.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool done() const { return pos_ == s_.size(); }

  bool consume(char c) {
    if (done() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // Consumes one of `set`, storing it in `which`.
  bool consume_any(std::string_view set, char& which) {
    if (done() || set.find(s_[pos_]) == std::string_view::npos) return false;
    which = s_[pos_++];
    return true;
  }

  bool consume(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // Reads between `min` and `max` decimal digits (as many as there are) into `out`; `count` is how many.
  bool digits(std::size_t min, std::size_t max, std::int64_t& out, std::size_t& count) {
    out = 0;
    count = 0;
    while (!done() && count < max && s_[pos_] >= '0' && s_[pos_] <= '9') {
      out = out * 10 + (s_[pos_++] - '0');
      ++count;
    }
    // More digits than `max` is malformed, not a shorter number followed by junk.
    if (!done() && s_[pos_] >= '0' && s_[pos_] <= '9') return false;
    return count >= min;
  }

  bool digits(std::size_t n, std::int64_t& out) {
    std::size_t count = 0;
    return digits(n, n, out, count);
  }

  // Reads `max` digits at most into `out` and passes over any more; false without one.
  bool leading_digits(std::size_t max, std::int64_t& out, std::size_t& count) {
    out = 0;
    count = 0;
    while (!done() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (count < max) out = out * 10 + (s_[pos_] - '0');
      count = std::min(count + 1, max);
      ++pos_;
    }
    return count > 0;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

// "HH:MM:SS[.frac]" with a fraction of 1 to `max_fraction` digits, truncated to microseconds.
bool scan_clock(Scanner& in, std::size_t max_fraction, Fields& f, bool any_fraction = false) {
  if (!in.digits(2, f.hour) || !in.consume(':') || !in.digits(2, f.minute) || !in.consume(':') ||
      !in.digits(2, f.second)) {
    return false;
  }
  if (in.consume('.')) {
    std::int64_t frac = 0;
    std::size_t count = 0;
    // RFC 3339's time-secfrac is "." 1*DIGIT: any number of digits, of which microseconds are kept.
    if (any_fraction ? !in.leading_digits(max_fraction, frac, count)
                     : !in.digits(1, max_fraction, frac, count))
      return false;
    for (; count < 6; ++count)
      frac *= 10;
    for (; count > 6; --count)
      frac /= 10;
    f.micros = frac;
  }
  return true;
}

void append_padded(std::string& out, std::int64_t value, int width) {
  char buf[24];
  int n = 0;
  auto v = static_cast<std::uint64_t>(value);
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i)
    out += '0';
  while (n > 0)
    out += buf[--n];
}

// An instant split into its UTC date, second of the day and microseconds.
struct Broken {
  Civil date;
  std::int64_t second_of_day;
  std::int64_t micros;
};

Broken break_down(Instant t) {
  const std::int64_t us = t.time_since_epoch().count();
  constexpr std::int64_t kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;
  std::int64_t days = us / kMicrosPerDay;
  std::int64_t rest = us % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  return {civil_from_days(days), rest / kMicrosPerSecond, rest % kMicrosPerSecond};
}

// Writes the n last decimal digits of v at p, zero-padded; returns p + n.
char* put_digits(char* p, std::int64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + n;
}

// Writes "-MM-DD?HH:MM:SS[.frac]", the part after the year, with the fraction trimmed of trailing zeros, in
// one append (a page of tasks formats four of these a task).
void append_rest(std::string& out, const Broken& b, char separator) {
  char buf[32];
  char* p = buf;
  *p++ = '-';
  p = put_digits(p, b.date.month, 2);
  *p++ = '-';
  p = put_digits(p, b.date.day, 2);
  *p++ = separator;
  p = put_digits(p, b.second_of_day / 3600, 2);
  *p++ = ':';
  p = put_digits(p, b.second_of_day / 60 % 60, 2);
  *p++ = ':';
  p = put_digits(p, b.second_of_day % 60, 2);
  if (b.micros != 0) {
    std::int64_t micros = b.micros;
    int width = 6;
    while (micros % 10 == 0) {
      micros /= 10;
      --width;
    }
    *p++ = '.';
    p = put_digits(p, micros, width);
  }
  out.append(buf, p);
}

bool is_zone_name_syntax(std::string_view name) {
  // The longest IANA name is about 30 characters; the cap keeps hostile input away from the tz database.
  if (name.empty() || name.size() > 64) return false;
  std::size_t segment_start = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '/') {
      const std::string_view segment = name.substr(segment_start, i - segment_start);
      if (segment.empty()) return false;
      segment_start = i + 1;
      continue;
    }
    const char c = name[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '+';
    if (!ok) return false;
  }
  // Files under /usr/share/zoneinfo that are not zones of their own.
  if (name == "localtime" || name == "posixrules" || name == "Factory") return false;
  if (name.starts_with("posix/") || name.starts_with("right/")) return false;
  return true;
}

}  // namespace

namespace {

// parse_rfc3339; `out_of_range` is set when the text is well-formed but its instant falls outside 0001-9999
// in UTC.
std::optional<Instant> parse_rfc3339_impl(std::string_view s, bool& out_of_range) {
  out_of_range = false;
  Scanner in(s);
  Fields f;
  char separator = 0;
  if (!in.digits(4, f.year) || !in.consume('-') || !in.digits(2, f.month) || !in.consume('-') ||
      !in.digits(2, f.day) || !in.consume_any("Tt ", separator) || !scan_clock(in, 9, f, true)) {
    return std::nullopt;
  }
  // A leap second (RFC 3339 5.7: 23:59:60 UTC, at any offset) is read as PostgreSQL reads it, as the next
  // second: 2016-12-31T23:59:60Z is 2017-01-01T00:00:00Z.
  const bool leap = f.second == 60;  // checked below to be 23:59:60 in UTC, whatever the offset
  if (leap) f.second = 59;
  char zone = 0;
  if (!in.consume_any("Zz+-", zone)) return std::nullopt;
  if (zone == '+' || zone == '-') {
    std::int64_t hours = 0;
    std::int64_t minutes = 0;
    if (!in.digits(2, hours) || !in.consume(':') || !in.digits(2, minutes)) return std::nullopt;
    if (hours > 23 || minutes > 59) return std::nullopt;
    f.offset_seconds = (zone == '-' ? -1 : 1) * (hours * 3600 + minutes * 60);
  }
  // Year 0000 is well-formed: the range check below refuses it for its range.
  if (!in.done()) return std::nullopt;
  auto t = to_instant(f);
  if (t && leap) {
    const std::int64_t second = std::chrono::floor<std::chrono::seconds>(*t).time_since_epoch().count();
    if ((second % kSecondsPerDay + kSecondsPerDay) % kSecondsPerDay != kSecondsPerDay - 1)
      return std::nullopt;  // not at the end of a UTC day
    *t += std::chrono::seconds(1);
  }
  // The offset may carry the instant out of 0001-9999, where it could not be written back in RFC 3339.
  if (t && !in_rfc3339_range(*t)) {
    out_of_range = true;
    return std::nullopt;
  }
  return t;
}

}  // namespace

std::optional<Instant> parse_rfc3339(std::string_view s) {
  bool out_of_range = false;
  return parse_rfc3339_impl(s, out_of_range);
}

std::string rfc3339_problem(std::string_view s) {
  bool out_of_range = false;
  if (parse_rfc3339_impl(s, out_of_range)) return "";
  if (out_of_range)
    return "must be an instant from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z (this one, in UTC, "
           "is not)";
  return "must be an RFC 3339 date-time with an offset, e.g. 2026-03-05T09:00:00Z";
}

bool in_rfc3339_range(Instant t) {
  constexpr Instant kFirst{std::chrono::seconds{days_from_civil(1, 1, 1) * kSecondsPerDay}};
  constexpr Instant kEnd{std::chrono::seconds{days_from_civil(10000, 1, 1) * kSecondsPerDay}};
  return t >= kFirst && t < kEnd;
}

void append_rfc3339(std::string& out, Instant t) {
  const Broken b = break_down(t);
  if (b.date.year >= 1 && b.date.year <= 9999) {
    append_padded(out, b.date.year, 4);
  } else {
    out += b.date.year < 0 ? '-' : '+';
    append_padded(out, b.date.year < 0 ? -b.date.year : b.date.year, 4);
  }
  append_rest(out, b, 'T');
  out += 'Z';
}

std::string format_rfc3339(Instant t) {
  std::string out;
  out.reserve(32);
  append_rfc3339(out, t);
  return out;
}

Instant now() {
  return std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
}

bool is_valid_timezone(std::string_view iana) {
  if (!is_zone_name_syntax(iana)) return false;
  try {
    // The tz database is loaded once, thread-safely, on first use; each zone's file on its first query.
    const date::time_zone* zone = date::locate_zone(iana);
    // Loading the zone's rules proves the file is a readable TZif file, not just a name in the folder.
    static_cast<void>(zone->get_info(std::chrono::system_clock::now()));
    return true;
  } catch (...) {
    return false;
  }
}

std::optional<Instant> parse_pg_timestamptz(std::string_view s) {
  Scanner in(s);
  Fields f;
  std::size_t year_digits = 0;
  if (!in.digits(4, 6, f.year, year_digits) || !in.consume('-') || !in.digits(2, f.month) ||
      !in.consume('-') || !in.digits(2, f.day) || !in.consume(' ') || !scan_clock(in, 6, f)) {
    return std::nullopt;
  }
  char sign = 0;
  if (!in.consume_any("+-", sign)) return std::nullopt;
  std::int64_t hours = 0;
  std::int64_t minutes = 0;
  std::int64_t seconds = 0;
  if (!in.digits(2, hours)) return std::nullopt;
  if (in.consume(':')) {
    if (!in.digits(2, minutes)) return std::nullopt;
    if (in.consume(':') && !in.digits(2, seconds)) return std::nullopt;
  }
  if (hours > 23 || minutes > 59 || seconds > 59) return std::nullopt;
  f.offset_seconds = (sign == '-' ? -1 : 1) * (hours * 3600 + minutes * 60 + seconds);
  if (f.year < 1) return std::nullopt;  // PostgreSQL has no year 0: 1 BC precedes 1 AD
  if (in.consume(std::string_view(" BC"))) f.year = 1 - f.year;
  if (!in.done()) return std::nullopt;
  const auto t = to_instant(f);
  // PostgreSQL's earliest timestamptz is 4714-11-24 00:00:00 UTC BC (its latest is beyond Instant's range).
  constexpr Instant kPgFirst{std::chrono::seconds{days_from_civil(-4713, 11, 24) * kSecondsPerDay}};
  static_assert(kPgFirst.time_since_epoch().count() == -210'866'803'200 * kMicrosPerSecond);
  if (t && *t < kPgFirst) return std::nullopt;
  return t;
}

std::string to_pg_timestamptz(Instant t) {
  const Broken b = break_down(t);
  const bool bc = b.date.year < 1;
  std::string out;
  out.reserve(36);
  append_padded(out, bc ? 1 - b.date.year : b.date.year, 4);
  append_rest(out, b, ' ');
  out += "+00";
  if (bc) out += " BC";
  return out;
}

}  // namespace todo

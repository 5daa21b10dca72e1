// ISO 8601 durations.
#include "todo/reminders/duration.hpp"

namespace todo::reminders {
namespace {

// Each number at most 9 digits: no overflow in any sum below.
constexpr std::size_t kMaxDigits = 9;

}  // namespace

std::optional<Duration> parse_duration(std::string_view s) {
  if (s.size() < 3 || s.front() != 'P') return std::nullopt;
  // Designators in the only allowed order; the date ones before T, the time ones after.
  static constexpr std::string_view kDate = "YMWD";
  static constexpr std::string_view kTime = "HMS";
  Duration d;
  std::size_t i = 1;
  bool in_time = false;
  bool any = false;
  bool time_component = false;
  std::size_t next_date = 0;  // index into kDate of the next designator allowed
  std::size_t next_time = 0;
  while (i < s.size()) {
    if (s[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      ++i;
      continue;
    }
    std::int64_t n = 0;
    std::size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      ++i;
      if (++digits > kMaxDigits) return std::nullopt;
    }
    if (digits == 0 || i >= s.size()) return std::nullopt;
    const char unit = s[i++];
    if (!in_time) {
      const auto pos = kDate.find(unit, next_date);
      if (pos == std::string_view::npos) return std::nullopt;
      next_date = pos + 1;
      switch (unit) {
        case 'Y':
          d.months += 12 * n;
          break;
        case 'M':
          d.months += n;
          break;
        case 'W':
          d.days += 7 * n;
          break;
        default:
          d.days += n;
      }
    } else {
      const auto pos = kTime.find(unit, next_time);
      if (pos == std::string_view::npos) return std::nullopt;
      next_time = pos + 1;
      d.seconds += n * (unit == 'H' ? 3600 : unit == 'M' ? 60 : 1);
      time_component = true;
    }
    any = true;
  }
  if (!any || (in_time && !time_component)) return std::nullopt;
  return d;
}

std::string format_duration(const Duration& d) {
  std::string out = "P";
  if (d.months / 12) out += std::to_string(d.months / 12) + "Y";
  if (d.months % 12) out += std::to_string(d.months % 12) + "M";
  if (d.days) out += std::to_string(d.days) + "D";
  if (d.seconds || out == "P") {
    out += "T";
    const auto h = d.seconds / 3600, m = d.seconds / 60 % 60, s = d.seconds % 60;
    if (h) out += std::to_string(h) + "H";
    if (m) out += std::to_string(m) + "M";
    if (s || (!h && !m)) out += std::to_string(s) + "S";
  }
  return out;
}

double approx_seconds(const Duration& d) {
  return static_cast<double>(d.months) * 30.436875 * 86400 + static_cast<double>(d.days) * 86400 +
         static_cast<double>(d.seconds);
}

}  // namespace todo::reminders

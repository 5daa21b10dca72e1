// Expander throughput: occurrences generated per second by recurrence::expand for typical rules in zones with
// DST, and next_after calls per second for a series started years ago (what completing an occurrence costs).
// Prints figures; asserts nothing. Built as bench_recurrence; run by bench/recurrence.sh.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "todo/recurrence/expand.hpp"

using namespace todo;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::stod(argv[1]) : 1.0;
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"FREQ=DAILY", "America/New_York"},
      {"FREQ=WEEKLY;BYDAY=MO,WE,FR", "Europe/Berlin"},
      {"FREQ=MONTHLY;BYDAY=-1FR", "Australia/Sydney"},
      {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "Asia/Kolkata"},
      {"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "Europe/Berlin"},
      {"FREQ=DAILY;BYMONTHDAY=-1", "UTC"},
  };
  const Instant start = *parse_rfc3339("2020-01-06T09:00:00Z");
  const Instant now = *parse_rfc3339("2026-03-05T12:00:00Z");
  std::printf("%-48s %-18s %16s %16s\n", "rule", "zone", "occurrences/s", "next_after/s");
  double total_occ = 0, total_next = 0;
  for (const auto& [text, tz] : cases) {
    const auto rule = recurrence::parse(text);
    // expand: batches of 500 occurrences from the start.
    std::size_t produced = 0;
    auto t0 = Clock::now();
    double elapsed = 0;
    while (elapsed < seconds) {
      produced += recurrence::expand(rule, start, tz, start - std::chrono::microseconds{1}, 500).size();
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    const double occ_rate = static_cast<double>(produced) / elapsed;
    // next_after: the next occurrence after "now" of a series started in 2020.
    std::size_t calls = 0;
    t0 = Clock::now();
    elapsed = 0;
    while (elapsed < seconds) {
      for (int i = 0; i < 50; ++i)
        calls += recurrence::next_after(rule, start, tz, now + std::chrono::hours{i}).has_value();
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    const double next_rate = static_cast<double>(calls) / elapsed;
    total_occ += occ_rate;
    total_next += next_rate;
    std::printf("%-48s %-18s %16.0f %16.0f\n", text, tz, occ_rate, next_rate);
  }
  std::printf("%-67s %16.0f %16.0f\n", "mean", total_occ / static_cast<double>(cases.size()),
              total_next / static_cast<double>(cases.size()));
  return 0;
}

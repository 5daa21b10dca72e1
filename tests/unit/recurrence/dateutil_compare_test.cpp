// The expander against the reference: hundreds of seeded random rules, in five zones, most of them starting
// near a DST change (often at a wall time the change skips or repeats), expanded here and by
// python-dateutil's rrule (tests/unit/recurrence/dateutil_rrule.py under /usr/bin/python3); the instants must
// be identical.
#include <date/tz.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "todo/recurrence/expand.hpp"
#include "unit/recurrence/wall.hpp"

namespace todo::recurrence {
namespace {

constexpr const char* kZones[] = {"America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata",
                                  "UTC"};
constexpr const char* kDays[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
constexpr std::size_t kOccurrences = 25;

struct Case {
  std::string rule;
  std::string dtstart;  // wall time
  std::string tz;
};

class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  Case next() {
    Case c;
    c.tz = kZones[pick(0, 4)];
    c.dtstart = start(date::locate_zone(c.tz));
    c.rule = rule(c.dtstart, &zone(c.tz));
    return c;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int percent) { return pick(1, 100) <= percent; }

  /// Half the starts lie up to three weeks before a DST change of the zone; times of day favour the hours
  /// that changes skip or repeat.
  std::string start(const date::time_zone* z) {
    const date::sys_days day0 = date::sys_days{date::year{pick(2019, 2032)} / pick(1, 12) / pick(1, 28)};
    date::local_days day{day0.time_since_epoch()};
    if (chance(50)) {
      const auto info = z->get_info(date::sys_seconds{day0});
      if (info.end.time_since_epoch().count() > 0 && info.end < date::sys_days{date::year{2040} / 1 / 1}) {
        const auto change_day = date::floor<date::days>(info.end + info.offset);
        day = date::local_days{change_day.time_since_epoch()} - date::days{pick(0, 21)};
      }
    }
    static constexpr const char* kTimes[] = {"00:00:00", "01:30:00", "02:00:00", "02:30:00",
                                             "03:00:00", "09:00:00", "12:15:00", "23:30:00"};
    std::string time =
        chance(80)
            ? kTimes[pick(0, 7)]
            : date::format("%H:%M:00", std::chrono::hours{pick(0, 23)} + std::chrono::minutes{pick(0, 59)});
    return date::format("%Y-%m-%d", day) + "T" + time;
  }

  std::string days_list(bool ordinals, int max_n) {
    std::string out;
    const int n = pick(1, ordinals ? 2 : 4);
    for (int i = 0; i < n; ++i) {
      if (!out.empty()) out += ",";
      if (ordinals) {
        int ord = pick(1, max_n);
        if (chance(40)) ord = -ord;
        out += std::to_string(ord);
      }
      out += kDays[pick(0, 6)];
    }
    return out;
  }

  std::string int_list(int count_max, int lo, int hi, bool negatives) {
    std::string out;
    const int n = pick(1, count_max);
    for (int i = 0; i < n; ++i) {
      if (!out.empty()) out += ",";
      int v = pick(lo, hi);
      if (negatives && chance(35)) v = -v;
      out += std::to_string(v);
    }
    return out;
  }

  std::string rule(const std::string& dtstart, const Zone* z) {
    static constexpr const char* kFreqs[] = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY"};
    const int f = pick(0, 3);
    std::string r = std::string("FREQ=") + kFreqs[f];
    if (chance(45)) r += ";INTERVAL=" + std::to_string(pick(2, 4));
    bool by = false;
    if (f <= 1 && chance(35)) {
      r += ";BYDAY=" + days_list(true, f == 1 ? 5 : (chance(70) ? 5 : 53));
      by = true;
    } else if (chance(f == 2 ? 65 : 30)) {
      r += ";BYDAY=" + days_list(false, 0);
      by = true;
    }
    if (f != 2 && chance(f == 3 ? 25 : 35)) {
      r += ";BYMONTHDAY=" + int_list(3, 1, 31, true);
      by = true;
    }
    if (chance(25)) {
      r += ";BYMONTH=" + int_list(f == 0 ? 3 : 6, 1, 12, false);
      by = true;
    }
    if (by && f != 3 && chance(30)) r += ";BYSETPOS=" + int_list(2, 1, 3, true);
    if (chance(30)) {
      r += ";COUNT=" + std::to_string(pick(1, 15));
    } else if (chance(25)) {
      // UNTIL as UTC, up to two years after the start (sometimes exactly on an occurrence's instant).
      const LocalTime t = test::parse_wall(dtstart);
      Instant until = z->to_instant(t) + date::days{pick(0, 730)};
      if (chance(50)) until += std::chrono::minutes{pick(-90, 90)};
      r += ";UNTIL=" + date::format("%Y%m%dT%H%M%SZ", date::floor<std::chrono::seconds>(until));
    }
    if (chance(35)) r += std::string(";WKST=") + kDays[pick(0, 6)];
    return r;
  }

  std::mt19937 rng_;
};

std::filesystem::path script() {
  return std::filesystem::path(TODO_RECURRENCE_TEST_DIR) / "dateutil_rrule.py";
}

std::vector<nlohmann::json> run_reference(const std::vector<Case>& cases) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto in_path = dir / ("rrule-cases-" + std::to_string(::getpid()) + ".jsonl");
  const auto out_path = dir / ("rrule-results-" + std::to_string(::getpid()) + ".jsonl");
  {
    std::ofstream in(in_path);
    for (const auto& c : cases)
      in << nlohmann::json{{"rule", c.rule}, {"dtstart", c.dtstart}, {"tz", c.tz}, {"count", kOccurrences}}
                .dump()
         << "\n";
  }
  const std::string cmd =
      "/usr/bin/python3 " + script().string() + " < " + in_path.string() + " > " + out_path.string();
  const int rc = std::system(cmd.c_str());
  std::vector<nlohmann::json> out;
  std::ifstream results(out_path);
  for (std::string line; std::getline(results, line);)
    out.push_back(nlohmann::json::parse(line));
  if (!std::getenv("TODO_KEEP_RRULE_CASES")) std::filesystem::remove(in_path);
  std::filesystem::remove(out_path);
  EXPECT_EQ(rc, 0) << cmd << " failed; is python3-dateutil installed (scripts/deps.sh)?";
  return out;
}

std::vector<std::string> ours(const Case& c) {
  const Zone* z = &zone(c.tz);
  const LocalTime t = test::parse_wall(c.dtstart);
  std::vector<std::string> out;
  for (auto lt : expand_local(parse(c.rule), t, z, std::nullopt, kOccurrences))
    out.push_back(format_rfc3339(z->to_instant(lt)));
  return out;
}

TEST(DateutilComparison, SeededRulesInFiveZonesAcrossDstChanges) {
  Generator gen(20260305);
  std::vector<Case> cases;
  int refused = 0;
  while (cases.size() < 500) {
    Case c = gen.next();
    try {
      parse(c.rule);
    } catch (const RuleError&) {
      ++refused;  // e.g. BYMONTH=2;BYMONTHDAY=30: refused on write, nothing to compare
      continue;
    }
    cases.push_back(std::move(c));
  }
  EXPECT_LT(refused, 150) << "the generator should mostly produce valid rules";
  const auto reference = run_reference(cases);
  ASSERT_EQ(reference.size(), cases.size());
  int compared = 0, near_dst = 0, nonempty = 0, mismatches = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    ASSERT_TRUE(reference[i].contains("occurrences"))
        << c.rule << " @ " << c.dtstart << " " << c.tz << ": " << reference[i].dump();
    const auto expected = reference[i]["occurrences"].get<std::vector<std::string>>();
    const auto got = ours(c);
    ++compared;
    if (!expected.empty()) ++nonempty;
    if (c.tz != std::string("UTC") && c.tz != std::string("Asia/Kolkata")) ++near_dst;
    if (got != expected && ++mismatches <= 10) {
      ADD_FAILURE() << "RRULE " << c.rule << " DTSTART " << c.dtstart << " " << c.tz
                    << "\n  dateutil: " << nlohmann::json(expected).dump()
                    << "\n  ours:     " << nlohmann::json(got).dump();
    }
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(compared, 500);
  EXPECT_GT(nonempty, 430);
  EXPECT_GT(near_dst, 150);
}

/// expand() on instants (the API's entry point) agrees with the reference too, from any `after`.
TEST(DateutilComparison, ExpandFromInstantsAndAfter) {
  Generator gen(42);
  std::vector<Case> cases;
  while (cases.size() < 200) {
    Case c = gen.next();
    try {
      parse(c.rule);
    } catch (const RuleError&) {
      continue;
    }
    // Only starts that are instants (a skipped wall time has none): the round trip must be exact.
    const Zone* z = &zone(c.tz);
    const LocalTime t = test::parse_wall(c.dtstart);
    if (z->to_local(z->to_instant(t)) != t) continue;
    cases.push_back(std::move(c));
  }
  const auto reference = run_reference(cases);
  ASSERT_EQ(reference.size(), cases.size());
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    ASSERT_TRUE(reference[i].contains("occurrences")) << c.rule << ": " << reference[i].dump();
    const auto expected = reference[i]["occurrences"].get<std::vector<std::string>>();
    const LocalTime t = test::parse_wall(c.dtstart);
    const Instant start = zone(c.tz).to_instant(t);
    const std::size_t skip =
        expected.empty() ? 0 : std::uniform_int_distribution<std::size_t>(0, expected.size() - 1)(rng);
    const Instant after =
        skip == 0 ? start - std::chrono::microseconds{1} : *parse_rfc3339(expected[skip - 1]);
    std::vector<std::string> got;
    for (auto x : expand(parse(c.rule), start, c.tz, after, kOccurrences - skip))
      got.push_back(format_rfc3339(x));
    const std::vector<std::string> tail(expected.begin() + static_cast<long>(skip), expected.end());
    EXPECT_EQ(got, tail) << "RRULE " << c.rule << " DTSTART " << c.dtstart << " " << c.tz << " after #"
                         << skip;
  }
}

}  // namespace
}  // namespace todo::recurrence

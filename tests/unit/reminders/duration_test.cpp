// ISO 8601 durations: what parses, to what, and the canonical form.
#include "todo/reminders/duration.hpp"

#include <gtest/gtest.h>

namespace todo::reminders {
namespace {

Duration d(std::int64_t months, std::int64_t days, std::int64_t seconds) {
  return Duration{months, days, seconds};
}

TEST(Duration, ParsesEachComponent) {
  EXPECT_EQ(parse_duration("PT15M"), d(0, 0, 900));
  EXPECT_EQ(parse_duration("PT1H"), d(0, 0, 3600));
  EXPECT_EQ(parse_duration("PT30S"), d(0, 0, 30));
  EXPECT_EQ(parse_duration("P1D"), d(0, 1, 0));
  EXPECT_EQ(parse_duration("P2W"), d(0, 14, 0));
  EXPECT_EQ(parse_duration("P3M"), d(3, 0, 0));
  EXPECT_EQ(parse_duration("P1Y"), d(12, 0, 0));
  EXPECT_EQ(parse_duration("P1Y2M3DT4H5M6S"), d(14, 3, 4 * 3600 + 5 * 60 + 6));
  EXPECT_EQ(parse_duration("P1W2D"), d(0, 9, 0));
  EXPECT_EQ(parse_duration("PT0S"), d(0, 0, 0));
  EXPECT_EQ(parse_duration("P0D"), d(0, 0, 0));
  EXPECT_EQ(parse_duration("PT36H"), d(0, 0, 36 * 3600));
}

TEST(Duration, RejectsNonsense) {
  for (const char* bad :
       {"",      "P",           "PT",      "T1H",    "1D",      "P1",           "PT1",           "P1DT",
        "P1H",   "PT1D",        "P1M1Y",   "PT1S1M", "P1D1D",   "PT1H1H",       "p1d",           "P1d",
        "pt15m", "-P1D",        "P-1D",    "P+1D",   "P1.5D",   "PT0.5S",       "PT1,5H",        "P 1D",
        " P1D",  "P1D ",        "P1DT1H ", "PTT1H",  "P1DTT1H", "P1234567890D", "PT15M garbage", "15 minutes",
        "P1W1W", "P1DT1H1M1S1S"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(Duration, FormatsCanonically) {
  EXPECT_EQ(format_duration(d(0, 0, 900)), "PT15M");
  EXPECT_EQ(format_duration(d(0, 0, 5400)), "PT1H30M");
  EXPECT_EQ(format_duration(d(0, 0, 0)), "PT0S");
  EXPECT_EQ(format_duration(d(0, 1, 0)), "P1D");
  EXPECT_EQ(format_duration(d(0, 14, 0)), "P14D");
  EXPECT_EQ(format_duration(d(14, 3, 3661)), "P1Y2M3DT1H1M1S");
  EXPECT_EQ(format_duration(d(12, 0, 0)), "P1Y");
  EXPECT_EQ(format_duration(d(0, 0, 86400)), "PT24H");  // exact hours stay hours: not a calendar day
  EXPECT_EQ(format_duration(d(0, 0, 59)), "PT59S");
  EXPECT_EQ(format_duration(d(0, 2, 60)), "P2DT1M");
}

TEST(Duration, RoundTrips) {
  for (const char* s : {"PT15M", "P1D", "P2W", "P1Y2M3DT4H5M6S", "PT90M", "PT0S", "P1M", "PT100000S"}) {
    auto parsed = parse_duration(s);
    ASSERT_TRUE(parsed) << s;
    const std::string canonical = format_duration(*parsed);
    EXPECT_EQ(parse_duration(canonical), parsed) << s << " -> " << canonical;
  }
  EXPECT_EQ(format_duration(*parse_duration("PT90M")), "PT1H30M");
  EXPECT_EQ(format_duration(*parse_duration("P1W")), "P7D");
}

TEST(Duration, ApproximateLength) {
  EXPECT_DOUBLE_EQ(approx_seconds(d(0, 1, 0)), 86400);
  EXPECT_DOUBLE_EQ(approx_seconds(d(0, 0, 900)), 900);
  EXPECT_NEAR(approx_seconds(d(12, 0, 0)), 365.2425 * 86400, 1);
}

}  // namespace
}  // namespace todo::reminders

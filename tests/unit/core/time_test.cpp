// Tests of RFC 3339 and PostgreSQL timestamptz parsing/formatting and of IANA zone validation.
#include "todo/core/time.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace todo {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

// The instant of a UTC date and time, plus microseconds.
Instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0, std::int64_t us = 0) {
  return Instant{sys_days{year{y} / month{m} / day{d}}} + hours{hh} + minutes{mm} + seconds{ss} +
         microseconds{us};
}

struct ValidCase {
  std::string_view text;
  Instant expected;
};

TEST(Rfc3339, ParsesValidInputs) {
  const ValidCase cases[] = {
      {"2026-03-05T09:00:00Z", utc(2026, 3, 5, 9)},
      {"2026-03-05t09:00:00z", utc(2026, 3, 5, 9)},
      {"2026-03-05 09:00:00Z", utc(2026, 3, 5, 9)},
      {"2026-03-05T09:00:00+00:00", utc(2026, 3, 5, 9)},
      {"2026-03-05T09:00:00-00:00", utc(2026, 3, 5, 9)},
      {"2026-03-05T10:00:00+01:00", utc(2026, 3, 5, 9)},
      {"2026-03-05T04:00:00-05:00", utc(2026, 3, 5, 9)},
      {"2026-03-05T14:45:00+05:45", utc(2026, 3, 5, 9)},
      {"2026-03-05T00:30:00+01:00", utc(2026, 3, 4, 23, 30)},
      {"2026-12-31T23:00:00-01:00", utc(2027, 1, 1)},
      {"2026-03-05T09:00:00+23:59", utc(2026, 3, 5, 9) - 23h - 59min},
      {"2026-03-05T09:00:00-23:59", utc(2026, 3, 5, 9) + 23h + 59min},
      {"2026-03-05T09:00:00.5Z", utc(2026, 3, 5, 9, 0, 0, 500000)},
      {"2026-03-05T09:00:00.123Z", utc(2026, 3, 5, 9, 0, 0, 123000)},
      {"2026-03-05T09:00:00.123456Z", utc(2026, 3, 5, 9, 0, 0, 123456)},
      {"2026-03-05T09:00:00.1234567Z", utc(2026, 3, 5, 9, 0, 0, 123456)},
      {"2026-03-05T09:00:00.999999999Z", utc(2026, 3, 5, 9, 0, 0, 999999)},
      {"2026-03-05T09:00:00.000000001Z", utc(2026, 3, 5, 9)},
      // RFC 3339's fraction is 1*DIGIT: any number of digits, truncated to microseconds.
      {"2026-03-05T09:00:00.1234567891Z", utc(2026, 3, 5, 9, 0, 0, 123456)},
      {"2026-03-05T09:00:00.00000099999999999999999999Z", utc(2026, 3, 5, 9)},
      // A leap second is the next second, as PostgreSQL reads it.
      {"2016-12-31T23:59:60Z", utc(2017, 1, 1)},
      {"2016-12-31T18:59:60.5-05:00", utc(2017, 1, 1, 0, 0, 0, 500000)},
      {"1969-12-31T23:59:60Z", Instant{}},
      {"2017-01-01T05:29:60+05:30", utc(2017, 1, 1)},
      {"2026-03-05T09:00:00.25+02:00", utc(2026, 3, 5, 7, 0, 0, 250000)},
      {"2024-02-29T12:00:00Z", utc(2024, 2, 29, 12)},
      {"2000-02-29T00:00:00Z", utc(2000, 2, 29)},
      {"1600-02-29T00:00:00Z", utc(1600, 2, 29)},
      {"2026-01-31T00:00:00Z", utc(2026, 1, 31)},
      {"2026-04-30T00:00:00Z", utc(2026, 4, 30)},
      {"2026-12-31T23:59:59Z", utc(2026, 12, 31, 23, 59, 59)},
      {"1970-01-01T00:00:00Z", Instant{}},
      {"1969-12-31T23:59:59.999999Z", Instant{} - 1us},
      {"0001-01-01T00:00:00Z", utc(1, 1, 1)},
      {"0001-01-01T00:00:00-01:00", utc(1, 1, 1, 1)},
      {"0001-01-01T23:00:00+23:00", utc(1, 1, 1)},
      {"9999-12-31T23:59:59.999999Z", utc(9999, 12, 31, 23, 59, 59, 999999)},
      {"9999-12-31T23:59:59+01:00", utc(9999, 12, 31, 22, 59, 59)},
      {"9999-12-31T00:59:59.999999-23:00", utc(9999, 12, 31, 23, 59, 59, 999999)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto parsed = parse_rfc3339(c.text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(Rfc3339, RejectsInvalidInputs) {
  const std::string_view cases[] = {
      // In UTC outside 0001-9999: format_rfc3339 could not write them back as RFC 3339.
      "0001-01-01T00:00:00+01:00",
      "0001-01-01T22:59:59.999999+23:00",
      "9999-12-31T23:00:00-01:00",
      "9999-12-31T01:00:00-23:00",
      "",
      " ",
      "2026-03-05",
      "09:00:00Z",
      "2026-03-05T09:00:00",       // missing offset
      "2026-03-05T09:00Z",         // missing seconds
      "2026-03-05T09:00:00+01",    // offset without minutes
      "2026-03-05T09:00:00+0100",  // offset without colon
      "2026-03-05T09:00:00+1:00",
      "2026-03-05T09:00:00+24:00",
      "2026-03-05T09:00:00+01:60",
      "2026-03-05T09:00:00UTC",
      "2026-03-05T09:00:00GMT",
      "2026-03-05T09:00:00Zjunk",
      "2026-03-05T09:00:00Z ",
      " 2026-03-05T09:00:00Z",
      "2026-03-05T09:00:00ZZ",
      "2026-03-05T09:00:00+01:00:00",
      "2026-03-05X09:00:00Z",
      "2026-03-05  09:00:00Z",
      "2026-03-05T09:00:00.Z",   // empty fraction
      "2026-03-05T09:00:00,5Z",  // comma fraction
      "2026-03-05T09:00:00.5.5Z",
      "2026-3-05T09:00:00Z",
      "2026-03-5T09:00:00Z",
      "26-03-05T09:00:00Z",
      "02026-03-05T09:00:00Z",
      "+2026-03-05T09:00:00Z",
      "2026-03-05T9:00:00Z",
      "2026-03-05T09:0:00Z",
      "2026-03-05T09:00:0Z",
      "2026/03/05T09:00:00Z",
      "2026-03-05T09-00-00Z",
      "2026-00-05T09:00:00Z",
      "2026-13-05T09:00:00Z",
      "2026-01-00T09:00:00Z",
      "2026-01-32T09:00:00Z",
      "2026-04-31T09:00:00Z",
      "2027-02-29T00:00:00Z",  // 2027 is not a leap year
      "1900-02-29T00:00:00Z",  // divisible by 100, not by 400
      "2026-02-30T00:00:00Z",
      "2026-03-05T24:00:00Z",
      "2026-03-05T23:60:00Z",
      "2026-03-05T09:59:60Z",       // a leap second only ends a UTC day
      "2016-12-31T23:59:60+01:00",  // 22:59:60 UTC
      "2016-12-31T23:59:61Z",
      "0000-01-01T00:00:00Z",
      "2026-03-05T09:00:00\xef\xbc\xba",  // full-width Z
      "２０２６-03-05T09:00:00Z",
      "2026-03-05T0a:00:00Z",
      "-2026-03-05T09:00:00Z",
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c);
    EXPECT_FALSE(parse_rfc3339(c).has_value());
  }
  // An embedded NUL must not end the input early.
  EXPECT_FALSE(parse_rfc3339(std::string_view("2026-03-05T09:00:00Z\0x", 22)).has_value());
}

// The problem a refused value gets names what is wrong with it: its form, or, for a well-formed one, its
// instant outside 0001-9999 in UTC.
TEST(Rfc3339, ProblemsSayWhetherTheFormOrTheRangeIsWrong) {
  EXPECT_EQ(rfc3339_problem("2026-03-05T09:00:00Z"), "");
  for (const char* form : {"", "2026-03-05", "yesterday", "2026-13-01T00:00:00Z", "0000-13-01T00:00:00Z"})
    EXPECT_EQ(rfc3339_problem(form),
              "must be an RFC 3339 date-time with an offset, e.g. 2026-03-05T09:00:00Z")
        << form;
  for (const char* range : {"0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59", "0000-12-31T23:59:59Z",
                            "0000-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(range)) << range;
    EXPECT_NE(rfc3339_problem(range).find("from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z"),
              std::string::npos)
        << range;
  }
}

TEST(Rfc3339, Formats) {
  EXPECT_EQ(format_rfc3339(utc(2026, 3, 5, 9)), "2026-03-05T09:00:00Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 3, 5, 9, 0, 0, 500000)), "2026-03-05T09:00:00.5Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 3, 5, 9, 0, 0, 123000)), "2026-03-05T09:00:00.123Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 3, 5, 9, 0, 0, 123456)), "2026-03-05T09:00:00.123456Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 3, 5, 9, 0, 0, 1)), "2026-03-05T09:00:00.000001Z");
  EXPECT_EQ(format_rfc3339(utc(2026, 3, 5, 9, 0, 0, 10)), "2026-03-05T09:00:00.00001Z");
  EXPECT_EQ(format_rfc3339(Instant{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(Instant{} - 1us), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(utc(2024, 2, 29, 23, 59, 59)), "2024-02-29T23:59:59Z");
  EXPECT_EQ(format_rfc3339(utc(1, 1, 1)), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(utc(9999, 12, 31, 23, 59, 59, 999999)), "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(utc(10000, 1, 1)), "+10000-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(utc(0, 12, 31)), "+0000-12-31T00:00:00Z");
  EXPECT_EQ(format_rfc3339(utc(-1, 1, 1)), "-0001-01-01T00:00:00Z");
  // The extremes of Instant format without overflow.
  EXPECT_FALSE(format_rfc3339(Instant::min()).empty());
  EXPECT_FALSE(format_rfc3339(Instant::max()).empty());
}

TEST(Rfc3339, AppendsWhatFormatGives) {
  std::string out = "at ";
  append_rfc3339(out, utc(2026, 3, 5, 9, 0, 0, 120000));
  append_rfc3339(out, utc(10000, 1, 1));
  EXPECT_EQ(out, "at 2026-03-05T09:00:00.12Z+10000-01-01T00:00:00Z");
}

TEST(Rfc3339, NormalisesOffsetsToUtc) {
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-03-05T10:00:00.250+01:00")), "2026-03-05T09:00:00.25Z");
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2026-03-05t09:00:00.1234569z")), "2026-03-05T09:00:00.123456Z");
}

TEST(Rfc3339, RoundTripsRandomInstants) {
  std::mt19937_64 rng(20260305);
  const auto lo = utc(1, 1, 1).time_since_epoch().count();
  const auto hi = utc(9999, 12, 31, 23, 59, 59, 999999).time_since_epoch().count();
  std::uniform_int_distribution<std::int64_t> dist(lo, hi);
  for (int i = 0; i < 20000; ++i) {
    const Instant t{microseconds{dist(rng)}};
    const std::string text = format_rfc3339(t);
    SCOPED_TRACE(text);
    const auto back = parse_rfc3339(text);
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(*back, t);
    // Agrees with the standard library's calendar.
    const year_month_day ymd{floor<days>(t)};
    ASSERT_EQ(text.substr(0, 10), [&] {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
      return std::string(buf);
    }());
  }
}

TEST(Now, IsMicrosecondsNearTheSystemClock) {
  const auto before = floor<microseconds>(system_clock::now());
  const Instant t = now();
  const auto after = system_clock::now();
  EXPECT_GE(t, before);
  EXPECT_LE(t, after);
  EXPECT_EQ(format_rfc3339(*parse_rfc3339(format_rfc3339(t))), format_rfc3339(t));
}

TEST(PgTimestamptz, ParsesPostgresOutput) {
  const ValidCase cases[] = {
      {"2026-03-05 09:00:00+00", utc(2026, 3, 5, 9)},
      {"2026-03-05 09:00:00.123456+00", utc(2026, 3, 5, 9, 0, 0, 123456)},
      {"2026-03-05 09:00:00.5+00", utc(2026, 3, 5, 9, 0, 0, 500000)},
      {"2026-03-05 09:00:00.000001+00", utc(2026, 3, 5, 9, 0, 0, 1)},
      {"2026-03-05 10:00:00+01", utc(2026, 3, 5, 9)},
      {"2026-03-05 04:00:00-05", utc(2026, 3, 5, 9)},
      {"2026-03-05 14:30:00+05:30", utc(2026, 3, 5, 9)},
      {"1900-01-01 00:19:32+00:19:32", utc(1900, 1, 1)},
      {"2024-02-29 00:00:00+00", utc(2024, 2, 29)},
      {"1970-01-01 00:00:00+00", Instant{}},
      {"10000-01-01 00:00:00+00", utc(10000, 1, 1)},
      {"0001-01-01 00:00:00+00", utc(1, 1, 1)},
      {"0001-12-31 00:00:00+00 BC", utc(0, 12, 31)},
      {"0001-02-29 00:00:00+00 BC", utc(0, 2, 29)},  // 1 BC is a leap year
      {"0044-03-15 00:00:00+00 BC", utc(-43, 3, 15)},
      {"4714-11-24 00:00:00+00 BC", utc(-4713, 11, 24)},
      {"4714-11-23 23:00:00-01 BC", utc(-4713, 11, 24)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto parsed = parse_pg_timestamptz(c.text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(PgTimestamptz, RejectsOtherText) {
  const std::string_view cases[] = {
      "",
      "infinity",
      "-infinity",
      "2026-03-05 09:00:00",  // no offset
      "2026-03-05T09:00:00+00",
      "2026-03-05T09:00:00Z",
      "2026-03-05 09:00:00Z",
      "2026-03-05 09:00:00+0",
      "2026-03-05 09:00:00+00:0",
      "2026-03-05 09:00:00+00 AD",
      "2026-03-05 09:00:00+00 bc",
      "2026-03-05 09:00:00+00 ",
      "2026-03-05 09:00:00.+00",
      "2026-03-05 09:00:00.1234567+00",
      "2026-02-29 09:00:00+00",
      "2026-03-05 24:00:00+00",
      "2026-03-05 09:00:60+00",
      "0000-01-01 00:00:00+00",
      "026-03-05 09:00:00+00",
      "1234567-01-01 00:00:00+00",
      "294276-12-31 23:59:59.999999+00",  // PostgreSQL's maximum, beyond Instant's
      // Before PostgreSQL's earliest, 4714-11-24 00:00:00 UTC BC: it would refuse them back.
      "4714-11-23 23:59:59.999999+00 BC",
      "4714-11-24 00:00:00+01 BC",
      "5000-01-01 00:00:00+00 BC",
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c);
    EXPECT_FALSE(parse_pg_timestamptz(c).has_value());
  }
}

TEST(PgTimestamptz, FormatsLiterals) {
  EXPECT_EQ(to_pg_timestamptz(utc(2026, 3, 5, 9)), "2026-03-05 09:00:00+00");
  EXPECT_EQ(to_pg_timestamptz(utc(2026, 3, 5, 9, 0, 0, 123456)), "2026-03-05 09:00:00.123456+00");
  EXPECT_EQ(to_pg_timestamptz(utc(2026, 3, 5, 9, 0, 0, 500000)), "2026-03-05 09:00:00.5+00");
  EXPECT_EQ(to_pg_timestamptz(Instant{} - 1us), "1969-12-31 23:59:59.999999+00");
  EXPECT_EQ(to_pg_timestamptz(utc(10000, 1, 1)), "10000-01-01 00:00:00+00");
  EXPECT_EQ(to_pg_timestamptz(utc(0, 12, 31)), "0001-12-31 00:00:00+00 BC");
  EXPECT_EQ(to_pg_timestamptz(utc(-43, 3, 15)), "0044-03-15 00:00:00+00 BC");
}

TEST(PgTimestamptz, RoundTrips) {
  std::mt19937_64 rng(42);
  const auto lo = utc(-4713, 11, 24).time_since_epoch().count();
  const auto hi = utc(30000, 1, 1).time_since_epoch().count();
  std::uniform_int_distribution<std::int64_t> dist(lo, hi);
  for (int i = 0; i < 20000; ++i) {
    const Instant t{microseconds{dist(rng)}};
    const std::string text = to_pg_timestamptz(t);
    SCOPED_TRACE(text);
    const auto back = parse_pg_timestamptz(text);
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(*back, t);
  }
}

// First among the zone tests, so that the threads race to load the tz database.
TEST(Timezone, IsSafeAcrossThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([i, &failures] {
      for (int n = 0; n < 200; ++n) {
        if (!is_valid_timezone(n % 2 ? "Europe/Berlin" : "Pacific/Auckland")) ++failures[i];
        if (is_valid_timezone("Mars/Base")) ++failures[i];
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (int f : failures)
    EXPECT_EQ(f, 0);
}

TEST(Timezone, KnowsIanaZones) {
  for (const char* zone : {"UTC", "Etc/UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                           "America/Argentina/Buenos_Aires", "Australia/Lord_Howe", "Pacific/Chatham",
                           "Etc/GMT+5", "Etc/GMT-14", "EST5EDT"}) {
    SCOPED_TRACE(zone);
    EXPECT_TRUE(is_valid_timezone(zone));
  }
}

TEST(Timezone, RejectsEverythingElse) {
  const std::string long_name(10000, 'A');
  const std::string_view cases[] = {
      "",
      " ",
      "Mars/Base",
      "utc",
      "europe/berlin",
      "UTC ",
      " UTC",
      "EST5EDT ",
      "Europe/Berlin\n",
      "Europe//Berlin",
      "/Europe/Berlin",
      "Europe/Berlin/",
      "Europe/",
      "Europe",
      "America",
      "../etc/passwd",
      "../../../../etc/passwd",
      "/etc/passwd",
      "/usr/share/zoneinfo/UTC",
      "./UTC",
      "Europe/../UTC",
      "Europe/./Berlin",
      "Europe\\Berlin",
      "localtime",
      "posixrules",
      "Factory",
      "posix/Europe/Berlin",
      "right/UTC",
      "zone.tab",
      "zone1970.tab",
      "tzdata.zi",
      "leapseconds",
      "leap-seconds.list",
      "iso3166.tab",
      "+01:00",
      "UTC+1",
      "%2e%2e/etc/passwd",
      "Europe/Berlin; rm -rf /",
      "Europe/Berl\xc3\xafn",
      long_name,
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c);
    EXPECT_FALSE(is_valid_timezone(c));
  }
  EXPECT_FALSE(is_valid_timezone(std::string_view("UTC\0", 4)));
  EXPECT_FALSE(is_valid_timezone(std::string_view("UTC\0/../x", 9)));
}

}  // namespace
}  // namespace todo

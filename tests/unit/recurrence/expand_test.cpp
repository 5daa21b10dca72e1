// Expansion regressions, one for each place libical 3.0.16 disagrees with python-dateutil (the reference),
// plus RFC 5545 examples for WKST, BYSETPOS and negative BYMONTHDAY. Every expected list below is
// dateutil's output (tests/unit/recurrence/dateutil_rrule.py) for the same rule, start and zone.
#include "todo/recurrence/expand.hpp"

#include <gtest/gtest.h>

#include "unit/recurrence/wall.hpp"

namespace todo::recurrence {
namespace {

/// A wall time "YYYY-MM-DDTHH:MM:SS" in `tz` as the instant of its first occurrence.
Instant wall(const std::string& local, std::string_view tz) {
  const LocalTime t = test::parse_wall(local);
  return zone(tz).to_instant(t);
}

std::vector<std::string> run(const std::string& rule, const std::string& start, std::string_view tz,
                             std::size_t count = 20) {
  const Zone* z = &zone(tz);
  const LocalTime t = test::parse_wall(start);
  std::vector<std::string> out;
  for (auto lt : expand_local(parse(rule), t, z, std::nullopt, count))
    out.push_back(format_rfc3339(z->to_instant(lt)));
  return out;
}

using V = std::vector<std::string>;

// libical defect 1: UTC offsets near DST changes. 9:00 stays 9:00 on the wall clock across the change.
TEST(ExpandDst, NineOClockStaysNineAcrossSpringForward) {
  EXPECT_EQ(
      run("FREQ=DAILY;COUNT=4", "2026-03-06T09:00:00", "America/New_York"),
      (V{"2026-03-06T14:00:00Z", "2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"}));
}

TEST(ExpandDst, MondayNineAcrossFallBackInBerlin) {
  EXPECT_EQ(run("FREQ=WEEKLY;BYDAY=MO;COUNT=3", "2026-10-19T09:00:00", "Europe/Berlin"),
            (V{"2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z"}));
}

TEST(ExpandDst, SouthernHemisphereSpringForward) {
  EXPECT_EQ(run("FREQ=WEEKLY;COUNT=3", "2026-09-28T09:00:00", "Australia/Sydney"),
            (V{"2026-09-27T23:00:00Z", "2026-10-04T22:00:00Z", "2026-10-11T22:00:00Z"}));
}

// libical defect 2: of two repeated wall times, the first instant is meant (libical takes the second).
TEST(ExpandDst, RepeatedWallTimeMeansItsFirstInstant) {
  EXPECT_EQ(run("FREQ=DAILY;COUNT=3", "2026-10-31T01:30:00", "America/New_York"),
            (V{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}));
  EXPECT_EQ(run("FREQ=DAILY;COUNT=3", "2026-10-24T02:30:00", "Europe/Berlin"),
            (V{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}));
}

TEST(ExpandDst, SkippedWallTimeMovesForwardByTheGap) {
  // 02:30 does not exist on 2026-03-08 in New York (02:00 → 03:00): 03:30 EDT = 07:30Z.
  EXPECT_EQ(run("FREQ=DAILY;COUNT=3", "2026-03-07T02:30:00", "America/New_York"),
            (V{"2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"}));
  EXPECT_EQ(run("FREQ=DAILY;COUNT=3", "2026-03-27T02:30:00", "Europe/Berlin"),
            (V{"2026-03-27T01:30:00Z", "2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z"}));
}

TEST(ExpandDst, ToInstantPolicy) {
  const Zone* ny = &zone("America/New_York");
  EXPECT_EQ(format_rfc3339(wall("2026-11-01T01:30:00", "America/New_York")), "2026-11-01T05:30:00Z");
  EXPECT_EQ(format_rfc3339(wall("2026-03-08T02:30:00", "America/New_York")), "2026-03-08T07:30:00Z");
  EXPECT_EQ(ny->to_local(wall("2026-07-01T12:00:00", "America/New_York")),
            LocalTime{date::local_days{date::year{2026} / 7 / 1}} + std::chrono::hours{12});
}

// Beyond 2037 the TZif files give DST as a POSIX rule in their footer, which Debian's date library ignores
// (it would have no summer time at all): Zone applies it, as zoneinfo does.
TEST(ExpandDst, SummerTimeAfter2037) {
  EXPECT_EQ(run("FREQ=YEARLY;COUNT=2", "2040-07-01T09:00:00", "Europe/Berlin"),
            (V{"2040-07-01T07:00:00Z", "2041-07-01T07:00:00Z"}));
  EXPECT_EQ(run("FREQ=DAILY;COUNT=3", "2045-10-28T02:30:00", "Europe/Berlin"),
            (V{"2045-10-28T00:30:00Z", "2045-10-29T00:30:00Z", "2045-10-30T01:30:00Z"}));
  EXPECT_EQ(run("FREQ=DAILY;COUNT=3", "2045-03-25T02:30:00", "Europe/Berlin"),
            (V{"2045-03-25T01:30:00Z", "2045-03-26T01:30:00Z", "2045-03-27T00:30:00Z"}));
  EXPECT_EQ(run("FREQ=MONTHLY;COUNT=3", "2050-03-15T09:00:00", "Australia/Sydney"),
            (V{"2050-03-14T22:00:00Z", "2050-04-14T23:00:00Z", "2050-05-14T23:00:00Z"}));
}

// A zone's abbreviation at an instant, from the database up to its last transition and from the footer's rule
// after it (the reminder e-mail's "Due:" line shows it).
TEST(ZoneAbbreviation, FollowsDstAfter2037Too) {
  const auto& berlin = zone("Europe/Berlin");
  const auto abbrev = [&](const char* t) { return berlin.abbreviation(*parse_rfc3339(t)); };
  EXPECT_EQ(abbrev("2036-07-01T07:00:00Z"), "CEST");
  EXPECT_EQ(abbrev("2036-01-15T08:00:00Z"), "CET");
  EXPECT_EQ(abbrev("2040-07-01T07:00:00Z"), "CEST");
  EXPECT_EQ(abbrev("2040-01-15T08:00:00Z"), "CET");
  EXPECT_EQ(zone("America/Sao_Paulo").abbreviation(*parse_rfc3339("2040-07-01T07:00:00Z")), "-03");
  EXPECT_EQ(zone("UTC").abbreviation(*parse_rfc3339("2040-07-01T07:00:00Z")), "UTC");
}

// libical defect 3: WKST other than MO (RFC 5545's own example, DTSTART 1997-08-05 09:00 New York).
TEST(ExpandWkst, WeekStartChangesBiweeklyRules) {
  EXPECT_EQ(
      run("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=MO;COUNT=4", "1997-08-05T09:00:00", "America/New_York"),
      (V{"1997-08-05T13:00:00Z", "1997-08-10T13:00:00Z", "1997-08-19T13:00:00Z", "1997-08-24T13:00:00Z"}));
  EXPECT_EQ(
      run("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU;COUNT=4", "1997-08-05T09:00:00", "America/New_York"),
      (V{"1997-08-05T13:00:00Z", "1997-08-17T13:00:00Z", "1997-08-19T13:00:00Z", "1997-08-31T13:00:00Z"}));
}

// libical defect 4: FREQ=DAILY;BYMONTHDAY=-1 is the last day of every month.
TEST(ExpandMonthDay, DailyLastDayOfMonth) {
  EXPECT_EQ(
      run("FREQ=DAILY;BYMONTHDAY=-1;COUNT=4", "2026-01-15T09:00:00", "Europe/Berlin"),
      (V{"2026-01-31T08:00:00Z", "2026-02-28T08:00:00Z", "2026-03-31T07:00:00Z", "2026-04-30T07:00:00Z"}));
  EXPECT_EQ(
      run("FREQ=DAILY;BYMONTHDAY=-1,1;COUNT=4", "2028-02-15T09:00:00", "UTC"),
      (V{"2028-02-29T09:00:00Z", "2028-03-01T09:00:00Z", "2028-03-31T09:00:00Z", "2028-04-01T09:00:00Z"}));
}

TEST(ExpandMonthDay, ThirdToLastDayOfMonth) {
  EXPECT_EQ(run("FREQ=MONTHLY;BYMONTHDAY=-3;COUNT=6", "1997-09-28T09:00:00", "America/New_York"),
            (V{"1997-09-28T13:00:00Z", "1997-10-29T14:00:00Z", "1997-11-28T14:00:00Z", "1997-12-29T14:00:00Z",
               "1998-01-29T14:00:00Z", "1998-02-26T14:00:00Z"}));
}

TEST(ExpandSetPos, LastWorkdayOfTheMonth) {
  EXPECT_EQ(
      run("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=4", "2026-01-01T17:00:00", "Asia/Kolkata"),
      (V{"2026-01-30T11:30:00Z", "2026-02-27T11:30:00Z", "2026-03-31T11:30:00Z", "2026-04-30T11:30:00Z"}));
}

TEST(ExpandSetPos, ThirdTuesdayWednesdayOrThursday) {
  EXPECT_EQ(run("FREQ=MONTHLY;BYDAY=TU,WE,TH;BYSETPOS=3;COUNT=3", "1997-09-04T09:00:00", "America/New_York"),
            (V{"1997-09-04T13:00:00Z", "1997-10-07T13:00:00Z", "1997-11-06T14:00:00Z"}));
}

TEST(ExpandOrdinals, NthWeekdays) {
  EXPECT_EQ(
      run("FREQ=MONTHLY;BYDAY=2TU,-1FR;COUNT=4", "2026-01-01T09:00:00", "UTC"),
      (V{"2026-01-13T09:00:00Z", "2026-01-30T09:00:00Z", "2026-02-10T09:00:00Z", "2026-02-27T09:00:00Z"}));
  EXPECT_EQ(run("FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=3", "2026-01-01T09:00:00", "Europe/Berlin"),
            (V{"2026-03-29T07:00:00Z", "2027-03-28T07:00:00Z", "2028-03-26T07:00:00Z"}));
}

TEST(ExpandBounds, UntilIsInclusiveAndCountCountsFromTheStart) {
  EXPECT_EQ(run("FREQ=DAILY;UNTIL=20260309T130000Z", "2026-03-07T09:00:00", "America/New_York"),
            (V{"2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-09T13:00:00Z"}));
  EXPECT_EQ(run("FREQ=DAILY;UNTIL=20260309T085959", "2026-03-07T09:00:00", "America/New_York"),
            (V{"2026-03-07T14:00:00Z", "2026-03-08T13:00:00Z"}));
  EXPECT_EQ(run("FREQ=DAILY;UNTIL=20260309", "2026-03-07T00:00:00", "Europe/Berlin"),
            (V{"2026-03-06T23:00:00Z", "2026-03-07T23:00:00Z", "2026-03-08T23:00:00Z"}));
  const Rule r = parse("FREQ=DAILY;COUNT=5");
  const Instant start = wall("2026-03-01T09:00:00", "UTC");
  const auto tail = expand(r, start, "UTC", start + date::days{2}, 10);
  EXPECT_EQ(tail, (std::vector<Instant>{start + date::days{3}, start + date::days{4}}));
}

TEST(ExpandBounds, StartIsAnOccurrenceOnlyWhenItMatches) {
  // 2026-03-03 is a Tuesday; dateutil (and this expander) start with the first Monday.
  EXPECT_EQ(run("FREQ=WEEKLY;BYDAY=MO;COUNT=2", "2026-03-03T09:00:00", "UTC"),
            (V{"2026-03-09T09:00:00Z", "2026-03-16T09:00:00Z"}));
  EXPECT_FALSE(matches_start(parse("FREQ=WEEKLY;BYDAY=MO"), wall("2026-03-03T09:00:00", "UTC"), "UTC"));
  EXPECT_TRUE(
      matches_start(parse("FREQ=WEEKLY;BYDAY=TU;COUNT=1"), wall("2026-03-03T09:00:00", "UTC"), "UTC"));
}

TEST(ExpandBounds, AfterIsExclusiveAndNeverNeedsTheWholeHistory) {
  const Rule r = parse("FREQ=WEEKLY;BYDAY=MO");
  const Instant start = wall("2020-01-06T09:00:00", "Europe/Berlin");
  const Instant after = wall("2026-03-30T09:00:00", "Europe/Berlin");  // a Monday occurrence itself
  const auto next = expand(r, start, "Europe/Berlin", after, 2);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(format_rfc3339(next[0]), "2026-04-06T07:00:00Z");
  EXPECT_EQ(format_rfc3339(next[1]), "2026-04-13T07:00:00Z");
  EXPECT_EQ(next_after(r, start, "Europe/Berlin", after - std::chrono::microseconds{1}), after);
}

// Without COUNT, expand() jumps over whole periods before `after`; the result must be the tail of the full
// expansion.
TEST(ExpandBounds, SkippingAheadKeepsThePhase) {
  for (const char* text :
       {"FREQ=DAILY;INTERVAL=7", "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU,WE;WKST=SU",
        "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=31", "FREQ=YEARLY;INTERVAL=3;BYMONTH=2;BYMONTHDAY=29",
        "FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,FR;BYSETPOS=-1", "FREQ=WEEKLY;INTERVAL=2;UNTIL=20600101T000000Z",
        "FREQ=DAILY;INTERVAL=3;BYMONTH=3,10"}) {
    const Rule r = parse(text);
    const Instant start = wall("2021-03-27T02:30:00", "Europe/Berlin");
    const auto all = expand(r, start, "Europe/Berlin", start - std::chrono::microseconds{1}, 400);
    ASSERT_GT(all.size(), 50u) << text;
    for (std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{49}, all.size() - 2}) {
      for (auto nudge :
           {std::chrono::microseconds{0}, std::chrono::microseconds{-1}, std::chrono::microseconds{1}}) {
        const Instant after = all[i] + nudge;
        std::vector<Instant> expected;
        for (auto t : all)
          if (t > after && expected.size() < 5) expected.push_back(t);
        auto got = expand(r, start, "Europe/Berlin", after, 5);
        if (expected.size() < 5) got.resize(std::min(got.size(), expected.size()));
        EXPECT_EQ(got, expected) << text << " after #" << i;
      }
    }
  }
}

TEST(ExpandBounds, EndsAtYear9999) {
  const Rule r = parse("FREQ=YEARLY;INTERVAL=1000");
  const auto v =
      expand(r, wall("2026-01-01T00:00:00", "UTC"), "UTC", wall("2000-01-01T00:00:00", "UTC"), 100);
  EXPECT_EQ(v.size(), 8u);  // 2026, 3026, …, 9026
}

// West of UTC the last local days of year 9999 are instants of year 10000, which RFC 3339 cannot write: no
// such occurrence is given (a task due then could not be sent back).
TEST(ExpandBounds, EndsAtTheLastInstantOfYear9999) {
  const Rule r = parse("FREQ=DAILY");
  const Instant start = wall("9999-12-29T12:00:00", "Etc/GMT+12");  // 9999-12-30T00:00:00Z
  std::vector<std::string> got;
  for (const Instant t : expand(r, start, "Etc/GMT+12", start - std::chrono::microseconds{1}, 10))
    got.push_back(format_rfc3339(t));
  EXPECT_EQ(got, (V{"9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"}));
  EXPECT_FALSE(next_after(r, start, "Etc/GMT+12", wall("9999-12-30T12:00:00", "Etc/GMT+12")));
}

// A rule that never occurs after its start (COUNT and UNTIL aside) is found within one calendar cycle of its
// periods; one that does, however rarely, is never taken for one.
TEST(ExpandBounds, NeverOccursAfterStart) {
  auto never = [](const char* rule, const char* start) {
    return never_occurs_after_start(parse(rule), wall(start, "Europe/Berlin"), "Europe/Berlin");
  };
  // 2027-04-01 is a Thursday: every 7 (or 14) days from it is a Thursday; 2027 + 2n and 2027 + 4n are odd.
  EXPECT_TRUE(never("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2027-04-01T09:00:00"));
  EXPECT_TRUE(never("FREQ=DAILY;INTERVAL=14;BYDAY=TU,WE;COUNT=3", "2027-04-01T09:00:00"));
  EXPECT_TRUE(never("FREQ=DAILY;INTERVAL=7;BYDAY=FR;BYMONTH=1", "2027-04-01T09:00:00"));
  EXPECT_TRUE(never("FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "2027-04-01T09:00:00"));
  EXPECT_TRUE(never("FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29;UNTIL=20990101", "2027-04-01T09:00:00"));
  EXPECT_TRUE(never("FREQ=YEARLY;INTERVAL=400;BYMONTH=2;BYMONTHDAY=29", "2100-01-01T09:00:00"));
  EXPECT_TRUE(never("FREQ=MONTHLY;INTERVAL=12;BYMONTHDAY=30", "2027-02-01T09:00:00"));

  EXPECT_FALSE(never("FREQ=DAILY;INTERVAL=7;BYDAY=TH", "2027-04-01T09:00:00"));
  EXPECT_FALSE(never("FREQ=DAILY;INTERVAL=3;BYDAY=TU", "2027-04-01T09:00:00"));
  EXPECT_FALSE(never("FREQ=DAILY;COUNT=1", "2027-04-01T09:00:00"));  // COUNT ends it, which is no error
  EXPECT_FALSE(never("FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "2028-01-01T09:00:00"));
  EXPECT_FALSE(never("FREQ=YEARLY;INTERVAL=100;BYMONTH=2;BYMONTHDAY=29", "2100-03-01T09:00:00"));  // 2400
  EXPECT_FALSE(never("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "2027-04-01T09:00:00"));
  EXPECT_FALSE(never("FREQ=MONTHLY;BYMONTH=2;BYDAY=5FR", "2027-04-01T09:00:00"));  // 2036
  EXPECT_FALSE(never("FREQ=WEEKLY;INTERVAL=7;BYMONTH=2;BYDAY=SU;BYSETPOS=1", "2027-04-01T09:00:00"));
  EXPECT_FALSE(never("FREQ=YEARLY;INTERVAL=10000", "2027-04-01T09:00:00"))  // past 9999: nothing shown
      << "year 9999 ends the search before a whole cycle";
}

// Whatever never_occurs_after_start refuses has no occurrence at all up to year 9999 (starts in 9200, so that
// the expansion to the end stays short).
TEST(ExpandBounds, NeverOccursAfterStartRefusesNothingThatOccurs) {
  int refused = 0, rules = 0;
  for (const char* freq : {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
    for (int interval : {1, 2, 3, 4, 7, 12, 14, 100})
      for (const char* by_day : {"", ";BYDAY=TU", ";BYDAY=MO,FR", ";BYDAY=2TU", ";BYDAY=-1SU"})
        for (const char* by_month : {"", ";BYMONTH=2", ";BYMONTH=2,9"})
          for (const char* by_month_day : {"", ";BYMONTHDAY=29", ";BYMONTHDAY=-1", ";BYMONTHDAY=30,31"}) {
            const std::string text = std::string("FREQ=") + freq + ";INTERVAL=" + std::to_string(interval) +
                                     by_day + by_month + by_month_day;
            Rule r;
            try {
              r = parse(text);
            } catch (const RuleError&) {
              continue;
            }
            for (const char* start : {"9200-02-29T09:00:00", "9201-03-01T09:00:00", "9203-12-30T09:00:00"}) {
              const Instant s = wall(start, "UTC");
              const bool never = never_occurs_after_start(r, s, "UTC");
              ++rules;
              refused += never;
              if (never) {
                EXPECT_FALSE(next_after(r, s, "UTC", s)) << text << " from " << start;
              }
            }
          }
  EXPECT_GT(rules, 1000);
  EXPECT_GT(refused, 100);
}

TEST(AddInterval, CalendarStepsAtTheSeriesTimeOfDay) {
  const Instant nine = wall("2026-01-31T09:00:00", "Europe/Berlin");
  const Instant done = wall("2026-03-05T18:42:00", "Europe/Berlin");
  EXPECT_EQ(format_rfc3339(add_interval(parse("FREQ=DAILY;INTERVAL=3"), done, nine, "Europe/Berlin")),
            "2026-03-08T08:00:00Z");
  // Across the spring-forward change: 9:00 CEST.
  EXPECT_EQ(format_rfc3339(add_interval(parse("FREQ=WEEKLY"), done + date::days{21}, nine, "Europe/Berlin")),
            "2026-04-02T07:00:00Z");
  EXPECT_EQ(format_rfc3339(add_interval(parse("FREQ=MONTHLY"), nine, nine, "Europe/Berlin")),
            "2026-02-28T08:00:00Z");
  EXPECT_EQ(format_rfc3339(add_interval(parse("FREQ=YEARLY;INTERVAL=2"), nine, nine, "Europe/Berlin")),
            "2028-01-31T08:00:00Z");
}

TEST(Zone, UnknownZoneIsARuleError) {
  EXPECT_THROW(zone("Mars/Olympus_Mons"), RuleError);
  EXPECT_THROW(expand(parse("FREQ=DAILY"), Instant{}, "nowhere", Instant{}, 1), RuleError);
}

}  // namespace
}  // namespace todo::recurrence

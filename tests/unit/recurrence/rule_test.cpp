// RRULE parsing: accepted forms, the canonical text, and an error naming the part for each kind of mistake.
#include "todo/recurrence/rule.hpp"

#include <gtest/gtest.h>

namespace todo::recurrence {
namespace {

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const RuleError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RuleParse, ReadsEveryPart) {
  const Rule r = parse("FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU,-1FR;BYMONTH=1,7;BYSETPOS=1,-1;COUNT=12;WKST=SU");
  EXPECT_EQ(r.freq, Freq::monthly);
  EXPECT_EQ(r.interval, 2);
  ASSERT_EQ(r.by_day.size(), 2u);
  EXPECT_EQ(r.by_day[0], (WeekdayNum{1, 2}));
  EXPECT_EQ(r.by_day[1], (WeekdayNum{4, -1}));
  EXPECT_EQ(r.by_month, (std::vector<int>{1, 7}));
  EXPECT_EQ(r.by_set_pos, (std::vector<int>{1, -1}));
  EXPECT_EQ(r.count, 12u);
  EXPECT_EQ(r.wkst, 6);
}

TEST(RuleParse, NamesAreCaseInsensitiveAndThePrefixIsOptional) {
  EXPECT_EQ(parse("rrule:freq=daily;bymonthday=-1"), parse("FREQ=DAILY;BYMONTHDAY=-1"));
  EXPECT_EQ(parse("RRULE:FREQ=WEEKLY").freq, Freq::weekly);
}

TEST(RuleParse, UntilForms) {
  const auto utc = parse("FREQ=DAILY;UNTIL=20261231T235959Z").until;
  ASSERT_TRUE(utc);
  EXPECT_TRUE(utc->utc);
  const auto floating = parse("FREQ=DAILY;UNTIL=20261231T090000").until;
  ASSERT_TRUE(floating);
  EXPECT_FALSE(floating->utc);
  const auto date_only = parse("FREQ=DAILY;UNTIL=20261231").until;
  ASSERT_TRUE(date_only);
  EXPECT_FALSE(date_only->utc);
  EXPECT_EQ(floating->at - date_only->at, std::chrono::hours{9});
}

TEST(RuleParse, CanonicalTextRoundTrips) {
  for (const char* text :
       {"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=-1,15;BYSETPOS=1",
        "FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20270101T000000Z;WKST=SU", "FREQ=DAILY;COUNT=5",
        "FREQ=DAILY;UNTIL=20270101T000000"}) {
    EXPECT_EQ(to_string(parse(text)), text);
    EXPECT_EQ(parse(to_string(parse(text))), parse(text));
  }
}

// A list is a set: any order of its values is one rule, spelt one way (a client listing the days of a form in
// another order changed the rule, and a series-wide PATCH re-created the following occurrences).
TEST(RuleParse, ListsAreSpeltInOneOrder) {
  EXPECT_EQ(to_string(parse("FREQ=WEEKLY;BYDAY=TH,TU")), "FREQ=WEEKLY;BYDAY=TU,TH");
  EXPECT_EQ(to_string(parse("FREQ=WEEKLY;BYDAY=SU,MO,FR")), "FREQ=WEEKLY;BYDAY=MO,FR,SU");
  EXPECT_EQ(to_string(parse("FREQ=MONTHLY;BYDAY=3MO,-1FR,1MO")), "FREQ=MONTHLY;BYDAY=-1FR,1MO,3MO");
  EXPECT_EQ(to_string(parse("FREQ=MONTHLY;BYMONTHDAY=15,1,-1")), "FREQ=MONTHLY;BYMONTHDAY=-1,1,15");
  EXPECT_EQ(to_string(parse("FREQ=YEARLY;BYMONTH=12,3;BYDAY=FR;BYSETPOS=-1,2")),
            "FREQ=YEARLY;BYMONTH=3,12;BYDAY=FR;BYSETPOS=-1,2");
}

TEST(RuleParse, ErrorsNameThePart) {
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYDAY=XX"), "BYDAY: 'XX' is not a weekday (MO, TU, WE, TH, FR, SA, SU)");
  EXPECT_EQ(error_of(""), "the rule is empty; it needs at least FREQ, e.g. FREQ=WEEKLY");
  EXPECT_EQ(error_of("BYDAY=MO"), "FREQ: is required, e.g. FREQ=WEEKLY");
  EXPECT_EQ(error_of("FREQ=SOMETIMES"),
            "FREQ: 'SOMETIMES' is not a frequency (DAILY, WEEKLY, MONTHLY or YEARLY)");
  EXPECT_EQ(error_of("FREQ=HOURLY"), "FREQ: 'HOURLY' is not supported (DAILY, WEEKLY, MONTHLY or YEARLY)");
  EXPECT_EQ(error_of("FREQ=DAILY;INTERVAL=0"), "INTERVAL: '0' is out of range (1 to 10000)");
  EXPECT_EQ(error_of("FREQ=DAILY;INTERVAL=x"), "INTERVAL: 'X' is not a number");
  EXPECT_EQ(error_of("FREQ=DAILY;COUNT=-2"), "COUNT: '-2' is out of range (1 to 100000)");
  EXPECT_EQ(error_of("FREQ=DAILY;INTERVAL=-1"), "INTERVAL: '-1' is out of range (1 to 10000)");
  EXPECT_EQ(error_of("FREQ=DAILY;INTERVAL=+2"), "INTERVAL: '+2' is not a number");
  EXPECT_EQ(error_of("FREQ=DAILY;COUNT=2;UNTIL=20270101"), "UNTIL: must not be combined with COUNT");
  EXPECT_EQ(error_of("FREQ=DAILY;UNTIL=2027-01-01"),
            "UNTIL: '2027-01-01' is not a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSSZ)");
  EXPECT_EQ(error_of("FREQ=DAILY;UNTIL=20270230"), "UNTIL: '20270230' is not a valid date");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYMONTHDAY=0"), "BYMONTHDAY: '0' is out of range (-31 to -1 or 1 to 31)");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYMONTHDAY=32"),
            "BYMONTHDAY: '32' is out of range (-31 to -1 or 1 to 31)");
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=13"), "BYMONTH: '13' is out of range (1 to 12)");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0"),
            "BYSETPOS: '0' is out of range (-366 to -1 or 1 to 366)");
  EXPECT_EQ(error_of("FREQ=DAILY;BYSETPOS=1"),
            "BYSETPOS: needs another BYxxx part (BYDAY, BYMONTHDAY or BYMONTH)");
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYDAY=MO,FR;BYSETPOS=3"),
            "BYSETPOS: '3' can never be met: at most 2 days of each period match the rule");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=1MO;BYSETPOS=-2"),
            "BYSETPOS: '-2' can never be met: at most 1 day of each period match the rule");
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYDAY=2TU"),
            "BYDAY: '2TU' has an ordinal, which only MONTHLY and YEARLY rules allow");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=6MO"),
            "BYDAY: '6MO' has an ordinal out of range for a MONTHLY rule (-5 to 5)");
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=3;BYDAY=6MO"),
            "BYDAY: '6MO' can never be met: with BYMONTH the ordinal counts within the month (-5 to 5)");
  EXPECT_EQ(error_of("FREQ=YEARLY;BYDAY=54MO"), "BYDAY: '54MO' has an ordinal out of range");
  EXPECT_EQ(error_of("FREQ=MONTHLY;BYDAY=MO,2TU"),
            "BYDAY: mixing weekdays with and without ordinals (e.g. MO,2TU) is not supported");
  EXPECT_EQ(error_of("FREQ=WEEKLY;BYMONTHDAY=1"), "BYMONTHDAY: is not allowed with FREQ=WEEKLY");
  EXPECT_EQ(error_of("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30,31"),
            "BYMONTHDAY: no month of the rule has such a day, so the rule never occurs");
  EXPECT_EQ(error_of("FREQ=WEEKLY;WKST=XY"), "WKST: 'XY' is not a weekday (MO, TU, WE, TH, FR, SA, SU)");
  EXPECT_EQ(error_of("FREQ=DAILY;BYHOUR=9"),
            "BYHOUR: is not supported (occurrences keep the start's time of day)");
  EXPECT_EQ(error_of("FREQ=DAILY;COLOR=red"), "'COLOR' is not a rule part");
  EXPECT_EQ(error_of("FREQ=DAILY;FREQ=WEEKLY"), "FREQ: given more than once");
  EXPECT_EQ(error_of("FREQ=DAILY;;COUNT=1"), "empty part between ';' separators");
  EXPECT_EQ(error_of("FREQ"), "'FREQ' is not NAME=VALUE");
  EXPECT_EQ(error_of("FREQ=DAILY;COUNT="), "COUNT: has no value");
}

TEST(RuleParse, LeapDayIsPossible) {
  EXPECT_NO_THROW(parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"));
  EXPECT_NO_THROW(parse("FREQ=MONTHLY;BYMONTHDAY=31"));
}

}  // namespace
}  // namespace todo::recurrence

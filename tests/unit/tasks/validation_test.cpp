// Tests of task input validation (POST and PATCH bodies, tags) and of applying a patch in memory.
#include "todo/tasks/validation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "todo/core/time.hpp"
#include "unit/error_of.hpp"

namespace todo::tasks {
namespace {

using json = nlohmann::json;
using test::error_of;
using test::fields_of;
using test::ThrowsNaming;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

Instant utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  using namespace std::chrono;
  return Instant{sys_days{year{y} / month{m} / day{d}}} + hours{hh} + minutes{mm};
}

json with_title(json body) {
  body["title"] = "t";
  return body;
}

::testing::AssertionResult NewTaskRejects(const json& body, const std::string& field) {
  return ThrowsNaming([&] { parse_new_task(body); }, Errc::unprocessable, field) << " body " << body.dump();
}

::testing::AssertionResult PatchRejects(const json& body, const std::string& field) {
  return ThrowsNaming([&] { parse_task_patch(body); }, Errc::unprocessable, field) << " body " << body.dump();
}

// ---- parse_new_task ----

TEST(ParseNewTask, MinimalBodyGetsDefaults) {
  const NewTask t = parse_new_task({{"title", "Buy milk"}});
  EXPECT_EQ(t.title, "Buy milk");
  EXPECT_EQ(t.description, "");
  EXPECT_EQ(t.status, Status::open);
  EXPECT_EQ(t.priority, Priority::none);
  EXPECT_TRUE(t.tags.empty());
  EXPECT_FALSE(t.due_at);
  EXPECT_FALSE(t.all_day);
  EXPECT_FALSE(t.timezone);
  EXPECT_FALSE(t.recurrence);
}

TEST(ParseNewTask, ReadsEveryField) {
  const NewTask t = parse_new_task({{"title", "Pay rent"},
                                    {"description", "to the landlord"},
                                    {"status", "done"},
                                    {"priority", "urgent"},
                                    {"tags", {"home", "money"}},
                                    {"due_at", "2026-03-05T10:00:00+01:00"},
                                    {"all_day", true},
                                    {"timezone", "Europe/Berlin"},
                                    {"recurrence", "FREQ=MONTHLY"}});
  EXPECT_EQ(t.title, "Pay rent");
  EXPECT_EQ(t.description, "to the landlord");
  EXPECT_EQ(t.status, Status::done);
  EXPECT_EQ(t.priority, Priority::urgent);
  EXPECT_THAT(t.tags, ElementsAre("home", "money"));
  EXPECT_EQ(t.due_at, utc(2026, 3, 5, 9));
  EXPECT_TRUE(t.all_day);
  EXPECT_EQ(t.timezone, "Europe/Berlin");
  EXPECT_EQ(t.recurrence, "FREQ=MONTHLY");
}

TEST(ParseNewTask, TitleIsRequiredAndTrimmed) {
  EXPECT_TRUE(NewTaskRejects(json::object(), "title"));
  EXPECT_TRUE(NewTaskRejects({{"description", "x"}}, "title"));
  EXPECT_EQ(parse_new_task({{"title", "  \t Buy milk \r\n "}}).title, "Buy milk");
  EXPECT_EQ(parse_new_task({{"title", "a  b"}}).title, "a  b") << "inner white space is kept";
  for (const char* blank : {"", " ", "\t\n\r ", "\f\v"})
    EXPECT_TRUE(NewTaskRejects({{"title", blank}}, "title")) << "'" << blank << "'";
}

TEST(ParseNewTask, TitleLengthCountsCodePointsAfterTrimming) {
  EXPECT_EQ(parse_new_task({{"title", std::string(500, 'a')}}).title.size(), 500u);
  EXPECT_TRUE(NewTaskRejects({{"title", std::string(501, 'a')}}, "title"));
  // 500 two-byte characters are 1000 bytes but 500 characters.
  EXPECT_EQ(parse_new_task({{"title", repeat("é", 500)}}).title, repeat("é", 500));
  EXPECT_TRUE(NewTaskRejects({{"title", repeat("é", 501)}}, "title"));
  EXPECT_EQ(parse_new_task({{"title", repeat("😀", 500)}}).title, repeat("😀", 500));
  EXPECT_TRUE(NewTaskRejects({{"title", repeat("😀", 501)}}, "title"));
  EXPECT_EQ(parse_new_task({{"title", "   " + std::string(500, 'a') + "   "}}).title, std::string(500, 'a'));
}

TEST(ParseNewTask, TitleRejectsControlCharacters) {
  for (const std::string& bad :
       {std::string("a\x01z"), std::string("a\x1bz"), std::string("a\x7fz"), std::string("a\0z", 3)})
    EXPECT_TRUE(NewTaskRejects({{"title", bad}}, "title"));
}

TEST(ParseNewTask, WrongTypesNameTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"title", 5}}, "title"},
      {{{"title", nullptr}}, "title"},
      {{{"title", true}}, "title"},
      {{{"title", {"a"}}}, "title"},
      {{{"title", {{"a", 1}}}}, "title"},
      {with_title({{"description", 5}}), "description"},
      {with_title({{"status", 1}}), "status"},
      {with_title({{"status", nullptr}}), "status"},
      {with_title({{"priority", 3}}), "priority"},
      {with_title({{"tags", "home"}}), "tags"},
      {with_title({{"tags", {{"a", "b"}}}}), "tags"},
      {with_title({{"tags", {"ok", 1}}}), "tags[1]"},
      {with_title({{"tags", {nullptr}}}), "tags[0]"},
      {with_title({{"due_at", 1700000000}}), "due_at"},
      {with_title({{"due_at", true}}), "due_at"},
      {with_title({{"all_day", "yes"}}), "all_day"},
      {with_title({{"all_day", 1}}), "all_day"},
      {with_title({{"all_day", nullptr}}), "all_day"},
      {with_title({{"timezone", 1}}), "timezone"},
      {with_title({{"recurrence", 1}}), "recurrence"},
      {with_title({{"recurrence", {"FREQ=DAILY"}}}), "recurrence"},
  };
  for (const auto& [body, field] : cases)
    EXPECT_TRUE(NewTaskRejects(body, field));
}

TEST(ParseNewTask, UnknownFieldsAreNamed) {
  for (const char* field : {"colour", "id", "version", "created_at", "completed_at", "Title", ""})
    EXPECT_TRUE(NewTaskRejects(with_title({{field, 1}}), field)) << field;
}

TEST(ParseNewTask, DescriptionUpTo10000CodePoints) {
  EXPECT_EQ(parse_new_task(with_title({{"description", std::string(10'000, 'd')}})).description.size(),
            10'000u);
  EXPECT_TRUE(NewTaskRejects(with_title({{"description", std::string(10'001, 'd')}}), "description"));
  EXPECT_EQ(parse_new_task(with_title({{"description", repeat("ä", 10'000)}})).description,
            repeat("ä", 10'000));
  EXPECT_TRUE(NewTaskRejects(with_title({{"description", repeat("ä", 10'001)}}), "description"));
  EXPECT_EQ(parse_new_task(with_title({{"description", "line 1\nline 2\ttab"}})).description,
            "line 1\nline 2\ttab");
  EXPECT_EQ(parse_new_task(with_title({{"description", ""}})).description, "");
}

TEST(ParseNewTask, DescriptionRejectsNul) {
  // PostgreSQL text cannot hold U+0000; accepting it would store a truncated description.
  EXPECT_TRUE(NewTaskRejects(with_title({{"description", std::string("before\0after", 12)}}), "description"));
}

TEST(ParseNewTask, StatusAndPriorityAreEnums) {
  EXPECT_EQ(parse_new_task(with_title({{"status", "open"}})).status, Status::open);
  EXPECT_EQ(parse_new_task(with_title({{"status", "done"}})).status, Status::done);
  for (const char* bad : {"Done", "OPEN", "closed", "", " open"})
    EXPECT_TRUE(NewTaskRejects(with_title({{"status", bad}}), "status")) << bad;

  const std::pair<const char*, Priority> priorities[] = {{"none", Priority::none},
                                                         {"low", Priority::low},
                                                         {"medium", Priority::medium},
                                                         {"high", Priority::high},
                                                         {"urgent", Priority::urgent}};
  for (const auto& [name, value] : priorities)
    EXPECT_EQ(parse_new_task(with_title({{"priority", name}})).priority, value) << name;
  for (const char* bad : {"URGENT", "critical", "", "3", "high "})
    EXPECT_TRUE(NewTaskRejects(with_title({{"priority", bad}}), "priority")) << bad;
}

TEST(ParseNewTask, TagsAreTrimmedLowerCasedAndDeduplicated) {
  const NewTask t = parse_new_task(
      with_title({{"tags", {" Home ", "home", "WORK", "work\t", "Ärger", "ärger", "\u00a0ÉTÉ"}}}));
  EXPECT_THAT(t.tags, ElementsAre("home", "work", "ärger", "été"))
      << "first occurrence order, Unicode lower-cased";
  EXPECT_TRUE(parse_new_task(with_title({{"tags", json::array()}})).tags.empty());
}

// null is the default on create (an empty description, no tags), as it clears them in a PATCH.
TEST(ParseNewTask, NullDescriptionAndTagsAreTheDefaults) {
  const NewTask t = parse_new_task(with_title({{"description", nullptr}, {"tags", nullptr}}));
  EXPECT_EQ(t.description, "");
  EXPECT_TRUE(t.tags.empty());
}

TEST(ParseNewTask, AtMostTwentyTags) {
  std::vector<std::string> tags;
  for (int i = 0; i < 20; ++i)
    tags.push_back("t" + std::to_string(i));
  EXPECT_EQ(parse_new_task(with_title({{"tags", tags}})).tags, tags);
  // Counted once lower-cased and de-duplicated: the same tag sent again adds none.
  auto again = tags;
  again.insert(again.end(), {"T0", "t1", " T19 "});
  EXPECT_EQ(parse_new_task(with_title({{"tags", again}})).tags, tags);
  EXPECT_EQ(parse_new_task(with_title({{"tags", std::vector<std::string>(21, "A")}})).tags,
            std::vector<std::string>{"a"});
  tags.push_back("t20");
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", tags}}), "tags"));
}

// Titles, descriptions and tags are stored in Normalization Form C: "e" + U+0301 and "é" are one spelling,
// so one search and one tag find both.
TEST(ParseNewTask, TextIsStoredInNormalizationFormC) {
  const auto t = parse_new_task({{"title", " Cafe\u0301 "},
                                 {"description", "na\u0131\u0308ve e\u0301t\u00e9"},
                                 {"tags", {"E\u0301cole", "\u00e9cole"}}});
  EXPECT_EQ(t.title, "Caf\u00e9");
  EXPECT_EQ(t.description, "na\u0131\u0308ve \u00e9t\u00e9");
  EXPECT_THAT(t.tags, ElementsAre("\u00e9cole")) << "one tag, however it was typed";
  EXPECT_EQ(parse_task_patch({{"title", "Cafe\u0301"}}).title, "Caf\u00e9");
}

// A title or tag must show something: one made only of zero-width and formatting characters is refused. A
// tag holds no invisible separator (zero-width space, direction mark, BOM), which would make two tags that
// look alike; the joiners and variation selectors that emoji and some scripts need stay allowed.
TEST(ParseNewTask, TitlesAndTagsMustShowSomething) {
  for (const char* bad : {"\u200b", "\u00a0\u200b\u00a0", "\ufeff", "\u200e", "\u2060\u00ad"})
    EXPECT_TRUE(NewTaskRejects({{"title", bad}}, "title")) << bad;
  const std::string family = "\U0001F468\u200D\U0001F469\u200D\U0001F467";  // 👨‍👩‍👧
  EXPECT_EQ(parse_new_task({{"title", family}}).title, family);
  EXPECT_EQ(parse_new_task({{"title", "x\u200by"}}).title, "x\u200by") << "a title is free text";
  for (const char* bad : {"x\u200by", "\u200ex", "x\ufeff", "\u200d", "a\u2066b"})
    EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {bad}}}), "tags[0]")) << bad;
  const std::string heart = "\u2764\uFE0F";  // ❤️
  EXPECT_THAT(parse_new_task(with_title({{"tags", {heart, "ab\u200Cc"}}})).tags,
              ElementsAre(heart, "ab\u200Cc"));
}

TEST(ParseNewTask, EachTagIsOneToFiftyCharactersWithoutSpacesOrCommas) {
  EXPECT_THAT(parse_new_task(with_title({{"tags", {std::string(50, 'x')}}})).tags,
              ElementsAre(std::string(50, 'x')));
  EXPECT_THAT(parse_new_task(with_title({{"tags", {repeat("ü", 50)}}})).tags, ElementsAre(repeat("ü", 50)));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {"a", std::string(51, 'b')}}}), "tags[1]"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {"a", repeat("ü", 51)}}}), "tags[1]"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {""}}}), "tags[0]"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {"ok", "   "}}}), "tags[1]"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {"two words"}}}), "tags[0]"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {"a,b"}}}), "tags[0]"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {"a\x01"}}}), "tags[0]"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"tags", {"a\x7f"}}}), "tags[0]"));
}

TEST(ParseNewTask, EveryBadTagIsReported) {
  auto e = error_of([] { parse_new_task(with_title({{"tags", {"", "ok", "a b", std::string(51, 'x')}}})); });
  ASSERT_TRUE(e);
  EXPECT_THAT(fields_of(*e), UnorderedElementsAre("tags[0]", "tags[2]", "tags[3]"));
  e = error_of([] { parse_new_task(with_title({{"tags", {1, "ok", nullptr, {"x"}}}})); });
  ASSERT_TRUE(e);
  EXPECT_THAT(fields_of(*e), UnorderedElementsAre("tags[0]", "tags[2]", "tags[3]"));
}

TEST(ParseNewTask, DueAtIsRfc3339OrNull) {
  EXPECT_EQ(parse_new_task(with_title({{"due_at", "2026-03-05T09:00:00Z"}})).due_at, utc(2026, 3, 5, 9));
  EXPECT_EQ(parse_new_task(with_title({{"due_at", "2026-03-05T04:00:00-05:00"}})).due_at, utc(2026, 3, 5, 9));
  EXPECT_FALSE(parse_new_task(with_title({{"due_at", nullptr}})).due_at);
  for (const char* bad : {"2026-03-05", "2026-03-05T09:00:00", "tomorrow", "", "2026-02-30T00:00:00Z",
                          "2026-03-05T24:00:00Z", "1700000000", "2026-03-05T09:00:00Z "})
    EXPECT_TRUE(NewTaskRejects(with_title({{"due_at", bad}}), "due_at")) << bad;
}

TEST(ParseNewTask, AllDayIsBoolean) {
  EXPECT_TRUE(parse_new_task(with_title({{"all_day", true}})).all_day);
  EXPECT_FALSE(parse_new_task(with_title({{"all_day", false}})).all_day);
}

TEST(ParseNewTask, TimezoneIsIana) {
  EXPECT_EQ(parse_new_task(with_title({{"timezone", "UTC"}})).timezone, "UTC");
  EXPECT_EQ(parse_new_task(with_title({{"timezone", "America/New_York"}})).timezone, "America/New_York");
  for (const char* bad : {"", "Mars/Olympus", "../etc/passwd", "Europe/Berlin ", "+02:00", "localtime"})
    EXPECT_TRUE(NewTaskRejects(with_title({{"timezone", bad}}), "timezone")) << bad;
}

TEST(ParseNewTask, RecurrenceIsAValidRuleOrNull) {
  const nlohmann::json due = {{"due_at", "2026-03-02T09:00:00Z"}};
  auto with_due = [&](nlohmann::json extra) {
    nlohmann::json body = with_title(due);
    body.update(extra);
    return body;
  };
  EXPECT_EQ(parse_new_task(with_due({{"recurrence", "FREQ=WEEKLY;BYDAY=MO"}})).recurrence,
            "FREQ=WEEKLY;BYDAY=MO");
  // Stored in canonical form: upper case, no RRULE: prefix, default parts left out, parts in one order.
  EXPECT_EQ(parse_new_task(with_due({{"recurrence", "rrule:freq=weekly;interval=1;byday=mo,th"}})).recurrence,
            "FREQ=WEEKLY;BYDAY=MO,TH");
  EXPECT_EQ(parse_new_task(with_due({{"recurrence", "COUNT=3;BYDAY=-1FR;FREQ=MONTHLY"}})).recurrence,
            "FREQ=MONTHLY;BYDAY=-1FR;COUNT=3");
  EXPECT_FALSE(parse_new_task(with_title({{"recurrence", nullptr}})).recurrence);
  EXPECT_TRUE(NewTaskRejects(with_due({{"recurrence", std::string(1000, 'R')}}), "recurrence"));
  EXPECT_TRUE(NewTaskRejects(with_due({{"recurrence", std::string(1001, 'R')}}), "recurrence"));
  EXPECT_TRUE(NewTaskRejects(with_due({{"recurrence", ""}}), "recurrence"));
  EXPECT_TRUE(NewTaskRejects(with_due({{"recurrence", "FREQ=DAILY\x01"}}), "recurrence"));
  EXPECT_TRUE(NewTaskRejects(with_due({{"recurrence", "FREQ=WEEKLY;BYDAY=XX"}}), "recurrence"));
  auto e = error_of([&] { parse_new_task(with_due({{"recurrence", "FREQ=WEEKLY;BYDAY=XX"}})); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errors().at(0).message, "BYDAY: 'XX' is not a weekday (MO, TU, WE, TH, FR, SA, SU)");
  // A recurring task needs due_at.
  EXPECT_TRUE(NewTaskRejects(with_title({{"recurrence", "FREQ=DAILY"}}), "due_at"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"recurrence", "FREQ=DAILY"}, {"due_at", nullptr}}), "due_at"));
}

TEST(ParseNewTask, RecurrenceModeAndGenerateAhead) {
  const auto t = parse_new_task(with_title({{"due_at", "2026-03-02T09:00:00Z"},
                                            {"recurrence", "FREQ=MONTHLY"},
                                            {"recurrence_mode", "after_completion"},
                                            {"generate_ahead", 0}}));
  EXPECT_EQ(t.recurrence_mode, RecurrenceMode::after_completion);
  EXPECT_EQ(parse_new_task(with_title({{"due_at", "2026-03-02T09:00:00Z"},
                                       {"recurrence", "FREQ=MONTHLY"},
                                       {"generate_ahead", 52}}))
                .generate_ahead,
            52);
  EXPECT_EQ(parse_new_task(with_title({})).recurrence_mode, RecurrenceMode::fixed);
  // Settings only a series uses, on a task that is none: refused rather than kept and never used. Their
  // defaults (as a client sending every field does) are fine.
  EXPECT_TRUE(NewTaskRejects(with_title({{"generate_ahead", 3}}), "generate_ahead"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"generate_ahead", 3}, {"recurrence", nullptr}}), "generate_ahead"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"recurrence_mode", "after_completion"}}), "recurrence_mode"));
  const auto plain = parse_new_task(
      with_title({{"recurrence", nullptr}, {"recurrence_mode", "fixed"}, {"generate_ahead", 0}}));
  EXPECT_FALSE(plain.recurrence);
  EXPECT_TRUE(NewTaskRejects(with_title({{"generate_ahead", 53}}), "generate_ahead"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"generate_ahead", -1}}), "generate_ahead"));
  EXPECT_TRUE(NewTaskRejects(with_title({{"recurrence_mode", "every"}}), "recurrence_mode"));
  EXPECT_TRUE(PatchRejects({{"recurrence_mode", "sometimes"}}, "recurrence_mode"));
  EXPECT_TRUE(PatchRejects({{"generate_ahead", 100}}, "generate_ahead"));
  EXPECT_TRUE(PatchRejects({{"recurrence", "FREQ=HOURLY"}}, "recurrence"));
}

// generate_ahead above 2^63-1 (read as unsigned, or as a double above 2^64-1) was "must be an integer": out
// of range like 53, whatever its size.
TEST(ParseTaskPatch, GenerateAheadOutOfRangeHoweverLarge) {
  for (const json& bad : {json(53), json(-1), json(9223372036854775807LL), json(9223372036854775808ULL),
                          json(18446744073709551615ULL), json(1e19), json(-1e19), json(2.5), json("3")}) {
    auto e = error_of([&] { parse_task_patch({{"generate_ahead", bad}}); });
    ASSERT_TRUE(e) << bad;
    ASSERT_EQ(e->errors().size(), 1u) << bad << ": " << e->what();
    EXPECT_EQ(e->errors()[0].field, "generate_ahead");
    EXPECT_EQ(e->errors()[0].message, "must be an integer from 0 to 52") << bad;
  }
  EXPECT_EQ(parse_task_patch({{"generate_ahead", 52}}).generate_ahead, 52);
}

TEST(ParseNewTask, ReportsEveryErrorTogether) {
  auto e = error_of([] {
    parse_new_task({{"title", "  "},
                    {"description", 5},
                    {"status", "closed"},
                    {"priority", "critical"},
                    {"tags", "home"},
                    {"due_at", "soon"},
                    {"all_day", "yes"},
                    {"timezone", "Nowhere/City"},
                    {"recurrence", ""},
                    {"colour", "red"}});
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::unprocessable);
  EXPECT_THAT(fields_of(*e), UnorderedElementsAre("title", "description", "status", "priority", "tags",
                                                  "due_at", "all_day", "timezone", "recurrence", "colour"));
  EXPECT_NE(std::string(e->what()).find("10"), std::string::npos) << e->what();
}

TEST(ParseNewTask, OneErrorHasADetailNamingTheField) {
  auto e = error_of([] { parse_new_task(json::object()); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::unprocessable);
  ASSERT_EQ(e->errors().size(), 1u);
  EXPECT_EQ(e->errors()[0].field, "title");
  EXPECT_EQ(std::string(e->what()).rfind("title", 0), 0u) << e->what();
}

// ---- parse_task_patch ----

TEST(ParseTaskPatch, EmptyPatchChangesNothing) {
  const TaskPatch p = parse_task_patch(json::object());
  EXPECT_FALSE(p.title);
  EXPECT_FALSE(p.description);
  EXPECT_FALSE(p.status);
  EXPECT_FALSE(p.priority);
  EXPECT_FALSE(p.tags);
  EXPECT_FALSE(p.due_at);
  EXPECT_FALSE(p.all_day);
  EXPECT_FALSE(p.timezone);
  EXPECT_FALSE(p.recurrence);
  EXPECT_FALSE(p.version);
}

TEST(ParseTaskPatch, ReadsEveryField) {
  const TaskPatch p = parse_task_patch({{"title", "  New title "},
                                        {"description", "d"},
                                        {"status", "done"},
                                        {"priority", "high"},
                                        {"tags", {"B", "a", "b"}},
                                        {"due_at", "2026-03-05T09:00:00Z"},
                                        {"all_day", false},
                                        {"timezone", "Asia/Tokyo"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"version", 7}});
  EXPECT_EQ(p.title, "New title");
  EXPECT_EQ(p.description, "d");
  EXPECT_EQ(p.status, Status::done);
  EXPECT_EQ(p.priority, Priority::high);
  ASSERT_TRUE(p.tags);
  EXPECT_THAT(*p.tags, ElementsAre("b", "a"));
  ASSERT_TRUE(p.due_at);
  EXPECT_EQ(*p.due_at, utc(2026, 3, 5, 9));
  EXPECT_EQ(p.all_day, false);
  EXPECT_EQ(p.timezone, "Asia/Tokyo");
  ASSERT_TRUE(p.recurrence);
  EXPECT_EQ(*p.recurrence, "FREQ=DAILY");
  EXPECT_EQ(p.version, 7);
}

TEST(ParseTaskPatch, NullClearsTheNullableFields) {
  const TaskPatch p = parse_task_patch(
      {{"description", nullptr}, {"tags", nullptr}, {"due_at", nullptr}, {"recurrence", nullptr}});
  EXPECT_EQ(p.description, "");
  ASSERT_TRUE(p.tags);
  EXPECT_TRUE(p.tags->empty());
  ASSERT_TRUE(p.due_at) << "null is a change, not an absent field";
  EXPECT_FALSE(*p.due_at);
  ASSERT_TRUE(p.recurrence);
  EXPECT_FALSE(*p.recurrence);
}

TEST(ParseTaskPatch, NullIsRejectedWhereAValueIsRequired) {
  for (const char* field : {"title", "status", "priority", "all_day", "timezone", "version"})
    EXPECT_TRUE(PatchRejects({{field, nullptr}}, field)) << field;
}

TEST(ParseTaskPatch, AppliesTheSameRulesAsCreate) {
  EXPECT_TRUE(PatchRejects({{"title", ""}}, "title"));
  EXPECT_TRUE(PatchRejects({{"title", "   "}}, "title"));
  EXPECT_TRUE(PatchRejects({{"title", std::string(501, 'a')}}, "title"));
  EXPECT_EQ(parse_task_patch({{"title", repeat("é", 500)}}).title, repeat("é", 500));
  EXPECT_TRUE(PatchRejects({{"title", "a\x02"}}, "title"));
  EXPECT_TRUE(PatchRejects({{"description", std::string(10'001, 'd')}}, "description"));
  EXPECT_TRUE(PatchRejects({{"status", "closed"}}, "status"));
  EXPECT_TRUE(PatchRejects({{"priority", "critical"}}, "priority"));
  EXPECT_TRUE(PatchRejects({{"tags", {"a b"}}}, "tags[0]"));
  EXPECT_TRUE(PatchRejects({{"tags", {std::string(51, 't')}}}, "tags[0]"));
  std::vector<std::string> distinct;
  for (int i = 0; i < 21; ++i)
    distinct.push_back("t" + std::to_string(i));
  EXPECT_TRUE(PatchRejects({{"tags", distinct}}, "tags"));
  EXPECT_TRUE(PatchRejects({{"due_at", "2026-03-05"}}, "due_at"));
  EXPECT_TRUE(PatchRejects({{"timezone", "Nowhere/City"}}, "timezone"));
  EXPECT_TRUE(PatchRejects({{"recurrence", ""}}, "recurrence"));
  EXPECT_TRUE(PatchRejects({{"recurrence", std::string(1001, 'R')}}, "recurrence"));
}

TEST(ParseTaskPatch, WrongTypesNameTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"title", 5}}, "title"},        {{{"description", 5}}, "description"},
      {{{"status", true}}, "status"},   {{{"priority", 1}}, "priority"},
      {{{"tags", "a"}}, "tags"},        {{{"tags", {"a", 2}}}, "tags[1]"},
      {{{"due_at", 5}}, "due_at"},      {{{"all_day", "true"}}, "all_day"},
      {{{"timezone", 0}}, "timezone"},  {{{"recurrence", false}}, "recurrence"},
      {{{"version", "3"}}, "version"},  {{{"version", 1.5}}, "version"},
      {{{"version", true}}, "version"}, {{{"version", {1}}}, "version"},
  };
  for (const auto& [body, field] : cases)
    EXPECT_TRUE(PatchRejects(body, field));
}

// A version is 1 to 2^63-1, in a body as in If-Match: {"version":2147483648} was a 422 "must be a positive
// integer"; a version no task has is a mismatch (409) like any other.
TEST(ParseTaskPatch, VersionIsAPositiveInt) {
  EXPECT_EQ(parse_task_patch({{"version", 1}}).version, 1);
  EXPECT_EQ(parse_task_patch({{"version", 2147483647}}).version, 2147483647);
  EXPECT_EQ(parse_task_patch({{"version", 2147483648LL}}).version, 2147483648LL);
  EXPECT_EQ(parse_task_patch({{"version", std::numeric_limits<std::int64_t>::max()}}).version,
            std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse_version_body({{"version", 9223372036854775807ULL}}), 9223372036854775807LL);
  for (const json& bad :
       {json(0), json(-1), json(-2147483649LL), json(std::numeric_limits<std::int64_t>::min()),
        json(9223372036854775808ULL), json(18446744073709551615ULL), json(1e19), json(-1e19)}) {
    for (const auto& parse :
         {+[](const json& b) { parse_task_patch(b); }, +[](const json& b) { parse_version_body(b); }}) {
      auto e = error_of([&] { parse(json{{"version", bad}}); });
      ASSERT_TRUE(e) << bad;
      EXPECT_EQ(e->code(), Errc::unprocessable) << bad;
      ASSERT_EQ(e->errors().size(), 1u) << bad << ": " << e->what();
      EXPECT_EQ(e->errors()[0].field, "version");
      EXPECT_EQ(e->errors()[0].message, "must be an integer from 1 to 9223372036854775807") << bad;
    }
  }
}

TEST(Expected, AVersionNoTaskHasIsAConflictNamingIt) {
  const auto conflict = [](const Expected& expected) { return error_of([&] { expected.check(1); }); };
  auto e = conflict(Expected().with_body(2147483648LL));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::conflict);
  ASSERT_EQ(e->errors().size(), 1u);
  EXPECT_EQ(e->errors()[0].field, "version");
  EXPECT_EQ(e->errors()[0].message, "expected 2147483648, current 1");
  e = conflict(Expected({9223372036854775807LL, 2}, "If-Match"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->errors()[0].message, "expected 9223372036854775807 or 2, current 1");
  EXPECT_NO_THROW(Expected({9223372036854775807LL, 1}, "If-Match").check(1));
}

// Entity tags were given but none is a version's (W/"3" under If-Match, "03"): no version matches, and a
// body's version, which must be one they name, is refused.
TEST(Expected, TagsNamingNoVersionMatchNone) {
  Expected none(std::vector<std::int64_t>{}, "If-Match");
  none.names_none = true;
  EXPECT_FALSE(none.any());
  EXPECT_FALSE(none.matches(3));
  auto e = error_of([&] { none.check(3); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::conflict);
  ASSERT_EQ(e->errors().size(), 1u);
  EXPECT_EQ(e->errors()[0].field, "If-Match");
  EXPECT_EQ(e->errors()[0].message, "names no version, current 3");
  e = error_of([&] { none.with_body(3); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::unprocessable);
  EXPECT_TRUE(Expected().any());
}

// If-None-Match of a change: `*` or a named current version is a 412 naming it, after If-Match (a 409 first),
// and kept when a body's version stands in for If-Match.
TEST(Expected, IfNoneMatchNamingTheCurrentVersionIsAPreconditionFailure) {
  Expected unless;
  unless.none_match = {7, 3};
  EXPECT_NO_THROW(unless.check(4));
  auto e = error_of([&] { unless.check(3); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::precondition);
  ASSERT_EQ(e->errors().size(), 1u);
  EXPECT_EQ(e->errors()[0].field, "If-None-Match");
  EXPECT_EQ(e->errors()[0].message, "names the current version 3");
  Expected star;
  star.none_match_any = true;
  EXPECT_EQ(error_of([&] { star.check(1); })->code(), Errc::precondition);
  const Expected with_body = star.with_body(2);
  EXPECT_EQ(error_of([&] { with_body.check(1); })->code(), Errc::conflict) << "the version first";
  EXPECT_EQ(error_of([&] { with_body.check(2); })->code(), Errc::precondition);
}

TEST(ParseTaskPatch, UnknownFieldsAreNamed) {
  for (const char* field : {"id", "user_id", "created_at", "updated_at", "completed_at", "colour"})
    EXPECT_TRUE(PatchRejects({{field, "x"}}, field)) << field;
}

TEST(ParseTaskPatch, ReportsEveryErrorTogether) {
  auto e = error_of([] {
    parse_task_patch({{"title", ""}, {"priority", "p9"}, {"version", 0}, {"due_at", "x"}, {"nope", 1}});
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::unprocessable);
  EXPECT_THAT(fields_of(*e), UnorderedElementsAre("title", "priority", "version", "due_at", "nope"));
}

// ---- tag_problem ----

TEST(TagProblem, NormalisesInPlace) {
  std::string tag = "  Home\t";
  EXPECT_FALSE(tag_problem(tag));
  EXPECT_EQ(tag, "home");
  tag = "MiXeD-Case_1";
  EXPECT_FALSE(tag_problem(tag));
  EXPECT_EQ(tag, "mixed-case_1");
  tag = "urgent!";
  EXPECT_FALSE(tag_problem(tag));
  EXPECT_EQ(tag, "urgent!");
}

TEST(TagProblem, ExplainsWhatIsWrong) {
  for (std::string bad : {std::string(""), std::string("  "), std::string(51, 'x'), repeat("ß", 51),
                          std::string("a b"), std::string("a,b"), std::string("a\tb"), std::string("a\nb"),
                          std::string("a\x7f"), std::string("a\0b", 3)}) {
    const std::string original = bad;
    const auto problem = tag_problem(bad);
    ASSERT_TRUE(problem) << "'" << original << "'";
    EXPECT_FALSE(problem->empty());
  }
  std::string fifty(50, 'x');
  EXPECT_FALSE(tag_problem(fifty));
  std::string padded = "   " + std::string(50, 'x') + "   ";
  EXPECT_FALSE(tag_problem(padded)) << "the limit applies after trimming";
}

TEST(TagProblem, RejectsInvalidUtf8) {
  // Query parameters are raw percent-decoded bytes: tag=%FF must not reach PostgreSQL.
  for (std::string bad :
       {std::string("\xff"), std::string("ab\xc3"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80")})
    EXPECT_TRUE(tag_problem(bad));
}

// ---- apply_patch ----

Task sample_task() {
  Task t;
  t.id = "0b7c1a7e-6a56-4d2c-9c4e-3c0b2a1d9e8f";
  t.user_id = "5f0e8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
  t.title = "Buy milk";
  t.description = "2 litres";
  t.status = Status::open;
  t.priority = Priority::low;
  t.tags = {"home"};
  t.due_at = utc(2026, 3, 5, 9);
  t.all_day = false;
  t.timezone = "Europe/Berlin";
  t.recurrence = "FREQ=WEEKLY";
  t.created_at = utc(2026, 1, 1);
  t.updated_at = utc(2026, 1, 2);
  t.version = 3;
  return t;
}

std::vector<std::string> change_fields(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes)
    out.push_back(c.field);
  return out;
}

TEST(ApplyPatch, EmptyPatchChangesNothing) {
  Task t = sample_task();
  const Task before = t;
  EXPECT_TRUE(apply_patch(t, TaskPatch{}, utc(2026, 6, 1)).empty());
  EXPECT_EQ(json(to_json(t)), json(to_json(before)));
}

TEST(ApplyPatch, SameValuesAreNotChanges) {
  Task t = sample_task();
  TaskPatch p;
  p.title = t.title;
  p.description = t.description;
  p.status = t.status;
  p.priority = t.priority;
  p.tags = t.tags;
  p.due_at = t.due_at;
  p.all_day = t.all_day;
  p.timezone = t.timezone;
  p.recurrence = t.recurrence;
  EXPECT_TRUE(apply_patch(t, p, utc(2026, 6, 1)).empty());
  EXPECT_FALSE(t.completed_at);
}

TEST(ApplyPatch, ARuleStoredInAnotherSpellingIsTheSameRule) {
  // Rules are stored in canonical form; one stored before that, in another spelling, is not changed by the
  // same rule given again (which would make a series-wide edit recreate the following occurrences).
  Task t = sample_task();
  t.recurrence = "rrule:freq=weekly;interval=1";
  TaskPatch p;
  p.recurrence = std::optional<std::string>{"FREQ=WEEKLY"};
  EXPECT_TRUE(apply_patch(t, p, utc(2026, 6, 1)).empty());
  EXPECT_EQ(t.recurrence, "rrule:freq=weekly;interval=1");
  p.recurrence = std::optional<std::string>{"FREQ=WEEKLY;INTERVAL=2"};
  EXPECT_EQ(change_fields(apply_patch(t, p, utc(2026, 6, 1))), std::vector<std::string>{"recurrence"});
  EXPECT_EQ(t.recurrence, "FREQ=WEEKLY;INTERVAL=2");
}

TEST(CheckRuleSettings, ASeriesSettingOnATaskWithoutARuleIsRefused) {
  Task t = sample_task();
  t.recurrence.reset();
  TaskPatch p;
  p.generate_ahead = 3;
  EXPECT_TRUE(ThrowsNaming([&] { check_rule_settings(t, p, t); }, Errc::unprocessable, "generate_ahead"));
  p.generate_ahead = 0;
  EXPECT_FALSE(error_of([&] { check_rule_settings(t, p, t); }));
  p.recurrence_mode = RecurrenceMode::after_completion;
  EXPECT_TRUE(ThrowsNaming([&] { check_rule_settings(t, p, t); }, Errc::unprocessable, "recurrence_mode"));
  p.recurrence_mode = RecurrenceMode::fixed;
  EXPECT_FALSE(error_of([&] { check_rule_settings(t, p, t); }));
  // The values it has already (kept when its rule was removed) are no new setting: a form sends them back.
  Task kept = t;
  kept.generate_ahead = 3;
  kept.recurrence_mode = RecurrenceMode::after_completion;
  p.generate_ahead = 3;
  p.recurrence_mode = RecurrenceMode::after_completion;
  EXPECT_FALSE(error_of([&] { check_rule_settings(kept, p, kept); }));
  p.generate_ahead = 4;
  EXPECT_TRUE(
      ThrowsNaming([&] { check_rule_settings(kept, p, kept); }, Errc::unprocessable, "generate_ahead"));
  // A task with a rule takes them; one whose rule a patch removed does not get new ones.
  t.recurrence = "FREQ=DAILY";
  p.generate_ahead = 3;
  p.recurrence_mode = RecurrenceMode::after_completion;
  EXPECT_FALSE(error_of([&] { check_rule_settings(t, p, t); }));
}

TEST(ApplyPatch, RecordsEachChangeWithBeforeAndAfter) {
  Task t = sample_task();
  TaskPatch p;
  p.title = "Buy oat milk";
  p.description = "";
  p.priority = Priority::urgent;
  p.tags = std::vector<std::string>{"home", "shop"};
  p.due_at = std::optional<Instant>{utc(2026, 3, 6, 10, 30)};
  p.all_day = true;
  p.timezone = "UTC";
  p.recurrence = std::optional<std::string>{"FREQ=DAILY"};
  const auto changes = apply_patch(t, p, utc(2026, 6, 1));
  EXPECT_THAT(change_fields(changes), UnorderedElementsAre("title", "description", "priority", "tags",
                                                           "due_at", "all_day", "timezone", "recurrence"));
  for (const auto& c : changes) {
    SCOPED_TRACE(c.field);
    if (c.field == "title") {
      EXPECT_EQ(c.before, "Buy milk");
      EXPECT_EQ(c.after, "Buy oat milk");
    } else if (c.field == "description") {
      EXPECT_EQ(c.before, "2 litres");
      EXPECT_EQ(c.after, "");
    } else if (c.field == "priority") {
      EXPECT_EQ(c.before, "low");
      EXPECT_EQ(c.after, "urgent");
    } else if (c.field == "tags") {
      EXPECT_EQ(c.before, json({"home"}));
      EXPECT_EQ(c.after, json({"home", "shop"}));
    } else if (c.field == "due_at") {
      EXPECT_EQ(c.before, "2026-03-05T09:00:00Z");
      EXPECT_EQ(c.after, "2026-03-06T10:30:00Z");
    } else if (c.field == "all_day") {
      EXPECT_EQ(c.before, false);
      EXPECT_EQ(c.after, true);
    } else if (c.field == "timezone") {
      EXPECT_EQ(c.before, "Europe/Berlin");
      EXPECT_EQ(c.after, "UTC");
    } else if (c.field == "recurrence") {
      EXPECT_EQ(c.before, "FREQ=WEEKLY");
      EXPECT_EQ(c.after, "FREQ=DAILY");
    }
  }
  EXPECT_EQ(t.title, "Buy oat milk");
  EXPECT_EQ(t.description, "");
  EXPECT_EQ(t.priority, Priority::urgent);
  EXPECT_THAT(t.tags, ElementsAre("home", "shop"));
  EXPECT_EQ(t.due_at, utc(2026, 3, 6, 10, 30));
  EXPECT_TRUE(t.all_day);
  EXPECT_EQ(t.timezone, "UTC");
  EXPECT_EQ(t.recurrence, "FREQ=DAILY");
  EXPECT_EQ(t.status, Status::open);
  EXPECT_FALSE(t.completed_at);
}

// An all-day task keeps its day (the date of due_at in its zone) in a new zone; a timed one its instant.
TEST(ApplyPatch, ANewZoneKeepsAnAllDayTasksWallTime) {
  Task t = sample_task();
  t.all_day = true;
  t.due_at = utc(2026, 3, 4, 23);  // 5 March 00:00 in Berlin
  TaskPatch p;
  p.timezone = "Asia/Tokyo";
  EXPECT_EQ(change_fields(apply_patch(t, p, utc(2026, 1, 3))),
            (std::vector<std::string>{"due_at", "timezone"}));
  EXPECT_EQ(t.due_at, utc(2026, 3, 4, 15));  // 5 March 00:00 in Tokyo
  p.timezone = "America/New_York";
  p.due_at = std::optional<Instant>{utc(2026, 3, 6, 12)};
  apply_patch(t, p, utc(2026, 1, 3));
  EXPECT_EQ(t.due_at, utc(2026, 3, 6, 12));  // given with the zone: as given

  Task timed = sample_task();
  TaskPatch zone_only;
  zone_only.timezone = "Asia/Tokyo";
  EXPECT_EQ(change_fields(apply_patch(timed, zone_only, utc(2026, 1, 3))),
            std::vector<std::string>{"timezone"});
  EXPECT_EQ(timed.due_at, utc(2026, 3, 5, 9));
}

TEST(ApplyPatch, OnlyChangedFieldsAreListed) {
  Task t = sample_task();
  TaskPatch p;
  p.title = t.title;
  p.priority = Priority::high;
  const auto changes = apply_patch(t, p, utc(2026, 6, 1));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].field, "priority");
}

TEST(ApplyPatch, ClearingNullablesRecordsNull) {
  Task t = sample_task();
  TaskPatch p;
  p.due_at = std::optional<Instant>{};
  p.recurrence = std::optional<std::string>{};
  const auto changes = apply_patch(t, p, utc(2026, 6, 1));
  ASSERT_EQ(changes.size(), 2u);
  for (const auto& c : changes) {
    EXPECT_TRUE(c.after.is_null()) << c.field;
    EXPECT_TRUE(c.before.is_string()) << c.field;
  }
  EXPECT_FALSE(t.due_at);
  EXPECT_FALSE(t.recurrence);
  // Clearing again is no change.
  EXPECT_TRUE(apply_patch(t, p, utc(2026, 6, 1)).empty());
}

TEST(ApplyPatch, CompletingSetsCompletedAt) {
  Task t = sample_task();
  const Instant now = utc(2026, 6, 1, 12);
  TaskPatch p;
  p.status = Status::done;
  const auto changes = apply_patch(t, p, now);
  EXPECT_THAT(change_fields(changes), UnorderedElementsAre("status", "completed_at"));
  for (const auto& c : changes) {
    if (c.field == "status") {
      EXPECT_EQ(c.before, "open");
      EXPECT_EQ(c.after, "done");
    } else {
      EXPECT_TRUE(c.before.is_null());
      EXPECT_EQ(c.after, "2026-06-01T12:00:00Z");
    }
  }
  EXPECT_EQ(t.status, Status::done);
  EXPECT_EQ(t.completed_at, now);

  // Completing a done task again keeps the original completion time.
  EXPECT_TRUE(apply_patch(t, p, utc(2026, 7, 1)).empty());
  EXPECT_EQ(t.completed_at, now);
}

TEST(ApplyPatch, ReopeningClearsCompletedAt) {
  Task t = sample_task();
  t.status = Status::done;
  t.completed_at = utc(2026, 5, 1);
  TaskPatch p;
  p.status = Status::open;
  const auto changes = apply_patch(t, p, utc(2026, 6, 1));
  EXPECT_THAT(change_fields(changes), UnorderedElementsAre("status", "completed_at"));
  for (const auto& c : changes) {
    if (c.field == "completed_at") {
      EXPECT_EQ(c.before, "2026-05-01T00:00:00Z");
      EXPECT_TRUE(c.after.is_null());
    }
  }
  EXPECT_EQ(t.status, Status::open);
  EXPECT_FALSE(t.completed_at);
}

TEST(ApplyPatch, ParsedPatchAppliesEndToEnd) {
  Task t = sample_task();
  const auto changes = apply_patch(
      t, parse_task_patch({{"title", " Buy milk "}, {"tags", nullptr}, {"status", "done"}}), utc(2026, 6, 1));
  EXPECT_THAT(change_fields(changes), UnorderedElementsAre("tags", "status", "completed_at"))
      << "the trimmed title equals the old one";
  EXPECT_TRUE(t.tags.empty());
}

}  // namespace
}  // namespace todo::tasks

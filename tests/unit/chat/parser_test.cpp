// Focused checks of the chat parser beyond the corpus: spans, the JSON form, contexts, DST conversion,
// durations.
#include "todo/chat/parser.hpp"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <tuple>

namespace todo::chat {
namespace {

ParseContext ny(const char* now = "2026-03-04T15:00:00Z") {
  return *make_context(*parse_rfc3339(now), "America/New_York");
}

std::string spanned(std::string_view text, const Span& s) {
  return std::string(text.substr(s.start, s.end - s.start));
}

// The whole message is the title of a new task without a date, read with confidence.
void expect_plain_title(const char* text) {
  const auto r = parse(text, ny());
  EXPECT_EQ(r.intent, Intent::create) << text;
  EXPECT_EQ(r.title, text) << text;
  EXPECT_FALSE(r.due_at.has_value()) << text;
  EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.front();
  EXPECT_GE(r.confidence, 0.7) << text;
}

// A new task without a date, read with low confidence: its first problem is the unreadable `quoted` words.
void expect_unreadable(const char* text, const char* quoted) {
  const auto r = parse(text, ny());
  EXPECT_EQ(r.intent, Intent::create) << text;
  EXPECT_FALSE(r.due_at.has_value()) << text;
  ASSERT_FALSE(r.problems.empty()) << text;
  EXPECT_EQ(r.problems[0], std::string("unreadable date or time ") + quoted) << text;
  EXPECT_LT(r.confidence, 0.7) << text;
}

// A message read as a new task `title` due at `due` (RFC 3339), with confidence.
struct Dated {
  const char* text;
  const char* title;
  const char* due;
};
void expect_dated(const Dated& c, const ParseContext& ctx = ny()) {
  const auto r = parse(c.text, ctx);
  EXPECT_EQ(r.intent, Intent::create) << c.text;
  EXPECT_EQ(r.title, c.title) << c.text;
  EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", c.due) << c.text;
  EXPECT_TRUE(r.problems.empty()) << c.text << ": " << r.problems.front();
  EXPECT_GE(r.confidence, 0.7) << c.text;
}

TEST(ChatParser, SpansCoverTheRecognisedParts) {
  const std::string text = "Buy milk tomorrow at 5pm p1 #home";
  const auto r = parse(text, ny());
  ASSERT_EQ(r.spans.size(), 4u);
  EXPECT_EQ(spanned(text, r.spans[0]), "tomorrow");
  EXPECT_EQ(r.spans[0].kind, SpanKind::date);
  EXPECT_EQ(spanned(text, r.spans[1]), "at 5pm");
  EXPECT_EQ(r.spans[1].kind, SpanKind::time);
  EXPECT_EQ(spanned(text, r.spans[2]), "p1");
  EXPECT_EQ(r.spans[2].kind, SpanKind::priority);
  EXPECT_EQ(spanned(text, r.spans[3]), "#home");
  EXPECT_EQ(r.spans[3].kind, SpanKind::tag);
}

// Dates past the year 9999 cannot be written back as RFC 3339: "tomorrow" on the last day is a problem (and
// no due date), and an end date past 9999 ends the rule where its expansion ends anyway.
TEST(ChatParser, NothingPastTheYear9999) {
  const auto r = parse("buy milk tomorrow", ny("9999-12-31T12:00:00Z"));
  EXPECT_FALSE(r.due_at.has_value());
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].find("9999"), std::string::npos) << r.problems[0];
  EXPECT_LT(r.confidence, 0.7);
  const auto until = parse("buy milk daily until 9999-12-31", ny());
  ASSERT_TRUE(until.recurrence.has_value());
  EXPECT_NE(until.recurrence->find("UNTIL=99991231T235959Z"), std::string::npos) << *until.recurrence;
}

// Dates after 2037 keep their summer time (the date library alone has no DST after its last listed
// transition): 9am on July 1 in Berlin is 07:00Z in 2040 as in 2036.
TEST(ChatParser, SummerTimeAfter2037) {
  const auto berlin = *make_context(*parse_rfc3339("2026-12-06T12:00:00Z"), "Europe/Berlin");
  for (const auto& [text, due] : {std::pair{"call mom on July 1 2036 at 9am", "2036-07-01T07:00:00Z"},
                                  std::pair{"call mom on July 1 2040 at 9am", "2040-07-01T07:00:00Z"},
                                  std::pair{"call mom on January 15 2040 at 9am", "2040-01-15T08:00:00Z"}}) {
    const auto r = parse(text, berlin);
    ASSERT_TRUE(r.due_at.has_value()) << text;
    EXPECT_EQ(format_rfc3339(*r.due_at), due) << text;
  }
  // "Today" is the user's date, in summer time too: 23:30Z on 2040-07-01 is already July 2 in Berlin.
  const auto late = *make_context(*parse_rfc3339("2040-07-01T22:30:00Z"), "Europe/Berlin");
  const auto r = parse("call mom today at 9am", late);
  ASSERT_TRUE(r.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*r.due_at), "2040-07-02T07:00:00Z");
}

// Amounts are read up to 9999; a bigger or negative one after "in" is a problem, not part of the title.
TEST(ChatParser, AnAmountThatCannotBeATimeToComeIsAProblem) {
  for (const char* text : {"gym in 3000000 days", "gym in 999999 hours", "gym within -3 days"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, "gym") << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    ASSERT_EQ(r.problems.size(), 1u) << text;
    EXPECT_EQ(r.problems[0].rfind("unreadable amount '", 0), 0u) << r.problems[0];
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  const auto far = parse("gym in 9999 days", ny());
  ASSERT_TRUE(far.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*far.due_at).substr(0, 10), "2053-07-19");
  const auto eggs = parse("buy 12345 eggs", ny());  // no unit: just a number in the title
  EXPECT_EQ(eggs.title, "buy 12345 eggs");
  EXPECT_TRUE(eggs.problems.empty());
}

// Amounts written in other ways than the parser reads ("+3", "3,000", "1.5", more than four digits) before a
// unit are a problem wherever a time to come is meant: after "in", before "from now", before "before".
TEST(ChatParser, AnAmountWrittenOddlyIsAProblemNotATitle) {
  for (const char* text :
       {"gym in +3 days", "gym in 3,000 days", "gym in 1.5 weeks", "gym in 12,345,678 days",
        "gym 10000 days from now", "gym +3 days from today", "gym 1.5 hours from now",
        "gym 99999 minutes from now", "gym tomorrow remind me 1.5 hours before",
        "gym tomorrow remind me 100000000 minutes before", "gym tomorrow remind me -10 minutes before"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, "gym") << text;
    ASSERT_EQ(r.problems.size(), 1u) << text;
    EXPECT_NE(r.problems[0].find("unreadable"), std::string::npos) << r.problems[0];
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  // Numbers that are no amount of time stay in the title.
  for (const char* text : {"buy 3,000 eggs", "pay 1.5 euros", "score +3 points", "call 555 1234"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, text) << text;
    EXPECT_TRUE(r.problems.empty()) << text;
  }
  // A plain amount still reads.
  const auto ok = parse("gym 3 days from now", ny());
  EXPECT_EQ(ok.title, "gym");
  ASSERT_TRUE(ok.due_at.has_value());
  EXPECT_TRUE(ok.problems.empty());
}

// A title is one line: a tab or a line break in the message is a space in the title (a 422 otherwise). (Two
// lines of title words are two tasks, refused: a line break in a title joins a line that continues the one
// before.)
TEST(ChatParser, TabsAndLineBreaksInATitleAreSpaces) {
  EXPECT_EQ(parse("buy\tbread tomorrow", ny()).title, "buy bread");
  EXPECT_EQ(parse("call the plumber\nabout the sink", ny()).title, "call the plumber about the sink");
  EXPECT_EQ(parse("buy eggs\u2028 \r\n and milk", ny()).title, "buy eggs and milk");
  EXPECT_EQ(parse("line one\nline two", ny()).title, "");
}

TEST(ChatParser, SpansAreInCodePointsForNonAsciiText) {
  const std::string text = "Café tomorrow";  // é is two bytes
  const auto r = parse(text, ny());
  ASSERT_EQ(r.spans.size(), 1u);
  EXPECT_EQ(r.spans[0].start, 5u);
  EXPECT_EQ(r.spans[0].end, 13u);
}

TEST(ChatParser, CommandAndRecurrenceSpans) {
  const std::string text = "remind me to call mom every Sunday at 6pm";
  const auto r = parse(text, ny());
  ASSERT_EQ(r.spans.size(), 3u);
  EXPECT_EQ(spanned(text, r.spans[0]), "remind me to");
  EXPECT_EQ(r.spans[0].kind, SpanKind::command);
  EXPECT_EQ(spanned(text, r.spans[1]), "every Sunday");
  EXPECT_EQ(r.spans[1].kind, SpanKind::recurrence);
  EXPECT_EQ(spanned(text, r.spans[2]), "at 6pm");
}

TEST(ChatParser, JsonHasEveryDocumentedField) {
  const auto j = to_json(parse("call mom every Sunday at 6pm #family p2", ny()));
  for (const char* k :
       {"intent", "confidence", "title", "due_at", "all_day", "shift", "recurrence", "recurrence_mode",
        "reminders", "priority", "tags", "target", "query", "index", "spans", "problems"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_TRUE(j["shift"].is_null());
  EXPECT_EQ(j["intent"], "create");
  EXPECT_EQ(j["title"], "call mom");
  EXPECT_EQ(j["due_at"], "2026-03-08T22:00:00Z");
  EXPECT_EQ(j["recurrence"], "FREQ=WEEKLY;BYDAY=SU");
  EXPECT_EQ(j["recurrence_mode"], "fixed");
  EXPECT_EQ(j["priority"], "high");
  EXPECT_EQ(j["tags"], nlohmann::json::array({"family"}));
  EXPECT_TRUE(j["query"].is_null());
  EXPECT_TRUE(j["index"].is_null());
  EXPECT_DOUBLE_EQ(j["confidence"].get<double>(), 0.85);
}

TEST(ChatParser, ProblemsExplainLowConfidence) {
  const auto r = parse("meet bob on the 35th", ny());
  EXPECT_LT(r.confidence, 0.7);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems.front().find("35th"), std::string::npos);
  EXPECT_FALSE(r.due_at);
}

TEST(ChatParser, MakeContextRejectsUnknownZones) {
  const auto now = *parse_rfc3339("2026-03-04T15:00:00Z");
  EXPECT_FALSE(make_context(now, "Mars/Olympus"));
  EXPECT_FALSE(make_context(now, ""));
  EXPECT_FALSE(make_context(now, "../etc/passwd"));
  EXPECT_TRUE(make_context(now, "Europe/Berlin"));
  EXPECT_TRUE(make_context(now, "UTC"));
}

TEST(ChatParser, DateOrderIsAnInput) {
  const auto now = *parse_rfc3339("2026-03-04T15:00:00Z");
  const auto mf = parse("pay 4/5", *make_context(now, "UTC", DateOrder::month_first));
  const auto df = parse("pay 4/5", *make_context(now, "UTC", DateOrder::day_first));
  EXPECT_EQ(format_rfc3339(*mf.due_at), "2026-04-05T00:00:00Z");
  EXPECT_EQ(format_rfc3339(*df.due_at), "2026-05-04T00:00:00Z");
}

TEST(ChatParser, SkippedAndRepeatedWallTimes) {
  // New York, 2026-03-08 02:30 does not exist: read with the offset before the gap → 03:30 EDT.
  auto r = parse("x tomorrow at 02:30", ny("2026-03-07T15:00:00Z"));
  EXPECT_EQ(format_rfc3339(*r.due_at), "2026-03-08T07:30:00Z");
  // 2026-11-01 01:30 happens twice: the first (EDT) instant.
  r = parse("x tomorrow at 1:30am", ny("2026-10-31T16:00:00Z"));
  EXPECT_EQ(format_rfc3339(*r.due_at), "2026-11-01T05:30:00Z");
}

TEST(ChatParser, IsoDurations) {
  using std::chrono::seconds;
  EXPECT_EQ(iso_duration(seconds(0)), "PT0S");
  EXPECT_EQ(iso_duration(seconds(1800)), "PT30M");
  EXPECT_EQ(iso_duration(seconds(5400)), "PT1H30M");
  EXPECT_EQ(iso_duration(seconds(86400)), "P1D");
  EXPECT_EQ(iso_duration(seconds(90061)), "P1DT1H1M1S");
}

TEST(ChatParser, UntilIsUtcAndInclusive) {
  const auto r = parse("stretch every day at 7am until March 10", ny());
  ASSERT_TRUE(r.recurrence);
  // 2026-03-10 07:00 EDT = 11:00Z
  EXPECT_EQ(*r.recurrence, "FREQ=DAILY;UNTIL=20260310T110000Z");
}

// A bare hour takes its am/pm from the part of the day said with it: morning → am, afternoon/evening/night →
// pm, "12 at night" = midnight; an explicit time that contradicts the part is a conflict (no due date).
TEST(ChatParser, ThePartOfTheDayDecidesAmOrPm) {
  const std::pair<const char*, const char*> cases[] = {
      {"call mom tomorrow evening at 8", "2026-03-06T01:00:00Z"},           // Thu 20:00 EST
      {"go running tomorrow at 6 in the morning", "2026-03-05T11:00:00Z"},  // Thu 06:00
      {"take out trash at 11 at night", "2026-03-05T04:00:00Z"},            // today 23:00
      {"call at 12 at night", "2026-03-05T05:00:00Z"},                      // midnight tonight
      {"call mom tomorrow night at 12", "2026-03-06T05:00:00Z"},            // the midnight after Thursday
      {"nap tomorrow afternoon at 2", "2026-03-05T19:00:00Z"},              // Thu 14:00
      {"pills tomorrow morning at 10", "2026-03-05T15:00:00Z"},             // Thu 10:00
      {"meds every morning at 6", "2026-03-05T11:00:00Z"},                  // 06:00 (today's has passed)
      {"meds every evening at 8", "2026-03-05T01:00:00Z"},                  // 20:00 today
      {"meds every night at 10", "2026-03-05T03:00:00Z"},                   // 22:00 today
      {"walk every tuesday evening at 8", "2026-03-11T00:00:00Z"},          // Tue 20:00 EDT
      {"call mom tomorrow evening at 8pm", "2026-03-06T01:00:00Z"},         // agreeing: fine
      {"call mom tomorrow evening at 20:00", "2026-03-06T01:00:00Z"},
      {"call bob tonight at 1", "2026-03-05T06:00:00Z"},  // 01:00 after tonight, not 13:00 today
      {"call bob at 2 tonight", "2026-03-05T07:00:00Z"},
      {"call bob tonight at 11", "2026-03-05T04:00:00Z"},  // 23:00 today
  };
  for (const auto& [text, due] : cases) {
    const auto r = parse(text, ny());
    ASSERT_TRUE(r.due_at.has_value()) << text;
    EXPECT_EQ(format_rfc3339(*r.due_at), due) << text;
    EXPECT_FALSE(r.all_day) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  for (const char* text : {"call mom tomorrow at 8am in the evening", "call mom tomorrow morning at 7pm",
                           "call at 9am at night", "meds every evening at 8am"}) {
    const auto r = parse(text, ny());
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_NE(r.problems[0].find("part of the day"), std::string::npos) << r.problems[0];
  }
  EXPECT_FALSE(parse("call mom tomorrow at 8am in the evening", ny()).due_at.has_value());
}

// "remind me to X <date>" without a time: a date alone reminds at 09:00 (as "remind me about X tomorrow"
// does), so the task is due at 09:00 that day with its reminder at the due time, which follows reschedules
// and each occurrence of a series. It was an all-day task whose reminder fired at 00:00.
TEST(ChatParser, ARemindMeWithADateAloneRemindsAtNine) {
  const auto mom = parse("remind me to call mom tomorrow", ny());
  ASSERT_TRUE(mom.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*mom.due_at), "2026-03-05T14:00:00Z");  // 09:00 EST
  EXPECT_FALSE(mom.all_day);
  ASSERT_EQ(mom.reminders.size(), 1u);
  EXPECT_EQ(mom.reminders[0].before_due, std::chrono::seconds(0));
  EXPECT_GE(mom.confidence, 0.7);
  const auto rent = parse("remind me to pay rent on the 1st of every month", ny());
  ASSERT_TRUE(rent.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*rent.due_at), "2026-04-01T13:00:00Z");  // 09:00 EDT
  EXPECT_FALSE(rent.all_day);
  EXPECT_EQ(rent.recurrence, "FREQ=MONTHLY;BYMONTHDAY=1");
  ASSERT_EQ(rent.reminders.size(), 1u);
  EXPECT_EQ(rent.reminders[0].before_due, std::chrono::seconds(0));
  EXPECT_GE(rent.confidence, 0.7);
  // Today before 09:00: today at 09:00; after it, there is no time left for the reminder: asked.
  const auto early = parse("remind me to call mom today", ny("2026-03-04T13:00:00Z"));
  ASSERT_TRUE(early.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*early.due_at), "2026-03-04T14:00:00Z");
  EXPECT_GE(early.confidence, 0.7);
  const auto late = parse("remind me to call mom today", ny());
  EXPECT_LT(late.confidence, 0.7);
  ASSERT_FALSE(late.problems.empty());
  EXPECT_NE(late.problems[0].find("no time for the reminder"), std::string::npos) << late.problems[0];
  // What a "yes" to it could create: the task due today, without a reminder that would fire hours late.
  EXPECT_TRUE(late.all_day);
  EXPECT_TRUE(late.reminders.empty());
  // A plain create with a date stays all-day.
  EXPECT_TRUE(parse("call mom tomorrow", ny()).all_day);
}

// A reminder's time read from what the message could not read whole is never guessed: "yesterday" or "last
// friday" (in the past) or an unreadable time drop their part, and the rest alone ("9am": its next
// occurrence, "tomorrow": 09:00) is a time the user never gave. No `at` reminder then; the dialog asks.
TEST(ChatParser, AReminderWithAnUnreadablePartHasNoTime) {
  for (const char* text :
       {"remind me about haircut yesterday at 9am", "remind me about haircut last friday at 9am",
        "remind me about haircut tomorrow at 25:00", "remind me about haircut on feb 30 at 9am",
        "haircut friday 3pm, remind me yesterday at 9am", "meet bob on the 35th, remind me at 9am"}) {
    const auto r = parse(text, ny());
    EXPECT_TRUE(r.reminders.empty()) << text << ": "
                                     << (r.reminders.empty() || !r.reminders[0].at
                                             ? std::string()
                                             : format_rfc3339(*r.reminders[0].at));
    EXPECT_LT(r.confidence, 0.7) << text;
    EXPECT_FALSE(r.problems.empty()) << text;
  }
  // What it can read stays: a date and time before the (readable) reminder, or a relative one.
  const auto ok = parse("call ann at 25:00, remind me 10 minutes before", ny());
  ASSERT_EQ(ok.reminders.size(), 1u);
  EXPECT_EQ(ok.reminders[0].before_due, std::chrono::minutes(10));
}

// A reminder's time in the past is a problem, as a past due date is: "today at 1am" said at 10:00 fired at
// once, at confidence 0.9. Read in full, it is kept (the dialog offers it, saying when).
TEST(ChatParser, AReminderInThePastIsAProblem) {
  const auto r = parse("remind me about haircut today at 1am", ny());  // 10:00 in New York
  EXPECT_EQ(r.intent, Intent::add_reminder);
  EXPECT_EQ(r.target, "haircut");
  ASSERT_EQ(r.reminders.size(), 1u);
  ASSERT_TRUE(r.reminders[0].at.has_value());
  EXPECT_EQ(format_rfc3339(*r.reminders[0].at), "2026-03-04T06:00:00Z");
  EXPECT_LT(r.confidence, 0.7);
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].find("in the past"), std::string::npos) << r.problems[0];
  // Still to come: sure.
  const auto later = parse("remind me about haircut today at 11pm", ny());
  EXPECT_TRUE(later.problems.empty()) << later.problems.front();
  EXPECT_GE(later.confidence, 0.7);
  // A time alone is its next occurrence, never past; a reminder on a new task's day before now is past.
  EXPECT_GE(parse("remind me about haircut at 1am", ny()).confidence, 0.7);
  const auto dentist = parse("dentist today 11pm, remind me at 9am", ny());
  EXPECT_LT(dentist.confidence, 0.7);
  // "remind me to X at 1am today" (a create due then, reminded at the due time) is a past date already.
  const auto create = parse("remind me to get a haircut today at 1am", ny());
  EXPECT_EQ(create.intent, Intent::create);
  EXPECT_LT(create.confidence, 0.7);
  ASSERT_FALSE(create.problems.empty());
  EXPECT_NE(create.problems[0].find("in the past"), std::string::npos) << create.problems[0];
}

// List requests read the words that join their dates ("after", "since", "until", "from … to", "between …
// and", "in <month>") and never turn them into a search text; a date about when tasks were done cannot be
// filtered by the task list: a problem, not a confident "none".
// Each text reads as a confident list of open tasks due in [after, before), with no search text.
struct ListCase {
  const char* text;
  const char* after;   // due_after or ""
  const char* before;  // due_before or ""
};
void expect_list_ranges(const std::vector<ListCase>& cases, const ParseContext& ctx) {
  for (const auto& c : cases) {
    const auto r = parse(c.text, ctx);
    ASSERT_EQ(r.intent, Intent::list) << c.text;
    ASSERT_TRUE(r.query.has_value()) << c.text;
    const Query& q = *r.query;
    EXPECT_EQ(q.due_after ? format_rfc3339(*q.due_after) : "", c.after) << c.text;
    EXPECT_EQ(q.due_before ? format_rfc3339(*q.due_before) : "", c.before) << c.text;
    EXPECT_FALSE(q.q.has_value()) << c.text << ": " << q.q.value_or("");
    EXPECT_EQ(q.status, "open") << c.text;
    EXPECT_TRUE(r.problems.empty()) << c.text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << c.text;
  }
}

TEST(ChatParser, ListRangesAndStatuses) {
  const std::vector<ListCase> cases = {
      {"show tasks due after friday", "2026-03-07T05:00:00Z", ""},
      {"show tasks due in december", "2026-12-01T05:00:00Z", "2027-01-01T05:00:00Z"},
      {"what's due from monday to friday", "2026-03-09T04:00:00Z", "2026-03-14T04:00:00Z"},
      {"show tasks due between monday and friday", "2026-03-09T04:00:00Z", "2026-03-14T04:00:00Z"},
      {"show tasks due since monday", "2026-03-02T05:00:00Z", "2026-03-04T15:00:00Z"},
      {"what's due until friday", "", "2026-03-07T05:00:00Z"},
      {"what's due through friday", "", "2026-03-07T05:00:00Z"},
      {"what was due yesterday", "2026-03-03T05:00:00Z", "2026-03-04T05:00:00Z"},
      {"show tasks due from friday", "2026-03-06T05:00:00Z", ""},
  };
  expect_list_ranges(cases, ny());
  // Done tasks by when they were done: the list filters by due date only.
  for (const char* text : {"what did I finish today", "show completed tasks from last week"}) {
    const auto r = parse(text, ny());
    ASSERT_EQ(r.intent, Intent::list) << text;
    EXPECT_EQ(r.query->status, "done") << text;
    EXPECT_FALSE(r.query->due_after || r.query->due_before) << text;
    EXPECT_FALSE(r.query->q.has_value()) << text << ": " << r.query->q.value_or("");
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_NE(r.problems[0].find("when tasks were done"), std::string::npos) << r.problems[0];
  }
  // Done tasks by due date: fine.
  const auto due = parse("show done tasks due this week", ny());
  EXPECT_EQ(due.query->status, "done");
  EXPECT_TRUE(due.query->due_after && due.query->due_before);
  EXPECT_GE(due.confidence, 0.7);
  // Date words left unread are never a search text at high confidence.
  for (const char* text : {"show tasks due after the holidays", "what's due in the spring"}) {
    const auto r = parse(text, ny());
    EXPECT_LT(r.confidence, 0.7) << text;
    EXPECT_FALSE(r.problems.empty()) << text;
  }
  // A search stays a search.
  const auto search = parse("show tasks about taxes", ny());
  EXPECT_EQ(search.query->q, "taxes");
  EXPECT_GE(search.confidence, 0.7);
  // "matching" after the tasks (or "that match") says what follows is the search; it is none of it
  for (const auto& [text, q] :
       {std::pair{"show tasks matching 🎂", "🎂"}, std::pair{"show tasks matching report", "report"},
        std::pair{"list tasks matching the report", "report"},
        std::pair{"show tasks that match report", "report"},
        std::pair{"find matching socks", "matching socks"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::list) << text;
    ASSERT_TRUE(r.query.has_value()) << text;
    EXPECT_EQ(r.query->q, q) << text;
  }
}

// A time in a list: "after 5pm" is where the range starts, to the end of that day (it was an upper bound at
// 17:00, with "after" left as a search text); a time said with a date is on that date ("tomorrow before 5pm"
// ended today at 17:00, before it started).
TEST(ChatParser, ATimeInAListIsOnItsDateAndAfterItStarts) {
  const std::vector<ListCase> cases = {
      {"what's due after 5pm", "2026-03-04T22:00:00Z", "2026-03-05T05:00:00Z"},
      {"what is due today after 5pm", "2026-03-04T22:00:00Z", "2026-03-05T05:00:00Z"},
      {"show tasks due after 9am", "2026-03-04T14:00:00Z", "2026-03-05T05:00:00Z"},  // passed: still today's
      {"what's due tomorrow after 5pm", "2026-03-05T22:00:00Z", "2026-03-06T05:00:00Z"},
      {"what's due after 5pm tomorrow", "2026-03-05T22:00:00Z", "2026-03-06T05:00:00Z"},
      {"what's due after friday at 5pm", "2026-03-06T22:00:00Z", ""},
      {"what's due tomorrow before 5pm", "2026-03-05T05:00:00Z", "2026-03-05T22:00:00Z"},
      {"what's due today before 5pm", "2026-03-04T05:00:00Z", "2026-03-04T22:00:00Z"},
      // unchanged: a time alone ends the range from now, and a day's joining word says the rest
      {"what's due before 5pm", "2026-03-04T15:00:00Z", "2026-03-04T22:00:00Z"},
      {"what's due by friday", "", "2026-03-07T05:00:00Z"},
      {"what's due after friday", "2026-03-07T05:00:00Z", ""},
  };
  expect_list_ranges(cases, ny());
}

// A yearly Feb 29 is a valid rule whenever it is said (its first occurrence is the next leap day); only a
// single year-less date must fall within the next year.
TEST(ChatParser, AYearlyLeapDayIsARule) {
  const auto december = ny("2026-12-06T15:00:00Z");
  for (const char* text :
       {"call every year on feb 29", "call every feb 29", "call yearly on february 29th"}) {
    const auto r = parse(text, december);
    EXPECT_EQ(r.recurrence, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29") << text;
    ASSERT_TRUE(r.due_at.has_value()) << text;
    EXPECT_EQ(format_rfc3339(*r.due_at), "2028-02-29T05:00:00Z") << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  const auto once = parse("call on feb 29", december);
  EXPECT_FALSE(once.due_at.has_value());
  EXPECT_LT(once.confidence, 0.7);
  EXPECT_LT(parse("call every year on feb 30", december).confidence, 0.7);
}

// A date read in full that has passed keeps its due date, with a problem, so that the dialog offers it as a
// yes/no question (docs/chat.md); only the relative words for the past ("yesterday") leave it null.
TEST(ChatParser, APastDateKeepsItsDueDateAndAsks) {
  for (const auto& [text, due] : {std::pair{"submit report today at 1am", "2026-03-04T06:00:00Z"},
                                  std::pair{"submit report on March 1, 2020", "2020-03-01T05:00:00Z"}}) {
    const auto r = parse(text, ny());
    ASSERT_TRUE(r.due_at.has_value()) << text;
    EXPECT_EQ(format_rfc3339(*r.due_at), due) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    EXPECT_EQ(r.problems, std::vector<std::string>{"the date is in the past"}) << text;
  }
  const auto yesterday = parse("submit report yesterday", ny());
  EXPECT_FALSE(yesterday.due_at.has_value());
  EXPECT_LT(yesterday.confidence, 0.7);
}

// Common ways of saying a date or time that stayed in titles at high confidence: "in june", "half past 3",
// "quarter to 5", "in a couple of days", "9-10am".
TEST(ChatParser, MoreWaysOfSayingWhen) {
  struct Case {
    const char* text;
    const char* title;
    const char* due;
    bool all_day;
  };
  const Case cases[] = {
      {"plan trip in june", "plan trip", "2026-06-01T04:00:00Z", true},
      {"taxes in april", "taxes", "2026-04-01T04:00:00Z", true},
      {"dentist at half past 3", "dentist", "2026-03-04T20:30:00Z", false},     // 15:30 today
      {"dentist at quarter to 5", "dentist", "2026-03-04T21:45:00Z", false},    // 16:45 today
      {"dentist at quarter past 9", "dentist", "2026-03-05T14:15:00Z", false},  // 09:15 tomorrow
      {"dentist tomorrow at half past 3 in the morning", "dentist", "2026-03-05T08:30:00Z", false},
      {"dentist tomorrow at a quarter to 8pm", "dentist", "2026-03-06T00:45:00Z", false},  // 19:45
      {"dentist in a couple of days", "dentist", "2026-03-06T05:00:00Z", true},
      {"meeting 9-10am tomorrow", "meeting", "2026-03-05T14:00:00Z", false},
      {"meeting tomorrow 2-3pm", "meeting", "2026-03-05T19:00:00Z", false},
      {"meeting tomorrow 11-1pm", "meeting", "2026-03-05T16:00:00Z", false},
      {"meeting tomorrow 9am-10am", "meeting", "2026-03-05T14:00:00Z", false},
      // Around midnight and noon, and an hour in words.
      {"call bob at quarter to midnight", "call bob", "2026-03-05T04:45:00Z", false},       // 23:45 today
      {"call bob at quarter past midnight", "call bob", "2026-03-05T05:15:00Z", false},     // 00:15 after it
      {"lunch tomorrow at half past noon", "lunch", "2026-03-05T17:30:00Z", false},         // Thu 12:30
      {"call bob at quarter to five tomorrow", "call bob", "2026-03-05T21:45:00Z", false},  // Thu 16:45
      {"meds every day at quarter past midnight", "meds", "2026-03-05T05:15:00Z", false},
      // A start with its own am/pm keeps it.
      {"party tomorrow 11pm-1am", "party", "2026-03-06T04:00:00Z", false},  // Thu 23:00
      {"shift tomorrow 8pm-9am", "shift", "2026-03-06T01:00:00Z", false},   // Thu 20:00
  };
  for (const auto& c : cases) {
    const auto r = parse(c.text, ny());
    EXPECT_EQ(r.title, c.title) << c.text;
    ASSERT_TRUE(r.due_at.has_value()) << c.text;
    EXPECT_EQ(format_rfc3339(*r.due_at), c.due) << c.text;
    EXPECT_EQ(r.all_day, c.all_day) << c.text;
    EXPECT_TRUE(r.problems.empty()) << c.text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << c.text;
  }
  // Numbers that are no time stay in the title.
  EXPECT_EQ(parse("buy 3-4 apples", ny()).title, "buy 3-4 apples");
}

TEST(ChatParser, SelectionIndexForTheDialog) {
  EXPECT_EQ(parse("the second one", ny()).index, 2);
  EXPECT_EQ(parse("the last one", ny()).index, -1);
  EXPECT_EQ(parse("option 10", ny()).index, 10);
  EXPECT_EQ(parse("number 0", ny()).intent, Intent::create);
}

// The black-box report's setup: Wed 2026-11-04 12:00 in New York.
ParseContext report_now(DateOrder order = DateOrder::month_first) {
  return *make_context(*parse_rfc3339("2026-11-04T17:00:00Z"), "America/New_York", order);
}

// A reading's due day in New York ("2026-11-15"), or "none".
std::string ny_day(const Reading& r) {
  if (!r.due_at) return "none";
  const auto* zone = date::locate_zone("America/New_York");
  const auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(*r.due_at));
  return date::format("%F", std::chrono::floor<date::days>(local));
}

// Compound relative dates: the whole phrase is the date (not its last words), and none of it is the title.
TEST(ChatParser, CompoundRelativeDatesReadWhole) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"party end of next week", "2026-11-15"},        {"party end of next month", "2026-12-31"},
      {"party a week from friday", "2026-11-13"},      {"party two weeks from friday", "2026-11-20"},
      {"party a week from tomorrow", "2026-11-12"},    {"party 3 days from tomorrow", "2026-11-08"},
      {"party friday after next", "2026-11-13"},       {"party end of this month", "2026-11-30"},
      {"party beginning of next month", "2026-12-01"}, {"party the end of next year", "2027-12-31"},
      {"party the start of next week", "2026-11-09"},  {"party end of this week", "2026-11-08"},
  };
  for (const auto& [text, day] : cases) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.title, "party") << text;
    EXPECT_EQ(ny_day(r), day) << text;
    EXPECT_TRUE(r.all_day) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << text;
  }
}

// Each text reads as a confident recurring create: {text, title, RRULE}, with a first due date.
using RuleCases = std::vector<std::tuple<const char*, const char*, const char*>>;
void expect_rules(const RuleCases& cases) {
  for (const auto& [text, title, rule] : cases) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.title, title) << text;
    EXPECT_EQ(r.recurrence.value_or("none"), rule) << text;
    EXPECT_TRUE(r.due_at.has_value()) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << text;
  }
}

// An ordinal before a unit is an interval ("every 2nd week"), not a day of the month; "<ordinal> <weekday> of
// every month" is a monthly weekday rule with or without a leading "every".
TEST(ChatParser, OrdinalRecurrencesReadTheirRule) {
  const RuleCases cases = {
      {"clean every 2nd week", "clean", "FREQ=WEEKLY;INTERVAL=2"},
      {"clean every 2nd day", "clean", "FREQ=DAILY;INTERVAL=2"},
      {"clean every 3rd month", "clean", "FREQ=MONTHLY;INTERVAL=3"},
      {"clean every 2nd year", "clean", "FREQ=YEARLY;INTERVAL=2"},
      {"clean every second week", "clean", "FREQ=WEEKLY;INTERVAL=2"},
      {"report first monday of every month", "report", "FREQ=MONTHLY;BYDAY=1MO"},
      {"report the last friday of every month", "report", "FREQ=MONTHLY;BYDAY=-1FR"},
      {"report on the second tuesday of each month", "report", "FREQ=MONTHLY;BYDAY=2TU"},
  };
  expect_rules(cases);
  EXPECT_EQ(ny_day(parse("report first monday of every month", report_now())), "2026-12-07");
  EXPECT_EQ(ny_day(parse("report the last friday of every month", report_now())), "2026-11-27");
  // A month day still reads as one.
  EXPECT_EQ(parse("pay rent every 15th", report_now()).recurrence.value_or(""), "FREQ=MONTHLY;BYMONTHDAY=15");
  // An interval of more digits than any rule takes is unreadable, never cut to 9999.
  for (const char* text : {"water plants every 10000th day", "water plants every 1000000th day"}) {
    const auto r = parse(text, report_now());
    EXPECT_FALSE(r.problems.empty()) << text << " → " << r.recurrence.value_or("");
    EXPECT_LT(r.confidence, 0.7) << text;
  }
}

// A priority word after "not" sets no priority (never that one) and stays out of the title.
TEST(ChatParser, ANegatedPriorityIsNoPriority) {
  for (const char* text :
       {"fix bug not urgent", "fix bug not important", "fix bug, not urgent", "fix bug not very important",
        "fix bug not high priority", "fix bug is not urgent"}) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.title, "fix bug") << text;
    EXPECT_FALSE(r.priority.has_value()) << text << ": " << to_string(r.priority.value_or(Priority::none));
    EXPECT_TRUE(r.problems.empty()) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  EXPECT_EQ(parse("fix bug urgent", report_now()).priority, Priority::urgent);
}

// "for N days/weeks" with a recurrence ends it: COUNT when the rule has one occurrence a unit, else UNTIL the
// end of the period from the first occurrence; "until 2099" ends it with that year. Never an endless series
// with those words in the title.
TEST(ChatParser, ARecurrenceForAWhileEnds) {
  const RuleCases cases = {
      {"take antibiotics every day for 10 days", "take antibiotics", "FREQ=DAILY;COUNT=10"},
      {"physio every monday for 6 weeks", "physio", "FREQ=WEEKLY;BYDAY=MO;COUNT=6"},
      // daily from Thu Nov 5 (today's 09:00 has passed at 12:00): 14 days, the last on Wed Nov 18
      {"take antibiotics daily at 9am for 2 weeks", "take antibiotics", "FREQ=DAILY;UNTIL=20261118T140000Z"},
      {"take antibiotics daily for 2 weeks", "take antibiotics", "FREQ=DAILY;UNTIL=20261118T045959Z"},
      {"x every 2nd tuesday until 2099", "x", "FREQ=MONTHLY;BYDAY=2TU;UNTIL=21000101T045959Z"},
  };
  expect_rules(cases);
  // An amount that cannot be read is a problem, not a title.
  for (const char* text :
       {"x every day for 99999 times", "x every day for 99999 days", "x every day for 0 days",
        "x every day for 0 weeks", "x every week for 0 months"}) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.title, "x") << text;
    EXPECT_FALSE(r.problems.empty()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  // Without a recurrence, "for 10 days" is the title's.
  const auto trip = parse("vacation for 10 days", report_now());
  EXPECT_EQ(trip.title, "vacation for 10 days");
  EXPECT_FALSE(trip.recurrence.has_value());
  EXPECT_TRUE(trip.problems.empty());
}

// "except <days>" leaves those days out of the rule (and out of the title).
TEST(ChatParser, ExceptLeavesDaysOut) {
  const std::vector<std::tuple<const char*, const char*, const char*>> cases = {
      {"standup every weekday except friday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH", "2026-11-04"},
      {"standup every day except saturday and sunday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "2026-11-04"},
      {"standup every weekday but not mondays", "FREQ=WEEKLY;BYDAY=TU,WE,TH,FR", "2026-11-04"},
  };
  for (const auto& [text, rule, day] : cases) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.title, "standup") << text;
    EXPECT_EQ(r.recurrence.value_or("none"), rule) << text;
    EXPECT_EQ(ny_day(r), day) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  EXPECT_LT(parse("standup every weekend except saturday and sunday", report_now()).confidence, 0.7);
}

// List questions without a list verb are lists, not creates; their filler words are no search text.
TEST(ChatParser, ListQuestionsAreLists) {
  expect_list_ranges(
      {
          {"tasks due this week", "2026-11-02T05:00:00Z", "2026-11-09T05:00:00Z"},
          {"tasks due before friday", "", "2026-11-06T05:00:00Z"},
          {"my tasks today", "2026-11-04T05:00:00Z", "2026-11-05T05:00:00Z"},
          {"overdue tasks", "", ""},
          {"high priority tasks", "", ""},
          {"what should I do today", "2026-11-04T05:00:00Z", "2026-11-05T05:00:00Z"},
          {"what's next", "", ""},
          {"what's due soon", "2026-11-04T05:00:00Z", "2026-11-12T05:00:00Z"},
          {"show tasks with no date", "", ""},
      },
      report_now());
  EXPECT_TRUE(parse("overdue tasks", report_now()).query->overdue);
  EXPECT_EQ(parse("high priority tasks", report_now()).query->priorities,
            std::vector<Priority>{Priority::high});
  EXPECT_EQ(parse("show tasks with no date", report_now()).query->has_due, false);
  // A title about tasks with other words, or a create command, stays a create.
  EXPECT_EQ(parse("review tasks for the new hire", report_now()).intent, Intent::create);
  EXPECT_EQ(parse("add tasks tomorrow", report_now()).intent, Intent::create);
}

// Questions about tasks are lists, never tasks named after the question: "how many", "when is" and yes/no
// openers ("is", "are", "do I", "have I") with a question mark. Any other create ending in "?" asks first.
TEST(ChatParser, QuestionsAreNotCreates) {
  for (const auto& [text, overdue, q] :
       {std::tuple{"how many tasks are overdue?", true, ""}, std::tuple{"is anything overdue?", true, ""},
        std::tuple{"are any tasks overdue?", true, ""}, std::tuple{"how many tasks do I have?", false, ""},
        std::tuple{"how many overdue tasks?", true, ""}, std::tuple{"any overdue tasks?", true, ""},
        std::tuple{"which tasks are overdue?", true, ""},
        std::tuple{"when is the dentist?", false, "dentist"},
        std::tuple{"is the dentist tomorrow?", false, "dentist"},
        std::tuple{"do I have anything overdue?", true, ""},
        std::tuple{"have I got overdue tasks?", true, ""}}) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.intent, Intent::list) << text;
    ASSERT_TRUE(r.query.has_value()) << text;
    EXPECT_EQ(r.query->overdue, overdue) << text;
    EXPECT_EQ(r.query->q.value_or(""), q) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
    EXPECT_TRUE(r.title.empty()) << text;
  }
  // A create that ends with a question mark is never confident; without one it still is.
  for (const char* text : {"should I call bob?", "buy milk tomorrow?", "call mom?"}) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    EXPECT_FALSE(r.problems.empty()) << text;
  }
  for (const char* text : {"should I call bob", "is this a task", "are we there yet"}) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
}

// Yes/no questions about the user's tasks are lists with or without "?": "have I"/"did I" + a verb and
// "is/are the|my X done" search open and done tasks (a past verb in its base form: "paid" → "pay", as
// full-text search does not stem), "are the tasks overdue" and "is my X due …" list with their filters.
// Titles that only start like a question stay creates.
TEST(ChatParser, YesNoQuestionsWithoutAQuestionMarkAreLists) {
  struct Case {
    const char* text;
    const char* q;
    const char* status;  // "" = open and done
    bool overdue;
  };
  for (const auto& c :
       std::vector<Case>{{"are the tasks overdue", "", "open", true},
                         {"do I have anything due today", "", "open", false},
                         {"is the report done", "report", "", false},
                         {"is the report done?", "report", "", false},
                         // Without an article or a known title: still a question (it completed a task
                         // "issue report to finance", "is report" read as a prefix of its title).
                         {"is report done", "report", "", false},
                         {"is report finished?", "report", "", false},
                         {"did I pay rent", "pay rent", "", false},
                         {"have I called mum", "mum", "", false},  // "called" is a filler ("a task called …")
                         {"have I paid rent?", "pay rent", "", false},
                         {"have I already paid the rent", "pay rent", "", false},
                         {"did I submit the report yet", "submit report", "", false},
                         {"is my report overdue", "report", "open", true},
                         {"have I got overdue tasks?", "", "open", true}}) {
    const auto r = parse(c.text, ny());
    EXPECT_EQ(r.intent, Intent::list) << c.text;
    EXPECT_GE(r.confidence, 0.7) << c.text;
    EXPECT_TRUE(r.title.empty()) << c.text;
    ASSERT_TRUE(r.query.has_value()) << c.text;
    EXPECT_EQ(r.query->q.value_or(""), c.q) << c.text;
    EXPECT_EQ(r.query->status.value_or(""), c.status) << c.text;
    EXPECT_EQ(r.query->overdue, c.overdue) << c.text;
  }
  const auto today = parse("do I have anything due today", ny());
  ASSERT_TRUE(today.query && today.query->due_after && today.query->due_before);
  EXPECT_EQ(format_rfc3339(*today.query->due_after), "2026-03-04T05:00:00Z");
  // Imperatives and notes stay creates.
  for (const auto& [text, title] :
       {std::pair{"do laundry", "do laundry"}, std::pair{"do the dishes", "do the dishes"},
        std::pair{"Do taxes tomorrow", "Do taxes"},
        std::pair{"is the printer broken", "is the printer broken"},
        std::pair{"add is the printer broken? to my list", "is the printer broken?"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, title) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
}

// Common ways of writing dates, recurrences and priorities are read (or, when ambiguous, a problem), not left
// in the title at high confidence.
TEST(ChatParser, CommonFormsAreRead) {
  struct Case {
    const char* text;
    const char* title;
    const char* day;
    const char* rule;
  };
  const std::vector<Case> cases = {
      {"party Dec. 24", "party", "2026-12-24", "none"},
      {"party on 12-24", "party", "2026-12-24", "none"},
      {"party on the twenty-fifth", "party", "2026-11-25", "none"},
      {"party in a fortnight", "party", "2026-11-18", "none"},
      {"review budget each quarter", "review budget", "2026-11-04", "FREQ=MONTHLY;INTERVAL=3"},
      {"review budget quarterly", "review budget", "2026-11-04", "FREQ=MONTHLY;INTERVAL=3"},
      {"standup weekdays at 8", "standup", "2026-11-05", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
      {"gym mondays and wednesdays", "gym", "2026-11-04", "FREQ=WEEKLY;BYDAY=MO,WE"},
      {"standup mon-fri at 9", "standup", "2026-11-05", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
      {"meet at Starbucks on 5th Avenue", "meet at Starbucks on 5th Avenue", "none", "none"},
  };
  for (const auto& c : cases) {
    const auto r = parse(c.text, report_now());
    EXPECT_EQ(r.title, c.title) << c.text;
    EXPECT_EQ(ny_day(r), c.day) << c.text;
    EXPECT_EQ(r.recurrence.value_or("none"), c.rule) << c.text;
    EXPECT_TRUE(r.problems.empty()) << c.text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << c.text;
  }
  const auto at8 = parse("standup weekdays at 8", report_now());
  EXPECT_EQ(format_rfc3339(*at8.due_at), "2026-11-05T13:00:00Z");  // 08:00 EST
  for (const char* text : {"fix bug priority: high", "fix bug high-priority"}) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.title, "fix bug") << text;
    EXPECT_EQ(r.priority, Priority::high) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  // Day first: 24.12.2026 is Christmas Eve.
  const auto gift = parse("gift 24.12.2026", report_now(DateOrder::day_first));
  EXPECT_EQ(gift.title, "gift");
  EXPECT_EQ(ny_day(gift), "2026-12-24");
  EXPECT_GE(gift.confidence, 0.7);
  // A dashed pair alone at the end might be a date: a problem, not a title at high confidence.
  const auto dash = parse("party 12-24", report_now());
  EXPECT_EQ(dash.title, "party");
  EXPECT_FALSE(dash.due_at.has_value());
  EXPECT_LT(dash.confidence, 0.7);
  // Numbers that are no date stay in the title.
  for (const char* text : {"buy 3-4 apples", "pay 1.5 euros", "read chapter 5.30 today"})
    EXPECT_NE(parse(text, report_now()).title.find_first_of("0123456789"), std::string::npos) << text;
}

// A dashed month-day pair at the end of a create whose title has two words or more is a date in the reader's
// order ("call mum 12-24" is Dec 24 for month-first, "call mum 24-12" for day-first); counted things ("read
// pages 9-10") and a pair that is no date in that order stay in the title.
TEST(ChatParser, ADashedDateAfterATitleIsRead) {
  for (const auto& [text, order, day] :
       {std::tuple{"call mum 12-24", DateOrder::month_first, "2026-12-24"},
        std::tuple{"call mum 24-12", DateOrder::day_first, "2026-12-24"},
        std::tuple{"send the invoice 1-15", DateOrder::month_first, "2027-01-15"}}) {
    const auto r = parse(text, report_now(order));
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, std::string(text).substr(0, std::string(text).rfind(' '))) << text;
    EXPECT_EQ(ny_day(r), day) << text;
    EXPECT_TRUE(r.all_day) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << (r.problems.empty() ? "" : r.problems[0]);
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  for (const auto& [text, order] : {std::pair{"read pages 9-10", DateOrder::month_first},
                                    std::pair{"call mum 24-12", DateOrder::month_first},
                                    std::pair{"call mum 12-24", DateOrder::day_first}}) {
    const auto r = parse(text, report_now(order));
    EXPECT_EQ(r.title, text) << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
  }
}

// A time range that ends before it starts ("10-9am") is not left in the title: it is read as the evening to
// the next morning (22:00), as a question (low confidence, a problem) rather than a sure reading.
TEST(ChatParser, AReversedTimeRangeIsAQuestion) {
  const auto r = parse("night shift tomorrow 10-9am", ny());
  EXPECT_EQ(r.title, "night shift");
  ASSERT_TRUE(r.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*r.due_at), "2026-03-06T03:00:00Z");  // Thu 22:00 EST
  ASSERT_FALSE(r.problems.empty());
  EXPECT_NE(r.problems[0].find("ends before it starts"), std::string::npos) << r.problems[0];
  EXPECT_LT(r.confidence, 0.7);
  // A range whose start takes the end's am/pm or keeps its own is still sure.
  EXPECT_TRUE(parse("meeting tomorrow 11-1pm", ny()).problems.empty());
  EXPECT_TRUE(parse("shift tomorrow 8pm-9am", ny()).problems.empty());
}

// Taking a tag off a task is no delete (nor a create): an update the dialog says it cannot do, naming the tag
// and the task.
TEST(ChatParser, RemovingATagIsNotADelete) {
  const std::vector<std::tuple<const char*, const char*, const char*>> cases = {
      {"remove tag health from dentist", "dentist", "\u201chealth\u201d"},
      {"remove the tag #health from the dentist", "dentist", "\u201chealth\u201d"},
      {"untag dentist personal", "dentist", "\u201cpersonal\u201d"},
      {"untag personal from dentist", "dentist", "\u201cpersonal\u201d"},
  };
  for (const auto& [text, target, tag] : cases) {
    const auto r = parse(text, report_now());
    EXPECT_EQ(r.intent, Intent::update) << text;
    EXPECT_EQ(r.target, target) << text;
    EXPECT_TRUE(r.tags.empty()) << text;
    ASSERT_EQ(r.problems.size(), 1u) << text;
    EXPECT_EQ(r.problems[0].rfind("I can't", 0), 0u) << r.problems[0];
    EXPECT_NE(r.problems[0].find(tag), std::string::npos) << r.problems[0];
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  EXPECT_EQ(parse("remove dentist", report_now()).intent, Intent::remove);
}

// Only the titles the message holds reach the parser, so the longest of them bounds how far a name is looked
// for: counted in the words' own letters, not in the message's spacing ("delete  WEEKLY   Report").
TEST(ChatParser, ATitleIsNamedWhateverTheMessagesSpacing) {
  const std::vector<std::string> titles = {"WEEKLY Report"};
  auto with_titles = ny();
  with_titles.titles = &titles;
  for (const char* text : {"delete WEEKLY Report", "delete  WEEKLY   Report", "delete WEEKLY\tReport"}) {
    const auto r = parse(text, with_titles);
    EXPECT_EQ(r.intent, Intent::remove) << text;
    EXPECT_EQ(r.target, "WEEKLY Report") << text;
    EXPECT_GE(r.confidence, 0.7) << text;
    EXPECT_FALSE(r.recurrence.has_value()) << text;
  }
}

// A command verb opening a message is that command: the words after it name the task, also when they hold a
// recurrence, date, priority, tag or number. With the user's titles (the dialog's reading) a title spelled
// there is the target whole; what follows it is read ("move weekly report to friday" → friday). Without them,
// a recurrence after a plain command verb is a problem, never a new task.
TEST(ChatParser, ACommandNamingATaskWithDateWordsIsNoCreate) {
  const std::vector<std::string> titles = {
      "weekly report", "daily standup notes",  "call 3 clients", "plan today",      "email bob tomorrow",
      "monday review", "pay rent every month", "fix p1 bug",     "write #tag docs", "urgent errand",
      "meet at 5",     "renew in 2 weeks",     "ÉCOLE weekly",   "standup (daily)", "sync every day."};
  auto with_titles = ny();
  with_titles.titles = &titles;
  struct Case {
    const char* text;
    Intent intent;
    const char* target;
  };
  for (const auto& c :
       {Case{"delete weekly report", Intent::remove, "weekly report"},
        Case{"remove weekly report", Intent::remove, "weekly report"},
        Case{"delete the weekly report", Intent::remove, "weekly report"},
        Case{"complete weekly report", Intent::complete, "weekly report"},
        Case{"mark weekly report as done", Intent::complete, "weekly report"},
        Case{"weekly report done", Intent::complete, "weekly report"},
        Case{"reopen weekly report", Intent::reopen, "weekly report"},
        Case{"delete daily standup notes", Intent::remove, "daily standup notes"},
        Case{"complete call 3 clients", Intent::complete, "call 3 clients"},
        Case{"delete plan today", Intent::remove, "plan today"},
        Case{"finished email bob tomorrow", Intent::complete, "email bob tomorrow"},
        Case{"delete monday review", Intent::remove, "monday review"},
        Case{"delete pay rent every month", Intent::remove, "pay rent every month"},
        Case{"complete fix p1 bug", Intent::complete, "fix p1 bug"},
        Case{"delete write #tag docs", Intent::remove, "write #tag docs"},
        Case{"complete urgent errand", Intent::complete, "urgent errand"},
        Case{"delete meet at 5", Intent::remove, "meet at 5"},
        Case{"reopen renew in 2 weeks", Intent::reopen, "renew in 2 weeks"},
        Case{"stop repeating pay rent every month", Intent::stop_recurring, "pay rent every month"},
        // Case aside beyond ASCII, titles ending in punctuation, and extra spaces.
        Case{"delete école weekly", Intent::remove, "école weekly"},
        Case{"delete standup (daily)", Intent::remove, "standup (daily)"},
        Case{"delete sync every day.", Intent::remove, "sync every day"},  // the dialog's LIKE finds it
        Case{"delete  weekly   report", Intent::remove, "weekly report"}}) {
    const auto r = parse(c.text, with_titles);
    EXPECT_EQ(r.intent, c.intent) << c.text;
    EXPECT_EQ(r.target, c.target) << c.text;
    EXPECT_GE(r.confidence, 0.7) << c.text;
    EXPECT_FALSE(r.due_at.has_value()) << c.text;
    EXPECT_FALSE(r.recurrence.has_value()) << c.text;
    EXPECT_TRUE(r.title.empty()) << c.text;
    EXPECT_TRUE(r.problems.empty()) << c.text << ": " << (r.problems.empty() ? "" : r.problems[0]);
  }
  // updates: the title is the target, the rest is the change
  const auto move = parse("move weekly report to friday", with_titles);
  EXPECT_EQ(move.intent, Intent::update);
  EXPECT_EQ(move.target, "weekly report");
  ASSERT_TRUE(move.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*move.due_at), "2026-03-06T05:00:00Z");
  EXPECT_FALSE(move.recurrence.has_value());
  EXPECT_GE(move.confidence, 0.7);
  const auto rename = parse("rename weekly report to Team report", with_titles);
  EXPECT_EQ(rename.intent, Intent::update);
  EXPECT_EQ(rename.target, "weekly report");
  EXPECT_EQ(rename.title, "Team report");
  EXPECT_FALSE(rename.recurrence.has_value());
  const auto prio = parse("set priority of weekly report to high", with_titles);
  EXPECT_EQ(prio.intent, Intent::update);
  EXPECT_EQ(prio.target, "weekly report");
  EXPECT_EQ(prio.priority, Priority::high);
  EXPECT_FALSE(prio.recurrence.has_value());
  EXPECT_GE(prio.confidence, 0.7);
  const auto tag = parse("tag weekly report with work", with_titles);
  EXPECT_EQ(tag.intent, Intent::update);
  EXPECT_EQ(tag.target, "weekly report");
  EXPECT_EQ(tag.tags, std::vector<std::string>{"work"});
  EXPECT_FALSE(tag.recurrence.has_value());
  const auto urgent = parse("mark daily standup notes as urgent", with_titles);
  EXPECT_EQ(urgent.intent, Intent::update);
  EXPECT_EQ(urgent.target, "daily standup notes");
  EXPECT_EQ(urgent.priority, Priority::urgent);
  const auto recur = parse("make weekly report recurring every friday", with_titles);
  EXPECT_EQ(recur.intent, Intent::make_recurring);
  EXPECT_EQ(recur.target, "weekly report");
  EXPECT_EQ(recur.recurrence, "FREQ=WEEKLY;BYDAY=FR");
  // "change weekly report" says nothing to change: a question, not a new task "change weekly report"
  const auto change = parse("change weekly report", with_titles);
  EXPECT_EQ(change.intent, Intent::update);
  EXPECT_LT(change.confidence, 0.7);
  // tags, reminders, a rename's new title and "finish" around a title
  const auto add_tag = parse("add tag work to weekly report", with_titles);
  EXPECT_EQ(add_tag.intent, Intent::update);
  EXPECT_EQ(add_tag.target, "weekly report");
  EXPECT_EQ(add_tag.tags, std::vector<std::string>{"work"});
  EXPECT_GE(add_tag.confidence, 0.7);
  const auto add_hash = parse("add #work to weekly report", with_titles);
  EXPECT_EQ(add_hash.intent, Intent::update);
  EXPECT_EQ(add_hash.target, "weekly report");
  EXPECT_EQ(add_hash.tags, std::vector<std::string>{"work"});
  const auto remind = parse("remind me 30 minutes before weekly report", with_titles);
  EXPECT_EQ(remind.intent, Intent::add_reminder);
  EXPECT_EQ(remind.target, "weekly report");
  EXPECT_FALSE(remind.recurrence.has_value());
  const auto retitle = parse("rename plan today to plan tomorrow", with_titles);
  EXPECT_EQ(retitle.intent, Intent::update);
  EXPECT_EQ(retitle.target, "plan today");
  EXPECT_EQ(retitle.title, "plan tomorrow");
  EXPECT_FALSE(retitle.due_at.has_value());
  const auto finish = parse("finish weekly report", with_titles);
  EXPECT_EQ(finish.intent, Intent::complete);
  EXPECT_EQ(finish.target, "weekly report");
  EXPECT_EQ(parse("Finish slides by eod", with_titles).intent, Intent::create);
  const auto is_done = parse("is weekly report done", with_titles);
  EXPECT_EQ(is_done.intent, Intent::list);
  ASSERT_TRUE(is_done.query.has_value());
  EXPECT_EQ(is_done.query->q, "weekly report");
  EXPECT_GE(is_done.confidence, 0.7);
  const auto did = parse("did I finish weekly report", with_titles);
  EXPECT_EQ(did.intent, Intent::list);
  ASSERT_TRUE(did.query.has_value());
  EXPECT_EQ(did.query->q, "weekly report");
  EXPECT_GE(did.confidence, 0.7);
  // "make"/"set" with no sign of an update still start a title
  const std::vector<std::string> dinner = {"dinner reservations"};
  auto with_dinner = ny();
  with_dinner.titles = &dinner;
  const auto make = parse("Make dinner reservations for friday", with_dinner);
  EXPECT_EQ(make.intent, Intent::create);
  EXPECT_EQ(make.title, "Make dinner reservations");
  // questions search for the whole title
  const auto when = parse("when is weekly report due", with_titles);
  EXPECT_EQ(when.intent, Intent::list);
  ASSERT_TRUE(when.query.has_value());
  EXPECT_EQ(when.query->q, "weekly report");
  EXPECT_TRUE(when.problems.empty());
  const auto done = parse("is the weekly report done", with_titles);
  EXPECT_EQ(done.intent, Intent::list);
  ASSERT_TRUE(done.query.has_value());
  EXPECT_EQ(done.query->q, "weekly report");

  // Without the titles (POST /chat/parse): a plain command verb before a recurrence is still the command,
  // read with low confidence (a date in a command), never a create; "Trash out every Tuesday" is a title.
  for (const char* text : {"delete weekly report", "remove weekly report", "complete weekly report",
                           "delete daily standup notes", "reopen weekly report", "done with weekly report"}) {
    const auto r = parse(text, ny());
    EXPECT_NE(r.intent, Intent::create) << text;
    EXPECT_TRUE(r.title.empty()) << text;
    EXPECT_FALSE(r.recurrence.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  // an update whose target words hold a recurrence, with no such title known, is never a sure schedule: it
  // stays the update said, on a task named by those words too (offered), never a rule nobody asked for
  struct Update {
    const char* text;
    const char* target;
  };
  for (const auto& [text, target] : {Update{"move weekly report to friday", "weekly report"},
                                     Update{"set priority of weekly report to high", "weekly report"},
                                     Update{"change priority of weekly report to urgent", "weekly report"},
                                     Update{"tag weekly report with finance", "weekly report"},
                                     Update{"move weekly report to monday", "weekly report"},
                                     Update{"rename weekly report to Team report", "weekly report"},
                                     Update{"mark daily standup as urgent", "daily standup"},
                                     Update{"reschedule weekly report for tomorrow", "weekly report"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::update) << text;
    EXPECT_EQ(r.target, target) << text;
    EXPECT_FALSE(r.recurrence.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  const auto urgent_report = parse("change priority of weekly report to urgent", ny());
  EXPECT_EQ(urgent_report.priority, Priority::urgent);
  EXPECT_FALSE(urgent_report.due_at.has_value()) << "no due date from the name's words";
  EXPECT_EQ(parse("tag weekly report with finance", ny()).tags, std::vector<std::string>{"finance"});
  const auto monday = parse("move weekly report to monday", ny());
  ASSERT_TRUE(monday.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*monday.due_at), "2026-03-09T04:00:00Z");  // the next Monday, all day
  EXPECT_EQ(parse("rename weekly report to Team report", ny()).title, "Team report");
  EXPECT_EQ(parse("Trash out every Tuesday evening", ny()).intent, Intent::create);
  EXPECT_EQ(parse("Drop off laundry every friday", ny()).intent, Intent::create);
  // "drop off" and "drop by" are errands, with or without a date ("drop off laundry" deleted "laundry")
  expect_plain_title("drop off laundry");
  expect_dated({"drop by the bank tomorrow", "drop by the bank", "2026-03-05T05:00:00Z"});
  EXPECT_EQ(parse("drop laundry", ny()).intent, Intent::remove);
}

// Unicode white space (no-break space, em space, narrow no-break space, ideographic space, the line and
// paragraph separators, NEL) separates words like an ASCII space: the date and time words are read.
TEST(ChatParser, UnicodeSpacesSeparateWords) {
  for (const char* sep :
       {"\u00a0", "\u2003", "\u202f", "\u3000", "\u2028", "\u2029", "\u0085", "\u1680", "\u205f", "\u2009"}) {
    const std::string s(sep);
    const auto dentist = parse("dentist" + s + "friday at 3pm", ny());
    EXPECT_EQ(dentist.intent, Intent::create) << s;
    EXPECT_EQ(dentist.title, "dentist") << s;
    ASSERT_TRUE(dentist.due_at.has_value()) << s;
    EXPECT_EQ(format_rfc3339(*dentist.due_at), "2026-03-06T20:00:00Z") << s;  // Friday 15:00 EST
    EXPECT_GE(dentist.confidence, 0.7) << s;
    const auto milk = parse("buy" + s + "milk" + s + "tomorrow", ny());
    if (sep == std::string_view("\u2028") || sep == std::string_view("\u2029") ||
        sep == std::string_view("\u0085")) {  // a line break: "buy" and "milk" are two lines, two tasks
      EXPECT_EQ(milk.title, "") << s;
      EXPECT_FALSE(milk.due_at.has_value()) << s;
      EXPECT_TRUE(!milk.problems.empty() &&
                  milk.problems[0].starts_with("I can't add several tasks from one message"))
          << s;
    } else {
      EXPECT_EQ(milk.title, "buy milk") << s;  // a title is single-spaced
      EXPECT_TRUE(milk.due_at.has_value()) << s;
      EXPECT_EQ(format_rfc3339(milk.due_at.value_or(Instant{})), "2026-03-05T05:00:00Z") << s;
      EXPECT_TRUE(milk.all_day) << s;
    }
    const std::string ann_text = "meet Ann at 5" + s + "pm tomorrow";
    const auto ann = parse(ann_text, ny());
    EXPECT_EQ(ann.title, "meet Ann") << s;
    ASSERT_TRUE(ann.due_at.has_value()) << s;
    EXPECT_EQ(format_rfc3339(*ann.due_at), "2026-03-05T22:00:00Z") << s;
    EXPECT_GE(ann.confidence, 0.7) << s;
    // spans count code points: "at 5<sep>pm" is 7 of them
    bool time_span = false;
    for (const auto& sp : ann.spans)
      if (sp.kind == SpanKind::time) {
        time_span = true;
        EXPECT_EQ(sp.start, 9u) << s;
        EXPECT_EQ(sp.end, 16u) << s;
      }
    EXPECT_TRUE(time_span) << s;
  }
  // other characters above ASCII still belong to their word
  const auto cafe = parse("caf\u00e9 friday", ny());
  EXPECT_EQ(cafe.title, "caf\u00e9");
  EXPECT_TRUE(cafe.due_at.has_value());
}

// "all", "everything", "them": a command names one task. Bulk actions are not supported: no target (never
// "all", which the dialog's title search found in "call mom"), a problem the dialog says, nothing offered.
TEST(ChatParser, BulkCommandsNameNoTask) {
  for (const char* text : {"mark all #home done", "all done", "mark all done", "complete all",
                           "complete all tasks", "delete everything", "reopen all of them",
                           "mark them all as done", "delete all my tasks", "complete everything due today"}) {
    const auto r = parse(text, ny());
    EXPECT_NE(r.intent, Intent::create) << text;
    EXPECT_NE(r.intent, Intent::list) << text;
    EXPECT_EQ(r.target, "") << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    bool said = false;
    for (const auto& p : r.problems)
      said = said ||
             (p.starts_with("I can't ") && p.find("bulk actions are not supported") != std::string::npos);
    EXPECT_TRUE(said) << text;
  }
  // a task the user has so named is named whole
  const std::vector<std::string> titles = {"all hands prep"};
  auto ctx = ny();
  ctx.titles = &titles;
  const auto named = parse("complete all hands prep", ctx);
  EXPECT_EQ(named.intent, Intent::complete);
  EXPECT_EQ(named.target, "all hands prep");
  EXPECT_GE(named.confidence, 0.7);
  // single-task commands are unchanged
  const auto mom = parse("mark call mom done", ny());
  EXPECT_EQ(mom.intent, Intent::complete);
  EXPECT_EQ(mom.target, "call mom");
  EXPECT_GE(mom.confidence, 0.7);
}

// "done tasks", "completed tasks", "finished tasks" ask for the done tasks (a list), never complete a task
// whose title holds "tasks".
TEST(ChatParser, DoneTasksIsAListOfDoneTasks) {
  for (const char* text : {"done tasks", "completed tasks", "finished tasks", "done todos",
                           "completed tasks?", "finished tasks #work"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::list) << text;
    ASSERT_TRUE(r.query.has_value()) << text;
    EXPECT_EQ(r.query->status, "done") << text;
    EXPECT_FALSE(r.query->q.has_value()) << text << ": " << r.query->q.value_or("");
    EXPECT_EQ(r.target, "") << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  // when they were done is not a filter the list has: a list offer, never "mark “tasks” as done?"
  const auto week = parse("completed tasks from last week", ny());
  EXPECT_EQ(week.intent, Intent::list);
  ASSERT_TRUE(week.query.has_value());
  EXPECT_EQ(week.query->status, "done");
  EXPECT_LT(week.confidence, 0.7);
  // a task named after the done word is still completed
  for (const char* text : {"done with tasks for the intern", "done review budget", "finished report"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::complete) << text;
  }
  EXPECT_EQ(parse("done tasks for the intern", ny()).intent, Intent::complete);
}

// An ordinal before a noun is no date, whatever the noun; a date's ordinal is followed by a date or time
// word, a preposition, a number or nothing.
TEST(ChatParser, AnOrdinalBeforeANounIsNoDate) {
  for (const char* text :
       {"prep for the 2nd interview", "book the 2nd dose", "schedule the 2nd meeting with HR",
        "plan the 10th reunion", "prepare for the 3rd quarter review", "buy gift for the 1st date"}) {
    expect_plain_title(text);
  }
  const auto on = parse("pay rent on the 2nd", ny());
  EXPECT_EQ(on.title, "pay rent");
  ASSERT_TRUE(on.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*on.due_at), "2026-04-02T04:00:00Z");
  const auto at = parse("call bank the 2nd at 9am", ny());
  EXPECT_EQ(at.title, "call bank");
  ASSERT_TRUE(at.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*at.due_at), "2026-04-02T13:00:00Z");
  for (const char* text : {"call bank on the 2nd of March", "submit form by the 3rd", "pay rent the 1st",
                           "file taxes on the 15th please", "renew pass the 2nd, urgent"}) {
    const auto r = parse(text, ny());
    EXPECT_TRUE(r.due_at.has_value()) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  const auto monthly = parse("pay rent every month on the 1st", ny());
  ASSERT_TRUE(monthly.recurrence.has_value());
  EXPECT_EQ(*monthly.recurrence, "FREQ=MONTHLY;BYMONTHDAY=1");
}

// The list questions docs/chat.md names: tasks without a due date, tasks due soon (no command word).
TEST(ChatParser, NoDateAndSoonQuestionsAreLists) {
  for (const char* text :
       {"tasks with no date", "tasks without a deadline", "undated tasks", "tasks without a date",
        "my tasks with no due date", "show tasks with no date", "unscheduled tasks"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::list) << text;
    ASSERT_TRUE(r.query.has_value()) << text;
    EXPECT_EQ(r.query->has_due, std::optional<bool>(false)) << text;
    EXPECT_FALSE(r.query->q.has_value()) << text << ": " << r.query->q.value_or("");
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  const auto soon = parse("tasks due soon", ny());
  EXPECT_EQ(soon.intent, Intent::list);
  ASSERT_TRUE(soon.query.has_value());
  ASSERT_TRUE(soon.query->due_after && soon.query->due_before);
  EXPECT_EQ(format_rfc3339(*soon.query->due_after), "2026-03-04T05:00:00Z");
  EXPECT_FALSE(soon.query->q.has_value());
  EXPECT_GE(soon.confidence, 0.7);
  // titles that only share a word stay creates
  EXPECT_EQ(parse("tasks with no owner", ny()).intent, Intent::create);
  EXPECT_EQ(parse("date night", ny()).intent, Intent::create);
}

// Time-like words the parser cannot read ("at 9h30", "at half 5", "in 2wks", a zone after a time) are a
// problem: low confidence and no due date, never a title at 0.85.
TEST(ChatParser, UnreadTimeLikeWordsAreAProblem) {
  const auto london =
      *make_context(*parse_rfc3339("2026-03-04T15:00:00Z"), "Europe/London", DateOrder::day_first);
  for (const auto& [text, ctx] :
       {std::pair{"call bob at half 5", london}, std::pair{"call bob at 9h30", ny()},
        std::pair{"gym in 2wks", ny()}, std::pair{"call bob at 3pm EST", ny()},
        std::pair{"flight at 9:30 utc", ny()}}) {
    const auto r = parse(text, ctx);
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_EQ(r.problems[0].rfind("unreadable date or time '", 0), 0u) << r.problems[0];
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  EXPECT_EQ(parse("call bob at 9h30", ny()).problems[0], "unreadable date or time 'at 9h30'");
  // what is read, or is no time, stays as it was
  for (const char* text : {"meet at 5th avenue", "meet in 4b", "call bob at half past 5", "gym in 3d",
                           "call bob at 3pm", "dinner at Bob's"}) {
    const auto r = parse(text, ny());
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.front();
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  EXPECT_EQ(parse("meet at 5th avenue", ny()).title, "meet at 5th avenue");
}

// A weekday (or today, tonight, tomorrow) in a name is no date: a capitalised one that starts a run of
// capitalised words ("watch Friday Night Lights", "watch The Tonight Show"), or a weekday made a named day by
// the word before it ("Black Friday sale"). A weekday alone, after
// a cue word, before punctuation, a time or a joining word, stays a date, in any case.
TEST(ChatParser, AWeekdayInANameStaysInTheTitle) {
  // names: the whole message is the title, with no date
  for (const char* text :
       {"watch Friday Night Lights", "Watch Monday Night Football", "record Saturday Night Live",
        "teach Sunday School", "Sunday Brunch With Friends", "FRIDAY NIGHT LIGHTS",
        "reply to Sun Microsystems", "Black Friday sale", "prep black friday sale", "shop Cyber Monday deals",
        "vote on Super Tuesday", "Good Friday service", "attend Ash Wednesday mass",
        "book appointment with Dr. Friday", "watch The Tonight Show", "watch Tomorrow Never Dies"}) {
    expect_plain_title(text);
  }
  for (const auto& c : std::initializer_list<Dated>{
           // a name with a date of its own
           {"watch Saturday Night Live tonight at 11:30pm", "watch Saturday Night Live",
            "2026-03-05T04:30:00Z"},
           {"Sunday School at 10am", "Sunday School", "2026-03-05T15:00:00Z"},
           {"Good Friday service on April 3", "Good Friday service", "2026-04-03T04:00:00Z"},
           // dates
           {"call mom friday", "call mom", "2026-03-06T05:00:00Z"},
           {"call mom on Friday", "call mom", "2026-03-06T05:00:00Z"},
           {"Friday: call mom", "call mom", "2026-03-06T05:00:00Z"},
           {"Friday, call Mom", "call Mom", "2026-03-06T05:00:00Z"},
           {"Friday call mom", "call mom", "2026-03-06T05:00:00Z"},
           {"dentist friday at 3pm", "dentist", "2026-03-06T20:00:00Z"},
           {"dentist Friday 3pm", "dentist", "2026-03-06T20:00:00Z"},
           {"Call Mom Friday", "Call Mom", "2026-03-06T05:00:00Z"},
           {"CALL MOM FRIDAY", "CALL MOM", "2026-03-06T05:00:00Z"},
           {"Call Mom Friday At 3pm", "Call Mom", "2026-03-06T20:00:00Z"},
           {"Call Mom Friday Night", "Call Mom", "2026-03-07T02:00:00Z"},
           {"watch the game Saturday Night", "watch the game", "2026-03-08T02:00:00Z"},
           {"Dinner Friday With Sarah", "Dinner With Sarah", "2026-03-06T05:00:00Z"},
           {"Call Mom Friday About Taxes", "Call Mom About Taxes", "2026-03-06T05:00:00Z"},
           {"Submit Report By Friday", "Submit Report", "2026-03-06T05:00:00Z"},
           {"pay rent Friday #home", "pay rent", "2026-03-06T05:00:00Z"},
           {"Pay Rent Friday Urgent", "Pay Rent", "2026-03-06T05:00:00Z"},
           {"call mom on Friday Night", "call mom", "2026-03-07T02:00:00Z"},
           {"Call Mom Tomorrow Morning", "Call Mom", "2026-03-05T14:00:00Z"},
           {"Tomorrow: Call Mom", "Call Mom", "2026-03-05T05:00:00Z"},
           {"Tomorrow call mom", "call mom", "2026-03-05T05:00:00Z"},
           {"buy milk Today", "buy milk", "2026-03-04T05:00:00Z"},
       }) {
    expect_dated(c);
  }
  // A name in a command or a search is its words, never a date.
  const auto move = parse("move Friday Night Lights to saturday", ny());
  EXPECT_EQ(move.intent, Intent::update);
  EXPECT_EQ(move.target, "Friday Night Lights");
  ASSERT_TRUE(move.due_at.has_value());
  EXPECT_EQ(format_rfc3339(*move.due_at), "2026-03-07T05:00:00Z");
  const auto find = parse("find Friday Night Lights", ny());
  EXPECT_EQ(find.intent, Intent::list);
  ASSERT_TRUE(find.query.has_value());
  EXPECT_EQ(find.query->q, std::optional<std::string>("Friday Night Lights"));
  EXPECT_FALSE(find.query->due_after.has_value());
  EXPECT_TRUE(find.problems.empty()) << find.problems.front();
}

// A house or room number after "at" is no time: with letters that write no time and a word after it, or
// before words ending in a street word. Real unreadable times stay a problem; real times are still read.
TEST(ChatParser, AnAddressNumberIsNoTime) {
  for (const char* text :
       {"meet at 221b baker street", "meet at 221 baker street", "meet at 10 downing street",
        "lunch at 350 Fifth Avenue", "meet at 2B conference room", "meet at 1 Infinite Loop",
        "meet @ 221b baker street", "meet at 100 N Main St"}) {
    expect_plain_title(text);
  }
  for (const auto& c : std::initializer_list<Dated>{
           {"meet at 10 Downing St tomorrow at 9am", "meet at 10 Downing St", "2026-03-05T14:00:00Z"},
           {"party at 42 Wallaby Way on friday", "party at 42 Wallaby Way", "2026-03-06T05:00:00Z"},
           {"meet at 5 pm", "meet", "2026-03-04T22:00:00Z"},
           {"meet at 5 tomorrow", "meet", "2026-03-05T22:00:00Z"},
           {"meet at 5 on Main Street", "meet on Main Street", "2026-03-04T22:00:00Z"}}) {
    expect_dated(c);
  }
  for (const char* text : {"call bob at half 5", "call bob at 9h30", "meet at 5ish", "meet at 9h",
                           "meet at 4b", "call bob at 3pm EST"}) {
    const auto r = parse(text, ny());
    EXPECT_FALSE(r.due_at.has_value()) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_EQ(r.problems[0].rfind("unreadable date or time '", 0), 0u) << r.problems[0];
    EXPECT_LT(r.confidence, 0.7) << text;
  }
}

// A year-less "N/M" inside the message before "of" or a word that is no date, time or joining word is a
// fraction or a ratio, not a date ("buy 1/2 gallon milk" was due on January 2, "buy 3/4 inch screws" today).
// Alone, first, after a cue word or before a time it is still a date.
TEST(ChatParser, AFractionIsNoDate) {
  for (const char* text : {"buy 1/2 gallon milk", "buy 3/4 inch screws", "sell 2/3 of shares",
                           "pay 1/2 of rent", "listen to 24/7 podcast", "buy 50/50 raffle tickets"}) {
    expect_plain_title(text);
  }
  for (const auto& c : std::initializer_list<Dated>{
           {"dentist 3/5", "dentist", "2026-03-05T05:00:00Z"},
           {"3/5 dentist", "dentist", "2026-03-05T05:00:00Z"},
           {"dentist 3/5 at 9am", "dentist", "2026-03-05T14:00:00Z"},
           {"call dad 3/5 about taxes", "call dad about taxes", "2026-03-05T05:00:00Z"},
           {"meet on 3/5 downtown", "meet downtown", "2026-03-05T05:00:00Z"},
           {"call mom 3/7/2026 re taxes", "call mom re taxes", "2026-03-07T05:00:00Z"},
           {"buy 1/2 gallon milk 3/5", "buy 1/2 gallon milk", "2026-03-05T05:00:00Z"}}) {
    expect_dated(c);
  }
}

// A fraction before a unit of measure is an amount wherever it is, also first after a command ("add 1/2 cup
// sugar" was "cup sugar" due January 2, "add 3/4 tsp salt" due March 4); after "in" it is an amount the
// parser does not read ("call mom in 1/2 hour" was a title at 0.85), a problem as "in 1.5 hours" is.
TEST(ChatParser, AFractionBeforeAUnitIsAnAmount) {
  for (const auto& [text, title] :
       {std::pair{"add 1/2 cup sugar", "1/2 cup sugar"}, std::pair{"add 3/4 tsp salt", "3/4 tsp salt"},
        std::pair{"1/2 lb ground beef", "1/2 lb ground beef"},
        std::pair{"add 2 1/2 cups flour", "2 1/2 cups flour"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, title) << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.front();
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  expect_dated({"take 1/2 day off friday", "take 1/2 day off", "2026-03-06T05:00:00Z"});
  expect_dated({"conference 3/5 in Berlin", "conference in Berlin", "2026-03-05T05:00:00Z"});
  const auto soon = parse("call mom in 1/2 hour", ny());
  EXPECT_EQ(soon.title, "call mom");
  EXPECT_FALSE(soon.due_at.has_value());
  ASSERT_FALSE(soon.problems.empty());
  EXPECT_EQ(soon.problems[0], "unreadable amount 'in 1/2 hour'");
  EXPECT_LT(soon.confidence, 0.7);
}

// A range of days with a month is due on its first day ("vacation June 10-15" was due October 15, the dash
// read as month-day, with "June" left in the title).
TEST(ChatParser, ADayRangeInAMonthIsDueOnItsFirstDay) {
  for (const auto& c : std::initializer_list<Dated>{
           {"vacation June 10-15", "vacation", "2026-06-10T04:00:00Z"},
           {"vacation 10-15 June", "vacation", "2026-06-10T04:00:00Z"},
           {"conference March 20-22 in Berlin", "conference in Berlin", "2026-03-20T04:00:00Z"},
           {"vacation june 10-15 2027", "vacation", "2027-06-10T04:00:00Z"},
           {"call mum 12-24", "call mum", "2026-12-24T05:00:00Z"}}) {
    expect_dated(c);
  }
  expect_plain_title("buy 3-4 apples");
}

// A month with its year is that month, as "in April 2027" is ("renew passport April 2027" kept the words in
// its title, with no date). A month after a deadline word in a create, without its day ("by april", "due
// april", "daily until june"), may mean its start or its end: a problem, never a title at high confidence.
TEST(ChatParser, AMonthWithItsYearIsADateAndAfterADeadlineWordAProblem) {
  for (const auto& c : std::initializer_list<Dated>{
           {"renew passport April 2027", "renew passport", "2027-04-01T04:00:00Z"},
           {"plan May 2027 trip", "plan trip", "2027-05-01T04:00:00Z"},
           {"renew passport by april 15", "renew passport", "2026-04-15T04:00:00Z"}}) {
    expect_dated(c);
  }
  for (const auto& [text, quoted] :
       {std::pair{"renew passport by april", "'by april'"}, std::pair{"file taxes due april", "'due april'"},
        std::pair{"renew passport before June", "'before June'"},
        std::pair{"renew passport by April 2027", "'by April'"},
        std::pair{"water plants daily until june", "'until june'"}}) {
    expect_unreadable(text, quoted);
  }
  // a month that is no deadline stays in the title; a list reads the whole month
  expect_plain_title("plan trip for june");
  expect_plain_title("plan May trip");
  const auto list = parse("show tasks due before june", ny());
  ASSERT_TRUE(list.query.has_value());
  ASSERT_TRUE(list.query->due_before.has_value());
  EXPECT_EQ(format_rfc3339(*list.query->due_before), "2026-06-01T04:00:00Z");
  EXPECT_TRUE(list.problems.empty());
}

// Numbers in titles that are no date or time: an ordinal someone has ("dad's 50th"), a one-on-one ("1:1"), a
// phone number after "at"; and "sharp" after a time is part of the time, not of the title.
TEST(ChatParser, AnniversariesOneOnOnesAndPhoneNumbersStayInTheTitle) {
  for (const char* text : {"buy card for dad's 50th", "celebrate our 10th", "schedule 1:1 with boss",
                           "call Mark at 555-1234", "text Sam at 07700 900123"}) {
    expect_plain_title(text);
  }
  for (const auto& c : std::initializer_list<Dated>{
           {"celebrate mom's 60th on friday", "celebrate mom's 60th", "2026-03-06T05:00:00Z"},
           {"prep for 1:1 tomorrow", "prep for 1:1", "2026-03-05T05:00:00Z"},
           {"meet at 7 pm sharp", "meet", "2026-03-05T00:00:00Z"},
           {"meet at 7 sharp", "meet", "2026-03-05T00:00:00Z"}}) {
    expect_dated(c);
  }
  // still unreadable: an ordinal alone, military time, a ratio after "at"
  for (const char* text : {"pay rent 1st", "call at 1530", "meet at 1:1"}) {
    const auto r = parse(text, ny());
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_FALSE(r.problems.empty()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
}

// An hour alone after "by", "before", "after", "until" may be a time or an amount: a problem, never a title
// at high confidence ("pick up dry cleaning by 6" was a sure task with no date). An amount with its noun
// stays.
TEST(ChatParser, AnHourAloneAfterADeadlineWordIsAProblem) {
  for (const auto& [text, quoted] :
       {std::pair{"pick up dry cleaning by 6", "'by 6'"}, std::pair{"call back after 5", "'after 5'"},
        std::pair{"finish report before 5 tomorrow", "'before 5'"}, std::pair{"wait until 3", "'until 3'"},
        std::pair{"call back after 5 days", "'after 5 days'"}}) {
    expect_unreadable(text, quoted);
  }
  expect_plain_title("cut costs by 10 percent");
  expect_plain_title("split by 2 teams");
  expect_dated({"finish by 5pm", "finish", "2026-03-04T22:00:00Z"});
}

// The hunt's "now": Wednesday, December 9, 2026, 10:00 in New York.
ParseContext dec9() {
  return ny("2026-12-09T15:00:00Z");
}

// A message read as a new repeating task `title` with `rrule`, first due at `due` (or "none"), with
// confidence.
struct Series {
  const char* text;
  const char* title;
  const char* due;
  const char* rrule;
};
void expect_series(const Series& c, const ParseContext& ctx) {
  const auto r = parse(c.text, ctx);
  EXPECT_EQ(r.intent, Intent::create) << c.text;
  EXPECT_EQ(r.title, c.title) << c.text;
  EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", c.due) << c.text;
  EXPECT_EQ(r.recurrence.value_or("none"), c.rrule) << c.text;
  EXPECT_TRUE(r.problems.empty()) << c.text << ": " << r.problems.front();
  EXPECT_GE(r.confidence, 0.7) << c.text;
}

// Two times of day with a recurrence ("every day at 8am and 6pm") or a time that contradicts the part of the
// day ("every evening at 8am") are a conflict, as for a single date: a problem, low confidence and no due
// date (the last time was kept silently at 0.85; the part-of-day conflict kept a due date the dialog
// offered).
TEST(ChatParser, ATimeConflictInARecurrenceHasNoDueDate) {
  for (const auto& [text, why] :
       {std::pair{"feed cat every day at 8am and 6pm", "two different times"},
        std::pair{"gym at 7am every monday at 6pm", "two different times"},
        std::pair{"remind me to take medicine every day at 8am and 8pm", "two different times"},
        std::pair{"walk every evening at 8am", "a time that does not fit the part of the day"},
        std::pair{"run every morning at 7pm", "a time that does not fit the part of the day"}}) {
    const auto r = parse(text, dec9());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_TRUE(r.recurrence.has_value()) << text;
    EXPECT_FALSE(r.due_at.has_value()) << text << ": " << format_rfc3339(*r.due_at);
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_EQ(r.problems[0], why) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  // one time said twice, or a part of the day with its time, is no conflict
  for (const auto& c : std::initializer_list<Series>{
           {"feed cat every day at 6pm", "feed cat", "2026-12-09T23:00:00Z", "FREQ=DAILY"},
           {"walk every evening at 8", "walk", "2026-12-10T01:00:00Z", "FREQ=DAILY"},
           {"gym at 6pm every monday at 6pm", "gym", "2026-12-14T23:00:00Z", "FREQ=WEEKLY;BYDAY=MO"}}) {
    expect_series(c, dec9());
  }
}

// A message with no command word whose title would be only words about tasks and the words joining a list's
// range ("after", "since", "between … and", "from … to") is a list with that range ("tasks due after
// friday" added a task “tasks due after” due Friday).
TEST(ChatParser, RangeWordsAboutTasksAreAList) {
  expect_list_ranges(
      {
          {"tasks due after friday", "2026-12-12T05:00:00Z", ""},
          {"tasks after friday", "2026-12-12T05:00:00Z", ""},
          {"my tasks due since monday", "2026-12-07T05:00:00Z", "2026-12-09T15:00:00Z"},
          {"tasks due between monday and friday", "2026-12-14T05:00:00Z", "2026-12-19T05:00:00Z"},
          {"tasks due from monday to friday", "2026-12-14T05:00:00Z", "2026-12-19T05:00:00Z"},
          {"my tasks through friday", "", "2026-12-12T05:00:00Z"},
      },
      dec9());
  // a range word without a date, or with other words, stays a title
  expect_plain_title("tasks after");
  expect_dated({"tasks and chores tomorrow", "tasks and chores", "2026-12-10T05:00:00Z"}, dec9());
  expect_dated(
      {"clean up after friday's party tomorrow", "clean up after friday's party", "2026-12-10T05:00:00Z"},
      dec9());
}

// "sun", "sat" and "wed" right before a time (or "at" and a time, or a part of the day) are the day ("brunch
// sun 11am" was titled "brunch sun", due today at 11:00). After a word that opens a noun they are no day.
TEST(ChatParser, AShortWeekdayBeforeATimeIsTheDay) {
  for (const auto& c : std::initializer_list<Dated>{
           {"brunch sun 11am", "brunch", "2026-12-13T16:00:00Z"},
           {"Dinner w/ Sarah Sat 7:30pm", "Dinner w/ Sarah", "2026-12-13T00:30:00Z"},
           {"dinner sat at 8pm", "dinner", "2026-12-13T01:00:00Z"},
           {"brunch Sun at 11", "brunch", "2026-12-13T16:00:00Z"},
           {"standup wed morning", "standup", "2026-12-16T14:00:00Z"},
           {"meet wed 14:30", "meet", "2026-12-16T19:30:00Z"},
           {"lie in the sun at 3pm", "lie in the sun", "2026-12-09T20:00:00Z"},
           {"get some sun at noon", "get some sun", "2026-12-09T17:00:00Z"},
           {"Sun Microsystems call at 3pm", "Sun Microsystems call", "2026-12-09T20:00:00Z"}}) {
    expect_dated(c, dec9());
  }
  expect_plain_title("sat at 221b baker street");
}

// The end of a series: "until (the) end of <month>" and "through <month>" are that month's last day. An end
// after "until" that is not read ("until february": its start or its end?, "until feb 30", "until the cows
// come home") is refused with "I can't end the series …", never offered as an endless series (it was "gym
// until end of january" repeating forever at 0.85). "until further notice" has no end.
TEST(ChatParser, TheEndOfASeriesIsReadOrRefused) {
  for (const auto& c : std::initializer_list<Series>{
           {"gym every monday until end of january", "gym", "2026-12-14T05:00:00Z",
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270201T045959Z"},
           {"gym every monday until the end of january", "gym", "2026-12-14T05:00:00Z",
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270201T045959Z"},
           {"gym every monday through january", "gym", "2026-12-14T05:00:00Z",
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270201T045959Z"},
           {"gym every monday thru march 2027", "gym", "2026-12-14T05:00:00Z",
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270401T035959Z"},
           {"gym every day through the end of december", "gym", "2026-12-09T05:00:00Z",
            "FREQ=DAILY;UNTIL=20270101T045959Z"},
           {"gym every day until further notice", "gym", "2026-12-09T05:00:00Z", "FREQ=DAILY"},
           {"walk through the park every day", "walk through the park", "2026-12-09T05:00:00Z",
            "FREQ=DAILY"}}) {
    expect_series(c, dec9());
  }
  for (const auto& [text, quoted] :
       {std::pair{"gym every monday until february", "'until february'"},
        std::pair{"gym every day until feb 30", "'until feb 30'"},
        std::pair{"gym every day until yesterday", "'until yesterday'"},
        std::pair{"gym every day until the cows come home", "'until the cows come home'"},
        std::pair{"gym every day until", "'until'"},
        std::pair{"gym every day through the 35th", "'through the 35th'"}}) {
    const auto r = parse(text, dec9());
    EXPECT_LT(r.confidence, 0.7) << text;
    bool refused = false;
    for (const auto& p : r.problems)
      refused = refused || p.starts_with(std::string("I can't end the series ") + quoted);
    EXPECT_TRUE(refused) << text << ": " << (r.problems.empty() ? "no problem" : r.problems.back());
  }
  // without a recurrence, the end of a month is a due date
  expect_dated({"finish report by end of january", "finish report", "2027-01-31T05:00:00Z"}, dec9());
  expect_dated({"plan trip start of march 2027", "plan trip", "2027-03-01T05:00:00Z"}, dec9());
}

// "on the first of the month", "the 15th of every month", "on the 1st of each month" are monthly rules with a
// clean title ("pay rent on the first of the month" was "pay rent of the month" due once, on Jan 1). A
// deadline's "by the 15th of the month" and "the 15th of this month" are the next 15th.
TEST(ChatParser, TheNthOfTheMonthIsAMonthlyRule) {
  for (const auto& c : std::initializer_list<Series>{
           {"pay rent on the first of the month", "pay rent", "2027-01-01T05:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1"},
           {"pay rent the 15th of every month", "pay rent", "2026-12-15T05:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=15"},
           {"pay rent on the 1st of each month", "pay rent", "2027-01-01T05:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1"},
           {"pay rent on the first of every month", "pay rent", "2027-01-01T05:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1"},
           {"pay rent every first of the month", "pay rent", "2027-01-01T05:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1"},
           {"submit report by the 15th of the month", "submit report", "2026-12-15T05:00:00Z", "none"},
           {"pay rent on the 15th of this month", "pay rent", "2026-12-15T05:00:00Z", "none"}}) {
    expect_series(c, dec9());
  }
}

// Several days of the month ("every 1st and 15th") or weeks of a weekday ("every 1st and 3rd monday") are one
// rule, first due on the earliest of them from today ("every 1st and 15th" was BYMONTHDAY=1 starting on the
// 15th, "on the 1st and 15th of every month" a task "pay bills and of" with two different dates).
TEST(ChatParser, SeveralDaysOfTheMonthAreOneRule) {
  for (const auto& c : std::initializer_list<Series>{
           {"pay bills every 1st and 15th", "pay bills", "2026-03-15T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1,15"},
           {"pay bills on the 1st and 15th of every month", "pay bills", "2026-03-15T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1,15"},
           {"pay bills every month on the 1st and 15th", "pay bills", "2026-03-15T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1,15"},
           {"pay bills every first and fifteenth of the month", "pay bills", "2026-03-15T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1,15"},
           {"pay bills every 1st, 15th and last day", "pay bills", "2026-03-15T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1,15,-1"},
           {"pay bills every 15th and last day of the month", "pay bills", "2026-03-15T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=15,-1"},
           {"pay rent 1st of every month", "pay rent", "2026-04-01T04:00:00Z", "FREQ=MONTHLY;BYMONTHDAY=1"},
           // today (Wednesday March 4) is the earliest, all-day; at 9am it has passed
           {"pay bills every 4th and 20th", "pay bills", "2026-03-04T05:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=4,20"},
           {"pay bills every 4th and 20th at 9am", "pay bills", "2026-03-20T13:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=4,20"},
           {"book club every 1st and 3rd monday", "book club", "2026-03-16T04:00:00Z",
            "FREQ=MONTHLY;BYDAY=1MO,3MO"},
           {"book club on the 1st and 3rd monday of every month", "book club", "2026-03-16T04:00:00Z",
            "FREQ=MONTHLY;BYDAY=1MO,3MO"},
           {"team lunch every 2nd and last friday", "team lunch", "2026-03-13T04:00:00Z",
            "FREQ=MONTHLY;BYDAY=2FR,-1FR"},
           {"gym every monday and thursday", "gym", "2026-03-05T05:00:00Z", "FREQ=WEEKLY;BYDAY=MO,TH"}}) {
    expect_series(c, ny());
  }
  const auto bad = parse("pay bills every 1st and 35th", ny());
  EXPECT_FALSE(bad.recurrence.has_value());
  EXPECT_FALSE(bad.due_at.has_value());
  EXPECT_LT(bad.confidence, 0.7);
}

// "at the end of every month" is its last day (it was a monthly rule from today, titled "send invoice at the
// end of"); "at the end of the month" stays this month's last day, no rule.
TEST(ChatParser, TheEndOfEveryMonthIsItsLastDay) {
  for (const auto& c : std::initializer_list<Series>{
           {"send invoice at the end of every month", "send invoice", "2026-03-31T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=-1"},
           {"send invoice end of every month", "send invoice", "2026-03-31T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=-1"},
           {"send invoice by the end of each month", "send invoice", "2026-03-31T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=-1"},
           {"send invoice at the end of every month at 5pm", "send invoice", "2026-03-31T21:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=-1"},
           {"send invoice at the end of the month", "send invoice", "2026-03-31T04:00:00Z", "none"}}) {
    expect_series(c, ny());
  }
}

// Shorthands: "M-F" before a time, "later today", "next wk", fixed holidays after a cue word; a movable
// holiday is a problem, and an amount the parser does not read is quoted whole.
TEST(ChatParser, ShorthandsAndHolidays) {
  expect_series(
      {"Standup mtg M-F 9am", "Standup mtg", "2026-12-10T14:00:00Z", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
      dec9());
  expect_plain_title("buy M-F shirts");
  for (const auto& c : std::initializer_list<Dated>{
           {"call bob later today", "call bob", "2026-12-09T05:00:00Z"},
           {"finish deck later this week", "finish deck", "2026-12-13T05:00:00Z"},
           {"groceries next wk", "groceries", "2026-12-14T05:00:00Z"},
           {"call grandma on christmas", "call grandma", "2026-12-25T05:00:00Z"},
           {"call grandma on christmas eve at 6pm", "call grandma", "2026-12-24T23:00:00Z"},
           {"party on new year's eve", "party", "2026-12-31T05:00:00Z"},
           {"buy costume by halloween", "buy costume", "2027-10-31T04:00:00Z"}}) {
    expect_dated(c, dec9());
  }
  expect_plain_title("buy christmas tree");
  for (const auto& [text, problem] :
       {std::pair{"dinner on thanksgiving",
                  "a holiday whose date I can't tell 'thanksgiving' (say its date)"},
        std::pair{"call mom on mother's day",
                  "a holiday whose date I can't tell 'mother's day' (say its date)"},
        // (after a verb that moves a task, a move by an amount: AMoveByAnAmountIsAShift)
        std::pair{"change taxes by a week", "unreadable date or time 'by a week'"},
        std::pair{"update taxes by a couple of days", "unreadable date or time 'by a couple of days'"}}) {
    const auto r = parse(text, dec9());
    EXPECT_FALSE(r.due_at.has_value()) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_EQ(r.problems[0], problem) << text;
    for (std::size_t k = 1; k < r.problems.size(); ++k) {  // quoted once, not again in pieces
      EXPECT_NE(r.problems[k].rfind("unreadable", 0), 0u) << text << ": " << r.problems[k];
    }
    EXPECT_LT(r.confidence, 0.7) << text;
  }
}

// A time between a word and a plural noun says which ones and stays in the title ("buy 2 pm tickets" was "buy
// tickets" due at 14:00 today); first, or after "at", it is the task's time.
TEST(ChatParser, ATimeBeforeAPluralNounSaysWhichOnes) {
  expect_plain_title("buy 2 pm tickets");
  expect_plain_title("book 7pm seats for the show");
  expect_plain_title("buy tickets for 2 pm shows");
  for (const auto& c :
       std::initializer_list<Dated>{{"buy 2 pm tickets tomorrow", "buy 2 pm tickets", "2026-03-05T05:00:00Z"},
                                    {"buy tickets at 2 pm", "buy tickets", "2026-03-04T19:00:00Z"},
                                    {"6pm drinks with team", "drinks with team", "2026-03-04T23:00:00Z"},
                                    {"team meeting 3pm thursday", "team meeting", "2026-03-05T20:00:00Z"}}) {
    expect_dated(c);
  }
}

// "<subject> is at/on <date or time>": the "is" is no part of the title ("the meeting is at 10am tomorrow"
// was the task "the meeting is"). After a question word it stays ("figure out what the problem is tomorrow").
TEST(ChatParser, TheIsBeforeADateIsNoPartOfTheTitle) {
  for (const auto& c : std::initializer_list<Dated>{
           {"the meeting is at 10am tomorrow", "the meeting", "2026-03-05T15:00:00Z"},
           {"the dentist is on friday at 3", "the dentist", "2026-03-06T20:00:00Z"},
           {"my flight is tomorrow at 6am", "my flight", "2026-03-05T11:00:00Z"},
           {"parent teacher conference is next thursday 4pm", "parent teacher conference",
            "2026-03-12T20:00:00Z"},
           {"figure out what the problem is tomorrow", "figure out what the problem is",
            "2026-03-05T05:00:00Z"}}) {
    expect_dated(c);
  }
}

// A range of days inside a title, before a noun, says which days ("check Mon-Fri schedule" was a task
// "check schedule" repeating every weekday); before a time, at the end or first it is the rule.
TEST(ChatParser, AWeekdayRangeBeforeANounIsNoRule) {
  expect_plain_title("check Mon-Fri schedule");
  expect_plain_title("check M-F schedule");
  for (const auto& c : std::initializer_list<Series>{
           {"standup mon-fri at 9", "standup", "2026-12-10T14:00:00Z", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
           {"gym mon-fri 6am", "gym", "2026-12-10T11:00:00Z", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
           {"mon-fri standup", "standup", "2026-12-09T05:00:00Z", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"}}) {
    expect_series(c, dec9());
  }
}

// "until" and words that are no date before the recurrence belong to the title ("read until sleepy every
// night" was refused as an unreadable end of the series); after the recurrence they are its end, refused.
TEST(ChatParser, AnUntilClauseBeforeTheRuleIsTheTitles) {
  for (const auto& c : std::initializer_list<Series>{
           {"read until sleepy every night", "read until sleepy", "2026-12-10T02:00:00Z", "FREQ=DAILY"},
           {"play until dinner every day at 4pm", "play until dinner", "2026-12-09T21:00:00Z",
            "FREQ=DAILY"}}) {
    expect_series(c, dec9());
  }
  const auto r = parse("gym until february every week", dec9());
  EXPECT_LT(r.confidence, 0.7);
  bool refused = false;
  for (const auto& p : r.problems)
    refused = refused || p.starts_with("I can't end the series 'until february'");
  EXPECT_TRUE(refused);
}

// A date phrase in capitals led by "The" after a lower-case word is the name of a work ("watch The Day After
// Tomorrow" was "watch" due in two days); "call The Bank Tomorrow" and a message all in capitals keep the
// date.
TEST(ChatParser, ADatePhraseNamingAWorkStaysInTheTitle) {
  expect_plain_title("watch The Day After Tomorrow");
  for (const auto& c : std::initializer_list<Dated>{
           {"watch The Day After Tomorrow tonight at 9", "watch The Day After Tomorrow",
            "2026-03-05T02:00:00Z"},
           {"call The Bank Tomorrow", "call The Bank", "2026-03-05T05:00:00Z"},
           {"Call Mom The Day After Tomorrow", "Call Mom", "2026-03-06T05:00:00Z"},
           {"call mom the day after tomorrow", "call mom", "2026-03-06T05:00:00Z"}}) {
    expect_dated(c);
  }
  const auto find = parse("find The Day After Tomorrow", ny());
  EXPECT_EQ(find.intent, Intent::list);
  ASSERT_TRUE(find.query.has_value());
  EXPECT_EQ(find.query->q, std::optional<std::string>("The Day After Tomorrow"));
  EXPECT_FALSE(find.query->due_after.has_value());
}

// "weekly", "daily", "quarterly" … inside a new task's title before a noun say which report, not how often
// ("submit weekly report by friday" repeated weekly as "submit report", "pay quarterly taxes" every 3
// months).
TEST(ChatParser, ARecurrenceAdjectiveBeforeANounIsTheTitles) {
  for (const char* text : {"pay quarterly taxes", "write monthly newsletter", "prepare daily standup notes",
                           "read daily devotional"}) {
    expect_plain_title(text);
  }
  expect_dated({"submit weekly report by friday", "submit weekly report", "2026-03-06T05:00:00Z"});
  for (const auto& c : std::initializer_list<Series>{
           {"send weekly update every friday", "send weekly update", "2026-12-11T05:00:00Z",
            "FREQ=WEEKLY;BYDAY=FR"},
           {"take vitamins daily", "take vitamins", "2026-12-09T05:00:00Z", "FREQ=DAILY"},
           {"Biweekly sync on friday", "sync", "2026-12-11T05:00:00Z", "FREQ=WEEKLY;INTERVAL=2"}}) {
    expect_series(c, dec9());
  }
}

// A number after '#' ("fix bug #123", "review PR #42") is the thing's number, in the title: no tag "123".
TEST(ChatParser, AHashNumberIsNoTag) {
  expect_plain_title("fix bug #123");
  const auto r = parse("review PR #42 tomorrow", ny());
  EXPECT_EQ(r.title, "review PR #42");
  EXPECT_TRUE(r.tags.empty());
  const auto tagged = parse("buy milk #home #2do", ny());
  EXPECT_EQ(tagged.title, "buy milk");
  EXPECT_EQ(tagged.tags, (std::vector<std::string>{"home", "2do"}));
}

// "for <day> <noun>": the day says which meeting; "for" stays with the title ("prep slides for tuesday
// meeting" was "prep slides meeting").
TEST(ChatParser, ForADaysEventKeepsForInTheTitle) {
  for (const auto& c : std::initializer_list<Dated>{
           {"prep slides for tuesday meeting", "prep slides for meeting", "2026-03-10T04:00:00Z"},
           {"buy snacks for saturday game", "buy snacks for game", "2026-03-07T05:00:00Z"},
           {"Make dinner reservations for friday", "Make dinner reservations", "2026-03-06T05:00:00Z"}}) {
    expect_dated(c);
  }
}

// The end or start of (this, next) quarter is its last or first day ("finish Q1 review by end of quarter"
// kept the words in its title at 0.85, with no date).
TEST(ChatParser, TheEndOfAQuarterIsADate) {
  for (const auto& c : std::initializer_list<Dated>{
           {"finish Q1 review by end of quarter", "finish Q1 review", "2026-03-31T04:00:00Z"},
           {"pay quarterly taxes by the end of this quarter", "pay quarterly taxes", "2026-03-31T04:00:00Z"},
           {"plan offsite start of next quarter", "plan offsite", "2026-04-01T04:00:00Z"}}) {
    expect_dated(c);
  }
  expect_dated({"file report by end of next quarter", "file report", "2027-03-31T04:00:00Z"}, dec9());
}

// Two weekdays without a rule are two dates, and say so ("gym monday and wednesday" said "the weekday does
// not match the date"; "gym mon wed fri" was the task "gym wed"): a problem, no due date, the title clean.
TEST(ChatParser, TwoWeekdaysAreTwoDates) {
  for (const char* text : {"gym mon wed fri", "gym mon, wed, fri at 6am", "gym monday and wednesday"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, "gym") << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_EQ(r.problems[0], "two different dates") << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  expect_dated({"dentist friday march 6", "dentist", "2026-03-06T05:00:00Z"});
  const auto wrong = parse("dentist thursday march 6", ny());
  ASSERT_FALSE(wrong.problems.empty());
  EXPECT_EQ(wrong.problems[0], "the weekday does not match the date");
}

// How many times in a period: once is that period's rule; more often than once a day (no HOURLY, no BYHOUR)
// or a count without its days ("twice a week") is refused with a problem naming the words, which stay in the
// title ("take pills twice a day" was a confident task without a rule, "three times daily" DAILY;COUNT=3,
// "floss twice daily" a daily "floss twice", "every 12 hours" an unreadable 'every').
TEST(ChatParser, TimesAPeriodIsARuleOnlyOnceAPeriod) {
  for (const auto& [text, quoted] :
       {std::pair{"take pills twice a day", "'twice a day'"}, std::pair{"floss twice daily", "'twice daily'"},
        std::pair{"take meds three times daily", "'three times daily'"},
        std::pair{"take meds 2x daily", "'2x daily'"},
        std::pair{"gym three times a week", "'three times a week'"},
        std::pair{"gym 3x a week", "'3x a week'"}, std::pair{"water plants twice a month", "'twice a month'"},
        std::pair{"run 3 times per week", "'3 times per week'"},
        std::pair{"take meds every 12 hours", "'every 12 hours'"},
        std::pair{"stretch every hour", "'every hour'"},
        std::pair{"drink water every half hour", "'every half hour'"},
        std::pair{"backup hourly", "'hourly'"}}) {
    const auto r = parse(text, dec9());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, text) << text;
    EXPECT_FALSE(r.recurrence.has_value()) << text << ": " << r.recurrence.value_or("");
    EXPECT_FALSE(r.due_at.has_value()) << text;
    ASSERT_EQ(r.problems.size(), 1u) << text;
    EXPECT_TRUE(r.problems[0].starts_with("I can't repeat a task ")) << r.problems[0];
    EXPECT_NE(r.problems[0].find(quoted), std::string::npos) << r.problems[0];
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  for (const auto& c : std::initializer_list<Series>{
           {"call mom once a week", "call mom", "2026-12-09T05:00:00Z", "FREQ=WEEKLY"},
           {"pay rent once a month", "pay rent", "2026-12-09T05:00:00Z", "FREQ=MONTHLY"},
           {"call mom once a week on friday", "call mom", "2026-12-11T05:00:00Z", "FREQ=WEEKLY;BYDAY=FR"}}) {
    expect_series(c, dec9());
  }
  expect_plain_title("check hourly rate");
  expect_plain_title("call twice");
}

// "move", "push", "delay" … are updates only when a change follows or the words after them are a task of the
// user's, whole; otherwise they start a title ("move car for street cleaning" was an update of a task "car
// for street cleaning" with nothing to change).
TEST(ChatParser, AMovingVerbWithoutAChangeStartsATitle) {
  for (const char* text : {"move car for street cleaning", "move couch to the basement",
                           "push code to github", "delay flight notification", "move dentist"}) {
    expect_plain_title(text);
  }
  const std::vector<std::string> titles = {"dentist", "car"};
  ParseContext ctx = dec9();
  ctx.titles = &titles;
  const auto named = parse("move the dentist", ctx);  // a task of the user's: what to change?
  EXPECT_EQ(named.intent, Intent::update);
  EXPECT_EQ(named.target, "dentist");
  EXPECT_LT(named.confidence, 0.7);
  const auto car = parse("move car for street cleaning", ctx);  // "car" is not all the words
  EXPECT_EQ(car.intent, Intent::create);
  EXPECT_EQ(car.title, "move car for street cleaning");
  for (const char* text :
       {"move dentist to friday", "bump dentist to high priority", "move couch to friday"}) {
    const auto r = parse(text, dec9());
    EXPECT_EQ(r.intent, Intent::update) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  const auto bad = parse("move dentist to the 35th", dec9());  // an unreadable date is still a move
  EXPECT_EQ(bad.intent, Intent::update);
  EXPECT_LT(bad.confidence, 0.7);
}

// "the weekend" is a date whole ("wash car over the weekend" was "wash car over the"), so "watch The
// Weekend", in capitals after a lower-case word, is a work's name; a ratio no number of which can be a day or
// a month stays in the title ("split bill 50/50" was an unreadable date).
TEST(ChatParser, TheWeekendAndRatios) {
  expect_plain_title("watch The Weekend");
  expect_plain_title("split bill 50/50");
  expect_plain_title("60/40 split with bob");
  for (const auto& c : std::initializer_list<Dated>{
           {"wash car over the weekend", "wash car", "2026-12-12T05:00:00Z"},
           {"clean garage during the weekend", "clean garage", "2026-12-12T05:00:00Z"},
           {"watch the weekend", "watch", "2026-12-12T05:00:00Z"}}) {
    expect_dated(c, dec9());
  }
  for (const char* text : {"dentist 13/45", "dentist on 50/50"}) {  // a day or a month, or after a cue
    const auto r = parse(text, dec9());
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
}

// A number of something measured after "at" is no time ("change oil at 5000 miles" was an unreadable time
// 'at 5000'); "at 5 pm" and "at 5" stay times.
TEST(ChatParser, AMeasuredNumberAfterAtIsNoTime) {
  expect_plain_title("change oil at 5000 miles");
  expect_plain_title("bake bread at 450 degrees");
  expect_dated({"rotate tires at 5 pm", "rotate tires", "2026-03-04T22:00:00Z"});
}

// A move by an amount after a verb that moves a task is a shift of its due date ("postpone the report by 2
// days" was an update with the unreadable date 'by 2 days' and the target "report by 2 days").
TEST(ChatParser, AMoveByAnAmountIsAShift) {
  struct Case {
    const char* text;
    const char* shift;  // iso_duration
    const char* words;  // the shift span
  };
  for (const auto& c :
       std::initializer_list<Case>{{"postpone the report by 2 days", "P2D", "by 2 days"},
                                   {"push the report back a week", "P1W", "back a week"},
                                   {"push back the report by 2 days", "P2D", "by 2 days"},
                                   {"push the report out a month", "P1M", "out a month"},
                                   {"move the report back by 1 day", "P1D", "back by 1 day"},
                                   {"move the report 2 days later", "P2D", "2 days later"},
                                   {"delay the report a week later", "P1W", "a week later"},
                                   {"postpone the report 2 weeks", "P2W", "2 weeks"},
                                   {"reschedule the report by 3 hours", "PT3H", "by 3 hours"},
                                   {"defer the report by 30 minutes", "PT30M", "by 30 minutes"},
                                   {"bump the report by a couple of days", "P2D", "by a couple of days"},
                                   {"postpone the report by a week", "P1W", "by a week"},
                                   {"postpone the report by half an hour", "PT30M", "by half an hour"},
                                   {"postpone the report by a year", "P1Y", "by a year"},
                                   {"delay the report by 2h", "PT2H", "by 2h"},
                                   {"move the report earlier by 2 days", "-P2D", "earlier by 2 days"},
                                   {"move the report 2 days earlier", "-P2D", "2 days earlier"},
                                   {"move the report up by a day", "-P1D", "up by a day"},
                                   {"bring the report forward a day", "-P1D", "forward a day"},
                                   {"pull the report forward by 2 weeks", "-P2W", "forward by 2 weeks"}}) {
    const auto r = parse(c.text, ny());
    EXPECT_EQ(r.intent, Intent::update) << c.text;
    EXPECT_EQ(r.target, "report") << c.text;
    ASSERT_TRUE(r.shift) << c.text;
    EXPECT_EQ(iso_duration(*r.shift), c.shift) << c.text;
    EXPECT_EQ(to_json(r)["shift"], c.shift) << c.text;
    EXPECT_FALSE(r.due_at) << c.text;
    EXPECT_TRUE(r.problems.empty()) << c.text << ": " << r.problems.front();
    EXPECT_GE(r.confidence, 0.7) << c.text;
    int spans = 0;
    for (const auto& sp : r.spans) {
      if (sp.kind != SpanKind::shift) continue;
      ++spans;
      EXPECT_EQ(spanned(c.text, sp), c.words) << c.text;
    }
    EXPECT_EQ(spans, 1) << c.text;
  }
  // A task whose title holds date words is named whole.
  const std::vector<std::string> titles = {"weekly report"};
  ParseContext ctx = ny();
  ctx.titles = &titles;
  const auto weekly = parse("postpone weekly report by 2 days", ctx);
  EXPECT_EQ(weekly.target, "weekly report");
  ASSERT_TRUE(weekly.shift);
  EXPECT_EQ(*weekly.shift, (Shift{2, Shift::Unit::day}));
  EXPECT_GE(weekly.confidence, 0.7);
  // "bring"/"pull" without a move start a title.
  expect_plain_title("bring snacks forward");
  expect_plain_title("bring the forward plan to the meeting");
  expect_plain_title("pull weeds");
  // Not a shift: no moving verb, a date, a reminder, an amount inside the name.
  EXPECT_TRUE(to_json(parse("move the report to friday", ny()))["shift"].is_null());
  EXPECT_FALSE(parse("remind me 2 days before the report", ny()).shift);
  const auto workshop = parse("move 2 day workshop to friday", ny());
  EXPECT_FALSE(workshop.shift);
  EXPECT_EQ(workshop.target, "2 day workshop");
  const auto change = parse("change the report by 2 days", ny());  // not a verb that moves a task
  EXPECT_FALSE(change.shift);
  EXPECT_LT(change.confidence, 0.7);
}

// What cannot be read as one move is a problem: no shift, no due date, never a guess.
TEST(ChatParser, AMoveThatCannotBeReadIsAProblem) {
  for (const auto& [text, problem] : std::initializer_list<std::pair<const char*, const char*>>{
           {"postpone the report to friday by 2 days", "both a new date and a move by an amount"},
           {"postpone the report by 2 days to 3pm", "both a new date and a move by an amount"},
           {"move the report forward a week", "which way is 'forward a week'?"},
           {"postpone the report by 1.5 days", "unreadable move 'by 1.5 days'"},
           {"postpone the report by 0 days", "unreadable move 'by 0 days'"},
           {"postpone the report by 2 days by 3 hours", "two moves by an amount"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::update) << text;
    EXPECT_FALSE(r.shift) << text;
    EXPECT_FALSE(r.due_at) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_EQ(r.problems.front().rfind(problem, 0), 0u) << text << ": " << r.problems.front();
    EXPECT_EQ(r.problems.size(), 1u) << text << ": " << r.problems.back();
  }
}

// "after 5pm" is the time from which the task can be done: due then, as "at 5pm" ("after" was left at the
// title's end); "after friday" is the day after it (a list reads "after friday" from the end of Friday), and
// a time with such a date is a problem. A range of times, "from 3 to 5pm", "between 3 and 5pm", "9am until
// 11am", is due at its start as "3-5pm" is (it was "from 3" in the title, or two different times).
TEST(ChatParser, AfterATimeAndRangesOfTimes) {
  for (const auto& c : std::initializer_list<Dated>{
           {"pick up dry cleaning after 5pm", "pick up dry cleaning", "2026-03-04T22:00:00Z"},
           {"gym after 6pm tomorrow", "gym", "2026-03-05T23:00:00Z"},
           {"pick up dry cleaning before 5pm", "pick up dry cleaning", "2026-03-04T22:00:00Z"},
           {"pick up dry cleaning by 5pm", "pick up dry cleaning", "2026-03-04T22:00:00Z"},
           {"pick up dry cleaning until 5pm", "pick up dry cleaning", "2026-03-04T22:00:00Z"},
           {"pay bill after friday", "pay bill", "2026-03-07T05:00:00Z"},
           {"call mom the day after christmas", "call mom", "2026-12-26T05:00:00Z"},
           {"work on report from 3 to 5pm", "work on report", "2026-03-04T20:00:00Z"},
           {"work on report from 3pm to 5pm", "work on report", "2026-03-04T20:00:00Z"},
           {"meeting from 9am until 11am friday", "meeting", "2026-03-06T14:00:00Z"},
           {"study between 3 and 5pm", "study", "2026-03-04T20:00:00Z"},
           {"dentist from 3:30 to 4:30pm", "dentist", "2026-03-04T20:30:00Z"},
           {"call bob 11 to 1pm", "call bob", "2026-03-04T16:00:00Z"}}) {
    expect_dated(c);
  }
  expect_plain_title("call mom after work");
  expect_plain_title("invite 3 to 5 people");
  const auto r = parse("pay bill after friday at 3pm", ny());
  EXPECT_FALSE(r.due_at.has_value());
  EXPECT_LT(r.confidence, 0.7);
  EXPECT_EQ(r.title, "pay bill");
}

// "am" or "pm" alone after a day is its morning or its afternoon, as "tomorrow morning" is (09:00, 15:00);
// it was left in the title ("call bob am", all day).
TEST(ChatParser, AmOrPmAfterADayIsItsMorningOrAfternoon) {
  for (const auto& c :
       std::initializer_list<Dated>{{"call bob tmrw am", "call bob", "2026-03-05T14:00:00Z"},
                                    {"call bob monday am", "call bob", "2026-03-09T13:00:00Z"},
                                    {"call bob tomorrow pm", "call bob", "2026-03-05T20:00:00Z"},
                                    {"call bob tmrw morning", "call bob", "2026-03-05T14:00:00Z"},
                                    {"call bob this pm", "call bob", "2026-03-04T20:00:00Z"},
                                    {"call bob tomorrow am at 8", "call bob", "2026-03-05T13:00:00Z"},
                                    {"call bob friday p.m.", "call bob", "2026-03-06T20:00:00Z"}}) {
    expect_dated(c);
  }
  expect_series({"gym every monday am", "gym", "2026-03-09T13:00:00Z", "FREQ=WEEKLY;BYDAY=MO"}, ny());
}

// Words in brackets are read as anywhere else, but the brackets stay balanced: one whose words were all read
// goes, one with words left keeps them ("call grandma (bday is 1/12)" was "call grandma (bday").
TEST(ChatParser, BracketsStayBalanced) {
  for (const auto& c : std::initializer_list<Dated>{
           {"call grandma (bday is 1/12)", "call grandma (bday)", "2027-01-12T05:00:00Z"},
           {"call grandma (bday is 1/12) at 5pm", "call grandma (bday)", "2027-01-12T22:00:00Z"},
           {"call bob (tomorrow)", "call bob", "2026-03-05T05:00:00Z"},
           {"call bob (re: taxes) tomorrow", "call bob (re: taxes)", "2026-03-05T05:00:00Z"},
           {"call grandma [bday is 1/12]", "call grandma [bday]", "2027-01-12T05:00:00Z"},
           {"call grandma [tomorrow]", "call grandma", "2026-03-05T05:00:00Z"}}) {
    expect_dated(c);
  }
  expect_plain_title("buy milk (2%)");
  expect_plain_title("call bob (again");
}

// "2 days before due date" counts from a date the message does not give (the bill's): the words stay in the
// title, and no reminder is read from them ("pay credit card due date" with a reminder two days before a
// due date the task does not have). With the task's own due date they are a reminder before it.
TEST(ChatParser, BeforeAnUnknownDueDateStaysInTheTitle) {
  for (const char* text : {"pay credit card 2 days before due date", "pay credit card 2 days before it's due",
                           "submit report 1 day before deadline", "pay bill the day before the due date",
                           "renew insurance a week before its due date"}) {
    expect_plain_title(text);
    EXPECT_TRUE(parse(text, ny()).reminders.empty()) << text;
  }
  const auto r = parse("pay rent friday, remind me 2 days before the due date", ny());
  EXPECT_EQ(r.title, "pay rent");
  EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", "2026-03-06T05:00:00Z");
  ASSERT_EQ(r.reminders.size(), 1u);
  EXPECT_EQ(r.reminders[0].before_due, std::chrono::seconds(2 * 86400));
  EXPECT_GE(r.confidence, 0.7);
}

// So is an amount before words that name no date, without "remind me" and a due date: the event's date is
// not given ("call mom 30 minutes before the meeting" was "call mom the meeting" with a reminder before no
// due date). With a due date, or after "remind me", it is a reminder.
TEST(ChatParser, BeforeAnUndatedEventStaysInTheTitle) {
  for (const char* text :
       {"call mom 30 minutes before the meeting", "check in for flight 24 hours before departure"}) {
    expect_plain_title(text);
    EXPECT_TRUE(parse(text, ny()).reminders.empty()) << text;
  }
  const auto dated = parse("leave 30 minutes before dinner at 6pm", ny());
  ASSERT_EQ(dated.reminders.size(), 1u);
  EXPECT_EQ(dated.reminders[0].before_due, std::chrono::seconds(1800));
  const auto remind = parse("remind me 30 minutes before the meeting", ny());
  EXPECT_EQ(remind.intent, Intent::add_reminder);
  EXPECT_EQ(remind.target, "meeting");
}

// "<amount> before <event>" counts from the event, not from the task's due date nor from now: the words stay
// in the title whole ("check in 24 hours before flight" was "check before flight" due in 24 hours, "leave 30
// minutes before the movie tomorrow" "leave the movie" with a reminder). "in 2 weeks time" ends with "time";
// the "in" of "check in" is the verb's.
TEST(ChatParser, AnAmountBeforeAnEventStaysInTheTitleWhole) {
  for (const char* text : {"check in 24 hours before flight", "sign in 10 minutes before class",
                           "renew passport in 6 months before trip"}) {
    expect_plain_title(text);
    EXPECT_TRUE(parse(text, ny()).reminders.empty()) << text;
  }
  for (const Dated& c :
       {Dated{"take pill 1 hour before bed tonight", "take pill 1 hour before bed", "2026-03-05T01:00:00Z"},
        Dated{"leave 30 minutes before the movie tomorrow", "leave 30 minutes before the movie",
              "2026-03-05T05:00:00Z"},
        Dated{"book a table in 2 weeks time", "book a table", "2026-03-18T04:00:00Z"},
        Dated{"book a table in 2 weeks' time", "book a table", "2026-03-18T04:00:00Z"},
        Dated{"call bob in 2 hours time", "call bob", "2026-03-04T17:00:00Z"},
        Dated{"check in 2 days", "check in", "2026-03-06T05:00:00Z"},
        Dated{"log in to portal in 5 minutes", "log in to portal", "2026-03-04T15:05:00Z"}}) {
    expect_dated(c);
    EXPECT_TRUE(parse(c.text, ny()).reminders.empty()) << c.text;
  }
  // The event's time given, or its date, the amount is a reminder or counts back from it as before.
  const auto dentist = parse("dentist tomorrow 3pm 30 minutes before", ny());
  ASSERT_EQ(dentist.reminders.size(), 1u);
  EXPECT_EQ(dentist.reminders[0].before_due, std::chrono::seconds(1800));
  expect_dated({"buy gifts 2 days before christmas", "buy gifts", "2026-12-23T05:00:00Z"});
}

// Single quotes around a title's words stay balanced, as double quotes and brackets do ("read 'War and
// Peace'" lost its closing quote); a lone one at the end ("the kids'") and a pair around words that were read
// go.
TEST(ChatParser, SingleQuotesStayBalanced) {
  expect_plain_title("read 'War and Peace'");
  expect_plain_title("pick up the kids' toys");
  expect_plain_title("rock 'n' roll night");
  for (const Dated& c :
       {Dated{"watch 'Dune' tomorrow", "watch 'Dune'", "2026-03-05T05:00:00Z"},
        Dated{"'Dune' tomorrow", "'Dune'", "2026-03-05T05:00:00Z"},
        Dated{"call bob 'tomorrow'", "call bob", "2026-03-05T05:00:00Z"},
        Dated{"read 'War and Peace' by friday", "read 'War and Peace'", "2026-03-06T05:00:00Z"}})
    expect_dated(c);
  EXPECT_EQ(parse("pick up the kids'", ny()).title, "pick up the kids");
}

// A title of punctuation alone is no title, as "!!" alone has none ("..." was a task ".", "!!!???..." an
// urgent
// "." at 0.85); an emoji is one.
TEST(ChatParser, PunctuationAloneIsNoTitle) {
  for (const char* text : {"...", "?!", "'' tomorrow", "!!!???...", "!!", "- ..."}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, "") << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_EQ(r.problems[0], "no title") << text;
  }
  expect_plain_title("\U0001F382");
  const auto rename = parse("rename gym to ...", ny());
  EXPECT_EQ(rename.title, "");
  EXPECT_LT(rename.confidence, 0.7);
}

// A question or a search about punctuation alone names nothing to look for ("when is !!!?" listed the urgent
// tasks, "is ??? done?" the done ones, "when is ...?" searched for "."): a problem and no query, so that the
// dialog asks. "tasks matching report" (no command word) is a search, not a new task.
TEST(ChatParser, ASearchForPunctuationAloneNamesNothing) {
  for (const char* text :
       {"when is !!!?", "is ??? done?", "when is ...?", "find ...", "show tasks matching !!!"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::list) << text;
    EXPECT_FALSE(r.query.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_TRUE(r.problems[0].starts_with("nothing to look for")) << text << ": " << r.problems[0];
  }
  for (const auto& [text, q] : {std::pair{"when is \U0001F382?", "\U0001F382"},
                                {"is \U0001F382 done?", "\U0001F382"},
                                {"tasks matching report", "report"},
                                {"tasks that match report", "report"},
                                {"when is the dentist?", "dentist"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::list) << text;
    ASSERT_TRUE(r.query.has_value()) << text;
    EXPECT_EQ(r.query->q.value_or(""), q) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  const auto all = parse("what's due today?", ny());
  ASSERT_TRUE(all.query.has_value());
  EXPECT_GE(all.confidence, 0.7);
}

// A list pasted from notes, several lines each with a list marker, is several tasks, which one message cannot
// add: refused ("I can't …", so that the dialog says so), never one task "buy milk - buy eggs - call mom" due
// tomorrow at 0.85. One marked line, or lines without markers, read as before.
TEST(ChatParser, APastedListOfSeveralLinesIsNoOneTask) {
  for (const char* text : {"- buy milk\n- buy eggs\n- call mom tomorrow", "1. buy milk\r\n2. buy eggs",
                           "- [ ] buy milk\n- [ ] eggs", "* buy milk\u2028* eggs"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, "") << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_TRUE(r.problems[0].starts_with("I can't add several tasks from one message")) << r.problems[0];
  }
  EXPECT_NE(parse("- buy milk\n- buy eggs", ny()).problems[0].find("'buy milk'"), std::string::npos);
  expect_dated({"- call mom tomorrow", "call mom", "2026-03-05T05:00:00Z"});
  expect_plain_title("buy milk - buy eggs");
}

// "snooze dentist by 10 minutes", "skip gym today", "stop call mom" were confident new tasks ("snooze the
// dentist reminder" even lost "reminder"). Snoozing is refused; skipping too, for a task of the user's;
// "stop" before a task of the user's is offered as stop repeating; otherwise they are asked about. "stop by
// the bank" is a task.
TEST(ChatParser, SnoozeSkipAndStopAreNoConfidentTasks) {
  const std::vector<std::string> titles = {"gym", "call mom", "dentist"};
  auto ctx = ny();
  ctx.titles = &titles;
  for (const char* text : {"snooze dentist by 10 minutes", "snooze the dentist reminder", "skip gym today"}) {
    for (const auto& c : {ny(), ctx}) {
      const auto r = parse(text, c);
      if (std::string_view(text).starts_with("skip") && c.titles == nullptr) continue;
      EXPECT_EQ(r.title, "") << text;
      EXPECT_FALSE(r.due_at.has_value()) << text;
      EXPECT_LT(r.confidence, 0.7) << text;
      ASSERT_FALSE(r.problems.empty()) << text;
      EXPECT_TRUE(r.problems.back().starts_with("I can't s")) << text << ": " << r.problems.back();
    }
  }
  const auto stop = parse("stop call mom", ctx);
  EXPECT_EQ(stop.intent, Intent::stop_recurring);
  EXPECT_EQ(stop.target, "call mom");
  EXPECT_LT(stop.confidence, 0.7);
  for (const char* text : {"stop call mom", "skip gym today", "stop smoking"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  expect_dated({"stop by the bank tomorrow", "stop by the bank", "2026-03-05T05:00:00Z"});
  EXPECT_EQ(parse("stop", ny()).intent, Intent::deny);
}

// "mid-month" is the 15th (this month's, or the next's once passed), "mid march" March 15; they stayed in the
// title with no date. A recurrence with another measure joined by "or" (whichever comes first), which no task
// can repeat by, stays in the title whole, asked about ("oil change every 3 months or 3000 miles" was "oil
// change or 3000 miles", every 3 months).
TEST(ChatParser, MidMonthAndARecurrenceOrAMeasure) {
  for (const Dated& c : {Dated{"pay gas bill mid-month", "pay gas bill", "2026-03-15T04:00:00Z"},
                         Dated{"pay gas bill by mid month", "pay gas bill", "2026-03-15T04:00:00Z"},
                         Dated{"pay rent mid march", "pay rent", "2026-03-15T04:00:00Z"},
                         Dated{"trip mid-february", "trip", "2027-02-15T05:00:00Z"},
                         Dated{"trip mid feb 2027", "trip", "2027-02-15T05:00:00Z"}})
    expect_dated(c);
  expect_dated({"pay gas bill mid-month", "pay gas bill", "2026-04-15T04:00:00Z"},
               ny("2026-03-20T15:00:00Z"));
  expect_plain_title("mid year review");
  for (const char* text :
       {"oil change every 3 months or 3000 miles", "rotate tires every 6 months or 5,000 km"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, text);
    EXPECT_FALSE(r.recurrence.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_EQ(r.problems.size(), 1u) << text;
    EXPECT_TRUE(r.problems[0].starts_with("a repeat by time or by another measure 'every ")) << r.problems[0];
  }
  EXPECT_EQ(parse("oil change every 3 months", ny()).recurrence.value_or(""), "FREQ=MONTHLY;INTERVAL=3");
}

// "a couple days" is two, as "a couple of days" is; "in a few days" says no number: a problem, never a guess
// (both stayed in the title, with no due date, at high confidence).
TEST(ChatParser, ACoupleIsTwoAndAFewIsNotGuessed) {
  expect_dated({"follow up in a couple days", "follow up", "2026-03-06T05:00:00Z"});
  expect_dated({"follow up in a couple of days", "follow up", "2026-03-06T05:00:00Z"});
  EXPECT_EQ(parse("postpone the report a couple days", ny()).shift, (Shift{2, Shift::Unit::day}));
  expect_unreadable("follow up with client in a few days", "'in a few days'");
  expect_unreadable("call back in a few hours", "'in a few hours'");
  expect_plain_title("buy a couple things");
  expect_plain_title("a few things to buy");
}

// "no later than" is a deadline, as "by" is ("pay bills no later than the 15th" was titled "pay bills no
// later than").
TEST(ChatParser, NoLaterThanIsBy) {
  expect_dated({"pay bills no later than the 15th", "pay bills", "2026-03-15T04:00:00Z"});
  expect_dated({"submit form no later than friday 5pm", "submit form", "2026-03-06T22:00:00Z"});
  expect_dated({"submit form not later than 5pm", "submit form", "2026-03-04T22:00:00Z"});
  expect_list_ranges({{"what's due no later than friday", "", "2026-03-07T05:00:00Z"}}, ny());
}

// "starting april" starts a series on April 1 (it stayed in the title, and the series started today).
TEST(ChatParser, StartingAMonthIsItsFirstDay) {
  for (const auto& c : std::initializer_list<Series>{
           {"pay bills every 1st and 15th starting april", "pay bills", "2026-04-01T04:00:00Z",
            "FREQ=MONTHLY;BYMONTHDAY=1,15"},
           {"gym every monday starting april", "gym", "2026-04-06T04:00:00Z", "FREQ=WEEKLY;BYDAY=MO"},
           {"water lawn every day beginning june", "water lawn", "2026-06-01T04:00:00Z", "FREQ=DAILY"},
           {"gym every monday starting march", "gym", "2026-03-09T04:00:00Z", "FREQ=WEEKLY;BYDAY=MO"}}) {
    expect_series(c, ny());
  }
  expect_plain_title("get keys from May");
}

// A year-less "N/M" whose numbers add up to 100 is a split in percent, never a date (a month and a day add
// up to 43 at most): "split rent 70/30" was an unreadable date. After a cue word it stays unreadable.
TEST(ChatParser, APercentSplitIsNoDate) {
  for (const char* text : {"split rent 70/30", "split 80/20 with bob", "90/10 split", "split costs 30/70"})
    expect_plain_title(text);
  for (const char* text : {"dentist on 70/30", "dentist 13/45"}) {
    const auto r = parse(text, ny());
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  expect_dated({"call mom 1/12", "call mom", "2027-01-12T05:00:00Z"});
}

// "push the report back to friday": the direction before the new date is no part of the task's name (the
// target was "report back").
TEST(ChatParser, ADirectionBeforeANewDateIsNoPartOfTheTarget) {
  for (const auto& [text, target, due] :
       std::initializer_list<std::tuple<const char*, const char*, const char*>>{
           {"push the report back to friday", "report", "2026-03-06T05:00:00Z"},
           {"move the report forward to monday", "report", "2026-03-09T04:00:00Z"},
           {"move the report up to monday", "report", "2026-03-09T04:00:00Z"},
           {"push the report out to friday", "report", "2026-03-06T05:00:00Z"},
           {"push the meeting back to 3pm", "meeting", "2026-03-04T20:00:00Z"},
           {"bring the report forward to monday", "report", "2026-03-09T04:00:00Z"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::update) << text;
    EXPECT_EQ(r.target, target) << text;
    EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", due) << text;
    EXPECT_FALSE(r.shift.has_value()) << text;
    EXPECT_GE(r.confidence, 0.7) << text;
  }
}

// "eow" is the end of the week as "eom" is the end of the month; "the last day of the month" is a date ("pay
// rent last day of next month" was due on its first day, "last day of" in the title); an ordinal before
// "week" is no day of a month ("book flights for the 3rd week of april" was due on April 3).
TEST(ChatParser, EndsOfWeeksAndMonths) {
  for (const auto& c : std::initializer_list<Dated>{
           {"submit report eow", "submit report", "2026-03-08T05:00:00Z"},
           {"submit report by eow", "submit report", "2026-03-08T05:00:00Z"},
           {"pay rent on the last day of the month", "pay rent", "2026-03-31T04:00:00Z"},
           {"pay rent last day of this month", "pay rent", "2026-03-31T04:00:00Z"},
           {"pay rent last day of next month", "pay rent", "2026-04-30T04:00:00Z"},
           {"pay rent on the last day of april", "pay rent", "2026-04-30T04:00:00Z"},
           {"pay rent the first day of next month", "pay rent", "2026-04-01T04:00:00Z"}}) {
    expect_dated(c);
  }
  expect_plain_title("book flights for the 3rd week of april");
  expect_plain_title("plan the 2nd week of the trip");
}

// "first thing" is the morning (09:00) of the day said, or the next one alone ("call plumber first thing
// tomorrow" was an all-day task "call plumber first thing"); "the first thing on my list" is a title.
TEST(ChatParser, FirstThingIsTheMorning) {
  for (const auto& c : std::initializer_list<Dated>{
           {"call plumber first thing tomorrow", "call plumber", "2026-03-05T14:00:00Z"},
           {"first thing tomorrow call plumber", "call plumber", "2026-03-05T14:00:00Z"},
           {"call plumber tomorrow first thing", "call plumber", "2026-03-05T14:00:00Z"},
           {"email boss first thing on friday", "email boss", "2026-03-06T14:00:00Z"},
           {"call plumber first thing monday", "call plumber", "2026-03-09T13:00:00Z"},
           {"call plumber first thing in the morning", "call plumber", "2026-03-05T14:00:00Z"},
           {"call plumber first thing tomorrow at 8am", "call plumber", "2026-03-05T13:00:00Z"},
           // alone: the next 09:00, tomorrow's at 10:00 and today's at 06:00
           {"call plumber first thing", "call plumber", "2026-03-05T14:00:00Z"}}) {
    expect_dated(c);
  }
  expect_dated({"call plumber first thing", "call plumber", "2026-03-04T14:00:00Z"},
               ny("2026-03-04T11:00:00Z"));
  expect_plain_title("do the first thing on my list");
  expect_plain_title("first thing to do is call mom");
}

// Without "remind me", an amount of days or weeks before or after a date named right after it counts from
// that date ("call mom the day before christmas" was due Dec 25 with a reminder a day before; "call mom 2
// days after christmas" was "call mom 2 days" due Dec 26). "remind me the day before christmas to call mom"
// and a "the day before" with no date after it stay reminders.
TEST(ChatParser, TheDayBeforeADateIsThatDate) {
  for (const auto& c : std::initializer_list<Dated>{
           {"call mom the day before christmas", "call mom", "2026-12-24T05:00:00Z"},
           {"call mom the day before christmas at 5pm", "call mom", "2026-12-24T22:00:00Z"},
           {"buy gifts 2 days before christmas", "buy gifts", "2026-12-23T05:00:00Z"},
           {"buy gifts a week before christmas", "buy gifts", "2026-12-18T05:00:00Z"},
           {"submit form the day before friday", "submit form", "2026-03-05T05:00:00Z"},
           {"call mom 2 days after christmas", "call mom", "2026-12-27T05:00:00Z"},
           {"call mom the day after christmas at 3pm", "call mom", "2026-12-26T20:00:00Z"},
           {"pay bill a week after the 15th", "pay bill", "2026-03-22T04:00:00Z"}}) {
    const auto r = parse(c.text, ny());
    EXPECT_TRUE(r.reminders.empty()) << c.text;
    expect_dated(c);
  }
  const auto moved = parse("move dentist to the day before christmas", ny());
  EXPECT_EQ(moved.intent, Intent::update);
  EXPECT_EQ(moved.target, "dentist");
  EXPECT_EQ(moved.due_at ? format_rfc3339(*moved.due_at) : "none", "2026-12-24T05:00:00Z");
  for (const char* text :
       {"remind me the day before christmas to call mom", "remind me to call mom the day before christmas"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, "call mom") << text;
    EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", "2026-12-25T05:00:00Z") << text;
    ASSERT_EQ(r.reminders.size(), 1u) << text;
    EXPECT_EQ(r.reminders[0].before_due, std::chrono::seconds(86400)) << text;
  }
  const auto later = parse("dentist friday, remind me the day before", ny());
  ASSERT_EQ(later.reminders.size(), 1u);
  EXPECT_EQ(later.reminders[0].before_due, std::chrono::seconds(86400));
  const auto bad = parse("pay bill the day before feb 30", ny());
  EXPECT_FALSE(bad.due_at.has_value());
  EXPECT_TRUE(bad.reminders.empty());
  EXPECT_LT(bad.confidence, 0.7);
}

// A line pasted from a list in notes: its marker is no part of the title ("- [ ] buy milk" was "[ ] buy
// milk",
// "* buy milk" and "1. buy milk" kept theirs), and it is a task to add whatever its first word; a ticked box
// is added open, which the reading says (low confidence: the dialog asks).
TEST(ChatParser, AListItemsMarkerIsNoPartOfItsTitle) {
  for (const char* text : {"- [ ] buy milk", "* [ ] buy milk", "[ ] buy milk", "- buy milk", "* buy milk",
                           "+ buy milk", "\u2022 buy milk", "1. buy milk", "2) buy milk", "10. buy milk"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, "buy milk") << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.front();
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  expect_dated({"- [ ] call mom tomorrow at 5pm", "call mom", "2026-03-05T22:00:00Z"});
  expect_dated({"- [ ] delete old emails friday", "delete old emails", "2026-03-06T05:00:00Z"});
  const auto remind = parse("- [ ] remind me to call mom at 5pm", ny());
  EXPECT_EQ(remind.title, "call mom");
  EXPECT_EQ(remind.reminders.size(), 1u);
  for (const char* text : {"- [x] buy milk", "* [X] buy milk", "[x] buy milk"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, "buy milk") << text;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_NE(r.problems[0].find("ticked box"), std::string::npos) << r.problems[0];
    EXPECT_LT(r.confidence, 0.7) << text;
  }
  expect_plain_title("1.5 cups flour");
  expect_plain_title("3 eggs");
}

TEST(ChatParser, ShiftsAsIsoDurations) {
  for (const auto& [shift, iso] :
       std::initializer_list<std::pair<Shift, const char*>>{{{2, Shift::Unit::day}, "P2D"},
                                                            {{1, Shift::Unit::week}, "P1W"},
                                                            {{1, Shift::Unit::month}, "P1M"},
                                                            {{3, Shift::Unit::year}, "P3Y"},
                                                            {{3, Shift::Unit::hour}, "PT3H"},
                                                            {{30, Shift::Unit::minute}, "PT30M"},
                                                            {{-2, Shift::Unit::day}, "-P2D"},
                                                            {{-45, Shift::Unit::minute}, "-PT45M"},
                                                            {{9999, Shift::Unit::week}, "P9999W"}}) {
    EXPECT_EQ(iso_duration(shift), iso);
    EXPECT_EQ(parse_shift(iso), shift) << iso;
  }
  for (const char* bad : {"", "P", "-", "P0D", "P10000D", "P1DT2H", "PT2D", "P2H", "2D", "P-2D", "P+2D",
                          "--P2D", "P2.5D", "P2d", "PT", "P2DX", " P2D"})
    EXPECT_FALSE(parse_shift(bad)) << bad;
}

// With a recurrence, "from <month>" is where the series starts, as "starting <month>" is: its first day, this
// year's or, once passed, next year's ("run every day from may" was a daily task "run from may" from today).
// Without a recurrence, "get keys from May" stays a title.
TEST(ChatParser, FromAMonthStartsASeries) {
  for (const auto& c : std::initializer_list<Series>{
           {"run every day from may", "run", "2026-05-01T04:00:00Z", "FREQ=DAILY"},
           {"from may run every day", "run", "2026-05-01T04:00:00Z", "FREQ=DAILY"},
           {"gym every monday from june", "gym", "2026-06-01T04:00:00Z", "FREQ=WEEKLY;BYDAY=MO"},
           {"pay rent monthly from february", "pay rent", "2027-02-01T05:00:00Z", "FREQ=MONTHLY"},
           {"gym every monday starting next week", "gym", "2026-03-09T04:00:00Z", "FREQ=WEEKLY;BYDAY=MO"},
           {"water plants every day from tomorrow", "water plants", "2026-03-05T05:00:00Z", "FREQ=DAILY"}}) {
    expect_series(c, ny());
  }
  // said in May: from today on (this May is under way)
  expect_series({"run every day from may", "run", "2026-05-20T04:00:00Z", "FREQ=DAILY"},
                ny("2026-05-20T15:00:00Z"));
  expect_plain_title("get keys from May");
}

// "the week after next" is the Monday-to-Sunday week two weeks from this one: as a date its Monday, with a
// weekday that day of it; a weekday with "next week" is that day of next week ("dentist the week after next"
// was a title, "tuesday next week" two dates that did not match).
TEST(ChatParser, TheWeekAfterNextAndAWeekdayOfANamedWeek) {
  for (const auto& c : std::initializer_list<Dated>{
           {"dentist the week after next", "dentist", "2026-03-16T04:00:00Z"},
           {"dentist week after next", "dentist", "2026-03-16T04:00:00Z"},
           {"dentist in the week after next", "dentist", "2026-03-16T04:00:00Z"},
           {"dentist tuesday the week after next", "dentist", "2026-03-17T04:00:00Z"},
           {"dentist on tuesday of the week after next at 3pm", "dentist", "2026-03-17T19:00:00Z"},
           {"dentist the week after next on friday", "dentist", "2026-03-20T04:00:00Z"},
           {"dentist tuesday next week", "dentist", "2026-03-10T04:00:00Z"},
           {"dentist next week tuesday", "dentist", "2026-03-10T04:00:00Z"},
           {"call bob monday of next week at 9am", "call bob", "2026-03-09T13:00:00Z"},
           {"call bob friday this week", "call bob", "2026-03-06T05:00:00Z"}}) {
    expect_dated(c);
  }
  // said on a Sunday: the week after next starts in 8 days
  expect_dated({"dentist the week after next", "dentist", "2026-03-16T04:00:00Z"},
               ny("2026-03-08T15:00:00Z"));
  expect_list_ranges({{"what's due the week after next", "2026-03-16T04:00:00Z", "2026-03-23T04:00:00Z"},
                      {"tasks due friday next week", "2026-03-13T04:00:00Z", "2026-03-14T04:00:00Z"}},
                     ny());
}

// "the first week of april" is April 1-7 (the 3rd week days 15-21, as "every 3rd monday" is the one in days
// 15-21; the last week the month's last 7 days): as a date its first day, in a list those days. A recurrence
// adverb starting the title before a noun names which review when a day or week of a named month dates it
// ("quarterly review first week of april" was a quarterly series from today titled "review first week of
// april"). After "for" the week says what the thing is for and stays in the title.
TEST(ChatParser, AWeekOfAMonthIsItsFirstDay) {
  for (const auto& c : std::initializer_list<Dated>{
           {"quarterly review first week of april", "quarterly review", "2026-04-01T04:00:00Z"},
           {"quarterly review the 3rd week of april", "quarterly review", "2026-04-15T04:00:00Z"},
           {"Monthly report march 31", "Monthly report", "2026-03-31T04:00:00Z"},
           {"vacation the last week of july", "vacation", "2026-07-25T04:00:00Z"},
           {"plan offsite in the second week of next month", "plan offsite", "2026-04-08T04:00:00Z"},
           {"audit first week of january 2027 at 9am", "audit", "2027-01-01T14:00:00Z"},
           {"dentist first week of march", "dentist", "2026-03-04T05:00:00Z"},  // under way: today
           {"dentist first week of february", "dentist", "2027-02-01T05:00:00Z"}}) {
    expect_dated(c);
    EXPECT_FALSE(parse(c.text, ny()).recurrence.has_value()) << c.text;
  }
  expect_list_ranges({{"what's due the first week of april", "2026-04-01T04:00:00Z", "2026-04-08T04:00:00Z"}},
                     ny());
  expect_plain_title("book flights for the 3rd week of april");
  expect_plain_title("plan the 2nd week of the trip");
  // a rule said with its start still repeats
  expect_series(
      {"quarterly review starting april 1", "review", "2026-04-01T04:00:00Z", "FREQ=MONTHLY;INTERVAL=3"},
      ny());
}

// A question after a list marker is still the question ("- [ ] what's due today" added a task "what's" due
// today); other words after it stay a task whatever they are ("- [ ] what to buy for party", "- [ ] find
// passport").
TEST(ChatParser, AQuestionAfterAListMarkerIsStillTheQuestion) {
  expect_list_ranges({{"- [ ] what's due today", "2026-03-04T05:00:00Z", "2026-03-05T05:00:00Z"},
                      {"- what's due today", "2026-03-04T05:00:00Z", "2026-03-05T05:00:00Z"},
                      {"- [x] what's due today", "2026-03-04T05:00:00Z", "2026-03-05T05:00:00Z"}},
                     ny());
  for (const char* text : {"1. how many tasks are overdue", "- [ ] is anything overdue?",
                           "* when is the dentist?", "- [ ] have I paid rent"}) {
    const auto marked = parse(text, ny());
    const auto plain =
        parse(std::string_view(text).substr(std::string_view(text).find_first_of("hiw")), ny());
    EXPECT_EQ(marked.intent, Intent::list) << text;
    ASSERT_TRUE(marked.query.has_value()) << text;
    EXPECT_EQ(marked.query->q, plain.query->q) << text;
    EXPECT_EQ(marked.query->overdue, plain.query->overdue) << text;
    EXPECT_TRUE(marked.problems.empty()) << text << ": " << marked.problems.front();
  }
  for (const char* text : {"- [ ] what to buy for party", "- [ ] find passport", "1. show slides to bob"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, std::string_view(text).substr(std::string_view(text).find_first_of("wfs"))) << text;
  }
}

// A relative phrase that names no date of its own, without "remind me" and a due date of the task's own, is
// the title's: no due date, no reminder ("pack for trip the night before" was "pack for trip the" due tonight
// at 21:00, "renew passport 6 months before trip" an unreadable reminder, "pack for trip the day before" a
// reminder a day before no due date). "the night before <a date>" is that date's eve at 21:00, and "remind me
// the night before" with a due date reminds at 21:00 the day before it.
TEST(ChatParser, ARelativePhraseWithoutItsDateStaysInTheTitle) {
  for (const char* text : {"pack for trip the night before", "renew passport 6 months before trip",
                           "pack for trip the day before", "take out trash the morning after",
                           "call bob 30 minutes before", "pack for trip the night before the flight"}) {
    expect_plain_title(text);
    EXPECT_TRUE(parse(text, ny()).reminders.empty()) << text;
  }
  expect_dated({"call mom the night before christmas", "call mom", "2026-12-25T02:00:00Z"});
  expect_dated({"call mom the morning after christmas", "call mom", "2026-12-26T14:00:00Z"});
  expect_dated({"wrap gifts the night before christmas at 10pm", "wrap gifts", "2026-12-25T03:00:00Z"});
  for (const char* text :
       {"exam friday 9am, remind me the night before", "exam friday, remind me the night before"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.title, "exam") << text;
    ASSERT_EQ(r.reminders.size(), 1u) << text;
    ASSERT_TRUE(r.reminders[0].at.has_value()) << text;
    EXPECT_EQ(format_rfc3339(*r.reminders[0].at), "2026-03-06T02:00:00Z") << text;  // Thursday 21:00
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  // no due date to count from: no reminder, never tonight's 21:00; the dialog asks
  const auto undated = parse("remind me to pack the night before", ny());
  EXPECT_EQ(undated.title, "pack the night before");
  EXPECT_FALSE(undated.due_at.has_value());
  EXPECT_TRUE(undated.reminders.empty());
  EXPECT_LT(undated.confidence, 0.7);
  // with a due date, an amount no reminder can be is still a problem
  const auto months = parse("renew passport june 1, 6 months before", ny());
  ASSERT_FALSE(months.problems.empty());
  EXPECT_EQ(months.problems[0], "unreadable reminder '6 months before'");
  EXPECT_LT(months.confidence, 0.7);
}

// A weekday between title words, right before a noun (or a part of the day and a noun), names a thing: its
// words are not cut out of the title ("watch friday night lights" was "watch lights" due Friday 21:00). At
// the start or the end of the message, or after a cue word or a preposition, it is the date.
TEST(ChatParser, AWeekdayBeforeANounInsideATitleIsTheTitles) {
  for (const char* text : {"watch friday night lights", "play monday blues playlist", "join tuesday club",
                           "review the monday standup notes", "email bob monday re budget"})
    expect_plain_title(text);
  for (const auto& c : std::initializer_list<Dated>{
           {"friday night drinks", "drinks", "2026-03-07T02:00:00Z"},
           {"drinks friday night", "drinks", "2026-03-07T02:00:00Z"},
           {"call mom friday about taxes", "call mom about taxes", "2026-03-06T05:00:00Z"},
           {"call mom friday the 13th", "call mom", "2026-03-13T04:00:00Z"},
           {"dentist tuesday 3pm", "dentist", "2026-03-10T19:00:00Z"},
           {"buy snacks for saturday game", "buy snacks for game", "2026-03-07T05:00:00Z"},
           {"watch lights on friday night", "watch lights", "2026-03-07T02:00:00Z"},
           {"call insurance company monday morning first thing", "call insurance company",
            "2026-03-09T13:00:00Z"}}) {
    expect_dated(c);
  }
}

// "cancel", "drop", "scrap", "trash" before a date or a time start a title, as before a recurrence: a delete
// has no date ("cancel netflix before the 15th" was a delete of "netflix" with "a date in a command"). The
// plain delete verbs stay commands, and a task the user has by those words is still the one named.
TEST(ChatParser, CancelWithADateIsATask) {
  for (const auto& c : std::initializer_list<Dated>{
           {"cancel netflix before the 15th", "cancel netflix", "2026-03-15T04:00:00Z"},
           {"cancel gym membership by end of month", "cancel gym membership", "2026-03-31T04:00:00Z"},
           {"cancel dentist appointment friday at 3pm", "cancel dentist appointment", "2026-03-06T20:00:00Z"},
           {"scrap old car next month", "scrap old car", "2026-04-01T04:00:00Z"}}) {
    expect_dated(c);
  }
  const auto plain = parse("cancel dentist appointment", ny());
  EXPECT_EQ(plain.intent, Intent::remove);
  EXPECT_EQ(plain.target, "dentist appointment");
  const auto del = parse("delete old emails friday", ny());
  EXPECT_EQ(del.intent, Intent::remove);
  EXPECT_LT(del.confidence, 0.7);
  const std::vector<std::string> titles = {"netflix today"};
  auto ctx = ny();
  ctx.titles = &titles;
  const auto named = parse("cancel netflix today", ctx);
  EXPECT_EQ(named.intent, Intent::remove);
  EXPECT_EQ(named.target, "netflix today");
}

// A span of days in a new task, "from X to Y", "X until Y", "from X through Y", is due on its first day, as
// "June 10-12" is (it was "two different dates", no due date); with a recurrence, the date after "to" ends
// it, as "until" does ("gym every day from june 1 to june 30" repeated for ever).
TEST(ChatParser, ASpanOfDaysIsDueOnItsFirstDay) {
  for (const auto& c : std::initializer_list<Dated>{
           {"team offsite from june 10 to june 12", "team offsite", "2026-06-10T04:00:00Z"},
           {"conference june 10 to june 12", "conference", "2026-06-10T04:00:00Z"},
           {"conference june 10 until june 12", "conference", "2026-06-10T04:00:00Z"},
           {"vacation from june 10 through june 14", "vacation", "2026-06-10T04:00:00Z"},
           {"vacation from monday to friday", "vacation", "2026-03-09T04:00:00Z"},
           {"vacation from monday until friday", "vacation", "2026-03-09T04:00:00Z"},
           {"team offsite from june 10 to june 12 at 9am", "team offsite", "2026-06-10T13:00:00Z"},
           {"walk to school tomorrow", "walk to school", "2026-03-05T05:00:00Z"}}) {
    expect_dated(c);
  }
  for (const auto& c :
       std::initializer_list<Series>{{"gym every day from june 1 to june 30", "gym", "2026-06-01T04:00:00Z",
                                      "FREQ=DAILY;UNTIL=20260701T035959Z"},
                                     {"gym every day june 1 to june 30", "gym", "2026-06-01T04:00:00Z",
                                      "FREQ=DAILY;UNTIL=20260701T035959Z"},
                                     {"gym every day from monday until friday", "gym", "2026-03-09T04:00:00Z",
                                      "FREQ=DAILY;UNTIL=20260314T035959Z"}}) {
    expect_series(c, ny());
  }
  // a span that ends before it starts is still two dates
  const auto back = parse("offsite from june 12 to june 10", ny());
  EXPECT_FALSE(back.due_at.has_value());
  EXPECT_LT(back.confidence, 0.7);
}

// A recurrence joined by "or" to another day or amount says no set days ("gym every monday or tuesday" was a
// confident task "gym or" every Monday, the Tuesday lost): refused with a pointer, the words kept in the
// title, no rule and no due date; "or" before another thing is the title's.
TEST(ChatParser, ARecurrenceOrAnotherDayIsRefused) {
  for (const char* text :
       {"gym every monday or tuesday", "gym every monday or tuesday at 7am",
        "gym every monday or every tuesday", "gym every monday, wednesday or friday",
        "work out every day or two", "gym every monday or so", "water plants every week or 2"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    EXPECT_FALSE(r.recurrence.has_value()) << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_EQ(std::string(text).find(r.title), 0u) << text << ": " << r.title;
    EXPECT_GT(r.title.size(), std::string_view("gym every monday").size()) << r.title;
    ASSERT_FALSE(r.problems.empty()) << text;
    EXPECT_TRUE(r.problems.back().starts_with("I can't repeat a task 'every ")) << r.problems.back();
  }
  const auto days = parse("gym every monday or tuesday", ny());
  EXPECT_EQ(days.title, "gym every monday or tuesday");
  EXPECT_NE(days.problems.back().find("'every monday and tuesday'"), std::string::npos)
      << days.problems.back();
  const auto thing = parse("coffee or tea every morning", ny());
  EXPECT_EQ(thing.recurrence.value_or(""), "FREQ=DAILY");
  EXPECT_EQ(thing.title, "coffee or tea");
  EXPECT_GE(thing.confidence, 0.7);
  EXPECT_EQ(parse("pay rent every month or get evicted", ny()).recurrence.value_or(""), "FREQ=MONTHLY");
}

// "make gym recurring every monday or tuesday" names the task "gym": the words of a rule refused whole are no
// part of the target (it was "gym every monday or tuesday"), and the refusal is the one problem, the pointer
// "gym every monday or tuesday" gets (no "no recurrence" besides).
TEST(ChatParser, ARefusedRuleIsNoPartOfAMakeRecurringTarget) {
  for (const auto& [text, problem] : std::initializer_list<std::pair<const char*, const char*>>{
           {"make gym recurring every monday or tuesday", "I can't repeat a task 'every monday or tuesday'"},
           {"make gym repeat every day or two", "I can't repeat a task 'every day or two'"},
           {"set gym to repeat every monday, wednesday or friday",
            "I can't repeat a task 'every monday, wednesday or friday'"},
           {"make gym recurring every 3 months or 3000 miles",
            "I can't repeat a task 'every 3 months or 3000 miles': a task repeats by time only, not by 'or "
            "3000 miles'"},
           {"make gym recurring twice a week", "I can't repeat a task 'twice a week'"},
           {"make gym recurring every 12 hours", "I can't repeat a task more often than once a day"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::make_recurring) << text;
    EXPECT_EQ(r.target, "gym") << text;
    EXPECT_FALSE(r.recurrence.has_value()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_EQ(r.problems.size(), 1u) << text << ": " << r.problems.back();
    EXPECT_EQ(r.problems[0].rfind(problem, 0), 0u) << text << ": " << r.problems[0];
  }
  // the same words in a new task's title stay, and a make-recurring without a rule still says so
  EXPECT_EQ(parse("gym every monday or tuesday", ny()).title, "gym every monday or tuesday");
  const auto bare = parse("make gym recurring", ny());
  EXPECT_EQ(bare.target, "gym");
  ASSERT_EQ(bare.problems.size(), 1u);
  EXPECT_EQ(bare.problems[0], "no recurrence");
}

// "remind me to X <amount> before <event>" with no time for the event: the words stay in the title whole, as
// without "remind me" ("check in 24 hours before flight"), and the reminder has no time, which the problem
// asks for (it was a confident reminder a day before a task "check in flight"). With the event's time, the
// reminder counts back from it; with only a day of the task's own ("tonight"), it reminds at the due time.
TEST(ChatParser, ARemindMeBeforeAnEventWithoutItsTimeAsksForIt) {
  for (const auto& [text, title, event] :
       std::initializer_list<std::tuple<const char*, const char*, const char*>>{
           {"remind me to check in 24 hours before flight", "check in 24 hours before flight", "'flight'"},
           {"remind me to call mom 30 minutes before the meeting", "call mom 30 minutes before the meeting",
            "'the meeting'"},
           {"remind me to check in for flight 24 hours before departure",
            "check in for flight 24 hours before departure", "'departure'"},
           {"remind me to renew passport 6 months before trip", "renew passport 6 months before trip",
            "'trip'"},
           // the event's words whole, not its first one ('mom's')
           {"remind me to buy a gift 2 days before mom's birthday", "buy a gift 2 days before mom's birthday",
            "'mom's birthday'"},
           {"remind me to check in 24 hours before flight to paris",
            "check in 24 hours before flight to paris", "'flight to paris'"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, title) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_TRUE(r.reminders.empty()) << text;
    ASSERT_EQ(r.problems.size(), 1u) << text;
    EXPECT_EQ(r.problems[0],
              "no time for the reminder: when is " + std::string(event) + "? (say its day and time too)");
  }
  const auto pill = parse("remind me to take pill 1 hour before bed tonight", ny());
  EXPECT_EQ(pill.title, "take pill 1 hour before bed");
  EXPECT_EQ(format_rfc3339(pill.due_at.value_or(Instant{})), "2026-03-05T01:00:00Z");  // tonight 20:00
  ASSERT_EQ(pill.reminders.size(), 1u);
  EXPECT_EQ(pill.reminders[0].before_due, std::chrono::seconds(0));
  const auto timed = parse("remind me to check in 24 hours before flight on friday at 9am", ny());
  EXPECT_EQ(format_rfc3339(timed.due_at.value_or(Instant{})), "2026-03-06T14:00:00Z");
  ASSERT_EQ(timed.reminders.size(), 1u);
  EXPECT_EQ(timed.reminders[0].before_due, std::chrono::seconds(86400));
  // a reminder on a task named after "before", and one before the task's own due time, as they were
  const auto dentist = parse("remind me 30 minutes before the dentist", ny());
  EXPECT_EQ(dentist.intent, Intent::add_reminder);
  EXPECT_EQ(dentist.target, "dentist");
  const auto bob = parse("remind me to call bob 30 minutes before", ny());
  EXPECT_EQ(bob.intent, Intent::add_reminder);
  EXPECT_EQ(bob.target, "call bob");
}

// With the event's time given, the event's words say when, not what: the title is the task's own words
// ("check in"), due at the event's time with the reminder before it (they were "check in my flight", "leave
// dinner").
TEST(ChatParser, AnEventWithItsTimeIsNoPartOfTheTitle) {
  for (const auto& [text, title, due, before] :
       std::initializer_list<std::tuple<const char*, const char*, const char*, int>>{
           {"remind me to check in 24 hours before my flight on friday at 6pm", "check in",
            "2026-03-06T23:00:00Z", 86400},
           {"remind me to check in 24 hours before flight on friday at 9am", "check in",
            "2026-03-06T14:00:00Z", 86400},
           {"remind me to check in 24 hours before the flight at 6pm friday", "check in",
            "2026-03-06T23:00:00Z", 86400},
           {"remind me to check in a day before my flight, friday 6pm", "check in", "2026-03-06T23:00:00Z",
            86400},
           {"check in 24 hours before my flight on friday at 6pm", "check in", "2026-03-06T23:00:00Z", 86400},
           {"check in for flight 24 hours before departure friday 6pm", "check in for flight",
            "2026-03-06T23:00:00Z", 86400},
           {"leave 30 minutes before dinner at 6pm", "leave", "2026-03-04T23:00:00Z", 1800},
           {"remind me 24 hours before my flight on friday at 6pm to check in", "check in",
            "2026-03-06T23:00:00Z", 86400},
           {"remind me 2 hours before the meeting tomorrow at 3pm to print slides", "print slides",
            "2026-03-05T20:00:00Z", 7200},
           // the "to" after the event's date and time starts the task's words, else the first one
           {"remind me 24 hours before my flight to paris on friday at 6pm to check in", "check in",
            "2026-03-06T23:00:00Z", 86400},
           {"remind me 1 hour before the meeting to send the report to bob friday at 3pm",
            "send the report to bob", "2026-03-06T20:00:00Z", 3600}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, title) << text;
    EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", due) << text;
    ASSERT_EQ(r.reminders.size(), 1u) << text;
    EXPECT_EQ(r.reminders[0].before_due, std::chrono::seconds(before)) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.front();
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  // the reminder's span runs on over the event's words
  const std::string text = "leave 30 minutes before dinner at 6pm";
  const auto r = parse(text, ny());
  ASSERT_FALSE(r.spans.empty());
  EXPECT_EQ(spanned(text, r.spans[0]), "30 minutes before dinner");
}

// "remind me <amount> before <event> to X" is "remind me to X <amount> before <event>": without the event's
// time, the task's words and the amount before the event whole, asking when the event is (it was a confident
// reminder on a task "flight to check in"); with no "to" after the event, a reminder on the task it names.
TEST(ChatParser, ARemindMeBeforeAnEventThenToXIsTheTaskX) {
  for (const auto& [text, title, event] :
       std::initializer_list<std::tuple<const char*, const char*, const char*>>{
           {"remind me 24 hours before flight to check in", "check in 24 hours before flight", "'flight'"},
           {"remind me 30 minutes before the dentist to leave", "leave 30 minutes before the dentist",
            "'the dentist'"},
           {"remind me 1 hour before my exam to review notes", "review notes 1 hour before my exam",
            "'my exam'"},
           {"remind me 2 days before mom's birthday to buy a gift", "buy a gift 2 days before mom's birthday",
            "'mom's birthday'"},
           // a "to" after a journey, with another after it, says where it goes: the task is "check in" (it
           // was "paris to check in 24 hours before my flight"), as in the words' other order
           {"remind me 24 hours before my flight to paris to check in",
            "check in 24 hours before my flight to paris", "'my flight to paris'"},
           {"remind me 2 hours before my trip to rome to pack", "pack 2 hours before my trip to rome",
            "'my trip to rome'"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, title) << text;
    EXPECT_TRUE(r.target.empty()) << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_TRUE(r.reminders.empty()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    ASSERT_EQ(r.problems.size(), 1u) << text;
    EXPECT_EQ(r.problems[0],
              "no time for the reminder: when is " + std::string(event) + "? (say its day and time too)");
  }
  // the same reading as the words in the other order
  const auto reordered = parse("remind me 24 hours before my flight on friday to check in", ny());
  const auto plain = parse("remind me to check in 24 hours before my flight on friday", ny());
  EXPECT_EQ(reordered.title, "check in 24 hours before my flight");
  EXPECT_EQ(reordered.title, plain.title);
  EXPECT_EQ(reordered.due_at, plain.due_at);
  EXPECT_EQ(reordered.all_day, plain.all_day);
  EXPECT_EQ(reordered.reminders.size(), plain.reminders.size());
  const auto dentist = parse("remind me 30 minutes before the dentist", ny());
  EXPECT_EQ(dentist.intent, Intent::add_reminder);
  EXPECT_EQ(dentist.target, "dentist");
}

// "remind me <amount> before <event> <date and time>", nothing before the amount and no "to" after the event:
// a reminder on the task the event names, its time said (due_at: the dialog adds the task so when none
// matches); it was a new task "the meeting". Without a time, the event is a new task without its article.
TEST(ChatParser, ARemindMeBeforeAnEventAtATimeRemindsOfThatTask) {
  for (const auto& [text, target, due, before] :
       std::initializer_list<std::tuple<const char*, const char*, const char*, int>>{
           {"remind me 1 hour before the meeting tomorrow at 3pm", "meeting", "2026-03-05T20:00:00Z", 3600},
           {"remind me 30 minutes before my dentist appointment friday at 9am", "dentist appointment",
            "2026-03-06T14:00:00Z", 1800},
           {"remind me 2 hours before the meeting with bob at 5pm", "meeting with bob",
            "2026-03-04T22:00:00Z", 7200}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::add_reminder) << text;
    EXPECT_EQ(r.target, target) << text;
    EXPECT_EQ(r.title, "") << text;
    EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", due) << text;
    ASSERT_EQ(r.reminders.size(), 1u) << text;
    EXPECT_EQ(r.reminders[0].before_due, std::chrono::seconds(before)) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.front();
    EXPECT_GE(r.confidence, 0.7) << text;
  }
  // so when the event is a task of the user's, its title taken whole
  const std::vector<std::string> titles = {"meeting"};
  auto with_titles = ny();
  with_titles.titles = &titles;
  const auto named = parse("remind me 1 hour before the meeting tomorrow at 3pm", with_titles);
  EXPECT_EQ(named.intent, Intent::add_reminder);
  EXPECT_EQ(named.target, "meeting");
  EXPECT_EQ(named.due_at ? format_rfc3339(*named.due_at) : "none", "2026-03-05T20:00:00Z");
  // a reminder whose time, counted back, has passed (now is 10:00): asked about
  const auto past = parse("remind me 1 hour before the meeting at 10:30am", ny());
  EXPECT_EQ(past.intent, Intent::add_reminder);
  EXPECT_LT(past.confidence, 0.7);
  ASSERT_EQ(past.problems.size(), 1u);
  EXPECT_EQ(past.problems[0], "the reminder's time is in the past");
  // a day without a time, or a rule: the event as a new task, "meeting"
  for (const char* text : {"remind me 1 hour before the meeting tomorrow",
                           "remind me 1 hour before the meeting every monday at 3pm"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, "meeting") << text;
  }
  // as they were: no time (a reminder on the task), a "to" after the event (the task is its words)
  const auto bare = parse("remind me 1 hour before the meeting", ny());
  EXPECT_EQ(bare.intent, Intent::add_reminder);
  EXPECT_FALSE(bare.due_at.has_value());
  const auto slides = parse("remind me 2 hours before the meeting tomorrow at 3pm to print slides", ny());
  EXPECT_EQ(slides.intent, Intent::create);
  EXPECT_EQ(slides.title, "print slides");
}

// "remind me to X <amount> before <event> on <day>": the amount and the event are the title's (the event has
// no time), and the day alone is the task's, reminded at 09:00 as any date alone is ("remind me to call mom
// friday"); it was all-day with a reminder at midnight.
TEST(ChatParser, ARemindMeBeforeAnEventOnADayRemindsAtNine) {
  for (const auto& [text, title] : std::initializer_list<std::pair<const char*, const char*>>{
           {"remind me to check in 24 hours before my flight on friday",
            "check in 24 hours before my flight"},
           {"remind me 24 hours before my flight on friday to check in",
            "check in 24 hours before my flight"},
           {"remind me to take pill 1 hour before bed friday", "take pill 1 hour before bed"}}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, title) << text;
    EXPECT_EQ(r.due_at ? format_rfc3339(*r.due_at) : "none", "2026-03-06T14:00:00Z") << text;  // 09:00
    EXPECT_FALSE(r.all_day) << text;
    ASSERT_EQ(r.reminders.size(), 1u) << text;
    EXPECT_EQ(r.reminders[0].before_due, std::chrono::seconds(0)) << text;
    EXPECT_TRUE(r.problems.empty()) << text << ": " << r.problems.front();
  }
}

// Lines without list markers pasted as one message are several tasks when two or more hold title words and
// each is short: refused as a marked list is ("buy milk\ncall mom\npay rent" was one task "buy milk call mom
// pay rent"). A line that is only a date, or one that continues the line before, is one task with it; a long
// line, a note, is asked about (its words would all be the title).
TEST(ChatParser, UnmarkedLinesAreSeveralTasks) {
  for (const char* text :
       {"buy milk\ncall mom\npay rent", "buy milk\r\ncall mom tomorrow", "milk\neggs\nbread",
        "groceries:\nmilk\neggs", "remind me to buy milk\ncall mom at 5pm", "buy milk\n\ncall mom\n"}) {
    const auto r = parse(text, ny());
    EXPECT_EQ(r.intent, Intent::create) << text;
    EXPECT_EQ(r.title, "") << text;
    EXPECT_FALSE(r.due_at.has_value()) << text;
    EXPECT_TRUE(r.reminders.empty()) << text;
    EXPECT_LT(r.confidence, 0.7) << text;
    EXPECT_TRUE(std::any_of(r.problems.begin(), r.problems.end(), [](const std::string& p) {
      return p.starts_with("I can't add several tasks from one message: send each line");
    })) << text;
  }
  EXPECT_NE(parse("buy milk\ncall mom\npay rent", ny()).problems.back().find("e.g. 'buy milk'"),
            std::string::npos);
  expect_dated({"dentist\nfriday at 3pm", "dentist", "2026-03-06T20:00:00Z"});
  expect_dated({"call the plumber tomorrow at 9am\nabout the leaking sink",
                "call the plumber about the leaking sink", "2026-03-05T14:00:00Z"});
  expect_dated(
      {"buy milk,\neggs and bread tomorrow at 9am", "buy milk, eggs and bread", "2026-03-05T14:00:00Z"});
  const auto note =
      parse("call the plumber tomorrow at 9am\nThe kitchen sink is leaking again and the floor is wet", ny());
  EXPECT_EQ(note.title, "call the plumber The kitchen sink is leaking again and the floor is wet");
  EXPECT_LT(note.confidence, 0.7);
  ASSERT_EQ(note.problems.size(), 1u);
  EXPECT_EQ(note.problems[0], "a message of several lines, read as one task");
}

}  // namespace
}  // namespace todo::chat

// Reminder input: absolute or relative, snooze durations, and 422s naming the field.
#include <gtest/gtest.h>

#include "../error_of.hpp"
#include "todo/reminders/model.hpp"

namespace todo::reminders {
namespace {

using nlohmann::json;
using test::error_of;
using test::fields_of;

TEST(NewReminder, Absolute) {
  auto r = parse_new_reminder(json{{"at", "2026-03-05T09:00:00+01:00"}});
  ASSERT_TRUE(r.at);
  EXPECT_EQ(format_rfc3339(*r.at), "2026-03-05T08:00:00Z");
  EXPECT_FALSE(r.before_due);
}

TEST(NewReminder, Relative) {
  auto r = parse_new_reminder(json{{"before_due", "PT15M"}});
  ASSERT_TRUE(r.before_due);
  EXPECT_EQ(r.before_due->seconds, 900);
  EXPECT_FALSE(r.at);
  EXPECT_TRUE(parse_new_reminder(json{{"before_due", "PT0S"}}).before_due);  // at the due time
  EXPECT_TRUE(parse_new_reminder(json{{"before_due", "P1Y"}}).before_due);
  EXPECT_TRUE(parse_new_reminder(json{{"before_due", "P1D"}, {"at", nullptr}}).before_due);
}

void expect_422(const json& body, const std::string& field) {
  auto e = error_of([&] { parse_new_reminder(body); });
  ASSERT_TRUE(e) << body.dump();
  EXPECT_EQ(e->code(), Errc::unprocessable) << body.dump();
  EXPECT_EQ(fields_of(*e), std::vector<std::string>{field}) << body.dump();
}

TEST(NewReminder, RejectsBadInput) {
  expect_422(json::object(), "at");
  expect_422(json{{"at", nullptr}, {"before_due", nullptr}}, "at");
  expect_422(json{{"at", "2026-03-05T09:00:00Z"}, {"before_due", "PT15M"}}, "before_due");
  expect_422(json{{"at", "tomorrow"}}, "at");
  expect_422(json{{"at", "2026-03-05T09:00:00"}}, "at");  // no offset
  expect_422(json{{"at", 12}}, "at");
  expect_422(json{{"before_due", "15 minutes"}}, "before_due");
  expect_422(json{{"before_due", "-PT15M"}}, "before_due");
  expect_422(json{{"before_due", "P13M"}}, "before_due");  // over a year
  expect_422(json{{"before_due", "P400D"}}, "before_due");
  expect_422(json{{"before_due", 900}}, "before_due");
  expect_422(json{{"before_due", "PT15M"}, {"colour", "red"}}, "colour");
}

TEST(Snooze, ParsesPositiveDurations) {
  EXPECT_EQ(parse_snooze(json{{"duration", "PT10M"}}).seconds, 600);
  EXPECT_EQ(parse_snooze(json{{"duration", "P1D"}}).days, 1);
}

TEST(Snooze, RejectsBadInput) {
  for (const json& body :
       {json::object(), json{{"duration", nullptr}}, json{{"duration", "PT0S"}}, json{{"duration", "P0D"}},
        json{{"duration", "ten minutes"}}, json{{"duration", 600}}, json{{"duration", "P2Y"}}}) {
    auto e = error_of([&] { parse_snooze(body); });
    ASSERT_TRUE(e) << body.dump();
    EXPECT_EQ(e->code(), Errc::unprocessable);
    EXPECT_EQ(fields_of(*e), std::vector<std::string>{"duration"}) << body.dump();
  }
  auto e = error_of([] { parse_snooze(json{{"duration", "PT5M"}, {"until", "x"}}); });
  ASSERT_TRUE(e);
  EXPECT_EQ(fields_of(*e), std::vector<std::string>{"until"});
}

TEST(ReminderJson, HasEveryField) {
  Reminder r;
  r.id = "11111111-1111-1111-1111-111111111111";
  r.task_id = "22222222-2222-2222-2222-222222222222";
  r.before_due = "PT15M";
  r.fire_at = *parse_rfc3339("2026-03-05T08:45:00Z");
  r.state = "scheduled";
  const auto j = to_json(r);
  EXPECT_EQ(j["id"], r.id);
  EXPECT_EQ(j["task_id"], r.task_id);
  EXPECT_TRUE(j["at"].is_null());
  EXPECT_EQ(j["before_due"], "PT15M");
  EXPECT_EQ(j["fire_at"], "2026-03-05T08:45:00Z");
  EXPECT_EQ(j["state"], "scheduled");
  EXPECT_EQ(j["snoozed"], false);
  EXPECT_EQ(j["attempts"], 0);
  EXPECT_TRUE(j["last_error"].is_null());
  EXPECT_TRUE(j.contains("fired_at") && j.contains("delivered_at") && j.contains("next_attempt_at"));
}

}  // namespace
}  // namespace todo::reminders

// End-to-end: POST /api/v1/chat/parse against the real binary — readings, the user's zone as default, and
// every class of bad input (401, 400, 413, 415, 422).
#include "e2e.hpp"

namespace todo::test {
namespace {

using ChatTest = E2eTest;

const char* const kParse = "/api/v1/chat/parse";

TEST_F(ChatTest, ParsesACreateWithRecurrence) {
  auto u = user();
  const auto r = u.client.post(kParse, {{"text", "remind me to call mom every Sunday at 6pm"},
                                        {"now", "2026-03-04T15:00:00Z"},
                                        {"timezone", "America/New_York"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto j = r.json();
  EXPECT_EQ(j["intent"], "create");
  EXPECT_EQ(j["title"], "call mom");
  EXPECT_EQ(j["due_at"], "2026-03-08T22:00:00Z");  // Sunday 18:00 EDT, after the DST change
  EXPECT_EQ(j["all_day"], false);
  EXPECT_EQ(j["recurrence"], "FREQ=WEEKLY;BYDAY=SU");
  EXPECT_EQ(j["recurrence_mode"], "fixed");
  EXPECT_EQ(j["reminders"], nlohmann::json::parse(R"([{"before_due":"PT0S"}])"));
  EXPECT_TRUE(j["priority"].is_null());
  EXPECT_EQ(j["tags"], nlohmann::json::array());
  EXPECT_EQ(j["target"], "");
  EXPECT_TRUE(j["query"].is_null());
  EXPECT_GE(j["confidence"].get<double>(), 0.7);
  EXPECT_EQ(j["timezone"], "America/New_York");
  EXPECT_EQ(j["now"], "2026-03-04T15:00:00Z");
  ASSERT_TRUE(j["spans"].is_array());
  EXPECT_EQ(j["spans"].size(), 3u) << j;
  EXPECT_EQ(j["spans"][0], nlohmann::json::parse(R"({"start":0,"end":12,"kind":"command"})"));
}

TEST_F(ChatTest, HasNoSideEffects) {
  auto u = user();
  const auto r = u.client.post(kParse, {{"text", "Buy milk tomorrow at 5pm"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto tasks = u.client.get("/api/v1/tasks");
  ASSERT_EQ(tasks.status, 200);
  EXPECT_EQ(tasks.json()["items"], nlohmann::json::array());
}

TEST_F(ChatTest, DefaultsToTheUsersZoneAndThePresent) {
  auto u = user({{"timezone", "Europe/Berlin"}});
  const auto r = u.client.post(kParse, {{"text", "Backup tomorrow at 02:30"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto j = r.json();
  EXPECT_EQ(j["timezone"], "Europe/Berlin");
  const auto now = instant_us(j["now"]);
  ASSERT_TRUE(now);
  const auto wall = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  EXPECT_LT(std::llabs(*now - wall), 60'000'000LL) << j;
  const auto due = instant_us(j["due_at"]);
  ASSERT_TRUE(due) << j;
  EXPECT_GT(*due, *now);
  EXPECT_LT(*due - *now, 3LL * 24 * 3600 * 1'000'000);
}

TEST_F(ChatTest, ListAndSelectAndDateOrder) {
  auto u = user();
  auto r = u.client.post(kParse,
                         {{"text", "what's overdue?"}, {"now", "2026-03-04T15:00:00Z"}, {"timezone", "UTC"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["intent"], "list");
  EXPECT_EQ(r.json()["query"], nlohmann::json::parse(R"({"status":"open","overdue":true})"));
  r = u.client.post(kParse, {{"text", "the second one"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["intent"], "select");
  EXPECT_EQ(r.json()["index"], 2);
  r = u.client.post(kParse, {{"text", "pay 4/5"},
                             {"now", "2026-03-04T15:00:00Z"},
                             {"timezone", "UTC"},
                             {"date_order", "day_first"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["due_at"], "2026-05-04T00:00:00Z");
}

TEST_F(ChatTest, UnreadableDatesGiveLowConfidenceAndNoDueDate) {
  auto u = user();
  for (const char* text : {"meet bob on the 35th", "call at 25:00"}) {
    const auto r = u.client.post(kParse, {{"text", text}});
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_LT(r.json()["confidence"].get<double>(), 0.7) << text;
    EXPECT_TRUE(r.json()["due_at"].is_null()) << text;
    EXPECT_FALSE(r.json()["problems"].empty()) << text;
  }
}

TEST_F(ChatTest, NeedsAToken) {
  EXPECT_TRUE(IsProblem(anon().post(kParse, {{"text", "buy milk"}}), 401));
}

TEST_F(ChatTest, TooLongTexts) {
  auto u = user();
  // 2000 characters (multi-byte ones) are fine, 2001 are not.
  std::string ok;
  for (int i = 0; i < 2000; ++i)
    ok += "é";
  EXPECT_EQ(u.client.post(kParse, {{"text", ok}}).status, 200);
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", ok + "e"}}), 422, "text"));
  // A 64 KiB body is refused as too large before it is read as JSON.
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", std::string(64 * 1024, 'a')}}), 413, "text"));
}

TEST_F(ChatTest, BadInputClasses) {
  auto u = user();
  EXPECT_TRUE(IsProblem(u.client.request("POST", kParse, std::string("{\"text\": ")), 400, "body"));
  EXPECT_TRUE(IsProblemOneOf(u.client.request("POST", kParse, std::string("[]")), {400, 422}, "body"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, nlohmann::json::object()), 422, "text"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", 42}}), 422, "text"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", nullptr}}), 422, "text"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", "x"}, {"mood", "happy"}}), 422, "mood"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", std::string("buy\0milk", 8)}}), 422, "text"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", "x"}, {"now", "yesterday"}}), 422, "now"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", "x"}, {"now", 1700000000}}), 422, "now"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", "x"}, {"now", "2026-03-04T15:00:00"}}), 422, "now"));
  EXPECT_TRUE(
      IsProblem(u.client.post(kParse, {{"text", "x"}, {"timezone", "Mars/Olympus"}}), 422, "timezone"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", "x"}, {"timezone", 5}}), 422, "timezone"));
  EXPECT_TRUE(
      IsProblem(u.client.post(kParse, {{"text", "x"}, {"timezone", "../etc/passwd"}}), 422, "timezone"));
  EXPECT_TRUE(IsProblem(u.client.post(kParse, {{"text", "x"}, {"date_order", "ymd"}}), 422, "date_order"));
  EXPECT_TRUE(IsProblemOneOf(u.client.request("POST", kParse, std::string("{\"text\":\"bad \xc3\x28\"}")),
                             {400, 422}));
  // Every problem at once.
  const auto r = u.client.post(kParse, {{"text", 1}, {"now", "x"}, {"timezone", "y"}});
  ASSERT_TRUE(IsProblem(r, 422));
  EXPECT_EQ(r.json()["errors"].size(), 3u) << r.body;
}

TEST_F(ChatTest, WrongContentTypeIs415) {
  auto u = user();
  const auto r =
      u.client.request("POST", kParse, std::string("{\"text\":\"x\"}"), {{"Content-Type", "text/plain"}});
  EXPECT_TRUE(IsProblem(r, 415));
}

}  // namespace
}  // namespace todo::test

// End-to-end: recurring tasks over HTTP against the real binary — rule validation (422 naming the problem),
// the preview and occurrences endpoints, the next occurrence on completion (exactly one when two connections
// complete at once), relative reminders copied along the series, generate_ahead top-ups, scope=this|series,
// and the events' schemas.
#include <algorithm>
#include <barrier>
#include <cstdio>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "e2e.hpp"

namespace todo::test {
namespace {

using RecurrenceTest = E2eTest;

std::string path_of(const nlohmann::json& task) {
  return "/api/v1/tasks/" + task.at("id").get<std::string>();
}

std::string preview_path(const std::string& rule, const std::string& start, const std::string& tz,
                         const std::string& count) {
  std::string p = "/api/v1/recurrence/preview?rule=" + url_encode(rule) + "&start=" + url_encode(start);
  if (!tz.empty()) p += "&timezone=" + url_encode(tz);
  if (!count.empty()) p += "&count=" + count;
  return p;
}

std::vector<std::string> strings(const nlohmann::json& a) {
  return a.get<std::vector<std::string>>();
}

/// Every task of a series (any status), by occurrence.
std::vector<nlohmann::json> series_of(HttpClient& client, const std::string& series_id) {
  std::vector<nlohmann::json> out;
  for (const auto& t : list_all(client, "", 200))
    if (t["series_id"] == series_id) out.push_back(t);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a["occurrence"].template get<int>() < b["occurrence"].template get<int>();
  });
  return out;
}

std::size_t open_count(const std::vector<nlohmann::json>& tasks) {
  return static_cast<std::size_t>(
      std::count_if(tasks.begin(), tasks.end(), [](const auto& t) { return t["status"] == "open"; }));
}

/// A well-formed id that names no task.
std::string new_uuid_like() {
  return "00000000-0000-4000-8000-000000000001";
}

std::string problem_message(const HttpResponse& r) {
  const auto j = r.json();
  if (!j.contains("errors") || j["errors"].empty()) return "";
  return j["errors"][0].value("message", "");
}

TEST_F(RecurrenceTest, PreviewExpandsInTheZone) {
  auto u = user();
  const auto r = u.client.get(
      preview_path("FREQ=WEEKLY;BYDAY=MO", "2026-03-02T09:00:00-05:00", "America/New_York", "3"));
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(
      strings(r.json()["occurrences"]),
      (std::vector<std::string>{"2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"}));
  // A repeated wall time is its first instant; a skipped one moves forward by the gap.
  const auto fall =
      u.client.get(preview_path("FREQ=DAILY;COUNT=3", "2026-10-31T05:30:00Z", "America/New_York", ""));
  ASSERT_EQ(fall.status, 200) << fall.describe();
  EXPECT_EQ(
      strings(fall.json()["occurrences"]),
      (std::vector<std::string>{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}));
  const auto spring =
      u.client.get(preview_path("FREQ=DAILY;COUNT=3", "2026-03-07T07:30:00Z", "America/New_York", ""));
  EXPECT_EQ(
      strings(spring.json()["occurrences"]),
      (std::vector<std::string>{"2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"}));
  // Default zone UTC, default count 10, at most 100.
  const auto dflt = u.client.get(preview_path("FREQ=DAILY", "2026-01-01T00:00:00Z", "", ""));
  EXPECT_EQ(dflt.json()["occurrences"].size(), 10u);
  const auto most = u.client.get(preview_path("FREQ=DAILY", "2026-01-01T00:00:00Z", "", "100"));
  EXPECT_EQ(most.json()["occurrences"].size(), 100u);
}

TEST_F(RecurrenceTest, PreviewNamesTheProblem) {
  auto u = user();
  const auto bad_day = u.client.get(preview_path("FREQ=WEEKLY;BYDAY=XX", "2026-01-01T00:00:00Z", "", ""));
  EXPECT_TRUE(IsProblem(bad_day, 422, "rule"));
  EXPECT_EQ(problem_message(bad_day), "BYDAY: 'XX' is not a weekday (MO, TU, WE, TH, FR, SA, SU)");
  EXPECT_TRUE(
      IsProblem(u.client.get(preview_path("FREQ=DAILY", "2026-01-01T00:00:00Z", "", "101")), 422, "count"));
  EXPECT_TRUE(
      IsProblem(u.client.get(preview_path("FREQ=DAILY", "2026-01-01T00:00:00Z", "", "0")), 422, "count"));
  EXPECT_TRUE(IsProblem(u.client.get(preview_path("FREQ=DAILY", "yesterday", "", "")), 422, "start"));
  EXPECT_TRUE(IsProblem(u.client.get(preview_path("FREQ=DAILY", "2026-01-01T00:00:00Z", "Mars/Base", "")),
                        422, "timezone"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/recurrence/preview?start=2026-01-01T00:00:00Z"), 422, "rule"));
  EXPECT_TRUE(IsProblem(anon().get(preview_path("FREQ=DAILY", "2026-01-01T00:00:00Z", "", "")), 401));
}

TEST_F(RecurrenceTest, RulesAreValidatedOnWrite) {
  auto u = user();
  const auto bad = u.client.post(
      "/api/v1/tasks",
      {{"title", "x"}, {"due_at", "2030-01-01T09:00:00Z"}, {"recurrence", "FREQ=MONTHLY;BYMONTHDAY=0"}});
  EXPECT_TRUE(IsProblem(bad, 422, "recurrence"));
  EXPECT_EQ(problem_message(bad), "BYMONTHDAY: '0' is out of range (-31 to -1 or 1 to 31)");
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"recurrence", "FREQ=DAILY"}}), 422,
                        "due_at"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"},
                                                        {"due_at", "2030-01-01T09:00:00Z"},
                                                        {"recurrence", "FREQ=DAILY"},
                                                        {"generate_ahead", 53}}),
                        422, "generate_ahead"));
  const auto t = create_task(
      u.client, {{"title", "x"}, {"due_at", "2030-01-01T09:00:00Z"}, {"recurrence", "FREQ=DAILY"}});
  EXPECT_TRUE(IsProblem(u.client.patch(path_of(t), {{"due_at", nullptr}}), 422, "due_at"));
  EXPECT_TRUE(
      IsProblem(u.client.patch(path_of(t), {{"recurrence", "FREQ=WEEKLY;WKST=XX"}}), 422, "recurrence"));
  EXPECT_TRUE(IsProblem(u.client.patch(path_of(t) + "?scope=everything", {{"title", "y"}}), 422, "scope"));
}

TEST_F(RecurrenceTest, CompletingCreatesTheNextOccurrence) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "Water plants"},
                                        {"description", "balcony"},
                                        {"priority", "medium"},
                                        {"tags", {"home"}},
                                        {"due_at", "2030-03-04T09:00:00+01:00"},
                                        {"timezone", "Europe/Berlin"},
                                        {"recurrence", "FREQ=WEEKLY;BYDAY=MO;COUNT=3"}});
  EXPECT_EQ(t["series_id"], t["id"]);
  EXPECT_EQ(t["occurrence"], 0);
  EXPECT_EQ(t["recurrence_mode"], "fixed");
  EXPECT_EQ(t["generate_ahead"], 0);
  const auto occ = u.client.get(path_of(t) + "/occurrences?count=5");
  ASSERT_EQ(occ.status, 200) << occ.describe();
  // COUNT=3: the task and two more; 9:00 in Berlin before and after the change to summer time (2030-03-31).
  EXPECT_EQ(strings(occ.json()["occurrences"]),
            (std::vector<std::string>{"2030-03-11T08:00:00Z", "2030-03-18T08:00:00Z"}));
  EXPECT_EQ(occ.json()["items"], nlohmann::json::parse(R"([
      {"due_at": "2030-03-11T08:00:00Z", "task_id": null, "occurrence": null, "status": null},
      {"due_at": "2030-03-18T08:00:00Z", "task_id": null, "occurrence": null, "status": null}])"));
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["due_at"], "2030-03-11T08:00:00Z");
  EXPECT_EQ(all[1]["title"], "Water plants");
  EXPECT_EQ(all[1]["description"], "balcony");
  EXPECT_EQ(all[1]["priority"], "medium");
  EXPECT_EQ(all[1]["tags"], nlohmann::json({"home"}));
  EXPECT_EQ(all[1]["occurrence"], 1);
  ASSERT_EQ(u.client.post(path_of(all[1]) + "/complete").status, 200);
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 3u);
  ASSERT_EQ(u.client.post(path_of(all[2]) + "/complete").status, 200);
  EXPECT_EQ(series_of(u.client, t["id"]).size(), 3u) << "COUNT=3 ends the series";
  EXPECT_TRUE(IsProblem(u.client.get(path_of(t) + "/occurrences?count=101"), 422, "count"));
  const auto plain = create_task(u.client, {{"title", "once"}, {"due_at", "2030-01-01T09:00:00Z"}});
  EXPECT_TRUE(plain["series_id"].is_null());
  EXPECT_TRUE(plain["occurrence"].is_null());
  const auto none = u.client.get(path_of(plain) + "/occurrences");
  ASSERT_EQ(none.status, 200) << none.describe();
  EXPECT_EQ(none.json(),
            nlohmann::json({{"occurrences", nlohmann::json::array()}, {"items", nlohmann::json::array()}}));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks/" + new_uuid_like() + "/occurrences"), 404));
}

// A daily all-day chore ticked off a day late: today's occurrence is not missed (its day is not over, as for
// the overdue filter), so completing yesterday's creates today's, in the task's own zone (UTC+14 here, where
// "today" starts 14 hours before it does in UTC), and the occurrences list shows it.
TEST_F(RecurrenceTest, CompletingAnOverdueAllDaySeriesKeepsToday) {
  using namespace std::chrono;
  const auto midnight = [](int from_today) {  // a day's start in Pacific/Kiritimati (UTC+14, no DST)
    const auto local_day = floor<days>(system_clock::now() + hours{14}) + days{from_today};
    const year_month_day utc{local_day - days{1}};  // 14 hours before local midnight: 10:00 the day before
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT10:00:00Z", static_cast<int>(utc.year()),
                  static_cast<unsigned>(utc.month()), static_cast<unsigned>(utc.day()));
    return std::string(out);
  };
  auto u = user();
  const std::string today = midnight(0);
  const auto t = create_task(u.client, {{"title", "water plants"},
                                        {"due_at", midnight(-1)},
                                        {"all_day", true},
                                        {"timezone", "Pacific/Kiritimati"},
                                        {"recurrence", "FREQ=DAILY"}});
  const auto occ = u.client.get(path_of(t) + "/occurrences?count=2");
  ASSERT_EQ(occ.status, 200) << occ.describe();
  const auto listed = strings(occ.json()["occurrences"]);
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  const std::string later = midnight(0);  // the day may have turned meanwhile
  const auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 2u);
  const std::string next = all[1]["due_at"];
  EXPECT_TRUE(next == today || next == later) << next << ", today begins at " << today;
  EXPECT_TRUE(!listed.empty() && (listed[0] == today || listed[0] == later)) << occ.describe();
  const auto after = u.client.get(path_of(t) + "/occurrences?count=1");
  ASSERT_EQ(after.status, 200) << after.describe();
  EXPECT_EQ(after.json()["items"][0]["task_id"], all[1]["id"]) << after.describe();
}

/// GET /api/v1/tasks/{id}/reminders (200 asserted by the caller's expectations on the items).
nlohmann::json reminders_of(HttpClient& client, const nlohmann::json& task) {
  const auto r = client.get(path_of(task) + "/reminders");
  EXPECT_EQ(r.status, 200) << r.describe();
  return r.json()["items"];
}

TEST_F(RecurrenceTest, RelativeRemindersFollowTheSeries) {
  auto u = user();
  // Fixed mode: 9:00 Berlin every Monday, a reminder 15 minutes before and one at a fixed instant.
  const auto t = create_task(u.client, {{"title", "Team sync"},
                                        {"due_at", "2030-03-25T09:00:00+01:00"},
                                        {"timezone", "Europe/Berlin"},
                                        {"recurrence", "FREQ=WEEKLY;BYDAY=MO"}});
  auto r = u.client.post(path_of(t) + "/reminders", {{"before_due", "PT15M"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(r.json()["fire_at"], "2030-03-25T07:45:00Z");
  r = u.client.post(path_of(t) + "/reminders", {{"at", "2030-03-24T18:00:00Z"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["due_at"], "2030-04-01T07:00:00Z");  // 9:00 in Berlin after the change to summer time
  auto next = reminders_of(u.client, all[1]);
  ASSERT_EQ(next.size(), 1u) << "only the relative reminder is copied: " << next;
  EXPECT_EQ(next[0]["before_due"], "PT15M");
  EXPECT_TRUE(next[0]["at"].is_null());
  EXPECT_EQ(next[0]["fire_at"], "2030-04-01T06:45:00Z");
  EXPECT_EQ(next[0]["state"], "scheduled");
  EXPECT_EQ(reminders_of(u.client, t)[0]["state"], "cancelled") << "the done occurrence's reminders stop";
  // Completing twice does not copy twice.
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  EXPECT_EQ(reminders_of(u.client, all[1]).size(), 1u);

  // After completion: the next due date comes from the completion time; the reminder follows it.
  const auto chore = create_task(u.client, {{"title", "Descale kettle"},
                                            {"due_at", "2030-01-01T10:00:00Z"},
                                            {"recurrence", "FREQ=DAILY;INTERVAL=30"},
                                            {"recurrence_mode", "after_completion"}});
  ASSERT_EQ(u.client.post(path_of(chore) + "/reminders", {{"before_due", "P1D"}}).status, 201);
  ASSERT_EQ(u.client.post(path_of(chore) + "/complete").status, 200);
  all = series_of(u.client, chore["id"]);
  ASSERT_EQ(all.size(), 2u);
  next = reminders_of(u.client, all[1]);
  ASSERT_EQ(next.size(), 1u) << next;
  EXPECT_EQ(next[0]["before_due"], "P1D");
  const auto due = instant_us(all[1]["due_at"]);
  ASSERT_TRUE(due);
  EXPECT_EQ(instant_us(next[0]["fire_at"]), *due - 86'400LL * 1'000'000);

  // generate_ahead: occurrences created in advance get a relative reminder added to an earlier one (once).
  const auto rent = create_task(u.client, {{"title", "Rent"},
                                           {"due_at", "2030-01-01T09:00:00Z"},
                                           {"recurrence", "FREQ=MONTHLY;BYMONTHDAY=1"},
                                           {"generate_ahead", 2}});
  ASSERT_EQ(u.client.post(path_of(rent) + "/reminders", {{"before_due", "P2D"}}).status, 201);
  all = series_of(u.client, rent["id"]);
  ASSERT_EQ(all.size(), 3u);
  for (const auto& occ : all) {
    const auto items = reminders_of(u.client, occ);
    ASSERT_EQ(items.size(), 1u) << occ["due_at"] << items;
    EXPECT_EQ(instant_us(items[0]["fire_at"]), *instant_us(occ["due_at"]) - 2 * 86'400LL * 1'000'000);
  }
  // The occurrence topped up on completion copies it too; none gets it twice.
  ASSERT_EQ(u.client.post(path_of(all[0]) + "/complete").status, 200);
  all = series_of(u.client, rent["id"]);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3]["due_at"], "2030-04-01T09:00:00Z");
  for (const auto& occ : all)
    EXPECT_EQ(reminders_of(u.client, occ).size(), 1u) << occ["due_at"];
}

// A new occurrence takes its relative reminders from the series' latest open occurrence, as it takes its
// fields: a reminder added to the latest one (no occurrence ahead of it to reach) or removed from it carries
// on when an earlier occurrence is completed. (They were copied from the completed one: the added reminder
// was lost, the removed one came back.)
TEST_F(RecurrenceTest, ANewOccurrenceTakesTheLatestOpenOccurrencesReminders) {
  auto u = user();
  const auto rent = create_task(u.client, {{"title", "Rent"},
                                           {"due_at", "2030-01-01T09:00:00Z"},
                                           {"recurrence", "FREQ=MONTHLY;BYMONTHDAY=1"},
                                           {"generate_ahead", 1}});
  auto all = series_of(u.client, rent["id"]);
  ASSERT_EQ(all.size(), 2u);
  ASSERT_EQ(u.client.post(path_of(all[1]) + "/reminders", {{"before_due", "P1D"}}).status, 201);
  EXPECT_TRUE(reminders_of(u.client, all[0]).empty()) << "only the later occurrences get an added one";
  ASSERT_EQ(u.client.post(path_of(all[0]) + "/complete").status, 200);
  all = series_of(u.client, rent["id"]);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2]["due_at"], "2030-03-01T09:00:00Z");
  auto items = reminders_of(u.client, all[2]);
  ASSERT_EQ(items.size(), 1u) << items;
  EXPECT_EQ(items[0]["before_due"], "P1D");
  EXPECT_EQ(items[0]["fire_at"], "2030-02-28T09:00:00Z");

  // Added to the earlier open occurrence, so to the latest too, then removed from the latest: it stays gone.
  ASSERT_EQ(u.client.post(path_of(all[1]) + "/reminders", {{"before_due", "PT1H"}}).status, 201);
  items = reminders_of(u.client, all[2]);
  ASSERT_EQ(items.size(), 2u) << items;
  const auto hour =
      std::find_if(items.begin(), items.end(), [](const auto& r) { return r["before_due"] == "PT1H"; });
  ASSERT_NE(hour, items.end()) << items;
  ASSERT_EQ(u.client.del(path_of(all[2]) + "/reminders/" + (*hour)["id"].get<std::string>()).status, 204);
  ASSERT_EQ(u.client.post(path_of(all[1]) + "/complete").status, 200);
  all = series_of(u.client, rent["id"]);
  ASSERT_EQ(all.size(), 4u);
  items = reminders_of(u.client, all[3]);
  ASSERT_EQ(items.size(), 1u) << items;
  EXPECT_EQ(items[0]["before_due"], "P1D");
  EXPECT_EQ(items[0]["fire_at"], "2030-03-31T09:00:00Z");
}

TEST_F(RecurrenceTest, ConcurrentCompleteFromTwoConnectionsCreatesOneNext) {
  auto u = user();
  for (int round = 0; round < 8; ++round) {
    const auto t = create_task(u.client, {{"title", "standup " + std::to_string(round)},
                                          {"due_at", "2030-01-07T09:00:00Z"},
                                          {"recurrence", "FREQ=DAILY"}});
    std::barrier start(2);
    std::vector<long> statuses(2);
    std::vector<std::thread> devices;
    for (int d = 0; d < 2; ++d)
      devices.emplace_back([&, d] {
        HttpClient c(base_url());  // a connection of its own
        c.set_token(u.token);
        c.get("/api/v1/tasks?limit=1");  // connected before the race
        start.arrive_and_wait();
        statuses[static_cast<std::size_t>(d)] = c.post(path_of(t) + "/complete").status;
      });
    for (auto& th : devices)
      th.join();
    EXPECT_EQ(statuses, (std::vector<long>{200, 200}));
    const auto all = series_of(u.client, t["id"]);
    ASSERT_EQ(all.size(), 2u) << "round " << round;
    EXPECT_EQ(all[0]["status"], "done");
    EXPECT_EQ(all[1]["status"], "open");
    EXPECT_EQ(all[1]["due_at"], "2030-01-08T09:00:00Z");
  }
}

TEST_F(RecurrenceTest, GenerateAheadTopsUp) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "Rent"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=MONTHLY;BYMONTHDAY=1"},
                                        {"generate_ahead", 12}});
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 13u);
  EXPECT_EQ(all.back()["due_at"], "2031-01-01T09:00:00Z");
  ASSERT_EQ(u.client.post(path_of(all[0]) + "/complete").status, 200);
  ASSERT_EQ(u.client.post(path_of(all[0]) + "/complete").status, 200);
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 14u);
  EXPECT_EQ(open_count(all), 13u);
  EXPECT_EQ(all.back()["due_at"], "2031-02-01T09:00:00Z");
  // Raising generate_ahead tops up at once, keeping the occurrences already created.
  ASSERT_EQ(u.client.patch(path_of(all[1]) + "?scope=series", {{"generate_ahead", 14}}).status, 200);
  const auto before = all;
  all = series_of(u.client, t["id"]);
  EXPECT_EQ(open_count(all), 15u);
  ASSERT_EQ(all.size(), 16u);
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(all[i]["id"], before[i]["id"]) << i;
  EXPECT_EQ(all.back()["due_at"], "2031-04-01T09:00:00Z");  // two more months after 2031-02-01
  EXPECT_EQ(all.back()["generate_ahead"], 14);
  // An occurrence completed early, before the ones ahead of it, stays in the list, with its state.
  ASSERT_EQ(u.client.post(path_of(all[3]) + "/complete").status, 200);
  const auto occ = u.client.get(path_of(all[1]) + "/occurrences?count=3");
  ASSERT_EQ(occ.status, 200) << occ.describe();
  EXPECT_EQ(
      strings(occ.json()["occurrences"]),
      (std::vector<std::string>{"2030-03-01T09:00:00Z", "2030-04-01T09:00:00Z", "2030-05-01T09:00:00Z"}));
  EXPECT_EQ(occ.json()["items"][1], (nlohmann::json{{"due_at", "2030-04-01T09:00:00Z"},
                                                    {"task_id", all[3]["id"]},
                                                    {"occurrence", 3},
                                                    {"status", "done"}}));
  EXPECT_EQ(occ.json()["items"][0]["status"], "open");
  EXPECT_EQ(occ.json()["items"][0]["task_id"], all[2]["id"]);
}

TEST_F(RecurrenceTest, ScopeThisAndSeries) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "Gym"},
                                        {"due_at", "2030-01-07T18:00:00Z"},
                                        {"recurrence", "FREQ=WEEKLY"},
                                        {"generate_ahead", 2}});
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 3u);
  ASSERT_EQ(u.client.patch(path_of(all[0]) + "?scope=this", {{"title", "Gym (legs)"}}).status, 200);
  ASSERT_EQ(u.client.patch(path_of(all[1]) + "?scope=series", {{"priority", "high"}}).status, 200);
  all = series_of(u.client, t["id"]);
  EXPECT_EQ(all[0]["title"], "Gym (legs)");
  EXPECT_EQ(all[1]["title"], "Gym");
  EXPECT_EQ(all[0]["priority"], "none");
  EXPECT_EQ(all[1]["priority"], "high");
  EXPECT_EQ(all[2]["priority"], "high");
  // Skipping one occurrence keeps the series going.
  ASSERT_EQ(u.client.del(path_of(all[2]) + "?scope=this").status, 204);
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2]["due_at"], "2030-01-28T18:00:00Z");
  // Deleting the series stops it: every open occurrence goes, and nothing is created afterwards.
  ASSERT_EQ(u.client.del(path_of(all[1]) + "?scope=series").status, 204);
  EXPECT_TRUE(series_of(u.client, t["id"]).empty());
  EXPECT_TRUE(IsProblem(u.client.del(path_of(all[0]) + "?scope=series"), 404));
}

// scope=series applies every given field to the following open occurrences, even when the addressed one
// already has it. It used to diff against the addressed occurrence alone and, finding nothing, answer 200
// and leave the following ones as they were.
TEST_F(RecurrenceTest, SeriesEditAppliesWhenThisOccurrenceAlreadyHasTheValue) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "a"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 2}});
  auto this_then_series = [&](const nlohmann::json& body) {
    for (const char* scope : {"this", "series"}) {
      const auto r = u.client.patch(path_of(t) + "?scope=" + scope, body, {{"If-Match", "*"}});
      EXPECT_EQ(r.status, 200) << scope << " " << r.describe();
    }
    return series_of(u.client, t["id"]);
  };
  auto all = this_then_series({{"title", "X"}});
  ASSERT_EQ(all.size(), 3u);
  for (const auto& o : all)
    EXPECT_EQ(o["title"], "X") << o;
  all = this_then_series({{"due_at", "2030-01-01T10:00:00Z"}});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1]["due_at"], "2030-01-02T10:00:00Z");
  EXPECT_EQ(all[2]["due_at"], "2030-01-03T10:00:00Z");
  all = this_then_series({{"generate_ahead", 3}});
  ASSERT_EQ(all.size(), 4u);
  for (const auto& o : all)
    EXPECT_EQ(o["generate_ahead"], 3) << o;
  EXPECT_EQ(all[3]["due_at"], "2030-01-04T10:00:00Z");
}

// COUNT bounds the whole series: a "this and following" reschedule continues the count (occurrence numbers
// are kept) instead of starting it again, which gave four tasks for COUNT=3.
TEST_F(RecurrenceTest, SeriesRescheduleKeepsCount) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "a"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=DAILY;COUNT=3"},
                                        {"generate_ahead", 5}});
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 3u);
  const auto r = u.client.patch(path_of(all[1]) + "?scope=series", {{"due_at", "2030-01-02T10:00:00Z"}},
                                {{"If-Match", "*"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 3u) << "COUNT=3";
  EXPECT_EQ(all[0]["due_at"], "2030-01-01T09:00:00Z");
  EXPECT_EQ(all[1]["due_at"], "2030-01-02T10:00:00Z");
  EXPECT_EQ(all[2]["due_at"], "2030-01-03T10:00:00Z");
  const auto occ = u.client.get(path_of(all[1]) + "/occurrences");
  ASSERT_EQ(occ.status, 200) << occ.describe();
  EXPECT_EQ(strings(occ.json()["occurrences"]), std::vector<std::string>{"2030-01-03T10:00:00Z"});
}

// The same series-wide reschedule sent twice (a retried request, say) changes nothing the second time: the
// following occurrences keep their ids and their reminders. It used to delete and recreate them.
TEST_F(RecurrenceTest, RepeatedSeriesRescheduleKeepsTheFollowingOccurrences) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "a"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 2}});
  const nlohmann::json body = {{"due_at", "2030-01-01T10:00:00Z"}, {"recurrence", "FREQ=DAILY"}};
  ASSERT_EQ(u.client.patch(path_of(t) + "?scope=series", body, {{"If-Match", "*"}}).status, 200);
  const auto before = series_of(u.client, t["id"]);
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[2]["due_at"], "2030-01-03T10:00:00Z");
  const auto reminder = u.client.post(path_of(before[2]) + "/reminders", {{"at", "2030-01-03T08:00:00Z"}});
  ASSERT_EQ(reminder.status, 201) << reminder.describe();
  for (const auto* sent : {&body, &body}) {
    const auto r = u.client.patch(path_of(t) + "?scope=series", *sent, {{"If-Match", "*"}});
    ASSERT_EQ(r.status, 200) << r.describe();
  }
  const auto after = series_of(u.client, t["id"]);
  ASSERT_EQ(after.size(), 3u);
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i]["id"], before[i]["id"]) << i;
    EXPECT_EQ(after[i]["version"], before[i]["version"]) << i;
  }
  EXPECT_EQ(u.client.get(path_of(before[2]) + "/reminders").json()["items"].size(), 1u);
  // Nor does a series-wide PATCH of a later occurrence that resends its own due_at (a client saving the whole
  // form): it is on the schedule already.
  const auto form =
      u.client.patch(path_of(before[1]) + "?scope=series",
                     {{"due_at", before[1]["due_at"]}, {"title", before[1]["title"]}}, {{"If-Match", "*"}});
  ASSERT_EQ(form.status, 200) << form.describe();
  const auto kept = series_of(u.client, t["id"]);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[2]["id"], before[2]["id"]);
  EXPECT_EQ(u.client.get(path_of(before[2]) + "/reminders").json()["items"].size(), 1u);
  // A real change still reschedules the following ones.
  ASSERT_EQ(
      u.client.patch(path_of(t) + "?scope=series", {{"due_at", "2030-01-01T11:00:00Z"}}, {{"If-Match", "*"}})
          .status,
      200);
  const auto moved = series_of(u.client, t["id"]);
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved[2]["due_at"], "2030-01-03T11:00:00Z");
}

// A rule whose lists are sent in another order is the same rule: a series-wide PATCH of it changes nothing
// (it was a new rule: a new version, and the following occurrences re-created with new ids, their edits
// lost).
TEST_F(RecurrenceTest, ARuleWithItsListsInAnotherOrderIsTheSameRule) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "gym"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=WEEKLY;BYDAY=TH,TU"},
                                        {"generate_ahead", 2}});
  EXPECT_EQ(t["recurrence"], "FREQ=WEEKLY;BYDAY=TU,TH");
  const auto before = series_of(u.client, t["id"]);
  ASSERT_EQ(before.size(), 3u);
  const auto edited = u.client.patch(path_of(before[2]), {{"title", "gym - bring towel"}});
  ASSERT_EQ(edited.status, 200) << edited.describe();
  const auto r = u.client.patch(path_of(t) + "?scope=series", {{"recurrence", "FREQ=WEEKLY;BYDAY=TH,TU"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["version"], 1);
  const auto after = series_of(u.client, t["id"]);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2]["id"], before[2]["id"]);
  EXPECT_EQ(after[2]["title"], "gym - bring towel");
}

// "This and following" without a rule stops the series there: the following open occurrences go, and the
// others lose their rule, so completing an earlier open one (or reopening and completing a done one) creates
// nothing and their occurrences lists are empty. (Completing occurrence 0 created occurrences 2, 3 and 4 with
// the rule the user had just removed.)
TEST_F(RecurrenceTest, AThisAndFollowingEditWithoutARuleStopsTheSeries) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "standup"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 2}});
  auto series = series_of(u.client, t["id"]);
  ASSERT_EQ(series.size(), 3u);
  const auto stop = u.client.patch(path_of(series[1]) + "?scope=series", {{"recurrence", nullptr}});
  ASSERT_EQ(stop.status, 200) << stop.describe();
  EXPECT_TRUE(stop.json()["recurrence"].is_null());
  series = series_of(u.client, t["id"]);
  ASSERT_EQ(series.size(), 2u);
  EXPECT_TRUE(series[0]["recurrence"].is_null());
  EXPECT_EQ(series[0]["version"], 2);
  ASSERT_EQ(u.client.post(path_of(series[0]) + "/complete").status, 200);
  ASSERT_EQ(u.client.post(path_of(series[0]) + "/reopen").status, 200);
  ASSERT_EQ(u.client.post(path_of(series[0]) + "/complete").status, 200);
  ASSERT_EQ(u.client.post(path_of(series[1]) + "/complete").status, 200);
  EXPECT_EQ(series_of(u.client, t["id"]).size(), 2u);
  const auto listed = u.client.get(path_of(series[0]) + "/occurrences");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  EXPECT_TRUE(listed.json()["occurrences"].empty()) << listed.json().dump();
}

// A series-wide reschedule replaces the following occurrences on the schedule; one a "this" edit took off it
// (no rule, its own title and reminder) stays. (It was deleted with its reminder and not re-created.)
TEST_F(RecurrenceTest, ASeriesRescheduleKeepsAnOccurrenceThatLeftTheSchedule) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "standup"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 2}});
  const auto series = series_of(u.client, t["id"]);
  ASSERT_EQ(series.size(), 3u);
  const auto detached = u.client.patch(
      path_of(series[2]), {{"recurrence", nullptr}, {"due_at", nullptr}, {"title", "standup notes - keep"}});
  ASSERT_EQ(detached.status, 200) << detached.describe();
  ASSERT_EQ(u.client.post(path_of(series[2]) + "/reminders", {{"at", "2030-02-01T09:00:00Z"}}).status, 201);
  const auto moved =
      u.client.patch(path_of(series[1]) + "?scope=series", {{"due_at", "2030-01-02T10:00:00Z"}});
  ASSERT_EQ(moved.status, 200) << moved.describe();
  const auto kept = u.client.get(path_of(series[2]));
  ASSERT_EQ(kept.status, 200) << kept.describe();
  EXPECT_EQ(kept.json()["title"], "standup notes - keep");
  EXPECT_EQ(u.client.get(path_of(series[2]) + "/reminders").json()["items"].size(), 1u);
  // The schedule from occurrence 1 at 10:00 is topped up to three open occurrences on the rule (0, 1 and a
  // new one), numbered after the kept one.
  const auto after = series_of(u.client, t["id"]);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after[2]["id"], series[2]["id"]);
  EXPECT_EQ(after[3]["occurrence"], 3);
  EXPECT_EQ(after[3]["due_at"], "2030-01-03T10:00:00Z");
}

// A task whose rule was removed keeps showing its series settings; sending them back (a client saving its
// whole form) is no new setting. (A 422: "is a setting of a recurring task".) A new value still is one.
TEST_F(RecurrenceTest, AFormSendingBackTheSeriesSettingsOfATaskWithoutARuleIsTaken) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "rent"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=MONTHLY"},
                                        {"recurrence_mode", "after_completion"}});
  const auto plain = u.client.patch(path_of(t), {{"recurrence", nullptr}});
  ASSERT_EQ(plain.status, 200) << plain.describe();
  EXPECT_EQ(plain.json()["recurrence_mode"], "after_completion");
  const auto form = u.client.patch(
      path_of(t), {{"title", "pay rent"}, {"recurrence_mode", "after_completion"}, {"generate_ahead", 0}});
  ASSERT_EQ(form.status, 200) << form.describe();
  EXPECT_EQ(form.json()["title"], "pay rent");
  EXPECT_EQ(u.client.patch(path_of(t), {{"generate_ahead", 2}}).status, 422);
}

// A rule that never occurs after due_at is a 422 naming `recurrence`, on create and on PATCH. These used to
// be taken (201 with no occurrence ever): 2027-04-01 is a Thursday, and every 7 days from it is never a
// Tuesday; every other year from 2027 is odd, with no February 29.
TEST_F(RecurrenceTest, RulesThatNeverOccurAfterDueAtAreRefused) {
  auto u = user();
  auto create = [&](const std::string& rule, const std::string& due) {
    return u.client.post("/api/v1/tasks", {{"title", "x"}, {"due_at", due}, {"recurrence", rule}});
  };
  for (const char* rule :
       {"FREQ=DAILY;INTERVAL=7;BYDAY=TU", "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29"}) {
    const auto r = create(rule, "2027-04-01T09:00:00Z");
    EXPECT_TRUE(IsProblem(r, 422, "recurrence")) << rule;
    EXPECT_NE(problem_message(r).find("never occurs after"), std::string::npos) << problem_message(r);
  }
  // The same kinds of rule from starts they fit, and rare ones, are taken.
  for (const auto& [rule, due] : std::vector<std::pair<std::string, std::string>>{
           {"FREQ=DAILY;INTERVAL=7;BYDAY=TH", "2027-04-01T09:00:00Z"},
           {"FREQ=DAILY;INTERVAL=3;BYDAY=TU", "2027-04-01T09:00:00Z"},
           {"FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "2028-01-01T09:00:00Z"},
           {"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", "2027-04-01T09:00:00Z"},         // 2044
           {"FREQ=YEARLY;INTERVAL=100;BYMONTH=2;BYMONTHDAY=29", "2100-03-01T09:00:00Z"}}) {  // 2400
    EXPECT_EQ(create(rule, due).status, 201) << rule << " from " << due;
  }
  const auto t = create_task(
      u.client,
      {{"title", "x"}, {"due_at", "2027-04-01T09:00:00Z"}, {"recurrence", "FREQ=DAILY;INTERVAL=7"}});
  const auto r =
      u.client.patch(path_of(t), {{"recurrence", "FREQ=DAILY;INTERVAL=7;BYDAY=TU"}}, {{"If-Match", "*"}});
  EXPECT_TRUE(IsProblem(r, 422, "recurrence"));
  EXPECT_NE(problem_message(r).find("never occurs after"), std::string::npos) << problem_message(r);
  EXPECT_TRUE(IsProblem(
      u.client.patch(path_of(t) + "?scope=series",
                     {{"recurrence", "FREQ=DAILY;INTERVAL=7;BYDAY=TH"}, {"due_at", "2027-04-02T09:00:00Z"}}),
      422, "recurrence"));
  EXPECT_EQ(u.client.get(path_of(t)).json()["recurrence"], "FREQ=DAILY;INTERVAL=7");
  EXPECT_EQ(u.client.patch(path_of(t), {{"recurrence", "FREQ=DAILY;INTERVAL=7;BYDAY=TH"}}).status, 200);
}

TEST_F(RecurrenceTest, SkippedOccurrencePassesItsRemindersOn) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "Standup"},
                                        {"due_at", "2030-01-07T09:00:00+01:00"},
                                        {"timezone", "Europe/Berlin"},
                                        {"recurrence", "FREQ=DAILY"}});
  ASSERT_EQ(u.client.post(path_of(t) + "/reminders", {{"before_due", "PT15M"}}).status, 201);
  ASSERT_EQ(u.client.del(path_of(t) + "?scope=this").status, 204);
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["occurrence"], 1);
  EXPECT_EQ(all[0]["due_at"], "2030-01-08T08:00:00Z");
  auto items = reminders_of(u.client, all[0]);
  ASSERT_EQ(items.size(), 1u) << "the replacement occurrence gets the skipped one's reminder: " << items;
  EXPECT_EQ(items[0]["before_due"], "PT15M");
  EXPECT_EQ(items[0]["fire_at"], "2030-01-08T07:45:00Z");
  EXPECT_EQ(items[0]["state"], "scheduled");
  // Skipping the next one passes it on again.
  ASSERT_EQ(u.client.del(path_of(all[0]) + "?scope=this").status, 204);
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["occurrence"], 2);
  items = reminders_of(u.client, all[0]);
  ASSERT_EQ(items.size(), 1u) << items;
  EXPECT_EQ(items[0]["fire_at"], "2030-01-09T07:45:00Z");

  // generate_ahead: the occurrence topped up when the first is skipped gets its reminder too.
  const auto rent = create_task(u.client, {{"title", "Rent"},
                                           {"due_at", "2030-01-01T09:00:00Z"},
                                           {"recurrence", "FREQ=MONTHLY;BYMONTHDAY=1"},
                                           {"generate_ahead", 1}});
  ASSERT_EQ(u.client.post(path_of(rent) + "/reminders", {{"before_due", "P1D"}}).status, 201);
  ASSERT_EQ(u.client.del(path_of(rent) + "?scope=this").status, 204);
  all = series_of(u.client, rent["id"]);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["due_at"], "2030-03-01T09:00:00Z");
  for (const auto& occ : all) {
    items = reminders_of(u.client, occ);
    ASSERT_EQ(items.size(), 1u) << occ["due_at"] << items;
    EXPECT_EQ(instant_us(items[0]["fire_at"]), *instant_us(occ["due_at"]) - 86'400LL * 1'000'000);
  }
}

TEST_F(RecurrenceTest, DeletedSeriesDoesNotComeBack) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "Stretch"},
                                        {"due_at", "2030-01-07T07:00:00Z"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 1}});
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 3u);
  ASSERT_EQ(u.client.post(path_of(all[1]) + "/complete").status, 200);
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 4u);
  ASSERT_EQ(u.client.del(path_of(all[2]) + "?scope=series").status, 204);
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 2u) << "the completed occurrences stay";
  for (const auto& occ : all) {
    EXPECT_EQ(occ["status"], "done");
    EXPECT_TRUE(occ["recurrence"].is_null()) << "a deleted series' occurrences no longer recur: " << occ;
  }
  const auto none = u.client.get(path_of(t) + "/occurrences");
  ASSERT_EQ(none.status, 200) << none.describe();
  EXPECT_TRUE(none.json()["occurrences"].empty()) << none.body;

  // Reopening and completing an old occurrence creates nothing.
  ASSERT_EQ(u.client.post(path_of(t) + "/reopen").status, 200);
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  EXPECT_EQ(series_of(u.client, t["id"]).size(), 2u);
  // Nor does a series-wide edit: completing through PATCH, a new due date, more generated ahead.
  ASSERT_EQ(u.client.patch(path_of(all[1]) + "?scope=series", {{"status", "open"}}).status, 200);
  ASSERT_EQ(u.client.patch(path_of(all[1]) + "?scope=series", {{"status", "done"}}).status, 200);
  EXPECT_EQ(series_of(u.client, t["id"]).size(), 2u);
  auto r = u.client.patch(path_of(all[1]) + "?scope=series", {{"due_at", "2030-02-01T07:00:00Z"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(series_of(u.client, t["id"]).size(), 2u);
  // More generated ahead is a setting of a recurring task, which this one no longer is.
  r = u.client.patch(path_of(all[1]) + "?scope=series", {{"generate_ahead", 3}});
  EXPECT_TRUE(IsProblem(r, 422, "generate_ahead")) << r.describe();
  EXPECT_EQ(series_of(u.client, t["id"]).size(), 2u);
  r = u.client.patch(path_of(all[1]) + "?scope=series", {{"status", "open"}, {"title", "Stretch more"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  ASSERT_EQ(u.client.post(path_of(all[1]) + "/complete").status, 200);
  EXPECT_EQ(series_of(u.client, t["id"]).size(), 2u);
}

// A skipped occurrence is final: COUNT used up by it, nothing replaces it, the upcoming list does not show it
// and completing an earlier one does not create it again. (It came back on the next completion.)
TEST_F(RecurrenceTest, SkippedOccurrenceDoesNotComeBack) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "x"},
                                        {"due_at", "2027-03-01T09:00:00Z"},
                                        {"timezone", "UTC"},
                                        {"recurrence", "FREQ=DAILY;COUNT=3"},
                                        {"generate_ahead", 2}});
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 3u);
  ASSERT_EQ(u.client.del(path_of(all[2]) + "?scope=this").status, 204);
  const auto list = u.client.get(path_of(t) + "/occurrences");
  ASSERT_EQ(list.status, 200) << list.describe();
  EXPECT_EQ(strings(list.json()["occurrences"]), std::vector<std::string>{"2027-03-02T09:00:00Z"})
      << list.body;
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  all = series_of(u.client, t["id"]);
  ASSERT_EQ(all.size(), 2u) << "the skip is final";
  EXPECT_EQ(all[1]["occurrence"], 1);
  EXPECT_EQ(all[1]["due_at"], "2027-03-02T09:00:00Z");
}

// A completed occurrence of a deleted series given a rule again recurs anew from its own due date, as a new
// task due then would. (It kept the old series' start.)
TEST_F(RecurrenceTest, RuleSetAgainAfterTheSeriesWasDeletedStartsAtTheTask) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "Water plants"},
                                        {"due_at", "2027-03-01T09:00:00Z"},
                                        {"timezone", "UTC"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 2}});
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(u.client.post(path_of(all[1]) + "/complete").status, 200);
  ASSERT_EQ(u.client.del(path_of(all[2]) + "?scope=series").status, 204);
  const auto tuesday = all[1];
  auto r = u.client.patch(path_of(tuesday), {{"recurrence", "FREQ=MONTHLY"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["series_id"], tuesday["id"]);
  EXPECT_EQ(r.json()["occurrence"], 0);
  const auto list = u.client.get(path_of(tuesday) + "/occurrences?count=3");
  ASSERT_EQ(list.status, 200) << list.describe();
  EXPECT_EQ(
      strings(list.json()["occurrences"]),
      (std::vector<std::string>{"2027-04-02T09:00:00Z", "2027-05-02T09:00:00Z", "2027-06-02T09:00:00Z"}))
      << list.body;
  r = u.client.patch(path_of(tuesday), {{"recurrence", "FREQ=DAILY;INTERVAL=7;BYDAY=TU"}});
  EXPECT_EQ(r.status, 200) << r.describe();
}

TEST_F(RecurrenceTest, EventsMatchTheirSchemas) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "Schema"},
                                        {"due_at", "2030-01-01T09:00:00Z"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 1}});
  ASSERT_EQ(u.client.post(path_of(t) + "/complete").status, 200);
  ASSERT_EQ(
      u.client.patch(path_of(t), {{"recurrence_mode", "after_completion"}, {"generate_ahead", 0}}).status,
      200);
  const auto all = series_of(u.client, t["id"]);
  ASSERT_EQ(u.client.del(path_of(all.back()) + "?scope=series").status, 204);
  pqxx::connection c(db_url());
  pqxx::nontransaction n(c);
  const auto path = std::string("/tmp/recurrence-events-") + std::to_string(::getpid()) + ".jsonl";
  // The relay numbers events as it publishes them: wait until it has caught up with this user's.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (n.exec_params("SELECT count(*) FROM outbox WHERE user_id = $1 AND sequence IS NULL", u.id)[0][0]
                 .as<long>() > 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::ofstream out(path);
    for (const auto& row :
         n.exec_params("SELECT event FROM outbox_events WHERE user_id = $1 ORDER BY sequence", u.id))
      out << row[0].c_str() << "\n";
  }
  const std::string cmd = "/usr/bin/python3 " + std::string(std::getenv("TODO_SOURCE_DIR")) +
                          "/tests/e2e/check_event_schemas.py --gapless < " + path;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace todo::test

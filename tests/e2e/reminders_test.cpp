// End-to-end: the reminder API over the real binary (bad input included), a fired reminder reaching the
// user's WebSocket, and e-mail delivery to an SMTP sink (python3-aiosmtpd): multipart text + HTML, the
// Message-ID derived from the reminder, retries then failed, and STARTTLS with a self-signed certificate.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <pqxx/pqxx>
#include <regex>
#include <thread>

#include "e2e.hpp"
#include "smtp_sink.hpp"
#include "support/jwt.hpp"
#include "support/ws_client.hpp"
#include "todo/core/encoding.hpp"
#include "todo/core/time.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string in(std::chrono::milliseconds d) {
  return format_rfc3339(now() + d);
}

template <class P>
bool eventually(P pred, std::chrono::milliseconds bound = 20s) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

/// A server with e-mail on, talking to its own sink.
struct Stack {
  std::string db;
  std::unique_ptr<SmtpSink> sink;
  std::unique_ptr<ServerProcess> server;
  Stack(std::vector<std::string> sink_args, std::map<std::string, std::string> env) {
    db = TestPostgres::shared().create_database("rem_" + random_hex(4));
    sink = std::make_unique<SmtpSink>(std::move(sink_args));
    env["DATABASE_URL"] = db;
    env["TODO_SMTP_URL"] = sink->url();
    env["TODO_SMTP_FROM"] = "reminders@todo.example";
    server = std::make_unique<ServerProcess>(env);
  }
  std::string url() const { return server->base_url(); }
};

class RemindersE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!stack_)
      stack_ = std::make_unique<Stack>(std::vector<std::string>{}, std::map<std::string, std::string>{
                                                                       {"TODO_SMTP_STARTTLS", "off"},
                                                                       {"TODO_REMINDER_MAX_ATTEMPTS", "3"},
                                                                       {"TODO_REMINDER_BACKOFF_MS", "200"}});
  }
  static void TearDownTestSuite() {
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (stack_ && suite && suite->Failed())
      std::cerr << server_output_digest(stack_->server->output()) << "---- sink ----\n"
                << stack_->sink->log();
    stack_.reset();
  }
  static TestUser user(json extra = json::object()) { return new_user(stack_->url(), std::move(extra)); }
  static json reminders_of(TestUser& u, const std::string& task) {
    auto r = u.client.get("/api/v1/tasks/" + task + "/reminders");
    if (r.status != 200) throw std::runtime_error(r.describe());
    return r.json()["items"];
  }
  static json reminder(TestUser& u, const std::string& task, const std::string& id) {
    for (const auto& r : reminders_of(u, task))
      if (r["id"] == id) return r;
    return nullptr;
  }
  static std::optional<json> mail_for(const std::string& reminder_id) {
    for (auto& m : stack_->sink->messages())
      if (m["reminder_id"] == reminder_id) return m;
    return std::nullopt;
  }
  inline static std::unique_ptr<Stack> stack_;
};

TEST_F(RemindersE2e, CreateListDelete) {
  auto u = user();
  const auto task = create_task(u.client, json{{"title", "dentist"}, {"due_at", "2031-05-01T10:00:00Z"}});
  const std::string tid = task["id"];
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"before_due", "PT90M"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const auto rel = r.json();
  EXPECT_TRUE(std::regex_match(rel["id"].get<std::string>(), kUuid));
  EXPECT_EQ(r.header("location"), "/api/v1/tasks/" + tid + "/reminders/" + rel["id"].get<std::string>());
  EXPECT_EQ(rel["task_id"], tid);
  // Its Location answers GET (it answered 405); another user's, or under another task, is 404.
  const auto at_location = u.client.get(r.header("location"));
  ASSERT_EQ(at_location.status, 200) << at_location.describe();
  EXPECT_EQ(at_location.json(), rel);
  EXPECT_TRUE(IsProblem(user().client.get(r.header("location")), 404));
  const std::string other_task = create_task(u.client, "other")["id"];
  EXPECT_TRUE(IsProblem(
      u.client.get("/api/v1/tasks/" + other_task + "/reminders/" + rel["id"].get<std::string>()), 404));
  EXPECT_EQ(rel["before_due"], "PT1H30M");
  EXPECT_TRUE(rel["at"].is_null());
  EXPECT_EQ(rel["fire_at"], "2031-05-01T08:30:00Z");
  EXPECT_EQ(rel["state"], "scheduled");
  r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", "2031-04-30T20:00:00+02:00"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const auto abs = r.json();
  EXPECT_EQ(abs["fire_at"], "2031-04-30T18:00:00Z");
  EXPECT_EQ(ids_of(reminders_of(u, tid)), (std::vector<std::string>{rel["id"], abs["id"]}));

  // Relative reminders follow due_at; absolute ones stay.
  ASSERT_EQ(u.client.patch("/api/v1/tasks/" + tid, json{{"due_at", "2031-06-01T10:00:00Z"}}).status, 200);
  EXPECT_EQ(reminder(u, tid, rel["id"])["fire_at"], "2031-06-01T08:30:00Z");
  EXPECT_EQ(reminder(u, tid, abs["id"])["fire_at"], "2031-04-30T18:00:00Z");

  // Upcoming, across pages.
  auto page = u.client.get("/api/v1/reminders?upcoming=true&limit=1");
  ASSERT_EQ(page.status, 200) << page.describe();
  ASSERT_EQ(page.json()["items"].size(), 1u);
  EXPECT_EQ(page.json()["items"][0]["id"], abs["id"]);
  const std::string cursor = page.json()["next_cursor"];
  page = u.client.get("/api/v1/reminders?upcoming=true&limit=1&cursor=" + url_encode(cursor));
  ASSERT_EQ(page.status, 200) << page.describe();
  EXPECT_EQ(page.json()["items"][0]["id"], rel["id"]);
  EXPECT_TRUE(page.json()["next_cursor"].is_null());

  // Completing cancels them: not upcoming any more.
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + tid + "/complete").status, 200);
  EXPECT_EQ(reminder(u, tid, rel["id"])["state"], "cancelled");
  EXPECT_TRUE(u.client.get("/api/v1/reminders?upcoming=true").json()["items"].empty());
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + tid + "/reopen").status, 200);
  EXPECT_EQ(reminder(u, tid, rel["id"])["state"], "scheduled");

  EXPECT_EQ(u.client.del("/api/v1/tasks/" + tid + "/reminders/" + abs["id"].get<std::string>()).status, 204);
  EXPECT_TRUE(
      IsProblem(u.client.del("/api/v1/tasks/" + tid + "/reminders/" + abs["id"].get<std::string>()), 404));
  EXPECT_EQ(ids_of(reminders_of(u, tid)), std::vector<std::string>{rel["id"]});
}

// A relative reminder on a task due early in year 1 would fall before 0001-01-01, which RFC 3339 cannot write
// (it was answered as "+0000-12-31T23:10:00Z"): it fires at once, at the earliest instant the API can write.
TEST_F(RemindersE2e, AReminderBeforeYearOneIsAtTheEarliestWritableInstant) {
  auto u = user();
  const std::string tid =
      create_task(u.client, json{{"title", "year one"}, {"due_at", "0001-01-01T00:10:00Z"}})["id"];
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"before_due", "PT1H"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(r.json()["fire_at"], "0001-01-01T00:00:00Z");
  const std::string rid = r.json()["id"];
  EXPECT_TRUE(eventually([&] { return reminder(u, tid, rid)["state"] == "delivered"; }));
  // Moved there by its task, too.
  const std::string later =
      create_task(u.client, json{{"title", "later"}, {"due_at", "2031-05-01T10:00:00Z"}})["id"];
  r = u.client.post("/api/v1/tasks/" + later + "/reminders", json{{"before_due", "P1Y"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  ASSERT_EQ(u.client.patch("/api/v1/tasks/" + later, json{{"due_at", "0001-06-01T00:00:00+00:00"}}).status,
            200);
  EXPECT_EQ(reminder(u, later, r.json()["id"])["fire_at"], "0001-01-01T00:00:00Z");
  // (The list is named: iterating over `….json()["items"]` ran over a destroyed temporary.)
  const auto all = u.client.get("/api/v1/reminders").json();
  ASSERT_EQ(all["items"].size(), 2u) << all;
  for (const auto& item : all["items"])
    EXPECT_TRUE(instant_us(item["fire_at"])) << item.dump();
}

// At most ten also when added together: the count was read in the snapshot of the statement that then waited
// for the task's lock, so 16 concurrent adds each saw the count from before the others (16 were stored).
TEST_F(RemindersE2e, AtMostTenAlsoWhenAddedTogether) {
  auto u = user();
  const std::string tid =
      create_task(u.client, json{{"title", "crowded"}, {"due_at", "2031-05-01T10:00:00Z"}})["id"];
  std::vector<long> statuses(16, 0);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < statuses.size(); ++i)
    threads.emplace_back([&, i] {
      HttpClient c(stack_->url());
      c.set_token(u.token);
      statuses[i] = c.post("/api/v1/tasks/" + tid + "/reminders",
                           json{{"before_due", "PT" + std::to_string(i + 1) + "M"}})
                        .status;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 10);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 422), 6);
  EXPECT_EQ(reminders_of(u, tid).size(), 10u);
}

// A calendar offset landing on a wall time that a fall-back change repeats takes its first instant, as the
// recurrence expander does (docs/recurrence.md); it took the second, an hour after that day's occurrence.
TEST_F(RemindersE2e, ARepeatedWallTimeIsItsFirstInstant) {
  auto u = user();
  const struct {
    const char* zone;
    const char* due;
    const char* fire;
  } cases[] = {
      {"Europe/Berlin", "2027-11-01T02:30:00+01:00", "2027-10-31T00:30:00Z"},        // 02:30 CEST, not CET
      {"America/New_York", "2027-11-08T01:30:00-05:00", "2027-11-07T05:30:00Z"},     // 01:30 EDT, not EST
      {"Australia/Lord_Howe", "2027-04-05T01:45:00+10:30", "2027-04-03T14:45:00Z"},  // a 30-minute shift
      {"Europe/Berlin", "2027-03-29T02:30:00+02:00", "2027-03-28T01:30:00Z"},  // in the gap: moved forward
  };
  // A time part alone is exact: a task due in the second of two repeated hours keeps it (no wall time).
  const std::string second = create_task(
      u.client,
      json{{"title", "2nd"}, {"due_at", "2027-11-07T06:30:00Z"}, {"timezone", "America/New_York"}})["id"];
  for (const auto& [before, fire] :
       std::vector<std::pair<std::string, std::string>>{{"PT0S", "2027-11-07T06:30:00Z"},
                                                        {"PT1H", "2027-11-07T05:30:00Z"},
                                                        {"PT24H", "2027-11-06T06:30:00Z"}}) {
    auto r = u.client.post("/api/v1/tasks/" + second + "/reminders", json{{"before_due", before}});
    ASSERT_EQ(r.status, 201) << r.describe();
    EXPECT_EQ(r.json()["fire_at"], fire) << before;
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.zone + std::string(" ") + c.due);
    const std::string tid =
        create_task(u.client, json{{"title", "dst"}, {"due_at", c.due}, {"timezone", c.zone}})["id"];
    auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"before_due", "P1D"}});
    ASSERT_EQ(r.status, 201) << r.describe();
    EXPECT_EQ(r.json()["fire_at"], c.fire);
  }
}

// A snooze is kept when only the task's zone changes (the task did not move); moving the task re-times it.
TEST_F(RemindersE2e, ASnoozeIsKeptWhenOnlyTheZoneChanges) {
  auto u = user();
  const std::string tid = create_task(
      u.client,
      json{{"title", "snoozed"}, {"due_at", "2031-05-01T10:00:00Z"}, {"timezone", "Europe/Berlin"}})["id"];
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"before_due", "PT5M"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const std::string rid = r.json()["id"];
  auto s = u.client.post("/api/v1/reminders/" + rid + "/snooze", json{{"duration", "PT10M"}});
  ASSERT_EQ(s.status, 200) << s.describe();
  const json snoozed = s.json()["fire_at"];
  ASSERT_EQ(u.client.patch("/api/v1/tasks/" + tid, json{{"timezone", "America/New_York"}}).status, 200);
  EXPECT_EQ(reminder(u, tid, rid)["snoozed"], true);
  EXPECT_EQ(reminder(u, tid, rid)["fire_at"], snoozed);
  ASSERT_EQ(u.client.patch("/api/v1/tasks/" + tid, json{{"due_at", "2031-06-01T10:00:00Z"}}).status, 200);
  EXPECT_EQ(reminder(u, tid, rid)["snoozed"], false);
  EXPECT_EQ(reminder(u, tid, rid)["fire_at"], "2031-06-01T09:55:00Z");
}

// A reminder whose time passed without firing while its task was open is `missed`, not `cancelled` (the state
// of a done task's reminders), in the API: after a move of its task into the past, after a reopening past its
// time, and as a recurring task's copy whose offset has already passed. It never fires, is not upcoming, and
// a snooze schedules it again. (They all answered `cancelled`, as if their task were done.)
TEST_F(RemindersE2e, AMissedReminderIsMissedNotCancelled) {
  auto u = user();
  const auto post = [&](const std::string& task, const json& body) {
    auto r = u.client.post("/api/v1/tasks/" + task + "/reminders", body);
    if (r.status != 201) throw std::runtime_error(r.describe());
    return r.json()["id"].get<std::string>();
  };
  const auto state = [&](const std::string& task, const std::string& id) {
    return reminder(u, task, id)["state"].get<std::string>();
  };
  // Moved into the past.
  const std::string moved =
      create_task(u.client, json{{"title", "moved"}, {"due_at", "2031-05-01T10:00:00Z"}})["id"];
  const auto moved_r = post(moved, json{{"before_due", "PT15M"}});
  EXPECT_EQ(state(moved, moved_r), "scheduled");
  ASSERT_EQ(u.client.patch("/api/v1/tasks/" + moved, json{{"due_at", "2020-05-01T10:00:00Z"}}).status, 200);
  EXPECT_EQ(state(moved, moved_r), "missed");
  EXPECT_EQ(reminder(u, moved, moved_r)["fire_at"], "2020-05-01T09:45:00Z");

  // Done, then reopened after its time: cancelled while done, missed once open.
  const std::string reopened =
      create_task(u.client, json{{"title", "reopened"}, {"due_at", "2020-05-01T10:00:00Z"}})["id"];
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + reopened + "/complete").status, 200);
  const auto reopened_r = post(reopened, json{{"at", "2020-05-01T09:00:00Z"}});
  EXPECT_EQ(state(reopened, reopened_r), "cancelled");
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + reopened + "/reopen").status, 200);
  EXPECT_EQ(state(reopened, reopened_r), "missed");
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + reopened + "/complete").status, 200);
  EXPECT_EQ(state(reopened, reopened_r), "cancelled") << "its task is done";
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + reopened + "/reopen").status, 200);
  EXPECT_EQ(state(reopened, reopened_r), "missed");

  // Copied to the next occurrence (due a day after the completed one, in an hour) 26 hours before it.
  const std::string series = create_task(
      u.client, json{{"title", "series"}, {"due_at", in(1h)}, {"recurrence", "FREQ=DAILY"}})["id"];
  const auto own = post(series, json{{"before_due", "P1DT2H"}});  // asked for a past time: fires at once
  EXPECT_TRUE(eventually([&] { return state(series, own) == "delivered"; }));
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + series + "/complete").status, 200);
  std::optional<json> copy;
  const auto all = u.client.get("/api/v1/reminders").json();
  for (const auto& r : all["items"])
    if (r["before_due"] == "P1DT2H" && r["task_id"] != series) copy = r;
  ASSERT_TRUE(copy) << "no copy on the next occurrence: " << all;
  EXPECT_EQ((*copy)["state"], "missed");
  const std::string next = (*copy)["task_id"];

  // A reminder due now, fired by the scheduler: missed ones, due earlier, would have been claimed with it.
  const std::string probe = create_task(u.client, "probe")["id"];
  const auto probe_r = post(probe, json{{"at", "2021-01-01T00:00:00Z"}});
  EXPECT_TRUE(eventually([&] { return state(probe, probe_r) == "delivered"; }));
  for (const auto& [task, id] : {std::pair{moved, moved_r}, std::pair{reopened, reopened_r},
                                 std::pair{next, (*copy)["id"].get<std::string>()}}) {
    const auto r = reminder(u, task, id);
    EXPECT_EQ(r["state"], "missed") << r;
    EXPECT_TRUE(r["fired_at"].is_null()) << "a missed reminder never fires: " << r;
  }
  EXPECT_TRUE(u.client.get("/api/v1/reminders?upcoming=true").json()["items"].empty());

  // A snooze schedules a missed one again.
  auto s = u.client.post("/api/v1/reminders/" + moved_r + "/snooze", json{{"duration", "PT10M"}});
  ASSERT_EQ(s.status, 200) << s.describe();
  EXPECT_EQ(s.json()["state"], "scheduled");
  EXPECT_EQ(s.json()["snoozed"], true);
  const auto items = u.client.get("/api/v1/reminders?upcoming=true").json()["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], moved_r);
}

TEST_F(RemindersE2e, BadInput) {
  auto u = user();
  const std::string tid =
      create_task(u.client, json{{"title", "x"}, {"due_at", "2031-05-01T10:00:00Z"}})["id"];
  const std::string path = "/api/v1/tasks/" + tid + "/reminders";
  EXPECT_TRUE(IsProblem(u.client.post(path, json{{"before_due", "15m"}}), 422, "before_due"));
  EXPECT_TRUE(IsProblem(u.client.post(path, json{{"before_due", "-PT15M"}}), 422, "before_due"));
  EXPECT_TRUE(IsProblem(u.client.post(path, json{{"before_due", "P2Y"}}), 422, "before_due"));
  EXPECT_TRUE(IsProblem(u.client.post(path, json{{"at", "next tuesday"}}), 422, "at"));
  EXPECT_TRUE(IsProblem(u.client.post(path, json::object()), 422, "at"));
  EXPECT_TRUE(
      IsProblem(u.client.post(path, json{{"at", in(1h)}, {"before_due", "PT1M"}}), 422, "before_due"));
  EXPECT_TRUE(IsProblem(u.client.post(path, json{{"before_due", "PT1M"}, {"sound", "bell"}}), 422, "sound"));
  EXPECT_TRUE(
      IsProblem(u.client.request("POST", path, "{not json", {{"Content-Type", "application/json"}}), 400));
  // Not yours, not there, not an id: 404.
  auto other = user();
  EXPECT_TRUE(IsProblem(other.client.post(path, json{{"before_due", "PT1M"}}), 404));
  EXPECT_TRUE(IsProblem(other.client.get(path), 404));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks/00000000-0000-4000-8000-000000000000/reminders"), 404));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks/nope/reminders"), 404));
  EXPECT_TRUE(IsProblem(HttpClient(stack_->url()).get(path), 401));
  // At most ten.
  for (int i = 1; i <= 10; ++i)
    ASSERT_EQ(u.client.post(path, json{{"before_due", "PT" + std::to_string(i) + "M"}}).status, 201);
  EXPECT_TRUE(IsProblem(u.client.post(path, json{{"before_due", "PT11M"}}), 422, "task_id"));
  const std::string rid = reminders_of(u, tid)[0]["id"];
  EXPECT_TRUE(IsProblem(other.client.del(path + "/" + rid), 404));
  // Snooze.
  const std::string snooze = "/api/v1/reminders/" + rid + "/snooze";
  EXPECT_TRUE(IsProblem(u.client.post(snooze, json{{"duration", "PT0S"}}), 422, "duration"));
  EXPECT_TRUE(IsProblem(u.client.post(snooze, json{{"duration", "soon"}}), 422, "duration"));
  EXPECT_TRUE(IsProblem(u.client.post(snooze, json::object()), 422, "duration"));
  EXPECT_TRUE(IsProblem(other.client.post(snooze, json{{"duration", "PT10M"}}), 404));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/reminders/00000000-0000-4000-8000-000000000000/snooze",
                                      json{{"duration", "PT10M"}}),
                        404));
  auto s = u.client.post(snooze, json{{"duration", "PT10M"}});
  ASSERT_EQ(s.status, 200) << s.describe();
  EXPECT_EQ(s.json()["snoozed"], true);
  EXPECT_EQ(s.json()["state"], "scheduled");
  const auto fire = instant_us(s.json()["fire_at"]);
  ASSERT_TRUE(fire);
  const long long expect =
      std::chrono::duration_cast<std::chrono::microseconds>((now() + 10min).time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(*fire), static_cast<double>(expect), 5e6);
  // Lists.
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/reminders?upcoming=maybe"), 422, "upcoming"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/reminders?limit=0"), 422, "limit"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/reminders?cursor=garbage"), 400, "cursor"));
  // A cursor of the server's own form whose check does not match (written by hand).
  EXPECT_TRUE(IsProblem(
      u.client.get("/api/v1/reminders?cursor=" + base64url("infinity|00000000-0000-0000-0000-000000000000")),
      400, "cursor"));
  // Instants the cursor's parser reads but PostgreSQL would refuse: before its earliest (4714-11-24 UTC BC),
  // an offset beyond its ±15:59. Each is a 400, not the database's error.
  const std::string zero_id = "|00000000-0000-0000-0000-000000000000";
  for (const std::string fire : {"4714-11-23 00:00:00+00 BC", "4714-11-24 00:00:00+01 BC"})
    EXPECT_TRUE(
        IsProblem(u.client.get("/api/v1/reminders?cursor=" + todo::seal_cursor("all|" + fire + zero_id)), 400,
                  "cursor"))
        << fire;
  const std::string far = todo::seal_cursor("all|2026-03-05 09:00:00+20" + zero_id);
  const auto far_offset = u.client.get("/api/v1/reminders?cursor=" + far);
  EXPECT_EQ(far_offset.status, 200) << far_offset.describe();  // the same instant as 2026-03-04 13:00:00+00
  // A cursor is bound to its list: the whole list's is refused by the upcoming one, and back.
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/reminders?upcoming=true&cursor=" + far), 400, "cursor"));
  const std::string upcoming = todo::seal_cursor("upcoming|2026-03-05 09:00:00+00" + zero_id);
  EXPECT_EQ(u.client.get("/api/v1/reminders?upcoming=true&cursor=" + upcoming).status, 200);
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/reminders?cursor=" + upcoming), 400, "cursor"));
  EXPECT_TRUE(IsProblem(
      u.client.get("/api/v1/reminders?cursor=" + todo::seal_cursor("2026-03-05 09:00:00+00" + zero_id)), 400,
      "cursor"))
      << "a cursor of the form before the list was named";
  // The e-mail setting.
  EXPECT_TRUE(
      IsProblem(u.client.patch("/api/v1/me", json{{"email_reminders", "yes"}}), 422, "email_reminders"));
}

TEST_F(RemindersE2e, FiredReminderReachesTheUsersWebSockets) {
  auto u = user();
  auto other = user();
  const std::string tid = create_task(u.client, json{{"title", "call mum"}, {"due_at", in(1h)}})["id"];
  WsOptions o;
  o.target = "/api/v1/ws?access_token=" + url_encode(u.token);
  WsClient ws1(stack_->url(), o), ws2(stack_->url(), o);
  o.target = "/api/v1/ws?access_token=" + url_encode(other.token);
  WsClient ws_other(stack_->url(), o);
  ASSERT_TRUE(ws1.upgraded() && ws2.upgraded() && ws_other.upgraded());
  for (auto* ws : {&ws1, &ws2, &ws_other}) {
    ASSERT_TRUE(ws->send(R"({"type":"ping"})"));
    bool pong = false;
    while (auto m = ws->next_json(5s))
      if ((*m)["type"] == "pong") {
        pong = true;
        break;
      }
    ASSERT_TRUE(pong);
  }
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", in(1500ms)}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const std::string rid = r.json()["id"];
  for (auto* ws : {&ws1, &ws2}) {
    std::optional<json> fired;
    const auto deadline = Clock::now() + 15s;
    while (!fired && Clock::now() < deadline) {
      auto m = ws->next_json(1s);
      if (m && (*m)["type"] == "reminder.fired") fired = m;
    }
    ASSERT_TRUE(fired) << "no reminder.fired on the user's socket";
    EXPECT_EQ((*fired)["data"]["reminder_id"], rid);
    EXPECT_EQ((*fired)["data"]["task_id"], tid);
    EXPECT_EQ((*fired)["data"]["title"], "call mum");
    EXPECT_EQ((*fired)["data"]["fire_at"], r.json()["fire_at"]);
  }
  EXPECT_TRUE(eventually([&] { return reminder(u, tid, rid)["state"] == "delivered"; }));
  // Nothing for someone else.
  while (auto m = ws_other.next_json(300ms))
    EXPECT_NE((*m)["type"], "reminder.fired");
  // No e-mail: this user did not ask for them.
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(mail_for(rid));
  // Exposed on /metrics.
  HttpClient anon(stack_->url());
  const auto text = anon.get("/metrics").body;
  EXPECT_NE(text.find("reminders_fired_total"), std::string::npos);
  EXPECT_NE(text.find("reminder_fire_delay_seconds_bucket"), std::string::npos);
  EXPECT_NE(text.find("reminders_failed_total"), std::string::npos);
}

TEST_F(RemindersE2e, EmailHasTextAndHtmlAndAStableMessageId) {
  auto u = user(json{{"display_name", "Ann"}});
  auto me = u.client.patch("/api/v1/me", json{{"email_reminders", true}});
  ASSERT_EQ(me.status, 200) << me.describe();
  EXPECT_EQ(me.json()["email_reminders"], true);
  EXPECT_EQ(u.client.get("/api/v1/me").json()["email_reminders"], true);
  const std::string tid = create_task(u.client, json{{"title", "pay <rent> & bills"},
                                                     {"description", "IBAN on the fridge"},
                                                     {"due_at", in(24h)}})["id"];
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", in(1s)}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const std::string rid = r.json()["id"];
  std::optional<json> mail;
  ASSERT_TRUE(eventually([&] { return (mail = mail_for(rid)).has_value(); })) << stack_->sink->log();
  const long long us = *instant_us(r.json()["fire_at"]);
  char frac[24];
  std::snprintf(frac, sizeof frac, ".%06lld", us % 1'000'000);
  EXPECT_EQ((*mail)["message_id"],
            "<reminder-" + rid + "-" + std::to_string(us / 1'000'000) + frac + "@todo-server>");
  EXPECT_EQ((*mail)["rcpt_tos"], json::array({u.email}));
  EXPECT_EQ((*mail)["mail_from"], "reminders@todo.example");
  EXPECT_EQ((*mail)["subject"], "Reminder: pay <rent> & bills");
  EXPECT_EQ((*mail)["content_type"], "multipart/alternative");
  ASSERT_EQ((*mail)["parts"].size(), 2u);
  EXPECT_EQ((*mail)["parts"][0]["type"], "text/plain");
  EXPECT_NE((*mail)["parts"][0]["body"].get<std::string>().find("pay <rent> & bills"), std::string::npos);
  EXPECT_NE((*mail)["parts"][0]["body"].get<std::string>().find("IBAN on the fridge"), std::string::npos);
  EXPECT_EQ((*mail)["parts"][1]["type"], "text/html");
  EXPECT_NE((*mail)["parts"][1]["body"].get<std::string>().find("pay &lt;rent&gt; &amp; bills"),
            std::string::npos);
  EXPECT_TRUE(eventually([&] { return reminder(u, tid, rid)["state"] == "delivered"; }));
  // Exactly one.
  std::this_thread::sleep_for(500ms);
  int n = 0;
  for (const auto& m : stack_->sink->messages())
    n += m["reminder_id"] == rid;
  EXPECT_EQ(n, 1);
}

// An all-day task's e-mail names its day in the task's zone, without a time of day.
TEST_F(RemindersE2e, EmailOfAnAllDayTaskShowsItsDayAlone) {
  auto u = user();
  ASSERT_EQ(u.client.patch("/api/v1/me", json{{"email_reminders", true}}).status, 200);
  const std::string tid = create_task(u.client, json{{"title", "holiday"},
                                                     {"due_at", "2030-01-15T00:00:00+01:00"},
                                                     {"all_day", true},
                                                     {"timezone", "Europe/Berlin"}})["id"];
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", in(1s)}});
  ASSERT_EQ(r.status, 201) << r.describe();
  std::optional<json> mail;
  ASSERT_TRUE(eventually([&] { return (mail = mail_for(r.json()["id"])).has_value(); }))
      << stack_->sink->log();
  ASSERT_EQ((*mail)["parts"].size(), 2u);
  for (const auto& part : (*mail)["parts"]) {
    const std::string body = part["body"];
    EXPECT_NE(body.find("Due: 2030-01-15 (all day)"), std::string::npos) << body;
    EXPECT_EQ(body.find("00:00"), std::string::npos) << body;
  }
}

TEST_F(RemindersE2e, EmailRetriesWithBackoffThenFails) {
  auto flaky = user(json{{"email", unique_email("flaky")}});
  auto rejected = user(json{{"email", unique_email("reject")}});
  std::vector<std::pair<TestUser*, std::string>> made;
  for (auto* u : {&flaky, &rejected}) {
    ASSERT_EQ(u->client.patch("/api/v1/me", json{{"email_reminders", true}}).status, 200);
    const std::string tid = create_task(u->client, json{{"title", "retry me"}})["id"];
    auto r = u->client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", in(500ms)}});
    ASSERT_EQ(r.status, 201) << r.describe();
    made.emplace_back(u, tid);
    made.back().second = tid + "|" + r.json()["id"].get<std::string>();
  }
  auto split = [](const std::string& s) {
    return std::pair{s.substr(0, s.find('|')), s.substr(s.find('|') + 1)};
  };
  // The flaky address is refused once (451), then accepted.
  auto [ftask, frid] = split(made[0].second);
  ASSERT_TRUE(eventually([&] { return reminder(flaky, ftask, frid)["state"] == "delivered"; }))
      << reminder(flaky, ftask, frid).dump();
  EXPECT_EQ(reminder(flaky, ftask, frid)["attempts"], 2);
  EXPECT_TRUE(mail_for(frid));
  // The rejected one fails after the configured 3 attempts, with the last error.
  auto [rtask, rrid] = split(made[1].second);
  ASSERT_TRUE(eventually([&] { return reminder(rejected, rtask, rrid)["state"] == "failed"; }))
      << reminder(rejected, rtask, rrid).dump();
  const auto failed = reminder(rejected, rtask, rrid);
  EXPECT_EQ(failed["attempts"], 3);
  EXPECT_NE(failed["last_error"].get<std::string>().find("550"), std::string::npos) << failed.dump();
  EXPECT_FALSE(mail_for(rrid));
  HttpClient anon(stack_->url());
  const auto text = anon.get("/metrics").body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("\nreminders_failed_total ([0-9.e+]+)"))) << text;
  EXPECT_GE(std::stod(m[1]), 1.0);
}

// Last of the suite: every event the tests above produced, reminder.fired included, matches docs/events.
TEST_F(RemindersE2e, EventsMatchTheSchemas) {
  pqxx::connection c(stack_->db);
  pqxx::nontransaction n(c);
  // The relay numbers events as it publishes them: wait until it has caught up.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (n.exec("SELECT count(*) FROM outbox WHERE sequence IS NULL")[0][0].as<long>() > 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  std::string lines;
  long fired = 0;
  for (const auto& row : n.exec("SELECT event, type FROM outbox_events ORDER BY user_id, sequence")) {
    lines += std::string(row[0].c_str()) + "\n";
    fired += std::string_view(row[1].c_str()) == "com.todo.reminder.fired";
  }
  EXPECT_GE(fired, 3);
  const auto r = run_process(
      {"/usr/bin/python3", std::string(std::getenv("TODO_SOURCE_DIR")) + "/tests/e2e/check_event_schemas.py",
       "--gapless"},
      RunOptions{lines, "", 60s});
  EXPECT_EQ(r.status, 0) << r.output;
}

// Replica A fires (the only one with a scheduler); the user's socket is on replica B, which learns of the
// event through the cross-replica hint and reads it from the outbox.
TEST(RemindersReplicas, FiredOnOneReplicaReachesASocketOnAnother) {
  const std::string db = TestPostgres::shared().create_database("rem_" + random_hex(4));
  ServerProcess a(std::map<std::string, std::string>{{"DATABASE_URL", db}});
  ServerProcess b(std::map<std::string, std::string>{{"DATABASE_URL", db}, {"TODO_REMINDERS", "off"}});
  EXPECT_TRUE(a.output().find("reminder scheduler started") != std::string::npos);
  EXPECT_TRUE(b.output().find("reminder scheduler started") == std::string::npos);
  auto u = new_user(b.base_url());
  const std::string tid = create_task(u.client, json{{"title", "elsewhere"}})["id"];
  WsOptions o;
  o.target = "/api/v1/ws?access_token=" + url_encode(u.token);
  WsClient ws(b.base_url(), o);
  ASSERT_TRUE(ws.upgraded());
  ASSERT_TRUE(ws.send(R"({"type":"ping"})"));
  while (auto m = ws.next_json(5s))
    if ((*m)["type"] == "pong") break;
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", in(1s)}});
  ASSERT_EQ(r.status, 201) << r.describe();
  std::optional<json> fired;
  const auto deadline = Clock::now() + 15s;
  while (!fired && Clock::now() < deadline) {
    auto m = ws.next_json(1s);
    if (m && (*m)["type"] == "reminder.fired") fired = m;
  }
  ASSERT_TRUE(fired) << server_output_digest(a.output()) << server_output_digest(b.output());
  EXPECT_EQ((*fired)["data"]["reminder_id"], r.json()["id"]);
}

// On time: with a reminder planned an hour ahead the scheduler sleeps long (up to its safety wake-up, a
// minute); one added due 1.5 s ahead must wake it (NOTIFY re-plans the sleep) and fire at its time, not when
// the far one or a periodic poll would. A server and database of its own, so nothing else is due meanwhile.
TEST(RemindersOnTime, FiresAtItsTimeWhileTheSchedulerSleepsForALaterOne) {
  const std::string db = TestPostgres::shared().create_database("rem_" + random_hex(4));
  ServerProcess server(std::map<std::string, std::string>{{"DATABASE_URL", db}});
  auto u = new_user(server.base_url());
  const std::string tid = create_task(u.client, json{{"title", "on time"}})["id"];
  const auto path = "/api/v1/tasks/" + tid + "/reminders";
  auto far = u.client.post(path, json{{"at", in(1h)}});
  ASSERT_EQ(far.status, 201) << far.describe();
  std::this_thread::sleep_for(500ms);  // the scheduler has planned its sleep until the far one
  for (int round = 0; round < 3; ++round) {
    auto r = u.client.post(path, json{{"at", in(1500ms)}});
    ASSERT_EQ(r.status, 201) << r.describe();
    const std::string rid = r.json()["id"];
    json fired;
    ASSERT_TRUE(eventually(
        [&] {
          const auto items = u.client.get(path).json()["items"];
          for (const auto& item : items)
            if (item["id"] == rid && !item["fired_at"].is_null()) fired = item;
          return !fired.is_null();
        },
        10s))
        << "round " << round << ": not fired within 10 s of being due in 1.5 s\n"
        << server_output_digest(server.output());
    const auto due = instant_us(fired["fire_at"]), at = instant_us(fired["fired_at"]);
    ASSERT_TRUE(due && at) << fired;
    // fired_at is the database's clock_timestamp() when the fired event was written.
    const long long late_ms = (*at - *due) / 1000;
    EXPECT_GE(late_ms, 0) << "fired early: " << fired;
    EXPECT_LE(late_ms, 500) << "round " << round << ": fired " << late_ms << " ms late: " << fired;
    EXPECT_EQ(fired["state"], "delivered");
  }
  const auto items = u.client.get(path).json()["items"];
  const std::string far_id = far.json()["id"];
  for (const auto& item : items) {
    if (item["id"] == far_id) {
      EXPECT_EQ(item["state"], "scheduled") << "the far one waits";
    }
  }
}

TEST(RemindersStartTls, DeliversOverStartTlsWithAPrivateCa) {
  const std::string dir = make_temp_dir("todo-tls-");
  SelfSignedCert cert(dir);
  Stack stack({"--tls-cert", cert.cert, "--tls-key", cert.key, "--require-starttls"},
              {{"TODO_SMTP_STARTTLS", "required"}, {"TODO_SMTP_CA_FILE", cert.cert}});
  auto u = new_user(stack.url());
  ASSERT_EQ(u.client.patch("/api/v1/me", json{{"email_reminders", true}}).status, 200);
  const std::string tid = create_task(u.client, json{{"title", "tls"}})["id"];
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", in(500ms)}});
  ASSERT_EQ(r.status, 201);
  const std::string rid = r.json()["id"];
  std::optional<json> mail;
  ASSERT_TRUE(eventually([&] {
    for (auto& m : stack.sink->messages())
      if (m["reminder_id"] == rid) mail = m;
    return mail.has_value();
  })) << server_output_digest(stack.server->output())
      << stack.sink->log();
  EXPECT_EQ((*mail)["tls"], true);
}

TEST(RemindersStartTls, RequiredStartTlsRefusesAServerWithoutIt) {
  Stack stack({}, {{"TODO_SMTP_STARTTLS", "required"}, {"TODO_REMINDER_MAX_ATTEMPTS", "1"}});
  auto u = new_user(stack.url());
  ASSERT_EQ(u.client.patch("/api/v1/me", json{{"email_reminders", true}}).status, 200);
  const std::string tid = create_task(u.client, json{{"title", "tls"}})["id"];
  auto r = u.client.post("/api/v1/tasks/" + tid + "/reminders", json{{"at", in(300ms)}});
  ASSERT_EQ(r.status, 201);
  const std::string rid = r.json()["id"];
  json state;
  ASSERT_TRUE(eventually([&] {
    state = u.client.get("/api/v1/tasks/" + tid + "/reminders").json()["items"][0];
    return state["state"] == "failed";
  })) << state.dump();
  EXPECT_FALSE(state["last_error"].is_null());
  EXPECT_TRUE(stack.sink->messages().empty());
}

}  // namespace
}  // namespace todo::test

// End-to-end: task CRUD, optimistic concurrency, complete/reopen, and isolation between users.
#include <set>
#include <thread>

#include "e2e.hpp"

namespace todo::test {
namespace {

using TaskTest = E2eTest;

const std::set<std::string> kTaskKeys = {
    "id",         "title",          "description", "status",     "priority",        "tags",
    "due_at",     "all_day",        "timezone",    "recurrence", "recurrence_mode", "series_id",
    "occurrence", "generate_ahead", "created_at",  "updated_at", "completed_at",    "version"};

std::set<std::string> keys_of(const nlohmann::json& o) {
  std::set<std::string> keys;
  for (const auto& [k, v] : o.items())
    keys.insert(k);
  return keys;
}

std::set<std::string> tag_set(const nlohmann::json& tags) {
  std::set<std::string> out;
  for (const auto& t : tags)
    out.insert(t.get<std::string>());
  return out;
}

std::string path_of(const nlohmann::json& task) {
  return "/api/v1/tasks/" + task.at("id").get<std::string>();
}

TEST_F(TaskTest, CreateWithDefaults) {
  auto u = user();
  const auto r = u.client.post("/api/v1/tasks", {{"title", "  Buy milk  "}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const auto t = r.json();
  EXPECT_EQ(keys_of(t), kTaskKeys) << t;
  ASSERT_TRUE(std::regex_match(t.value("id", ""), kUuid)) << t;
  EXPECT_EQ(r.header("location"), "/api/v1/tasks/" + t["id"].get<std::string>());
  EXPECT_EQ(t["title"], "Buy milk");
  EXPECT_TRUE(t["description"] == "" || t["description"].is_null()) << t;
  EXPECT_EQ(t["status"], "open");
  EXPECT_EQ(t["priority"], "none");
  EXPECT_EQ(t["tags"], nlohmann::json::array());
  EXPECT_TRUE(t["due_at"].is_null());
  EXPECT_EQ(t["all_day"], false);
  EXPECT_EQ(t["timezone"], "UTC");
  EXPECT_TRUE(t["recurrence"].is_null());
  EXPECT_TRUE(t["completed_at"].is_null());
  EXPECT_TRUE(t["version"].is_number_integer());
  EXPECT_TRUE(instant_us(t["created_at"])) << t;
  EXPECT_TRUE(instant_us(t["updated_at"])) << t;
}

TEST_F(TaskTest, CreateWithEveryField) {
  auto u = user();
  const nlohmann::json in = {{"title", "Pay rent"},
                             {"description", "Transfer to the landlord"},
                             {"priority", "high"},
                             {"tags", {"Home", "errands", "home", "MONEY"}},
                             {"due_at", "2030-05-01T11:00:00+02:00"},
                             {"all_day", true},
                             {"timezone", "Europe/Paris"},
                             {"recurrence", "FREQ=MONTHLY;BYMONTHDAY=1"}};
  const auto r = u.client.post("/api/v1/tasks", in);
  ASSERT_EQ(r.status, 201) << r.describe();
  const auto t = r.json();
  EXPECT_EQ(t["title"], "Pay rent");
  EXPECT_EQ(t["description"], "Transfer to the landlord");
  EXPECT_EQ(t["priority"], "high");
  EXPECT_EQ(t["tags"].size(), 3u) << t["tags"];
  EXPECT_EQ(tag_set(t["tags"]), (std::set<std::string>{"home", "errands", "money"})) << t["tags"];
  ASSERT_TRUE(instant_us(t["due_at"])) << t["due_at"];
  EXPECT_EQ(*instant_us(t["due_at"]), *instant_us("2030-05-01T09:00:00Z"));
  EXPECT_TRUE(std::regex_match(t["due_at"].get<std::string>(), kRfc3339)) << t["due_at"];
  EXPECT_EQ(t["all_day"], true);
  EXPECT_EQ(t["timezone"], "Europe/Paris");
  EXPECT_EQ(t["recurrence"], "FREQ=MONTHLY;BYMONTHDAY=1");
}

TEST_F(TaskTest, TimezoneDefaultsToTheUsers) {
  auto u = user({{"timezone", "America/New_York"}});
  EXPECT_EQ(create_task(u.client, "call mom")["timezone"], "America/New_York");
}

TEST_F(TaskTest, GetReturnsWhatCreateReturned) {
  auto u = user();
  const auto t =
      create_task(u.client, {{"title", "read"}, {"tags", {"books"}}, {"due_at", "2031-01-02T03:04:05Z"}});
  const auto r = u.client.get(path_of(t));
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), t);
}

TEST_F(TaskTest, PatchIsPartialAndBumpsVersion) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "draft"},
                                        {"description", "first"},
                                        {"priority", "low"},
                                        {"tags", {"a"}},
                                        {"due_at", "2030-01-01T00:00:00Z"}});
  const auto r = u.client.patch(path_of(t), {{"title", "  final  "}});
  ASSERT_EQ(r.status, 200) << r.describe();
  auto p = r.json();
  EXPECT_EQ(p["title"], "final");
  EXPECT_EQ(p["version"], t["version"].get<long>() + 1);
  EXPECT_GE(*instant_us(p["updated_at"]), *instant_us(t["updated_at"]));
  for (const char* unchanged : {"id", "description", "priority", "tags", "due_at", "all_day", "timezone",
                                "recurrence", "created_at", "status", "completed_at"}) {
    EXPECT_EQ(p[unchanged], t[unchanged]) << unchanged;
  }
  EXPECT_EQ(u.client.get(path_of(t)).json(), p);

  // A recurring task needs due_at (422 otherwise): due_at moves here and is cleared with the rule below.
  const auto r2 = u.client.patch(path_of(t), {{"due_at", "2030-02-01T00:00:00Z"},
                                              {"recurrence", "FREQ=DAILY"},
                                              {"tags", {"X", "y", "x"}},
                                              {"priority", "urgent"},
                                              {"description", ""}});
  ASSERT_EQ(r2.status, 200) << r2.describe();
  p = r2.json();
  EXPECT_EQ(p["due_at"], "2030-02-01T00:00:00Z");
  EXPECT_EQ(p["recurrence"], "FREQ=DAILY");
  EXPECT_EQ(tag_set(p["tags"]), (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(p["tags"].size(), 2u);
  EXPECT_EQ(p["priority"], "urgent");
  EXPECT_EQ(p["description"], "");
  EXPECT_EQ(p["version"], t["version"].get<long>() + 2);

  const auto r3 = u.client.patch(path_of(t), {{"recurrence", nullptr}, {"due_at", nullptr}});
  ASSERT_EQ(r3.status, 200) << r3.describe();
  EXPECT_TRUE(r3.json()["recurrence"].is_null());
  EXPECT_TRUE(r3.json()["due_at"].is_null());
}

TEST_F(TaskTest, IfMatchConflictIs409) {
  auto u = user();
  const auto t = create_task(u.client, "contested");
  const long v = t["version"];
  const auto ok = u.client.patch(path_of(t), {{"title", "first writer"}}, {{"If-Match", std::to_string(v)}});
  ASSERT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(ok.json()["version"], v + 1);

  const auto stale =
      u.client.patch(path_of(t), {{"title", "second writer"}}, {{"If-Match", std::to_string(v)}});
  EXPECT_TRUE(IsProblem(stale, 409));
  const auto now = u.client.get(path_of(t)).json();
  EXPECT_EQ(now["title"], "first writer");
  EXPECT_EQ(now["version"], v + 1);
}

TEST_F(TaskTest, BodyVersionConflictIs409) {
  auto u = user();
  const auto t = create_task(u.client, "contested");
  const long v = t["version"];
  EXPECT_TRUE(IsProblem(u.client.patch(path_of(t), {{"title", "x"}, {"version", v + 5}}), 409));
  const auto ok = u.client.patch(path_of(t), {{"title", "y"}, {"version", v}});
  ASSERT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(ok.json()["title"], "y");
  EXPECT_EQ(ok.json()["version"], v + 1);
  EXPECT_TRUE(IsProblem(u.client.patch(path_of(t), {{"title", "z"}, {"version", v}}), 409))
      << "stale version";
  EXPECT_EQ(u.client.get(path_of(t)).json()["title"], "y");
}

TEST_F(TaskTest, ConcurrentWritersWithTheSameVersionOneWins) {
  auto u = user();
  const auto t = create_task(u.client, "race");
  long v = t["version"];
  for (int round = 0; round < 5; ++round) {
    std::vector<long> statuses(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < statuses.size(); ++i) {
      threads.emplace_back([&, i] {
        HttpClient c(base_url());
        c.set_token(u.token);
        statuses[i] = c.patch(path_of(t),
                              {{"title", "round " + std::to_string(round) + " writer " + std::to_string(i)}},
                              {{"If-Match", std::to_string(v)}})
                          .status;
      });
    }
    for (auto& th : threads)
      th.join();
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 1) << "round " << round;
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 3) << "round " << round;
    ++v;
    EXPECT_EQ(u.client.get(path_of(t)).json()["version"], v);
  }
}

TEST_F(TaskTest, CompleteAndReopenAreIdempotent) {
  auto u = user();
  const auto t = create_task(u.client, "water plants");
  const long v = t["version"];

  const auto c1 = u.client.post(path_of(t) + "/complete");
  ASSERT_EQ(c1.status, 200) << c1.describe();
  const auto done = c1.json();
  EXPECT_EQ(done["status"], "done");
  EXPECT_TRUE(instant_us(done["completed_at"])) << done;
  EXPECT_EQ(done["version"], v + 1);

  const auto c2 = u.client.post(path_of(t) + "/complete");
  ASSERT_EQ(c2.status, 200) << c2.describe();
  EXPECT_EQ(c2.json(), done) << "completing a done task changed it";

  const auto r1 = u.client.post(path_of(t) + "/reopen");
  ASSERT_EQ(r1.status, 200) << r1.describe();
  const auto open = r1.json();
  EXPECT_EQ(open["status"], "open");
  EXPECT_TRUE(open["completed_at"].is_null());
  EXPECT_EQ(open["version"], v + 2);

  const auto r2 = u.client.post(path_of(t) + "/reopen");
  ASSERT_EQ(r2.status, 200) << r2.describe();
  EXPECT_EQ(r2.json(), open) << "reopening an open task changed it";
  EXPECT_EQ(u.client.get(path_of(t)).json(), open);
}

TEST_F(TaskTest, DeleteThenGone) {
  auto u = user();
  const auto t = create_task(u.client, "temporary");
  const auto d = u.client.del(path_of(t));
  EXPECT_EQ(d.status, 204) << d.describe();
  EXPECT_TRUE(d.body.empty());
  EXPECT_TRUE(IsProblem(u.client.get(path_of(t)), 404));
  EXPECT_TRUE(IsProblem(u.client.del(path_of(t)), 404));
  EXPECT_TRUE(IsProblem(u.client.patch(path_of(t), {{"title", "x"}}), 404));
  EXPECT_TRUE(IsProblem(u.client.post(path_of(t) + "/complete"), 404));
  EXPECT_TRUE(list_tasks(u.client)["items"].empty());
}

TEST_F(TaskTest, UnknownIdIs404) {
  auto u = user();
  const std::string path = "/api/v1/tasks/6f1c2d3e-4b5a-4c6d-8e7f-" + random_hex(6);
  EXPECT_TRUE(IsProblem(u.client.get(path), 404));
  EXPECT_TRUE(IsProblem(u.client.patch(path, {{"title", "x"}}), 404));
  EXPECT_TRUE(IsProblem(u.client.del(path), 404));
  EXPECT_TRUE(IsProblem(u.client.post(path + "/complete"), 404));
  EXPECT_TRUE(IsProblem(u.client.post(path + "/reopen"), 404));
}

TEST_F(TaskTest, UsersSeeOnlyTheirOwnTasks) {
  auto alice = user();
  auto bob = user();
  const auto t = create_task(alice.client, {{"title", "alice's secret"}, {"tags", {"private"}}});
  const auto mine = create_task(bob.client, {{"title", "bob's"}, {"tags", {"bobtag"}}});

  EXPECT_TRUE(IsProblem(bob.client.get(path_of(t)), 404));
  EXPECT_TRUE(IsProblem(bob.client.patch(path_of(t), {{"title", "pwned"}}), 404));
  EXPECT_TRUE(IsProblem(bob.client.patch(path_of(t), {{"title", "pwned"}}, {{"If-Match", "1"}}), 404));
  EXPECT_TRUE(IsProblem(bob.client.post(path_of(t) + "/complete"), 404));
  EXPECT_TRUE(IsProblem(bob.client.post(path_of(t) + "/reopen"), 404));
  EXPECT_TRUE(IsProblem(bob.client.del(path_of(t)), 404));

  // Another user's task looks exactly like a missing one.
  const auto other = bob.client.get(path_of(t)).json();
  const auto missing = bob.client.get("/api/v1/tasks/00000000-0000-4000-8000-000000000001").json();
  EXPECT_EQ(other["type"], missing["type"]);
  EXPECT_EQ(other["title"], missing["title"]);

  EXPECT_EQ(ids_of(list_tasks(bob.client)["items"]), std::vector<std::string>{mine["id"]});
  for (const char* q : {"q=secret", "tag=private", "any_tag=private", "status=open"}) {
    const auto items = list_tasks(bob.client, q)["items"];
    for (const auto& item : items)
      EXPECT_NE(item["id"], t["id"]) << q;
  }
  const auto tags = bob.client.get("/api/v1/tags");
  ASSERT_EQ(tags.status, 200) << tags.describe();
  EXPECT_EQ(tags.json(), nlohmann::json::parse(R"([{"tag":"bobtag","count":1}])"));

  const auto after = alice.client.get(path_of(t));
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.json(), t) << "bob changed alice's task";
  EXPECT_EQ(ids_of(list_tasks(alice.client)["items"]), std::vector<std::string>{t["id"]});
}

}  // namespace
}  // namespace todo::test

// End-to-end: task CRUD, optimistic concurrency, complete/reopen, and isolation between users.
#include <map>
#include <set>
#include <thread>

#include "e2e.hpp"

namespace todo::test {
using namespace std::chrono_literals;
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

// An all-day task's day is the date of its due_at in its zone: a new zone keeps the day (its wall time, at a
// new instant), so the overdue and due-date filters still see it on that day. A timed task keeps its instant,
// and a due_at given with the zone is taken as given. (The instant was kept: Berlin's Thursday became New
// York's Wednesday.)
TEST_F(TaskTest, ANewZoneKeepsAnAllDayTasksDay) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "bins out"},
                                        {"due_at", "2030-01-10T00:00:00+01:00"},
                                        {"all_day", true},
                                        {"timezone", "Europe/Berlin"}});
  auto r = u.client.patch(path_of(t), {{"timezone", "America/New_York"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["due_at"], "2030-01-10T05:00:00Z");
  EXPECT_EQ(r.json()["timezone"], "America/New_York");
  EXPECT_EQ(r.json()["version"], 2);
  const auto listed =
      u.client.get("/api/v1/tasks?due_after=2030-01-10T00:00:00Z&due_before=2030-01-11T00:00:00Z");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  ASSERT_EQ(listed.json()["items"].size(), 1u);
  EXPECT_EQ(listed.json()["items"][0]["id"], t["id"]);
  const auto audit = u.client.get("/api/v1/audit?task_id=" + t["id"].get<std::string>());
  ASSERT_EQ(audit.status, 200) << audit.describe();
  const nlohmann::json changes = audit.json()["items"][0]["changes"];
  EXPECT_EQ(changes["due_at"], nlohmann::json::array({"2030-01-09T23:00:00Z", "2030-01-10T05:00:00Z"}))
      << audit.json().dump();
  EXPECT_EQ(changes["timezone"], nlohmann::json::array({"Europe/Berlin", "America/New_York"}));

  r = u.client.patch(path_of(t), {{"timezone", "Asia/Tokyo"}, {"due_at", "2030-01-10T15:00:00Z"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["due_at"], "2030-01-10T15:00:00Z");

  const auto timed = create_task(
      u.client, {{"title", "call"}, {"due_at", "2030-01-10T15:00:00Z"}, {"timezone", "Europe/Berlin"}});
  r = u.client.patch(path_of(timed), {{"timezone", "America/New_York"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["due_at"], "2030-01-10T15:00:00Z");
}

TEST_F(TaskTest, IfMatchConflictIs409) {
  auto u = user();
  const auto t = create_task(u.client, "contested");
  const long v = t["version"];
  const auto ok = u.client.patch(path_of(t), {{"title", "first writer"}},
                                 {{"If-Match", "\"" + std::to_string(v) + "\""}});
  ASSERT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(ok.json()["version"], v + 1);

  const auto stale = u.client.patch(path_of(t), {{"title", "second writer"}},
                                    {{"If-Match", "\"" + std::to_string(v) + "\""}});
  EXPECT_TRUE(IsProblem(stale, 409, "If-Match")) << "the conflict names where the version came from";
  const auto now = u.client.get(path_of(t)).json();
  EXPECT_EQ(now["title"], "first writer");
  EXPECT_EQ(now["version"], v + 1);
  EXPECT_TRUE(
      IsProblem(u.client.del(path_of(t), {{"If-Match", "\"" + std::to_string(v) + "\""}}), 409, "If-Match"));
  EXPECT_EQ(u.client.get(path_of(t)).status, 200) << "a stale delete deleted";
}

TEST_F(TaskTest, BodyVersionConflictIs409) {
  auto u = user();
  const auto t = create_task(u.client, "contested");
  const long v = t["version"];
  EXPECT_TRUE(IsProblem(u.client.patch(path_of(t), {{"title", "x"}, {"version", v + 5}}), 409, "version"));
  const auto ok = u.client.patch(path_of(t), {{"title", "y"}, {"version", v}});
  ASSERT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(ok.json()["title"], "y");
  EXPECT_EQ(ok.json()["version"], v + 1);
  EXPECT_TRUE(IsProblem(u.client.patch(path_of(t), {{"title", "z"}, {"version", v}}), 409))
      << "stale version";
  EXPECT_EQ(u.client.get(path_of(t)).json()["title"], "y");
}

// Every change of one task evaluates its precondition, not PATCH alone: complete, reopen and DELETE take
// If-Match and a body holding only "version"; a stale one is a 409 and changes nothing, also when the
// change would be a no-op. A GET evaluates If-Match too, and If-None-Match answers 304.
TEST_F(TaskTest, CompleteReopenDeleteAndGetEvaluateTheirPreconditions) {
  auto u = user();
  const auto t = create_task(u.client, "guarded");
  const std::string path = path_of(t);
  ASSERT_EQ(u.client.patch(path, {{"title", "guarded, v2"}}).status, 200);
  const Headers stale{{"If-Match", "\"1\""}};
  EXPECT_TRUE(IsProblem(u.client.post(path + "/complete", nlohmann::json::object(), stale), 409, "If-Match"));
  EXPECT_TRUE(IsProblem(u.client.post(path + "/complete", {{"version", 1}}), 409, "version"));
  EXPECT_TRUE(IsProblem(u.client.post(path + "/reopen", nlohmann::json::object(), stale), 409, "If-Match"))
      << "a no-op change with a stale precondition is still refused";
  EXPECT_TRUE(IsProblem(u.client.request("DELETE", path, R"({"version":1})"), 409, "version"));
  EXPECT_TRUE(IsProblem(u.client.get(path, stale), 409, "If-Match"));
  EXPECT_EQ(u.client.get(path).json()["status"], "open");

  // What else a body may hold: nothing but version, and JSON.
  EXPECT_TRUE(IsProblem(u.client.post(path + "/complete", {{"status", "done"}}), 422, "status"));
  EXPECT_TRUE(IsProblem(u.client.request("DELETE", path, "garbage{"), 400));
  EXPECT_TRUE(
      IsProblem(u.client.post(path + "/complete", {{"version", 2}}, {{"If-Match", "\"3\""}}), 422, "version"))
      << "a body version the If-Match header does not name";
  const auto done = u.client.post(path + "/complete", {{"version", 2}});
  ASSERT_EQ(done.status, 200) << done.describe();
  EXPECT_EQ(done.json()["version"], 3);
  EXPECT_EQ(u.client.post(path + "/reopen", nlohmann::json::object(), {{"If-Match", "\"3\""}}).status, 200);

  // If-None-Match: the current entity tag (or *) is a 304 without a body; another one the task.
  const auto current = u.client.get(path);
  const std::string etag = current.headers.at("etag");
  for (const std::string& same : {etag, "W/" + etag, std::string("*"), "\"99\", " + etag}) {
    const auto r = u.client.get(path, {{"If-None-Match", same}});
    EXPECT_EQ(r.status, 304) << same;
    EXPECT_TRUE(r.body.empty()) << same;
    EXPECT_EQ(r.headers.count("etag") ? r.headers.at("etag") : "", etag) << same;
  }
  EXPECT_EQ(u.client.get(path, {{"If-None-Match", "\"1\""}}).status, 200);
}

// If-Match is `*` or a list of entity tags, over one line or several (RFC 9110 13.1.1): any of them may
// match. An empty value is malformed, not absent.
TEST_F(TaskTest, IfMatchTakesAListOverOneLineOrSeveral) {
  auto u = user();
  const auto t = create_task(u.client, "listed");
  const std::string path = path_of(t);
  const auto ok = u.client.patch(path, {{"title", "a"}}, {{"If-Match", "\"5\", \"1\""}});
  ASSERT_EQ(ok.status, 200) << ok.describe();
  EXPECT_TRUE(
      IsProblem(u.client.patch(path, {{"title", "b"}}, {{"If-Match", "\"5\", \"1\""}}), 409, "If-Match"));
  EXPECT_EQ(u.client.patch(path, {{"title", "c"}}, {{"If-Match", "W/\"2\", \"2\""}}).status, 200)
      << "a weak tag in the list does not match, the strong one does";
  for (const char* bad : {"\"3\", *", "\"3\", x", ","})
    EXPECT_TRUE(IsProblem(u.client.patch(path, {{"title", "d"}}, {{"If-Match", bad}}), 400, "If-Match"))
        << bad;

  // Two header lines, and an empty one, need a raw request.
  const auto raw_patch = [&](const std::string& if_match_lines) {
    const std::string body = R"({"title":"e"})";
    RawConnection c(u.client.base_url());
    EXPECT_TRUE(c.send("PATCH " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token +
                       "\r\nContent-Type: application/json\r\n" + if_match_lines +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
    return c.read_response(5s);
  };
  const auto two_lines = raw_patch("If-Match: \"9\"\r\nIf-Match: \"3\"\r\n");
  ASSERT_TRUE(two_lines);
  EXPECT_EQ(two_lines->status, 200) << two_lines->describe();
  const auto empty = raw_patch("If-Match:\r\n");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(IsProblem(*empty, 400, "If-Match"));
  EXPECT_NE(empty->json()["detail"].get<std::string>().find("(an empty value)"), std::string::npos)
      << empty->body;
  const auto abc = u.client.patch(path, {{"title", "d"}}, {{"If-Match", "abc"}});
  EXPECT_NE(abc.json()["detail"].get<std::string>().find("(expected a version number)"), std::string::npos)
      << abc.body;

  // If-None-Match over several lines is one list too.
  RawConnection c(u.client.base_url());
  ASSERT_TRUE(c.send("GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token +
                     "\r\nIf-None-Match: \"9\"\r\nIf-None-Match: \"4\"\r\n\r\n"));
  const auto not_modified = c.read_response(5s);
  ASSERT_TRUE(not_modified);
  EXPECT_EQ(not_modified->status, 304) << not_modified->describe();
  EXPECT_EQ(u.client.get(path).json()["version"], 4);
}

// An entity tag is a quoted string compared character by character (RFC 9110 8.8.3): If-Match: "02" matched
// version 2 (it is another tag: a 409 like any stale one), and an unquoted 2 did too (it is no entity tag: a
// 400 saying tags are quoted). Every route taking If-Match reads it alike.
TEST_F(TaskTest, EntityTagsAreQuotedAndComparedAsWritten) {
  auto u = user();
  const auto t = create_task(u.client, "tagged");
  const std::string path = path_of(t);
  ASSERT_EQ(u.client.patch(path, {{"title", "tagged, v2"}}).status, 200);
  const auto unchanged = [&] {
    const auto now = u.client.get(path).json();
    EXPECT_EQ(now["version"], 2);
    EXPECT_EQ(now["title"], "tagged, v2");
    EXPECT_EQ(now["status"], "open");
  };
  const auto each_route = [&](const std::string& if_match) {
    const Headers h{{"If-Match", if_match}};
    return std::vector<HttpResponse>{u.client.patch(path, {{"title", "changed"}}, h),
                                     u.client.post(path + "/complete", nlohmann::json::object(), h),
                                     u.client.post(path + "/reopen", nlohmann::json::object(), h),
                                     u.client.get(path, h), u.client.del(path, h)};
  };
  for (const std::string unquoted : {"2", "W/2", "02"}) {
    SCOPED_TRACE(unquoted);
    for (const auto& r : each_route(unquoted)) {
      EXPECT_TRUE(IsProblem(r, 400, "If-Match")) << r.describe();
      EXPECT_NE(r.body.find("an entity tag is quoted"), std::string::npos) << r.body;
    }
    unchanged();
  }
  const auto bare = u.client.patch(path, {{"title", "changed"}}, {{"If-Match", "2"}});
  EXPECT_EQ(bare.json()["errors"][0]["message"], "an entity tag is quoted: \"2\", not 2") << bare.body;
  for (const std::string other : {"\"02\"", "\"0002\"", "\"02\", W/\"2\""}) {
    SCOPED_TRACE(other);
    for (const auto& r : each_route(other))
      EXPECT_TRUE(IsProblem(r, 409, "If-Match")) << r.describe();
    unchanged();
  }
  // Beside the tag as written, the tag matches; a task that does not exist is still a 404.
  const auto ok = u.client.patch(path, {{"title", "changed"}}, {{"If-Match", "\"02\", \"2\""}});
  ASSERT_EQ(ok.status, 200) << ok.describe();
  EXPECT_EQ(ok.json()["version"], 3);
  EXPECT_TRUE(IsProblem(u.client.patch("/api/v1/tasks/00000000-0000-4000-8000-000000000000", {{"title", "x"}},
                                       {{"If-Match", "\"03\""}}),
                        404));
}

// RFC 9110 13.1.2: If-None-Match makes a change conditional too, and was ignored. `*` (the task exists) or a
// tag naming its current version, weak or strong, is a 412 naming it, and nothing changes; other tags let the
// change go on. If-Match is evaluated first. A GET keeps its 304.
TEST_F(TaskTest, IfNoneMatchNamingTheCurrentVersionRefusesAChangeWith412) {
  auto u = user();
  const auto t = create_task(u.client, "guarded");
  const std::string path = path_of(t);
  const auto changes = [&](const Headers& h) {
    return std::vector<HttpResponse>{u.client.patch(path, {{"title", "changed"}}, h),
                                     u.client.post(path + "/complete", nlohmann::json::object(), h),
                                     u.client.post(path + "/reopen", nlohmann::json::object(), h),
                                     u.client.del(path, h)};
  };
  for (const std::string current : {"*", "\"1\"", "W/\"1\"", "\"7\", \"1\""}) {
    SCOPED_TRACE(current);
    for (const auto& r : changes({{"If-None-Match", current}}))
      EXPECT_TRUE(IsProblem(r, 412, "If-None-Match")) << r.describe();
    const auto now = u.client.get(path);
    ASSERT_EQ(now.status, 200) << "a refused DELETE deleted";
    EXPECT_EQ(now.json()["version"], 1);
    EXPECT_EQ(now.json()["title"], "guarded");
    EXPECT_EQ(now.json()["status"], "open");
  }
  const auto other = u.client.patch(path, {{"title", "changed"}}, {{"If-None-Match", "\"7\", \"01\""}});
  ASSERT_EQ(other.status, 200) << other.describe();
  EXPECT_EQ(other.json()["version"], 2);
  EXPECT_EQ(u.client.post(path + "/complete", nlohmann::json::object(), {{"If-None-Match", "\"1\""}}).status,
            200);
  // If-Match first: a stale one is the 409 whatever If-None-Match says; a current one lets If-None-Match
  // speak.
  EXPECT_TRUE(
      IsProblem(u.client.patch(path, {{"title", "x"}}, {{"If-Match", "\"1\""}, {"If-None-Match", "*"}}), 409,
                "If-Match"));
  EXPECT_TRUE(IsProblem(u.client.del(path, {{"If-Match", "\"3\""}, {"If-None-Match", "\"3\""}}), 412,
                        "If-None-Match"));
  EXPECT_TRUE(IsProblem(u.client.request("DELETE", path, R"({"version":3})", {{"If-None-Match", "*"}}), 412,
                        "If-None-Match"));
  // Malformed as If-Match would be; a task that does not exist is a 404.
  EXPECT_TRUE(
      IsProblem(u.client.patch(path, {{"title", "x"}}, {{"If-None-Match", "3"}}), 400, "If-None-Match"));
  EXPECT_TRUE(IsProblem(u.client.patch("/api/v1/tasks/00000000-0000-4000-8000-000000000000", {{"title", "x"}},
                                       {{"If-None-Match", "*"}}),
                        404));
  EXPECT_EQ(u.client.get(path, {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(u.client.get(path).json()["version"], 3);
}

// A query parameter a route does not take is a 422 naming it, before anything is done: a misspelt scope
// must not skip one occurrence where the whole series was meant.
TEST_F(TaskTest, UnknownQueryParametersAreRefusedOnEveryRoute) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "rent"},
                                        {"due_at", "2030-01-04T09:00:00Z"},
                                        {"recurrence", "FREQ=DAILY"},
                                        {"generate_ahead", 2}});
  const std::string path = path_of(t);
  EXPECT_TRUE(IsProblem(u.client.del(path + "?scpoe=series"), 422, "scpoe"));
  EXPECT_TRUE(IsProblem(u.client.patch(path + "?Scope=series", {{"title", "RENT"}}), 422, "Scope"));
  EXPECT_EQ(list_tasks(u.client, "status=open")["items"].size(), 3u) << "nothing was skipped";
  EXPECT_EQ(u.client.get(path).json()["title"], "rent");
  EXPECT_TRUE(IsProblem(u.client.get(path + "?foo=1"), 422, "foo"));
  EXPECT_TRUE(
      IsProblem(u.client.post(path + "/complete?scope=series", nlohmann::json::object()), 422, "scope"));
  EXPECT_TRUE(IsProblem(u.client.post(path + "/reopen?x=1", nlohmann::json::object()), 422, "x"));
  EXPECT_TRUE(IsProblem(u.client.get(path + "/reminders?x=1"), 422, "x"));
  EXPECT_TRUE(IsProblem(u.client.post(path + "/reminders?x=1", {{"before_due", "PT0S"}}), 422, "x"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/me?x=1"), 422, "x"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks?x=1", {{"title", "y"}}), 422, "x"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tags?status=done"), 422, "status"));
  EXPECT_TRUE(IsProblem(u.client.get(path + "/occurrences?cnt=2"), 422, "cnt"));
  EXPECT_EQ(list_tasks(u.client, "")["items"].size(), 3u) << "nothing was created or changed";
  // What each route takes still works.
  EXPECT_EQ(u.client.get(path + "/occurrences?count=2").status, 200);
  EXPECT_EQ(u.client.patch(path + "?scope=series", {{"title", "RENT"}}).status, 200);
  EXPECT_EQ(u.client.get("/healthz?probe=1").status, 200) << "probes take whatever a prober adds";
  // Without a good token the 401 comes first, as on the routes that read their own parameters (GET /tasks).
  HttpClient anonymous(base_url());
  for (const auto& r : {anonymous.del(path + "?scpoe=series"), anonymous.get("/api/v1/me?x=1"),
                        anonymous.get("/api/v1/tasks?x=1"), anonymous.get("/api/v1/tags?status=done"),
                        anonymous.post("/api/v1/tasks?x=1", {{"title", "y"}})})
    EXPECT_TRUE(IsProblem(r, 401)) << r.describe();
  HttpClient forged(base_url());
  forged.set_token(u.token + "x");
  EXPECT_TRUE(IsProblem(forged.get(path + "?foo=1"), 401));
  // Registration and login take no token: their unknown parameters are the 422.
  EXPECT_TRUE(IsProblem(
      anonymous.post("/api/v1/auth/login?x=1", {{"email", "a@b.c"}, {"password", "12345678"}}), 422, "x"));
  EXPECT_EQ(list_tasks(u.client, "")["items"].size(), 3u) << "nothing was created or changed";
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
                              {{"If-Match", "\"" + std::to_string(v) + "\""}})
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

// Creates sent at once share transactions (tasks::CreateBatcher); each is answered with its own task, stored
// once, for its own user, with its own event id and audit row.
TEST_F(TaskTest, ConcurrentCreatesAreEachStoredOnceForTheirUser) {
  auto a = user();
  auto b = user();
  auto metrics = anon();
  const auto sum_before = metric_value(metrics.get("/metrics").body, "tasks_create_batch_size_sum", {});
  const auto batches_before = metric_value(metrics.get("/metrics").body, "tasks_create_batch_size_count", {});
  constexpr int kThreads = 24;
  constexpr int kEach = 4;
  std::vector<std::vector<std::pair<long, nlohmann::json>>> answers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      HttpClient c(base_url());
      c.set_token(i % 2 ? b.token : a.token);
      for (int k = 0; k < kEach; ++k) {
        const auto r = c.post("/api/v1/tasks",
                              {{"title", "t" + std::to_string(i) + "-" + std::to_string(k)},
                               {"tags", {"w" + std::to_string(i)}},
                               {"priority", k % 2 ? "high" : "low"}},
                              {{"X-Request-Id", "create-" + std::to_string(i) + "-" + std::to_string(k)}});
        answers[i].emplace_back(r.status, r.status == 201 ? r.json() : nlohmann::json(r.body));
      }
    });
  }
  for (auto& t : threads)
    t.join();

  std::map<std::string, std::set<std::string>> titles_of_user;  // as answered
  for (int i = 0; i < kThreads; ++i) {
    for (int k = 0; k < kEach; ++k) {
      const auto& [status, body] = answers[i][k];
      ASSERT_EQ(status, 201) << body;
      EXPECT_EQ(body["title"], "t" + std::to_string(i) + "-" + std::to_string(k));
      EXPECT_EQ(body["tags"], nlohmann::json::array({"w" + std::to_string(i)}));
      EXPECT_EQ(body["priority"], k % 2 ? "high" : "low");
      titles_of_user[i % 2 ? "b" : "a"].insert(body["title"].get<std::string>());
    }
  }
  const auto listed = [](TestUser& u) {
    std::multiset<std::string> out;
    for (const auto& t : list_all(u.client, "sort=title", 200))
      out.insert(t["title"].get<std::string>());
    return out;
  };
  const auto in_a = listed(a);
  const auto in_b = listed(b);
  EXPECT_EQ(in_a, std::multiset<std::string>(titles_of_user["a"].begin(), titles_of_user["a"].end()));
  EXPECT_EQ(in_b, std::multiset<std::string>(titles_of_user["b"].begin(), titles_of_user["b"].end()));
  EXPECT_EQ(in_a.size() + in_b.size(), std::size_t{kThreads * kEach});
  // Each create has its audit row, with the request id it was sent with.
  const auto audit = a.client.get("/api/v1/audit?action=task.created&limit=200");
  ASSERT_EQ(audit.status, 200) << audit.describe();
  std::set<std::string> request_ids;
  const auto entries = audit.json();  // named: a range-for does not keep the temporary alive
  for (const auto& e : entries["items"])
    request_ids.insert(e["request_id"].get<std::string>());
  EXPECT_EQ(request_ids.size(), std::size_t{kThreads / 2 * kEach});
  EXPECT_TRUE(request_ids.count("create-0-0") && request_ids.count("create-22-3")) << *request_ids.begin();
  // Every create went through a batch; how many shared one depends on timing.
  const auto text = metrics.get("/metrics").body;
  EXPECT_EQ(metric_value(text, "tasks_create_batch_size_sum", {}) - sum_before, kThreads * kEach);
  const auto batches = metric_value(text, "tasks_create_batch_size_count", {}) - batches_before;
  EXPECT_GE(batches, 1);
  EXPECT_LE(batches, kThreads * kEach);
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
  EXPECT_EQ(done["completed_at"], done["updated_at"]) << "one change, one time: the database's";
  EXPECT_EQ(done["version"], v + 1);
  // The same by PATCH, and for a task created done.
  const auto other = create_task(u.client, "feed cat");
  const auto patched = u.client.patch(path_of(other), {{"status", "done"}}).json();
  EXPECT_EQ(patched["completed_at"], patched["updated_at"]) << patched;
  const auto born_done = create_task(u.client, {{"title", "born done"}, {"status", "done"}});
  EXPECT_EQ(born_done["completed_at"], born_done["created_at"]) << born_done;

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
  EXPECT_TRUE(IsProblem(bob.client.patch(path_of(t), {{"title", "pwned"}}, {{"If-Match", "\"1\""}}), 404));
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

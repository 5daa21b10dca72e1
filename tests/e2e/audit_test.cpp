// End-to-end: the audit trail through the API — one row per change (action, task, request id, time, old and
// new values), filters, keyset pages, statistics per action and per day, per-user isolation, bad input, and
// no route that alters history.
#include <barrier>
#include <map>
#include <pqxx/pqxx>
#include <thread>

#include "e2e.hpp"
#include "support/jwt.hpp"
#include "todo/core/encoding.hpp"

namespace todo::test {
namespace {

using AuditTest = E2eTest;
using nlohmann::json;

/// GET /api/v1/audit?<query>, which must answer 200 {items, next_cursor}; returns the body.
json audit(HttpClient& client, const std::string& query = "") {
  const auto r = client.get("/api/v1/audit" + (query.empty() ? "" : "?" + query));
  if (r.status != 200) throw std::runtime_error("GET /api/v1/audit?" + query + ": " + r.describe());
  auto body = r.json();
  if (!body.is_object() || !body.contains("items") || !body["items"].is_array() ||
      !body.contains("next_cursor") || !(body["next_cursor"].is_null() || body["next_cursor"].is_string()))
    throw std::runtime_error("GET /api/v1/audit?" + query + ": not {items, next_cursor}: " + r.body);
  return body;
}

/// Every entry of GET /api/v1/audit?<query>, following next_cursor with pages of `limit`; `between` runs
/// after each page.
json audit_all(HttpClient& client, const std::string& query, int limit, int* pages = nullptr,
               const std::function<void(int)>& between = {}) {
  json all = json::array();
  std::string cursor;
  int n = 0;
  for (;;) {
    std::string q = query + (query.empty() ? "" : "&") + "limit=" + std::to_string(limit);
    if (!cursor.empty()) q += "&cursor=" + url_encode(cursor);
    const auto page = audit(client, q);
    ++n;
    if (static_cast<int>(page["items"].size()) > limit) throw std::runtime_error("page larger than limit");
    for (const auto& e : page["items"])
      all.push_back(e);
    if (between) between(n);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"].get<std::string>();
    if (n > 1000) throw std::runtime_error("pagination does not end");
  }
  if (pages != nullptr) *pages = n;
  return all;
}

std::vector<long long> entry_ids(const json& items) {
  std::vector<long long> out;
  for (const auto& e : items)
    out.push_back(e.at("id").get<long long>());
  return out;
}

std::vector<std::string> field_of(const json& items, const char* field) {
  std::vector<std::string> out;
  for (const auto& e : items)
    out.push_back(e.at(field).is_string() ? e.at(field).get<std::string>() : e.at(field).dump());
  return out;
}

std::string request_id(const std::string& what) {
  return "e2e-" + what + "-" + random_hex(4);
}

/// The calendar day (YYYY-MM-DD) of an RFC 3339 instant at a fixed UTC offset.
std::string day_at_offset(const json& at, std::chrono::hours offset) {
  using namespace std::chrono;
  const auto us = instant_us(at);
  if (!us) throw std::runtime_error("not an instant: " + at.dump());
  const sys_time<microseconds> t{microseconds(*us) + offset};
  const year_month_day ymd{floor<days>(t)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

const std::vector<std::string> kActions = {"task.created", "task.updated", "task.completed", "task.reopened",
                                           "task.deleted"};

TEST_F(AuditTest, EachChangeIsRecordedNewestFirstWithItsRequestId) {
  auto alice = user();
  auto bob = user();
  const std::string rid_create = request_id("create"), rid_patch = request_id("patch"),
                    rid_complete = request_id("complete"), rid_reopen = request_id("reopen"),
                    rid_delete = request_id("delete");

  auto r = alice.client.post("/api/v1/tasks", {{"title", "pay rent"}, {"priority", "low"}},
                             {{"X-Request-Id", rid_create}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const json created = r.json();
  const std::string id = created.at("id");
  const std::string path = "/api/v1/tasks/" + id;

  r = alice.client.patch(path, {{"title", "pay the rent"}}, {{"X-Request-Id", rid_patch}});
  ASSERT_EQ(r.status, 200) << r.describe();
  // Refused and no-op changes leave no row.
  EXPECT_EQ(alice.client.patch(path, {{"title", "stale"}}, {{"If-Match", "\"1\""}}).status, 409);
  EXPECT_EQ(alice.client.patch(path, {{"priority", "whenever"}}).status, 422);
  EXPECT_EQ(alice.client.patch(path, {{"title", "pay the rent"}}).status, 200);
  EXPECT_EQ(bob.client.del(path).status, 404);

  r = alice.client.request("POST", path + "/complete", std::nullopt, {{"X-Request-Id", rid_complete}});
  ASSERT_EQ(r.status, 200) << r.describe();
  const json completed = r.json();
  EXPECT_EQ(alice.client.post(path + "/complete").status, 200);
  r = alice.client.request("POST", path + "/reopen", std::nullopt, {{"X-Request-Id", rid_reopen}});
  ASSERT_EQ(r.status, 200) << r.describe();
  r = alice.client.del(path, {{"X-Request-Id", rid_delete}});
  ASSERT_EQ(r.status, 204) << r.describe();

  const auto page = audit(alice.client);
  const json& items = page["items"];
  EXPECT_TRUE(page["next_cursor"].is_null());
  ASSERT_EQ(field_of(items, "action"),
            std::vector<std::string>(
                {"task.deleted", "task.reopened", "task.completed", "task.updated", "task.created"}))
      << items.dump(1);
  EXPECT_EQ(field_of(items, "request_id"),
            std::vector<std::string>({rid_delete, rid_reopen, rid_complete, rid_patch, rid_create}));
  std::optional<long long> previous;
  for (const auto& e : items) {
    SCOPED_TRACE(e.dump());
    EXPECT_EQ(e.value("task_id", ""), id);
    EXPECT_TRUE(e.contains("id") && e["id"].is_number_integer());
    ASSERT_TRUE(e.contains("at") && e["at"].is_string() &&
                std::regex_match(e["at"].get<std::string>(), kRfc3339));
    const auto at = instant_us(e["at"]);
    ASSERT_TRUE(at);
    if (previous) {
      EXPECT_LE(*at, *previous) << "not newest first";
    }
    previous = at;
    ASSERT_TRUE(e.contains("changes") && e["changes"].is_object());
  }
  EXPECT_EQ(items[3]["changes"], json({{"title", {"pay rent", "pay the rent"}}}));
  EXPECT_EQ(items[2]["changes"],
            json({{"status", {"open", "done"}}, {"completed_at", {nullptr, completed["completed_at"]}}}));
  EXPECT_EQ(items[1]["changes"],
            json({{"status", {"done", "open"}}, {"completed_at", {completed["completed_at"], nullptr}}}));
  // Created: every field [null, value]; deleted: every field [value, null].
  const json& born = items[4]["changes"];
  EXPECT_EQ(born.value("title", json()), json({nullptr, "pay rent"}));
  EXPECT_EQ(born.value("priority", json()), json({nullptr, "low"}));
  for (const auto& [field, change] : born.items())
    EXPECT_TRUE(change.is_array() && change.size() == 2 && change[0].is_null()) << field << ": " << change;
  const json& gone = items[0]["changes"];
  EXPECT_EQ(gone.value("title", json()), json({"pay the rent", nullptr}));
  for (const auto& [field, change] : gone.items())
    EXPECT_TRUE(change.is_array() && change.size() == 2 && change[1].is_null()) << field << ": " << change;
  // The creation's time is the task's.
  EXPECT_EQ(instant_us(items[4]["at"]), instant_us(created["created_at"]));

  // Another user sees none of it, however asked.
  EXPECT_EQ(audit(bob.client)["items"], json::array());
  EXPECT_EQ(audit(bob.client, "task_id=" + id)["items"], json::array());
  EXPECT_EQ(audit(bob.client, "action=task.created")["items"], json::array());
  const json bobs = create_task(bob.client, "bob's");
  const auto theirs = audit(bob.client)["items"];
  ASSERT_EQ(theirs.size(), 1u) << theirs.dump();
  EXPECT_EQ(theirs[0]["task_id"], bobs["id"]);
  EXPECT_EQ(audit(alice.client)["items"], items) << "bob's change showed up for alice";
}

// Changes of one task made at once from many connections wait for each other's row lock; each one's time is
// taken after it got the lock, so the trail lists them in the order they were made (each entry's old value
// the previous entry's new one), the newest is the task's current state, and updated_at grows with version.
TEST_F(AuditTest, ConcurrentChangesOfOneTaskAreListedInTheOrderMade) {
  auto u = user();
  const auto t = create_task(u.client, {{"title", "contended"}, {"description", "d"}});
  const std::string path = "/api/v1/tasks/" + t["id"].get<std::string>();
  constexpr int kDevices = 12;
  std::barrier start(kDevices);
  std::vector<json> answers(kDevices);
  std::vector<std::thread> devices;
  for (int d = 0; d < kDevices; ++d)
    devices.emplace_back([&, d] {
      HttpClient c(base_url());  // a connection of its own
      c.set_token(u.token);
      c.get("/api/v1/tasks?limit=1");  // connected before the race
      start.arrive_and_wait();
      const auto r = c.patch(path, {{"description", "d" + std::to_string(d)}});
      answers[static_cast<std::size_t>(d)] = r.status == 200 ? r.json() : json(r.describe());
    });
  for (auto& th : devices)
    th.join();
  std::map<long long, long long> updated_by_version;  // version -> updated_at (µs)
  for (const auto& a : answers) {
    ASSERT_TRUE(a.is_object()) << a;
    updated_by_version[a["version"].get<long long>()] = *instant_us(a["updated_at"]);
  }
  ASSERT_EQ(updated_by_version.size(), static_cast<std::size_t>(kDevices));
  long long previous = 0;
  for (const auto& [version, updated] : updated_by_version) {
    EXPECT_GT(updated, previous) << "version " << version << "'s updated_at is not after the one before";
    previous = updated;
  }
  const auto now = u.client.get(path).json();
  const json trail = audit_all(u.client, "task_id=" + t["id"].get<std::string>(), 100);
  ASSERT_EQ(trail.size(), static_cast<std::size_t>(kDevices + 1)) << trail;  // and the create
  EXPECT_EQ(trail[0]["changes"]["description"][1], now["description"]) << trail[0];
  EXPECT_EQ(trail[0]["at"], now["updated_at"]) << trail[0];
  for (std::size_t i = 0; i + 2 < trail.size(); ++i)  // entry i is the change after entry i + 1
    EXPECT_EQ(trail[i]["changes"]["description"][0], trail[i + 1]["changes"]["description"][1])
        << "entry " << i << " " << trail[i] << " after " << trail[i + 1];
}

// A change that waits for a row lock held by a transaction that does not change the task (an operator's
// SELECT … FOR UPDATE, a request that locked it and changed nothing) is timed once it has the lock, not
// before the wait: its updated_at, audit `at` and event time were from before the wait, 1.5 s early here.
TEST_F(AuditTest, AChangeWaitingForALockIsTimedOnceItHasIt) {
  auto u = user();
  const auto t = create_task(u.client, "locked by an operator");
  const std::string path = "/api/v1/tasks/" + t["id"].get<std::string>();
  pqxx::connection operator_session(db_url());
  pqxx::work lock(operator_session);
  lock.exec("SELECT id FROM tasks WHERE id = " + lock.quote(t["id"].get<std::string>()) + " FOR UPDATE");
  HttpResponse changed;
  std::thread change([&] { changed = u.client.patch(path, {{"title", "changed after the wait"}}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const long long released_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
  lock.commit();  // nothing changed
  change.join();
  ASSERT_EQ(changed.status, 200) << changed.describe();
  const auto updated_us = instant_us(changed.json()["updated_at"]);
  ASSERT_TRUE(updated_us) << changed.describe();
  // Taken after the lock was given up (the same clock: the server's database runs on this machine).
  EXPECT_GE(*updated_us, released_us - 100'000)
      << "updated_at " << changed.json()["updated_at"] << " is " << (released_us - *updated_us) / 1000
      << " ms before the lock it waited for was released";
  const json trail = audit_all(u.client, "task_id=" + t["id"].get<std::string>(), 10);
  ASSERT_EQ(trail.size(), 2u) << trail;
  EXPECT_EQ(trail[0]["at"], changed.json()["updated_at"]) << trail[0];
}

TEST_F(AuditTest, FiltersByTaskActionAndTime) {
  auto alice = user();
  const json t1 = create_task(alice.client, "one");
  const json t2 = create_task(alice.client, "two");
  const std::string p1 = "/api/v1/tasks/" + t1.at("id").get<std::string>();
  const std::string p2 = "/api/v1/tasks/" + t2.at("id").get<std::string>();
  ASSERT_EQ(alice.client.patch(p1, {{"title", "one!"}}).status, 200);
  ASSERT_EQ(alice.client.patch(p2, {{"title", "two!"}}).status, 200);
  ASSERT_EQ(alice.client.post(p1 + "/complete").status, 200);
  ASSERT_EQ(alice.client.patch(p1, {{"priority", "high"}}).status, 200);

  const json all = audit(alice.client, "limit=200")["items"];
  ASSERT_EQ(all.size(), 6u) << all.dump(1);
  auto expected = [&](const std::function<bool(const json&)>& keep) {
    json out = json::array();
    for (const auto& e : all)
      if (keep(e)) out.push_back(e);
    return out;
  };

  const std::string id1 = t1["id"];
  EXPECT_EQ(audit(alice.client, "task_id=" + id1)["items"],
            expected([&](const json& e) { return e["task_id"] == id1; }));
  std::string upper = id1;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  EXPECT_EQ(audit(alice.client, "task_id=" + upper)["items"],
            expected([&](const json& e) { return e["task_id"] == id1; }));
  EXPECT_EQ(audit(alice.client, "action=task.updated")["items"],
            expected([&](const json& e) { return e["action"] == "task.updated"; }));
  EXPECT_EQ(audit(alice.client, "action=task.updated")["items"].size(), 3u);
  EXPECT_EQ(audit(alice.client, "task_id=" + id1 + "&action=task.updated")["items"],
            expected([&](const json& e) { return e["task_id"] == id1 && e["action"] == "task.updated"; }));
  EXPECT_EQ(audit(alice.client, "action=task.deleted")["items"], json::array());
  EXPECT_EQ(audit(alice.client, "task_id=" + std::string("00000000-0000-4000-8000-000000000000"))["items"],
            json::array());

  // from is inclusive, to exclusive.
  for (const auto& pivot : all) {
    const std::string at = pivot["at"];
    const auto us = *instant_us(pivot["at"]);
    SCOPED_TRACE(at);
    EXPECT_EQ(audit(alice.client, "from=" + url_encode(at))["items"],
              expected([&](const json& e) { return *instant_us(e["at"]) >= us; }));
    EXPECT_EQ(audit(alice.client, "to=" + url_encode(at))["items"],
              expected([&](const json& e) { return *instant_us(e["at"]) < us; }));
  }
  const std::string from = all[4]["at"], to = all[1]["at"];
  EXPECT_EQ(audit(alice.client,
                  "from=" + url_encode(from) + "&to=" + url_encode(to) + "&action=task.updated")["items"],
            expected([&](const json& e) {
              return *instant_us(e["at"]) >= *instant_us(json(from)) &&
                     *instant_us(e["at"]) < *instant_us(json(to)) && e["action"] == "task.updated";
            }));
  // Offsets other than Z name the same instants.
  EXPECT_EQ(audit(alice.client, "from=" + url_encode("2000-01-01T02:00:00+02:00"))["items"], all);
  EXPECT_EQ(audit(alice.client, "to=" + url_encode("2000-01-01T02:00:00+02:00"))["items"], json::array());
}

TEST_F(AuditTest, KeysetPagesWalkEveryEntryOnce) {
  auto alice = user();
  std::vector<std::string> paths;
  for (int i = 0; i < 8; ++i)
    paths.push_back("/api/v1/tasks/" +
                    create_task(alice.client, "task " + std::to_string(i))["id"].get<std::string>());
  for (const auto& p : paths)
    ASSERT_EQ(alice.client.patch(p, {{"priority", "medium"}}).status, 200);
  for (std::size_t i = 0; i + 1 < paths.size(); ++i)
    ASSERT_EQ(alice.client.post(paths[i] + "/complete").status, 200);

  const json full = audit(alice.client, "limit=200")["items"];
  ASSERT_EQ(full.size(), 23u);
  EXPECT_EQ(audit(alice.client)["items"], full) << "the default limit (50) holds 23";
  for (int limit : {1, 5, 7, 22, 23, 200}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    int pages = 0;
    const json walked = audit_all(alice.client, "", limit, &pages);
    EXPECT_EQ(entry_ids(walked), entry_ids(full));
    EXPECT_EQ(pages, (23 + limit - 1) / limit);
  }
  int pages = 0;
  const json updated = audit_all(alice.client, "action=task.updated", 3, &pages);
  EXPECT_EQ(updated.size(), 8u);
  EXPECT_EQ(pages, 3);
  for (const auto& e : updated)
    EXPECT_EQ(e["action"], "task.updated");

  // Changes made while a client walks the pages land before its first page: the walk sees each old entry
  // once.
  const json walked = audit_all(alice.client, "", 5, nullptr, [&](int page) {
    if (page <= 2) {
      ASSERT_EQ(alice.client.post(paths.back() + (page == 1 ? "/complete" : "/reopen")).status, 200);
    }
  });
  EXPECT_EQ(entry_ids(walked), entry_ids(full));
  EXPECT_EQ(audit(alice.client, "limit=200")["items"].size(), 25u);
}

TEST_F(AuditTest, StatsCountPerActionAndPerDayOfTheUsersZone) {
  auto alice = user({{"timezone", "Pacific/Kiritimati"}});  // UTC+14 all year: days differ from UTC ones
  auto bob = user();
  std::vector<std::string> paths;
  for (int i = 0; i < 3; ++i)
    paths.push_back("/api/v1/tasks/" +
                    create_task(alice.client, "task " + std::to_string(i))["id"].get<std::string>());
  ASSERT_EQ(alice.client.patch(paths[0], {{"title", "first"}}).status, 200);
  ASSERT_EQ(alice.client.patch(paths[1], {{"title", "second"}}).status, 200);
  ASSERT_EQ(alice.client.post(paths[0] + "/complete").status, 200);
  ASSERT_EQ(alice.client.del(paths[2]).status, 204);
  const json entries = audit(alice.client, "limit=200")["items"];
  ASSERT_EQ(entries.size(), 7u);

  // What the stats must say about the entries at or after `from_us` and before `to_us`.
  auto expected = [&](long long from_us, long long to_us) {
    json by_action = json::object();
    for (const auto& a : kActions)
      by_action[a] = 0;
    std::map<std::string, json> days;
    long total = 0;
    for (const auto& e : entries) {
      const auto us = *instant_us(e["at"]);
      if (us < from_us || us >= to_us) continue;
      const std::string action = e["action"];
      by_action[action] = by_action[action].get<long>() + 1;
      ++total;
      const std::string day = day_at_offset(e["at"], std::chrono::hours(14));
      if (!days.count(day)) {
        json counts = json::object();
        for (const auto& a : kActions)
          counts[a] = 0;
        days[day] = {{"day", day}, {"total", 0}, {"by_action", counts}};
      }
      days[day]["total"] = days[day]["total"].get<long>() + 1;
      days[day]["by_action"][action] = days[day]["by_action"][action].get<long>() + 1;
    }
    json by_day = json::array();
    for (auto& [_, d] : days)
      by_day.push_back(d);
    return json{{"total", total}, {"by_action", by_action}, {"by_day", by_day}};
  };
  auto stats = [&](HttpClient& c, const std::string& query) {
    const auto r = c.get("/api/v1/audit/stats" + (query.empty() ? "" : "?" + query));
    if (r.status != 200) throw std::runtime_error("stats?" + query + ": " + r.describe());
    auto body = r.json();
    EXPECT_EQ(body.value("timezone", ""), c.token() == alice.client.token() ? "Pacific/Kiritimati" : "UTC");
    body.erase("timezone");
    return body;
  };

  const auto all = stats(alice.client, "");
  EXPECT_EQ(all, expected(LLONG_MIN, LLONG_MAX)) << all.dump(1);
  EXPECT_EQ(all["total"], 7);
  EXPECT_EQ(all["by_action"], json({{"task.created", 3},
                                    {"task.updated", 2},
                                    {"task.completed", 1},
                                    {"task.reopened", 0},
                                    {"task.deleted", 1}}));

  const std::string from = entries[4]["at"], to = entries[1]["at"];
  EXPECT_EQ(stats(alice.client, "from=" + url_encode(from)), expected(*instant_us(json(from)), LLONG_MAX));
  EXPECT_EQ(stats(alice.client, "to=" + url_encode(to)), expected(LLONG_MIN, *instant_us(json(to))));
  EXPECT_EQ(stats(alice.client, "from=" + url_encode(from) + "&to=" + url_encode(to)),
            expected(*instant_us(json(from)), *instant_us(json(to))));
  const auto none = stats(alice.client, "from=2999-01-01T00:00:00Z");
  EXPECT_EQ(none, expected(LLONG_MAX, LLONG_MAX)) << none.dump(1);
  EXPECT_EQ(none["by_day"], json::array());

  // Nobody else's counts.
  EXPECT_EQ(stats(bob.client, "")["total"], 0);
}

TEST_F(AuditTest, BadInputIsAProblemNamingTheParameter) {
  auto alice = user();
  create_task(alice.client, "something to audit");
  const std::string uuid = "00000000-0000-4000-8000-000000000000";
  const std::string no_filters = todo::fnv1a_hex("");
  // The control: the same form with a good position is a page.
  const auto sealed_good = alice.client.get(
      "/api/v1/audit?cursor=" +
      todo::seal_cursor(R"({"at":"2026-03-05 09:00:00+00","id":1,"f":")" + no_filters + "\"}"));
  EXPECT_EQ(sealed_good.status, 200) << sealed_good.describe();
  const std::vector<std::pair<std::string, std::string>> list_cases = {
      {"task_id=nope", "task_id"},
      {"task_id=", "task_id"},
      {"task_id=" + uuid + "x", "task_id"},
      {"action=task.exploded", "action"},
      {"action=TASK.CREATED", "action"},
      {"action=", "action"},
      {"from=yesterday", "from"},
      {"from=2026-03-05", "from"},
      {"from=2026-03-05T09:00:00", "from"},
      {"to=2026-13-40T00:00:00Z", "to"},
      {"to=", "to"},
      {"limit=0", "limit"},
      {"limit=201", "limit"},
      {"limit=-1", "limit"},
      {"limit=ten", "limit"},
      {"limit=", "limit"},
      {"limit=5&limit=6", "limit"},
      {"cursor=not*a*cursor", "cursor"},
      // Cursors of the server's own form (sealed, the filters' hash of none) whose content is bad, and one
      // without its check, written by hand.
      {"cursor=" + todo::seal_cursor(R"({"x":1})"), "cursor"},
      {"cursor=" + todo::seal_cursor(R"({"at":"whenever","id":1,"f":")" + no_filters + "\"}"), "cursor"},
      {"cursor=" + todo::seal_cursor("not json"), "cursor"},
      {"cursor=" + base64url(R"({"at":"2026-03-05 09:00:00+00","id":1,"f":")" + no_filters + "\"}"),
       "cursor"},
      // Well-formed instants before PostgreSQL's earliest (4714-11-24 00:00:00 UTC BC), which it refuses.
      {"cursor=" +
           todo::seal_cursor(R"({"at":"4714-11-23 00:00:00+00 BC","id":1,"f":")" + no_filters + "\"}"),
       "cursor"},
      {"cursor=" +
           todo::seal_cursor(R"({"at":"4714-11-24 00:00:00+01 BC","id":1,"f":")" + no_filters + "\"}"),
       "cursor"},
      {"colour=blue", "colour"},
  };
  for (const auto& [query, field] : list_cases) {
    const auto r = alice.client.get("/api/v1/audit?" + query);
    EXPECT_TRUE(IsProblemOneOf(r, {400, 422}, field)) << "GET /api/v1/audit?" << query;
  }
  const std::vector<std::pair<std::string, std::string>> stats_cases = {
      {"from=yesterday", "from"},
      {"to=2026-02-30T00:00:00Z", "to"},
      {"colour=blue", "colour"},
      {"limit=5", "limit"},
      {"task_id=" + uuid, "task_id"},
      {"action=task.created", "action"},
      {"cursor=" + base64url("x"), "cursor"},
      {"from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z", "from"},
  };
  for (const auto& [query, field] : stats_cases) {
    const auto r = alice.client.get("/api/v1/audit/stats?" + query);
    EXPECT_TRUE(IsProblemOneOf(r, {400, 422}, field)) << "GET /api/v1/audit/stats?" << query;
  }

  auto nobody = anon();
  for (const std::string path : {"/api/v1/audit", "/api/v1/audit/stats"}) {
    EXPECT_TRUE(IsProblem(nobody.get(path), 401)) << path;
    EXPECT_TRUE(IsProblem(nobody.get(path, {{"Authorization", "Bearer not-a-token"}}), 401)) << path;
  }
}

TEST_F(AuditTest, NoRouteChangesOrDeletesHistory) {
  auto alice = user();
  const json t = create_task(alice.client, "keep me on record");
  ASSERT_EQ(alice.client.patch("/api/v1/tasks/" + t["id"].get<std::string>(), {{"title", "changed"}}).status,
            200);
  const json before = audit(alice.client)["items"];
  ASSERT_EQ(before.size(), 2u);
  const std::string entry = std::to_string(before[0]["id"].get<long long>());

  for (const std::string& path : std::vector<std::string>{
           "/api/v1/audit", "/api/v1/audit/stats", "/api/v1/audit?task_id=" + t["id"].get<std::string>()}) {
    for (const std::string method : {"PUT", "PATCH", "DELETE", "POST"}) {
      const auto r = alice.client.request(
          method, path, method == "DELETE" ? std::nullopt : std::optional<std::string>("{}"));
      EXPECT_TRUE(IsProblem(r, 405)) << method << " " << path;
      EXPECT_NE(r.header("allow").find("GET"), std::string::npos)
          << method << " " << path << ": " << r.header("allow");
    }
  }
  for (const std::string method : {"GET", "PUT", "PATCH", "DELETE"}) {
    const auto r = alice.client.request(
        method, "/api/v1/audit/" + entry,
        method == "DELETE" || method == "GET" ? std::nullopt : std::optional<std::string>("{}"));
    EXPECT_TRUE(IsProblemOneOf(r, {404, 405})) << method << " /api/v1/audit/" << entry;
  }
  EXPECT_EQ(audit(alice.client)["items"], before);

  // Below the API too: the table refuses updates and deletes.
  const std::string url = db_url();
  const auto name_at = url.find(":///") + 4;  // postgresql:///NAME?host=…
  const std::string db = url.substr(name_at, url.find('?') - name_at);
  EXPECT_THROW(
      TestPostgres::shared().query(db, "UPDATE audit_log SET action = 'task.forged' WHERE id = " + entry),
      std::exception);
  EXPECT_THROW(TestPostgres::shared().query(db, "DELETE FROM audit_log WHERE id = " + entry), std::exception);
  EXPECT_EQ(audit(alice.client)["items"], before);
}

}  // namespace
}  // namespace todo::test

// Integration: the audit trail — rows written with each task change, append-only in the database, query
// validation, keyset-paginated listing and per-action / per-day statistics in the user's zone.
#include "todo/audit/audit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <set>

#include "integration.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/encoding.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/tasks/service.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using Params = std::vector<std::pair<std::string, std::string>>;
using tasks::Task;
using tasks::service::Actor;

Instant at(const char* rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) throw std::invalid_argument(rfc3339);
  return *t;
}

class Audit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(migrated_database(fresh_database("audit")));
    pool_ = new db::Pool(*url_, 4);
  }
  static void TearDownTestSuite() {
    delete pool_;
    delete url_;
    pool_ = nullptr;
    url_ = nullptr;
  }

  template <class F>
  static auto tx(F fn) {
    return transact(*pool_, std::move(fn));
  }

  static std::string new_user() {
    const auth::Registration r{"user-" + new_uuid() + "@example.com", "a long password", "", "UTC"};
    return tx([&](pqxx::work& w) { return auth::users::insert(w, r, "hash"); }).id;
  }

  static long count(const std::string& user_id) {
    return tx([&](pqxx::work& w) {
      return w.exec_params("SELECT count(*) FROM audit_log WHERE user_id = $1", user_id)[0][0].as<long>();
    });
  }

  /// Inserts a row with a chosen time (as a migration or an import could); returns its id.
  static std::int64_t insert_at(const std::string& user_id, const std::string& task_id,
                                const std::string& action, Instant when) {
    return tx([&](pqxx::work& w) {
      return w
          .exec_params(
              "INSERT INTO audit_log (user_id, task_id, action, at) VALUES ($1, $2, $3, $4) RETURNING id",
              user_id, task_id.empty() ? std::nullopt : std::optional<std::string>(task_id), action,
              to_pg_timestamptz(when))[0][0]
          .as<std::int64_t>();
    });
  }

  static audit::Page list(const std::string& user_id, const Params& params) {
    const auto q = audit::parse_query(params);
    return tx([&](pqxx::work& w) { return audit::list(w, user_id, q); });
  }

  /// Every entry of the query, page after page through next_cursor.
  static std::vector<audit::Entry> walk(const std::string& user_id, const Params& params,
                                        int* pages = nullptr) {
    std::vector<audit::Entry> out;
    Params p = params;
    for (int n = 1; n <= 1000; ++n) {
      const auto page = list(user_id, p);
      for (const auto& e : page.items)
        out.push_back(e);
      if (pages) *pages = n;
      if (!page.next_cursor) break;
      EXPECT_FALSE(page.items.empty()) << "a page with a next cursor has items";
      p = params;
      p.emplace_back("cursor", *page.next_cursor);
    }
    return out;
  }

  static std::string* url_;
  static db::Pool* pool_;
};

std::string* Audit::url_ = nullptr;
db::Pool* Audit::pool_ = nullptr;

TEST_F(Audit, EachChangeWritesOneRowWithActionTaskRequestAndChanges) {
  const std::string user = new_user();
  const Actor who{user, "req-audit-7"};
  tasks::NewTask r;
  r.title = "Water plants";
  const Task t = tx([&](pqxx::work& w) { return tasks::service::create(w, who, r); });
  tasks::TaskPatch p;
  p.title = "Water the plants";
  tx([&](pqxx::work& w) { tasks::service::update(w, who, t.id, p, std::nullopt); });
  tx([&](pqxx::work& w) { tasks::service::update(w, who, t.id, p, std::nullopt); });  // no change
  tx([&](pqxx::work& w) { tasks::service::complete(w, who, t.id); });
  tx([&](pqxx::work& w) { tasks::service::complete(w, who, t.id); });  // no change
  tx([&](pqxx::work& w) { tasks::service::reopen(w, Actor{user}, t.id); });
  tx([&](pqxx::work& w) { tasks::service::remove(w, who, t.id, std::nullopt); });
  EXPECT_THROW(tx([&](pqxx::work& w) {
                 tasks::service::create(w, who, r);
                 throw std::runtime_error("rolled back");
               }),
               std::runtime_error);

  const auto page = list(user, {});
  ASSERT_EQ(page.items.size(), 5u);
  EXPECT_FALSE(page.next_cursor.has_value());
  const std::vector<std::string> actions = {"task.deleted", "task.reopened", "task.completed", "task.updated",
                                            "task.created"};
  for (std::size_t i = 0; i < page.items.size(); ++i) {
    const auto& e = page.items[i];
    SCOPED_TRACE(e.action);
    EXPECT_EQ(e.action, actions[i]) << "newest first";
    EXPECT_EQ(e.task_id, t.id);
    EXPECT_EQ(e.request_id, e.action == "task.reopened" ? "" : "req-audit-7");
    EXPECT_TRUE(e.changes.is_object());
    if (i > 0) {
      EXPECT_LT(e.at, page.items[i - 1].at);
    }
  }
  const auto& created = page.items[4].changes;
  EXPECT_EQ(created["title"], (nlohmann::json{nullptr, "Water plants"}));
  EXPECT_EQ(created["status"], (nlohmann::json{nullptr, "open"}));
  EXPECT_FALSE(created.contains("id"));
  EXPECT_EQ(page.items[3].changes, (nlohmann::json{{"title", {"Water plants", "Water the plants"}}}));
  EXPECT_EQ(page.items[2].changes["status"], (nlohmann::json{"open", "done"}));
  EXPECT_TRUE(page.items[2].changes["completed_at"][1].is_string());
  EXPECT_EQ(page.items[1].changes["status"], (nlohmann::json{"done", "open"}));
  EXPECT_EQ(page.items[0].changes["title"], (nlohmann::json{"Water the plants", nullptr}));

  const auto j = audit::to_json(page.items[1]);
  EXPECT_EQ(j["id"], page.items[1].id);
  EXPECT_EQ(j["task_id"], t.id);
  EXPECT_EQ(j["action"], "task.reopened");
  EXPECT_TRUE(j["request_id"].is_null());
  EXPECT_EQ(j["at"], format_rfc3339(page.items[1].at));
  EXPECT_EQ(j["changes"], page.items[1].changes);
  EXPECT_EQ(audit::to_json(page.items[0])["request_id"], "req-audit-7");
}

TEST_F(Audit, RowsCannotBeChangedOrDeletedButGoWithTheirUser) {
  const std::string user = new_user();
  const std::string other = new_user();
  for (const auto& u : {user, other}) {
    tasks::NewTask r;
    r.title = "audited";
    const Task t = tx([&](pqxx::work& w) { return tasks::service::create(w, Actor{u}, r); });
    tx([&](pqxx::work& w) { tasks::service::complete(w, Actor{u}, t.id); });
  }
  ASSERT_EQ(count(user), 2);

  const std::vector<std::string> refused = {
      "UPDATE audit_log SET action = 'task.created' WHERE user_id = $1",
      "UPDATE audit_log SET changes = '{}', at = now() - interval '1 year' WHERE user_id = $1",
      "DELETE FROM audit_log WHERE user_id = $1",
      "DELETE FROM audit_log WHERE user_id = $1 AND action = 'task.completed'",
  };
  for (const auto& sql : refused) {
    SCOPED_TRACE(sql);
    try {
      tx([&](pqxx::work& w) { w.exec_params(sql, user); });
      ADD_FAILURE() << "accepted";
    } catch (const pqxx::sql_error& e) {
      // ERRCODE insufficient_privilege (42501); libpqxx 6 raises it as this type without the sqlstate text.
      EXPECT_TRUE(dynamic_cast<const pqxx::insufficient_privilege*>(&e) || e.sqlstate() == "42501")
          << e.what();
      EXPECT_NE(std::string(e.what()).find("append-only"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(count(user), 2);
  EXPECT_EQ(tx([&](pqxx::work& w) {
              return w
                  .exec_params(
                      "SELECT count(*) FROM audit_log WHERE user_id = $1 AND action = 'task.completed'",
                      user)[0][0]
                  .as<long>();
            }),
            1);

  // Removing the account removes its history (and only its own).
  tx([&](pqxx::work& w) { w.exec_params("DELETE FROM users WHERE id = $1", user); });
  EXPECT_EQ(count(user), 0);
  EXPECT_EQ(count(other), 2);
}

TEST_F(Audit, ParseQueryValidatesAndNamesTheParameter) {
  const std::string task = new_uuid();
  std::string upper = task;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  const auto q = audit::parse_query({{"task_id", upper},
                                     {"action", "task.completed"},
                                     {"from", "2026-03-05T10:00:00+01:00"},
                                     {"to", "2026-03-06T00:00:00.25Z"},
                                     {"limit", "200"}});
  EXPECT_EQ(q.task_id, std::optional<std::string>(task));
  EXPECT_EQ(q.action, std::optional<std::string>("task.completed"));
  EXPECT_EQ(q.from, std::optional<Instant>(at("2026-03-05T09:00:00Z")));
  EXPECT_EQ(q.to, std::optional<Instant>(at("2026-03-06T00:00:00.25Z")));
  EXPECT_EQ(q.limit, 200);
  EXPECT_FALSE(q.after.has_value());
  const auto defaults = audit::parse_query({});
  EXPECT_EQ(defaults.limit, 50);
  EXPECT_FALSE(defaults.task_id || defaults.action || defaults.from || defaults.to || defaults.after);
  EXPECT_EQ(audit::parse_query({{"limit", "1"}}).limit, 1);

  struct Bad {
    Params params;
    std::string field;
    Errc code;
  };
  const std::vector<Bad> bad = {
      {{{"task_id", "not-a-uuid"}}, "task_id", Errc::unprocessable},
      {{{"task_id", ""}}, "task_id", Errc::unprocessable},
      {{{"task_id", task + "0"}}, "task_id", Errc::unprocessable},
      {{{"action", "task.exploded"}}, "action", Errc::unprocessable},
      {{{"action", "TASK.CREATED"}}, "action", Errc::unprocessable},
      {{{"action", ""}}, "action", Errc::unprocessable},
      {{{"from", "yesterday"}}, "from", Errc::unprocessable},
      {{{"from", "2026-03-05T09:00:00"}}, "from", Errc::unprocessable},  // no offset
      {{{"from", "2026-02-30T09:00:00Z"}}, "from", Errc::unprocessable},
      {{{"to", "2026-03-05"}}, "to", Errc::unprocessable},
      {{{"to", "2026-03-05T24:00:00Z"}}, "to", Errc::unprocessable},
      {{{"limit", "0"}}, "limit", Errc::unprocessable},
      {{{"limit", "201"}}, "limit", Errc::unprocessable},
      {{{"limit", "-1"}}, "limit", Errc::unprocessable},
      {{{"limit", "ten"}}, "limit", Errc::unprocessable},
      {{{"limit", "1.5"}}, "limit", Errc::unprocessable},
      {{{"limit", ""}}, "limit", Errc::unprocessable},
      {{{"limit", "99999999999999999999"}}, "limit", Errc::unprocessable},
      {{{"cursor", "%%%"}}, "cursor", Errc::bad_request},
      {{{"cursor", ""}}, "cursor", Errc::bad_request},
      {{{"cursor", "bm90IGpzb24"}}, "cursor", Errc::bad_request},  // "not json"
      {{{"cursor", "eyJhdCI6MX0"}}, "cursor", Errc::bad_request},  // {"at":1}
      {{{"sort", "at"}}, "sort", Errc::unprocessable},
      {{{"limit", "5"}, {"limit", "6"}}, "limit", Errc::bad_request},  // repeated: README "Errors"
  };
  for (const auto& b : bad) {
    SCOPED_TRACE(b.params.back().first + "=" + b.params.back().second);
    try {
      audit::parse_query(b.params);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), b.code) << e.what();
      ASSERT_EQ(e.errors().size(), 1u) << e.what();
      EXPECT_EQ(e.errors()[0].field, b.field) << e.what();
    }
  }
  // Several bad parameters: one 422 naming each.
  try {
    audit::parse_query({{"limit", "0"}, {"action", "x"}, {"from", "z"}});
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unprocessable);
    ASSERT_EQ(e.errors().size(), 3u) << e.what();
    EXPECT_EQ(e.errors()[0].field, "limit");
    EXPECT_EQ(e.errors()[1].field, "action");
    EXPECT_EQ(e.errors()[2].field, "from");
  }
  // A cursor for a well-formed position of the same filters is accepted; one with a bad time, or of other
  // filters (f: the hash of none here), is not.
  const std::string no_filters = fnv1a_hex("");
  const auto page_cursor = [](const nlohmann::json& j) { return seal_cursor(j.dump()); };
  EXPECT_NO_THROW(audit::parse_query(
      {{"cursor", page_cursor({{"at", "2026-03-05 09:00:00.5+00"}, {"id", 7}, {"f", no_filters}})}}));
  EXPECT_THROW(
      audit::parse_query(
          {{"action", "task.created"},
           {"cursor", page_cursor({{"at", "2026-03-05 09:00:00.5+00"}, {"id", 7}, {"f", no_filters}})}}),
      Error);
  EXPECT_THROW(audit::parse_query({{"cursor", page_cursor({{"at", "2026-03-05 09:00:00.5+00"}, {"id", 7}})}}),
               Error);
  EXPECT_THROW(
      audit::parse_query({{"cursor", page_cursor({{"at", "not a time"}, {"id", 1}, {"f", no_filters}})}}),
      Error);
  EXPECT_THROW(
      audit::parse_query(
          {{"cursor", page_cursor({{"at", "2026-03-05 09:00:00+00"}, {"id", "1"}, {"f", no_filters}})}}),
      Error);
}

TEST_F(Audit, ListIsNewestFirstAndKeysetPagesWalkEveryEntryOnce) {
  const std::string user = new_user();
  const std::string other = new_user();
  const std::vector<std::string> task_ids = {new_uuid(), new_uuid(), new_uuid()};
  const std::vector<std::string> actions = {"task.created", "task.updated", "task.completed", "task.reopened",
                                            "task.deleted"};
  struct Row {
    std::int64_t id;
    std::string task_id;
    std::string action;
    Instant at;
  };
  std::vector<Row> rows;
  const Instant base = at("2026-03-05T09:00:00.000001Z");
  for (int i = 0; i < 41; ++i) {
    // Three rows share each instant (ties are broken by id), with microseconds that must survive the cursor.
    const Instant when = base + std::chrono::microseconds(1'234'567) * (i / 3);
    const std::string task = i % 7 == 6 ? "" : task_ids[i % 3];
    const std::string action = actions[i % 5];
    rows.push_back({insert_at(user, task, action, when), task, action, when});
    if (i % 4 == 0) insert_at(other, task, action, when);
  }
  // Inserted out of time order as well: newest first is by time, not by id.
  rows.push_back(
      {insert_at(user, task_ids[0], "task.created", base - 1h), task_ids[0], "task.created", base - 1h});

  struct Case {
    std::string name;
    Params params;
    std::function<bool(const Row&)> keep;
  };
  const Instant from = base + std::chrono::microseconds(1'234'567) * 3;
  const Instant to = base + std::chrono::microseconds(1'234'567) * 10;
  const std::vector<Case> cases = {
      {"all", {}, [](const Row&) { return true; }},
      {"task", {{"task_id", task_ids[1]}}, [&](const Row& r) { return r.task_id == task_ids[1]; }},
      {"action", {{"action", "task.updated"}}, [](const Row& r) { return r.action == "task.updated"; }},
      {"from-to",
       {{"from", format_rfc3339(from)}, {"to", format_rfc3339(to)}},
       [&](const Row& r) { return r.at >= from && r.at < to; }},
      {"task-action-from",
       {{"task_id", task_ids[0]}, {"action", "task.created"}, {"from", format_rfc3339(base)}},
       [&](const Row& r) { return r.task_id == task_ids[0] && r.action == "task.created" && r.at >= base; }},
      {"nothing",
       {{"action", "task.deleted"}, {"to", format_rfc3339(base)}},
       [](const Row&) { return false; }},
  };
  for (const auto& c : cases) {
    std::vector<Row> expected;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(expected), c.keep);
    std::sort(expected.begin(), expected.end(),
              [](const Row& a, const Row& b) { return a.at != b.at ? a.at > b.at : a.id > b.id; });
    for (const int limit : {1, 4, 7, 200}) {
      SCOPED_TRACE(c.name + ", limit " + std::to_string(limit));
      Params params = c.params;
      params.emplace_back("limit", std::to_string(limit));
      int pages = 0;
      const auto got = walk(user, params, &pages);
      ASSERT_EQ(got.size(), expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].id, expected[i].id) << i;
        EXPECT_EQ(got[i].at, expected[i].at) << i;
        EXPECT_EQ(got[i].task_id, expected[i].task_id) << i;
        EXPECT_EQ(got[i].action, expected[i].action) << i;
      }
      const std::size_t full = (expected.size() + limit - 1) / limit;
      EXPECT_EQ(pages, static_cast<int>(std::max<std::size_t>(1, full)));
    }
  }
  EXPECT_TRUE(list(new_user(), {}).items.empty());
}

TEST_F(Audit, StatsCountPerActionAndPerDayInTheUsersZone) {
  const std::string user = new_user();
  const std::string task = new_uuid();
  insert_at(user, task, "task.created",
            at("2026-03-04T22:59:59.999999Z"));                       // 23:59:59.999999 in Berlin (CET)
  insert_at(user, task, "task.updated", at("2026-03-04T23:00:00Z"));  // 00:00 on the 5th in Berlin
  insert_at(user, task, "task.completed", at("2026-03-05T10:00:00Z"));
  insert_at(user, task, "task.completed", at("2026-03-05T22:59:00Z"));
  insert_at(user, task, "task.deleted", at("2026-07-01T21:59:59Z"));        // 23:59:59 in Berlin (CEST)
  insert_at(user, task, "task.reopened", at("2026-07-01T22:00:00Z"));       // 00:00 on July 2nd in Berlin
  insert_at(new_user(), task, "task.created", at("2026-03-05T10:00:00Z"));  // someone else's

  auto day = [](const char* date, long total, std::map<std::string, long> counts) {
    nlohmann::json by_action = {{"task.created", 0},
                                {"task.updated", 0},
                                {"task.completed", 0},
                                {"task.reopened", 0},
                                {"task.deleted", 0}};
    for (const auto& [a, n] : counts)
      by_action[a] = n;
    return nlohmann::json{{"day", date}, {"total", total}, {"by_action", by_action}};
  };

  const auto berlin =
      tx([&](pqxx::work& w) { return audit::stats(w, user, std::nullopt, std::nullopt, "Europe/Berlin"); });
  EXPECT_EQ(berlin["total"], 6);
  EXPECT_EQ(berlin["timezone"], "Europe/Berlin");
  EXPECT_EQ(berlin["by_action"], (nlohmann::json{{"task.created", 1},
                                                 {"task.updated", 1},
                                                 {"task.completed", 2},
                                                 {"task.reopened", 1},
                                                 {"task.deleted", 1}}));
  EXPECT_EQ(berlin["by_day"],
            (nlohmann::json{day("2026-03-04", 1, {{"task.created", 1}}),
                            day("2026-03-05", 3, {{"task.updated", 1}, {"task.completed", 2}}),
                            day("2026-07-01", 1, {{"task.deleted", 1}}),
                            day("2026-07-02", 1, {{"task.reopened", 1}})}));

  const auto utc =
      tx([&](pqxx::work& w) { return audit::stats(w, user, std::nullopt, std::nullopt, "UTC"); });
  EXPECT_EQ(utc["by_day"],
            (nlohmann::json{day("2026-03-04", 2, {{"task.created", 1}, {"task.updated", 1}}),
                            day("2026-03-05", 2, {{"task.completed", 2}}),
                            day("2026-07-01", 2, {{"task.deleted", 1}, {"task.reopened", 1}})}));

  // from is inclusive, to exclusive.
  const auto window = tx([&](pqxx::work& w) {
    return audit::stats(w, user, at("2026-03-04T23:00:00Z"), at("2026-07-01T22:00:00Z"), "Europe/Berlin");
  });
  EXPECT_EQ(window["total"], 4);
  EXPECT_EQ(window["by_action"]["task.created"], 0);
  EXPECT_EQ(window["by_action"]["task.reopened"], 0);
  EXPECT_EQ(window["by_action"]["task.completed"], 2);
  EXPECT_EQ(window["by_day"],
            (nlohmann::json{day("2026-03-05", 3, {{"task.updated", 1}, {"task.completed", 2}}),
                            day("2026-07-01", 1, {{"task.deleted", 1}})}));

  // CET is a zone with summer time, like Europe/Berlin, not PostgreSQL's fixed-offset abbreviation CET.
  const auto cet =
      tx([&](pqxx::work& w) { return audit::stats(w, user, std::nullopt, std::nullopt, "CET"); });
  EXPECT_EQ(cet["by_day"], berlin["by_day"]);

  const auto empty = tx([&](pqxx::work& w) {
    return audit::stats(w, new_user(), std::nullopt, std::nullopt, "Europe/Berlin");
  });
  EXPECT_EQ(empty["total"], 0);
  EXPECT_EQ(empty["by_day"], nlohmann::json::array());
  EXPECT_EQ(empty["by_action"]["task.created"], 0);
}

}  // namespace
}  // namespace todo::test

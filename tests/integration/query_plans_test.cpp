// Integration: at 1,000,000 tasks, every documented list query shape and every named task/user statement
// is planned as an index scan, never a sequential scan of tasks; the statements over tables that mostly hold
// finished rows (delivered reminders, published events, the audit trail) read about what they return.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "integration.hpp"
#include "todo/audit/audit.hpp"
#include "todo/auth/users.hpp"
#include "todo/chat/conversation.hpp"
#include "todo/chat/dialog.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/time.hpp"
#include "todo/events/outbox.hpp"
#include "todo/reminders/queue.hpp"
#include "todo/reminders/repository.hpp"
#include "todo/tasks/query.hpp"
#include "todo/tasks/repository.hpp"

namespace todo::test {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;
using nlohmann::json;

// The columns the repository selects (kept in step with src/tasks/repository.cpp; they do not change plans
// as long as they are not all covered by an index).
constexpr const char* kTaskColumns =
    "id, user_id, title, description, status, priority, tags, due_at, all_day, timezone, recurrence, "
    "created_at, updated_at, completed_at, version";

constexpr int kUsers = 1'000;
constexpr int kTasks = 1'000'000;
constexpr int kBigUserTasks = 100'000;
constexpr int kHistoryDone = 20'000;  // the history user's (user kUsers) done tasks, older than its open ones
constexpr int kHistoryOpen = 300;
constexpr int kDoneReminders = 120'000;
constexpr int kLiveReminders = 600;
constexpr int kExpiredConversations = 100'000;

/// The id of load user `n` (0 owns kBigUserTasks tasks, the others share the rest).
std::string user_id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012x", n);
  return buf;
}

/// One plan node that reads a table or an index.
struct ScanNode {
  std::string type;
  std::string relation;
  std::string index;
  std::string index_cond;
  double removed_by_filter = 0;  // with ANALYZE
  double removed_by_recheck = 0;
  double actual_rows = 0;  // per loop
  double actual_loops = 0;

  /// Rows the node read (with ANALYZE): those it returned and those its filters threw away.
  double rows_read() const { return actual_rows * actual_loops + removed_by_filter + removed_by_recheck; }
};

void collect(const json& plan, std::vector<ScanNode>& out) {
  out.push_back({plan.value("Node Type", ""), plan.value("Relation Name", ""), plan.value("Index Name", ""),
                 plan.value("Index Cond", ""), plan.value("Rows Removed by Filter", 0.0),
                 plan.value("Rows Removed by Index Recheck", 0.0), plan.value("Actual Rows", 0.0),
                 plan.value("Actual Loops", 0.0)});
  if (plan.contains("Plans"))
    for (const auto& child : plan["Plans"])
      collect(child, out);
}

/// What a plan does, in one line: its top node and every scan.
struct PlanSummary {
  json plan;
  std::vector<ScanNode> nodes;

  std::string top() const { return plan.value("Node Type", "?"); }

  std::string scans(bool verbose = false) const {
    std::string s;
    for (const auto& n : nodes) {
      if (n.type.find("Scan") == std::string::npos) continue;
      s += (s.empty() ? "" : "; ") + n.type;
      if (!n.index.empty()) s += " using " + n.index;
      if (!n.relation.empty()) s += " on " + n.relation;
      if (verbose && !n.index_cond.empty()) s += " [Index Cond: " + n.index_cond + "]";
      if (verbose && n.removed_by_filter > 0)
        s += " [Rows Removed by Filter: " + std::to_string(static_cast<long>(n.removed_by_filter)) + "]";
    }
    return s;
  }

  /// An index scan on an index of `table` (its `<table>_*` indexes, the primary key included) and no
  /// sequential scan of it.
  ::testing::AssertionResult uses_index_on(const std::string& table) const {
    bool index = false;
    for (const auto& n : nodes) {
      if (n.type == "Seq Scan" && n.relation == table)
        return ::testing::AssertionFailure() << "Seq Scan on " << table << " (" << scans() << ")";
      if ((n.type == "Index Scan" || n.type == "Index Only Scan" || n.type == "Bitmap Index Scan") &&
          n.index.rfind(table + "_", 0) == 0)
        index = true;
    }
    if (!index)
      return ::testing::AssertionFailure() << "no index scan on " << table << " (" << scans() << ")";
    return ::testing::AssertionSuccess();
  }

  /// With ANALYZE: the rows read by the scans of `table`, summed.
  double rows_read_from(const std::string& table) const {
    double rows = 0;
    for (const auto& n : nodes)
      if (n.type.find("Scan") != std::string::npos && n.type != "Bitmap Heap Scan" &&
          (n.relation == table || n.index.rfind(table + "_", 0) == 0))
        rows += n.rows_read();
    return rows;
  }
};

PlanSummary summarize(const std::string& explain_json) {
  PlanSummary p;
  p.plan = json::parse(explain_json).at(0).at("Plan");
  collect(p.plan, p.nodes);
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class QueryPlans : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(migrated_database(fresh_database("plans")));
    load();
    pool_ = new db::Pool(*url_, 2);
  }
  static void TearDownTestSuite() {
    delete pool_;
    delete url_;
    pool_ = nullptr;
    url_ = nullptr;
  }

  /// 1,000 users and 1,000,000 tasks; the secondary indexes are dropped during the load and rebuilt from
  /// their own definitions (pg_get_indexdef), so the schema is exactly the migrated one.
  static void load() {
    const auto started = std::chrono::steady_clock::now();
    pqxx::connection c(*url_);
    pqxx::nontransaction n(c);
    n.exec("SET maintenance_work_mem = '256MB'");
    std::vector<std::string> indexes;
    for (const auto& row : n.exec("SELECT indexname, pg_get_indexdef(indexrelid) FROM pg_indexes "
                                  "JOIN pg_class ON pg_class.relname = indexname "
                                  "JOIN pg_index ON pg_index.indexrelid = pg_class.oid "
                                  "WHERE tablename IN ('tasks', 'reminders') AND NOT indisprimary")) {
      indexes.push_back(row[1].c_str());
      n.exec("DROP INDEX " + std::string(row[0].c_str()));
    }
    ASSERT_GE(indexes.size(), 10u);
    n.exec(
        "INSERT INTO users (id, email, password_hash) SELECT ('00000000-0000-4000-8000-' || "
        "lpad(to_hex(u), 12, '0'))::uuid, 'load' || u || '@example.com', 'x' FROM generate_series(0, " +
        std::to_string(kUsers - 1) + ") u");
    // Deterministic variety: titles and descriptions from a small vocabulary (for q), 40 tags plus 'work',
    // every priority and status, a fifth without a due date, the rest spread 500 days either side of now.
    n.exec(
        "INSERT INTO tasks (user_id, id, title, description, status, priority, tags, due_at, timezone, "
        "created_at, updated_at, completed_at) "
        "SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(CASE WHEN i <= " +
        std::to_string(kBigUserTasks) + " THEN 0 ELSE 1 + i % " + std::to_string(kUsers - 1) +
        " END), 12, '0'))::uuid, "
        "md5(i::text)::uuid, "
        "w[1 + i % 10] || ' ' || w[1 + (i / 10) % 10] || ' ' || i, "
        "CASE WHEN i % 3 = 0 THEN 'notes on ' || w[1 + (i / 100) % 10] ELSE '' END, "
        "CASE WHEN i % 4 = 0 THEN 'done' ELSE 'open' END, "
        "(i % 5)::smallint, "
        "CASE WHEN i % 7 = 0 THEN ARRAY['t' || (i % 40), 'work'] ELSE ARRAY['t' || (i % 40)] END, "
        "CASE WHEN i % 5 = 0 THEN NULL ELSE now() - interval '500 days' + (i % 1000) * interval '1 day' "
        "+ (i % 86400) * interval '1 second' END, "
        "'UTC', "
        "timestamptz '2023-01-01' + i * interval '1 second', "
        "timestamptz '2023-01-01' + i * interval '1 second' + (i % 100) * interval '1 minute', "
        "CASE WHEN i % 4 = 0 THEN timestamptz '2023-01-01' + i * interval '1 second' END "
        "FROM generate_series(1, " +
        std::to_string(kTasks) +
        ") i, "
        "(SELECT ARRAY['buy', 'milk', 'call', 'mom', 'plan', 'trip', 'fix', 'bike', 'read', 'book'] AS w) v");
    // An account with years of history (user kUsers): kHistoryDone done tasks created over 2020-2022, then
    // kHistoryOpen open ones created since, the shape a user who keeps their finished tasks reaches.
    n.exec("INSERT INTO users (id, email, password_hash) VALUES ('" + user_id(kUsers) +
           "', 'history@example.com', 'x')");
    n.exec(
        "INSERT INTO tasks (user_id, id, title, status, priority, due_at, timezone, created_at, updated_at, "
        "completed_at) SELECT '" +
        user_id(kUsers) +
        "', md5('h' || i)::uuid, 'chore ' || i, CASE WHEN i <= " + std::to_string(kHistoryDone) +
        " THEN 'done' ELSE 'open' END, (i % 5)::smallint, timestamptz '2020-01-01' + i * interval '1 hour', "
        "'UTC', c, c + interval '1 day', CASE WHEN i <= " +
        std::to_string(kHistoryDone) + " THEN c + interval '1 day' END FROM generate_series(1, " +
        std::to_string(kHistoryDone + kHistoryOpen) +
        ") i, LATERAL (SELECT timestamptz '2020-01-01' + i * interval '1 hour' AS c) x");
    // The audit trail and the outbox: a row for each of 200 000 tasks, numbered events spread like the tasks.
    n.exec(
        "INSERT INTO audit_log (user_id, task_id, action, at, changes) SELECT user_id, id, 'task.created', "
        "created_at, '{}' FROM tasks ORDER BY created_at LIMIT 200000");
    n.exec(
        "INSERT INTO outbox (event_id, user_id, sequence, lane, type, subject, event, published_at) "
        "SELECT gen_random_uuid(), user_id, row_number() OVER (PARTITION BY user_id ORDER BY created_at), 0, "
        "'com.todo.task.created', id::text, '{}', now() FROM (SELECT user_id, id, created_at FROM tasks "
        "ORDER BY created_at LIMIT 200000) t");
    // Reminders, most of them done with: one for each of the first kDoneReminders tasks (the big user's
    // 100 000 among them), delivered an hour and more ago (a tenth missed); and kLiveReminders live ones on
    // every 500th task (the big user's first 200): a half scheduled to come, a third due now, a sixth firing
    // (their e-mail's lease ran out).
    n.exec(
        "INSERT INTO reminders (user_id, id, task_id, at, fire_at, state, fired_at, delivered_at, "
        "created_at, "
        "updated_at) SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(CASE WHEN i <= " +
        std::to_string(kBigUserTasks) + " THEN 0 ELSE 1 + i % " + std::to_string(kUsers - 1) +
        " END), 12, '0'))::uuid, md5('r' || i)::uuid, md5(i::text)::uuid, t, t, "
        "CASE WHEN i % 10 = 0 THEN 'missed' ELSE 'delivered' END, CASE WHEN i % 10 <> 0 THEN t END, "
        "CASE WHEN i % 10 <> 0 THEN t END, t - interval '1 day', t FROM generate_series(1, " +
        std::to_string(kDoneReminders) +
        ") i, LATERAL (SELECT now() - interval '1 hour' - i * interval '1 minute' AS t) x");
    n.exec(
        "INSERT INTO reminders (user_id, id, task_id, at, fire_at, state, fired_at, email_pending, "
        "lease_until, claimed_by, created_at) SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(CASE WHEN i "
        "<= " +
        std::to_string(kBigUserTasks) + " THEN 0 ELSE 1 + i % " + std::to_string(kUsers - 1) +
        " END), 12, '0'))::uuid, md5('live' || g)::uuid, md5(i::text)::uuid, t, t, "
        "CASE WHEN g % 6 = 5 THEN 'firing' ELSE 'scheduled' END, CASE WHEN g % 6 = 5 THEN t END, g % 6 = 5, "
        "CASE WHEN g % 6 = 5 THEN now() - g * interval '1 second' END, CASE WHEN g % 6 = 5 THEN 'elsewhere' "
        "END, "
        "now() - interval '2 days' FROM generate_series(1, " +
        std::to_string(kLiveReminders) +
        ") g, LATERAL (SELECT g * 500 AS i) y, LATERAL (SELECT CASE WHEN g % 6 < 3 THEN now() + g * interval "
        "'1 minute' ELSE now() - g * interval '1 second' END AS t) x");
    // Chat conversations: kExpiredConversations expired (a tenth of them the big user's), and 300 live ones.
    n.exec(
        "INSERT INTO chat_conversations (user_id, id, expires_at) SELECT ('00000000-0000-4000-8000-' || "
        "lpad(to_hex(CASE WHEN i % 10 = 0 THEN 0 ELSE i % " +
        std::to_string(kUsers) +
        " END), 12, '0'))::uuid, md5('c' || i)::uuid, CASE WHEN i <= 300 THEN now() + i * interval '1 "
        "minute' "
        "ELSE now() - i * interval '1 second' END FROM generate_series(1, " +
        std::to_string(kExpiredConversations + 300) + ") i");
    const double loaded = seconds_since(started);
    for (const auto& def : indexes)
      n.exec(def);
    const double indexed = seconds_since(started);
    n.exec("ANALYZE users");
    n.exec("ANALYZE tasks");
    n.exec("ANALYZE audit_log");
    n.exec("ANALYZE outbox");
    n.exec("ANALYZE reminders");
    n.exec("ANALYZE chat_conversations");
    std::cout << "[ load ] " << kTasks << " tasks for " << kUsers << " users: rows " << loaded
              << " s, indexes " << indexed - loaded << " s, analyze " << seconds_since(started) - indexed
              << " s\n";
  }

  template <class F>
  static auto tx(F fn) {
    return transact(*pool_, std::move(fn), std::chrono::seconds(120));
  }

  /// The plan of the list query `params` for `uid`, as the repository would send it (same SQL, same
  /// parameters, unnamed statement).
  static PlanSummary list_plan(const tasks::ListQuery& q, const std::string& uid, bool analyze = false) {
    const auto sql = tasks::build_list_sql(q, uid, kTaskColumns);
    const std::string explain =
        analyze ? "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " : "EXPLAIN (FORMAT JSON) ";
    return summarize(tx([&](pqxx::work& w) {
      return std::string(
          w.exec_params(explain + sql.text, pqxx::prepare::make_dynamic_params(sql.params))[0][0].c_str());
    }));
  }

  /// The generic plan of the same SQL (no parameter values known). The repository sends list queries
  /// unprepared, so they get custom plans; the generic plan is checked too so that a client preparing the
  /// same SQL (or a future change to prepared list queries) still gets index scans.
  static PlanSummary generic_list_plan(const tasks::ListQuery& q, const std::string& uid,
                                       bool analyze = false) {
    const auto sql = tasks::build_list_sql(q, uid, kTaskColumns);
    pqxx::connection c(*url_);
    pqxx::nontransaction n(c);
    n.exec("SET plan_cache_mode = force_generic_plan");
    n.exec("PREPARE list_shape AS " + sql.text);
    std::string args;
    for (const auto& p : sql.params)
      args += (args.empty() ? "" : ", ") + n.quote(p);
    const std::string explain = analyze ? "EXPLAIN (ANALYZE, FORMAT JSON) " : "EXPLAIN (FORMAT JSON) ";
    return summarize(n.exec(explain + "EXECUTE list_shape(" + args + ")")[0][0].c_str());
  }

  /// The best of `runs` wall-clock times of the list query, in milliseconds, as the repository runs it
  /// (unprepared: planning included).
  static double best_ms(const tasks::ListQuery& q, const std::string& uid, int runs = 5) {
    const auto sql = tasks::build_list_sql(q, uid, kTaskColumns);
    pqxx::connection c(*url_);
    pqxx::nontransaction n(c);
    double best = 1e9;
    for (int i = 0; i < runs; ++i) {
      const auto started = std::chrono::steady_clock::now();
      n.exec_params(sql.text, pqxx::prepare::make_dynamic_params(sql.params));
      best = std::min(best, seconds_since(started) * 1000);
    }
    return best;
  }

  /// A cursor positioned after row `offset` of query `q` for `uid`.
  static std::string cursor_at(tasks::ListQuery q, const std::string& uid, int offset) {
    q.limit = offset;  // build_list_sql selects limit + 1 rows; the last one is row `offset`
    q.after.reset();
    const auto sql = tasks::build_list_sql(q, uid, kTaskColumns);
    return tx([&](pqxx::work& w) {
      const auto r = w.exec_params(sql.text, pqxx::prepare::make_dynamic_params(sql.params));
      if (r.empty()) return std::string();
      const auto last = r[r.size() - 1];
      tasks::Cursor c;
      c.id = last[0].c_str();
      for (std::size_t k = 0; k < q.sort.size(); ++k) {
        const auto& f = last[static_cast<pqxx::row::size_type>(15 + k)];
        c.values.push_back(f.is_null() ? std::nullopt : std::optional<std::string>(f.c_str()));
      }
      return tasks::encode_cursor(q, c);
    });
  }

  /// EXPLAIN (ANALYZE, BUFFERS) of the prepared statement as the server runs it (on a pool connection), with
  /// `mode` as plan_cache_mode, in a transaction rolled back. `execute`: "name(args)" or "name".
  static PlanSummary executed_plan(const std::string& execute, const std::string& mode) {
    const std::string statement = execute.substr(0, execute.find('('));
    return summarize(run_awaitable(pool_->with_connection([&](pqxx::connection& c) {
      c.prepare_now(statement);
      pqxx::work w(c);
      w.exec("SET LOCAL plan_cache_mode = " + mode);
      return std::string(w.exec("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE " + execute)[0][0].c_str());
    })));
  }

  /// Each of `statements` (a name, its EXECUTE, its table and the most rows it may read from that table) with
  /// the custom and with the generic plan: the rows read are within the bound.
  static void expect_reads_at_most(
      const std::vector<std::tuple<std::string, std::string, std::string, double>>& statements) {
    for (const auto& [name, execute, table, most] : statements) {
      for (const std::string mode : {"force_custom_plan", "force_generic_plan"}) {
        const auto plan = executed_plan(execute, mode);
        const double read = plan.rows_read_from(table);
        std::cout << "[ reads ] " << name << ", " << mode << " | rows read " << read << " | buffers "
                  << plan.plan.value("Shared Hit Blocks", 0.0) + plan.plan.value("Shared Read Blocks", 0.0)
                  << " | " << plan.plan.value("Actual Total Time", 0.0) << " ms | " << plan.scans() << "\n";
        EXPECT_LE(read, most) << name << ", " << mode << ": " << plan.scans(true);
      }
    }
  }

  static std::string* url_;
  static db::Pool* pool_;
};

std::string* QueryPlans::url_ = nullptr;
db::Pool* QueryPlans::pool_ = nullptr;

/// Every documented list query shape: default sort, each sort key both ways, each filter, search.
std::vector<std::pair<std::string, Params>> list_shapes() {
  const Instant now = todo::now();
  auto days = [&](int d) { return format_rfc3339(now + std::chrono::days(d)); };
  std::vector<std::pair<std::string, Params>> shapes = {
      {"default sort", {}},
      {"status=open", {{"status", "open"}}},
      {"status=done", {{"status", "done"}}},
      {"priority=urgent", {{"priority", "urgent"}}},
      {"priority=high,urgent", {{"priority", "high"}, {"priority", "urgent"}}},
      {"tag=t7", {{"tag", "t7"}}},
      {"tag=t7&tag=work", {{"tag", "t7"}, {"tag", "work"}}},
      {"any_tag=t7,t8", {{"any_tag", "t7"}, {"any_tag", "t8"}}},
      {"due_before", {{"due_before", days(-450)}}},
      {"due_after", {{"due_after", days(450)}}},
      {"due_after+due_before", {{"due_after", days(-10)}, {"due_before", days(10)}}},
      {"overdue", {{"overdue", "true"}}},
      {"has_due=true", {{"has_due", "true"}}},
      {"has_due=false", {{"has_due", "false"}}},
      {"q=milk", {{"q", "milk"}}},
      {"q=buy mi", {{"q", "buy mi"}}},
      {"q=notes&sort=-due_at", {{"q", "notes"}, {"sort", "-due_at"}}},
      {"status=open&sort=due_at", {{"status", "open"}, {"sort", "due_at"}}},
      {"status=open&sort=-priority", {{"status", "open"}, {"sort", "-priority"}}},
      {"sort=-priority,due_at", {{"sort", "-priority,due_at"}}},
      {"status=open&sort=due_at,-priority", {{"status", "open"}, {"sort", "due_at,-priority"}}},
  };
  for (const char* key : {"due_at", "priority", "created_at", "updated_at", "title"}) {
    shapes.push_back({std::string("sort=") + key, {{"sort", key}}});
    shapes.push_back({std::string("sort=-") + key, {{"sort", std::string("-") + key}}});
  }
  return shapes;
}

TEST_F(QueryPlans, EveryListShapeUsesAnIndex) {
  for (const auto& [who, uid] :
       {std::pair{"user with 100k tasks", user_id(0)}, {"user with ~900 tasks", user_id(17)}}) {
    for (const auto& [name, params] : list_shapes()) {
      const auto plan = list_plan(tasks::parse_list_query(params), uid);
      std::cout << "[ plan ] " << who << " | " << name << " | top: " << plan.top() << " | " << plan.scans()
                << "\n";
      EXPECT_TRUE(plan.uses_index_on("tasks")) << who << ", " << name;
    }
  }
  for (const auto& [name, params] : list_shapes()) {
    const auto plan = generic_list_plan(tasks::parse_list_query(params), user_id(0));
    std::cout << "[ plan ] generic | " << name << " | top: " << plan.top() << " | " << plan.scans() << "\n";
    EXPECT_TRUE(plan.uses_index_on("tasks")) << "generic plan, " << name;
  }
}

TEST_F(QueryPlans, NextPagesUseAnIndex) {
  // Keyset pages: just after the first page and deep in the big user's list.
  const std::string uid = user_id(0);
  for (const auto& [name, params] : list_shapes()) {
    for (int offset : {50, 20'000}) {
      const auto first = tasks::parse_list_query(params);
      const std::string cursor = cursor_at(first, uid, offset);
      if (cursor.empty()) continue;  // fewer rows than the offset
      Params next = params;
      next.emplace_back("cursor", cursor);
      const auto plan = list_plan(tasks::parse_list_query(next), uid, /*analyze=*/true);
      const double ms = plan.plan.value("Actual Total Time", 0.0);
      std::cout << "[ plan ] after row " << offset << " | " << name << " | top: " << plan.top() << " | "
                << plan.scans(/*verbose=*/true) << " | " << ms << " ms\n";
      EXPECT_TRUE(plan.uses_index_on("tasks")) << name << " after row " << offset;
      const auto generic = generic_list_plan(tasks::parse_list_query(next), uid);
      std::cout << "[ plan ] generic, after row " << offset << " | " << name << " | top: " << generic.top()
                << " | " << generic.scans() << "\n";
      EXPECT_TRUE(generic.uses_index_on("tasks")) << "generic plan, " << name << " after row " << offset;
    }
  }
}

TEST_F(QueryPlans, DeepPagesReadAFewTimesTheLimit) {
  // Keyset pagination is only worth its name if a page deep in a long list costs what the first page costs:
  // the cursor must be an index condition, not a filter over every row before it. For every sort whose keys
  // share one direction, with and without the open-task filter, the page after row 50,000 of the big user
  // (and for due_at, a page inside the trailing block of undated tasks) reads a few times `limit` rows, in
  // the custom plan and in the generic plan a prepared statement may switch to.
  const std::string uid = user_id(0);
  constexpr int kLimit = 50;
  constexpr double kMaxRowsRead = 5.0 * (kLimit + 1);
  for (const char* key : {"due_at", "priority", "created_at", "updated_at", "title"}) {
    for (const char* direction : {"", "-"}) {
      for (bool open : {false, true}) {
        Params params = {{"sort", std::string(direction) + key}, {"limit", std::to_string(kLimit)}};
        if (open) params.emplace_back("status", "open");
        const std::string name = std::string(open ? "status=open&" : "") + "sort=" + direction + key;
        std::vector<int> offsets = {50'000};
        // The big user's undated tasks are its last 20,000 (15,000 of them open) in either direction.
        if (std::string(key) == "due_at") offsets.push_back(open ? 70'000 : 90'000);
        for (int offset : offsets) {
          const std::string cursor = cursor_at(tasks::parse_list_query(params), uid, offset);
          ASSERT_FALSE(cursor.empty()) << name << ": fewer than " << offset << " rows";
          Params next = params;
          next.emplace_back("cursor", cursor);
          const auto q = tasks::parse_list_query(next);
          const auto plan = list_plan(q, uid, /*analyze=*/true);
          const auto generic = generic_list_plan(q, uid, /*analyze=*/true);
          const double rows = plan.rows_read_from("tasks");
          const double generic_rows = generic.rows_read_from("tasks");
          std::cout << "[ deep ] after row " << offset << " | " << name << " | rows read " << rows
                    << " (generic " << generic_rows << ") | " << plan.plan.value("Actual Total Time", 0.0)
                    << " ms in plan, best run " << best_ms(q, uid) << " ms | " << plan.scans(/*verbose=*/true)
                    << "\n";
          EXPECT_TRUE(plan.uses_index_on("tasks")) << name << " after row " << offset;
          EXPECT_LE(rows, kMaxRowsRead) << name << " after row " << offset << ": " << plan.scans(true);
          EXPECT_LE(generic_rows, kMaxRowsRead)
              << "generic plan, " << name << " after row " << offset << ": " << generic.scans(true);
        }
      }
    }
  }
}

TEST_F(QueryPlans, ListsOfAnAccountWithHistoryReadAboutAPage) {
  // The history user's done tasks all come before its open ones by creation, change and title ("chore 1" …):
  // a page of its open tasks in any order, its last page too, reads about a page, not the done tasks (with
  // (user_id, created_at, id) a first page of open tasks by creation read all 20 000), and a page of both
  // statuses (per_status) about two.
  const std::string uid = user_id(kUsers);
  constexpr int kLimit = 50;
  for (const char* key : {"created_at", "updated_at", "title", "due_at", "priority"}) {
    for (const char* direction : {"", "-"}) {
      for (const char* status : {"open", "done", ""}) {
        Params params = {{"sort", std::string(direction) + key}, {"limit", std::to_string(kLimit)}};
        if (*status) params.emplace_back("status", status);
        const std::string name =
            std::string(*status ? "status=" : "") + status + (*status ? "&" : "") + "sort=" + direction + key;
        // The first page, and the last one of the open tasks (after row 280 of 300: 20 rows, no next page).
        std::vector<int> offsets = {0};
        if (std::string(status) == "open") offsets.push_back(kHistoryOpen - 20);
        for (int offset : offsets) {
          Params page = params;
          if (offset > 0) {
            const std::string cursor = cursor_at(tasks::parse_list_query(params), uid, offset);
            ASSERT_FALSE(cursor.empty()) << name;
            page.emplace_back("cursor", cursor);
          }
          const auto q = tasks::parse_list_query(page);
          const auto plan = list_plan(q, uid, /*analyze=*/true);
          const auto generic = generic_list_plan(q, uid, /*analyze=*/true);
          const double most = (*status ? 3.0 : 5.0) * (kLimit + 1);
          std::cout << "[ history ] " << name << (offset ? " last page" : "") << " | rows read "
                    << plan.rows_read_from("tasks") << " (generic " << generic.rows_read_from("tasks")
                    << ") | " << plan.plan.value("Actual Total Time", 0.0) << " ms | " << plan.scans(true)
                    << "\n";
          EXPECT_LE(plan.rows_read_from("tasks"), most) << name << " " << offset << ": " << plan.scans(true);
          EXPECT_LE(generic.rows_read_from("tasks"), most)
              << "generic plan, " << name << " " << offset << ": " << generic.scans(true);
        }
      }
    }
  }
}

TEST_F(QueryPlans, DueFiltersInAnotherOrderReadAboutAPage) {
  // The history user's tasks are due 2020-01-01 to 2022-04-25, an hour apart, in the order they were created
  // (the done ones first). A due filter with another order than by due date, of either status or both: when
  // the filter holds none or few of the tasks (none from 2023 on, 24 on 2021-03-01, 47 before 2020-01-03,
  // 141 from 2022-04-20, none undated), a page reads at most 5 pages plus those tasks; when it holds most of
  // them (has_due=true, before 2030, overdue, from 2020 on), about a page. With the custom and the generic
  // plan. PostgreSQL's guess of how many tasks a range holds comes from the whole table: it walked the
  // order's index testing all 20 000 done tasks for a range that holds none of them, or read all 20 300 of
  // the user's tasks to sort those before 2020-01-03.
  const std::string uid = user_id(kUsers);
  constexpr int kLimit = 50;
  struct Filter {
    const char* name;
    Params params;
    std::string range;  // the same tasks in SQL, to count them and to check the pages
  };
  const std::vector<Filter> filters = {
      {"due_after=2023", {{"due_after", "2023-01-01T00:00:00Z"}}, "due_at >= '2023-01-01Z'"},
      {"due in 2026-01",
       {{"due_after", "2026-01-01T00:00:00Z"}, {"due_before", "2026-02-01T00:00:00Z"}},
       "due_at >= '2026-01-01Z' AND due_at < '2026-02-01Z'"},
      {"due on 2021-03-01",
       {{"due_after", "2021-03-01T00:00:00Z"}, {"due_before", "2021-03-02T00:00:00Z"}},
       "due_at >= '2021-03-01Z' AND due_at < '2021-03-02Z'"},
      {"due_before=2020-01-03", {{"due_before", "2020-01-03T00:00:00Z"}}, "due_at < '2020-01-03Z'"},
      {"due_after=2022-04-20", {{"due_after", "2022-04-20T00:00:00Z"}}, "due_at >= '2022-04-20Z'"},
      {"has_due=false", {{"has_due", "false"}}, "due_at IS NULL"},
      {"has_due=true", {{"has_due", "true"}}, "due_at IS NOT NULL"},
      {"due_before=2030", {{"due_before", "2030-01-01T00:00:00Z"}}, "due_at < '2030-01-01Z'"},
      {"overdue", {{"overdue", "true"}}, "due_at < now() AND status = 'open'"},
      {"due_after=2020", {{"due_after", "2020-01-01T00:00:00Z"}}, "due_at >= '2020-01-01Z'"},
  };
  const std::pair<const char*, const char*> sorts[] = {
      {"", "created_at, id"},           {"-created_at", "created_at DESC, id DESC"},
      {"title", "title, id"},           {"-priority", "priority DESC, id DESC"},
      {"updated_at", "updated_at, id"}, {"-priority,title", "priority DESC, title, id"}};
  for (const auto& filter : filters) {
    for (const char* status : {"", "open", "done"}) {
      const std::string where = "user_id = '" + uid + "' AND " + filter.range +
                                (*status ? std::string(" AND status = '") + status + "'" : "");
      const int in_range = tx(
          [&](pqxx::work& w) { return w.exec("SELECT count(*) FROM tasks WHERE " + where)[0][0].as<int>(); });
      // The range's tasks are read when there are few of them (under 20 pages), else about a page.
      const double most = 5.0 * (kLimit + 1) + (in_range < 20 * (kLimit + 1) ? in_range : 0);
      for (const auto& [sort, order] : sorts) {
        Params params = filter.params;
        params.emplace_back("limit", std::to_string(kLimit));
        if (*status) params.emplace_back("status", status);
        if (*sort) params.emplace_back("sort", sort);
        const std::string name =
            std::string(filter.name) + (*status ? "&status=" : "") + status + (*sort ? "&sort=" : "") + sort;
        const auto q = tasks::parse_list_query(params);
        const auto plan = list_plan(q, uid, /*analyze=*/true);
        const auto generic = generic_list_plan(q, uid, /*analyze=*/true);
        std::cout << "[ due filter ] " << name << " (" << in_range << " tasks) | rows read "
                  << plan.rows_read_from("tasks") << " (generic " << generic.rows_read_from("tasks") << ") | "
                  << plan.plan.value("Actual Total Time", 0.0) << " ms | " << plan.scans(true) << "\n";
        // By priority and then title, a page reads a whole priority (no index gives that order), whatever
        // the filter: only its pages are checked.
        if (std::string(sort) != "-priority,title") {
          EXPECT_LE(plan.rows_read_from("tasks"), most) << name << ": " << plan.scans(true);
          EXPECT_LE(generic.rows_read_from("tasks"), most)
              << "generic plan, " << name << ": " << generic.scans(true);
        }
        // The pages, followed by their cursors, are the tasks the filter holds in the order asked.
        const auto expected = tx([&](pqxx::work& w) {
          std::vector<std::string> ids;
          for (const auto& row : w.exec("SELECT id FROM tasks WHERE " + where + " ORDER BY " + order +
                                        " LIMIT " + std::to_string(3 * kLimit)))
            ids.emplace_back(row[0].c_str());
          return ids;
        });
        std::vector<std::string> listed;
        tasks::ListQuery page = q;
        for (int n = 0; n < 3; ++n) {
          const auto sql = tasks::build_list_sql(page, uid, kTaskColumns);
          const auto rows = tx([&](pqxx::work& w) {
            return w.exec_params(sql.text, pqxx::prepare::make_dynamic_params(sql.params));
          });
          for (int i = 0; i < std::min<int>(kLimit, static_cast<int>(rows.size())); ++i)
            listed.emplace_back(rows[i][0].c_str());
          if (static_cast<int>(rows.size()) <= kLimit) break;
          tasks::Cursor c;
          c.id = rows[kLimit - 1][0].c_str();
          for (std::size_t k = 0; k < q.sort.size(); ++k)
            c.values.emplace_back(rows[kLimit - 1][static_cast<pqxx::row::size_type>(15 + k)].c_str());
          page.after = c;
        }
        EXPECT_EQ(listed, expected) << name;
      }
    }
  }
}

TEST_F(QueryPlans, SearchesSortedByOtherKeysReadTheirMatches) {
  // A search with one match ("12345": the big user's task 12345) or none (a prefix no word has), sorted by
  // any key, reads its matches from the full-text index: planned with the order, PostgreSQL walked the
  // order's index testing every task (100 000 rows for no match, 0.5-2 s).
  const std::string uid = user_id(0);
  for (const char* words : {"12345", "zz"}) {
    for (const char* sort : {"due_at", "-due_at", "priority", "-created_at", "updated_at", "title"}) {
      for (const char* status : {"", "open"}) {
        Params params = {{"q", words}, {"sort", sort}};
        if (*status) params.emplace_back("status", status);
        const auto q = tasks::parse_list_query(params);
        const auto plan = list_plan(q, uid, /*analyze=*/true);
        const std::string name =
            std::string("q=") + words + "&sort=" + sort + (*status ? "&status=open" : "");
        std::cout << "[ search ] " << name << " | rows read " << plan.rows_read_from("tasks") << " | "
                  << plan.plan.value("Actual Total Time", 0.0) << " ms | " << plan.scans(true) << "\n";
        EXPECT_TRUE(plan.uses_index_on("tasks")) << name;
        EXPECT_LE(plan.rows_read_from("tasks"), 10.0) << name << ": " << plan.scans(true);
      }
    }
  }
}

TEST_F(QueryPlans, CachedShapesGenericPlansReadNoMoreThanCustomOnes) {
  // The repository prepares the text of the shapes tasks::cacheable accepts, and PostgreSQL may then run
  // its generic plan, made without the user's id: for the user with 100,000 tasks and for a small one, on
  // the first page and further on, that plan must read about as few rows as the plan made for the values.
  // The documented shapes plus the benchmark's.
  auto shapes = list_shapes();
  shapes.push_back({"status=open&priority=high&sort=due_at",
                    {{"status", "open"}, {"priority", "high"}, {"sort", "due_at"}}});
  shapes.push_back({"status=open&priority=medium&sort=-due_at",
                    {{"status", "open"}, {"priority", "medium"}, {"sort", "-due_at"}}});
  shapes.push_back({"status=done&priority=low&sort=due_at",
                    {{"status", "done"}, {"priority", "low"}, {"sort", "due_at"}}});
  shapes.push_back({"status=open&priority=high&priority=urgent&sort=due_at",
                    {{"status", "open"}, {"priority", "high"}, {"priority", "urgent"}, {"sort", "due_at"}}});
  shapes.push_back({"status=done&priority=none&priority=low&priority=medium&sort=due_at",
                    {{"status", "done"},
                     {"priority", "none"},
                     {"priority", "low"},
                     {"priority", "medium"},
                     {"sort", "due_at"}}});
  shapes.push_back({"status=open&priority=high&sort=-created_at",
                    {{"status", "open"}, {"priority", "high"}, {"sort", "-created_at"}}});
  shapes.push_back({"priority=low&sort=title", {{"priority", "low"}, {"sort", "title"}}});
  shapes.push_back(
      {"status=open&due_before&sort=-updated_at",
       {{"status", "open"}, {"due_before", format_rfc3339(todo::now())}, {"sort", "-updated_at"}}});
  int checked = 0;
  for (const auto& [who, uid] :
       {std::pair{"user with 100k tasks", user_id(0)}, {"user with ~900 tasks", user_id(17)}}) {
    for (const auto& [name, params] : shapes) {
      if (!tasks::cacheable(tasks::parse_list_query(params))) continue;
      for (int offset : {0, 50, 20'000}) {
        Params page = params;
        if (offset > 0) {
          const std::string cursor = cursor_at(tasks::parse_list_query(params), uid, offset);
          if (cursor.empty()) continue;  // fewer rows than the offset
          page.emplace_back("cursor", cursor);
        }
        const auto q = tasks::parse_list_query(page);
        const auto custom = list_plan(q, uid, /*analyze=*/true);
        const auto generic = generic_list_plan(q, uid, /*analyze=*/true);
        const double custom_rows = custom.rows_read_from("tasks");
        const double generic_rows = generic.rows_read_from("tasks");
        std::cout << "[ cached ] " << who << " | " << name << " | after row " << offset << " | rows read "
                  << generic_rows << " generic, " << custom_rows << " custom | " << generic.scans() << "\n";
        EXPECT_TRUE(generic.uses_index_on("tasks")) << who << ", " << name << " after row " << offset;
        EXPECT_LE(generic_rows, 2 * custom_rows + 5.0 * (q.limit + 1))
            << who << ", " << name << " after row " << offset << ": generic " << generic.scans(true)
            << "; custom " << custom.scans(true);
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 40) << "most documented shapes are cached";
}

TEST_F(QueryPlans, NamedStatementsUseAnIndex) {
  // The prepared statements of the repositories, planned as they run: EXPLAIN EXECUTE on a pool connection.
  const std::string uid = user_id(0);
  const std::string task = tx([&](pqxx::work& w) {
    const std::string id =
        w.exec_params("SELECT id FROM tasks WHERE user_id = $1 LIMIT 1 OFFSET 777", uid)[0][0].c_str();
    // Through the repositories once, which also links their statements into this binary.
    EXPECT_TRUE(tasks::repository::find(w, uid, id).has_value());
    EXPECT_TRUE(auth::users::find_by_id(w, uid).has_value());
    EXPECT_TRUE(tasks::repository::series_tasks(w, uid, id).empty());
    EXPECT_FALSE(audit::list(w, uid, audit::Query{}).items.empty());
    EXPECT_FALSE(events::since(w, uid, 0, 1).empty());
    return id;
  });
  auto quote = [](const std::string& s) { return "'" + s + "'"; };  // uuids only
  const std::string u = quote(uid), t = quote(task);
  const std::vector<std::tuple<std::string, std::string, std::string>> statements = {
      {"GET one task (tasks_select)", "tasks_select(" + u + ", " + t + ")", "tasks"},
      {"tasks_select_for_update", "tasks_select_for_update(" + u + ", " + t + ")", "tasks"},
      {"tasks_update",
       "tasks_update(" + u + ", " + t +
           ", 'title', '', 'open', 1, '{}', NULL, false, 'UTC', NULL, NULL, 'fixed', NULL, NULL, 0, NULL)",
       "tasks"},
      {"tasks_series_tasks", "tasks_series_tasks(" + u + ", " + t + ")", "tasks"},
      {"tasks_set_series_start", "tasks_set_series_start(" + u + ", " + t + ", NULL)", "tasks"},
      {"tasks_delete", "tasks_delete(" + u + ", " + t + ")", "tasks"},
      {"tasks_tag_counts", "tasks_tag_counts(" + u + ")", "tasks"},
      {"users_by_email",
       "users_by_email('load17@example.com', ' load17@example.com', 'Load17@example.com', "
       "'load17@example.com')",
       "users"},
      {"users_by_id", "users_by_id(" + u + ")", "users"},
      {"audit trail, newest first (audit_list)",
       "audit_list(" + u + ", NULL, '-infinity', 'infinity', 0, 51)", "audit_log"},
      {"audit trail, next page",
       "audit_list(" + u + ", NULL, '-infinity', '2023-01-01T12:00:00Z', 40000, 51)", "audit_log"},
      {"audit trail of a task", "audit_list_task(" + u + ", NULL, '-infinity', 'infinity', 0, 51, " + t + ")",
       "audit_log"},
      {"audit trail, a period",
       "audit_list(" + u + ", NULL, '2023-01-01T01:00:00Z', '2023-01-01T02:00:00Z', 0, 51)", "audit_log"},
      {"events to replay (outbox_since)", "outbox_since(" + u + ", 100, 500)", "outbox"},
  };
  for (const auto& [name, execute, table] : statements) {
    const std::string statement = execute.substr(0, execute.find('('));
    const auto plan = summarize(run_awaitable(pool_->with_connection([&](pqxx::connection& c) {
      c.prepare_now(statement);  // libpqxx prepares on first use
      pqxx::nontransaction n(c);
      return std::string(n.exec("EXPLAIN (FORMAT JSON) EXECUTE " + execute)[0][0].c_str());
    })));
    std::cout << "[ plan ] " << name << " | top: " << plan.top() << " | " << plan.scans() << "\n";
    EXPECT_TRUE(plan.uses_index_on(table)) << name;
  }
  // The oldest event a user still has (the WebSocket resume check, realtime's ws_position): min() reads the
  // first entry of the partial (user_id, sequence) index.
  const auto oldest = summarize(tx([&](pqxx::work& w) {
    return std::string(
        w.exec("EXPLAIN (FORMAT JSON) SELECT min(sequence) FROM outbox WHERE user_id = " + u)[0][0].c_str());
  }));
  std::cout << "[ plan ] oldest event of a user | top: " << oldest.top() << " | " << oldest.scans() << "\n";
  EXPECT_TRUE(oldest.uses_index_on("outbox"));
}

TEST_F(QueryPlans, ReminderStatementsReadAboutWhatTheyReturn) {
  // 120 600 reminders, all but 600 delivered or missed; the big user has 100 200 of them. A page of the
  // user's reminders (all of them, deep in the list, or the upcoming ones) reads about its limit, and so do
  // the schedulers' claims and their next-wake-up queries, with the custom and the generic plan. A page read
  // and sorted all 100 200 of the big user's reminders (140 ms, 177 ms generic for the upcoming ones).
  constexpr int kLimit = 50;
  const std::string uid = user_id(0), small = user_id(17);
  const std::string middle = tx([&](pqxx::work& w) {
    // Links the statements into this binary, and finds the 50 000th reminder of the big user.
    EXPECT_EQ(reminders::repository::list(w, uid, true, kLimit, std::nullopt).items.size(), 50u);
    EXPECT_TRUE(reminders::queue::next_due_in(w).has_value());
    EXPECT_TRUE(reminders::queue::next_mail_in(w).has_value());
    const auto r = w.exec_params(
        "SELECT coalesce(fire_at, 'infinity'::timestamptz), id FROM reminders WHERE user_id = $1 "
        "ORDER BY coalesce(fire_at, 'infinity'::timestamptz), id OFFSET 50000 LIMIT 1",
        uid);
    return "'" + std::string(r[0][0].c_str()) + "', '" + r[0][1].c_str() + "'";
  });
  // A claim of none (links the schedulers' statements in).
  EXPECT_TRUE(tx([](pqxx::work& w) { return reminders::queue::fire_due(w, 0, false).empty(); }));
  EXPECT_TRUE(tx([](pqxx::work& w) {
    return reminders::queue::claim_mail(w, "here", std::chrono::seconds(1), 0).empty();
  }));
  const std::string first = "'-infinity', '00000000-0000-0000-0000-000000000000'";
  const std::string limit = std::to_string(kLimit + 1);
  const double most = 3.0 * (kLimit + 1);
  expect_reads_at_most({
      {"a user's reminders (reminders_list)", "reminders_list('" + uid + "', " + first + ", " + limit + ")",
       "reminders", most},
      {"a user's reminders after the 50 000th",
       "reminders_list('" + uid + "', " + middle + ", " + limit + ")", "reminders", most},
      {"a small user's reminders", "reminders_list('" + small + "', " + first + ", " + limit + ")",
       "reminders", most},
      {"upcoming reminders (reminders_list_upcoming)",
       "reminders_list_upcoming('" + uid + "', " + first + ", " + limit + ")", "reminders", most},
      {"a small user's upcoming reminders",
       "reminders_list_upcoming('" + small + "', " + first + ", " + limit + ")", "reminders", most},
      {"firing due reminders (reminders_fire_due)", "reminders_fire_due(64, true)", "reminders", 3.0 * 64},
      {"next due (reminders_next_due)", "reminders_next_due", "reminders", 10},
      {"claiming e-mails (reminders_claim_mail)", "reminders_claim_mail('here', '60000 milliseconds', 16)",
       "reminders", 3.0 * 16},
      {"next e-mail (reminders_next_mail)", "reminders_next_mail", "reminders", 10},
  });
}

TEST_F(QueryPlans, AuditStatementsReadAboutWhatTheyReturn) {
  // The big user has 100 000 audit entries (one a second from 2023-01-01 00:00:01). A page of the trail, of
  // a task's trail, of a period, or deep in it reads about its limit; the statistics of an hour read the
  // hour's 3 600 entries. The generic plan of the single statement with NULL-able filters read them all.
  const std::string uid = user_id(0);
  const std::string task = tx([&](pqxx::work& w) {
    EXPECT_FALSE(audit::list(w, uid, audit::Query{}).items.empty());
    EXPECT_EQ(audit::stats(w, uid, std::nullopt, std::nullopt, "UTC")["total"].get<long>(), kBigUserTasks);
    return std::string(w.exec_params("SELECT task_id FROM audit_log WHERE user_id = $1 ORDER BY at "
                                     "OFFSET 5000 LIMIT 1",
                                     uid)[0][0]
                           .c_str());
  });
  const std::string u = "'" + uid + "'", hour = "'2023-01-01 01:00:00+00', '2023-01-01 02:00:00+00'";
  const double most = 3.0 * 51;
  expect_reads_at_most({
      {"the trail (audit_list)", "audit_list(" + u + ", NULL, '-infinity', 'infinity', 0, 51)", "audit_log",
       most},
      {"a task's trail (audit_list_task)",
       "audit_list_task(" + u + ", NULL, '-infinity', 'infinity', 0, 51, '" + task + "')", "audit_log", most},
      {"an hour of the trail", "audit_list(" + u + ", NULL, " + hour + ", 0, 51)", "audit_log", most},
      {"the trail after entry 40 000",
       "audit_list(" + u + ", NULL, '-infinity', '2023-01-01 12:00:00+00', 40000, 51)", "audit_log", most},
      {"an hour's statistics by action (audit_stats_actions)", "audit_stats_actions(" + u + ", " + hour + ")",
       "audit_log", 3600 + most},
      {"an hour's statistics by day (audit_stats_days)", "audit_stats_days(" + u + ", " + hour + ", 'UTC')",
       "audit_log", 3600 + most},
  });
}

TEST_F(QueryPlans, OutboxHousekeepingReadsAboutWhatItTouches) {
  // 200 000 published events, all past a retention of 0 s: a prune of 1 000 reads about 2 000 rows (the
  // oldest 1 000 from outbox_published_idx, then each through the primary key); the generic plan joined
  // them to a sequential scan of the whole outbox. The backlog and a replay read what they count or return.
  const std::string uid = user_id(0);
  EXPECT_EQ(tx([](pqxx::work& w) { return events::backlog(w).count; }), 0);  // links the statements in
  expect_reads_at_most({
      {"prune (outbox_prune)", "outbox_prune('0 seconds', 1000)", "outbox", 2.5 * 1000},
      {"backlog (outbox_backlog)", "outbox_backlog", "outbox", 10},
      {"replay (outbox_since)", "outbox_since('" + uid + "', 100, 500)", "outbox", 1.5 * 500},
  });
}

TEST_F(QueryPlans, ChatStatementsReadNoMoreThanTheUsersRows) {
  // 100 300 conversations, all but 300 expired: the housekeeping batch reads its 100 from the expiry index, a
  // user's prune reads that user's conversations, and a conversation is read by its key. The title searches
  // (a regular expression, a title case aside, the titles a message spells) have no index for their
  // condition: they read the user's tasks, never the table (all 100 000 of the big user's, 36-343 ms
  // measured; not fixed: an index for them would cost every task write).
  const std::string uid = user_id(0);
  tx([&](pqxx::work& w) {  // links the statements in
    EXPECT_FALSE(chat::conversations::find_for_update(w, uid, new_uuid()).has_value());
    EXPECT_TRUE(chat::titles_in(w, uid, "nothing here").empty());
    return 0;
  });
  const std::string u = "'" + uid + "'";
  const double tasks = kBigUserTasks;
  expect_reads_at_most({
      {"housekeeping (chat_conversation_prune_some)", "chat_conversation_prune_some", "chat_conversations",
       2.5 * 100},
      {"a user's expired conversations (chat_conversation_prune_user)",
       "chat_conversation_prune_user(" + u + ")", "chat_conversations", 2.0 * kExpiredConversations / 10},
      {"a conversation (chat_conversation_find)", "chat_conversation_find(" + u + ", md5('c10')::uuid)",
       "chat_conversations", 2},
      {"titles like (chat_tasks_title_like)", "chat_tasks_title_like(" + u + ", 'open', 'zebra')", "tasks",
       tasks},
      {"a title case aside (chat_tasks_title_is)", "chat_tasks_title_is(" + u + ", 'open', 'Zebra crossing')",
       "tasks", tasks},
      {"titles a message spells (chat_tasks_titles_in)",
       "chat_tasks_titles_in(" + u + ", 'please complete the zebra crossing')", "tasks", tasks},
  });
}

TEST_F(QueryPlans, RelayClaimReadsItsBatchWhateverTheBacklog) {
  // 20 000 events waiting (Kafka was down, say) among the 200 000 published ones: a claim of 64 reads about
  // 64 rows of each lane it holds, with the custom plan and with the generic one. It read every waiting
  // event of its lanes to sort them, or walked the whole table in id order: 200 128 rows here with either
  // plan.
  constexpr int kWaiting = 20'000, kLimit = 64;
  std::string lanes = "{";
  for (int l = 0; l < events::kLanes; ++l)
    lanes += (l ? "," : "") + std::to_string(l);
  lanes += "}";
  for (const char* mode : {"force_custom_plan", "force_generic_plan"}) {
    const auto plan = summarize(run_awaitable(pool_->with_connection([&](pqxx::connection& c) {
      c.prepare_now("outbox_claim");
      pqxx::work w(c);
      if (std::string(mode) == "force_custom_plan") {  // once: the other mode's transaction rolled back
        EXPECT_TRUE(events::claim_and_publish(w, {0}, 0).events.empty());  // links the statement in
      }
      w.exec(
          "INSERT INTO outbox (event_id, user_id, lane, type, subject, event) "
          "SELECT gen_random_uuid(), u.id, g % " +
          std::to_string(events::kLanes) +
          ", 'com.todo.task.created', 'tasks/x', '{}' FROM generate_series(1, " + std::to_string(kWaiting) +
          ") AS g, users u WHERE u.id = '" + user_id(0) + "'");
      // The load numbered events without a counter: the claim numbers on from the highest.
      w.exec(
          "INSERT INTO user_event_sequences (user_id, last_sequence) SELECT user_id, max(sequence) "
          "FROM outbox WHERE user_id = '" +
          user_id(0) +
          "' GROUP BY user_id "
          "ON CONFLICT (user_id) DO UPDATE SET last_sequence = excluded.last_sequence");
      w.exec("ANALYZE outbox");
      w.exec(std::string("SET LOCAL plan_cache_mode = ") + mode);
      std::string out = w.exec("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE outbox_claim('" + lanes + "', " +
                               std::to_string(kLimit) + ", true)")[0][0]
                            .c_str();
      EXPECT_EQ(w.exec("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0].as<int>(),
                kWaiting - kLimit)
          << mode;
      return out;  // rolled back
    })));
    const double read = plan.rows_read_from("outbox");
    std::cout << "[ plan ] relay claim, " << mode << " | rows read " << read << " | " << plan.scans() << "\n";
    EXPECT_LE(read, (events::kLanes + 4) * kLimit) << mode << ": " << plan.scans(true);
  }
}

}  // namespace
}  // namespace todo::test

// Integration: creates written together (service::create_many, tasks::CreateBatcher) on a real PostgreSQL:
// the same rows, events and audit entries as one create a transaction; concurrent creates share
// transactions; a create that fails fails alone.
#include "todo/tasks/create_batcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "integration.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/tasks/service.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using tasks::NewTask;
using tasks::Task;
using tasks::service::Actor;
using tasks::service::Creation;

template <class P>
bool eventually(P pred, std::chrono::milliseconds bound = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// An io_context run by `n` threads until the end of the scope (also when an assertion returns early).
struct IoThreads {
  explicit IoThreads(int n) {
    for (int i = 0; i < n; ++i)
      threads.emplace_back([this] { io.run(); });
  }
  ~IoThreads() {
    work.reset();
    io.stop();
    for (auto& t : threads)
      t.join();
  }
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
};

class CreateBatcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(migrated_database(fresh_database("batch")));
    pool_ = new db::Pool(*url_, 4);
  }
  static void TearDownTestSuite() {
    delete pool_;
    delete url_;
  }

  template <class F>
  static auto tx(F fn) {
    return transact(*pool_, std::move(fn));
  }

  static std::string new_user(const std::string& timezone) {
    const auth::Registration r{"user-" + new_uuid() + "@example.com", "a long password", "", timezone};
    return tx([&](pqxx::work& w) { return auth::users::insert(w, r, "hash"); }).id;
  }

  static pqxx::result query(const std::string& sql) {
    pqxx::connection c(*url_);
    pqxx::nontransaction n(c);
    return n.exec(sql);
  }

  static NewTask titled(const std::string& title) {
    NewTask r;
    r.title = title;
    return r;
  }

  /// The task as the API shows it, without what differs between two creates of the same request.
  static nlohmann::json comparable(const Task& t) {
    nlohmann::json j = tasks::to_json(t);
    for (const char* k : {"id", "created_at", "updated_at"})
      j.erase(k);
    j["completed_at"] = j["completed_at"].is_null() ? "null" : "set";
    if (!j["series_id"].is_null()) j["series_id"] = "set";
    return j;
  }

  /// The task's created event and audit row, checked against the task, as what two creates of the same
  /// request share: the event's type, keys and data keys, and the audit row's action, request id and fields.
  static std::pair<nlohmann::json, nlohmann::json> records(const Task& t) {
    auto e =
        query("SELECT type, subject, event FROM outbox WHERE event->'data'->'task'->>'id' = '" + t.id + "'");
    auto a = query("SELECT action, request_id, changes FROM audit_log WHERE task_id = '" + t.id + "'");
    EXPECT_EQ(e.size(), 1u) << t.id;
    EXPECT_EQ(a.size(), 1u) << t.id;
    if (e.size() != 1 || a.size() != 1) return {};
    const auto event = nlohmann::json::parse(e[0][2].c_str());
    EXPECT_EQ(event["data"]["task"], tasks::to_json(t));  // the task as stored
    EXPECT_EQ(event["data"]["user_id"], t.user_id);
    EXPECT_EQ(event["data"]["version"], t.version);
    EXPECT_EQ(e[0][1].c_str(), t.id);
    nlohmann::json ev = {
        {"type", e[0][0].c_str()}, {"keys", nlohmann::json::array()}, {"data_keys", nlohmann::json::array()}};
    for (const auto& [k, v] : event.items())
      ev["keys"].push_back(k);
    for (const auto& [k, v] : event["data"].items())
      ev["data_keys"].push_back(k);
    const auto changes = nlohmann::json::parse(a[0][2].c_str());
    const auto shown = tasks::to_json(t);
    nlohmann::json au = {{"action", a[0][0].c_str()},
                         {"request_id", a[0][1].is_null() ? "" : a[0][1].c_str()},
                         {"fields", nlohmann::json::array()}};
    for (const auto& [k, v] : changes.items()) {
      au["fields"].push_back(k);
      EXPECT_EQ(v, nlohmann::json::array({nullptr, shown[k]})) << k;  // [null, the value created]
    }
    return {ev, au};
  }

  /// Concurrent creates through `b` on `io`; each result (or error) in the order of `requests`.
  static std::vector<std::future<Task>> spawn(boost::asio::io_context& io, tasks::CreateBatcher& b,
                                              const std::vector<Creation>& requests) {
    std::vector<std::future<Task>> out;
    for (const auto& c : requests)
      out.push_back(boost::asio::co_spawn(io, b.create(c.who, c.request), boost::asio::use_future));
    return out;
  }

  /// Transactions waiting for a lock on the tasks table (held by a test's LOCK TABLE).
  static int waiting_on_tasks_lock() {
    return query("SELECT count(*) FROM pg_locks WHERE relation = 'tasks'::regclass AND NOT granted")[0][0]
        .as<int>();
  }

  /// Keeps one of `b`'s writers busy: the tasks table is locked, and a create of `t1` waits on the lock in
  /// its transaction until release().
  struct BusyWriter {
    pqxx::connection locker{*url_};
    std::unique_ptr<pqxx::work> hold;
    std::vector<std::future<Task>> busy;
    BusyWriter(boost::asio::io_context& io, tasks::CreateBatcher& b, const std::string& user)
        : hold(std::make_unique<pqxx::work>(locker)) {
      hold->exec("LOCK TABLE tasks IN EXCLUSIVE MODE");
      busy = spawn(io, b, {{Actor(user, "r1"), titled("t1")}});
      EXPECT_TRUE(eventually([] { return waiting_on_tasks_lock() == 1; })) << "t1 waits on the lock";
    }
    /// Lets t1's transaction go on; its result.
    Task release() {
      hold->commit();
      return busy[0].get();
    }
  };

  static std::string* url_;
  static db::Pool* pool_;
};

std::string* CreateBatcherTest::url_ = nullptr;
db::Pool* CreateBatcherTest::pool_ = nullptr;

// Every kind of create request, written by create_many in one transaction and by create one at a time: the
// same tasks, events and audit rows, in the order asked.
TEST_F(CreateBatcherTest, CreateManyWritesWhatCreateWrites) {
  const std::string berlin = new_user("Europe/Berlin");
  const std::string tokyo = new_user("Asia/Tokyo");
  std::vector<Creation> requests;
  requests.push_back({Actor(berlin, "req-1"), titled("plain")});
  NewTask full = titled("full \"quoted\" {braced}, comma\\backslash NULL");
  full.description = "a description\nover two lines";
  full.priority = tasks::Priority::urgent;
  full.tags = {"null", "a\"b", "c,d", "{e}", "back\\slash", "ünï"};
  full.due_at = parse_rfc3339("2027-03-05T09:00:00Z");
  full.all_day = true;
  full.timezone = "America/New_York";
  full.generate_ahead = 3;  // kept, though it does not recur
  requests.push_back({Actor(tokyo, "req-2"), full});
  NewTask done = titled("done already");
  done.status = tasks::Status::done;
  requests.push_back({Actor(berlin), done});
  NewTask recurring = titled("recurring");
  recurring.due_at = parse_rfc3339("2027-01-01T08:00:00Z");
  recurring.recurrence = "FREQ=WEEKLY";
  recurring.generate_ahead = 2;
  requests.push_back({Actor(tokyo, "req-4"), recurring});
  requests.push_back({Actor(tokyo, "req-5"), titled("last")});

  const auto many = tx([&](pqxx::work& w) { return tasks::service::create_many(w, requests); });
  ASSERT_EQ(many.size(), requests.size());
  std::vector<Task> single;
  for (const auto& c : requests)
    single.push_back(tx([&](pqxx::work& w) { return tasks::service::create(w, c.who, c.request); }));

  // One transaction for all of create_many's (the recurring one's occurrences included).
  std::set<std::string> ids;
  for (const auto& t : many)
    ids.insert("'" + t.id + "'");
  std::string list;
  for (const auto& id : ids)
    list += (list.empty() ? "" : ",") + id;
  EXPECT_EQ(query("SELECT count(DISTINCT xmin::text) FROM tasks WHERE id IN (" + list + ")")[0][0].as<int>(),
            1);

  for (std::size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(requests[i].request.title);
    EXPECT_EQ(many[i].title, requests[i].request.title);
    EXPECT_EQ(many[i].user_id, requests[i].who.user_id);
    EXPECT_EQ(comparable(many[i]), comparable(single[i]));
    // Stored as returned.
    const auto stored =
        tx([&](pqxx::work& w) { return tasks::service::get(w, many[i].user_id, many[i].id); });
    EXPECT_EQ(tasks::to_json(stored), tasks::to_json(many[i]));
    EXPECT_EQ(records(many[i]), records(single[i]));
  }
  EXPECT_EQ(many[0].timezone, "Europe/Berlin");  // the user's
  EXPECT_EQ(many[1].timezone, "America/New_York");
  EXPECT_TRUE(many[2].completed_at.has_value());
  // The recurring one started its series, with its occurrences ahead, as create() does.
  const auto count_series = [](const Task& t) {
    return query("SELECT count(*) FROM tasks WHERE series_id = '" + t.id + "'")[0][0].as<int>();
  };
  EXPECT_EQ(count_series(many[3]), 3);
  EXPECT_EQ(count_series(many[3]), count_series(single[3]));
}

// Creates that arrive while a batch is being written wait, and the next batch takes them together (at most
// max_batch); each is answered with its own task.
TEST_F(CreateBatcherTest, CreatesArrivingMeanwhileShareTransactions) {
  const std::string user = new_user("UTC");
  tasks::CreateBatcher batcher(*pool_, /*max_in_flight=*/1, /*max_batch=*/4);
  IoThreads threads(2);
  auto& io = threads.io;

  // The first create's transaction waits on a table lock, so the others queue behind it.
  pqxx::connection locker(*url_);
  auto hold = std::make_unique<pqxx::work>(locker);
  hold->exec("LOCK TABLE tasks IN EXCLUSIVE MODE");
  std::vector<Creation> first{{Actor(user, "r0"), titled("t0")}};
  auto first_result = spawn(io, batcher, first);
  ASSERT_TRUE(eventually([] { return waiting_on_tasks_lock() == 1; }));
  std::vector<Creation> rest;
  for (int i = 1; i <= 10; ++i)
    rest.push_back({Actor(user, "r" + std::to_string(i)), titled("t" + std::to_string(i))});
  auto results = spawn(io, batcher, rest);
  ASSERT_TRUE(eventually([&] { return batcher.queued() == rest.size(); }));
  EXPECT_EQ(batcher.batches(), 1u);
  hold->commit();

  std::map<std::string, int> batch_of;  // xmin → tasks
  const Task t0 = first_result[0].get();
  EXPECT_EQ(t0.title, "t0");
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const Task t = results[i].get();
    EXPECT_EQ(t.title, rest[i].request.title);
    EXPECT_EQ(t.user_id, user);
  }
  for (const auto& row : query("SELECT xmin::text, count(*) FROM tasks WHERE user_id = '" + user +
                               "' GROUP BY 1 ORDER BY min(title::text COLLATE \"C\")"))
    batch_of[row[0].c_str()] = row[1].as<int>();
  std::multiset<int> sizes;
  for (const auto& [xmin, n] : batch_of)
    sizes.insert(n);
  EXPECT_EQ(sizes, (std::multiset<int>{1, 2, 4, 4}));  // t0 alone, then 10 in batches of at most 4
  EXPECT_EQ(batcher.batches(), 4u);
  EXPECT_EQ(batcher.creates(), 11u);
  // Every create has its event and its audit row with its own request id.
  EXPECT_EQ(query("SELECT count(*) FROM outbox WHERE user_id = '" + user + "'")[0][0].as<int>(), 11);
  EXPECT_EQ(query("SELECT count(DISTINCT request_id) FROM audit_log WHERE user_id = '" + user +
                  "' AND action = 'task.created'")[0][0]
                .as<int>(),
            11);
}

// Linger: while another writer is in a transaction, a free writer waits for `until` creates, or for the
// oldest to have waited `at_most`; with no other writer busy, a create is written at once.
TEST_F(CreateBatcherTest, UnderLoadAFreeWriterWaitsForMoreCreates) {
  const std::string user = new_user("UTC");
  tasks::CreateBatcher batcher(*pool_, /*max_in_flight=*/2, /*max_batch=*/64, {},
                               tasks::CreateBatcher::Linger{5, std::chrono::seconds(60)});
  IoThreads threads(2);
  auto& io = threads.io;
  const auto titled_for = [&user](int i) {
    return std::vector<Creation>{{Actor(user, "r" + std::to_string(i)), titled("t" + std::to_string(i))}};
  };

  // Nothing else is being written: the first create goes at once, though it is alone.
  auto alone = spawn(io, batcher, titled_for(0));
  ASSERT_EQ(alone[0].wait_for(20s), std::future_status::ready) << "written at once, not after the linger";
  EXPECT_EQ(alone[0].get().title, "t0");

  // One writer's transaction waits on a table lock: the database is busy.
  pqxx::connection locker(*url_);
  auto hold = std::make_unique<pqxx::work>(locker);
  hold->exec("LOCK TABLE tasks IN EXCLUSIVE MODE");
  auto busy = spawn(io, batcher, titled_for(1));
  ASSERT_TRUE(eventually([] { return waiting_on_tasks_lock() == 1; }));
  EXPECT_EQ(batcher.batches(), 2u);
  // The second writer starts with the next create but waits: four queued, one at a time, stay queued...
  std::vector<std::future<Task>> waiting;
  for (int i = 2; i <= 5; ++i) {
    auto f = spawn(io, batcher, titled_for(i));
    waiting.push_back(std::move(f[0]));
    ASSERT_TRUE(eventually([&] { return batcher.queued() == static_cast<std::size_t>(i - 1); }));
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(batcher.queued(), 4u);
  EXPECT_EQ(batcher.batches(), 2u);
  // ...and the fifth makes `until`: all five go in one transaction, while the first writer still waits.
  auto fifth = spawn(io, batcher, titled_for(6));
  waiting.push_back(std::move(fifth[0]));
  ASSERT_TRUE(eventually([&] { return batcher.queued() == 0; }));
  EXPECT_EQ(batcher.batches(), 3u);
  hold->commit();
  EXPECT_EQ(busy[0].get().title, "t1");
  for (std::size_t i = 0; i < waiting.size(); ++i)
    EXPECT_EQ(waiting[i].get().title, "t" + std::to_string(i + 2));
  std::multiset<int> sizes;
  for (const auto& row :
       query("SELECT count(*) FROM tasks WHERE user_id = '" + user + "' GROUP BY xmin::text"))
    sizes.insert(row[0].as<int>());
  EXPECT_EQ(sizes, (std::multiset<int>{1, 1, 5}));
  EXPECT_EQ(batcher.creates(), 7u);
}

// The linger has a deadline: fewer than `until` creates are written once the oldest has waited `at_most`.
TEST_F(CreateBatcherTest, ALingeringCreateIsWrittenAfterAtMost) {
  const std::string user = new_user("UTC");
  tasks::CreateBatcher batcher(*pool_, 2, 64, {},
                               tasks::CreateBatcher::Linger{100, std::chrono::milliseconds(300)});
  IoThreads threads(2);
  auto& io = threads.io;
  BusyWriter writer(io, batcher, user);
  const auto start = std::chrono::steady_clock::now();
  auto late = spawn(io, batcher, {{Actor(user, "r2"), titled("t2")}, {Actor(user, "r3"), titled("t3")}});
  ASSERT_TRUE(eventually([&] { return batcher.batches() == 2u; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms) << "they waited for more creates first";
  EXPECT_EQ(batcher.queued(), 0u);
  EXPECT_EQ(writer.release().title, "t1");
  EXPECT_EQ(late[0].get().title, "t2");
  EXPECT_EQ(late[1].get().title, "t3");
}

// A lingering writer goes as soon as the other writer's transaction ends, long before its deadline.
TEST_F(CreateBatcherTest, ALingeringCreateIsWrittenWhenTheOtherWriterCommits) {
  const std::string user = new_user("UTC");
  tasks::CreateBatcher batcher(*pool_, 2, 64, {},
                               tasks::CreateBatcher::Linger{100, std::chrono::seconds(60)});
  IoThreads threads(2);
  auto& io = threads.io;
  BusyWriter writer(io, batcher, user);
  auto lingering = spawn(io, batcher, {{Actor(user, "r2"), titled("t2")}});
  ASSERT_TRUE(eventually([&] { return batcher.queued() == 1; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(batcher.queued(), 1u) << "it waits for more creates while the other writer is busy";
  EXPECT_EQ(batcher.batches(), 1u);
  EXPECT_EQ(writer.release().title, "t1");
  ASSERT_EQ(lingering[0].wait_for(20s), std::future_status::ready) << "written when t1's transaction ended";
  EXPECT_EQ(lingering[0].get().title, "t2");
  EXPECT_EQ(batcher.batches(), 2u);
}

// A create that fails in the database (here: for a user that does not exist) gets its error; the others of
// its batch are written, each in a transaction of its own.
TEST_F(CreateBatcherTest, ACreateThatFailsFailsAlone) {
  const std::string user = new_user("UTC");
  tasks::CreateBatcher batcher(*pool_, 1, 64);
  IoThreads threads(1);
  auto& io = threads.io;

  pqxx::connection locker(*url_);
  auto hold = std::make_unique<pqxx::work>(locker);
  hold->exec("LOCK TABLE tasks IN EXCLUSIVE MODE");
  auto first = spawn(io, batcher, {{Actor(user), titled("first")}});
  ASSERT_TRUE(eventually([] { return waiting_on_tasks_lock() == 1; }));
  std::vector<Creation> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back({Actor(user), titled("good " + std::to_string(i))});
  NewTask nobodys = titled("nobody's");
  nobodys.timezone = "UTC";  // so that the user's foreign key is what fails
  batch.insert(batch.begin() + 2, Creation{Actor(new_uuid()), nobodys});
  auto results = spawn(io, batcher, batch);
  ASSERT_TRUE(eventually([&] { return batcher.queued() == batch.size(); }));
  hold->commit();

  EXPECT_EQ(first[0].get().title, "first");
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i == 2) {
      try {
        results[i].get();
        ADD_FAILURE() << "a create for a user that does not exist succeeded";
      } catch (const pqxx::foreign_key_violation&) {
      }
      continue;
    }
    EXPECT_EQ(results[i].get().title, batch[i].request.title);
  }
  EXPECT_EQ(batcher.batches(), 2u);
  // All six written, each in a transaction of its own.
  EXPECT_EQ(query("SELECT count(*) FROM tasks WHERE user_id = '" + user + "'")[0][0].as<int>(), 6);
  EXPECT_EQ(
      query("SELECT count(DISTINCT xmin::text) FROM tasks WHERE user_id = '" + user + "'")[0][0].as<int>(),
      6);
  EXPECT_EQ(query("SELECT count(*) FROM outbox WHERE user_id = '" + user + "'")[0][0].as<int>(), 6);
}

// A lost connection fails the batch's creates with "unavailable" and writes none of them; the next create
// is written on a new connection.
TEST_F(CreateBatcherTest, ALostConnectionWritesNothingAndTheNextCreateWorks) {
  const std::string user = new_user("UTC");
  db::Pool pool(*url_, 1);
  tasks::CreateBatcher batcher(pool, 1, 64);
  IoThreads threads(1);
  auto& io = threads.io;

  pqxx::connection locker(*url_);
  auto hold = std::make_unique<pqxx::work>(locker);
  hold->exec("LOCK TABLE tasks IN EXCLUSIVE MODE");
  std::vector<Creation> batch;
  for (int i = 0; i < 3; ++i)
    batch.push_back({Actor(user), titled("lost " + std::to_string(i))});
  auto first = spawn(io, batcher, {batch[0]});
  ASSERT_TRUE(eventually([] { return waiting_on_tasks_lock() == 1; }));
  auto rest = spawn(io, batcher, {batch[1], batch[2]});
  ASSERT_TRUE(eventually([&] { return batcher.queued() == 2; }));
  // The waiting backend is killed: the first batch fails; the second is written on a new connection.
  query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'tasks'::regclass AND NOT granted");
  try {
    first[0].get();
    ADD_FAILURE() << "a create on a killed connection succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable);
  }
  hold->commit();
  EXPECT_EQ(rest[0].get().title, "lost 1");
  EXPECT_EQ(rest[1].get().title, "lost 2");
  EXPECT_EQ(
      query("SELECT string_agg(title, ',' ORDER BY title) FROM tasks WHERE user_id = '" + user + "'")[0][0]
          .c_str(),
      std::string("lost 1,lost 2"));
}

}  // namespace
}  // namespace todo::test

// Integration: the migration runner, db::Pool and db::Reader against a real PostgreSQL, including a database
// restart.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <latch>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "integration.hpp"
#include "todo/core/error.hpp"
#include "todo/db/commit_signals.hpp"
#include "todo/db/reader.hpp"
#include "todo/db/statements.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;

int count_rows(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::nontransaction n(c);
  return n.exec(sql)[0][0].as<int>();
}

// ---------------------------------------------------------------------------------------------------------
// Array parameters

// Both ways of passing a text array arrive in PostgreSQL item for item, whatever the items hold.
TEST(ArrayParameters, ArrayLiteralsAndRecordSeparatedItemsArriveUnchanged) {
  const std::string url = fresh_database("arrays");
  pqxx::connection c(url);
  const std::vector<std::string> items = {
      R"({"a":"b \"c\" \\ d"})", "{,}", "NULL", "x y", "ü€😀", "'quoted'", "\t", "[1,2]"};
  pqxx::work w(c);
  for (const auto& sql : {std::string("SELECT unnest($1::text[])"),
                          std::string("SELECT unnest(string_to_array($1::text, chr(30)))")}) {
    const bool separated = sql.find("string_to_array") != std::string::npos;
    const auto rows = w.exec_params(sql, separated ? db::record_separated(items) : db::array_literal(items));
    std::vector<std::string> got;
    for (const auto& row : rows)
      got.emplace_back(row[0].c_str());
    EXPECT_EQ(got, items) << sql;
  }

  // PostgreSQL's text output of arrays reads back element for element, ';' included (libpqxx 6's
  // array_parser split "a;b" in two); NULL elements are left out, the quoted string "NULL" is kept.
  std::vector<std::string> tricky = items;
  for (const char* more : {"a;b", ";", ";;", "", " ", "\\", "\"", "}", "{", "null", "x,y", "é;ü"})
    tricky.emplace_back(more);
  auto text_of = [&](const std::string& sql) { return std::string(w.exec_params(sql)[0][0].c_str()); };
  for (const auto& one : tricky) {
    SCOPED_TRACE(one);
    EXPECT_EQ(db::parse_text_array(
                  w.exec_params("SELECT $1::text[]", db::array_literal(std::vector<std::string>{one}))[0][0]
                      .c_str()),
              std::vector<std::string>{one});
  }
  EXPECT_EQ(db::parse_text_array(w.exec_params("SELECT $1::text[]", db::array_literal(tricky))[0][0].c_str()),
            tricky);
  EXPECT_EQ(db::parse_text_array(text_of("SELECT ARRAY['a', NULL, 'NULL', 'b;c']")),
            (std::vector<std::string>{"a", "NULL", "b;c"}));
  EXPECT_EQ(db::parse_text_array(text_of("SELECT '{}'::text[]")), std::vector<std::string>{});
  EXPECT_EQ(db::parse_text_array(text_of("SELECT '[0:1]={x,y}'::text[]")),
            (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(db::parse_text_array(text_of("SELECT '{{a,b},{\"c;d\",e}}'::text[]")),
            (std::vector<std::string>{"a", "b", "c;d", "e"}));
  for (const char* bad : {"", "a", "{", "{a", "{\"a}", "{a,}", "{,a}", "{a}x", "{a\"b\"}", "[1:1]"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(db::parse_text_array(bad), std::runtime_error);
  }

  EXPECT_THROW(db::record_separated({"a", "b\x1e"}), std::invalid_argument);
  EXPECT_THROW(db::record_separated({"a", ""}), std::invalid_argument) << "string_to_array would drop it";
  EXPECT_EQ(db::record_separated({}), "");
}

// ---------------------------------------------------------------------------------------------------------
// Migrations

TEST(Migrations, AppliesEachMigrationOnceAcrossRuns) {
  const auto& all = db::embedded_migrations();
  ASSERT_FALSE(all.empty());
  const std::string url = fresh_database("mig_once");
  pqxx::connection c(url);

  EXPECT_FALSE(db::is_migrated(c));
  EXPECT_EQ(db::current_version(c), 0);

  EXPECT_EQ(db::migrate(c), static_cast<int>(all.size()));
  EXPECT_TRUE(db::is_migrated(c));
  EXPECT_EQ(db::current_version(c), all.back().version);

  EXPECT_EQ(db::migrate(c), 0) << "a second run must find nothing to do";
  EXPECT_TRUE(db::is_migrated(c));
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM schema_migrations"), static_cast<int>(all.size()));
  // The schema is really there.
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM tasks"), 0);
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM users"), 0);
}

TEST(Migrations, EightConcurrentRunnersApplyEachVersionOnce) {
  const auto& all = db::embedded_migrations();
  const std::string url = fresh_database("mig_race");
  constexpr int kRunners = 8;

  // Each runner connects first, then all call migrate() at the same moment.
  std::vector<std::unique_ptr<pqxx::connection>> connections;
  for (int i = 0; i < kRunners; ++i)
    connections.push_back(std::make_unique<pqxx::connection>(url));
  std::latch start(kRunners);
  std::vector<int> applied(kRunners, -1);
  std::vector<std::string> errors(kRunners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRunners; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      try {
        applied[i] = db::migrate(*connections[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();

  int total = 0;
  for (int i = 0; i < kRunners; ++i) {
    EXPECT_EQ(errors[i], "") << "runner " << i << " failed";
    EXPECT_GE(applied[i], 0) << "runner " << i;
    total += std::max(applied[i], 0);
  }
  EXPECT_EQ(total, static_cast<int>(all.size())) << "each migration applied by exactly one runner";
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM schema_migrations"), static_cast<int>(all.size()));
  EXPECT_EQ(count_rows(url,
                       "SELECT count(*) FROM (SELECT version FROM schema_migrations GROUP BY version "
                       "HAVING count(*) > 1) d"),
            0);
  for (auto& c : connections)
    EXPECT_TRUE(db::is_migrated(*c));
}

// ---------------------------------------------------------------------------------------------------------
// Pool

/// A database with one plain table for the pool tests.
std::string pool_database() {
  const std::string url = fresh_database("pool");
  pqxx::connection c(url);
  pqxx::work w(c);
  w.exec("CREATE TABLE items (id integer PRIMARY KEY, note text NOT NULL)");
  w.commit();
  return url;
}

/// Waits, with a bound, until `n` parties have arrived: makes `n` jobs occupy `n` pool threads at once.
class TimedBarrier {
 public:
  explicit TimedBarrier(int n) : left_(n) {}
  void arrive_and_wait(std::chrono::milliseconds bound) {
    std::unique_lock lock(mutex_);
    if (--left_ == 0) cv_.notify_all();
    if (!cv_.wait_for(lock, bound, [this] { return left_ <= 0; }))
      throw std::runtime_error("barrier: not every pool thread ran a job at once");
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int left_;
};

/// Runs `n` transactions at once, each holding its pool thread until all are running: every connection of a
/// pool of size `n` is used. Returns the number that succeeded and the failures' messages.
std::pair<int, std::vector<std::string>> use_every_connection(db::Pool& pool, int n) {
  boost::asio::io_context io;
  TimedBarrier barrier(n);
  int ok = 0;
  std::vector<std::string> failures;
  for (int i = 0; i < n; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          try {
            const int one = co_await pool.transact([&](pqxx::work& w) {
              barrier.arrive_and_wait(10s);
              return w.exec("SELECT 1")[0][0].as<int>();
            });
            if (one == 1) ++ok;
          } catch (const Error& e) {
            failures.push_back("todo::Error(" + std::to_string(static_cast<int>(e.code())) +
                               "): " + e.what());
          } catch (const std::exception& e) {
            failures.push_back(e.what());
          }
        },
        boost::asio::detached);
  }
  io.run_for(60s);
  return {ok, failures};
}

TEST(Pool, ManyConcurrentTransactsCompleteWithTheirResults) {
  const std::string url = pool_database();
  db::Pool pool(url, 4);
  constexpr int kJobs = 300;
  boost::asio::io_context io;
  std::vector<int> results(kJobs, -1);
  std::atomic<int> failures{0};
  for (int i = 0; i < kJobs; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> boost::asio::awaitable<void> {
          try {
            results[i] = co_await pool.transact([i](pqxx::work& w) {
              w.exec_params("INSERT INTO items (id, note) VALUES ($1, $2)", i, "job " + std::to_string(i));
              return w.exec_params("SELECT $1::int * 2", i)[0][0].as<int>();
            });
          } catch (...) {
            ++failures;
          }
        },
        boost::asio::detached);
  }
  io.run_for(120s);
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < kJobs; ++i)
    ASSERT_EQ(results[i], 2 * i) << "job " << i;
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items"), kJobs);
  EXPECT_EQ(pool.queue_depth(), 0u);
}

TEST(Pool, ResumesOnTheAwaitersExecutor) {
  const std::string url = pool_database();
  db::Pool pool(url, 2);
  boost::asio::io_context io;
  std::thread::id db_thread, resumed_on;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        co_await pool.transact([&](pqxx::work&) { db_thread = std::this_thread::get_id(); });
        resumed_on = std::this_thread::get_id();
      },
      boost::asio::detached);
  io.run_for(30s);
  EXPECT_NE(db_thread, std::thread::id());
  EXPECT_NE(db_thread, std::this_thread::get_id()) << "the work must run on a DB thread";
  EXPECT_EQ(resumed_on, std::this_thread::get_id()) << "the coroutine must resume on the io_context";
}

TEST(Pool, ExceptionInTheWorkPropagatesAndRollsBack) {
  const std::string url = pool_database();
  db::Pool pool(url, 2);
  try {
    transact(pool, [](pqxx::work& w) {
      w.exec("INSERT INTO items (id, note) VALUES (1, 'never committed')");
      throw std::runtime_error("boom");
    });
    FAIL() << "the exception did not reach the awaiter";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items WHERE id = 1"), 0)
      << "the insert was not rolled back";

  // An SQL error that is not about the connection comes through as libpqxx's own exception, and the
  // connection stays usable.
  transact(pool, [](pqxx::work& w) { w.exec("INSERT INTO items (id, note) VALUES (2, 'kept')"); });
  EXPECT_THROW(
      transact(pool, [](pqxx::work& w) { w.exec("INSERT INTO items (id, note) VALUES (2, 'dup')"); }),
      pqxx::unique_violation);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(
        transact(pool, [](pqxx::work& w) { return w.exec("SELECT count(*) FROM items")[0][0].as<int>(); }),
        1);
}

TEST(Pool, TodoErrorPropagatesUnchanged) {
  const std::string url = pool_database();
  db::Pool pool(url, 2);
  try {
    transact(pool, [](pqxx::work& w) -> int {
      w.exec("INSERT INTO items (id, note) VALUES (7, 'rolled back')");
      throw Error(Errc::not_found, "no task 42", {{"id", "unknown"}});
    });
    FAIL() << "the error did not reach the awaiter";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_found);
    EXPECT_STREQ(e.what(), "no task 42");
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_EQ(e.errors()[0].field, "id");
    EXPECT_EQ(e.errors()[0].message, "unknown");
  }
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items WHERE id = 7"), 0);
}

// With limits, a statement that runs too long, or waits too long for a lock, is cancelled by PostgreSQL: the
// job fails with Error(unavailable) (a 503), its transaction writes nothing, and the connection serves on.
TEST(Pool, AStatementPastItsTimeoutOrLockTimeoutFailsAsUnavailableAndWritesNothing) {
  const std::string url = pool_database();
  db::Pool pool(url, 1, db::SessionLimits{std::chrono::milliseconds(300), std::chrono::milliseconds(200)});
  auto code_of = [&](auto fn) -> std::optional<Errc> {
    try {
      transact(pool, fn);
    } catch (const Error& e) {
      return e.code();
    }
    return std::nullopt;
  };
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(code_of([](pqxx::work& w) {
              w.exec("INSERT INTO items (id, note) VALUES (1, 'before the sleep')");
              w.exec("SELECT pg_sleep(5)");
            }),
            Errc::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s) << "cancelled at the statement timeout";
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items WHERE id = 1"), 0) << "nothing was written";

  // A row locked by another session (an operator's open transaction): the update waits 200 ms, then fails.
  transact(pool, [](pqxx::work& w) { w.exec("INSERT INTO items (id, note) VALUES (2, 'locked')"); });
  pqxx::connection other(url);
  pqxx::work holder(other);
  holder.exec("SELECT * FROM items WHERE id = 2 FOR UPDATE");
  const auto waited = std::chrono::steady_clock::now();
  EXPECT_EQ(code_of([](pqxx::work& w) { w.exec("UPDATE items SET note = 'changed' WHERE id = 2"); }),
            Errc::unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - waited, 3s) << "cancelled at the lock timeout";
  holder.abort();
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items WHERE note = 'changed'"), 0);

  // Unlocked, the same update goes through on the same connection.
  transact(pool, [](pqxx::work& w) { w.exec("UPDATE items SET note = 'changed' WHERE id = 2"); });
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items WHERE note = 'changed'"), 1);

  // Without limits (the default) the same session has none.
  db::Pool unlimited(url, 1);
  EXPECT_EQ(transact(unlimited,
                     [](pqxx::work& w) {
                       return w
                           .exec(
                               "SELECT current_setting('statement_timeout') || ' ' || "
                               "current_setting('lock_timeout')")[0][0]
                           .as<std::string>();
                     }),
            "0 0");
}

// Two transactions that lock two rows in opposite orders deadlock; PostgreSQL rolls one of them back after
// deadlock_timeout, and the pool runs that one again from the start, so both commit.
TEST(Pool, ATransactionRolledBackToBreakADeadlockRunsAgain) {
  const std::string url = pool_database();
  db::Pool pool(url, 2);
  transact(pool, [](pqxx::work& w) { w.exec("INSERT INTO items (id, note) VALUES (1, 'one'), (2, 'two')"); });
  std::latch both_hold_their_first_row(2);
  std::atomic<int> runs{0};
  std::atomic<int> committed{0};
  std::mutex m;
  std::vector<std::string> failures;
  boost::asio::io_context io;
  for (const int first : {1, 2}) {
    boost::asio::co_spawn(
        io,
        [&, first]() -> boost::asio::awaitable<void> {
          // Waits for the other only on its first run: a run again must get through.
          auto job = [&runs, &both_hold_their_first_row, first, waited = false](pqxx::work& w) mutable {
            ++runs;
            w.exec_params("UPDATE items SET note = note || '+' WHERE id = $1", first);
            if (!waited) {
              waited = true;
              both_hold_their_first_row.arrive_and_wait();
            }
            w.exec_params("UPDATE items SET note = note || '+' WHERE id = $1", 3 - first);
          };
          try {
            co_await pool.transact(std::move(job));
            ++committed;
          } catch (const std::exception& e) {
            std::lock_guard lock(m);
            failures.push_back(e.what());
          }
        },
        boost::asio::detached);
  }
  io.run_for(60s);
  EXPECT_TRUE(failures.empty()) << failures.front();
  EXPECT_EQ(committed.load(), 2);
  EXPECT_EQ(runs.load(), 3) << "exactly one of the two was rolled back and run again";
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items WHERE note IN ('one++', 'two++')"), 2)
      << "each row is changed once by each transaction, none by the rolled-back run";
}

// Serialization failures are run again too; a transaction rolled back on every attempt fails as unavailable
// (503, try again) and leaves nothing behind.
TEST(Pool, ATransactionRolledBackOnEveryAttemptFailsAsUnavailable) {
  const std::string url = pool_database();
  db::Pool pool(url, 2);
  const auto fail_as = [](pqxx::work& w, const char* code) {
    w.exec(std::string("DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '") + code + "'; END $$");
  };
  int runs = 0;
  const int second = transact(pool, [&](pqxx::work& w) {
    w.exec_params("INSERT INTO items (id, note) VALUES ($1, 'once')", 10 + runs);
    if (++runs == 1) fail_as(w, "serialization_failure");
    return runs;
  });
  EXPECT_EQ(second, 2);
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items"), 1) << "the first run's insert was rolled back";

  runs = 0;
  try {
    transact(pool, [&](pqxx::work& w) -> int {
      w.exec("INSERT INTO items (id, note) VALUES (20, 'never')");
      fail_as(w, ++runs % 2 ? "deadlock_detected" : "serialization_failure");
      return 0;
    });
    FAIL() << "no error reached the awaiter";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable) << e.what();
  }
  EXPECT_EQ(runs, db::Pool::kTransactAttempts);
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items WHERE id = 20"), 0);

  // Any other SQL error is not run again.
  runs = 0;
  EXPECT_THROW(transact(pool,
                        [&](pqxx::work& w) {
                          ++runs;
                          fail_as(w, "check_violation");
                        }),
               pqxx::sql_error);
  EXPECT_EQ(runs, 1);
}

// A lost connection (nothing was written) is told from the other 503s by its kind, not by its words: an
// error that happens to say the same is not one, and a lost connection still reads as before.
TEST(Pool, ALostConnectionIsToldByItsKindNotItsWords) {
  const auto lost = db::Pool::translate(std::make_exception_ptr(pqxx::broken_connection("gone")));
  EXPECT_TRUE(db::Pool::is_lost_connection(lost));
  EXPECT_TRUE(db::Pool::is_connection_error(lost));
  try {
    std::rethrow_exception(lost);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable);
    EXPECT_EQ(e.detail(), "the database is unavailable");
  }
  try {
    db::Pool::throw_unavailable();
  } catch (...) {
    EXPECT_TRUE(db::Pool::is_lost_connection(std::current_exception()));
  }
  const auto same_words = std::make_exception_ptr(Error(Errc::unavailable, "the database is unavailable"));
  EXPECT_FALSE(db::Pool::is_lost_connection(same_words));
  EXPECT_TRUE(db::Pool::is_connection_error(same_words));
  EXPECT_FALSE(db::Pool::is_lost_connection(std::make_exception_ptr(db::unanswered_error(500ms))));
  EXPECT_FALSE(db::Pool::is_lost_connection(std::make_exception_ptr(db::cancelled_error())));
}

TEST(Pool, ReadRunsOnAPooledConnection) {
  const std::string url = pool_database();
  db::Pool pool(url, 2);
  transact(pool, [](pqxx::work& w) { w.exec("INSERT INTO items (id, note) VALUES (1, 'one'), (2, 'two')"); });
  EXPECT_EQ(run_awaitable(pool.read([](pqxx::transaction_base& t) {
              return std::string(t.exec("SELECT string_agg(note, ',' ORDER BY id) FROM items")[0][0].c_str());
            })),
            "one,two");
  EXPECT_THROW(
      run_awaitable(pool.read([](pqxx::transaction_base& t) { t.exec("SELECT * FROM no_such_table"); })),
      pqxx::undefined_table);
  try {
    run_awaitable(pool.read([](pqxx::transaction_base&) -> int { throw Error(Errc::conflict, "taken"); }));
    FAIL() << "the error did not reach the awaiter";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::conflict);
  }
  EXPECT_EQ(pool.queue_depth(), 0u);
}

// Every connection is opened when the pool starts: the ones used least must not start their backends in the
// middle of the first burst that needs them all.
TEST(Pool, OpensEveryConnectionAtStart) {
  const std::string url = pool_database();
  constexpr int kSize = 5;
  db::Pool pool(url, kSize);
  const std::string others =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
      "AND backend_type = 'client backend'";
  int open = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
    open = count_rows(url, others);
    if (open >= kSize) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_GE(open, kSize) << "connections open before any work";
  EXPECT_EQ(pool.queue_depth(), 0u);
}

// Work goes to the connection that became idle last, so light load stays on a few PostgreSQL backends
// (whose caches and page mappings are warm) instead of going round all of them.
TEST(Pool, WorkGoesToTheMostRecentlyIdleConnection) {
  const std::string url = pool_database();
  constexpr int kSize = 6;
  db::Pool pool(url, kSize);
  // Open every connection: kSize jobs that wait for each other, so each holds its own connection.
  std::latch all_running(kSize);
  std::mutex m;
  std::set<int> opened;
  boost::asio::io_context io;
  for (int i = 0; i < kSize; ++i) {
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          auto job = [&all_running](pqxx::work& w) {
            all_running.arrive_and_wait();
            return w.exec("SELECT pg_backend_pid()")[0][0].as<int>();
          };
          const int pid = co_await pool.transact(job);
          std::lock_guard lock(m);
          opened.insert(pid);
        },
        boost::asio::detached);
  }
  io.run_for(60s);
  ASSERT_EQ(opened.size(), static_cast<std::size_t>(kSize));

  // One transaction after another: each finds the connection the previous one just gave back (the answer is
  // delivered once that connection is idle again). Going round, as a queue of idle connections would, uses
  // all six.
  std::set<int> used;
  for (int i = 0; i < 4 * kSize; ++i)
    used.insert(
        transact(pool, [](pqxx::work& w) { return w.exec("SELECT pg_backend_pid()")[0][0].as<int>(); }));
  EXPECT_EQ(used.size(), 1u) << "sequential work went round " << used.size() << " of " << kSize
                             << " connections";
}

/// Starts the shared cluster again should a test stop it and then fail.
struct RestartGuard {
  ~RestartGuard() {
    if (!TestPostgres::shared().running()) TestPostgres::shared().start();
  }
};

/// After a restart: the next transactions succeed by themselves, on every connection of the pool.
void expect_recovered(db::Pool& pool, int size) {
  int failed = 0;
  std::string first_failure;
  for (int i = 0; i < 2 * size; ++i) {
    try {
      EXPECT_EQ(transact(
                    pool, [](pqxx::work& w) { return w.exec("SELECT 41 + 1")[0][0].as<int>(); }, 30s),
                42);
    } catch (const std::exception& e) {
      if (failed++ == 0) first_failure = e.what();
    }
  }
  EXPECT_EQ(failed, 0) << failed << " of " << 2 * size
                       << " sequential transactions after the restart failed; first: " << first_failure;
  auto [ok, failures] = use_every_connection(pool, size);
  std::string all;
  for (const auto& f : failures)
    all += "\n  " + f;
  EXPECT_EQ(ok, size) << "one transaction on each of the " << size
                      << " connections after the restart:" << all;
  EXPECT_EQ(pool.queue_depth(), 0u);
}

/// A proxy in front of the test cluster's unix socket that, once armed, cuts the next connection sending
/// COMMIT: after passing the COMMIT on (the server commits; its answer is never passed back), or instead of
/// it (the server sees the client go and rolls back). Either way the client's commit is in doubt.
/// It can also hang a connection as a database whose processes stopped would (freeze_at).
class CommitCutter {
 public:
  explicit CommitCutter(const TestPostgres& pg)
      : upstream_(pg.socket_dir() + "/.s.PGSQL." + std::to_string(pg.port())) {
    char dir[] = "/tmp/todo-cut-XXXXXX";
    if (!::mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    listener_ = listen_at(dir_ + "/.s.PGSQL." + std::to_string(pg.port()));
    acceptor_ = std::thread([this] {
      for (;;) {
        const int client = ::accept(listener_, nullptr, nullptr);
        if (client < 0) return;  // closed by the destructor
        pumps_.emplace_back([this, client] { pump(client); });
      }
    });
  }
  ~CommitCutter() {
    release();
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    stopping_ = true;
    for (auto& t : pumps_)
      t.join();
    std::filesystem::remove_all(dir_);
  }
  /// `url` with its socket folder replaced by the proxy's.
  std::string through(const std::string& url) const {
    const auto host = url.find("host=");
    const auto end = url.find('&', host);
    return url.substr(0, host + 5) + dir_ + url.substr(end);
  }
  void arm(bool pass_commit_on) {
    pass_on_ = pass_commit_on;
    armed_ = true;
  }
  int cuts() const { return cuts_; }
  /// The next connection whose client sends `needle` hangs from then on: nothing more passes either way and
  /// its sockets stay open, as with a database whose processes stopped (SIGSTOP). Other connections work.
  void freeze_at(std::string needle) {
    std::lock_guard lock(needle_mutex_);
    needle_ = std::move(needle);
  }
  /// Connections hung by freeze_at so far.
  int frozen() const { return frozen_; }
  /// Closes the hung connections (for good: later ones close at once too).
  void release() { released_ = true; }

 private:
  bool hangs_on(std::string_view data) {
    std::lock_guard lock(needle_mutex_);
    if (needle_.empty() || data.find(needle_) == std::string_view::npos) return false;
    needle_.clear();
    ++frozen_;
    return true;
  }

  static int unix_socket(const std::string& path, bool listen) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    const auto* sa = reinterpret_cast<sockaddr*>(&a);
    if (listen ? (::bind(fd, sa, sizeof a) != 0 || ::listen(fd, 16) != 0) : ::connect(fd, sa, sizeof a) != 0)
      throw std::runtime_error("cannot " + std::string(listen ? "listen at " : "connect to ") + path);
    return fd;
  }
  static int listen_at(const std::string& path) { return unix_socket(path, true); }

  void pump(int client) {
    const int server = unix_socket(upstream_, false);
    char buf[65536];
    while (!stopping_) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) continue;
      bool done = false;
      for (int k = 0; k < 2 && !done; ++k) {
        if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::read(p[k].fd, buf, sizeof buf);
        if (n <= 0) {
          done = true;
          break;
        }
        const std::string_view data(buf, static_cast<std::size_t>(n));
        if (k == 0 && hangs_on(data)) {
          while (!stopping_ && !released_)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          done = true;
          break;
        }
        if (k == 0 && armed_ && data.find("COMMIT") != std::string_view::npos) {
          armed_ = false;
          if (pass_on_) {
            (void)::write(server, buf, static_cast<std::size_t>(n));
            std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server commits meanwhile
          }
          ++cuts_;
          done = true;
          break;
        }
        (void)::write(p[1 - k].fd, buf, static_cast<std::size_t>(n));
      }
      if (done) break;
    }
    ::close(client);
    ::close(server);
  }

  std::string upstream_;
  std::string dir_;
  int listener_ = -1;
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
  std::atomic<bool> armed_{false};
  std::atomic<bool> pass_on_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int> cuts_{0};
  std::mutex needle_mutex_;
  std::string needle_;  // guarded by needle_mutex_
  std::atomic<int> frozen_{0};
  std::atomic<bool> released_{false};
};

/// Closes the cutter's hung connections when it goes: declared after a pool, before the pool joins its
/// threads (one may be waiting on a hung connection), however the test ends.
struct ReleaseHung {
  CommitCutter& cutter;
  ~ReleaseHung() { cutter.release(); }
};

// A commit whose answer is lost (the connection goes during COMMIT) is looked up before it is answered: a
// committed one is a success, with its result; a rolled-back one is 'unavailable' (nothing written, try
// again). Both used to be 'unavailable', and clients retrying a committed create made a duplicate.
TEST(Pool, ACommitInDoubtIsAnsweredByItsOutcome) {
  const std::string url = pool_database();
  CommitCutter cutter(TestPostgres::shared());
  db::Pool pool(cutter.through(url), 1);
  const auto rows = [&](int id) {
    pqxx::connection c(url);
    pqxx::nontransaction n(c);
    return n.exec_params1("SELECT count(*) FROM items WHERE id = $1", id)[0].as<int>();
  };
  EXPECT_EQ(transact(pool, [](pqxx::work& w) { return w.exec1("SELECT 41 + 1")[0].as<int>(); }), 42);

  cutter.arm(/*pass_commit_on=*/true);
  const int got = transact(pool, [](pqxx::work& w) {
    w.exec("INSERT INTO items VALUES (1, 'committed, answer lost')");
    return 7;
  });
  EXPECT_EQ(cutter.cuts(), 1);
  EXPECT_EQ(got, 7);
  EXPECT_EQ(rows(1), 1);

  cutter.arm(/*pass_commit_on=*/false);
  try {
    transact(pool, [](pqxx::work& w) { w.exec("INSERT INTO items VALUES (2, 'never committed')"); });
    ADD_FAILURE() << "a commit that never reached the server succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable);
    EXPECT_NE(std::string(e.what()).find("nothing was written"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cutter.cuts(), 2);
  EXPECT_EQ(rows(2), 0);
  // The pool goes on, on a new connection.
  transact(pool, [](pqxx::work& w) { w.exec("INSERT INTO items VALUES (3, 'after')"); });
  EXPECT_EQ(rows(3), 1);
}

// The lookup of a commit in doubt waits for a database that stopped answering only kInDoubtPatience, then
// says the outcome is unknown: its new connection had no bound, and held the pool's thread (and the request)
// for as long as the database did.
TEST(Pool, ACommitInDoubtLookedUpOnAHungDatabaseGivesUpInTime) {
  const std::string url = pool_database();
  CommitCutter cutter(TestPostgres::shared());
  db::Pool pool(cutter.through(url), 1);
  const ReleaseHung release{cutter};  // before the pool joins its threads, however the test ends
  ASSERT_EQ(transact(pool, [](pqxx::work& w) { return w.exec1("SELECT 41 + 1")[0].as<int>(); }), 42);

  cutter.arm(/*pass_commit_on=*/true);
  cutter.freeze_at("pg_xact_status");  // the lookup's question is never answered
  const auto started = std::chrono::steady_clock::now();
  try {
    transact(
        pool, [](pqxx::work& w) { w.exec("INSERT INTO items VALUES (1, 'committed, answer lost')"); }, 20s);
    ADD_FAILURE() << "a commit whose outcome could not be looked up succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable);
    EXPECT_NE(std::string(e.what()).find("unknown"), std::string::npos) << e.what();
  } catch (const Timeout& e) {
    ADD_FAILURE() << "the lookup waited for the hung database: " << e.what();
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(cutter.cuts(), 1);
  EXPECT_EQ(cutter.frozen(), 1);
  EXPECT_GE(took, db::Pool::kInDoubtPatience);
  EXPECT_LT(took, db::Pool::kInDoubtPatience + 3s);
  // The thread is back: the next transaction runs (on a new connection), the hung one still open.
  EXPECT_EQ(
      transact(
          pool, [](pqxx::work& w) { return w.exec1("SELECT count(*) FROM items WHERE id = 1")[0].as<int>(); },
          10s),
      1);
}

// A new connection whose session setup (time zone, limits, prepared statements) the database does not
// answer is given up within the answer timeout: the pool's thread stayed in it for as long as the database
// did, and every later job waited for it in vain.
TEST(Pool, ASessionSetupTheDatabaseDoesNotAnswerIsGivenUpInTime) {
  const std::string url = pool_database();
  CommitCutter cutter(TestPostgres::shared());
  cutter.freeze_at("SET TIME ZONE");
  db::Pool pool(cutter.through(url), 1, db::SessionLimits{0ms, 0ms, 500ms}, /*connect_now=*/false);
  const ReleaseHung release{cutter};
  const auto started = std::chrono::steady_clock::now();
  try {
    transact(
        pool, [](pqxx::work& w) { w.exec("SELECT 1"); }, 10s);
    ADD_FAILURE() << "a job succeeded on a connection whose setup was never answered";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable);
    EXPECT_NE(std::string(e.what()).find("did not answer"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(cutter.frozen(), 1);
  // The hung connection stays hung; the thread comes back and opens another for the next jobs.
  std::string last;
  bool served = false;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       !served && std::chrono::steady_clock::now() < deadline;) {
    try {
      served = transact(
                   pool, [](pqxx::work& w) { return w.exec1("SELECT 41 + 1")[0].as<int>(); }, 10s) == 42;
    } catch (const Error& e) {
      last = e.what();
      std::this_thread::sleep_for(100ms);
    }
  }
  EXPECT_TRUE(served) << "no job served within 10 s of the hung setup: " << last;
}

TEST(Pool, DatabaseRestartFailsFastThenRecoversByItself) {
  constexpr int kSize = 3;
  const std::string url = pool_database();
  db::Pool pool(url, kSize);
  RestartGuard guard;
  // Every pool thread holds an open connection before the restart.
  {
    auto [ok, failures] = use_every_connection(pool, kSize);
    ASSERT_EQ(ok, kSize) << (failures.empty() ? "" : failures.front());
  }

  TestPostgres::shared().stop();
  // While the database is down, work fails with Errc::unavailable, promptly rather than hanging. (One job
  // only: which pool thread takes it is up to the pool, and the outcome below must not depend on that.)
  const auto started = std::chrono::steady_clock::now();
  try {
    transact(
        pool, [](pqxx::work& w) { w.exec("SELECT 1"); }, 20s);
    ADD_FAILURE() << "transact succeeded while the database was stopped";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable) << e.what();
  } catch (const Timeout& e) {
    FAIL() << "transact hung while the database was stopped: " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "transact failed with a non-todo::Error: " << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(pool.queue_depth(), 0u);

  TestPostgres::shared().start();
  expect_recovered(pool, kSize);
}

TEST(Pool, DatabaseDownFailsEveryWaitingJobFast) {
  constexpr int kSize = 2;
  const std::string url = pool_database();
  db::Pool pool(url, kSize);
  RestartGuard guard;
  TestPostgres::shared().stop();
  // A burst larger than the pool: every job ends with Errc::unavailable, none hangs, the queue drains.
  boost::asio::io_context io;
  constexpr int kJobs = 20;
  std::vector<std::string> outcome(kJobs, "did not complete");
  for (int i = 0; i < kJobs; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> boost::asio::awaitable<void> {
          try {
            co_await pool.transact([](pqxx::work& w) { w.exec("SELECT 1"); });
            outcome[i] = "succeeded";
          } catch (const Error& e) {
            outcome[i] =
                e.code() == Errc::unavailable ? "unavailable" : std::string("todo::Error ") + e.what();
          } catch (const std::exception& e) {
            outcome[i] = e.what();
          }
        },
        boost::asio::detached);
  }
  io.run_for(20s);
  for (int i = 0; i < kJobs; ++i)
    EXPECT_EQ(outcome[i], "unavailable") << "job " << i;
  EXPECT_EQ(pool.queue_depth(), 0u);
  TestPostgres::shared().start();
}

TEST(Pool, IdleConnectionsSurviveADatabaseRestart) {
  // A restart while the server is idle (no request during the outage): afterwards every connection must work
  // again, not fail its first job with 'unavailable'.
  constexpr int kSize = 3;
  const std::string url = pool_database();
  db::Pool pool(url, kSize);
  RestartGuard guard;
  {
    auto [ok, failures] = use_every_connection(pool, kSize);
    ASSERT_EQ(ok, kSize) << (failures.empty() ? "" : failures.front());
  }
  TestPostgres::shared().stop();
  TestPostgres::shared().start();
  expect_recovered(pool, kSize);
}

// ---------------------------------------------------------------------------------------------------------
// Post-commit notifications

/// Counts NOTIFYs on one channel, on a connection of its own.
class Listener {
 public:
  Listener(const std::string& url, const std::string& channel)
      : conn_(url), receiver_(conn_, channel, count_) {}
  /// Waits up to `bound` for the count to reach `at_least`; returns the count.
  int wait_for(int at_least, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (count_ < at_least && std::chrono::steady_clock::now() < deadline)
      conn_.await_notification(0, 20'000);
    return count_;
  }

 private:
  struct Receiver : pqxx::notification_receiver {
    Receiver(pqxx::connection& c, const std::string& channel, int& n)
        : notification_receiver(c, channel), n_(n) {}
    void operator()(const std::string&, int) override { ++n_; }
    int& n_;
  };
  int count_ = 0;
  pqxx::connection conn_;
  Receiver receiver_;
};

TEST(Notifier, ATransactionsNotificationFollowsItsCommitAndNeverARollback) {
  const std::string url = pool_database();
  Listener listener(url, "todo_test_signal");
  db::Pool pool(url, 2);
  EXPECT_THROW(transact(pool,
                        [](pqxx::work& w) {
                          w.exec("INSERT INTO items VALUES (1, 'rolled back')");
                          db::signal_after_commit("todo_test_signal");
                          throw std::runtime_error("roll back");
                        }),
               std::runtime_error);
  EXPECT_EQ(listener.wait_for(1, 300ms), 0) << "a rolled-back transaction must not notify";
  transact(pool, [](pqxx::work& w) {
    w.exec("INSERT INTO items VALUES (2, 'committed')");
    db::signal_after_commit("todo_test_signal");
    db::signal_after_commit("todo_test_signal");  // twice in one transaction: one request
  });
  EXPECT_EQ(listener.wait_for(1, 5s), 1);
  EXPECT_EQ(listener.wait_for(2, 300ms), 1) << "one notification for the one transaction";
  EXPECT_EQ(pool.notifications_sent(), 1u);
}

TEST(Notifier, ConcurrentCommitsShareNotificationsAndTheLastCommitIsAlwaysCovered) {
  const std::string url = pool_database();
  Listener listener(url, "todo_test_signal");
  constexpr int kCommits = 400;
  db::Pool pool(url, 8);
  boost::asio::io_context io;
  int committed = 0;
  for (int i = 0; i < kCommits; ++i)
    boost::asio::co_spawn(
        io,
        [&, i]() -> boost::asio::awaitable<void> {
          co_await pool.transact([i](pqxx::work& w) {
            w.exec_params("INSERT INTO items VALUES ($1, 'x')", i);
            db::signal_after_commit("todo_test_signal");
          });
          ++committed;
        },
        boost::asio::detached);
  io.run_for(60s);
  ASSERT_EQ(committed, kCommits);
  // Every commit happened before its notification was sent, so the last notification sent covers the last
  // commit: a listener woken by it sees every row.
  // The last one may still be on its way: wait until what was sent and what arrived agree and stay so. At
  // least one is sent (the notifier connects before its first), so none sent yet is not agreement.
  std::size_t sent = 0;
  int received = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    sent = pool.notifications_sent();
    received = listener.wait_for(static_cast<int>(sent) + 1, 200ms);
  } while ((sent == 0 || received != static_cast<int>(sent) || sent != pool.notifications_sent()) &&
           std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(received, static_cast<int>(sent)) << "every notification sent arrives";
  EXPECT_GE(sent, 1u);
  EXPECT_LE(sent, static_cast<std::size_t>(kCommits));
  EXPECT_EQ(count_rows(url, "SELECT count(*) FROM items"), kCommits);
  std::printf("[ info ] %d commits on 8 connections sent %zu notifications\n", kCommits, sent);
}

// ---------------------------------------------------------------------------------------------------------
// Reader

const db::Statement kReaderEcho{"reader_test_echo", "SELECT $1::text, $2::text IS NULL, pg_backend_pid()"};
const db::Statement kReaderDivide{"reader_test_divide", "SELECT 100 / $1::int, pg_backend_pid()"};
const db::Statement kReaderSlowEcho{"reader_test_slow_echo",
                                    "SELECT $1::text, pg_backend_pid(), pg_sleep(0.02)"};
const db::Registration kReaderStatements{kReaderEcho, kReaderDivide, kReaderSlowEcho};

/// Runs `body(reader)` as a coroutine on an io_context with `threads` threads and a Reader of at most
/// `max_connections` on it; fails the test if it does not finish within 60 s.
template <class Body>
void with_reader(const std::string& url, std::size_t max_connections, int threads, Body body,
                 db::SessionLimits limits = {}) {
  boost::asio::io_context io;
  auto reader = std::make_unique<db::Reader>(io.get_executor(), url, max_connections, 8, limits);
  std::promise<void> done;
  auto finished = done.get_future();
  boost::asio::co_spawn(io, body(*reader), [&](std::exception_ptr ep) {
    if (ep)
      done.set_exception(ep);
    else
      done.set_value();
  });
  std::vector<std::thread> runners;
  for (int i = 0; i < threads; ++i)
    runners.emplace_back([&] { io.run_for(60s); });
  for (auto& t : runners)
    t.join();
  ASSERT_EQ(finished.wait_for(0s), std::future_status::ready) << "the reads did not finish within 60 s";
  reader.reset();
  finished.get();
}

/// Statement parameters (not a braced list: GCC 12 cannot keep one in a coroutine frame).
template <class... A>
std::vector<db::Param> params(A... a) {
  std::vector<db::Param> v;
  (v.emplace_back(db::Param(std::move(a))), ...);
  return v;
}

/// Waits (without blocking the io thread) until every future is ready or `limit` has passed.
template <class T>
boost::asio::awaitable<void> wait_all(std::vector<std::future<T>>& all,
                                      std::chrono::milliseconds limit = 30s) {
  auto ex = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer t(ex);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (auto& f : all)
    while (f.wait_for(0s) != std::future_status::ready && std::chrono::steady_clock::now() < deadline) {
      t.expires_after(2ms);
      co_await t.async_wait(boost::asio::use_awaitable);
    }
}

/// What a read of (value, backend pid) gave: the value, or "sqlstate N"; the pid goes into `pids`.
boost::asio::awaitable<std::string> outcome_of(boost::asio::awaitable<db::Rows> read, std::set<int>& pids,
                                               std::mutex& m) {
  std::string got;
  try {
    auto r = co_await std::move(read);
    got = std::to_string(r[0][0].as<int>());
    std::lock_guard lock(m);
    pids.insert(r[0][1].as<int>());
  } catch (const pqxx::sql_error& e) {
    got = "sqlstate " + e.sqlstate();
  }
  co_return got;
}

TEST(Reader, ReturnsValuesNullsAndInstants) {
  with_reader(pool_database(), 2, 1, [](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto r = co_await reader.exec_params(
        "SELECT $1::int + 1, NULL::text, 'tea ☕'::text, true, '2026-03-29T01:30:00Z'::timestamptz, "
        "ARRAY['a','b c']::text[]",
        params("41"));
    EXPECT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0][0].as<int>(), 42);
    EXPECT_TRUE(r[0][1].is_null());
    EXPECT_STREQ(r[0][2].c_str(), "tea ☕");
    EXPECT_TRUE(r[0][3].as<bool>());
    EXPECT_EQ(format_rfc3339(db::instant(r[0][4])), "2026-03-29T01:30:00Z") << "session time zone UTC";
    EXPECT_EQ(db::parse_text_array(r[0][5].c_str()), (std::vector<std::string>{"a", "b c"}));
    // A registered statement is prepared on the reader's connections too; a NULL parameter is SQL NULL.
    auto e = co_await reader.exec_prepared(kReaderEcho, params("x", std::nullopt));
    EXPECT_STREQ(e[0][0].c_str(), "x");
    EXPECT_TRUE(e[0][1].as<bool>());
    auto none = co_await reader.exec_params("SELECT 1 WHERE false", params());
    EXPECT_TRUE(none.empty());
  });
}

TEST(Reader, LargeResultArrivesWhole) {
  // About 2 MB: many socket reads, and waits while part of the answer is already buffered.
  with_reader(pool_database(), 1, 2, [](db::Reader& reader) -> boost::asio::awaitable<void> {
    for (int round = 0; round < 3; ++round) {
      auto r = co_await reader.exec_params("SELECT g, repeat('x', 100) FROM generate_series(1, $1::int) g",
                                           params("20000"));
      EXPECT_EQ(r.size(), 20000u);
      EXPECT_EQ(r[19999][0].as<int>(), 20000);
      EXPECT_EQ(std::string(r[12345][1].c_str()), std::string(100, 'x'));
    }
  });
}

TEST(Reader, SqlErrorReachesTheAwaiterAndKeepsTheConnection) {
  with_reader(pool_database(), 1, 1, [](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto first = co_await reader.exec_prepared(kReaderEcho, params("a", "b"));
    const int pid = first[0][2].as<int>();
    std::string sqlstate;
    try {
      co_await reader.exec_params("SELECT 1 / $1::int", params("0"));
    } catch (const pqxx::sql_error& e) {
      sqlstate = e.sqlstate();
    }
    EXPECT_EQ(sqlstate, "22012") << "division by zero";
    auto again = co_await reader.exec_prepared(kReaderEcho, params("a", "b"));
    EXPECT_EQ(again[0][2].as<int>(), pid) << "the same connection serves on after a statement error";
    EXPECT_EQ(reader.open_connections(), 1u);
  });
}

// A read cancelled by its connection's limits fails with Error(unavailable), and the connection serves on.
TEST(Reader, AReadPastItsLockTimeoutFailsAsUnavailable) {
  const std::string url = pool_database();
  {
    pqxx::connection c(url);
    pqxx::work w(c);
    w.exec("INSERT INTO items (id, note) VALUES (1, 'one')");
    w.commit();
  }
  pqxx::connection other(url);
  pqxx::work holder(other);
  holder.exec("LOCK TABLE items IN ACCESS EXCLUSIVE MODE");  // what a long ALTER TABLE would hold
  std::optional<Errc> code;
  std::string after;
  const auto started = std::chrono::steady_clock::now();
  with_reader(
      url, 1, 1,
      [&](db::Reader& reader) -> boost::asio::awaitable<void> {
        try {
          co_await reader.exec_params("SELECT note FROM items WHERE id = $1::int", params("1"));
        } catch (const Error& e) {
          code = e.code();
        }
        holder.abort();
        auto rows = co_await reader.exec_params("SELECT note FROM items WHERE id = $1::int", params("1"));
        after = rows[0][0].c_str();
      },
      db::SessionLimits{std::chrono::milliseconds(2000), std::chrono::milliseconds(200)});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(code, Errc::unavailable) << "the read waiting for the lock was cancelled at the lock timeout";
  EXPECT_EQ(after, "one") << "the same reader serves once the lock is gone";
}

TEST(Reader, CachedTextsArePreparedOncePerConnectionAndErrorsStayTheirOwn) {
  with_reader(pool_database(), 1, 1, [](db::Reader& reader) -> boost::asio::awaitable<void> {
    const std::string sql = "SELECT $1::int * 2, pg_backend_pid()";
    const std::string count_sql =
        "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'reader_cached_%'";
    const std::string uses_sql =
        "SELECT generic_plans + custom_plans FROM pg_prepared_statements WHERE statement = $1";
    int pid = 0;
    for (int i = 0; i < 10; ++i) {
      auto r = co_await reader.exec_cached(sql, params(std::to_string(i)));
      EXPECT_EQ(r[0][0].as<int>(), 2 * i) << "each run with its own parameter";
      if (i == 0) pid = r[0][1].as<int>();
      EXPECT_EQ(r[0][1].as<int>(), pid);
    }
    auto count = co_await reader.exec_params(count_sql, params());
    EXPECT_EQ(count[0][0].as<int>(), 1) << "one text, prepared once";
    auto uses = co_await reader.exec_params(uses_sql, params(sql));
    EXPECT_EQ(uses.size(), 1u);
    if (uses.size() == 1) {
      EXPECT_EQ(uses[0][0].as<int>(), 10) << "the prepared statement ran every time";
    }

    // A text that PostgreSQL cannot prepare fails with its own error, is not kept, and the connection
    // serves on; an execution error of a cached text leaves it cached.
    for (int i = 0; i < 2; ++i) {
      std::string sqlstate;
      try {
        co_await reader.exec_cached("SELECT no_such_column FROM pg_class WHERE oid = $1::oid", params("1"));
      } catch (const pqxx::sql_error& e) {
        sqlstate = e.sqlstate();
      }
      EXPECT_EQ(sqlstate, "42703") << "undefined column, attempt " << i;
    }
    std::string divide;
    try {
      co_await reader.exec_cached("SELECT 1 / $1::int", params("0"));
    } catch (const pqxx::sql_error& e) {
      divide = e.sqlstate();
    }
    EXPECT_EQ(divide, "22012");
    auto ok = co_await reader.exec_cached("SELECT 1 / $1::int", params("1"));
    EXPECT_EQ(ok[0][0].as<int>(), 1);
    count = co_await reader.exec_params(count_sql, params());
    EXPECT_EQ(count[0][0].as<int>(), 2) << "the doubling and the division texts";

    // Beyond 32 texts on a connection, the rest run unprepared, and as correctly.
    for (int i = 0; i < 80; ++i) {
      auto r = co_await reader.exec_cached("SELECT $1::int + " + std::to_string(i), params("1000"));
      EXPECT_EQ(r[0][0].as<int>(), 1000 + i);
    }
    count = co_await reader.exec_params(count_sql, params());
    EXPECT_EQ(count[0][0].as<int>(), 32);
    auto again = co_await reader.exec_cached(sql, params("21"));
    EXPECT_EQ(again[0][0].as<int>(), 42);
    EXPECT_EQ(again[0][1].as<int>(), pid) << "one connection all along";
    EXPECT_EQ(reader.open_connections(), 1u);
  });
}

TEST(Reader, CachedTextsArePreparedAgainOnANewConnection) {
  const std::string url = pool_database();
  with_reader(url, 1, 1, [&](db::Reader& reader) -> boost::asio::awaitable<void> {
    const std::string sql = "SELECT $1::text || 'x', pg_backend_pid()";
    auto first = co_await reader.exec_cached(sql, params("a"));
    const int pid = first[0][1].as<int>();
    {
      pqxx::connection admin(url);
      pqxx::nontransaction n(admin);
      EXPECT_TRUE(n.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")")[0][0].as<bool>());
    }
    auto after = co_await reader.exec_cached(sql, params("b"));
    EXPECT_STREQ(after[0][0].c_str(), "bx");
    EXPECT_NE(after[0][1].as<int>(), pid) << "a new connection, where the text was prepared again";
  });
}

TEST(Reader, ManyConcurrentReadsShareAtMostMaxConnections) {
  constexpr int kReads = 300;
  constexpr std::size_t kMax = 3;
  std::mutex m;
  std::set<int> pids;
  int ok = 0;
  with_reader(pool_database(), kMax, 2, [&](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    auto one = [&](int i) -> boost::asio::awaitable<void> {
      auto r = co_await reader.exec_prepared(kReaderEcho, params(std::to_string(i), std::nullopt));
      std::lock_guard lock(m);
      if (r[0][0].as<int>() == i) ++ok;
      pids.insert(r[0][2].as<int>());
    };
    std::vector<std::future<void>> all;
    for (int i = 0; i < kReads; ++i)
      all.push_back(boost::asio::co_spawn(ex, one(i), boost::asio::use_future));
    co_await wait_all(all);
    for (auto& f : all)
      f.get();
    EXPECT_LE(reader.open_connections(), kMax);
    EXPECT_EQ(reader.waiting(), 0u);
  });
  EXPECT_EQ(ok, kReads) << "every read got its own parameter back";
  EXPECT_GE(pids.size(), 1u);
  EXPECT_LE(pids.size(), kMax);
}

/// What the reads awaited on one io_context saw (only the context's own thread touches it).
struct ContextReads {
  std::thread::id thread;
  std::set<int> pids;
  int ok = 0;
  int elsewhere = 0;  // reads resumed on another thread than the context's own
  int finished = 0;   // coroutines
  std::promise<void> done;
};

/// As main.cpp runs the server: `contexts` io_contexts of one thread each, and one Reader of at most
/// `max_connections` shared out among them. On each context `coroutines` coroutines make `reads_each` slow
/// reads one after another; then `then(reader)` runs, before the contexts stop. Returns what each context
/// saw and the reader's open connections at the end.
struct ReadsOnContexts {
  std::vector<ContextReads> sides;
  std::size_t open = 0;
};
ReadsOnContexts reads_on_contexts(std::size_t contexts, std::size_t max_connections, int coroutines,
                                  int reads_each, const std::function<void(db::Reader&)>& then = {}) {
  std::vector<std::unique_ptr<boost::asio::io_context>> ios;
  std::vector<boost::asio::any_io_executor> executors;
  for (std::size_t i = 0; i < contexts; ++i) {
    ios.push_back(std::make_unique<boost::asio::io_context>(1));
    executors.push_back(ios.back()->get_executor());
  }
  auto reader = std::make_unique<db::Reader>(executors, pool_database(), max_connections);
  ReadsOnContexts out;
  out.sides = std::vector<ContextReads>(contexts);
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
  std::vector<std::thread> runners;
  for (std::size_t i = 0; i < contexts; ++i) {
    guards.push_back(boost::asio::make_work_guard(*ios[i]));
    runners.emplace_back([&, i] {
      out.sides[i].thread = std::this_thread::get_id();
      ios[i]->run_for(60s);
    });
  }
  auto reads = [&](ContextReads& side, int first) -> boost::asio::awaitable<void> {
    for (int k = 0; k < reads_each; ++k) {
      const int value = first + k;
      auto r = co_await reader->exec_prepared(kReaderSlowEcho, params(std::to_string(value)));
      if (std::this_thread::get_id() != side.thread) ++side.elsewhere;
      if (r[0][0].as<int>() == value) ++side.ok;
      side.pids.insert(r[0][1].as<int>());
    }
    if (++side.finished == coroutines) side.done.set_value();
  };
  std::vector<std::future<void>> finished;
  for (auto& side : out.sides)
    finished.push_back(side.done.get_future());
  for (std::size_t i = 0; i < contexts; ++i)
    for (int c = 0; c < coroutines; ++c)
      boost::asio::co_spawn(*ios[i], reads(out.sides[i], 1000 * static_cast<int>(i) + 10 * c),
                            boost::asio::detached);
  for (auto& f : finished)
    EXPECT_EQ(f.wait_for(60s), std::future_status::ready) << "the reads did not finish within 60 s";
  if (then) then(*reader);
  out.open = reader->open_connections();
  guards.clear();
  for (auto& io : ios)
    io->stop();
  for (auto& t : runners)
    t.join();
  reader.reset();
  return out;
}

TEST(Reader, AReadRunsOnTheConnectionsOfTheIoContextItIsAwaitedOn) {
  constexpr int kCoroutines = 12;
  constexpr int kReadsEach = 4;
  const auto out = reads_on_contexts(2, 4, kCoroutines, kReadsEach, [](db::Reader& reader) {
    // Awaited on neither context (a thread pool here), a read uses the first context's connections.
    boost::asio::thread_pool other(1);
    auto elsewhere = boost::asio::co_spawn(
        other,
        [&]() -> boost::asio::awaitable<int> {
          auto r = co_await reader.exec_prepared(kReaderEcho, params("7", std::nullopt));
          co_return r[0][0].as<int>();
        },
        boost::asio::use_future);
    EXPECT_EQ(elsewhere.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(elsewhere.get(), 7);
    other.join();
  });
  EXPECT_LE(out.open, 4u);
  for (const auto& side : out.sides) {
    EXPECT_EQ(side.ok, kCoroutines * kReadsEach) << "every read got its own parameter back";
    EXPECT_EQ(side.elsewhere, 0) << "a read resumes on the thread of the io_context that awaited it";
    EXPECT_GE(side.pids.size(), 1u);
    EXPECT_LE(side.pids.size(), 2u) << "each context has half of the connections";
  }
  for (int pid : out.sides[0].pids)
    EXPECT_EQ(out.sides[1].pids.count(pid), 0u) << "the contexts share no connection";
}

// The bound is the reader's in total, whatever the number of io threads: with more io threads than
// connections (serve --http-threads=8 --db-pool-size=1 opened 8) those beyond it share another's, and
// connections that do not divide evenly are not rounded up for each (3 threads and 4 connections opened 6).
// A read still resumes on the thread that awaited it.
TEST(Reader, ConnectionsStayWithinTheBoundWhateverTheIoContexts) {
  constexpr int kCoroutines = 12;  // more than a pipeline's 8: a context's reads need a second connection
  constexpr int kReadsEach = 3;
  for (const auto& [contexts, max] :
       std::vector<std::pair<std::size_t, std::size_t>>{{4, 1}, {4, 2}, {3, 4}}) {
    SCOPED_TRACE(std::to_string(contexts) + " io contexts, " + std::to_string(max) + " connections");
    const auto out = reads_on_contexts(contexts, max, kCoroutines, kReadsEach);
    EXPECT_LE(out.open, max);
    std::set<int> pids;
    for (const auto& side : out.sides) {
      EXPECT_EQ(side.ok, kCoroutines * kReadsEach) << "every read got its own parameter back";
      EXPECT_EQ(side.elsewhere, 0) << "a read resumes on the thread of the io_context that awaited it";
      pids.insert(side.pids.begin(), side.pids.end());
    }
    EXPECT_LE(pids.size(), max) << "backends that served reads";
  }
}

TEST(Reader, PipelinedReadsFailAloneWhenOneOfThemFails) {
  // One connection, many prepared reads at once: they are pipelined, and every 7th divides by zero.
  // PostgreSQL skips the rest of a pipeline after an error; those reads are sent again and must succeed.
  constexpr int kReads = 200;
  std::vector<std::string> outcome(kReads);
  std::set<int> pids;
  std::size_t deepest = 0;
  with_reader(pool_database(), 1, 2, [&](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    std::mutex m;
    auto one = [&](int i) -> boost::asio::awaitable<void> {
      std::string got;
      std::string divisor = std::to_string(i);
      if (i % 7 == 0) divisor = "0";  // not a conditional in co_await: GCC 12 destroys its temporary twice
      got = co_await outcome_of(reader.exec_prepared(kReaderDivide, params(divisor)), pids, m);
      outcome[i] = got;
    };
    std::vector<std::future<void>> all;
    for (int i = 0; i < kReads; ++i)
      all.push_back(boost::asio::co_spawn(ex, one(i), boost::asio::use_future));
    co_await wait_all(all);
    for (auto& f : all)
      f.get();
    deepest = reader.deepest_pipeline();
    EXPECT_EQ(reader.open_connections(), 1u);
  });
  for (int i = 0; i < kReads; ++i)
    EXPECT_EQ(outcome[i], i % 7 == 0 ? "sqlstate 22012" : std::to_string(100 / i)) << "read " << i;
  EXPECT_EQ(pids.size(), 1u);
  EXPECT_GT(deepest, 1u) << "the reads were not pipelined";
  std::printf("[ info ] %d reads on one connection, at most %zu in flight at once\n", kReads, deepest);
}

TEST(Reader, CachedReadsArePipelinedWithTheirParsesAndFailAlone) {
  // One connection, many cached reads of 12 texts at once. First only 4 good texts (1 to 4), with good
  // values: they share pipelines, several texts' Parses are in flight at once, and each is prepared once.
  // Then all 12: texts 0, 5 and 10 cannot be prepared (an unknown column), and each read with divisor 0
  // fails at execution. Each fails only itself: PostgreSQL skips the rest of a pipeline after an error, and
  // those reads are sent again.
  constexpr int kReads = 240;
  constexpr int kTexts = 12;
  std::vector<std::string> outcome(kReads);
  std::set<int> pids;
  std::size_t deepest = 0;
  int prepared_first = -1, prepared_then = -1;
  const auto text = [](int k) {
    return "SELECT " + std::string(k % 5 == 0 ? "no_such_column" : "100") + " / $1::int + " +
           std::to_string(1000 * k) + ", pg_backend_pid() FROM (SELECT 1) AS one";
  };
  const auto expected = [](int i, bool all) -> std::string {
    const int k = all ? i % kTexts : 1 + i % 4, divisor = all ? i % 9 : 1 + i % 9;
    if (k % 5 == 0) return "sqlstate 42703";
    if (divisor == 0) return "sqlstate 22012";
    return std::to_string(100 / divisor + 1000 * k);
  };
  with_reader(pool_database(), 1, 2, [&](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    std::mutex m;
    auto one = [&](int i, bool all) -> boost::asio::awaitable<void> {
      std::string got;
      std::string divisor = std::to_string(all ? i % 9 : 1 + i % 9);
      std::string sql = text(all ? i % kTexts : 1 + i % 4);
      got = co_await outcome_of(reader.exec_cached(std::move(sql), params(divisor)), pids, m);
      outcome[i] = got;
    };
    const std::string count_sql =
        "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'reader_cached_%'";
    for (bool all : {false, true}) {
      std::vector<std::future<void>> reads;
      for (int i = 0; i < kReads; ++i)
        reads.push_back(boost::asio::co_spawn(ex, one(i, all), boost::asio::use_future));
      co_await wait_all(reads);
      for (auto& f : reads)
        f.get();
      for (int i = 0; i < kReads; ++i)
        EXPECT_EQ(outcome[i], expected(i, all)) << "read " << i << (all ? ", all texts" : ", good texts");
      if (!all) deepest = reader.deepest_pipeline();
      auto count = co_await reader.exec_params(count_sql, params());
      (all ? prepared_then : prepared_first) = count[0][0].as<int>();
    }
    EXPECT_EQ(reader.open_connections(), 1u);
  });
  EXPECT_EQ(pids.size(), 1u);
  EXPECT_EQ(prepared_first, 4) << "the 4 texts of the first round, each prepared once";
  EXPECT_GE(prepared_then, 4) << "the good texts stay prepared; the bad ones are never kept";
  EXPECT_LE(prepared_then, kTexts - 3);
  EXPECT_GT(deepest, 4u) << "the cached reads were not pipelined";
  std::printf("[ info ] %d cached reads on one connection, at most %zu in flight at once\n", kReads, deepest);
}

TEST(Reader, ACachedReadSentAfterItsTextsFailedParseReportsTheTextsOwnError) {
  // A slow read holds the connection's pipeline; meanwhile a read of a text PostgreSQL cannot prepare is
  // sent (Parse + Execute), then, in a later pipeline segment, another read of the same text, by the name
  // the failed Parse was to create. It must report the text's own error (42703), not "prepared statement
  // does not exist" (26000).
  with_reader(pool_database(), 1, 2, [](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    const std::string bad = "SELECT no_such_column FROM pg_class WHERE oid = $1::oid";
    auto slow = boost::asio::co_spawn(ex, reader.exec_cached("SELECT pg_sleep($1::float8)", params("0.3")),
                                      boost::asio::use_future);
    auto attempt = [&]() -> boost::asio::awaitable<std::string> {
      try {
        co_await reader.exec_cached(bad, params("1"));
      } catch (const pqxx::sql_error& e) {
        co_return e.sqlstate();
      }
      co_return "no error";
    };
    boost::asio::steady_timer t(ex);
    std::vector<std::future<std::string>> attempts;
    for (int i = 0; i < 2; ++i) {
      t.expires_after(30ms);  // the Sync of what was sent before goes out first: a new pipeline segment
      co_await t.async_wait(boost::asio::use_awaitable);
      attempts.push_back(boost::asio::co_spawn(ex, attempt(), boost::asio::use_future));
    }
    co_await wait_all(attempts);
    EXPECT_EQ(slow.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(attempts[0].get(), "42703");
    EXPECT_EQ(attempts[1].get(), "42703");
    EXPECT_GT(reader.deepest_pipeline(), 2u) << "the reads did not share the slow read's pipeline";
    EXPECT_EQ(reader.open_connections(), 1u);
  });
}

// A slow read of this kind is in flight; keyed reads issued meanwhile must not wait for it: they go to
// another connection.
void keyed_reads_do_not_wait_for_a_slow(bool cached) {
  with_reader(pool_database(), 2, 2, [cached](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    co_await reader.exec_prepared(kReaderEcho, params("warm", "up"));  // one connection, idle
    const std::string sql = "SELECT pg_backend_pid(), pg_sleep($1::float8)";
    std::future<db::Rows> slow;
    if (cached)
      slow = boost::asio::co_spawn(ex, reader.exec_cached(sql, params("1.5")), boost::asio::use_future);
    else
      slow = boost::asio::co_spawn(ex, reader.exec_params(sql, params("1.5")), boost::asio::use_future);
    boost::asio::steady_timer t(ex);
    t.expires_after(100ms);
    co_await t.async_wait(boost::asio::use_awaitable);  // the slow read is in flight
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::future<db::Rows>> quick;
    for (int i = 0; i < 20; ++i)
      quick.push_back(boost::asio::co_spawn(ex, reader.exec_prepared(kReaderEcho, params("q", "r")),
                                            boost::asio::use_future));
    co_await wait_all(quick);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_LT(took, 1s) << "the keyed reads waited for the slow one";
    EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout) << "the slow read finished early";
    std::vector<std::future<db::Rows>> rest;
    rest.push_back(std::move(slow));
    co_await wait_all(rest);
    const int slow_pid = rest[0].get()[0][0].as<int>();
    for (auto& f : quick)
      EXPECT_NE(f.get()[0][2].as<int>(), slow_pid);
    EXPECT_EQ(reader.open_connections(), 2u);
  });
}

TEST(Reader, AnUnpreparedReadHasItsConnectionToItself) {
  // An unprepared read is a list with a filter no index serves: its cost depends on the data.
  keyed_reads_do_not_wait_for_a_slow(false);
}

TEST(Reader, ListReadsNeverShareAPipelineWithKeyedReads) {
  // Cached list shapes are pipelined, but only with each other.
  keyed_reads_do_not_wait_for_a_slow(true);
}

// Reads of this kind (keyed, or cached list texts with their Parses) in flight on a connection whose backend
// is killed: none fails; those not answered yet are sent again on a new connection.
void a_killed_backend_costs_no_read(bool cached) {
  const std::string url = pool_database();
  constexpr int kReads = 40;  // 20 ms each, one after another on one connection: about 0.8 s in all
  std::vector<std::string> got(kReads);
  std::set<int> pids;
  with_reader(url, 1, 2, [&](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    auto first = co_await reader.exec_prepared(kReaderEcho, params("a", "b"));
    const int pid = first[0][2].as<int>();
    std::mutex m;
    auto one = [&](int i) -> boost::asio::awaitable<void> {
      db::Rows r;
      if (cached) {
        // Five texts, so that several Parses are in the pipeline when the backend dies.
        std::string sql = std::string(kReaderSlowEcho.sql) + " -- text " + std::to_string(i % 5);
        r = co_await reader.exec_cached(std::move(sql), params(std::to_string(i)));
      } else {
        r = co_await reader.exec_prepared(kReaderSlowEcho, params(std::to_string(i)));
      }
      got[i] = r[0][0].c_str();
      std::lock_guard lock(m);
      pids.insert(r[0][1].as<int>());
    };
    std::vector<std::future<void>> all;
    for (int i = 0; i < kReads; ++i)
      all.push_back(boost::asio::co_spawn(ex, one(i), boost::asio::use_future));
    boost::asio::steady_timer t(ex);
    t.expires_after(200ms);
    co_await t.async_wait(boost::asio::use_awaitable);
    {
      pqxx::connection admin(url);
      pqxx::nontransaction n(admin);
      EXPECT_TRUE(n.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")")[0][0].as<bool>());
    }
    co_await wait_all(all);
    for (auto& f : all)
      f.get();  // none failed
    EXPECT_EQ(reader.open_connections(), 1u) << "the dead connection was dropped, not kept";
  });
  for (int i = 0; i < kReads; ++i)
    EXPECT_EQ(got[i], std::to_string(i));
  EXPECT_EQ(pids.size(), 2u) << "some reads ran before the kill and the rest after it, on a new connection";
}

TEST(Reader, ABackendKilledWithReadsInFlightCostsNoRead) {
  a_killed_backend_costs_no_read(false);
}

TEST(Reader, ABackendKilledWithListReadsAndTheirParsesInFlightCostsNoRead) {
  a_killed_backend_costs_no_read(true);
}

TEST(Reader, ConnectionsKilledWhileIdleAreReplacedWithoutFailingARead) {
  const std::string url = pool_database();
  with_reader(url, 2, 1, [&](db::Reader& reader) -> boost::asio::awaitable<void> {
    auto before = co_await reader.exec_prepared(kReaderEcho, params("a", "b"));
    const int pid = before[0][2].as<int>();
    {
      pqxx::connection admin(url);
      pqxx::nontransaction n(admin);
      EXPECT_TRUE(n.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")")[0][0].as<bool>());
    }
    // The terminated backend's goodbye is already on the idle connection's socket: the read is retried on a
    // new connection instead of failing.
    auto after = co_await reader.exec_prepared(kReaderEcho, params("c", "d"));
    EXPECT_STREQ(after[0][0].c_str(), "c");
    EXPECT_NE(after[0][2].as<int>(), pid);
    EXPECT_EQ(reader.open_connections(), 1u) << "the dead connection was dropped, not kept";
  });
}

// The same for the reader: a connection whose setup the database does not answer is given up within the
// answer timeout, so the thread that opens it and its place among the connections come back.
TEST(Reader, ASessionSetupTheDatabaseDoesNotAnswerIsGivenUpInTime) {
  const std::string url = pool_database();
  CommitCutter cutter(TestPostgres::shared());
  cutter.freeze_at("SET TIME ZONE");
  with_reader(
      cutter.through(url), 1, 1,
      [&](db::Reader& reader) -> boost::asio::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        try {
          co_await reader.exec_prepared(kReaderEcho, params("a", "b"));
          ADD_FAILURE() << "a read succeeded on a connection whose setup was never answered";
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), Errc::unavailable);
          EXPECT_NE(std::string(e.what()).find("did not answer"), std::string::npos) << e.what();
        }
        EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
        EXPECT_EQ(cutter.frozen(), 1);
        boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
        std::string last;
        bool served = false;
        for (auto deadline = std::chrono::steady_clock::now() + 10s;
             !served && std::chrono::steady_clock::now() < deadline;) {
          try {
            auto r = co_await reader.exec_prepared(kReaderEcho, params("back", "b"));
            served = std::string(r[0][0].c_str()) == "back";
          } catch (const Error& e) {
            last = e.what();
          }
          if (served) break;
          pause.expires_after(100ms);
          co_await pause.async_wait(boost::asio::use_awaitable);
        }
        EXPECT_TRUE(served) << "no read served within 10 s of the hung setup: " << last;
        cutter.release();  // before the reader joins the thread that opens its connections
      },
      db::SessionLimits{0ms, 0ms, 500ms});
}

TEST(Reader, DatabaseDownFailsEveryReadFastThenRecovers) {
  const std::string url = pool_database();
  RestartGuard guard;
  with_reader(url, 2, 2, [&](db::Reader& reader) -> boost::asio::awaitable<void> {
    co_await reader.exec_prepared(kReaderEcho, params("a", "b"));  // one connection open and idle
    TestPostgres::shared().stop();
    auto ex = co_await boost::asio::this_coro::executor;
    constexpr int kReads = 20;  // more than the connections: some wait for one
    std::vector<std::future<std::string>> outcomes;
    for (int i = 0; i < kReads; ++i)
      outcomes.push_back(boost::asio::co_spawn(
          ex,
          [&]() -> boost::asio::awaitable<std::string> {
            try {
              co_await reader.exec_prepared(kReaderEcho, params("a", "b"));
              co_return "succeeded";
            } catch (const Error& e) {
              co_return e.code() == Errc::unavailable ? "unavailable" : e.what();
            } catch (const std::exception& e) {
              co_return e.what();
            }
          },
          boost::asio::use_future));
    const auto started = std::chrono::steady_clock::now();
    co_await wait_all(outcomes, 20s);
    for (int i = 0; i < kReads; ++i) {
      EXPECT_EQ(outcomes[i].wait_for(0s), std::future_status::ready) << "read " << i << " hung";
      if (outcomes[i].wait_for(0s) == std::future_status::ready) {
        EXPECT_EQ(outcomes[i].get(), "unavailable");
      }
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
    EXPECT_EQ(reader.waiting(), 0u);
    EXPECT_EQ(reader.open_connections(), 0u);
    TestPostgres::shared().start();
    for (int i = 0; i < 4; ++i) {
      auto r = co_await reader.exec_prepared(kReaderEcho, params("back", std::nullopt));
      EXPECT_STREQ(r[0][0].c_str(), "back");
    }
  });
}

}  // namespace
}  // namespace todo::test

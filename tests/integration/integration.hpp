// What the integration tests share: fresh databases on the binary's throwaway cluster and a synchronous
// bridge from a test to db::Pool's coroutine interface.
#pragma once

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/postgres.hpp"
#include "todo/db/migrations.hpp"
#include "todo/db/pool.hpp"
#include "todo/events/outbox.hpp"

namespace todo::test {

/// A unique database name with `prefix` (one cluster serves every test of the binary).
inline std::string unique_db_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(++counter);
}

/// A new database on the shared cluster; returns its URL.
inline std::string fresh_database(const std::string& prefix) {
  return TestPostgres::shared().create_database(unique_db_name(prefix));
}

/// A new database whose text sorts byte-wise (LC_COLLATE 'C'), so that expected title orders can be computed
/// in C++.
inline std::string fresh_c_collated_database(const std::string& prefix) {
  auto& pg = TestPostgres::shared();
  const std::string name = unique_db_name(prefix);
  pg.query("postgres", "CREATE DATABASE " + name + " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'");
  return pg.url(name);
}

/// Every outbox lane, for claiming all events as a relay holding every lane would.
inline std::vector<int> all_lanes() {
  std::vector<int> lanes(events::kLanes);
  for (int l = 0; l < events::kLanes; ++l)
    lanes[static_cast<std::size_t>(l)] = l;
  return lanes;
}

/// A fresh database with every embedded migration applied.
inline std::string migrated_database(const std::string& url) {
  pqxx::connection c(url);
  todo::db::migrate(c);
  return url;
}

/// Thrown when awaited work did not finish within its bound (a hang, as far as the test is concerned).
struct Timeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs `a` on a private io_context until it completes or `bound` passes; returns its result or rethrows its
/// exception. On timeout the context is leaked on purpose: the pool may still post the completion to it.
template <class T>
T run_awaitable(boost::asio::awaitable<T> a, std::chrono::milliseconds bound = std::chrono::seconds(60)) {
  auto io = std::make_unique<boost::asio::io_context>();
  auto future = boost::asio::co_spawn(*io, std::move(a), boost::asio::use_future);
  io->run_for(bound);
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    (void)io.release();
    throw Timeout("did not complete within " + std::to_string(bound.count()) + " ms");
  }
  return future.get();
}

/// One transaction on the pool, awaited synchronously.
template <class F>
auto transact(todo::db::Pool& pool, F fn, std::chrono::milliseconds bound = std::chrono::seconds(60)) {
  return run_awaitable(pool.transact(std::move(fn)), bound);
}

}  // namespace todo::test

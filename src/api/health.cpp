// Probes: /healthz (the process answers), /readyz (database reachable and migrated), /metrics.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "todo/api/context.hpp"
#include "todo/core/error.hpp"
#include "todo/db/migrations.hpp"
#include "todo/metrics/text_format.hpp"

namespace todo::api {
namespace {

namespace asio = boost::asio;

/// How long /readyz waits for the database's answer: a database that stopped answering (a hung host, a
/// network partition with no reset) is a 503 within this, not a probe that hangs until it answers again.
constexpr auto kReadyPatience = std::chrono::seconds(2);

/// The schema version the database holds, read on the io threads' reader, alone on a connection: a read
/// that waits (for a lock, or for a database that stopped answering) holds up no other read pipelined behind
/// it; 0 before the first migration.
asio::awaitable<int> schema_version(db::Reader& reader) {
  try {
    auto rows =
        co_await reader.exec_params("SELECT coalesce(max(version), 0)::int FROM schema_migrations", {});
    co_return rows[0][0].as<int>();
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "42P01") co_return 0;  // no schema_migrations table: nothing migrated
    throw Error(Errc::unavailable, std::string("the database cannot be read: ") + e.what());
  }
}

/// One read of the schema version, which every probe arriving while it runs waits for rather than starting
/// its own: however many probes come while the database does not answer, one connection waits for it.
struct ReadyFlight {
  explicit ReadyFlight(std::chrono::steady_clock::time_point s) : started(s) {}
  const std::chrono::steady_clock::time_point started;
  std::mutex m;
  bool done = false;
  std::optional<int> version;
  std::exception_ptr error;
  std::vector<std::shared_ptr<asio::steady_timer>> waiters;  // cancelled, each on its own thread, when done
};

struct ReadyChecks {
  std::mutex m;
  std::shared_ptr<ReadyFlight> flight;  // the read in flight, null when none
};

/// schema_version(), or Error(unavailable) when the database has not answered within kReadyPatience of the
/// read's start. A read the probes gave up on goes on by itself (it ends when the database answers, the lock
/// timeout cancels it or the connection is lost); until it ends, later probes wait for it, not for a new one.
asio::awaitable<int> schema_version_in_time(db::Reader& reader, std::shared_ptr<ReadyChecks> checks) {
  const auto ex = co_await asio::this_coro::executor;
  std::shared_ptr<ReadyFlight> flight;
  bool start = false;
  {
    std::lock_guard lock(checks->m);
    if (!checks->flight) {
      checks->flight = std::make_shared<ReadyFlight>(std::chrono::steady_clock::now());
      start = true;
    }
    flight = checks->flight;
  }
  if (start) {
    // Named: GCC 12 mishandles a temporary lambda inside the co_spawn call of a coroutine.
    auto read = [flight, &reader, checks]() -> asio::awaitable<void> {
      std::optional<int> version;
      std::exception_ptr error;
      try {
        version = co_await schema_version(reader);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(checks->m);
        if (checks->flight == flight) checks->flight.reset();
      }
      std::vector<std::shared_ptr<asio::steady_timer>> waiters;
      {
        std::lock_guard lock(flight->m);
        flight->done = true;
        flight->version = version;
        flight->error = error;
        waiters.swap(flight->waiters);
      }
      for (auto& w : waiters)
        asio::post(w->get_executor(), [w] { w->cancel(); });
    };
    asio::co_spawn(ex, read, asio::detached);
  }
  auto timer = std::make_shared<asio::steady_timer>(ex, flight->started + kReadyPatience);
  for (bool waited = false;; waited = true) {
    {
      std::lock_guard lock(flight->m);
      if (flight->done) {
        if (flight->error) std::rethrow_exception(flight->error);
        co_return *flight->version;
      }
      if (waited)
        throw Error(Errc::unavailable,
                    "the database did not answer within " + std::to_string(kReadyPatience.count()) + " s");
      flight->waiters.push_back(timer);
    }
    co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace

void add_health_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/healthz", http::RouteQuery::any(),
             [](http::Request&) -> boost::asio::awaitable<http::Response> {
               co_return http::Response::json(200, {{"status", "ok"}});
             });
  auto checks = std::make_shared<ReadyChecks>();
  router.add("GET", "/readyz", http::RouteQuery::any(),
             [&ctx, checks](http::Request&) -> boost::asio::awaitable<http::Response> {
               if (const auto waiting = ctx.startup ? ctx.startup->waiting() : std::nullopt)
                 throw starting(*waiting);
               const auto& all = db::embedded_migrations();
               const int wanted = all.empty() ? 0 : all.back().version;
               if (co_await schema_version_in_time(ctx.reader, checks) < wanted)
                 throw Error(Errc::unavailable, "the database schema is not migrated yet");
               co_return http::Response::json(200, {{"status", "ready"}});
             });
  router.add("GET", "/metrics", http::RouteQuery::any(),
             [&ctx](http::Request&) -> boost::asio::awaitable<http::Response> {
               http::Response r;
               r.content_type = std::string(metrics::kTextContentType);
               r.body = ctx.metrics.serialize();
               co_return r;
             });
}

}  // namespace todo::api

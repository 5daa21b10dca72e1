// Probes: /healthz (the process answers), /readyz (database reachable and migrated), /metrics.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <optional>

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

/// The schema version the database holds, read on the io threads' reader (not queued behind the pool's
/// transactions); 0 before the first migration.
asio::awaitable<int> schema_version(db::Reader& reader) {
  try {
    auto rows =
        co_await reader.exec_cached("SELECT coalesce(max(version), 0)::int FROM schema_migrations", {});
    co_return rows[0][0].as<int>();
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() == "42P01") co_return 0;  // no schema_migrations table: nothing migrated
    throw Error(Errc::unavailable, std::string("the database cannot be read: ") + e.what());
  }
}

/// schema_version(), or Error(unavailable) when the database has not answered within kReadyPatience. The
/// read goes on by itself when the probe has given up (it ends when the database answers or the connection
/// is lost); the probe waits only for the timer, which the read cancels when it ends first.
asio::awaitable<int> schema_version_in_time(db::Reader& reader) {
  struct Check {
    explicit Check(const asio::any_io_executor& ex) : timer(ex) {}
    asio::steady_timer timer;
    bool done = false;
    std::optional<int> version;
    std::exception_ptr error;
  };
  const auto ex = co_await asio::this_coro::executor;
  auto check = std::make_shared<Check>(ex);
  check->timer.expires_after(kReadyPatience);
  // Named: GCC 12 mishandles a temporary lambda inside the co_spawn call of a coroutine.
  auto read = [check, &reader]() -> asio::awaitable<void> {
    try {
      check->version = co_await schema_version(reader);
    } catch (...) {
      check->error = std::current_exception();
    }
    check->done = true;
    check->timer.cancel();
  };
  asio::co_spawn(ex, read, asio::detached);
  co_await check->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!check->done)
    throw Error(Errc::unavailable,
                "the database did not answer within " + std::to_string(kReadyPatience.count()) + " s");
  if (check->error) std::rethrow_exception(check->error);
  co_return *check->version;
}

}  // namespace

void add_health_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/healthz", http::RouteQuery::any(),
             [](http::Request&) -> boost::asio::awaitable<http::Response> {
               co_return http::Response::json(200, {{"status", "ok"}});
             });
  router.add("GET", "/readyz", http::RouteQuery::any(),
             [&ctx](http::Request&) -> boost::asio::awaitable<http::Response> {
               const auto& all = db::embedded_migrations();
               const int wanted = all.empty() ? 0 : all.back().version;
               if (co_await schema_version_in_time(ctx.reader) < wanted)
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

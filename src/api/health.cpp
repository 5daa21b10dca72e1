// Probes: /healthz (the process answers), /readyz (database reachable and migrated), /metrics.
#include "todo/api/context.hpp"
#include "todo/core/error.hpp"
#include "todo/db/migrations.hpp"
#include "todo/metrics/text_format.hpp"

namespace todo::api {

void add_health_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/healthz", http::RouteQuery::any(),
             [](http::Request&) -> boost::asio::awaitable<http::Response> {
               co_return http::Response::json(200, {{"status", "ok"}});
             });
  router.add("GET", "/readyz", http::RouteQuery::any(),
             [&ctx](http::Request&) -> boost::asio::awaitable<http::Response> {
               const bool migrated =
                   co_await ctx.db.with_connection([](pqxx::connection& c) { return db::is_migrated(c); });
               if (!migrated) throw Error(Errc::unavailable, "the database schema is not migrated yet");
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

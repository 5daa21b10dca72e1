// Audit routes: the caller's own audit trail and its statistics.
#include "todo/audit/audit.hpp"

#include "todo/api/context.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/error.hpp"

namespace todo::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;

void add_audit_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/api/v1/audit", http::RouteQuery::any(), [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto q = audit::parse_query(req.query);
    auto page =
        co_await ctx.db.read([&](pqxx::transaction_base& w) { return audit::list(w, req.user_id, q); });
    if (page.items.empty()) co_await require_account(ctx, req.user_id);
    nlohmann::json items = nlohmann::json::array();
    for (const auto& e : page.items)
      items.push_back(audit::to_json(e));
    co_return Response::json(200, {{"items", std::move(items)},
                                   {"next_cursor", page.next_cursor ? nlohmann::json(*page.next_cursor)
                                                                    : nlohmann::json(nullptr)}});
  });

  router.add("GET", "/api/v1/audit/stats", {{"from", "to"}}, [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto q = audit::parse_query(req.query);
    auto stats = co_await ctx.db.read([&](pqxx::transaction_base& w) {
      auto user = auth::users::find_by_id(w, req.user_id);
      if (!user) throw account_gone();
      // Days are the user's own calendar days.
      return audit::stats(w, req.user_id, q.from, q.to, user->timezone);
    });
    co_return Response::json(200, stats);
  });
}

}  // namespace todo::api

// Reminder routes: thin JSON ↔ reminders service mapping.
#include <charconv>

#include "todo/api/context.hpp"
#include "todo/core/error.hpp"
#include "todo/reminders/service.hpp"

namespace todo::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 500;

nlohmann::json items_json(const std::vector<reminders::Reminder>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : items)
    out.push_back(reminders::to_json(r));
  return out;
}

bool upcoming_param(const Request& req) {
  const auto v = req.query_one("upcoming");
  if (!v || *v == "false") return false;
  if (*v == "true") return true;
  throw Error(Errc::unprocessable, "upcoming: must be true or false",
              {{"upcoming", "must be true or false"}});
}

int limit_param(const Request& req) {
  const auto v = req.query_one("limit");
  if (!v) return kDefaultLimit;
  int n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < 1 || n > kMaxLimit)
    throw Error(Errc::unprocessable, "limit: must be a whole number from 1 to 500",
                {{"limit", "must be a whole number from 1 to 500"}});
  return n;
}

}  // namespace

void add_reminder_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/api/v1/tasks/{id}/reminders", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto task_id = uuid_param(req, "id");
    auto items = co_await ctx.db.read(
        [&](pqxx::transaction_base& w) { return reminders::list_for_task(w, req.user_id, task_id); });
    co_return Response::json(200, {{"items", items_json(items)}});
  });

  router.add("POST", "/api/v1/tasks/{id}/reminders", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto task_id = uuid_param(req, "id");
    auto input = reminders::parse_new_reminder(json_body(req));
    auto r = co_await ctx.db.transact(
        [&](pqxx::work& w) { return reminders::create(w, req.user_id, task_id, input); });
    Response res = Response::json(201, reminders::to_json(r));
    res.with_header("Location", "/api/v1/tasks/" + task_id + "/reminders/" + r.id);
    co_return res;
  });

  // The Location of a new reminder.
  router.add("GET", "/api/v1/tasks/{id}/reminders/{rid}", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto task_id = uuid_param(req, "id");
    const auto id = uuid_param(req, "rid");
    auto r = co_await ctx.db.read(
        [&](pqxx::transaction_base& w) { return reminders::get(w, req.user_id, task_id, id); });
    co_return Response::json(200, reminders::to_json(r));
  });

  router.add("DELETE", "/api/v1/tasks/{id}/reminders/{rid}", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto task_id = uuid_param(req, "id");
    const auto id = uuid_param(req, "rid");
    co_await ctx.db.transact([&](pqxx::work& w) { reminders::remove(w, req.user_id, task_id, id); });
    co_return Response::no_content();
  });

  router.add("POST", "/api/v1/reminders/{rid}/snooze", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "rid");
    const auto duration = reminders::parse_snooze(json_body(req));
    auto r = co_await ctx.db.transact(
        [&](pqxx::work& w) { return reminders::snooze(w, req.user_id, id, duration); });
    co_return Response::json(200, reminders::to_json(r));
  });

  router.add("GET", "/api/v1/reminders", {{"upcoming", "limit", "cursor"}},
             [&ctx](Request& req) -> awaitable<Response> {
               authenticate(req, ctx);
               const bool upcoming = upcoming_param(req);
               const int limit = limit_param(req);
               const auto cursor = req.query_one("cursor");
               auto page = co_await ctx.db.read([&](pqxx::transaction_base& w) {
                 return reminders::repository::list(w, req.user_id, upcoming, limit, cursor);
               });
               if (page.items.empty()) co_await require_account(ctx, req.user_id);
               co_return Response::json(
                   200, {{"items", items_json(page.items)},
                         {"next_cursor",
                          page.next_cursor ? nlohmann::json(*page.next_cursor) : nlohmann::json(nullptr)}});
             });
}

}  // namespace todo::api

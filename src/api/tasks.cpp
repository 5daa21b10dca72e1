// Task routes: thin JSON ↔ service mapping.
#include "todo/api/context.hpp"
#include "todo/core/error.hpp"
#include "todo/core/json_writer.hpp"
#include "todo/tasks/service.hpp"

namespace todo::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;
namespace svc = tasks::service;

namespace {

Response task_response(unsigned status, const tasks::Task& t) {
  Response r;
  r.status = status;
  tasks::append_json(r.body, t);
  r.with_header("ETag", "\"" + std::to_string(t.version) + "\"");
  return r;
}

}  // namespace

void add_task_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/api/v1/tasks", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    auto input = tasks::parse_new_task(json_body(req));
    svc::Actor who(req.user_id, req.request_id);
    auto t = co_await ctx.creates.create(std::move(who), std::move(input));
    Response r = task_response(201, t);
    r.with_header("Location", "/api/v1/tasks/" + t.id);
    co_return r;
  });

  router.add("GET", "/api/v1/tasks", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    auto q = tasks::parse_list_query(req.query);
    auto page = co_await svc::list(ctx.reader, req.user_id, q);
    Response r;
    r.body.reserve(page.items.size() * 512 + 64);
    {
      json::ObjectWriter o(r.body);
      auto& items = o.raw("items");
      items += '[';
      for (std::size_t i = 0; i < page.items.size(); ++i) {
        if (i) items += ',';
        tasks::append_json(items, page.items[i]);
      }
      items += ']';
      o.string("next_cursor", page.next_cursor);
    }
    co_return r;
  });

  router.add("GET", "/api/v1/tasks/{id}", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "id");
    auto t = co_await svc::get(ctx.reader, req.user_id, id);
    co_return task_response(200, t);
  });

  router.add("PATCH", "/api/v1/tasks/{id}", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "id");
    auto patch = tasks::parse_task_patch(json_body(req));
    const auto expected = if_match(req);
    const auto scope = tasks::parse_scope(req.query);
    auto t = co_await ctx.db.transact([&](pqxx::work& w) {
      return svc::update(w, {req.user_id, req.request_id}, id, patch, expected, scope);
    });
    co_return task_response(200, t);
  });

  router.add("DELETE", "/api/v1/tasks/{id}", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "id");
    const auto expected = if_match(req);
    const auto scope = tasks::parse_scope(req.query);
    co_await ctx.db.transact([&](pqxx::work& w) {
      svc::remove(w, {req.user_id, req.request_id}, id, expected, scope);
    });
    co_return Response::no_content();
  });

  // The upcoming occurrence times of a recurring task's series, after the task.
  router.add("GET", "/api/v1/tasks/{id}/occurrences", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "id");
    for (const auto& [name, value] : req.query)
      if (name != "count") throw invalid(name, "not a parameter of occurrences (only count is)");
    const auto count = count_param(req, 10);
    auto times = co_await ctx.db.read(
        [&](pqxx::transaction_base& w) { return svc::occurrences(w, req.user_id, id, count); });
    co_return Response::json(200, occurrences_json(times));
  });

  // complete and reopen: the same shape, another service call.
  using StatusChange = tasks::Task (*)(pqxx::transaction_base&, const svc::Actor&, const std::string&);
  for (auto [path, change] :
       {std::pair<const char*, StatusChange>{"/api/v1/tasks/{id}/complete", svc::complete},
        std::pair<const char*, StatusChange>{"/api/v1/tasks/{id}/reopen", svc::reopen}}) {
    router.add("POST", path, [&ctx, change](Request& req) -> awaitable<Response> {
      authenticate(req, ctx);
      const auto id = uuid_param(req, "id");
      auto t = co_await ctx.db.transact([&](pqxx::work& w) {
        return change(w, {req.user_id, req.request_id}, id);
      });
      co_return task_response(200, t);
    });
  }

  router.add("GET", "/api/v1/tags", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    auto counts = co_await ctx.db.read(
        [&](pqxx::transaction_base& w) { return tasks::repository::tag_counts(w, req.user_id); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [tag, n] : counts)
      out.push_back({{"tag", tag}, {"count", n}});
    co_return Response::json(200, out);
  });
}

}  // namespace todo::api

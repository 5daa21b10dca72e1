// Task routes: thin JSON ↔ service mapping.
#include "todo/api/context.hpp"
#include "todo/core/error.hpp"
#include "todo/core/json_writer.hpp"
#include "todo/core/text.hpp"
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

// A list page's entity tag: the user and their list version (same URL, same user, same version: the same
// page). The user is in it so that a browser shared by two accounts never revalidates one's page with the
// other's.
std::string list_etag(const std::string& user_id, std::int64_t version) {
  return "\"list-" + user_id + "-" + std::to_string(version) + "\"";
}

// Lists change at any time and are the caller's own: caches keep them per user and revalidate on every use.
// A page without an entity tag (overdue=true) is still private.
void list_cache_headers(Response& r, std::optional<std::string> etag) {
  if (etag) r.with_header("ETag", std::move(*etag));
  r.with_header("Cache-Control", "private, no-cache");
  r.with_header("Vary", "Authorization");
}

// If-None-Match (`*`, or entity tags, weak or strong, over any number of lines) names this tag.
bool etag_matches(const Request& req, std::string_view etag) {
  const auto tags = req.header_items("if-none-match");
  if (!tags) return false;
  for (std::string_view tag : *tags) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

// The user and the query parameters in their order, each length-prefixed (no separator is ambiguous).
std::string list_cache_key(const Request& req) {
  std::string key = req.user_id;
  for (const auto& [k, v] : req.query) {
    key += '|';
    key += std::to_string(k.size());
    key += ':';
    key += k;
    key += std::to_string(v.size());
    key += ':';
    key += v;
  }
  return key;
}

// tasks_list_cache_requests_total's series.
struct ListReads {
  explicit ListReads(metrics::Family<metrics::Counter>& f)
      : hit(f.with({"hit"})), not_modified(f.with({"not_modified"})), miss(f.with({"miss"})) {}
  metrics::Counter& hit;
  metrics::Counter& not_modified;
  metrics::Counter& miss;
};

// GET /tasks for an authenticated request: 304 when If-None-Match names the list's version, else the page
// kept for this query at this version, else the page read from the database (and kept).
awaitable<Response> list_page(Context& ctx, const ListReads& reads, const Request& req) {
  const auto q = tasks::parse_list_query(req.query);
  // A page read at list version v holds while the version is v; not with overdue=true, which also depends on
  // the time of reading.
  const bool versioned = !q.overdue;
  std::int64_t version = -1;
  std::string key;
  if (versioned) {
    const auto read = co_await svc::list_version(ctx.reader, req.user_id);
    if (!read) throw account_gone();  // read with the version: no round trip of its own
    version = *read;
    const auto etag = list_etag(req.user_id, version);
    if (etag_matches(req, etag)) {
      reads.not_modified.inc();
      Response r;
      r.status = 304;
      r.content_type.clear();
      list_cache_headers(r, etag);
      co_return r;
    }
    key = list_cache_key(req);
    if (auto kept = ctx.lists.find(key, version)) {
      reads.hit.inc();
      Response r;
      r.body = *kept;
      list_cache_headers(r, etag);
      co_return r;
    }
  }
  reads.miss.inc();
  auto page = co_await svc::list(ctx.reader, req.user_id, q);
  if (!versioned && page.items.empty()) co_await require_account(ctx, req.user_id);
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
  if (versioned) {
    // Kept under the version read before the page: a change committed in between may be in the page, but
    // then the version has moved on and this page is never served.
    ctx.lists.store(key, version, std::make_shared<const std::string>(r.body));
    list_cache_headers(r, list_etag(req.user_id, version));
  } else {
    list_cache_headers(r, std::nullopt);
  }
  co_return r;
}

}  // namespace

void add_task_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/api/v1/tasks", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    auto input = tasks::parse_new_task(json_body(req));
    svc::Actor who(req.user_id, req.request_id);
    tasks::Task t;
    try {
      t = co_await ctx.creates.create(std::move(who), std::move(input));
    } catch (const pqxx::foreign_key_violation&) {
      throw account_gone();  // the token outlived its account: the task's user is gone
    } catch (const pqxx::not_null_violation&) {
      throw account_gone();  // the same, seen first as the missing account's time zone
    }
    Response r = task_response(201, t);
    r.with_header("Location", "/api/v1/tasks/" + t.id);
    co_return r;
  });

  ListReads reads{ctx.metrics.counter("tasks_list_cache_requests_total",
                                      "Task list pages by how they were answered: hit (a kept page), "
                                      "not_modified (304 to If-None-Match), miss (read from the database)",
                                      {"result"})};
  router.add("GET", "/api/v1/tasks", http::RouteQuery::any(),
             [&ctx, reads](Request& req) -> awaitable<Response> {
               authenticate(req, ctx);
               co_return co_await list_page(ctx, reads, req);
             });

  router.add("GET", "/api/v1/tasks/{id}", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "id");
    const auto expected = if_match(req);
    auto t = co_await svc::get(ctx.reader, req.user_id, id);
    expected.check(t.version);
    Response r = task_response(200, t);
    if (etag_matches(req, "\"" + std::to_string(t.version) + "\"")) {
      r.status = 304;
      r.body.clear();
      r.content_type.clear();
    }
    co_return r;
  });

  router.add("PATCH", "/api/v1/tasks/{id}", {{"scope"}}, [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "id");
    auto patch = tasks::parse_task_patch(json_body(req));
    const auto expected = preconditions(req);
    const auto scope = tasks::parse_scope(req.query);
    auto t = co_await ctx.db.transact([&](pqxx::work& w) {
      return svc::update(w, {req.user_id, req.request_id}, id, patch, expected, scope);
    });
    co_return task_response(200, t);
  });

  router.add("DELETE", "/api/v1/tasks/{id}", {{"scope"}}, [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    const auto id = uuid_param(req, "id");
    const auto expected = preconditions(req).with_body(body_version(req));
    const auto scope = tasks::parse_scope(req.query);
    co_await ctx.db.transact([&](pqxx::work& w) {
      svc::remove(w, {req.user_id, req.request_id}, id, expected, scope);
    });
    co_return Response::no_content();
  });

  // The upcoming occurrences of a recurring task's series, after the task: their times (`occurrences`), and
  // each with its task and state (`items`: those already created, open or done early, then null for the ones
  // completing would create).
  router.add(
      "GET", "/api/v1/tasks/{id}/occurrences", {{"count"}}, [&ctx](Request& req) -> awaitable<Response> {
        authenticate(req, ctx);
        const auto id = uuid_param(req, "id");
        const auto count = count_param(req, 10);
        auto list = co_await ctx.db.read(
            [&](pqxx::transaction_base& w) { return svc::occurrence_list(w, req.user_id, id, count); });
        std::vector<Instant> times;
        nlohmann::json items = nlohmann::json::array();
        for (const auto& o : list) {
          times.push_back(o.due_at);
          nlohmann::json item = {{"due_at", format_rfc3339(o.due_at)},
                                 {"task_id", nullptr},
                                 {"occurrence", nullptr},
                                 {"status", nullptr}};
          if (o.task_id) item["task_id"] = *o.task_id;
          if (o.occurrence) item["occurrence"] = *o.occurrence;
          if (o.status) item["status"] = std::string(tasks::to_string(*o.status));
          items.push_back(std::move(item));
        }
        auto body = occurrences_json(times);
        body["items"] = std::move(items);
        co_return Response::json(200, body);
      });

  // complete and reopen: the same shape, another service call.
  using StatusChange =
      tasks::Task (*)(pqxx::transaction_base&, const svc::Actor&, const std::string&, const tasks::Expected&);
  for (auto [path, change] :
       {std::pair<const char*, StatusChange>{"/api/v1/tasks/{id}/complete", svc::complete},
        std::pair<const char*, StatusChange>{"/api/v1/tasks/{id}/reopen", svc::reopen}}) {
    router.add("POST", path, [&ctx, change](Request& req) -> awaitable<Response> {
      authenticate(req, ctx);
      const auto id = uuid_param(req, "id");
      const auto expected = preconditions(req).with_body(body_version(req));
      auto t = co_await ctx.db.transact([&](pqxx::work& w) {
        return change(w, {req.user_id, req.request_id}, id, expected);
      });
      co_return task_response(200, t);
    });
  }

  router.add("GET", "/api/v1/tags", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    auto counts = co_await ctx.db.read(
        [&](pqxx::transaction_base& w) { return tasks::repository::tag_counts(w, req.user_id); });
    if (counts.empty()) co_await require_account(ctx, req.user_id);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [tag, n] : counts)
      out.push_back({{"tag", tag}, {"count", n}});
    co_return Response::json(200, out);
  });
}

}  // namespace todo::api

// Request helpers shared by the route handlers: authentication, JSON bodies, path ids, preconditions.
#include <charconv>

#include "todo/api/context.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/json.hpp"
#include "todo/core/text.hpp"
#include "todo/http/problem.hpp"

namespace todo::api {

namespace {

// Why a request to /api/v1/ws was not taken as a WebSocket handshake.
Error ws_without_upgrade(bool upgrade_named, bool connection_named) {
  // Both there, and still no upgrade: the method or the version is not the handshake's.
  if (upgrade_named && connection_named)
    return Error(Errc::upgrade_required,
                 "/api/v1/ws is a WebSocket endpoint: its opening handshake is a GET over HTTP/1.1");
  if (upgrade_named)
    return Error(
        Errc::upgrade_required,
        "/api/v1/ws is a WebSocket endpoint: Connection: Upgrade is missing beside Upgrade: websocket",
        {{"Connection", "must include Upgrade"}});
  return Error(Errc::upgrade_required,
               "/api/v1/ws is a WebSocket endpoint: open it with Upgrade: websocket and Connection: Upgrade");
}

}  // namespace

void add_routes(http::Router& router, Context& ctx) {
  add_health_routes(router, ctx);
  add_account_routes(router, ctx);
  add_task_routes(router, ctx);
  add_audit_routes(router, ctx);
  add_chat_routes(router, ctx);
  add_reminder_routes(router, ctx);
  add_recurrence_routes(router, ctx);
  // A request without a good token is refused for that first, whatever else is wrong with it: every
  // /api/v1 route but registration and login authenticates before it reads anything.
  router.before_query_refusal([&ctx](http::Request& req) {
    if (req.route.starts_with("/api/v1/") && !req.route.starts_with("/api/v1/auth/")) authenticate(req, ctx);
  });
  // While the server starts (the database not reachable yet, migrations pending) the API answers 503; the
  // probes and /metrics are served.
  router.gate([&ctx](http::Request& req) {
    if (!ctx.startup || !req.route.starts_with("/api/")) return;
    if (const auto waiting = ctx.startup->waiting()) throw starting(*waiting);
  });
  // A token that outlived its account owns nothing: its 404s are the 401 every route gives it. Read only on a
  // 404, so the routes' answers that find something pay nothing for it.
  router.on_not_found([&ctx](http::Request& req) -> boost::asio::awaitable<void> {
    if (!req.user_id.empty()) co_await require_account(ctx, req.user_id);
  });
  // The WebSocket endpoint, asked without the upgrade (the server hands real upgrades to the gateway before
  // routing): 426 naming the upgrade, and 405 for other methods, not a 404 as if it did not exist.
  router.add("GET", "/api/v1/ws", http::RouteQuery::any(),
             [](http::Request& req) -> boost::asio::awaitable<http::Response> {
               // With `Upgrade: websocket` but no `Connection: Upgrade` (RFC 9110 7.8: an Upgrade not named
               // in Connection is not one), the header to add is that one.
               const bool upgrade_named =
                   lower_ascii(req.header("upgrade")).find("websocket") != std::string::npos;
               const bool connection_named =
                   lower_ascii(req.header("connection")).find("upgrade") != std::string::npos;
               http::Response r = http::problem(ws_without_upgrade(upgrade_named, connection_named));
               r.with_header("Upgrade", "websocket");
               co_return r;
             });
}

void authenticate(http::Request& req, const Context& ctx) {
  const std::string_view h = req.header("authorization");
  if (h.empty()) throw Error(Errc::unauthorized, "missing bearer token (Authorization: Bearer <token>)");
  constexpr std::string_view kScheme = "bearer ";
  if (h.size() <= kScheme.size() || lower_ascii(h.substr(0, kScheme.size())) != kScheme)
    throw Error(Errc::unauthorized, "the Authorization header must use the Bearer scheme");
  auto claims = ctx.jwt.verify(trim(h.substr(kScheme.size())));
  if (!claims || !is_uuid(claims->sub))
    throw Error(Errc::unauthorized, "the token is invalid or has expired");
  req.user_id = normalize_uuid(claims->sub);  // as the database writes it: locks and caches key on the text
}

nlohmann::json json_body(const http::Request& req) {
  const std::string ct = lower_ascii(req.header("content-type"));
  const std::string_view type = trim(std::string_view(ct).substr(0, ct.find(';')));
  const bool is_json =
      type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
  if (!req.body.empty() && !is_json)
    throw Error(Errc::unsupported_media, "the body must be JSON (Content-Type: application/json)",
                {{"Content-Type", "expected application/json"}});
  return json::parse_object(req.body);
}

std::string uuid_param(const http::Request& req, std::string_view name) {
  const auto v = req.param(name);
  if (!is_uuid(v)) {
    // Echoed only when it can be read: a NUL cut the detail short (what() is a C string).
    const bool printable = v.size() <= 100 && valid_utf8(v) && !has_any_control_char(v);
    throw Error(Errc::not_found,
                printable ? "no such resource: '" + std::string(v) + "' is not an id" : "no such resource");
  }
  return normalize_uuid(v);
}

Error starting(const std::string& waiting) {
  return Error(Errc::unavailable, "the server is starting: waiting for " + waiting);
}

Error account_gone() {
  return Error(Errc::unauthorized, "the account of this token no longer exists");
}

boost::asio::awaitable<void> require_account(Context& ctx, const std::string& user_id) {
  const bool exists = co_await auth::users::exists(ctx.reader, user_id);
  if (!exists) throw account_gone();
}

namespace {

// The entity tags of a precondition header: `*`, or tags as the ETag gives them, `"3"`, weak `W/"3"`.
struct EntityTags {
  bool any = false;                  // `*`
  std::vector<std::int64_t> strong;  // the versions whose tags are named
  std::vector<std::int64_t> weak;    // the versions whose weak tags are named
};

// The entity tags of `header` (If-Match, If-None-Match), over one line or several; none when it is absent. A
// tag is quoted and compared character by character (RFC 9110 8.8.3): `"03"` names no version (the tag of
// version 3 is `"3"`). 400 naming the header when malformed: an empty value, `*` among tags, a tag that is
// no version number or one outside 1 to 2^63-1, a version without its quotes (`3`).
std::optional<EntityTags> entity_tags(const http::Request& req, const std::string& header) {
  const auto malformed = [&header](const std::string& why) {
    return Error(Errc::bad_request,
                 header + " must be * or the task's version, e.g. " + header + ": \"3\" (" + why + ")",
                 {{header, why}});
  };
  const auto items = req.header_items(lower_ascii(header));  // repeated lines are one list
  if (!items) return std::nullopt;
  const std::vector<std::string_view>& tags = *items;
  if (tags.empty()) throw malformed("an empty value");
  EntityTags out;
  if (tags.size() == 1 && tags.front() == "*") {
    out.any = true;
    return out;
  }
  for (std::string_view v : tags) {
    const bool weak = v.starts_with("W/");
    if (weak) v.remove_prefix(2);
    const bool quoted = v.size() >= 2 && v.front() == '"' && v.back() == '"';
    if (quoted) v = v.substr(1, v.size() - 2);
    // Any version from 1 to 2^63-1, as a body's "version": one no task has is a mismatch (409).
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    const bool number = p == v.data() + v.size() && !v.empty();
    if (number && ec == std::errc::result_out_of_range)
      throw malformed(v.front() == '-' ? "a version is at least 1"
                                       : "a version is at most 9223372036854775807");
    if (number && ec == std::errc() && n < 1) throw malformed("a version is at least 1");
    if (ec != std::errc() || p != v.data() + v.size() || n < 1)
      throw malformed(tags.size() == 1 ? "expected a version number" : "expected * or version numbers");
    if (!quoted)
      throw malformed("an entity tag is quoted: \"" + std::string(v) + "\", not " + std::string(v));
    if (std::to_string(n) != v) continue;  // "03": no version's tag
    (weak ? out.weak : out.strong).push_back(n);
  }
  return out;
}

}  // namespace

tasks::Expected if_match(const http::Request& req) {
  const auto tags = entity_tags(req, "If-Match");
  if (!tags || tags->any) return {};  // any current version (a missing task is a 404)
  // If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
  tasks::Expected expected(tags->strong, "If-Match");
  expected.names_none = tags->strong.empty();
  return expected;
}

tasks::Expected preconditions(const http::Request& req) {
  tasks::Expected expected = if_match(req);
  if (const auto tags = entity_tags(req, "If-None-Match")) {
    // If-None-Match compares weakly (RFC 9110 13.1.2): W/"3" names version 3 as "3" does.
    expected.none_match_any = tags->any;
    expected.none_match = tags->strong;
    expected.none_match.insert(expected.none_match.end(), tags->weak.begin(), tags->weak.end());
  }
  return expected;
}

std::optional<std::int64_t> body_version(const http::Request& req) {
  if (req.body.empty()) return std::nullopt;
  return tasks::parse_version_body(json_body(req));
}

}  // namespace todo::api

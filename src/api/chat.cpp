// Chat routes. Phase 1: POST /api/v1/chat/parse, the parser's reading of one message with no side effects.
#include "todo/api/context.hpp"
#include "todo/auth/users.hpp"
#include "todo/chat/parser.hpp"
#include "todo/core/error.hpp"
#include "todo/core/json.hpp"
#include "todo/core/text.hpp"

namespace todo::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

/// A parse body is small: {text ≤ 2000 characters, now, timezone, date_order}. Anything over this is refused
/// with 413 before it is parsed as JSON (the server's own limit is 1 MiB).
constexpr std::size_t kMaxParseBody = 16 * 1024;

struct ParseRequest {
  std::string text;
  Instant now{};
  std::optional<std::string> timezone;
  chat::DateOrder order = chat::DateOrder::month_first;
};

ParseRequest parse_request(const nlohmann::json& body) {
  json::Reader r(body, {"text", "now", "timezone", "date_order"});
  ParseRequest p;
  p.now = todo::now();
  if (auto text = r.string("text")) {
    if (!valid_utf8(*text))
      r.fail("text", "must be valid UTF-8");
    else if (utf8_length(*text) > chat::kMaxText)
      r.fail("text", "must be at most " + std::to_string(chat::kMaxText) + " characters");
    else
      p.text = std::move(*text);
  } else if (!r.has("text")) {
    r.fail("text", "is required");
  }
  if (r.has("now") && !r.is_null("now")) {
    if (auto now = r.string("now")) {
      if (auto t = parse_rfc3339(*now))
        p.now = *t;
      else
        r.fail("now", "must be an RFC 3339 date-time with an offset, e.g. 2026-03-05T09:00:00Z");
    }
  }
  if (r.has("timezone") && !r.is_null("timezone")) {
    if (auto tz = r.string("timezone")) {
      if (is_valid_timezone(*tz))
        p.timezone = std::move(*tz);
      else
        r.fail("timezone", "must be an IANA time zone, e.g. Europe/Berlin");
    }
  }
  if (auto order = r.string("date_order")) {
    if (*order == "day_first")
      p.order = chat::DateOrder::day_first;
    else if (*order != "month_first")
      r.fail("date_order", "must be month_first (3/5 is March 5) or day_first (3/5 is 3 May)");
  }
  r.finish();
  return p;
}

}  // namespace

void add_chat_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/api/v1/chat/parse", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    if (req.body.size() > kMaxParseBody)
      throw Error(Errc::payload_too_large,
                  "the body must be at most " + std::to_string(kMaxParseBody) + " bytes (text: at most " +
                      std::to_string(chat::kMaxText) + " characters)",
                  {{"text", "too long"}});
    auto in = parse_request(json_body(req));
    if (!in.timezone) {
      auto user = co_await ctx.db.read(
          [&](pqxx::transaction_base& w) { return auth::users::find_by_id(w, req.user_id); });
      if (!user) throw Error(Errc::unauthorized, "the account of this token no longer exists");
      in.timezone = user->timezone;
    }
    const auto pctx = chat::make_context(in.now, *in.timezone, in.order);
    if (!pctx) throw invalid("timezone", "must be an IANA time zone, e.g. Europe/Berlin");
    auto out = chat::to_json(chat::parse(in.text, *pctx));
    out["now"] = format_rfc3339(in.now);
    out["timezone"] = *in.timezone;
    co_return Response::json(200, std::move(out));
  });
}

}  // namespace todo::api

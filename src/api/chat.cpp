// Chat routes: POST /api/v1/chat/parse (the parser's reading of one message, no side effects) and
// POST /api/v1/chat (the dialog, which executes through the task service).
#include <spdlog/spdlog.h>

#include "todo/api/context.hpp"
#include "todo/auth/users.hpp"
#include "todo/chat/conversation.hpp"
#include "todo/chat/dialog.hpp"
#include "todo/chat/llm.hpp"
#include "todo/chat/parser.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/json.hpp"
#include "todo/core/log.hpp"
#include "todo/core/text.hpp"

namespace todo::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;

namespace {

/// A chat body is small: {message ≤ 2000 characters, conversation_id} or {text ≤ 2000 characters, now,
/// timezone, date_order}. Anything over this is refused with 413 before it is parsed as JSON (the server's
/// own limit is 1 MiB). A character may take 12 bytes in JSON (an emoji escaped as a \uXXXX surrogate pair),
/// so a valid 2000-character message is at most about 24 KB; 64 KiB leaves room for the other fields and
/// spacing.
constexpr std::size_t kMaxChatBody = 64 * 1024;

struct ParseRequest {
  std::string text;
  Instant now{};
  std::optional<std::string> timezone;
  std::optional<chat::DateOrder> order;  // unset: the user's date_order
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
    else if (text->find('\0') != std::string::npos)  // PostgreSQL text cannot hold it (titles, conversations)
      r.fail("text", "must not contain NUL characters");
    else
      p.text = nfc(*text);  // one spelling of "é", as titles and searches have
  } else if (!r.has("text")) {
    r.fail("text", "is required");
  }
  if (r.has("now") && !r.is_null("now")) {
    if (auto now = r.string("now")) {
      if (auto t = parse_rfc3339(*now))
        p.now = *t;
      else
        r.fail("now", rfc3339_problem(*now));
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
    else if (*order == "month_first")
      p.order = chat::DateOrder::month_first;
    else
      r.fail("date_order", "must be month_first (3/5 is March 5) or day_first (3/5 is 3 May)");
  }
  r.finish();
  return p;
}

struct ChatRequest {
  std::string message;
  std::optional<std::string> conversation_id;
};

ChatRequest chat_request(const nlohmann::json& body) {
  json::Reader r(body, {"message", "conversation_id"});
  ChatRequest c;
  if (auto m = r.string("message")) {
    if (!valid_utf8(*m))
      r.fail("message", "must be valid UTF-8");
    else if (utf8_length(*m) > chat::kMaxText)
      r.fail("message", "must be at most " + std::to_string(chat::kMaxText) + " characters");
    else if (trim(*m).empty())
      r.fail("message", "must not be empty");
    else if (m->find('\0') != std::string::npos)  // PostgreSQL text cannot hold it (titles, conversations)
      r.fail("message", "must not contain NUL characters");
    else
      c.message = nfc(*m);
  } else if (!r.has("message")) {
    r.fail("message", "is required");
  }
  if (auto id = r.nullable_string("conversation_id"); id && *id) {
    if (is_uuid(**id))
      c.conversation_id = normalize_uuid(**id);
    else
      r.fail("conversation_id", "must be the conversation_id of an earlier reply (a UUID)");
  }
  r.finish();
  return c;
}

/// The chat's reading of "3/5" for a user's date_order setting ("mdy" or "dmy").
chat::DateOrder order_of(const auth::User& u) {
  return u.date_order == "dmy" ? chat::DateOrder::day_first : chat::DateOrder::month_first;
}

void check_body_size(const Request& req, const char* field) {
  if (req.body.size() > kMaxChatBody)
    throw Error(Errc::payload_too_large,
                "the body must be at most " + std::to_string(kMaxChatBody) + " bytes (" + field +
                    ": at most " + std::to_string(chat::kMaxText) + " characters)",
                {{field, "too long"}});
}

}  // namespace

void add_chat_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/api/v1/chat", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    check_body_size(req, "message");
    const auto in = chat_request(json_body(req));
    // The user's task titles the message spells: the words after a command that name one are its target.
    std::vector<std::string> titles;
    auto user = co_await ctx.db.read([&](pqxx::transaction_base& w) {
      auto found = auth::users::find_by_id(w, req.user_id);
      if (found) titles = chat::titles_in(w, req.user_id, in.message);
      return found;
    });
    if (!user) throw account_gone();
    const Instant now = todo::now();
    auto pctx = chat::make_context(now, user->timezone, order_of(*user));
    if (!pctx) throw Error(Errc::internal, "the account's time zone is unknown: " + user->timezone);
    pctx->titles = &titles;

    chat::Turn turn;
    turn.user_id = req.user_id;
    turn.request_id = req.request_id;
    turn.message = in.message;
    turn.reading = chat::parse(in.message, *pctx);
    turn.zone = pctx->zone;
    turn.now = now;
    const auto i = turn.reading.intent;
    const bool answers_question =
        i == chat::Intent::confirm || i == chat::Intent::deny || i == chat::Intent::select;
    if (ctx.chat.llm && turn.reading.confidence < ctx.chat.confidence && !answers_question) {
      // A message the parser could not read well: ask the model, on threads that may wait for it.
      auto ask_model = [llm = ctx.chat.llm, message = in.message, now, zone = user->timezone] {
        return llm->interpret(message, now, zone);
      };
      chat::LlmAnswer answer = co_await on_pool(*ctx.chat.llm_threads, std::move(ask_model));
      if (answer.reading) {
        turn.reading = std::move(*answer.reading);
        turn.source = "llm";
      } else {
        turn.llm_error = answer.error;
        log::event(spdlog::level::warn, "chat language model answer not used",
                   {{"request_id", req.request_id}, {"user_id", req.user_id}, {"reason", answer.error}});
      }
    }

    const chat::DialogSettings settings{ctx.chat.confidence, ctx.chat.ttl};
    auto out = co_await ctx.db.transact([&](pqxx::work& w) {
      chat::Conversation c;
      if (in.conversation_id) {
        auto found = chat::conversations::find_for_update(w, req.user_id, *in.conversation_id);
        if (!found)
          throw Error(Errc::not_found, "no conversation " + *in.conversation_id + " (conversations expire " +
                                           std::to_string(settings.ttl.count()) +
                                           " s after their last message); leave conversation_id out to start "
                                           "a new one");
        c = std::move(*found);
      } else {
        c = chat::conversations::start(req.user_id);
      }
      const chat::Reply reply = chat::respond(w, c, turn, settings);
      chat::conversations::save(w, c, settings.ttl);
      return chat::to_json(reply);
    });
    co_return Response::json(200, std::move(out));
  });

  router.add("POST", "/api/v1/chat/parse", [&ctx](Request& req) -> awaitable<Response> {
    authenticate(req, ctx);
    check_body_size(req, "text");
    auto in = parse_request(json_body(req));
    if (!in.timezone || !in.order) {
      auto user = co_await ctx.db.read(
          [&](pqxx::transaction_base& w) { return auth::users::find_by_id(w, req.user_id); });
      if (!user) throw account_gone();
      if (!in.timezone) in.timezone = user->timezone;
      if (!in.order) in.order = order_of(*user);
    } else {
      co_await require_account(ctx, req.user_id);
    }
    const auto pctx = chat::make_context(in.now, *in.timezone, *in.order);
    if (!pctx) throw invalid("timezone", "must be an IANA time zone, e.g. Europe/Berlin");
    auto out = chat::to_json(chat::parse(in.text, *pctx));
    out["now"] = format_rfc3339(in.now);
    out["timezone"] = *in.timezone;
    co_return Response::json(200, std::move(out));
  });
}

}  // namespace todo::api

// What route handlers share: the database pool, the token signer, a CPU pool for slow hashing, the metrics.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "todo/auth/jwt.hpp"
#include "todo/core/error.hpp"
#include "todo/core/offload.hpp"
#include "todo/core/time.hpp"
#include "todo/db/pool.hpp"
#include "todo/db/reader.hpp"
#include "todo/http/message.hpp"
#include "todo/http/router.hpp"
#include "todo/metrics/registry.hpp"
#include "todo/tasks/create_batcher.hpp"
#include "todo/tasks/list_cache.hpp"
#include "todo/tasks/validation.hpp"

namespace todo::chat {
class LlmClient;
}

namespace todo::api {

/// The chat's settings and its optional language model.
struct ChatOptions {
  double confidence = 0.7;               // TODO_CHAT_CONFIDENCE
  std::chrono::seconds ttl{86'400};      // TODO_CHAT_TTL_S
  const chat::LlmClient* llm = nullptr;  // set when TODO_LLM_URL is
  boost::asio::thread_pool* llm_threads =
      nullptr;  // where the blocking LLM calls wait (not io, not db threads)
};

/// What the server waits for before it serves the API (README "Running it"): the database, then its
/// migrations. Until done(), every /api/ route answers 503 naming it, and so does /readyz.
class Startup {
 public:
  explicit Startup(std::string waiting) : waiting_(std::move(waiting)) {}
  void wait_for(std::string what) {
    std::lock_guard lock(m_);
    waiting_ = std::move(what);
  }
  void done() { done_.store(true); }
  /// What it waits for; nothing once done.
  std::optional<std::string> waiting() const {
    if (done_.load()) return std::nullopt;
    std::lock_guard lock(m_);
    return waiting_;
  }

 private:
  std::atomic<bool> done_{false};
  mutable std::mutex m_;
  std::string waiting_;
};

/// Error(unavailable) naming what a starting server waits for ("the server is starting: waiting for …").
Error starting(const std::string& waiting);

/// Shared by every handler; owned by main.
struct Context {
  db::Pool& db;        // transactions (blocking libpqxx on DB threads)
  db::Reader& reader;  // single-statement reads on the io threads
  auth::JwtSigner& jwt;
  boost::asio::thread_pool& cpu;
  metrics::Registry& metrics;
  tasks::CreateBatcher& creates;  // POST /tasks: concurrent creates share a transaction
  tasks::ListCache& lists;        // GET /tasks: recent pages by list version
  ChatOptions chat{};
  const Startup* startup = nullptr;  // null: serving from the start
};

/// Registers every route of the API.
void add_routes(http::Router& router, Context& ctx);
void add_health_routes(http::Router& router, Context& ctx);
void add_account_routes(http::Router& router, Context& ctx);
void add_task_routes(http::Router& router, Context& ctx);
void add_audit_routes(http::Router& router, Context& ctx);
void add_chat_routes(http::Router& router, Context& ctx);
void add_reminder_routes(http::Router& router, Context& ctx);
void add_recurrence_routes(http::Router& router, Context& ctx);

/// Occurrence lists (preview, a task's upcoming occurrences): at most this many.
inline constexpr std::size_t kMaxOccurrences = 100;
/// `count` query parameter of an occurrence list (1 to kMaxOccurrences; `fallback` when absent); 422
/// otherwise.
std::size_t count_param(const http::Request& req, std::size_t fallback);
/// {"occurrences": [RFC 3339 …]}
nlohmann::json occurrences_json(const std::vector<Instant>& times);

/// Verifies the bearer token and sets req.user_id; throws Error(unauthorized).
void authenticate(http::Request& req, const Context& ctx);

/// The request body as a JSON object: 415 unless the content type is JSON, 400 when it does not parse.
nlohmann::json json_body(const http::Request& req);

/// 401 for a valid token whose account no longer exists.
Error account_gone();

/// Throws account_gone() unless the user exists (one keyed read). For the answers that cannot tell a gone
/// account from one with nothing: an empty list, a 404 (add_routes checks those), a route reading no data.
boost::asio::awaitable<void> require_account(Context& ctx, const std::string& user_id);

/// A path parameter that must be a UUID; a malformed one is a 404 (no such resource).
std::string uuid_param(const http::Request& req, std::string_view name);

/// The versions If-Match names: `*` or a list of entity tags (`"3"`), over one header line or several; any
/// when there is none or `*`. 400 when malformed (an empty value, a tag that is no version, a version without
/// its quotes). A weak tag (`W/"3"`), which never matches under If-Match's strong comparison, and a tag
/// written otherwise than the ETag (`"03"`) name no version: with nothing else named, none matches (409).
tasks::Expected if_match(const http::Request& req);

/// The preconditions of a change of a task (PATCH, DELETE, complete, reopen): if_match(), and If-None-Match
/// (`*` or entity tags, read as If-Match is, weak tags naming their version too), which refuses the change
/// with a 412 when it names the task's current version (checked with If-Match, on the locked task).
tasks::Expected preconditions(const http::Request& req);

/// The `version` of a body that may hold nothing else (complete, reopen, DELETE): none when it is empty.
std::optional<std::int64_t> body_version(const http::Request& req);

/// Runs CPU-heavy work (password hashing) on the CPU pool and resumes on the caller's executor.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> on_cpu(Context& ctx, F fn) {
  return on_pool(ctx.cpu, std::move(fn));
}

}  // namespace todo::api

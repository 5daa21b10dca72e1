// HTTP/1.1 server: accepts connections and runs one coroutine session per connection on its own strand.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "todo/core/error.hpp"
#include "todo/http/router.hpp"

namespace todo::metrics {
class Registry;
}

namespace todo::http {

/// Limits and timeouts of the server.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t body_limit = 1 << 20;
  // All request bodies being read or handled, together: each request reserves its Content-Length (a chunked
  // one the body limit) before its body is read, and a request that would go past it is a 503.
  std::size_t body_memory = 64u << 20;
  std::size_t header_limit = 16 * 1024;  // at most 48 KiB (a larger one is taken as 48 KiB)
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds request_timeout{30'000};
  // Browser origins other than the server's own that may call the API (CORS; "*" for any), as for WebSockets.
  std::vector<std::string> allowed_origins;
};

class Session;

/// Owns the listening socket, the live sessions and the per-request pipeline (request id, routing, errors,
/// metrics, access log).
class Server {
 public:
  /// Listens on `ioc`. Accepted connections go to `session_contexts` in turn (an io_context for each io
  /// thread), or to `ioc` when none are given.
  Server(boost::asio::io_context& ioc, ServerOptions options, const Router& router,
         metrics::Registry& registry, std::vector<boost::asio::io_context*> session_contexts = {});
  ~Server();

  /// Binds and starts accepting; throws std::system_error when the address cannot be bound.
  void start();
  /// The bound endpoint (the real port when 0 was asked for).
  boost::asio::ip::tcp::endpoint endpoint() const;
  /// Graceful stop: no new connections, idle ones closed, in-flight requests finish and then close. The
  /// listening socket is closed by a handler posted to the acceptor's executor; await close_listener() to
  /// be sure it is closed (before stopping that executor's io_context, which drops what is posted to it).
  void stop();
  /// Closes the listening socket, on the acceptor's executor, and resumes once it is closed.
  boost::asio::awaitable<void> close_listener();
  /// Sessions still open.
  std::size_t open_sessions() const;

  /// What an upgrade handler gets besides the socket and the request: the request id its answer carries
  /// (`X-Request-Id`, echoed or made), and `answered`, to be called once with the status it is about to
  /// send (101, or a refusal), its body size and the user (empty when unknown): the access-log line and the
  /// request metrics, as every other request has.
  struct Upgrade {
    std::string request_id;
    /// Bytes read from the socket after the request (a WebSocket client's first frames, sent with it): the
    /// handler's stream must read them first.
    std::string received;
    std::function<void(unsigned status, std::size_t body_bytes, std::string_view user_id)> answered;
  };
  /// Takes over connections that ask to upgrade to WebSocket on `path`: the handler gets the socket and the
  /// request and answers it (accepting, or refusing with an HTTP status). Register before start().
  using UpgradeHandler = std::function<void(
      boost::beast::tcp_stream, boost::beast::http::request<boost::beast::http::string_body>, Upgrade)>;
  void on_upgrade(std::string path, UpgradeHandler handler);

 private:
  friend class Session;
  struct Metrics;

  void accept_loop();
  /// The pipeline of one request; never throws: failures become problem responses. `asterisk_form`: the
  /// request target is `*` (RFC 9112 3.2.4), which asks about the server (OPTIONS) rather than a resource.
  boost::asio::awaitable<Response> dispatch(Request& req, const Error* bad_target, bool asterisk_form);
  /// Adds the CORS headers of an answer to a request with this `Origin` (README "API"): the origin allowed
  /// and the headers a page may read when it is listed, `Vary: Origin` whenever a list is set; none when
  /// there is no list or no Origin.
  void add_cors(Response& resp, std::string_view origin) const;
  /// The access-log line and the request metrics of one answered request.
  void record(const std::string& request_id, const std::string& method, const std::string& path,
              const std::string& route, unsigned status, double seconds, std::size_t bytes,
              std::string_view user_id);
  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);

  boost::asio::io_context& ioc_;
  std::vector<boost::asio::io_context*> session_contexts_;
  std::size_t next_context_ = 0;  // used by the accepting coroutine only
  ServerOptions options_;
  const Router& router_;
  std::unique_ptr<Metrics> metrics_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> body_bytes_{0};  // reserved by requests under options_.body_memory
  std::map<std::string, UpgradeHandler, std::less<>> upgrades_;
  mutable std::mutex sessions_mutex_;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> sessions_;
};

}  // namespace todo::http

// A blocking WebSocket client for tests (Boost.Beast): every call waits at most its timeout.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace todo::test {

/// How to open a WebSocket.
struct WsOptions {
  std::string target = "/api/v1/ws";           // path and query
  std::map<std::string, std::string> headers;  // extra handshake headers (Origin, Sec-WebSocket-Protocol, …)
  int receive_buffer = 0;                      // SO_RCVBUF set before connecting (0: the system's default)
  std::chrono::milliseconds timeout{10'000};   // connect + handshake
  std::chrono::milliseconds read_delay{0};     // a pause after each message read: a client on a slow link
};

/// One WebSocket connection. Frames are read all the time by a background I/O thread (which also answers
/// pings, as browsers do) into a queue; the blocking calls below take from it with a timeout. pause() stops
/// reading altogether — the TCP window fills up, like a client that cannot keep up.
class WsClient {
 public:
  /// Connects to the host and port of `base_url` ("http://host:port") and performs the handshake. Never
  /// throws for a refused upgrade: see upgraded() and status().
  explicit WsClient(const std::string& base_url, WsOptions options = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// Whether the server answered 101 and the connection is a WebSocket.
  bool upgraded() const { return upgraded_; }
  /// The HTTP status of the handshake answer (101, 403, 429, …); 0 when none arrived.
  int status() const { return status_; }
  /// The body of a refused upgrade, or the transport error that prevented the handshake.
  const std::string& error() const { return error_; }
  /// A header of the handshake answer ("" when absent).
  std::string response_header(const std::string& name) const;

  /// The next text or binary message, waiting up to `timeout`; nullopt on timeout or once closed and drained.
  std::optional<std::string> next(std::chrono::milliseconds timeout);
  /// The next message parsed as JSON (a message that is not JSON yields a string holding its text).
  std::optional<nlohmann::json> next_json(std::chrono::milliseconds timeout);
  /// Sends a text message; false when it could not be written within `timeout`.
  bool send(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Sends a binary message; false when it could not be written within `timeout`.
  bool send_binary(const std::string& data, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Waits until the connection is closed (close frame, EOF or reset) and returns the close code: the
  /// server's close frame's, or 1006 when the connection ended without one. Messages still queued stay
  /// readable with next(). nullopt when still open after `timeout`.
  std::optional<int> wait_closed(std::chrono::milliseconds timeout);
  bool closed() const;
  /// The close frame's reason ("" when none).
  std::string close_reason() const;

  /// Stops reading from the socket (after the read in progress) / resumes.
  void pause();
  void resume();

  /// Sends a close frame with `code` and waits up to `timeout` for the server's answer.
  void close(int code = 1000, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Drops the TCP connection without a close frame.
  void abort();

  /// Messages received so far (including those not taken yet), and pings seen.
  std::size_t messages_received() const;
  std::size_t pings_received() const;

 private:
  bool write(const std::string& data, bool binary, std::chrono::milliseconds timeout);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool upgraded_ = false;
  int status_ = 0;
  std::string error_;
};

}  // namespace todo::test

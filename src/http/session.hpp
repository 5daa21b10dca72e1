// One client connection: reads requests with limits and timeouts, answers them in order, keeps alive.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>

namespace todo::http {

class Server;

/// A connection's state; its coroutine runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, boost::beast::tcp_stream stream) : server_(server), stream_(std::move(stream)) {}

  boost::asio::awaitable<void> run();
  /// Closes the connection if it is waiting for a request (called on shutdown, from any thread).
  void close_if_idle();
  boost::beast::tcp_stream::executor_type stream_executor() { return stream_.get_executor(); }

 private:
  Server& server_;
  boost::beast::tcp_stream stream_;
  std::atomic<bool> idle_{false};
  bool handed_over_ = false;  // the socket went to a WebSocket session
};

}  // namespace todo::http

// The client's side of a WebSocket connection as the gateway's Beast stream reads it: the bytes the HTTP
// server read past the upgrade request first, then the socket; with the checks of RFC 6455 that Beast 1.81
// lacks.
#pragma once

#include <array>
#include <boost/asio/append.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstdint>
#include <string>

namespace todo::realtime {

/// Whether a client may send `code` in a close frame (RFC 6455 7.4 and IANA's registry): 1000–1003,
/// 1007–1014 and 3000–4999. (Beast 1.81 fails 1014 too, as reserved.)
bool valid_close_code(std::uint16_t code);

/// Follows the frames of a client's byte stream and marks those RFC 6455 requires an endpoint to fail that
/// Beast 1.81 accepts: a 64-bit payload length whose most significant bit is set (5.2: it MUST be 0; Beast
/// took it for a message too big, 1009) and a close frame whose code is not valid_close_code() (7.4; Beast
/// echoed codes from 5000 on). A marked frame has its RSV2 bit set, which Beast fails as RFC 6455 5.2 says,
/// with close code 1002 (protocol error). A close frame whose reason is not UTF-8 (8.1: 1007; Beast answered
/// 1002) is handed on as a text frame Beast fails with 1007. It reads only frame headers and close frames, in
/// place.
class FrameChecker {
 public:
  /// A control frame's payload: at most 125 bytes (5.5).
  static constexpr std::size_t kMaxControlPayload = 125;
  /// The longest run of bytes check() may leave undecided: a frame header (14 bytes at most) and a close
  /// frame's payload.
  static constexpr std::size_t kMaxUndecided = 14 + kMaxControlPayload;
  /// Checks `n` bytes that follow those of the last call, marking what it must; returns how many of them are
  /// decided (may be handed on). The rest, fewer than kMaxUndecided bytes, begins a frame whose header (or
  /// close code) is incomplete: they must be given again, followed by more, on the next call.
  std::size_t check(std::uint8_t* p, std::size_t n);

 private:
  std::uint64_t payload_left_ = 0;  // bytes of the current frame's payload not seen yet
  bool in_message_ = false;         // a fragmented data message has begun and not ended
};

/// A beast::tcp_stream whose reads first yield `received` (bytes already read from the socket: the client's
/// first frames, sent together with its upgrade request) and whose every frame goes through a FrameChecker.
/// The next layer of the gateway's websocket::stream: Beast 1.81's accept of a request already read takes no
/// such bytes.
class ClientStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;

  ClientStream(boost::beast::tcp_stream next, std::string received)
      : next_(std::move(next)), received_(std::move(received)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  boost::beast::tcp_stream& next_layer() noexcept { return next_; }
  const boost::beast::tcp_stream& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer out;
    for (auto b : boost::beast::buffers_range_ref(buffers)) {
      if (b.size() > 0) {
        out = b;
        break;
      }
    }
    return boost::asio::async_compose<Token, void(boost::beast::error_code, std::size_t)>(ReadOp{*this, out},
                                                                                          token, next_);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return next_.async_write_some(buffers, std::forward<Token>(token));
  }

  // The end of the connection once close frames went both ways (or the connection failed). RFC 6455 7.1.1:
  // the server closes the TCP connection at once. Beast's teardown shut down the sending side and then waited
  // for the client's end (EOF), which a client waiting for the server to close, as the RFC tells clients to,
  // never sends: the session, and a shutdown waiting for it, lasted until the close deadline (5 s).
  friend void teardown(boost::beast::role_type role, ClientStream& s, boost::beast::error_code& ec) {
    if (role == boost::beast::role_type::server) return s.close_socket(ec);
    using boost::beast::websocket::teardown;
    teardown(role, s.next_, ec);
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, ClientStream& s, Handler&& handler) {
    if (role != boost::beast::role_type::server) {
      using boost::beast::websocket::async_teardown;
      return async_teardown(role, s.next_, std::forward<Handler>(handler));
    }
    boost::beast::error_code ec;
    s.close_socket(ec);
    // Completed through the executor: a handler is not invoked from within the initiating function.
    auto ex = s.next_.get_executor();
    boost::asio::post(ex, boost::asio::append(std::forward<Handler>(handler), ec));
  }

 private:
  // Closes the socket, after reading what has already arrived (unread bytes would make the close a reset,
  // which may discard the close frame on its way to the client).
  void close_socket(boost::beast::error_code& ec);

  // One read: bytes decided by the checker, at least one unless the socket fails (or `out` is empty).
  struct ReadOp {
    enum class Step { start, into_out, into_held, done };
    ClientStream& s;
    boost::asio::mutable_buffer out;
    Step step = Step::start;
    bool waited = false;  // an operation of the next layer has completed (so `self` may complete here)
    std::size_t result = 0;

    template <class Self>
    void operator()(Self& self, boost::beast::error_code ec = {}, std::size_t n = 0) {
      switch (step) {
        case Step::start:
          if (out.size() == 0) return finish(self, 0);
          break;
        case Step::into_out: {
          waited = true;
          if (ec) return self.complete(ec, 0);
          auto* p = static_cast<std::uint8_t*>(out.data());
          const std::size_t decided = s.checker_.check(p, n);
          // The undecided rest (a header cut off) is kept for the next round.
          std::copy(p + decided, p + n, s.held_.data());
          s.held_size_ = n - decided;
          if (decided > 0) return self.complete({}, decided);
          break;
        }
        case Step::into_held:
          waited = true;
          if (ec) return self.complete(ec, 0);
          s.held_size_ += n;
          s.held_ready_ = s.checker_.check(s.held_.data(), s.held_size_);
          break;
        case Step::done:
          return self.complete({}, result);
      }
      if (s.held_ready_ > 0) {
        const std::size_t k = std::min(s.held_ready_, out.size());
        std::copy(s.held_.data(), s.held_.data() + k, static_cast<std::uint8_t*>(out.data()));
        std::copy(s.held_.data() + k, s.held_.data() + s.held_size_, s.held_.data());
        s.held_size_ -= k;
        s.held_ready_ -= k;
        return finish(self, k);
      }
      if (s.held_size_ > 0) {
        // A header cut off: its next bytes are read next to it (rare: the peer wrote it in pieces).
        step = Step::into_held;
        return s.read_source(
            boost::asio::buffer(s.held_.data() + s.held_size_, s.held_.size() - s.held_size_),
            std::move(self));
      }
      step = Step::into_out;
      s.read_source(out, std::move(self));
    }

    // Completes with `n` bytes; through the executor when no operation has completed yet (a handler is not
    // invoked from within the initiating function).
    template <class Self>
    void finish(Self& self, std::size_t n) {
      if (waited) return self.complete({}, n);
      step = Step::done;
      result = n;
      auto ex = s.next_.get_executor();
      boost::asio::post(ex, std::move(self));
    }
  };

  // Reads from what was received with the request while it lasts, then from the socket.
  template <class Handler>
  void read_source(boost::asio::mutable_buffer b, Handler&& handler) {
    if (received_.empty()) return next_.async_read_some(b, std::forward<Handler>(handler));
    const std::size_t n = boost::asio::buffer_copy(b, boost::asio::buffer(received_));
    received_.erase(0, n);
    if (received_.empty()) std::string().swap(received_);
    auto ex = next_.get_executor();
    boost::asio::post(ex, boost::asio::append(std::forward<Handler>(handler), boost::beast::error_code{}, n));
  }

  boost::beast::tcp_stream next_;
  std::string received_;
  FrameChecker checker_;
  // Bytes read and checked but not yet handed on: a header cut off (undecided), or what did not fit.
  std::array<std::uint8_t, FrameChecker::kMaxUndecided> held_{};
  std::size_t held_size_ = 0;
  std::size_t held_ready_ = 0;  // of them, the first held_ready_ are decided
};

}  // namespace todo::realtime

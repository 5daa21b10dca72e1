// The test WebSocket client: Beast on a private io_context and thread; the public calls wait on futures and
// condition variables with timeouts.
#include "support/ws_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <thread>

namespace todo::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct WsClient::Impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  websocket::stream<beast::tcp_stream> ws{ioc};
  asio::steady_timer resume_timer{ioc};
  asio::steady_timer delay_timer{ioc};
  std::chrono::milliseconds read_delay{0};
  websocket::response_type response;
  std::thread thread;

  // I/O thread only.
  bool paused = false;
  bool shutting_down = false;
  bool writing = false;
  struct Outgoing {
    std::string data;
    bool binary = false;
    std::shared_ptr<std::promise<bool>> done;
  };
  std::deque<Outgoing> outgoing;

  // Shared with the caller's thread.
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> inbox;
  bool closed = false;
  int close_code = 0;
  std::string close_reason;
  std::size_t received = 0;
  std::size_t pings = 0;

  /// Runs `fn` on the I/O thread and waits (bounded) until it ran.
  template <class F>
  void run_on_io(F fn) {
    auto done = std::make_shared<std::promise<void>>();
    auto f = done->get_future();
    asio::post(ioc, [fn = std::move(fn), done]() mutable {
      fn();
      done->set_value();
    });
    f.wait_for(std::chrono::seconds(5));
  }

  void set_closed(int code, std::string reason) {
    std::lock_guard lock(mutex);
    if (closed) return;
    closed = true;
    close_code = code;
    close_reason = std::move(reason);
    changed.notify_all();
  }

  asio::awaitable<void> read_loop() {
    beast::flat_buffer buffer;
    for (;;) {
      while (paused && !shutting_down) {
        resume_timer.expires_at(asio::steady_timer::time_point::max());
        co_await resume_timer.async_wait(kTuple);
      }
      if (shutting_down) {
        set_closed(1006, "client shut down");
        co_return;
      }
      auto [ec, n] = co_await ws.async_read(buffer, kTuple);
      if (ec) {
        if (ec == websocket::error::closed)
          set_closed(static_cast<int>(ws.reason().code), std::string(ws.reason().reason.c_str()));
        else
          set_closed(1006, ec.message());
        co_return;
      }
      {
        std::lock_guard lock(mutex);
        inbox.push_back(beast::buffers_to_string(buffer.data()));
        ++received;
        buffer.consume(buffer.size());
        changed.notify_all();
      }
      if (read_delay.count() > 0) {
        delay_timer.expires_after(read_delay);
        co_await delay_timer.async_wait(kTuple);
      }
    }
  }

  asio::awaitable<void> write_loop() {
    while (!outgoing.empty()) {
      Outgoing out = std::move(outgoing.front());
      outgoing.pop_front();
      ws.binary(out.binary);
      auto [ec, n] = co_await ws.async_write(asio::buffer(out.data), kTuple);
      out.done->set_value(!ec);
    }
    writing = false;
  }
};

namespace {

std::pair<std::string, std::string> host_port(const std::string& base_url) {
  static const std::regex kUrl(R"(^https?://(\[[^\]]+\]|[^:/]+):([0-9]+))");
  std::smatch m;
  if (!std::regex_search(base_url, m, kUrl)) throw std::runtime_error("WsClient: bad URL " + base_url);
  std::string host = m[1].str();
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, m[2].str()};
}

}  // namespace

WsClient::WsClient(const std::string& base_url, WsOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->read_delay = options.read_delay;
  const auto [host, port] = host_port(base_url);
  Impl& im = *impl_;
  struct Outcome {
    bool upgraded = false;
    int status = 0;
    std::string error;
  };
  auto outcome = std::make_shared<std::promise<Outcome>>();
  auto future = outcome->get_future();
  asio::co_spawn(
      im.ioc,
      [&im, host = host, port = port, options, outcome]() -> asio::awaitable<void> {
        Outcome out;
        auto& stream = beast::get_lowest_layer(im.ws);
        beast::error_code ec;
        tcp::resolver resolver(im.ioc);
        auto [rec, endpoints] = co_await resolver.async_resolve(host, port, kTuple);
        if (rec) {
          out.error = "resolve: " + rec.message();
          outcome->set_value(out);
          co_return;
        }
        if (options.receive_buffer > 0) {
          const auto protocol = endpoints.begin()->endpoint().protocol();
          stream.socket().open(protocol, ec);
          if (!ec)
            stream.socket().set_option(asio::socket_base::receive_buffer_size(options.receive_buffer), ec);
        }
        stream.expires_after(options.timeout);
        auto [cec, ep] = co_await stream.async_connect(endpoints, kTuple);
        if (cec) {
          out.error = "connect: " + cec.message();
          outcome->set_value(out);
          co_return;
        }
        im.ws.set_option(
            websocket::stream_base::decorator([headers = options.headers](websocket::request_type& req) {
              for (const auto& [k, v] : headers)
                req.set(k, v);
            }));
        im.ws.control_callback([&im](websocket::frame_type kind, beast::string_view) {
          if (kind != websocket::frame_type::ping) return;
          std::lock_guard lock(im.mutex);
          ++im.pings;
        });
        im.ws.read_message_max(64 * 1024 * 1024);
        stream.expires_after(options.timeout);
        auto [hec] = co_await im.ws.async_handshake(im.response, host + ":" + port, options.target, kTuple);
        stream.expires_never();
        out.status = static_cast<int>(im.response.result_int());
        if (hec) {
          out.error = im.response.body().empty() ? "handshake: " + hec.message() : im.response.body();
          beast::error_code ignored;
          stream.socket().close(ignored);
          outcome->set_value(out);
          co_return;
        }
        out.upgraded = true;
        outcome->set_value(out);
        co_await im.read_loop();
      },
      asio::detached);
  im.thread = std::thread([&im] { im.ioc.run(); });
  if (future.wait_for(options.timeout + std::chrono::seconds(2)) != std::future_status::ready) {
    error_ = "handshake did not finish in time";
    return;
  }
  const Outcome out = future.get();
  upgraded_ = out.upgraded;
  status_ = out.status;
  error_ = out.error;
  if (!upgraded_) im.set_closed(1006, error_);
}

WsClient::~WsClient() {
  Impl& im = *impl_;
  asio::post(im.ioc, [&im] {
    im.shutting_down = true;
    im.resume_timer.cancel();
    im.delay_timer.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(im.ws).socket().close(ignored);
  });
  im.work.reset();
  if (im.thread.joinable()) im.thread.join();
}

std::string WsClient::response_header(const std::string& name) const {
  return std::string(impl_->response[name]);
}

std::optional<std::string> WsClient::next(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  std::unique_lock lock(im.mutex);
  if (!im.changed.wait_for(lock, timeout, [&] { return !im.inbox.empty() || im.closed; }))
    return std::nullopt;
  if (im.inbox.empty()) return std::nullopt;
  std::string text = std::move(im.inbox.front());
  im.inbox.pop_front();
  return text;
}

std::optional<nlohmann::json> WsClient::next_json(std::chrono::milliseconds timeout) {
  auto text = next(timeout);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return nlohmann::json(*text);
  return j;
}

bool WsClient::send(const std::string& text, std::chrono::milliseconds timeout) {
  return write(text, false, timeout);
}

bool WsClient::send_binary(const std::string& data, std::chrono::milliseconds timeout) {
  return write(data, true, timeout);
}

bool WsClient::write(const std::string& data, bool binary, std::chrono::milliseconds timeout) {
  if (!upgraded_) return false;
  Impl& im = *impl_;
  auto done = std::make_shared<std::promise<bool>>();
  auto f = done->get_future();
  asio::post(im.ioc, [&im, data, binary, done] {
    im.outgoing.push_back({data, binary, done});
    if (!im.writing) {
      im.writing = true;
      asio::co_spawn(im.ioc, im.write_loop(), asio::detached);
    }
  });
  return f.wait_for(timeout) == std::future_status::ready && f.get();
}

std::optional<int> WsClient::wait_closed(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  std::unique_lock lock(im.mutex);
  if (!im.changed.wait_for(lock, timeout, [&] { return im.closed; })) return std::nullopt;
  return im.close_code;
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->closed;
}

std::string WsClient::close_reason() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->close_reason;
}

void WsClient::pause() {
  impl_->run_on_io([&im = *impl_] { im.paused = true; });
}

void WsClient::resume() {
  impl_->run_on_io([&im = *impl_] {
    im.paused = false;
    im.resume_timer.cancel();
  });
}

void WsClient::close(int code, std::chrono::milliseconds timeout) {
  if (!upgraded_ || closed()) return;
  Impl& im = *impl_;
  asio::post(im.ioc, [&im, code] {
    asio::co_spawn(
        im.ioc,
        [&im, code]() -> asio::awaitable<void> {
          co_await im.ws.async_close(websocket::close_reason(static_cast<websocket::close_code>(code)),
                                     kTuple);
        },
        asio::detached);
  });
  wait_closed(timeout);
}

void WsClient::abort() {
  impl_->run_on_io([&im = *impl_] {
    beast::error_code ignored;
    beast::get_lowest_layer(im.ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(im.ws).socket().close(ignored);
  });
  wait_closed(std::chrono::seconds(5));
}

std::size_t WsClient::messages_received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

std::size_t WsClient::pings_received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->pings;
}

}  // namespace todo::test

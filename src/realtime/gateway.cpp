// WebSocket sessions (Beast, one strand each), admission (token, origin, limits), replay and the LISTEN
// hints.
#include "todo/realtime/gateway.hpp"

#include <linux/sockios.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>

#include "todo/auth/jwt.hpp"
#include "todo/core/encoding.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/log.hpp"
#include "todo/core/text.hpp"
#include "todo/db/pool.hpp"
#include "todo/db/statements.hpp"
#include "todo/events/event.hpp"
#include "todo/events/kafka.hpp"
#include "todo/events/outbox.hpp"
#include "todo/http/origin.hpp"
#include "todo/metrics/registry.hpp"
#include "todo/realtime/client_stream.hpp"

namespace todo::realtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

const db::Statement kPosition{
    "ws_position",
    "SELECT coalesce((SELECT last_sequence FROM user_event_sequences WHERE user_id = $1), 0), "
    "(SELECT min(sequence) FROM outbox WHERE user_id = $1), EXISTS (SELECT 1 FROM users WHERE id = $1)"};
const db::Registration kRegistered{kPosition};

constexpr int kReplayBatch = 500;

/// The user's last sequence, the oldest one still in the outbox (none when it holds nothing of theirs), and
/// whether the user's account still exists (a token can outlive it: removed by an operator).
struct Position {
  std::int64_t last = 0;
  std::optional<std::int64_t> oldest;
  bool account = true;
};
Position position(pqxx::transaction_base& w, const std::string& user_id) {
  auto r = w.exec_prepared(kPosition.name, user_id);
  Position p;
  p.last = r[0][0].as<std::int64_t>();
  if (!r[0][1].is_null()) p.oldest = r[0][1].as<std::int64_t>();
  p.account = r[0][2].as<bool>();
  return p;
}

// The 4401 close reasons: a token refused at the upgrade, and one whose account was removed.
constexpr const char* kBadToken = "unauthorized: the token is missing, invalid or expired";
constexpr const char* kAccountGone = "unauthorized: the account of this token no longer exists";

double epoch_seconds(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) return 0;
  return std::chrono::duration<double>(t->time_since_epoch()).count();
}

std::shared_ptr<const Delivery> delivery_of(const events::Event& e) {
  auto d = std::make_shared<Delivery>();
  d->user_id = e.user_id;
  d->sequence = e.sequence;
  d->message = std::make_shared<const std::string>(client_message(e.document));
  d->commit_time = epoch_seconds(e.time);
  return d;
}

std::string control(std::string_view type) {
  return nlohmann::json{{"type", type}}.dump();
}

}  // namespace

/// What every session shares: configuration, dependencies, probes.
struct Gateway::Shared {
  Shared(GatewayOptions o, db::Pool& p, const auth::JwtSigner& j, metrics::Registry& r)
      : options(std::move(o)),
        pool(p),
        jwt(j),
        sent(r.counter("ws_messages_sent_total", "Messages written to WebSocket clients").with({})),
        dropped_slow(
            r.counter("ws_dropped_slow_total", "Clients closed with 1013 for not keeping up").with({})),
        latency(r.histogram("ws_delivery_latency_seconds",
                            "From a live event's time (its transaction's) to the end of its WebSocket write",
                            {}, {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5})
                    .with({})) {
    r.gauge_callback("ws_connections", "Open WebSocket connections",
                     [this] { return static_cast<double>(hub.total()); });
  }
  GatewayOptions options;
  db::Pool& pool;
  const auth::JwtSigner& jwt;
  Hub hub;
  metrics::Counter& sent;
  metrics::Counter& dropped_slow;
  metrics::Histogram& latency;
  // Set by Gateway::stop() before it closes the sessions in the hub: a session that joins the hub after that
  // snapshot sees it and closes itself.
  std::atomic<bool> stopping{false};
  // Set by Gateway::start(): before it (the server waits for the database and its migrations), an upgrade is
  // refused with 503, as the API's requests are.
  std::atomic<bool> started{false};
};

namespace {

/// Sets what every 101 of the gateway carries.
auto handshake_decorator(bool bearer_protocol, std::string request_id) {
  return [bearer_protocol, request_id = std::move(request_id)](websocket::response_type& res) {
    res.set(bhttp::field::server, "todo-server");
    res.set("X-Request-Id", request_id);
    if (bearer_protocol) res.set(bhttp::field::sec_websocket_protocol, "bearer");
  };
}

/// The upgrade request being answered: its id and its access-log line.
struct Answer {
  std::string request_id;
  Gateway::Answered answered;
};

/// The problem type of a refusal, named as the REST API's (http/problem.cpp) are.
const char* problem_slug(bhttp::status status) {
  switch (status) {
    case bhttp::status::forbidden:
      return "forbidden";
    case bhttp::status::upgrade_required:
      return "upgrade-required";
    case bhttp::status::too_many_requests:
      return "too-many-requests";
    case bhttp::status::service_unavailable:
      return "unavailable";
    case bhttp::status::unprocessable_entity:
      return "validation";
    default:
      return "bad-request";
  }
}

/// Refuses an upgrade with a plain HTTP answer (problem+json) on `stream`, and shuts it down.
asio::awaitable<void> write_refusal(beast::tcp_stream& stream, Answer& answer, bhttp::status status,
                                    const std::string& detail, const std::string& user_id,
                                    const std::string& field) {
  nlohmann::json errors = nlohmann::json::array();
  // As the REST routes' problems: the detail "after: given more than once", the field's message without its
  // name.
  const std::string named = field + ": ";
  if (!field.empty())
    errors.push_back(
        {{"field", field}, {"message", detail.starts_with(named) ? detail.substr(named.size()) : detail}});
  bhttp::response<bhttp::string_body> res{status, 11};
  res.set(bhttp::field::content_type, "application/problem+json");
  res.set("X-Request-Id", answer.request_id);
  // RFC 6455 4.2.2: the versions this server speaks.
  if (status == bhttp::status::upgrade_required) res.set(bhttp::field::sec_websocket_version, "13");
  if (status == bhttp::status::service_unavailable) res.set(bhttp::field::retry_after, "1");
  res.body() =
      nlohmann::json{{"type", std::string("https://todo-server.dev/problems/") + problem_slug(status)},
                     // RFC 9110's name for 422, as the REST routes' problems say it
                     {"title", status == bhttp::status::unprocessable_entity
                                   ? std::string("Unprocessable Content")
                                   : std::string(bhttp::obsolete_reason(status))},
                     {"status", static_cast<int>(status)},
                     {"detail", detail},
                     {"errors", std::move(errors)}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // the Origin may be any bytes
  res.keep_alive(false);
  res.prepare_payload();
  answer.answered(static_cast<unsigned>(status), res.body().size(), user_id);
  stream.expires_after(std::chrono::seconds(5));
  co_await bhttp::async_write(stream, res, kTuple);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
}

/// The same, for a connection refused before it became a session.
asio::awaitable<void> refuse(beast::tcp_stream stream, Answer answer, bhttp::status status,
                             std::string detail, std::string user_id = {}, std::string field = {}) {
  co_await write_refusal(stream, answer, status, detail, user_id, field);
}

/// One client connection. Everything runs on the connection's strand.
class WsSession final : public Subscriber, public std::enable_shared_from_this<WsSession> {
 public:
  // `received`: what the client sent after its upgrade request, read with it (its first frames).
  // `token_exp`: the token's expiry (seconds since the epoch), when the session is closed with 4401.
  WsSession(std::shared_ptr<Gateway::Shared> shared, beast::tcp_stream stream, std::string received,
            std::string user_id, std::optional<std::int64_t> after, std::int64_t token_exp)
      : shared_(std::move(shared)),
        ws_(std::move(stream), std::move(received)),
        user_id_(std::move(user_id)),
        after_(after),
        token_exp_(std::chrono::system_clock::time_point(std::chrono::seconds(token_exp))) {}
  // Constructed with a reservation in the hub (Gateway::accept), which add() consumes.
  ~WsSession() override {
    if (reserved_) shared_->hub.release(user_id_);
  }

  asio::awaitable<void> run(bhttp::request<bhttp::string_body> req, bool bearer_protocol,
                            std::string request_id, Gateway::Answered answered) {
    auto self = shared_from_this();
    ws_.set_option(
        websocket::stream_base::timeout{std::chrono::seconds(10), websocket::stream_base::none(), false});
    ws_.set_option(websocket::stream_base::decorator(handshake_decorator(bearer_protocol, request_id)));
    ws_.read_message_max(16 * 1024);
    // The user's position, read before the 101. A database that cannot tell (down, or a lock held past the
    // lock timeout) gets a 503 with Retry-After that the client retries, not an upgrade closed at once with
    // 1011. A connection without `after` starts from the present, which for the client is its 101: a change
    // it makes once it has that is newer, even when it commits before this session has joined the hub and
    // read the position again in establish() (a busy pool, say); read here, it is replayed from the outbox.
    std::optional<Position> pos;
    if (shared_->started.load()) pos = co_await try_read_position();
    if (!pos) {
      // Named, not temporaries in the co_await expression (GCC 12 mishandles non-trivial ones there).
      Answer answer{std::move(request_id), std::move(answered)};
      const std::string detail = shared_->started.load()
                                     ? "the database is unavailable or did not answer in time"
                                     : "the server is starting: waiting for the database and its migrations";
      const std::string no_field;
      co_await write_refusal(ws_.next_layer().next_layer(), answer, bhttp::status::service_unavailable,
                             detail, user_id_, no_field);
      co_return;  // the destructor gives the reservation back
    }
    if (!after_) after_ = pos->last;
    // Gateway::accept checked what Beast's handshake checks, so the answer is 101 (or nothing, the peer
    // gone).
    answered(101, 0, user_id_);
    auto [ec] = co_await ws_.async_accept(req, kTuple);
    if (ec) co_return;  // the destructor gives the reservation back
    if (!pos->account) {
      // A valid token whose account was removed: refused as a bad token is, with a reason naming that.
      websocket::close_reason cr(static_cast<websocket::close_code>(4401), kAccountGone);
      co_await ws_.async_close(cr, kTuple);
      co_return;
    }
    last_seen_ = Clock::now();
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      last_seen_ = Clock::now();
      if (kind == websocket::frame_type::close) peer_closing();
    });
    shared_->hub.add(user_id_, self);
    reserved_ = false;
    registered_ = true;
    last_ping_ = last_seen_;
    // Leaves the hub on every way out of here (return, exception, the frame destroyed unfinished): a slot
    // that is never given back counts against the user's and the server's limits for ever.
    Registration registration(*this);
    if (shared_->stopping.load()) {
      // Still in its handshake when stop() closed the hub's sessions, so not among them.
      close_now(1001, "server shutting down");
      co_await read_loop();  // until the close handshake ends
      co_return;
    }
    try {
      co_await establish(after_);
      co_await read_loop();
    } catch (const std::exception& e) {
      spdlog::error("websocket session of user {} failed: {}", user_id_, e.what());
      close_now(1011, "internal error");
    }
  }

  /// Removes the session from the hub when it goes out of scope.
  class Registration {
   public:
    explicit Registration(WsSession& s) : s_(s) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { s_.leave_hub(); }

   private:
    WsSession& s_;
  };

  void deliver(std::shared_ptr<const Delivery> d) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), d = std::move(d)] { self->on_delivery(d); });
  }

  void tick(Clock::time_point now) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), now] { self->on_tick(now); });
  }

  void close(int code, const char* reason) override {
    asio::post(ws_.get_executor(),
               [self = shared_from_this(), code, reason] { self->close_now(code, reason); });
  }

 private:
  // The user's position (see position()); none when the database cannot tell, and then the session is closed
  // with 1011, or when the user's account was removed meanwhile, and then it is closed with 4401.
  asio::awaitable<std::optional<Position>> read_position() {
    auto pos = co_await try_read_position();
    if (!pos) {
      close_now(1011, "database unavailable");
    } else if (!pos->account) {
      close_now(4401, kAccountGone);
      pos.reset();
    }
    co_return pos;
  }

  // The same without closing (before the handshake, say); a failure is logged.
  asio::awaitable<std::optional<Position>> try_read_position() {
    std::optional<Position> pos;
    // Named, not a temporary in the co_await expression (GCC 12 mishandles non-trivial temporaries there).
    auto read = [user = user_id_](pqxx::transaction_base& w) { return position(w, user); };
    try {
      pos = co_await shared_->pool.read(read);
    } catch (const std::exception& e) {
      spdlog::warn("websocket: cannot read the position of user {}: {}", user_id_, e.what());
    }
    co_return pos;
  }

  // Where the client stands: replay after `after` (or resync when that history is gone), else start from now.
  asio::awaitable<void> establish(std::optional<std::int64_t> after) {
    const auto epoch = ++epoch_;  // a gap-filling replay still running from before stops
    replaying_ = true;
    const auto pos = co_await read_position();
    if (!pos) co_return;
    const auto [last, oldest, account] = *pos;
    live_after_ = last;  // what was committed before now is history, not live traffic
    if (!after || *after == last) {
      last_sent_ = last;  // from now on
    } else if (*after > last || !oldest || *oldest > *after + 1) {
      // The events after `after` were pruned, or the client is ahead of the server: it holds sequences of
      // another history (a database restored from a backup numbers again from a lower sequence, and the
      // client would drop the new events as ones it has). Either way it must reload its list.
      enqueue_text(std::make_shared<const std::string>(control("resync")), 0);
      last_sent_ = last;
    } else {
      last_sent_ = *after;
      co_await replay(epoch);
    }
    replaying_ = false;
    drain_pending();
  }

  // Sends every stored event after last_sent_, in order, as fast as the client takes them (it waits for room
  // in the send queue instead of overflowing it). Stops when a later establish() changed the epoch.
  asio::awaitable<void> replay(std::uint64_t epoch) {
    for (;;) {
      std::vector<events::Event> batch;
      auto read_batch = [user = user_id_, after = last_sent_](pqxx::transaction_base& w) {
        return events::since(w, user, after, kReplayBatch);
      };
      try {
        batch = co_await shared_->pool.read(read_batch);
      } catch (const std::exception& e) {
        spdlog::warn("websocket: replay for user {} failed: {}", user_id_, e.what());
        close_now(1011, "database unavailable");
        co_return;
      }
      if (closing_ || epoch != epoch_) co_return;
      if (!batch.empty() && batch.front().sequence > last_sent_ + 1) {
        // A hole where the next event should be: pruned since (during this replay, say). Returning without
        // a resync would have drain_pending() start the replay again, and again.
        co_await resync_if_pruned(epoch);
        co_return;
      }
      for (const auto& e : batch) {
        // Room in the send queue: the client takes messages, or it is closed once it has taken none for the
        // stall timeout.
        // Taking them shows as messages written, or as the socket's unsent bytes shrinking: the kernel wakes
        // a writer only once a third of a send buffer of megabytes is free, which a client reading a few
        // hundred KB/s frees slower than the stall timeout.
        auto taken = writes_done_;
        auto unsent = unsent_bytes();
        auto since = Clock::now();
        while (outq_.size() >= shared_->options.send_queue && writing_ && !closing_ && epoch == epoch_) {
          room_.expires_after(
              std::min<Clock::duration>(std::chrono::seconds(1), shared_->options.stall_timeout));
          co_await room_.async_wait(kTuple);  // write_loop cancels it after each message
          const int now_unsent = unsent_bytes();
          const bool drained = now_unsent >= 0 && unsent >= 0 && now_unsent < unsent;
          unsent = now_unsent;
          if (writes_done_ != taken || drained) {
            taken = writes_done_;
            since = Clock::now();
          } else if (Clock::now() - since >= shared_->options.stall_timeout && !closing_ && epoch == epoch_) {
            shared_->dropped_slow.inc();
            close_now(1013, "too slow: reconnect and resume");
          }
        }
        if (closing_ || epoch != epoch_) co_return;
        if (e.sequence <= last_sent_) continue;       // sent meanwhile (live, or another replay)
        if (e.sequence != last_sent_ + 1) co_return;  // not committed yet: the hint or event will come again
        enqueue_event(*delivery_of(e));
      }
      if (static_cast<int>(batch.size()) < kReplayBatch || closing_ || epoch != epoch_) co_return;
    }
  }

  // Called on a hole after last_sent_: when the events there are gone from the outbox, tells the client to
  // reload ({"type":"resync"}) and carries on from the user's current sequence.
  asio::awaitable<void> resync_if_pruned(std::uint64_t epoch) {
    const auto pos = co_await read_position();
    if (!pos || closing_ || epoch != epoch_) co_return;
    const auto [last, oldest, account] = *pos;
    if (last <= last_sent_ || (oldest && *oldest <= last_sent_ + 1)) co_return;  // not pruned
    enqueue_text(std::make_shared<const std::string>(control("resync")), 0);
    last_sent_ = last;
    live_after_ = last;
  }

  void on_delivery(const std::shared_ptr<const Delivery>& d) {
    if (closing_) return;
    if (replaying_) {
      // Already sent, or stored when establish() read the position: the replay sends it from the outbox. The
      // relay numbers an event before the bus delivers it, so a replay started in between reads events whose
      // live copies arrive while it runs; parked, they counted against the client as if it were falling
      // behind, and a client resuming after a burst of changes was closed as too slow.
      if (d->sequence <= last_sent_ || d->sequence <= live_after_) return;
      // Parked until the replay (paced by the client) is done. Beyond a send queue's worth only the latest
      // is kept: it is a gap then, and the replay after this one reads the others from the outbox.
      if (pending_.size() >= shared_->options.send_queue) {
        auto latest = d;
        for (const auto& p : pending_)
          if (p->sequence > latest->sequence) latest = p;
        pending_.clear();
        pending_.push_back(std::move(latest));
        return;
      }
      pending_.push_back(d);
      return;
    }
    if (d->sequence <= last_sent_) return;  // already sent (replay, or the other source)
    if (d->message && d->sequence == last_sent_ + 1 && outq_.size() < shared_->options.send_queue) {
      enqueue_event(*d);
      return;
    }
    // A gap, a hint from another replica, or a full send queue (a burst: a relay that publishes hundreds of
    // events at once after a stall): fetch from the outbox, as fast as the client takes them.
    pending_.push_back(d);
    replaying_ = true;
    asio::co_spawn(
        ws_.get_executor(),
        [self = shared_from_this(), epoch = epoch_]() -> asio::awaitable<void> {
          co_await self->replay(epoch);
          if (epoch != self->epoch_) co_return;  // a resume took over (and ends the replaying state)
          self->replaying_ = false;
          self->drain_pending();
        },
        asio::detached);
  }

  void drain_pending() {
    auto pending = std::move(pending_);
    pending_.clear();
    std::sort(pending.begin(), pending.end(),
              [](const auto& a, const auto& b) { return a->sequence < b->sequence; });
    for (const auto& d : pending)
      on_delivery(d);
  }

  // The next event (sequence last_sent_ + 1). Its delivery latency is observed only when it is live —
  // committed after this connection (or its last resume) established where the client stands — not when it is
  // history being replayed: a device back after hours would add hours-long samples.
  void enqueue_event(const Delivery& d) {
    enqueue_text(d.message, d.sequence > live_after_ ? d.commit_time : 0);
    last_sent_ = d.sequence;
  }

  void enqueue_text(std::shared_ptr<const std::string> text, double commit_time) {
    if (closing_) return;
    if (outq_.size() >= shared_->options.send_queue) {
      shared_->dropped_slow.inc();
      close_now(1013, "too slow: reconnect and resume");
      return;
    }
    outq_.push_back({std::move(text), commit_time});
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(ws_.get_executor(), write_loop(shared_from_this()), asio::detached);
    }
  }

  // `self` keeps the session alive while the loop runs.
  asio::awaitable<void> write_loop(std::shared_ptr<WsSession> /*self*/) {
    while (!outq_.empty() && !closing_) {
      auto [text, commit_time] = outq_.front();
      ws_.text(true);
      auto [ec, n] = co_await ws_.async_write(asio::buffer(*text), kTuple);
      if (ec) break;
      ++writes_done_;
      // While a replay runs no read is pending, so pongs go unseen: the client taking the replay's writes
      // is the sign of life (a dead one stops taking them once the socket's buffers are full).
      if (replaying_) last_seen_ = Clock::now();
      shared_->sent.inc();
      if (commit_time > 0) {
        const double now_s =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
        shared_->latency.observe(std::max(0.0, now_s - commit_time));
      }
      outq_.erase(outq_.begin());
      room_.cancel();
    }
    writing_ = false;
  }

  asio::awaitable<void> read_loop() {
    beast::flat_buffer buffer;
    for (;;) {
      auto [ec, n] = co_await ws_.async_read(buffer, kTuple);
      if (ec) co_return;
      last_seen_ = Clock::now();
      if (!ws_.got_text()) {
        // The protocol is JSON text frames: a binary one is a client bug, not a message to answer.
        if (closing_) continue;  // a close is under way; this loop reads until it ends
        // Closed from here, with no read pending. A close beside a pending read deadlocked in Beast 1.81 when
        // the client's next frame was already buffered (a close, or a bad frame): the read held the read lock
        // and waited for the write lock, the close held the write lock and waited for the read lock, and
        // closing the socket woke neither, so the session never ended.
        co_await close_here(1003, "binary messages are not accepted: send JSON text frames");
        co_return;
      }
      const std::string text = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      if (closing_) continue;
      // Beast 1.81 checks UTF-8 at the end of a message only when its last frame has a payload: a message
      // ending in an incomplete character and then an empty final frame got through (RFC 6455 8.1: 1007).
      if (!valid_utf8(text)) {
        co_await close_here(1007, "text messages must be UTF-8");
        co_return;
      }
      const auto request = parse_client_request(text);
      switch (request.kind) {
        case ClientRequest::Kind::resume: {
          // Drops what is queued, but not the message being written: write_loop pops it when done.
          outq_.erase(writing_ && !outq_.empty() ? outq_.begin() + 1 : outq_.begin(), outq_.end());
          pending_.clear();
          // The seam, for the client: what came before this acknowledgement was live traffic sent before
          // the resume was read; what follows is every event after `after`, in order, then live ones.
          enqueue_text(std::make_shared<const std::string>(
                           nlohmann::json{{"type", "resumed"}, {"after", request.after}}.dump()),
                       0);
          co_await establish(request.after);
          break;
        }
        case ClientRequest::Kind::ping:
          enqueue_text(std::make_shared<const std::string>(control("pong")), 0);
          break;
        case ClientRequest::Kind::invalid:
          // Answered, and the connection stays: one bad message does not cost the client its live updates.
          enqueue_text(std::make_shared<const std::string>(client_error(request.problem)), 0);
          break;
      }
    }
  }

  // Bytes written to the socket that the client has not acknowledged yet (SIOCOUTQ); -1 when unknown.
  int unsent_bytes() {
    int unsent = 0;
    if (::ioctl(beast::get_lowest_layer(ws_).socket().native_handle(), SIOCOUTQ, &unsent) != 0) return -1;
    return unsent;
  }

  // Keepalive, called by the gateway's sweeper every tick: pings every ping_interval; a peer silent for
  // silence_timeout is dropped. One sweeper for all sessions costs less memory than a timer and a coroutine
  // frame per idle connection.
  void on_tick(Clock::time_point now) {
    if (closing_ || !registered_) return;
    // The token a session was opened with expires (exp): it ends as a request with that token would be
    // refused, within a tick; the client reconnects with a new one and resumes after its last sequence.
    if (std::chrono::system_clock::now() >= token_exp_) {
      close_now(4401, "token expired: reconnect with a new token and resume");
      return;
    }
    // A client still taking what was written — a catch-up the kernel buffered, behind which the pings and
    // their pongs wait — is alive: the socket's unsent bytes shrink as the client acknowledges them. Looked
    // at only once the peer has been silent for half the timeout (one ioctl a tick then).
    if (now - last_seen_ > shared_->options.silence_timeout / 2) {
      const int unsent = unsent_bytes();
      if (unsent >= 0 && last_unsent_ >= 0 && unsent < last_unsent_) last_seen_ = now;
      last_unsent_ = unsent > 0 ? unsent : -1;
    } else {
      last_unsent_ = -1;
    }
    if (now - last_seen_ > shared_->options.silence_timeout) {
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
      return;
    }
    // Not awaited by anyone: a ping stuck behind a blocked write must not stop the silence check.
    if (pinging_ || now - last_ping_ < shared_->options.ping_interval) return;
    pinging_ = true;
    last_ping_ = now;
    ws_.async_ping({}, [self = shared_from_this()](beast::error_code) { self->pinging_ = false; });
  }

  // The client started the closing handshake: Beast answers it, with no deadline (its handshake timeout is
  // not armed for a close the peer starts), and then closes the connection (ClientStream's teardown). A
  // client that does not take the answer (a blocked write) held the user's slot until the silence sweeper
  // came, a minute later. As for a close started here, the socket is closed and the slot given back after
  // 5 s at the latest.
  void peer_closing() {
    if (!closing_) begin_closing();
  }

  // Gives the session's slot back (idempotent: the close deadline or the end of run(), whichever is first).
  void leave_hub() {
    if (!registered_) return;
    shared_->hub.remove(user_id_, this);
    registered_ = false;
  }

  // Starts the closing handshake beside the read loop's pending read, which takes the client's answer.
  void close_now(int code, const char* reason) {
    if (closing_) return;
    asio::co_spawn(ws_.get_executor(), handshake(shared_from_this(), begin_closing(), code, reason),
                   asio::detached);
  }

  // The closing handshake from the read loop itself, with no read pending.
  asio::awaitable<void> close_here(int code, const char* reason) {
    if (closing_) co_return;
    co_await handshake(shared_from_this(), begin_closing(), code, reason);
  }

  // A client that does not read may never take the close frame (it waits behind a blocked write): after 5 s
  // the socket is closed regardless (tcp_stream::expires_after cannot bound operations already pending), and
  // the session leaves the hub then, whatever its operations do: a slot kept by a session that never ends
  // would count against the user's and the server's limits for ever. Gives the deadline's timer.
  std::shared_ptr<asio::steady_timer> begin_closing() {
    closing_ = true;
    room_.cancel();
    // The wait holds the timer (nobody else does after a close the client started), not the session: one
    // whose run() has not ended is held by it, and run() leaves the hub as it ends.
    auto deadline = std::make_shared<asio::steady_timer>(ws_.get_executor(), std::chrono::seconds(5));
    deadline->async_wait([weak = weak_from_this(), deadline](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
      self->leave_hub();
    });
    return deadline;
  }

  static asio::awaitable<void> handshake(std::shared_ptr<WsSession> self,
                                         std::shared_ptr<asio::steady_timer> deadline, int code,
                                         const char* reason) {
    websocket::close_reason cr(static_cast<websocket::close_code>(code), reason);
    co_await self->ws_.async_close(cr, kTuple);
    deadline->cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
  }

  std::shared_ptr<Gateway::Shared> shared_;
  websocket::stream<ClientStream> ws_;
  std::string user_id_;
  std::optional<std::int64_t> after_;
  std::int64_t last_sent_ = 0;
  std::int64_t live_after_ = 0;  // the user's sequence when establish() read it: later events are live
  std::uint64_t epoch_ = 0;      // establish() count: replays of an older epoch stop
  asio::steady_timer room_{ws_.get_executor()};  // a replay waiting for room in outq_
  bool replaying_ = false;
  std::uint64_t writes_done_ = 0;  // messages written: a replay waiting for room sees the client take them
  bool writing_ = false;
  bool pinging_ = false;
  bool closing_ = false;
  bool registered_ = false;
  bool reserved_ = true;
  Clock::time_point last_seen_{};
  Clock::time_point last_ping_{};
  std::chrono::system_clock::time_point token_exp_;
  int last_unsent_ = -1;  // the socket's unsent bytes at the last tick that looked (-1: not looked, or none)
  // Vectors, not deques: libstdc++'s deque allocates about 600 bytes up front, per idle session. Both stay
  // short (bounded by the send queue limit).
  std::vector<std::shared_ptr<const Delivery>> pending_;
  std::vector<std::pair<std::shared_ptr<const std::string>, double>> outq_;
};

bool is_websocket_key(std::string_view key) {
  if (key.size() != 24 || !key.ends_with("==")) return false;
  return std::all_of(key.begin(), key.end() - 2, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  });
}

/// Accepts the upgrade only to close it with 4401: a client learns its token is bad before any data. As in a
/// session, the frames read with the request come first (a close sent behind the request was lost, and the
/// server waited 10 s for it), and the connection ends as soon as close frames went both ways.
asio::awaitable<void> reject_token(beast::tcp_stream stream, std::string received,
                                   bhttp::request<bhttp::string_body> req, bool bearer_protocol,
                                   Answer answer) {
  websocket::stream<ClientStream> ws(std::move(stream), std::move(received));
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(10), false});
  ws.set_option(websocket::stream_base::decorator(handshake_decorator(bearer_protocol, answer.request_id)));
  answer.answered(101, 0, "");
  auto [ec] = co_await ws.async_accept(req, kTuple);
  if (ec) co_return;
  websocket::close_reason cr(static_cast<websocket::close_code>(4401), kBadToken);
  co_await ws.async_close(cr, kTuple);
}

}  // namespace

Gateway::Gateway(GatewayOptions options, db::Pool& pool, const auth::JwtSigner& jwt,
                 metrics::Registry& registry)
    : shared_(std::make_shared<Shared>(std::move(options), pool, jwt, registry)), hub_(shared_->hub) {}

Gateway::~Gateway() {
  stop();
}

void Gateway::accept(beast::tcp_stream stream, bhttp::request<bhttp::string_body> req, std::string received,
                     std::string request_id, Answered answered) {
  auto ex = stream.get_executor();
  Answer answer{std::move(request_id), std::move(answered)};
  // What Beast's handshake would refuse with a text/plain answer of its own (no request id, no access-log
  // line) is refused here first. The server routes only GET HTTP/1.1 requests with one valid Host,
  // `Connection: upgrade` and `Upgrade: websocket` here; the rest is checked below.
  std::optional<std::pair<bhttp::status, std::string>> bad;
  std::string bad_field;
  if (req[bhttp::field::sec_websocket_version] != "13") {
    // RFC 6455 4.2.2: 426 with the version this server speaks.
    bad = {bhttp::status::upgrade_required, req.count(bhttp::field::sec_websocket_version)
                                                ? "Sec-WebSocket-Version must be 13"
                                                : "Sec-WebSocket-Version is required (13)"};
    bad_field = "Sec-WebSocket-Version";
  } else if (req.count(bhttp::field::sec_websocket_key) > 1) {
    // Beast reads the first; which one the client will check the answer against is unknowable.
    bad = {bhttp::status::bad_request, "more than one Sec-WebSocket-Key header"};
    bad_field = "Sec-WebSocket-Key";
  } else if (!is_websocket_key(req[bhttp::field::sec_websocket_key])) {
    // RFC 6455 4.2.1: the key is a base64-encoded 16-byte value (24 characters, the last two '='). Beast
    // checks only that it is there and not longer.
    bad = {bhttp::status::bad_request, "Sec-WebSocket-Key must be a base64-encoded 16-byte value"};
    bad_field = "Sec-WebSocket-Key";
  }
  if (bad) {
    asio::co_spawn(ex,
                   refuse(std::move(stream), std::move(answer), bad->first, std::move(bad->second), {},
                          std::move(bad_field)),
                   asio::detached);
    return;
  }
  if (auto starting = shared_->options.starting ? shared_->options.starting() : std::nullopt) {
    asio::co_spawn(ex,
                   refuse(std::move(stream), std::move(answer), bhttp::status::service_unavailable,
                          std::move(*starting)),
                   asio::detached);
    return;
  }
  // The token: `Sec-WebSocket-Protocol: bearer, <token>` (browsers) or ?access_token=.
  std::string token;
  bool bearer_protocol = false;
  const std::string protocols(req[bhttp::field::sec_websocket_protocol]);
  if (!protocols.empty()) {
    const auto comma = protocols.find(',');
    if (trim(std::string_view(protocols).substr(0, comma)) == "bearer" && comma != std::string::npos) {
      bearer_protocol = true;
      token = std::string(trim(std::string_view(protocols).substr(comma + 1)));
    }
  }
  std::optional<std::int64_t> after;
  const std::string_view target = req.target();
  // As on every route: a parameter it does not take is a 422 (a misspelt `after` must not silently start
  // from the present), a repeated one a 400.
  struct BadQuery {
    bhttp::status status;
    std::string detail;
    std::string field;
  };
  std::optional<BadQuery> bad_query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    try {
      std::vector<std::string> seen;
      for (const auto& [k, v] : parse_query_string(target.substr(q + 1))) {
        if (k != "access_token" && k != "after") {
          bad_query = {bhttp::status::unprocessable_entity,
                       k + ": not a parameter of /api/v1/ws (it takes access_token, after)", k};
          break;
        }
        if (std::find(seen.begin(), seen.end(), k) != seen.end()) {
          bad_query = {bhttp::status::bad_request, k + ": given more than once", k};
          break;
        }
        seen.push_back(k);
        if (k == "access_token" && bearer_protocol) {
          // Two tokens, maybe of two users: which one the client meant is unknowable (as for two
          // Authorization headers on the REST routes).
          bad_query = {
              bhttp::status::bad_request,
              "access_token: a token is given in Sec-WebSocket-Protocol too; give it once, in either",
              "access_token"};
          break;
        } else if (k == "access_token") {
          token = v;
        } else if (k == "after") {
          std::int64_t n = -1;
          auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
          if (ec != std::errc() || p != v.data() + v.size() || n < 0)
            bad_query = {bhttp::status::unprocessable_entity,
                         "after: must be an integer from 0 to 9223372036854775807", "after"};
          else
            after = n;
        }
      }
    } catch (const std::exception&) {
      bad_query = {bhttp::status::bad_request, "malformed query string", {}};
    }
  }
  if (bad_query) {
    asio::co_spawn(ex,
                   refuse(std::move(stream), std::move(answer), bad_query->status,
                          std::move(bad_query->detail), {}, std::move(bad_query->field)),
                   asio::detached);
    return;
  }
  // Origin: browsers send it; only the configured origins (and this server's own) may open a socket.
  const std::string origin(req[bhttp::field::origin]);
  if (!origin.empty()) {
    // RFC 6454: scheme and host case-insensitive, a default port the same as none.
    if (!http::same_origin(origin, req[bhttp::field::host]) &&
        !http::listed_origin(origin, shared_->options.allowed_origins)) {
      asio::co_spawn(ex,
                     refuse(std::move(stream), std::move(answer), bhttp::status::forbidden,
                            "origin not allowed: " + origin),
                     asio::detached);
      return;
    }
  }
  auto claims = shared_->jwt.verify(token);
  if (!claims || !is_uuid(claims->sub)) {
    asio::co_spawn(ex,
                   reject_token(std::move(stream), std::move(received), std::move(req), bearer_protocol,
                                std::move(answer)),
                   asio::detached);
    return;
  }
  // The hub is keyed by the user id as the database writes it (lower case), which the events carry: a token
  // of another issuer sharing the secret may spell it in upper case.
  claims->sub = normalize_uuid(claims->sub);
  if (shared_->stopping.load()) {
    asio::co_spawn(ex,
                   refuse(std::move(stream), std::move(answer), bhttp::status::service_unavailable,
                          "shutting down", claims->sub),
                   asio::detached);
    return;
  }
  switch (hub_.reserve(claims->sub, shared_->options.max_per_user, shared_->options.max_total)) {
    case Admission::too_many:
      asio::co_spawn(ex,
                     refuse(std::move(stream), std::move(answer), bhttp::status::too_many_requests,
                            "too many connections", claims->sub),
                     asio::detached);
      return;
    case Admission::too_many_for_user:
      asio::co_spawn(
          ex,
          refuse(std::move(stream), std::move(answer), bhttp::status::too_many_requests,
                 "too many connections for this user (" + std::to_string(shared_->options.max_per_user) + ")",
                 claims->sub),
          asio::detached);
      return;
    case Admission::admitted:
      break;
  }
  auto session = std::make_shared<WsSession>(shared_, std::move(stream), std::move(received), claims->sub,
                                             after, claims->exp);
  asio::co_spawn(
      ex,
      session->run(std::move(req), bearer_protocol, std::move(answer.request_id), std::move(answer.answered)),
      [session](std::exception_ptr ep) {
        if (!ep) return;
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          spdlog::error("websocket session failed: {}", e.what());
        }
      });
}

void Gateway::on_event(const events::Event& e) {
  if (!hub_.has(e.user_id)) return;
  hub_.publish(delivery_of(e));
}

void Gateway::start() {
  shared_->started.store(true);
  // The keepalive sweeper: one thread ticks every session (ping when due, drop the silent) a few times per
  // ping interval.
  const auto period = std::clamp<std::chrono::milliseconds>(
      std::min(shared_->options.ping_interval, shared_->options.silence_timeout) / 4,
      std::chrono::milliseconds(20), std::chrono::milliseconds(1000));
  sweeper_ = std::thread([this, period] {
    std::unique_lock lock(sweep_mutex_);
    while (!sweep_cv_.wait_for(lock, period, [this] { return shared_->stopping.load(); }))
      hub_.tick_all(Clock::now());
  });
  if (!shared_->options.kafka_brokers.empty()) {
    // Every replica reads task-updates and reminders (what clients are sent: task changes, reminder.fired) in
    // a consumer group of its own, so each sees every event. The two topics do not keep the events' order
    // between them: a session fills the gap from the outbox and drops the late one by its sequence.
    consumer_ = std::make_unique<events::KafkaConsumer>(
        shared_->options.kafka_brokers, "todo-realtime-" + new_uuid(), shared_->options.kafka_topics,
        [this](const std::string& key, const std::string& value) {
          if (!hub_.has(key)) return;
          const auto ce = nlohmann::json::parse(value, nullptr, false);
          if (!ce.is_object() || !ce.contains("sequence") || !ce["sequence"].is_number_integer()) return;
          auto d = std::make_shared<Delivery>();
          d->user_id = key;
          d->sequence = ce["sequence"].get<std::int64_t>();
          d->message = std::make_shared<const std::string>(client_message(value));
          d->commit_time = epoch_seconds(ce.value("time", ""));
          hub_.publish(d);
        });
  }
  if (shared_->options.conninfo.empty()) return;
  // With Kafka, other replicas' events come from the topics only; without it, from NOTIFY todo_events. Either
  // way the listener hears of removed accounts (todo_accounts).
  const bool hints = shared_->options.kafka_brokers.empty();
  listener_ = std::thread([this, hints] {
    // Other replicas' relays NOTIFY todo_events with "<user_id> <sequence>" after publishing; a user with
    // sessions here gets a hint, and the sessions fetch what they miss from the outbox.
    class Hints final : public pqxx::notification_receiver {
     public:
      Hints(pqxx::connection_base& c, Hub& hub) : pqxx::notification_receiver(c, "todo_events"), hub_(hub) {}
      void operator()(const std::string& payload, int) override {
        const auto space = payload.find(' ');
        if (space == std::string::npos) return;
        auto d = std::make_shared<Delivery>();
        d->user_id = payload.substr(0, space);
        if (!hub_.has(d->user_id)) return;
        d->sequence = std::atoll(payload.c_str() + space + 1);
        hub_.publish(d);
      }
      Hub& hub_;
    };
    // A trigger on `users` NOTIFYs todo_accounts when accounts are removed (migration 0029): their ids,
    // separated by spaces, or `*` when the table was truncated. Their sessions here are closed as a token of
    // a removed account is refused at the upgrade.
    class Removals final : public pqxx::notification_receiver {
     public:
      Removals(pqxx::connection_base& c, Hub& hub)
          : pqxx::notification_receiver(c, "todo_accounts"), hub_(hub) {}
      void operator()(const std::string& payload, int) override {
        if (payload == "*") {
          hub_.close_all(4401, kAccountGone);
          return;
        }
        std::size_t at = 0;
        while (at < payload.size()) {
          const auto end = std::min(payload.find(' ', at), payload.size());
          if (end > at) hub_.close_user(payload.substr(at, end - at), 4401, kAccountGone);
          at = end + 1;
        }
      }
      Hub& hub_;
    };
    while (!shared_->stopping.load()) {
      try {
        pqxx::connection c(shared_->options.conninfo);
        pqxx::nontransaction(c).exec("SET application_name = 'todo-ws-listener'");  // for an operator
        std::optional<Hints> hint_receiver;
        if (hints) hint_receiver.emplace(c, hub_);
        Removals removals(c, hub_);
        // The notifications sent while this connection was down are lost (a dropped connection, a restart of
        // PostgreSQL, an idle-session timeout): read after LISTEN, every user with sessions here whose
        // account is gone has them closed, and (without Kafka) the others are hinted at their latest
        // sequence, so the sessions fetch whatever they missed meanwhile.
        catch_up(c, hints);
        while (!shared_->stopping.load())
          c.await_notification(0, 200'000);
      } catch (const std::exception& e) {
        if (shared_->stopping.load()) break;
        spdlog::warn("websocket listener: {}; reconnecting", e.what());
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
  });
}

void Gateway::catch_up(pqxx::connection_base& c, bool hints) {
  const auto users = hub_.users();
  if (users.empty()) return;
  pqxx::nontransaction n(c);
  const auto literal = db::array_literal(users);
  const auto removed = n.exec_params(
      "SELECT x.u FROM unnest($1::uuid[]) AS x(u) WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = x.u)",
      literal);
  for (const auto& row : removed)
    hub_.close_user(row[0].c_str(), 4401, kAccountGone);
  if (!hints) return;
  const auto rows = n.exec_params(
      "SELECT user_id, last_sequence FROM user_event_sequences WHERE user_id = ANY($1::uuid[])", literal);
  for (const auto& row : rows) {
    auto d = std::make_shared<Delivery>();
    d->user_id = row[0].c_str();
    d->sequence = row[1].as<std::int64_t>();
    hub_.publish(d);
  }
}

void Gateway::stop() {
  if (shared_->stopping.exchange(true)) return;
  hub_.close_all(1001, "server shutting down");
  {
    std::lock_guard lock(sweep_mutex_);  // the sweeper is waiting or ticking: it sees `stopping` either way
  }
  sweep_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  if (listener_.joinable()) listener_.join();
  consumer_.reset();
}

}  // namespace todo::realtime

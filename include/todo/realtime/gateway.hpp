// Real-time sync: WebSocket upgrades on /api/v1/ws, per-user fan-out, resume from the outbox, cross-replica
// hints.
#pragma once

#include <atomic>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "todo/realtime/hub.hpp"

namespace pqxx {
class connection_base;
}

namespace todo::db {
class Pool;
}
namespace todo::auth {
class JwtSigner;
}
namespace todo::metrics {
class Registry;
}
namespace todo::events {
struct Event;
class KafkaConsumer;
}  // namespace todo::events

namespace todo::realtime {

struct GatewayOptions {
  std::vector<std::string> allowed_origins;  // besides the server's own origin; "*" allows any
  std::size_t max_per_user = 20;
  std::size_t max_total = 20'000;
  // Messages queued for a client. Live events beyond it are not queued but read from the outbox as the
  // client takes the queued ones (a catch-up paced by the client).
  std::size_t send_queue = 256;
  // A client whose full send queue has not shrunk by one message for this long is closed with 1013.
  std::chrono::milliseconds stall_timeout{60'000};
  std::chrono::milliseconds ping_interval{20'000};
  std::chrono::milliseconds silence_timeout{60'000};
  std::string conninfo;  // for the LISTEN connection that receives other replicas' events
  // When set, other replicas' events also come from these topics — the ones holding what clients are sent:
  // task changes and reminder events — in a consumer group of this replica's own.
  std::string kafka_brokers;
  std::vector<std::string> kafka_topics = {"task-updates", "reminders"};
  // While the server starts: the detail of the 503 every /api/ request gets (nothing once it serves), given
  // to an upgrade before its token or query are looked at, as the REST routes do.
  std::function<std::optional<std::string>()> starting;
};

/// Accepts WebSocket clients and keeps each one in sync with its user's events.
///
/// A session first registers with the hub (so nothing published from then on is missed), then establishes
/// where the client stands — `after` from the client (replay from the outbox, or `resync` when that history
/// is pruned) or the user's current sequence — and from then on sends every event exactly once, in sequence
/// order. A gap (an event seen before its predecessors, or a hint from another replica) is filled from the
/// outbox.
class Gateway {
 public:
  Gateway(GatewayOptions options, db::Pool& pool, const auth::JwtSigner& jwt, metrics::Registry& registry);
  ~Gateway();

  /// Called once with the HTTP status about to be sent for an upgrade request (101, or a refusal), its body
  /// size and the user when known: the request's access-log line and metrics.
  using Answered = std::function<void(unsigned status, std::size_t body_bytes, std::string_view user_id)>;
  /// The http::Server upgrade handler for /api/v1/ws. `received`: the bytes read from the socket after the
  /// request (a client's first frames, sent together with it). Every answer carries `X-Request-Id:
  /// request_id`.
  void accept(boost::beast::tcp_stream stream,
              boost::beast::http::request<boost::beast::http::string_body> req, std::string received,
              std::string request_id, Answered answered);
  /// An event published by this replica's relay (from the in-process bus).
  void on_event(const events::Event& e);
  /// Starts listening for other replicas' events: the task-updates and reminders topics with Kafka (in a
  /// consumer group of this replica's own), else LISTEN todo_events; and for removed accounts (LISTEN
  /// todo_accounts), whose sessions are closed with 4401.
  void start();
  /// Closes every session with 1001 (going away) and stops listening.
  void stop();
  std::size_t open() const { return hub_.total(); }

  struct Shared;

 private:
  /// The listener, after LISTEN: closes the sessions here whose account is gone, and (`hints`, without
  /// Kafka) hints every user with sessions here at their latest event sequence.
  void catch_up(pqxx::connection_base& c, bool hints);

  std::shared_ptr<Shared> shared_;
  Hub& hub_;
  std::thread listener_;
  std::thread sweeper_;
  std::mutex sweep_mutex_;
  std::condition_variable sweep_cv_;
  std::unique_ptr<events::KafkaConsumer> consumer_;
};

}  // namespace todo::realtime

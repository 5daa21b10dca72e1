// The outbox relay: publishes committed events to Kafka and the in-process bus, exactly in order per user.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "todo/events/bus.hpp"

namespace pqxx {
class connection_base;
}
namespace todo::metrics {
class Registry;
}

namespace todo::events {

/// Kafka topic names.
struct Topics {
  std::string events = "task-events";    // every event
  std::string updates = "task-updates";  // what clients need to sync (task.* events)
  std::string reminders = "reminders";   // reminder events
};

struct RelayOptions {
  std::string conninfo;
  std::string brokers;  // empty: no Kafka; events go to the bus only
  Topics topics;
  std::chrono::seconds retention{7 * 24 * 3600};
  int batch = 500;
  int max_in_flight = 20'000;
  std::chrono::milliseconds safety_poll{1000};                         // wake-up without a NOTIFY
  std::chrono::milliseconds prune_interval{std::chrono::seconds(60)};  // between pruning rounds
};

/// Runs on its own thread with its own database connection (it blocks on LISTEN and on Kafka
/// acknowledgements).
///
/// Ordering and exactly-once with several replicas: users are hashed into lanes; each relay holds a fair
/// share of lanes as session advisory locks (fair = lanes / relays connected), so a user's events are
/// published by one relay at a time, oldest first. A lane's rows are claimed (without row locks: the lane's
/// lock already makes its holder the only claimer), produced, and marked published only once every topic
/// acknowledged them; then they go to the bus. A relay that dies loses its session and so its lanes; the
/// events it had not marked are published again by the next holder (consumers dedupe by event id; Kafka's
/// idempotent producer never duplicates within one relay's life).
class Relay {
 public:
  Relay(RelayOptions options, Bus& bus, metrics::Registry& registry);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  void start();
  /// Stops after the current step; waits up to `grace` for in-flight Kafka deliveries to be acknowledged and
  /// marked.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  /// A local wake-up for events just committed in `lanes` (lane_bit of each), as a receiver of the pool's
  /// post-commit signals on kOutboxChannel (db::Notifier::receive_locally): wakes the relay when it holds any
  /// of them and returns those it holds. The others, held by another replica's relay or by none, are left
  /// to a NOTIFY. A lane moving between relays at that moment costs at most a delay until the new holder's
  /// next claim (its safety poll, or a NOTIFY that a relay sends when it lets lanes go or reconnects), never
  /// an event.
  std::uint32_t wake_for(std::uint32_t lanes);

 private:
  struct State;
  void run();
  /// Sleeps until a NOTIFY on `c`, a local wake-up (wake_for, stop) or `timeout`; takes both.
  void await_wake(pqxx::connection_base& c, std::chrono::milliseconds timeout);

  RelayOptions options_;
  Bus& bus_;
  std::unique_ptr<State> state_;
  std::atomic<bool> stopping_{false};
  std::chrono::milliseconds grace_{5000};
  std::atomic<std::uint32_t> held_{0};  // lane_bit of each lane held; cleared before a lane is let go
  int wake_fd_ = -1;                    // eventfd: local wake-ups
  std::thread thread_;
};

}  // namespace todo::events

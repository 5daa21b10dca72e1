// The per-user registry of live WebSocket sessions, and the fan-out of events to them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace todo::realtime {

/// A committed event as sessions receive it: serialised once, shared by every session of the user.
struct Delivery {
  std::string user_id;
  std::int64_t sequence = 0;
  std::shared_ptr<const std::string> message;  // the JSON text frame
  double commit_time = 0;                      // seconds since the epoch (for the delivery latency)
};

/// What the hub needs from a session; implemented by the WebSocket session.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  /// A live event, or a hint that events up to `sequence` exist (message null): called from any thread.
  virtual void deliver(std::shared_ptr<const Delivery> d) = 0;
  /// Close with the given code (shutdown: 1001).
  virtual void close(int code, const char* reason) = 0;
  /// Keepalive: ping when due, drop a silent peer (called periodically, from any thread).
  virtual void tick(std::chrono::steady_clock::time_point now) = 0;
};

/// Whether a new connection may be set up under the limits.
enum class Admission { admitted, too_many_for_user, too_many };

/// Users → their sessions on this replica. Broadcast copies weak pointers under the lock and calls outside
/// it.
class Hub {
 public:
  /// Counts a connection being set up (its WebSocket handshake) against the limits, atomically with the
  /// check, so that concurrent upgrades cannot overshoot them. add() turns the reservation into a session;
  /// release() gives back one that did not become a session.
  Admission reserve(const std::string& user_id, std::size_t max_per_user, std::size_t max_total);
  void release(const std::string& user_id);
  void add(const std::string& user_id, const std::shared_ptr<Subscriber>& s);
  /// Removes exactly the session `s` added (a no-op when it is not there): safe to call from a scope guard
  /// on every exit path, even while `s` is being destroyed.
  void remove(const std::string& user_id, const Subscriber* s);
  /// Sessions (and connections being set up) of the user / of everyone.
  std::size_t count(const std::string& user_id) const;
  std::size_t total() const;
  bool has(const std::string& user_id) const { return count(user_id) > 0; }
  /// The users with sessions here.
  std::vector<std::string> users() const;

  void publish(const std::shared_ptr<const Delivery>& d);
  void close_all(int code, const char* reason);
  /// Closes every session of the user (connections still being set up are not sessions yet).
  void close_user(const std::string& user_id, int code, const char* reason);
  void tick_all(std::chrono::steady_clock::time_point now);

 private:
  std::vector<std::shared_ptr<Subscriber>> everyone() const;
  std::vector<std::shared_ptr<Subscriber>> sessions_of(const std::string& user_id) const;
  void unreserve(const std::string& user_id);  // with mutex_ held
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> reserved_;
  std::size_t reserved_total_ = 0;
  /// A session and its address: remove() finds the caller's own entry without locking the weak pointer.
  struct Entry {
    const Subscriber* key;
    std::weak_ptr<Subscriber> ref;
  };
  std::unordered_map<std::string, std::vector<Entry>> users_;
  std::size_t total_ = 0;
};

/// The client frame for an outbox event (CloudEvent document): {type, sequence, event_id, time, data}.
std::string client_message(const std::string& cloudevent_json);

/// A text message from a client, checked: `{"type":"resume","after":n}` (n a non-negative integer that fits
/// in 64 bits) or `{"type":"ping"}`. Anything else — not JSON, not an object, `type` missing or not a string,
/// an unknown type, a key the type does not take, a bad `after` — is `invalid`, with `problem` saying what is
/// wrong. Never throws.
struct ClientRequest {
  enum class Kind { resume, ping, invalid };
  Kind kind = Kind::invalid;
  std::int64_t after = 0;
  std::string problem;
};
ClientRequest parse_client_request(std::string_view text);

/// The error frame answering an invalid client message: {"type":"error","message":problem}.
std::string client_error(std::string_view problem);

}  // namespace todo::realtime

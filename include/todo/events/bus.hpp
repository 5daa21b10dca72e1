// The in-process event bus: components of this process subscribe to committed events.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "todo/events/event.hpp"

namespace todo::events {

/// Fan-out of committed events to subscribers (realtime, reminders, …). The relay publishes each event once,
/// after it is committed (and acknowledged by Kafka when Kafka is configured), in order per user. Handlers
/// run on the relay's thread and must be quick: hand work off to an executor.
class Bus {
 public:
  using Handler = std::function<void(const Event&)>;

  /// Returns a handle for unsubscribe().
  int subscribe(Handler handler);
  void unsubscribe(int handle);
  void publish(const std::vector<Event>& events);

 private:
  std::mutex mutex_;
  int next_ = 1;
  std::map<int, Handler> handlers_;
};

}  // namespace todo::events

// In-process event bus.
#include "todo/events/bus.hpp"

namespace todo::events {

int Bus::subscribe(Handler handler) {
  std::lock_guard lock(mutex_);
  const int handle = next_++;
  handlers_.emplace(handle, std::move(handler));
  return handle;
}

void Bus::unsubscribe(int handle) {
  std::lock_guard lock(mutex_);
  handlers_.erase(handle);
}

void Bus::publish(const std::vector<Event>& events) {
  std::vector<Handler> handlers;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [_, h] : handlers_)
      handlers.push_back(h);
  }
  // Called without the lock so that a handler may (un)subscribe.
  for (const auto& e : events)
    for (const auto& h : handlers)
      h(e);
}

}  // namespace todo::events

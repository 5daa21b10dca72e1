// Counter: a lock-free value that only goes up (requests served, bytes sent).
#pragma once

#include <atomic>

namespace todo::metrics {

// A monotonically increasing count; it resets only when the process restarts.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds v. A negative or NaN increment is ignored: a counter must never go down.
  void inc(double v = 1) {
    if (!(v >= 0)) return;
    value_.fetch_add(v, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

}  // namespace todo::metrics

// Timer: RAII probe that observes the seconds between its construction and destruction.
#pragma once

#include <chrono>

#include "todo/metrics/histogram.hpp"

namespace todo::metrics {

// Times a scope on the steady clock and records the elapsed seconds into a histogram when it ends.
class Timer {
 public:
  explicit Timer(Histogram& h) : histogram_(h), start_(std::chrono::steady_clock::now()) {}
  ~Timer() { histogram_.observe(elapsed()); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Seconds since construction.
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  Histogram& histogram_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace todo::metrics

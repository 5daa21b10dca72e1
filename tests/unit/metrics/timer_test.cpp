// Timer: observes elapsed seconds into a histogram when its scope ends.
#include "todo/metrics/timer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace todo::metrics {
namespace {

TEST(Timer, ObservesElapsedSecondsOnDestruction) {
  Histogram h({0.001, 1000});
  double seen = 0;
  {
    Timer t(h);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    seen = t.elapsed();
    EXPECT_EQ(h.snapshot().count, 0u);
  }
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, 1u);
  EXPECT_GE(seen, 0.02);  // sleep_for waits at least as long as asked
  EXPECT_GE(s.sum, seen);
  EXPECT_EQ(s.cumulative_counts[0], 0u);  // more than a millisecond
}

TEST(Timer, ElapsedNeverGoesBack) {
  Histogram h({1});
  Timer t(h);
  const double first = t.elapsed();
  EXPECT_GE(first, 0);
  EXPECT_GE(t.elapsed(), first);
}

}  // namespace
}  // namespace todo::metrics

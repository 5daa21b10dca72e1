// Tests of the log throttle: one report a period for a failure that repeats with every request.
#include "todo/core/log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace todo::log {
namespace {

using namespace std::chrono_literals;

TEST(Throttle, TheFirstIsReportedThenOneAPeriodWithTheCount) {
  Throttle t(200ms);
  EXPECT_EQ(t.tick(), 1u);
  for (int i = 0; i < 999; ++i)
    EXPECT_EQ(t.tick(), 0u);
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(t.tick(), 1000u) << "the 999 kept quiet and this one";
  EXPECT_EQ(t.tick(), 0u);
}

// Whatever the timing, the counts reported add up to every tick, each counted once.
TEST(Throttle, CountsEveryTickOnceAcrossThreads) {
  Throttle t(50ms);
  std::atomic<std::uint64_t> reported{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 20000; ++k)
        reported += t.tick();
    });
  for (auto& th : threads)
    th.join();
  std::this_thread::sleep_for(60ms);
  reported += t.tick();
  EXPECT_EQ(reported.load(), 80001u);
  Throttle every(0ns);
  EXPECT_EQ(every.tick(), 1u);
  EXPECT_EQ(every.tick(), 1u) << "a period of zero reports each one";
}

}  // namespace
}  // namespace todo::log

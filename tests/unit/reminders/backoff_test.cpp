// E-mail retry backoff: the first delay after the first attempt, doubled after each further one, capped.
#include <gtest/gtest.h>

#include "todo/reminders/scheduler.hpp"

namespace todo::reminders {
namespace {

using namespace std::chrono_literals;

TEST(RetryBackoff, DoublesAfterEachAttempt) {
  EXPECT_EQ(retry_backoff(1, 2s, 10min), 2s);
  EXPECT_EQ(retry_backoff(2, 2s, 10min), 4s);
  EXPECT_EQ(retry_backoff(3, 2s, 10min), 8s);
  EXPECT_EQ(retry_backoff(4, 2s, 10min), 16s);
  EXPECT_EQ(retry_backoff(8, 2s, 10min), 256s);
  EXPECT_EQ(retry_backoff(3, 150ms, 10min), 600ms);
}

TEST(RetryBackoff, NeverMoreThanTheCap) {
  EXPECT_EQ(retry_backoff(9, 2s, 10min), 512s);
  EXPECT_EQ(retry_backoff(10, 2s, 10min), 10min);  // 1024 s is above it
  EXPECT_EQ(retry_backoff(9, 2s, 500s), 500s);
  EXPECT_EQ(retry_backoff(11, 2s, 10min), 10min);
  EXPECT_EQ(retry_backoff(1'000'000, 2s, 10min), 10min);  // no overflow however many attempts
  EXPECT_EQ(retry_backoff(1, 20min, 10min), 10min);       // a first delay above the cap is capped
}

TEST(RetryBackoff, EdgeCases) {
  EXPECT_EQ(retry_backoff(0, 2s, 10min), 2s);  // no attempt counted yet: the first delay
  EXPECT_EQ(retry_backoff(-3, 2s, 10min), 2s);
  EXPECT_EQ(retry_backoff(5, 0ms, 10min), 0ms);
  EXPECT_EQ(retry_backoff(5, 2s, 0ms), 0ms);
}

}  // namespace
}  // namespace todo::reminders

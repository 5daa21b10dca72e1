// Counter and Gauge values.
#include <gtest/gtest.h>

#include <cmath>

#include "todo/metrics/counter.hpp"
#include "todo/metrics/gauge.hpp"

namespace todo::metrics {
namespace {

TEST(Counter, StartsAtZeroAndAdds) {
  Counter c;
  EXPECT_EQ(c.value(), 0);
  c.inc();
  c.inc(2.5);
  EXPECT_EQ(c.value(), 3.5);
}

TEST(Counter, IgnoresNegativeAndNaNIncrements) {
  Counter c;
  c.inc(4);
  c.inc(-1);
  c.inc(NAN);
  EXPECT_EQ(c.value(), 4);
}

TEST(Gauge, SetIncDec) {
  Gauge g;
  EXPECT_EQ(g.value(), 0);
  g.set(10);
  g.inc();
  g.inc(2);
  g.dec();
  g.dec(0.5);
  EXPECT_EQ(g.value(), 11.5);
  g.set(-3);
  EXPECT_EQ(g.value(), -3);
}

}  // namespace
}  // namespace todo::metrics

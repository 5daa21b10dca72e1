// Histogram buckets, bounds validation, sum and count.
#include "todo/metrics/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace todo::metrics {
namespace {

using Counts = std::vector<std::uint64_t>;

TEST(Histogram, ObservationEqualToABoundCountsInThatBucket) {
  Histogram h({1, 2, 5});
  h.observe(1);
  h.observe(2);
  h.observe(5);
  EXPECT_EQ(h.snapshot().cumulative_counts, (Counts{1, 2, 3, 3}));
}

TEST(Histogram, CumulativeBucketsSumAndCount) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 3.0, 20.0, -1.0})
    h.observe(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative_counts, (Counts{3, 4, 5, 6}));  // -1, .05, .1 | .5 | 3 | 20
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 22.65);
}

TEST(Histogram, JustAboveABoundGoesToTheNextBucket) {
  Histogram h({1, 2});
  h.observe(std::nextafter(1.0, 2.0));
  EXPECT_EQ(h.snapshot().cumulative_counts, (Counts{0, 1, 1}));
}

TEST(Histogram, NaNAndInfinityCountOnlyInInf) {
  Histogram h({1});
  h.observe(NAN);
  h.observe(INFINITY);
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative_counts, (Counts{0, 2}));
  EXPECT_TRUE(std::isnan(s.sum));
}

TEST(Histogram, NoBoundsMeansOnlyInf) {
  Histogram h({});
  h.observe(42);
  EXPECT_EQ(h.snapshot().cumulative_counts, (Counts{1}));
}

TEST(Histogram, TrailingInfBoundIsDropped) {
  Histogram h({1, INFINITY});
  EXPECT_EQ(h.bounds(), (std::vector<double>{1}));
}

TEST(Histogram, RejectsBadBounds) {
  EXPECT_THROW(Histogram({2, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({NAN}), std::invalid_argument);
  EXPECT_THROW(Histogram({-INFINITY, 1}), std::invalid_argument);
  EXPECT_THROW(Histogram({INFINITY, INFINITY}), std::invalid_argument);
}

}  // namespace
}  // namespace todo::metrics

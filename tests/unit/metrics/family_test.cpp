// Family children: creation on first use, stable references, label arity.
#include <gtest/gtest.h>

#include <stdexcept>

#include "todo/metrics/registry.hpp"

namespace todo::metrics {
namespace {

TEST(Family, SameLabelsGiveTheSameChild) {
  Registry r;
  auto& f = r.counter("requests_total", "Requests.", {"method", "code"});
  Counter& a = f.with({"GET", "200"});
  Counter& b = f.with({"POST", "200"});
  EXPECT_NE(&a, &b);
  for (int i = 0; i < 100; ++i)
    f.with({"m" + std::to_string(i), "x"});  // grow the map
  EXPECT_EQ(&a, &f.with({"GET", "200"}));
  a.inc();
  EXPECT_EQ(f.with({"GET", "200"}).value(), 1);
  EXPECT_EQ(b.value(), 0);
}

TEST(Family, WrongNumberOfLabelValuesThrows) {
  Registry r;
  auto& f = r.gauge("depth", "Depth.", {"queue"});
  EXPECT_THROW(f.with({}), std::invalid_argument);
  EXPECT_THROW(f.with({"a", "b"}), std::invalid_argument);
  auto& plain = r.gauge("level", "Level.");
  EXPECT_NO_THROW(plain.with());
  EXPECT_THROW(plain.with({"a"}), std::invalid_argument);
}

TEST(Family, HistogramChildrenUseTheFamilyBuckets) {
  Registry r;
  auto& f = r.histogram("size_bytes", "Size.", {"kind"}, {10, 100});
  EXPECT_EQ(f.with({"a"}).bounds(), (std::vector<double>{10, 100}));
  EXPECT_EQ(f.buckets(), (std::vector<double>{10, 100}));
}

}  // namespace
}  // namespace todo::metrics

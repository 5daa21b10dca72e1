// Histogram: lock-free bucketed observations (latencies, sizes) with their sum and count.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace todo::metrics {

// Counts observations into buckets by upper bound (inclusive), plus an implicit +Inf bucket.
class Histogram {
 public:
  // A consistent-enough reading for exposition: count always equals the +Inf bucket.
  struct Snapshot {
    std::vector<std::uint64_t> cumulative_counts;  // one per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };

  // Throws std::invalid_argument unless bounds are finite and strictly increasing; a trailing +Inf is
  // dropped.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts v in the first bucket whose bound is >= v (NaN goes to +Inf only) and adds it to the sum.
  void observe(double v);
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

  // The bounds a Histogram would use for `bounds`, or std::invalid_argument if they are not valid.
  static std::vector<double> checked_bounds(std::vector<double> bounds);

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0};
};

}  // namespace todo::metrics

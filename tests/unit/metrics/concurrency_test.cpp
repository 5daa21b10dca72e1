// Concurrent updates give exact totals; children and scrapes are safe alongside writers.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "todo/metrics/registry.hpp"

namespace todo::metrics {
namespace {

constexpr int kThreads = 8;
constexpr int kPerThread = 50'000;

void run_threads(const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(body, t);
  for (auto& thread : threads)
    thread.join();
}

TEST(Concurrency, CounterTotalIsExact) {
  Registry r;
  Counter& c = r.counter("hits_total", "Hits.").with();
  run_threads([&](int) {
    for (int i = 0; i < kPerThread; ++i)
      c.inc();
  });
  EXPECT_EQ(c.value(), double{kThreads} * kPerThread);
}

TEST(Concurrency, GaugeIncAndDecBalance) {
  Gauge g;
  run_threads([&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      if (t % 2 == 0) {
        g.inc(2);
      } else {
        g.dec(2);
      }
    }
  });
  EXPECT_EQ(g.value(), 0);
}

TEST(Concurrency, HistogramCountsAreExact) {
  Histogram h({1, 2});
  run_threads([&](int t) {
    for (int i = 0; i < kPerThread; ++i)
      h.observe(t % 3);  // 0, 1 or 2: integers keep the sum exact
  });
  const auto s = h.snapshot();
  EXPECT_EQ(s.count, std::uint64_t{kThreads} * kPerThread);
  // Threads 0,3,6 observe 0; 1,4,7 observe 1; 2,5 observe 2.
  EXPECT_EQ(s.cumulative_counts,
            (std::vector<std::uint64_t>{6u * kPerThread, 8u * kPerThread, 8u * kPerThread}));
  EXPECT_EQ(s.sum, double{kPerThread} * (3 * 1 + 2 * 2));
}

TEST(Concurrency, ChildrenCreatedFromManyThreadsAreShared) {
  Registry r;
  auto& f = r.counter("jobs_total", "Jobs.", {"queue"});
  run_threads([&](int) {
    for (int i = 0; i < kPerThread; ++i)
      f.with({"q" + std::to_string(i % 16)}).inc();
  });
  double total = 0;
  for (int q = 0; q < 16; ++q)
    total += f.with({"q" + std::to_string(q)}).value();
  EXPECT_EQ(total, double{kThreads} * kPerThread);
}

TEST(Concurrency, ScrapeWhileWritingAndRegistering) {
  Registry r;
  auto& h = r.histogram("op_seconds", "Ops.", {"op"});
  std::atomic<bool> done{false};
  std::thread scraper([&] {
    while (!done.load()) {
      const std::string text = r.serialize();
      ASSERT_NE(text.find("# TYPE op_seconds histogram"), std::string::npos);
    }
  });
  run_threads([&](int t) {
    r.gauge("g" + std::to_string(t), "Per-thread gauge.").with().set(t);
    for (int i = 0; i < kPerThread / 10; ++i)
      h.with({std::to_string(i % 4)}).observe(0.01 * t);
  });
  done = true;
  scraper.join();
  std::uint64_t count = 0;
  for (int op = 0; op < 4; ++op)
    count += h.with({std::to_string(op)}).snapshot().count;
  EXPECT_EQ(count, std::uint64_t{kThreads} * (kPerThread / 10));
}

}  // namespace
}  // namespace todo::metrics

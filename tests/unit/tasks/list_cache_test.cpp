// tasks::ListCache: a page is served only at the version it was read at, and the budget holds.
#include "todo/tasks/list_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace todo::tasks {
namespace {

ListCache::Body body(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

TEST(ListCache, ServesAPageOnlyAtItsVersion) {
  ListCache cache(1 << 20);
  cache.store("u1|q", 7, body("page at 7"));
  ASSERT_NE(cache.find("u1|q", 7), nullptr);
  EXPECT_EQ(*cache.find("u1|q", 7), "page at 7");
  EXPECT_EQ(cache.find("u1|other", 7), nullptr);
  EXPECT_EQ(cache.find("u2|q", 7), nullptr);
  // The list changed: the old page is not served, and is dropped.
  EXPECT_EQ(cache.find("u1|q", 8), nullptr);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.find("u1|q", 7), nullptr);
}

TEST(ListCache, AnOlderReadNeitherDropsNorReplacesANewerPage) {
  ListCache cache(1 << 20);
  cache.store("k", 9, body("page at 9"));
  // A request that read version 8 just before the change that made 9 arrives late.
  EXPECT_EQ(cache.find("k", 8), nullptr);
  cache.store("k", 8, body("page at 8"));
  ASSERT_NE(cache.find("k", 9), nullptr);
  EXPECT_EQ(*cache.find("k", 9), "page at 9");
  // A newer one replaces it.
  cache.store("k", 10, body("page at 10"));
  EXPECT_EQ(cache.find("k", 9), nullptr);
  EXPECT_EQ(*cache.find("k", 10), "page at 10");
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ListCache, KeepsWithinItsBudgetDroppingTheLeastRecentlyUsed) {
  const std::string page(1000, 'x');
  ListCache cache(10'000);
  for (int i = 0; i < 30; ++i) {
    cache.store("k" + std::to_string(i), 1, body(page));
    // k0 is used all along, so it stays.
    ASSERT_NE(cache.find("k0", 1), nullptr) << "after storing k" << i;
    EXPECT_LE(cache.bytes(), 10'000u);
  }
  EXPECT_GE(cache.size(), 5u);
  EXPECT_LT(cache.size(), 10u);
  EXPECT_EQ(cache.find("k1", 1), nullptr);                 // least recently used: gone
  EXPECT_NE(cache.find("k29", 1), nullptr);                // the latest: kept
  cache.store("huge", 1, body(std::string(20'000, 'y')));  // larger than the budget: not kept
  EXPECT_EQ(cache.find("huge", 1), nullptr);
  EXPECT_NE(cache.find("k29", 1), nullptr);
}

TEST(ListCache, ZeroBytesKeepsNothing) {
  ListCache cache(0);
  EXPECT_FALSE(cache.enabled());
  cache.store("k", 1, body("page"));
  EXPECT_EQ(cache.find("k", 1), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(ListCache, ThreadsStoreAndFindTogether) {
  ListCache cache(50'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 20'000; ++i) {
        const auto key = "k" + std::to_string((i * 7 + t) % 97);
        const std::int64_t version = i / 1000;
        if (auto b = cache.find(key, version))
          EXPECT_EQ(*b, key + "@" + std::to_string(version));
        else
          cache.store(key, version, body(key + "@" + std::to_string(version)));
      }
    });
  for (auto& th : threads)
    th.join();
  EXPECT_LE(cache.bytes(), 50'000u);
}

}  // namespace
}  // namespace todo::tasks

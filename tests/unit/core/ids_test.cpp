// Tests of UUID generation and validation.
#include "todo/core/ids.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace todo {
namespace {

int hex_digit(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

TEST(Uuid, NewIsCanonicalLowerCaseVersion4) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_uuid();
    SCOPED_TRACE(id);
    ASSERT_EQ(id.size(), 36u);
    ASSERT_TRUE(is_uuid(id));
    ASSERT_EQ(normalize_uuid(id), id);  // already lower-case
    for (const char c : id)
      ASSERT_TRUE(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    EXPECT_EQ(id[14], '4');                             // version
    EXPECT_EQ(hex_digit(id[19]) & 0xc, 0x8) << id[19];  // variant 10xx
  }
}

TEST(Uuid, NewIsUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i)
    EXPECT_TRUE(seen.insert(new_uuid()).second);
}

TEST(Uuid, NewIsUniqueAcrossThreadsAndBufferRefills) {
  // Random bytes are buffered per thread, 256 ids a refill: threads must never hand out the same bytes, and a
  // refill must not repeat the buffer before it.
  constexpr int kThreads = 4;
  constexpr int kEach = 3000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i)
        made[static_cast<std::size_t>(t)].push_back(new_uuid());
    });
  for (auto& t : threads)
    t.join();
  std::set<std::string> seen;
  for (const auto& ids : made)
    for (const auto& id : ids) {
      EXPECT_TRUE(is_uuid(id)) << id;
      EXPECT_TRUE(seen.insert(id).second) << id;
    }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kEach));
}

TEST(Uuid, NewUsesAllRandomBits) {
  // Every random nibble position takes more than one value across many draws.
  std::set<char> values[36];
  for (int i = 0; i < 200; ++i) {
    const std::string id = new_uuid();
    for (std::size_t p = 0; p < id.size(); ++p)
      values[p].insert(id[p]);
  }
  for (std::size_t p = 0; p < 36; ++p) {
    SCOPED_TRACE(p);
    if (p == 8 || p == 13 || p == 18 || p == 23 || p == 14) {
      EXPECT_EQ(values[p].size(), 1u);
    } else if (p == 19) {
      EXPECT_EQ(values[p], (std::set<char>{'8', '9', 'a', 'b'}));
    } else {
      EXPECT_GT(values[p].size(), 4u);
    }
  }
}

TEST(Uuid, OrderedIsVersion7WithTheTimeInMilliseconds) {
  const auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  for (int i = 0; i < 1000; ++i) {
    const auto before = now_ms();
    const std::string id = new_ordered_uuid();
    const auto after = now_ms();
    ASSERT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id, normalize_uuid(id));
    EXPECT_EQ(id[14], '7') << id;
    const int variant = hex_digit(id[19]);
    EXPECT_GE(variant, 8) << id;
    EXPECT_LE(variant, 11) << id;
    const long long ms = std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
    EXPECT_GE(ms, before) << id;
    EXPECT_LE(ms, after) << id;
  }
}

TEST(Uuid, OrderedSortByTimeAndAreUniqueWithinAMillisecond) {
  // Many ids a millisecond: the time prefix never goes back, and the 74 random bits keep them apart.
  std::vector<std::string> made;
  for (int i = 0; i < 20000; ++i)
    made.push_back(new_ordered_uuid());
  for (std::size_t i = 1; i < made.size(); ++i)
    ASSERT_LE(made[i - 1].substr(0, 13), made[i].substr(0, 13)) << i;
  EXPECT_EQ(std::set<std::string>(made.begin(), made.end()).size(), made.size());
  EXPECT_LT(made.front().substr(0, 13), made.back().substr(0, 13)) << "20 000 ids in under a millisecond?";
  // The random part varies in every nibble (version and variant bits aside).
  std::set<char> values[36];
  for (const auto& id : made)
    for (std::size_t p = 15; p < id.size(); ++p)
      values[p].insert(id[p]);
  for (std::size_t p = 15; p < 36; ++p) {
    if (p == 18 || p == 23) continue;
    EXPECT_GT(values[p].size(), p == 19 ? 3u : 15u) << "position " << p;
  }
}

TEST(Uuid, AcceptsCanonicalForms) {
  for (const char* s : {"123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000",
                        "ffffffff-ffff-ffff-ffff-ffffffffffff", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
                        "123E4567-e89B-42d3-A456-426614174000", "01890a5d-ac96-774b-bcce-b302099a8057"}) {
    SCOPED_TRACE(s);
    EXPECT_TRUE(is_uuid(s));
  }
}

TEST(Uuid, RejectsOtherForms) {
  const std::string_view cases[] = {
      "",
      "123e4567-e89b-12d3-a456-42661417400",    // short
      "123e4567-e89b-12d3-a456-4266141740000",  // long
      "123e4567e89b12d3a456426614174000",       // no hyphens
      "{123e4567-e89b-12d3-a456-426614174000}",
      "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
      " 123e4567-e89b-12d3-a456-426614174000",
      "123e4567-e89b-12d3-a456-426614174000 ",
      "123e4567-e89b-12d3-a456-42661417400g",
      "123e4567-e89b-12d3-a456_426614174000",
      "123e456-7e89b-12d3-a456-426614174000",
      "123e4567-e89b-12d3-a4564-26614174000",
      "123e4567+e89b-12d3-a456-426614174000",
      "123e4567-e89b-12d3-a456-42661417400\xc3",
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c);
    EXPECT_FALSE(is_uuid(c));
  }
  EXPECT_FALSE(is_uuid(std::string_view("123e4567-e89b-12d3-a456-42661417400\0", 36)));
}

TEST(Uuid, NormalizesToLowerCase) {
  EXPECT_EQ(normalize_uuid("123E4567-E89B-12D3-A456-426614174ABC"), "123e4567-e89b-12d3-a456-426614174abc");
  EXPECT_EQ(normalize_uuid("123e4567-e89b-12d3-a456-426614174abc"), "123e4567-e89b-12d3-a456-426614174abc");
}

}  // namespace
}  // namespace todo

// json::append_string and ObjectWriter give the same text as nlohmann::json::dump(-1, ' ', false, replace).
#include "todo/core/json_writer.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <random>

namespace todo::json {
namespace {

std::string reference(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string written(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

TEST(JsonWriter, StringsMatchNlohmann) {
  const std::vector<std::string> cases = {
      "",
      "Buy milk",
      "quote \" backslash \\ slash /",
      std::string("nul \0 inside", 12),
      "\b\f\n\r\t \x01\x1f\x7f",
      "é ☕ 😀 中文",
      "\xC3",                           // truncated two-byte sequence at the end
      "a\xC3(b",                        // lead byte, then a byte that is no continuation
      "\xE2\x82",                       // truncated three-byte sequence
      "x\xE2\x82y",                     // three-byte sequence cut short
      "\xC0\xAF",                       // overlong '/'
      "\xE0\x80\xAF",                   // overlong, three bytes
      "\xED\xA0\x80",                   // UTF-16 surrogate
      "\xF4\x90\x80\x80",               // above U+10FFFF
      "\xF0\x9F\x98",                   // truncated emoji
      "\x80\x80 lone continuations",    // continuation bytes without a lead
      "\xFF\xFE not UTF-8 at all",      // never valid
      "ok \xF0\x9F\x98\x80 then \xE2",  // valid emoji, then a truncated sequence
  };
  for (std::size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(written(cases[i]), reference(cases[i])) << "case " << i;
}

TEST(JsonWriter, RandomBytesMatchNlohmann) {
  std::mt19937 rng(20261204);
  std::uniform_int_distribution<int> len(0, 24), byte(0, 255), pick(0, 3);
  const std::string alphabet = "a\"\\\n\x01\x7f\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x80\xBF\xED\xF4";
  for (int round = 0; round < 20'000; ++round) {
    std::string s;
    const int n = len(rng);
    for (int i = 0; i < n; ++i)
      s += pick(rng) == 0 ? static_cast<char>(byte(rng))
                          : alphabet[static_cast<std::size_t>(byte(rng)) % alphabet.size()];
    ASSERT_EQ(written(s), reference(s)) << "round " << round;
  }
}

// Plain text is scanned 8 bytes at a time: every byte value, at every offset of a word and beyond the last
// whole word, is found and escaped as nlohmann does.
TEST(JsonWriter, EveryByteAtEveryOffsetMatchesNlohmann) {
  for (std::size_t length : {1, 7, 8, 9, 16, 23}) {
    for (std::size_t at = 0; at < length; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string s(length, 'k');
        s[at] = static_cast<char>(b);
        ASSERT_EQ(written(s), reference(s)) << "length " << length << ", byte " << b << " at " << at;
      }
    }
  }
}

TEST(JsonWriter, ObjectsMatchNlohmann) {
  std::string out;
  {
    ObjectWriter o(out);
    o.boolean("a", true)
        .integer("b", -42)
        .integer("c", std::optional<std::int64_t>{})
        .string("d", std::optional<std::string>{})
        .string("e", std::optional<std::string>{"x\ty"})
        .strings("f", {"one", "t\"wo"})
        .strings("g", {});
    o.raw("h") += "[1,2]";
    o.integer("i", std::numeric_limits<std::int64_t>::min());
    o.instant("j", Instant{} + std::chrono::microseconds(1'500'000)).instant("k", std::nullopt);
  }
  const nlohmann::json expected = {{"a", true},
                                   {"b", -42},
                                   {"c", nullptr},
                                   {"d", nullptr},
                                   {"e", "x\ty"},
                                   {"f", {"one", "t\"wo"}},
                                   {"g", nlohmann::json::array()},
                                   {"h", {1, 2}},
                                   {"i", std::numeric_limits<std::int64_t>::min()},
                                   {"j", "1970-01-01T00:00:01.5Z"},
                                   {"k", nullptr}};
  EXPECT_EQ(out, reference(expected));
  std::string empty;
  { ObjectWriter o(empty); }
  EXPECT_EQ(empty, "{}");
}

TEST(JsonWriter, WrappedValuesMatchNlohmann) {
  std::string out;
  {
    ObjectWriter o(out, "[null,", "]");
    o.boolean("a", false).integer("b", 7).null("c").string("d", "x").strings("e", {"t"});
    o.instant("f", std::nullopt).instant("g", Instant{});
    o.raw("h") += "3";  // not wrapped
  }
  const nlohmann::json expected = {{"a", {nullptr, false}},
                                   {"b", {nullptr, 7}},
                                   {"c", {nullptr, nullptr}},
                                   {"d", {nullptr, "x"}},
                                   {"e", {nullptr, {"t"}}},
                                   {"f", {nullptr, nullptr}},
                                   {"g", {nullptr, "1970-01-01T00:00:00Z"}},
                                   {"h", 3}};
  EXPECT_EQ(out, reference(expected));
  std::string deleted;
  { ObjectWriter(deleted, "[", ",null]").integer("a", 1).string("b", std::optional<std::string>{}); }
  EXPECT_EQ(deleted, R"({"a":[1,null],"b":[null,null]})");
}

}  // namespace
}  // namespace todo::json

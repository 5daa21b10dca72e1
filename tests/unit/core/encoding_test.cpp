// Tests of base64url, percent-decoding and query-string parsing.
#include "todo/core/encoding.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <random>
#include <string>

#include "todo/core/error.hpp"

namespace todo {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(Base64url, EncodesRfc4648Vectors) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  // The two characters that differ from standard base64.
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_encode(std::string("\x00\x00\x00", 3)), "AAAA");
  EXPECT_EQ(base64url_encode("\xff\xff\xff"), "____");
}

TEST(Base64url, DecodesRfc4648Vectors) {
  EXPECT_EQ(base64url_decode(""), std::string(""));
  EXPECT_EQ(base64url_decode("Zg"), std::string("f"));
  EXPECT_EQ(base64url_decode("Zm8"), std::string("fo"));
  EXPECT_EQ(base64url_decode("Zm9v"), std::string("foo"));
  EXPECT_EQ(base64url_decode("Zm9vYg"), std::string("foob"));
  EXPECT_EQ(base64url_decode("Zm9vYmE"), std::string("fooba"));
  EXPECT_EQ(base64url_decode("Zm9vYmFy"), std::string("foobar"));
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
}

TEST(Base64url, RoundTripsRandomBytesAndAgreesWithLibsodium) {
  ASSERT_GE(sodium_init(), 0);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t len = 0; len < 300; ++len) {
    for (int rep = 0; rep < 5; ++rep) {
      std::string bytes(len, '\0');
      for (char& c : bytes)
        c = static_cast<char>(byte(rng));
      const std::string text = base64url_encode(bytes);
      std::string expected(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
      sodium_bin2base64(expected.data(), expected.size(),
                        reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING);
      expected.resize(expected.find('\0'));
      ASSERT_EQ(text, expected);
      ASSERT_EQ(text.find('='), std::string::npos);
      const auto back = base64url_decode(text);
      ASSERT_TRUE(back.has_value());
      ASSERT_EQ(*back, bytes);
    }
  }
}

TEST(Base64url, RejectsInvalidInput) {
  const std::string_view cases[] = {
      "Z",  // 4n+1 characters cannot be produced
      "Zm9vY",
      "Zg==",  // padding is not accepted
      "Zm8=",
      "Zg=",
      "Zm9v+g",  // standard base64 alphabet
      "Zm9v/g",
      "Zm 9v",
      "Zm9v\n",
      "Zm9v.",
      "Zm9v%3D",
      "Zh",   // non-zero unused bits: only "Zg" encodes "f"
      "Zm9",  // only "Zm8" encodes "fo"
      "\xc3\xa9\xc3\xa9",
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c);
    EXPECT_FALSE(base64url_decode(c).has_value());
  }
  EXPECT_FALSE(base64url_decode(std::string_view("Zm9v\0AAA", 8)).has_value());
}

TEST(Cursor, OpensWhatItSealed) {
  for (const std::string& payload :
       {std::string(""), std::string("{\"at\":\"2026-03-05 09:00:00+00\",\"id\":7}"), std::string(300, 'x'),
        std::string("\xff\xfe|\x01")}) {
    const std::string cursor = seal_cursor(payload);
    EXPECT_TRUE(base64url_decode(cursor)) << "a cursor is base64url without padding";
    EXPECT_EQ(open_cursor(cursor), payload);
  }
}

TEST(Cursor, AnyOneCharacterChangedCutOrAddedIsRefused) {
  // The changes a cursor meets on its way (a client's bug, a mangled URL): each is refused, wherever it
  // falls, not read as another position.
  const std::string payload =
      R"({"f":"cbf29ce484222325","i":"01a24d6d-1304-719b-b6e3-ecbc5c7e5940","s":"created_at,",)"
      R"("v":["2026-12-06 22:15:23.652549+00"]})";
  const std::string good = seal_cursor(payload);
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (const char c : kAlphabet) {
      if (c == good[at]) continue;
      std::string changed = good;
      changed[at] = c;
      EXPECT_FALSE(open_cursor(changed)) << "character " << at << " changed to " << c;
    }
    EXPECT_FALSE(open_cursor(good.substr(0, at))) << "cut to " << at;
  }
  for (const char* tail : {"A", "AA", "AAAA", "e30"})
    EXPECT_FALSE(open_cursor(good + tail)) << tail;
  // A payload without its check, as a client might write one by hand, and one with a NUL inside.
  EXPECT_FALSE(open_cursor(base64url_encode(payload)));
  EXPECT_FALSE(open_cursor(seal_cursor(std::string("{}\0{\"x\":1}", 10))));
}

TEST(UrlDecode, DecodesEscapes) {
  EXPECT_EQ(url_decode(""), "");
  EXPECT_EQ(url_decode("plain"), "plain");
  EXPECT_EQ(url_decode("x%20y"), "x y");
  EXPECT_EQ(url_decode("a+b"), "a b");
  EXPECT_EQ(url_decode("a+b", /*plus_is_space=*/false), "a+b");
  EXPECT_EQ(url_decode("%2B"), "+");
  EXPECT_EQ(url_decode("%2b%2F%3d%26"), "+/=&");
  EXPECT_EQ(url_decode("%25"), "%");
  EXPECT_EQ(url_decode("%2525"), "%25");  // decodes once
  EXPECT_EQ(url_decode("caf%C3%A9"), "caf\xc3\xa9");
  EXPECT_EQ(url_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(url_decode("%ff"), "\xff");
  EXPECT_EQ(url_decode("%41%42%43"), "ABC");
}

TEST(UrlDecode, RejectsBadEscapes) {
  for (const char* s : {"%", "%2", "%g0", "%0g", "abc%", "abc%4", "%%20", "% 20", "%+20", "%-1", "100%"}) {
    SCOPED_TRACE(s);
    try {
      url_decode(s);
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::bad_request);
    }
  }
}

TEST(QueryString, SplitsInOrder) {
  EXPECT_EQ(parse_query_string("a=1&b=x%20y&a=2"), (Pairs{{"a", "1"}, {"b", "x y"}, {"a", "2"}}));
  EXPECT_EQ(parse_query_string(""), Pairs{});
  EXPECT_EQ(parse_query_string("&&&"), Pairs{});
  EXPECT_EQ(parse_query_string("flag"), (Pairs{{"flag", ""}}));
  EXPECT_EQ(parse_query_string("flag&x=1"), (Pairs{{"flag", ""}, {"x", "1"}}));
  EXPECT_EQ(parse_query_string("x="), (Pairs{{"x", ""}}));
  EXPECT_EQ(parse_query_string("=v"), (Pairs{{"", "v"}}));
  EXPECT_EQ(parse_query_string("="), (Pairs{{"", ""}}));
  EXPECT_EQ(parse_query_string("&a=1&&b=2&"), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(parse_query_string("q=a=b"), (Pairs{{"q", "a=b"}}));  // split at the first '='
  EXPECT_EQ(parse_query_string("q=a%3Db%26c"), (Pairs{{"q", "a=b&c"}}));
  EXPECT_EQ(parse_query_string("q=hello+world"), (Pairs{{"q", "hello world"}}));
  EXPECT_EQ(parse_query_string("my%20key=v"), (Pairs{{"my key", "v"}}));
  EXPECT_EQ(parse_query_string("due_before=2026-03-05T09%3A00%3A00%2B01%3A00"),
            (Pairs{{"due_before", "2026-03-05T09:00:00+01:00"}}));
  EXPECT_EQ(parse_query_string("a;b=1"), (Pairs{{"a;b", "1"}}));  // only '&' separates
}

TEST(QueryString, RejectsBadEscapesNamingTheParameter) {
  // The query, and the parameter the error names: decoded when the name is fine, as written when it is not.
  const std::pair<const char*, const char*> cases[] = {
      {"a=%", "a"},       {"a=1&b=%zz", "b"},   {"%g=1", "%g"},     {"a=100%", "a"},
      {"flag%", "flag%"}, {"my%20k=%", "my k"}, {"x=1&%zz", "%zz"},
  };
  for (const auto& [s, field] : cases) {
    SCOPED_TRACE(s);
    try {
      parse_query_string(s);
      ADD_FAILURE() << "no exception";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::bad_request);
      ASSERT_EQ(e.errors().size(), 1u);
      EXPECT_EQ(e.errors()[0].field, field);
    }
  }
}

}  // namespace
}  // namespace todo

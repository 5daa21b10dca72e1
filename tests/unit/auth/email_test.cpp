// Tests of e-mail normalisation: the stored form of an address and the older spellings it may be stored
// under.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../error_of.hpp"
#include "todo/auth/users.hpp"

namespace todo::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// NFC and lower-cased by Unicode's simple case mapping, by the server: not by the database's lower(), whose
// result depends on its ctype (a 'C' database kept "ÉCOLE@" and "école@" apart).
TEST(NormalEmail, IsTrimmedNfcAndUnicodeLowerCased) {
  EXPECT_EQ(normal_email("\u00a0\u00c9LODIE1@Example.COM\u3000"), "\u00e9lodie1@example.com");
  EXPECT_EQ(normal_email("E\u0301cole@example.com"), "\u00e9cole@example.com") << "NFD capital";
  EXPECT_EQ(normal_email("x@bu\u0308cher.de"), normal_email("x@b\u00fccher.de"));
  EXPECT_EQ(normal_email("\u03a3\u039f\u03a6\u0399\u0391@example.gr"),
            "\u03c3\u03bf\u03c6\u03b9\u03b1@example.gr");
  EXPECT_EQ(normal_email("\u041f\u0420\u0418\u0412\u0415\u0422@example.ru"),
            "\u043f\u0440\u0438\u0432\u0435\u0442@example.ru");
  EXPECT_EQ(normal_email("Plain.Ascii@Example.com"), "plain.ascii@example.com");
}

// What registrations before stored: the address as typed with only ASCII lower-cased (NFD kept), and
// before that with only ASCII white space trimmed.
TEST(OlderEmailSpellings, AreTheFormsStoredBefore) {
  EXPECT_THAT(older_email_spellings("plain@example.com"), IsEmpty()) << "nothing older than the normal form";
  EXPECT_THAT(older_email_spellings("\u00c9LODIE@Example.COM"),
              ElementsAre("\u00c9lodie@example.com", "E\u0301lodie@example.com"));
  EXPECT_THAT(older_email_spellings("x@bu\u0308cher.de"), ElementsAre("x@bu\u0308cher.de"));
  EXPECT_THAT(older_email_spellings("x@b\u00fccher.de"), ElementsAre("x@bu\u0308cher.de"));
  EXPECT_THAT(older_email_spellings(" \u00a0a@example.com"), ElementsAre("\u00a0a@example.com"));
}

// An address past RFC 5321's 254 bytes is refused as too long, not as "not an e-mail address"; one of 254
// bytes is fine.
TEST(Registration, AnAddressTooLongSaysSo) {
  auto registration = [](const std::string& email) {
    return parse_registration({{"email", email}, {"password", "correct horse"}});
  };
  const std::string domain = "@example.com";  // 12 bytes
  const auto e = test::error_of([&] { registration(std::string(250, 'a') + domain); });
  ASSERT_TRUE(e) << "accepted";
  ASSERT_EQ(test::fields_of(*e), std::vector<std::string>{"email"});
  EXPECT_THAT(e->errors()[0].message, ::testing::HasSubstr("at most 254 bytes")) << e->errors()[0].message;
  EXPECT_THAT(e->errors()[0].message, ::testing::HasSubstr("262")) << e->errors()[0].message;
  // Bytes, counted after normalisation: 121 two-byte letters and the domain are 254 bytes, one more is 256.
  EXPECT_EQ(registration(std::string(242, 'a') + domain).email.size(), 254u);
  EXPECT_FALSE(test::error_of([&] {
    std::string local;
    for (int i = 0; i < 121; ++i)
      local += "\u00e9";
    registration(local + domain);
  }));
  const auto two_byte = test::error_of([&] {
    std::string local;
    for (int i = 0; i < 122; ++i)
      local += "\u00c9";  // lower-cased to é, still two bytes
    registration(local + domain);
  });
  ASSERT_TRUE(two_byte);
  EXPECT_THAT(two_byte->errors()[0].message, ::testing::HasSubstr("at most 254 bytes"));
}

}  // namespace
}  // namespace todo::auth

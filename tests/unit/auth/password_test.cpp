// Unit tests for argon2id password hashing and verification.
#include "todo/auth/password.hpp"

#include <gtest/gtest.h>

#include <string>

namespace todo::auth {
namespace {

const PasswordCost kFast = PasswordCost::minimal();

TEST(Password, RoundTrip) {
  const std::string hash = hash_password("correct horse battery staple", kFast);
  EXPECT_TRUE(verify_password(hash, "correct horse battery staple"));
}

TEST(Password, WrongPasswordIsFalse) {
  const std::string hash = hash_password("correct horse battery staple", kFast);
  EXPECT_FALSE(verify_password(hash, "correct horse battery stapler"));
  EXPECT_FALSE(verify_password(hash, ""));
}

TEST(Password, EmptyAndBinaryPasswordsRoundTrip) {
  EXPECT_TRUE(verify_password(hash_password("", kFast), ""));
  const std::string binary("a\0b\xff", 4);
  const std::string hash = hash_password(binary, kFast);
  EXPECT_TRUE(verify_password(hash, binary));
  EXPECT_FALSE(verify_password(hash, "a"));
}

TEST(Password, HashIsArgon2idWithTheGivenCost) {
  const std::string hash = hash_password("pw", kFast);
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << hash;
}

TEST(Password, TwoHashesOfOnePasswordDiffer) {
  const std::string a = hash_password("same", kFast);
  const std::string b = hash_password("same", kFast);
  EXPECT_NE(a, b);
  EXPECT_TRUE(verify_password(a, "same"));
  EXPECT_TRUE(verify_password(b, "same"));
}

TEST(Password, MalformedHashIsFalse) {
  const std::string good = hash_password("pw", kFast);
  EXPECT_FALSE(verify_password("", "pw"));
  EXPECT_FALSE(verify_password("not a hash", "pw"));
  EXPECT_FALSE(verify_password("$argon2id$", "pw"));
  EXPECT_FALSE(verify_password("$argon2id$v=19$m=8,t=1,p=1$", "pw"));
  EXPECT_FALSE(verify_password(good.substr(0, good.size() - 5), "pw"));
  EXPECT_FALSE(verify_password(good + "AAAA", "pw"));
  EXPECT_FALSE(verify_password(good + std::string(200, 'A'), "pw"));
  EXPECT_FALSE(verify_password(std::string(good).insert(10, 1, '\0'), "pw"));
  // argon2i is a valid libsodium string, but not one of ours.
  std::string argon2i = good;
  argon2i.replace(0, 10, "$argon2i$");
  EXPECT_FALSE(verify_password(argon2i, "pw"));
}

TEST(Password, CostOutsideLimitsThrows) {
  EXPECT_THROW(hash_password("pw", PasswordCost{0, kFast.memlimit}), std::invalid_argument);
  EXPECT_THROW(hash_password("pw", PasswordCost{kFast.opslimit, 1024}), std::invalid_argument);
}

// The one test at the real cost (~0.1 s, 64 MiB).
TEST(Password, InteractiveCostRoundTrip) {
  const std::string hash = hash_password("s3cret");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << hash;
  EXPECT_TRUE(verify_password(hash, "s3cret"));
  EXPECT_FALSE(verify_password(hash, "s3creT"));
}

TEST(Password, DummyHashIsFixedValidAndInteractive) {
  const std::string& dummy = dummy_password_hash();
  EXPECT_EQ(&dummy, &dummy_password_hash());
  EXPECT_TRUE(dummy.starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << dummy;
  EXPECT_FALSE(verify_password(dummy, ""));
  EXPECT_FALSE(verify_password(dummy, "password"));
}

}  // namespace
}  // namespace todo::auth

// Unit tests for HS256 JWT issue/verify, including hand-made tokens that are validly signed with the wrong
// alg.
#include "todo/auth/jwt.hpp"

#include <gtest/gtest.h>
#include <jwt.h>
#include <sodium.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace todo::auth {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
const Clock::time_point kNow = Clock::time_point(1'700'000'000s);

std::string b64url(std::string_view in) {
  std::string out(sodium_base64_ENCODED_LEN(in.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(in.data()), in.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha256_state st;
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

std::string hmac_sha512(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha512_state st;
  std::string mac(crypto_auth_hmacsha512_BYTES, '\0');
  crypto_auth_hmacsha512_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha512_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_auth_hmacsha512_final(&st, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

enum class Sig { none, hs256, hs512 };

// A token assembled by hand: base64url(header).base64url(payload).signature-for-`sig`-with-kSecret.
std::string make_token(std::string_view header, std::string_view payload, Sig sig,
                       std::string_view key = kSecret) {
  const std::string input = b64url(header) + "." + b64url(payload);
  switch (sig) {
    case Sig::none:
      return input + ".";
    case Sig::hs256:
      return input + "." + b64url(hmac_sha256(key, input));
    case Sig::hs512:
      return input + "." + b64url(hmac_sha512(key, input));
  }
  return {};
}

std::string claims_json(std::int64_t iat, std::int64_t exp, std::string_view sub = "user-1") {
  return R"({"sub":")" + std::string(sub) + R"(","iat":)" + std::to_string(iat) + R"(,"exp":)" +
         std::to_string(exp) + "}";
}

const std::string kValidPayload = claims_json(1'700'000'000, 1'700'003'600);

// libjwt itself, as an independent signer (libsodium has no SHA-384).
std::string libjwt_sign(jwt_alg_t alg, std::string_view key) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  EXPECT_EQ(
      jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size())),
      0);
  jwt_add_grant(jwt, "sub", "user-1");
  jwt_add_grant_int(jwt, "iat", 1'700'000'000);
  jwt_add_grant_int(jwt, "exp", 1'700'003'600);
  char* s = jwt_encode_str(jwt);
  std::string token = s ? s : "";
  std::free(s);
  jwt_free(jwt);
  return token;
}

// True if libjwt, given kSecret, accepts the token's signature under the token's own alg.
bool libjwt_accepts(const std::string& token, jwt_alg_t expected_alg) {
  jwt_t* jwt = nullptr;
  const int rc = jwt_decode(&jwt, token.c_str(), reinterpret_cast<const unsigned char*>(kSecret.data()),
                            static_cast<int>(kSecret.size()));
  const bool ok = rc == 0 && jwt != nullptr && jwt_get_alg(jwt) == expected_alg;
  jwt_free(jwt);
  return ok;
}

TEST(Jwt, IssueVerifyRoundTripWithExactClaims) {
  const JwtSigner signer(kSecret);
  const std::string token = signer.issue("user-1", kNow + 500ms);
  const auto claims = signer.verify(token, kNow);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(*claims, (Claims{"user-1", 1'700'000'000, 1'700'003'600}));
  EXPECT_TRUE(signer.verify(token, kNow + 3599s).has_value());
  EXPECT_EQ(signer.ttl(), std::chrono::hours(1));
}

TEST(Jwt, HeaderIsHs256) {
  const std::string token = JwtSigner(kSecret).issue("u", kNow);
  const std::string header = token.substr(0, token.find('.'));
  std::string decoded(header.size(), '\0');
  std::size_t len = 0;
  ASSERT_EQ(
      sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(), header.data(),
                        header.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
      0);
  decoded.resize(len);
  EXPECT_NE(decoded.find(R"("alg":"HS256")"), std::string::npos) << decoded;
}

TEST(Jwt, CustomTtl) {
  const JwtSigner signer(kSecret, 5min);
  EXPECT_EQ(signer.ttl(), 5min);
  const auto claims = signer.verify(signer.issue("u", kNow), kNow);
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->exp - claims->iat, 300);
}

TEST(Jwt, ExpiredIsRefused) {
  const JwtSigner signer(kSecret);
  const std::string token = signer.issue("user-1", kNow);
  EXPECT_TRUE(signer.verify(token, kNow + 1h - 1ms).has_value());
  EXPECT_FALSE(signer.verify(token, kNow + 1h).has_value());
  EXPECT_FALSE(signer.verify(token, kNow + 48h).has_value());
}

TEST(Jwt, IatFarInTheFutureIsRefused) {
  const JwtSigner signer(kSecret);
  EXPECT_TRUE(signer.verify(signer.issue("u", kNow + 60s), kNow).has_value());
  EXPECT_FALSE(signer.verify(signer.issue("u", kNow + 61s), kNow).has_value());
  EXPECT_FALSE(signer.verify(signer.issue("u", kNow + 24h), kNow).has_value());
}

TEST(Jwt, WrongKeyIsRefused) {
  const JwtSigner signer(kSecret);
  const JwtSigner other("another-secret-of-at-least-32-bytes!!");
  EXPECT_FALSE(other.verify(signer.issue("user-1", kNow), kNow).has_value());
  EXPECT_FALSE(signer
                   .verify(make_token(R"({"alg":"HS256","typ":"JWT"})", kValidPayload, Sig::hs256,
                                      "another-secret-of-at-least-32-bytes!!"),
                           kNow)
                   .has_value());
}

TEST(Jwt, HandMadeHs256IsAccepted) {
  // Proves the hand-made tokens below are right apart from what each test changes.
  const JwtSigner signer(kSecret);
  const auto claims =
      signer.verify(make_token(R"({"alg":"HS256","typ":"JWT"})", kValidPayload, Sig::hs256), kNow);
  ASSERT_TRUE(claims);
  EXPECT_EQ(*claims, (Claims{"user-1", 1'700'000'000, 1'700'003'600}));
  EXPECT_TRUE(signer.verify(make_token(R"({"alg":"HS256"})", kValidPayload, Sig::hs256), kNow));
}

// RFC 7515 4.1.11: critical header extensions this verifier does not know make the token invalid.
TEST(Jwt, CriticalHeaderExtensionsAreRefused) {
  const JwtSigner signer(kSecret);
  EXPECT_FALSE(
      signer.verify(make_token(R"({"alg":"HS256","crit":["exp"]})", kValidPayload, Sig::hs256), kNow));
  EXPECT_FALSE(signer.verify(make_token(R"({"alg":"HS256","crit":[]})", kValidPayload, Sig::hs256), kNow));
}

// RFC 7519 4.1.5: a token is not accepted before its "nbf", to the second (the 60 s of skew allowed for
// "iat" made one valid a minute sooner than it said).
TEST(Jwt, NotBeforeIsHonoured) {
  const JwtSigner signer(kSecret);
  const auto with_nbf = [](const std::string& nbf) {
    return R"({"sub":"user-1","iat":1700000000,"exp":1700003600,"nbf":)" + nbf + "}";
  };
  const std::string later = make_token(R"({"alg":"HS256"})", with_nbf("1700001000"), Sig::hs256);
  EXPECT_FALSE(signer.verify(later, kNow));
  EXPECT_FALSE(signer.verify(later, kNow)) << "also once it was cached";
  EXPECT_TRUE(signer.verify(later, kNow + 1000s));
  EXPECT_TRUE(signer.verify(make_token(R"({"alg":"HS256"})", with_nbf("1699990000"), Sig::hs256), kNow));
  EXPECT_FALSE(signer.verify(make_token(R"({"alg":"HS256"})", with_nbf("\"soon\""), Sig::hs256), kNow));
  for (const char* soon : {"1700000001", "1700000030", "1700000060"}) {
    const std::string t = make_token(R"({"alg":"HS256"})", with_nbf(soon), Sig::hs256);
    EXPECT_FALSE(signer.verify(t, kNow)) << soon;
    EXPECT_FALSE(signer.verify(t, kNow + 999ms)) << soon;
  }
  const std::string next_second = make_token(R"({"alg":"HS256"})", with_nbf("1700000001"), Sig::hs256);
  EXPECT_TRUE(signer.verify(next_second, kNow + 1s));
  EXPECT_TRUE(signer.verify(make_token(R"({"alg":"HS256"})", with_nbf("1700000000"), Sig::hs256), kNow));
  // "iat" keeps its 60 s of skew.
  EXPECT_TRUE(signer.verify(
      make_token(R"({"alg":"HS256"})", R"({"sub":"user-1","iat":1700000030,"exp":1700003600})", Sig::hs256),
      kNow));
}

// RFC 7519 2: a NumericDate may have a fraction (or an exponent). "exp" is rounded down to whole seconds,
// "iat" and "nbf" up: never valid longer, or sooner, than the token says.
TEST(Jwt, FractionalNumericDatesAreRead) {
  const JwtSigner signer(kSecret);
  const auto token = [](const std::string& iat, const std::string& exp, const std::string& nbf) {
    return make_token(R"({"alg":"HS256"})",
                      R"({"sub":"user-1","iat":)" + iat + R"(,"exp":)" + exp + R"(,"nbf":)" + nbf + "}",
                      Sig::hs256);
  };
  const auto ok = signer.verify(token("1700000000.25", "1700003600.5", "1699999999.9"), kNow);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->exp, 1700003600);
  EXPECT_EQ(ok->nbf, 1700000000);
  EXPECT_TRUE(signer.verify(token("1.7e9", "1.7000036e9", "1.7e9"), kNow));
  // Expiring half a second into this second: counted as expired from its start, never valid past its exp.
  EXPECT_FALSE(signer.verify(token("1699990000", "1700000000.5", "0"), kNow));
  EXPECT_TRUE(signer.verify(token("1699990000", "1700000001.5", "0"), kNow));
  // Not before half a second from now.
  EXPECT_FALSE(signer.verify(token("1700000000", "1700003600", "1700000400.5"), kNow));
}

TEST(Jwt, AlgNoneIsRefused) {
  const JwtSigner signer(kSecret);
  EXPECT_FALSE(signer.verify(make_token(R"({"alg":"none","typ":"JWT"})", kValidPayload, Sig::none), kNow));
  EXPECT_FALSE(signer.verify(make_token(R"({"alg":"none"})", kValidPayload, Sig::none), kNow));
  EXPECT_FALSE(signer.verify(make_token(R"({"alg":"None"})", kValidPayload, Sig::none), kNow));
  // Signed with the right key, but the header says none.
  EXPECT_FALSE(signer.verify(make_token(R"({"alg":"none","typ":"JWT"})", kValidPayload, Sig::hs256), kNow));
  EXPECT_FALSE(signer.verify(make_token(R"({"typ":"JWT"})", kValidPayload, Sig::hs256), kNow));
}

TEST(Jwt, Hs384IsRefusedEvenWithAValidSignature) {
  const std::string token = libjwt_sign(JWT_ALG_HS384, kSecret);
  ASSERT_TRUE(libjwt_accepts(token, JWT_ALG_HS384));
  EXPECT_FALSE(JwtSigner(kSecret).verify(token, kNow));
}

TEST(Jwt, Hs512IsRefusedEvenWithAValidSignature) {
  const std::string by_hand = make_token(R"({"alg":"HS512","typ":"JWT"})", kValidPayload, Sig::hs512);
  ASSERT_TRUE(libjwt_accepts(by_hand, JWT_ALG_HS512));
  EXPECT_FALSE(JwtSigner(kSecret).verify(by_hand, kNow));
  EXPECT_FALSE(JwtSigner(kSecret).verify(libjwt_sign(JWT_ALG_HS512, kSecret), kNow));
}

TEST(Jwt, OtherAlgsWithAnHs256SignatureAreRefused) {
  // The signature is a valid HMAC-SHA256 with our key; only the header's alg is wrong.
  const JwtSigner signer(kSecret);
  for (const char* header :
       {R"({"alg":"RS256","typ":"JWT"})", R"({"alg":"HS384","typ":"JWT"})", R"({"alg":"HS512","typ":"JWT"})",
        R"({"alg":"ES256","typ":"JWT"})", R"({"alg":"hs256","typ":"JWT"})", R"({"alg":"HS256 ","typ":"JWT"})",
        R"({"alg":"","typ":"JWT"})", R"({"alg":256,"typ":"JWT"})"}) {
    EXPECT_FALSE(signer.verify(make_token(header, kValidPayload, Sig::hs256), kNow)) << header;
  }
}

TEST(Jwt, MissingOrMistypedClaimsAreRefused) {
  const JwtSigner signer(kSecret);
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  for (const char* payload : {
           R"({"iat":1700000000,"exp":1700003600})",                        // no sub
           R"({"sub":"u","exp":1700003600})",                               // no iat
           R"({"sub":"u","iat":1700000000})",                               // no exp
           R"({"sub":"","iat":1700000000,"exp":1700003600})",               // empty sub
           R"({"sub":42,"iat":1700000000,"exp":1700003600})",               // sub not a string
           R"({"sub":"u","iat":1700000000,"exp":"1700003600"})",            // exp a string
           R"({"sub":"u","iat":1700000000,"exp":1e400})",                   // exp out of range
           R"({"sub":"u","iat":1700000000,"exp":true})",                    // exp not a number
           R"({"sub":"u","iat":"1700000000","exp":1700003600})",            // iat a string
           R"({"sub":"u","iat":null,"exp":1700003600})",                    // iat null
           R"([1,2,3])", R"("just a string")", R"({})", "not json at all",  // not claims
       }) {
    EXPECT_FALSE(signer.verify(make_token(header, payload, Sig::hs256), kNow)) << payload;
  }
}

TEST(Jwt, TamperedTokensAreRefused) {
  const JwtSigner signer(kSecret);
  const std::string token = signer.issue("user-1", kNow);
  ASSERT_TRUE(signer.verify(token, kNow));
  const auto dot1 = token.find('.');
  const auto dot2 = token.rfind('.');
  const std::string header = token.substr(0, dot1);
  const std::string signature = token.substr(dot2 + 1);

  // Another subject and a longer expiry, with the original signature.
  const std::string forged =
      header + "." + b64url(claims_json(1'700'000'000, 1'900'000'000, "admin")) + "." + signature;
  EXPECT_FALSE(signer.verify(forged, kNow));

  // One character of the payload or the signature changed.
  for (std::size_t i : {dot1 + 1, dot1 + 5, dot2 - 1, dot2 + 1, dot2 + 10}) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(signer.verify(t, kNow)) << i;
  }
  // The last signature character carries 2 unused bits: a non-canonical encoding of the same MAC is refused
  // too.
  std::string noncanonical = token;
  noncanonical.back() = static_cast<char>(noncanonical.back() ^ 1);
  EXPECT_FALSE(signer.verify(noncanonical, kNow));

  EXPECT_FALSE(signer.verify(token + "A", kNow));
  EXPECT_FALSE(signer.verify(token + "=", kNow));
  EXPECT_FALSE(signer.verify(token + ".", kNow));
  EXPECT_FALSE(signer.verify(token.substr(0, token.size() - 1), kNow));
  EXPECT_FALSE(signer.verify(token.substr(0, dot2 + 1), kNow));
  EXPECT_FALSE(signer.verify(token.substr(0, dot2), kNow));
  EXPECT_FALSE(signer.verify(" " + token, kNow));
}

TEST(Jwt, GarbageIsRefused) {
  const JwtSigner signer(kSecret);
  const std::vector<std::string> garbage = {
      "",
      ".",
      "..",
      "...",
      "a",
      "a.b",
      "a.b.c",
      "a..c",
      ".b.c",
      "a.b.",
      "not a token",
      "Bearer x.y.z",
      std::string(10000, 'A'),
      std::string(100, '.'),
      std::string("ab\0cd.ef.gh", 11),
      "\xff\xfe.\x01.\x02",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.",
      "eyJhbGciOiJIUzI1NiJ9.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "%%%.%%%.%%%"};
  for (const auto& g : garbage)
    EXPECT_FALSE(signer.verify(g, kNow)) << g;
}

TEST(Jwt, ShortSecretThrows) {
  EXPECT_THROW(JwtSigner(""), std::invalid_argument);
  EXPECT_THROW(JwtSigner(std::string(31, 'x')), std::invalid_argument);
  EXPECT_NO_THROW(JwtSigner(std::string(32, 'x')));
  EXPECT_THROW(JwtSigner(kSecret, 0s), std::invalid_argument);
  EXPECT_THROW(JwtSigner(kSecret, -1s), std::invalid_argument);
}

TEST(Jwt, EmptySubjectThrows) {
  EXPECT_THROW(JwtSigner(kSecret).issue("", kNow), std::invalid_argument);
}

TEST(Jwt, GeneratedSecretsAreRandomBase64urlAndUsable) {
  const std::string a = generate_secret();
  const std::string b = generate_secret();
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  const JwtSigner signer(a);
  EXPECT_TRUE(signer.verify(signer.issue("u")));
  EXPECT_FALSE(JwtSigner(b).verify(signer.issue("u")));
}

TEST(Jwt, CachedTokensStillExpireAndTamperedOnesAreNotServedFromTheCache) {
  const JwtSigner signer(kSecret);
  const std::string token = signer.issue("user-1", kNow);
  ASSERT_TRUE(signer.verify(token, kNow).has_value());
  EXPECT_EQ(signer.cached(), 1u);
  // From the cache: the same claims, and the lifetime checked against each call's clock.
  EXPECT_EQ(signer.verify(token, kNow + 10s), (Claims{"user-1", 1'700'000'000, 1'700'003'600}));
  EXPECT_FALSE(signer.verify(token, kNow + 1h).has_value()) << "expired, though cached";
  EXPECT_FALSE(signer.verify(token, kNow - 61s).has_value()) << "issued too far ahead of this clock";
  EXPECT_TRUE(signer.verify(token, kNow + 1s).has_value());
  // One character changed in the signature or the payload: a different token, verified in full and refused.
  std::string bad_signature = token;
  bad_signature.back() = bad_signature.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signer.verify(bad_signature, kNow).has_value());
  std::string bad_payload = token;
  bad_payload[token.find('.') + 3] ^= 1;
  EXPECT_FALSE(signer.verify(bad_payload, kNow).has_value());
  // Another signer (another secret) has its own cache: a token cached by one is not trusted by the other.
  const JwtSigner other("another-secret-of-at-least-32-bytes!!");
  EXPECT_FALSE(other.verify(token, kNow).has_value());
  EXPECT_EQ(signer.cached(), 1u);
}

TEST(Jwt, CacheIsBounded) {
  const JwtSigner signer(kSecret);
  for (int i = 0; i < 3 * static_cast<int>(JwtSigner::kMaxCached); ++i) {
    const auto subject = "user-" + std::to_string(i);
    ASSERT_EQ(signer.verify(signer.issue(subject, kNow), kNow)->sub, subject);
  }
  EXPECT_LE(signer.cached(), JwtSigner::kMaxCached);
  EXPECT_GT(signer.cached(), 0u);
}

}  // namespace
}  // namespace todo::auth

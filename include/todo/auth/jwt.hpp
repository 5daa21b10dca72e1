// Access tokens: HS256 JSON Web Tokens (libjwt) with the algorithm pinned, an expiry and a subject.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace todo::auth {

/// The claims of a verified token: the user it was issued to and its lifetime, in Unix seconds.
struct Claims {
  std::string sub;
  std::int64_t iat;
  std::int64_t exp;
  std::int64_t nbf = 0;  // "not before", when the token has one (RFC 7519 4.1.5)

  friend bool operator==(const Claims&, const Claims&) = default;
};

/// Issues and verifies HS256 tokens with one shared secret; thread-safe. Tokens that verified are remembered
/// (a bounded cache keyed by the token's text), so a client's next request skips decoding and the HMAC; the
/// time checks (exp, iat skew) are made on every call.
class JwtSigner {
 public:
  /// The secret's bytes are the HMAC key as given (not decoded). Throws std::invalid_argument if the secret
  /// is shorter than 32 bytes or ttl is not positive.
  explicit JwtSigner(std::string secret, std::chrono::seconds ttl = std::chrono::hours(1));
  ~JwtSigner();
  JwtSigner(JwtSigner&&) noexcept;

  /// A token for `subject` with iat = now (whole seconds) and exp = iat + ttl.
  /// Throws std::invalid_argument for an empty subject, std::runtime_error if libjwt fails.
  std::string issue(std::string_view subject,
                    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) const;

  /// The claims if `token` is an HS256 token signed with this secret, with a string `sub`, integer `iat` and
  /// `exp`, exp > now and iat at most 60 s ahead of now; nullopt otherwise (never throws for bad input).
  std::optional<Claims> verify(std::string_view token, std::chrono::system_clock::time_point now =
                                                           std::chrono::system_clock::now()) const;

  std::chrono::seconds ttl() const { return ttl_; }

  /// Tokens in the cache now (at most kMaxCached).
  std::size_t cached() const;
  static constexpr std::size_t kMaxCached = 8192;

 private:
  struct Cache;
  std::string secret_;
  std::chrono::seconds ttl_;
  std::unique_ptr<Cache> cache_;
};

/// 32 random bytes from libsodium, base64url without padding (43 characters): a secret for the embedded
/// default.
std::string generate_secret();

}  // namespace todo::auth

// HS256 tokens: libjwt encodes and decodes; libsodium re-checks the signature in constant time.
#include "todo/auth/jwt.hpp"

#include <jwt.h>
#include <sodium.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>

namespace todo::auth {
namespace {

constexpr std::size_t kMinSecretBytes = 32;
// Our tokens are ~200 bytes; anything far larger is not ours and is refused before any parsing.
constexpr std::size_t kMaxTokenBytes = 4096;
constexpr std::int64_t kMaxIatSkewSeconds = 60;

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

// libjwt 1.10 returns malloc'ed strings (it has no jwt_free_str).
struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, FreeDeleter>;

bool is_base64url(std::string_view s) {
  for (const char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return !s.empty();
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

// HMAC-SHA256 over "header.payload" with the whole secret as key, compared in constant time. This pins the
// algorithm independently of the header; libjwt 1.10 does not promise a constant-time comparison.
bool hs256_signature_matches(std::string_view secret, std::string_view signing_input,
                             std::string_view sig_b64) {
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> sig{};
  std::size_t sig_len = 0;
  // libsodium's decoder is strict: no padding, no stray characters, no non-zero trailing bits.
  if (sodium_base642bin(sig.data(), sig.size(), sig_b64.data(), sig_b64.size(), nullptr, &sig_len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      sig_len != sig.size()) {
    return false;
  }
  crypto_auth_hmacsha256_state state;
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> expected{};
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(signing_input.data()),
                                signing_input.size());
  crypto_auth_hmacsha256_final(&state, expected.data());
  sodium_memzero(&state, sizeof state);
  return sodium_memcmp(expected.data(), sig.data(), sig.size()) == 0;
}

// A NumericDate claim (RFC 7519 2: seconds since the epoch, "non-integer values can be represented") as whole
// seconds: rounded down for "exp", up for "iat" and "nbf", so that a token is never taken as valid for
// longer, or sooner, than it says. nullopt if missing or not a JSON number within ±10^15 s.
enum class Round { down, up };

std::optional<std::int64_t> numeric_date_grant(jwt_t* jwt, const char* name, Round round) {
  const CString json(jwt_get_grants_json(jwt, name));
  if (!json) return std::nullopt;
  const std::string_view text(json.get());
  std::int64_t value = 0;
  if (const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      ec == std::errc() && end == text.data() + text.size())
    return value;
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !(std::fabs(seconds) < 1e15))
    return std::nullopt;
  return static_cast<std::int64_t>(round == Round::down ? std::floor(seconds) : std::ceil(seconds));
}

}  // namespace

// Verified tokens → their claims, in shards so that io threads rarely meet on a lock. A full shard is
// emptied: the cache is an optimisation, and what it forgets is verified again.
struct JwtSigner::Cache {
  static constexpr std::size_t kShards = 8;
  // Looked up by the request's string_view, without copying the token.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Claims, Hash, std::equal_to<>> tokens;
  };
  std::array<Shard, kShards> shards;

  Shard& shard(std::string_view token) { return shards[std::hash<std::string_view>{}(token) % kShards]; }
  std::optional<Claims> find(std::string_view token) {
    auto& s = shard(token);
    std::lock_guard lock(s.mutex);
    const auto it = s.tokens.find(token);
    if (it == s.tokens.end()) return std::nullopt;
    return it->second;
  }
  void add(std::string_view token, const Claims& claims) {
    auto& s = shard(token);
    std::lock_guard lock(s.mutex);
    if (s.tokens.size() >= kMaxCached / kShards) s.tokens.clear();
    s.tokens.emplace(std::string(token), claims);
  }
  std::size_t size() {
    std::size_t n = 0;
    for (auto& s : shards) {
      std::lock_guard lock(s.mutex);
      n += s.tokens.size();
    }
    return n;
  }
};

JwtSigner::JwtSigner(std::string secret, std::chrono::seconds ttl)
    : secret_(std::move(secret)), ttl_(ttl), cache_(std::make_unique<Cache>()) {
  if (secret_.size() < kMinSecretBytes) throw std::invalid_argument("JWT secret must be at least 32 bytes");
  if (ttl_ <= std::chrono::seconds::zero()) throw std::invalid_argument("JWT ttl must be positive");
  if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
}

std::string JwtSigner::issue(std::string_view subject, std::chrono::system_clock::time_point now) const {
  if (subject.empty()) throw std::invalid_argument("JWT subject must not be empty");
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  const JwtPtr jwt(raw);
  const std::string sub(subject);
  const std::int64_t iat = unix_seconds(now);
  const std::int64_t exp = iat + ttl_.count();
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                  static_cast<int>(secret_.size())) != 0 ||
      jwt_add_grant(jwt.get(), "sub", sub.c_str()) != 0 || jwt_add_grant_int(jwt.get(), "iat", iat) != 0 ||
      jwt_add_grant_int(jwt.get(), "exp", exp) != 0) {
    throw std::runtime_error("building the JWT failed");
  }
  const CString token(jwt_encode_str(jwt.get()));
  if (!token) throw std::runtime_error("jwt_encode_str failed");
  return std::string(token.get());
}

JwtSigner::~JwtSigner() = default;
JwtSigner::JwtSigner(JwtSigner&&) noexcept = default;

std::size_t JwtSigner::cached() const {
  return cache_->size();
}

std::optional<Claims> JwtSigner::verify(std::string_view token,
                                        std::chrono::system_clock::time_point now) const {
  if (token.size() > kMaxTokenBytes) return std::nullopt;
  const std::int64_t now_s = unix_seconds(now);
  const auto fresh = [&](const Claims& c) {
    // "iat" may be a little ahead (the issuer's clock); "nbf" is the issuer's explicit word on when the token
    // starts, so it is honoured to the second (this server's own tokens have none).
    return c.exp > now_s && c.iat <= now_s + kMaxIatSkewSeconds && c.nbf <= now_s;
  };
  // A token found here was verified before, signature and all; only its lifetime is checked again.
  if (auto known = cache_->find(token)) {
    if (!fresh(*known)) return std::nullopt;
    return known;
  }

  // Exactly three non-empty base64url segments, so libjwt's lenient base64 decoding never sees anything odd.
  const auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return std::nullopt;
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  const auto header = token.substr(0, dot1);
  const auto payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const auto signature = token.substr(dot2 + 1);
  if (!is_base64url(header) || !is_base64url(payload) || !is_base64url(signature)) return std::nullopt;

  if (!hs256_signature_matches(secret_, token.substr(0, dot2), signature)) return std::nullopt;

  // Always pass the key: with a null key libjwt 1.10 decodes any token, signed or not, as alg none.
  jwt_t* raw = nullptr;
  const std::string terminated(token);
  const int rc = jwt_decode(&raw, terminated.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                            static_cast<int>(secret_.size()));
  const JwtPtr jwt(raw);
  if (rc != 0 || !jwt) return std::nullopt;
  // Pin the algorithm: libjwt accepts whatever the header names (and matches names case-insensitively).
  const char* alg = jwt_get_header(jwt.get(), "alg");
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256 || alg == nullptr || std::string_view(alg) != "HS256") {
    return std::nullopt;
  }

  // RFC 7515 4.1.11: a token naming critical extensions must be refused by a verifier that knows none.
  if (const CString crit(jwt_get_headers_json(jwt.get(), "crit")); crit) return std::nullopt;

  const char* sub = jwt_get_grant(jwt.get(), "sub");
  const auto iat = numeric_date_grant(jwt.get(), "iat", Round::up);
  const auto exp = numeric_date_grant(jwt.get(), "exp", Round::down);
  if (sub == nullptr || *sub == '\0' || !iat || !exp) return std::nullopt;
  Claims claims{sub, *iat, *exp};
  // "not before": honoured when present, and then it must be a number.
  if (const CString nbf_json(jwt_get_grants_json(jwt.get(), "nbf")); nbf_json) {
    const auto nbf = numeric_date_grant(jwt.get(), "nbf", Round::up);
    if (!nbf) return std::nullopt;
    claims.nbf = *nbf;
  }
  // Cached whether or not it is within its lifetime now: the signature and the claims' form are what it
  // saves.
  cache_->add(token, claims);
  if (!fresh(claims)) return std::nullopt;
  return claims;
}

std::string generate_secret() {
  if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)> out{};
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(bytes.data(), bytes.size());
  return std::string(out.data());
}

}  // namespace todo::auth

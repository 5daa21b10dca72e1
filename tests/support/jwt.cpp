// Hand-made JSON Web Tokens for tests: libsodium's HMAC-SHA256/512 and base64url.
#include "support/jwt.hpp"

#include <sodium.h>

#include <chrono>
#include <stdexcept>
#include <vector>

namespace todo::test {
namespace {

void init_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
}

std::string hmac(std::string_view alg, std::string_view key, std::string_view message) {
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  const auto* m = reinterpret_cast<const unsigned char*>(message.data());
  if (alg == "HS256") {
    unsigned char out[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, k, key.size());
    crypto_auth_hmacsha256_update(&st, m, message.size());
    crypto_auth_hmacsha256_final(&st, out);
    return std::string(reinterpret_cast<char*>(out), sizeof out);
  }
  if (alg == "HS512") {
    unsigned char out[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state st;
    crypto_auth_hmacsha512_init(&st, k, key.size());
    crypto_auth_hmacsha512_update(&st, m, message.size());
    crypto_auth_hmacsha512_final(&st, out);
    return std::string(reinterpret_cast<char*>(out), sizeof out);
  }
  return {};
}

}  // namespace

std::string base64url(std::string_view bytes) {
  init_sodium();
  const std::size_t len = sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::vector<char> out(len);
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(out.data());
}

std::string make_jwt(const nlohmann::json& header, const nlohmann::json& payload, std::string_view secret) {
  init_sodium();
  const std::string signing_input = base64url(header.dump()) + "." + base64url(payload.dump());
  const std::string alg = header.value("alg", "");
  return signing_input + "." + base64url(hmac(alg, secret, signing_input));
}

std::string make_user_token(const std::string& user_id, std::string_view secret, long iat_offset,
                            long exp_offset) {
  const long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return make_jwt({{"alg", "HS256"}, {"typ", "JWT"}},
                  {{"sub", user_id}, {"iat", now + iat_offset}, {"exp", now + exp_offset}}, secret);
}

std::string random_hex(std::size_t bytes) {
  init_sodium();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  std::string out(bytes * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), buf.data(), buf.size());
  out.resize(bytes * 2);
  return out;
}

}  // namespace todo::test

// Hand-made JSON Web Tokens for tests of token verification (expired, wrong key, alg "none", ...).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace todo::test {

/// base64url without padding.
std::string base64url(std::string_view bytes);

/// A JWT with `header` and `payload`, signed with HMAC-SHA256 over `secret` when header.alg is "HS256",
/// HMAC-SHA512 for "HS512", and with an empty signature otherwise (e.g. "none").
std::string make_jwt(const nlohmann::json& header, const nlohmann::json& payload, std::string_view secret);

/// An HS256 token for `user_id` with iat = now + iat_offset and exp = now + exp_offset (seconds).
std::string make_user_token(const std::string& user_id, std::string_view secret, long iat_offset = 0,
                            long exp_offset = 3600);

/// Random lower-case hex of `bytes` random bytes.
std::string random_hex(std::size_t bytes = 6);

}  // namespace todo::test

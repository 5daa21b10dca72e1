// argon2id password hashing and verification with libsodium's crypto_pwhash_str_* functions.
#include "todo/auth/password.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace todo::auth {
namespace {

// sodium_init is thread-safe and idempotent; the static runs it once per process.
bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// libsodium wants a non-null pointer even for an empty password.
const char* data_or_empty(std::string_view s) {
  return s.empty() ? "" : s.data();
}

}  // namespace

PasswordCost PasswordCost::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordCost PasswordCost::minimal() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

std::string hash_password(std::string_view password, PasswordCost cost) {
  if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
  if (cost.opslimit < crypto_pwhash_OPSLIMIT_MIN || cost.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
      cost.memlimit < crypto_pwhash_MEMLIMIT_MIN || cost.memlimit > crypto_pwhash_MEMLIMIT_MAX) {
    throw std::invalid_argument("password hash cost outside libsodium's limits");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), data_or_empty(password), password.size(), cost.opslimit,
                            cost.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing failed (out of memory)");
  }
  return std::string(out.data());
}

bool verify_password(std::string_view hash, std::string_view password) {
  if (!sodium_ready()) return false;
  // Only our own argon2id strings: libsodium would also take argon2i, and it reads the hash as a C string.
  if (hash.size() >= crypto_pwhash_STRBYTES || hash.find('\0') != std::string_view::npos ||
      !hash.starts_with(crypto_pwhash_argon2id_STRPREFIX)) {
    return false;
  }
  const std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), data_or_empty(password), password.size()) == 0;
}

const std::string& dummy_password_hash() {
  // A random password nobody knows, hashed at the cost real accounts use, so verifying against it costs the
  // same.
  static const std::string hash = [] {
    if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
    std::array<unsigned char, 32> password{};
    randombytes_buf(password.data(), password.size());
    return hash_password(std::string_view(reinterpret_cast<const char*>(password.data()), password.size()));
  }();
  return hash;
}

}  // namespace todo::auth

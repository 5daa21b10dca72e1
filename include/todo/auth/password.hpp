// Password hashing for accounts: argon2id PHC strings via libsodium, and a dummy hash for unknown e-mails.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace todo::auth {

/// How expensive one argon2id hash is: passes over memory and bytes of memory.
struct PasswordCost {
  unsigned long long opslimit;
  std::size_t memlimit;

  /// libsodium's interactive preset (2 passes, 64 MiB): the cost for real accounts.
  static PasswordCost interactive();
  /// The cheapest cost libsodium accepts (1 pass, 8 KiB). For tests only: far too weak for real passwords.
  static PasswordCost minimal();
};

// Hashing and verifying are deliberately slow (interactive cost: ~0.1 s and 64 MiB each), so callers must
// run them off the io threads (e.g. on the DB pool's threads), never inside a handler's coroutine directly.

/// An argon2id PHC string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") with a fresh random salt.
/// Throws std::invalid_argument for a cost outside libsodium's limits, std::runtime_error if hashing fails
/// (out of memory).
std::string hash_password(std::string_view password, PasswordCost cost = PasswordCost::interactive());

/// True only if `hash` is a well-formed argon2id string for `password`. False on a mismatch or any malformed
/// hash; never throws for bad input. Runs in constant time with respect to the password.
bool verify_password(std::string_view hash, std::string_view password);

/// A valid interactive-cost hash of a random password nobody knows. Verify against it when the e-mail is
/// unknown, so a wrong e-mail and a wrong password take the same time. Computed once, on first use (~0.1 s):
/// call it at startup to keep that first cost out of a request.
const std::string& dummy_password_hash();

}  // namespace todo::auth

// Accounts: the user model, input validation and the users repository (SQL only).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "todo/core/time.hpp"
#include "todo/db/reader.hpp"

namespace todo::auth {

/// A stored account.
struct User {
  std::string id;
  std::string email;
  std::string password_hash;
  std::string display_name;
  std::string timezone;
  Instant created_at;
  Instant updated_at;
  bool email_reminders = false;    // reminders also go out by e-mail
  std::string date_order = "mdy";  // how the chat reads "3/5": mdy (March 5) or dmy (3 May)
};

/// The public view of a user (never the password hash).
nlohmann::json to_json(const User& u);

/// A validated registration request (the password is still in clear; hash it off the io threads).
struct Registration {
  std::string email;  // normal_email(): trimmed, NFC, lower-cased (Unicode)
  std::string password;
  std::string display_name;
  std::string timezone;
  /// The spellings older_email_spellings() gives: an account stored under one of them is this address.
  std::vector<std::string> older_spellings = {};
};
/// Validates a register body; throws Error(422) naming every bad field.
Registration parse_registration(const nlohmann::json& body);

/// A validated login request.
struct Credentials {
  std::string email;
  /// The spellings accounts registered before the current normalisation may be stored under
  /// (older_email_spellings()): such an account still logs in as it did.
  std::vector<std::string> older_spellings;
  std::string password;
};
Credentials parse_credentials(const nlohmann::json& body);

/// An address as stored: trimmed of white space of any script, in NFC and lower-cased by the simple Unicode
/// mapping ("  ÉLODIE@Example.COM" → "élodie@example.com"; NFD "bu" U+0308 "cher.de" → "bücher.de"),
/// the same in every database whatever its ctype.
std::string normal_email(std::string_view raw);
/// The spellings under which registrations before normal_email() stored the address typed as `raw`, most
/// likely first: as typed with only ASCII lower-cased (before NFC and Unicode lower case), that in the other
/// normalisation form (NFD typed for an NFC account, or the reverse), and with only ASCII white space trimmed
/// (before the Unicode trim). Those equal to normal_email() are left out.
std::vector<std::string> older_email_spellings(std::string_view raw);

/// A validated PATCH /me body.
struct ProfilePatch {
  std::optional<std::string> display_name;
  std::optional<std::string> timezone;
  std::optional<bool> email_reminders;
  std::optional<std::string> date_order;  // "mdy" | "dmy"
};
ProfilePatch parse_profile_patch(const nlohmann::json& body);

/// SQL for users; every function runs inside the caller's transaction.
namespace users {
/// Inserts a user; a taken email throws Error(conflict).
User insert(pqxx::transaction_base& w, const Registration& r, const std::string& password_hash);
/// The user with this e-mail (case-insensitively), else the one with the first of `older_spellings` (at most
/// 3 are looked up) that has one.
std::optional<User> find_by_email(pqxx::transaction_base& w, const std::string& email,
                                  const std::vector<std::string>& older_spellings = {});
std::optional<User> find_by_id(pqxx::transaction_base& w, const std::string& id);
/// Whether the user exists: one keyed read on the io thread's own connection (a token can outlive its
/// account).
boost::asio::awaitable<bool> exists(db::Reader& db, const std::string& id);
/// Applies the patch; nullopt when the user does not exist.
std::optional<User> update_profile(pqxx::transaction_base& w, const std::string& id, const ProfilePatch& p);
}  // namespace users

}  // namespace todo::auth

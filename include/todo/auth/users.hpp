// Accounts: the user model, input validation and the users repository (SQL only).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>

#include "todo/core/time.hpp"

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
  std::string email;  // trimmed, lower-cased
  std::string password;
  std::string display_name;
  std::string timezone;
};
/// Validates a register body; throws Error(422) naming every bad field.
Registration parse_registration(const nlohmann::json& body);

/// A validated login request.
struct Credentials {
  std::string email;
  /// The e-mail as registrations before the eighteenth session kept it (only ASCII white space trimmed): an
  /// account registered then with, say, a no-break space around its address still logs in as it did.
  std::string stored_before_unicode_trim;
  std::string password;
};
Credentials parse_credentials(const nlohmann::json& body);

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
/// The user with this e-mail (case-insensitively), else the one with `or_else` if it is not empty.
std::optional<User> find_by_email(pqxx::transaction_base& w, const std::string& email,
                                  const std::string& or_else = {});
std::optional<User> find_by_id(pqxx::transaction_base& w, const std::string& id);
/// Applies the patch; nullopt when the user does not exist.
std::optional<User> update_profile(pqxx::transaction_base& w, const std::string& id, const ProfilePatch& p);
}  // namespace users

}  // namespace todo::auth

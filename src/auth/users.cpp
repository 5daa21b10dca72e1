// Accounts: validation of account input and the users repository.
#include "todo/auth/users.hpp"

#include <algorithm>

#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/json.hpp"
#include "todo/core/text.hpp"
#include "todo/db/statements.hpp"

namespace todo::auth {
namespace {

constexpr std::size_t kMinPassword = 8;
constexpr std::size_t kMaxPassword = 1024;
constexpr std::size_t kMaxDisplayName = 100;
constexpr std::size_t kMaxEmail = 254;

const db::Statement kInsertUser{
    "users_insert",
    "INSERT INTO users (id, email, password_hash, display_name, timezone) VALUES ($1, $2, $3, $4, $5) "
    "RETURNING id, email, password_hash, display_name, timezone, created_at, updated_at, email_reminders, "
    "date_order"};
const db::Statement kSelectUserByEmail{
    "users_by_email",
    "SELECT id, email, password_hash, display_name, timezone, created_at, "
    "updated_at, email_reminders, date_order FROM users "
    "WHERE lower(email) IN (lower($1), lower($2), lower($3), lower($4)) "
    "ORDER BY lower(email) = lower($1) DESC, lower(email) = lower($2) DESC, "
    "lower(email) = lower($3) DESC LIMIT 1"};
const db::Statement kSelectUserById{"users_by_id",
                                    "SELECT id, email, password_hash, display_name, timezone, created_at, "
                                    "updated_at, email_reminders, date_order FROM users WHERE id = $1"};
const db::Statement kUpdateProfile{
    "users_update_profile",
    "UPDATE users SET display_name = coalesce($2, display_name), timezone = coalesce($3, timezone), "
    "email_reminders = coalesce($4, email_reminders), date_order = coalesce($5, date_order), "
    // A patch that changes nothing (an empty one, or the values the user has) leaves updated_at, as a task's
    // does.
    "updated_at = CASE WHEN (display_name, timezone, email_reminders, date_order) IS DISTINCT FROM "
    "(coalesce($2, display_name), coalesce($3, timezone), coalesce($4, email_reminders), "
    "coalesce($5, date_order)) THEN now() ELSE updated_at END WHERE id = $1 "
    "RETURNING id, email, password_hash, display_name, timezone, created_at, updated_at, email_reminders, "
    "date_order"};
const db::Statement kUserExists{"users_exists", "SELECT 1 FROM users WHERE id = $1"};
const db::Registration kRegistered{kInsertUser, kSelectUserByEmail, kSelectUserById, kUpdateProfile,
                                   kUserExists};

User from_row(const pqxx::row& r) {
  User u;
  u.id = r[0].c_str();
  u.email = r[1].c_str();
  u.password_hash = r[2].c_str();
  u.display_name = r[3].c_str();
  u.timezone = r[4].c_str();
  u.created_at = db::instant(r[5]);
  u.updated_at = db::instant(r[6]);
  u.email_reminders = r[7].as<bool>();
  u.date_order = r[8].c_str();
  return u;
}

// local@domain.tld: one '@', dots only between characters, none of RFC 5322's specials (which only a quoted
// local part may hold, and no mail provider hands out), and nothing invisible: no white space or control
// character of any script, no zero-width or direction mark. Other Unicode letters are allowed (RFC 6531).
bool plausible_email(std::string_view e) {
  if (e.size() < 3 || e.size() > kMaxEmail) return false;
  const auto at = e.find('@');
  if (at == std::string_view::npos || at == 0 || at != e.rfind('@')) return false;
  const auto local = e.substr(0, at);
  const auto domain = e.substr(at + 1);
  if (domain.empty() || domain.find('.') == std::string_view::npos) return false;
  for (const auto part : {local, domain})
    if (part.front() == '.' || part.back() == '.' || part.find("..") != std::string_view::npos) return false;
  if (e.find_first_of(" \"(),:;<>[\\]") != std::string_view::npos) return false;
  return !has_unicode_space(e) && !has_any_control_char(e) && !has_invisible_format_char(e);
}

std::string check_email(json::Reader& r, const std::optional<std::string>& raw) {
  if (!raw) {
    if (!r.has("email")) r.fail("email", "is required");
    return {};
  }
  std::string e = normal_email(*raw);  // JSON strings are valid UTF-8 (json::parse checks), as NFC needs
  // RFC 5321 4.5.3.1.3: a path holds at most 256 octets, the address in its angle brackets at most 254.
  if (e.size() > kMaxEmail)
    r.fail("email", "is too long: at most " + std::to_string(kMaxEmail) +
                        " bytes (UTF-8, once normalised), not " + std::to_string(e.size()));
  else if (!plausible_email(e))
    r.fail("email", "must be an e-mail address like name@example.com");
  return e;
}

// As a title: trimmed of white space of any script and in NFC ("Re" + U+0301 + "my" and "Rémy" are one name,
// and its length is counted in the composed form). JSON strings are valid UTF-8 (json::parse checks).
std::string normal_display_name(std::string_view raw) {
  return nfc(trim_unicode(raw));
}

// One line, as a title: no control character (tab and newline included) and no line separator.
void check_display_name(json::Reader& r, const std::string& name) {
  if (!valid_utf8(name))
    r.fail("display_name", "must be valid UTF-8");
  else if (!is_one_line(name))
    r.fail("display_name", "must be one line without control characters (no tab or newline)");
  else if (utf8_length(name) > kMaxDisplayName)
    r.fail("display_name", "must be at most " + std::to_string(kMaxDisplayName) + " characters");
}

void check_timezone(json::Reader& r, const std::string& tz) {
  if (!is_valid_timezone(tz)) r.fail("timezone", "must be an IANA time zone such as Europe/Berlin");
}

}  // namespace

nlohmann::json to_json(const User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"display_name", u.display_name},
          {"timezone", u.timezone},
          {"email_reminders", u.email_reminders},
          {"date_order", u.date_order},
          {"created_at", format_rfc3339(u.created_at)},
          {"updated_at", format_rfc3339(u.updated_at)}};
}

Registration parse_registration(const nlohmann::json& body) {
  json::Reader r(body, {"email", "password", "display_name", "timezone"});
  Registration out;
  const auto email = r.string("email");
  out.email = check_email(r, email);
  if (email) out.older_spellings = older_email_spellings(*email);
  auto password = r.string("password");
  if (!password && !r.has("password")) r.fail("password", "is required");
  if (password) {
    if (utf8_length(*password) < kMinPassword)  // characters, not bytes: "éééé" is 4
      r.fail("password", "must be at least " + std::to_string(kMinPassword) + " characters");
    else if (password->size() > kMaxPassword)
      r.fail("password", "must be at most " + std::to_string(kMaxPassword) + " bytes");
    out.password = std::move(*password);
  }
  if (auto name = r.string("display_name")) {
    out.display_name = normal_display_name(*name);
    check_display_name(r, out.display_name);
  }
  out.timezone = r.string("timezone").value_or("UTC");
  check_timezone(r, out.timezone);
  r.finish();
  return out;
}

Credentials parse_credentials(const nlohmann::json& body) {
  json::Reader r(body, {"email", "password"});
  Credentials c;
  auto email = r.string("email");
  auto password = r.string("password");
  if (!email && !r.has("email")) r.fail("email", "is required");
  if (!password && !r.has("password")) r.fail("password", "is required");
  r.finish();
  c.email = normal_email(*email);
  c.older_spellings = older_email_spellings(*email);
  c.password = std::move(*password);
  return c;
}

std::string normal_email(std::string_view raw) {
  // NFC again after lower-casing: a lower-case letter may compose where its capital did not.
  return nfc(lower_unicode(nfc(trim_unicode(raw))));
}

std::vector<std::string> older_email_spellings(std::string_view raw) {
  const std::string normal = normal_email(raw);
  const std::string as_typed = lower_ascii(trim_unicode(raw));
  const std::string before_unicode_trim = lower_ascii(trim(raw));
  std::vector<std::string> out;
  const std::string other_form = nfc(as_typed) == as_typed ? nfd(as_typed) : nfc(as_typed);
  for (const std::string* s : {&as_typed, &other_form, &before_unicode_trim})
    if (*s != normal && std::find(out.begin(), out.end(), *s) == out.end()) out.push_back(*s);
  return out;
}

ProfilePatch parse_profile_patch(const nlohmann::json& body) {
  json::Reader r(body, {"display_name", "timezone", "email_reminders", "date_order"});
  ProfilePatch p;
  if (auto name = r.string("display_name")) {
    p.display_name = normal_display_name(*name);
    check_display_name(r, *p.display_name);
  }
  if (auto tz = r.string("timezone")) {
    check_timezone(r, *tz);
    p.timezone = std::move(*tz);
  }
  p.email_reminders = r.boolean("email_reminders");
  if (auto order = r.string("date_order")) {
    if (*order != "mdy" && *order != "dmy")
      r.fail("date_order", "must be mdy (3/5 is March 5) or dmy (3/5 is 3 May)");
    else
      p.date_order = std::move(*order);
  }
  r.finish();
  return p;
}

namespace users {

User insert(pqxx::transaction_base& w, const Registration& reg, const std::string& password_hash) {
  // An account stored before normal_email() under an older spelling of this address is this address: the
  // unique index compares lower(email), which only lower-cases what the database's ctype knows.
  if (!reg.older_spellings.empty() && find_by_email(w, reg.email, reg.older_spellings))
    throw Error(Errc::conflict, "an account with this e-mail already exists",
                {{"email", "already registered"}});
  try {
    auto res = w.exec_prepared(kInsertUser.name, new_uuid(), reg.email, password_hash, reg.display_name,
                               reg.timezone);
    return from_row(res[0]);
  } catch (const pqxx::unique_violation&) {
    throw Error(Errc::conflict, "an account with this e-mail already exists",
                {{"email", "already registered"}});
  }
}

std::optional<User> find_by_email(pqxx::transaction_base& w, const std::string& email,
                                  const std::vector<std::string>& older_spellings) {
  const auto older = [&](std::size_t i) -> const std::string& {
    return i < older_spellings.size() ? older_spellings[i] : email;
  };
  auto res = w.exec_prepared(kSelectUserByEmail.name, email, older(0), older(1), older(2));
  if (res.empty()) return std::nullopt;
  return from_row(res[0]);
}

std::optional<User> find_by_id(pqxx::transaction_base& w, const std::string& id) {
  auto res = w.exec_prepared(kSelectUserById.name, id);
  if (res.empty()) return std::nullopt;
  return from_row(res[0]);
}

boost::asio::awaitable<bool> exists(db::Reader& db, const std::string& id) {
  std::vector<db::Param> params;
  params.emplace_back(id);
  auto r = co_await db.exec_prepared(kUserExists, std::move(params));
  co_return !r.empty();
}

std::optional<User> update_profile(pqxx::transaction_base& w, const std::string& id, const ProfilePatch& p) {
  auto res =
      w.exec_prepared(kUpdateProfile.name, id, p.display_name, p.timezone, p.email_reminders, p.date_order);
  if (res.empty()) return std::nullopt;
  return from_row(res[0]);
}

}  // namespace users
}  // namespace todo::auth

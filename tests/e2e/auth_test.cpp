// End-to-end: registration, login, the current user, and every way a token can be wrong.
#include <pqxx/pqxx>
#include <thread>

#include "e2e.hpp"

namespace todo::test {
namespace {

using AuthTest = E2eTest;

nlohmann::json decode_segment(const std::string& token, int index) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 3) throw std::runtime_error("not a JWT: " + token);
  std::string b64 = parts[static_cast<std::size_t>(index)];
  for (auto& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4 != 0)
    b64 += '=';
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0;
  int bits = -8;
  for (char c : b64) {
    if (c == '=') break;
    val = (val << 6) + static_cast<int>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return nlohmann::json::parse(out);
}

/// A problem body without the per-request parts.
nlohmann::json stable_problem(const HttpResponse& r) {
  auto body = r.json();
  body.erase("instance");
  body.erase("request_id");
  return body;
}

TEST_F(AuthTest, RegisterReturnsTheUser) {
  auto client = anon();
  const std::string email = unique_email("ada");
  const auto r = client.post("/api/v1/auth/register", {{"email", email},
                                                       {"password", "correct horse battery"},
                                                       {"display_name", "Ada"},
                                                       {"timezone", "Europe/Berlin"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  const auto body = r.json();
  ASSERT_TRUE(body.contains("user")) << r.body;
  const auto& u = body["user"];
  EXPECT_TRUE(std::regex_match(u.value("id", ""), kUuid)) << u;
  EXPECT_EQ(u["email"], email);
  EXPECT_EQ(u["display_name"], "Ada");
  EXPECT_EQ(u["timezone"], "Europe/Berlin");
  EXPECT_TRUE(instant_us(u["created_at"])) << u;
  EXPECT_TRUE(instant_us(u["updated_at"])) << u;
  EXPECT_EQ(r.body.find("correct horse"), std::string::npos) << "the password is echoed";
  EXPECT_EQ(r.body.find("hash"), std::string::npos) << "a password hash is exposed: " << r.body;
}

TEST_F(AuthTest, RegisterDefaultsTimezoneToUtc) {
  auto client = anon();
  const auto r = client.post("/api/v1/auth/register", {{"email", unique_email()}, {"password", "password1"}});
  ASSERT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(r.json()["user"]["timezone"], "UTC");
}

TEST_F(AuthTest, DuplicateEmailIs409) {
  auto client = anon();
  const std::string email = unique_email();
  ASSERT_EQ(client.post("/api/v1/auth/register", {{"email", email}, {"password", "password1"}}).status, 201);
  EXPECT_TRUE(
      IsProblem(client.post("/api/v1/auth/register", {{"email", email}, {"password", "password2"}}), 409));
}

TEST_F(AuthTest, RegisterValidatesItsFields) {
  auto client = anon();
  const auto reg = [&](nlohmann::json body) { return client.post("/api/v1/auth/register", body); };
  EXPECT_TRUE(IsProblem(reg({{"email", unique_email()}, {"password", "short7!"}}), 422, "password"));
  // Characters, not bytes: 4 characters in 8 bytes are too few; 8 two-byte characters are enough.
  EXPECT_TRUE(
      IsProblem(reg({{"email", unique_email()}, {"password", "\u00e9\u00e9\u00e9\u00e9"}}), 422, "password"));
  EXPECT_EQ(reg({{"email", unique_email()}, {"password", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}})
                .status,
            201);
  EXPECT_TRUE(IsProblem(reg({{"email", "not-an-email"}, {"password", "password1"}}), 422, "email"));
  EXPECT_TRUE(IsProblem(reg({{"password", "password1"}}), 422, "email"));
  EXPECT_TRUE(IsProblem(reg({{"email", unique_email()}}), 422, "password"));
  EXPECT_TRUE(
      IsProblem(reg({{"email", unique_email()}, {"password", "password1"}, {"timezone", "Mars/Olympus"}}),
                422, "timezone"));
  EXPECT_TRUE(IsProblem(reg({{"email", unique_email()}, {"password", 12345678}}), 422, "password"));
  EXPECT_TRUE(
      IsProblem(reg({{"email", unique_email()}, {"password", "password1"}, {"admin", true}}), 422, "admin"));
}

// An address is trimmed of white space of any script (and found again so at login); one with white space, a
// control or an invisible formatting character inside, RFC 5322 specials or misplaced dots is refused: each
// made a second account for one mailbox, stored with characters nobody sees.
TEST_F(AuthTest, EmailsAreTrimmedByUnicodeAndInvisibleCharactersRefused) {
  auto client = anon();
  const auto reg = [&](const std::string& email) {
    return client.post("/api/v1/auth/register", {{"email", email}, {"password", "password1"}});
  };
  const std::string email = unique_email();
  const auto first = reg("\u00a0" + email + "\u3000");
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_EQ(first.json()["user"]["email"], email);
  for (const std::string& same :
       std::vector<std::string>{email, "\u00a0" + email, email + "\u2028", email + "\u0085", " " + email})
    EXPECT_TRUE(IsProblem(reg(same), 409)) << same;
  const auto at = email.find('@');
  for (const std::string& bad : std::vector<std::string>{
           email.substr(0, at) + "\u200b" + email.substr(at),
           email.substr(0, at) + "\u00a0x" + email.substr(at),
           email.substr(0, at) + "\u202e" + email.substr(at), email.substr(0, at) + "\tx" + email.substr(at),
           "<" + email + ">", email.substr(0, at) + "@x..io", "a.@x.io", ".a@x.io", "a..b@x.io", "a@.x.io",
           "a(b)@x.io", "a,b@x.io", "\"a b\"@x.io"})
    EXPECT_TRUE(IsProblem(reg(bad), 422, "email")) << bad;
  const auto login =
      client.post("/api/v1/auth/login", {{"email", "\u2003" + email + "\u00a0"}, {"password", "password1"}});
  EXPECT_EQ(login.status, 200) << login.describe();
  EXPECT_EQ(reg("Ünïcode." + unique_email()).status, 201) << "letters of any script stay allowed";
}

// Registrations before the Unicode trim kept white space of other scripts around an address (only ASCII white
// space was trimmed): such an account still logs in with the address as it was typed then, and an address
// stored trimmed wins when both exist.
TEST_F(AuthTest, AccountsStoredBeforeTheUnicodeTrimStillLogIn) {
  auto client = anon();
  const std::string email = unique_email();
  const std::string old_form = "\u00a0" + email;
  ASSERT_EQ(client.post("/api/v1/auth/register", {{"email", email}, {"password", "password1"}}).status, 201);
  {
    pqxx::connection c(db_url());
    pqxx::work w(c);
    w.exec_params("UPDATE users SET email = $1 WHERE email = $2", old_form, email);
    w.commit();
  }
  const auto login = [&](const std::string& typed, const std::string& password) {
    return client.post("/api/v1/auth/login", {{"email", typed}, {"password", password}});
  };
  EXPECT_EQ(login(" " + old_form + " ", "password1").status, 200);
  EXPECT_TRUE(IsProblem(login(email, "password1"), 401)) << "the stored address is not this one";
  // Registering the trimmed address now is another account; the trimmed one is the one logged in.
  ASSERT_EQ(client.post("/api/v1/auth/register", {{"email", email}, {"password", "password2"}}).status, 201);
  EXPECT_TRUE(IsProblem(login(old_form, "password1"), 401));
  EXPECT_EQ(login(old_form, "password2").status, 200);
}

// An address is stored in NFC and lower-cased by Unicode's simple case mapping, by the server: the NFC and
// NFD spellings of "bücher.de", "ÉLODIE@" and "élodie@", "Σ" and "σ" were two accounts (the unique index
// compares lower(email), which lower-cases non-ASCII letters only as the database's ctype does).
TEST_F(AuthTest, EmailsAreNfcAndUnicodeLowerCased) {
  auto client = anon();
  const auto reg = [&](const std::string& email, const std::string& password = "password1") {
    return client.post("/api/v1/auth/register", {{"email", email}, {"password", password}});
  };
  const auto login = [&](const std::string& email, const std::string& password = "password1") {
    return client.post("/api/v1/auth/login", {{"email", email}, {"password", password}});
  };
  const std::string local = unique_email("t");
  const std::string tag = local.substr(2, local.find('@') - 2);
  const auto first = reg("\u00c9LODIE-" + tag + "@Example.COM");
  ASSERT_EQ(first.status, 201) << first.describe();
  EXPECT_EQ(first.json()["user"]["email"], "\u00e9lodie-" + tag + "@example.com");
  EXPECT_TRUE(IsProblem(reg("\u00e9lodie-" + tag + "@example.com"), 409));
  EXPECT_TRUE(IsProblem(reg("E\u0301lodie-" + tag + "@example.com"), 409)) << "NFD";
  EXPECT_EQ(login("\u00e9LODIE-" + tag + "@example.com").status, 200);
  EXPECT_EQ(login("e\u0301lodie-" + tag + "@example.com").status, 200);

  const std::string nfc_form = "b-" + tag + "@b\u00fccher.de";
  const std::string nfd_form = "b-" + tag + "@bu\u0308cher.de";
  const auto nfd = reg(nfd_form);
  ASSERT_EQ(nfd.status, 201) << nfd.describe();
  EXPECT_EQ(nfd.json()["user"]["email"], nfc_form);
  EXPECT_TRUE(IsProblem(reg(nfc_form), 409));
  EXPECT_EQ(login(nfc_form).status, 200);
  EXPECT_EQ(login(nfd_form).status, 200);

  const auto sigma = reg("\u03a3\u039f\u03a6\u0399\u0391-" + tag + "@example.gr");
  ASSERT_EQ(sigma.status, 201) << sigma.describe();
  EXPECT_EQ(sigma.json()["user"]["email"], "\u03c3\u03bf\u03c6\u03b9\u03b1-" + tag + "@example.gr");
  EXPECT_TRUE(IsProblem(reg("\u03c3\u03bf\u03c6\u03b9\u03b1-" + tag + "@example.gr"), 409));
  EXPECT_EQ(login("\u03c3\u039f\u03c6\u0399\u03b1-" + tag + "@EXAMPLE.gr").status, 200);
}

// Accounts registered before that stored the address with only ASCII lower-cased, as typed (NFD included):
// they log in with it as they typed it then, or in its other normalisation form, and an older spelling of
// their address cannot be registered again.
TEST_F(AuthTest, AccountsStoredBeforeUnicodeLowerCaseAndNfcStillLogIn) {
  auto client = anon();
  const auto login = [&](const std::string& email) {
    return client.post("/api/v1/auth/login", {{"email", email}, {"password", "password1"}});
  };
  const std::string local = unique_email("t");
  const std::string tag = local.substr(2, local.find('@') - 2);
  const std::string upper_old = "\u00c9cole-" + tag + "@example.com";  // "ÉCOLE-…@Example.COM" then
  const std::string nfd_old = "m-" + tag + "@bu\u0308cher.de";         // typed in NFD then
  for (const auto& [stored, registered] : std::vector<std::pair<std::string, std::string>>{
           {upper_old, "\u00e9cole-" + tag + "@example.com"}, {nfd_old, "m-" + tag + "@b\u00fccher.de"}}) {
    ASSERT_EQ(client.post("/api/v1/auth/register", {{"email", registered}, {"password", "password1"}}).status,
              201);
    pqxx::connection c(db_url());
    pqxx::work w(c);
    w.exec_params("UPDATE users SET email = $1 WHERE email = $2", stored, registered);
    w.commit();
  }
  EXPECT_EQ(login("\u00c9COLE-" + tag + "@Example.COM").status, 200);
  EXPECT_EQ(login(upper_old).status, 200);
  EXPECT_EQ(login(nfd_old).status, 200);
  EXPECT_EQ(login("m-" + tag + "@b\u00fccher.de").status, 200) << "the NFC spelling of an NFD account";
  EXPECT_TRUE(IsProblem(login("m-" + tag + "@bucher.de"), 401));
  for (const std::string& again :
       {"\u00c9COLE-" + tag + "@example.com", nfd_old, "m-" + tag + "@b\u00fccher.de"})
    EXPECT_TRUE(
        IsProblem(client.post("/api/v1/auth/register", {{"email", again}, {"password", "password1"}}), 409))
        << again;
}

// A display name is one line like a title: trimmed of white space of any script; a tab, newline, C1 control
// or line separator is a 422 naming it.
TEST_F(AuthTest, DisplayNamesAreOneLine) {
  auto u = user();
  for (const char* name : {"Ada\nLovelace", "a\tb", "a\rb", "a\u0085b", "a\u2028b", "a\u2029b", "a\u009fb"}) {
    EXPECT_TRUE(IsProblem(u.client.patch("/api/v1/me", {{"display_name", name}}), 422, "display_name"))
        << name;
    EXPECT_TRUE(
        IsProblem(anon().post("/api/v1/auth/register",
                              {{"email", unique_email()}, {"password", "password1"}, {"display_name", name}}),
                  422, "display_name"))
        << name;
  }
  const auto r = u.client.patch("/api/v1/me", {{"display_name", "\u00a0Bob\u3000"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["display_name"], "Bob");
  EXPECT_EQ(
      u.client.patch("/api/v1/me", {{"display_name", "👨‍👩‍👧 family"}}).json()["display_name"],
      "👨‍👩‍👧 family")
      << "a zero-width joiner inside an emoji stays";
}

// A PATCH of /me that changes nothing (empty, or the values the user has) leaves updated_at as it is, as an
// empty task PATCH does; a real change moves it.
TEST_F(AuthTest, APatchOfMeThatChangesNothingKeepsUpdatedAt) {
  auto u = user();
  const auto set = u.client.patch("/api/v1/me", {{"display_name", "Ada"}, {"timezone", "Europe/London"}});
  ASSERT_EQ(set.status, 200) << set.describe();
  const std::string at = set.json()["updated_at"];
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (const nlohmann::json& body :
       {nlohmann::json::object(), nlohmann::json{{"display_name", "Ada"}},
        nlohmann::json{{"timezone", "Europe/London"}, {"display_name", "Ada"}}}) {
    const auto r = u.client.patch("/api/v1/me", body);
    ASSERT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.json()["updated_at"], at) << body.dump();
    EXPECT_EQ(u.client.get("/api/v1/me").json()["updated_at"], at) << body.dump();
  }
  const auto changed = u.client.patch("/api/v1/me", {{"display_name", "Ada L."}});
  ASSERT_EQ(changed.status, 200) << changed.describe();
  EXPECT_GT(changed.json()["updated_at"].get<std::string>(), at);
}

// A display name is stored in NFC, as titles are: "Re" + U+0301 + "my" is "Rémy", and its length is counted
// composed (100 "e" + U+0301 are 100 characters, not 200).
TEST_F(AuthTest, DisplayNamesAreNfc) {
  auto u = user();
  const auto r = u.client.patch("/api/v1/me", {{"display_name", "Re\u0301my"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json()["display_name"], "R\u00e9my");
  EXPECT_EQ(u.client.get("/api/v1/me").json()["display_name"], "R\u00e9my");
  std::string decomposed;
  for (int i = 0; i < 100; ++i)
    decomposed += "e\u0301";
  const auto long_name = u.client.patch("/api/v1/me", {{"display_name", decomposed}});
  ASSERT_EQ(long_name.status, 200) << long_name.describe();
  std::string composed;
  for (int i = 0; i < 100; ++i)
    composed += "\u00e9";
  EXPECT_EQ(long_name.json()["display_name"], composed);
  EXPECT_TRUE(
      IsProblem(u.client.patch("/api/v1/me", {{"display_name", decomposed + "e"}}), 422, "display_name"));
  const auto reg =
      anon().post("/api/v1/auth/register",
                  {{"email", unique_email()}, {"password", "password1"}, {"display_name", "Re\u0301my"}});
  ASSERT_EQ(reg.status, 201) << reg.describe();
  EXPECT_EQ(reg.json()["user"]["display_name"], "R\u00e9my");
}

TEST_F(AuthTest, LoginReturnsABearerToken) {
  auto u = user();
  auto client = anon();
  const auto r = client.post("/api/v1/auth/login", {{"email", u.email}, {"password", u.password}});
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto body = r.json();
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_EQ(r.header("cache-control"), "no-store") << "RFC 6749 5.1: a token response is never cached";
  const std::string token = body.at("access_token");
  const auto header = decode_segment(token, 0);
  const auto payload = decode_segment(token, 1);
  EXPECT_EQ(header["alg"], "HS256");
  EXPECT_EQ(payload["sub"], u.id);
  ASSERT_TRUE(payload["iat"].is_number_integer() && payload["exp"].is_number_integer()) << payload;
  EXPECT_EQ(payload["exp"].get<long>() - payload["iat"].get<long>(), 3600);
}

TEST_F(AuthTest, WrongPasswordAndUnknownEmailLookTheSame) {
  auto u = user();
  auto client = anon();
  const auto wrong_password =
      client.post("/api/v1/auth/login", {{"email", u.email}, {"password", "wrong-password"}});
  const auto unknown_email =
      client.post("/api/v1/auth/login", {{"email", unique_email("nobody")}, {"password", "wrong-password"}});
  ASSERT_TRUE(IsProblem(wrong_password, 401));
  ASSERT_TRUE(IsProblem(unknown_email, 401));
  EXPECT_EQ(stable_problem(wrong_password), stable_problem(unknown_email));
  EXPECT_EQ(wrong_password.header("www-authenticate"), unknown_email.header("www-authenticate"));
}

TEST_F(AuthTest, MeReturnsTheUser) {
  auto u = user({{"display_name", "Grace"}});
  const auto r = u.client.get("/api/v1/me");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), u.user);
}

TEST_F(AuthTest, PatchMeChangesNameAndTimezone) {
  auto u = user();
  const auto r = u.client.patch("/api/v1/me", {{"display_name", "New Name"}, {"timezone", "Asia/Tokyo"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  const auto patched = r.json();
  EXPECT_EQ(patched["display_name"], "New Name");
  EXPECT_EQ(patched["timezone"], "Asia/Tokyo");
  EXPECT_EQ(patched["id"], u.id);
  EXPECT_EQ(patched["email"], u.email);
  EXPECT_GE(*instant_us(patched["updated_at"]), *instant_us(u.user["updated_at"]));
  EXPECT_EQ(u.client.get("/api/v1/me").json(), patched);

  const auto only_name = u.client.patch("/api/v1/me", {{"display_name", "Just Name"}});
  ASSERT_EQ(only_name.status, 200) << only_name.describe();
  EXPECT_EQ(only_name.json()["timezone"], "Asia/Tokyo");
}

TEST_F(AuthTest, PatchMeValidates) {
  auto u = user();
  EXPECT_TRUE(IsProblem(u.client.patch("/api/v1/me", {{"timezone", "Not/AZone"}}), 422, "timezone"));
  EXPECT_TRUE(IsProblem(u.client.patch("/api/v1/me", {{"timezone", 5}}), 422, "timezone"));
  EXPECT_TRUE(IsProblem(u.client.patch("/api/v1/me", {{"display_name", 5}}), 422, "display_name"));
  EXPECT_TRUE(IsProblem(u.client.patch("/api/v1/me", {{"email", unique_email()}}), 422, "email"));
  EXPECT_TRUE(IsProblem(u.client.request("PATCH", "/api/v1/me", "{\"timezone\":"), 400, "body"));
  EXPECT_EQ(u.client.get("/api/v1/me").json(), u.user);
}

TEST_F(AuthTest, MissingTokenIs401WithChallenge) {
  auto client = anon();
  for (const char* path : {"/api/v1/me", "/api/v1/tasks", "/api/v1/tags"}) {
    const auto r = client.get(path);
    EXPECT_TRUE(IsProblem(r, 401)) << path;
    EXPECT_EQ(r.header("www-authenticate").rfind("Bearer", 0), 0u)
        << path << ": " << r.header("www-authenticate");
  }
  EXPECT_TRUE(IsProblem(client.post("/api/v1/tasks", {{"title", "x"}}), 401));
}

TEST_F(AuthTest, BadTokensAre401) {
  auto u = user();
  const std::string secret(kTestJwtSecret);
  const long now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();

  // The control: a token made here with the server's key works, so the failures below are about what differs.
  {
    auto c = anon();
    c.set_token(make_user_token(u.id, secret));
    ASSERT_EQ(c.get("/api/v1/me").status, 200)
        << "a hand-made HS256 token is refused; the cases below prove nothing";
  }

  const nlohmann::json claims = {{"sub", u.id}, {"iat", now}, {"exp", now + 3600}};
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", "garbage"},
      {"three garbage parts", "a.b.c"},
      {"empty", ""},
      {"alg none", make_jwt({{"alg", "none"}, {"typ", "JWT"}}, claims, "")},
      {"alg none, upper case", make_jwt({{"alg", "NONE"}, {"typ", "JWT"}}, claims, "")},
      {"alg HS512 with the right key", make_jwt({{"alg", "HS512"}, {"typ", "JWT"}}, claims, secret)},
      {"another key", make_user_token(u.id, "another-secret-another-secret-another-secret")},
      {"expired", make_user_token(u.id, secret, -7200, -60)},
      {"no exp", make_jwt({{"alg", "HS256"}, {"typ", "JWT"}}, {{"sub", u.id}, {"iat", now}}, secret)},
      {"no sub", make_jwt({{"alg", "HS256"}, {"typ", "JWT"}}, {{"iat", now}, {"exp", now + 3600}}, secret)},
      {"unknown user", make_user_token("00000000-0000-4000-8000-000000000000", secret)},
      {"sub not a uuid", make_user_token("not-a-uuid", secret)},
      {"tampered payload",
       [&] {
         std::string t = make_user_token(u.id, secret);
         const auto a = t.find('.');
         const auto b = t.find('.', a + 1);
         return t.substr(0, a + 1) +
                base64url(nlohmann::json({{"sub", u.id}, {"iat", now}, {"exp", now + 999999}}).dump()) +
                t.substr(b);
       }()},
  };
  for (const auto& [name, token] : cases) {
    auto c = anon();
    const auto r = c.get("/api/v1/me", {{"Authorization", "Bearer " + token}});
    EXPECT_TRUE(IsProblem(r, 401)) << name;
    EXPECT_EQ(r.header("www-authenticate").rfind("Bearer", 0), 0u) << name;
  }

  auto c = anon();
  EXPECT_TRUE(IsProblem(c.get("/api/v1/me", {{"Authorization", "Basic dXNlcjpwYXNz"}}), 401))
      << "Basic scheme";
  EXPECT_TRUE(IsProblem(c.get("/api/v1/me", {{"Authorization", "Bearer"}}), 401)) << "no token after Bearer";
}

// A token outlives its account (removed with SQL: the API has no account deletion). Every route that needs
// the account answers 401; a create used to fail with 500 (its time zone is the account's, NULL without it).
TEST_F(AuthTest, ATokenOfARemovedAccountIs401) {
  auto u = user();
  {
    pqxx::connection c(db_url());
    pqxx::work w(c);
    w.exec_params("DELETE FROM users WHERE id = $1", u.id);
    w.commit();
  }
  const auto gone = [](const HttpResponse& r) { return IsProblem(r, 401); };
  EXPECT_TRUE(gone(u.client.post("/api/v1/tasks", {{"title", "x"}})));
  EXPECT_TRUE(gone(u.client.post("/api/v1/tasks", {{"title", "x"}, {"timezone", "Europe/Berlin"}})));
  EXPECT_TRUE(gone(u.client.get("/api/v1/me")));
  EXPECT_TRUE(gone(u.client.post("/api/v1/chat", {{"message", "buy milk tomorrow"}})));
  // Several at once: creates written together fail each on its own.
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      HttpClient c(u.client.base_url());
      c.set_token(u.token);
      if (c.post("/api/v1/tasks", {{"title", "x"}}).status == 401) ++refused;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(refused, 8);
}

// Every authenticated route answers a removed account's token alike: lists, 404s and routes that read no data
// of the account used to answer 200 (an empty list) or 404 where /me answered 401.
TEST_F(AuthTest, EveryRouteAnswersARemovedAccountsTokenWithThe401) {
  auto u = user();
  auto empty = user();  // never had a task: its list version is 0, as before the removal
  const nlohmann::json task =
      u.client.post("/api/v1/tasks", {{"title", "x"}, {"due_at", "2031-01-01T09:00:00Z"}}).json();
  const std::string t = "/api/v1/tasks/" + task["id"].get<std::string>();
  ASSERT_EQ(u.client.post(t + "/reminders", {{"before_due", "PT1H"}}).status, 201);
  const std::string reminder = u.client.get(t + "/reminders").json()["items"][0]["id"];
  // Pages kept before the removal must not be served after it.
  ASSERT_EQ(u.client.get("/api/v1/tasks").status, 200);
  ASSERT_EQ(empty.client.get("/api/v1/tasks").status, 200);
  {
    pqxx::connection c(db_url());
    pqxx::work w(c);
    w.exec_params("DELETE FROM users WHERE id = $1 OR id = $2", u.id, empty.id);
    w.commit();
  }
  const auto gone = [](const HttpResponse& r) -> ::testing::AssertionResult {
    if (auto p = IsProblem(r, 401); !p) return p;
    if (r.json().value("detail", "") != "the account of this token no longer exists")
      return ::testing::AssertionFailure() << r.body;
    return ::testing::AssertionSuccess();
  };
  auto& c = u.client;
  EXPECT_TRUE(gone(c.get("/api/v1/tasks")));
  EXPECT_TRUE(gone(empty.client.get("/api/v1/tasks"))) << "a list kept at the version of an empty account";
  EXPECT_TRUE(gone(c.get("/api/v1/tasks?overdue=true")));
  EXPECT_TRUE(gone(c.get(t)));
  EXPECT_TRUE(gone(c.get("/api/v1/tasks/not-an-id")));
  EXPECT_TRUE(gone(c.patch(t, {{"title", "y"}})));
  EXPECT_TRUE(gone(c.post(t + "/complete")));
  EXPECT_TRUE(gone(c.post(t + "/reopen")));
  EXPECT_TRUE(gone(c.get(t + "/occurrences")));
  EXPECT_TRUE(gone(c.get(t + "/reminders")));
  EXPECT_TRUE(gone(c.post(t + "/reminders", {{"before_due", "PT1H"}})));
  EXPECT_TRUE(gone(c.get(t + "/reminders/" + reminder)));
  EXPECT_TRUE(gone(c.del(t + "/reminders/" + reminder)));
  EXPECT_TRUE(gone(c.post("/api/v1/reminders/" + reminder + "/snooze", {{"duration", "PT10M"}})));
  EXPECT_TRUE(gone(c.get("/api/v1/reminders")));
  EXPECT_TRUE(gone(c.get("/api/v1/tags")));
  EXPECT_TRUE(gone(c.get("/api/v1/audit")));
  EXPECT_TRUE(gone(c.get("/api/v1/audit/stats")));
  EXPECT_TRUE(gone(c.get("/api/v1/recurrence/preview?rule=FREQ%3DDAILY&start=2031-01-01T09%3A00%3A00Z")));
  EXPECT_TRUE(
      gone(c.post("/api/v1/chat/parse",
                  {{"text", "buy milk tomorrow"}, {"timezone", "UTC"}, {"date_order", "day_first"}})));
  EXPECT_TRUE(gone(c.del(t)));
  EXPECT_TRUE(gone(c.get("/api/v1/me")));
  EXPECT_TRUE(gone(c.patch("/api/v1/me", {{"display_name", "z"}})));
}

TEST_F(AuthTest, SecretsNeverReachTheLog) {
  auto u = user();
  ASSERT_EQ(u.client.get("/api/v1/me").status, 200);
  auto c = anon();
  c.post("/api/v1/auth/login", {{"email", u.email}, {"password", "wrong-" + u.password}});
  const std::string out = server().output();
  EXPECT_EQ(out.find(u.password), std::string::npos) << "a password is logged";
  EXPECT_EQ(out.find(u.token.substr(u.token.rfind('.') + 1)), std::string::npos) << "a token is logged";
  EXPECT_EQ(out.find(std::string(kTestJwtSecret)), std::string::npos) << "the JWT secret is logged";
}

}  // namespace
}  // namespace todo::test

// API shortcuts for end-to-end tests.
#include "support/api.hpp"

#include <algorithm>
#include <stdexcept>

#include "support/jwt.hpp"

namespace todo::test {

std::string unique_email(const std::string& prefix) {
  return prefix + "-" + random_hex() + "@example.com";
}

std::string login(HttpClient& client, const std::string& email, const std::string& password) {
  const auto r = client.post("/api/v1/auth/login", {{"email", email}, {"password", password}});
  if (r.status != 200) throw std::runtime_error("login " + email + " failed: " + r.describe());
  return r.json().at("access_token").get<std::string>();
}

TestUser new_user(const std::string& base_url, nlohmann::json extra) {
  if (!extra.contains("email")) extra["email"] = unique_email();
  if (!extra.contains("password")) extra["password"] = "pw-" + random_hex(8);
  HttpClient client(base_url);
  const auto r = client.post("/api/v1/auth/register", extra);
  if (r.status != 201) throw std::runtime_error("register failed: " + r.describe());
  const auto body = r.json();
  const std::string email = extra["email"].get<std::string>();
  const std::string password = extra["password"].get<std::string>();
  std::string token = login(client, email, password);
  client.set_token(token);
  return TestUser{email, password,         body.at("user"), body.at("user").at("id").get<std::string>(),
                  token, std::move(client)};
}

nlohmann::json create_task(HttpClient& client, nlohmann::json task) {
  if (task.is_string()) task = {{"title", task}};
  const auto r = client.post("/api/v1/tasks", task);
  if (r.status != 201) throw std::runtime_error("create task " + task.dump() + " failed: " + r.describe());
  return r.json();
}

::testing::AssertionResult IsProblemOneOf(const HttpResponse& r, std::initializer_list<long> statuses,
                                          const std::string& field) {
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure()
           << why << "; response: " << r.describe() << " (content-type: " << r.header("content-type") << ")";
  };
  if (std::find(statuses.begin(), statuses.end(), r.status) == statuses.end()) {
    std::string want;
    for (long s : statuses) {
      if (!want.empty()) want += '|';
      want += std::to_string(s);
    }
    return fail("status is not " + want);
  }
  if (r.header("content-type").rfind("application/problem+json", 0) != 0) {
    return fail("content type is not application/problem+json");
  }
  nlohmann::json body;
  try {
    body = nlohmann::json::parse(r.body);
  } catch (const std::exception&) {
    return fail("body is not JSON");
  }
  if (!body.is_object()) return fail("body is not an object");
  for (const char* key : {"type", "title"}) {
    if (!body.contains(key) || !body[key].is_string()) return fail(std::string("no string \"") + key + "\"");
  }
  if (!body.contains("status") || body["status"] != r.status) return fail("body \"status\" differs");
  if (body.contains("errors") && !body["errors"].is_array()) return fail("\"errors\" is not an array");
  if (!field.empty()) {
    const bool prefix = field.back() == '*';
    const std::string want = prefix ? field.substr(0, field.size() - 1) : field;
    bool found = false;
    for (const auto& e : body.value("errors", nlohmann::json::array())) {
      if (!e.is_object() || !e.contains("field") || !e["field"].is_string()) continue;
      const auto f = e["field"].get<std::string>();
      if (prefix ? f.rfind(want, 0) == 0 : f == want) found = true;
      if (!e.contains("message") || !e["message"].is_string())
        return fail("an errors[] entry has no message");
    }
    if (!found) return fail("no errors[] entry for field \"" + field + "\"");
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsProblem(const HttpResponse& r, long status, const std::string& field) {
  return IsProblemOneOf(r, {status}, field);
}

}  // namespace todo::test

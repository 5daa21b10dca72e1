// API shortcuts for end-to-end tests: fresh users with a logged-in client, task helpers, problem+json checks.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/http_client.hpp"

namespace todo::test {

/// A registered user and a client that carries its token.
struct TestUser {
  std::string email;
  std::string password;
  nlohmann::json user;  // the user object from register
  std::string id;
  std::string token;
  HttpClient client;
};

/// A unique e-mail address: <prefix>-<random>@example.com.
std::string unique_email(const std::string& prefix = "user");

/// Registers `extra` + {email, password} (random when not in `extra`) and logs in. Throws when either fails.
TestUser new_user(const std::string& base_url, nlohmann::json extra = nlohmann::json::object());

/// POST /api/v1/auth/login; the access token or throws.
std::string login(HttpClient& client, const std::string& email, const std::string& password);

/// POST /api/v1/tasks with `task` (a string is taken as the title); returns the created task or throws.
nlohmann::json create_task(HttpClient& client, nlohmann::json task);

/// Checks that `r` is an application/problem+json response with `status`, a body whose "status" matches and,
/// when `field` is not empty, an errors[] entry whose field equals `field` (or starts with it when `field`
/// ends in '*').
::testing::AssertionResult IsProblem(const HttpResponse& r, long status, const std::string& field = "");

/// Like IsProblem but any of `statuses` is accepted.
::testing::AssertionResult IsProblemOneOf(const HttpResponse& r, std::initializer_list<long> statuses,
                                          const std::string& field = "");

}  // namespace todo::test

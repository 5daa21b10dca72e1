// Shared fixture of the end-to-end tests: one PostgreSQL, one database and one todo-server per test binary,
// fresh users per test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/api.hpp"
#include "support/http_client.hpp"
#include "support/jwt.hpp"
#include "support/postgres.hpp"
#include "support/server.hpp"

namespace todo::test {

/// What to show of a server's output when a test failed: every warning, error and 5xx line, then the tail.
inline std::string server_output_digest(const std::string& out) {
  static const std::regex kNotable(R"re("level":"(warn|warning|error|critical)"|"status":5\d\d)re");
  std::string notable;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (std::regex_search(line, kNotable) && notable.size() < 20000) notable += line + "\n";
  }
  return "---- todo-server warnings, errors and 5xx ----\n" + notable +
         "---- todo-server output (tail) ----\n" + (out.size() > 4000 ? out.substr(out.size() - 4000) : out) +
         "\n---- end ----\n";
}

/// Fixture: the server is started by the first suite that needs it and stopped at exit.
class E2eTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    if (server_) return;
    auto& pg = TestPostgres::shared();
    db_name_ = "e2e_" + random_hex(4);
    db_url_ = pg.create_database(db_name_);
    server_ = std::make_unique<ServerProcess>(std::map<std::string, std::string>{{"DATABASE_URL", db_url_}});
    std::atexit([] { server_.reset(); });
  }

  static void TearDownTestSuite() {
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (server_ && suite != nullptr && suite->Failed()) {
      std::cerr << server_output_digest(server_->output());
    }
  }

 protected:
  static ServerProcess& server() { return *server_; }
  static const std::string& base_url() { return server_->base_url(); }
  static const std::string& db_url() { return db_url_; }
  static const std::string& db_name() { return db_name_; }

  /// A client without a token.
  static HttpClient anon() { return HttpClient(base_url()); }
  /// A freshly registered and logged-in user.
  static TestUser user(nlohmann::json extra = nlohmann::json::object()) {
    return new_user(base_url(), std::move(extra));
  }

 private:
  inline static std::unique_ptr<ServerProcess> server_;
  inline static std::string db_url_;
  inline static std::string db_name_;
};

inline const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
inline const std::regex kRfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");

/// Microseconds since the epoch of an RFC 3339 instant; nullopt when it is not one.
inline std::optional<long long> instant_us(const nlohmann::json& value) {
  if (!value.is_string()) return std::nullopt;
  static const std::regex kParts(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.(\d+))?([Zz]|([+-])(\d{2}):(\d{2}))$)");
  std::smatch m;
  const std::string s = value.get<std::string>();
  if (!std::regex_match(s, m, kParts)) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{std::stoi(m[1])}, month{static_cast<unsigned>(std::stoi(m[2]))},
                           day{static_cast<unsigned>(std::stoi(m[3]))}};
  if (!ymd.ok()) return std::nullopt;
  long long us = duration_cast<microseconds>(sys_days{ymd}.time_since_epoch()).count();
  us += (std::stoll(m[4]) * 3600 + std::stoll(m[5]) * 60 + std::stoll(m[6])) * 1'000'000LL;
  if (m[8].matched) {
    std::string frac = m[8].str().substr(0, 6);
    frac.resize(6, '0');
    us += std::stoll(frac);
  }
  if (m[10].matched) {
    const long long off = (std::stoll(m[11]) * 3600 + std::stoll(m[12]) * 60) * 1'000'000LL;
    us += m[10] == "+" ? -off : off;
  }
  return us;
}

/// The ids of a list response's items.
inline std::vector<std::string> ids_of(const nlohmann::json& items) {
  std::vector<std::string> out;
  for (const auto& t : items)
    out.push_back(t.at("id").get<std::string>());
  return out;
}

/// The titles of a list response's items.
inline std::vector<std::string> titles_of(const nlohmann::json& items) {
  std::vector<std::string> out;
  for (const auto& t : items)
    out.push_back(t.at("title").get<std::string>());
  return out;
}

/// Sum of the samples of `name` whose labels include every `labels` pair; nullopt when there is none.
inline std::optional<double> metric_sum(const std::string& text, const std::string& name,
                                        const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  double sum = 0;
  bool seen = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    const auto close = line.rfind('}');
    const std::string label_part = close == std::string::npos ? "" : line.substr(0, close);
    bool all = true;
    for (const auto& [k, v] : labels)
      if (label_part.find(k + "=\"" + v + "\"") == std::string::npos) all = false;
    if (!all) continue;
    sum += std::stod(line.substr(close == std::string::npos ? line.find(' ') : close + 1));
    seen = true;
  }
  if (!seen) return std::nullopt;
  return sum;
}

/// metric_sum(), 0 when there is no sample.
inline double metric_value(const std::string& text, const std::string& name,
                           const std::vector<std::pair<std::string, std::string>>& labels) {
  return metric_sum(text, name, labels).value_or(0);
}

/// GET /api/v1/tasks?<query>, which must answer 200 {items, next_cursor}; returns the body.
inline nlohmann::json list_tasks(HttpClient& client, const std::string& query = "") {
  const auto r = client.get("/api/v1/tasks" + (query.empty() ? "" : "?" + query));
  if (r.status != 200) throw std::runtime_error("GET /api/v1/tasks?" + query + ": " + r.describe());
  auto body = r.json();
  if (!body.is_object() || !body.contains("items") || !body["items"].is_array() ||
      !body.contains("next_cursor") || !(body["next_cursor"].is_null() || body["next_cursor"].is_string())) {
    throw std::runtime_error("GET /api/v1/tasks?" + query + ": not {items, next_cursor}: " + r.body);
  }
  return body;
}

/// All items of GET /api/v1/tasks?<query>, following next_cursor with pages of `limit`.
inline nlohmann::json list_all(HttpClient& client, const std::string& query, int limit,
                               int* pages = nullptr) {
  nlohmann::json all = nlohmann::json::array();
  std::string cursor;
  int n = 0;
  for (;;) {
    std::string q = query + (query.empty() ? "" : "&") + "limit=" + std::to_string(limit);
    if (!cursor.empty()) q += "&cursor=" + url_encode(cursor);
    const auto page = list_tasks(client, q);
    ++n;
    if (static_cast<int>(page["items"].size()) > limit) throw std::runtime_error("page larger than limit");
    for (const auto& t : page["items"])
      all.push_back(t);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"].get<std::string>();
    if (n > 1000) throw std::runtime_error("pagination does not end");
  }
  if (pages != nullptr) *pages = n;
  return all;
}

}  // namespace todo::test

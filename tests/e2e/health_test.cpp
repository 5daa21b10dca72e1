// End-to-end: health and readiness probes, request ids, Prometheus metrics.
#include <filesystem>
#include <map>
#include <sstream>

#include "e2e.hpp"
#include "support/process.hpp"

namespace todo::test {
namespace {

using HealthTest = E2eTest;

TEST_F(HealthTest, HealthzIsOk) {
  auto client = anon();
  const auto r = client.get("/healthz");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), nlohmann::json({{"status", "ok"}}));
  EXPECT_EQ(r.header("content-type").rfind("application/json", 0), 0u) << r.header("content-type");
}

TEST_F(HealthTest, ReadyzIsReady) {
  auto client = anon();
  const auto r = client.get("/readyz");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), nlohmann::json({{"status", "ready"}}));
}

TEST_F(HealthTest, RequestIdIsGeneratedAndUnique) {
  auto client = anon();
  const auto a = client.get("/healthz");
  const auto b = client.get("/healthz");
  const auto missing = client.get("/no/such/route");
  const auto unauthorised = client.get("/api/v1/me");
  for (const auto* r : {&a, &b, &missing, &unauthorised}) {
    EXPECT_FALSE(r->header("x-request-id").empty()) << r->describe();
  }
  EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));
}

TEST_F(HealthTest, RequestIdIsEchoed) {
  auto client = anon();
  const std::string id = "e2e-" + random_hex();
  EXPECT_EQ(client.get("/healthz", {{"X-Request-Id", id}}).header("x-request-id"), id);
  EXPECT_EQ(client.get("/no/such/route", {{"X-Request-Id", id}}).header("x-request-id"), id);
  EXPECT_EQ(client.get("/api/v1/tasks", {{"X-Request-Id", id}}).header("x-request-id"), id);
  EXPECT_EQ(client.request("POST", "/api/v1/auth/login", "{bad json", {{"X-Request-Id", id}})
                .header("x-request-id"),
            id);
}

TEST_F(HealthTest, UnknownRouteIs404Problem) {
  auto client = anon();
  EXPECT_TRUE(IsProblem(client.get("/no/such/route"), 404));
  EXPECT_TRUE(IsProblem(client.get("/api/v1/nothing-here"), 404));
}

TEST_F(HealthTest, MetricsCountRequestsByRouteTemplate) {
  auto alice = user();
  const auto task = create_task(alice.client, "metrics probe");
  const std::string id = task["id"];
  ASSERT_EQ(alice.client.get("/api/v1/tasks/" + id).status, 200);
  const std::string missing = "00000000-0000-4000-8000-" + random_hex(6);
  ASSERT_EQ(alice.client.get("/api/v1/tasks/" + missing).status, 404);
  const std::string junk = "/junk-" + random_hex();
  ASSERT_EQ(alice.client.get(junk).status, 404);

  auto client = anon();
  const auto before = client.get("/metrics");
  ASSERT_EQ(before.status, 200) << before.describe();
  const double healthz_before = metric_value(before.body, "http_requests_total",
                                             {{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}});
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(client.get("/healthz").status, 200);

  const auto r = client.get("/metrics");
  ASSERT_EQ(r.status, 200) << r.describe();
  const std::string ct = r.header("content-type");
  EXPECT_EQ(ct.rfind("text/plain", 0), 0u) << ct;
  EXPECT_NE(ct.find("version=0.0.4"), std::string::npos) << ct;
  const std::string& text = r.body;
  EXPECT_NE(text.find("# TYPE http_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE http_request_duration_seconds histogram"), std::string::npos);

  EXPECT_GE(metric_value(text, "http_requests_total",
                         {{"method", "GET"}, {"route", "/api/v1/tasks/{id}"}, {"status", "200"}}),
            1)
      << text;
  EXPECT_GE(metric_value(text, "http_requests_total",
                         {{"method", "GET"}, {"route", "/api/v1/tasks/{id}"}, {"status", "404"}}),
            1)
      << text;
  EXPECT_GE(metric_value(text, "http_requests_total",
                         {{"method", "POST"}, {"route", "/api/v1/tasks"}, {"status", "201"}}),
            1)
      << text;
  EXPECT_GE(metric_value(text, "http_requests_total",
                         {{"method", "GET"}, {"route", "/healthz"}, {"status", "200"}}),
            healthz_before + 3);
  EXPECT_GE(metric_value(text, "http_request_duration_seconds_count", {{"route", "/api/v1/tasks/{id}"}}), 2)
      << text;
  EXPECT_GE(metric_value(text, "http_request_duration_seconds_bucket",
                         {{"route", "/api/v1/tasks/{id}"}, {"le", "+Inf"}}),
            2);
  EXPECT_NE(text.find("http_request_duration_seconds_sum{"), std::string::npos);

  // Raw paths never become label values: no ids, no junk paths.
  EXPECT_EQ(text.find(id), std::string::npos);
  EXPECT_EQ(text.find(missing), std::string::npos);
  EXPECT_EQ(text.find(junk), std::string::npos);
}

// A request refused before routing whose head was read keeps its X-Request-Id (a 413 decided from
// Content-Length sent a new one) and is counted and logged under the route its path matches (they were all
// "unmatched", which is for no route, with an empty path for the 413).
TEST_F(HealthTest, RefusalsBeforeRoutingKeepTheRequestIdAndTheirRoute) {
  auto client = anon();
  const std::string before = client.get("/metrics").body;
  auto count = [](const std::string& text, const char* method, const char* route, const char* status) {
    return metric_value(text, "http_requests_total",
                        {{"method", method}, {"route", route}, {"status", status}});
  };
  const std::string tag = random_hex();
  struct Case {
    std::string request_id, request, route, path;
    int status;
  };
  const std::vector<Case> cases = {
      {"too-large-" + tag,
       "POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
       "2000000\r\n",
       "/api/v1/tasks", "/api/v1/tasks", 413},
      {"two-credentials-" + tag,
       "GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n",
       "/api/v1/me", "/api/v1/me", 400},
      {"task-413-" + tag,
       "PATCH http://x/api/v1/tasks/00000000-0000-4000-8000-000000000000?q=1 HTTP/1.1\r\nHost: "
       "x\r\nContent-Length: "
       "2000000\r\n",
       "/api/v1/tasks/{id}", "/api/v1/tasks/00000000-0000-4000-8000-000000000000", 413},
      {"no-route-" + tag, "POST /no-such-route HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n",
       "unmatched", "/no-such-route", 413},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request_id);
    RawConnection conn(base_url());
    ASSERT_TRUE(conn.send(c.request + "X-Request-Id: " + c.request_id + "\r\n\r\n"));
    const auto r = conn.read_response(std::chrono::seconds(10));
    ASSERT_TRUE(r) << conn.received();
    EXPECT_TRUE(IsProblem(*r, c.status)) << r->describe();
    EXPECT_EQ(r->header("x-request-id"), c.request_id);
  }
  const std::string after = client.get("/metrics").body;
  EXPECT_EQ(count(after, "POST", "/api/v1/tasks", "413"), count(before, "POST", "/api/v1/tasks", "413") + 1);
  EXPECT_EQ(count(after, "GET", "/api/v1/me", "400"), count(before, "GET", "/api/v1/me", "400") + 1);
  EXPECT_EQ(count(after, "PATCH", "/api/v1/tasks/{id}", "413"),
            count(before, "PATCH", "/api/v1/tasks/{id}", "413") + 1);
  EXPECT_EQ(count(after, "POST", "unmatched", "413"), count(before, "POST", "unmatched", "413") + 1);

  // Their access-log lines.
  ASSERT_TRUE(server().wait_for_output("\"request_id\":\"" + cases.back().request_id + "\"",
                                       std::chrono::seconds(5)));
  std::map<std::string, nlohmann::json> lines;
  std::istringstream out(server().output());
  for (std::string line; std::getline(out, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "request") lines[j.value("request_id", "")] = j;
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.request_id);
    ASSERT_TRUE(lines.count(c.request_id));
    EXPECT_EQ(lines[c.request_id]["status"], c.status);
    EXPECT_EQ(lines[c.request_id]["route"], c.route);
    EXPECT_EQ(lines[c.request_id]["path"], c.path);
  }
}

TEST_F(HealthTest, MetricsPassPromtool) {
  if (!std::filesystem::exists("/usr/bin/promtool")) GTEST_SKIP() << "promtool not installed";
  auto client = anon();
  ASSERT_EQ(client.get("/healthz").status, 200);
  ASSERT_EQ(client.get("/api/v1/me").status, 401);
  const auto r = client.get("/metrics");
  ASSERT_EQ(r.status, 200);
  const auto check = run_process({"/usr/bin/promtool", "check", "metrics"}, {.input = r.body, .cwd = {}});
  EXPECT_EQ(check.status, 0) << "promtool check metrics:\n"
                             << check.output << "\n--- metrics ---\n"
                             << r.body;
}

TEST_F(HealthTest, ProbesNeedNoToken) {
  auto client = anon();
  EXPECT_EQ(client.get("/healthz").status, 200);
  EXPECT_EQ(client.get("/readyz").status, 200);
  EXPECT_EQ(client.get("/metrics").status, 200);
}

}  // namespace
}  // namespace todo::test

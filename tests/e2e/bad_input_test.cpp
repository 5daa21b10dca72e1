// End-to-end: every class of bad input answers a 4xx problem naming the field — never a 500, a crash or a
// hang.
#include "e2e.hpp"

namespace todo::test {
namespace {

using BadInputTest = E2eTest;

std::string task_path(const nlohmann::json& t) {
  return "/api/v1/tasks/" + t.at("id").get<std::string>();
}

TEST_F(BadInputTest, MalformedJsonIs400) {
  auto u = user();
  for (const char* body :
       {"{\"title\": ", "{title: 1}", "", "{\"title\":\"a\"} trailing", "{\"title\":\"a\",}", "\xff\xfe"}) {
    EXPECT_TRUE(IsProblem(u.client.request("POST", "/api/v1/tasks", std::string(body)), 400, "body"))
        << "body: " << body;
  }
  const auto t = create_task(u.client, "x");
  EXPECT_TRUE(IsProblem(u.client.request("PATCH", task_path(t), std::string("{\"title\"")), 400, "body"));
  EXPECT_TRUE(IsProblem(anon().request("POST", "/api/v1/auth/register", std::string("{")), 400, "body"));
  EXPECT_TRUE(IsProblem(anon().request("POST", "/api/v1/auth/login", std::string("nope")), 400, "body"));
}

TEST_F(BadInputTest, InvalidUtf8IsRejected) {
  auto u = user();
  const std::string body = "{\"title\":\"bad \xc3\x28 utf8\"}";
  EXPECT_TRUE(IsProblemOneOf(u.client.request("POST", "/api/v1/tasks", body), {400, 422}));
}

TEST_F(BadInputTest, BodyThatIsNotAnObject) {
  auto u = user();
  for (const char* body : {"[]", "\"title\"", "42", "null", "true"}) {
    EXPECT_TRUE(
        IsProblemOneOf(u.client.request("POST", "/api/v1/tasks", std::string(body)), {400, 422}, "body"))
        << body;
  }
}

TEST_F(BadInputTest, WrongTypesAre422NamingTheField) {
  auto u = user();
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"title", 5}}, "title"},
      {{{"title", nullptr}}, "title"},
      {{{"title", {"a"}}}, "title"},
      {{{"title", "x"}, {"description", 5}}, "description"},
      {{{"title", "x"}, {"priority", 3}}, "priority"},
      {{{"title", "x"}, {"tags", "home"}}, "tags"},
      {{{"title", "x"}, {"tags", {"ok", 1}}}, "tags*"},
      {{{"title", "x"}, {"due_at", 1700000000}}, "due_at"},
      {{{"title", "x"}, {"all_day", "yes"}}, "all_day"},
      {{{"title", "x"}, {"all_day", 1}}, "all_day"},
      {{{"title", "x"}, {"timezone", 1}}, "timezone"},
      {{{"title", "x"}, {"recurrence", 1}}, "recurrence"},
  };
  for (const auto& [body, field] : cases) {
    EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", body), 422, field)) << body;
  }
  const auto t = create_task(u.client, "x");
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"title", 5}}), 422, "title"));
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"version", "one"}}), 422, "version"));
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"title", nullptr}}), 422, "title"));
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"all_day", nullptr}}), 422, "all_day"));
  EXPECT_EQ(u.client.get(task_path(t)).json(), t) << "a rejected PATCH changed the task";
}

TEST_F(BadInputTest, TagsAtPositionAreNamed) {
  auto u = user();
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"tags", {"a", "b", "c", 4}}}), 422,
                        "tags[3]"));
  EXPECT_TRUE(
      IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"tags", {"a", std::string(51, 'b')}}}), 422,
                "tags[1]"));
}

TEST_F(BadInputTest, UnknownEnumValuesAre422) {
  auto u = user();
  EXPECT_TRUE(
      IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"priority", "extreme"}}), 422, "priority"));
  EXPECT_TRUE(
      IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"priority", "HIGH "}}), 422, "priority"));
  const auto t = create_task(u.client, "x");
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"priority", ""}}), 422, "priority"));
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"status", "closed"}}), 422, "status"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?status=closed"), 422, "status"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?priority=extreme"), 422, "priority"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?priority=high&priority=bogus"), 422, "priority"));
}

TEST_F(BadInputTest, UnknownFieldsAre422) {
  auto u = user();
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"colour", "red"}}), 422, "colour"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"user_id", u.id}}), 422, "user_id"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"Title", "y"}}), 422, "Title"));
  const auto t = create_task(u.client, "x");
  EXPECT_TRUE(
      IsProblem(u.client.patch(task_path(t), {{"id", "00000000-0000-4000-8000-000000000000"}}), 422, "id"));
  EXPECT_TRUE(
      IsProblem(u.client.patch(task_path(t), {{"created_at", "2020-01-01T00:00:00Z"}}), 422, "created_at"));
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"whatever", 1}}), 422, "whatever"));
}

TEST_F(BadInputTest, TitleLimits) {
  auto u = user();
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", nlohmann::json::object()), 422, "title"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", ""}}), 422, "title"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "   \t\n  "}}), 422, "title"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", std::string(501, 'x')}}), 422, "title"));
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", std::string(500, 'x')}}).status, 201);
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "  " + std::string(500, 'x') + "  "}}).status, 201)
      << "the limit applies after trimming";
  // 500 characters, not bytes: "é" is two bytes in UTF-8.
  std::string accents;
  for (int i = 0; i < 500; ++i)
    accents += "\xc3\xa9";
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", accents}}).status, 201) << "500 two-byte characters";
  const auto t = create_task(u.client, "x");
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"title", "  "}}), 422, "title"));
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"title", std::string(501, 'y')}}), 422, "title"));
}

TEST_F(BadInputTest, DescriptionLimit) {
  auto u = user();
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "x"}, {"description", std::string(10000, 'd')}}).status,
            201);
  EXPECT_TRUE(
      IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"description", std::string(10001, 'd')}}),
                422, "description"));
}

TEST_F(BadInputTest, TagLimits) {
  auto u = user();
  nlohmann::json twenty = nlohmann::json::array();
  for (int i = 0; i < 20; ++i)
    twenty.push_back("t" + std::to_string(i));
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "x"}, {"tags", twenty}}).status, 201);
  auto twenty_one = twenty;
  twenty_one.push_back("t20");
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"tags", twenty_one}}), 422, "tags"));
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "x"}, {"tags", {std::string(50, 't')}}}).status, 201);
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"tags", {std::string(51, 't')}}}),
                        422, "tags*"));
  EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"tags", {""}}}), 422, "tags*"));
}

TEST_F(BadInputTest, BadDates) {
  auto u = user();
  for (const char* due : {"tomorrow", "2024-13-01T00:00:00Z", "2024-02-30T10:00:00Z", "2024-01-01T25:00:00Z",
                          "2024-01-01T10:00:00", "", "10:00",
                          // In UTC before 0001 or after 9999: it could not be written back as RFC 3339.
                          "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59"}) {
    EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"due_at", due}}), 422, "due_at"))
        << due;
  }
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?due_before=yesterday"), 422, "due_before"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?due_after=2024-99-01T00:00:00Z"), 422, "due_after"));
}

TEST_F(BadInputTest, BadTimezones) {
  auto u = user();
  for (const char* tz : {"Mars/Olympus", "", "utc+1", "../../etc/passwd"}) {
    EXPECT_TRUE(
        IsProblem(u.client.post("/api/v1/tasks", {{"title", "x"}, {"timezone", tz}}), 422, "timezone"))
        << tz;
  }
  EXPECT_EQ(
      u.client.post("/api/v1/tasks", {{"title", "x"}, {"timezone", "America/Argentina/Buenos_Aires"}}).status,
      201);
}

TEST_F(BadInputTest, MalformedIdInPathIs404) {
  auto u = user();
  for (const char* id : {"not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "%00", "..%2F..%2Fetc",
                         "00000000000000000000000000000000000000000000"}) {
    const std::string path = std::string("/api/v1/tasks/") + id;
    EXPECT_TRUE(IsProblem(u.client.get(path), 404)) << id;
    EXPECT_TRUE(IsProblem(u.client.patch(path, {{"title", "x"}}), 404)) << id;
    EXPECT_TRUE(IsProblem(u.client.del(path), 404)) << id;
    EXPECT_TRUE(IsProblem(u.client.post(path + "/complete"), 404)) << id;
  }
}

TEST_F(BadInputTest, BadCursors) {
  auto u = user();
  for (int i = 0; i < 3; ++i)
    create_task(u.client, "t" + std::to_string(i));
  const auto page = list_tasks(u.client, "limit=1");
  ASSERT_TRUE(page["next_cursor"].is_string());
  std::string good = page["next_cursor"];
  std::string tampered = good;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& cursor : {std::string("garbage"), std::string("!!!"), std::string("eyJ4IjoxfQ"),
                                    good.substr(0, good.size() / 2), tampered, std::string(4000, 'A')}) {
    EXPECT_TRUE(
        IsProblemOneOf(u.client.get("/api/v1/tasks?cursor=" + url_encode(cursor)), {400, 422}, "cursor"))
        << cursor;
  }
  // A cursor is bound to its sort: another sort must not misread it.
  const auto r = u.client.get("/api/v1/tasks?sort=title&cursor=" + url_encode(good));
  EXPECT_TRUE(r.status == 200 || IsProblemOneOf(r, {400, 422}, "cursor")) << r.describe();
  // Another user's cursor reveals nothing.
  auto other = user();
  const auto r2 = other.client.get("/api/v1/tasks?cursor=" + url_encode(good));
  if (r2.status == 200) {
    EXPECT_TRUE(r2.json()["items"].empty());
  } else {
    EXPECT_TRUE(IsProblemOneOf(r2, {400, 422}, "cursor"));
  }
}

TEST_F(BadInputTest, BadLimits) {
  auto u = user();
  for (const char* limit : {"0", "201", "abc", "-1", "1.5", "", "99999999999999999999"}) {
    EXPECT_TRUE(IsProblem(u.client.get(std::string("/api/v1/tasks?limit=") + limit), 422, "limit")) << limit;
  }
  EXPECT_EQ(u.client.get("/api/v1/tasks?limit=1").status, 200);
  EXPECT_EQ(u.client.get("/api/v1/tasks?limit=200").status, 200);
}

TEST_F(BadInputTest, BadSorts) {
  auto u = user();
  for (const char* sort :
       {"colour", "-", "title,", ",title", "--title", "id", "title;drop table tasks", "TITLE"}) {
    EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?sort=" + url_encode(sort)), 422, "sort")) << sort;
  }
}

TEST_F(BadInputTest, BadBooleanFilters) {
  auto u = user();
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?has_due=maybe"), 422, "has_due"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?overdue=2"), 422, "overdue"));
}

TEST_F(BadInputTest, BadQuerySyntaxIs400NamingTheParameter) {
  auto u = user();
  const std::pair<const char*, const char*> cases[] = {
      {"/api/v1/tasks?limit=%zz", "limit"}, {"/api/v1/tasks?q=%", "q"},
      {"/api/v1/tasks?tag=%G0", "tag"},     {"/api/v1/tasks?%zz=1", "%zz"},
      {"/api/v1/audit?from=%zz", "from"},   {"/readyz?x=%zz", "x"},
      {"/api/v1/tasks/%zz", "path"},
  };
  for (const auto& [target, field] : cases)
    EXPECT_TRUE(IsProblem(u.client.get(target), 400, field)) << target;
}

// Which of two values is meant is unknowable: 400 naming the parameter, wherever it is single-valued.
TEST_F(BadInputTest, RepeatedSingleValuedParametersAre400) {
  auto u = user();
  const auto t = create_task(u.client, "x");
  const std::string from = "from=2026-01-01T00:00:00Z";
  const std::pair<std::string, const char*> gets[] = {
      {"/api/v1/tasks?limit=1&limit=2", "limit"},
      {"/api/v1/tasks?sort=title&sort=due_at", "sort"},
      {"/api/v1/tasks?status=open&status=done", "status"},
      {"/api/v1/audit?limit=1&limit=2", "limit"},
      {"/api/v1/audit/stats?" + from + "&" + from, "from"},
      {"/api/v1/reminders?limit=1&limit=2", "limit"},
      {"/api/v1/reminders?upcoming=true&upcoming=false", "upcoming"},
      {"/api/v1/recurrence/preview?rule=FREQ=DAILY&start=2026-01-01T00:00:00Z&count=1&count=2", "count"},
      {task_path(t) + "/occurrences?count=1&count=2", "count"},
  };
  for (const auto& [target, field] : gets)
    EXPECT_TRUE(IsProblem(u.client.get(target), 400, field)) << target;
  EXPECT_TRUE(
      IsProblem(u.client.patch(task_path(t) + "?scope=series&scope=this", {{"title", "y"}}), 400, "scope"));
  EXPECT_EQ(u.client.get(task_path(t)).json()["title"], "x");  // nothing was changed
  // Repeatable filters stay repeatable.
  EXPECT_EQ(u.client.get("/api/v1/tasks?tag=a&tag=b&priority=low&priority=high").status, 200);
}

TEST_F(BadInputTest, UnknownReminderListParameterIs422) {
  auto u = user();
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/reminders?colour=blue"), 422, "colour"));
  EXPECT_EQ(u.client.get("/api/v1/reminders?upcoming=true&limit=5").status, 200);
}

TEST_F(BadInputTest, BadIfMatch) {
  auto u = user();
  const auto t = create_task(u.client, "x");
  for (const char* v : {"abc", "1.5", "-", "99999999999999999999999"}) {
    const auto r = u.client.patch(task_path(t), {{"title", "y"}}, {{"If-Match", v}});
    EXPECT_TRUE(IsProblemOneOf(r, {400, 422}, "If-Match")) << v;
  }
  // If-Match compares strongly: a weak tag never matches, even the current version's.
  EXPECT_TRUE(
      IsProblem(u.client.patch(task_path(t), {{"title", "y"}}, {{"If-Match", "W/\"1\""}}), 409, "If-Match"));
  EXPECT_TRUE(IsProblem(u.client.request("DELETE", task_path(t), std::nullopt, {{"If-Match", "W/\"1\""}}),
                        409, "If-Match"));
  // "*": whatever the current version is; the task must exist.
  const auto any = u.client.patch(task_path(t), {{"title", "z"}}, {{"If-Match", "*"}});
  ASSERT_EQ(any.status, 200) << any.describe();
  EXPECT_EQ(any.json()["title"], "z");
  EXPECT_EQ(u.client.patch(task_path(t), {{"title", "w"}}, {{"If-Match", "\"2\""}}).status, 200);
  EXPECT_EQ(u.client.request("DELETE", task_path(t), std::nullopt, {{"If-Match", "*"}}).status, 204);
  EXPECT_TRUE(IsProblem(u.client.patch(task_path(t), {{"title", "y"}}, {{"If-Match", "*"}}), 404));
}

TEST_F(BadInputTest, BodyOver1MiBIs413) {
  auto u = user();
  const std::string big = "{\"title\":\"x\",\"description\":\"" + std::string((1 << 20) + 16, 'a') + "\"}";
  // Expect: 100-continue lets the server refuse before the body is sent.
  const auto r = u.client.request("POST", "/api/v1/tasks", big, {{"Expect", "100-continue"}});
  EXPECT_TRUE(IsProblem(r, 413));
  EXPECT_EQ(u.client.get("/healthz").status, 200);
}

TEST_F(BadInputTest, BodyOver1MiBWithoutExpectIs413) {
  auto u = user();
  const std::string big = "{\"title\":\"x\",\"description\":\"" + std::string((1 << 20) + 16, 'a') + "\"}";
  const auto r = u.client.request("POST", "/api/v1/tasks", big);
  EXPECT_TRUE(IsProblem(r, 413));
}

TEST_F(BadInputTest, ChunkedBodyOver1MiBIs413) {
  auto u = user();
  RawConnection conn(base_url());
  std::string req = "POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + u.token +
                    "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_TRUE(conn.send(req));
  const std::string chunk(64 * 1024, 'a');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  for (int i = 0; i < 20 && conn.send(std::string(size_line) + chunk + "\r\n"); ++i) {
  }
  conn.send("0\r\n\r\n");
  const auto r = conn.read_response(std::chrono::seconds(10));
  ASSERT_TRUE(r) << "no response; received: " << conn.received().substr(0, 500);
  EXPECT_TRUE(IsProblem(*r, 413));
}

TEST_F(BadInputTest, NonJsonContentTypeIs415) {
  auto u = user();
  const std::string body = R"({"title":"x"})";
  EXPECT_TRUE(
      IsProblem(u.client.request("POST", "/api/v1/tasks", body, {{"Content-Type", "text/plain"}}), 415));
  EXPECT_TRUE(IsProblem(u.client.request("POST", "/api/v1/tasks", body,
                                         {{"Content-Type", "application/x-www-form-urlencoded"}}),
                        415));
  EXPECT_EQ(
      u.client.request("POST", "/api/v1/tasks", body, {{"Content-Type", "application/json; charset=utf-8"}})
          .status,
      201);
  EXPECT_EQ(u.client.request("POST", "/api/v1/tasks", body, {{"Content-Type", "Application/JSON"}}).status,
            201);
}

TEST_F(BadInputTest, WrongMethodIs405WithAllow) {
  auto u = user();
  const auto t = create_task(u.client, "x");
  const auto put = u.client.put(task_path(t), {{"title", "y"}});
  EXPECT_TRUE(IsProblem(put, 405));
  const std::string allow = put.header("allow");
  for (const char* m : {"GET", "PATCH", "DELETE"})
    EXPECT_NE(allow.find(m), std::string::npos) << allow;
  const auto del = u.client.del("/api/v1/tasks");
  EXPECT_TRUE(IsProblem(del, 405));
  EXPECT_NE(del.header("allow").find("POST"), std::string::npos) << del.header("allow");
  EXPECT_TRUE(IsProblem(u.client.get(task_path(t) + "/complete"), 405));
  EXPECT_TRUE(IsProblem(anon().get("/api/v1/auth/login"), 405));
}

TEST_F(BadInputTest, DeepNestingAndHugeNumbersDoNotCrash) {
  auto u = user();
  const std::string deep_open = std::string(100000, '[');
  const std::string deep = deep_open + std::string(100000, ']');
  EXPECT_TRUE(IsProblemOneOf(u.client.request("POST", "/api/v1/tasks", deep_open), {400, 413, 422}));
  EXPECT_TRUE(IsProblemOneOf(u.client.request("POST", "/api/v1/tasks", deep), {400, 413, 422}));
  const std::string nested_value = "{\"title\":" + deep + "}";
  EXPECT_TRUE(IsProblemOneOf(u.client.request("POST", "/api/v1/tasks", nested_value), {400, 413, 422}));
  EXPECT_TRUE(IsProblemOneOf(
      u.client.request("POST", "/api/v1/tasks", std::string("{\"title\":\"x\",\"version\":1e999}")),
      {400, 422}));
  const auto t = create_task(u.client, "x");
  EXPECT_TRUE(IsProblemOneOf(u.client.patch(task_path(t), {{"version", 1e300}}), {409, 422}));
  EXPECT_TRUE(IsProblemOneOf(u.client.patch(task_path(t), {{"version", -1}}), {409, 422}));
  EXPECT_EQ(u.client.get("/healthz").status, 200) << "the server died";
}

TEST_F(BadInputTest, OversizedHeadersAreRefused) {
  auto c = anon();
  try {
    const auto r = c.get("/healthz", {{"X-Big", std::string(64 * 1024, 'h')}});
    EXPECT_GE(r.status, 400);
    EXPECT_LT(r.status, 500);
  } catch (const std::exception&) {
    // Closing the connection is an acceptable answer too.
  }
  EXPECT_EQ(anon().get("/healthz").status, 200);
}

TEST_F(BadInputTest, NoFiveHundreds) {
  auto u = user();
  const auto metrics = anon().get("/metrics").body;
  EXPECT_EQ(metrics.find("status=\"500\""), std::string::npos)
      << "some request in this binary answered 500 — see the server log";
}

}  // namespace
}  // namespace todo::test

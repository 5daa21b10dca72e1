// Tests of the router: path templates, literal and parameter segments, 404 versus 405 with Allow.
#include "todo/http/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <string>

namespace todo::http {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A handler that answers with its own name, so a test can tell which one matched.
Router::Handler named(std::string name) {
  return [name = std::move(name)](Request&) -> boost::asio::awaitable<Response> {
    co_return Response::json(200, name);
  };
}

// Runs the matched handler and returns the name it answers with.
std::string run(const Router::Match& m) {
  if (!m.handler) return "<none>";
  boost::asio::io_context io;
  Request req;
  std::string out;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        Response r = co_await (*m.handler)(req);
        out = nlohmann::json::parse(r.body).get<std::string>();
      },
      boost::asio::detached);
  io.run();
  return out;
}

Router api() {
  Router r;
  r.add("GET", "/healthz", named("health"));
  r.add("GET", "/api/v1/tasks", named("list"));
  r.add("POST", "/api/v1/tasks", named("create"));
  r.add("GET", "/api/v1/tasks/{id}", named("get"));
  r.add("PATCH", "/api/v1/tasks/{id}", named("patch"));
  r.add("DELETE", "/api/v1/tasks/{id}", named("delete"));
  r.add("POST", "/api/v1/tasks/{id}/complete", named("complete"));
  r.add("POST", "/api/v1/tasks/{id}/reopen", named("reopen"));
  r.add("GET", "/api/v1/users/{user}/tasks/{task}", named("nested"));
  return r;
}

void ExpectNotFound(const Router& r, std::string_view method, std::string_view path) {
  const auto m = r.match(method, path);
  EXPECT_EQ(m.handler, nullptr) << path;
  EXPECT_EQ(m.route, "") << path;
  EXPECT_THAT(m.allowed, IsEmpty()) << path;
  EXPECT_THAT(m.params, IsEmpty()) << path;
}

TEST(Router, MatchesLiteralPaths) {
  const Router r = api();
  const auto m = r.match("GET", "/api/v1/tasks");
  EXPECT_EQ(run(m), "list");
  EXPECT_EQ(m.route, "/api/v1/tasks");
  EXPECT_THAT(m.params, IsEmpty());
  EXPECT_EQ(run(r.match("POST", "/api/v1/tasks")), "create");
  EXPECT_EQ(run(r.match("GET", "/healthz")), "health");
}

TEST(Router, CapturesParameters) {
  const Router r = api();
  auto m = r.match("GET", "/api/v1/tasks/0b7c1a7e-6a56-4d2c-9c4e-3c0b2a1d9e8f");
  EXPECT_EQ(run(m), "get");
  EXPECT_EQ(m.route, "/api/v1/tasks/{id}") << "the template, not the raw path (a metrics label)";
  EXPECT_THAT(m.params,
              ElementsAre(std::pair<std::string, std::string>{"id", "0b7c1a7e-6a56-4d2c-9c4e-3c0b2a1d9e8f"}));

  m = r.match("POST", "/api/v1/tasks/abc/complete");
  EXPECT_EQ(run(m), "complete");
  EXPECT_EQ(m.route, "/api/v1/tasks/{id}/complete");
  EXPECT_THAT(m.params, ElementsAre(std::pair<std::string, std::string>{"id", "abc"}));

  m = r.match("GET", "/api/v1/users/u1/tasks/t2");
  EXPECT_EQ(run(m), "nested");
  EXPECT_THAT(m.params, ElementsAre(std::pair<std::string, std::string>{"user", "u1"},
                                    std::pair<std::string, std::string>{"task", "t2"}));
}

TEST(Router, ParameterTakesAnyNonEmptySegmentVerbatim) {
  const Router r = api();
  for (const char* value : {"x", "not-a-uuid", "{id}", "a b", "..", "%41", "ÄÖÜ", "x;y=z"}) {
    const auto m = r.match("GET", std::string("/api/v1/tasks/") + value);
    EXPECT_EQ(run(m), "get") << value;
    EXPECT_THAT(m.params, ElementsAre(std::pair<std::string, std::string>{"id", value}));
  }
}

TEST(Router, LiteralSegmentsMustMatchExactly) {
  const Router r = api();
  for (const char* path :
       {"/api/v1/Tasks", "/api/v2/tasks", "/api/v1/task", "/api/v1/tasksX", "/api/v1", "/api", "/healthz2",
        "/HEALTHZ", "/api/v1/tasks/abc/done", "/api/v1/tasks/abc/complete/now", "/api/v1/users/u1/tasks"})
    ExpectNotFound(r, "GET", path);
}

TEST(Router, TrailingSlashIsNotFound) {
  const Router r = api();
  ExpectNotFound(r, "GET", "/api/v1/tasks/");
  ExpectNotFound(r, "GET", "/healthz/");
  ExpectNotFound(r, "POST", "/api/v1/tasks/abc/complete/");
}

TEST(Router, EmptySegmentsAreNotFound) {
  const Router r = api();
  ExpectNotFound(r, "GET", "//api/v1/tasks");
  ExpectNotFound(r, "GET", "/api//v1/tasks");
  ExpectNotFound(r, "GET", "/api/v1//tasks");
  ExpectNotFound(r, "POST", "/api/v1/tasks//complete");  // an empty {id} is no id
  ExpectNotFound(r, "GET", "/api/v1/users//tasks/t2");
}

TEST(Router, PathsMustBeAbsolute) {
  const Router r = api();
  ExpectNotFound(r, "GET", "");
  ExpectNotFound(r, "GET", "healthz");
  ExpectNotFound(r, "GET", "api/v1/tasks");
  ExpectNotFound(r, "GET", "*");
}

TEST(Router, RootPath) {
  Router r;
  r.add("GET", "/", named("root"));
  r.add("GET", "/{page}", named("page"));
  auto m = r.match("GET", "/");
  EXPECT_EQ(run(m), "root");
  EXPECT_EQ(m.route, "/");
  m = r.match("GET", "/about");
  EXPECT_EQ(run(m), "page");
  EXPECT_THAT(m.params, ElementsAre(std::pair<std::string, std::string>{"page", "about"}));
  ExpectNotFound(r, "GET", "//");
}

TEST(Router, WrongMethodIs405WithTheAllowedMethods) {
  const Router r = api();
  auto m = r.match("PUT", "/api/v1/tasks/abc");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.route, "/api/v1/tasks/{id}") << "a 405 still has a route for metrics";
  EXPECT_THAT(m.allowed, ElementsAre("GET", "HEAD", "PATCH", "DELETE"));

  m = r.match("DELETE", "/api/v1/tasks");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_THAT(m.allowed, ElementsAre("GET", "HEAD", "POST"));

  m = r.match("GET", "/api/v1/tasks/abc/complete");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_THAT(m.allowed, ElementsAre("POST")) << "only the methods of routes that match this path";
}

// What OPTIONS * lists: every method of any route, once, HEAD with GET, in the usual order.
TEST(Router, MethodsAreEveryRoutesOnceInTheUsualOrder) {
  EXPECT_THAT(api().methods(), ElementsAre("GET", "HEAD", "POST", "PATCH", "DELETE"));
  Router r;
  r.add("DELETE", "/a", named("a"));
  r.add("QUUX", "/b", named("b"));
  r.add("POST", "/c", named("c"));
  EXPECT_THAT(r.methods(), ElementsAre("POST", "DELETE", "QUUX"));
  EXPECT_THAT(Router().methods(), IsEmpty());
}

TEST(Router, MethodsAreCaseSensitive) {
  const Router r = api();
  const auto m = r.match("get", "/healthz");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_THAT(m.allowed, ElementsAre("GET", "HEAD"));
}

TEST(Router, MatchedRouteListsEveryAllowedMethodToo) {
  const Router r = api();
  const auto m = r.match("PATCH", "/api/v1/tasks/abc");
  EXPECT_EQ(run(m), "patch");
  EXPECT_THAT(m.allowed, ElementsAre("GET", "HEAD", "PATCH", "DELETE"));
}

// HEAD runs the GET route (the server writes its head alone); there is no HEAD where there is no GET.
TEST(Router, HeadRunsTheGetRoute) {
  const Router r = api();
  const auto m = r.match("HEAD", "/api/v1/tasks/abc");
  EXPECT_EQ(run(m), "get");
  EXPECT_EQ(m.route, "/api/v1/tasks/{id}");
  const auto post_only = r.match("HEAD", "/api/v1/tasks/abc/complete");
  EXPECT_EQ(post_only.handler, nullptr);
  EXPECT_THAT(post_only.allowed, ElementsAre("POST"));
}

TEST(Router, AllowedHasNoDuplicates) {
  Router r;
  r.add("GET", "/things/{id}", named("a"));
  r.add("GET", "/things/{name}", named("b"));
  r.add("POST", "/things/{id}", named("c"));
  const auto m = r.match("PUT", "/things/1");
  EXPECT_THAT(m.allowed, ElementsAre("GET", "HEAD", "POST"));
  EXPECT_EQ(run(r.match("GET", "/things/1")), "a") << "the first of two equal templates wins";
}

TEST(Router, LiteralSegmentBeatsParameterWhateverTheOrder) {
  for (bool literal_first : {true, false}) {
    SCOPED_TRACE(literal_first ? "literal added first" : "parameter added first");
    Router r;
    if (literal_first) r.add("GET", "/api/v1/tasks/search", named("search"));
    r.add("GET", "/api/v1/tasks/{id}", named("get"));
    r.add("DELETE", "/api/v1/tasks/{id}", named("delete"));
    if (!literal_first) r.add("GET", "/api/v1/tasks/search", named("search"));

    auto m = r.match("GET", "/api/v1/tasks/search");
    EXPECT_EQ(run(m), "search");
    EXPECT_EQ(m.route, "/api/v1/tasks/search");
    EXPECT_THAT(m.params, IsEmpty());

    m = r.match("GET", "/api/v1/tasks/other");
    EXPECT_EQ(run(m), "get");
    EXPECT_EQ(m.route, "/api/v1/tasks/{id}");
    EXPECT_THAT(m.params, ElementsAre(std::pair<std::string, std::string>{"id", "other"}));
  }
}

TEST(Router, EarlierLiteralSegmentIsMoreSpecific) {
  for (bool reversed : {false, true}) {
    Router r;
    auto add_a = [&] { r.add("GET", "/a/{x}/c", named("literal-first")); };
    auto add_b = [&] { r.add("GET", "/{y}/b/c", named("param-first")); };
    if (reversed) {
      add_b();
      add_a();
    } else {
      add_a();
      add_b();
    }
    EXPECT_EQ(run(r.match("GET", "/a/b/c")), "literal-first") << reversed;
    EXPECT_EQ(run(r.match("GET", "/z/b/c")), "param-first") << reversed;
  }
}

TEST(Router, BracesOnlyMakeAParameterAroundAName) {
  Router r;
  r.add("GET", "/x/{}", named("literal-braces"));
  EXPECT_EQ(run(r.match("GET", "/x/{}")), "literal-braces");
  ExpectNotFound(r, "GET", "/x/1");
}

TEST(Router, EmptyRouterFindsNothing) {
  const Router r;
  ExpectNotFound(r, "GET", "/");
  ExpectNotFound(r, "GET", "/api/v1/tasks");
}

}  // namespace
}  // namespace todo::http

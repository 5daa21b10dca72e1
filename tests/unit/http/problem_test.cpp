// Tests of RFC 9457 problem responses: the status for each Errc and the problem+json body.
#include "todo/http/problem.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace todo::http {
namespace {

using json = nlohmann::json;

struct Expected {
  Errc code;
  unsigned status;
};

constexpr Expected kAll[] = {
    {Errc::bad_request, 400},        {Errc::unauthorized, 401},  {Errc::not_found, 404},
    {Errc::method_not_allowed, 405}, {Errc::conflict, 409},      {Errc::payload_too_large, 413},
    {Errc::unsupported_media, 415},  {Errc::unprocessable, 422}, {Errc::too_many_requests, 429},
    {Errc::unavailable, 503},        {Errc::internal, 500},      {Errc::http_version, 505},
    {Errc::precondition, 412},
};

std::optional<std::string> header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size(); ++i)
      same = same && std::tolower(static_cast<unsigned char>(k[i])) ==
                         std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return v;
  }
  return std::nullopt;
}

TEST(Problem, StatusForEveryCode) {
  for (const auto& [code, status] : kAll)
    EXPECT_EQ(status_of(code), status) << static_cast<int>(code);
}

TEST(Problem, BodyHasEveryMember) {
  std::set<std::string> types;
  for (const auto& [code, status] : kAll) {
    SCOPED_TRACE(status);
    const Response r = problem(Error(code, "what happened"));
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.content_type, "application/problem+json");
    const json body = json::parse(r.body);
    ASSERT_TRUE(body.is_object());
    ASSERT_TRUE(body["type"].is_string());
    EXPECT_FALSE(body["type"].get<std::string>().empty());
    types.insert(body["type"].get<std::string>());
    ASSERT_TRUE(body["title"].is_string());
    EXPECT_FALSE(body["title"].get<std::string>().empty());
    EXPECT_EQ(body["status"], status);
    EXPECT_EQ(body["detail"], "what happened");
    EXPECT_EQ(body["errors"], json::array());
  }
  EXPECT_EQ(types.size(), std::size(kAll)) << "each kind of problem has its own type";
}

TEST(Problem, FieldErrorsAreListedInOrder) {
  const Response r =
      problem(Error(Errc::unprocessable, "2 fields are invalid",
                    {{"title", "must not be empty"}, {"tags[3]", "must be at most 50 characters"}}));
  EXPECT_EQ(r.status, 422u);
  const json body = json::parse(r.body);
  EXPECT_EQ(body["errors"], json::parse(R"([{"field":"title","message":"must not be empty"},
                                            {"field":"tags[3]","message":"must be at most 50 characters"}])"));
}

TEST(Problem, InvalidHelperNamesTheField) {
  const Response r = problem(invalid("limit", "must be a whole number from 1 to 200"));
  EXPECT_EQ(r.status, 422u);
  const json body = json::parse(r.body);
  EXPECT_EQ(body["detail"], "limit: must be a whole number from 1 to 200");
  EXPECT_EQ(body["errors"][0]["field"], "limit");
}

TEST(Problem, UnauthorizedAsksForABearerToken) {
  const Response r = problem(Error(Errc::unauthorized, "token expired"));
  const auto challenge = header(r, "WWW-Authenticate");
  ASSERT_TRUE(challenge);
  EXPECT_EQ(challenge->rfind("Bearer", 0), 0u) << *challenge;
  for (const auto& [code, status] : kAll)
    if (code != Errc::unauthorized) {
      EXPECT_FALSE(header(problem(Error(code, "x")), "WWW-Authenticate")) << status;
    }
}

TEST(Problem, BytesThatAreNotUtf8StillMakeValidJson) {
  // Field names can come from raw query strings (an unknown parameter "%FF").
  const Response r =
      problem(Error(Errc::unprocessable, "\xff: unknown query parameter", {{"\xff", "unknown"}}));
  const json body = json::parse(r.body);
  EXPECT_TRUE(body["detail"].is_string());
  EXPECT_TRUE(body["errors"][0]["field"].is_string());
}

TEST(Problem, DetailIsEscaped) {
  const Response r = problem(Error(Errc::bad_request, "quote \" backslash \\ newline \n </script>"));
  EXPECT_EQ(json::parse(r.body)["detail"], "quote \" backslash \\ newline \n </script>");
}

TEST(Response, JsonAndNoContent) {
  const Response j = Response::json(201, {{"a", 1}});
  EXPECT_EQ(j.status, 201u);
  EXPECT_EQ(j.content_type, "application/json");
  EXPECT_EQ(json::parse(j.body), json({{"a", 1}}));
  const Response n = Response::no_content();
  EXPECT_EQ(n.status, 204u);
  EXPECT_TRUE(n.body.empty());
  EXPECT_TRUE(n.content_type.empty());
  Response h = Response::no_content();
  h.with_header("Location", "/x").with_header("ETag", "\"1\"");
  EXPECT_THAT(h.headers, ::testing::ElementsAre(std::pair<std::string, std::string>{"Location", "/x"},
                                                std::pair<std::string, std::string>{"ETag", "\"1\""}));
}

}  // namespace
}  // namespace todo::http

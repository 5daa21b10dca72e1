// Tests of the request accessors: headers, route parameters and single or repeated query parameters.
#include "todo/http/message.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "todo/core/error.hpp"
#include "unit/error_of.hpp"

namespace todo::http {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Request sample() {
  Request r;
  r.method = "GET";
  r.path = "/api/v1/tasks";
  r.query = {{"tag", "home"}, {"status", "open"}, {"tag", "work"}, {"empty", ""}, {"tag", "home"}};
  r.headers = {{"authorization", "Bearer abc"}, {"x-request-id", "r-1"}, {"accept", "a"}, {"accept", "b"}};
  r.params = {{"id", "42"}, {"name", "n"}};
  return r;
}

TEST(Request, HeaderByLowerCaseName) {
  const Request r = sample();
  EXPECT_EQ(r.header("authorization"), "Bearer abc");
  EXPECT_EQ(r.header("x-request-id"), "r-1");
  EXPECT_EQ(r.header("accept"), "a") << "the first of repeated headers";
  EXPECT_EQ(r.header("if-match"), "");
  EXPECT_TRUE(r.header("if-match").empty());
  EXPECT_EQ(r.header(""), "");
}

TEST(Request, Param) {
  const Request r = sample();
  EXPECT_EQ(r.param("id"), "42");
  EXPECT_EQ(r.param("name"), "n");
  EXPECT_EQ(r.param("missing"), "");
}

TEST(Request, QueryAllKeepsOrderAndDuplicates) {
  const Request r = sample();
  EXPECT_THAT(r.query_all("tag"), ElementsAre("home", "work", "home"));
  EXPECT_THAT(r.query_all("status"), ElementsAre("open"));
  EXPECT_THAT(r.query_all("empty"), ElementsAre(""));
  EXPECT_THAT(r.query_all("missing"), IsEmpty());
  EXPECT_THAT(r.query_all("Tag"), IsEmpty()) << "names are case-sensitive";
}

TEST(Request, QueryOne) {
  const Request r = sample();
  EXPECT_EQ(r.query_one("status"), "open");
  EXPECT_EQ(r.query_one("missing"), std::nullopt);
  const auto empty = r.query_one("empty");
  ASSERT_TRUE(empty) << "present but empty is not absent";
  EXPECT_EQ(*empty, "");
}

TEST(Request, QueryOneRepeatedIsABadRequestNamingIt) {
  const Request r = sample();
  EXPECT_TRUE(test::ThrowsNaming([&] { r.query_one("tag"); }, Errc::bad_request, "tag"));
  Request same;
  same.query = {{"limit", "5"}, {"limit", "5"}};
  EXPECT_TRUE(test::ThrowsNaming([&] { same.query_one("limit"); }, Errc::bad_request, "limit"))
      << "even with equal values";
}

}  // namespace
}  // namespace todo::http

// Plain request and response types shared by the server and the route handlers (no Beast here).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace todo::http {

/// A parsed request as handlers see it.
struct Request {
  std::string method;
  std::string path;  // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::vector<std::pair<std::string, std::string>> params;   // from the route template
  std::string body;
  std::string request_id;
  std::string route;    // the matched route template, e.g. /api/v1/tasks/{id}
  std::string user_id;  // set once the bearer token is verified

  std::string_view header(std::string_view lower_name) const;
  /// A list-valued header (If-Match, If-None-Match): the trimmed, non-empty items of all its lines, one list
  /// as RFC 9110 5.3 reads them; nullopt when there is none (an empty list when it is there but blank).
  std::optional<std::vector<std::string_view>> header_items(std::string_view lower_name) const;
  std::string_view param(std::string_view name) const;
  /// Every value of a repeatable query parameter, in order.
  std::vector<std::string> query_all(std::string_view name) const;
  /// A single-valued query parameter; a repeated one is a 400 naming it.
  std::optional<std::string> query_one(std::string_view name) const;
};

/// What a handler answers.
struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response json(unsigned status, const nlohmann::json& body);
  static Response no_content();
  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

}  // namespace todo::http

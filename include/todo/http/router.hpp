// Router: method + path template ("/api/v1/tasks/{id}") → coroutine handler.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "todo/http/message.hpp"

namespace todo::http {

/// The query parameters a route takes. A request naming any other is a 422 naming it, before the handler
/// runs: a misspelt `scope` must not act on the wrong occurrences. `any()`: the handler checks its own.
struct RouteQuery {
  std::vector<std::string> names;
  bool any_checked_by_handler = false;
  static RouteQuery any() { return {{}, true}; }
};

/// Maps requests to handlers by method and path template.
class Router {
 public:
  using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

  /// A route that takes no query parameter.
  void add(std::string method, std::string pattern, Handler handler);
  void add(std::string method, std::string pattern, RouteQuery query, Handler handler);

  /// Runs (with the route and its parameters set) before a request is refused for a query parameter its
  /// route does not take, and may refuse it first for something a client must fix before: the API refuses a
  /// missing or bad token with its 401 there, as the routes that read their own parameters do.
  void before_query_refusal(std::function<void(Request&)> check) { before_query_refusal_ = std::move(check); }
  void run_before_query_refusal(Request& req) const {
    if (before_query_refusal_) before_query_refusal_(req);
  }

  /// Runs (with the route and its parameters set) before anything else is checked of a request a route
  /// serves, and may refuse it: the API refuses every request with a 503 while the server starts.
  void gate(std::function<void(Request&)> check) { gate_ = std::move(check); }
  void run_gate(Request& req) const {
    if (gate_) gate_(req);
  }

  /// Runs when a route's handler refuses a request with a 404 (nothing the caller owns by that name), and may
  /// refuse it with another error instead: the API answers a token whose account is gone with its 401 there.
  void on_not_found(std::function<boost::asio::awaitable<void>(Request&)> check) {
    on_not_found_ = std::move(check);
  }
  boost::asio::awaitable<void> run_on_not_found(Request& req) const {
    if (on_not_found_) co_await on_not_found_(req);
  }

  /// The outcome of matching one request.
  struct Match {
    const Handler* handler = nullptr;   // null: no route for this method
    const RouteQuery* query = nullptr;  // the handler's
    std::string route;                  // the template matched (empty when the path matches nothing)
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<std::string> allowed;  // methods the path supports (for 405 Allow)
  };
  Match match(std::string_view method, std::string_view path) const;
  /// Every method some route serves (HEAD wherever GET is), GET, HEAD, POST, PUT, PATCH, DELETE first in
  /// that order: what OPTIONS * answers (RFC 9110 9.3.7).
  std::vector<std::string> methods() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    RouteQuery query;
  };
  std::vector<Route> routes_;
  std::function<void(Request&)> before_query_refusal_;
  std::function<void(Request&)> gate_;
  std::function<boost::asio::awaitable<void>(Request&)> on_not_found_;
};

}  // namespace todo::http

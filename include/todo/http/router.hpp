// Router: method + path template ("/api/v1/tasks/{id}") → coroutine handler.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "todo/http/message.hpp"

namespace todo::http {

/// Maps requests to handlers by method and path template.
class Router {
 public:
  using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

  void add(std::string method, std::string pattern, Handler handler);

  /// The outcome of matching one request.
  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method
    std::string route;                 // the template matched (empty when the path matches nothing)
    std::vector<std::pair<std::string, std::string>> params;
    std::vector<std::string> allowed;  // methods the path supports (for 405 Allow)
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace todo::http

// Router: segment-wise matching of path templates.
#include "todo/http/router.hpp"

#include <algorithm>
#include <array>

namespace todo::http {
namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Of two templates matching the same path, the one with a literal where the other has its first parameter
// wins ("/tasks/search" over "/tasks/{id}"), whatever the order they were added in.
bool more_specific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (is_param(a[i]) != is_param(b[i])) return !is_param(a[i]);
  return false;
}

}  // namespace

void Router::add(std::string method, std::string pattern, Handler handler) {
  add(std::move(method), std::move(pattern), RouteQuery{}, std::move(handler));
}

void Router::add(std::string method, std::string pattern, RouteQuery query, Handler handler) {
  Route r{std::move(method), pattern, {}, std::move(handler), std::move(query)};
  for (auto s : split(pattern))
    r.segments.emplace_back(s);
  routes_.push_back(std::move(r));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  if (path.empty() || path.front() != '/') return m;
  // HEAD is GET without the body (RFC 9110 9.3.2): the server writes the GET's head alone.
  if (method == "HEAD") method = "GET";
  const auto parts = split(path);
  const std::vector<std::string>* route_segments = nullptr;
  const std::vector<std::string>* handler_segments = nullptr;
  for (const auto& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    std::vector<std::pair<std::string, std::string>> params;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const auto& seg = r.segments[i];
      if (is_param(seg)) {
        if (parts[i].empty())
          ok = false;
        else
          params.emplace_back(seg.substr(1, seg.size() - 2), std::string(parts[i]));
      } else {
        ok = seg == parts[i];
      }
    }
    if (!ok) continue;
    if (!route_segments || more_specific(r.segments, *route_segments)) {
      route_segments = &r.segments;
      if (!m.handler) m.route = r.pattern;
    }
    if (std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end()) {
      m.allowed.push_back(r.method);
      if (r.method == "GET") m.allowed.emplace_back("HEAD");
    }
    if (r.method == method && (!m.handler || more_specific(r.segments, *handler_segments))) {
      handler_segments = &r.segments;
      m.handler = &r.handler;
      m.query = &r.query;
      m.route = r.pattern;
      m.params = std::move(params);
    }
  }
  return m;
}

std::vector<std::string> Router::methods() const {
  static constexpr std::array<std::string_view, 6> kOrder = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  const auto rank = [](const std::string& m) {
    return static_cast<std::size_t>(std::find(kOrder.begin(), kOrder.end(), m) - kOrder.begin());
  };
  std::vector<std::string> out;
  const auto add = [&out](const std::string& m) {
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  };
  for (const auto& r : routes_) {
    add(r.method);
    if (r.method == "GET") add("HEAD");
  }
  std::stable_sort(out.begin(), out.end(),
                   [&rank](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
  return out;
}

}  // namespace todo::http

// Request accessors and response constructors.
#include "todo/http/message.hpp"

#include "todo/core/error.hpp"
#include "todo/core/text.hpp"

namespace todo::http {

std::string_view Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

std::optional<std::vector<std::string_view>> Request::header_items(std::string_view lower_name) const {
  std::optional<std::vector<std::string_view>> items;
  for (const auto& [k, v] : headers) {
    if (k != lower_name) continue;
    if (!items) items.emplace();
    for (std::string_view rest = v;;) {
      const auto comma = rest.find(',');
      if (const auto item = trim(rest.substr(0, comma)); !item.empty()) items->push_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return items;
}

std::string_view Request::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return v;
  return {};
}

std::vector<std::string> Request::query_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query)
    if (k == name) out.push_back(v);
  return out;
}

std::optional<std::string> Request::query_one(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : query) {
    if (k != name) continue;
    if (out) throw repeated_parameter(std::string(name));
    out = v;
  }
  return out;
}

Response Response::json(unsigned status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace todo::http

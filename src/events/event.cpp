// CloudEvents 1.0 envelope.
#include "todo/events/event.hpp"

#include "todo/core/json_writer.hpp"

namespace todo::events {

void append_stored_cloudevent(std::string& out, std::string_view event_id, std::string_view type,
                              std::string_view subject, std::string_view data) {
  json::ObjectWriter o(out);
  o.raw("data") += data;
  o.string("datacontenttype", "application/json")
      .string("id", event_id)
      .string("source", "todo-server")
      .string("specversion", "1.0")
      .string("subject", subject)
      .string("type", type);
}

std::string numbered_cloudevent(std::string_view stored, std::int64_t sequence) {
  if (stored.empty() || stored.front() != '{') return std::string(stored);
  std::string out = "{\"sequence\":";
  out.reserve(stored.size() + 32);
  out += std::to_string(sequence);
  const std::string_view rest = stored.substr(1);
  const auto first = rest.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && rest[first] != '}') out += ',';  // not an empty object
  out.append(rest);
  return out;
}

}  // namespace todo::events

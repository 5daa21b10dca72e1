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

}  // namespace todo::events

// CloudEvents 1.0 envelope.
#include "todo/events/event.hpp"

namespace todo::events {

nlohmann::json cloudevent(std::string_view event_id, std::string_view type, std::string_view subject,
                          Instant time, std::int64_t sequence, nlohmann::json data) {
  return {{"specversion", "1.0"},
          {"id", event_id},
          {"source", "todo-server"},
          {"type", type},
          {"subject", subject},
          {"time", format_rfc3339(time)},
          {"datacontenttype", "application/json"},
          {"sequence", sequence},
          {"data", std::move(data)}};
}

}  // namespace todo::events

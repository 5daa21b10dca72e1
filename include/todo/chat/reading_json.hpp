// A Reading from JSON: the tool-call arguments of a language model, or a command stored with an open
// question. Validated like user input (the task API's rules for titles, tags, priorities, dates and rules).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "todo/chat/parser.hpp"
#include "todo/core/error.hpp"

namespace todo::chat {

/// The intent named `s` (the wire names of to_string(Intent), "delete" for remove).
std::optional<Intent> parse_intent(std::string_view s);

/// Reads the fields of to_json(Reading) except spans and problems (which are not accepted), plus an optional
/// `confidence`. Dates must be RFC 3339 with an offset and, for due dates, not more than a day in the past
/// (`now`); a command that needs a title, a target, a rule or an index must have it. Every problem is added
/// to `errors` (field + message); nullopt when there is any.
std::optional<Reading> reading_from_json(const nlohmann::json& j, Instant now,
                                         std::vector<FieldError>& errors);

/// The JSON schema of those fields (the parameters of the LLM tool).
nlohmann::json reading_schema();

}  // namespace todo::chat

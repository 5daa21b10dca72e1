// The chat dialog: one message in, a reply out, executed through tasks::service inside the caller's
// transaction (so events, audit rows and real-time sync follow as for the REST API). It answers the open
// question of the conversation first (a choice among candidates, a confirmation), asks instead of acting
// below the confidence threshold, and keeps an undo stack of what it changed.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/chat/conversation.hpp"
#include "todo/chat/parser.hpp"

namespace todo::chat {

/// Settings of the dialog (TODO_CHAT_CONFIDENCE, TODO_CHAT_TTL_S).
struct DialogSettings {
  double confidence = 0.7;           // below it the dialog asks instead of acting
  std::chrono::seconds ttl{86'400};  // a conversation expires this long after its last turn
};

/// One user message and how it was read.
struct Turn {
  std::string user_id;
  std::string request_id;
  std::string message;
  Reading reading;
  std::string source = "parser";         // "parser" or "llm": who produced the reading
  std::optional<std::string> llm_error;  // the model was asked but its answer was not usable: why
  const date::time_zone* zone = nullptr;
  Instant now{};
};

/// The response of POST /api/v1/chat.
struct Reply {
  std::string conversation_id;
  std::string text;
  Intent intent = Intent::unknown;
  double confidence = 0;
  nlohmann::json actions = nlohmann::json::array();  // [{type, task, …}]
  bool needs_clarification = false;
  std::vector<std::string> options;
  std::string source = "parser";
  std::optional<std::string> llm_error;
};
nlohmann::json to_json(const Reply& r);

/// Handles one message of conversation `c` (which it updates: turns, pending question, undo stack; the caller
/// saves it). Task changes go through tasks::service in `w`.
Reply respond(pqxx::transaction_base& w, Conversation& c, const Turn& turn, const DialogSettings& settings);

/// The titles of the user's tasks (open or done) that `message` holds, case aside (at most 50): what the
/// parser may read as the name of a task after a command (ParseContext::titles).
std::vector<std::string> titles_in(pqxx::transaction_base& w, const std::string& user_id,
                                   const std::string& message);

/// The help text: what the dialog understands.
std::string help_text();

}  // namespace todo::chat

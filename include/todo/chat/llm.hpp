// The optional language model: an OpenAI-compatible chat-completions endpoint (a local Ollama, a hosted API)
// that reads the messages the built-in parser could not, through one tool whose parameters are the Reading's
// JSON form. Its answer is validated like user input (reading_from_json) before anything is executed.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "todo/chat/parser.hpp"

namespace todo::chat {

struct LlmOptions {
  std::string url;  // http(s)://host:port/v1/chat/completions
  std::string model;
  std::string api_key;  // sent as "Authorization: Bearer …" when not empty; never logged
  std::chrono::milliseconds timeout{5000};
};

/// What the model made of a message: a validated reading, or why there is none.
struct LlmAnswer {
  std::optional<Reading> reading;
  std::string error;  // "timed out after 5000 ms", "HTTP 500", "invalid tool arguments: due_at: …"
};

/// The name of the tool the model is asked to call.
inline constexpr std::string_view kLlmTool = "todo_command";

/// The request body sent for one message (model, system + user messages, the tool definition).
nlohmann::json llm_request(const LlmOptions& options, std::string_view message, Instant now,
                           std::string_view timezone);

/// Reads a chat-completions response body: the tool call's arguments (a JSON string or object) validated.
LlmAnswer read_llm_response(std::string_view body, Instant now);

/// A blocking client (libcurl): call it from a thread that may wait for `timeout`, never an io thread.
class LlmClient {
 public:
  explicit LlmClient(LlmOptions options);
  const LlmOptions& options() const { return options_; }
  LlmAnswer interpret(std::string_view message, Instant now, std::string_view timezone) const;

 private:
  LlmOptions options_;
};

}  // namespace todo::chat

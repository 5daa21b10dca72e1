// The LLM client: one POST per message with libcurl, the tool call read and validated.
#include "todo/chat/llm.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "todo/chat/reading_json.hpp"

namespace todo::chat {
namespace {

constexpr std::size_t kMaxResponse = 1 << 20;

struct Sink {
  std::string body;
  bool too_large = false;
};

std::size_t on_data(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const std::size_t bytes = size * n;
  if (sink->body.size() + bytes > kMaxResponse) {
    sink->too_large = true;
    return 0;  // aborts the transfer
  }
  sink->body.append(data, bytes);
  return bytes;
}

std::string system_prompt(Instant now, std::string_view timezone) {
  return "You turn one message of a user of a to-do app into a call of the tool " + std::string(kLlmTool) +
         ". The current time is " + format_rfc3339(now) + " and the user's time zone is " +
         std::string(timezone) +
         ". Give due_at as RFC 3339 with an offset; when only a day is named, due_at is the start of that "
         "day in "
         "the user's zone and all_day is true. Give recurrence as an RFC 5545 RRULE value without 'RRULE:'. "
         "For commands on an existing task (complete, reopen, delete, update, make_recurring, "
         "stop_recurring, "
         "add_reminder) put the words naming it in target. For questions about tasks use intent list with "
         "query. "
         "To move a task by an amount of time (\"postpone X by 2 days\") use intent update with shift, an "
         "ISO 8601 duration such as P2D (-P2D for earlier), and no due_at. "
         "Never guess a date you cannot read: use intent unknown instead.";
}

}  // namespace

nlohmann::json llm_request(const LlmOptions& options, std::string_view message, Instant now,
                           std::string_view timezone) {
  nlohmann::json tool = {{"type", "function"},
                         {"function",
                          {{"name", kLlmTool},
                           {"description", "Perform one to-do command the user asked for"},
                           {"parameters", reading_schema()}}}};
  return {{"model", options.model},
          {"temperature", 0},
          {"messages",
           {{{"role", "system"}, {"content", system_prompt(now, timezone)}},
            {{"role", "user"}, {"content", std::string(message)}}}},
          {"tools", nlohmann::json::array({tool})},
          {"tool_choice", {{"type", "function"}, {"function", {{"name", kLlmTool}}}}}};
}

LlmAnswer read_llm_response(std::string_view body, Instant now) {
  LlmAnswer a;
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    a.error = "the answer is not JSON";
    return a;
  }
  const nlohmann::json* call = nullptr;
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
    const auto& msg =
        j["choices"][0].is_object() ? j["choices"][0].value("message", nlohmann::json()) : nlohmann::json();
    if (msg.is_object() && msg.contains("tool_calls") && msg["tool_calls"].is_array() &&
        !msg["tool_calls"].empty())
      call = &j["choices"][0]["message"]["tool_calls"][0];
  }
  if (!call || !call->is_object() || !call->contains("function") || !(*call)["function"].is_object()) {
    a.error = "the answer has no tool call";
    return a;
  }
  const auto& fn = (*call)["function"];
  if (fn.value("name", std::string()) != kLlmTool) {
    a.error = "the answer calls an unknown tool";
    return a;
  }
  nlohmann::json args;
  if (fn.contains("arguments") && fn["arguments"].is_string())
    args = nlohmann::json::parse(fn["arguments"].get<std::string>(), nullptr, false);
  else if (fn.contains("arguments"))
    args = fn["arguments"];
  if (args.is_discarded() || !args.is_object()) {
    a.error = "the tool arguments are not a JSON object";
    return a;
  }
  std::vector<FieldError> errors;
  a.reading = reading_from_json(args, now, errors);
  if (!a.reading) {
    a.error = "invalid tool arguments:";
    for (const auto& e : errors)
      a.error += " " + e.field + ": " + e.message + ";";
    a.error.pop_back();
  }
  return a;
}

LlmClient::LlmClient(LlmOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

LlmAnswer LlmClient::interpret(std::string_view message, Instant now, std::string_view timezone) const {
  LlmAnswer a;
  const std::string request = llm_request(options_, message, now, timezone).dump();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    a.error = "cannot start an HTTP request";
    return a;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  const std::string auth = "Authorization: Bearer " + options_.api_key;
  if (!options_.api_key.empty()) headers = curl_slist_append(headers, auth.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, curl_slist_free_all);
  Sink sink;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    a.error = "no answer within " + std::to_string(options_.timeout.count()) + " ms";
    return a;
  }
  if (sink.too_large) {
    a.error = "the answer is larger than 1 MiB";
    return a;
  }
  if (rc != CURLE_OK) {
    a.error = std::string("request failed: ") + curl_easy_strerror(rc);
    return a;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    a.error = "HTTP " + std::to_string(status);
    return a;
  }
  return read_llm_response(sink.body, now);
}

}  // namespace todo::chat

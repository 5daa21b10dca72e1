// Unit tests of what a language model may say: reading_from_json (the tool-call arguments, validated like
// user input), read_llm_response (the chat-completions answer) and llm_request (what is sent).
#include "todo/chat/llm.hpp"

#include <gtest/gtest.h>

#include "todo/chat/reading_json.hpp"

namespace todo::chat {
namespace {

using nlohmann::json;

const Instant kNow = *parse_rfc3339("2026-03-04T15:00:00Z");

std::optional<Reading> read(const json& j, std::vector<FieldError>* out = nullptr) {
  std::vector<FieldError> errors;
  auto r = reading_from_json(j, kNow, errors);
  EXPECT_EQ(r.has_value(), errors.empty()) << j;
  if (out) *out = errors;
  return r;
}

bool rejects(const json& j, const std::string& field) {
  std::vector<FieldError> errors;
  if (read(j, &errors)) return false;
  for (const auto& e : errors)
    if (e.field == field) return true;
  return false;
}

TEST(ReadingFromJson, AcceptsAFullCreate) {
  const auto r = read({{"intent", "create"},
                       {"title", "  Water the plants "},
                       {"due_at", "2026-03-05T09:00:00+01:00"},
                       {"all_day", false},
                       {"recurrence", "RRULE:FREQ=WEEKLY;BYDAY=MO,TH"},
                       {"recurrence_mode", "after_completion"},
                       {"priority", "high"},
                       {"tags", {"Home", "home", "garden"}},
                       {"reminders", {{{"before_due", "PT1H30M"}}, {{"at", "2026-03-05T07:00:00Z"}}}},
                       {"confidence", 0.75}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->intent, Intent::create);
  EXPECT_EQ(r->title, "Water the plants");
  EXPECT_EQ(format_rfc3339(*r->due_at), "2026-03-05T08:00:00Z");
  EXPECT_EQ(*r->recurrence, "FREQ=WEEKLY;BYDAY=MO,TH");
  EXPECT_EQ(r->recurrence_mode, RecurrenceMode::after_completion);
  EXPECT_EQ(*r->priority, Priority::high);
  EXPECT_EQ(r->tags, (std::vector<std::string>{"home", "garden"}));
  ASSERT_EQ(r->reminders.size(), 2u);
  EXPECT_EQ(r->reminders[0].before_due->count(), 5400);
  EXPECT_TRUE(r->reminders[1].at);
  EXPECT_DOUBLE_EQ(r->confidence, 0.75);
  EXPECT_FALSE(r->query);
}

TEST(ReadingFromJson, RoundTripsTheParsersJsonForm) {
  const auto ctx = make_context(kNow, "America/New_York");
  for (const char* text :
       {"Buy milk tomorrow at 5pm #home p2", "show high priority tasks tagged work due this week",
        "move the dentist to friday 3pm", "the second one", "remind me to call mom every Sunday at 6pm",
        "postpone the report by 2 days", "move the dentist earlier by 30 minutes",
        "push the report back a month"}) {
    const Reading p = parse(text, *ctx);
    json j = to_json(p);
    j.erase("spans");
    j.erase("problems");
    const auto r = read(j);
    ASSERT_TRUE(r) << text;
    json back = to_json(*r);
    back.erase("spans");
    back.erase("problems");
    EXPECT_EQ(back, j) << text;
  }
}

// A move by an amount, as a model may say it: earlier with a minus sign.
TEST(ReadingFromJson, ReadsAShift) {
  const auto r = read({{"intent", "update"}, {"target", "report"}, {"shift", "-PT90M"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->shift, (Shift{-90, Shift::Unit::minute}));
  EXPECT_FALSE(r->due_at);
  const auto none =
      read({{"intent", "update"}, {"target", "report"}, {"shift", nullptr}, {"priority", "high"}});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->shift);
}

TEST(ReadingFromJson, RejectsWhatTheApiWouldReject) {
  EXPECT_TRUE(rejects({{"title", "x"}}, "intent"));
  EXPECT_TRUE(rejects({{"intent", "explode"}}, "intent"));
  EXPECT_TRUE(rejects({{"intent", 3}}, "intent"));
  EXPECT_TRUE(rejects({{"intent", "create"}}, "title"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", std::string(501, 'a')}}, "title"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a\x01"}}, "title"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"due_at", "tomorrow"}}, "due_at"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"due_at", "2026-03-05T09:00:00"}}, "due_at"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"due_at", "2026-03-01T09:00:00Z"}}, "due_at"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"priority", 5}}, "priority"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"priority", "p1"}}, "priority"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"tags", "work"}}, "tags"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"tags", {"two words"}}}, "tags"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"all_day", "yes"}}, "all_day"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"recurrence", "every day"}}, "recurrence"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"recurrence", "FREQ=DAILY\nX"}}, "recurrence"));
  EXPECT_TRUE(
      rejects({{"intent", "create"}, {"title", "a"}, {"recurrence_mode", "sometimes"}}, "recurrence_mode"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"reminders", {{{"before_due", "30 minutes"}}}}},
                      "reminders"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"confidence", 2}}, "confidence"));
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "a"}, {"surprise", true}}, "surprise"));
  EXPECT_TRUE(rejects({{"intent", "complete"}}, "target"));
  EXPECT_TRUE(rejects({{"intent", "make_recurring"}, {"target", "gym"}}, "recurrence"));
  for (const json& shift : {json("P1DT2H"), json("2 days"), json(2), json("P0D"), json("PT1D")})
    EXPECT_TRUE(rejects({{"intent", "update"}, {"target", "report"}, {"shift", shift}}, "shift")) << shift;
  EXPECT_TRUE(rejects({{"intent", "create"}, {"title", "report"}, {"shift", "P2D"}}, "shift"));
  EXPECT_TRUE(rejects(
      {{"intent", "update"}, {"target", "report"}, {"shift", "P2D"}, {"due_at", "2026-03-05T09:00:00Z"}},
      "shift"));
  EXPECT_TRUE(rejects({{"intent", "select"}}, "index"));
  EXPECT_TRUE(rejects({{"intent", "select"}, {"index", 0}}, "index"));
  EXPECT_TRUE(rejects({{"intent", "list"}, {"query", {{"status", "maybe"}}}}, "query.status"));
  EXPECT_TRUE(rejects({{"intent", "list"}, {"query", {{"due_before", "soon"}}}}, "query.due_before"));
  EXPECT_TRUE(rejects({{"intent", "list"}, {"query", {{"sort", "title"}}}}, "query.sort"));
  std::vector<FieldError> errors;
  EXPECT_FALSE(reading_from_json(json::array(), kNow, errors));
  EXPECT_FALSE(errors.empty());
}

json completion(const json& arguments) {
  return {{"choices",
           {{{"message",
              {{"role", "assistant"},
               {"tool_calls",
                {{{"type", "function"},
                  {"function", {{"name", "todo_command"}, {"arguments", arguments}}}}}}}}}}}};
}

TEST(LlmResponse, ReadsAToolCall) {
  const json args = {{"intent", "list"}, {"query", {{"status", "open"}, {"overdue", true}}}};
  auto a = read_llm_response(completion(args.dump()).dump(), kNow);
  ASSERT_TRUE(a.reading) << a.error;
  EXPECT_EQ(a.reading->intent, Intent::list);
  EXPECT_TRUE(a.reading->query->overdue);
  a = read_llm_response(completion(args).dump(), kNow);  // arguments as an object
  ASSERT_TRUE(a.reading) << a.error;
}

TEST(LlmResponse, ExplainsBadAnswers) {
  EXPECT_EQ(read_llm_response("<html>", kNow).error, "the answer is not JSON");
  EXPECT_EQ(read_llm_response(R"({"choices":[{"message":{"content":"hi"}}]})", kNow).error,
            "the answer has no tool call");
  EXPECT_EQ(read_llm_response(R"({"choices":[]})", kNow).error, "the answer has no tool call");
  json other = completion("{}");
  other["choices"][0]["message"]["tool_calls"][0]["function"]["name"] = "rm_rf";
  EXPECT_EQ(read_llm_response(other.dump(), kNow).error, "the answer calls an unknown tool");
  EXPECT_EQ(read_llm_response(completion("{\"intent\":").dump(), kNow).error,
            "the tool arguments are not a JSON object");
  const auto bad =
      read_llm_response(completion(R"({"intent":"create","title":"x","priority":9})").dump(), kNow);
  EXPECT_FALSE(bad.reading);
  EXPECT_EQ(bad.error.rfind("invalid tool arguments: priority", 0), 0u) << bad.error;
}

TEST(LlmRequest, CarriesTheMessageAndTheToolSchema) {
  const LlmOptions o{"http://127.0.0.1:1/v1/chat/completions", "llama3.1", "",
                     std::chrono::milliseconds(5000)};
  const json r = llm_request(o, "water the plants on the 35th", kNow, "Europe/Berlin");
  EXPECT_EQ(r["model"], "llama3.1");
  EXPECT_EQ(r["messages"][1], json({{"role", "user"}, {"content", "water the plants on the 35th"}}));
  EXPECT_NE(r["messages"][0]["content"].get<std::string>().find("Europe/Berlin"), std::string::npos);
  EXPECT_NE(r["messages"][0]["content"].get<std::string>().find("2026-03-04T15:00:00Z"), std::string::npos);
  const auto& fn = r["tools"][0]["function"];
  EXPECT_EQ(fn["name"], "todo_command");
  EXPECT_EQ(fn["parameters"]["type"], "object");
  EXPECT_EQ(fn["parameters"]["required"], json::array({"intent"}));
  EXPECT_EQ(fn["parameters"]["properties"]["intent"]["enum"].size(), 15u);
  EXPECT_EQ(fn["parameters"]["properties"]["shift"]["type"], json::array({"string", "null"}));
  EXPECT_EQ(r["tool_choice"]["function"]["name"], "todo_command");
}

TEST(LlmClient, ConnectionRefusedIsAnError) {
  // Port 1 on loopback: nothing listens; the answer is an error, never a reading.
  const LlmClient c({"http://127.0.0.1:1/v1/chat/completions", "m", "", std::chrono::milliseconds(2000)});
  const auto a = c.interpret("hello", kNow, "UTC");
  EXPECT_FALSE(a.reading);
  EXPECT_EQ(a.error.rfind("request failed", 0), 0u) << a.error;
}

}  // namespace
}  // namespace todo::chat

// The phrasing corpus: each case of corpus.json is parsed with its fixed now, zone and date order, and every
// field of the reading is compared with the case's expectation.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "todo/chat/parser.hpp"

namespace todo::chat {
namespace {

const nlohmann::json& corpus() {
  static const nlohmann::json c = [] {
    std::ifstream in(TODO_CHAT_CORPUS);
    return nlohmann::json::parse(in);
  }();
  return c;
}

const std::set<std::string> kFields = {
    "intent",          "confidence", "title",    "target", "due_at", "all_day", "recurrence",
    "recurrence_mode", "reminders",  "priority", "tags",   "query",  "index"};

TEST(ChatCorpus, HasAtLeast300CasesEachAssertingEveryField) {
  const auto& cases = corpus().at("cases");
  ASSERT_GE(cases.size(), 300u);
  std::set<std::string> texts;
  for (const auto& c : cases) {
    std::set<std::string> keys;
    for (const auto& [k, v] : c.at("expect").items())
      keys.insert(k);
    EXPECT_EQ(keys, kFields) << c.at("text");
    texts.insert(c.at("text").get<std::string>() + "|" + c.value("now", "") + "|" + c.value("timezone", "") +
                 "|" + c.value("order", ""));
  }
  EXPECT_EQ(texts.size(), cases.size()) << "duplicate cases";
}

TEST(ChatCorpus, EveryCaseReadsAsExpected) {
  const auto& root = corpus();
  int failures = 0;
  for (const auto& c : root.at("cases")) {
    const std::string text = c.at("text");
    const auto now = parse_rfc3339(c.value("now", root.at("now").get<std::string>()));
    ASSERT_TRUE(now) << text;
    const auto ctx = make_context(
        *now, c.value("timezone", root.at("timezone").get<std::string>()),
        c.value("order", "month_first") == "day_first" ? DateOrder::day_first : DateOrder::month_first);
    ASSERT_TRUE(ctx) << text;
    const Reading r = parse(text, *ctx);
    const auto got = to_json(r);
    const auto& want = c.at("expect");
    for (const auto& field : kFields) {
      nlohmann::json actual =
          field == "confidence" ? nlohmann::json(r.confidence >= 0.7 ? "high" : "low") : got.at(field);
      if (actual != want.at(field)) {
        ++failures;
        ADD_FAILURE() << "\"" << text << "\": " << field << " is " << actual.dump() << ", expected "
                      << want.at(field).dump() << "\n  reading: " << got.dump();
      }
    }
    // The confidence itself is always within 0..1, and low exactly when problems were found or the message
    // is not understood.
    EXPECT_GE(r.confidence, 0.0) << text;
    EXPECT_LE(r.confidence, 1.0) << text;
    if (!r.problems.empty()) {
      EXPECT_LT(r.confidence, 0.7) << text;
    }
  }
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace todo::chat

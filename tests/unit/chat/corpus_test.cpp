// The phrasing corpus: each case of corpus.json is parsed with its fixed now, zone and date order, and every
// field of the reading is compared with the case's expectation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
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

const std::set<std::string> kFields = {"intent",  "confidence", "title",           "target",    "due_at",
                                       "all_day", "recurrence", "recurrence_mode", "reminders", "priority",
                                       "tags",    "query",      "index",           "shift"};

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
                 "|" + c.value("order", "") + "|" + c.value("titles", nlohmann::json::array()).dump());
  }
  EXPECT_EQ(texts.size(), cases.size()) << "duplicate cases";
}

/// The case's text parsed with its fixed now, zone and date order (the corpus's defaults where it has none);
/// nullopt when those are invalid.
std::optional<Reading> read_case(const nlohmann::json& c) {
  const auto& root = corpus();
  const auto now = parse_rfc3339(c.value("now", root.at("now").get<std::string>()));
  if (!now) return std::nullopt;
  const auto ctx = make_context(
      *now, c.value("timezone", root.at("timezone").get<std::string>()),
      c.value("order", "month_first") == "day_first" ? DateOrder::day_first : DateOrder::month_first);
  if (!ctx) return std::nullopt;
  // "titles": the user's task titles, as the dialog passes them (the words after a command naming one)
  const auto titles = c.value("titles", std::vector<std::string>{});
  auto with_titles = *ctx;
  if (!titles.empty()) with_titles.titles = &titles;
  return parse(c.at("text").get<std::string>(), with_titles);
}

/// Calls check(case, text, reading) for every case of the corpus.
template <class Check>
void for_each_case(Check check) {
  for (const auto& c : corpus().at("cases")) {
    const std::string text = c.at("text");
    const auto read = read_case(c);
    ASSERT_TRUE(read) << "bad now, zone or order in the case: " << text;
    check(c, text, *read);
  }
}

TEST(ChatCorpus, EveryCaseReadsAsExpected) {
  int failures = 0;
  for_each_case([&](const nlohmann::json& c, const std::string& text, const Reading& r) {
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
  });
  EXPECT_EQ(failures, 0);
}

// The spans of every case agree with its reading: well-formed (inside the text, on UTF-8 boundaries, in
// order, not overlapping), a span of the matching kind for each recognised part and none for a part not
// recognised, and none over the title the user typed.
TEST(ChatCorpus, EveryCasesSpansAgreeWithItsReading) {
  int failures = 0;
  for_each_case([&](const nlohmann::json&, const std::string& text, const Reading& r) {
    // Span offsets are in Unicode code points (docs/chat.md): the byte offset where each code point starts.
    std::vector<std::size_t> byte_at;
    for (std::size_t i = 0; i < text.size(); ++i)
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) byte_at.push_back(i);
    byte_at.push_back(text.size());
    auto fail = [&](const std::string& what) {
      ++failures;
      ADD_FAILURE() << "\"" << text << "\": " << what << "\n  reading: " << to_json(r).dump();
    };
    std::map<SpanKind, int> kinds;
    std::vector<std::pair<std::size_t, std::size_t>> bytes;  // each span in bytes
    std::size_t previous_end = 0;
    for (const auto& sp : r.spans) {
      if (!(sp.start < sp.end && sp.end < byte_at.size())) {
        fail("span " + std::to_string(sp.start) + ".." + std::to_string(sp.end) +
             " is not a piece of the text");
        continue;
      }
      if (sp.start < previous_end) fail("spans overlap or are out of order at " + std::to_string(sp.start));
      previous_end = std::max(previous_end, sp.end);
      ++kinds[sp.kind];
      bytes.emplace_back(byte_at[sp.start], byte_at[sp.end]);
    }
    const bool create = r.intent == Intent::create;
    // A part recognised but invalid ("every 0 days") is still highlighted; the problems say what is wrong.
    const bool sure = r.problems.empty();
    const auto has = [&](SpanKind k) { return kinds.count(k) > 0; };
    if (create && r.due_at && !has(SpanKind::date) && !has(SpanKind::time) && !has(SpanKind::recurrence))
      fail("a due time without a date, time or recurrence span");
    const bool recurring = r.recurrence.has_value();
    if (create && recurring && !has(SpanKind::recurrence)) fail("a recurrence without its span");
    if (sure && !recurring && has(SpanKind::recurrence) && r.intent != Intent::stop_recurring)
      fail("a recurrence span without a recurrence");
    if (create && r.priority && !has(SpanKind::priority)) fail("a priority without its span");
    if (sure && !r.priority && has(SpanKind::priority) && r.intent != Intent::list)
      fail("a priority span without a priority");
    if (create && !r.tags.empty() && !has(SpanKind::tag)) fail("tags without a tag span");
    if (sure && r.tags.empty() && has(SpanKind::tag) && r.intent != Intent::list)
      fail("a tag span without tags");
    for (std::size_t i = text.find('#'); i != std::string::npos; i = text.find('#', i + 1)) {
      bool covered = false;
      for (std::size_t k = 0; k < bytes.size(); ++k)
        covered = covered || (bytes[k].first <= i && i < bytes[k].second && r.spans[k].kind == SpanKind::tag);
      if (create && i + 1 < text.size() && std::isalnum(static_cast<unsigned char>(text[i + 1])) && !covered)
        fail("#tag at " + std::to_string(i) + " is not in a tag span");
    }
    if (create && !r.title.empty()) {
      const auto at = text.find(r.title);
      if (at != std::string::npos)
        for (const auto& [b, e] : bytes)
          if (b < at + r.title.size() && at < e)
            fail("bytes " + std::to_string(b) + ".." + std::to_string(e) + " of a span cover the title");
    }
  });
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace todo::chat

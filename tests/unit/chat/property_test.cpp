// Hostile input: the parser never throws, never hangs and keeps its invariants on 10 000 random strings
// (random bytes, random Unicode, token soups from its own vocabulary), each within a time budget, and on very
// long inputs (of which it reads the first kMaxParseBytes = 8000 bytes).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "todo/chat/parser.hpp"

namespace todo::chat {
namespace {

const char* const kVocabulary[] = {
    "every",  "every!", "other",   "day",        "days",       "week",       "weeks",   "month",
    "year",   "monday", "tue",     "sun",        "and",        ",",          "at",      "on",
    "by",     "before", "until",   "starting",   "for",        "times",      "the",     "last",
    "first",  "2nd",    "15th",    "35th",       "of",         "in",         "a",       "an",
    "half",   "hour",   "minutes", "from",       "now",        "tomorrow",   "today",   "tonight",
    "next",   "this",   "weekend", "end",        "noon",       "midnight",   "morning", "5pm",
    "5:30",   "25:00",  "13pm",    "3/5",        "2026-02-30", "2026-03-05", "march",   "5",
    "0",      "9999",   "p1",      "p4",         "!!",         "!!!",        "#work",   "#",
    "tagged", "with",   "remind",  "me",         "to",         "about",      "done",    "mark",
    "as",     "not",    "rename",  "move",       "make",       "repeat",     "stop",    "repeating",
    "what's", "due",    "overdue", "show",       "yes",        "no",         "second",  "one",
    "undo",   "help",   "after",   "completion", "priority",   "high",       "urgent",  "'",
    "\"",     "(",      ")",       "?",          ".",          ":",          "é",       "日本",
    "\xff",   "\xc3",   "\x00"};

#ifdef NDEBUG
constexpr auto kBudget = std::chrono::milliseconds(5);  // per message, Release
#else
constexpr auto kBudget = std::chrono::milliseconds(50);  // unoptimised builds
#endif

/// How long one parse of `text` takes: the best of `runs` (a slow input is slow every time; a preempted
/// run is not).
std::chrono::nanoseconds parse_time(const std::string& text, const ParseContext& ctx, int runs) {
  auto best = std::chrono::nanoseconds::max();
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const Reading r = parse(text, ctx);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(r.confidence, 0.0);  // keeps the call from being optimised away
    best = std::min(best, std::chrono::duration_cast<std::chrono::nanoseconds>(took));
  }
  return best;
}

void check(const std::string& text, const ParseContext& ctx) {
  Reading r;
  ASSERT_NO_THROW(r = parse(text, ctx)) << text;
  EXPECT_GE(r.confidence, 0.0);
  EXPECT_LE(r.confidence, 1.0);
  if (!r.problems.empty()) {
    EXPECT_LT(r.confidence, 0.7);
  }
  for (const auto& s : r.spans) {
    EXPECT_LE(s.start, s.end);
    EXPECT_LE(s.end, text.size());
  }
  EXPECT_LE(r.title.size(), text.size());
  EXPECT_LE(r.target.size(), text.size());
  // The JSON form is always serialisable (nlohmann throws on invalid UTF-8 unless told otherwise).
  ASSERT_NO_THROW((void)to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) << text;
}

TEST(ChatProperty, TenThousandRandomStrings) {
  std::mt19937 rng(20260304);
  const auto now = *parse_rfc3339("2026-03-04T15:00:00Z");
  const ParseContext zones[] = {*make_context(now, "America/New_York"), *make_context(now, "Europe/Berlin"),
                                *make_context(now, "Pacific/Chatham", DateOrder::day_first)};
  constexpr std::size_t kVocab = sizeof(kVocabulary) / sizeof(kVocabulary[0]);
  std::chrono::nanoseconds slowest{0};
  std::string slowest_text;
  for (int n = 0; n < 10000; ++n) {
    std::string s;
    const int kind = n % 4;
    const int len = static_cast<int>(rng() % 80);
    if (kind == 0) {  // random bytes
      for (int i = 0; i < len; ++i)
        s.push_back(static_cast<char>(rng() % 256));
    } else if (kind == 1) {  // random code points, UTF-8 encoded
      for (int i = 0; i < len; ++i) {
        std::uint32_t cp = rng() % 0x11000;
        if (cp >= 0xD800 && cp < 0xE000) cp = 'x';
        if (cp < 0x80) {
          s.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
          s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
          s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
          s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
      }
    } else {  // token soups from the grammar's own words
      for (int i = 0; i < len / 3 + 1; ++i) {
        if (i) s += (rng() % 5 == 0) ? "" : " ";
        s += kVocabulary[rng() % kVocab];
      }
    }
    check(s, zones[n % 3]);
    if (HasFatalFailure()) return;
    auto took = parse_time(s, zones[n % 3], 1);
    if (took > kBudget) took = parse_time(s, zones[n % 3], 5);  // over budget once: time it again
    if (took > slowest) {
      slowest = took;
      slowest_text = s;
    }
  }
  EXPECT_LT(slowest, kBudget) << "slowest parse: " << slowest.count() << " ns for \"" << slowest_text << "\"";
}

/// The parser reads only the first kMaxParseBytes (8000) bytes of a message (the API refuses longer
/// messages before parsing): a longer input reads exactly like its first 8000 bytes.
void check_truncated(const std::string& text, const ParseContext& ctx) {
  ASSERT_GT(text.size(), kMaxParseBytes);
  check(text, ctx);
  const Reading whole = parse(text, ctx);
  const Reading head = parse(std::string_view(text).substr(0, kMaxParseBytes), ctx);
  const auto dump = [](const Reading& r) {
    return to_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  EXPECT_EQ(dump(whole), dump(head));
  for (const auto& s : whole.spans)
    EXPECT_LE(s.end, kMaxParseBytes);
  EXPECT_LE(whole.title.size(), kMaxParseBytes);
  EXPECT_LE(whole.target.size(), kMaxParseBytes);
  EXPECT_LT(parse_time(text, ctx, 3), kBudget * 20) << "a long input is cut, so it is never slow";
}

TEST(ChatProperty, VeryLongInputsAreReadUpTo8000Bytes) {
  static_assert(kMaxParseBytes == 8000);
  const auto ctx = *make_context(*parse_rfc3339("2026-03-04T15:00:00Z"), "UTC");
  std::string words;
  while (words.size() < 64 * 1024)
    words += "every monday and tuesday at 5pm #tag p1 tomorrow ";
  check_truncated(words, ctx);
  check_truncated(std::string(1 << 20, 'a'), ctx);
  check_truncated(std::string(1 << 20, ' '), ctx);
  check_truncated(std::string(100000, '!'), ctx);
  std::string commas;
  for (int i = 0; i < 20000; ++i)
    commas += "monday, ";
  check_truncated("every " + commas, ctx);
  // What lies past the 8000th byte is not read at all: a title there does not appear.
  const Reading r = parse(std::string(kMaxParseBytes, ' ') + "Buy milk tomorrow", ctx);
  EXPECT_EQ(r.title, "");
  EXPECT_FALSE(r.due_at);
}

}  // namespace
}  // namespace todo::chat

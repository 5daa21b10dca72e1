// Tests of list queries: query-string validation, tsquery building, opaque cursors and the generated SQL.
#include "todo/tasks/query.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "todo/core/encoding.hpp"
#include "unit/error_of.hpp"

namespace todo::tasks {

// Found by argument-dependent lookup from the matchers, so outside the anonymous namespace.
bool operator==(const SortKey& a, const SortKey& b) {
  return a.field == b.field && a.descending == b.descending;
}

void PrintTo(const SortKey& k, std::ostream* os) {
  *os << (k.descending ? "-" : "+") << static_cast<int>(k.field);
}

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;
using json = nlohmann::json;
using test::error_of;
using test::fields_of;
using test::ThrowsNaming;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kColumns = "id, title";
constexpr const char* kUser = "5f0e8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b";
constexpr const char* kId = "0b7c1a7e-6a56-4d2c-9c4e-3c0b2a1d9e8f";
constexpr const char* kHostile = "x'); drop table tasks;--";

Instant utc(int y, unsigned m, unsigned d, int hh = 0) {
  using namespace std::chrono;
  return Instant{sys_days{year{y} / month{m} / day{d}}} + hours{hh};
}

::testing::AssertionResult Rejects(const Params& params, const std::string& field,
                                   Errc code = Errc::unprocessable) {
  return ThrowsNaming([&] { parse_list_query(params); }, code, field);
}

::testing::AssertionResult CursorRejected(Params params, const std::string& cursor) {
  params.emplace_back("cursor", cursor);
  return ThrowsNaming([&] { parse_list_query(params); }, Errc::bad_request, "cursor") << " cursor " << cursor;
}

// ---- parse_list_query ----

TEST(Cacheable, OnlyShapesAnIndexServesWhateverTheUser) {
  auto cacheable_for = [](const Params& p) { return cacheable(parse_list_query(p)); };
  EXPECT_TRUE(cacheable_for({}));
  EXPECT_TRUE(cacheable_for({{"status", "done"}, {"sort", "-title"}}));
  EXPECT_TRUE(cacheable_for({{"sort", "-priority,due_at"}, {"limit", "10"}}));
  EXPECT_TRUE(cacheable_for({{"status", "open"}, {"priority", "high"}, {"sort", "due_at"}}));
  EXPECT_TRUE(cacheable_for({{"status", "open"}, {"priority", "high"}, {"sort", "due_at,title"}}));
  EXPECT_TRUE(cacheable_for({{"status", "done"}, {"priority", "high"}, {"sort", "due_at"}}));
  // A priority the order's index does not lead with, or not of the open (or done) tasks by due date.
  EXPECT_FALSE(cacheable_for({{"priority", "high"}}));
  EXPECT_FALSE(cacheable_for({{"priority", "high"}, {"sort", "due_at"}}));
  EXPECT_FALSE(cacheable_for({{"status", "open"}, {"priority", "high"}, {"sort", "-due_at"}}));
  EXPECT_FALSE(cacheable_for({{"status", "done"}, {"priority", "high"}, {"sort", "-due_at"}}));
  // Several: one exact list a priority (build_list_sql's union).
  EXPECT_TRUE(
      cacheable_for({{"status", "open"}, {"priority", "high"}, {"priority", "low"}, {"sort", "due_at"}}));
  EXPECT_FALSE(cacheable_for({{"priority", "high"}, {"priority", "low"}, {"sort", "due_at"}}));
  EXPECT_FALSE(cacheable_for(
      {{"status", "open"}, {"priority", "high"}, {"priority", "low"}, {"sort", "due_at,title"}}));
  EXPECT_FALSE(cacheable_for({{"q", "milk"}}));
  EXPECT_FALSE(cacheable_for({{"tag", "work"}}));
  EXPECT_FALSE(cacheable_for({{"any_tag", "work"}}));
  EXPECT_FALSE(cacheable_for({{"due_after", "2026-03-05T09:00:00Z"}}));
  EXPECT_FALSE(cacheable_for({{"due_before", "2026-03-05T09:00:00Z"}}));
  EXPECT_FALSE(cacheable_for({{"overdue", "true"}}));
  EXPECT_FALSE(cacheable_for({{"has_due", "false"}}));
}

TEST(ParseListQuery, DefaultsWithoutParameters) {
  const ListQuery q = parse_list_query({});
  EXPECT_FALSE(q.status);
  EXPECT_TRUE(q.priorities.empty());
  EXPECT_TRUE(q.tags_all.empty());
  EXPECT_TRUE(q.tags_any.empty());
  EXPECT_FALSE(q.due_before);
  EXPECT_FALSE(q.due_after);
  EXPECT_FALSE(q.overdue);
  EXPECT_FALSE(q.has_due);
  EXPECT_FALSE(q.search);
  EXPECT_THAT(q.sort, ElementsAre(SortKey{SortField::created_at, false}));
  EXPECT_EQ(q.limit, kDefaultLimit);
  EXPECT_EQ(q.limit, 50);
  EXPECT_FALSE(q.after);
}

TEST(ParseListQuery, Status) {
  EXPECT_EQ(parse_list_query({{"status", "open"}}).status, Status::open);
  EXPECT_EQ(parse_list_query({{"status", "done"}}).status, Status::done);
  for (const char* bad : {"", "closed", "Open", "open,done"})
    EXPECT_TRUE(Rejects({{"status", bad}}, "status")) << bad;
}

TEST(ParseListQuery, PriorityIsRepeatable) {
  EXPECT_THAT(
      parse_list_query({{"priority", "high"}, {"priority", "urgent"}, {"priority", "none"}}).priorities,
      ElementsAre(Priority::high, Priority::urgent, Priority::none));
  // A priority given twice counts once (a list of one priority a branch must not list a task twice).
  EXPECT_THAT(parse_list_query({{"priority", "high"}, {"priority", "low"}, {"priority", "high"}}).priorities,
              ElementsAre(Priority::high, Priority::low));
  for (const char* bad : {"", "critical", "HIGH", "3", "high,low"})
    EXPECT_TRUE(Rejects({{"priority", "low"}, {"priority", bad}}, "priority")) << bad;
}

TEST(ParseListQuery, TagsAreRepeatableAndNormalised) {
  const ListQuery q =
      parse_list_query({{"tag", " Home "}, {"tag", "WORK"}, {"any_tag", "Errand"}, {"any_tag", "shop"}});
  EXPECT_THAT(q.tags_all, ElementsAre("home", "work"));
  EXPECT_THAT(q.tags_any, ElementsAre("errand", "shop"));
  for (const char* name : {"tag", "any_tag"}) {
    for (const std::string& bad : {std::string(""), std::string("  "), std::string("a b"), std::string("a,b"),
                                   std::string(51, 'x'), std::string("\xff"), std::string("a\x01")})
      EXPECT_TRUE(Rejects({{name, bad}}, name)) << name << "=" << bad;
    Params many;
    for (int i = 0; i < 20; ++i)
      many.emplace_back(name, "t" + std::to_string(i));
    EXPECT_EQ(parse_list_query(many).tags_all.size() + parse_list_query(many).tags_any.size(), 20u);
    many.emplace_back(name, "t20");
    EXPECT_TRUE(Rejects(many, name)) << name;
  }
}

// ?tag=x 25 times was a 422 with five entries "at most 20 tags": filters are counted as a task's tags are,
// once each after normalising, and going over the limit is one problem.
TEST(ParseListQuery, TagFiltersCountDifferentTagsAndOverTheLimitIsOneProblem) {
  for (const char* name : {"tag", "any_tag"}) {
    SCOPED_TRACE(name);
    Params same;
    for (int i = 0; i < 25; ++i)
      same.emplace_back(name, i % 3 == 0 ? "X" : i % 3 == 1 ? " x " : "x");
    const ListQuery q = parse_list_query(same);
    EXPECT_THAT(std::string(name) == "tag" ? q.tags_all : q.tags_any, ElementsAre("x"));
    for (std::size_t n : {21, 25, 60}) {
      Params many;
      for (std::size_t i = 0; i < n; ++i)
        many.emplace_back(name, "T" + std::to_string(i));
      many.emplace_back(name, "t0");  // a repeat after lower-casing
      auto e = error_of([&] { parse_list_query(many); });
      ASSERT_TRUE(e);
      EXPECT_EQ(e->code(), Errc::unprocessable);
      ASSERT_EQ(e->errors().size(), 1u) << e->what();
      EXPECT_EQ(e->errors()[0].field, name);
      EXPECT_EQ(e->errors()[0].message, "at most 20 different tags (after lower-casing)");
    }
    Params twenty;
    for (int i = 0; i < 20; ++i)
      twenty.emplace_back(name, "T" + std::to_string(i));
    twenty.emplace_back(name, "t19");
    EXPECT_NO_THROW(parse_list_query(twenty));
    // A bad tag repeated is one problem too.
    auto e = error_of([&] { parse_list_query({{name, ""}, {name, " "}, {name, "a b"}, {name, ""}}); });
    ASSERT_TRUE(e);
    EXPECT_EQ(e->errors().size(), 2u) << e->what();
  }
  // Both lists over the limit: each named once.
  Params both;
  for (int i = 0; i < 22; ++i) {
    both.emplace_back("tag", "a" + std::to_string(i));
    both.emplace_back("any_tag", "b" + std::to_string(i));
  }
  auto e = error_of([&] { parse_list_query(both); });
  ASSERT_TRUE(e);
  EXPECT_THAT(fields_of(*e), ElementsAre("tag", "any_tag"));
}

TEST(ParseListQuery, DueBounds) {
  const ListQuery q =
      parse_list_query({{"due_before", "2026-03-05T10:00:00+01:00"}, {"due_after", "2026-03-01T00:00:00Z"}});
  EXPECT_EQ(q.due_before, utc(2026, 3, 5, 9));
  EXPECT_EQ(q.due_after, utc(2026, 3, 1));
  for (const char* name : {"due_before", "due_after"})
    for (const char* bad : {"", "2026-03-05", "yesterday", "2026-13-01T00:00:00Z", "1700000000"})
      EXPECT_TRUE(Rejects({{name, bad}}, name)) << name << "=" << bad;
}

TEST(ParseListQuery, BooleanFlags) {
  EXPECT_TRUE(parse_list_query({{"overdue", "true"}}).overdue);
  EXPECT_FALSE(parse_list_query({{"overdue", "false"}}).overdue);
  EXPECT_EQ(parse_list_query({{"has_due", "true"}}).has_due, true);
  EXPECT_EQ(parse_list_query({{"has_due", "false"}}).has_due, false);
  for (const char* name : {"overdue", "has_due"})
    for (const char* bad : {"", "1", "0", "yes", "TRUE", "True", "true "})
      EXPECT_TRUE(Rejects({{name, bad}}, name)) << name << "=" << bad;
}

TEST(ParseListQuery, SearchBuildsAPrefixQueryAndSortsByRank) {
  const ListQuery q = parse_list_query({{"q", "buy mil"}});
  EXPECT_EQ(q.search, "'buy':* & 'mil':*");
  EXPECT_THAT(q.sort, ElementsAre(SortKey{SortField::rank, true}));
  // An explicit sort wins over the default rank order.
  EXPECT_THAT(parse_list_query({{"q", "milk"}, {"sort", "title"}}).sort,
              ElementsAre(SortKey{SortField::title, false}));
  EXPECT_THAT(parse_list_query({{"sort", "-due_at"}, {"q", "milk"}}).sort,
              ElementsAre(SortKey{SortField::due_at, true}))
      << "order of parameters does not matter";
}

TEST(ParseListQuery, SearchNeedsAWordAndIsBounded) {
  for (const char* bad : {"", "   ", "!!!", "'\"\\:*&|!()", "-"})
    EXPECT_TRUE(Rejects({{"q", bad}}, "q")) << bad;
  EXPECT_TRUE(parse_list_query({{"q", std::string(500, 'a')}}).search);
  EXPECT_TRUE(Rejects({{"q", std::string(501, 'a')}}, "q"));
  // The bound is in characters, as its message says.
  std::string cyrillic;
  for (int i = 0; i < 500; ++i)
    cyrillic += "ж";
  EXPECT_TRUE(parse_list_query({{"q", cyrillic}}).search);
  EXPECT_TRUE(Rejects({{"q", cyrillic + "ж"}}, "q"));
}

TEST(ParseListQuery, SearchRejectsInvalidUtf8) {
  // Percent-decoded query strings are raw bytes; PostgreSQL refuses invalid UTF-8 with an error (a 500).
  for (const std::string& bad : {std::string("caf\xe9"), std::string("\xff"), std::string("milk \xc3"),
                                 std::string("\xed\xa0\x80"), std::string("\xc0\xaf")})
    EXPECT_TRUE(Rejects({{"q", bad}}, "q"));
}

TEST(ParseListQuery, EverySortKeyBothWays) {
  const std::pair<const char*, SortField> keys[] = {{"due_at", SortField::due_at},
                                                    {"priority", SortField::priority},
                                                    {"created_at", SortField::created_at},
                                                    {"updated_at", SortField::updated_at},
                                                    {"title", SortField::title}};
  for (const auto& [name, field] : keys) {
    EXPECT_THAT(parse_list_query({{"sort", name}}).sort, ElementsAre(SortKey{field, false})) << name;
    EXPECT_THAT(parse_list_query({{"sort", std::string("-") + name}}).sort, ElementsAre(SortKey{field, true}))
        << name;
    EXPECT_THAT(parse_list_query({{"sort", std::string("+") + name}}).sort,
                ElementsAre(SortKey{field, false}))
        << name;
  }
}

TEST(ParseListQuery, SeveralSortKeys) {
  EXPECT_THAT(parse_list_query({{"sort", "-priority,due_at,-title"}}).sort,
              ElementsAre(SortKey{SortField::priority, true}, SortKey{SortField::due_at, false},
                          SortKey{SortField::title, true}));
  EXPECT_THAT(parse_list_query({{"sort", " title , -updated_at "}}).sort,
              ElementsAre(SortKey{SortField::title, false}, SortKey{SortField::updated_at, true}));
  EXPECT_THAT(parse_list_query({{"q", "x"}, {"sort", "-rank,created_at"}}).sort,
              ElementsAre(SortKey{SortField::rank, true}, SortKey{SortField::created_at, false}));
}

TEST(ParseListQuery, BadSortKeys) {
  for (const char* bad : {"", ",", "title,", ",title", "colour", "Title", "id", "--title", "-", "+",
                          "title;drop", "due_at desc", "title,,priority"})
    EXPECT_TRUE(Rejects({{"sort", bad}}, "sort")) << "'" << bad << "'";
  for (const char* dup : {"title,title", "title,-title", "-due_at,priority,+due_at"})
    EXPECT_TRUE(Rejects({{"sort", dup}}, "sort")) << dup;
  EXPECT_TRUE(Rejects({{"sort", "rank"}}, "sort")) << "rank needs q";
  EXPECT_TRUE(Rejects({{"sort", "-rank"}}, "sort")) << "rank needs q";
  EXPECT_TRUE(Rejects({{"q", "x"}, {"sort", "rank,-rank"}}, "sort"));
}

TEST(ParseListQuery, LimitBounds) {
  EXPECT_EQ(parse_list_query({{"limit", "1"}}).limit, 1);
  EXPECT_EQ(parse_list_query({{"limit", "200"}}).limit, kMaxLimit);
  EXPECT_EQ(parse_list_query({{"limit", "37"}}).limit, 37);
  for (const char* bad : {"0", "201", "-1", "", "abc", "1.5", " 5", "5 ", "+5", "0x10", "1e2", "5abc",
                          "99999999999999999999", "2147483648", "-2147483649"})
    EXPECT_TRUE(Rejects({{"limit", bad}}, "limit")) << "'" << bad << "'";
}

TEST(ParseListQuery, SingleValuedParametersMustNotRepeat) {
  const Params once = {{"status", "open"},  {"due_before", "2026-03-05T09:00:00Z"},
                       {"overdue", "true"}, {"due_after", "2026-03-01T00:00:00Z"},
                       {"has_due", "true"}, {"q", "milk"},
                       {"sort", "title"},   {"limit", "5"}};
  ASSERT_NO_THROW(parse_list_query(once));
  for (const auto& [k, v] : once) {
    Params params = once;
    params.emplace_back(k, v);
    auto e = error_of([&] { parse_list_query(params); });
    ASSERT_TRUE(e) << k;
    EXPECT_TRUE(e->code() == Errc::bad_request || e->code() == Errc::unprocessable) << k;
    ASSERT_EQ(e->errors().size(), 1u) << k;
    EXPECT_EQ(e->errors()[0].field, k);
  }
  // The cursor too, even when both copies are the same valid cursor.
  const std::string c = encode_cursor(parse_list_query({}), {{"2026-03-05 09:00:00+00"}, kId});
  auto e = error_of([&] { parse_list_query({{"cursor", c}, {"cursor", c}}); });
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->code() == Errc::bad_request || e->code() == Errc::unprocessable);
  EXPECT_THAT(test::fields_of(*e), ElementsAre("cursor"));
}

// A search and a tag filter are normalised as stored text is (NFC): typed either way, they find it.
TEST(ParseListQuery, SearchAndTagsInNormalizationFormC) {
  EXPECT_EQ(parse_list_query({{"q", "cafe\u0301"}}).search, parse_list_query({{"q", "caf\u00e9"}}).search);
  EXPECT_THAT(parse_list_query({{"tag", "e\u0301cole"}}).tags_all, ElementsAre("\u00e9cole"));
}

// One 422 names every bad parameter, not the first alone (README "Errors"), the sort's included.
TEST(ParseListQuery, EveryBadParameterIsNamed) {
  auto e = error_of([] {
    parse_list_query({{"limit", "0"}, {"status", "x"}, {"sort", "nope"}, {"colour", "red"}, {"q", "milk"}});
  });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), Errc::unprocessable);
  EXPECT_THAT(test::fields_of(*e), ElementsAre("limit", "status", "colour", "sort"));
}

TEST(ParseListQuery, UnknownParametersAreNamed) {
  for (const char* name : {"colour", "Status", "tags", "page", "offset", "", "sort ", "user_id"})
    EXPECT_TRUE(Rejects({{"status", "open"}, {name, "1"}}, name)) << "'" << name << "'";
}

// ---- to_prefix_tsquery ----

TEST(ToPrefixTsquery, WordsBecomeAndedPrefixes) {
  EXPECT_EQ(to_prefix_tsquery("mil"), "'mil':*");
  EXPECT_EQ(to_prefix_tsquery("buy mil"), "'buy':* & 'mil':*");
  EXPECT_EQ(to_prefix_tsquery("  buy\t\nmil  "), "'buy':* & 'mil':*");
  EXPECT_EQ(to_prefix_tsquery("2026 q1"), "'2026':* & 'q1':*");
}

TEST(ToPrefixTsquery, NothingWithoutWords) {
  for (std::string_view text : {"", " ", "!!!", "'", "\\", ":*", "&|!()", "<->", "''::**", "\t\n"})
    EXPECT_FALSE(to_prefix_tsquery(text)) << text;
}

// A term other than a plain word is matched two ways: quoted whole (quotes and backslashes escaped) for
// PostgreSQL's parser, or as its runs of letters and digits, each a prefix.
TEST(ToPrefixTsquery, OtherTermsAreQuotedWholeOrTheirWords) {
  EXPECT_EQ(to_prefix_tsquery("it's"), R"(('it\'s':* | 'it':* & 's':*))");
  EXPECT_EQ(to_prefix_tsquery("a\\b"), R"(('a\\b':* | 'a':* & 'b':*))");
  EXPECT_EQ(to_prefix_tsquery("milk:*"), R"(('milk:*':* | 'milk':*))");
  EXPECT_EQ(to_prefix_tsquery("(a|b)&!c"), R"(('(a|b)&!c':* | 'a':* & 'b':* & 'c':*))");
  EXPECT_EQ(to_prefix_tsquery("a <-> b"), "'a':* & 'b':*");
  EXPECT_EQ(to_prefix_tsquery(std::string_view("a\0b", 3)), "'a':* & 'b':*");  // a control character cuts
}

// Quoted whole, PostgreSQL's parser reads numbers, file and host names, e-mail addresses, versions and URLs
// as single words: split into letter runs, "3.14" was '3' & '14', and the index of "pi is 3.14" holds '3.14'.
TEST(ToPrefixTsquery, TermsAreAlsoKeptWholeForPostgresqlsParser) {
  EXPECT_EQ(to_prefix_tsquery("pi 3.14"), "'pi':* & ('3.14':* | '3':* & '14':*)");
  EXPECT_EQ(to_prefix_tsquery("v1.2.3"), "('v1.2.3':* | 'v1':* & '2':* & '3':*)");
  EXPECT_EQ(
      to_prefix_tsquery("http://x.io/a?b=1&c=(2)"),
      "('http://x.io/a?b=1&c=(2)':* | 'http':* & 'x':* & 'io':* & 'a':* & 'b':* & '1':* & 'c':* & '2':*)");
}

TEST(ToPrefixTsquery, TitleQueryWeighsEveryOperandA) {
  EXPECT_EQ(title_tsquery("'buy':* & 'mil':*"), "'buy':*A & 'mil':*A");
  EXPECT_EQ(title_tsquery(*to_prefix_tsquery("pi 3.14")), "'pi':*A & ('3.14':*A | '3':*A & '14':*A)");
  // An escaped quote, or a term starting with ":*", is not the end of an operand.
  EXPECT_EQ(title_tsquery(*to_prefix_tsquery("it's :*x")),
            R"(('it\'s':*A | 'it':*A & 's':*A) & (':*x':*A | 'x':*A))");
}

TEST(ToPrefixTsquery, UnicodeLettersStayInWords) {
  EXPECT_EQ(to_prefix_tsquery("Müsli café"), "'Müsli':* & 'café':*");
  EXPECT_EQ(to_prefix_tsquery("日本語"), "'日本語':*");
  EXPECT_EQ(to_prefix_tsquery("молоко, хлеб"), "('молоко,':* | 'молоко':*) & 'хлеб':*");
  EXPECT_EQ(to_prefix_tsquery("नमस्ते दुनिया"), "'नमस्ते':* & 'दुनिया':*");  // combining marks stay in the word
}

// As PostgreSQL's parser reads them: an emoji, a zero-width or no-break space, a dash are no words (an emoji
// alone was a word the index never holds: 200 and nothing, where "&" alone was a 422); white space of any
// script separates terms.
TEST(ToPrefixTsquery, SymbolsAndSpacesOfAnyScriptSeparate) {
  for (std::string_view text : {"🎉", "\u200b", "\u00a0", "— ·", "😀😀"})
    EXPECT_FALSE(to_prefix_tsquery(text)) << text;
  EXPECT_EQ(to_prefix_tsquery("party🎉tonight"), "('party🎉tonight':* | 'party':* & 'tonight':*)");
  EXPECT_EQ(to_prefix_tsquery("party 🎉"), "'party':*");
  EXPECT_EQ(to_prefix_tsquery("a\u00a0b\u3000c"), "'a':* & 'b':* & 'c':*");
}

TEST(ToPrefixTsquery, HostileInputYieldsOnlyQuotedOperands) {
  // Whatever comes in, the result is quoted operands (inside which only an escaped quote or backslash may
  // stand for one) joined by our own & and |: nothing escapes into the tsquery syntax.
  const std::string operand = R"('(?:[^'\\\s]|\\['\\])+':\*)";
  const std::string words = R"('[^'\\\s&|!()<>*:]+':\*(?: & '[^'\\\s&|!()<>*:]+':\*)*)";
  const std::string term = "(?:" + operand + "|\\(" + operand + " \\| " + words + "\\))";
  const std::regex shape("^" + term + "(?: & " + term + ")*$");
  for (std::string_view text :
       {"x'); drop table tasks;--", "a' | 'b", "\\'a & !'b", "a:* | b:*", "foo\\\\bar", "x'':*",
        "a & (b | !c)", "'\\'y'", "😀 milk", "a\x01z", "x'||pg_sleep(10)--", "%27%3A%2A", "\\", "'x\\"}) {
    auto q = to_prefix_tsquery(text);
    if (!q) continue;  // no letter or digit
    EXPECT_TRUE(std::regex_match(*q, shape)) << text << " → " << *q;
  }
}

// ---- cursors ----

Params with_cursor(Params params, const std::string& cursor) {
  params.emplace_back("cursor", cursor);
  return params;
}

struct RoundTrip {
  Params params;
  Cursor position;
};

TEST(Cursor, RoundTripsThroughParseListQuery) {
  const RoundTrip cases[] = {
      {{}, {{"2026-03-05 09:00:00+00"}, kId}},
      {{{"sort", "-created_at"}}, {{"2026-03-05 09:00:00.123456+00"}, kId}},
      {{{"sort", "due_at"}}, {{"2026-03-05 09:00:00+00"}, kId}},
      // Undated tasks sort as +infinity ascending and -infinity descending.
      {{{"sort", "due_at"}}, {{"infinity"}, kId}},
      {{{"sort", "-due_at"}}, {{"-infinity"}, kId}},
      {{{"sort", "-priority,due_at"}}, {{"4", "infinity"}, kId}},
      {{{"sort", "title"}}, {{"Buy milk"}, kId}},
      {{{"sort", "title"}}, {{kHostile}, kId}},
      {{{"sort", "title"}}, {{"Grüße \"quoted\" \\ 😀"}, kId}},
      {{{"sort", "title"}}, {{""}, kId}},
      {{{"sort", "updated_at,-title,priority"}}, {{"2026-01-01 00:00:00+00", "t", "0"}, kId}},
      {{{"q", "milk"}}, {{"0.0607927"}, kId}},
      {{{"q", "milk"}, {"sort", "-rank,due_at"}}, {{"1e-20", "2026-03-05 09:00:00+00"}, kId}},
      {{{"status", "open"}, {"limit", "3"}, {"tag", "home"}}, {{"2026-03-05 09:00:00+00"}, kId}},
  };
  for (const auto& [params, position] : cases) {
    const ListQuery first = parse_list_query(params);
    const std::string cursor = encode_cursor(first, position);
    SCOPED_TRACE(cursor);
    EXPECT_TRUE(open_cursor(cursor)) << "a cursor is sealed base64url without padding";
    const ListQuery next = parse_list_query(with_cursor(params, cursor));
    ASSERT_TRUE(next.after);
    EXPECT_EQ(next.after->values, position.values);
    EXPECT_EQ(next.after->id, position.id);
    EXPECT_EQ(next.sort.size(), first.sort.size());
    EXPECT_EQ(next.limit, first.limit);
  }
}

TEST(Cursor, DueAtAcceptsExactlyTheTwoInfinities) {
  // The sort expression of due_at is never null: undated tasks are 'infinity' (ascending) or '-infinity'
  // (descending), as PostgreSQL writes them; those two pass verbatim, and no other non-timestamp.
  for (const char* sort : {"due_at", "-due_at", "title,-due_at"}) {
    const Params params = {{"sort", sort}};
    const ListQuery q = parse_list_query(params);
    for (const char* edge : {"infinity", "-infinity"}) {
      std::vector<std::optional<std::string>> values(q.sort.size(), std::string("t"));
      values.back() = edge;
      const ListQuery next = parse_list_query(with_cursor(params, encode_cursor(q, {values, kId})));
      ASSERT_TRUE(next.after) << sort << " " << edge;
      EXPECT_EQ(next.after->values.back(), edge) << sort;
    }
    for (const char* bad : {"Infinity", "INFINITY", "+infinity", "inf", "-inf", " infinity", "infinity ",
                            "--infinity", "infinity'", "now", "epoch", "today", "-", ""}) {
      std::vector<std::optional<std::string>> values(q.sort.size(), std::string("t"));
      values.back() = bad;
      EXPECT_TRUE(CursorRejected(params, encode_cursor(q, {values, kId}))) << sort << " '" << bad << "'";
    }
  }
  // Only due_at has them.
  for (const char* sort : {"created_at", "-updated_at"})
    for (const char* edge : {"infinity", "-infinity"})
      EXPECT_TRUE(CursorRejected(
          {{"sort", sort}}, encode_cursor(parse_list_query({{"sort", sort}}), {{std::string(edge)}, kId})))
          << sort << " " << edge;
}

TEST(Cursor, UpperCaseIdIsAccepted) {
  const ListQuery q = parse_list_query({});
  const std::string cursor =
      encode_cursor(q, {{"2026-03-05 09:00:00+00"}, "0B7C1A7E-6A56-4D2C-9C4E-3C0B2A1D9E8F"});
  EXPECT_NO_THROW(parse_list_query({{"cursor", cursor}}));
}

// A cursor holds the filters of its list too: used with others, or with another search (whose rank values
// mean nothing there), it is refused rather than answered with a page of another list. The order of
// repeated parameters does not matter.
TEST(Cursor, FromOtherFiltersIsRejected) {
  const Params filters = {
      {"status", "open"}, {"priority", "high"}, {"priority", "low"}, {"tag", "a"},
      {"tag", "b"},       {"any_tag", "c"},     {"has_due", "true"}, {"due_before", "2030-01-01T00:00:00Z"}};
  const std::string cursor = encode_cursor(parse_list_query(filters), {{"2026-03-05 09:00:00+00"}, kId});
  Params reordered = filters;
  std::reverse(reordered.begin(), reordered.end());
  EXPECT_NO_THROW(parse_list_query([&] {
    auto p = reordered;
    p.emplace_back("cursor", cursor);
    return p;
  }()));
  for (std::size_t drop = 0; drop < filters.size(); ++drop) {
    Params other = filters;
    other.erase(other.begin() + static_cast<std::ptrdiff_t>(drop));
    EXPECT_TRUE(CursorRejected(other, cursor)) << "without " << filters[drop].first;
  }
  Params more = filters;
  more.emplace_back("overdue", "true");
  EXPECT_TRUE(CursorRejected(more, cursor));
  const std::string by_rank = encode_cursor(parse_list_query({{"q", "milk"}}), {{"0.5"}, kId});
  EXPECT_TRUE(CursorRejected({{"q", "cat"}}, by_rank));
  EXPECT_NO_THROW(parse_list_query({{"q", "milk"}, {"cursor", by_rank}}));
}

TEST(Cursor, FromAnotherSortIsRejected) {
  const std::string by_title = encode_cursor(parse_list_query({{"sort", "title"}}), {{"Buy milk"}, kId});
  EXPECT_TRUE(CursorRejected({{"sort", "-title"}}, by_title));
  EXPECT_TRUE(CursorRejected({}, by_title));
  EXPECT_TRUE(CursorRejected({{"sort", "title,priority"}}, by_title));
  EXPECT_TRUE(CursorRejected({{"q", "milk"}}, by_title));
  EXPECT_TRUE(CursorRejected({{"q", "milk"}, {"sort", "title"}}, by_title))
      << "the same sort over another list: a page of it would not follow the pages the client has";

  const std::string by_created = encode_cursor(parse_list_query({}), {{"2026-03-05 09:00:00+00"}, kId});
  EXPECT_TRUE(CursorRejected({{"sort", "-created_at"}}, by_created));
  EXPECT_TRUE(CursorRejected({{"sort", "updated_at"}}, by_created)) << "same type, other column";
  EXPECT_TRUE(CursorRejected({{"sort", "due_at"}}, by_created));
  EXPECT_NO_THROW(parse_list_query({{"sort", "created_at"}, {"cursor", by_created}}))
      << "an explicit sort equal to the default is the same sort";

  const std::string by_rank = encode_cursor(parse_list_query({{"q", "milk"}}), {{"0.5"}, kId});
  EXPECT_TRUE(CursorRejected({}, by_rank));
  EXPECT_TRUE(CursorRejected({{"sort", "priority"}}, by_rank));
}

// A cursor of the server's own format with the content given: sealed, so that only its content is refused.
std::string tampered(const json& j) {
  return seal_cursor(j.dump());
}

TEST(Cursor, TamperedContentIsRejected) {
  const std::string good = encode_cursor(parse_list_query({}), {{"2026-03-05 09:00:00+00"}, kId});
  const auto decoded = open_cursor(good);
  ASSERT_TRUE(decoded);
  const json j = json::parse(*decoded);
  ASSERT_TRUE(j.is_object());

  auto with = [&](const char* key, json value) {
    json copy = j;
    copy[key] = std::move(value);
    return tampered(copy);
  };
  auto without = [&](const char* key) {
    json copy = j;
    copy.erase(key);
    return tampered(copy);
  };
  for (const auto& [key, value] : j.items()) {
    EXPECT_TRUE(CursorRejected({}, without(key.c_str()))) << "without " << key;
    EXPECT_TRUE(CursorRejected({}, with(key.c_str(), 5))) << key << " a number";
    EXPECT_TRUE(CursorRejected({}, with(key.c_str(), nullptr))) << key << " null";
  }
  EXPECT_TRUE(CursorRejected({}, tampered(json::array())));
  EXPECT_TRUE(CursorRejected({}, tampered("cursor")));
  EXPECT_TRUE(CursorRejected({}, tampered(json::object())));
}

TEST(Cursor, TamperedValuesAreRejected) {
  // Values are checked against the type of their sort key, so that a forged cursor is a 400 and never a SQL
  // error (a 500).
  struct Case {
    Params params;
    json values;
  };
  const Case cases[] = {
      {{}, json::array()},
      {{}, {"2026-03-05 09:00:00+00", "2026-03-05 09:00:00+00"}},
      {{}, {nullptr}},
      {{}, {5}},
      {{}, {"yesterday"}},
      {{}, {"2026-03-05T09:00:00Z"}},
      {{}, {"2026-02-30 09:00:00+00"}},
      {{}, {"infinity"}},
      {{}, {"4714-11-23 23:59:59.999999+00 BC"}},  // before PostgreSQL's first timestamptz
      {{}, {"100000-01-01 00:00:00+00 BC"}},
      {{}, {kHostile}},
      {{{"sort", "updated_at"}}, {"now()"}},
      {{{"sort", "due_at"}}, {"tomorrow"}},
      {{{"sort", "due_at"}}, {false}},
      {{{"sort", "due_at"}}, {nullptr}},  // undated is "infinity", never null
      {{{"sort", "-due_at"}}, {nullptr}},
      {{{"sort", "-due_at"}}, {"-infinity; drop table tasks"}},
      {{{"sort", "-priority,due_at"}}, {"4", nullptr}},
      {{{"sort", "priority"}}, {nullptr}},
      {{{"sort", "priority"}}, {"high"}},
      {{{"sort", "priority"}}, {"1.5"}},
      {{{"sort", "priority"}}, {"1e3"}},
      {{{"sort", "priority"}}, {"99999"}},
      {{{"sort", "priority"}}, {"nan"}},
      {{{"sort", "priority"}}, {"3; drop table tasks"}},
      {{{"sort", "priority"}}, {""}},
      {{{"sort", "priority"}}, {3}},
      {{{"sort", "title"}}, {nullptr}},
      {{{"sort", "title"}}, {{"a"}}},
      {{{"sort", "title"}}, {std::string(5000, 't')}},
      {{{"q", "milk"}}, {"high"}},
      {{{"q", "milk"}}, {"nan"}},
      {{{"q", "milk"}}, {"nan(0x1)"}},
      {{{"q", "milk"}}, {"inf"}},
      {{{"q", "milk"}}, {"1e300"}},
      {{{"q", "milk"}}, {""}},
      {{{"q", "milk"}}, {nullptr}},
  };
  // The control: the server's own cursor, sealed again unchanged, is read.
  EXPECT_NO_THROW(
      parse_list_query({{"cursor", tampered(json::parse(*open_cursor(encode_cursor(
                                       parse_list_query({}), {{"2026-03-05 09:00:00+00"}, kId}))))}}));
  for (const auto& [params, values] : cases) {
    // The server's own cursor for this list (its sort and filters), with the values replaced.
    json j = json::parse(*open_cursor(encode_cursor(parse_list_query(params), {{}, kId})));
    j["v"] = values;
    EXPECT_TRUE(CursorRejected(params, tampered(j))) << values.dump();
  }
}

TEST(Cursor, TamperedIdIsRejected) {
  const ListQuery q = parse_list_query({});
  for (const char* id :
       {"", "not-a-uuid", "0b7c1a7e6a564d2c9c4e3c0b2a1d9e8f", "{0b7c1a7e-6a56-4d2c-9c4e-3c0b2a1d9e8f}",
        "0b7c1a7e-6a56-4d2c-9c4e-3c0b2a1d9e8f'--", " 0b7c1a7e-6a56-4d2c-9c4e-3c0b2a1d9e8f"})
    EXPECT_TRUE(CursorRejected({}, encode_cursor(q, {{"2026-03-05 09:00:00+00"}, id}))) << id;
}

TEST(Cursor, TimestampValuesReachSqlInCanonicalForm) {
  // An offset PostgreSQL would refuse (+20 hours) must not pass through verbatim.
  const ListQuery q = parse_list_query({});
  const std::string cursor = encode_cursor(q, {{"2026-03-05 09:00:00+20"}, kId});
  auto e = error_of([&] {
    const ListQuery next = parse_list_query({{"cursor", cursor}});
    ASSERT_TRUE(next.after);
    ASSERT_TRUE(next.after->values[0]);
    EXPECT_EQ(*next.after->values[0], "2026-03-04 13:00:00+00");
  });
  if (e) {
    EXPECT_EQ(e->code(), Errc::bad_request);
  }

  // PostgreSQL's first and a late instant are valid positions.
  for (const char* edge : {"4714-11-24 00:00:00+00 BC", "200000-01-01 00:00:00+00"}) {
    const ListQuery next = parse_list_query({{"cursor", encode_cursor(q, {{edge}, kId})}});
    ASSERT_TRUE(next.after) << edge;
    EXPECT_EQ(next.after->values[0], edge);
  }
}

TEST(Cursor, TruncatedIsRejected) {
  const std::string good =
      encode_cursor(parse_list_query({{"sort", "-due_at,title"}}), {{"-infinity", "Buy milk"}, kId});
  ASSERT_NO_THROW(parse_list_query({{"sort", "-due_at,title"}, {"cursor", good}}));
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_TRUE(CursorRejected({{"sort", "-due_at,title"}}, good.substr(0, n))) << n;
}

TEST(Cursor, CorruptedBytesAreRejected) {
  const Params params = {{"sort", "title"}};
  const std::string good = encode_cursor(parse_list_query(params), {{"Buy milk"}, kId});
  // The first character carries the opening brace of the JSON object.
  for (char c : std::string("ABCDEFGH-_0189"))
    if (c != good[0]) {
      EXPECT_TRUE(CursorRejected(params, c + good.substr(1))) << c;
    }
  EXPECT_TRUE(CursorRejected(params, good + "A"));
  EXPECT_TRUE(CursorRejected(params, good + "AAAA"));
}

TEST(Cursor, NonBase64IsRejected) {
  const Params params = {{"sort", "title"}};
  const std::string good = encode_cursor(parse_list_query(params), {{"Buy milk"}, kId});
  std::string standard = good;
  for (auto& c : standard)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  for (const std::string& bad :
       {std::string(""), std::string("!!!"), std::string("%%%%"), std::string("a b"), std::string("abc="),
        std::string("garbage"), std::string("eyJ4IjoxfQ"), std::string("null"), std::string("\xff\xfe"),
        std::string("e30"), good + "=", good + "==", good + " ", " " + good, good + "\n"})
    EXPECT_TRUE(CursorRejected(params, bad)) << bad;
  if (standard != good) {
    EXPECT_TRUE(CursorRejected(params, standard));
  }
}

// ---- build_list_sql ----

// Every $n in the text.
std::vector<int> placeholders(const std::string& sql) {
  std::vector<int> out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != '$') continue;
    std::size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && std::isdigit(static_cast<unsigned char>(sql[j])))
      n = n * 10 + (sql[j++] - '0');
    if (j > i + 1) out.push_back(n);
  }
  return out;
}

// Placeholders are numbered 1..params.size(), each number used, none beyond.
::testing::AssertionResult PlaceholdersMatchParams(const SqlQuery& sql) {
  const auto used = placeholders(sql.text);
  const std::set<int> distinct(used.begin(), used.end());
  std::set<int> expected;
  for (std::size_t n = 1; n <= sql.params.size(); ++n)
    expected.insert(static_cast<int>(n));
  if (distinct != expected)
    return ::testing::AssertionFailure() << sql.params.size() << " params but placeholders do not run $1..$"
                                         << sql.params.size() << ": " << sql.text;
  return ::testing::AssertionSuccess();
}

// The text with the SQL literals the builder itself writes (the text search configuration, status values
// from the enum and due_at's stand-ins for undated tasks) removed: what is left must hold no quote.
::testing::AssertionResult NoQuotedLiterals(std::string text) {
  for (const std::string lit :
       {"'simple'", "'open'", "'done'", "'infinity'::timestamptz", "'-infinity'::timestamptz"}) {
    for (auto pos = text.find(lit); pos != std::string::npos; pos = text.find(lit))
      text.erase(pos, lit.size());
  }
  if (text.find('\'') != std::string::npos || text.find('"') != std::string::npos ||
      text.find(';') != std::string::npos || text.find("--") != std::string::npos)
    return ::testing::AssertionFailure() << "quote, semicolon or comment in SQL: " << text;
  return ::testing::AssertionSuccess();
}

std::string describe(const Params& params) {
  std::string s;
  for (const auto& [k, v] : params)
    s += (s.empty() ? "?" : "&") + k + "=" + v;
  return s;
}

// The WHERE clause.
std::string where_of(const std::string& sql) {
  const auto b = sql.find(" WHERE ");
  const auto e = sql.find(" ORDER BY ");
  if (b == std::string::npos || e == std::string::npos || e < b) return "";
  return sql.substr(b + 7, e - b - 7);
}

std::string order_by(const std::string& sql) {
  const auto b = sql.find(" ORDER BY ");
  const auto e = sql.find(" LIMIT ");
  if (b == std::string::npos || e == std::string::npos || e < b) return "";
  return sql.substr(b + 10, e - b - 10);
}

TEST(BuildListSql, DefaultQuery) {
  // By creation, both statuses: one page of each (each read from (user_id, status, created_at, id)), then the
  // first page of their union.
  const SqlQuery sql = build_list_sql(parse_list_query({}), kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser));
  const std::string branch =
      "SELECT id, title, (created_at)::text AS sort_key_0 FROM tasks WHERE user_id = "
      "$1::uuid AND status = $S ORDER BY created_at ASC, id ASC LIMIT 51";
  const auto with = [&](const char* status) {
    return std::string(branch).replace(branch.find("$S"), 2, status);
  };
  EXPECT_EQ(sql.text, "SELECT * FROM ((" + with("'open'") + ") UNION ALL (" + with("'done'") +
                          ")) AS per_status ORDER BY created_at ASC, id ASC LIMIT 51");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
}

// The orders indexed per status (creation, change, title, priority, descending due date) of both statuses
// are built per status; a list of one status, the overdue ones (open), another first key or a rank among the
// keys is one query.
TEST(BuildListSql, PerStatusOnlyForTheOrdersIndexedPerStatus) {
  const auto per_status = [](const Params& p) {
    return build_list_sql(parse_list_query(p), kUser, kColumns).text.find(" AS per_status ") !=
           std::string::npos;
  };
  EXPECT_TRUE(per_status({}));
  EXPECT_TRUE(per_status({{"sort", "-updated_at"}}));
  EXPECT_TRUE(per_status({{"sort", "title,-priority"}}));
  EXPECT_TRUE(per_status({{"sort", "created_at"}, {"tag", "home"}, {"q", "milk"}}));
  EXPECT_FALSE(per_status({{"status", "open"}}));
  EXPECT_FALSE(per_status({{"status", "done"}, {"sort", "title"}}));
  EXPECT_FALSE(per_status({{"overdue", "true"}}));
  EXPECT_TRUE(per_status({{"sort", "priority,created_at"}}));
  EXPECT_TRUE(per_status({{"sort", "-due_at"}}));
  EXPECT_FALSE(per_status({{"sort", "due_at"}}));
  EXPECT_FALSE(per_status({{"sort", "rank"}, {"q", "milk"}}));
  EXPECT_FALSE(per_status({{"sort", "created_at,rank"}, {"q", "milk"}}));
}

// A search sorted by other keys than its rank reads its matches, then sorts them: the order is kept out of
// the scan's planning (OFFSET 0), else PostgreSQL walks the order's index testing every task.
TEST(BuildListSql, ASearchSortedByOtherKeysSortsItsMatches) {
  const SqlQuery sql = build_list_sql(
      parse_list_query({{"q", "milk"}, {"sort", "due_at"}, {"status", "open"}}), kUser, kColumns);
  EXPECT_EQ(
      sql.text,
      "SELECT * FROM (SELECT id, title, (coalesce(due_at, 'infinity'::timestamptz))::text AS sort_key_0 "
      "FROM tasks WHERE user_id = $1::uuid AND search @@ to_tsquery('simple', $2) AND status = 'open' "
      "OFFSET 0) AS matches ORDER BY coalesce(due_at, 'infinity'::timestamptz) ASC, id ASC LIMIT 51");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
  // By rank it reads its matches anyway: one query.
  EXPECT_EQ(build_list_sql(parse_list_query({{"q", "milk"}}), kUser, kColumns).text.find("OFFSET 0"),
            std::string::npos);
}

TEST(BuildListSql, FetchesOneRowMoreThanTheLimit) {
  EXPECT_THAT(build_list_sql(parse_list_query({{"limit", "1"}}), kUser, kColumns).text,
              testing::EndsWith(" LIMIT 2"));
  EXPECT_THAT(build_list_sql(parse_list_query({{"limit", "200"}}), kUser, kColumns).text,
              testing::EndsWith(" LIMIT 201"));
}

TEST(BuildListSql, SelectsOneTextColumnPerSortKey) {
  const SqlQuery sql =
      build_list_sql(parse_list_query({{"sort", "-priority,due_at,title"}}), kUser, kColumns);
  // Aliased: an output column named like a table column would capture ORDER BY (text order, or ambiguity).
  EXPECT_THAT(sql.text, HasSubstr("SELECT id, title, (priority)::text AS sort_key_0, "
                                  "(coalesce(due_at, 'infinity'::timestamptz))::text AS sort_key_1, "
                                  "(title)::text AS sort_key_2 FROM tasks "));
  // due_at's is the expression it sorts by, which is never null: undated tasks are 'infinity' ascending and
  // '-infinity' descending.
  EXPECT_THAT(build_list_sql(parse_list_query({{"sort", "-due_at"}}), kUser, kColumns).text,
              HasSubstr(", (coalesce(due_at, '-infinity'::timestamptz))::text AS sort_key_0 FROM tasks "));
}

TEST(BuildListSql, OrderByEndsWithIdInTheDirectionOfTheLastKey) {
  const std::pair<const char*, const char*> cases[] = {
      // Undated tasks last either way: +infinity ascending, -infinity descending.
      {"due_at", "coalesce(due_at, 'infinity'::timestamptz) ASC, id ASC"},
      {"-due_at", "coalesce(due_at, '-infinity'::timestamptz) DESC, id DESC"},
      {"priority", "priority ASC, id ASC"},
      {"-priority", "priority DESC, id DESC"},
      {"-priority,due_at", "priority DESC, coalesce(due_at, 'infinity'::timestamptz) ASC, id ASC"},
      {"due_at,-title", "coalesce(due_at, 'infinity'::timestamptz) ASC, title DESC, id DESC"},
      {"-priority,-due_at", "priority DESC, coalesce(due_at, '-infinity'::timestamptz) DESC, id DESC"},
      {"-updated_at,created_at", "updated_at DESC, created_at ASC, id ASC"},
      {"title,-created_at", "title ASC, created_at DESC, id DESC"},
  };
  for (const auto& [sort, expected] : cases) {
    const SqlQuery sql = build_list_sql(parse_list_query({{"sort", sort}}), kUser, kColumns);
    EXPECT_EQ(order_by(sql.text), expected) << sort;
  }
}

// The query filters; the rank puts title matches (the query at weight A) first.
TEST(BuildListSql, SearchFiltersAndRanksTitleMatchesFirst) {
  const SqlQuery sql = build_list_sql(parse_list_query({{"q", "buy mil"}}), kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "'buy':* & 'mil':*", "'buy':*A & 'mil':*A"));
  EXPECT_THAT(sql.text, HasSubstr("search @@ to_tsquery('simple', $2)"));
  EXPECT_EQ(
      order_by(sql.text),
      "(ts_rank(search, to_tsquery('simple', $2), 32) + (search @@ to_tsquery('simple', $3))::int)::real "
      "DESC, id DESC");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
  // Sorted otherwise, the title form is not needed.
  const SqlQuery by_due =
      build_list_sql(parse_list_query({{"q", "buy mil"}, {"sort", "due_at"}}), kUser, kColumns);
  EXPECT_THAT(by_due.params, ElementsAre(kUser, "'buy':* & 'mil':*"));
  EXPECT_TRUE(PlaceholdersMatchParams(by_due));
}

TEST(BuildListSql, FiltersUsePlaceholders) {
  const SqlQuery sql = build_list_sql(parse_list_query({{"status", "done"},
                                                        {"priority", "high"},
                                                        {"priority", "urgent"},
                                                        {"tag", "home"},
                                                        {"tag", "Work"},
                                                        {"any_tag", "a\"b\\c"},
                                                        {"due_before", "2026-03-05T09:00:00Z"},
                                                        {"due_after", "2026-03-01T00:00:00.5Z"},
                                                        {"has_due", "true"}}),
                                      kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "{3,4}", "{\"home\",\"work\"}", "{\"a\\\"b\\\\c\"}",
                                      "2026-03-05 09:00:00+00", "2026-03-01 00:00:00.5+00"));
  // The status is a literal from the enum (never user text), so that a partial index can match it.
  EXPECT_THAT(sql.text, HasSubstr("status = 'done'"));
  EXPECT_THAT(sql.text, HasSubstr("priority = ANY($2::smallint[])"));
  EXPECT_THAT(sql.text, HasSubstr("tags @> $3::text[]"));
  EXPECT_THAT(sql.text, HasSubstr("tags && $4::text[]"));
  // The due filters on the expression of the ascending due index (undated = +infinity): < a bound leaves
  // undated tasks out by itself, >= a bound and has_due=true need "< infinity".
  EXPECT_THAT(sql.text, HasSubstr("coalesce(due_at, 'infinity'::timestamptz) < $5::timestamptz"));
  EXPECT_THAT(sql.text, HasSubstr("coalesce(due_at, 'infinity'::timestamptz) >= $6::timestamptz"));
  EXPECT_THAT(sql.text, HasSubstr("coalesce(due_at, 'infinity'::timestamptz) < 'infinity'::timestamptz"));
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
}

TEST(BuildListSql, DueFiltersLeaveUndatedTasksOut) {
  // Each due filter, alone, on the expression of the due index the query will scan: the descending one
  // when the list starts with -due_at (undated = -infinity), else the ascending one (undated = +infinity).
  // Whatever the expression, undated tasks pass only has_due=false.
  const std::string asc = "coalesce(due_at, 'infinity'::timestamptz)";
  const std::string desc = "coalesce(due_at, '-infinity'::timestamptz)";
  const std::string bound = "2026-03-05T09:00:00Z";
  struct Case {
    Params params;
    std::vector<std::string> conditions;  // each in the text
  };
  const Case cases[] = {
      {{{"due_before", bound}}, {asc + " < $2::timestamptz"}},
      {{{"due_after", bound}}, {asc + " >= $2::timestamptz", asc + " < 'infinity'::timestamptz"}},
      {{{"overdue", "true"}}, {asc + " < now()"}},
      {{{"has_due", "true"}}, {asc + " < 'infinity'::timestamptz"}},
      {{{"has_due", "false"}}, {asc + " = 'infinity'::timestamptz"}},
      {{{"due_before", bound}, {"sort", "-due_at"}},
       {desc + " < $2::timestamptz", desc + " > '-infinity'::timestamptz"}},
      {{{"due_after", bound}, {"sort", "-due_at"}}, {desc + " >= $2::timestamptz"}},
      {{{"overdue", "true"}, {"sort", "-due_at,title"}},
       {desc + " < now()", desc + " > '-infinity'::timestamptz"}},
      {{{"has_due", "true"}, {"sort", "-due_at"}}, {desc + " > '-infinity'::timestamptz"}},
      {{{"has_due", "false"}, {"sort", "-due_at"}}, {desc + " = '-infinity'::timestamptz"}},
      {{{"due_after", bound}, {"sort", "title,-due_at"}},
       {asc + " >= $2::timestamptz", asc + " < 'infinity'::timestamptz"}},
  };
  for (const auto& [params, conditions] : cases) {
    const SqlQuery sql = build_list_sql(parse_list_query(params), kUser, kColumns);
    for (const auto& c : conditions)
      EXPECT_THAT(sql.text, HasSubstr(" AND " + c)) << describe(params);
    // One expression for every filter, and never the bare column (its nulls would fall out of the index).
    const std::string where = where_of(sql.text);
    EXPECT_THAT(where, Not(HasSubstr(where.find(asc) != std::string::npos ? desc : asc))) << describe(params);
    EXPECT_THAT(sql.text, Not(HasSubstr("IS NULL"))) << describe(params);
    EXPECT_THAT(sql.text, Not(HasSubstr("IS NOT NULL"))) << describe(params);
    EXPECT_TRUE(PlaceholdersMatchParams(sql)) << describe(params);
    EXPECT_TRUE(NoQuotedLiterals(sql.text)) << describe(params);
  }
}

TEST(BuildListSql, StatusAndASinglePriority) {
  const SqlQuery open =
      build_list_sql(parse_list_query({{"status", "open"}, {"priority", "urgent"}}), kUser, kColumns);
  EXPECT_THAT(open.params, ElementsAre(kUser, "4"));
  EXPECT_THAT(open.text, HasSubstr("status = 'open'"));
  EXPECT_THAT(open.text, HasSubstr("priority = $2::smallint"));
  EXPECT_THAT(open.text, Not(HasSubstr("ANY(")));
  EXPECT_TRUE(PlaceholdersMatchParams(open));
  EXPECT_TRUE(NoQuotedLiterals(open.text));
}

// A due filter with another order than by due date is decided from the data (test_query_plans measures it):
// the first 4 pages of the order testing the filter (head), else up to 20 pages of the range from the due
// index (due_range: the status's, with a status), else a walk of the order testing the filter as a CASE,
// each branch gated on that choice.
TEST(BuildListSql, ADueFilterInAnotherOrderIsDecidedFromTheData) {
  const std::string asc = "coalesce(due_at, 'infinity'::timestamptz)";
  const std::string desc = "coalesce(due_at, '-infinity'::timestamptz)";
  const SqlQuery both =
      build_list_sql(parse_list_query({{"due_after", "2026-03-05T09:00:00Z"}}), kUser, kColumns);
  EXPECT_THAT(both.params, ElementsAre(kUser, "2026-03-05 09:00:00+00"));
  EXPECT_THAT(both.text, testing::StartsWith("WITH head AS MATERIALIZED (SELECT * FROM ((SELECT *, "));
  EXPECT_THAT(both.text, HasSubstr(" AS per_status ORDER BY created_at ASC, id ASC LIMIT 204), "));
  EXPECT_THAT(both.text,
              HasSubstr("due_range AS MATERIALIZED (SELECT * FROM tasks WHERE user_id = $1::uuid AND " + asc +
                        " >= $2::timestamptz AND " + asc + " < 'infinity'::timestamptz ORDER BY " + asc +
                        " ASC, id ASC LIMIT 1020)"));
  EXPECT_THAT(both.text,
              HasSubstr("SELECT 1 FROM head WHERE hit LIMIT 51) AS hits) = 51 OR (SELECT count(*) "
                        "FROM head) < 204 THEN 0 WHEN (SELECT count(*) FROM due_range) < 1020 THEN 1 "
                        "ELSE 2 END AS plan)"));
  for (const char* gate : {"= 0", "= 1", "= 2"})
    EXPECT_THAT(both.text, HasSubstr(std::string("(SELECT plan FROM choice) ") + gate));
  EXPECT_THAT(both.text, HasSubstr("CASE WHEN " + asc + " >= $2::timestamptz AND " + asc +
                                   " < 'infinity'::timestamptz THEN true ELSE false END"));
  EXPECT_THAT(both.text, testing::EndsWith(") AS probed ORDER BY created_at ASC, id ASC LIMIT 51"));
  EXPECT_TRUE(PlaceholdersMatchParams(both));
  EXPECT_TRUE(NoQuotedLiterals(both.text));
  // One status (overdue tasks are open): its range from (user_id, status, due DESC, id DESC).
  for (const Params& params : {Params{{"status", "done"}, {"has_due", "false"}, {"sort", "title"}},
                               Params{{"overdue", "true"}, {"limit", "10"}}}) {
    const SqlQuery sql = build_list_sql(parse_list_query(params), kUser, kColumns);
    EXPECT_THAT(sql.text, HasSubstr(" ORDER BY " + desc + " DESC, id DESC LIMIT ")) << describe(params);
    EXPECT_THAT(sql.text, Not(HasSubstr(" AS per_status "))) << describe(params);
    EXPECT_TRUE(PlaceholdersMatchParams(sql)) << describe(params);
    EXPECT_TRUE(NoQuotedLiterals(sql.text)) << describe(params);
  }
  EXPECT_THAT(
      build_list_sql(parse_list_query({{"overdue", "true"}, {"limit", "10"}}), kUser, kColumns).text,
      HasSubstr("due_range AS MATERIALIZED (SELECT * FROM tasks WHERE user_id = $1::uuid AND status = "
                "'open' AND " +
                desc + " < now() AND " + desc + " > '-infinity'::timestamptz ORDER BY " + desc +
                " DESC, id DESC LIMIT 220)"));
  // By priority and then another key, no index gives the order: no head.
  const SqlQuery by_priority =
      build_list_sql(parse_list_query({{"has_due", "true"}, {"sort", "-priority,title"}}), kUser, kColumns);
  EXPECT_THAT(by_priority.text, testing::StartsWith("WITH due_range AS MATERIALIZED ("));
  EXPECT_THAT(by_priority.text, Not(HasSubstr("FROM head")));
  EXPECT_TRUE(PlaceholdersMatchParams(by_priority));
  // By due date (its index reads the range exactly), or with a search (which reads its matches): one query.
  for (const Params& params :
       {Params{{"due_after", "2026-03-05T09:00:00Z"}, {"sort", "due_at"}},
        Params{{"has_due", "true"}, {"sort", "-due_at,title"}},
        Params{{"due_after", "2026-03-05T09:00:00Z"}, {"q", "milk"}, {"sort", "title"}},
        Params{{"status", "open"}}}) {
    const SqlQuery sql = build_list_sql(parse_list_query(params), kUser, kColumns);
    EXPECT_THAT(sql.text, Not(HasSubstr("WITH "))) << describe(params);
  }
}

TEST(BuildListSql, OverdueAndNoDueDate) {
  const SqlQuery overdue = build_list_sql(parse_list_query({{"overdue", "true"}}), kUser, kColumns);
  EXPECT_THAT(overdue.text, HasSubstr("coalesce(due_at, 'infinity'::timestamptz) < now()"));
  EXPECT_THAT(overdue.text, HasSubstr("status = 'open'"));
  EXPECT_THAT(overdue.params, ElementsAre(kUser));
  const SqlQuery no_due = build_list_sql(parse_list_query({{"has_due", "false"}}), kUser, kColumns);
  EXPECT_THAT(no_due.text, HasSubstr("coalesce(due_at, 'infinity'::timestamptz) = 'infinity'::timestamptz"));
  EXPECT_THAT(no_due.text, Not(HasSubstr("< 'infinity'")));
  const SqlQuery neither = build_list_sql(parse_list_query({{"overdue", "false"}}), kUser, kColumns);
  EXPECT_THAT(neither.text, Not(HasSubstr("now()")));
}

TEST(BuildListSql, HostileStringsOnlyInParams) {
  ListQuery q = parse_list_query(
      {{"q", kHostile}, {"tag", "x');drop_table_tasks;--"}, {"any_tag", "a'\"b"}, {"sort", "title,-due_at"}});
  q.tags_all.push_back(kHostile);  // straight in, past tag validation
  q.tags_any.push_back(kHostile);
  q.after = Cursor{{kHostile, std::nullopt}, kId};
  const std::string hostile_user = std::string(kUser) + "'; delete from users;--";
  const SqlQuery sql = build_list_sql(q, hostile_user, kColumns);

  EXPECT_THAT(sql.text, Not(HasSubstr("drop")));
  EXPECT_THAT(sql.text, Not(HasSubstr("delete")));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  auto in_params = [&](std::string_view needle) {
    for (const auto& p : sql.params)
      if (p.find(needle) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(in_params(kHostile));
  EXPECT_TRUE(in_params("x');drop_table_tasks;--"));
  EXPECT_TRUE(in_params(hostile_user));
  EXPECT_TRUE(in_params(R"(('x\');':* | 'x':*) & 'drop':* & 'table':* & ('tasks;--':* | 'tasks':*))"));
}

TEST(BuildListSql, KeysetConditionAscending) {
  // One row comparison, which the (user_id, status, created_at, id) index takes as its index condition.
  ListQuery q = parse_list_query({{"sort", "created_at"}, {"status", "open"}});
  q.after = Cursor{{"2026-03-05 09:00:00+00"}, kId};
  const SqlQuery sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "2026-03-05 09:00:00+00", kId));
  EXPECT_EQ(where_of(sql.text),
            "user_id = $1::uuid AND status = 'open' AND (created_at, id) > ($2::timestamptz, $3::uuid)");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
}

TEST(BuildListSql, KeysetConditionDescendingWithNullsLast) {
  // Compared on the expression it sorts by: after a dated task come earlier dates and then the undated ones
  // (-infinity), all of them "less than" the cursor.
  const std::string key = "coalesce(due_at, '-infinity'::timestamptz)";
  ListQuery q = parse_list_query({{"sort", "-due_at"}});
  q.after = Cursor{{"2026-03-05 09:00:00+00"}, kId};
  SqlQuery sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "2026-03-05 09:00:00+00", kId));
  // Both statuses: each branch of the union (per_status) has the condition; the first is the open tasks'.
  EXPECT_EQ(where_of(sql.text),
            "user_id = $1::uuid AND status = 'open' AND (" + key + ", id) < ($2::timestamptz, $3::uuid)");
  EXPECT_EQ(order_by(sql.text), key + " DESC, id DESC");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));

  // Inside the trailing block of undated tasks only the id decides: the key equals -infinity there.
  q.after = Cursor{{"-infinity"}, kId};
  sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "-infinity", kId));
  EXPECT_THAT(sql.text, HasSubstr("(" + key + ", id) < ($2::timestamptz, $3::uuid)"));
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  // A cursor made in code may leave the value out for the same position.
  q.after = Cursor{{std::nullopt}, kId};
  EXPECT_THAT(build_list_sql(q, kUser, kColumns).params, ElementsAre(kUser, "-infinity", kId));
  q = parse_list_query({{"sort", "due_at"}});
  q.after = Cursor{{std::nullopt}, kId};
  sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "infinity", kId));
  EXPECT_THAT(sql.text,
              HasSubstr("(coalesce(due_at, 'infinity'::timestamptz), id) > ($2::timestamptz, $3::uuid)"));
  // Other keys are never null: no value is a programming error, not a silently empty page.
  q = parse_list_query({{"sort", "title"}});
  q.after = Cursor{{std::nullopt}, kId};
  EXPECT_THROW(build_list_sql(q, kUser, kColumns), std::invalid_argument);
}

TEST(BuildListSql, KeysetConditionSeveralKeysOneDirection) {
  ListQuery q = parse_list_query({{"sort", "-priority,-due_at,-title"}});
  q.after = Cursor{{"3", "2026-03-05 09:00:00+00", "milk"}, kId};
  SqlQuery sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "3", "2026-03-05 09:00:00+00", "milk", kId));
  EXPECT_EQ(
      where_of(sql.text),
      "user_id = $1::uuid AND status = 'open' AND (priority, coalesce(due_at, '-infinity'::timestamptz), "
      "title, id) < "
      "($2::smallint, $3::timestamptz, $4::text, $5::uuid)");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));

  q = parse_list_query({{"sort", "due_at,priority"}, {"status", "open"}});
  q.after = Cursor{{"infinity", "0"}, kId};
  sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "infinity", "0", kId));
  EXPECT_EQ(
      where_of(sql.text),
      "user_id = $1::uuid AND status = 'open' AND (coalesce(due_at, 'infinity'::timestamptz), priority, "
      "id) > ($2::timestamptz, $3::smallint, $4::uuid)");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
}

TEST(BuildListSql, KeysetConditionMixedDirections) {
  ListQuery q = parse_list_query({{"sort", "-priority,title"}});
  q.after = Cursor{{"3", "milk"}, kId};
  SqlQuery sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "3", "milk", kId));
  EXPECT_THAT(sql.text, HasSubstr("priority < $2::smallint"));
  EXPECT_THAT(sql.text, HasSubstr("priority = $2::smallint AND title > $3::text"));
  EXPECT_THAT(sql.text, HasSubstr("priority = $2::smallint AND title = $3::text AND id > $4::uuid"));
  // A redundant bound on the first key, which an index on it can use.
  EXPECT_THAT(where_of(sql.text),
              HasSubstr("user_id = $1::uuid AND status = 'open' AND priority <= $2::smallint AND ("));
  EXPECT_EQ(order_by(sql.text), "priority DESC, title ASC, id ASC");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));

  // The same with due_at first, ascending: undated tasks are +infinity, so the bound keeps them.
  const std::string due = "coalesce(due_at, 'infinity'::timestamptz)";
  q = parse_list_query({{"sort", "due_at,-created_at"}});
  q.after = Cursor{{"2026-03-05 09:00:00+00", "2026-01-01 00:00:00+00"}, kId};
  sql = build_list_sql(q, kUser, kColumns);
  EXPECT_EQ(where_of(sql.text),
            "user_id = $1::uuid AND " + due + " >= $2::timestamptz AND ((" + due +
                " > $2::timestamptz) OR (" + due +
                " = $2::timestamptz AND created_at < $3::timestamptz) OR (" + due +
                " = $2::timestamptz AND created_at = $3::timestamptz AND id < $4::uuid))");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
}

TEST(BuildListSql, KeysetWithRankReusesTheSearchParameter) {
  ListQuery q = parse_list_query({{"q", "milk"}, {"status", "open"}});
  q.after = Cursor{{"0.5"}, kId};
  const SqlQuery sql = build_list_sql(q, kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "'milk':*", "'milk':*A", "0.5", kId));
  EXPECT_THAT(sql.text, HasSubstr("((ts_rank(search, to_tsquery('simple', $2), 32) + (search @@ "
                                  "to_tsquery('simple', $3))::int)::real, id) < ($4::real, $5::uuid)"));
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
}

TEST(BuildListSql, ParsedCursorFeedsTheKeyset) {
  const Params params = {{"sort", "due_at,-priority"}, {"tag", "home"}};
  const std::string cursor = encode_cursor(parse_list_query(params), {{"2026-03-05 09:00:00+00", "2"}, kId});
  const SqlQuery sql = build_list_sql(parse_list_query(with_cursor(params, cursor)), kUser, kColumns);
  EXPECT_THAT(sql.params, ElementsAre(kUser, "{\"home\"}", "2026-03-05 09:00:00+00", "2", kId));
  EXPECT_EQ(order_by(sql.text), "coalesce(due_at, 'infinity'::timestamptz) ASC, priority DESC, id DESC");
  EXPECT_TRUE(PlaceholdersMatchParams(sql));
  EXPECT_TRUE(NoQuotedLiterals(sql.text));
}

}  // namespace
}  // namespace todo::tasks

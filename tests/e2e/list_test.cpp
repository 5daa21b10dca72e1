// End-to-end: listing tasks — every filter, every sort key, keyset pagination, full-text search, tag counts.
#include <algorithm>
#include <functional>
#include <set>

#include "e2e.hpp"
#include "todo/core/time.hpp"

namespace todo::test {
namespace {

using ListTest = E2eTest;

std::set<std::string> titles_set(const nlohmann::json& items) {
  const auto t = titles_of(items);
  return {t.begin(), t.end()};
}

std::set<std::string> q_titles(HttpClient& c, const std::string& query) {
  return titles_set(list_tasks(c, query + "&limit=200")["items"]);
}

int priority_rank(const nlohmann::json& p) {
  static const std::vector<std::string> kOrder = {"none", "low", "medium", "high", "urgent"};
  return static_cast<int>(std::find(kOrder.begin(), kOrder.end(), p.get<std::string>()) - kOrder.begin());
}

/// <0, 0, >0 as `a` sorts before, level with, or after `b` on `key` ascending; due_at without a date sorts
/// last in both directions, so `descending` is applied here.
int compare_key(const nlohmann::json& a, const nlohmann::json& b, const std::string& key, bool descending) {
  const int dir = descending ? -1 : 1;
  if (key == "priority") return dir * (priority_rank(a[key]) - priority_rank(b[key]));
  if (key == "title") return dir * a[key].get<std::string>().compare(b[key].get<std::string>());
  const bool an = a[key].is_null();
  const bool bn = b[key].is_null();
  if (an || bn) return an == bn ? 0 : (an ? 1 : -1);  // nulls last either way
  const long long x = *instant_us(a[key]);
  const long long y = *instant_us(b[key]);
  return x == y ? 0 : dir * (x < y ? -1 : 1);
}

/// Checks that `items` are in the order `sort` asks for (ties in any order, but no id twice).
::testing::AssertionResult SortedBy(const nlohmann::json& items, const std::string& sort) {
  std::vector<std::pair<std::string, bool>> keys;
  std::size_t start = 0;
  for (;;) {
    const auto comma = sort.find(',', start);
    std::string k = sort.substr(start, comma - start);
    const bool desc = !k.empty() && k[0] == '-';
    keys.emplace_back(desc ? k.substr(1) : k, desc);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!seen.insert(items[i]["id"].get<std::string>()).second) {
      return ::testing::AssertionFailure() << "id twice at " << i;
    }
    if (i == 0) continue;
    for (const auto& [key, desc] : keys) {
      const int c = compare_key(items[i - 1], items[i], key, desc);
      if (c < 0) break;
      if (c > 0) {
        return ::testing::AssertionFailure() << "sort=" << sort << ": item " << i - 1 << " " << items[i - 1]
                                             << " is before item " << i << " " << items[i];
      }
    }
  }
  return ::testing::AssertionSuccess();
}

TEST_F(ListTest, NewUserHasNoTasks) {
  auto u = user();
  const auto body = list_tasks(u.client);
  EXPECT_TRUE(body["items"].empty());
  EXPECT_TRUE(body["next_cursor"].is_null());
}

TEST_F(ListTest, StatusFilter) {
  auto u = user();
  create_task(u.client, "a");
  const auto b = create_task(u.client, "b");
  create_task(u.client, "c");
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + b["id"].get<std::string>() + "/complete").status, 200);
  EXPECT_EQ(q_titles(u.client, "status=open"), (std::set<std::string>{"a", "c"}));
  EXPECT_EQ(q_titles(u.client, "status=done"), (std::set<std::string>{"b"}));
  EXPECT_EQ(q_titles(u.client, "sort=title"), (std::set<std::string>{"a", "b", "c"}));
}

TEST_F(ListTest, PriorityFilterIsRepeatable) {
  auto u = user();
  for (const char* p : {"none", "low", "medium", "high", "urgent"}) {
    create_task(u.client, {{"title", p}, {"priority", p}});
  }
  EXPECT_EQ(q_titles(u.client, "priority=high"), (std::set<std::string>{"high"}));
  EXPECT_EQ(q_titles(u.client, "priority=high&priority=urgent"), (std::set<std::string>{"high", "urgent"}));
  EXPECT_EQ(q_titles(u.client, "priority=none&priority=low&priority=medium"),
            (std::set<std::string>{"none", "low", "medium"}));
}

TEST_F(ListTest, TagFiltersAllOfAndAnyOf) {
  auto u = user();
  create_task(u.client, {{"title", "ab"}, {"tags", {"a", "b"}}});
  create_task(u.client, {{"title", "a"}, {"tags", {"a"}}});
  create_task(u.client, {{"title", "bc"}, {"tags", {"b", "c"}}});
  create_task(u.client, {{"title", "none"}});
  EXPECT_EQ(q_titles(u.client, "tag=a"), (std::set<std::string>{"ab", "a"}));
  EXPECT_EQ(q_titles(u.client, "tag=a&tag=b"), (std::set<std::string>{"ab"}));
  EXPECT_EQ(q_titles(u.client, "tag=a&tag=c"), (std::set<std::string>{}));
  EXPECT_EQ(q_titles(u.client, "tag=zzz"), (std::set<std::string>{}));
  EXPECT_EQ(q_titles(u.client, "any_tag=c"), (std::set<std::string>{"bc"}));
  EXPECT_EQ(q_titles(u.client, "any_tag=a&any_tag=c"), (std::set<std::string>{"ab", "a", "bc"}));
  EXPECT_EQ(q_titles(u.client, "any_tag=a&any_tag=c&tag=b"), (std::set<std::string>{"ab", "bc"}));
}

TEST_F(ListTest, DueFilters) {
  auto u = user();
  create_task(u.client, {{"title", "past"}, {"due_at", "2020-01-01T00:00:00Z"}});
  const auto past_done = create_task(u.client, {{"title", "past done"}, {"due_at", "2020-06-01T00:00:00Z"}});
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + past_done["id"].get<std::string>() + "/complete").status, 200);
  create_task(u.client, {{"title", "2030"}, {"due_at", "2030-01-01T00:00:00Z"}});
  create_task(u.client, {{"title", "2031"}, {"due_at", "2031-01-01T00:00:00Z"}});
  create_task(u.client, {{"title", "no due"}});

  EXPECT_EQ(q_titles(u.client, "due_before=2030-06-01T00:00:00Z"),
            (std::set<std::string>{"past", "past done", "2030"}));
  EXPECT_EQ(q_titles(u.client, "due_after=2030-06-01T00:00:00Z"), (std::set<std::string>{"2031"}));
  EXPECT_EQ(q_titles(u.client, "due_after=2025-01-01T00:00:00Z&due_before=2030-06-01T00:00:00Z"),
            (std::set<std::string>{"2030"}));
  EXPECT_EQ(q_titles(u.client, "due_after=" + url_encode("2029-12-31T23:00:00-02:00")),
            (std::set<std::string>{"2031"}))
      << "an offset in due_after is not honoured (2029-12-31T23:00-02:00 is 2030-01-01T01:00Z)";
  EXPECT_EQ(q_titles(u.client, "has_due=true"), (std::set<std::string>{"past", "past done", "2030", "2031"}));
  EXPECT_EQ(q_titles(u.client, "has_due=false"), (std::set<std::string>{"no due"}));
  EXPECT_EQ(q_titles(u.client, "overdue=true"), (std::set<std::string>{"past"}));
  EXPECT_EQ(q_titles(u.client, "overdue=true&has_due=true&status=open"), (std::set<std::string>{"past"}));
}

// An all-day task is due for the whole of its day, the date of its due_at in its time zone: overdue once that
// day is over, not from its first minute. Fixed-offset zones (Etc/GMT+12 is UTC-12) keep the days exact.
TEST_F(ListTest, AnAllDayTaskIsOverdueOnlyOnceItsDayIsOver) {
  using namespace std::chrono;
  auto u = user();
  const auto at = [](sys_seconds t) { return format_rfc3339(time_point_cast<microseconds>(t)); };
  const auto utc_now = floor<seconds>(todo::now());
  for (const auto& [zone, offset] : {std::pair{"Etc/GMT+12", hours(-12)}, {"Etc/GMT-14", hours(14)}}) {
    // The start of today in the zone, as an instant.
    const sys_seconds today = floor<days>(utc_now + offset) - offset;
    const std::string z = zone;
    create_task(u.client,
                {{"title", "today " + z}, {"all_day", true}, {"timezone", z}, {"due_at", at(today)}});
    create_task(
        u.client,
        {{"title", "yesterday " + z}, {"all_day", true}, {"timezone", z}, {"due_at", at(today - days(1))}});
  }
  create_task(u.client, {{"title", "timed, a minute ago"}, {"due_at", at(utc_now - minutes(1))}});
  EXPECT_EQ(q_titles(u.client, "overdue=true"),
            (std::set<std::string>{"yesterday Etc/GMT+12", "yesterday Etc/GMT-14", "timed, a minute ago"}));
  EXPECT_EQ(q_titles(u.client, "overdue=true&sort=-due_at"),
            (std::set<std::string>{"yesterday Etc/GMT+12", "yesterday Etc/GMT-14", "timed, a minute ago"}));
}

TEST_F(ListTest, SearchMatchesPrefixesInTitleAndDescription) {
  auto u = user();
  create_task(u.client, "Buy milk");
  create_task(u.client, {{"title", "Call Bob"}, {"description", "ask about the invoice"}});
  create_task(u.client, {{"title", "Plan trip"}, {"description", "Remember the milkshake machine"}});
  create_task(u.client, "Walk the dog");
  EXPECT_EQ(q_titles(u.client, "q=mil"), (std::set<std::string>{"Buy milk", "Plan trip"}));
  EXPECT_EQ(q_titles(u.client, "q=milk"), (std::set<std::string>{"Buy milk", "Plan trip"}));
  EXPECT_EQ(q_titles(u.client, "q=Invoice"), (std::set<std::string>{"Call Bob"}));
  EXPECT_EQ(q_titles(u.client, "q=bob"), (std::set<std::string>{"Call Bob"}));
  EXPECT_EQ(q_titles(u.client, "q=" + url_encode("buy mil")), (std::set<std::string>{"Buy milk"}));
  EXPECT_EQ(q_titles(u.client, "q=zebra"), (std::set<std::string>{}));
  // Search operators in user input are text, never a syntax error or a 500.
  for (const char* q : {"mil:*", "milk & !dog", "(milk", "a|b", "'", "\\", "<->", "!!!", ":*"}) {
    const auto r = u.client.get("/api/v1/tasks?q=" + url_encode(q));
    EXPECT_TRUE(r.status == 200 || r.status == 422) << q << ": " << r.describe();
  }
  // Words are letters and digits of any script, as PostgreSQL's parser reads them: a Devanagari word is found
  // whole; an emoji or a zero-width space alone is no word (a 422, as "&" alone), not a search that finds
  // nothing.
  create_task(u.client, "नमस्ते party 🎉");
  EXPECT_EQ(q_titles(u.client, "q=" + url_encode("नमस्ते")), (std::set<std::string>{"नमस्ते party 🎉"}));
  EXPECT_EQ(q_titles(u.client, "q=" + url_encode("party🎉")), (std::set<std::string>{"नमस्ते party 🎉"}));
  for (const char* q : {"🎉", "\u200b", "&"})
    EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?q=" + url_encode(q)), 422, "q")) << q;
  // The best match first when searching without an explicit sort.
  create_task(u.client, {{"title", "milk milk milk"}, {"description", "milk"}});
  const auto items = list_tasks(u.client, "q=milk")["items"];
  ASSERT_FALSE(items.empty());
  EXPECT_EQ(items[0]["title"], "milk milk milk") << items;
}

// What the index holds is what PostgreSQL's parser made of the text: "3.14", "file.txt", an e-mail address,
// a version, "-5" are single words, found by the same text in q (they were split into letter runs, and
// "3.14" looked for '3' and '14').
TEST_F(ListTest, SearchFindsNumbersFileNamesAddressesAndVersions) {
  auto u = user();
  for (const char* title :
       {"pi is 3.14", "notes file.txt", "mail john@example.com", "2026-12-01 standup", "v1.2.3 release",
        "-5 degrees", "see http://example.com/path/x", "foo-bar baz", "go ~home now",
        "check https://example.com/p?a=1&b=2", "read https://en.wikipedia.org/wiki/Foo_(bar) later"})
    create_task(u.client, title);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"3.14", "pi is 3.14"},
      {"3.1", "pi is 3.14"},
      {"file.txt", "notes file.txt"},
      {"file", "notes file.txt"},
      {"john@example.com", "mail john@example.com"},
      {"2026-12-01", "2026-12-01 standup"},
      {"v1.2.3", "v1.2.3 release"},
      {"-5", "-5 degrees"},
      {"http://example.com/path/x", "see http://example.com/path/x"},
      {"foo-bar", "foo-bar baz"},
      {"foo", "foo-bar baz"},
      {"BAZ, foo-ba", "foo-bar baz"},
      // Read alone, "~home" is a file name; inside the title, the word "home": found either way.
      {"~home", "go ~home now"},
      {"go ~home now", "go ~home now"},
      // URLs keep & ( ) in one word: the pasted URL or the whole title finds the task.
      {"https://example.com/p?a=1&b=2", "check https://example.com/p?a=1&b=2"},
      {"check https://example.com/p?a=1&b=2", "check https://example.com/p?a=1&b=2"},
      {"https://en.wikipedia.org/wiki/Foo_(bar)", "read https://en.wikipedia.org/wiki/Foo_(bar) later"},
      {"o'brien's", ""},
  };
  for (const auto& [q, title] : cases)
    EXPECT_EQ(q_titles(u.client, "q=" + url_encode(q)),
              title.empty() ? std::set<std::string>{} : std::set<std::string>{title})
        << q;
}

// With q and no sort, tasks whose title matches come first, however often a description repeats the words.
TEST_F(ListTest, SearchPutsTitleMatchesFirst) {
  auto u = user();
  create_task(u.client,
              {{"title", "Monthly admin"}, {"description", "pay rent, pay rent, pay rent, pay rent"}});
  create_task(u.client, {{"title", "Pay the rent"}});
  create_task(u.client, {{"title", "Pay bills"}, {"description", "rent too"}});
  const auto all = list_tasks(u.client, "q=" + url_encode("pay rent"))["items"];
  ASSERT_EQ(all.size(), 3u) << all;
  EXPECT_EQ(all[0]["title"], "Pay the rent") << all;
  EXPECT_EQ(all[1]["title"], "Monthly admin") << all;
  EXPECT_EQ(all[2]["title"], "Pay bills") << all;
  // Paged one at a time by rank, the same order: the cursor carries the title-first rank exactly.
  std::vector<std::string> paged;
  std::string query = "q=" + url_encode("pay rent") + "&limit=1";
  for (int page = 0; page < 5; ++page) {
    const auto r = list_tasks(u.client, query);
    for (const auto& t : r["items"])
      paged.push_back(t["title"]);
    if (r["next_cursor"].is_null()) break;
    query =
        "q=" + url_encode("pay rent") + "&limit=1&cursor=" + url_encode(r["next_cursor"].get<std::string>());
  }
  EXPECT_EQ(paged, (std::vector<std::string>{"Pay the rent", "Monthly admin", "Pay bills"}));
}

struct Seed {
  const char* title;
  const char* priority;
  const char* due_at;  // nullptr: none
};

/// 23 tasks with ties on every key, so that page boundaries fall inside runs of equal keys.
std::vector<nlohmann::json> seed(HttpClient& c) {
  const std::vector<Seed> seeds = {
      {"kiwi", "high", "2030-03-01T10:00:00Z"},
      {"apple", "low", nullptr},
      {"mango", "high", "2030-01-01T10:00:00Z"},
      {"apple", "urgent", "2030-03-01T10:00:00Z"},
      {"banana", "none", "2029-12-31T23:59:59Z"},
      {"cherry", "medium", nullptr},
      {"kiwi", "high", "2030-03-01T10:00:00Z"},
      {"date", "none", "2030-02-01T00:00:00Z"},
      {"fig", "urgent", nullptr},
      {"grape", "low", "2030-01-01T10:00:00Z"},
      {"apple", "medium", "2030-01-01T10:00:00Z"},
      {"lemon", "high", nullptr},
      {"kiwi", "none", nullptr},
      {"melon", "low", "2030-03-01T10:00:00Z"},
      {"olive", "urgent", "2030-02-01T00:00:00Z"},
      {"peach", "medium", "2030-02-01T00:00:00Z"},
      {"pear", "high", "2030-01-01T10:00:00Z"},
      {"plum", "none", nullptr},
      {"quince", "low", "2031-01-01T00:00:00Z"},
      {"banana", "urgent", "2030-01-01T10:00:00Z"},
      {"berry", "medium", nullptr},
      {"apple", "high", "2030-02-01T00:00:00Z"},
      {"zucchini", "none", "2030-03-01T10:00:00Z"},
  };
  std::vector<nlohmann::json> out;
  for (const auto& s : seeds) {
    nlohmann::json t = {{"title", s.title}, {"priority", s.priority}};
    if (s.due_at != nullptr) t["due_at"] = s.due_at;
    out.push_back(create_task(c, t));
  }
  return out;
}

TEST_F(ListTest, EverySortKeyOrdersAndPaginates) {
  auto u = user();
  const auto tasks = seed(u.client);
  // Touch some tasks so that updated_at differs from created_at order.
  for (std::size_t i : {7u, 2u, 19u, 11u}) {
    ASSERT_EQ(
        u.client.patch("/api/v1/tasks/" + tasks[i]["id"].get<std::string>(), {{"description", "touched"}})
            .status,
        200);
  }
  const std::size_t n = tasks.size();
  for (const std::string sort : {"created_at", "-created_at", "updated_at", "-updated_at", "title", "-title",
                                 "priority", "-priority", "due_at", "-due_at", "priority,due_at",
                                 "-priority,title", "due_at,-title", "title,-priority,due_at"}) {
    SCOPED_TRACE("sort=" + sort);
    const auto full = list_tasks(u.client, "sort=" + sort + "&limit=200");
    ASSERT_EQ(full["items"].size(), n);
    EXPECT_TRUE(full["next_cursor"].is_null());
    EXPECT_TRUE(SortedBy(full["items"], sort));
    for (int limit : {1, 4, 7}) {
      SCOPED_TRACE("limit=" + std::to_string(limit));
      int pages = 0;
      const auto walked = list_all(u.client, "sort=" + url_encode(sort), limit, &pages);
      EXPECT_EQ(ids_of(walked), ids_of(full["items"])) << "pages do not add up to the full list";
      EXPECT_EQ(pages, static_cast<int>((n + static_cast<std::size_t>(limit) - 1) /
                                        static_cast<std::size_t>(limit)));
    }
  }
}

TEST_F(ListTest, SortDetails) {
  auto u = user();
  const auto tasks = seed(u.client);
  const auto by_title = titles_of(list_tasks(u.client, "sort=title&limit=200")["items"]);
  auto expected = by_title;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(by_title, expected);

  const auto created = ids_of(list_tasks(u.client, "sort=created_at&limit=200")["items"]);
  EXPECT_EQ(created, ids_of(tasks)) << "created_at order is not creation order";
  auto reversed = ids_of(tasks);
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(ids_of(list_tasks(u.client, "sort=-created_at&limit=200")["items"]), reversed);

  const auto by_priority = list_tasks(u.client, "sort=priority&limit=200")["items"];
  EXPECT_EQ(by_priority.front()["priority"], "none") << "ascending priority is none → urgent";
  EXPECT_EQ(by_priority.back()["priority"], "urgent");
  const auto by_priority_desc = list_tasks(u.client, "sort=-priority&limit=200")["items"];
  EXPECT_EQ(by_priority_desc.front()["priority"], "urgent");

  for (const char* sort : {"due_at", "-due_at"}) {
    const auto items = list_tasks(u.client, std::string("sort=") + sort + "&limit=200")["items"];
    ASSERT_FALSE(items.empty());
    EXPECT_FALSE(items.front()["due_at"].is_null()) << sort;
    EXPECT_TRUE(items.back()["due_at"].is_null()) << sort << ": tasks without a due date come last";
  }
  const auto due = list_tasks(u.client, "sort=due_at&limit=1")["items"];
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0]["title"], "banana");
  const auto due_desc = list_tasks(u.client, "sort=-due_at&limit=1")["items"];
  ASSERT_EQ(due_desc.size(), 1u);
  EXPECT_EQ(due_desc[0]["title"], "quince");

  ASSERT_EQ(
      u.client.patch("/api/v1/tasks/" + tasks[3]["id"].get<std::string>(), {{"title", "apple!"}}).status,
      200);
  EXPECT_EQ(list_tasks(u.client, "sort=-updated_at&limit=1")["items"][0]["id"], tasks[3]["id"]);
}

TEST_F(ListTest, PaginationKeepsFilters) {
  auto u = user();
  const auto tasks = seed(u.client);
  for (std::size_t i = 0; i < tasks.size(); i += 3) {
    ASSERT_EQ(u.client.post("/api/v1/tasks/" + tasks[i]["id"].get<std::string>() + "/complete").status, 200);
  }
  for (const std::string query : {"status=open&sort=due_at", "priority=high&priority=urgent&sort=-title",
                                  "has_due=true&sort=-due_at,title", "status=done"}) {
    SCOPED_TRACE(query);
    const auto full = list_tasks(u.client, query + "&limit=200")["items"];
    ASSERT_FALSE(full.empty());
    EXPECT_EQ(ids_of(list_all(u.client, query, 2)), ids_of(full));
  }
}

TEST_F(ListTest, DefaultAndMaximumLimit) {
  auto u = user();
  for (int i = 0; i < 55; ++i)
    create_task(u.client, "task " + std::to_string(i));
  const auto first = list_tasks(u.client);
  EXPECT_EQ(first["items"].size(), 50u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  const auto rest = list_tasks(u.client, "cursor=" + url_encode(first["next_cursor"].get<std::string>()));
  EXPECT_EQ(rest["items"].size(), 5u);
  EXPECT_TRUE(rest["next_cursor"].is_null());
  EXPECT_EQ(list_tasks(u.client, "limit=200")["items"].size(), 55u);
  const auto exact = list_tasks(u.client, "limit=55");
  EXPECT_EQ(exact["items"].size(), 55u);
  if (exact["next_cursor"].is_string()) {  // allowed, but then the next page is empty
    EXPECT_TRUE(list_tasks(u.client,
                           "limit=55&cursor=" + url_encode(exact["next_cursor"].get<std::string>()))["items"]
                    .empty());
  }
}

TEST_F(ListTest, TagCountsForOpenTasks) {
  auto u = user();
  create_task(u.client, {{"title", "1"}, {"tags", {"home", "work"}}});
  create_task(u.client, {{"title", "2"}, {"tags", {"Home"}}});
  create_task(u.client, {{"title", "3"}, {"tags", {"home", "errands"}}});
  const auto done = create_task(u.client, {{"title", "4"}, {"tags", {"work", "zzz"}}});
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + done["id"].get<std::string>() + "/complete").status, 200);
  const auto r = u.client.get("/api/v1/tags");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), nlohmann::json::parse(R"([{"tag":"home","count":3},{"tag":"errands","count":1},
                                                {"tag":"work","count":1}])"));
  // It takes no parameter: one that looks like a filter is a 422 naming it, not the unfiltered list.
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tags?status=done"), 422, "status"));
  EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tags?bogus=1"), 422, "bogus"));
}

// A tag may hold any printable character but white space and commas: one with ';' (or quotes, braces,
// backslashes, which PostgreSQL's array text quotes) reads back whole from every endpoint, filters as itself,
// and survives a change of another field (libpqxx 6's array parser split "a;b" in two, and a PATCH wrote the
// pieces back).
TEST_F(ListTest, TagsWithSemicolonsQuotesAndBracesReadBackWhole) {
  auto u = user();
  const nlohmann::json tags = {"a;b", ";;", "c", "q\"uote", "{brace}", "back\\slash", "null"};
  const auto t = create_task(u.client, {{"title", "odd tags"}, {"tags", tags}});
  EXPECT_EQ(t["tags"], tags);
  const std::string path = "/api/v1/tasks/" + t["id"].get<std::string>();
  EXPECT_EQ(u.client.get(path).json()["tags"], tags);
  const auto listed = u.client.get("/api/v1/tasks?tag=a%3Bb&tag=%3B%3B");
  ASSERT_EQ(listed.status, 200) << listed.describe();
  ASSERT_EQ(listed.json()["items"].size(), 1u);
  EXPECT_EQ(listed.json()["items"][0]["tags"], tags);
  EXPECT_EQ(u.client.get("/api/v1/tasks?tag=a").json()["items"].size(), 0u) << "no tag \"a\"";

  const auto patched = u.client.patch(path, {{"title", "renamed"}});
  ASSERT_EQ(patched.status, 200) << patched.describe();
  EXPECT_EQ(patched.json()["tags"], tags);
  EXPECT_EQ(u.client.get(path).json()["tags"], tags) << "a PATCH of the title rewrote the tags";
  const auto counts = u.client.get("/api/v1/tags").json();
  ASSERT_EQ(counts.size(), tags.size()) << counts;
  for (const auto& c : counts) {
    EXPECT_EQ(c["count"], 1) << c;
    EXPECT_NE(std::find(tags.begin(), tags.end(), c["tag"]), tags.end()) << c;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Kept pages and If-None-Match (tasks::ListCache, migration 0011)

/// tasks_list_cache_requests_total{result} on this server.
double list_reads(const std::string& base_url, const std::string& result) {
  const auto text = HttpClient(base_url).get("/metrics").body;
  return metric_value(text, "tasks_list_cache_requests_total", {{"result", result}});
}

TEST_F(ListTest, AKeptPageIsServedUntilTheListChangesByAnyPath) {
  auto u = user();
  const auto a = create_task(u.client, {{"title", "a"}, {"priority", "high"}});
  const auto b = create_task(u.client, {{"title", "b"}, {"priority", "low"}});
  const std::string path = "/api/v1/tasks?sort=title&limit=10";
  const auto first = u.client.get(path);
  ASSERT_EQ(first.status, 200) << first.describe();
  EXPECT_EQ(titles_of(first.json()["items"]), (std::vector<std::string>{"a", "b"}));
  const auto etag = first.header("etag");
  EXPECT_FALSE(etag.empty());

  // The same query again: the same page, from memory.
  const double hits = list_reads(base_url(), "hit");
  const auto again = u.client.get(path);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("etag"), etag);
  EXPECT_EQ(list_reads(base_url(), "hit"), hits + 1);

  // After each kind of change, the next read shows it, under a new entity tag.
  std::set<std::string> etags{etag};
  const auto expect_changed = [&](const std::string& what, const std::vector<std::string>& titles,
                                  const std::function<void(const nlohmann::json&)>& check = {}) {
    const auto r = u.client.get(path);
    ASSERT_EQ(r.status, 200) << what << ": " << r.describe();
    EXPECT_EQ(titles_of(r.json()["items"]), titles) << what;
    if (check) check(r.json()["items"]);
    EXPECT_TRUE(etags.insert(r.header("etag")).second) << what << ": the entity tag did not change";
  };
  const auto id_a = a["id"].get<std::string>();
  const auto id_b = b["id"].get<std::string>();
  create_task(u.client, "c");
  expect_changed("create", {"a", "b", "c"});
  ASSERT_EQ(u.client.patch("/api/v1/tasks/" + id_a, {{"title", "a2"}}).status, 200);
  expect_changed("patch", {"a2", "b", "c"});
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + id_b + "/complete").status, 200);
  expect_changed("complete", {"a2", "b", "c"},
                 [](const nlohmann::json& items) { EXPECT_EQ(items[1]["status"], "done"); });
  ASSERT_EQ(u.client.post("/api/v1/tasks/" + id_b + "/reopen").status, 200);
  expect_changed("reopen", {"a2", "b", "c"},
                 [](const nlohmann::json& items) { EXPECT_EQ(items[1]["status"], "open"); });
  ASSERT_EQ(u.client.del("/api/v1/tasks/" + id_b).status, 204);
  expect_changed("delete", {"a2", "c"});
  const auto chat = u.client.post("/api/v1/chat", {{"message", "add d"}});
  ASSERT_LT(chat.status, 300) << chat.describe();
  expect_changed("chat", {"a2", "c", "d"});
  // Straight SQL on the database (another replica, an operator): the same.
  TestPostgres::shared().query(
      db_name(), "UPDATE tasks SET title = 'c2' WHERE id = '" +
                     list_tasks(u.client, "sort=title")["items"][1]["id"].get<std::string>() + "'");
  expect_changed("SQL", {"a2", "c2", "d"});
}

TEST_F(ListTest, IfNoneMatchAnswersNotModifiedUntilTheListChanges) {
  auto u = user();
  auto other = user();
  create_task(u.client, "one");
  const std::string path = "/api/v1/tasks?status=open";
  const auto first = u.client.get(path);
  ASSERT_EQ(first.status, 200);
  const auto etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  for (const std::string& header : {etag, "W/" + etag, "\"nope\", " + etag, std::string("*")}) {
    const auto r = u.client.get(path, {{"If-None-Match", header}});
    EXPECT_EQ(r.status, 304) << header << ": " << r.describe();
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.header("etag"), etag);
  }
  EXPECT_EQ(first.header("cache-control"), "private, no-cache");
  EXPECT_EQ(first.header("vary"), "Authorization");
  EXPECT_EQ(u.client.get(path, {{"If-None-Match", "\"nope\""}}).status, 200);
  // Another user's changes are not this list's.
  create_task(other.client, "theirs");
  EXPECT_EQ(u.client.get(path, {{"If-None-Match", etag}}).status, 304);
  // Their list is at the same version now, but their page is another: its tag neither equals nor matches.
  const auto theirs = other.client.get(path, {{"If-None-Match", etag}});
  ASSERT_EQ(theirs.status, 200) << "a browser shared by two accounts would show one's list to the other";
  EXPECT_NE(theirs.header("etag"), etag);
  EXPECT_EQ(titles_of(theirs.json()["items"]), std::vector<std::string>{"theirs"});
  // Another query of the same list has the same version, and its own page.
  const auto done = u.client.get("/api/v1/tasks?status=done", {{"If-None-Match", "\"nope\""}});
  ASSERT_EQ(done.status, 200);
  EXPECT_TRUE(done.json()["items"].empty());

  create_task(u.client, "two");
  const auto changed = u.client.get(path, {{"If-None-Match", etag}});
  ASSERT_EQ(changed.status, 200) << changed.describe();
  EXPECT_EQ(titles_of(changed.json()["items"]).size(), 2u);
  EXPECT_NE(changed.header("etag"), etag);

  // overdue=true also depends on the time of reading: no entity tag, never 304, never kept; still the
  // caller's own, revalidated on every use.
  const auto overdue = u.client.get("/api/v1/tasks?overdue=true", {{"If-None-Match", "*"}});
  EXPECT_EQ(overdue.status, 200);
  EXPECT_FALSE(overdue.has_header("etag"));
  EXPECT_EQ(overdue.header("cache-control"), "private, no-cache");
  EXPECT_EQ(overdue.header("vary"), "Authorization");
}

TEST(ListReplicas, APageKeptByOneReplicaFollowsChangesMadeThroughAnother) {
  auto& pg = TestPostgres::shared();
  const std::string name = "lists_" + random_hex(4);
  const auto url = pg.create_database(name);
  ServerProcess first(std::map<std::string, std::string>{{"DATABASE_URL", url}});
  ServerProcess second(std::map<std::string, std::string>{{"DATABASE_URL", url}});
  auto u = new_user(first.base_url());
  HttpClient via_second(second.base_url());
  via_second.set_token(u.token);
  const std::string path = "/api/v1/tasks?sort=-created_at";
  for (int round = 0; round < 5; ++round) {
    // Read twice on the first replica (the second read is its kept page), write on the second.
    ASSERT_EQ(titles_of(list_tasks(u.client, "sort=-created_at")["items"]).size(),
              static_cast<std::size_t>(round));
    const auto kept = u.client.get(path);
    ASSERT_EQ(titles_of(kept.json()["items"]).size(), static_cast<std::size_t>(round));
    create_task(via_second, "task " + std::to_string(round));
  }
  EXPECT_EQ(titles_of(list_tasks(u.client, "sort=-created_at")["items"]),
            (std::vector<std::string>{"task 4", "task 3", "task 2", "task 1", "task 0"}));
  EXPECT_GE(list_reads(first.base_url(), "hit"), 5);
}

TEST(ListReplicas, WithoutKeptPagesIfNoneMatchStillWorks) {
  const auto url = TestPostgres::shared().create_database("lists_" + random_hex(4));
  ServerProcess server(
      std::map<std::string, std::string>{{"DATABASE_URL", url}, {"TODO_LIST_CACHE_MB", "0"}});
  auto u = new_user(server.base_url());
  create_task(u.client, "one");
  const auto first = u.client.get("/api/v1/tasks");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(u.client.get("/api/v1/tasks").body, first.body);
  EXPECT_EQ(list_reads(server.base_url(), "hit"), 0) << "TODO_LIST_CACHE_MB=0 kept a page";
  EXPECT_EQ(list_reads(server.base_url(), "miss"), 2);
  ASSERT_FALSE(first.header("etag").empty());
  EXPECT_EQ(u.client.get("/api/v1/tasks", {{"If-None-Match", first.header("etag")}}).status, 304);
  create_task(u.client, "two");
  EXPECT_EQ(u.client.get("/api/v1/tasks", {{"If-None-Match", first.header("etag")}}).status, 200);
}

}  // namespace
}  // namespace todo::test

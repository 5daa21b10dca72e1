// Task list queries: validation of the query string and SQL for filters, search, sort and keyset pagination.
#include "todo/tasks/query.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "todo/core/encoding.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/text.hpp"
#include "todo/db/statements.hpp"
#include "todo/tasks/validation.hpp"

namespace todo::tasks {
namespace {

struct FieldInfo {
  SortField field;
  const char* name;
  const char* column;             // SQL expression, ascending
  const char* descending_column;  // SQL expression, descending (due_at only), or nullptr for `column`
  const char* cast;               // type of its cursor literal
};

// due_at sorts nulls last in both directions. It is sorted and compared as coalesce(due_at, ±infinity), which
// is never null, so that one row comparison over the sort keys is the keyset condition and the due indexes
// (built on exactly these expressions) serve it. Stored due dates are finite (a CHECK in the schema), so the
// mapping keeps their order and puts the undated tasks last either way.
constexpr const char* kDueAsc = "coalesce(due_at, 'infinity'::timestamptz)";
constexpr const char* kDueDesc = "coalesce(due_at, '-infinity'::timestamptz)";
// The end of an all-day task's day: midnight after the date of due_at in the task's time zone (a SQL function
// of migration 0019, which reads the zone as a tz database file, never as an abbreviation such as CET).
constexpr const char* kAllDayEnd = "all_day_end(due_at, timezone)";
// Stands for a branch's priority in the text of a per_priority list until each branch is spelled out.
constexpr const char* kBranchPriority = "$priority";
// Stands for a branch's status in the text of a per_status list until each branch is spelled out.
constexpr const char* kBranchStatus = "$status";
constexpr const char* kStatuses[] = {"'open'", "'done'"};

// Several priorities of the open (or the done) tasks by due date, nothing else sorted, no search: built as
// the union of one list per priority, each an exact read of tasks_{open,done}_priority_due_idx.
bool per_priority(const ListQuery& q) {
  return q.priorities.size() > 1 && q.status && !q.search && q.sort.size() == 1 &&
         q.sort.front().field == SortField::due_at && !q.sort.front().descending;
}

// Tasks of both statuses by creation, change, title, priority or descending due date: the orders indexed per
// status (migration 0028: (user_id, status, key, id)), so built as the union of one page of the open tasks
// and one of the done ones. Not when a rank is sorted by (its expression reads the search column, which the
// union does not carry).
bool per_status(const ListQuery& q) {
  const auto& first = q.sort.front();
  const auto f = first.field;
  return !q.status && !q.overdue && !per_priority(q) &&
         (f == SortField::created_at || f == SortField::updated_at || f == SortField::title ||
          f == SortField::priority || (f == SortField::due_at && first.descending)) &&
         std::none_of(q.sort.begin(), q.sort.end(),
                      [](const SortKey& k) { return k.field == SortField::rank; });
}

// A due filter (a range, overdue, has_due) with an order that is not by due date, and no search (which reads
// its matches anyway): build_list_sql decides from the data whether to read the range from a due index or
// walk the order's index (see there).
bool range_probed(const ListQuery& q) {
  return (q.due_before || q.due_after || q.overdue || q.has_due) && !q.search &&
         q.sort.front().field != SortField::due_at;
}
// For range_probed lists: the pages of the list's order read first, testing the due filter, and the pages of
// the due range read when those did not hold a page of it. The first is kept small: a generic plan guesses
// that a user has about 1 000 tasks, and for more than a fifth of them it reads all and sorts them.
constexpr int kHeadPages = 4;
constexpr int kRangePages = 20;

constexpr FieldInfo kFields[] = {
    {SortField::due_at, "due_at", kDueAsc, kDueDesc, "timestamptz"},
    {SortField::priority, "priority", "priority", nullptr, "smallint"},
    {SortField::created_at, "created_at", "created_at", nullptr, "timestamptz"},
    {SortField::updated_at, "updated_at", "updated_at", nullptr, "timestamptz"},
    {SortField::title, "title", "title", nullptr, "text"},
    // Tasks whose title alone matches ($T: the query's words at weight A) first, then by rank: ts_rank with
    // normalisation 32 (rank / (rank + 1)) is below 1, so the title match's 1 outweighs any rank. Cast to
    // real so that the cursor's value reads back exactly.
    {SortField::rank, "rank",
     "(ts_rank(search, to_tsquery('simple', $Q), 32) + (search @@ to_tsquery('simple', $T))::int)::real",
     nullptr, "real"},
};

const FieldInfo& info(SortField f) {
  for (const auto& i : kFields)
    if (i.field == f) return i;
  return kFields[0];
}

[[noreturn]] void bad(const std::string& field, const std::string& message) {
  throw invalid(field, message);
}

bool parse_bool(const std::string& field, const std::string& v) {
  if (v == "true") return true;
  if (v == "false") return false;
  bad(field, "must be true or false");
}

std::string sort_spec(const ListQuery& q) {
  std::string s;
  for (const auto& k : q.sort)
    s += std::string(k.descending ? "-" : "") + info(k.field).name + ",";
  return s;
}

// The filters a page was listed with, hashed (fnv1a_hex): a cursor carries it, so that a cursor
// used with other filters or another search (whose rank values mean nothing there) is refused, not silently
// answered with a page of another list. Repeated values count in any order.
std::string filter_fingerprint(const ListQuery& q) {
  std::string s;
  const auto add = [&s](std::string_view name, std::string_view value) {
    s += name;
    s += '=';
    s += std::to_string(value.size());
    s += ':';
    s += value;
    s += ';';
  };
  if (q.status) add("status", to_string(*q.status));
  std::vector<std::string> sorted;
  for (const auto p : q.priorities)
    sorted.emplace_back(to_string(p));
  std::sort(sorted.begin(), sorted.end());
  for (const auto& p : sorted)
    add("priority", p);
  for (auto [name, tags] : {std::pair{"tag", q.tags_all}, {"any_tag", q.tags_any}}) {
    std::sort(tags.begin(), tags.end());
    for (const auto& t : tags)
      add(name, t);
  }
  if (q.due_before) add("due_before", to_pg_timestamptz(*q.due_before));
  if (q.due_after) add("due_after", to_pg_timestamptz(*q.due_after));
  if (q.overdue) add("overdue", "true");
  if (q.has_due) add("has_due", *q.has_due ? "true" : "false");
  if (q.search) add("q", *q.search);
  return fnv1a_hex(s);
}

std::vector<SortKey> parse_sort(const std::string& v, bool have_search) {
  std::vector<SortKey> keys;
  std::size_t start = 0;
  while (start <= v.size()) {
    auto comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    std::string_view item = trim(std::string_view(v).substr(start, comma - start));
    start = comma + 1;
    SortKey k{};
    if (!item.empty() && (item.front() == '-' || item.front() == '+')) {
      k.descending = item.front() == '-';
      item.remove_prefix(1);
    }
    const FieldInfo* found = nullptr;
    for (const auto& i : kFields)
      if (item == i.name) found = &i;
    if (!found || (found->field == SortField::rank && !have_search))
      bad("sort",
          "unknown sort key '" + std::string(item) +
              "'; use due_at, priority, created_at, updated_at or title (rank with q), '-' for descending");
    for (const auto& existing : keys)
      if (existing.field == found->field) bad("sort", "sort key '" + std::string(item) + "' given twice");
    k.field = found->field;
    keys.push_back(k);
  }
  return keys;
}

Cursor parse_cursor(const std::string& raw, const ListQuery& q) {
  auto fail = [] {
    throw Error(Errc::bad_request, "cursor is not valid for this query", {{"cursor", "invalid"}});
  };
  auto bytes = open_cursor(raw);
  if (!bytes) fail();
  auto j = nlohmann::json::parse(*bytes, nullptr, false);
  if (!j.is_object() || !j.contains("s") || !j.contains("v") || !j.contains("i")) fail();
  if (!j["s"].is_string() || j["s"].get<std::string>() != sort_spec(q)) fail();
  if (!j.contains("f") || !j["f"].is_string() || j["f"].get<std::string>() != filter_fingerprint(q)) fail();
  if (!j["i"].is_string() || !is_uuid(j["i"].get<std::string>())) fail();
  const auto& v = j["v"];
  if (!v.is_array() || v.size() != q.sort.size()) fail();
  Cursor c;
  c.id = j["i"].get<std::string>();
  for (std::size_t n = 0; n < v.size(); ++n) {
    const auto& fi = info(q.sort[n].field);
    // Every sort key expression is non-null (due_at's nulls are ±infinity), so a value is always a string.
    if (!v[n].is_string()) fail();
    std::string s = v[n].get<std::string>();
    const std::string_view cast = fi.cast;
    // Each value must be a literal PostgreSQL accepts for its cast, or the query fails with a 500.
    if (fi.field == SortField::due_at && (s == "infinity" || s == "-infinity")) {
      // The position of the undated tasks, as PostgreSQL writes it: kept verbatim.
    } else if (cast == "timestamptz") {
      const auto t = parse_pg_timestamptz(s);
      if (!t) fail();
      s = to_pg_timestamptz(*t);  // canonical UTC: PostgreSQL refuses some offsets the parser accepts
    } else if (cast == "smallint") {
      std::int16_t i = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
      if (ec != std::errc() || p != s.data() + s.size()) fail();
    } else if (cast == "real") {
      float f = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), f);
      if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(f)) fail();
    }
    if (s.size() > 4096 || s.find('\0') != std::string::npos) fail();
    c.values.emplace_back(std::move(s));
  }
  return c;
}

int parse_limit(const std::string& v) {
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 1 || n > kMaxLimit)
    bad("limit", "must be a whole number from 1 to 200");
  return n;
}

}  // namespace

std::optional<std::string> to_prefix_tsquery(std::string_view text) {
  // Each term between white space is matched two ways, either of which finds a task: quoted whole (quotes
  // and backslashes escaped), read by to_tsquery with the parser that made the index, so that "3.14",
  // "file.txt", "v1.2.3", "john@example.com" or a URL are the single words the index holds (split into
  // letter runs, "3.14" was '3' & '14', and '14' is no word of "pi is 3.14"; a term of several words,
  // "foo-bar", is a phrase); or as its runs of letters and digits, each a prefix, as before, because the
  // parser reads some text differently alone than inside a sentence ("~home" alone is a file name, inside
  // "go ~home now" the word "home"). A term without a letter or digit is left out (an emoji alone made a
  // word the index never holds: 200 and nothing, where "&" alone was a 422).
  std::string out;
  for (const auto term : split_unicode(text, "")) {
    const auto runs = unicode_words(term);
    if (runs.empty()) continue;
    if (!out.empty()) out += " & ";
    if (runs.size() == 1 && runs[0].size() == term.size()) {  // a plain word: both ways are the same
      out += '\'';
      out += term;
      out += "':*";
      continue;
    }
    out += "('";
    for (char c : term) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += "':* | ";
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (i > 0) out += " & ";
      out += '\'';
      out += runs[i];
      out += "':*";
    }
    out += ')';
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string title_tsquery(std::string_view query) {
  // Every quoted operand of to_prefix_tsquery() is followed by ":*"; inside one, a quote or a backslash is
  // escaped with a backslash.
  std::string out;
  out.reserve(query.size() + 16);
  bool quoted = false;
  for (std::size_t i = 0; i < query.size(); ++i) {
    const char c = query[i];
    out += c;
    if (quoted && c == '\\' && i + 1 < query.size()) {
      out += query[++i];
    } else if (c == '\'') {
      quoted = !quoted;
      if (!quoted && query.compare(i + 1, 2, ":*") == 0) {
        out += ":*A";
        i += 2;
      }
    }
  }
  return out;
}

ListQuery parse_list_query(const std::vector<std::pair<std::string, std::string>>& params) {
  static const std::vector<std::string> known = {"status",     "priority",  "tag",     "any_tag",
                                                 "due_before", "due_after", "overdue", "has_due",
                                                 "q",          "sort",      "limit",   "cursor"};
  static const std::vector<std::string> repeatable = {"priority", "tag", "any_tag"};
  ListQuery q;
  std::vector<std::string> seen;
  std::optional<std::string> sort, cursor;
  // Every bad parameter is named in one 422 (a repeated single-valued one is a 400 at once).
  FieldErrors errors;
  for (const auto& [k, v] : params) {
    errors.collect([&, &k = k, &v = v] {
      if (std::find(known.begin(), known.end(), k) == known.end()) bad(k, "unknown query parameter");
      const bool repeat = std::find(repeatable.begin(), repeatable.end(), k) != repeatable.end();
      if (!repeat && std::find(seen.begin(), seen.end(), k) != seen.end()) throw repeated_parameter(k);
      seen.push_back(k);
      if (k == "status") {
        auto s = parse_status(v);
        if (!s) bad("status", "must be open or done");
        q.status = s;
      } else if (k == "priority") {
        auto p = parse_priority(v);
        if (!p) bad("priority", "must be one of none, low, medium, high, urgent");
        if (std::find(q.priorities.begin(), q.priorities.end(), *p) == q.priorities.end())
          q.priorities.push_back(*p);
      } else if (k == "tag" || k == "any_tag") {
        std::string tag = v;
        if (auto problem = tag_problem(tag)) bad(k, *problem);
        // Counted as the task's tags are, once each after normalising; the limit is checked below, once.
        auto& list = k == "tag" ? q.tags_all : q.tags_any;
        if (std::find(list.begin(), list.end(), tag) == list.end()) list.push_back(std::move(tag));
      } else if (k == "due_before" || k == "due_after") {
        auto t = parse_rfc3339(v);
        if (!t) bad(k, rfc3339_problem(v));
        (k == "due_before" ? q.due_before : q.due_after) = t;
      } else if (k == "overdue") {
        q.overdue = parse_bool(k, v);
      } else if (k == "has_due") {
        q.has_due = parse_bool(k, v);
      } else if (k == "q") {
        // Raw bytes from the query string: PostgreSQL refuses invalid UTF-8 with an error.
        if (!valid_utf8(v)) bad("q", "must be valid UTF-8");
        if (utf8_length(v) > 500) bad("q", "must be at most 500 characters");
        q.search = to_prefix_tsquery(nfc(v));  // as titles and descriptions are stored
        if (!q.search) bad("q", "must contain at least one letter or digit");
      } else if (k == "sort") {
        sort = v;
      } else if (k == "limit") {
        q.limit = parse_limit(v);
      } else if (k == "cursor") {
        cursor = v;
      }
    });
  }
  if (q.tags_all.size() > kMaxTags) errors.add("tag", "at most 20 different tags (after lower-casing)");
  if (q.tags_any.size() > kMaxTags) errors.add("any_tag", "at most 20 different tags (after lower-casing)");
  if (sort) errors.collect([&] { q.sort = parse_sort(*sort, q.search.has_value()); });
  errors.throw_if_any();
  if (!sort) q.sort = {{q.search ? SortField::rank : SortField::created_at, q.search.has_value()}};
  if (cursor) q.after = parse_cursor(*cursor, q);
  return q;
}

std::string encode_cursor(const ListQuery& q, const Cursor& position) {
  nlohmann::json v = nlohmann::json::array();
  for (const auto& value : position.values)
    v.push_back(value ? nlohmann::json(*value) : nlohmann::json(nullptr));
  nlohmann::json j = {
      {"s", sort_spec(q)}, {"f", filter_fingerprint(q)}, {"v", std::move(v)}, {"i", position.id}};
  return seal_cursor(j.dump());
}

bool cacheable(const ListQuery& q) {
  // Measured (test_query_plans): without the user's id the planner guesses that a user has few tasks, and
  // for a filter that the index giving the order does not take as its condition it picks a bitmap scan of
  // every match plus a sort; for a user with 100 000 tasks that reads 20 000 rows for one page.
  if (q.search || q.title_contains || !q.tags_all.empty() || !q.tags_any.empty()) return false;
  if (q.due_before || q.due_after || q.overdue || q.has_due) return false;
  if (q.priorities.empty()) return true;
  // One priority of the open (or the done) tasks by due date: tasks_open_priority_due_idx
  // (tasks_done_priority_due_idx) gives exactly that, and several are one such list each (per_priority).
  return per_priority(q) || (q.priorities.size() == 1 && q.status &&
                             q.sort.front().field == SortField::due_at && !q.sort.front().descending);
}

SqlQuery build_list_sql(const ListQuery& q, const std::string& user_id, const char* task_columns) {
  SqlQuery out;
  auto param = [&](std::string value) {
    out.params.push_back(std::move(value));
    return "$" + std::to_string(out.params.size());
  };

  const std::string user = "user_id = " + param(user_id) + "::uuid";
  std::string where = user;
  std::vector<std::string> branch_priorities;  // per_priority: each branch's priority
  std::string search_param;
  std::string title_param;
  if (q.search) {
    search_param = param(*q.search);
    where += " AND search @@ to_tsquery('simple', " + search_param + ")";
    if (std::any_of(q.sort.begin(), q.sort.end(),
                    [](const SortKey& k) { return k.field == SortField::rank; }))
      title_param = param(title_tsquery(*q.search));
  }
  if (q.title_contains)
    where += " AND strpos(lower(title), lower(" + param(*q.title_contains) + "::text)) > 0";
  // A literal (from our own enum, never user text) so that the planner can use the partial index on open
  // tasks. Overdue tasks are open ones.
  if (q.status) where += std::string(" AND status = '") + std::string(to_string(*q.status)) + "'";
  if (q.overdue && q.status != Status::open) where += " AND status = 'open'";
  const std::string status_branch = " AND status = " + std::string(kBranchStatus);
  if (per_status(q)) where += status_branch;
  if (q.priorities.size() == 1) {
    // '=' rather than '= ANY': an index condition on (user_id, priority, id), not a filter.
    where += " AND priority = " + param(std::to_string(static_cast<int>(q.priorities[0]))) + "::smallint";
  } else if (per_priority(q)) {
    where += " AND priority = " + std::string(kBranchPriority);
    for (Priority p : q.priorities)
      branch_priorities.push_back(param(std::to_string(static_cast<int>(p))) + "::smallint");
  } else if (!q.priorities.empty()) {
    std::string list = "{";
    for (std::size_t i = 0; i < q.priorities.size(); ++i)
      list += (i ? "," : "") + std::to_string(static_cast<int>(q.priorities[i]));
    where += " AND priority = ANY(" + param(list + "}") + "::smallint[])";
  }
  if (!q.tags_all.empty()) where += " AND tags @> " + param(db::array_literal(q.tags_all)) + "::text[]";
  if (!q.tags_any.empty()) where += " AND tags && " + param(db::array_literal(q.tags_any)) + "::text[]";

  // The due filters, on the expression of a due index (due_conditions), so that they are index conditions
  // there: the descending one when the list starts with -due_at, else the ascending one. Undated tasks are
  // +infinity in one and -infinity in the other: where that would let them through a bound, "dated" excludes
  // them. By day (due_before_day/due_after_day): the index condition is two days wider than the instants
  // (every zone's offset is within -12..+14 hours, so an all-day task of any zone whose date is in the user's
  // range is inside it), then an all-day task is compared by its date in its own zone and a timed one by the
  // instant (due_rules, with overdue's rule for all-day tasks: not index conditions).
  const bool due_desc = q.sort.front().field == SortField::due_at && q.sort.front().descending;
  std::string before, after, due_rules;
  auto by_day = [&](const std::string& instant, const std::optional<std::string>& day, const char* op) {
    if (!day) return;
    due_rules += " AND (CASE WHEN all_day THEN (due_at AT TIME ZONE tz_file(timezone))::date " +
                 std::string(op) + " " + param(*day) + "::date ELSE due_at " + op + " " + instant + " END)";
  };
  if (q.due_before) {
    const std::string b = param(to_pg_timestamptz(*q.due_before)) + "::timestamptz";
    before = q.due_before_day ? "(" + b + " + interval '2 days')" : b;
    by_day(b, q.due_before_day, "<");
  }
  if (q.due_after) {
    const std::string a = param(to_pg_timestamptz(*q.due_after)) + "::timestamptz";
    after = q.due_after_day ? "(" + a + " - interval '2 days')" : a;
    by_day(a, q.due_after_day, ">=");
  }
  // An all-day task is due for the whole of its day (the date of due_at in its time zone): overdue once
  // that day is over, not from its first minute.
  if (q.overdue) due_rules += std::string(" AND (NOT all_day OR ") + kAllDayEnd + " <= now())";
  const auto due_conditions = [&](bool desc) {
    const std::string due = desc ? kDueDesc : kDueAsc;
    const std::string undated = desc ? "'-infinity'::timestamptz" : "'infinity'::timestamptz";
    std::string s;
    if (!before.empty()) s += " AND " + due + " < " + before;
    if (!after.empty()) s += " AND " + due + " >= " + after;
    if (q.overdue) s += " AND " + due + " < now()";
    if (q.has_due == true || (desc ? q.due_before || q.overdue : q.due_after.has_value()))
      s += " AND " + due + (desc ? " > " : " < ") + undated;
    if (q.has_due == false) s += " AND " + due + " = " + undated;
    return s;
  };
  const std::string due_filter = due_conditions(due_desc) + due_rules;

  auto column = [&](const SortKey& k) {
    const FieldInfo& fi = info(k.field);
    std::string c = k.descending && fi.descending_column ? fi.descending_column : fi.column;
    if (auto pos = c.find("$Q"); pos != std::string::npos) c.replace(pos, 2, search_param);
    if (auto pos = c.find("$T"); pos != std::string::npos) c.replace(pos, 2, title_param);
    return c;
  };

  // Keyset condition: rows strictly after the cursor in the sort order, which ends with id in the direction
  // of the last key.
  std::string keyset;
  if (q.after) {
    const auto& c = *q.after;
    std::vector<std::string> cols;
    std::vector<std::string> values;
    for (std::size_t n = 0; n < q.sort.size(); ++n) {
      const auto& k = q.sort[n];
      cols.push_back(column(k));
      // parse_cursor never leaves a value out; a cursor made in code may, for due_at's undated tasks.
      const auto& value = c.values.at(n);
      if (!value && k.field != SortField::due_at)
        throw std::invalid_argument("cursor without a value for a sort key that is never null");
      values.push_back(param(value.value_or(k.descending ? "-infinity" : "infinity")) +
                       "::" + info(k.field).cast);
    }
    const std::string id = param(c.id) + "::uuid";
    const bool first_desc = q.sort.front().descending;
    const bool one_direction = std::all_of(q.sort.begin(), q.sort.end(),
                                           [&](const SortKey& k) { return k.descending == first_desc; });
    if (one_direction) {
      // (k1, …, kn, id) > (v1, …, vn, i): a row comparison, which a (user_id, k1, …, kn, id) index takes as
      // its index condition, so a deep page starts reading at the cursor.
      std::string lhs, rhs;
      for (std::size_t n = 0; n < cols.size(); ++n) {
        lhs += cols[n] + ", ";
        rhs += values[n] + ", ";
      }
      keyset += " AND (" + lhs + "id) " + (first_desc ? "<" : ">") + " (" + rhs + id + ")";
    } else {
      // Mixed directions: spelled out per key, plus a redundant bound on the first key that an index on it
      // can use.
      keyset += " AND " + cols[0] + (first_desc ? " <= " : " >= ") + values[0];
      std::string any;
      std::string equal_prefix;
      for (std::size_t n = 0; n <= cols.size(); ++n) {
        const std::string after_here =
            n == cols.size() ? std::string("id ") + (q.sort.back().descending ? "<" : ">") + " " + id
                             : cols[n] + (q.sort[n].descending ? " < " : " > ") + values[n];
        any += (any.empty() ? "(" : " OR (") + equal_prefix + after_here + ")";
        if (n < cols.size()) equal_prefix += cols[n] + " = " + values[n] + " AND ";
      }
      keyset += " AND (" + any + ")";
    }
  }

  std::string order;
  std::string keys;       // the sort key columns, computed
  std::string key_names;  // the same, as named in a page's rows
  for (std::size_t n = 0; n < q.sort.size(); ++n) {
    const auto& k = q.sort[n];
    order += column(k) + (k.descending ? " DESC" : " ASC") + ", ";
    // Aliased so that ORDER BY's names resolve to the table's columns, not these text copies.
    keys += ", (" + column(k) + ")::text AS sort_key_" + std::to_string(n);
    key_names += ", sort_key_" + std::to_string(n);
  }
  order += std::string("id") + (q.sort.back().descending ? " DESC" : " ASC");

  const std::string limit = " LIMIT " + std::to_string(q.limit + 1);
  // A search sorted by other keys than its rank reads its matches from the full-text index and sorts them
  // (OFFSET 0 keeps the ORDER BY out of the scan's planning). Planned with the order, PostgreSQL walked the
  // order's index testing every task against the search, guessing that a prefix such as 'zz':* matches a few
  // thousand: with no match at all it read all the user's tasks (100 000, 0.5-2 s). A search sorted by rank
  // reads its matches anyway (the rank is computed for each).
  const bool matches_first = q.search && std::none_of(q.sort.begin(), q.sort.end(), [](const SortKey& k) {
                               return k.field == SortField::rank;
                             });
  // The first rows (up to `rows`) of `columns` of the tasks meeting `conditions`, in the list's order.
  const auto in_order = [&](const std::string& columns, const std::string& conditions,
                            const std::string& rows) {
    const std::string select = "SELECT " + columns + " FROM tasks WHERE " + conditions;
    const std::string one =
        matches_first ? "SELECT * FROM (" + select + " OFFSET 0) AS matches ORDER BY " + order + rows
                      : select + " ORDER BY " + order + rows;
    // Several priorities of the open (or done) tasks by due date: one page of each priority, read exactly
    // from its partial index, then the first page of their union. `priority = ANY(…)` read the status's tasks
    // in due order and filtered the priorities. Likewise one page of each status for the orders indexed per
    // status.
    const auto branched = [&](const char* placeholder, const auto& values, const char* alias) {
      std::string branches;
      for (const std::string& v : values) {
        std::string branch = one;
        branch.replace(branch.find(placeholder), std::string_view(placeholder).size(), v);
        branches += (branches.empty() ? "(" : " UNION ALL (") + branch + ")";
      }
      return "SELECT * FROM (" + branches + ") AS " + alias + " ORDER BY " + order + rows;
    };
    if (!branch_priorities.empty()) return branched(kBranchPriority, branch_priorities, "per_priority");
    if (per_status(q))
      return branched(kBranchStatus, std::vector<std::string>(std::begin(kStatuses), std::end(kStatuses)),
                      "per_status");
    return one;
  };
  const std::string columns = task_columns + keys;
  if (!range_probed(q)) {
    out.text = in_order(columns, where + due_filter + keyset, limit);
    return out;
  }

  // A due filter with another order (range_probed): PostgreSQL chose between walking the order's index
  // testing the filter and reading the filter's range from a due index and sorting it by its guess of how
  // many tasks the range holds, from the whole table's statistics and assuming them spread evenly along the
  // order: in an account whose tasks are mostly outside the range it walked all of them (96 000 rows, 340-410
  // ms at 100 000 tasks). Decided here from the data, in one statement:
  // - head: the first kHeadPages pages of the list without the due filter (from the order's index), each
  //   row with `hit` (the filter). When they hold a page of hits, or are the whole list, that is the page.
  // - due_range: else, the range's first kRangePages pages from the due index (only the due filter, user and
  //   status: exact index conditions). When that is all of the range, the page is the range sorted.
  // - else the range holds many tasks, but few of the first in the list's order: walk the order's index
  //   testing the filter, which PostgreSQL can neither use as an index condition nor estimate (a CASE), so
  //   that it walks the order and does not read the user's tasks to sort them.
  // Each branch is gated on `choice` (a one-time filter): the others are never executed. head's hits are
  // sorted again (at most kHeadPages pages, in memory): SQL does not promise a CTE's rows in its order. head
  // is read only until it holds a page of hits, due_range only when head does not decide (CASE stops at the
  // first true WHEN). A sort by priority and then other keys has no index for its order (the index gives
  // priority, then each priority's tasks are sorted: a page reads a whole priority, 20 000 of the big user's
  // tasks): no head.
  const bool head = q.sort.size() == 1 || q.sort.front().field != SortField::priority;
  const int head_rows = kHeadPages * (q.limit + 1);
  const int range_rows = kRangePages * (q.limit + 1);
  const std::string page_size = std::to_string(q.limit + 1);
  std::string choice;
  if (head)
    choice = " WHEN (SELECT count(*) FROM (SELECT 1 FROM head WHERE hit LIMIT " + page_size +
             ") AS hits) = " + page_size + " OR (SELECT count(*) FROM head) < " + std::to_string(head_rows) +
             " THEN 0";
  choice += " WHEN (SELECT count(*) FROM due_range) < " + std::to_string(range_rows) + " THEN 1";
  const std::string hit =
      "CASE WHEN " + due_filter.substr(std::string_view(" AND ").size()) + " THEN true ELSE false END";
  // The status's due index, (user_id, status, coalesce(due_at, '-infinity') DESC, id DESC) (overdue tasks
  // are open ones), or with both statuses (user_id, coalesce(due_at, 'infinity'), id).
  const bool probe_status = q.status || q.overdue;
  std::string range_where = user;
  if (probe_status)
    range_where +=
        std::string(" AND status = '") + std::string(to_string(q.overdue ? Status::open : *q.status)) + "'";
  range_where += due_conditions(probe_status);
  const std::string range_order =
      probe_status ? std::string(kDueDesc) + " DESC, id DESC" : std::string(kDueAsc) + " ASC, id ASC";
  std::string every = where;  // both statuses in one branch
  if (const auto at = every.find(status_branch); at != std::string::npos)
    every.erase(at, status_branch.size());
  const std::string gate = " AND (SELECT plan FROM choice) = ";
  out.text = "WITH " +
             (head ? "head AS MATERIALIZED (" +
                         in_order("*" + keys + ", " + hit + " AS hit", where + keyset,
                                  " LIMIT " + std::to_string(head_rows)) +
                         "), "
                   : "") +
             "due_range AS MATERIALIZED (SELECT * FROM tasks WHERE " + range_where + " ORDER BY " +
             range_order + " LIMIT " + std::to_string(range_rows) + "), choice AS MATERIALIZED (SELECT CASE" +
             choice + " ELSE 2 END AS plan) SELECT * FROM (" +
             (head ? "(SELECT " + std::string(task_columns) + key_names + " FROM head WHERE hit" + gate +
                         "0 ORDER BY " + order + limit + ") UNION ALL "
                   : "") +
             "(SELECT " + columns + " FROM due_range WHERE " + every + due_filter + keyset + gate +
             "1 ORDER BY " + order + limit + ") UNION ALL (" +
             in_order(columns, where + " AND " + hit + keyset + gate + "2", limit) +
             ")) AS probed ORDER BY " + order + limit;
  return out;
}

}  // namespace todo::tasks

// Task list queries: filters, full-text search, multi-key sort and keyset pagination with opaque cursors.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "todo/core/time.hpp"
#include "todo/tasks/model.hpp"

namespace todo::tasks {

/// A sortable column; `rank` is the full-text relevance (only with q).
enum class SortField { due_at, priority, created_at, updated_at, title, rank };

struct SortKey {
  SortField field;
  bool descending = false;
};

/// Where the previous page ended: the sort-key values of its last task, as SQL literals, and its id. A due_at
/// value is its sort expression's: "infinity" (ascending) or "-infinity" (descending) for an undated task; a
/// value left out (only in cursors made in code) means the same.
struct Cursor {
  std::vector<std::optional<std::string>> values;
  std::string id;
};

/// A validated GET /tasks query.
struct ListQuery {
  std::optional<Status> status;
  std::vector<Priority> priorities;
  std::vector<std::string> tags_all;
  std::vector<std::string> tags_any;
  std::optional<Instant> due_before;
  std::optional<Instant> due_after;
  // Not a REST parameter (the chat's lists set them): with due_after/due_before, an all-day task matches by
  // its date (of due_at in its own time zone, "YYYY-MM-DD") from due_after_day on / before due_before_day, a
  // timed one by the instants. The index still bounds due_at, two days wider than the instants.
  std::optional<std::string> due_after_day;
  std::optional<std::string> due_before_day;
  // Not a REST parameter (the chat's searches set it): titles holding this text, case aside. For a search
  // with no letter or digit ("🎂"), which full-text search (`search`) cannot read.
  std::optional<std::string> title_contains;
  bool overdue = false;
  std::optional<bool> has_due;
  std::optional<std::string> search;  // a to_tsquery expression built from q
  std::vector<SortKey> sort;          // never empty after parsing
  int limit = 50;
  std::optional<Cursor> after;
};

inline constexpr int kDefaultLimit = 50;
inline constexpr int kMaxLimit = 200;

/// Parses and validates query parameters; throws Error (400 for a bad cursor, 422 for bad values).
ListQuery parse_list_query(const std::vector<std::pair<std::string, std::string>>& params);

/// Turns free text into a prefix-matching tsquery for to_tsquery('simple', …): its terms, cut at white space
/// and at punctuation no token holds, each quoted whole so that PostgreSQL's parser reads it as it read the
/// indexed text ("buy mil" → "'buy':* & 'mil':*", "pi 3.14" → "'pi':* & '3.14':*"); nullopt when it has no
/// letter or digit.
std::optional<std::string> to_prefix_tsquery(std::string_view text);
/// The same query restricted to the title's words (weight A): "'buy':* & 'mil':*" → "'buy':*A & 'mil':*A".
std::string title_tsquery(std::string_view prefix_tsquery);

/// SQL text with $n placeholders and its parameters (all passed as text and cast in SQL).
struct SqlQuery {
  std::string text;
  std::vector<std::string> params;
};

/// The SELECT for one page: the task columns, then one text column per sort key (for the cursor), ordered and
/// limited to limit + 1 rows (the extra row says whether there is a next page). due_at sorts as
/// coalesce(due_at, 'infinity') ascending and coalesce(due_at, '-infinity') descending (undated tasks last
/// either way), the expressions of its indexes; with one direction for every key the cursor condition is a
/// single row comparison, which the matching (user_id, key…, id) index takes as its index condition. A due
/// filter in another order than by due date is one statement that chooses from the data between the first
/// rows of the order, the range read from a due index and sorted, and a walk of the order (see query.cpp).
SqlQuery build_list_sql(const ListQuery& q, const std::string& user_id, const char* task_columns);

/// Whether build_list_sql's text for `q` may be prepared and run with PostgreSQL's generic plan: the shapes
/// whose filters and order an index serves whatever the user: no search, tag or due-date filter, and
/// priorities only for open (or done) tasks by due date, each priority a list of its own when there are
/// several (build_list_sql then selects the union of one page a priority). Task counts per user are skewed,
/// and for the other shapes a plan made for the average user can sort all of a big user's matching tasks for
/// one page; those are planned for their values every time. test_query_plans checks, at 1,000,000 tasks, that
/// the generic plan of every documented shape this accepts reads no more rows than the custom one, for a user
/// with 100,000 tasks and for a small one.
bool cacheable(const ListQuery& q);

/// The opaque cursor after a row whose sort-key values (as selected by build_list_sql) and id are given.
std::string encode_cursor(const ListQuery& q, const Cursor& position);

}  // namespace todo::tasks

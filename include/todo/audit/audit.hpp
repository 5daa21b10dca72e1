// The audit trail: append-only rows written in the transaction of each change, and the queries over them.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "todo/core/time.hpp"

namespace todo::audit {

/// One audit row.
struct Entry {
  std::int64_t id = 0;
  std::string task_id;  // empty when the action concerns no task
  std::string action;   // task.created, task.updated, task.completed, task.reopened, task.deleted
  std::string request_id;
  Instant at{};
  nlohmann::json changes;  // {field: [old, new]}
};

nlohmann::json to_json(const Entry& e);

/// Appends a row inside the caller's transaction. `changes`: JSON text, `{"field":[old,new],...}`.
void record(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
            std::string_view action, const std::string& request_id, std::string_view changes);

/// One row for record_many().
struct NewEntry {
  std::string user_id;
  std::string task_id;  // empty: none
  std::string_view action;
  std::string request_id;  // empty: none
  std::string changes;     // JSON text, as for record()
};
/// record() for many rows in one statement whatever their number.
void record_many(pqxx::transaction_base& w, const std::vector<NewEntry>& entries);

/// A validated GET /audit query.
struct Query {
  std::optional<std::string> task_id;
  std::optional<std::string> action;
  std::optional<Instant> from;  // at >= from
  std::optional<Instant> to;    // at < to
  int limit = 50;
  std::optional<std::pair<Instant, std::int64_t>> after;  // (at, id) of the last entry of the previous page
};
/// Throws Error (400 bad cursor, 422 bad values) naming the parameter.
Query parse_query(const std::vector<std::pair<std::string, std::string>>& params);

struct Page {
  std::vector<Entry> items;
  std::optional<std::string> next_cursor;
};
/// The user's entries, newest first, keyset-paginated.
Page list(pqxx::transaction_base& w, const std::string& user_id, const Query& q);

/// Counts per action and per day (in the given IANA zone) for GET /audit/stats.
nlohmann::json stats(pqxx::transaction_base& w, const std::string& user_id, std::optional<Instant> from,
                     std::optional<Instant> to, const std::string& timezone);

}  // namespace todo::audit

// SQL for tasks; every function runs inside the caller's transaction (or, for the single-statement reads that
// take a db::Reader, on the io thread without one) and filters by the owner's id.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/db/reader.hpp"
#include "todo/tasks/model.hpp"
#include "todo/tasks/query.hpp"
#include "todo/tasks/validation.hpp"

namespace todo::tasks::repository {

/// Inserts a task; `t.id` and `t.user_id` must be set. Returns it as stored (timestamps, version).
Task insert(pqxx::transaction_base& w, const Task& t);
/// insert() for many tasks in one statement whatever their number; the stored tasks in the given order.
std::vector<Task> insert_many(pqxx::transaction_base& w, const std::vector<Task>& tasks);
std::optional<Task> find(pqxx::transaction_base& w, const std::string& user_id, const std::string& id);
/// Locks the row for the rest of the transaction. `transaction_time`, when given, gets the transaction's
/// now(): the time the database gives updated_at, so that a change's other times (completed_at) agree
/// with it whatever the clock of this replica says.
std::optional<Task> find_for_update(pqxx::transaction_base& w, const std::string& user_id,
                                    const std::string& id, Instant* transaction_time = nullptr);
/// Writes every mutable field, bumps the version and updated_at; returns the stored row.
Task save(pqxx::transaction_base& w, const Task& t);
/// Writes only `t.series_start` (the rule's internal anchor, in no API field): no version bump.
void set_series_start(pqxx::transaction_base& w, const Task& t);
bool remove(pqxx::transaction_base& w, const std::string& user_id, const std::string& id);

/// Serialises, until the end of the transaction, every transaction that extends or edits this series.
void lock_series(pqxx::transaction_base& w, const std::string& user_id, const std::string& series_id);
/// Every task of a series, by occurrence.
std::vector<Task> series_tasks(pqxx::transaction_base& w, const std::string& user_id,
                               const std::string& series_id);

/// The highest occurrence a series has created and its (latest) due time: kept when that occurrence is
/// skipped or deleted, so that new occurrences never reuse its number or time (migration 0022).
struct SeriesHighest {
  int occurrence = 0;
  std::optional<Instant> due_at;
};
/// Records `t` (an occurrence just inserted or saved) when it is the series' highest so far.
void note_occurrence(pqxx::transaction_base& w, const Task& t);
/// Sets the record back to the highest occurrence that exists: the following occurrences a series-wide
/// reschedule deleted are replaced, their numbers used again by the new schedule.
void reset_series_highest(pqxx::transaction_base& w, const std::string& user_id,
                          const std::string& series_id);
std::optional<SeriesHighest> series_highest(pqxx::transaction_base& w, const std::string& user_id,
                                            const std::string& series_id);

/// One page of a list query.
struct Page {
  std::vector<Task> items;
  std::optional<std::string> next_cursor;
};
Page list(pqxx::transaction_base& w, const std::string& user_id, const ListQuery& q);

/// find() and list() as one statement each on the io thread's own connection (no DB-thread hand-off).
boost::asio::awaitable<std::optional<Task>> find(db::Reader& db, const std::string& user_id,
                                                 const std::string& id);
boost::asio::awaitable<Page> list(db::Reader& db, const std::string& user_id, const ListQuery& q);
/// The user's task list version (migration 0011): raised by every transaction that changes the user's tasks,
/// 0 before the first; nullopt when the user does not exist (a token that outlived its account).
boost::asio::awaitable<std::optional<std::int64_t>> list_version(db::Reader& db, const std::string& user_id);

/// Tags on the user's open tasks with their counts, most used first.
std::vector<std::pair<std::string, long>> tag_counts(pqxx::transaction_base& w, const std::string& user_id);

}  // namespace todo::tasks::repository

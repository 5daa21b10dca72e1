// Task business rules: ownership, optimistic concurrency, completion; one call = one step of a transaction.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/tasks/model.hpp"
#include "todo/tasks/query.hpp"
#include "todo/tasks/repository.hpp"
#include "todo/tasks/validation.hpp"

namespace todo::tasks::service {

/// Who makes a change: the user, and the request that asked for it (both recorded in the audit trail).
struct Actor {
  Actor(std::string user, std::string request = {})
      : user_id(std::move(user)), request_id(std::move(request)) {}
  std::string user_id;
  std::string request_id;
};

/// Copies the reminder offsets of an occurrence to a new one of its series, in the same transaction: those of
/// the series' latest open occurrence, which the new one copies as it copies its fields, or of the completed
/// (or skipped) one when none is later. The reminders module provides it (main wires it with
/// set_copy_reminders); until then it is a no-op.
using CopyReminders = void (*)(pqxx::transaction_base& w, const std::string& user_id,
                               const std::string& from_task_id, const Task& to);
void set_copy_reminders(CopyReminders fn);

// Every change below writes, in the caller's transaction, its outbox event (events::append) and its audit
// row; a call that changes nothing (completing a done task) writes neither.

/// Creates a task for the user; the user's time zone applies when the request names none. A recurring task
/// starts its series (series_id = its id, occurrence 0) and creates generate_ahead occurrences after it.
Task create(pqxx::transaction_base& w, const Actor& who, const NewTask& request);
/// One create of create_many().
struct Creation {
  Actor who;
  NewTask request;
};
/// create() for many tasks, of any users, in the caller's transaction; the stored tasks in the given order.
/// The tasks that do not recur are written with one statement for all the tasks, one for their events and
/// one for their audit rows, whatever their number; a recurring one as create() writes it.
std::vector<Task> create_many(pqxx::transaction_base& w, const std::vector<Creation>& creations);
/// The user's task; Error(not_found) when it does not exist or is someone else's.
Task get(pqxx::transaction_base& w, const std::string& user_id, const std::string& id);
/// get() on a db::Reader: the read the API serves most, with no DB-thread hand-off.
boost::asio::awaitable<Task> get(db::Reader& db, const std::string& user_id, const std::string& id);
/// Applies a partial update. `expected` (If-Match) and patch.version (Expected::with_body) must match, else
/// Error(conflict).
/// scope = series also applies it to the open occurrences that follow this one in its series; when it changes
/// the schedule (due_at, recurrence, recurrence_mode, timezone), those are replaced by
/// occurrences of the new schedule, which starts at this task's due_at.
Task update(pqxx::transaction_base& w, const Actor& who, const std::string& id, const TaskPatch& patch,
            const Expected& expected, Scope scope = Scope::this_occurrence);
/// Marks done / open again; idempotent (an unchanged task keeps its version); `expected` as for update.
/// Completing an occurrence of a series creates the next one(s) in the same transaction: the series is topped
/// up to 1 + generate_ahead open occurrences, each created exactly once (the series lock and the unique
/// (user, series, occurrence) key), until COUNT/UNTIL end it.
Task complete(pqxx::transaction_base& w, const Actor& who, const std::string& id,
              const Expected& expected = {});
Task reopen(pqxx::transaction_base& w, const Actor& who, const std::string& id,
            const Expected& expected = {});
/// Deletes a task. For an occurrence of a series, scope = this skips it (the series goes on with the next
/// occurrence, which gets the skipped one's relative reminders); scope = series deletes it and every open
/// occurrence of the series, which ends the series: completed occurrences stay, without their rule, so that
/// reopening and completing one (or a series-wide edit of one) creates no new occurrence.
void remove(pqxx::transaction_base& w, const Actor& who, const std::string& id, const Expected& expected,
            Scope scope = Scope::this_occurrence);
/// What withdraw did with the occurrences a completion created that are still as created: those it deleted,
/// and those it kept because the series went on past them.
struct Withdrawal {
  std::vector<Task> withdrawn;
  std::vector<Task> passed;
};
/// Takes back the occurrences of a series that a completion created (chat's undo of that completion): of
/// `created` (id, version when created), those still open occurrences of the series at that version, as long
/// as they are the series' highest: from the highest occurrence the series created down, while each is one of
/// them, and only when the occurrence below them exists or is below the record before that completion. Unlike
/// a skip (remove, scope = this), the series may create them again: its record of the highest occurrence
/// created (repository::series_highest) goes back to `before`, the record before that completion, or to the
/// highest occurrence left when that is higher. The others are kept (`passed`): an occurrence above them was
/// created, skipped or changed since (or one below them skipped), and the series numbers and times new
/// occurrences after its highest one, so taken back, their dates were lost for good (a skip is final).
Withdrawal withdraw(pqxx::transaction_base& w, const Actor& who, const std::string& series_id,
                    const std::vector<std::pair<std::string, int>>& created,
                    const std::optional<repository::SeriesHighest>& before);
/// Re-creates an occurrence that a scope = series delete removed (chat's undo of that delete) as a new task
/// (new id) with the request's fields: occurrence number `occurrence`, its schedule starting at
/// `series_start`, as the deleted one's were, in series `series_id` (none: a new series, named by the new
/// task's id). The series is not topped up: the delete's other occurrences are re-created the same way.
/// `highest`: the deleted series' record of its highest occurrence created, which the new series keeps (a
/// skip stays final).
Task restore_occurrence(pqxx::transaction_base& w, const Actor& who, const NewTask& request,
                        const std::optional<std::string>& series_id, int occurrence, Instant series_start,
                        const std::optional<repository::SeriesHighest>& highest);
/// One upcoming occurrence of a series: an occurrence already created (open, or done early, before the ones
/// ahead of it) with its task, or one that completing would create (no task_id, occurrence or status).
struct Occurrence {
  Instant due_at;
  std::optional<std::string> task_id;
  std::optional<int> occurrence;
  std::optional<Status> status;
  bool operator==(const Occurrence&) const = default;
};
/// Up to `count` upcoming occurrences of the task's series after it (and after now), in order: the
/// occurrences already created after it, open or done, then those that completing would create (empty for a
/// task that does not recur).
std::vector<Occurrence> occurrence_list(pqxx::transaction_base& w, const std::string& user_id,
                                        const std::string& id, std::size_t count);
/// The times of occurrence_list.
std::vector<Instant> occurrences(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
                                 std::size_t count);
repository::Page list(pqxx::transaction_base& w, const std::string& user_id, const ListQuery& q);
boost::asio::awaitable<repository::Page> list(db::Reader& db, const std::string& user_id, const ListQuery& q);
/// repository::list_version.
boost::asio::awaitable<std::optional<std::int64_t>> list_version(db::Reader& db, const std::string& user_id);

}  // namespace todo::tasks::service

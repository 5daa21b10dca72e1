// SQL for a user's reminders; every function runs inside the caller's transaction and filters by the owner's
// id.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/reminders/model.hpp"

namespace todo::reminders::repository {

/// The task a reminder is attached to, locked for the rest of the transaction (so the per-task limit holds
/// under concurrent inserts); nullopt when the user has no such task.
struct TaskRef {
  std::string id;
  std::string status;
  int reminders = 0;  // how many it has
};
std::optional<TaskRef> lock_task(pqxx::transaction_base& w, const std::string& user_id,
                                 const std::string& task_id);

bool task_exists(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id);

/// Inserts a reminder; its fire time comes from `at` or from the task's due_at (in the task's zone), and it
/// starts cancelled when the task is done, missed when that time has passed unless `may_fire_late` (then it
/// fires at once), else scheduled.
Reminder insert(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
                const NewReminder& r, bool may_fire_late);
std::vector<Reminder> list_for_task(pqxx::transaction_base& w, const std::string& user_id,
                                    const std::string& task_id);
std::optional<Reminder> find(pqxx::transaction_base& w, const std::string& user_id, const std::string& id);
bool remove(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
            const std::string& id);
/// Schedules the reminder again at now + d (in the task's zone); nullopt unless it exists, its task is open
/// and it is not being delivered right now.
std::optional<Reminder> snooze(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
                               const Duration& d);
/// As snooze, to the instant `until` (an undo puts back a reminder that was snoozed to it).
std::optional<Reminder> snooze_until(pqxx::transaction_base& w, const std::string& user_id,
                                     const std::string& id, Instant until);

/// One page of the user's reminders, ordered by fire time (unscheduled last) then id.
struct Page {
  std::vector<Reminder> items;
  std::optional<std::string> next_cursor;
};
/// `upcoming`: only those still to fire. `cursor`: from a previous page; Error(bad_request) when malformed.
Page list(pqxx::transaction_base& w, const std::string& user_id, bool upcoming, int limit,
          const std::optional<std::string>& cursor);

/// Copies the relative reminders of one task to another of the same user (the next occurrence of a series),
/// scheduled against the new task's due_at. Returns how many.
int copy_relative(pqxx::transaction_base& w, const std::string& user_id, const std::string& from_task_id,
                  const std::string& to_task_id);

/// Adds the relative reminder `before_due` to the open occurrences created after this task in its series
/// (generate_ahead), skipping those that already have it or are at the per-task limit. Returns how many.
int add_to_later_occurrences(pqxx::transaction_base& w, const std::string& user_id,
                             const std::string& task_id, const std::string& before_due);

}  // namespace todo::reminders::repository

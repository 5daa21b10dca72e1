// Reminder rules for the API: ownership (404), the per-task limit, what can be snoozed; one call = one step
// of the caller's transaction.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/reminders/model.hpp"
#include "todo/reminders/repository.hpp"

namespace todo::reminders {

/// One reminder of the user's task; 404 when the task or the reminder is not the user's.
Reminder get(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
             const std::string& id);
/// Adds a reminder to the user's task: Error(not_found) without such a task, Error(unprocessable) beyond
/// kMaxPerTask. A relative one is also added to the open occurrences created ahead of it in its series. One
/// whose time has passed fires at once: it is what was asked for now.
Reminder create(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
                const NewReminder& r);
/// As create, for a reminder the task had before (an undo re-creates it): one whose time has passed by now is
/// missed, never fired late. One that was snoozed to `snoozed_until` is snoozed to it again while it is still
/// to come (and the task open).
Reminder restore(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
                 const NewReminder& r, std::optional<Instant> snoozed_until = std::nullopt);
/// The task's reminders, oldest first; Error(not_found) without such a task.
std::vector<Reminder> list_for_task(pqxx::transaction_base& w, const std::string& user_id,
                                    const std::string& task_id);
/// Error(not_found) unless the user's task has this reminder.
void remove(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
            const std::string& id);
/// Fires the reminder again after `d`: Error(not_found) for someone else's, Error(conflict) while it is being
/// delivered or when its task is done.
Reminder snooze(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
                const Duration& d);

/// For the next occurrence of a recurring task, in the transaction that creates it: copies the relative
/// reminders (before_due) of `from_task_id` to `to_task_id`, scheduled against the new due_at. Returns how
/// many.
int copy_relative(pqxx::transaction_base& w, const std::string& user_id, const std::string& from_task_id,
                  const std::string& to_task_id);

}  // namespace todo::reminders

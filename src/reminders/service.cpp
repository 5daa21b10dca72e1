// Reminder rules for the API.
#include "todo/reminders/service.hpp"

#include "todo/core/error.hpp"

namespace todo::reminders {

namespace {

Reminder add(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
             const NewReminder& r, bool may_fire_late) {
  auto task = repository::lock_task(w, user_id, task_id);
  if (!task) throw Error(Errc::not_found, "no task " + task_id);
  if (task->reminders >= kMaxPerTask)
    throw invalid("task_id", "a task has at most " + std::to_string(kMaxPerTask) + " reminders");
  auto created = repository::insert(w, user_id, task_id, r, may_fire_late);
  // A relative reminder belongs to the series' schedule: occurrences already created ahead get it too.
  if (created.before_due) repository::add_to_later_occurrences(w, user_id, task_id, *created.before_due);
  return created;
}

}  // namespace

Reminder create(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
                const NewReminder& r) {
  return add(w, user_id, task_id, r, /*may_fire_late=*/true);
}

Reminder restore(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
                 const NewReminder& r, std::optional<Instant> snoozed_until) {
  auto restored = add(w, user_id, task_id, r, /*may_fire_late=*/false);
  if (snoozed_until && *snoozed_until > now())
    if (auto snoozed = repository::snooze_until(w, user_id, restored.id, *snoozed_until)) return *snoozed;
  return restored;
}

std::vector<Reminder> list_for_task(pqxx::transaction_base& w, const std::string& user_id,
                                    const std::string& task_id) {
  auto items = repository::list_for_task(w, user_id, task_id);
  if (items.empty() && !repository::task_exists(w, user_id, task_id))
    throw Error(Errc::not_found, "no task " + task_id);
  return items;
}

Reminder get(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
             const std::string& id) {
  auto r = repository::find(w, user_id, id);
  if (!r || r->task_id != task_id) throw Error(Errc::not_found, "no reminder " + id);
  return std::move(*r);
}

void remove(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
            const std::string& id) {
  if (!repository::remove(w, user_id, task_id, id)) throw Error(Errc::not_found, "no reminder " + id);
}

Reminder snooze(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
                const Duration& d) {
  if (auto r = repository::snooze(w, user_id, id, d)) return *r;
  auto r = repository::find(w, user_id, id);
  if (!r) throw Error(Errc::not_found, "no reminder " + id);
  if (r->state == "firing")
    throw Error(Errc::conflict, "the reminder is being delivered right now; try again in a moment");
  throw Error(Errc::conflict, "the reminder's task is done; reopen it first");
}

int copy_relative(pqxx::transaction_base& w, const std::string& user_id, const std::string& from_task_id,
                  const std::string& to_task_id) {
  return repository::copy_relative(w, user_id, from_task_id, to_task_id);
}

}  // namespace todo::reminders

// Task business rules, and the event and audit row that record each change.
#include "todo/tasks/service.hpp"

#include "todo/audit/audit.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/events/outbox.hpp"

namespace todo::tasks::service {
namespace {

Error not_found(const std::string& id) {
  return Error(Errc::not_found, "no task " + id);
}

void check_version(const Task& t, std::optional<int> expected) {
  if (expected && *expected != t.version)
    throw Error(
        Errc::conflict,
        "the task was changed meanwhile: version " + std::to_string(*expected) + " was expected but it is " +
            std::to_string(t.version) + "; reload it and try again",
        {{"version", "expected " + std::to_string(*expected) + ", current " + std::to_string(t.version)}});
}

Task locked(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  auto t = repository::find_for_update(w, user_id, id);
  if (!t) throw not_found(id);
  return *t;
}

/// {field: [old, new]} for the fields that changed.
nlohmann::json changes_json(const std::vector<Change>& changes) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& c : changes)
    out[c.field] = nlohmann::json::array({c.before, c.after});
  return out;
}

/// Every field of a task as [null, value] (created) or [value, null] (deleted).
nlohmann::json snapshot_changes(const Task& t, bool created) {
  nlohmann::json out = nlohmann::json::object();
  const nlohmann::json snapshot = to_json(t);  // named: items() does not keep a temporary alive
  for (const auto& [field, value] : snapshot.items()) {
    if (field == "id") continue;
    out[field] = created ? nlohmann::json::array({nullptr, value}) : nlohmann::json::array({value, nullptr});
  }
  return out;
}

/// The event and the audit row of one change, in the caller's transaction.
void record(pqxx::transaction_base& w, const Actor& who, std::string_view type, const Task& t,
            const nlohmann::json* changes, const nlohmann::json& audit_changes) {
  nlohmann::json data = {{"user_id", who.user_id}, {"task", to_json(t)}, {"version", t.version}};
  if (changes) data["changes"] = *changes;
  events::append(w, who.user_id, type, t.id, std::move(data));
  // The audit action is the event type without its namespace: com.todo.task.updated → task.updated.
  audit::record(w, who.user_id, t.id, type.substr(std::string_view("com.todo.").size()), who.request_id,
                audit_changes);
}

/// Saves a changed task and records it: completed/reopened when only the status moved, updated otherwise.
Task save_and_record(pqxx::transaction_base& w, const Actor& who, Task& t,
                     const std::vector<Change>& changes) {
  Task saved = repository::save(w, t);
  bool status_only = true;
  bool status_changed = false;
  for (const auto& c : changes) {
    if (c.field == "status")
      status_changed = true;
    else if (c.field != "completed_at")
      status_only = false;
  }
  std::string_view type = events::kTaskUpdated;
  if (status_changed && status_only)
    type = saved.status == Status::done ? events::kTaskCompleted : events::kTaskReopened;
  const auto diff = changes_json(changes);
  record(w, who, type, saved, &diff, diff);
  return saved;
}

Task set_status(pqxx::transaction_base& w, const Actor& who, const std::string& id, Status status) {
  Task t = locked(w, who.user_id, id);
  if (t.status == status) return t;
  TaskPatch p;
  p.status = status;
  const auto changes = apply_patch(t, p, now());
  return save_and_record(w, who, t, changes);
}

}  // namespace

Task create(pqxx::transaction_base& w, const Actor& who, const NewTask& r) {
  Task t;
  t.id = new_uuid();
  t.user_id = who.user_id;
  t.title = r.title;
  t.description = r.description;
  t.status = r.status;
  t.priority = r.priority;
  t.tags = r.tags;
  t.due_at = r.due_at;
  t.all_day = r.all_day;
  t.timezone = r.timezone.value_or("");
  t.recurrence = r.recurrence;
  Task stored = repository::insert(w, t);
  record(w, who, events::kTaskCreated, stored, nullptr, snapshot_changes(stored, /*created=*/true));
  return stored;
}

Task get(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  auto t = repository::find(w, user_id, id);
  if (!t) throw not_found(id);
  return *t;
}

Task update(pqxx::transaction_base& w, const Actor& who, const std::string& id, const TaskPatch& patch,
            std::optional<int> expected_version) {
  if (expected_version && patch.version && *expected_version != *patch.version)
    throw invalid("version", "differs from the If-Match header");
  Task t = locked(w, who.user_id, id);
  check_version(t, expected_version ? expected_version : patch.version);
  const auto changes = apply_patch(t, patch, now());
  if (changes.empty()) return t;
  return save_and_record(w, who, t, changes);
}

Task complete(pqxx::transaction_base& w, const Actor& who, const std::string& id) {
  return set_status(w, who, id, Status::done);
}

Task reopen(pqxx::transaction_base& w, const Actor& who, const std::string& id) {
  return set_status(w, who, id, Status::open);
}

void remove(pqxx::transaction_base& w, const Actor& who, const std::string& id,
            std::optional<int> expected_version) {
  const Task t = locked(w, who.user_id, id);
  check_version(t, expected_version);
  repository::remove(w, who.user_id, id);
  record(w, who, events::kTaskDeleted, t, nullptr, snapshot_changes(t, /*created=*/false));
}

repository::Page list(pqxx::transaction_base& w, const std::string& user_id, const ListQuery& q) {
  return repository::list(w, user_id, q);
}

}  // namespace todo::tasks::service

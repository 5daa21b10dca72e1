// Task business rules.
#include "todo/tasks/service.hpp"

#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"

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

Task set_status(pqxx::transaction_base& w, const std::string& user_id, const std::string& id, Status status) {
  Task t = locked(w, user_id, id);
  if (t.status == status) return t;
  TaskPatch p;
  p.status = status;
  apply_patch(t, p, now());
  return repository::save(w, t);
}

}  // namespace

Task create(pqxx::transaction_base& w, const std::string& user_id, const NewTask& r) {
  Task t;
  t.id = new_uuid();
  t.user_id = user_id;
  t.title = r.title;
  t.description = r.description;
  t.status = r.status;
  t.priority = r.priority;
  t.tags = r.tags;
  t.due_at = r.due_at;
  t.all_day = r.all_day;
  t.timezone = r.timezone.value_or("");
  t.recurrence = r.recurrence;
  return repository::insert(w, t);
}

Task get(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  auto t = repository::find(w, user_id, id);
  if (!t) throw not_found(id);
  return *t;
}

Task update(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
            const TaskPatch& patch, std::optional<int> expected_version) {
  if (expected_version && patch.version && *expected_version != *patch.version)
    throw invalid("version", "differs from the If-Match header");
  Task t = locked(w, user_id, id);
  check_version(t, expected_version ? expected_version : patch.version);
  if (apply_patch(t, patch, now()).empty()) return t;
  return repository::save(w, t);
}

Task complete(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  return set_status(w, user_id, id, Status::done);
}

Task reopen(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  return set_status(w, user_id, id, Status::open);
}

void remove(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
            std::optional<int> expected_version) {
  if (expected_version) check_version(locked(w, user_id, id), expected_version);
  if (!repository::remove(w, user_id, id)) throw not_found(id);
}

repository::Page list(pqxx::transaction_base& w, const std::string& user_id, const ListQuery& q) {
  return repository::list(w, user_id, q);
}

}  // namespace todo::tasks::service

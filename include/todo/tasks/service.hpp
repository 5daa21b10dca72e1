// Task business rules: ownership, optimistic concurrency, completion; one call = one step of a transaction.
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <string>

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

// Every change below writes, in the caller's transaction, its outbox event (events::append) and its audit
// row; a call that changes nothing (completing a done task) writes neither.

/// Creates a task for the user; the user's time zone applies when the request names none.
Task create(pqxx::transaction_base& w, const Actor& who, const NewTask& request);
/// The user's task; Error(not_found) when it does not exist or is someone else's.
Task get(pqxx::transaction_base& w, const std::string& user_id, const std::string& id);
/// Applies a partial update. `expected_version` (If-Match) or patch.version must match, else Error(conflict).
Task update(pqxx::transaction_base& w, const Actor& who, const std::string& id, const TaskPatch& patch,
            std::optional<int> expected_version);
/// Marks done / open again; idempotent (an unchanged task keeps its version).
Task complete(pqxx::transaction_base& w, const Actor& who, const std::string& id);
Task reopen(pqxx::transaction_base& w, const Actor& who, const std::string& id);
void remove(pqxx::transaction_base& w, const Actor& who, const std::string& id,
            std::optional<int> expected_version);
repository::Page list(pqxx::transaction_base& w, const std::string& user_id, const ListQuery& q);

}  // namespace todo::tasks::service

// Validation of task input: JSON bodies in, typed requests out, every bad field named (422).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "todo/tasks/model.hpp"

namespace todo::tasks {

inline constexpr std::size_t kMaxTitle = 500;
inline constexpr std::size_t kMaxDescription = 10'000;
inline constexpr std::size_t kMaxTags = 20;
inline constexpr std::size_t kMaxTagLength = 50;
inline constexpr std::size_t kMaxRecurrence = 1'000;

/// A validated POST /tasks body.
struct NewTask {
  std::string title;
  std::string description;
  Status status = Status::open;
  Priority priority = Priority::none;
  std::vector<std::string> tags;
  std::optional<Instant> due_at;
  bool all_day = false;
  std::optional<std::string> timezone;  // the user's when absent
  std::optional<std::string> recurrence;
};

/// A validated PATCH body: absent fields are unchanged; nullable ones distinguish "absent" from "set to
/// null".
struct TaskPatch {
  std::optional<std::string> title;
  std::optional<std::string> description;
  std::optional<Status> status;
  std::optional<Priority> priority;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::optional<Instant>> due_at;
  std::optional<bool> all_day;
  std::optional<std::string> timezone;
  std::optional<std::optional<std::string>> recurrence;
  std::optional<int> version;  // expected current version
};

NewTask parse_new_task(const nlohmann::json& body);
TaskPatch parse_task_patch(const nlohmann::json& body);

/// Normalises a tag (trim, lower-case) and returns the reason it is invalid, if it is.
std::optional<std::string> tag_problem(std::string& tag);

/// A field-by-field change: name, old value, new value (JSON), as recorded by updates.
struct Change {
  std::string field;
  nlohmann::json before;
  nlohmann::json after;
};

/// Applies a patch to a task in memory; returns what changed (empty when nothing did).
std::vector<Change> apply_patch(Task& task, const TaskPatch& patch, Instant now);

}  // namespace todo::tasks

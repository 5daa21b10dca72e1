// Validation of task input: JSON bodies in, typed requests out, every bad field named (422).
#pragma once

#include <cstdint>
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
  RecurrenceMode recurrence_mode = RecurrenceMode::fixed;
  int generate_ahead = 0;
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
  std::optional<RecurrenceMode> recurrence_mode;
  std::optional<int> generate_ahead;
  std::optional<std::int64_t> version;  // expected current version
};

/// The versions a change or read is made on condition of: the entity tags of If-Match, or a body's
/// "version"; none: any version. `source` names where they came from, the field a 409 names. A version named
/// may be any from 1 to 2^63-1: one above every version a task can have is a mismatch (409) like any other.
struct Expected {
  Expected() = default;
  Expected(std::nullopt_t) {}
  Expected(std::int64_t version, std::string from = "If-Match")
      : versions{version}, source(std::move(from)) {}
  Expected(std::optional<std::int64_t> version) {
    if (version) versions = {*version};
  }
  Expected(std::vector<std::int64_t> any_of, std::string from)
      : versions(std::move(any_of)), source(std::move(from)) {}
  bool any() const { return versions.empty() && !names_none; }
  bool matches(std::int64_t version) const;
  /// These and a body's "version" together: the body's alone when these are any, else these, and then the
  /// body's must be one of them (Error(unprocessable) naming `version`).
  Expected with_body(std::optional<std::int64_t> body_version) const;
  /// Error(conflict) naming `source` unless `current` matches; then Error(precondition) naming If-None-Match
  /// when that names `current`.
  void check(std::int64_t current) const;

  std::vector<std::int64_t> versions;
  /// Entity tags were given, none of them a version's (`W/"3"` under strong comparison, `"03"`): no version
  /// matches.
  bool names_none = false;
  std::string source = "If-Match";
  /// If-None-Match of a change (RFC 9110 13.1.2): `*` (any version: the task exists), or the versions whose
  /// tags it names, weak or strong. A current version it names refuses the change (412).
  bool none_match_any = false;
  std::vector<std::int64_t> none_match;
};

/// A body holding nothing but an optional "version" (complete, reopen, DELETE); empty is none.
std::optional<std::int64_t> parse_version_body(const nlohmann::json& body);

/// Which tasks a PATCH or DELETE of a recurring task applies to: this occurrence only, or the series (this
/// occurrence and every open one of its series).
enum class Scope { this_occurrence, series };
/// `scope` query parameter: "this" (default) or "series"; Error(unprocessable) otherwise.
Scope parse_scope(const std::vector<std::pair<std::string, std::string>>& query);

/// Refuses (Error(unprocessable) naming the field) a patch that gives a task without a rule a setting only a
/// series uses (generate_ahead above 0, recurrence_mode after_completion) that it does not have already; `t`
/// as the patch leaves it, `before` as it was.
void check_rule_settings(const Task& t, const TaskPatch& p, const Task& before);

/// The rule problems of a task as it would be stored (a recurring task needs due_at, generate_ahead needs a
/// fixed series): Error(unprocessable) naming the field.
void check_recurring(const Task& t);

/// Refuses (Error(unprocessable) naming `recurrence`) a fixed rule that never occurs after its series' start
/// (series_start, or due_at for a new series) in the task's zone, e.g. FREQ=DAILY;INTERVAL=7;BYDAY=TU from a
/// Thursday. after_completion series ignore the BYxxx parts and always go on. `t.timezone` must be set.
void check_occurs(const Task& t);

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

// Change events: their types and the CloudEvents 1.0 envelope they travel in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "todo/core/time.hpp"

namespace todo::events {

/// CloudEvents `type` values.
inline constexpr std::string_view kTaskCreated = "com.todo.task.created";
inline constexpr std::string_view kTaskUpdated = "com.todo.task.updated";
inline constexpr std::string_view kTaskCompleted = "com.todo.task.completed";
inline constexpr std::string_view kTaskReopened = "com.todo.task.reopened";
inline constexpr std::string_view kTaskDeleted = "com.todo.task.deleted";
inline constexpr std::string_view kReminderFired = "com.todo.reminder.fired";

/// One committed change, as stored in the outbox and published.
struct Event {
  std::int64_t id = 0;  // outbox row id (publication order)
  std::string event_id;
  std::string user_id;
  std::int64_t sequence = 0;  // per user, gapless, in the order the relay saw commits (0: not numbered yet)
  std::string type;
  std::string subject;   // the task id
  std::string document;  // the whole CloudEvent as JSON text, with its sequence (published as is)
  std::string time;      // its `time`, RFC 3339
};

/// The CloudEvents 1.0 structured-mode document as the outbox first stores it, as JSON text: specversion, id,
/// source, type, subject, datacontenttype and `data` (JSON text, written as is). `time` is added by the
/// INSERT (the transaction's); the number the relay gives the event stays in the row's `sequence` column and
/// is put into the document as it is read (numbered_cloudevent).
void append_stored_cloudevent(std::string& out, std::string_view event_id, std::string_view type,
                              std::string_view subject, std::string_view data);

/// The stored document as published: `{"sequence":<sequence>,` followed by the stored text after its `{`.
std::string numbered_cloudevent(std::string_view stored, std::int64_t sequence);

}  // namespace todo::events

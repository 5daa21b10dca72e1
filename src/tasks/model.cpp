// Task enums and JSON representation.
#include "todo/tasks/model.hpp"

#include <array>

#include "todo/core/json_writer.hpp"

namespace todo::tasks {
namespace {
constexpr std::array<std::string_view, 5> kPriorities = {"none", "low", "medium", "high", "urgent"};
}

std::string_view to_string(Priority p) {
  return kPriorities[static_cast<std::size_t>(p)];
}

std::optional<Priority> parse_priority(std::string_view s) {
  for (std::size_t i = 0; i < kPriorities.size(); ++i)
    if (kPriorities[i] == s) return static_cast<Priority>(i);
  return std::nullopt;
}

std::string_view to_string(Status s) {
  return s == Status::open ? "open" : "done";
}

std::optional<Status> parse_status(std::string_view s) {
  if (s == "open") return Status::open;
  if (s == "done") return Status::done;
  return std::nullopt;
}

std::string_view to_string(RecurrenceMode m) {
  return m == RecurrenceMode::fixed ? "fixed" : "after_completion";
}

std::optional<RecurrenceMode> parse_recurrence_mode(std::string_view s) {
  if (s == "fixed") return RecurrenceMode::fixed;
  if (s == "after_completion") return RecurrenceMode::after_completion;
  return std::nullopt;
}

nlohmann::json to_json(const Task& t) {
  auto instant_or_null = [](const std::optional<Instant>& i) -> nlohmann::json {
    return i ? nlohmann::json(format_rfc3339(*i)) : nlohmann::json(nullptr);
  };
  return {{"id", t.id},
          {"title", t.title},
          {"description", t.description},
          {"status", to_string(t.status)},
          {"priority", to_string(t.priority)},
          {"tags", t.tags},
          {"due_at", instant_or_null(t.due_at)},
          {"all_day", t.all_day},
          {"timezone", t.timezone},
          {"recurrence", t.recurrence ? nlohmann::json(*t.recurrence) : nlohmann::json(nullptr)},
          {"recurrence_mode", to_string(t.recurrence_mode)},
          {"series_id", t.series_id ? nlohmann::json(*t.series_id) : nlohmann::json(nullptr)},
          {"occurrence", t.occurrence ? nlohmann::json(*t.occurrence) : nlohmann::json(nullptr)},
          {"generate_ahead", t.generate_ahead},
          {"created_at", format_rfc3339(t.created_at)},
          {"updated_at", format_rfc3339(t.updated_at)},
          {"completed_at", instant_or_null(t.completed_at)},
          {"version", t.version}};
}

namespace {

/// A task's members in std::map order, as nlohmann::json writes them; `id` only when asked for.
void write_members(json::ObjectWriter& o, const Task& t, bool with_id) {
  const auto optional_int = [](const std::optional<int>& i) -> std::optional<std::int64_t> {
    if (!i) return std::nullopt;
    return *i;
  };
  o.boolean("all_day", t.all_day)
      .instant("completed_at", t.completed_at)
      .instant("created_at", t.created_at)
      .string("description", t.description)
      .instant("due_at", t.due_at)
      .integer("generate_ahead", t.generate_ahead);
  if (with_id) o.string("id", t.id);
  o.integer("occurrence", optional_int(t.occurrence))
      .string("priority", to_string(t.priority))
      .string("recurrence", t.recurrence)
      .string("recurrence_mode", to_string(t.recurrence_mode))
      .string("series_id", t.series_id)
      .string("status", to_string(t.status))
      .strings("tags", t.tags)
      .string("timezone", t.timezone)
      .string("title", t.title)
      .instant("updated_at", t.updated_at)
      .integer("version", t.version);
}

}  // namespace

void append_json(std::string& out, const Task& t) {
  json::ObjectWriter o(out);
  write_members(o, t, /*with_id=*/true);
}

void append_snapshot(std::string& out, const Task& t, bool created) {
  json::ObjectWriter o(out, created ? "[null," : "[", created ? "]" : ",null]");
  write_members(o, t, /*with_id=*/false);
}

}  // namespace todo::tasks

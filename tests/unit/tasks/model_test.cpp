// The task's JSON text (append_json) is exactly to_json(t).dump(): responses may use either.
#include "todo/tasks/model.hpp"

#include <gtest/gtest.h>

namespace todo::tasks {
namespace {

std::string reference(const Task& t) {
  return to_json(t).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string written(const Task& t) {
  std::string out;
  append_json(out, t);
  return out;
}

TEST(TaskJson, WrittenTextIsTheDocumentsDump) {
  Task plain;
  plain.id = "0b7e6a8e-3c52-4a4f-9d0e-8f1f7f0c2a11";
  plain.user_id = "5f0c1d2e-0000-4000-8000-000000000001";
  plain.title = "Buy milk";
  plain.timezone = "UTC";
  plain.created_at = *parse_rfc3339("2026-12-04T05:00:00Z");
  plain.updated_at = *parse_rfc3339("2026-12-04T05:00:00.123456Z");
  EXPECT_EQ(written(plain), reference(plain));

  Task full = plain;
  full.title = "Pay \"rent\" \\ ☕ 😀\n\ttab \x01";
  full.description = std::string("nul \0 and bad \xC3( utf-8", 24);
  full.status = Status::done;
  full.priority = Priority::urgent;
  full.tags = {"home", "é", "a\"b"};
  full.due_at = *parse_rfc3339("2027-01-01T09:00:00+01:00");
  full.all_day = true;
  full.timezone = "Europe/Berlin";
  full.recurrence = "FREQ=MONTHLY;BYMONTHDAY=1";
  full.recurrence_mode = RecurrenceMode::after_completion;
  full.series_id = "9a9a9a9a-1111-4222-8333-444444444444";
  full.occurrence = 12;
  full.generate_ahead = 52;
  full.completed_at = *parse_rfc3339("2026-12-31T23:59:59.999999Z");
  full.version = 2147483647;
  EXPECT_EQ(written(full), reference(full));

  Task zero = plain;
  zero.occurrence = 0;
  zero.tags = {};
  zero.title = "";
  EXPECT_EQ(written(zero), reference(zero));
}

// The audit trail's record of a created or deleted task: every member but id, as [null, value] or
// [value, null].
TEST(TaskJson, SnapshotIsEveryMemberButTheIdBesideNull) {
  Task t;
  t.id = "0b7e6a8e-3c52-4a4f-9d0e-8f1f7f0c2a11";
  t.title = "Pay \"rent\"";
  t.tags = {"home"};
  t.due_at = *parse_rfc3339("2027-01-01T09:00:00Z");
  t.occurrence = 3;
  t.created_at = t.updated_at = *parse_rfc3339("2026-12-04T05:00:00.5Z");
  const nlohmann::json document = to_json(t);  // named: items() does not keep a temporary alive
  for (const bool created : {true, false}) {
    nlohmann::json expected = nlohmann::json::object();
    for (const auto& [field, value] : document.items()) {
      if (field == "id") continue;
      expected[field] =
          created ? nlohmann::json::array({nullptr, value}) : nlohmann::json::array({value, nullptr});
    }
    std::string out;
    append_snapshot(out, t, created);
    EXPECT_EQ(out, expected.dump()) << (created ? "created" : "deleted");
    EXPECT_EQ(expected.size(), document.size() - 1);
  }
}

}  // namespace
}  // namespace todo::tasks

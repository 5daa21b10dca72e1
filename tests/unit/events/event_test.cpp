// The CloudEvent documents: as stored, and as published with their sequence number.
#include "todo/events/event.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace todo::events {
namespace {

TEST(EventDocument, StoredIsTheEnvelopeAroundTheDataAsGiven) {
  std::string stored;
  append_stored_cloudevent(stored, "0190a1b2-0000-7000-8000-000000000001", kTaskCreated, "task-1",
                           R"({"task":{"title":"Pay \"rent\""}})");
  const auto doc = nlohmann::json::parse(stored);
  EXPECT_EQ(doc["specversion"], "1.0");
  EXPECT_EQ(doc["id"], "0190a1b2-0000-7000-8000-000000000001");
  EXPECT_EQ(doc["source"], "todo-server");
  EXPECT_EQ(doc["type"], "com.todo.task.created");
  EXPECT_EQ(doc["subject"], "task-1");
  EXPECT_EQ(doc["datacontenttype"], "application/json");
  EXPECT_EQ(doc["data"]["task"]["title"], "Pay \"rent\"");
  EXPECT_FALSE(doc.contains("sequence"));
  EXPECT_FALSE(doc.contains("time")) << "the INSERT adds the transaction's time";
}

TEST(EventDocument, NumberedPutsTheSequenceFirstAndKeepsEverythingElse) {
  // As the outbox INSERT stores it: the transaction's time in front of the server's text.
  std::string document;
  append_stored_cloudevent(document, "e-1", kTaskUpdated, "task-2", R"({"changes":{}})");
  const std::string stored = R"({"time":"2026-12-05T10:00:00.5Z",)" + document.substr(1);
  ASSERT_TRUE(nlohmann::json::accept(stored)) << stored;
  const std::string numbered = numbered_cloudevent(stored, 9223372036854775807);
  EXPECT_EQ(numbered.rfind(R"({"sequence":9223372036854775807,"time":)", 0), 0u) << numbered;
  auto doc = nlohmann::json::parse(numbered);
  EXPECT_EQ(doc["sequence"].get<std::int64_t>(), 9223372036854775807);
  doc.erase("sequence");
  EXPECT_EQ(doc, nlohmann::json::parse(stored));
}

TEST(EventDocument, NumberedHandlesEmptyObjectsAndLeavesNonObjectsAlone) {
  EXPECT_EQ(numbered_cloudevent("{}", 3), R"({"sequence":3})");
  EXPECT_EQ(numbered_cloudevent("{ }", 3), R"({"sequence":3 })");
  EXPECT_TRUE(nlohmann::json::accept(numbered_cloudevent("{ }", 3)));
  EXPECT_EQ(numbered_cloudevent(R"({ "a": 1})", 4), R"({"sequence":4, "a": 1})");
  EXPECT_EQ(numbered_cloudevent("", 5), "");
  EXPECT_EQ(numbered_cloudevent("[1]", 5), "[1]");
}

}  // namespace
}  // namespace todo::events

// The transactional outbox: an event row written in the same transaction as the change it describes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/events/event.hpp"

namespace todo::events {

/// Lanes partition users among relays (see Relay); a user's events always share one lane.
inline constexpr int kLanes = 32;
int lane_of(std::string_view user_id);
/// A lane as a bit of the post-commit signal's keys (db::CommitSignal): one bit a lane.
inline constexpr std::uint32_t lane_bit(int lane) {
  return std::uint32_t{1} << lane;
}
static_assert(kLanes <= 32, "a lane is a bit of a 32-bit mask");

/// The channel NOTIFYed (just after commit) when events are appended.
inline constexpr const char* kOutboxChannel = "todo_outbox";

/// An appended event: its outbox row and its CloudEvent id.
struct Appended {
  std::int64_t id = 0;
  std::string event_id;
};

/// Appends an event for the user inside the caller's transaction: stores the CloudEvent (its `time` is the
/// transaction's) and asks for a NOTIFY of the relay after commit (db::signal_after_commit). The event has no
/// sequence number yet: the relay numbers events as it claims them, so that writers of one user never wait
/// for each other. `data` is the JSON text of the event's data (the caller includes `user_id` and `version`);
/// it is stored as given.
Appended append(pqxx::transaction_base& w, const std::string& user_id, std::string_view type,
                const std::string& subject, std::string_view data);

/// An event to append with append_many.
struct NewEvent {
  std::string user_id;
  std::string_view type;
  std::string subject;
  std::string data;  // JSON text
};
/// append() for many events at once, with the same guarantees, in one statement whatever their number. A
/// user's events get consecutive sequence numbers in the given order when the relay numbers them. The result
/// is in the given order.
std::vector<Appended> append_many(pqxx::transaction_base& w, const std::vector<NewEvent>& events);

/// Unpublished events of the given lanes, oldest first. The caller must hold the lanes (the relay's advisory
/// locks): the rows are not locked, since only a lane's holder claims or marks them. Events without a
/// sequence number get the user's next ones (stored in the caller's transaction, which must commit before
/// they are published). The result is ordered by user, then sequence.
std::vector<Event> claim_pending(pqxx::transaction_base& w, const std::vector<int>& lanes, int limit);

/// What claim_and_publish claimed: the events to deliver, and how many rows it took (events of deleted
/// accounts are marked but not delivered).
struct Claimed {
  std::vector<Event> events;
  int rows = 0;
};
/// claim_pending, mark_published and notify_published in one statement, for a caller that publishes the
/// events as soon as it commits (the in-process bus only, no Kafka acknowledgement to wait for). Run it on
/// its own (a nontransaction: the statement is its own transaction, one round trip where the three took six
/// with BEGIN and COMMIT). An event numbered now gets its number and its mark in one new row version.
Claimed claim_and_publish(pqxx::transaction_base& w, const std::vector<int>& lanes, int limit);
/// Marks events published.
void mark_published(pqxx::transaction_base& w, const std::vector<std::int64_t>& ids);
/// Tells every replica (NOTIFY todo_events, "<user_id> <sequence>" per user, at commit) that these events are
/// published, so that their WebSocket sessions fetch them from the outbox.
void notify_published(pqxx::transaction_base& w, const std::vector<Event>& published);
/// Deletes published events older than the retention period; returns how many (at most `limit`).
long prune(pqxx::transaction_base& w, std::chrono::seconds retention, int limit);

/// Backlog figures for /metrics.
struct Backlog {
  long count = 0;
  double oldest_age_seconds = 0;
};
Backlog backlog(pqxx::transaction_base& w);

/// A user's events with sequence > after, in order (for resuming clients); at most `limit`.
std::vector<Event> since(pqxx::transaction_base& w, const std::string& user_id, std::int64_t after,
                         int limit);

}  // namespace todo::events

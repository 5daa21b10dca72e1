// Outbox SQL: append in the change's transaction, claim and mark for the relay, prune, replay.
#include "todo/events/outbox.hpp"

#include <map>
#include <optional>
#include <set>

#include "todo/core/ids.hpp"
#include "todo/db/statements.hpp"

namespace todo::events {
namespace {

const db::Statement kNextSequence{
    "outbox_next_sequence",
    "INSERT INTO user_event_sequences (user_id, last_sequence) VALUES ($1, 1) ON CONFLICT (user_id) DO "
    "UPDATE "
    "SET last_sequence = user_event_sequences.last_sequence + 1 RETURNING last_sequence, now()"};
const db::Statement kInsert{"outbox_insert",
                            "INSERT INTO outbox (event_id, user_id, sequence, lane, type, subject, event) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id"};
const db::Statement kNotify{"outbox_notify", "SELECT pg_notify('todo_outbox', $1)"};
const db::Statement kClaim{
    "outbox_claim",
    "SELECT id, event_id, user_id, sequence, type, subject, event FROM outbox "
    "WHERE published_at IS NULL AND lane = ANY($1::smallint[]) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED"};
const db::Statement kMark{
    "outbox_mark",
    "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[]) AND published_at IS NULL"};
const db::Statement kPrune{"outbox_prune",
                           "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE published_at < now() "
                           "- $1::interval LIMIT $2)"};
const db::Statement kBacklog{
    "outbox_backlog",
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox "
    "WHERE published_at IS NULL"};
const db::Statement kSince{"outbox_since",
                           "SELECT id, event_id, user_id, sequence, type, subject, event FROM outbox "
                           "WHERE user_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3"};
const db::Statement kNotifyPublished{"outbox_notify_published", "SELECT pg_notify('todo_events', $1)"};
const db::Statement kNextSequences{
    "outbox_next_sequences",
    "INSERT INTO user_event_sequences AS s (user_id, last_sequence) "
    "SELECT u, n FROM unnest($1::uuid[], $2::bigint[]) AS x(u, n) ORDER BY u "
    "ON CONFLICT (user_id) DO UPDATE SET last_sequence = s.last_sequence + excluded.last_sequence "
    "RETURNING user_id, last_sequence, now()"};
const db::Statement kInsertMany{
    "outbox_insert_many",
    "INSERT INTO outbox (event_id, user_id, sequence, lane, type, subject, event) "
    "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::smallint[], $5::text[], $6::text[], "
    "$7::jsonb[]) RETURNING id, event_id"};
const db::Statement kNotifyMany{"outbox_notify_many",
                                "SELECT pg_notify('todo_outbox', lane) FROM unnest($1::text[]) AS lane"};
const db::Registration kRegisteredMany{kNextSequences, kInsertMany, kNotifyMany};
const db::Registration kRegistered{kNextSequence, kInsert,  kNotify, kClaim,          kMark,
                                   kPrune,        kBacklog, kSince,  kNotifyPublished};

template <class T>
std::string array_literal(const std::vector<T>& items) {
  std::string a = "{";
  for (std::size_t i = 0; i < items.size(); ++i)
    a += (i ? "," : "") + std::to_string(items[i]);
  return a + "}";
}

Event from_row(const pqxx::row& r) {
  Event e;
  e.id = r[0].as<std::int64_t>();
  e.event_id = r[1].c_str();
  e.user_id = r[2].c_str();
  e.sequence = r[3].as<std::int64_t>();
  e.type = r[4].c_str();
  e.subject = r[5].c_str();
  e.document = nlohmann::json::parse(r[6].c_str());
  return e;
}

std::vector<Event> events_of(const pqxx::result& res) {
  std::vector<Event> out;
  out.reserve(res.size());
  for (const auto& row : res)
    out.push_back(from_row(row));
  return out;
}

}  // namespace

int lane_of(std::string_view user_id) {
  // FNV-1a over the canonical text: stable across processes and versions (std::hash is neither).
  std::uint32_t h = 2166136261u;
  for (unsigned char c : user_id)
    h = (h ^ c) * 16777619u;
  return static_cast<int>(h % kLanes);
}

Event append(pqxx::transaction_base& w, const std::string& user_id, std::string_view type,
             const std::string& subject, nlohmann::json data) {
  Event e;
  auto seq = w.exec_prepared(kNextSequence.name, user_id);
  e.sequence = seq[0][0].as<std::int64_t>();
  const auto time = db::instant(seq[0][1]);
  e.event_id = new_uuid();
  e.user_id = user_id;
  e.type = std::string(type);
  e.subject = subject;
  e.document = cloudevent(e.event_id, type, subject, time, e.sequence, std::move(data));
  auto row = w.exec_prepared(kInsert.name, e.event_id, user_id, e.sequence, lane_of(user_id), e.type, subject,
                             e.document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  e.id = row[0][0].as<std::int64_t>();
  // Delivered at commit, once per transaction and payload: the relay wakes up instead of waiting for its
  // timer.
  w.exec_prepared(kNotify.name, std::to_string(lane_of(user_id)));
  return e;
}

std::vector<Event> append_many(pqxx::transaction_base& w, std::vector<NewEvent> events) {
  std::vector<Event> out;
  if (events.empty()) return out;
  std::map<std::string, std::int64_t> per_user;
  for (const auto& e : events)
    ++per_user[e.user_id];
  std::vector<std::string> users, counts;
  for (const auto& [user, n] : per_user) {
    users.push_back(user);
    counts.push_back(std::to_string(n));
  }
  // The first sequence number of each user's events, and the time every event of the batch carries.
  std::map<std::string, std::int64_t> next;
  std::optional<Instant> time;
  for (const auto& row :
       w.exec_prepared(kNextSequences.name, db::array_literal(users), db::array_literal(counts))) {
    const std::string user = row[0].c_str();
    next[user] = row[1].as<std::int64_t>() - per_user[user] + 1;
    time = db::instant(row[2]);
  }
  std::vector<std::string> ids, user_ids, sequences, lanes, types, subjects, documents;
  std::set<std::string> notify;
  out.reserve(events.size());
  for (auto& n : events) {
    Event e;
    e.event_id = new_uuid();
    e.user_id = n.user_id;
    e.sequence = next[n.user_id]++;
    e.type = std::string(n.type);
    e.subject = n.subject;
    e.document = cloudevent(e.event_id, n.type, n.subject, *time, e.sequence, std::move(n.data));
    ids.push_back(e.event_id);
    user_ids.push_back(e.user_id);
    sequences.push_back(std::to_string(e.sequence));
    lanes.push_back(std::to_string(lane_of(e.user_id)));
    types.push_back(e.type);
    subjects.push_back(e.subject);
    documents.push_back(e.document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    notify.insert(lanes.back());
    out.push_back(std::move(e));
  }
  std::map<std::string, std::int64_t> row_ids;
  for (const auto& row :
       w.exec_prepared(kInsertMany.name, db::array_literal(ids), db::array_literal(user_ids),
                       db::array_literal(sequences), db::array_literal(lanes), db::array_literal(types),
                       db::array_literal(subjects), db::array_literal(documents)))
    row_ids[row[1].c_str()] = row[0].as<std::int64_t>();
  for (auto& e : out)
    e.id = row_ids[e.event_id];
  w.exec_prepared(kNotifyMany.name,
                  db::array_literal(std::vector<std::string>(notify.begin(), notify.end())));
  return out;
}

std::vector<Event> claim_pending(pqxx::transaction_base& w, const std::vector<int>& lanes, int limit) {
  if (lanes.empty()) return {};
  return events_of(w.exec_prepared(kClaim.name, array_literal(lanes), limit));
}

void mark_published(pqxx::transaction_base& w, const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  w.exec_prepared(kMark.name, array_literal(ids));
}

void notify_published(pqxx::transaction_base& w, const std::vector<Event>& published) {
  std::map<std::string, std::int64_t> latest;
  for (const auto& e : published)
    latest[e.user_id] = std::max(latest[e.user_id], e.sequence);
  for (const auto& [user, sequence] : latest)
    w.exec_prepared(kNotifyPublished.name, user + " " + std::to_string(sequence));
}

long prune(pqxx::transaction_base& w, std::chrono::seconds retention, int limit) {
  return static_cast<long>(
      w.exec_prepared(kPrune.name, std::to_string(retention.count()) + " seconds", limit).affected_rows());
}

Backlog backlog(pqxx::transaction_base& w) {
  auto r = w.exec_prepared(kBacklog.name);
  return {r[0][0].as<long>(), r[0][1].as<double>()};
}

std::vector<Event> since(pqxx::transaction_base& w, const std::string& user_id, std::int64_t after,
                         int limit) {
  return events_of(w.exec_prepared(kSince.name, user_id, after, limit));
}

}  // namespace todo::events

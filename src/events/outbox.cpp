// Outbox SQL: append in the change's transaction, claim and mark for the relay, prune, replay.
#include "todo/events/outbox.hpp"

#include <algorithm>
#include <map>

#include "todo/core/ids.hpp"
#include "todo/db/commit_signals.hpp"
#include "todo/db/statements.hpp"

namespace todo::events {
namespace {

// The event's time is the change's (its updated_at: change_time(), migration 0027), formatted as
// format_rfc3339 does.
#define EVENT_TIME                                                                                        \
  "regexp_replace(to_char(change_time() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '\\.?0+$', " \
  "'') || 'Z'"
// The stored document is the server's text with `time` put first: "{" + "\"time\":\"…\"," + the rest.
#define WITH_TIME(doc) "('{\"time\":\"' || " EVENT_TIME " || '\",' || substr(" doc ", 2))::json"
const db::Statement kInsert{
    "outbox_insert",
    "INSERT INTO outbox (event_id, user_id, lane, type, subject, event) VALUES ($1, $2, "
    "$3, $4, $5, " WITH_TIME("$6::text") ") RETURNING id"};
// Claims a lane's unpublished events and numbers them: claim_pending ($3 false) and claim_and_publish ($3
// true). Sequence numbers are handed out by the relay, in the order it sees committed events: per user in
// outbox order, the claimed events without a number get the user's next ones (`fresh`: k-th of n; `taken`:
// the user's counter raised by n, once per statement); an event numbered earlier keeps its number; an event
// whose account is gone gets none and is marked published (nothing to deliver). With $3, every claimed row is
// also marked published in the UPDATE that numbers it (one row version) and each user's last number is
// announced on todo_events ("<user_id> <sequence>", sent at commit); without it, only rows that get a number
// (or none) are updated. `notified` is a SELECT: it runs because the final SELECT reads it.
// `claimed` reads each lane's oldest waiting events from outbox_pending_idx (lane, id), at most $2 a lane,
// and keeps the oldest $2 of them: about $2 rows a lane whatever the backlog. One scan of all the lanes came
// out of the index unordered and was sorted whole (or the planner walked outbox_pkey through every row).
// No row locks: a lane's events are claimed only by the relay holding the lane's advisory lock, and nothing
// else changes an unpublished row. Locking each row cost a WAL record and a dirtied heap page an event.
const db::Statement kClaim{
    "outbox_claim",
    "WITH claimed AS ("
    "SELECT o.id, o.event_id, o.user_id, o.sequence, o.type, o.subject, o.event FROM outbox o "
    "WHERE o.published_at IS NULL AND o.id IN ("
    "SELECT p.id FROM unnest($1::smallint[]) AS l(lane), LATERAL ("
    "SELECT id FROM outbox WHERE published_at IS NULL AND lane = l.lane ORDER BY id LIMIT $2) AS p "
    "ORDER BY p.id LIMIT $2)), "
    "fresh AS ("
    "SELECT id, user_id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS k, "
    "count(*) OVER (PARTITION BY user_id) AS n FROM claimed WHERE sequence IS NULL), "
    "taken AS ("
    "INSERT INTO user_event_sequences AS s (user_id, last_sequence) "
    "SELECT f.user_id, count(*) FROM fresh f WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = f.user_id) "
    "GROUP BY f.user_id "
    "ON CONFLICT (user_id) DO UPDATE SET last_sequence = s.last_sequence + excluded.last_sequence "
    "RETURNING user_id, last_sequence), "
    "numbered AS ("
    "SELECT c.id, c.sequence IS NULL AS fresh, coalesce(c.sequence, t.last_sequence - f.n + f.k) AS seq "
    "FROM claimed c LEFT JOIN fresh f ON f.id = c.id LEFT JOIN taken t ON t.user_id = f.user_id), "
    "marked AS ("
    "UPDATE outbox AS o SET sequence = n.seq, "
    "published_at = CASE WHEN $3::boolean OR n.seq IS NULL THEN now() END "
    "FROM numbered n WHERE o.id = n.id AND (n.fresh OR $3::boolean) "
    "RETURNING o.id, o.event_id, o.user_id, o.sequence, o.type, o.subject, o.event), "
    "notified AS ("
    "SELECT count(pg_notify('todo_events', l.user_id::text || ' ' || l.last)) AS sent FROM ("
    "SELECT user_id, max(sequence) AS last FROM marked WHERE $3::boolean AND sequence IS NOT NULL "
    "GROUP BY user_id) AS l) "
    "SELECT m.id, m.event_id, m.user_id, m.sequence, m.type, m.subject, m.event, m.event->>'time' "
    "FROM marked m, notified "
    "UNION ALL "
    "SELECT c.id, c.event_id, c.user_id, c.sequence, c.type, c.subject, c.event, c.event->>'time' "
    "FROM claimed c "
    "WHERE c.sequence IS NOT NULL AND NOT $3::boolean"};
const db::Statement kMark{
    "outbox_mark",
    "UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[]) AND published_at IS NULL"};
// The oldest $2 published events past retention, from outbox_published_idx, deleted through the primary key:
// about 2 x $2 rows read. As `id IN (SELECT ... LIMIT $2)`, the generic plan (which does not know $2) joined
// them to a sequential scan of the whole outbox: 200 000 rows read and 244 ms to delete 720.
const db::Statement kPrune{
    "outbox_prune",
    "DELETE FROM outbox WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE published_at < "
    "now() - $1::interval ORDER BY published_at LIMIT $2))"};
const db::Statement kBacklog{
    "outbox_backlog",
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM outbox "
    "WHERE published_at IS NULL"};
const db::Statement kSince{"outbox_since",
                           "SELECT id, event_id, user_id, sequence, type, subject, event, event->>'time' "
                           "FROM outbox WHERE user_id = $1 AND sequence > $2 ORDER BY sequence LIMIT $3"};
const db::Statement kNotifyPublished{"outbox_notify_published", "SELECT pg_notify('todo_events', $1)"};
const db::Statement kInsertMany{
    "outbox_insert_many",
    "INSERT INTO outbox (event_id, user_id, lane, type, subject, event) "
    "SELECT x.id, x.u, x.lane, x.type, x.subject, " WITH_TIME("x.doc") " "
    "FROM unnest($1::uuid[], $2::uuid[], $3::smallint[], $4::text[], $5::text[], "
    "string_to_array($6::text, chr(30))) "
    "AS x(id, u, lane, type, subject, doc) RETURNING id, event_id"};
#undef WITH_TIME
#undef EVENT_TIME
const db::Registration kRegistered{kInsertMany, kInsert,  kClaim, kMark,
                                   kPrune,      kBacklog, kSince, kNotifyPublished};

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
  e.sequence = r[3].is_null() ? 0 : r[3].as<std::int64_t>();
  e.type = r[4].c_str();
  e.subject = r[5].c_str();
  e.document = e.sequence ? numbered_cloudevent(r[6].c_str(), e.sequence) : r[6].c_str();
  e.time = r[7].c_str();
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

Appended append(pqxx::transaction_base& w, const std::string& user_id, std::string_view type,
                const std::string& subject, std::string_view data) {
  Appended a;
  a.event_id = new_ordered_uuid();
  std::string document;
  append_stored_cloudevent(document, a.event_id, type, subject, data);
  auto row = w.exec_prepared(kInsert.name, a.event_id, user_id, lane_of(user_id), std::string(type), subject,
                             document);
  a.id = row[0][0].as<std::int64_t>();
  // After commit, not inside the transaction (see db::signal_after_commit): the relay holding the lane wakes
  // up at once instead of waiting for its timer.
  db::signal_after_commit(kOutboxChannel, lane_bit(lane_of(user_id)));
  return a;
}

std::vector<Appended> append_many(pqxx::transaction_base& w, const std::vector<NewEvent>& events) {
  std::vector<Appended> out;
  if (events.empty()) return out;
  std::vector<std::string> ids, user_ids, lanes, types, subjects, documents;
  std::uint32_t lane_bits = 0;
  out.reserve(events.size());
  for (const auto& n : events) {
    Appended a;
    a.event_id = new_ordered_uuid();
    std::string document;
    append_stored_cloudevent(document, a.event_id, n.type, n.subject, n.data);
    ids.push_back(a.event_id);
    user_ids.push_back(n.user_id);
    const int lane = lane_of(n.user_id);
    lanes.push_back(std::to_string(lane));
    lane_bits |= lane_bit(lane);
    types.emplace_back(n.type);
    subjects.push_back(n.subject);
    documents.push_back(std::move(document));
    out.push_back(std::move(a));
  }
  std::map<std::string, std::int64_t> rows;  // event id → row id
  for (const auto& row : w.exec_prepared(
           kInsertMany.name, db::array_literal(ids), db::array_literal(user_ids), db::array_literal(lanes),
           db::array_literal(types), db::array_literal(subjects), db::record_separated(documents)))
    rows[row[1].c_str()] = row[0].as<std::int64_t>();
  for (auto& a : out)
    a.id = rows[a.event_id];
  db::signal_after_commit(kOutboxChannel, lane_bits);
  return out;
}

namespace {

// kClaim: the events to deliver (ordered by user, then sequence), and how many rows it claimed.
Claimed claim(pqxx::transaction_base& w, const std::vector<int>& lanes, int limit, bool publish) {
  Claimed out;
  if (lanes.empty()) return out;
  const auto rows = w.exec_prepared(kClaim.name, array_literal(lanes), limit, publish);
  out.rows = static_cast<int>(rows.size());
  out.events.reserve(rows.size());
  for (const auto& row : rows) {
    if (row[3].is_null()) continue;  // the account is gone (its rows cascade away): nothing to deliver
    out.events.push_back(from_row(row));
  }
  // Per user, in sequence order (an event numbered earlier but left unpublished comes before new ones).
  std::stable_sort(out.events.begin(), out.events.end(), [](const Event& a, const Event& b) {
    return a.user_id != b.user_id ? a.user_id < b.user_id : a.sequence < b.sequence;
  });
  return out;
}

}  // namespace

std::vector<Event> claim_pending(pqxx::transaction_base& w, const std::vector<int>& lanes, int limit) {
  return claim(w, lanes, limit, /*publish=*/false).events;
}

Claimed claim_and_publish(pqxx::transaction_base& w, const std::vector<int>& lanes, int limit) {
  return claim(w, lanes, limit, /*publish=*/true);
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

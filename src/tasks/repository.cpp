// Task repository: named statements, row mapping and list queries.
#include "todo/tasks/repository.hpp"

#include <unordered_map>

#include "todo/db/statements.hpp"

namespace todo::tasks::repository {
namespace {

#define TODO_TASK_COLUMNS                                                                            \
  "id, user_id, title, description, status, priority, tags, due_at, all_day, timezone, recurrence, " \
  "created_at, updated_at, completed_at, version, recurrence_mode, series_id, occurrence, "          \
  "generate_ahead, series_start"
constexpr int kTaskColumnCount = 20;

const db::Statement kInsert{
    "tasks_insert",
    "INSERT INTO tasks (id, user_id, title, description, status, priority, tags, due_at, all_day, timezone, "
    "recurrence, completed_at, recurrence_mode, series_id, occurrence, generate_ahead, series_start, "
    "created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8::timestamptz, $9, "
    "coalesce($10, (SELECT timezone FROM users WHERE id = $2)), $11, "
    "CASE WHEN $5 = 'done' THEN change_time() END, $12, $13::uuid, $14::integer, $15::smallint, "
    "$16::timestamptz, change_time(), change_time()) "
    "RETURNING " TODO_TASK_COLUMNS};
// insert() for many rows: one array a column (tags as the text of each task's array), in the same order.
const db::Statement kInsertMany{
    "tasks_insert_many",
    "INSERT INTO tasks (id, user_id, title, description, status, priority, tags, due_at, all_day, timezone, "
    "recurrence, completed_at, recurrence_mode, series_id, occurrence, generate_ahead, series_start) "
    "SELECT x.id, x.u, x.title, x.description, x.status, x.priority, x.tags::text[], x.due_at, x.all_day, "
    "coalesce(x.tz, (SELECT timezone FROM users WHERE id = x.u)), x.recurrence, "
    "CASE WHEN x.status = 'done' THEN now() END, x.mode, x.series, x.occurrence, x.ahead, x.start "
    "FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::smallint[], $7::text[], "
    "$8::timestamptz[], $9::boolean[], $10::text[], $11::text[], $12::text[], $13::uuid[], $14::integer[], "
    "$15::smallint[], $16::timestamptz[]) AS x(id, u, title, description, status, priority, tags, due_at, "
    "all_day, tz, recurrence, mode, series, occurrence, ahead, start) "
    "RETURNING " TODO_TASK_COLUMNS};
const db::Statement kSelect{"tasks_select",
                            "SELECT " TODO_TASK_COLUMNS " FROM tasks WHERE user_id = $1 AND id = $2"};
// The change's time is read once the row is locked: computed in the locking scan's own select list, it was
// the time before a wait for the lock, unless the holder changed the row (PostgreSQL evaluates a changed
// row's list again), so a change that waited behind an operator's or another request's lock without a change
// got a time seconds before it could be made. Above the locked rows (a CTE, never inlined), it comes after.
const db::Statement kSelectForUpdate{
    "tasks_select_for_update", "WITH locked AS MATERIALIZED (SELECT " TODO_TASK_COLUMNS
                               " FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE) "
                               "SELECT " TODO_TASK_COLUMNS
                               ", set_config('todo.change_time', clock_timestamp()::text, true)::timestamptz "
                               "FROM locked"};
const db::Statement kUpdate{
    "tasks_update",
    "UPDATE tasks SET title = $3, description = $4, status = $5, priority = $6, tags = $7::text[], "
    "due_at = $8::timestamptz, all_day = $9, timezone = $10, recurrence = $11, completed_at = "
    "$12::timestamptz, recurrence_mode = $13, series_id = $14::uuid, occurrence = $15::integer, "
    "generate_ahead = $16::smallint, series_start = $17::timestamptz, "
    "version = version + 1, updated_at = change_time() WHERE user_id = $1 AND id = $2 "
    "RETURNING " TODO_TASK_COLUMNS};
// The series' anchor alone: internal, so neither the version nor updated_at moves (see service::update).
const db::Statement kSetSeriesStart{
    "tasks_set_series_start",
    "UPDATE tasks SET series_start = $3::timestamptz WHERE user_id = $1 AND id = $2"};
const db::Statement kDelete{"tasks_delete", "DELETE FROM tasks WHERE user_id = $1 AND id = $2"};
const db::Statement kTagCounts{
    "tasks_tag_counts",
    "SELECT tag, count(*) FROM tasks, unnest(tags) AS tag WHERE user_id = $1 AND status = 'open' "
    "GROUP BY tag ORDER BY count(*) DESC, tag"};
// Series: one lock per series serialises the transactions that extend it (completions of different
// occurrences, series-wide edits); the two-key advisory lock space is not the one of the outbox lanes.
const db::Statement kLockSeries{
    "tasks_lock_series", "SELECT pg_advisory_xact_lock(1920298, hashtext($1::text || '/' || $2::text))"};
const db::Statement kSeriesTasks{"tasks_series_tasks",
                                 "SELECT " TODO_TASK_COLUMNS
                                 " FROM tasks WHERE user_id = $1 AND series_id = $2 ORDER BY occurrence"};
// The highest occurrence a series has created (migration 0022): raised (or its due time followed) by every
// write of an occurrence at least as high, kept when that occurrence is deleted.
const db::Statement kNoteOccurrence{
    "tasks_note_occurrence",
    "INSERT INTO task_series (user_id, series_id, last_occurrence, last_due_at) "
    "VALUES ($1::uuid, $2::uuid, $3::integer, $4::timestamptz) ON CONFLICT (user_id, series_id) DO UPDATE "
    "SET last_occurrence = excluded.last_occurrence, last_due_at = excluded.last_due_at "
    "WHERE task_series.last_occurrence <= excluded.last_occurrence"};
// The record set back to the highest occurrence that exists (none left: the record goes).
const db::Statement kResetSeriesHighest{
    "tasks_reset_series_highest",
    "WITH top AS (SELECT occurrence, due_at FROM tasks WHERE user_id = $1 AND series_id = $2 "
    "ORDER BY occurrence DESC LIMIT 1), "
    "gone AS (DELETE FROM task_series s WHERE s.user_id = $1 AND s.series_id = $2 "
    "AND NOT EXISTS (SELECT 1 FROM top)) "
    "INSERT INTO task_series (user_id, series_id, last_occurrence, last_due_at) "
    "SELECT $1::uuid, $2::uuid, occurrence, due_at FROM top ON CONFLICT (user_id, series_id) DO UPDATE "
    "SET last_occurrence = excluded.last_occurrence, last_due_at = excluded.last_due_at"};
const db::Statement kSeriesHighest{
    "tasks_series_highest",
    "SELECT last_occurrence, last_due_at FROM task_series WHERE user_id = $1 AND series_id = $2"};
// The user's task list version (migration 0011): the sum of the user's counters; 0 before the first change.
// And whether the user exists, in the same read: the counters outlive a removed account.
const db::Statement kListVersion{
    "tasks_list_version",
    "SELECT coalesce(sum(version), 0)::bigint, EXISTS (SELECT 1 FROM users WHERE id = $1) "
    "FROM task_list_versions WHERE user_id = $1"};
const db::Registration kRegistered{kInsert,
                                   kInsertMany,
                                   kSelect,
                                   kSelectForUpdate,
                                   kUpdate,
                                   kDelete,
                                   kTagCounts,
                                   kLockSeries,
                                   kSeriesTasks,
                                   kListVersion,
                                   kSetSeriesStart,
                                   kNoteOccurrence,
                                   kResetSeriesHighest,
                                   kSeriesHighest};

template <class Field>
std::optional<std::string> optional_text(const Field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str());
}

std::optional<std::string> optional_pg_time(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return to_pg_timestamptz(*t);
}

// A row of the task columns: a pqxx::row (transactions on db::Pool) or a db::Row (db::Reader).
template <class RowT>
Task from_row(const RowT& r) {
  Task t;
  t.id = r[0].c_str();
  t.user_id = r[1].c_str();
  t.title = r[2].c_str();
  t.description = r[3].c_str();
  t.status = parse_status(r[4].c_str()).value_or(Status::open);
  t.priority = static_cast<Priority>(r[5].template as<int>());
  t.tags = db::parse_text_array(r[6].c_str());
  t.due_at = db::optional_instant(r[7]);
  t.all_day = r[8].template as<bool>();
  t.timezone = r[9].c_str();
  t.recurrence = optional_text(r[10]);
  t.created_at = db::instant(r[11]);
  t.updated_at = db::instant(r[12]);
  t.completed_at = db::optional_instant(r[13]);
  t.version = r[14].template as<int>();
  t.recurrence_mode = parse_recurrence_mode(r[15].c_str()).value_or(RecurrenceMode::fixed);
  t.series_id = optional_text(r[16]);
  if (!r[17].is_null()) t.occurrence = r[17].template as<int>();
  t.generate_ahead = r[18].template as<int>();
  t.series_start = db::optional_instant(r[19]);
  return t;
}

// One page from the rows of build_list_sql: at most q.limit tasks, and the cursor after the last when the
// extra row says there is more.
template <class Result>
Page to_page(const ListQuery& q, const Result& r) {
  Page page;
  const auto n = std::min<std::size_t>(r.size(), static_cast<std::size_t>(q.limit));
  page.items.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    page.items.push_back(from_row(r[static_cast<int>(i)]));
  if (r.size() > n && n > 0) {
    const auto last = r[static_cast<int>(n - 1)];
    Cursor c;
    c.id = last[0].c_str();
    for (std::size_t k = 0; k < q.sort.size(); ++k)
      c.values.push_back(optional_text(last[static_cast<int>(kTaskColumnCount + k)]));
    page.next_cursor = encode_cursor(q, c);
  }
  return page;
}

}  // namespace

Task insert(pqxx::transaction_base& w, const Task& t) {
  auto r =
      w.exec_prepared(kInsert.name, t.id, t.user_id, t.title, t.description, std::string(to_string(t.status)),
                      static_cast<int>(t.priority), db::array_literal(t.tags), optional_pg_time(t.due_at),
                      t.all_day, t.timezone.empty() ? std::nullopt : std::optional<std::string>(t.timezone),
                      t.recurrence, std::string(to_string(t.recurrence_mode)), t.series_id, t.occurrence,
                      t.generate_ahead, optional_pg_time(t.series_start));
  return from_row(r[0]);
}

std::vector<Task> insert_many(pqxx::transaction_base& w, const std::vector<Task>& tasks) {
  std::vector<std::string> ids, users, titles, descriptions, statuses, priorities, tags, all_days, modes,
      aheads;
  std::vector<std::optional<std::string>> dues, zones, rules, series, occurrences, starts;
  for (const auto& t : tasks) {
    ids.push_back(t.id);
    users.push_back(t.user_id);
    titles.push_back(t.title);
    descriptions.push_back(t.description);
    statuses.emplace_back(to_string(t.status));
    priorities.push_back(std::to_string(static_cast<int>(t.priority)));
    tags.push_back(db::array_literal(t.tags));
    dues.push_back(optional_pg_time(t.due_at));
    all_days.emplace_back(t.all_day ? "t" : "f");
    zones.push_back(t.timezone.empty() ? std::nullopt : std::optional<std::string>(t.timezone));
    rules.push_back(t.recurrence);
    modes.emplace_back(to_string(t.recurrence_mode));
    series.push_back(t.series_id);
    occurrences.push_back(t.occurrence ? std::optional<std::string>(std::to_string(*t.occurrence))
                                       : std::nullopt);
    aheads.push_back(std::to_string(t.generate_ahead));
    starts.push_back(optional_pg_time(t.series_start));
  }
  const auto r = w.exec_prepared(
      kInsertMany.name, db::array_literal(ids), db::array_literal(users), db::array_literal(titles),
      db::array_literal(descriptions), db::array_literal(statuses), db::array_literal(priorities),
      db::array_literal(tags), db::array_literal(dues), db::array_literal(all_days), db::array_literal(zones),
      db::array_literal(rules), db::array_literal(modes), db::array_literal(series),
      db::array_literal(occurrences), db::array_literal(aheads), db::array_literal(starts));
  // RETURNING's order is not promised: matched by id.
  std::unordered_map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    at.emplace(tasks[i].id, i);
  std::vector<Task> stored(tasks.size());
  for (const auto& row : r) {
    Task t = from_row(row);
    stored[at.at(t.id)] = std::move(t);
  }
  return stored;
}

std::optional<Task> find(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  auto r = w.exec_prepared(kSelect.name, user_id, id);
  if (r.empty()) return std::nullopt;
  return from_row(r[0]);
}

std::optional<Task> find_for_update(pqxx::transaction_base& w, const std::string& user_id,
                                    const std::string& id, Instant* transaction_time) {
  auto r = w.exec_prepared(kSelectForUpdate.name, user_id, id);
  if (r.empty()) return std::nullopt;
  if (transaction_time) *transaction_time = *db::optional_instant(r[0][r[0].size() - 1]);
  return from_row(r[0]);
}

Task save(pqxx::transaction_base& w, const Task& t) {
  auto r = w.exec_prepared(
      kUpdate.name, t.user_id, t.id, t.title, t.description, std::string(to_string(t.status)),
      static_cast<int>(t.priority), db::array_literal(t.tags), optional_pg_time(t.due_at), t.all_day,
      t.timezone, t.recurrence, optional_pg_time(t.completed_at), std::string(to_string(t.recurrence_mode)),
      t.series_id, t.occurrence, t.generate_ahead, optional_pg_time(t.series_start));
  return from_row(r[0]);
}

void set_series_start(pqxx::transaction_base& w, const Task& t) {
  w.exec_prepared(kSetSeriesStart.name, t.user_id, t.id, optional_pg_time(t.series_start));
}

bool remove(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  return w.exec_prepared(kDelete.name, user_id, id).affected_rows() > 0;
}

Page list(pqxx::transaction_base& w, const std::string& user_id, const ListQuery& q) {
  const auto sql = build_list_sql(q, user_id, TODO_TASK_COLUMNS);
  // Unprepared on purpose: see the db::Reader overload below.
  return to_page(q, w.exec_params(sql.text, pqxx::prepare::make_dynamic_params(sql.params)));
}

boost::asio::awaitable<std::optional<Task>> find(db::Reader& db, const std::string& user_id,
                                                 const std::string& id) {
  std::vector<db::Param> params;  // not a braced list: GCC 12 cannot keep one in a coroutine frame
  params.emplace_back(user_id);
  params.emplace_back(id);
  auto r = co_await db.exec_prepared(kSelect, std::move(params));
  if (r.empty()) co_return std::nullopt;
  co_return from_row(r[0]);
}

boost::asio::awaitable<Page> list(db::Reader& db, const std::string& user_id, const ListQuery& q) {
  auto sql = build_list_sql(q, user_id, TODO_TASK_COLUMNS);
  std::vector<db::Param> params(sql.params.begin(), sql.params.end());
  // Prepared (once per connection) only for the shapes whose generic plan serves every user alike; the
  // others are planned for their values every time (see tasks::cacheable).
  db::Rows rows;
  if (cacheable(q))
    rows = co_await db.exec_cached(std::move(sql.text), std::move(params));
  else
    rows = co_await db.exec_params(std::move(sql.text), std::move(params));
  co_return to_page(q, rows);
}

boost::asio::awaitable<std::optional<std::int64_t>> list_version(db::Reader& db, const std::string& user_id) {
  std::vector<db::Param> params;
  params.emplace_back(user_id);
  auto r = co_await db.exec_prepared(kListVersion, std::move(params));
  if (!r[0][1].as<bool>()) co_return std::nullopt;
  co_return r[0][0].as<std::int64_t>();
}

void lock_series(pqxx::transaction_base& w, const std::string& user_id, const std::string& series_id) {
  w.exec_prepared(kLockSeries.name, user_id, series_id);
}

std::vector<Task> series_tasks(pqxx::transaction_base& w, const std::string& user_id,
                               const std::string& series_id) {
  std::vector<Task> out;
  for (const auto& row : w.exec_prepared(kSeriesTasks.name, user_id, series_id))
    out.push_back(from_row(row));
  return out;
}

void note_occurrence(pqxx::transaction_base& w, const Task& t) {
  if (!t.series_id || !t.occurrence) return;
  w.exec_prepared(kNoteOccurrence.name, t.user_id, *t.series_id, *t.occurrence, optional_pg_time(t.due_at));
}

void reset_series_highest(pqxx::transaction_base& w, const std::string& user_id,
                          const std::string& series_id) {
  w.exec_prepared(kResetSeriesHighest.name, user_id, series_id);
}

std::optional<SeriesHighest> series_highest(pqxx::transaction_base& w, const std::string& user_id,
                                            const std::string& series_id) {
  const auto r = w.exec_prepared(kSeriesHighest.name, user_id, series_id);
  if (r.empty()) return std::nullopt;
  return SeriesHighest{r[0][0].as<int>(), db::optional_instant(r[0][1])};
}

std::vector<std::pair<std::string, long>> tag_counts(pqxx::transaction_base& w, const std::string& user_id) {
  std::vector<std::pair<std::string, long>> out;
  for (const auto& row : w.exec_prepared(kTagCounts.name, user_id))
    out.emplace_back(row[0].c_str(), row[1].as<long>());
  return out;
}

}  // namespace todo::tasks::repository

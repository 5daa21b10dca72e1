// SQL for a user's reminders.
#include "todo/reminders/repository.hpp"

#include "todo/core/encoding.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/db/statements.hpp"

namespace todo::reminders::repository {
namespace {

#define TODO_REMINDER_COLUMNS                                                                   \
  "r.id, r.user_id, r.task_id, r.at, r.before_due, r.fire_at, r.snoozed, r.state, r.fired_at, " \
  "r.delivered_at, r.attempts, r.next_attempt_at, r.last_error, r.created_at, r.updated_at"

// The task's reminders are counted by a statement of their own, after the lock: counted in the locking
// statement, they were read in its snapshot, taken before it waited for the lock, so concurrent adds each saw
// the count from before the others and a task got 16 reminders (at most 10).
const db::Statement kLockTask{
    "reminders_lock_task",
    "SELECT t.id, t.status FROM tasks t WHERE t.user_id = $1 AND t.id = $2 FOR UPDATE"};
const db::Statement kCountForTask{"reminders_count_for_task",
                                  "SELECT count(*) FROM reminders WHERE user_id = $1 AND task_id = $2"};
// The state a reminder is stored in, one rule for every insert: cancelled while its task is done; missed when
// its time has already passed, unless it may fire late (a SQL boolean); scheduled otherwise. Only a reminder
// asked for now (POST) may: it is what was asked for, so it fires at once. A copy to another occurrence and a
// reminder an undo restores were set long before: missed, as one that a move of its task puts in the past is
// (reminders_follow_task, 0023). A reminder without a fire time (no due date) is scheduled.
#define TODO_NEW_REMINDER_STATE(done, fire_at, may_fire_late)                   \
  "CASE WHEN " done " THEN 'cancelled' WHEN NOT " may_fire_late " AND " fire_at \
  " <= now() "                                                                  \
  "THEN 'missed' ELSE 'scheduled' END"

const db::Statement kInsert{
    "reminders_insert",
    "INSERT INTO reminders AS r (user_id, id, task_id, at, before_due, fire_at, state) "
    "SELECT c.user_id, $3, c.id, $4::timestamptz, $5, c.fire_at, "
    TODO_NEW_REMINDER_STATE("c.done", "c.fire_at", "$6::bool")
    " FROM (SELECT t.user_id, t.id, t.status = 'done' AS done, "
    "coalesce($4::timestamptz, reminder_fire_at(t.due_at, t.timezone, $5)) AS fire_at "
    "FROM tasks t WHERE t.user_id = $1 AND t.id = $2) c RETURNING " TODO_REMINDER_COLUMNS};
const db::Statement kListForTask{"reminders_for_task",
                                 "SELECT " TODO_REMINDER_COLUMNS
                                 " FROM reminders r WHERE r.user_id = $1 AND r.task_id = $2 "
                                 "ORDER BY r.created_at, r.id"};
const db::Statement kFind{
    "reminders_find", "SELECT " TODO_REMINDER_COLUMNS " FROM reminders r WHERE r.user_id = $1 AND r.id = $2"};
const db::Statement kRemove{"reminders_remove",
                            "DELETE FROM reminders WHERE user_id = $1 AND task_id = $2 AND id = $3"};
// The task is read FOR SHARE: a completion in flight is waited for and its outcome seen (read unlocked, the
// task stayed open in this statement's snapshot, while its reminder, waited for, was cancelled meanwhile, and
// the snooze armed it again). Locks are taken task first, then reminder, as by every writer that takes both.
#define TODO_SNOOZE(fire_at)                                                                              \
  "WITH t AS (SELECT t.user_id, t.id, t.timezone FROM reminders r JOIN tasks t ON t.user_id = r.user_id " \
  "AND t.id = r.task_id WHERE r.user_id = $1 AND r.id = $2 AND t.status = 'open' FOR SHARE OF t) "        \
  "UPDATE reminders r SET fire_at = " fire_at                                                             \
  ", "                                                                                                    \
  "snoozed = true, state = 'scheduled', fired_at = NULL, email_pending = false, claimed_by = NULL, "      \
  "lease_until = NULL, attempts = 0, next_attempt_at = NULL, last_error = NULL, delivered_at = NULL, "    \
  "updated_at = now() "                                                                                   \
  "FROM t WHERE r.user_id = $1 AND r.id = $2 AND t.user_id = r.user_id AND t.id = r.task_id "             \
  "AND r.state <> 'firing' RETURNING " TODO_REMINDER_COLUMNS
const db::Statement kSnooze{"reminders_snooze", TODO_SNOOZE("reminder_shift(now(), t.timezone, $3, 1)")};
// A reminder an undo re-creates was snoozed when its task was deleted: snoozed again, to the same time.
const db::Statement kSnoozeUntil{"reminders_snooze_until", TODO_SNOOZE("$3::timestamptz")};
#undef TODO_SNOOZE
// The user's reminders by fire time (none last), and the upcoming ones alone: one statement each, so that
// each walks its index from the cursor and reads about `limit` rows (reminders_list_idx, 0025, and the
// partial reminders_upcoming_idx). One statement for both, with the filter as a parameter, read and sorted
// every reminder the user had (delivered ones included): 100 000 rows and 140 ms for a page of 50.
const db::Statement kList{
    "reminders_list",
    "SELECT " TODO_REMINDER_COLUMNS
    " FROM reminders r WHERE r.user_id = $1 "
    "AND (coalesce(r.fire_at, 'infinity'::timestamptz), r.id) > ($2::timestamptz, $3::uuid) "
    "ORDER BY coalesce(r.fire_at, 'infinity'::timestamptz), r.id LIMIT $4"};
// An upcoming reminder has a fire time, so its place in the order above is (fire_at, id).
const db::Statement kListUpcoming{
    "reminders_list_upcoming",
    "SELECT " TODO_REMINDER_COLUMNS
    " FROM reminders r WHERE r.user_id = $1 AND r.state = 'scheduled' AND r.fire_at IS NOT NULL "
    "AND (r.fire_at, r.id) > ($2::timestamptz, $3::uuid) ORDER BY r.fire_at, r.id LIMIT $4"};
// A copy whose time has already passed (a P1D reminder of an occurrence due in a few hours) is not fired
// late: it is missed; a copy to a done task is cancelled (TODO_NEW_REMINDER_STATE).
const db::Statement kCopyRelative{
    "reminders_copy_relative",
    "INSERT INTO reminders (user_id, id, task_id, before_due, fire_at, state) "
    "SELECT c.user_id, uuid_v7(), c.task_id, c.before_due, c.fire_at, "
    TODO_NEW_REMINDER_STATE("c.done", "c.fire_at", "false")
    " FROM (SELECT r.user_id, t.id AS task_id, r.before_due, r.created_at, r.id, t.status = 'done' AS done, "
    "reminder_fire_at(t.due_at, t.timezone, r.before_due) AS fire_at "
    "FROM reminders r JOIN tasks t ON t.user_id = r.user_id AND t.id = $3 "
    "WHERE r.user_id = $1 AND r.task_id = $2 AND r.before_due IS NOT NULL) c ORDER BY c.created_at, c.id"};
// The later open occurrences are locked by a statement of their own, then counted and added to by the next
// (in a snapshot taken after the locks, as for kCountForTask).
const db::Statement kLockLaterOccurrences{
    "reminders_lock_later_occurrences",
    "SELECT t.id FROM tasks s JOIN tasks t "
    "ON t.user_id = s.user_id AND t.series_id = s.series_id AND t.occurrence > s.occurrence "
    "WHERE s.user_id = $1 AND s.id = $2 AND t.status = 'open' ORDER BY t.occurrence FOR UPDATE OF t"};
const db::Statement kAddToLaterOccurrences{
    "reminders_add_to_later_occurrences",
    "WITH later AS (SELECT t.user_id, t.id, reminder_fire_at(t.due_at, t.timezone, $3) AS fire_at "
    "FROM tasks s JOIN tasks t "
    "ON t.user_id = s.user_id AND t.series_id = s.series_id AND t.occurrence > s.occurrence "
    "WHERE s.user_id = $1 AND s.id = $2 AND t.status = 'open') "
    "INSERT INTO reminders (user_id, id, task_id, before_due, fire_at, state) "
    "SELECT l.user_id, uuid_v7(), l.id, $3, l.fire_at, "
    TODO_NEW_REMINDER_STATE("false", "l.fire_at", "false")
    " FROM later l WHERE NOT EXISTS (SELECT 1 FROM reminders x WHERE x.user_id = l.user_id AND "
    "x.task_id = l.id AND x.before_due = $3) "
    "AND (SELECT count(*) FROM reminders x WHERE x.user_id = l.user_id AND x.task_id = l.id) < $4"};
const db::Statement kTaskExists{"reminders_task_exists",
                                "SELECT 1 FROM tasks WHERE user_id = $1 AND id = $2"};
const db::Registration kRegistered{kTaskExists,
                                   kLockTask,
                                   kCountForTask,
                                   kInsert,
                                   kListForTask,
                                   kFind,
                                   kRemove,
                                   kSnooze,
                                   kSnoozeUntil,
                                   kList,
                                   kListUpcoming,
                                   kCopyRelative,
                                   kLockLaterOccurrences,
                                   kAddToLaterOccurrences};

Reminder from_row(const pqxx::row& row) {
  using I = pqxx::row::size_type;
  Reminder r;
  r.id = row[I{0}].c_str();
  r.user_id = row[I{1}].c_str();
  r.task_id = row[I{2}].c_str();
  r.at = db::optional_instant(row[I{3}]);
  if (!row[I{4}].is_null()) r.before_due = row[I{4}].c_str();
  r.fire_at = db::optional_instant(row[I{5}]);
  r.snoozed = row[I{6}].as<bool>();
  r.state = row[I{7}].c_str();
  r.fired_at = db::optional_instant(row[I{8}]);
  r.delivered_at = db::optional_instant(row[I{9}]);
  r.attempts = row[I{10}].as<int>();
  r.next_attempt_at = db::optional_instant(row[I{11}]);
  if (!row[I{12}].is_null()) r.last_error = row[I{12}].c_str();
  r.created_at = db::instant(row[I{13}]);
  r.updated_at = db::instant(row[I{14}]);
  return r;
}

std::optional<std::string> optional_text(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return to_pg_timestamptz(*t);
}

// Cursor: the list and the last row's sort key, "<upcoming|all>|<fire_at as PostgreSQL text or
// infinity>|<id>", sealed (seal_cursor): a cursor of the upcoming list used on the whole one (or back) is
// refused, not read as a position in a list it was not made for.
std::string list_name(bool upcoming) {
  return upcoming ? "upcoming|" : "all|";
}

std::string make_cursor(const Reminder& r, bool upcoming) {
  return seal_cursor(list_name(upcoming) +
                     (r.fire_at ? to_pg_timestamptz(*r.fire_at) : std::string("infinity")) + "|" + r.id);
}

std::pair<std::string, std::string> read_cursor(const std::string& cursor, bool upcoming) {
  auto raw = open_cursor(cursor);
  if (raw && raw->starts_with(list_name(upcoming))) {
    raw->erase(0, list_name(upcoming).size());
    const auto bar = raw->rfind('|');
    if (bar != std::string::npos) {
      std::string fire = raw->substr(0, bar), id = raw->substr(bar + 1);
      if (is_uuid(id)) {
        if (fire == "infinity") return {fire, id};
        // Canonical UTC: PostgreSQL refuses some offsets the parser accepts.
        if (const auto t = parse_pg_timestamptz(fire)) return {to_pg_timestamptz(*t), id};
      }
    }
  }
  throw Error(Errc::bad_request, "malformed cursor",
              {{"cursor", "not a cursor this server issued for this list"}});
}

}  // namespace

std::optional<TaskRef> lock_task(pqxx::transaction_base& w, const std::string& user_id,
                                 const std::string& task_id) {
  auto res = w.exec_prepared(kLockTask.name, user_id, task_id);
  if (res.empty()) return std::nullopt;
  const auto count = w.exec_prepared(kCountForTask.name, user_id, task_id);
  return TaskRef{res[0][0].c_str(), res[0][1].c_str(), count[0][0].as<int>()};
}

Reminder insert(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
                const NewReminder& r, bool may_fire_late) {
  std::optional<std::string> before;
  if (r.before_due) before = format_duration(*r.before_due);
  auto res = w.exec_prepared(kInsert.name, user_id, task_id, new_ordered_uuid(), optional_text(r.at), before,
                             may_fire_late);
  if (res.empty()) throw Error(Errc::not_found, "no task " + task_id);
  return from_row(res[0]);
}

bool task_exists(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id) {
  return !w.exec_prepared(kTaskExists.name, user_id, task_id).empty();
}

std::vector<Reminder> list_for_task(pqxx::transaction_base& w, const std::string& user_id,
                                    const std::string& task_id) {
  std::vector<Reminder> out;
  for (const auto& row : w.exec_prepared(kListForTask.name, user_id, task_id))
    out.push_back(from_row(row));
  return out;
}

std::optional<Reminder> find(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  auto res = w.exec_prepared(kFind.name, user_id, id);
  if (res.empty()) return std::nullopt;
  return from_row(res[0]);
}

bool remove(pqxx::transaction_base& w, const std::string& user_id, const std::string& task_id,
            const std::string& id) {
  return w.exec_prepared(kRemove.name, user_id, task_id, id).affected_rows() > 0;
}

std::optional<Reminder> snooze(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
                               const Duration& d) {
  auto res = w.exec_prepared(kSnooze.name, user_id, id, format_duration(d));
  if (res.empty()) return std::nullopt;
  return from_row(res[0]);
}

std::optional<Reminder> snooze_until(pqxx::transaction_base& w, const std::string& user_id,
                                     const std::string& id, Instant until) {
  auto res = w.exec_prepared(kSnoozeUntil.name, user_id, id, format_rfc3339(until));
  if (res.empty()) return std::nullopt;
  return from_row(res[0]);
}

Page list(pqxx::transaction_base& w, const std::string& user_id, bool upcoming, int limit,
          const std::optional<std::string>& cursor) {
  std::string after_fire = "-infinity", after_id = "00000000-0000-0000-0000-000000000000";
  if (cursor) std::tie(after_fire, after_id) = read_cursor(*cursor, upcoming);
  Page page;
  auto res =
      w.exec_prepared((upcoming ? kListUpcoming : kList).name, user_id, after_fire, after_id, limit + 1);
  for (const auto& row : res) {
    if (static_cast<int>(page.items.size()) == limit) {
      page.next_cursor = make_cursor(page.items.back(), upcoming);
      break;
    }
    page.items.push_back(from_row(row));
  }
  return page;
}

int copy_relative(pqxx::transaction_base& w, const std::string& user_id, const std::string& from_task_id,
                  const std::string& to_task_id) {
  return static_cast<int>(
      w.exec_prepared(kCopyRelative.name, user_id, from_task_id, to_task_id).affected_rows());
}

int add_to_later_occurrences(pqxx::transaction_base& w, const std::string& user_id,
                             const std::string& task_id, const std::string& before_due) {
  w.exec_prepared(kLockLaterOccurrences.name, user_id, task_id);
  return static_cast<int>(
      w.exec_prepared(kAddToLaterOccurrences.name, user_id, task_id, before_due, kMaxPerTask)
          .affected_rows());
}

}  // namespace todo::reminders::repository

// Task business rules, and the event and audit row that record each change.
#include "todo/tasks/service.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "todo/audit/audit.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/json_writer.hpp"
#include "todo/events/outbox.hpp"
#include "todo/tasks/recurring.hpp"

namespace todo::tasks::service {
namespace {

CopyReminders copy_reminders_hook = nullptr;

Error not_found(const std::string& id) {
  return Error(Errc::not_found, "no task " + id);
}

/// Locks the task's row for the rest of the transaction; for an occurrence of a series, takes the series
/// lock first. Every path that locks rows of a series does so in this order (series, then rows), so a
/// series-wide change (which locks the other occurrences) never deadlocks with a completion. `at` gets the
/// change's time (read after the row lock: change_time(), migration 0027), the updated_at it will get.
Task locked(pqxx::transaction_base& w, const std::string& user_id, const std::string& id, Instant& at) {
  auto pre = repository::find(w, user_id, id);
  if (!pre) throw not_found(id);
  // A series id changes only when a task of an ended series recurs anew (leave_ended_series), under this
  // lock.
  if (pre->series_id) repository::lock_series(w, user_id, *pre->series_id);
  auto t = repository::find_for_update(w, user_id, id, &at);
  if (!t) throw not_found(id);
  return *t;
}

/// {field: [old, new]} for the fields that changed.
nlohmann::json changes_json(const std::vector<Change>& changes) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& c : changes)
    out[c.field] = nlohmann::json::array({c.before, c.after});
  return out;
}

/// Every field of a task as [null, value] (created) or [value, null] (deleted), as JSON text.
std::string snapshot_changes(const Task& t, bool created) {
  std::string out;
  append_snapshot(out, t, created);
  return out;
}

/// The data of a change's event, as JSON text: `changes` (JSON text, when given), the task, the user and the
/// task's version.
std::string event_data(const Actor& who, const Task& t, const std::string* changes) {
  std::string out;
  {
    json::ObjectWriter o(out);  // members in std::map order, as everywhere
    if (changes) o.raw("changes") += *changes;
    append_json(o.raw("task"), t);
    o.string("user_id", who.user_id).integer("version", t.version);
  }
  return out;
}

/// The audit action of an event type: the type without its namespace (com.todo.task.updated → task.updated).
std::string_view audit_action(std::string_view type) {
  return type.substr(std::string_view("com.todo.").size());
}

/// The event and the audit row of one change, in the caller's transaction.
void record(pqxx::transaction_base& w, const Actor& who, std::string_view type, const Task& t,
            const std::string* changes, std::string_view audit_changes) {
  events::append(w, who.user_id, type, t.id, event_data(who, t, changes));
  audit::record(w, who.user_id, t.id, audit_action(type), who.request_id, audit_changes);
}

/// Saves a changed task and records it: completed/reopened when only the status moved, updated otherwise.
Task save_and_record(pqxx::transaction_base& w, const Actor& who, Task& t,
                     const std::vector<Change>& changes) {
  Task saved = repository::save(w, t);
  bool status_only = true;
  bool status_changed = false;
  for (const auto& c : changes) {
    if (c.field == "status")
      status_changed = true;
    else if (c.field != "completed_at")
      status_only = false;
  }
  std::string_view type = events::kTaskUpdated;
  if (status_changed && status_only)
    type = saved.status == Status::done ? events::kTaskCompleted : events::kTaskReopened;
  const std::string diff =
      changes_json(changes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  record(w, who, type, saved, &diff, diff);
  repository::note_occurrence(w, saved);  // a moved highest occurrence: the record follows its due time
  return saved;
}

Task insert_and_record(pqxx::transaction_base& w, const Actor& who, const Task& t) {
  Task stored = repository::insert(w, t);
  record(w, who, events::kTaskCreated, stored, nullptr, snapshot_changes(stored, /*created=*/true));
  repository::note_occurrence(w, stored);
  return stored;
}

void delete_and_record(pqxx::transaction_base& w, const Actor& who, const Task& t) {
  repository::remove(w, who.user_id, t.id);
  record(w, who, events::kTaskDeleted, t, nullptr, snapshot_changes(t, /*created=*/false));
}

/// Tops a series up to 1 + generate_ahead open occurrences on the rule (1 for after_completion), each a new
/// task numbered and timed after the series' highest occurrence ever created (repository::series_highest: a
/// skipped or deleted one included, so a skip is final and never comes back with its number and time; timed
/// after the highest one with a due date, when a "this" edit removed the highest one's). Under the series
/// lock, so concurrent transactions never create one twice. `source` is the occurrence just completed,
/// skipped or edited. A new occurrence copies the series' latest open occurrence with a rule, or `source`
/// when none is later: an edit of "this and following" reaches every open occurrence from the edited one on
/// (a new schedule replaces them), so the latest open one holds the series' current rule and content, while
/// `source` may be earlier than the edit and hold the old ones. Done occurrences keep what they had and are
/// never copied, unless `source`. Relative reminders are copied from the same occurrence as the fields.
/// `skipping`: the source is an open occurrence about to be deleted, which no longer counts as open; it still
/// exists, so its relative reminders are copied to the occurrence that replaces it when none is later (as
/// those of a completed source are to the next one). Skipping is no completion: an
/// after_completion series goes on an interval after the skipped occurrence's due time (after `at` when that
/// is past), never earlier than the skipped one. `new_ahead`: the edit set the source's generate_ahead, which
/// the later open occurrences take (raised or lowered).
void extend_series(pqxx::transaction_base& w, const Actor& who, const Task& source, Instant at,
                   bool skipping = false, bool new_ahead = false) {
  if (!source.recurrence || !source.series_id || !source.due_at) return;
  repository::lock_series(w, who.user_id, *source.series_id);
  const auto tasks = repository::series_tasks(w, who.user_id, *source.series_id);
  int open = 0;
  Task prev = source;  // numbered after the highest occurrence, timed after the highest one with a due date
  Task latest = source;
  int dated = source.occurrence.value_or(0);
  for (const auto& t : tasks) {
    // An occurrence a "this" edit took the rule off is no longer on the schedule: it is not one of the open
    // occurrences generate_ahead keeps (it held the series' place: nothing on the rule was created).
    const bool counts = t.status == Status::open && t.recurrence && !(skipping && t.id == source.id);
    if (counts) ++open;
    if (counts && t.due_at && t.occurrence.value_or(0) > latest.occurrence.value_or(0)) latest = t;
    if (t.occurrence.value_or(0) > prev.occurrence.value_or(0)) prev.occurrence = t.occurrence;
    // One without a due date (a "this" edit took it off) has no time to follow (the series stopped there).
    if (t.due_at && t.occurrence.value_or(0) > dated) {
      dated = t.occurrence.value_or(0);
      prev.due_at = t.due_at;
    }
  }
  // A higher occurrence that no longer exists (skipped or deleted): the next ones come after it.
  if (const auto high = repository::series_highest(w, who.user_id, *source.series_id);
      high && high->occurrence > prev.occurrence.value_or(0)) {
    prev.occurrence = high->occurrence;
    if (high->due_at) prev.due_at = std::max(*prev.due_at, *high->due_at);
  }
  // A generate_ahead set on an open occurrence before the latest open one (a "this" edit) is the series' new
  // value, raised or lowered: the later open occurrences take it, so that the top-up below and the
  // occurrences created later follow it (the latest one's value, which they copy, was still the old one).
  // Lowered, the occurrences already created stay (none is removed: they may have reminders or edits of their
  // own); the series is topped up again once fewer than 1 + the new value are open.
  if (!skipping && new_ahead && source.status == Status::open &&
      source.generate_ahead != latest.generate_ahead && latest.recurrence_mode == RecurrenceMode::fixed) {
    TaskPatch ahead;
    ahead.generate_ahead = source.generate_ahead;
    for (Task t : tasks) {
      if (t.status != Status::open || t.occurrence.value_or(0) <= source.occurrence.value_or(0) ||
          t.generate_ahead == source.generate_ahead)
        continue;
      const auto changes = apply_patch(t, ahead, at);
      if (changes.empty()) continue;
      const Task saved = save_and_record(w, who, t, changes);
      if (saved.id == latest.id) latest = saved;
    }
  }
  const int target = 1 + (latest.recurrence_mode == RecurrenceMode::fixed ? latest.generate_ahead : 0);
  const Instant completed = skipping && latest.recurrence_mode == RecurrenceMode::after_completion
                                ? std::max(at, *source.due_at)
                                : at;
  while (open < target) {
    const auto due = recurring::next_due(latest, prev, completed);
    if (!due) break;  // COUNT or UNTIL ended the series
    Task next;
    next.id = new_ordered_uuid();
    next.user_id = who.user_id;
    next.title = latest.title;
    next.description = latest.description;
    next.priority = latest.priority;
    next.tags = latest.tags;
    next.due_at = *due;
    next.all_day = latest.all_day;
    next.timezone = latest.timezone;
    next.recurrence = latest.recurrence;
    next.recurrence_mode = latest.recurrence_mode;
    next.series_id = latest.series_id;
    next.occurrence = prev.occurrence.value_or(0) + 1;
    next.generate_ahead = latest.generate_ahead;
    next.series_start = latest.series_start;
    prev = insert_and_record(w, who, next);
    // Reminder offsets follow the occurrence (wired by the reminders module), copied from where the fields
    // are: a reminder added to or removed from the latest open occurrence carries on, also when an earlier
    // one is completed (its own reminders are the series' older ones).
    if (copy_reminders_hook) copy_reminders_hook(w, who.user_id, latest.id, prev);
    ++open;
  }
}

/// Takes the rule off a task of a series that ended, with its event and audit row.
void clear_rule(pqxx::transaction_base& w, const Actor& who, Task t, Instant at) {
  TaskPatch stop;
  stop.recurrence.emplace();  // set to none
  const auto changes = apply_patch(t, stop, at);
  if (!changes.empty()) save_and_record(w, who, t, changes);
}

/// Ends a series (its task `deleted` is already gone): deletes its open occurrences and clears the rule of
/// the completed ones, so that reopening and completing one, or a series-wide edit of one, creates nothing.
void end_series(pqxx::transaction_base& w, const Actor& who, const std::string& series_id, Instant at) {
  repository::lock_series(w, who.user_id, series_id);
  for (auto& other : repository::series_tasks(w, who.user_id, series_id)) {
    if (other.status == Status::open)
      delete_and_record(w, who, other);
    else
      clear_rule(w, who, other, at);
  }
}

/// A task of an ended series (DELETE ?scope=series left none of its tasks with a rule) given a rule again
/// recurs anew: it leaves the ended series for a series of its own, anchored at its own due_at and numbered
/// from 0 (it kept the old series' start, the old one's first due time, and its number in it). The new series
/// is named by the task's id, as any series by its first task, unless other tasks already have that series id
/// (the task was the first of the ended series): then by a new id. True when it left. A task without a rule
/// in a series that goes on (a "this" edit removed its rule) rejoins it as before.
bool leave_ended_series(pqxx::transaction_base& w, const std::string& user_id, Task& t) {
  const auto in_use = [&](const std::string& series_id) {
    bool others = false;
    for (const auto& o : repository::series_tasks(w, user_id, series_id)) {
      if (o.id == t.id) continue;
      if (o.recurrence) return std::optional<bool>();  // a series that goes on
      others = true;
    }
    return std::optional<bool>(others);
  };
  const auto old_in_use = in_use(*t.series_id);
  if (!old_in_use) return false;
  const bool own_taken = *t.series_id == t.id ? *old_in_use : in_use(t.id).value_or(true);
  t.series_id = own_taken ? new_ordered_uuid() : t.id;
  t.occurrence = 0;
  t.series_start = t.due_at;
  return true;
}

/// The series and number a rule gave the task (join_series, leave_ended_series), added to its changes: the
/// event and the audit row list every field that changed.
void note_series_changes(std::vector<Change>& changes, const Task& before, const Task& after) {
  const auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  if (before.series_id != after.series_id)
    changes.push_back({"series_id", opt(before.series_id), opt(after.series_id)});
  if (before.occurrence != after.occurrence)
    changes.push_back({"occurrence", opt(before.occurrence), opt(after.occurrence)});
}

/// A recurring task that is not yet in a series starts one, anchored at its due_at.
void join_series(Task& t) {
  if (!t.recurrence || t.series_id) return;
  t.series_id = t.id;
  t.occurrence = 0;
  t.series_start = t.due_at;
}

Task set_status(pqxx::transaction_base& w, const Actor& who, const std::string& id, Status status,
                const Expected& expected) {
  Instant at;
  Task t = locked(w, who.user_id, id, at);
  expected.check(t.version);  // also when it is a no-op: a stale precondition fails, as for any change
  if (t.status == status) return t;
  TaskPatch p;
  p.status = status;
  const auto changes = apply_patch(t, p, at);
  Task saved = save_and_record(w, who, t, changes);
  if (status == Status::done) extend_series(w, who, saved, at);
  return saved;
}

/// The fields of a patch that change a series' schedule.
bool changes_schedule(const TaskPatch& p) {
  return p.due_at || p.recurrence || p.recurrence_mode || p.timezone;
}

/// True when the changes touch what a schedule is expanded with besides its start: the rule, its mode or its
/// zone.
bool changes_rule(const std::vector<Change>& changes) {
  return std::any_of(changes.begin(), changes.end(), [](const Change& c) {
    return c.field == "recurrence" || c.field == "recurrence_mode" || c.field == "timezone";
  });
}

/// The fields of a patch a series-wide edit copies to the following occurrences as they are.
TaskPatch content_of(const TaskPatch& p) {
  TaskPatch c;
  c.title = p.title;
  c.description = p.description;
  c.priority = p.priority;
  c.tags = p.tags;
  c.all_day = p.all_day;
  c.generate_ahead = p.generate_ahead;  // more (or fewer) kept ahead: a top-up, not a new schedule
  return c;
}

/// The task a create request describes, before it is stored.
Task new_task(const Actor& who, const NewTask& r) {
  Task t;
  t.id = new_ordered_uuid();
  t.user_id = who.user_id;
  t.title = r.title;
  t.description = r.description;
  t.status = r.status;
  t.priority = r.priority;
  t.tags = r.tags;
  t.due_at = r.due_at;
  t.all_day = r.all_day;
  t.timezone = r.timezone.value_or("");
  t.recurrence = r.recurrence;
  t.recurrence_mode = r.recurrence_mode;
  t.generate_ahead = r.generate_ahead;
  check_recurring(t);
  join_series(t);
  return t;
}

}  // namespace

Task create(pqxx::transaction_base& w, const Actor& who, const NewTask& r) {
  Task stored = insert_and_record(w, who, new_task(who, r));
  check_occurs(stored);  // in its stored zone: the user's when the request names none
  extend_series(w, who, stored, now());
  return stored;
}

std::vector<Task> create_many(pqxx::transaction_base& w, const std::vector<Creation>& creations) {
  std::vector<Task> out(creations.size());
  std::vector<Task> plain;
  std::vector<std::size_t> plain_at;  // their places in `creations`
  for (std::size_t i = 0; i < creations.size(); ++i) {
    const auto& [who, request] = creations[i];
    if (request.recurrence) {
      out[i] = create(w, who, request);  // a series of its own: its occurrences follow it
      continue;
    }
    plain.push_back(new_task(who, request));
    plain_at.push_back(i);
  }
  if (plain.empty()) return out;
  auto stored = repository::insert_many(w, plain);
  std::vector<events::NewEvent> events;
  std::vector<audit::NewEntry> entries;
  events.reserve(stored.size());
  entries.reserve(stored.size());
  for (std::size_t k = 0; k < stored.size(); ++k) {
    const Actor& who = creations[plain_at[k]].who;
    const Task& t = stored[k];
    events.push_back({who.user_id, events::kTaskCreated, t.id, event_data(who, t, nullptr)});
    entries.push_back({who.user_id, t.id, audit_action(events::kTaskCreated), who.request_id,
                       snapshot_changes(t, /*created=*/true)});
  }
  events::append_many(w, events);
  audit::record_many(w, entries);
  for (std::size_t k = 0; k < stored.size(); ++k)
    out[plain_at[k]] = std::move(stored[k]);
  return out;
}

Task get(pqxx::transaction_base& w, const std::string& user_id, const std::string& id) {
  auto t = repository::find(w, user_id, id);
  if (!t) throw not_found(id);
  return *t;
}

boost::asio::awaitable<Task> get(db::Reader& db, const std::string& user_id, const std::string& id) {
  auto t = co_await repository::find(db, user_id, id);
  if (!t) throw not_found(id);
  co_return std::move(*t);
}

Task update(pqxx::transaction_base& w, const Actor& who, const std::string& id, const TaskPatch& patch,
            const Expected& expected, Scope scope) {
  const Expected wanted = expected.with_body(patch.version);
  Instant at;
  Task t = locked(w, who.user_id, id, at);
  wanted.check(t.version);
  const bool was_open = t.status == Status::open;
  const bool had_rule = t.recurrence.has_value();
  const Task unpatched = t;
  auto changes = apply_patch(t, patch, at);
  check_rule_settings(t, patch, unpatched);
  // A series-wide edit reaches the following occurrences even when this one already has every given value
  // (after a "this" edit of it, say): they may not.
  if (changes.empty() && !(scope == Scope::series && t.series_id)) return t;
  check_recurring(t);
  const Task before_series = t;
  const bool recurs_anew = !had_rule && t.recurrence && t.series_id && leave_ended_series(w, who.user_id, t);
  join_series(t);
  note_series_changes(changes, before_series, t);
  // The following occurrences are made anew only when the schedule they follow changes: a new rule, mode or
  // zone, or a due_at of this occurrence off its own instant of the schedule: moved now (onto another instant
  // of the rule too: it is another occurrence's), or by an earlier "this" edit (off the rule, or onto another
  // occurrence's instant). A series-wide PATCH that resends an occurrence's own due_at (a client saving the
  // whole form), or the same reschedule sent again, changes nothing: their ids and reminders stay.
  const auto moved = [&] {
    return std::any_of(changes.begin(), changes.end(), [](const Change& c) { return c.field == "due_at"; });
  };
  // An after_completion series has no instants to be off: its next occurrence is an interval after a
  // completion, so only a new rule, mode, zone or due_at changes its schedule (a form resending the due_at
  // along with a new title recreated the following occurrence, at a new time and with a new id).
  const auto off_schedule = [&] {
    return t.recurrence_mode == RecurrenceMode::fixed &&
           !recurring::on_schedule(t, repository::series_tasks(w, who.user_id, *t.series_id));
  };
  const bool series_wide = scope == Scope::series && t.series_id && changes_schedule(patch) &&
                           (changes_rule(changes) || moved() || off_schedule());
  const bool new_anchor = series_wide && t.series_start != t.due_at;
  if (series_wide) t.series_start = t.due_at;  // the new schedule starts here
  if (new_anchor || changes_rule(changes)) check_occurs(t);
  Task saved = t;
  if (!changes.empty())
    saved = save_and_record(w, who, t, changes);
  else if (new_anchor)
    repository::set_series_start(w, t);  // nothing the API shows changed: no event, no new version
  // Its own series id may have named a series before (it left it, alone): numbered from 0 again.
  if (recurs_anew) repository::reset_series_highest(w, who.user_id, *saved.series_id);
  if (scope == Scope::series && saved.series_id) {
    repository::lock_series(w, who.user_id, *saved.series_id);
    const TaskPatch content = content_of(patch);
    for (auto& other : repository::series_tasks(w, who.user_id, *saved.series_id)) {
      if (other.id == saved.id || other.status != Status::open ||
          other.occurrence.value_or(0) < saved.occurrence.value_or(0))
        continue;
      if (series_wide) {
        // Replaced by occurrences of the new schedule below; one that left the schedule (a "this" edit
        // removed its rule) is no place of it: it stays, with its edits and reminders.
        if (other.recurrence) delete_and_record(w, who, other);
        continue;
      }
      const auto other_changes = apply_patch(other, content, at);
      if (!other_changes.empty()) save_and_record(w, who, other, other_changes);
    }
    // The new schedule replaces the following occurrences, skipped ones included: it numbers its own after
    // the highest one left.
    if (series_wide) repository::reset_series_highest(w, who.user_id, *saved.series_id);
    // No rule for this and the following ones: the series stops here. Its following open occurrences are gone
    // (above); the other ones keep their place and lose their rule, so that completing an earlier one, or
    // reopening and completing a done one, creates nothing after it.
    if (had_rule && !saved.recurrence)
      for (const auto& other : repository::series_tasks(w, who.user_id, *saved.series_id))
        if (other.id != saved.id && other.recurrence) clear_rule(w, who, other, at);
  }
  // A completed occurrence, a new schedule or a new generate_ahead (which the later open occurrences take):
  // top the series up.
  if ((was_open && saved.status == Status::done) || series_wide || patch.generate_ahead || patch.recurrence)
    extend_series(w, who, saved, at, /*skipping=*/false, /*new_ahead=*/patch.generate_ahead.has_value());
  return saved;
}

Task complete(pqxx::transaction_base& w, const Actor& who, const std::string& id, const Expected& expected) {
  return set_status(w, who, id, Status::done, expected);
}

Task reopen(pqxx::transaction_base& w, const Actor& who, const std::string& id, const Expected& expected) {
  return set_status(w, who, id, Status::open, expected);
}

void remove(pqxx::transaction_base& w, const Actor& who, const std::string& id, const Expected& expected,
            Scope scope) {
  Instant at;
  const Task t = locked(w, who.user_id, id, at);
  expected.check(t.version);
  // Skipping an occurrence: the series goes on. The next occurrence is created before this one is deleted,
  // while its reminders (which the delete cascades to) can still be copied.
  if (t.series_id && scope == Scope::this_occurrence && t.status == Status::open)
    extend_series(w, who, t, at, /*skipping=*/true);
  delete_and_record(w, who, t);
  if (t.series_id && scope == Scope::series) end_series(w, who, *t.series_id, at);
}

Withdrawal withdraw(pqxx::transaction_base& w, const Actor& who, const std::string& series_id,
                    const std::vector<std::pair<std::string, int>>& created,
                    const std::optional<repository::SeriesHighest>& before) {
  repository::lock_series(w, who.user_id, series_id);
  std::map<int, Task> untouched;  // by occurrence
  for (const auto& [id, version] : created) {
    const auto t = repository::find_for_update(w, who.user_id, id);
    if (t && t->series_id == series_id && t->status == Status::open && t->version == version && t->occurrence)
      untouched.emplace(*t->occurrence, *t);
  }
  Withdrawal out;
  if (untouched.empty()) return out;
  // The series' highest occurrence, and the ones that exist.
  int n = -1;
  std::set<int> existing;
  for (const auto& t : repository::series_tasks(w, who.user_id, series_id)) {
    existing.insert(t.occurrence.value_or(0));
    n = std::max(n, t.occurrence.value_or(0));
  }
  if (const auto high = repository::series_highest(w, who.user_id, series_id))
    n = std::max(n, high->occurrence);
  // From the top down, the ones still as created; below them, one that exists or one the record before the
  // completion covers (an occurrence skipped since, between them, would come back with its number and time).
  std::vector<Task> top;
  for (auto it = untouched.find(n); it != untouched.end(); it = untouched.find(--n))
    top.push_back(it->second);
  if (!existing.contains(n) && !(before && before->occurrence >= n)) top.clear();
  for (const auto& [occurrence, t] : untouched) {
    const bool taken = !top.empty() && occurrence >= top.back().occurrence.value_or(0);
    (taken ? out.withdrawn : out.passed).push_back(t);
  }
  if (out.withdrawn.empty()) return out;
  for (const auto& t : top)
    delete_and_record(w, who, t);
  // Back to the highest occurrence left (its due time as it is now), or to the record before the completion
  // when that is higher (an occurrence skipped before it).
  repository::reset_series_highest(w, who.user_id, series_id);
  const auto left = repository::series_highest(w, who.user_id, series_id);
  if (!before || (left && left->occurrence >= before->occurrence)) return out;
  Task record;
  record.user_id = who.user_id;
  record.series_id = series_id;
  record.occurrence = before->occurrence;
  record.due_at = before->due_at;
  repository::note_occurrence(w, record);
  return out;
}

Task restore_occurrence(pqxx::transaction_base& w, const Actor& who, const NewTask& request,
                        const std::optional<std::string>& series_id, int occurrence, Instant series_start,
                        const std::optional<repository::SeriesHighest>& highest) {
  Task t = new_task(who, request);  // in a series of its own, when it recurs
  if (t.series_id) {
    if (series_id) t.series_id = *series_id;
    t.occurrence = occurrence;
    t.series_start = series_start;
  }
  const Task stored = insert_and_record(w, who, t);
  if (stored.series_id && highest) {
    Task record = stored;
    record.occurrence = highest->occurrence;
    record.due_at = highest->due_at;
    repository::note_occurrence(w, record);  // kept only when higher than the occurrences re-created
  }
  return stored;
}

void set_copy_reminders(CopyReminders fn) {
  copy_reminders_hook = fn;
}

// The series' real upcoming occurrences, not the task's own schedule, which a "this and following" edit of a
// later occurrence may have replaced: the occurrences created after the task, open ones and ones done early
// (before the ones ahead of them: they are still occurrences of the series, listed with their state), then
// those that topping the series up would create, from the latest open one (whose rule and anchor the new ones
// copy, see extend_series), numbered and timed after the highest one created, a skipped or deleted one
// included (as extend_series's `prev`).
std::vector<Occurrence> occurrence_list(pqxx::transaction_base& w, const std::string& user_id,
                                        const std::string& id, std::size_t count) {
  const Task t = get(w, user_id, id);
  const Instant at = now();
  std::vector<Occurrence> out;
  const auto project = [&](const Task& from) {
    if (out.size() >= count) return;
    for (const Instant next : recurring::upcoming(from, at, count - out.size()))
      out.push_back({next, std::nullopt, std::nullopt, std::nullopt});
  };
  if (!t.recurrence || !t.series_id || !t.due_at) {
    project(t);
    return out;
  }
  const Task* latest = &t;   // the latest open occurrence: what new ones copy
  const Task* highest = &t;  // the highest occurrence created: what new ones come after
  const auto all = repository::series_tasks(w, user_id, *t.series_id);
  for (const auto& other : all) {
    if (!other.recurrence || !other.due_at || other.occurrence.value_or(0) <= t.occurrence.value_or(0))
      continue;
    if (other.status == Status::open) latest = &other;
    highest = &other;
    if (*other.due_at > recurring::still_to_come_after(other, at) && out.size() < count)
      out.push_back({*other.due_at, other.id, other.occurrence, other.status});
  }
  int top = highest->occurrence.value_or(0);
  Instant top_due = *highest->due_at;
  if (const auto high = repository::series_highest(w, user_id, *t.series_id);
      high && high->occurrence > top) {
    top = high->occurrence;
    if (high->due_at) top_due = std::max(top_due, *high->due_at);
  }
  Task from = *latest;
  if (top > latest->occurrence.value_or(0)) {
    from.occurrence = top;
    from.due_at = std::max(*latest->due_at, top_due);
  }
  project(from);
  return out;
}

std::vector<Instant> occurrences(pqxx::transaction_base& w, const std::string& user_id, const std::string& id,
                                 std::size_t count) {
  std::vector<Instant> out;
  for (const auto& o : occurrence_list(w, user_id, id, count))
    out.push_back(o.due_at);
  return out;
}

repository::Page list(pqxx::transaction_base& w, const std::string& user_id, const ListQuery& q) {
  return repository::list(w, user_id, q);
}

boost::asio::awaitable<repository::Page> list(db::Reader& db, const std::string& user_id,
                                              const ListQuery& q) {
  co_return co_await repository::list(db, user_id, q);
}

boost::asio::awaitable<std::optional<std::int64_t>> list_version(db::Reader& db, const std::string& user_id) {
  co_return co_await repository::list_version(db, user_id);
}

}  // namespace todo::tasks::service

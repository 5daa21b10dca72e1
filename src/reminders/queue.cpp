// The schedulers' SQL.
#include "todo/reminders/queue.hpp"

#include <algorithm>

#include "todo/db/statements.hpp"
#include "todo/events/event.hpp"
#include "todo/events/outbox.hpp"

namespace todo::reminders::queue {
namespace {

// One statement claims and fires: the due rows are locked SKIP LOCKED (another replica takes the next ones),
// and the state leaves 'scheduled' in the transaction that writes the fired event.
const db::Statement kFireDue{
    "reminders_fire_due",
    "WITH due AS (SELECT user_id, id FROM reminders WHERE state = 'scheduled' AND fire_at <= now() "
    "ORDER BY fire_at, user_id LIMIT $1 FOR UPDATE SKIP LOCKED) "
    "UPDATE reminders r SET fired_at = clock_timestamp(), updated_at = now(), attempts = 0, last_error = "
    "NULL, "
    "claimed_by = NULL, next_attempt_at = NULL, "
    "email_pending = ($2 AND u.email_reminders), "
    "state = CASE WHEN $2 AND u.email_reminders THEN 'firing' ELSE 'delivered' END, "
    "lease_until = CASE WHEN $2 AND u.email_reminders THEN now() END, "
    "delivered_at = CASE WHEN $2 AND u.email_reminders THEN NULL ELSE clock_timestamp() END "
    "FROM due, tasks t, users u "
    "WHERE r.user_id = due.user_id AND r.id = due.id AND t.user_id = r.user_id AND t.id = r.task_id "
    "AND u.id = r.user_id "
    "RETURNING r.user_id, r.id, r.task_id, r.fire_at, r.fired_at, "
    "extract(epoch FROM r.fired_at - r.fire_at)::float8, r.email_pending, t.title, t.due_at, r.at, "
    "r.before_due, "
    "r.snoozed"};
const db::Statement kNextDue{
    "reminders_next_due",
    "SELECT extract(epoch FROM min(fire_at) - clock_timestamp())::float8 FROM reminders "
    "WHERE state = 'scheduled' AND fire_at IS NOT NULL"};
const db::Statement kNotifyMail{"reminders_notify_mail", "SELECT pg_notify('todo_reminder_mail', '')"};
const db::Statement kClaimMail{
    "reminders_claim_mail",
    "WITH j AS (SELECT user_id, id FROM reminders WHERE state = 'firing' AND lease_until <= now() "
    "ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED) "
    "UPDATE reminders r SET claimed_by = $1, lease_until = now() + $2::interval, attempts = r.attempts + 1, "
    "next_attempt_at = NULL, updated_at = now() "
    "FROM j, tasks t, users u "
    "WHERE r.user_id = j.user_id AND r.id = j.id AND t.user_id = r.user_id AND t.id = r.task_id "
    "AND u.id = r.user_id "
    "RETURNING r.user_id, r.id, r.task_id, t.title, t.description, t.due_at, t.timezone, r.fire_at, u.email, "
    "u.display_name, r.attempts, t.all_day"};
const db::Statement kNextMail{"reminders_next_mail",
                              "SELECT extract(epoch FROM min(lease_until) - clock_timestamp())::float8 "
                              "FROM reminders WHERE state = 'firing'"};
const db::Statement kMailSent{
    "reminders_mail_sent",
    "UPDATE reminders SET state = 'delivered', delivered_at = now(), email_pending = false, lease_until = "
    "NULL, "
    "last_error = NULL, updated_at = now() "
    "WHERE user_id = $1 AND id = $2 AND state = 'firing' AND claimed_by = $3 AND fire_at = $4::timestamptz"};
const db::Statement kMailFailed{
    "reminders_mail_failed",
    "UPDATE reminders SET last_error = $4, updated_at = now(), "
    "state = CASE WHEN attempts >= $5 THEN 'failed' ELSE 'firing' END, "
    "email_pending = attempts < $5, "
    "lease_until = CASE WHEN attempts >= $5 THEN NULL ELSE now() + $6::interval END, "
    "next_attempt_at = CASE WHEN attempts >= $5 THEN NULL ELSE now() + $6::interval END "
    "WHERE user_id = $1 AND id = $2 AND state = 'firing' AND claimed_by = $3 AND fire_at = $7::timestamptz "
    "RETURNING state"};
// The e-mail of a firing ended (delivered, or failed for good) while its task's due_at had moved (rearm_at,
// set by the reminders_rearm_firing trigger): the reminder is scheduled again at the new time, cancelled when
// the task is done by now (reopening restores it), or missed when the new time passed while the e-mail was
// being tried (a moved reminder is never fired late), with nothing left of the firing that ended
// (delivered_at included: it is not delivered at the new time).
const db::Statement kRearm{
    "reminders_rearm",
    "UPDATE reminders r SET fire_at = r.rearm_at, rearm_at = NULL, snoozed = false, fired_at = NULL, "
    "delivered_at = NULL, "
    "state = CASE WHEN t.status = 'done' THEN 'cancelled' WHEN r.rearm_at <= now() THEN 'missed' "
    "ELSE 'scheduled' END, attempts = 0, last_error = NULL, "
    "email_pending = false, claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL, updated_at = "
    "now() "
    "FROM tasks t WHERE r.user_id = $1 AND r.id = $2 AND r.state IN ('delivered', 'failed') "
    "AND r.rearm_at IS NOT NULL AND t.user_id = r.user_id AND t.id = r.task_id"};
const db::Registration kRegistered{kFireDue,  kNextDue,  kNotifyMail, kClaimMail,
                                   kNextMail, kMailSent, kMailFailed, kRearm};

std::string interval(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " milliseconds";
}

std::optional<double> seconds(const pqxx::result& r) {
  if (r.empty() || r[0][0].is_null()) return std::nullopt;
  return r[0][0].as<double>();
}

}  // namespace

std::vector<Fired> fire_due(pqxx::transaction_base& w, int limit, bool email_enabled) {
  auto res = w.exec_prepared(kFireDue.name, limit, email_enabled);
  std::vector<Fired> out;
  std::vector<events::NewEvent> fired_events;
  out.reserve(res.size());
  bool mail = false;
  for (const auto& row : res) {
    Fired f;
    f.user_id = row[0].c_str();
    f.id = row[1].c_str();
    f.task_id = row[2].c_str();
    f.fire_at = db::instant(row[3]);
    f.fired_at = db::instant(row[4]);
    f.delay_seconds = row[5].as<double>();
    f.email = row[6].as<bool>();
    const auto due = db::optional_instant(row[8]);
    const auto at = db::optional_instant(row[9]);
    nlohmann::json data = {
        {"user_id", f.user_id},
        {"reminder_id", f.id},
        {"task_id", f.task_id},
        {"title", row[7].c_str()},
        {"due_at", due ? nlohmann::json(format_rfc3339(*due)) : nlohmann::json(nullptr)},
        {"at", at ? nlohmann::json(format_rfc3339(*at)) : nlohmann::json(nullptr)},
        {"before_due", row[10].is_null() ? nlohmann::json(nullptr) : nlohmann::json(row[10].c_str())},
        {"snoozed", row[11].as<bool>()},
        {"fire_at", format_rfc3339(f.fire_at)},
        {"fired_at", format_rfc3339(f.fired_at)},
        {"email", f.email}};
    fired_events.push_back({f.user_id, events::kReminderFired, f.task_id,
                            data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    mail = mail || f.email;
    out.push_back(std::move(f));
  }
  // One statement for the batch; the relay numbers the events once this commits.
  events::append_many(w, fired_events);
  if (mail) w.exec_prepared(kNotifyMail.name);
  return out;
}

std::optional<double> next_due_in(pqxx::transaction_base& w) {
  return seconds(w.exec_prepared(kNextDue.name));
}

std::vector<MailJob> claim_mail(pqxx::transaction_base& w, const std::string& replica,
                                std::chrono::milliseconds lease, int limit) {
  std::vector<MailJob> out;
  for (const auto& row : w.exec_prepared(kClaimMail.name, replica, interval(lease), limit)) {
    MailJob j;
    j.user_id = row[0].c_str();
    j.id = row[1].c_str();
    j.task_id = row[2].c_str();
    j.title = row[3].c_str();
    j.description = row[4].c_str();
    j.due_at = db::optional_instant(row[5]);
    j.timezone = row[6].c_str();
    j.fire_at = db::instant(row[7]);
    j.to = row[8].c_str();
    j.display_name = row[9].c_str();
    j.attempts = row[10].as<int>();
    j.all_day = row[11].as<bool>();
    out.push_back(std::move(j));
  }
  return out;
}

std::optional<double> next_mail_in(pqxx::transaction_base& w) {
  return seconds(w.exec_prepared(kNextMail.name));
}

bool mail_sent(pqxx::transaction_base& w, const MailJob& job, const std::string& replica) {
  const bool sent =
      w.exec_prepared(kMailSent.name, job.user_id, job.id, replica, to_pg_timestamptz(job.fire_at))
          .affected_rows() > 0;
  if (sent) w.exec_prepared(kRearm.name, job.user_id, job.id);
  return sent;
}

bool mail_failed(pqxx::transaction_base& w, const MailJob& job, const std::string& replica,
                 const std::string& error, int max_attempts, std::chrono::milliseconds retry_in) {
  auto res = w.exec_prepared(kMailFailed.name, job.user_id, job.id, replica, error, max_attempts,
                             interval(retry_in), to_pg_timestamptz(job.fire_at));
  const bool failed = !res.empty() && std::string_view(res[0][0].c_str()) == "failed";
  if (failed) w.exec_prepared(kRearm.name, job.user_id, job.id);
  return failed;
}

}  // namespace todo::reminders::queue

// The schedulers' SQL: firing due reminders and leasing their e-mails, across users (like the outbox relay,
// the one place that works on every user's rows: each statement claims rows FOR UPDATE SKIP LOCKED so that
// any number of replicas can run it at once).
#pragma once

#include <chrono>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/core/time.hpp"

namespace todo::reminders::queue {

/// The channels the schedulers LISTEN on: new fire times (from a trigger), and fired reminders owing e-mails.
inline constexpr const char* kDueChannel = "todo_reminders";
inline constexpr const char* kMailChannel = "todo_reminder_mail";

/// A reminder fired by fire_due.
struct Fired {
  std::string user_id;
  std::string id;
  std::string task_id;
  Instant fire_at{};
  Instant fired_at{};
  double delay_seconds = 0;  // fired_at - fire_at
  bool email = false;        // an e-mail is owed: left in state firing for the mailers
};

/// In the caller's transaction: claims up to `limit` scheduled reminders due by now (oldest first, FOR UPDATE
/// SKIP LOCKED), writes each one's com.todo.reminder.fired event to the outbox, and moves it to delivered —
/// or, when `email_enabled` and the user wants e-mails, to firing with an e-mail owed (NOTIFY kMailChannel).
/// Commit and the reminders are fired exactly once; roll back and nothing happened.
std::vector<Fired> fire_due(pqxx::transaction_base& w, int limit, bool email_enabled);

/// Seconds until the earliest scheduled reminder is due (≤ 0: due now); nullopt when none is scheduled.
std::optional<double> next_due_in(pqxx::transaction_base& w);

/// An e-mail to send for a fired reminder, leased to one replica.
struct MailJob {
  std::string user_id;
  std::string id;
  std::string task_id;
  std::string title;
  std::string description;
  std::optional<Instant> due_at;
  std::string timezone;
  bool all_day = false;
  Instant fire_at{};
  std::string to;
  std::string display_name;
  int attempts = 0;  // including this one
};

/// Leases up to `limit` owed e-mails whose lease has run out (new ones, retries after their backoff, and
/// those of a replica that died) to `replica` for `lease`, counting an attempt each.
std::vector<MailJob> claim_mail(pqxx::transaction_base& w, const std::string& replica,
                                std::chrono::milliseconds lease, int limit);
/// Seconds until the next lease runs out; nullopt when no e-mail is owed.
std::optional<double> next_mail_in(pqxx::transaction_base& w);
/// The e-mail went out: delivered. False when the lease was lost meanwhile (another replica has it).
/// When the task's due_at moved while the e-mail was being sent, the reminder is then scheduled again at its
/// new fire time (rearm_at) instead of staying delivered (cancelled if the task is done, missed if that time
/// has passed by now); mail_failed does the same once it is failed.
bool mail_sent(pqxx::transaction_base& w, const MailJob& job, const std::string& replica);
/// The attempt failed with `error`: retried after `retry_in`, or failed for good once `max_attempts` are
/// used. Returns true when it is now failed.
bool mail_failed(pqxx::transaction_base& w, const MailJob& job, const std::string& replica,
                 const std::string& error, int max_attempts, std::chrono::milliseconds retry_in);

}  // namespace todo::reminders::queue

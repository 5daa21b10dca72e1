// The reminder scheduler of one replica: fires due reminders on time, exactly once across replicas, and sends
// the e-mails they owe with retries.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "todo/reminders/smtp.hpp"

namespace todo::metrics {
class Registry;
}

namespace todo::reminders {

struct SchedulerOptions {
  std::string conninfo;
  std::string replica;  // claimed_by: who holds an e-mail lease (host, pid, random)
  int batch = 500;      // reminders fired per transaction
  SmtpOptions smtp;     // url empty: no e-mail
  int mailers = 4;      // sending threads (and database connections) when e-mail is on
  int mail_batch = 1;   // e-mails leased per claim: each is leased right before it is sent
  std::chrono::milliseconds lease{60'000};   // an e-mail attempt's lease; after it another replica retries
  int max_attempts = 5;                      // e-mail attempts before failed
  std::chrono::milliseconds backoff{2'000};  // the first retry's delay, doubled each time
  std::chrono::milliseconds max_backoff{600'000};  // the longest retry delay
  std::chrono::milliseconds safety_wake{60'000};   // longest sleep without a NOTIFY (re-plan)
};

/// One thread waits for the earliest due reminder (LISTEN todo_reminders re-plans the wait when fire times
/// change) and fires what is due in batches, each batch one transaction (claim FOR UPDATE SKIP LOCKED, outbox
/// event, state). With SMTP configured, `mailers` threads lease owed e-mails, send them, and record
/// delivered, a retry with exponential backoff, or failed with the last error. A replica that dies holding
/// leases loses them when they run out and another replica retries those e-mails (with the same Message-ID).
class Scheduler {
 public:
  Scheduler(SchedulerOptions options, metrics::Registry& registry);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  void stop();

  struct Metrics;

 private:
  void run_firing();
  void run_mailer(int index);
  void wake_mailers();

  SchedulerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable mail_cv_;
  std::uint64_t mail_generation_ = 0;
  std::thread firing_;
  std::vector<std::thread> mailers_;
};

/// How long to wait before retrying an e-mail whose attempt number `attempts` (1 = the first) failed: `first`
/// after the first attempt, doubled after each further one, never more than `max` (nor less than zero).
std::chrono::milliseconds retry_backoff(int attempts, std::chrono::milliseconds first,
                                        std::chrono::milliseconds max);

/// The reminder's e-mail Message-ID, `<reminder-{id}-{fire_at epoch seconds}.{microseconds}@todo-server>`:
/// the same for every attempt (and every replica) at one firing, so duplicates after a crash are
/// recognisable, and another for every firing, also one moved within the same second.
std::string message_id(const std::string& reminder_id, Instant fire_at);

/// A reminder e-mail's due time in the task's zone, "2026-03-05 09:00 CET" (recurrence::Zone: DST after 2037
/// too), or for an all-day task its day there alone, "2026-03-05 (all day)"; in UTC when the zone is unknown.
std::string due_text(Instant t, const std::string& zone, bool all_day = false);

}  // namespace todo::reminders

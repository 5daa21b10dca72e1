// Reminder scheduler: exact wake-ups, batched firing, leased e-mail delivery with retries.
#include "todo/reminders/scheduler.hpp"

#include <date/date.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <pqxx/pqxx>

#include "todo/core/log.hpp"
#include "todo/db/commit_signals.hpp"
#include "todo/db/statements.hpp"
#include "todo/metrics/registry.hpp"
#include "todo/recurrence/zone.hpp"
#include "todo/reminders/queue.hpp"

namespace todo::reminders {
namespace {

using Clock = std::chrono::steady_clock;

/// Counts NOTIFYs on one channel and optionally calls back.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const char* channel, std::function<void()> on)
      : pqxx::notification_receiver(c, channel), on_(std::move(on)) {}
  void operator()(const std::string&, int) override {
    if (on_) on_();
  }

 private:
  std::function<void()> on_;
};

std::unique_ptr<pqxx::connection> connect(const std::string& conninfo, const char* application) {
  auto c = std::make_unique<pqxx::connection>(conninfo);
  db::prepare_session(*c);
  pqxx::nontransaction n(*c);
  n.exec(std::string("SET application_name = '") + application + "'");
  return c;
}

Mail reminder_mail(const queue::MailJob& j, const std::string& from, const std::string& replica) {
  Mail m;
  m.from = from;
  m.to = j.to;
  m.to_name = j.display_name;
  m.subject = "Reminder: " + j.title;
  m.message_id = message_id(j.id, j.fire_at);
  m.date = now();
  m.headers = {{"X-Todo-Reminder-Id", j.id},
               {"X-Todo-Task-Id", j.task_id},
               {"X-Todo-Sender", replica},
               {"Auto-Submitted", "auto-generated"}};
  const std::string due = j.due_at ? due_text(*j.due_at, j.timezone, j.all_day) : std::string();
  const std::string greeting = j.display_name.empty() ? "Hello," : "Hello " + j.display_name + ",";
  m.text = greeting + "\n\nThis is your reminder for: " + j.title + "\n";
  if (!due.empty()) m.text += "Due: " + due + "\n";
  if (!j.description.empty()) m.text += "\n" + j.description + "\n";
  m.text += "\n-- \ntodo-server\n";
  m.html = "<!DOCTYPE html><html><body><p>" + html_escape(greeting) +
           "</p><p>This is your reminder for: <strong>" + html_escape(j.title) + "</strong></p>";
  if (!due.empty()) m.html += "<p>Due: " + html_escape(due) + "</p>";
  if (!j.description.empty())
    m.html += "<p style=\"white-space: pre-wrap\">" + html_escape(j.description) + "</p>";
  m.html += "<p style=\"color: #888\">todo-server</p></body></html>\n";
  return m;
}

}  // namespace

std::chrono::milliseconds retry_backoff(int attempts, std::chrono::milliseconds first,
                                        std::chrono::milliseconds max) {
  max = std::max(max, std::chrono::milliseconds::zero());
  auto d = std::clamp(first, std::chrono::milliseconds::zero(), max);
  // Stops doubling at the cap (and for a zero delay, which doubling never changes): no overflow.
  for (int i = 1; i < attempts && d < max && d.count() > 0; ++i)
    d = std::min(d * 2, max);
  return d;
}

std::string due_text(Instant t, const std::string& zone, bool all_day) {
  try {
    // recurrence::Zone, not the date library's zoned_time: that has no DST after 2037.
    const auto& z = recurrence::zone(zone);
    if (all_day) return date::format("%Y-%m-%d (all day)", std::chrono::floor<date::days>(z.to_local(t)));
    return date::format("%Y-%m-%d %H:%M ", std::chrono::floor<std::chrono::minutes>(z.to_local(t))) +
           z.abbreviation(t);
  } catch (const std::exception&) {
    return date::format("%Y-%m-%d %H:%M UTC", std::chrono::floor<std::chrono::minutes>(t));
  }
}

std::string message_id(const std::string& reminder_id, Instant fire_at) {
  const auto since_epoch = fire_at.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  char frac[24];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>((since_epoch - seconds).count()));
  return "<reminder-" + reminder_id + "-" + std::to_string(seconds.count()) + frac + "@todo-server>";
}

struct Scheduler::Metrics {
  explicit Metrics(metrics::Registry& r)
      : fired(r.counter("reminders_fired_total", "Reminders fired (their reminder.fired event written)")
                  .with({})),
        failed(r.counter("reminders_failed_total", "Reminders failed: e-mail retries exhausted").with({})),
        delay(r.histogram("reminder_fire_delay_seconds", "Actual minus due time of fired reminders", {},
                          {0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
                  .with({})),
        emails(
            r.counter("reminder_emails_sent_total", "Reminder e-mails accepted by the SMTP server").with({})),
        email_errors(
            r.counter("reminder_email_errors_total", "Reminder e-mail attempts that failed (retried or not)")
                .with({})) {}
  metrics::Counter& fired;
  metrics::Counter& failed;
  metrics::Histogram& delay;
  metrics::Counter& emails;
  metrics::Counter& email_errors;
};

Scheduler::Scheduler(SchedulerOptions options, metrics::Registry& registry)
    : options_(std::move(options)), metrics_(std::make_unique<Metrics>(registry)) {}

Scheduler::~Scheduler() {
  stop();
}

void Scheduler::start() {
  firing_ = std::thread([this] { run_firing(); });
  if (!options_.smtp.url.empty())
    for (int i = 0; i < options_.mailers; ++i)
      mailers_.emplace_back([this, i] { run_mailer(i); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  mail_cv_.notify_all();
  if (firing_.joinable()) firing_.join();
  for (auto& t : mailers_)
    if (t.joinable()) t.join();
  mailers_.clear();
}

void Scheduler::wake_mailers() {
  {
    std::lock_guard lock(mutex_);
    ++mail_generation_;
  }
  mail_cv_.notify_all();
}

void Scheduler::run_firing() {
  const bool email = !options_.smtp.url.empty();
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Receiver> due_receiver, mail_receiver;
  int notified = 0;
  std::chrono::milliseconds retry{100};
  while (!stopping_.load()) {
    try {
      if (!conn || !conn->is_open()) {
        mail_receiver.reset();
        due_receiver.reset();
        conn = connect(options_.conninfo, "todo-reminders");
        due_receiver = std::make_unique<Receiver>(*conn, queue::kDueChannel, [&notified] { ++notified; });
        mail_receiver = std::make_unique<Receiver>(*conn, queue::kMailChannel, [this] { wake_mailers(); });
        spdlog::info("reminder scheduler connected");
      }
      // Fire everything due, a batch a transaction.
      std::size_t fired_now = 0;
      for (;;) {
        db::discard_commit_signals();
        pqxx::work w(*conn);
        auto fired = queue::fire_due(w, options_.batch, email);
        w.commit();
        db::send_commit_signals(*conn);  // wakes the outbox relay for the fired events
        bool mail = false;
        for (const auto& f : fired) {
          metrics_->delay.observe(std::max(0.0, f.delay_seconds));
          mail = mail || f.email;
        }
        metrics_->fired.inc(static_cast<double>(fired.size()));
        if (mail) wake_mailers();
        fired_now += fired.size();
        if (static_cast<int>(fired.size()) < options_.batch || stopping_.load()) break;
      }
      // Sleep until the next one is due, or a NOTIFY says the plan changed.
      std::optional<double> next;
      {
        pqxx::nontransaction n(*conn);
        next = queue::next_due_in(n);
      }
      double wait = next ? *next : std::chrono::duration<double>(options_.safety_wake).count();
      // Due now but nothing claimed: another replica holds those rows and is committing them.
      if (wait <= 0) wait = fired_now == 0 ? 0.002 : 0;
      wait = std::min(wait, std::chrono::duration<double>(options_.safety_wake).count());
      const auto deadline =
          Clock::now() + std::chrono::microseconds(static_cast<long long>(std::ceil(wait * 1e6)));
      notified = 0;
      conn->get_notifs();
      while (notified == 0 && !stopping_.load()) {
        const auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
        if (left.count() <= 0) break;
        // At most a second at a time, to notice stop().
        const long long us = std::min<long long>(left.count(), 1'000'000);
        conn->await_notification(static_cast<long>(us / 1'000'000), static_cast<long>(us % 1'000'000));
      }
      retry = std::chrono::milliseconds(100);
    } catch (const std::exception& e) {
      log::event(spdlog::level::warn, "reminder scheduler error; retrying",
                 {{"error", e.what()}, {"retry_in_ms", retry.count()}});
      if (conn && !conn->is_open()) {
        mail_receiver.reset();
        due_receiver.reset();
        conn.reset();
      }
      const auto until = Clock::now() + retry;
      while (Clock::now() < until && !stopping_.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      retry = std::min(retry * 2, std::chrono::milliseconds(5000));
    }
  }
  mail_receiver.reset();
  due_receiver.reset();
}

void Scheduler::run_mailer(int index) {
  std::unique_ptr<pqxx::connection> conn;
  SmtpClient smtp(options_.smtp);
  std::chrono::milliseconds retry{100};
  while (!stopping_.load()) {
    std::uint64_t seen;
    {
      std::lock_guard lock(mutex_);
      seen = mail_generation_;
    }
    try {
      if (!conn || !conn->is_open()) conn = connect(options_.conninfo, "todo-reminder-mail");
      std::vector<queue::MailJob> jobs;
      {
        pqxx::work w(*conn);
        jobs = queue::claim_mail(w, options_.replica, options_.lease, options_.mail_batch);
        w.commit();
      }
      if (jobs.empty()) {
        std::optional<double> next;
        {
          pqxx::nontransaction n(*conn);
          next = queue::next_mail_in(n);
        }
        const double safety = std::chrono::duration<double>(options_.safety_wake).count();
        double wait = std::min(next ? *next : safety, safety);
        if (wait <= 0) wait = 0.005;  // leased rows being committed elsewhere
        std::unique_lock lock(mutex_);
        mail_cv_.wait_for(lock, std::chrono::microseconds(static_cast<long long>(std::ceil(wait * 1e6))),
                          [&] { return stopping_.load() || mail_generation_ != seen; });
        continue;
      }
      for (const auto& job : jobs) {
        const Mail mail = reminder_mail(job, options_.smtp.from, options_.replica);
        const std::string error = smtp.send(job.to, compose(mail, "=_todo_" + job.id));
        pqxx::work w(*conn);
        if (error.empty()) {
          queue::mail_sent(w, job, options_.replica);
          w.commit();
          metrics_->emails.inc();
        } else {
          const bool failed =
              queue::mail_failed(w, job, options_.replica, error, options_.max_attempts,
                                 retry_backoff(job.attempts, options_.backoff, options_.max_backoff));
          w.commit();
          metrics_->email_errors.inc();
          if (failed) metrics_->failed.inc();
          log::event(
              failed ? spdlog::level::err : spdlog::level::warn,
              failed ? "reminder e-mail failed for good" : "reminder e-mail failed; will retry",
              {{"reminder_id", job.id}, {"attempt", job.attempts}, {"error", error}, {"mailer", index}});
        }
      }
      retry = std::chrono::milliseconds(100);
    } catch (const std::exception& e) {
      log::event(spdlog::level::warn, "reminder mailer error; retrying",
                 {{"error", e.what()}, {"retry_in_ms", retry.count()}, {"mailer", index}});
      if (conn && !conn->is_open()) conn.reset();
      const auto until = Clock::now() + retry;
      while (Clock::now() < until && !stopping_.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      retry = std::min(retry * 2, std::chrono::milliseconds(5000));
    }
  }
}

}  // namespace todo::reminders

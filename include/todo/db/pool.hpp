// db::Pool: N PostgreSQL connections, each on its own thread, so blocking libpqxx never runs on an io thread.
#pragma once

#include <atomic>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include "todo/core/error.hpp"
#include "todo/db/commit_signals.hpp"
#include "todo/db/statements.hpp"

namespace todo::db {

/// Error(unavailable) of a connection lost before a commit (nothing was written): its type, not its words,
/// tells it from the other 503s (Pool::is_lost_connection).
class LostConnection : public Error {
 public:
  LostConnection() : Error(Errc::unavailable, "the database is unavailable") {}
};

/// Runs database work on dedicated threads and resumes the awaiting coroutine on its own executor.
class Pool {
 public:
  /// `limits` apply to every connection of the pool (see SessionLimits); a statement they cancel fails its
  /// job with Error(unavailable). With `limits.answer`, a job the database has not answered within it from
  /// its submission fails with unanswered_error(): one still waiting for a connection is taken out of the
  /// queue, one waiting for a connection to open is answered at once (the connection goes on opening), and
  /// one running has its connection cut (shut down under libpq's feet): its blocked call fails as a lost
  /// connection, which PostgreSQL rolls back. A commit cut that way is in doubt, and looked up as any other
  /// (commit() below): an answer then waits up to kInDoubtPatience more. A new connection's session setup
  /// (time zone, limits, prepared statements) the database does not answer within `limits.answer` is cut
  /// too, and opened again for a later job.
  /// With `connect_now` false, the connections are opened by warm_up() or for the first jobs (before the
  /// schema is migrated, the statements they prepare cannot be).
  Pool(std::string conninfo, std::size_t size, SessionLimits limits = {}, bool connect_now = true);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Runs fn(pqxx::work&) in one transaction on a DB thread and commits it; exceptions propagate to the
  /// awaiter. A lost connection surfaces as todo::Error(Errc::unavailable) and is re-opened for the next job.
  /// The notifications it asked for (signal_after_commit) go out after the commit, through the pool's
  /// Notifier. A transaction that PostgreSQL rolled back to break a deadlock or a serialization conflict is
  /// run again from the start after a short random pause (2–10 ms, times the attempt), up to
  /// kTransactAttempts times in all (fn must only change the database); after the last, the awaiter gets
  /// Error(unavailable), a 503 with Retry-After. A commit whose answer is lost with the connection is in
  /// doubt: its outcome is looked up (commit() below) before anyone is answered, so a change that was
  /// written is never reported as failed (and retried by the client into a duplicate), nor one that was not
  /// as done. That costs one more round trip a transaction that writes: its transaction id, read before the
  /// commit. `since`: when the request asked for it (the answer timeout counts from then; a create batch's
  /// creates waited for a writer before it was submitted).
  template <class F>
  auto transact(F fn, std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now())
      -> boost::asio::awaitable<std::invoke_result_t<F&, pqxx::work&>> {
    using R = std::invoke_result_t<F&, pqxx::work&>;
    return run<R>(
        [this, fn = std::move(fn)](pqxx::connection& c) mutable -> R {
          for (int attempt = 1;; ++attempt) {
            discard_commit_signals();
            try {
              pqxx::work w(c);
              if constexpr (std::is_void_v<R>) {
                fn(w);
                commit(w);
                notifier_.post(take_commit_signals());
                return;
              } else {
                R r = fn(w);
                commit(w);
                notifier_.post(take_commit_signals());
                return r;
              }
            } catch (const pqxx::deadlock_detected& e) {
              retry_after_rollback("40P01", e, attempt);
            } catch (const pqxx::serialization_failure& e) {
              retry_after_rollback("40001", e, attempt);
            }
          }
        },
        since);
  }

  /// Runs fn(pqxx::transaction_base&) on a DB thread in autocommit mode: one round trip per statement, for
  /// reads that need no transaction (a single SELECT).
  template <class F>
  auto read(F fn) -> boost::asio::awaitable<std::invoke_result_t<F&, pqxx::transaction_base&>> {
    using R = std::invoke_result_t<F&, pqxx::transaction_base&>;
    return run<R>([fn = std::move(fn)](pqxx::connection& c) mutable -> R {
      pqxx::nontransaction n(c);
      return fn(n);
    });
  }

  /// Runs fn(pqxx::connection&) on a DB thread with no transaction of its own (health checks, LISTEN).
  template <class F>
  auto with_connection(F fn) -> boost::asio::awaitable<std::invoke_result_t<F&, pqxx::connection&>> {
    using R = std::invoke_result_t<F&, pqxx::connection&>;
    return run<R>(std::move(fn));
  }

  /// Opens every connection now, on the pool's threads (not waited for).
  void warm_up();

  /// Jobs waiting for a free connection (exported as a gauge).
  std::size_t queue_depth() const;
  std::size_t size() const { return threads_.size(); }
  /// Post-commit NOTIFY statements sent so far (several commits share one under load).
  std::size_t notifications_sent() const { return notifier_.sent(); }
  /// Post-commit signals that a listener in this process took, with no NOTIFY (Notifier::receive_locally).
  std::size_t notifications_delivered_locally() const { return notifier_.delivered_locally(); }
  /// Lets a listener in this process take `channel`'s post-commit signals directly (see Notifier).
  [[nodiscard]] Notifier::Receipt receive_locally(const char* channel, Notifier::Receiver receiver) {
    return notifier_.receive_locally(channel, std::move(receiver));
  }

  /// Attempts of a transaction that PostgreSQL keeps rolling back (deadlock, serialization failure).
  static constexpr int kTransactAttempts = 3;

  /// Commits `w`; when the connection is lost during the commit, finds out on a new connection whether the
  /// transaction committed (returns), was rolled back (Error(unavailable): nothing was written, try again),
  /// or cannot be told within kInDoubtPatience (Error(unavailable) saying so: read before trying again).
  /// The lookup never waits past kInDoubtPatience, for connecting or for its answer (a database that
  /// stopped answering held the thread for as long as it did).
  void commit(pqxx::work& w);
  /// How long a commit in doubt waits for the database to tell its outcome (it may be restarting: a crash
  /// restart takes a second or two). Short enough for a shutdown to stay within its 10 s.
  static constexpr std::chrono::seconds kInDoubtPatience{5};

  // Used by the job wrapper in run(); public because it is instantiated inside a lambda.
  [[noreturn]] static void throw_unavailable();
  /// After a deadlock or serialization failure (SQLSTATE 40P01, 40001) on attempt `attempt`: logs it and
  /// pauses before the next attempt, or throws Error(unavailable) when that was the last attempt.
  static void retry_after_rollback(const char* sqlstate, const std::exception& e, int attempt);
  /// Library exceptions become todo::Error where they have a client meaning (lost connection → unavailable).
  static std::exception_ptr translate(std::exception_ptr ep);
  static bool is_connection_error(std::exception_ptr ep);
  /// The error of a connection lost before a commit (translate(), throw_unavailable()): nothing was written.
  static bool is_lost_connection(std::exception_ptr ep);

 private:
  /// A job: runs on a DB thread with a live connection, or with nullptr when no connection can be made.
  /// run() returns false when the connection turned out to be broken and must be re-opened; deliver() then
  /// posts the outcome to the awaiting coroutine, once the thread is ready for more work.
  struct Job {
    virtual ~Job() = default;
    virtual bool run(pqxx::connection* c) = 0;
    virtual void deliver() = 0;
    /// Sets the outcome to `ep` without running.
    virtual void refuse(std::exception_ptr ep) = 0;
    /// After its connection was cut at the deadline: a lost connection (nothing was written) says so.
    virtual void cut_off(std::chrono::milliseconds answer) = 0;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    bool answered = false;  // by the watcher, while its connection was being opened (guarded by mutex_)
  };

  template <class R>
  struct CompletionOf {
    using type = void(std::exception_ptr, R);
  };
  template <class R>
  requires std::is_void_v<R>
  struct CompletionOf<R> {
    using type = void(std::exception_ptr);
  };

  // Not a coroutine itself: the job (and fn) move to the heap, never through a coroutine frame's parameters.
  template <class R, class Fn>
  boost::asio::awaitable<R> run(
      Fn fn, std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now()) {
    using Signature = typename CompletionOf<R>::type;
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), Signature>(
        [this, since, fn = std::move(fn)](auto handler) mutable {
          using Handler = decltype(handler);
          struct Impl final : Job {
            Fn fn;
            Handler handler;
            std::exception_ptr ep;
            std::optional<std::conditional_t<std::is_void_v<R>, std::monostate, R>> r;
            Impl(Fn f, Handler h) : fn(std::move(f)), handler(std::move(h)) {}
            bool run(pqxx::connection* c) override {
              try {
                if (!c) throw_unavailable();
                if constexpr (std::is_void_v<R>) {
                  fn(*c);
                } else {
                  r.emplace(fn(*c));
                }
              } catch (...) {
                ep = translate(std::current_exception());
              }
              return c && !is_connection_error(ep);
            }
            void refuse(std::exception_ptr e) override { ep = std::move(e); }
            void cut_off(std::chrono::milliseconds answer) override {
              if (is_lost_connection(ep)) ep = std::make_exception_ptr(unanswered_error(answer));
            }
            void deliver() override {
              auto ex = boost::asio::get_associated_executor(handler);
              boost::asio::post(ex, [h = std::move(handler), ep = ep, r = std::move(r)]() mutable {
                if constexpr (std::is_void_v<R>) {
                  std::move(h)(ep);
                } else {
                  std::move(h)(ep, r ? std::move(*r) : R{});
                }
              });
            }
          };
          submit(std::make_unique<Impl>(std::move(fn), std::move(handler)), since);
        },
        boost::asio::use_awaitable);
  }

  /// One connection's thread, while it waits for work.
  struct Idle {
    std::condition_variable cv;
    std::unique_ptr<Job> job;  // handed over by submit()
  };

  /// A job a worker runs, and the socket it runs on (-1 while its connection is being opened), for the
  /// watcher; guarded by mutex_.
  struct Running {
    Job* job = nullptr;
    int fd = -1;
    bool cut = false;  // the watcher shut the socket down
  };

  /// A connection of the worker's whose session is being set up, for the watcher; guarded by mutex_.
  struct Setup {
    int fd = -1;
    std::chrono::steady_clock::time_point until{};
    bool cut = false;  // the watcher shut the socket down
  };

  /// Queues the job, or hands it to an idle worker; one whose answer timeout (counted from `since`) is over
  /// already is refused at once.
  void submit(std::unique_ptr<Job> job, std::chrono::steady_clock::time_point since);
  /// Opens worker `index`'s connection and sets its session up (prepare_session). Connecting is bounded by
  /// libpq's connect_timeout; the setup, by the answer timeout (limits_.answer): the watcher cuts a setup the
  /// database does not answer, so the thread comes back to try again for its next job. Throws on failure.
  std::unique_ptr<pqxx::connection> open_connection(std::size_t index);
  void worker(std::size_t index);
  /// Fails the jobs past their deadline (limits_.answer), a few times a deadline.
  void watch();

  std::string conninfo_;
  SessionLimits limits_;
  bool connect_now_;
  Notifier notifier_{conninfo_};  // declared before the threads: it outlives every job
  mutable std::mutex mutex_;
  std::deque<std::unique_ptr<Job>> queue_;  // jobs waiting while every connection is busy
  // Waiting threads, the most recently idle last: a job goes to it, so the busy part of the pool stays on
  // the same few connections (their PostgreSQL backends keep their caches and page mappings warm) instead
  // of going round all of them.
  std::vector<Idle*> idle_;
  bool stopping_ = false;
  std::vector<Running> running_;  // one a worker
  std::vector<Setup> setups_;     // one a worker
  std::vector<std::thread> threads_;
  std::condition_variable watch_cv_;
  bool watch_stopping_ = false;
  std::thread watcher_;
};

}  // namespace todo::db

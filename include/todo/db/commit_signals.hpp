// Notifications sent just after a transaction commits, not inside it.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

namespace todo::db {

/// Asks for `NOTIFY <channel>` once the transaction running on this thread under Pool::transact has committed
/// (several requests for one channel make one notification). Unlike a NOTIFY inside the transaction, this
/// does not make the commit take PostgreSQL's database-wide notification lock, which would serialise every
/// notifying writer's commit and WAL flush. Nothing is sent for a transaction that rolls back.
void signal_after_commit(const char* channel);
/// Forgets the requests of a previous transaction (before a transaction starts).
void discard_commit_signals();
/// The requests of the transaction just committed, cleared.
std::vector<const char*> take_commit_signals();
/// Sends the requests of the transaction just committed on `c` itself (in a tiny transaction of its own with
/// synchronous_commit off: a lost notification costs only a later wake-up, never data). A failure to notify
/// is logged, never thrown: the data is committed.
void send_commit_signals(pqxx::connection& c);

/// Sends post-commit notifications from a thread and connection of its own, coalesced: while one NOTIFY is
/// on its way, the channels that committers ask for meanwhile are gathered and go out together in the next.
/// A committer only hands its channels over (no round trip of its own), and under load one notification
/// covers many commits; each commit's notification still leaves after that commit. Channel names must be
/// string literals (they are kept as pointers).
class Notifier {
 public:
  explicit Notifier(std::string conninfo);
  /// Sends what is pending, then stops.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void post(const std::vector<const char*>& channels);
  /// NOTIFY statements sent so far (for tests and metrics).
  std::size_t sent() const;

 private:
  void run();

  std::string conninfo_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<const char*> pending_;
  bool stopping_ = false;
  std::size_t sent_ = 0;
  std::thread thread_;
};

}  // namespace todo::db

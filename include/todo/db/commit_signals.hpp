// Notifications sent just after a transaction commits, not inside it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace todo::db {

/// A post-commit notification a transaction asked for: the channel, and which of its listeners' keys the
/// change concerns, as a bit mask whose meaning the channel's listeners define (the outbox: the events'
/// lanes). All bits set when the caller does not say.
struct CommitSignal {
  const char* channel;
  std::uint32_t keys;
};

/// Asks for `NOTIFY <channel>` once the transaction running on this thread under Pool::transact has committed
/// (several requests for one channel make one notification, their keys joined). Unlike a NOTIFY inside the
/// transaction, this does not make the commit take PostgreSQL's database-wide notification lock, which would
/// serialise every notifying writer's commit and WAL flush. Nothing is sent for a transaction that rolls
/// back. A listener in this process may take the signal instead (Notifier::receive_locally).
void signal_after_commit(const char* channel, std::uint32_t keys = ~std::uint32_t{0});
/// Forgets the requests of a previous transaction (before a transaction starts).
void discard_commit_signals();
/// The requests of the transaction just committed, cleared.
std::vector<CommitSignal> take_commit_signals();
/// Sends the requests of the transaction just committed on `c` itself (in a tiny transaction of its own with
/// synchronous_commit off: a lost notification costs only a later wake-up, never data). A failure to notify
/// is logged, never thrown: the data is committed.
void send_commit_signals(pqxx::connection& c);

/// Sends post-commit notifications from a thread and connection of its own, coalesced: while one NOTIFY is
/// on its way, the channels that committers ask for meanwhile are gathered and go out together in the next.
/// A committer only hands its channels over (no round trip of its own), and under load one notification
/// covers many commits; each commit's notification still leaves after that commit. Channel names must be
/// string literals (they are kept as pointers).
///
/// Listeners in this process can take a channel's signals directly (receive_locally): a signal whose keys
/// they all cover wakes them from the committing thread and sends no NOTIFY at all, which spares PostgreSQL a
/// notifying transaction and a wake-up of every listening backend a commit. Any key they do not cover (held
/// by another replica's listener) still goes out as a NOTIFY.
class Notifier {
 public:
  /// Wakes its listener for the keys it covers among those given, and returns those.
  using Receiver = std::function<std::uint32_t(std::uint32_t keys)>;

  /// Keeps a local receiver registered while it lives; destroyed, no call to the receiver is running or will
  /// be made.
  class Receipt {
   public:
    Receipt() = default;
    Receipt(Notifier* owner, std::uint64_t id) : owner_(owner), id_(id) {}
    Receipt(Receipt&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), id_(o.id_) {}
    Receipt& operator=(Receipt&& o) noexcept;
    Receipt(const Receipt&) = delete;
    Receipt& operator=(const Receipt&) = delete;
    ~Receipt();

   private:
    Notifier* owner_ = nullptr;
    std::uint64_t id_ = 0;
  };

  explicit Notifier(std::string conninfo);
  /// Sends what is pending, then stops.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void post(const std::vector<CommitSignal>& signals);
  /// Offers `channel`'s signals to `receiver` before sending them; several receivers may share a channel.
  [[nodiscard]] Receipt receive_locally(const char* channel, Receiver receiver);
  /// NOTIFY statements sent so far (for tests and metrics).
  std::size_t sent() const;
  /// Signals that local receivers took whole, with no NOTIFY.
  std::size_t delivered_locally() const;

 private:
  struct Local {
    std::uint64_t id;
    const char* channel;
    Receiver receiver;
  };

  void run();
  /// Whether local receivers covered every key of the signal (each woke for its share).
  bool deliver_locally(const CommitSignal& signal);
  void forget(std::uint64_t id);

  std::string conninfo_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<const char*> pending_;
  bool stopping_ = false;
  std::size_t sent_ = 0;
  std::size_t delivered_locally_ = 0;
  std::mutex locals_mutex_;  // held while a receiver runs, so that forget() waits for it
  std::vector<Local> locals_;
  std::uint64_t next_local_id_ = 1;
  std::thread thread_;
};

}  // namespace todo::db

// Group commit for task creates: the creates that arrive while others are being written share one
// transaction.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "todo/db/pool.hpp"
#include "todo/tasks/service.hpp"

namespace todo::tasks {

/// Writes concurrent creates together. A create that finds no batch being written is written at once,
/// alone, so an idle server adds no wait. Under load the creates that arrive meanwhile
/// queue, and the next free writer takes up to `max_batch` of them into one transaction
/// (service::create_many: one INSERT a table for all of them, one commit), so PostgreSQL parses, plans,
/// executes and commits once where it did for each create. Each create is answered after its transaction
/// committed, as before. When a batch fails with a database error (not a lost connection), its creates are
/// written again one a transaction, so that each gets its own answer: one bad create never fails another.
///
/// Under load a free writer may wait a little for more creates (Linger): while another writer is in a
/// transaction, so the database is busy anyway, and fewer than `until` creates are queued, it waits until
/// `until` are, or the oldest has waited `at_most`. A transaction's fixed cost is several times a create's
/// (README "Benchmarks"), so larger groups cost less a create. With no other writer busy it never waits.
class CreateBatcher {
 public:
  /// Wait for `until` creates, for at most `at_most` (see above). The default never waits.
  struct Linger {
    std::size_t until;
    std::chrono::microseconds at_most;
  };
  /// observe_batch, if given, is called with the size of every batch written (a metrics histogram).
  CreateBatcher(db::Pool& pool, std::size_t max_in_flight, std::size_t max_batch,
                std::function<void(std::size_t)> observe_batch = {},
                Linger linger = Linger{1, std::chrono::microseconds(0)});
  CreateBatcher(const CreateBatcher&) = delete;
  CreateBatcher& operator=(const CreateBatcher&) = delete;

  /// service::create in a transaction, possibly shared with other creates; resumes on the caller's executor.
  boost::asio::awaitable<Task> create(service::Actor who, NewTask request) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(std::exception_ptr, Task)>(
        [this](auto handler, service::Creation c) {
          using Handler = decltype(handler);
          struct Impl final : Waiter {
            Handler handler;
            explicit Impl(Handler h) : handler(std::move(h)) {}
            void complete(std::exception_ptr ep, Task t) override {
              auto ex = boost::asio::get_associated_executor(handler);
              boost::asio::post(ex, [h = std::move(handler), ep, t = std::move(t)]() mutable {
                std::move(h)(ep, std::move(t));
              });
            }
          };
          boost::asio::any_io_executor ex = boost::asio::get_associated_executor(handler);
          enqueue(Item{std::move(c), std::make_unique<Impl>(std::move(handler)),
                       std::chrono::steady_clock::now()},
                  std::move(ex));
        },
        boost::asio::use_awaitable, service::Creation{std::move(who), std::move(request)});
  }

  /// Transactions written so far, and the creates they held.
  std::uint64_t batches() const;
  std::uint64_t creates() const;
  /// Creates waiting for a writer.
  std::size_t queued() const;

 private:
  struct Waiter {
    virtual ~Waiter() = default;
    /// Posts the answer to the awaiting coroutine's executor.
    virtual void complete(std::exception_ptr ep, Task t) = 0;
  };
  struct Item {
    service::Creation creation;
    std::unique_ptr<Waiter> waiter;
    std::chrono::steady_clock::time_point queued_at;
  };

  void enqueue(Item item, boost::asio::any_io_executor ex);
  /// Ends the waits of lingering writers (they look at the queue again). Called with mutex_ held.
  void wake_lingering();
  /// Writes batches from the queue until it is empty.
  boost::asio::awaitable<void> writer();
  boost::asio::awaitable<void> write(std::vector<Item>& batch);

  db::Pool& pool_;
  const std::size_t max_in_flight_;
  const std::size_t max_batch_;
  std::function<void(std::size_t)> observe_batch_;
  mutable std::mutex mutex_;
  std::deque<Item> queue_;
  std::size_t writers_ = 0;  // running writer() coroutines, at most max_in_flight_
  std::size_t writing_ = 0;  // writers in a transaction
  std::vector<std::shared_ptr<boost::asio::steady_timer>> lingering_;  // the timers of lingering writers
  const Linger linger_;
  std::uint64_t batches_ = 0;
  std::uint64_t creates_ = 0;
};

}  // namespace todo::tasks

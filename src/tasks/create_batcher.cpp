// Group commit for task creates (see the header).
#include "todo/tasks/create_batcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

namespace todo::tasks {

CreateBatcher::CreateBatcher(db::Pool& pool, std::size_t max_in_flight, std::size_t max_batch,
                             std::function<void(std::size_t)> observe_batch, Linger linger)
    : pool_(pool),
      max_in_flight_(std::max<std::size_t>(1, max_in_flight)),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      observe_batch_(std::move(observe_batch)),
      linger_{std::min(linger.until, max_batch_), linger.at_most} {}

std::uint64_t CreateBatcher::batches() const {
  std::lock_guard lock(mutex_);
  return batches_;
}

std::uint64_t CreateBatcher::creates() const {
  std::lock_guard lock(mutex_);
  return creates_;
}

std::size_t CreateBatcher::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void CreateBatcher::enqueue(Item item, boost::asio::any_io_executor ex) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(item));
    if (queue_.size() >= linger_.until) wake_lingering();
    if (writers_ >= max_in_flight_) return;  // a running writer takes it with the next batch
    ++writers_;
  }
  // A strand: a lingering writer's timer is cancelled from other threads by a handler posted to it.
  boost::asio::co_spawn(boost::asio::make_strand(ex), writer(), boost::asio::detached);
}

void CreateBatcher::wake_lingering() {
  for (auto& timer : lingering_)
    boost::asio::post(timer->get_executor(), [timer] { timer->cancel(); });
  lingering_.clear();
}

boost::asio::awaitable<void> CreateBatcher::writer() {
  auto ex = co_await boost::asio::this_coro::executor;
  // Shared with the handlers that cancel it (wake_lingering), which may run after this writer ended.
  auto timer = std::make_shared<boost::asio::steady_timer>(ex);
  for (;;) {
    std::vector<Item> batch;
    std::chrono::steady_clock::duration wait{};
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        --writers_;
        co_return;
      }
      if (queue_.size() < linger_.until && writing_ > 0)
        wait = queue_.front().queued_at + linger_.at_most - std::chrono::steady_clock::now();
      if (wait <= std::chrono::steady_clock::duration::zero()) {
        ++writing_;
        const std::size_t n = std::min(max_batch_, queue_.size());
        batch.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        ++batches_;
        creates_ += n;
      } else {
        lingering_.push_back(timer);
      }
    }
    if (batch.empty()) {
      // Until the deadline, or until woken (wake_lingering) by the create that makes `until` or by the end of
      // the last other writer's transaction; then it looks again.
      timer->expires_after(wait);
      boost::system::error_code ec;
      co_await timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      std::lock_guard lock(mutex_);
      std::erase(lingering_, timer);
      continue;
    }
    if (observe_batch_) observe_batch_(batch.size());
    co_await write(batch);
    {
      std::lock_guard lock(mutex_);
      if (--writing_ == 0) wake_lingering();
    }
  }
}

boost::asio::awaitable<void> CreateBatcher::write(std::vector<Item>& batch) {
  std::vector<service::Creation> creations;
  creations.reserve(batch.size());
  for (auto& item : batch)
    creations.push_back(std::move(item.creation));  // the item keeps only its waiter
  std::exception_ptr failed;
  std::vector<Task> stored;
  try {
    // The answer timeout counts from the oldest create's arrival (the queue's order), not from now: a create
    // that waited for a writer while the database did not answer has waited that long already.
    auto job = [&creations](pqxx::work& w) { return service::create_many(w, creations); };
    stored = co_await pool_.transact(std::move(job), batch.front().queued_at);
  } catch (...) {
    failed = std::current_exception();
  }
  if (!failed) {
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].waiter->complete(nullptr, std::move(stored[i]));
    co_return;
  }
  if (batch.size() == 1 || db::Pool::is_connection_error(failed)) {
    // Its own error; or the database is gone for all of them (nothing was committed, or it is in doubt,
    // which each create would have reported alone too).
    for (auto& item : batch)
      item.waiter->complete(failed, Task{});
    co_return;
  }
  // Some create of the batch fails: each alone, in its own transaction, gets its own answer.
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::exception_ptr ep;
    Task t;
    try {
      const service::Creation& c = creations[i];
      auto job = [&c](pqxx::work& w) { return service::create(w, c.who, c.request); };
      t = co_await pool_.transact(std::move(job), batch[i].queued_at);
    } catch (...) {
      ep = std::current_exception();
    }
    batch[i].waiter->complete(ep, std::move(t));
  }
}

}  // namespace todo::tasks

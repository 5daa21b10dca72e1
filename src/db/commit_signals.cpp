// Post-commit notifications (see commit_signals.hpp).
#include "todo/db/commit_signals.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

namespace todo::db {
namespace {

thread_local std::vector<CommitSignal> commit_signals;

void add_unique(std::vector<const char*>& to, const char* channel) {
  for (const char* c : to)
    if (std::string_view(c) == channel) return;
  to.push_back(channel);
}

std::vector<const char*> channels_of(const std::vector<CommitSignal>& signals) {
  std::vector<const char*> out;
  for (const auto& s : signals)
    add_unique(out, s.channel);
  return out;
}

// One tiny transaction with synchronous_commit off that notifies every channel.
std::string notify_sql(const std::vector<const char*>& channels) {
  std::string sql = "BEGIN; SET LOCAL synchronous_commit TO OFF;";
  for (const char* channel : channels)
    sql += std::string(" NOTIFY ") + channel + ";";
  return sql + " COMMIT";
}

}  // namespace

void signal_after_commit(const char* channel, std::uint32_t keys) {
  for (auto& s : commit_signals)
    if (std::string_view(s.channel) == channel) {
      s.keys |= keys;
      return;
    }
  commit_signals.push_back({channel, keys});
}

void discard_commit_signals() {
  commit_signals.clear();
}

std::vector<CommitSignal> take_commit_signals() {
  std::vector<CommitSignal> out;
  out.swap(commit_signals);
  return out;
}

void send_commit_signals(pqxx::connection& c) {
  const auto channels = channels_of(take_commit_signals());
  if (channels.empty()) return;
  try {
    pqxx::nontransaction n(c);
    n.exec(notify_sql(channels));
  } catch (const std::exception& e) {
    spdlog::warn("post-commit notification failed (the relay will find the events on its next poll): {}",
                 e.what());
  }
}

Notifier::Notifier(std::string conninfo) : conninfo_(std::move(conninfo)), thread_([this] { run(); }) {}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void Notifier::post(const std::vector<CommitSignal>& signals) {
  if (signals.empty()) return;
  std::size_t local = 0;
  std::vector<const char*> to_send;
  for (const auto& s : signals) {
    if (deliver_locally(s))
      ++local;
    else
      add_unique(to_send, s.channel);
  }
  {
    std::lock_guard lock(mutex_);
    delivered_locally_ += local;
    for (const char* c : to_send)
      add_unique(pending_, c);
  }
  if (!to_send.empty()) cv_.notify_one();
}

bool Notifier::deliver_locally(const CommitSignal& signal) {
  std::lock_guard lock(locals_mutex_);
  std::uint32_t covered = 0;
  for (const auto& l : locals_)
    if (std::string_view(l.channel) == signal.channel) covered |= l.receiver(signal.keys);
  return (signal.keys & ~covered) == 0;
}

Notifier::Receipt Notifier::receive_locally(const char* channel, Receiver receiver) {
  std::lock_guard lock(locals_mutex_);
  const std::uint64_t id = next_local_id_++;
  locals_.push_back({id, channel, std::move(receiver)});
  return Receipt(this, id);
}

void Notifier::forget(std::uint64_t id) {
  std::lock_guard lock(locals_mutex_);
  std::erase_if(locals_, [id](const Local& l) { return l.id == id; });
}

Notifier::Receipt& Notifier::Receipt::operator=(Receipt&& o) noexcept {
  if (this != &o) {
    if (owner_) owner_->forget(id_);
    owner_ = std::exchange(o.owner_, nullptr);
    id_ = o.id_;
  }
  return *this;
}

Notifier::Receipt::~Receipt() {
  if (owner_) owner_->forget(id_);
}

std::size_t Notifier::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
}

std::size_t Notifier::delivered_locally() const {
  std::lock_guard lock(mutex_);
  return delivered_locally_;
}

void Notifier::run() {
  std::unique_ptr<pqxx::connection> conn;
  bool failing = false;
  for (;;) {
    std::vector<const char*> channels;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, nothing left to send
      channels.swap(pending_);
    }
    try {
      if (!conn || !conn->is_open()) conn = std::make_unique<pqxx::connection>(conninfo_);
      pqxx::nontransaction n(*conn);
      n.exec(notify_sql(channels));
      failing = false;
      std::lock_guard lock(mutex_);
      ++sent_;
    } catch (const std::exception& e) {
      // Committed data is not at stake: the relay and the scheduler also poll. Dropped, logged once a streak.
      if (!failing)
        spdlog::warn(
            "post-commit notification failed (listeners will find the changes on their next poll): {}",
            e.what());
      failing = true;
      conn.reset();
    }
  }
}

}  // namespace todo::db

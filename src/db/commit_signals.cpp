// Post-commit notifications (see commit_signals.hpp).
#include "todo/db/commit_signals.hpp"

#include <spdlog/spdlog.h>

#include <string_view>

namespace todo::db {
namespace {

thread_local std::vector<const char*> commit_signals;

void add_unique(std::vector<const char*>& to, const char* channel) {
  for (const char* c : to)
    if (std::string_view(c) == channel) return;
  to.push_back(channel);
}

// One tiny transaction with synchronous_commit off that notifies every channel.
std::string notify_sql(const std::vector<const char*>& channels) {
  std::string sql = "BEGIN; SET LOCAL synchronous_commit TO OFF;";
  for (const char* channel : channels)
    sql += std::string(" NOTIFY ") + channel + ";";
  return sql + " COMMIT";
}

}  // namespace

void signal_after_commit(const char* channel) {
  add_unique(commit_signals, channel);
}

void discard_commit_signals() {
  commit_signals.clear();
}

std::vector<const char*> take_commit_signals() {
  std::vector<const char*> out;
  out.swap(commit_signals);
  return out;
}

void send_commit_signals(pqxx::connection& c) {
  const auto channels = take_commit_signals();
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

void Notifier::post(const std::vector<const char*>& channels) {
  if (channels.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (const char* c : channels)
      add_unique(pending_, c);
  }
  cv_.notify_one();
}

std::size_t Notifier::sent() const {
  std::lock_guard lock(mutex_);
  return sent_;
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

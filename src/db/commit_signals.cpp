// Post-commit notifications (see commit_signals.hpp).
#include "todo/db/commit_signals.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>
#include <vector>

namespace todo::db {
namespace {

thread_local std::vector<const char*> commit_signals;

}  // namespace

void signal_after_commit(const char* channel) {
  for (const char* c : commit_signals)
    if (std::string_view(c) == channel) return;
  commit_signals.push_back(channel);
}

void discard_commit_signals() {
  commit_signals.clear();
}

void send_commit_signals(pqxx::connection& c) {
  if (commit_signals.empty()) return;
  std::string sql = "BEGIN; SET LOCAL synchronous_commit TO OFF;";
  for (const char* channel : commit_signals)
    sql += std::string(" NOTIFY ") + channel + ";";
  sql += " COMMIT";
  commit_signals.clear();
  try {
    pqxx::nontransaction n(c);
    n.exec(sql);
  } catch (const std::exception& e) {
    spdlog::warn("post-commit notification failed (the relay will find the events on its next poll): {}",
                 e.what());
  }
}

}  // namespace todo::db

// Migration runner: advisory lock, schema_migrations bookkeeping, one transaction per file.
#include "todo/db/migrations.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

namespace todo::db {
namespace {

// An arbitrary constant shared by every replica: the key of the migration advisory lock.
constexpr long long kMigrationLockKey = 0x746f646f6d6967;  // "todomig"

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

}  // namespace

int current_version(pqxx::connection& c) {
  pqxx::nontransaction n(c);
  auto exists = n.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  auto r = n.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return r[0][0].as<int>();
}

bool is_migrated(pqxx::connection& c) {
  const auto& all = embedded_migrations();
  return current_version(c) >= (all.empty() ? 0 : all.back().version);
}

int migrate(pqxx::connection& c, int up_to, const std::function<bool()>& stopping) {
  // Tried, not waited for: a process told to stop while another replica applies a long migration stops.
  for (bool told = false;;) {
    {
      pqxx::nontransaction n(c);
      if (n.exec("SELECT pg_try_advisory_lock(" + std::to_string(kMigrationLockKey) + ")")[0][0].as<bool>())
        break;
    }
    if (stopping && stopping()) throw MigrationStopped();
    if (!told) spdlog::info("waiting for another process's migrations (the migration lock is held)");
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int applied = 0;
  try {
    {
      pqxx::work w(c);
      w.exec(kCreateTable);
      w.commit();
    }
    const int have = current_version(c);
    for (const auto& m : embedded_migrations()) {
      if (m.version <= have) continue;
      if (m.version > up_to) break;
      spdlog::info("applying migration {:04d}_{}", m.version, m.name);
      pqxx::work w(c);
      w.exec(std::string(m.sql));
      w.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                    std::string(m.name));
      w.commit();
      ++applied;
    }
  } catch (...) {
    pqxx::nontransaction n(c);
    n.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
    throw;
  }
  pqxx::nontransaction n(c);
  n.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
  return applied;
}

}  // namespace todo::db

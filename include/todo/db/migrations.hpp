// Schema migrations: the SQL files under migrations/, embedded in the binary and applied in order under a
// lock.
#pragma once

#include <functional>
#include <limits>
#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace todo::db {

/// One migration file: migrations/NNNN_name.sql.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

/// The migrations compiled into this binary, ordered by version.
const std::vector<Migration>& embedded_migrations();

/// migrate() gave up waiting for the lock because `stopping` said so.
struct MigrationStopped : std::runtime_error {
  MigrationStopped() : std::runtime_error("stopped while waiting for another process's migrations") {}
};

/// Applies pending migrations, each in its own transaction, holding a PostgreSQL advisory lock so that
/// replicas starting together apply each exactly once. Returns how many were applied. `up_to` stops after
/// that version (tests of a migration's handling of existing rows). While another process holds the lock
/// (a replica applying a long migration), it asks `stopping` every 100 ms and throws MigrationStopped when
/// that returns true (a signal to stop the process).
int migrate(pqxx::connection& c, int up_to = std::numeric_limits<int>::max(),
            const std::function<bool()>& stopping = {});

/// The newest version recorded in schema_migrations (0 when none).
int current_version(pqxx::connection& c);

/// True when every embedded migration has been applied.
bool is_migrated(pqxx::connection& c);

}  // namespace todo::db

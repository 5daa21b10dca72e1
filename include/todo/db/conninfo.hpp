// What libpq says of a connection string before the database answers.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace todo::db {

/// True when libpq's message refuses a value of the connection string ("invalid sslmode value …", "invalid
/// integer value …"): no retry mends that, unlike a database that is not reachable.
bool refuses_a_value(std::string_view libpq_message);

/// libpq's reason for refusing a value of `conninfo` that it checks before it connects
/// (ssl_max_protocol_version, …), found without waiting for any database; nullopt when it refuses none.
std::optional<std::string> refused_value(const std::string& conninfo);

/// Waits until libpq's socket `fd` is ready for `events` (poll), or failed (libpq then says how); false when
/// `deadline` comes first (time_point::max(): none). For libpq's non-blocking calls with a bound.
bool ready_by(int fd, short events, std::chrono::steady_clock::time_point deadline);

}  // namespace todo::db

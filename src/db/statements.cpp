// Conversions at the SQL boundary.
#include "todo/db/statements.hpp"

#include <stdexcept>

namespace todo::db {

Instant instant(const pqxx::field& f) {
  auto t = parse_pg_timestamptz(f.c_str());
  if (!t) throw std::runtime_error(std::string("unexpected timestamptz from the database: ") + f.c_str());
  return *t;
}

std::optional<Instant> optional_instant(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return instant(f);
}

}  // namespace todo::db

// Conversions at the SQL boundary.
#include "todo/db/statements.hpp"

#include <mutex>
#include <stdexcept>

namespace todo::db {
namespace {

std::mutex& statements_mutex() {
  static std::mutex m;
  return m;
}
std::vector<Statement>& statements() {
  static std::vector<Statement> s;
  return s;
}

}  // namespace

void register_statements(std::initializer_list<Statement> list) {
  std::lock_guard lock(statements_mutex());
  statements().insert(statements().end(), list.begin(), list.end());
}

void prepare_session(pqxx::connection_base& c) {
  {
    pqxx::nontransaction n(c);
    // Instants are UTC on the wire and in text results.
    n.exec("SET TIME ZONE 'UTC'");
  }
  std::lock_guard lock(statements_mutex());
  for (const auto& s : statements())
    c.prepare(s.name, s.sql);
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string a = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) a += ",";
    a += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') a += '\\';
      a += c;
    }
    a += '"';
  }
  return a + "}";
}

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

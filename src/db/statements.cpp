// Conversions at the SQL boundary.
#include "todo/db/statements.hpp"

#include <mutex>
#include <stdexcept>
#include <unordered_map>

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
    // Plans for the values at hand: task counts per user are skewed (one user may own 100 000 tasks), and a
    // generic plan tuned to the average user sorts all of a big user's tasks for one page. Parsing is still
    // saved.
    n.exec("SET plan_cache_mode = force_custom_plan");
  }
  std::lock_guard lock(statements_mutex());
  for (const auto& s : statements())
    c.prepare(s.name, s.sql);
}

pqxx::result exec_cached(pqxx::transaction_base& w, const std::string& sql,
                         const std::vector<std::string>& params) {
  // Each pooled connection lives on one DB thread, so a thread-local cache needs no lock. It is keyed by the
  // connection and its backend, so that a reconnected connection starts afresh.
  struct Cache {
    const void* connection = nullptr;
    int backend = 0;
    std::unordered_map<std::string, std::string> names;
  };
  constexpr std::size_t kMaxStatements = 512;
  thread_local Cache cache;
  auto& c = w.conn();
  if (cache.connection != &c || cache.backend != c.backendpid()) cache = Cache{&c, c.backendpid(), {}};
  auto it = cache.names.find(sql);
  if (it == cache.names.end()) {
    // The number of query shapes is bounded, but not small: past the cap, run unprepared.
    if (cache.names.size() >= kMaxStatements)
      return w.exec_params(sql, pqxx::prepare::make_dynamic_params(params));
    std::string name = "dyn_" + std::to_string(cache.names.size());
    c.prepare(name, sql);
    it = cache.names.emplace(sql, std::move(name)).first;
  }
  return w.exec_prepared(it->second, pqxx::prepare::make_dynamic_params(params));
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

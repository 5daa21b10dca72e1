// Named SQL statements (prepared once per pooled connection) and conversions at the SQL boundary.
#pragma once

#include <chrono>
#include <initializer_list>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "todo/core/error.hpp"
#include "todo/core/time.hpp"

namespace todo::db {

/// A named SQL statement; the name is also its label in logs and metrics.
struct Statement {
  const char* name;
  const char* sql;
};

/// Registers statements to prepare on every new connection.
void register_statements(std::initializer_list<Statement> statements);

/// Every statement registered so far (db::Reader prepares them with libpq).
std::vector<Statement> registered_statements();

/// How long one statement may run, and wait for a lock, before PostgreSQL cancels it (`statement_timeout`,
/// `lock_timeout`; zero: no limit). The requests' connections (db::Pool, db::Reader) have them, so that a
/// request never waits without end behind a lock an operator holds; the relay, the schedulers and the
/// migrations do not. `answer` is the requests' bound that the server keeps itself, for a database that does
/// not answer at all (stopped processes, a hung host, a partition with no reset), where PostgreSQL's own
/// timeouts never fire: a transaction or read not answered within it, a wait for a free connection
/// included, fails with Error(unavailable), its connection closed (zero: no limit).
struct SessionLimits {
  std::chrono::milliseconds statement{0};
  std::chrono::milliseconds lock{0};
  std::chrono::milliseconds answer{0};
};

/// What a request whose database work was not answered within SessionLimits::answer gets: Error(unavailable)
/// saying so, and that nothing was written.
Error unanswered_error(std::chrono::milliseconds answer);

/// The statements that set a new session up, before the prepared ones: the UTC time zone, then `limits`.
std::vector<std::string> session_settings(const SessionLimits& limits);

/// Sets up a new connection: session_settings(limits), every registered statement prepared.
void prepare_session(pqxx::connection_base& c, const SessionLimits& limits = {});

/// SQLSTATE 57014 (a statement cancelled: its timeout, or an operator) or 55P03 (a lock not granted within
/// the lock timeout): the statement's transaction was rolled back, and the same request may succeed later.
bool cancelled_state(std::string_view sqlstate);
/// What a request whose statement was cancelled gets: Error(unavailable), a 503 with Retry-After.
Error cancelled_error();

/// Registers statements at static-initialisation time: `const db::Registration kRegistered{kA, kB};` in a
/// repository.
struct Registration {
  Registration(std::initializer_list<Statement> statements) { register_statements(statements); }
};

/// A PostgreSQL array literal of text ({"a","b\"c"}), for passing arrays as one text parameter.
std::string array_literal(const std::vector<std::string>& items);
/// The same with NULL elements (nullopt), for unnest()ing nullable columns.
std::string array_literal(const std::vector<std::optional<std::string>>& items);

/// The elements of a text array as PostgreSQL writes it (`{a,"b c","d\\"e",NULL}`), in order; NULL elements
/// are left out, the elements of a multi-dimensional array are read in order, and a leading dimension
/// decoration (`[0:1]=`) is skipped. Only `,` separates (libpqxx 6's array_parser also splits at `;`, which
/// PostgreSQL does not quote: a tag "a;b" came back as two). Throws std::runtime_error on malformed text.
std::vector<std::string> parse_text_array(std::string_view text);

/// Non-empty items joined by the ASCII record separator (0x1E), for `string_to_array($n::text, chr(30))`: a
/// text array parameter without array_literal's quoting and PostgreSQL's array parsing, for items that cannot
/// contain the separator, such as JSON text (control characters are escaped inside its strings and not
/// allowed outside them). Throws std::invalid_argument on an empty item or one containing 0x1E.
std::string record_separated(const std::vector<std::string>& items);

/// A timestamptz column's text (the session time zone is UTC) as an Instant; throws std::runtime_error.
Instant instant_text(const char* text);

/// A timestamptz column as an Instant: a pqxx::field or a db::Cell.
template <class Field>
Instant instant(const Field& f) {
  return instant_text(f.c_str());
}
template <class Field>
std::optional<Instant> optional_instant(const Field& f) {
  if (f.is_null()) return std::nullopt;
  return instant(f);
}

}  // namespace todo::db

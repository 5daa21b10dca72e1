// db::Reader: single-statement reads on non-blocking libpq connections, driven by the io threads themselves.
//
// db::Pool runs blocking libpqxx on threads of its own, and every request pays for two thread hand-offs
// (io thread → DB thread → io thread) on top of PostgreSQL's round trip. A read that is one statement needs
// no transaction, so the Reader sends it with libpq's asynchronous API and waits for the answer on the
// connection's socket through Asio: the coroutine is suspended, the io thread serves other sessions
// meanwhile, and no other thread is involved. The connections are in libpq's pipeline mode, so keyed reads
// from many sessions share a few connections and their round trips. Writes stay on db::Pool (transactions,
// libpqxx).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "todo/db/statements.hpp"

struct pg_result;
struct pg_conn;

namespace todo::db {

/// One value of a result row: the part of pqxx::field's interface that row mappers use, so that a mapper
/// written as a template serves both.
class Cell {
 public:
  Cell(const pg_result* res, int row, int col) : res_(res), row_(row), col_(col) {}
  const char* c_str() const;
  bool is_null() const;
  template <class T>
  T as() const {
    T value;
    pqxx::from_string(c_str(), value);
    return value;
  }

 private:
  const pg_result* res_;
  int row_;
  int col_;
};

/// One row of Rows.
class Row {
 public:
  Row(const pg_result* res, int row) : res_(res), row_(row) {}
  Cell operator[](int col) const { return Cell(res_, row_, col); }

 private:
  const pg_result* res_;
  int row_;
};

/// A result set (owns libpq's PGresult).
class Rows {
 public:
  Rows() = default;
  explicit Rows(pg_result* res);
  std::size_t size() const;
  bool empty() const { return size() == 0; }
  Row operator[](std::size_t row) const { return Row(res_.get(), static_cast<int>(row)); }
  /// libpq's result (null when there is none).
  const pg_result* result() const { return res_.get(); }

 private:
  std::shared_ptr<pg_result> res_;
};

/// A statement parameter: text, or SQL NULL.
using Param = std::optional<std::string>;

/// Up to `max_connections` libpq connections, opened when first needed (on helper threads: connecting
/// blocks) with the session set up as db::Pool's (UTC, every registered statement prepared), and kept open.
/// Queries run on the awaiting coroutine's executor.
///
/// Prepared reads (keyed lookups, and the list shapes exec_cached runs: index scans by design) are pipelined
/// (libpq pipeline mode): several share a connection, and those issued while the io threads are busy go out
/// together, ended by one Sync, so one socket write and one PostgreSQL wake-up serve them all. A connection
/// takes up to `pipeline_depth` of them before another is opened. Unprepared reads (lists whose filters no
/// index serves: their cost varies with the data) each have a connection to themselves, so a slow one never
/// delays another read.
///
/// A statement error fails only its own read: reads that PostgreSQL skipped because they shared its pipeline
/// are sent again, alone. A connection found broken is dropped, and its reads are retried once on a new one
/// (reads are idempotent), so a database restart costs no request that can be served; when the database is
/// down, reads fail with Error(unavailable).
class Reader {
 public:
  /// `limits` apply to every connection (see SessionLimits); a read they cancel fails with
  /// Error(unavailable).
  Reader(boost::asio::any_io_executor ex, std::string conninfo, std::size_t max_connections,
         std::size_t pipeline_depth = 8, SessionLimits limits = {});
  /// One set of connections an executor (an io_context each, one io thread each), `max_connections` in all
  /// shared out among them: a read runs on the connections of the io_context it is awaited on, so its socket
  /// is waited on and its coroutine resumed by the same thread, with no hand-off. With fewer connections than
  /// executors, there is one set a connection, and the executors beyond them use another's set in turn (their
  /// reads' answers are posted to them). A read awaited on any other executor uses the first set.
  Reader(std::vector<boost::asio::any_io_executor> executors, std::string conninfo,
         std::size_t max_connections, std::size_t pipeline_depth = 8, SessionLimits limits = {});
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// Runs the named statement (prepared on every connection) with these parameters, pipelined.
  boost::asio::awaitable<Rows> exec_prepared(const Statement& statement, std::vector<Param> params);
  /// Runs an unprepared statement with $n parameters (planned for these values), on a connection of its own.
  boost::asio::awaitable<Rows> exec_params(std::string sql, std::vector<Param> params);
  /// Like exec_params, but pipelined like exec_prepared, and the text is prepared on the connection the
  /// first time that connection sees it (its Parse goes into the pipeline just ahead of its Execute; up to
  /// 32 texts per connection, beyond them it is planned every time), so later runs skip parsing and may
  /// use PostgreSQL's cached generic plan. Only for texts whose generic plan is as good as a custom one for
  /// every parameter value (see tasks::cacheable).
  boost::asio::awaitable<Rows> exec_cached(std::string sql, std::vector<Param> params);

  /// Connections open now (idle or busy), or being opened.
  std::size_t open_connections() const;
  /// Reads waiting for a connection.
  std::size_t waiting() const;
  /// The most reads that have been in flight on one connection at once.
  std::size_t deepest_pipeline() const;

 private:
  struct State;
  struct Request {
    const char* statement = nullptr;  // prepared statement name, or
    std::string sql;                  // the SQL text when statement is null
    bool cache = false;               // exec_cached
    std::vector<Param> params;
  };

  boost::asio::awaitable<Rows> run(Request request);

  struct Shard {
    const boost::asio::execution_context* context;
    std::shared_ptr<State> state;  // shared with the connections' reading coroutines, which may outlive us
  };
  /// The set of connections of the io_context that runs `ex` (the first when none does).
  const std::shared_ptr<State>& shard(const boost::asio::any_io_executor& ex) const;

  std::vector<std::shared_ptr<State>> states_;  // the sets of connections
  std::vector<Shard> shards_;                   // an io_context each, with its set (several may share one)
};

}  // namespace todo::db

// db::Reader: single-statement reads on non-blocking libpq connections, driven by the io threads themselves.
//
// db::Pool runs blocking libpqxx on threads of its own, and every request pays for two thread hand-offs
// (io thread → DB thread → io thread) on top of PostgreSQL's round trip. A read that is one statement needs
// no transaction, so the Reader sends it with libpq's asynchronous API (PQsendQueryPrepared) and waits for
// the answer on the connection's socket through Asio: the coroutine is suspended, the io thread serves other
// sessions meanwhile, and no other thread is involved. Writes stay on db::Pool (transactions, libpqxx).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <memory>
#include <mutex>
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
  pqxx::array_parser as_array() const { return pqxx::array_parser(c_str()); }

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

 private:
  std::shared_ptr<pg_result> res_;
};

/// A statement parameter: text, or SQL NULL.
using Param = std::optional<std::string>;

/// Up to `max_connections` libpq connections, opened when first needed (on a helper thread: connecting
/// blocks) with the session set up as db::Pool's (UTC, every registered statement prepared), and kept open.
/// Queries run on the awaiting coroutine's executor. A connection found broken is dropped, and the read is
/// retried once on a new one (reads are idempotent), so a database restart costs no request that can be
/// served; when the database is down, reads fail with Error(unavailable).
class Reader {
 public:
  Reader(boost::asio::any_io_executor ex, std::string conninfo, std::size_t max_connections);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  /// Runs the named statement (prepared on every connection) with these parameters.
  boost::asio::awaitable<Rows> exec_prepared(const Statement& statement, std::vector<Param> params);
  /// Runs an unprepared statement with $n parameters (planned for these values).
  boost::asio::awaitable<Rows> exec_params(std::string sql, std::vector<Param> params);

  /// Connections open now (idle or busy).
  std::size_t open_connections() const;
  /// Reads waiting for a connection.
  std::size_t waiting() const;

 private:
  struct Connection;
  struct Request {
    const char* statement = nullptr;  // prepared statement name, or
    std::string sql;                  // the SQL text when statement is null
    std::vector<Param> params;
  };

  boost::asio::awaitable<Rows> run(Request request);
  boost::asio::awaitable<Connection*> acquire();
  void release(Connection* c, bool healthy);
  boost::asio::awaitable<Rows> execute(Connection& c, const Request& request);

  boost::asio::any_io_executor ex_;
  std::string conninfo_;
  std::size_t max_;
  boost::asio::thread_pool connector_{1};
  mutable std::mutex mutex_;
  std::vector<Connection*> idle_;
  std::size_t open_ = 0;     // connections open or being opened
  std::size_t waiting_ = 0;  // acquirers parked on handoff_
  // Hands a released connection (or, as nullptr, the right to open one) to a parked acquirer.
  boost::asio::experimental::concurrent_channel<void(boost::system::error_code, Connection*)> handoff_;
};

}  // namespace todo::db

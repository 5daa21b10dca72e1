// db::Reader: libpq's asynchronous query API driven by Asio waits on the connection's socket.
#include "todo/db/reader.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

#include "todo/core/error.hpp"
#include "todo/core/offload.hpp"

namespace todo::db {

const char* Cell::c_str() const {
  return PQgetvalue(res_, row_, col_);
}
bool Cell::is_null() const {
  return PQgetisnull(res_, row_, col_) != 0;
}

Rows::Rows(pg_result* res) : res_(res, PQclear) {}
std::size_t Rows::size() const {
  return res_ ? static_cast<std::size_t>(PQntuples(res_.get())) : 0;
}

namespace {

// The connection is unusable (lost, or the server is shutting down): drop it, and report 503.
struct ConnectionLost : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void ignore_notice(void*, const char*) {}

std::string error_of(PGconn* pg) {
  std::string e = PQerrorMessage(pg);
  while (!e.empty() && (e.back() == '\n' || e.back() == ' '))
    e.pop_back();
  return e;
}

// Opens and sets up a connection, blocking: runs on the connector thread. Throws ConnectionLost.
PGconn* open_connection(const std::string& conninfo) {
  PGconn* pg = PQconnectdb(conninfo.c_str());
  auto fail = [&](const std::string& what) {
    const std::string e = what + ": " + error_of(pg);
    PQfinish(pg);
    throw ConnectionLost(e);
  };
  if (!pg) throw ConnectionLost("out of memory");
  if (PQstatus(pg) != CONNECTION_OK) fail("connect");
  PQsetNoticeProcessor(pg, ignore_notice, nullptr);
  auto ok = [](PGresult* r) {
    const auto s = PQresultStatus(r);
    PQclear(r);
    return s == PGRES_COMMAND_OK;
  };
  // Instants are UTC on the wire and in text results, as on db::Pool's connections.
  if (!ok(PQexec(pg, "SET TIME ZONE 'UTC'"))) fail("set time zone");
  for (const auto& s : registered_statements())
    if (!ok(PQprepare(pg, s.name, s.sql, 0, nullptr))) fail(std::string("prepare ") + s.name);
  if (PQsetnonblocking(pg, 1) != 0) fail("non-blocking mode");
  return pg;
}

}  // namespace

struct Reader::Connection {
  PGconn* pg;
  boost::asio::posix::stream_descriptor socket;

  Connection(const boost::asio::any_io_executor& ex, PGconn* c) : pg(c), socket(ex, PQsocket(c)) {}
  ~Connection() {
    socket.release();  // libpq owns the descriptor and closes it
    PQfinish(pg);
  }
};

Reader::Reader(boost::asio::any_io_executor ex, std::string conninfo, std::size_t max_connections)
    : ex_(std::move(ex)),
      conninfo_(std::move(conninfo)),
      max_(max_connections == 0 ? 1 : max_connections),
      handoff_(ex_, max_) {}

Reader::~Reader() {
  connector_.join();
  std::lock_guard lock(mutex_);
  for (auto* c : idle_)
    delete c;
}

std::size_t Reader::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::size_t Reader::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

boost::asio::awaitable<Rows> Reader::exec_prepared(const Statement& statement, std::vector<Param> params) {
  Request r;
  r.statement = statement.name;
  r.params = std::move(params);
  co_return co_await run(std::move(r));
}

boost::asio::awaitable<Rows> Reader::exec_params(std::string sql, std::vector<Param> params) {
  Request r;
  r.sql = std::move(sql);
  r.params = std::move(params);
  co_return co_await run(std::move(r));
}

boost::asio::awaitable<Rows> Reader::run(Request request) {
  // A connection that broke while idle (database restart) is only found out by using it: the read is
  // retried once on another, which is a new one if every idle connection went the same way.
  for (int attempt = 0;; ++attempt) {
    Connection* c = co_await acquire();
    std::exception_ptr failure;
    bool lost = false;
    try {
      Rows rows = co_await execute(*c, request);
      release(c, true);
      co_return rows;
    } catch (const ConnectionLost& e) {
      lost = true;
      if (attempt > 0) spdlog::warn("db read connection lost: {}", e.what());
    } catch (...) {
      failure = std::current_exception();
    }
    release(c, !lost);
    if (failure) std::rethrow_exception(failure);
    if (attempt > 0) throw Error(Errc::unavailable, "the database is unavailable");
  }
}

boost::asio::awaitable<Reader::Connection*> Reader::acquire() {
  bool may_open = false;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      Connection* c = idle_.back();
      idle_.pop_back();
      co_return c;
    }
    if (open_ < max_) {
      ++open_;
      may_open = true;
    } else {
      ++waiting_;
    }
  }
  Connection* c = nullptr;
  if (!may_open) {
    c = co_await handoff_.async_receive(boost::asio::use_awaitable);
    if (c) co_return c;
    // nullptr: a connection was dropped, and this acquirer may open its replacement.
  }
  PGconn* pg = nullptr;
  // Named, not a temporary in the co_await expression: GCC 12 mishandles closures with non-trivial captures.
  auto connect = [conninfo = conninfo_] { return open_connection(conninfo); };
  try {
    pg = co_await on_pool(connector_, std::move(connect));
  } catch (const ConnectionLost& e) {
    spdlog::warn("db read connection failed: {}", e.what());
  }
  if (!pg) {
    release(nullptr, false);
    throw Error(Errc::unavailable, "the database is unavailable");
  }
  co_return new Connection(ex_, pg);
}

void Reader::release(Connection* c, bool healthy) {
  std::unique_lock lock(mutex_);
  if (!healthy) {
    delete c;
    --open_;
    c = nullptr;
    if (waiting_ == 0) return;
    ++open_;  // the parked acquirer opens a replacement
  } else if (waiting_ == 0) {
    idle_.push_back(c);
    return;
  }
  --waiting_;
  lock.unlock();
  // Never full: at most max_ connections or rights to open one exist.
  (void)handoff_.try_send(boost::system::error_code{}, c);
}

boost::asio::awaitable<Rows> Reader::execute(Connection& c, const Request& request) {
  using Wait = boost::asio::posix::stream_descriptor::wait_type;
  std::vector<const char*> values;
  values.reserve(request.params.size());
  for (const auto& p : request.params)
    values.push_back(p ? p->c_str() : nullptr);
  const int n = static_cast<int>(values.size());
  const int sent =
      request.statement
          ? PQsendQueryPrepared(c.pg, request.statement, n, values.data(), nullptr, nullptr, 0)
          : PQsendQueryParams(c.pg, request.sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
  if (!sent) throw ConnectionLost(error_of(c.pg));
  for (;;) {
    const int f = PQflush(c.pg);
    if (f == 0) break;
    if (f < 0) throw ConnectionLost(error_of(c.pg));
    co_await c.socket.async_wait(Wait::wait_write, boost::asio::use_awaitable);
  }
  // Waiting is safe with Asio's edge-triggered epoll: a wait re-arms the descriptor (EPOLL_CTL_MOD), which
  // reports data that arrived before it.
  PGresult* first = nullptr;
  try {
    for (;;) {
      if (!PQconsumeInput(c.pg)) throw ConnectionLost(error_of(c.pg));
      if (PQisBusy(c.pg)) {
        co_await c.socket.async_wait(Wait::wait_read, boost::asio::use_awaitable);
        continue;
      }
      PGresult* r = PQgetResult(c.pg);
      if (!r) break;
      if (!first)
        first = r;
      else
        PQclear(r);
    }
  } catch (...) {
    PQclear(first);
    throw;
  }
  Rows rows(first);
  if (!first || PQstatus(c.pg) != CONNECTION_OK) throw ConnectionLost(error_of(c.pg));
  const auto status = PQresultStatus(first);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) co_return rows;
  const char* state = PQresultErrorField(first, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state ? state : "";
  const std::string message = PQresultErrorMessage(first);
  // Class 08 (connection exception) and 57P (operator intervention: shutdown, crash): try again elsewhere.
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0) throw ConnectionLost(message);
  throw pqxx::sql_error(message, request.statement ? request.statement : request.sql,
                        sqlstate.empty() ? nullptr : sqlstate.c_str());
}

}  // namespace todo::db

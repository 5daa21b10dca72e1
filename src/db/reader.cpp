// db::Reader: libpq's asynchronous query API in pipeline mode, driven by Asio waits on the connection's
// socket.
#include "todo/db/reader.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "todo/core/error.hpp"
#include "todo/core/log.hpp"
#include "todo/db/conninfo.hpp"

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

namespace asio = boost::asio;

namespace {

// While the database is down every read fails alike: one line in 10 s for each kind, with the count.
log::Throttle read_connect_failures(std::chrono::seconds(10));
log::Throttle read_connections_lost(std::chrono::seconds(10));
log::Throttle reads_unanswered(std::chrono::seconds(10));

using Clock = std::chrono::steady_clock;

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

// Opens and sets up a connection, blocking: runs on the connector thread. Throws ConnectionLost. Connecting
// is bounded by libpq's connect_timeout; the setup, by the answer timeout (limits.answer), so that a database
// that stopped answering holds neither the connector thread nor the connection's place.
PGconn* open_connection(const std::string& conninfo, const SessionLimits& limits) {
  PGconn* pg = PQconnectdb(conninfo.c_str());
  auto fail = [&](const std::string& what) {
    const std::string e = what + ": " + error_of(pg);
    PQfinish(pg);
    throw ConnectionLost(e);
  };
  if (!pg) throw ConnectionLost("out of memory");
  if (PQstatus(pg) != CONNECTION_OK) fail("connect");
  PQsetNoticeProcessor(pg, ignore_notice, nullptr);
  const auto deadline = limits.answer.count() > 0 ? Clock::now() + limits.answer : Clock::time_point::max();
  // Waits until the socket is ready for `events` (reading what came meanwhile); fails at the deadline.
  const auto wait = [&](short events) {
    if (!ready_by(PQsocket(pg), events, deadline)) {
      PQfinish(pg);
      throw ConnectionLost("the database did not answer the session's setup within " +
                           std::to_string(limits.answer.count()) + " ms");
    }
    if (!PQconsumeInput(pg)) fail("setup");
  };
  // The next result of the setup, once complete.
  const auto result = [&] {
    while (PQisBusy(pg))
      wait(POLLIN);
    return PQgetResult(pg);
  };
  if (PQsetnonblocking(pg, 1) != 0) fail("non-blocking mode");
  // The session's setup goes out as one pipeline: one round trip, not one per statement (there are dozens;
  // connections are opened while reads wait for them).
  if (PQenterPipelineMode(pg) != 1) fail("pipeline mode");
  // The time zone (UTC) and the limits, as on db::Pool's connections.
  std::vector<std::string> steps;
  for (const auto& setting : session_settings(limits)) {
    if (!PQsendQueryParams(pg, setting.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0)) fail(setting);
    steps.push_back(setting);
  }
  for (const auto& s : registered_statements()) {
    if (!PQsendPrepare(pg, s.name, s.sql, 0, nullptr)) fail(std::string("prepare ") + s.name);
    steps.push_back(std::string("prepare ") + s.name);
  }
  if (PQpipelineSync(pg) != 1) fail("sync");
  for (int f; (f = PQflush(pg)) != 0;) {
    if (f < 0) fail("setup");
    wait(POLLIN | POLLOUT);
  }
  for (const auto& step : steps) {
    bool ok = true;
    while (PGresult* r = result()) {
      ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
    }
    if (!ok) fail(step);
  }
  PGresult* end = result();
  const bool synced = end && PQresultStatus(end) == PGRES_PIPELINE_SYNC;
  PQclear(end);
  if (!synced) fail("sync");
  return pg;
}

// How a read ended, as the reading coroutine hands it to the read's coroutine.
struct Outcome {
  Rows rows;                // the statement's result (success or SQL error); empty when lost or skipped
  bool lost = false;        // the connection broke first
  bool unsent = false;      // the connection had broken before the read was sent: not an attempt
  bool skipped = false;     // PostgreSQL skipped it: an earlier read in its pipeline failed
  bool unanswered = false;  // not answered by its deadline (SessionLimits::answer): its connection was cut
  std::string error;        // why the connection was lost
};

// A suspended coroutine's completion handler that takes a T (Boost 1.81 has no any_completion_handler).
// resume() posts it to its own executor, so it may be called from any thread, with any lock held.
template <class T>
struct Resumer {
  virtual ~Resumer() = default;
  virtual void resume(T value) = 0;
  Clock::time_point deadline = Clock::time_point::max();  // a parked read's: when it gives up waiting
};

template <class T, class Handler>
struct ResumerFor final : Resumer<T> {
  explicit ResumerFor(Handler h) : handler(std::move(h)) {}
  void resume(T value) override {
    auto ex = asio::get_associated_executor(handler);
    asio::post(ex, [h = std::move(handler), v = std::move(value)]() mutable { std::move(h)(std::move(v)); });
  }
  Handler handler;
};

template <class T, class Handler>
std::unique_ptr<Resumer<T>> resumer(Handler handler) {
  return std::make_unique<ResumerFor<T, Handler>>(std::move(handler));
}

// What a connection serves: keyed reads (pipelined), list reads (cached texts: pipelined, with each other
// only, so that a slow list never holds up a keyed read), or one unprepared read alone.
enum class Use : unsigned char { keyed, lists, alone };

// A read in flight on a connection. Lives in the frame of the read's coroutine, which stays suspended until
// its waiter is completed.
struct Call {
  const char* statement = nullptr;
  const std::string* sql = nullptr;
  const std::vector<Param>* params = nullptr;
  bool cache = false;                        // prepare the SQL text on the connection (once) and execute that
  bool alone = false;                        // the connection serves this read alone (Use::alone)
  std::unique_ptr<Resumer<Outcome>> waiter;  // null for a connection's own Parse of a cached text
  PGresult* first = nullptr;                 // the statement's result
  bool skipped = false;
  Clock::time_point deadline = Clock::time_point::max();  // answered by then, or its connection is cut
};

// Texts exec_cached prepares on one connection; those beyond run unprepared. A list shape prepared with its
// generic plan holds about 66 KB in its PostgreSQL backend (measured with pg_backend_memory_contexts), so
// 32 texts cost at most about 2 MB per reader connection; in practice clients use a handful of shapes.
constexpr std::size_t kMaxCachedPerConnection = 32;

// A read that found its connection broken before it was sent: it is sent elsewhere, as if it had not
// been given this connection.
Outcome lost_before_sent() {
  Outcome o;
  o.lost = true;
  o.unsent = true;
  o.error = "connection lost";
  return o;
}

using Completions = std::vector<std::pair<std::unique_ptr<Resumer<Outcome>>, Outcome>>;

// Class 08 (connection exception) and 57P (operator intervention: shutdown, crash): the server is ending the
// connection, and the statement may succeed on another.
bool connection_ending(const PGresult* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const std::string_view sqlstate = state ? state : "";
  return sqlstate.starts_with("08") || sqlstate.starts_with("57P");
}

// A connection in pipeline mode. Its own mutex guards libpq and the pipeline's state, so that reads on
// different connections (a list parses 50 rows) never wait for each other; choosing a connection reads the
// atomics and the fields State::mutex guards.
struct Connection {
  std::mutex m;
  PGconn* pg;
  asio::posix::stream_descriptor socket;
  std::deque<Call*> in_flight;  // sent, in the order PostgreSQL answers them
  int syncs = 0;                // Syncs sent whose PGRES_PIPELINE_SYNC is not read yet
  bool unsynced = false;        // statements sent after the last Sync
  bool sync_posted = false;     // a Sync is due once the io threads are through with what they are running
  bool reading = false;         // the reading coroutine runs
  bool flushing = false;        // a coroutine waits to write the rest of the output
  bool doomed = false;          // PostgreSQL said it is closing the connection
  bool watching = false;        // a coroutine waits for the deadline of the reads in flight
  // SQL texts prepared on this connection by exec_cached, and their statement names.
  std::unordered_map<std::string, std::string> cached;
  std::size_t cached_names = 0;  // names given out, so a name is never given twice
  std::deque<Call> preparing;    // Parses of texts not cached yet, each in flight just before its Execute

  std::atomic<std::size_t> busy{0};      // in_flight.size()
  std::atomic<std::size_t> reserved{0};  // reads given this connection and about to be sent on it
  std::atomic<bool> broken{false};
  // What the connection serves while it has reads (written under State::mutex, when it is taken with none:
  // an idle connection may be taken for any use).
  std::atomic<Use> use{Use::keyed};

  std::size_t load() const { return busy.load() + reserved.load(); }

  Connection(const asio::any_io_executor& ex, PGconn* c) : pg(c), socket(ex, PQsocket(c)) {}
  ~Connection() {
    socket.release();  // libpq owns the descriptor and closes it
    PQfinish(pg);
  }
};

// What to do once a connection's mutex is released: drop the connection when it broke, hand it on when it
// became free, resume the reads that ended.
struct After {
  Completions done;
  bool gone = false;
  bool freed = false;
};

// An acquirer parked until a connection is free: resumed with one, or with nullptr when none can be opened.
using Parked = Resumer<std::shared_ptr<Connection>>;

}  // namespace

struct Reader::State : std::enable_shared_from_this<Reader::State> {
  State(asio::any_io_executor e, std::string info, SessionLimits session_limits, std::size_t max_connections,
        std::size_t depth)
      : ex(std::move(e)),
        conninfo(std::move(info)),
        limits(session_limits),
        max(max_connections == 0 ? 1 : max_connections),
        depth(depth == 0 ? 1 : depth) {}

  asio::any_io_executor ex;
  std::string conninfo;
  SessionLimits limits;
  std::size_t max;
  std::size_t depth;
  // Connecting waits for PostgreSQL to start a backend: several at once, on threads all shards share.
  std::shared_ptr<asio::thread_pool> connector;

  mutable std::mutex mutex;  // guards what follows (and Connection::use); taken before a Connection's
  std::vector<std::shared_ptr<Connection>> connections;  // open and usable
  std::size_t opening = 0;                               // being opened
  std::deque<std::unique_ptr<Parked>> parked_alone;      // unprepared reads waiting for a free connection
  std::deque<std::unique_ptr<Parked>> parked_keyed;      // keyed reads waiting for a connection to join
  std::deque<std::unique_ptr<Parked>> parked_lists;      // list reads waiting for a connection to join
  std::atomic<std::size_t> parked{0};                    // the queues' sizes, read without the mutex
  std::atomic<std::size_t> deepest{0};

  // ---- choosing a connection (all with the mutex held) ----

  bool room() const { return connections.size() + opening < max; }

  // The connection a read of this use would be given now, or nullptr. A read alone gets an idle one. A
  // pipelined read joins the least busy pipeline of its use that is not full, else takes an idle connection,
  // else joins the least busy full one (and another is opened): reads fill a few pipelines, which is where
  // the round trips are shared, even when earlier traffic left many connections open and idle.
  std::shared_ptr<Connection> candidate(Use use) const {
    std::shared_ptr<Connection> joinable, idle, full;
    for (const auto& c : connections) {
      if (c->broken) continue;
      const std::size_t load = c->load();
      if (load == 0) {
        if (!idle) idle = c;
        continue;
      }
      if (use == Use::alone || c->use != use) continue;
      auto& slot = load < depth ? joinable : full;
      if (!slot || load < slot->load()) slot = c;
    }
    if (joinable) return joinable;
    if (idle) return idle;
    return full;
  }

  // Gives `c` to a read of this use.
  void reserve(const std::shared_ptr<Connection>& c, Use use) {
    if (use != Use::alone && c->load() >= depth && opening == 0 && room()) start_open();
    c->use = use;
    ++c->reserved;
  }

  std::deque<std::unique_ptr<Parked>>& parked_for(Use use) {
    return use == Use::alone ? parked_alone : use == Use::lists ? parked_lists : parked_keyed;
  }

  // A connection for the read at once, or nullptr. Reads alone queue behind those already waiting; a
  // pipelined read joins the least busy connection of its use (or an idle one), and opens another (in the
  // background) when that one is full.
  std::shared_ptr<Connection> take(Use use) {
    if (use == Use::alone && !parked_alone.empty()) return nullptr;
    auto c = candidate(use);
    if (c) reserve(c, use);
    return c;
  }

  // Hands connections to parked reads, oldest first, and opens more while reads wait.
  void dispatch() {
    for (Use use : {Use::alone, Use::keyed, Use::lists}) {
      auto& queue = parked_for(use);
      while (!queue.empty()) {
        auto c = candidate(use);
        if (!c) break;
        reserve(c, use);
        queue.front()->resume(std::move(c));
        queue.pop_front();
      }
    }
    parked_changed();
    const std::size_t wanted =
        parked_alone.size() + (parked_keyed.empty() ? 0 : 1) + (parked_lists.empty() ? 0 : 1);
    while (opening < wanted && room())
      start_open();
  }

  void parked_changed() { parked = parked_alone.size() + parked_keyed.size() + parked_lists.size(); }

  // Opens a connection on the connector threads (connecting blocks); it joins the others when ready.
  void start_open() {
    ++opening;
    asio::post(*connector, [self = shared_from_this()] {
      PGconn* pg = nullptr;
      try {
        pg = open_connection(self->conninfo, self->limits);
      } catch (const ConnectionLost& e) {
        if (const auto n = read_connect_failures.tick())
          spdlog::warn("db read connection failed: {} ({} failures since the last such line)", e.what(), n);
      }
      std::lock_guard lock(self->mutex);
      self->opened(pg);
    });
  }

  void opened(PGconn* pg) {
    --opening;
    if (pg) {
      connections.push_back(std::make_shared<Connection>(ex, pg));
    } else if (connections.empty()) {
      // The database is unreachable: the waiting reads fail now rather than wait for it (opens still under
      // way go on, and serve the reads that come next).
      for (Use use : {Use::alone, Use::keyed, Use::lists}) {
        for (auto& p : parked_for(use))
          p->resume(nullptr);
        parked_for(use).clear();
      }
      parked_changed();
      return;
    }
    dispatch();
  }

  // Resumes with nullptr the parked reads past their deadline (no connection came in time).
  void expire_parked() {
    const auto now = Clock::now();
    for (Use use : {Use::alone, Use::keyed, Use::lists}) {
      auto& queue = parked_for(use);
      for (auto it = queue.begin(); it != queue.end();) {
        if ((*it)->deadline <= now) {
          (*it)->resume(nullptr);
          it = queue.erase(it);
        } else {
          ++it;
        }
      }
    }
    parked_changed();
  }

  // A connection for the read: at once, or once one is free or opened; nullptr when the database is down or
  // none came by `deadline`.
  asio::awaitable<std::shared_ptr<Connection>> acquire(Use use, Clock::time_point deadline) {
    std::shared_ptr<Connection> now;
    {
      std::lock_guard lock(mutex);
      now = take(use);
    }
    if (now) co_return now;
    co_return co_await park(use, deadline);
  }

  // Not a coroutine: the initiation's closure never goes through a coroutine frame (GCC 12 mishandles those).
  asio::awaitable<std::shared_ptr<Connection>> park(Use use, Clock::time_point deadline) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(std::shared_ptr<Connection>)>(
        [self = shared_from_this(), use, deadline](auto handler) {
          auto parked = resumer<std::shared_ptr<Connection>>(std::move(handler));
          parked->deadline = deadline;
          std::lock_guard lock(self->mutex);
          if (auto c = self->take(use)) {
            parked->resume(std::move(c));
            return;
          }
          self->parked_for(use).push_back(std::move(parked));
          self->dispatch();
          if (deadline == Clock::time_point::max()) return;
          auto timer = std::make_shared<asio::steady_timer>(self->ex, deadline);
          timer->async_wait([self, timer](const boost::system::error_code&) {
            std::lock_guard lock(self->mutex);
            self->expire_parked();
          });
        },
        asio::use_awaitable);
  }

  // ---- sending ----

  // Sends the call's statement on `c` (the reading coroutine completes it). Caller holds c->m.
  void send(const std::shared_ptr<Connection>& c, Call& call, After& after) {
    --c->reserved;
    if (c->broken) {
      after.done.emplace_back(std::move(call.waiter), lost_before_sent());
      return;
    }
    std::vector<const char*> values;
    values.reserve(call.params->size());
    for (const auto& p : *call.params)
      values.push_back(p ? p->c_str() : nullptr);
    const int n = static_cast<int>(values.size());
    const char* statement = call.statement;
    if (call.cache) {
      // A Parse of a text new to the connection goes into the pipeline just ahead of its Execute.
      auto it = c->cached.find(*call.sql);
      if (it == c->cached.end() && c->cached.size() < kMaxCachedPerConnection) {
        std::string name = "reader_cached_" + std::to_string(++c->cached_names);
        if (!PQsendPrepare(c->pg, name.c_str(), call.sql->c_str(), n, nullptr)) {
          after.done.emplace_back(std::move(call.waiter), lost_before_sent());
          fail(*c, error_of(c->pg), after);
          return;
        }
        c->preparing.emplace_back();
        c->preparing.back().sql = call.sql;
        c->in_flight.push_back(&c->preparing.back());
        it = c->cached.emplace(*call.sql, std::move(name)).first;
      }
      if (it != c->cached.end()) statement = it->second.c_str();
    }
    const int sent = statement ? PQsendQueryPrepared(c->pg, statement, n, values.data(), nullptr, nullptr, 0)
                               : PQsendQueryParams(c->pg, call.sql->c_str(), n, nullptr, values.data(),
                                                   nullptr, nullptr, 0);
    c->in_flight.push_back(&call);
    const std::size_t depth_now = c->in_flight.size();
    c->busy = depth_now;
    for (std::size_t d = deepest; depth_now > d && !deepest.compare_exchange_weak(d, depth_now);) {
    }
    if (!sent) {
      fail(*c, error_of(c->pg), after);
      return;
    }
    c->unsynced = true;
    if (call.alone) {
      sync(c, after);  // alone on the connection: nothing to wait for (cached or not)
    } else if (!c->sync_posted) {
      // Statements sent until this runs share its Sync: one write, one round trip.
      c->sync_posted = true;
      asio::post(ex, [self = shared_from_this(), c] {
        After later;
        {
          std::lock_guard lock(c->m);
          c->sync_posted = false;
          self->sync(c, later);
        }
        self->finish(c, later);
      });
    }
    if (!c->reading && !c->broken) {
      c->reading = true;
      asio::co_spawn(c->socket.get_executor(), read_loop(shared_from_this(), c), asio::detached);
    }
    if (!c->watching && !c->broken && call.deadline != Clock::time_point::max()) {
      c->watching = true;
      asio::co_spawn(c->socket.get_executor(), deadline_loop(shared_from_this(), c, call.deadline),
                     asio::detached);
    }
  }

  // While reads are in flight on `c`, cuts the connection once one of them is past its deadline: a database
  // that stopped answering (stopped processes, a hung host, a partition with no reset) never wakes the read
  // loop, and PostgreSQL's own timeouts cannot fire. Its reads fail as unanswered (not retried). Wakes at
  // the earliest deadline in flight when it last looked (a read sent later with an earlier one, after a wait
  // for a connection, is cut up to one answer timeout late).
  static asio::awaitable<void> deadline_loop(std::shared_ptr<State> self, std::shared_ptr<Connection> c,
                                             Clock::time_point due) {
    asio::steady_timer timer(c->socket.get_executor());
    for (;;) {
      timer.expires_at(due);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      After after;
      bool done = false;
      {
        std::lock_guard lock(c->m);
        const auto now = Clock::now();
        due = Clock::time_point::max();
        bool late = false;
        for (const Call* call : c->in_flight) {
          if (!call->waiter) continue;  // the connection's own Parse
          late = late || call->deadline <= now;
          due = std::min(due, call->deadline);
        }
        if (late && !c->broken) self->fail(*c, "no answer in time", after, /*unanswered=*/true);
        if (c->broken || due == Clock::time_point::max()) {
          c->watching = false;
          done = true;
        }
      }
      self->finish(c, after);
      if (done) co_return;
    }
  }

  // Ends the statements sent so far with a Sync and writes them. Caller holds c->m.
  void sync(const std::shared_ptr<Connection>& c, After& after) {
    if (c->broken || !c->unsynced) return;
    if (PQpipelineSync(c->pg) != 1) {
      fail(*c, error_of(c->pg), after);
      return;
    }
    c->unsynced = false;
    ++c->syncs;
    const int f = PQflush(c->pg);
    if (f < 0) {
      fail(*c, error_of(c->pg), after);
    } else if (f > 0 && !c->flushing) {
      c->flushing = true;
      asio::co_spawn(c->socket.get_executor(), flush_loop(shared_from_this(), c), asio::detached);
    }
  }

  // Writes what the socket did not take at once.
  static asio::awaitable<void> flush_loop(std::shared_ptr<State> self, std::shared_ptr<Connection> c) {
    for (;;) {
      auto [ec] = co_await c->socket.async_wait(asio::posix::stream_descriptor::wait_write,
                                                asio::as_tuple(asio::use_awaitable));
      After after;
      bool more = false;
      {
        std::lock_guard lock(c->m);
        if (ec) {
          self->fail(*c, ec.message(), after);
        } else if (!c->broken) {
          const int f = PQflush(c->pg);
          if (f < 0) self->fail(*c, error_of(c->pg), after);
          more = f > 0;
        }
        if (!more) c->flushing = false;
      }
      self->finish(c, after);
      if (!more) co_return;
    }
  }

  // ---- receiving ----

  // Reads the answers while reads are in flight on `c`, and completes each read as its answer ends.
  static asio::awaitable<void> read_loop(std::shared_ptr<State> self, std::shared_ptr<Connection> c) {
    for (;;) {
      // Waiting is safe with Asio's edge-triggered epoll: a wait re-arms the descriptor (EPOLL_CTL_MOD),
      // which reports data that arrived before it.
      auto [ec] = co_await c->socket.async_wait(asio::posix::stream_descriptor::wait_read,
                                                asio::as_tuple(asio::use_awaitable));
      After after;
      bool finished = false;
      {
        std::lock_guard lock(c->m);
        if (c->broken) {
          finished = true;
        } else if (ec) {
          self->fail(*c, ec.message(), after);
          finished = true;
        } else if (!PQconsumeInput(c->pg) || PQstatus(c->pg) != CONNECTION_OK) {
          self->fail(*c, error_of(c->pg), after);
          finished = true;
        } else {
          const bool had = !c->in_flight.empty();
          collect(*c, after.done);
          if (c->doomed) {
            self->fail(*c, "the server is closing the connection", after);
            finished = true;
          } else {
            after.freed = had && c->in_flight.empty();
            finished = c->in_flight.empty() && c->syncs == 0;
          }
        }
        if (finished) c->reading = false;
      }
      self->finish(c, after);
      if (finished) co_return;
    }
  }

  // Takes every complete answer from libpq's buffer. Caller holds c.m.
  static void collect(Connection& c, Completions& done) {
    // Once the server has said it is closing the connection, what is still in flight is lost (and retried).
    while ((!c.in_flight.empty() || c.syncs > 0) && !c.doomed && !PQisBusy(c.pg)) {
      PGresult* r = PQgetResult(c.pg);
      Call* front = c.in_flight.empty() ? nullptr : c.in_flight.front();
      if (!r) {
        // The end of the front statement's answer.
        if (!front || (!front->first && !front->skipped)) break;
        Outcome o;
        o.rows = Rows(front->first);
        o.skipped = front->skipped && !front->first;
        front->first = nullptr;
        c.in_flight.pop_front();
        if (front->waiter) {
          done.emplace_back(std::move(front->waiter), std::move(o));
        } else {
          // Our own Parse. When it failed (its Execute is skipped, and sent again unprepared), forget the
          // text.
          if (PQresultStatus(o.rows.result()) != PGRES_COMMAND_OK) c.cached.erase(*front->sql);
          c.preparing.pop_front();  // it is the oldest: PostgreSQL answers in the order things were sent
        }
        c.busy = c.in_flight.size();
        continue;
      }
      switch (PQresultStatus(r)) {
        case PGRES_PIPELINE_SYNC:
          --c.syncs;
          PQclear(r);
          break;
        case PGRES_PIPELINE_ABORTED:
          if (front) front->skipped = true;
          PQclear(r);
          break;
        case PGRES_FATAL_ERROR:
          if (connection_ending(r)) c.doomed = true;
          [[fallthrough]];
        default:
          if (front && !front->first)
            front->first = r;
          else
            PQclear(r);
      }
    }
  }

  // Marks a connection broken: its reads are handed back as lost (to be retried elsewhere). Caller holds c.m.
  static void fail(Connection& c, const std::string& why, After& after, bool unanswered = false) {
    if (c.broken) return;
    c.broken = true;
    for (Call* call : c.in_flight) {
      PQclear(call->first);
      call->first = nullptr;
      if (!call->waiter) continue;  // the connection's own Parse
      Outcome o;
      o.lost = true;
      o.unanswered = unanswered;
      o.error = why;
      after.done.emplace_back(std::move(call->waiter), std::move(o));
    }
    c.in_flight.clear();
    c.preparing.clear();
    c.busy = 0;
    // Ends the socket for the reading coroutine too (it may wait on a connection that is still up); the last
    // reference closes the connection.
    ::shutdown(PQsocket(c.pg), SHUT_RDWR);
    after.gone = true;
  }

  // With c->m released: drops or hands on the connection, then resumes the reads that ended.
  void finish(const std::shared_ptr<Connection>& c, After& after) {
    if (after.gone) {
      // Dropped before its reads are resumed, so that their retries (on another io thread) cannot pick it.
      std::lock_guard lock(mutex);
      std::erase(connections, c);
      dispatch();
    } else if (after.freed && parked > 0) {
      // Usually not: a drained pipeline costs no reader-wide lock. (A read that parks stores `parked` after
      // it saw this connection busy; we read it after storing `busy`: one of the two sees the other.)
      std::lock_guard lock(mutex);
      dispatch();
    }
    complete(after.done);
  }

  static void complete(Completions& done) {
    for (auto& [waiter, outcome] : done)
      waiter->resume(std::move(outcome));
    done.clear();
  }

  // Sends the call on `c` and suspends until its answer is in.
  asio::awaitable<Outcome> execute(std::shared_ptr<Connection> c, Call& call) {
    return asio::async_initiate<decltype(asio::use_awaitable), void(Outcome)>(
        [self = shared_from_this(), c = std::move(c), &call](auto handler) {
          call.waiter = resumer<Outcome>(std::move(handler));
          After after;
          {
            std::lock_guard lock(c->m);
            self->send(c, call, after);
          }
          self->finish(c, after);
        },
        asio::use_awaitable);
  }
};

Reader::Reader(asio::any_io_executor ex, std::string conninfo, std::size_t max_connections,
               std::size_t pipeline_depth, SessionLimits limits)
    : Reader(std::vector<asio::any_io_executor>{std::move(ex)}, std::move(conninfo), max_connections,
             pipeline_depth, limits) {}

Reader::Reader(std::vector<asio::any_io_executor> executors, std::string conninfo,
               std::size_t max_connections, std::size_t pipeline_depth, SessionLimits limits) {
  if (executors.empty()) throw std::invalid_argument("db::Reader needs an executor");
  // `max_connections` in all, shared out as evenly as they go: one set an executor while there are as many
  // connections, else one a connection, executors beyond them using another's set in turn (a read resumes
  // on its own executor all the same). A set of (max + n - 1) / n for each, at least one, opened one
  // connection an io thread past the bound (8 with --http-threads=8 --db-pool-size=1).
  const std::size_t max = std::max<std::size_t>(max_connections, 1);
  const std::size_t sets = std::min(executors.size(), max);
  auto connector = std::make_shared<asio::thread_pool>(4);
  for (std::size_t i = 0; i < executors.size(); ++i) {
    const auto* context = &asio::query(executors[i], asio::execution::context);
    if (i < sets) {
      const std::size_t each = max / sets + (i < max % sets ? 1 : 0);
      states_.push_back(std::make_shared<State>(executors[i], conninfo, limits, each, pipeline_depth));
      states_.back()->connector = connector;
    }
    shards_.push_back({context, states_[i % sets]});
  }
}

Reader::~Reader() {
  states_.front()->connector->join();
}

const std::shared_ptr<Reader::State>& Reader::shard(const asio::any_io_executor& ex) const {
  const auto* context = &asio::query(ex, asio::execution::context);
  for (const auto& s : shards_)
    if (s.context == context) return s.state;
  return shards_.front().state;
}

std::size_t Reader::open_connections() const {
  std::size_t n = 0;
  for (const auto& state : states_) {
    std::lock_guard lock(state->mutex);
    n += state->connections.size() + state->opening;
  }
  return n;
}

std::size_t Reader::waiting() const {
  std::size_t n = 0;
  for (const auto& state : states_)
    n += state->parked;
  return n;
}

std::size_t Reader::deepest_pipeline() const {
  std::size_t n = 0;
  for (const auto& state : states_)
    n = std::max<std::size_t>(n, state->deepest);
  return n;
}

asio::awaitable<Rows> Reader::exec_prepared(const Statement& statement, std::vector<Param> params) {
  Request r;
  r.statement = statement.name;
  r.params = std::move(params);
  co_return co_await run(std::move(r));
}

asio::awaitable<Rows> Reader::exec_params(std::string sql, std::vector<Param> params) {
  Request r;
  r.sql = std::move(sql);
  r.params = std::move(params);
  co_return co_await run(std::move(r));
}

asio::awaitable<Rows> Reader::exec_cached(std::string sql, std::vector<Param> params) {
  Request r;
  r.sql = std::move(sql);
  r.params = std::move(params);
  r.cache = true;
  co_return co_await run(std::move(r));
}

asio::awaitable<Rows> Reader::run(Request request) {
  // A connection that broke while idle (database restart) is only found out by using it: the read is
  // retried once on another, which is a new one if every open connection went the same way. A read that
  // PostgreSQL skipped (another read in its pipeline failed) is sent again, alone.
  // The connections of the io_context this read is awaited on: their sockets wait on this very thread (unless
  // it shares another's set, when there are fewer connections than io threads).
  const std::shared_ptr<State> state = shard(co_await asio::this_coro::executor);
  Use use = request.statement ? Use::keyed : request.cache ? Use::lists : Use::alone;
  // The whole read, waits for a connection and retries included, is answered by then (SessionLimits::answer).
  const auto answer = state->limits.answer;
  const auto deadline = answer.count() > 0 ? Clock::now() + answer : Clock::time_point::max();
  auto unanswered = [&] {
    if (const auto n = reads_unanswered.tick())
      spdlog::warn("db read not answered within {} ms ({} since the last such line)", answer.count(), n);
    return unanswered_error(answer);
  };
  for (int lost = 0;;) {
    std::shared_ptr<Connection> c = co_await state->acquire(use, deadline);
    if (!c && Clock::now() >= deadline) throw unanswered();
    if (!c) throw Error(Errc::unavailable, "the database is unavailable");
    Call call;
    call.statement = request.statement;
    call.sql = &request.sql;
    call.params = &request.params;
    call.cache = request.cache;
    call.alone = use == Use::alone;
    call.deadline = deadline;
    Outcome o = co_await state->execute(std::move(c), call);
    if (o.unanswered) throw unanswered();
    if (o.skipped) {
      // Sent again alone, and unprepared: when what failed was the text's own Parse, that way it reports the
      // statement's own error.
      use = Use::alone;
      request.cache = false;
      continue;
    }
    if (o.lost) {
      if (o.unsent) continue;  // the connection was found broken before the read was sent
      if (lost++ > 0) {
        if (const auto n = read_connections_lost.tick())
          spdlog::warn("db read connection lost: {} ({} reads since the last such line)", o.error, n);
        throw Error(Errc::unavailable, "the database is unavailable");
      }
      continue;
    }
    const PGresult* res = o.rows.result();
    const auto status = PQresultStatus(res);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) co_return std::move(o.rows);
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const std::string sqlstate = state ? state : "";
    if (request.cache && sqlstate == "26000") {
      // The text's Parse failed in an earlier pipeline segment (a segment's error does not skip the next
      // one) after this read had been sent with its name: sent again unprepared, it reports its own error.
      use = Use::alone;
      request.cache = false;
      continue;
    }
    const std::string message = PQresultErrorMessage(res);
    if (cancelled_state(sqlstate)) {
      spdlog::warn("db read cancelled: {}", message);
      throw cancelled_error();
    }
    // Named: GCC 12 destroys a conditional's temporary twice in a coroutine.
    std::string query = request.sql;
    if (request.statement) query = request.statement;
    throw pqxx::sql_error(message, query, sqlstate.empty() ? nullptr : sqlstate.c_str());
  }
}

}  // namespace todo::db

// db::Pool: connection threads, statement preparation and translation of library errors.
#include "todo/db/pool.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "todo/core/error.hpp"
#include "todo/core/log.hpp"
#include "todo/db/conninfo.hpp"

namespace todo::db {
namespace {

// While the database is down every request fails alike: one line in 10 s for each kind, with the count.
constexpr std::chrono::seconds kFailureReportPeriod{10};
log::Throttle connect_failures(kFailureReportPeriod);
log::Throttle connections_lost(kFailureReportPeriod);
log::Throttle unavailable(kFailureReportPeriod);
log::Throttle unanswered(kFailureReportPeriod);

using Clock = std::chrono::steady_clock;

// The status of transaction `xid` (pg_xact_status) read on a new connection with libpq's non-blocking API, so
// that neither connecting nor the answer waits past `deadline`. Throws std::runtime_error saying why not.
std::string xact_status(const std::string& conninfo, const std::string& xid, Clock::time_point deadline) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> pg(PQconnectStart(conninfo.c_str()), &PQfinish);
  if (!pg) throw std::runtime_error("out of memory");
  const auto failed = [&] {
    std::string e = PQerrorMessage(pg.get());
    while (!e.empty() && (e.back() == '\n' || e.back() == ' '))
      e.pop_back();
    return std::runtime_error(e);
  };
  const auto late = [] { return std::runtime_error("the database did not answer in time"); };
  if (PQstatus(pg.get()) == CONNECTION_BAD) throw failed();
  for (auto s = PGRES_POLLING_WRITING; s != PGRES_POLLING_OK; s = PQconnectPoll(pg.get())) {
    if (s == PGRES_POLLING_FAILED) throw failed();
    if (!ready_by(PQsocket(pg.get()), s == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) throw late();
  }
  if (PQsetnonblocking(pg.get(), 1) != 0) throw failed();
  const char* values[] = {xid.c_str()};
  if (!PQsendQueryParams(pg.get(), "SELECT pg_xact_status($1::xid8)", 1, nullptr, values, nullptr, nullptr,
                         0))
    throw failed();
  for (int f; (f = PQflush(pg.get())) != 0;) {
    if (f < 0) throw failed();
    if (!ready_by(PQsocket(pg.get()), POLLIN | POLLOUT, deadline)) throw late();
    if (!PQconsumeInput(pg.get())) throw failed();
  }
  while (PQisBusy(pg.get())) {
    if (!ready_by(PQsocket(pg.get()), POLLIN, deadline)) throw late();
    if (!PQconsumeInput(pg.get())) throw failed();
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> r(PQgetResult(pg.get()), &PQclear);
  if (!r) throw failed();
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK || PQntuples(r.get()) != 1)
    throw std::runtime_error(PQresultErrorMessage(r.get()));
  return PQgetisnull(r.get(), 0, 0) ? "" : PQgetvalue(r.get(), 0, 0);
}

// True when the server has closed an idle connection (a database restart): better found before a job runs on
// it than by failing that job.
bool closed_by_server(pqxx::connection& c) {
  if (!c.is_open()) return true;
  pollfd p{c.sock(), POLLIN | POLLRDHUP, 0};
  if (p.fd < 0) return true;
  const int r = ::poll(&p, 1, 0);
  if (r <= 0) return false;  // nothing pending: alive
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) return true;
  // Data on an idle connection: a notification, or the server's goodbye (FATAL 57P01) before it closes.
  try {
    c.get_notifs();
  } catch (const std::exception&) {
    return true;
  }
  return !c.is_open();
}

}  // namespace

Pool::Pool(std::string conninfo, std::size_t size, SessionLimits limits, bool connect_now)
    : conninfo_(std::move(conninfo)), limits_(limits), connect_now_(connect_now) {
  if (size == 0) size = 1;
  running_.resize(size);
  setups_.resize(size);
  threads_.reserve(size);
  for (std::size_t i = 0; i < size; ++i)
    threads_.emplace_back([this, i] { worker(i); });
  if (limits_.answer.count() > 0) watcher_ = std::thread([this] { watch(); });
}

Pool::~Pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (Idle* w : idle_)
      w->cv.notify_one();
  }
  for (auto& t : threads_)
    t.join();
  {
    std::lock_guard lock(mutex_);
    watch_stopping_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void Pool::warm_up() {
  // A job that does nothing for each thread: a thread opens its connection before it runs a job. The idle
  // threads take one each (a job goes to the most recently idle).
  struct Open final : Job {
    bool run(pqxx::connection*) override { return true; }
    void deliver() override {}
    void refuse(std::exception_ptr) override {}
    void cut_off(std::chrono::milliseconds) override {}
  };
  for (std::size_t i = 0; i < threads_.size(); ++i)
    submit(std::make_unique<Open>(), std::chrono::steady_clock::now());
}

std::size_t Pool::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void Pool::submit(std::unique_ptr<Job> job, std::chrono::steady_clock::time_point since) {
  if (limits_.answer.count() > 0) {
    job->deadline = since + limits_.answer;
    if (job->deadline <= std::chrono::steady_clock::now()) {
      job->refuse(std::make_exception_ptr(unanswered_error(limits_.answer)));
      job->deliver();
      return;
    }
  }
  std::lock_guard lock(mutex_);
  if (idle_.empty()) {
    queue_.push_back(std::move(job));
    return;
  }
  Idle* w = idle_.back();
  idle_.pop_back();
  w->job = std::move(job);
  w->cv.notify_one();
}

std::unique_ptr<pqxx::connection> Pool::open_connection(std::size_t index) {
  auto c = std::make_unique<pqxx::connection>(conninfo_);
  if (limits_.answer.count() == 0) {
    prepare_session(*c, limits_);
    return c;
  }
  {
    std::lock_guard lock(mutex_);
    setups_[index] = Setup{c->sock(), Clock::now() + limits_.answer, false};
  }
  // Out of the watcher's sight before the connection may be closed: it never shuts down a socket number
  // used again.
  const auto done = [&] {
    std::lock_guard lock(mutex_);
    const bool cut = setups_[index].cut;
    setups_[index] = Setup{};
    return cut;
  };
  const auto unanswered = [&] {
    return std::runtime_error("the database did not answer the session's setup within " +
                              std::to_string(limits_.answer.count()) + " ms");
  };
  try {
    prepare_session(*c, limits_);
  } catch (const std::exception&) {
    if (done()) throw unanswered();
    throw;
  }
  if (done()) throw unanswered();  // cut just as it was answered
  return c;
}

void Pool::worker(std::size_t index) {
  std::unique_ptr<pqxx::connection> conn;
  auto open = [&] {
    try {
      conn = open_connection(index);
    } catch (const std::exception& e) {
      if (const auto n = connect_failures.tick())
        spdlog::warn("db connection {} failed: {} ({} connection failures since the last such line)", index,
                     e.what(), n);
    }
  };
  // Connected now rather than for the first job: work goes to the connections used last, so the others may
  // wait unused for a long time, and the first burst that needs them all should not start their backends.
  if (connect_now_) open();
  Idle self;
  std::unique_ptr<Job> done;  // run, its outcome not yet delivered
  auto deliver = [&] {
    if (!done) return;
    done->deliver();
    done.reset();
  };
  for (;;) {
    std::unique_ptr<Job> job;
    {
      std::unique_lock lock(mutex_);
      if (!queue_.empty()) {
        job = std::move(queue_.front());
        queue_.pop_front();
      } else if (stopping_) {
        // The queue is drained before stopping, so that no awaiting coroutine is left hanging.
        lock.unlock();
        deliver();
        return;
      } else {
        // Back in the idle list before the outcome is delivered: an awaiter that submits its next job at
        // once finds this connection again.
        idle_.push_back(&self);
        lock.unlock();
        deliver();
        lock.lock();
        self.cv.wait(lock, [&] { return self.job || stopping_; });
        if (!self.job) {
          std::erase(idle_, &self);
          return;
        }
        job = std::move(self.job);
      }
      if (job->deadline <= std::chrono::steady_clock::now()) {
        // Waited for a connection past its deadline (the watcher had not come round to it yet).
        job->refuse(std::make_exception_ptr(unanswered_error(limits_.answer)));
        lock.unlock();
        deliver();
        done = std::move(job);
        continue;
      }
      running_[index] = Running{job.get(), -1, false};
    }
    deliver();
    if (conn && closed_by_server(*conn)) {
      spdlog::info("db connection {} was closed by the server; reconnecting", index);
      conn.reset();
    }
    if (!conn) open();  // the watcher answers the job should this outlast its deadline
    {
      std::lock_guard lock(mutex_);
      if (job->answered) {
        running_[index] = Running{};
        job.reset();
        continue;
      }
      if (conn) running_[index].fd = conn->sock();
    }
    bool keep = job->run(conn.get());
    {
      // Before the connection may be closed: the watcher never shuts down a socket number used again.
      std::lock_guard lock(mutex_);
      if (running_[index].cut) {
        job->cut_off(limits_.answer);
        keep = false;
      }
      running_[index] = Running{};
    }
    if (!keep || (conn && !conn->is_open())) conn.reset();
    done = std::move(job);
  }
}

void Pool::watch() {
  // A few times a deadline, not at each: waking this thread for every job would cost the jobs a wake-up.
  const auto period = std::clamp<std::chrono::milliseconds>(limits_.answer / 4, std::chrono::milliseconds(10),
                                                            std::chrono::milliseconds(250));
  const auto refusal = [this] { return std::make_exception_ptr(unanswered_error(limits_.answer)); };
  std::unique_lock lock(mutex_);
  while (!watch_stopping_) {
    watch_cv_.wait_for(lock, period, [this] { return watch_stopping_; });
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<Job>> expired;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if ((*it)->deadline <= now) {
        expired.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    std::size_t cut = 0;
    for (auto& r : running_) {
      if (!r.job || r.cut || r.job->answered || r.job->deadline > now) continue;
      if (r.fd >= 0) {
        // The worker's blocked libpq call wakes up to a closed connection.
        ::shutdown(r.fd, SHUT_RDWR);
        r.cut = true;
      } else {
        // Still opening its connection: nothing was sent. Answered now (under the lock: the worker drops
        // the job once it sees it answered).
        r.job->answered = true;
        r.job->refuse(refusal());
        r.job->deliver();
      }
      ++cut;
    }
    for (auto& s : setups_) {
      if (s.fd < 0 || s.cut || s.until > now) continue;
      ::shutdown(s.fd, SHUT_RDWR);  // the worker's blocked setup fails; it reports that itself
      s.cut = true;
    }
    if (expired.empty() && cut == 0) continue;
    lock.unlock();
    for (auto& job : expired) {
      job->refuse(refusal());
      job->deliver();
    }
    if (const auto n = unanswered.tick())
      spdlog::warn(
          "db: a request's transaction or read was not answered within {} ms ({} since the last such line)",
          limits_.answer.count(), n);
    expired.clear();
    lock.lock();
  }
}

void Pool::commit(pqxx::work& w) {
  // The transaction's id, if it has one (it wrote something): what to look up when the commit is in doubt.
  std::optional<std::string> xid;
  {
    const auto row = w.exec1("SELECT pg_current_xact_id_if_assigned()::text");
    if (!row[0].is_null()) xid = row[0].c_str();
  }
  try {
    w.commit();
    return;
  } catch (const pqxx::in_doubt_error& e) {
    if (!xid) throw Error(Errc::unavailable, "the database connection was lost; nothing was written");
    spdlog::warn("db commit in doubt (transaction {}): {}; looking up its outcome", *xid, e.what());
  }
  const auto deadline = Clock::now() + kInDoubtPatience;
  std::string last_error;
  while (Clock::now() < deadline) {
    try {
      const std::string status = xact_status(conninfo_, *xid, deadline);
      if (status == "committed") {
        spdlog::info("db commit in doubt: transaction {} committed", *xid);
        return;
      }
      if (status == "aborted") {
        spdlog::info("db commit in doubt: transaction {} was rolled back", *xid);
        throw Error(Errc::unavailable, "the database connection was lost during commit; nothing was written");
      }
      last_error = "transaction " + *xid + " is " + (status.empty() ? "unknown" : status);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      last_error = e.what();  // the database is still away: it may be restarting
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  spdlog::error("db commit in doubt: the outcome of transaction {} is unknown ({})", *xid, last_error);
  throw Error(Errc::unavailable,
              "the database connection was lost during commit and whether the change was written is unknown; "
              "read it back before trying again");
}

void Pool::throw_unavailable() {
  throw LostConnection();
}

void Pool::retry_after_rollback(const char* sqlstate, const std::exception& e, int attempt) {
  if (attempt >= kTransactAttempts) {
    spdlog::warn("transaction rolled back {} times (SQLSTATE {}): {}", attempt, sqlstate, e.what());
    throw Error(Errc::unavailable, "the database rolled the change back " + std::to_string(attempt) +
                                       " times to resolve conflicts with concurrent changes; try again");
  }
  spdlog::info("transaction rolled back (SQLSTATE {}), running it again: {}", sqlstate, e.what());
  // Not at once: the transaction that won is still running, and waking up to take the lock this one held
  // takes it a moment. A run again that started at once could take that lock first and deadlock with the
  // winner a second time (seen in test_db). A few milliseconds, more after each attempt, spread at random so
  // that two losers do not meet again.
  thread_local std::minstd_rand random{std::random_device{}()};
  std::uniform_int_distribution<int> ms(2 * attempt, 10 * attempt);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(random)));
}

bool Pool::is_lost_connection(std::exception_ptr ep) {
  if (!ep) return false;
  try {
    std::rethrow_exception(ep);
  } catch (const LostConnection&) {
    return true;
  } catch (...) {
    return false;
  }
}

bool Pool::is_connection_error(std::exception_ptr ep) {
  if (!ep) return false;
  try {
    std::rethrow_exception(ep);
  } catch (const Error& e) {
    return e.code() == Errc::unavailable;
  } catch (...) {
    return false;
  }
}

std::exception_ptr Pool::translate(std::exception_ptr ep) {
  try {
    std::rethrow_exception(ep);
  } catch (const pqxx::broken_connection& e) {
    if (const auto n = connections_lost.tick())
      spdlog::warn("db connection lost: {} ({} lost since the last such line)", e.what(), n);
    return std::make_exception_ptr(LostConnection());
  } catch (const pqxx::in_doubt_error& e) {
    spdlog::error("db commit in doubt: {}", e.what());
    return std::make_exception_ptr(
        Error(Errc::unavailable, "the database connection was lost during commit"));
  } catch (const pqxx::sql_error& e) {
    // Class 08 (connection exception) and 57P (operator intervention: shutdown, crash) mean "try again
    // later".
    const std::string state = e.sqlstate();
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0) {
      if (const auto n = unavailable.tick())
        spdlog::warn("db unavailable: {} ({} times since the last such line)", e.what(), n);
      return std::make_exception_ptr(LostConnection());
    }
    if (cancelled_state(state)) {
      spdlog::warn("db statement cancelled: {}", e.what());
      return std::make_exception_ptr(cancelled_error());
    }
    return ep;
  } catch (...) {
    return ep;
  }
}

}  // namespace todo::db

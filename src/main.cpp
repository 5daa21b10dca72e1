// todo-server: reads the configuration, migrates the database and wires the modules together. Nothing else.
#include <execinfo.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <utility>

#include "todo/api/context.hpp"
#include "todo/auth/password.hpp"
#include "todo/chat/llm.hpp"
#include "todo/core/config.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/log.hpp"
#include "todo/core/text.hpp"
#include "todo/db/conninfo.hpp"
#include "todo/db/migrations.hpp"
#include "todo/events/bus.hpp"
#include "todo/events/kafka.hpp"
#include "todo/events/outbox.hpp"
#include "todo/events/relay.hpp"
#include "todo/http/server.hpp"
#include "todo/metrics/process_metrics.hpp"
#include "todo/realtime/gateway.hpp"
#include "todo/reminders/scheduler.hpp"
#include "todo/reminders/service.hpp"
#include "todo/tasks/create_batcher.hpp"
#include "todo/tasks/service.hpp"

namespace asio = boost::asio;
using namespace todo;

namespace {

// SIGTERM or SIGINT before the database is migrated (while it waits for the database): the wait ends, and
// the process exits 0 as it would once serving. Set by the server's own signal handling too.
volatile std::sig_atomic_t early_stop = 0;
void on_early_stop(int) {
  early_stop = 1;
}

enum class Migrated { yes, failed, stopped };

// Applies migrations, waiting for the database while it is not reachable (a replica may start before
// PostgreSQL): up to `patience` (`migrate`), or as long as it takes (`serve`, which serves its probes
// meanwhile). `waiting` hears what it waits for.
Migrated migrate(const Config& cfg, std::chrono::seconds patience,
                 const std::function<void(std::string)>& waiting) {
  const auto deadline = patience == std::chrono::seconds::max() ? std::chrono::steady_clock::time_point::max()
                                                                : std::chrono::steady_clock::now() + patience;
  for (int attempt = 1;; ++attempt) {
    if (early_stop) return Migrated::stopped;
    try {
      pqxx::connection c(cfg.database_url);
      waiting("its migrations");
      const int applied = db::migrate(c, std::numeric_limits<int>::max(), [&waiting] {
        waiting("another replica's migrations (the migration lock is held)");
        return early_stop != 0;
      });
      log::event(spdlog::level::info, "database migrated",
                 {{"applied", applied}, {"version", db::current_version(c)}});
      return Migrated::yes;
    } catch (const db::MigrationStopped&) {
      return Migrated::stopped;
    } catch (const pqxx::broken_connection& broken) {
      const std::string_view what = trim(broken.what());  // libpq ends its messages with a newline
      // libpq's words for a value it refuses ("invalid integer value …", "invalid sslmode value …"): no retry
      // mends those (the configuration check catches the ones it knows).
      if (db::refuses_a_value(what)) {
        spdlog::critical("invalid DATABASE_URL: {}", what);
        return Migrated::failed;
      }
      waiting("the database (not reachable yet)");
      if (std::chrono::steady_clock::now() > deadline) {
        spdlog::critical("cannot reach the database (DATABASE_URL): {}", what);
        return Migrated::failed;
      }
      spdlog::warn("database not reachable yet (attempt {}): {}", attempt, what);
      for (int i = 0; i < 10 && !early_stop; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } catch (const std::exception& e) {
      spdlog::critical("migration failed: {}", trim(e.what()));
      return Migrated::failed;
    }
  }
}

std::string url_of(const asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) {
    // RFC 6874: a zone in a URL is written "%25" ("http://[fe80::1%25eth0]:8080").
    if (const auto zone = host.find('%'); zone != std::string::npos) host.replace(zone, 1, "%25");
    host = "[" + host + "]";
  }
  return "http://" + host + ":" + std::to_string(ep.port());
}

// Stops the io_contexts once every session has finished, or when the grace period runs out.
asio::awaitable<void> drain(std::vector<std::unique_ptr<asio::io_context>>& contexts, http::Server& server,
                            realtime::Gateway& gateway, std::chrono::seconds grace) {
  // The listening socket first: the handler server.stop() posted to close it may still be queued (this
  // coroutine can start inline in the signal handler), and stopping the io_context below would drop it,
  // leaving the socket accepting into its backlog until the process exits.
  co_await server.close_listener();
  asio::steady_timer timer(*contexts.front());
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while ((server.open_sessions() > 0 || gateway.open() > 0) && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (server.open_sessions() > 0)
    spdlog::warn("shutdown grace period over with {} connections open", server.open_sessions());
  for (auto& c : contexts)
    c->stop();
}

// Bounds the shutdown: a thread that waits for the database (a pool job blocked on a lock or on a database
// that stopped answering, the gateway's listener, the relay) would otherwise hold the process past its grace
// period, as long as the database keeps it. Armed by the signal; when the orderly shutdown has not finished
// by the deadline, the process logs so and exits 0 at once. Nothing acknowledged is lost: a transaction not
// yet committed is rolled back by PostgreSQL when its connection closes (its client's connection was closed
// with no answer at the grace period), and unacknowledged events stay in the outbox.
class ShutdownWatchdog {
 public:
  ~ShutdownWatchdog() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  /// `status`: the process's exit status if it has to end it (1 when the shutdown follows a failure).
  void arm(std::chrono::steady_clock::time_point deadline, int status) {
    thread_ = std::thread([this, deadline, status] {
      std::unique_lock lock(mutex_);
      if (cv_.wait_until(lock, deadline, [this] { return finished_; })) return;
      spdlog::warn(
          "shutdown not finished 3 s after the grace period (a part still waits for the database); "
          "exiting now");
      spdlog::default_logger()->flush();
      std::fflush(stdout);
      std::_Exit(status);
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::thread thread_;
};

// On a crash, say so on stderr with a backtrace before dying, so that the cause is in the logs.
void on_fatal_signal(int sig) {
  const char msg[] = "todo-server: fatal signal, backtrace follows\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_signal_handlers() {
  // A peer that goes away must cost a failed write, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    std::signal(sig, on_fatal_signal);
}

}  // namespace

int main(int argc, char** argv) {
  install_signal_handlers();
  Config cfg;
  try {
    cfg = load_config(argc, argv);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "todo-server: %s\n", e.what());
    return 2;
  }
  if (cfg.command == "help") {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  log::init(cfg.log_level);
  setenv("PGCONNECT_TIMEOUT", "5", /*overwrite=*/0);

  std::signal(SIGTERM, on_early_stop);
  std::signal(SIGINT, on_early_stop);
  if (cfg.command == "migrate") {
    switch (migrate(cfg, std::chrono::seconds(60), [](const std::string&) {})) {
      case Migrated::yes:
        return 0;
      case Migrated::failed:
        return 1;
      case Migrated::stopped:
        spdlog::info("stopped before the database could be reached");
        return 0;
    }
  }
  // `serve` listens before it reaches the database (README "Running it"): a value libpq refuses stops it
  // first, as it stops `migrate`.
  if (const auto refused = db::refused_value(cfg.database_url)) {
    spdlog::critical("invalid DATABASE_URL: {}", *refused);
    return 1;
  }
  // Declared before every part that may wait for the database: disarmed only after they are all gone.
  ShutdownWatchdog watchdog;

  metrics::Registry registry;
  metrics::add_process_metrics(registry);
  // A request's statements run, and wait for locks, only so long, and its transactions and reads are
  // answered within TODO_DB_ANSWER_TIMEOUT_MS, or given up by the server itself (README "Running it").
  const db::SessionLimits limits{cfg.db_statement_timeout, cfg.db_lock_timeout, cfg.db_answer_timeout};
  // Its connections are opened once the schema is migrated (they prepare every statement).
  db::Pool pool(cfg.database_url, cfg.db_pool_size, limits, /*connect_now=*/false);
  registry.gauge_callback("db_pool_queue_depth", "Database jobs waiting for a connection",
                          [&pool] { return static_cast<double>(pool.queue_depth()); });
  registry.gauge_callback("db_pool_size", "Database connections in the pool",
                          [&pool] { return static_cast<double>(pool.size()); });
  // Kafka: the configured brokers, an in-process mock cluster (--kafka=embedded), or none (bus only).
  std::unique_ptr<events::MockKafkaCluster> embedded_kafka;
  std::string brokers = cfg.kafka_mode == "off" ? "" : cfg.kafka_brokers;
  if (cfg.kafka_mode == "embedded") {
    embedded_kafka = std::make_unique<events::MockKafkaCluster>(1);
    for (const auto& topic : {cfg.topic_events, cfg.topic_updates, cfg.topic_reminders})
      embedded_kafka->create_topic(topic, 4);
    brokers = embedded_kafka->bootstrap_servers();
    log::announce("embedded Kafka (librdkafka mock cluster) at " + brokers, {{"kafka_bootstrap", brokers}});
  }
  events::Bus bus;
  events::RelayOptions relay_options;
  relay_options.conninfo = cfg.database_url;
  relay_options.brokers = brokers;
  relay_options.topics = {cfg.topic_events, cfg.topic_updates, cfg.topic_reminders};
  relay_options.retention = cfg.outbox_retention;
  events::Relay relay(relay_options, bus, registry);
  // This process's commits wake its relay directly for the lanes it holds, with no NOTIFY (see Notifier).
  const auto relay_receipt = pool.receive_locally(
      events::kOutboxChannel, [&relay](std::uint32_t lanes) { return relay.wake_for(lanes); });

  // A recurring task's next occurrence gets the relative reminders of the one completed (same transaction).
  tasks::service::set_copy_reminders(
      [](pqxx::transaction_base& w, const std::string& user, const std::string& from, const tasks::Task& to) {
        reminders::copy_relative(w, user, from, to.id);
      });

  // Reminders: fired by every replica's scheduler, each reminder exactly once (claims with SKIP LOCKED).
  std::unique_ptr<reminders::Scheduler> scheduler;
  std::string scheduler_replica;
  if (cfg.reminders_enabled) {
    reminders::SchedulerOptions so;
    so.conninfo = cfg.database_url;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    so.replica = std::string(host) + "-" + std::to_string(getpid()) + "-" + new_uuid().substr(0, 8);
    scheduler_replica = so.replica;
    so.lease = cfg.reminder_lease;
    so.max_attempts = cfg.reminder_max_attempts;
    so.backoff = cfg.reminder_backoff;
    so.smtp.url = cfg.smtp_url;
    so.smtp.user = cfg.smtp_user;
    so.smtp.password = cfg.smtp_password;
    so.smtp.from = cfg.smtp_from;
    so.smtp.starttls = cfg.smtp_starttls == "off"        ? reminders::StartTls::off
                       : cfg.smtp_starttls == "required" ? reminders::StartTls::required
                                                         : reminders::StartTls::opportunistic;
    so.smtp.ca_file = cfg.smtp_ca_file;
    so.smtp.timeout = cfg.smtp_timeout;
    so.mailers = static_cast<int>(cfg.smtp_concurrency);
    scheduler = std::make_unique<reminders::Scheduler>(so, registry);
  }

  auth::JwtSigner jwt(cfg.jwt_secret);
  auth::dummy_password_hash();  // computed once now rather than on the first unknown-email login

  // One io_context for each io thread, each run by its thread alone (README "Architecture"): the server
  // hands each accepted connection to the next one in turn, and the connection's handlers, timers and reads
  // all run on that thread. Threads sharing one io_context woke each other for most requests (futex calls,
  // scheduler locking): 34 µs of the server's CPU a GET against 24 with one io thread. The first context
  // also runs the listener, the signals and the shutdown.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::io_context*> session_contexts;
  std::vector<asio::any_io_executor> reader_executors;
  for (std::size_t i = 0; i < cfg.http_threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    session_contexts.push_back(contexts.back().get());
    reader_executors.push_back(contexts.back()->get_executor());
  }
  asio::io_context& ioc = *contexts.front();
  asio::thread_pool cpu(2);
  http::Router router;
  // Single-statement reads (GET a task, list) run on the io threads with non-blocking libpq: as many
  // connections again as the pool, opened when first needed, shared out among the io threads.
  db::Reader reader(reader_executors, cfg.database_url, cfg.db_pool_size, 8, limits);
  registry.gauge_callback("db_reader_connections", "Open connections of the io threads' reader",
                          [&reader] { return static_cast<double>(reader.open_connections()); });
  registry.gauge_callback("db_reader_waiting", "Reads waiting for a reader connection",
                          [&reader] { return static_cast<double>(reader.waiting()); });
  // Creates that arrive while others are being written share one transaction (tasks::CreateBatcher).
  auto& batch_sizes = registry
                          .histogram("tasks_create_batch_size", "Creates written together in one transaction",
                                     {}, {1, 2, 4, 8, 16, 32, 64})
                          .with({});
  // Under load a free writer waits up to 3 ms for 16 creates (README "Benchmarks": 8 → 13–14 a group, the
  // machine's CPU a create 577–711 → 504–520 µs; 24 a group did worse).
  tasks::CreateBatcher creates(
      pool, cfg.db_create_writers, 64,
      [&batch_sizes](std::size_t n) { batch_sizes.observe(static_cast<double>(n)); },
      tasks::CreateBatcher::Linger{16, std::chrono::milliseconds(3)});
  // Recent list pages, kept by the user's list version (tasks::ListCache).
  tasks::ListCache lists(cfg.list_cache_bytes);
  registry.gauge_callback("tasks_list_cache_bytes", "Bytes of the task list pages kept",
                          [&lists] { return static_cast<double>(lists.bytes()); });
  api::Context ctx{pool, reader, jwt, cpu, registry, creates, lists};
  // Until the database is reached and migrated, the API answers 503 and /readyz says what it waits for.
  api::Startup startup("the database (not reachable yet)");
  ctx.startup = &startup;
  ctx.chat.confidence = cfg.chat_confidence;
  ctx.chat.ttl = cfg.chat_ttl;
  // The optional language model: its blocking calls wait on their own threads, never on io or db threads.
  std::unique_ptr<chat::LlmClient> llm;
  std::unique_ptr<asio::thread_pool> llm_threads;
  if (!cfg.llm_url.empty()) {
    llm = std::make_unique<chat::LlmClient>(
        chat::LlmOptions{cfg.llm_url, cfg.llm_model, cfg.llm_api_key, cfg.llm_timeout});
    llm_threads = std::make_unique<asio::thread_pool>(4);
    ctx.chat.llm = llm.get();
    ctx.chat.llm_threads = llm_threads.get();
    log::event(spdlog::level::info, "chat language model configured",
               {{"llm_model", cfg.llm_model}, {"llm_timeout_ms", cfg.llm_timeout.count()}});
  }
  api::add_routes(router, ctx);

  http::ServerOptions options;
  options.host = cfg.http_host;
  options.port = cfg.http_port;
  options.body_limit = cfg.body_limit;
  options.body_memory = cfg.body_memory;
  options.header_timeout = cfg.header_timeout;
  options.idle_timeout = cfg.idle_timeout;
  options.request_timeout = cfg.request_timeout;
  options.allowed_origins = cfg.allowed_origins;
  http::Server server(ioc, options, router, registry, session_contexts);

  realtime::GatewayOptions ws_options;
  ws_options.allowed_origins = cfg.allowed_origins;
  ws_options.max_per_user = cfg.ws_max_per_user;
  ws_options.max_total = cfg.ws_max_connections;
  ws_options.send_queue = cfg.ws_send_queue;
  ws_options.stall_timeout = cfg.ws_stall_timeout;
  ws_options.ping_interval = cfg.ws_ping_interval;
  ws_options.silence_timeout = cfg.ws_silence_timeout;
  ws_options.conninfo = cfg.database_url;
  ws_options.kafka_brokers = brokers;
  ws_options.kafka_topics = {cfg.topic_updates, cfg.topic_reminders};
  ws_options.starting = [&startup]() -> std::optional<std::string> {
    if (const auto waiting = startup.waiting()) return api::starting(*waiting).detail();
    return std::nullopt;
  };
  realtime::Gateway gateway(ws_options, pool, jwt, registry);
  server.on_upgrade("/api/v1/ws", [&gateway](auto stream, auto req, http::Server::Upgrade up) {
    gateway.accept(std::move(stream), std::move(req), std::move(up.received), std::move(up.request_id),
                   std::move(up.answered));
  });
  const int bus_handle = bus.subscribe([&gateway](const events::Event& e) { gateway.on_event(e); });
  // The parts that work in the background (the relay, the reminder scheduler, the gateway's listener) start
  // once the database is migrated, under this lock, unless a signal came first (its shutdown stops the
  // gateway under it too).
  std::mutex starting;
  bool started = false;
  // Before the listening line: whoever waits for that line may send SIGTERM at once.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  std::thread gateway_stopper;
  // The whole shutdown, Kafka's last acknowledgements included, fits in the grace period from the signal.
  std::chrono::steady_clock::time_point stop_by = std::chrono::steady_clock::time_point::max();
  // The one shutdown, on the first context's thread: for a signal, or for a failed migration (`failed`, whose
  // exit status is 1), whichever comes first; `why` says which in the log.
  bool shutting_down = false;
  bool failed = false;
  const auto shut_down = [&](const nlohmann::json& why, bool failure) {
    if (std::exchange(shutting_down, true)) return;
    failed = failure;
    early_stop = 1;  // ends a wait for the database or another replica's migrations
    stop_by = std::chrono::steady_clock::now() + cfg.shutdown_timeout;
    // Three seconds beyond the grace period: drain() closes the connections left at the grace period, and the
    // orderly steps after it take up to a second when the database answers (the reminder scheduler wakes
    // from its wait for notifications once a second to see that it is stopped).
    watchdog.arm(stop_by + std::chrono::seconds(3), failure ? 1 : 0);
    log::event(spdlog::level::info, "shutting down", why);
    server.stop();
    // Closes every WebSocket with 1001, off this io thread: it joins the gateway's listener, which may be
    // waiting up to a second (for a notification, or to reconnect to a database that is away), while this
    // thread must close the acceptor (posted by server.stop()) and serve the requests in flight at once.
    gateway_stopper = std::thread([&gateway, &starting] {
      std::lock_guard lock(starting);
      gateway.stop();
    });
    asio::co_spawn(ioc, drain(contexts, server, gateway, cfg.shutdown_timeout), asio::detached);
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (!ec) shut_down({{"signal", signal}}, false);
  });
  // A signal that came before the signal set took over.
  if (early_stop) std::raise(SIGTERM);

  try {
    server.start();
  } catch (const boost::system::system_error& e) {
    const bool v6 = cfg.http_host.find(':') != std::string::npos;
    spdlog::critical("cannot listen on {}{}{}:{} (TODO_HTTP_ADDR): {}", v6 ? "[" : "", cfg.http_host,
                     v6 ? "]" : "", cfg.http_port, e.code().message());
    return 1;
  }
  const std::string url = url_of(server.endpoint());
  log::announce("listening on " + url, {{"url", url}, {"threads", cfg.http_threads}});

  // The other contexts wait for connections with nothing to do: kept running until drain() stops them. The
  // first one has the listener and the signals.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    if (i > 0) idle_guards.push_back(asio::make_work_guard(*contexts[i]));
    threads.emplace_back([&c = *contexts[i]] { c.run(); });
  }

  // Meanwhile the probes and /metrics are served, the API answers 503.
  const Migrated migrated = migrate(cfg, std::chrono::seconds::max(),
                                    [&startup](std::string what) { startup.wait_for(std::move(what)); });
  if (migrated == Migrated::yes) {
    std::lock_guard lock(starting);
    if (!early_stop) {
      pool.warm_up();
      relay.start();
      if (scheduler) {
        scheduler->start();
        log::event(spdlog::level::info, "reminder scheduler started",
                   {{"replica", scheduler_replica}, {"email", !cfg.smtp_url.empty()}});
      }
      gateway.start();
      started = true;
      startup.done();
      log::announce("serving the API at " + url, {{"url", url}});
    }
  } else if (migrated == Migrated::failed) {
    // As a signal would (the probes' connections are closed), and the process exits 1.
    asio::post(ioc, [&] { shut_down({{"reason", "the database could not be migrated"}}, true); });
  }
  for (auto& t : threads)
    t.join();
  if (gateway_stopper.joinable()) gateway_stopper.join();
  cpu.join();
  if (scheduler && started) scheduler->stop();
  if (llm_threads) llm_threads->join();
  bus.unsubscribe(bus_handle);
  // What is still unacknowledged stays in the outbox, sent again by the next relay to hold its lanes.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      stop_by == std::chrono::steady_clock::time_point::max() ? std::chrono::milliseconds(5000)
                                                              : stop_by - std::chrono::steady_clock::now());
  relay.stop(std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(5000)));
  if (failed) return 1;
  spdlog::info(started                     ? "stopped"
               : migrated == Migrated::yes ? "stopped before serving the API"
                                           : "stopped before the database could be reached");
  return 0;
}

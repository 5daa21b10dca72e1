// End-to-end: the process around the API — configuration errors, migrations by two replicas, keep-alive, slow
// clients, graceful shutdown, restarts of the server and of the database.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "e2e.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Tests here start their own servers (some with their own database cluster).
class LifecycleTest : public ::testing::Test {
 protected:
  static std::string fresh_db() { return TestPostgres::shared().create_database("life_" + random_hex(4)); }

  static std::shared_ptr<ServerProcess> serve(std::map<std::string, std::string> env = {}) {
    if (!env.count("DATABASE_URL")) env["DATABASE_URL"] = fresh_db();
    return std::make_shared<ServerProcess>(std::move(env));
  }

  /// Starts the server expecting it to refuse to run; returns its exit status and output.
  static std::pair<int, std::string> fail_to_start(std::map<std::string, std::string> env,
                                                   std::vector<std::string> args = {}) {
    ServerOptions options;
    options.env = std::move(env);
    options.args = std::move(args);
    options.wait_ready = false;
    ServerProcess p(options);
    const auto status = p.wait_exit(15s);
    if (!status) {
      const std::string out = p.output();
      p.kill9();
      return {-1, out};
    }
    return {*status, p.output()};
  }

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& s : dump_on_failure_)
        std::cerr << server_output_digest(s->output());
    }
  }
  std::vector<std::shared_ptr<ServerProcess>> dump_on_failure_;  // kept alive until TearDown has looked
};

TEST_F(LifecycleTest, HelpListsCommandsAndSettings) {
  ServerOptions options;
  options.command = "--help";
  options.wait_ready = false;
  ServerProcess p(options);
  const auto status = p.wait_exit(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << p.output();
  for (const char* word : {"serve", "migrate", "DATABASE_URL", "TODO_HTTP_ADDR", "TODO_JWT_SECRET",
                           "TODO_LOG_LEVEL", "TODO_DB_POOL_SIZE"}) {
    EXPECT_NE(p.output().find(word), std::string::npos) << word << " missing from --help:\n" << p.output();
  }
}

TEST_F(LifecycleTest, InvalidSettingsFailFastNamingThem) {
  const std::string db = fresh_db();
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> cases = {
      {"TODO_DB_POOL_SIZE", {{"DATABASE_URL", db}, {"TODO_DB_POOL_SIZE", "abc"}}},
      {"TODO_DB_POOL_SIZE", {{"DATABASE_URL", db}, {"TODO_DB_POOL_SIZE", "0"}}},
      {"TODO_HTTP_ADDR", {{"DATABASE_URL", db}, {"TODO_HTTP_ADDR", "not an address"}}},
      {"TODO_HTTP_ADDR", {{"DATABASE_URL", db}, {"TODO_HTTP_ADDR", "127.0.0.1:99999"}}},
      {"TODO_LOG_LEVEL", {{"DATABASE_URL", db}, {"TODO_LOG_LEVEL", "loudest"}}},
      {"TODO_JWT_SECRET", {{"DATABASE_URL", db}, {"TODO_JWT_SECRET", ""}}},
      {"DATABASE_URL", {}},
      // Retried for a minute as "not reachable yet" before: no retry mends a URL libpq cannot read.
      {"DATABASE_URL", {{"DATABASE_URL", "garbage"}}},
      {"DATABASE_URL", {{"DATABASE_URL", db + "&sslmode=bogus"}}},
      {"DATABASE_URL", {{"DATABASE_URL", db + "&connect_timeout=abc"}}},
      // A value only libpq checks, when connecting: refused at once too.
      {"DATABASE_URL", {{"DATABASE_URL", db + "&ssl_max_protocol_version=bogus"}}},
      // librdkafka took port 70000 as 4464, and ran without a broker on ",", logging so forever.
      {"KAFKA_BROKERS", {{"DATABASE_URL", db}, {"KAFKA_BROKERS", "127.0.0.1:70000"}}},
      {"KAFKA_BROKERS", {{"DATABASE_URL", db}, {"KAFKA_BROKERS", ","}}},
      {"TODO_SMTP_URL",
       {{"DATABASE_URL", db}, {"TODO_SMTP_URL", "smtp://127.0.0.1:99999"}, {"TODO_SMTP_FROM", "a@b.c"}}},
      {"TODO_LLM_URL",
       {{"DATABASE_URL", db}, {"TODO_LLM_URL", "http://127.0.0.1:99999/v1"}, {"TODO_LLM_MODEL", "m"}}},
  };
  for (const auto& [name, env] : cases) {
    const auto [status, output] = fail_to_start(env);
    EXPECT_NE(status, 0) << name << ": " << output;
    EXPECT_NE(status, -1) << name << ": still running after 15 s:\n" << output;
    EXPECT_NE(output.find(name), std::string::npos) << "the error does not name " << name << ":\n" << output;
    EXPECT_EQ(output.find("listening on"), std::string::npos) << name;
    EXPECT_LE(std::count(output.begin(), output.end(), '\n'), 3) << name << ": more than one line:\n"
                                                                 << output;
  }
}

// No part of DATABASE_URL is printed when it is refused (libpq's reasons quoted the password, or the whole
// URL), for `serve` and `migrate` alike.
TEST_F(LifecycleTest, ARefusedDatabaseUrlIsNeverPrinted) {
  for (const std::string url :
       {"postgresql://app:50%off-TOPSECRET@db.internal/todo", "postgresql://app:TOPSECRET@[fe80::1/todo",
        "postgresql://app:TOP@SECRET@db.internal/todo", "postgresql://app:TOP/SECRET@db.internal/todo"}) {
    for (const char* command : {"serve", "migrate"}) {
      SCOPED_TRACE(url + " " + command);
      ServerOptions options;
      options.command = command;
      options.env = {{"DATABASE_URL", url}};
      options.wait_ready = false;
      ServerProcess p(options);
      const auto status = p.wait_exit(15s);
      ASSERT_TRUE(status) << p.output();
      EXPECT_EQ(*status, 2) << p.output();
      EXPECT_NE(p.output().find("DATABASE_URL"), std::string::npos) << p.output();
      EXPECT_EQ(p.output().find("SECRET"), std::string::npos) << p.output();
      EXPECT_EQ(p.output().find("TOP"), std::string::npos) << p.output();
    }
  }
}

// The flag wins over the variable (README "Running it"), also over one that is not valid; --help always
// prints the help.
TEST_F(LifecycleTest, AFlagWinsOverABadVariableAndHelpAlwaysHelps) {
  ServerOptions options;
  options.env = {{"DATABASE_URL", fresh_db()}, {"TODO_LOG_LEVEL", "LOUD"}, {"TODO_DB_POOL_SIZE", "0"}};
  options.args = {"--log-level=warn", "--db-pool-size", "2"};
  auto server = std::make_shared<ServerProcess>(options);  // throws unless it serves
  dump_on_failure_.push_back(server);
  EXPECT_EQ(HttpClient(server->base_url()).get("/healthz").status, 200);
  EXPECT_EQ(server->terminate(), 0);

  ServerOptions help;
  help.command = "--help";
  help.env = {{"TODO_LOG_LEVEL", "LOUD"}, {"DATABASE_URL", "garbage"}};
  help.wait_ready = false;
  ServerProcess p(help);
  const auto status = p.wait_exit(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0) << p.output();
  EXPECT_NE(p.output().find("usage: todo-server"), std::string::npos) << p.output();

  // An error about a value given by a flag names the flag.
  const auto [code, output] =
      fail_to_start({{"DATABASE_URL", fresh_db()}}, {"--http-body-memory-mb=1", "--http-body-limit=2097152"});
  EXPECT_EQ(code, 2) << output;
  EXPECT_NE(output.find("invalid --http-body-memory-mb=1"), std::string::npos) << output;
}

/// Whether GET `path` answers 200 within 20 s (a database that answers again), asking every 100 ms; a
/// request that gets no answer counts as not yet.
bool served_again(HttpClient& client, const std::string& path) {
  for (const auto deadline = Clock::now() + 20s; Clock::now() < deadline;
       std::this_thread::sleep_for(100ms)) {
    try {
      if (client.get(path).status == 200) return true;
    } catch (const std::exception&) {
    }
  }
  return false;
}

/// Starts the server on `db`, waits for `waiting` in its output (it waits before serving the API; its probes
/// are served), sends SIGTERM and expects exit 0 within 3 s, never having served the API; returns its
/// output.
std::string sigterm_while_waiting_at_start(const std::string& db, std::string_view waiting) {
  ServerOptions options;
  options.env = {{"DATABASE_URL", db}};
  options.wait_ready = false;
  ServerProcess p(options);
  EXPECT_TRUE(p.wait_for_output(waiting, 15s)) << p.output();
  EXPECT_NO_THROW(p.wait_listening(5s));
  EXPECT_EQ(HttpClient(p.base_url()).get("/healthz").status, 200) << "no probe is served while it waits";
  const auto signalled = Clock::now();
  p.send_signal(SIGTERM);
  const auto status = p.wait_exit(5s);
  EXPECT_TRUE(status) << "still waiting 5 s after SIGTERM: " << waiting;
  EXPECT_EQ(status.value_or(-1), 0) << p.output();
  EXPECT_LT(Clock::now() - signalled, 3s);
  EXPECT_EQ(p.output().find("serving the API"), std::string::npos) << "it served the API after SIGTERM";
  return p.output();
}

/// The answers of a server that waits for `waiting` before it serves the API: /healthz 200 (the process is
/// alive: a liveness probe must not restart it), /readyz 503 naming what it waits for, /metrics, and a 503
/// with Retry-After for the API, whatever the request (registration, login, a route that needs a token).
void expect_probes_while_waiting(ServerProcess& server, const std::string& waiting) {
  ASSERT_NO_THROW(server.wait_listening(5s));
  HttpClient probe(server.base_url());
  probe.set_timeout(5s);
  EXPECT_EQ(probe.get("/healthz").status, 200);
  const auto unready = probe.get("/readyz");
  EXPECT_TRUE(IsProblem(unready, 503)) << unready.describe();
  EXPECT_EQ(unready.header("retry-after"), "1");
  EXPECT_NE(unready.json().value("detail", "").find("waiting for " + waiting), std::string::npos)
      << unready.describe();
  const auto metrics = probe.get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_TRUE(metric_sum(metrics.body, "http_requests_total", {{"route", "/readyz"}, {"status", "503"}}))
      << metrics.body;
  const nlohmann::json account = {{"email", unique_email("early")}, {"password", "early-password-1"}};
  for (const auto& r :
       {probe.post("/api/v1/auth/register", account), probe.post("/api/v1/auth/login", account),
        probe.get("/api/v1/tasks", {{"Authorization", "Bearer not-checked-yet"}})}) {
    EXPECT_TRUE(IsProblem(r, 503)) << r.describe();
    EXPECT_EQ(r.header("retry-after"), "1");
    EXPECT_NE(r.json().value("detail", "").find("the server is starting: waiting for " + waiting),
              std::string::npos)
        << r.describe();
  }
  // A WebSocket upgrade: 503 too, not a 101 (nothing listens for other replicas' events yet), whatever its
  // token (a good one, a bad one, none), with the same detail as the REST routes' (a token that was no good
  // got a 101 closed with 4401, a good one a detail of its own).
  const std::string token = make_user_token("0190a8d2-3f1e-7c4b-9a2d-5e6f7a8b9c0d", kTestJwtSecret);
  for (const std::string& query :
       {"?access_token=" + url_encode(token), std::string("?access_token=abc"), std::string()}) {
    SCOPED_TRACE("upgrade " + query.substr(0, 20));
    RawConnection ws(server.base_url());
    ASSERT_TRUE(ws.send("GET /api/v1/ws" + query + " HTTP/1.1\r\nHost: " + server.host() +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                        "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    const auto upgrade = ws.read_response(10s);
    ASSERT_TRUE(upgrade) << ws.received();
    EXPECT_TRUE(IsProblem(*upgrade, 503)) << upgrade->describe();
    EXPECT_EQ(upgrade->header("retry-after"), "1");
    if (IsProblem(*upgrade, 503)) {
      EXPECT_NE(upgrade->json().value("detail", "").find("the server is starting: waiting for " + waiting),
                std::string::npos)
          << upgrade->describe();
    }
  }
}

// A database that is not reachable at start (PostgreSQL stopped, or not up yet): the server listens at once
// and serves its probes while it waits (it listened only once the database answered: a liveness probe on
// /healthz restarted it in a loop while the database was down), the API answers 503; once the database is
// up and migrated, everything is served with no restart.
TEST_F(LifecycleTest, ProbesAreServedWhileTheDatabaseIsUnreachableAtStart) {
  TestPostgres pg;  // its own cluster: stopping it must not disturb other tests
  const std::string db = pg.create_database("late");
  pg.stop();
  ServerOptions options;
  options.env = {{"DATABASE_URL", db}};
  options.wait_ready = false;
  auto server = std::make_shared<ServerProcess>(options);
  dump_on_failure_.push_back(server);
  ASSERT_TRUE(server->wait_for_output("database not reachable yet", 15s)) << server->output();
  expect_probes_while_waiting(*server, "the database (not reachable yet)");

  pg.start();
  ASSERT_NO_THROW(server->wait_ready(30s));
  EXPECT_EQ(HttpClient(server->base_url()).get("/readyz").status, 200);
  auto u = new_user(server->base_url());
  EXPECT_EQ(create_task(u.client, "after the wait")["title"], "after the wait");
  EXPECT_EQ(server->terminate(), 0);
}

// The same while another replica applies its migrations (it holds the migration lock).
TEST_F(LifecycleTest, ProbesAreServedWhileAnotherReplicaMigrates) {
  const std::string db = fresh_db();
  pqxx::connection other_replica(db);
  const std::string key = std::to_string(0x746f646f6d6967LL);  // "todomig"
  pqxx::nontransaction(other_replica).exec("SELECT pg_advisory_lock(" + key + ")");
  ServerOptions options;
  options.env = {{"DATABASE_URL", db}};
  options.wait_ready = false;
  auto server = std::make_shared<ServerProcess>(options);
  dump_on_failure_.push_back(server);
  ASSERT_TRUE(server->wait_for_output("waiting for another process's migrations", 15s)) << server->output();
  expect_probes_while_waiting(*server, "another replica's migrations");

  pqxx::nontransaction(other_replica).exec("SELECT pg_advisory_unlock(" + key + ")");
  ASSERT_NO_THROW(server->wait_ready(30s));
  EXPECT_EQ(HttpClient(server->base_url()).get("/readyz").status, 200);
  auto u = new_user(server->base_url());
  EXPECT_EQ(create_task(u.client, "after the other replica")["title"], "after the other replica");
  EXPECT_EQ(server->terminate(), 0);
}

// While it waits for the database at start (up to a minute), SIGTERM ends the wait: exit 0 at once, as a
// serving process would, not the signal's default death (143).
TEST_F(LifecycleTest, SigtermWhileWaitingForTheDatabaseAtStartExitsZero) {
  TestPostgres pg;
  const std::string db = pg.create_database("later");
  pg.stop();
  const auto output = sigterm_while_waiting_at_start(db, "database not reachable yet");
  EXPECT_NE(output.find("stopped before the database could be reached"), std::string::npos);
}

// The same while another replica applies a long migration (it holds the migration lock).
TEST_F(LifecycleTest, SigtermWhileWaitingForAnotherReplicasMigrationsExitsZero) {
  const std::string db = fresh_db();
  pqxx::connection other_replica(db);
  pqxx::nontransaction(other_replica)
      .exec("SELECT pg_advisory_lock(" + std::to_string(0x746f646f6d6967LL) + ")");  // "todomig"
  sigterm_while_waiting_at_start(db, "waiting for another process's migrations");
}

TEST_F(LifecycleTest, BusyPortFailsClearly) {
  auto first = serve();
  dump_on_failure_.push_back(first);
  const auto [status, output] = fail_to_start(
      {{"DATABASE_URL", fresh_db()}, {"TODO_HTTP_ADDR", "127.0.0.1:" + std::to_string(first->port())}});
  EXPECT_NE(status, 0) << output;
  EXPECT_NE(status, -1) << "still running after 15 s:\n" << output;
  EXPECT_EQ(output.find("listening on"), std::string::npos) << output;
}

TEST_F(LifecycleTest, MigrateCommandThenServe) {
  const std::string db = fresh_db();
  ServerOptions options;
  options.command = "migrate";
  options.env = {{"DATABASE_URL", db}};
  options.wait_ready = false;
  ServerProcess migrate(options);
  const auto status = migrate.wait_exit(60s);
  ASSERT_TRUE(status) << migrate.output();
  EXPECT_EQ(*status, 0) << migrate.output();

  ServerOptions again = options;
  ServerProcess migrate_again(again);
  const auto status_again = migrate_again.wait_exit(60s);
  ASSERT_TRUE(status_again) << migrate_again.output();
  EXPECT_EQ(*status_again, 0) << "migrate is not idempotent:\n" << migrate_again.output();

  auto server = serve({{"DATABASE_URL", db}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  EXPECT_EQ(create_task(u.client, "after migrate")["title"], "after migrate");
  EXPECT_EQ(server->terminate(), 0);
}

// A migration that fails (here the database has a table of the first migration's name, not the server's) ends
// the process with status 1 after it listened (its probes served meanwhile); the shutdown says why, not a
// signal that nobody sent, and the error's line has no trailing newline from libpq.
TEST_F(LifecycleTest, AFailedMigrationEndsTheProcessWithStatusOneSayingWhy) {
  const std::string db = fresh_db();
  {
    pqxx::connection c(db);
    pqxx::nontransaction(c).exec("CREATE TABLE users (not_the_servers integer)");
  }
  const auto [status, output] = fail_to_start({{"DATABASE_URL", db}, {"TODO_LOG_LEVEL", "info"}});
  EXPECT_EQ(status, 1) << output;
  EXPECT_NE(output.find("listening on"), std::string::npos) << output;
  const auto line_with = [&output = output](std::string_view needle) {
    const auto at = output.find(needle);
    if (at == std::string::npos) return std::string();
    const auto begin = output.rfind('\n', at);
    const auto from = begin == std::string::npos ? 0 : begin + 1;
    return output.substr(from, output.find('\n', at) - from);
  };
  const std::string failed = line_with("migration failed");
  EXPECT_NE(failed.find("already exists"), std::string::npos) << output;
  EXPECT_EQ(failed.find("\\n"), std::string::npos) << "libpq's trailing newline kept: " << failed;
  const std::string shutting = line_with("shutting down");
  EXPECT_NE(shutting.find("could not be migrated"), std::string::npos) << output;
  EXPECT_EQ(shutting.find("signal"), std::string::npos) << shutting;
}

// The io threads' reader holds at most TODO_DB_POOL_SIZE connections (README: "up to as many again"), also
// with more io threads than that: 8 io threads and a pool of 1 opened 8.
TEST_F(LifecycleTest, ReaderConnectionsStayWithinThePoolSizeWithMoreIoThreads) {
  auto server = serve({{"TODO_HTTP_THREADS", "8"}, {"TODO_DB_POOL_SIZE", "1"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  const std::string path = "/api/v1/tasks/" + create_task(u.client, "read me").value("id", "");
  // New connections are handed to the io threads in turn: 32 of them reach all 8.
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 32; ++i)
    clients.emplace_back([&] {
      HttpClient c(server->base_url());
      for (int k = 0; k < 5; ++k)
        if (c.get(path, {{"Authorization", "Bearer " + u.token}}).status == 200) ++ok;
    });
  for (auto& t : clients)
    t.join();
  EXPECT_EQ(ok.load(), 32 * 5);
  const auto metrics = HttpClient(server->base_url()).get("/metrics").body;
  EXPECT_EQ(metric_value(metrics, "db_reader_connections", {}), 1) << metrics;
  EXPECT_EQ(server->terminate(), 0);
}

TEST_F(LifecycleTest, TwoReplicasMigrateTheSameFreshDatabase) {
  const std::string db = fresh_db();
  ServerOptions options;
  options.env = {{"DATABASE_URL", db}};
  options.wait_ready = false;
  std::vector<std::shared_ptr<ServerProcess>> servers;
  for (int i = 0; i < 3; ++i)
    servers.push_back(std::make_shared<ServerProcess>(options));
  for (auto& s : servers) {
    dump_on_failure_.push_back(s);
    ASSERT_NO_THROW(s->wait_ready(30s));
  }
  for (auto& s : servers) {
    HttpClient c(s->base_url());
    EXPECT_EQ(c.get("/readyz").status, 200);
  }
  auto u = new_user(servers[0]->base_url());
  const auto t = create_task(u.client, "seen by every replica");
  for (auto& s : servers) {
    HttpClient c(s->base_url());
    c.set_token(u.token);
    EXPECT_EQ(c.get("/api/v1/tasks/" + t["id"].get<std::string>()).status, 200);
  }
  for (auto& s : servers)
    EXPECT_EQ(s->terminate(), 0);
}

TEST_F(LifecycleTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = serve();
  dump_on_failure_.push_back(server);
  RawConnection conn(server->base_url());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"));
    const auto r = conn.read_response(5s);
    ASSERT_TRUE(r) << "request " << i << " on the same connection got no response; got: " << conn.received();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->json(), nlohmann::json({{"status", "ok"}}));
    EXPECT_FALSE(conn.closed());
  }
  // Two requests in one write (pipelining) are answered in order.
  ASSERT_TRUE(
      conn.send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\nGET /readyz HTTP/1.1\r\nHost: test\r\n\r\n"));
  const auto first = conn.read_response(5s);
  const auto second = conn.read_response(5s);
  ASSERT_TRUE(first && second) << conn.received();
  EXPECT_EQ(first->json(), nlohmann::json({{"status", "ok"}}));
  EXPECT_EQ(second->json(), nlohmann::json({{"status", "ready"}}));
}

TEST_F(LifecycleTest, ResponsesStateTheirLengthAndWhetherTheConnectionStays) {
  auto server = serve();
  dump_on_failure_.push_back(server);
  {
    // HTTP/1.1: kept open without saying so; a problem response carries its length and type too.
    RawConnection conn(server->base_url());
    ASSERT_TRUE(conn.send("GET /no/such/route HTTP/1.1\r\nHost: test\r\n\r\n"));
    const auto r = conn.read_response(5s);
    ASSERT_TRUE(r) << conn.received();
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(r->header("content-type"), "application/problem+json");
    EXPECT_EQ(r->header("content-length"), std::to_string(r->body.size()));
    EXPECT_EQ(r->header("connection"), "");
    EXPECT_FALSE(r->header("x-request-id").empty());
    EXPECT_FALSE(conn.wait_closed(300ms)) << "an HTTP/1.1 connection is kept open";
  }
  {
    // HTTP/1.0 asking for keep-alive: answered in 1.0, "Connection: keep-alive", and kept open.
    RawConnection conn(server->base_url());
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(conn.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      const auto r = conn.read_response(5s);
      ASSERT_TRUE(r) << "request " << i << ": " << conn.received();
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->header("connection"), "keep-alive");
      EXPECT_EQ(r->header("content-length"), std::to_string(r->body.size()));
      EXPECT_EQ(r->json(), nlohmann::json({{"status", "ok"}}));
    }
    EXPECT_FALSE(conn.wait_closed(300ms));
  }
  {
    // "Connection: close" is answered with it, and the server closes.
    RawConnection conn(server->base_url());
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"));
    const auto r = conn.read_response(5s);
    ASSERT_TRUE(r) << conn.received();
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(conn.wait_closed(5s)) << "the server did not close after Connection: close";
  }
  {
    // HTTP/1.0 without keep-alive: closed after the answer.
    RawConnection conn(server->base_url());
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.0\r\n\r\n"));
    EXPECT_TRUE(conn.wait_closed(5s));
    EXPECT_EQ(conn.received().rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << conn.received();
  }
  // Requests that cannot be read are answered with a complete problem, "Connection: close", and closed.
  for (const std::string& bad :
       {std::string("GET /healthz HTTP/1.1\r\nHost: test\r\nBad Header\r\n\r\n"),
        "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n",
        std::string("POST /api/v1/tasks HTTP/1.1\r\nHost: test\r\n"
                    "Content-Length: 99999999\r\n\r\n")}) {
    RawConnection conn(server->base_url());
    ASSERT_TRUE(conn.send(bad));
    const auto r = conn.read_response(5s);
    ASSERT_TRUE(r) << conn.received();
    EXPECT_TRUE(r->status == 400 || r->status == 413 || r->status == 431) << r->status;
    EXPECT_EQ(r->header("content-type"), "application/problem+json");
    EXPECT_EQ(r->header("content-length"), std::to_string(r->body.size()));
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_FALSE(r->header("x-request-id").empty());
    EXPECT_EQ(r->json().value("status", 0), r->status) << r->body;
    EXPECT_TRUE(conn.wait_closed(5s)) << "still open after an unreadable request";
  }
}

TEST_F(LifecycleTest, SlowHeadersAreCutOff) {
  auto server = serve({{"TODO_HTTP_HEADER_TIMEOUT_MS", "500"}, {"TODO_HTTP_IDLE_TIMEOUT_MS", "1000"}});
  dump_on_failure_.push_back(server);

  // Partial headers, then silence.
  {
    RawConnection conn(server->base_url());
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: test\r\n"));
    const auto start = Clock::now();
    EXPECT_TRUE(conn.wait_closed(5s)) << "still open 5 s after partial headers (header timeout 500 ms)";
    EXPECT_GE(Clock::now() - start, 300ms) << "closed before the header timeout";
  }
  // Slowloris: one header line every 100 ms, never finishing — a per-read timer would never fire.
  {
    RawConnection conn(server->base_url());
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: test\r\n"));
    const auto start = Clock::now();
    bool closed = false;
    for (int i = 0; i < 60 && !closed; ++i) {
      if (!conn.send("X-Drip-" + std::to_string(i) + ": x\r\n")) break;
      closed = conn.wait_closed(100ms);
    }
    closed = closed || conn.wait_closed(200ms);
    EXPECT_TRUE(closed) << "a client dripping header lines held the connection for 6 s";
    EXPECT_LT(Clock::now() - start, 5s);
  }
  // Nothing sent at all.
  {
    RawConnection conn(server->base_url());
    EXPECT_TRUE(conn.wait_closed(10s)) << "a silent connection is still open after 10 s";
  }
  // Idle after a complete request on a keep-alive connection (idle timeout 1 s).
  {
    RawConnection conn(server->base_url());
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"));
    const auto r = conn.read_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(conn.wait_closed(10s)) << "an idle keep-alive connection is still open after 10 s";
  }
  // A normal client still gets its answer.
  HttpClient c(server->base_url());
  EXPECT_EQ(c.get("/healthz").status, 200);
  EXPECT_TRUE(server->running());
}

// A connection that never sends a byte gets the header timeout from the accept, not the idle timeout (it was
// held for the idle timeout, 60 s by default, six times what a partial head gets). Between requests on a
// kept-alive connection the wait stays the idle timeout.
TEST_F(LifecycleTest, ASilentNewConnectionGetsTheHeaderTimeout) {
  auto server = serve({{"TODO_HTTP_HEADER_TIMEOUT_MS", "500"}, {"TODO_HTTP_IDLE_TIMEOUT_MS", "30000"}});
  dump_on_failure_.push_back(server);
  {
    RawConnection conn(server->base_url());
    const auto start = Clock::now();
    EXPECT_TRUE(conn.wait_closed(5s))
        << "a silent connection is open 5 s after its accept (header timeout 500 ms)";
    EXPECT_GE(Clock::now() - start, 300ms) << "closed before the header timeout";
  }
  {
    // A first byte, then silence: still bounded from the accept.
    RawConnection conn(server->base_url());
    const auto start = Clock::now();
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(conn.send("G"));
    EXPECT_TRUE(conn.wait_closed(5s));
    EXPECT_LT(Clock::now() - start, 3s);
  }
  {
    // After a complete request the connection waits for the next one with the idle timeout (30 s here).
    RawConnection conn(server->base_url());
    const auto health_is_200 = [&conn] {
      const auto r =
          conn.send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n") ? conn.read_response(5s) : std::nullopt;
      return r && r->status == 200;
    };
    EXPECT_TRUE(health_is_200());
    EXPECT_FALSE(conn.wait_closed(2s)) << "an idle keep-alive connection was closed before its idle timeout";
    EXPECT_TRUE(health_is_200());
  }
}

/// CPU seconds (user + system) the process has used so far, from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field && i <= 15; ++i)
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::size_t open_fds(pid_t pid) {
  const auto dir = std::filesystem::path("/proc") / std::to_string(pid) / "fd";
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

// Out of file descriptors, every accept fails at once for the connection waiting in the backlog. The server
// used to retry straight away: a core spun and the log took 150 000 lines a second. It waits 100 ms between
// tries and reports once in 10 s, serving the connections it has; with descriptors free again, new ones are
// served.
TEST_F(LifecycleTest, OutOfFileDescriptorsItWaitsInsteadOfSpinning) {
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = 160;  // inherited by the server; ours is restored once it runs
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  std::shared_ptr<ServerProcess> server;
  try {
    server = serve();
  } catch (...) {
    setrlimit(RLIMIT_NOFILE, &saved);
    throw;
  }
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  dump_on_failure_.push_back(server);

  RawConnection kept(server->base_url());
  ASSERT_TRUE(kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(kept.read_response(5s));
  const std::size_t used = open_fds(server->pid());
  ASSERT_LT(used, 150u) << "the server needs more descriptors than this test gives it";
  std::vector<std::unique_ptr<RawConnection>> flood;
  for (std::size_t i = 0; i < 160 - used + 40; ++i)
    flood.push_back(std::make_unique<RawConnection>(server->base_url()));
  std::this_thread::sleep_for(500ms);  // the server is out of descriptors now
  const double cpu_before = cpu_seconds(server->pid());
  std::this_thread::sleep_for(2s);
  const double cpu = cpu_seconds(server->pid()) - cpu_before;
  EXPECT_LT(cpu, 0.5) << "CPU seconds in 2 s while out of descriptors";
  // The connection it has is still served.
  ASSERT_TRUE(kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const auto r = kept.read_response(5s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const std::string out = server->output();
  std::size_t reports = 0;
  for (auto p = out.find("accept failed"); p != std::string::npos; p = out.find("accept failed", p + 1))
    ++reports;
  EXPECT_GE(reports, 1u) << "the failure is not reported";
  EXPECT_LE(reports, 2u) << "reported more than once in 10 s";
  flood.clear();
  HttpClient c(server->base_url());
  const auto deadline = Clock::now() + 10s;
  int status = 0;
  while (Clock::now() < deadline && status != 200) {
    try {
      status = c.get("/healthz").status;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  EXPECT_EQ(status, 200) << "new connections are not served once descriptors are free again";
  EXPECT_GE(metric_value(c.get("/metrics").body, "http_accept_errors_total", {}), 1);
}

// Request bodies held at once have a memory budget (TODO_HTTP_BODY_MEMORY_MB): each request reserves its
// Content-Length before reading its body. Clients holding nearly complete bodies (no token needed: the body
// is read before routing) grew the process by 0.9 MB a connection, without bound; past the budget a request
// is now a 503 with Retry-After, and the memory comes back when the holders go.
TEST_F(LifecycleTest, RequestBodiesHaveAMemoryBudget) {
  auto server = serve({{"TODO_HTTP_BODY_MEMORY_MB", "2"}, {"TODO_HTTP_BODY_LIMIT", "1048576"}});
  dump_on_failure_.push_back(server);
  const std::string head = "POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
  std::vector<std::unique_ptr<RawConnection>> holders;
  for (int i = 0; i < 2; ++i) {
    holders.push_back(std::make_unique<RawConnection>(server->base_url()));
    ASSERT_TRUE(holders.back()->send(head + "Content-Length: 1048576\r\n\r\n" + std::string(1000, ' ')));
  }
  std::this_thread::sleep_for(300ms);
  RawConnection refused(server->base_url());
  ASSERT_TRUE(refused.send(head + "Content-Length: 2\r\n\r\n{}"));
  const auto r = refused.read_response(5s);
  ASSERT_TRUE(r) << refused.received();
  EXPECT_TRUE(IsProblem(*r, 503));
  EXPECT_EQ(r->header("retry-after"), "1");
  // A request without a body needs no budget.
  HttpClient c(server->base_url());
  EXPECT_EQ(c.get("/healthz").status, 200);
  holders.pop_back();
  std::this_thread::sleep_for(300ms);
  auto u = new_user(server->base_url());
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "fits again"}}).status, 201);
  EXPECT_GE(metric_value(c.get("/metrics").body, "http_body_memory_refusals_total", {}), 1);
  // A budget below one body of the limit cannot work: refused at start.
  const auto [status, out] = fail_to_start(
      {{"DATABASE_URL", fresh_db()}, {"TODO_HTTP_BODY_MEMORY_MB", "1"}, {"TODO_HTTP_BODY_LIMIT", "2097152"}});
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("TODO_HTTP_BODY_MEMORY_MB"), std::string::npos) << out;
}

TEST_F(LifecycleTest, SigtermFinishesTheRequestInFlightAndExitsZero) {
  auto server = serve();
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());

  // An idle keep-alive connection must not delay the exit.
  HttpClient idle(server->base_url());
  ASSERT_EQ(idle.get("/healthz").status, 200);

  // A request whose headers and half of the body have arrived when SIGTERM comes.
  const std::string body =
      R"({"title":"written during shutdown","description":")" + std::string(2000, 'd') + "\"}";
  const std::string head =
      "POST /api/v1/tasks HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer " + u.token +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  RawConnection conn(server->base_url());
  ASSERT_TRUE(conn.send(head + body.substr(0, body.size() / 2)));
  std::this_thread::sleep_for(1s);  // time to read the headers, even on a loaded machine
  const auto signalled = Clock::now();
  server->send_signal(SIGTERM);
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(server->running()) << "exited with a request in flight";

  // No new connections are accepted any more.
  try {
    RawConnection late(server->base_url());
    late.send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
    const auto r = late.read_response(3s);
    EXPECT_FALSE(r && r->status == 200) << "a connection opened after SIGTERM was served";
  } catch (const std::exception&) {
    // Refused: as it should be.
  }

  ASSERT_TRUE(conn.send(body.substr(body.size() / 2)));
  const auto r = conn.read_response(10s);
  ASSERT_TRUE(r) << "the in-flight request got no response; received: " << conn.received();
  EXPECT_EQ(r->status, 201) << r->describe();
  EXPECT_EQ(r->json()["title"], "written during shutdown");

  const auto status = server->wait_exit(10s);
  ASSERT_TRUE(status) << "no exit within 10 s of finishing the last request";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(Clock::now() - signalled, 11s);
}

TEST_F(LifecycleTest, SigtermAndSigintExitZeroQuickly) {
  for (int sig : {SIGTERM, SIGINT}) {
    auto server = serve();
    dump_on_failure_.push_back(server);
    HttpClient c(server->base_url());
    ASSERT_EQ(c.get("/healthz").status, 200);
    const auto start = Clock::now();
    server->send_signal(sig);
    const auto status = server->wait_exit(10s);
    ASSERT_TRUE(status) << "signal " << sig << ": no exit within 10 s";
    EXPECT_EQ(*status, 0) << "signal " << sig;
    EXPECT_LT(Clock::now() - start, 10s);
  }
}

// With Kafka unreachable, events stay unacknowledged; shutdown still ends within TODO_SHUTDOWN_TIMEOUT_S of
// the signal (it took 7 s with a grace of 2: the relay waited 5 s more, then the producer's flush 2 s). What
// was not acknowledged stays in the outbox for the next relay.
TEST_F(LifecycleTest, ShutdownKeepsItsGraceWhenKafkaIsUnreachable) {
  auto server = serve({{"KAFKA_BROKERS", "127.0.0.1:1"}, {"TODO_SHUTDOWN_TIMEOUT_S", "2"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  for (int i = 0; i < 3; ++i)
    create_task(u.client, "queued " + std::to_string(i));
  std::this_thread::sleep_for(1s);
  const auto start = Clock::now();
  server->send_signal(SIGTERM);
  const auto status = server->wait_exit(15s);
  const auto took = Clock::now() - start;
  ASSERT_TRUE(status) << "no exit within 15 s";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(took, 3s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST_F(LifecycleTest, TasksAndTokensSurviveAServerRestart) {
  const std::string db = fresh_db();
  auto first = serve({{"DATABASE_URL", db}});
  dump_on_failure_.push_back(first);
  auto u = new_user(first->base_url());
  const auto t = create_task(u.client, "durable");
  EXPECT_EQ(first->terminate(), 0);

  auto second = serve({{"DATABASE_URL", db}});
  dump_on_failure_.push_back(second);
  HttpClient c(second->base_url());
  c.set_token(u.token);
  const auto r = c.get("/api/v1/tasks/" + t["id"].get<std::string>());
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), t);
  EXPECT_EQ(login(c, u.email, u.password).empty(), false);
}

// A lock held outside the server (an operator's open transaction, a long ALTER TABLE) makes a request wait
// only as long as TODO_DB_LOCK_TIMEOUT_MS: then a 503 with Retry-After, nothing written, and the same request
// succeeds once the lock is gone.
TEST_F(LifecycleTest, ARequestWaitingForALockGivesUpWithA503AndWritesNothing) {
  const std::string db = fresh_db();
  auto server = serve({{"DATABASE_URL", db}, {"TODO_DB_LOCK_TIMEOUT_MS", "300"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  u.client.set_timeout(20s);
  const auto t = create_task(u.client, "locked by an operator");
  const std::string path = "/api/v1/tasks/" + t["id"].get<std::string>();

  pqxx::connection operator_session(db);
  {
    pqxx::work w(operator_session);
    w.exec("SELECT 1 FROM tasks WHERE id = " + w.quote(t["id"].get<std::string>()) + " FOR UPDATE");
    const auto started = Clock::now();
    const auto patched = u.client.patch(path, {{"title", "changed while locked"}});
    EXPECT_LT(Clock::now() - started, 5s);
    EXPECT_TRUE(IsProblem(patched, 503)) << patched.describe();
    EXPECT_EQ(patched.header("retry-after"), "1");
    EXPECT_NE(patched.json().value("detail", "").find("in time"), std::string::npos) << patched.describe();
    const auto completed = u.client.post(path + "/complete", nlohmann::json::object());
    EXPECT_TRUE(IsProblem(completed, 503)) << completed.describe();
  }  // rolled back: the lock is gone
  auto now = u.client.get(path);
  ASSERT_EQ(now.status, 200);
  EXPECT_EQ(now.json()["title"], "locked by an operator") << "the refused change was written";
  EXPECT_EQ(now.json()["status"], "open");
  EXPECT_EQ(now.json()["version"], t["version"]);

  // The whole table locked (what ALTER TABLE holds): reads and creates give up too.
  {
    pqxx::work w(operator_session);
    w.exec("LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE");
    EXPECT_TRUE(IsProblem(u.client.get(path), 503));
    EXPECT_TRUE(IsProblem(u.client.get("/api/v1/tasks?sort=title"), 503));
    EXPECT_TRUE(IsProblem(u.client.post("/api/v1/tasks", {{"title", "created while locked"}}), 503));
  }
  const auto list = u.client.get("/api/v1/tasks?sort=title");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.json()["items"].size(), 1u) << "the refused create was written: " << list.body;

  EXPECT_EQ(u.client.patch(path, {{"title", "changed after"}}).status, 200);
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "created after"}}).status, 201);
  EXPECT_EQ(server->terminate(), 0);
}

// Probes while a migration (here an operator) holds schema_migrations: each /readyz gives up within its
// patience, and the reads they leave waiting for the lock hold up no request: they wait alone on one
// connection (they were pipelined with the lists, and each probe started its own: six probes delayed a list
// until the lock timeout).
TEST_F(LifecycleTest, ReadinessProbesWaitingForALockHoldUpNoRequest) {
  const std::string db = fresh_db();
  auto server = serve({{"DATABASE_URL", db}, {"TODO_DB_LOCK_TIMEOUT_MS", "8000"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  u.client.set_timeout(20s);
  const auto t = create_task(u.client, "read while the probes wait");
  const std::string path = "/api/v1/tasks/" + t["id"].get<std::string>();
  ASSERT_EQ(u.client.get("/api/v1/tasks?sort=title").status, 200);

  pqxx::connection operator_session(db);
  pqxx::work w(operator_session);
  w.exec("LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE");
  std::vector<std::thread> probes;
  std::vector<int> statuses(6, 0);
  const auto started = Clock::now();
  for (std::size_t i = 0; i < statuses.size(); ++i)
    probes.emplace_back([&, i] {
      HttpClient probe(server->base_url());
      probe.set_timeout(20s);
      statuses[i] = probe.get("/readyz").status;
    });
  for (auto& p : probes)
    p.join();
  EXPECT_LT(Clock::now() - started, 4s) << "the probes waited for the lock";
  for (std::size_t i = 0; i < statuses.size(); ++i)
    EXPECT_EQ(statuses[i], 503) << "probe " << i;

  // The probes' read still waits for the lock (8 s); the API does not wait with it.
  for (int round = 0; round < 4; ++round) {
    const auto asked = Clock::now();
    // A list not asked before (the list cache answers one that was), so it is read from the database.
    const auto list = u.client.get("/api/v1/tasks?sort=title&limit=" + std::to_string(10 + round));
    const auto one = u.client.get(path);
    EXPECT_LT(Clock::now() - asked, 1s) << "round " << round << ": a read waited behind a probe";
    EXPECT_EQ(list.status, 200) << list.describe();
    EXPECT_EQ(one.status, 200) << one.describe();
  }
  const auto late = Clock::now();
  EXPECT_TRUE(IsProblem(HttpClient(server->base_url()).get("/readyz"), 503));
  EXPECT_LT(Clock::now() - late, 1s) << "a probe after the patience waited again instead of joining the read";
  w.abort();
  bool ready = false;
  for (auto deadline = Clock::now() + 15s; !ready && Clock::now() < deadline;
       std::this_thread::sleep_for(100ms))
    ready = HttpClient(server->base_url()).get("/readyz").status == 200;
  EXPECT_TRUE(ready) << "/readyz did not recover once the lock was gone";
  EXPECT_EQ(server->terminate(), 0);
}

// A database that stops answering without closing its connections (a hung host, a partition with no reset):
// /readyz says 503 within its patience instead of hanging with the database, /healthz stays 200, and SIGTERM
// still ends the process within the grace period (threads waiting for the database — a request's
// transaction, the WebSocket listener, the relay — no longer hold it).
TEST_F(LifecycleTest, AHungDatabaseFailsReadinessInTimeAndShutdownKeepsItsGrace) {
  TestPostgres pg;  // its own cluster: freezing it must not disturb other tests
  const std::string db = pg.create_database("hung");
  auto server = serve({{"DATABASE_URL", db},
                       {"TODO_SHUTDOWN_TIMEOUT_S", "2"},
                       {"TODO_DB_LOCK_TIMEOUT_MS", "0"},
                       {"TODO_DB_STATEMENT_TIMEOUT_MS", "0"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  const auto t = create_task(u.client, "before the freeze");
  const std::string id = t["id"].get<std::string>();
  HttpClient probe(server->base_url());
  probe.set_timeout(20s);
  ASSERT_EQ(probe.get("/readyz").status, 200);

  pg.freeze();
  auto started = Clock::now();
  const auto unready = probe.get("/readyz");
  EXPECT_LT(Clock::now() - started, 5s) << "/readyz waited for the hung database";
  EXPECT_TRUE(IsProblem(unready, 503)) << unready.describe();
  EXPECT_NE(unready.json().value("detail", "").find("did not answer"), std::string::npos)
      << unready.describe();
  started = Clock::now();
  EXPECT_TRUE(IsProblem(probe.get("/readyz"), 503)) << "a second probe while the first read still waits";
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_EQ(probe.get("/healthz").status, 200);

  // A change in flight, waiting for the database, when SIGTERM comes.
  std::thread writer([&] {
    HttpClient c(server->base_url());
    c.set_timeout(30s);
    c.set_token(u.token);
    try {
      c.patch("/api/v1/tasks/" + id, {{"title", "written while frozen"}});
    } catch (const std::exception&) {
      // cut off: the outcome was never acknowledged
    }
  });
  std::this_thread::sleep_for(500ms);
  const auto signalled = Clock::now();
  server->send_signal(SIGTERM);
  const auto status = server->wait_exit(10s);
  const auto took = Clock::now() - signalled;
  pg.thaw();
  writer.join();
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM with a grace period of 2 s";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(took, 6s) << "the shutdown waited for the database beyond its grace period and the 3 s margin";
  EXPECT_NE(server->output().find("exiting now"), std::string::npos);
  // The change was never acknowledged, and never committed: its connection closed before its COMMIT.
  std::string title;
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    title = pg.query("hung", "SELECT title FROM tasks WHERE id = '" + id + "'");
    if (pg.query(
            "hung",
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'hung' AND pid <> pg_backend_pid()") ==
        "0")
      break;
  }
  EXPECT_EQ(title, "before the freeze");
}

// A database that stops answering while requests come (its processes stopped: a hung host, a partition with
// no reset; PostgreSQL's own timeouts cannot fire): each request gets a 503 with Retry-After within
// TODO_DB_ANSWER_TIMEOUT_MS, from the server itself. Login and registration waited for as long as the
// database did, and so did every other request. Nothing refused was written, and once the database answers
// again the same requests succeed without a restart.
TEST_F(LifecycleTest, RequestsToAHungDatabaseGiveUpWithA503InTime) {
  TestPostgres pg;  // its own cluster: freezing it must not disturb other tests
  const std::string db = pg.create_database("stalled");
  auto server = serve({{"DATABASE_URL", db}, {"TODO_DB_ANSWER_TIMEOUT_MS", "500"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  const auto t = create_task(u.client, "before the freeze");
  const std::string path = "/api/v1/tasks/" + t["id"].get<std::string>();
  // The io threads' reader and the pool have connections open when the database stops.
  ASSERT_EQ(u.client.get(path).status, 200);
  ASSERT_EQ(u.client.get("/api/v1/tasks?sort=title").status, 200);
  ASSERT_EQ(u.client.get("/api/v1/me").status, 200);

  HttpClient anon(server->base_url());
  anon.set_timeout(10s);
  u.client.set_timeout(10s);
  const std::string late_email = unique_email("frozen");
  auto answer = [](const std::function<HttpResponse()>& send) {
    try {
      return send();
    } catch (const std::exception& e) {  // no answer within the client's 10 s
      HttpResponse none;
      none.status = -1;
      none.body = e.what();
      return none;
    }
  };
  const std::vector<std::pair<std::string, std::function<HttpResponse()>>> requests = {
      {"login",
       [&] {
         return anon.post("/api/v1/auth/login", {{"email", u.email}, {"password", u.password}});
       }},
      {"register",
       [&] {
         return anon.post("/api/v1/auth/register", {{"email", late_email}, {"password", "frozen-pass-1"}});
       }},
      {"get a task", [&] { return u.client.get(path); }},
      {"list", [&] { return u.client.get("/api/v1/tasks?sort=title&limit=7"); }},
      {"me", [&] { return u.client.get("/api/v1/me"); }},
      {"create",
       [&] {
         return u.client.post("/api/v1/tasks", {{"title", "while frozen"}});
       }},
      {"patch",
       [&] {
         return u.client.patch(path, {{"title", "changed while frozen"}});
       }},
  };
  pg.freeze();
  // Twice: first on the connections open when it stopped, then on new ones (which it never finishes opening).
  for (int round = 0; round < 2; ++round) {
    for (const auto& [what, send] : requests) {
      SCOPED_TRACE(what + ", round " + std::to_string(round));
      const auto started = Clock::now();
      const auto r = answer(send);
      const auto took = Clock::now() - started;
      ASSERT_NE(r.status, -1) << "no answer within 10 s: the request waits for the hung database";
      EXPECT_LT(took, 4s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
      EXPECT_TRUE(IsProblem(r, 503)) << r.describe();
      EXPECT_EQ(r.header("retry-after"), "1");
      if (what == "create" || what == "patch" || what == "register") {
        EXPECT_NE(r.json().value("detail", "").find("nothing was written"), std::string::npos)
            << r.describe();
      }
    }
  }
  EXPECT_EQ(HttpClient(server->base_url()).get("/healthz").status, 200);
  pg.thaw();

  // Served again without a restart; what was refused was not written.
  ASSERT_TRUE(served_again(u.client, path)) << "not served again within 20 s of the database's return";
  EXPECT_NO_THROW(login(anon, u.email, u.password));
  const auto now = u.client.get(path);
  ASSERT_EQ(now.status, 200) << now.describe();
  EXPECT_EQ(now.json(), t) << "a refused change was written";
  const auto list = u.client.get("/api/v1/tasks?sort=title");
  ASSERT_EQ(list.status, 200) << list.describe();
  EXPECT_EQ(list.json()["items"].size(), 1u) << "a refused create was written: " << list.body;
  const auto again =
      anon.post("/api/v1/auth/register", {{"email", late_email}, {"password", "frozen-pass-1"}});
  EXPECT_EQ(again.status, 201) << "the refused registration was written: " << again.describe();
  EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "after the thaw"}}).status, 201);
  EXPECT_EQ(server->terminate(), 0);
}

// Concurrent creates while the database does not answer: those that waited for a create writer (every writer
// held by the hung database) count the answer timeout from their arrival too. They were answered only after
// the writers' transactions had given up, near twice the timeout (and, once those connections were cut, after
// waiting for new ones to open).
TEST_F(LifecycleTest, ConcurrentCreatesToAHungDatabaseEachGiveUpInTime) {
  TestPostgres pg;  // its own cluster: freezing it must not disturb other tests
  const std::string db = pg.create_database("stalled_creates");
  auto server = serve({{"DATABASE_URL", db}, {"TODO_DB_ANSWER_TIMEOUT_MS", "1500"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  create_task(u.client, "before the freeze");
  pg.freeze();
  constexpr int kCreates = 10;
  std::vector<std::pair<int, std::chrono::milliseconds>> answers(kCreates);
  std::vector<std::thread> clients;
  for (int i = 0; i < kCreates; ++i) {
    clients.emplace_back([&, i] {
      HttpClient c(server->base_url());
      c.set_token(u.token);
      c.set_timeout(10s);
      const auto started = Clock::now();
      int status = -1;
      try {
        const auto r = c.post("/api/v1/tasks", {{"title", "while frozen " + std::to_string(i)}});
        status =
            IsProblem(r, 503) && r.json().value("detail", "").find("nothing was written") != std::string::npos
                ? 503
                : r.status;
      } catch (const std::exception&) {  // no answer within 10 s
      }
      answers[i] = {status, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)};
    });
    std::this_thread::sleep_for(20ms);
  }
  for (auto& t : clients)
    t.join();
  pg.thaw();
  for (int i = 0; i < kCreates; ++i) {
    SCOPED_TRACE("create " + std::to_string(i));
    EXPECT_EQ(answers[i].first, 503) << "not a 503 saying nothing was written";
    EXPECT_LT(answers[i].second, 2400ms) << answers[i].second.count() << " ms for a timeout of 1500 ms";
  }
  ASSERT_TRUE(served_again(u.client, "/api/v1/tasks"))
      << "not served again within 20 s of the database's return";
  const auto list = u.client.get("/api/v1/tasks");
  EXPECT_EQ(list.json()["items"].size(), 1u) << "a refused create was written: " << list.body;
  EXPECT_EQ(server->terminate(), 0);
}

TEST_F(LifecycleTest, SurvivesADatabaseRestart) {
  TestPostgres pg;  // its own cluster: stopping it must not disturb other tests
  const std::string db = pg.create_database("restart");
  auto server = serve({{"DATABASE_URL", db}, {"TODO_DB_POOL_SIZE", "4"}});
  dump_on_failure_.push_back(server);
  auto u = new_user(server->base_url());
  u.client.set_timeout(20s);
  const auto t = create_task(u.client, "before the restart");
  HttpClient probe(server->base_url());
  probe.set_timeout(20s);
  ASSERT_EQ(probe.get("/readyz").status, 200);

  pg.stop();
  bool went_unready = false;
  HttpResponse last;
  for (auto deadline = Clock::now() + 20s; Clock::now() < deadline && !went_unready;) {
    last = probe.get("/readyz");
    went_unready = last.status == 503;
    if (!went_unready) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(went_unready) << "/readyz still says " << last.describe() << " with the database down";
  EXPECT_TRUE(IsProblem(last, 503));
  EXPECT_EQ(probe.get("/healthz").status, 200) << "/healthz depends on the database";

  const auto start = Clock::now();
  const auto down = u.client.get("/api/v1/tasks/" + t["id"].get<std::string>());
  EXPECT_LT(Clock::now() - start, 15s) << "a request hangs while the database is down";
  EXPECT_TRUE(IsProblem(down, 503)) << "API request with the database down";
  const auto down_create = u.client.post("/api/v1/tasks", {{"title", "while down"}});
  EXPECT_TRUE(IsProblem(down_create, 503)) << down_create.describe();

  pg.start();
  bool ready = false;
  for (auto deadline = Clock::now() + 30s; Clock::now() < deadline && !ready;) {
    last = probe.get("/readyz");
    ready = last.status == 200;
    if (!ready) std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(ready) << "/readyz did not recover within 30 s: " << last.describe();

  // Every pooled connection broke; each must be replaced without failing a request.
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE("request round " + std::to_string(i));
    EXPECT_EQ(u.client.get("/api/v1/tasks/" + t["id"].get<std::string>()).status, 200);
    EXPECT_EQ(u.client.post("/api/v1/tasks", {{"title", "after " + std::to_string(i)}}).status, 201);
    EXPECT_EQ(u.client.get("/api/v1/me").status, 200);
  }
  EXPECT_NO_THROW(login(u.client, u.email, u.password));
  EXPECT_EQ(server->terminate(), 0);
}

}  // namespace
}  // namespace todo::test

// End-to-end: real-time sync over WebSocket (/api/v1/ws). The real binary, real sockets, bounded waits:
// fan-out to every device of a user, resume and resync from the outbox, delivery across replicas, slow
// consumers, admission (token, origin, limits), liveness, graceful shutdown and the ws_* metrics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "e2e.hpp"
#include "support/process.hpp"
#include "support/ws_client.hpp"
#include "todo/core/time.hpp"
#include "todo/events/kafka.hpp"
#include "todo/events/outbox.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr auto kWait = 15s;     // the longest any single expected message may take
constexpr auto kQuiet = 400ms;  // how long "nothing more arrives" is watched
const std::string kAllowedOrigin = "https://app.example.com";

/// The sum of the samples of `name` whose labels include every `labels` pair (-1 when there is no sample).
double metric(const std::string& text, const std::string& name,
              const std::vector<std::pair<std::string, std::string>>& labels = {}) {
  return metric_sum(text, name, labels).value_or(-1);
}

std::string metrics_text(const std::string& base_url) {
  HttpClient client(base_url);
  const auto r = client.get("/metrics");
  if (r.status != 200) throw std::runtime_error("GET /metrics: " + r.describe());
  return r.body;
}

/// Polls `name` on the server until `pred` holds (bounded); returns the last value seen.
double wait_metric(const std::string& base_url, const std::string& name,
                   const std::function<bool(double)>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  double v = metric(metrics_text(base_url), name);
  while (!pred(v) && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    v = metric(metrics_text(base_url), name);
  }
  return v;
}

/// A server process of the test's own on `db_url`, whose output is shown when the test fails.
struct OwnServer {
  OwnServer(const std::string& db_url, std::map<std::string, std::string> env) {
    env["DATABASE_URL"] = db_url;
    process = std::make_unique<ServerProcess>(env);
  }
  ~OwnServer() {
    // While an exception unwinds the test body, gtest has not recorded the failure yet.
    const bool failed = ::testing::Test::HasFailure() || std::uncaught_exceptions() > 0;
    if (failed && process) std::cerr << server_output_digest(process->output());
  }
  ServerProcess& operator*() { return *process; }
  ServerProcess* operator->() { return process.get(); }
  std::unique_ptr<ServerProcess> process;
};

/// A fresh database (its name, for SQL from the test, and its URL).
struct Database {
  Database() : name("rt_" + random_hex(4)), url(TestPostgres::shared().create_database(name)) {}
  std::string query(const std::string& sql) const { return TestPostgres::shared().query(name, sql); }
  std::string name;
  std::string url;
};

/// The handshake target with the token in the query (and `after` when given).
std::string target(const std::string& token, std::optional<long long> after = std::nullopt) {
  std::string t = "/api/v1/ws?access_token=" + url_encode(token);
  if (after) t += "&after=" + std::to_string(*after);
  return t;
}

/// Handshake options: the target and extra headers.
WsOptions ws_options(std::string target, std::map<std::string, std::string> headers = {}) {
  WsOptions o;
  o.target = std::move(target);
  o.headers = std::move(headers);
  return o;
}

/// Opens a socket for `token` (in the query, or as `Sec-WebSocket-Protocol: bearer, <token>`); throws unless
/// it is upgraded.
std::unique_ptr<WsClient> open_ws(const std::string& base_url, const std::string& token,
                                  std::optional<long long> after = std::nullopt, bool bearer_protocol = false,
                                  int receive_buffer = 0) {
  WsOptions o;
  if (bearer_protocol) {
    o.target = "/api/v1/ws" + (after ? "?after=" + std::to_string(*after) : std::string());
    o.headers["Sec-WebSocket-Protocol"] = "bearer, " + token;
  } else {
    o.target = target(token, after);
  }
  o.receive_buffer = receive_buffer;
  auto ws = std::make_unique<WsClient>(base_url, o);
  if (!ws->upgraded())
    throw std::runtime_error("WebSocket upgrade refused: " + std::to_string(ws->status()) + " " +
                             ws->error());
  return ws;
}

/// Sends {"type":"ping"} and reads up to the pong: the session has established where the client stands (the
/// server reads client messages only after that). Returns what came before the pong.
std::vector<json> sync(WsClient& ws) {
  if (!ws.send(R"({"type":"ping"})")) throw std::runtime_error("cannot send a ping message");
  std::vector<json> before;
  const auto deadline = Clock::now() + kWait;
  while (Clock::now() < deadline) {
    auto m = ws.next_json(kWait);
    if (!m) break;
    if (m->is_object() && m->value("type", "") == "pong") return before;
    before.push_back(*m);
  }
  throw std::runtime_error("no pong from the server");
}

/// Reads until `n` messages arrived (or `timeout` passed).
std::vector<json> receive(WsClient& ws, std::size_t n, std::chrono::milliseconds timeout = kWait) {
  std::vector<json> out;
  const auto deadline = Clock::now() + timeout;
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    auto m = ws.next_json(left);
    if (!m) break;
    out.push_back(std::move(*m));
  }
  return out;
}

/// Everything that arrives during `period`.
std::vector<json> drain(WsClient& ws, std::chrono::milliseconds period = kQuiet) {
  std::vector<json> out;
  const auto deadline = Clock::now() + period;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    auto m = ws.next_json(left);
    if (!m) break;
    out.push_back(std::move(*m));
  }
  return out;
}

long long seq(const json& m) {
  return m.is_object() && m.contains("sequence") && m["sequence"].is_number_integer()
             ? m["sequence"].get<long long>()
             : -1;
}

std::string task_id(const json& m) {
  if (!m.is_object() || !m.contains("data") || !m["data"].is_object() || !m["data"].contains("task"))
    return "";
  return m["data"]["task"].value("id", "");
}

std::string show(const std::vector<json>& messages) {
  std::string out = std::to_string(messages.size()) + " messages:";
  for (const auto& m : messages) {
    if (out.size() > 8000) return out + " …";
    out +=
        "\n  " + (m.is_object()
                      ? json{{"type", m.value("type", "")}, {"sequence", seq(m)}, {"task", task_id(m)}}.dump()
                      : m.dump());
  }
  return out;
}

/// The messages are events with sequences first, first+1, …, and (when given) tasks `ids`, in that order.
::testing::AssertionResult IsRun(const std::vector<json>& messages, long long first,
                                 const std::vector<std::string>& ids = {}) {
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (seq(messages[i]) != first + static_cast<long long>(i))
      return ::testing::AssertionFailure()
             << "message " << i << " has sequence " << seq(messages[i]) << ", expected "
             << first + static_cast<long long>(i) << "; " << show(messages);
    if (i < ids.size() && task_id(messages[i]) != ids[i])
      return ::testing::AssertionFailure() << "message " << i << " is about task " << task_id(messages[i])
                                           << ", expected " << ids[i] << "; " << show(messages);
  }
  if (messages.size() < ids.size())
    return ::testing::AssertionFailure() << "only " << show(messages) << "; expected " << ids.size();
  return ::testing::AssertionSuccess();
}

/// Waits until `deadline` for `ws` to be closed as a session of a removed account is: 4401, its reason
/// saying so.
::testing::AssertionResult ClosedAsRemoved(WsClient& ws, Clock::time_point deadline) {
  const auto code = ws.wait_closed(
      std::max(0ms, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())));
  if (!code) return ::testing::AssertionFailure() << "still open after its account was removed";
  if (*code != 4401 || ws.close_reason().find("no longer exists") == std::string::npos)
    return ::testing::AssertionFailure() << "closed with " << *code << " \"" << ws.close_reason() << "\"";
  return ::testing::AssertionSuccess();
}

/// A fixture with a server of its own (allowing kAllowedOrigin) on a database of its own.
class RealtimeTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    if (server_) return;
    db_ = std::make_unique<Database>();
    server_ = std::make_unique<ServerProcess>(std::map<std::string, std::string>{
        {"DATABASE_URL", db_->url}, {"TODO_ALLOWED_ORIGINS", kAllowedOrigin}});
    std::atexit([] { server_.reset(); });
  }
  static void TearDownTestSuite() {
    const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
    if (server_ && suite != nullptr && suite->Failed()) std::cerr << server_output_digest(server_->output());
  }

 protected:
  static const std::string& url() { return server_->base_url(); }
  static const Database& db() { return *db_; }
  static const ServerProcess& server() { return *server_; }
  static TestUser user() { return new_user(url()); }

 private:
  inline static std::unique_ptr<ServerProcess> server_;
  inline static std::unique_ptr<Database> db_;
};

// ---- 1. fan-out
// --------------------------------------------------------------------------------------------

TEST_F(RealtimeTest, EveryDeviceOfTheUserGetsEachChangeAndNoOtherUserDoes) {
  auto alice = user();
  auto bob = user();
  // A fresh user: after=0 means "everything", so the sockets miss nothing whatever the timing.
  auto laptop = open_ws(url(), alice.token, 0, /*bearer_protocol=*/true);
  auto phone = open_ws(url(), alice.token, 0);
  auto bobs = open_ws(url(), bob.token, 0);
  EXPECT_EQ(laptop->response_header("Sec-WebSocket-Protocol"), "bearer");

  const json created = create_task(alice.client, {{"title", "buy milk"}, {"description", "2 litres"}});
  const std::string id = created["id"];
  auto patched = alice.client.patch("/api/v1/tasks/" + id, {{"title", "buy oat milk"}});
  ASSERT_EQ(patched.status, 200) << patched.describe();
  auto completed = alice.client.post("/api/v1/tasks/" + id + "/complete");
  ASSERT_EQ(completed.status, 200) << completed.describe();
  auto reopened = alice.client.post("/api/v1/tasks/" + id + "/reopen");
  ASSERT_EQ(reopened.status, 200) << reopened.describe();
  ASSERT_EQ(alice.client.del("/api/v1/tasks/" + id).status, 204);

  const std::vector<std::string> types = {"task.created", "task.updated", "task.completed", "task.reopened",
                                          "task.deleted"};
  std::vector<std::vector<json>> seen;
  for (auto* ws : {laptop.get(), phone.get()}) {
    auto got = receive(*ws, types.size());
    ASSERT_TRUE(IsRun(got, 1, std::vector<std::string>(types.size(), id)));
    for (std::size_t i = 0; i < types.size(); ++i)
      EXPECT_EQ(got[i]["type"], types[i]) << show(got);
    const json& first = got[0];
    EXPECT_TRUE(std::regex_match(first["event_id"].get<std::string>(), kUuid)) << first.dump();
    EXPECT_TRUE(std::regex_match(first["time"].get<std::string>(), kRfc3339)) << first.dump();
    EXPECT_EQ(first["data"]["task"], created) << first.dump();
    EXPECT_EQ(got[1]["data"]["task"], patched.json());
    EXPECT_EQ(got[2]["data"]["task"], completed.json());
    EXPECT_EQ(got[3]["data"]["task"], reopened.json());
    EXPECT_TRUE(drain(*ws, 200ms).empty());
    seen.push_back(got);
  }
  for (std::size_t i = 0; i < types.size(); ++i)
    EXPECT_EQ(seen[0][i], seen[1][i]);

  // Bob saw none of it; his own change reaches him (so his socket works).
  EXPECT_EQ(bobs->messages_received(), 0u);
  const json bobs_task = create_task(bob.client, "bob's");
  auto got = receive(*bobs, 1);
  ASSERT_TRUE(IsRun(got, 1, {bobs_task["id"]}));
  EXPECT_TRUE(drain(*bobs, 200ms).empty());
  EXPECT_TRUE(drain(*laptop, 100ms).empty());

  // A device connecting without `after` gets what happens from then on, not the history.
  auto tablet = open_ws(url(), alice.token);
  EXPECT_TRUE(sync(*tablet).empty());
  const json later = create_task(alice.client, "later");
  got = receive(*tablet, 1);
  ASSERT_TRUE(IsRun(got, 6, {later["id"]}));
  EXPECT_EQ(got[0]["data"]["task"], later);
}

// ---- 2. resume
// ---------------------------------------------------------------------------------------------

/// Creates `n` tasks titled `<prefix>-<i>`; returns their ids in order.
std::vector<std::string> create_many(HttpClient& client, int n, const std::string& prefix,
                                     const std::string& description = "") {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    json t = {{"title", prefix + "-" + std::to_string(i)}};
    if (!description.empty()) t["description"] = description;
    ids.push_back(create_task(client, t)["id"]);
  }
  return ids;
}

TEST_F(RealtimeTest, ResumeWithAfterDeliversExactlyWhatWasMissedThenLive) {
  auto alice = user();
  long long last = 0;
  {
    auto ws = open_ws(url(), alice.token, 0);
    create_many(alice.client, 3, "before");
    auto got = receive(*ws, 3);
    ASSERT_TRUE(IsRun(got, 1));
    last = seq(got.back());
    ws->close();
  }
  const auto missed = create_many(alice.client, 100, "offline");

  // Changes keep coming while the device reconnects.
  HttpClient other(url());
  other.set_token(alice.token);
  std::vector<std::string> concurrent;
  std::thread writer([&] { concurrent = create_many(other, 20, "during"); });
  auto ws = open_ws(url(), alice.token, last);
  writer.join();
  const json live = create_task(alice.client, "live");

  std::vector<std::string> expected = missed;
  expected.insert(expected.end(), concurrent.begin(), concurrent.end());
  expected.push_back(live["id"]);
  auto got = receive(*ws, expected.size());
  EXPECT_TRUE(IsRun(got, last + 1, expected));
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(drain(*ws).empty()) << "duplicates after the seam";
}

TEST_F(RealtimeTest, ResumeMessageDeliversExactlyWhatWasMissedThenLive) {
  auto alice = user();
  auto ws = open_ws(url(), alice.token, 0);
  create_many(alice.client, 2, "before");
  ASSERT_TRUE(IsRun(receive(*ws, 2), 1));
  ws->close();
  const long long last = 2;
  const auto missed = create_many(alice.client, 100, "offline");

  HttpClient other(url());
  other.set_token(alice.token);
  std::vector<std::string> concurrent;
  std::thread writer([&] { concurrent = create_many(other, 20, "during"); });
  ws = open_ws(url(), alice.token);  // no after: live from now on, until the resume message
  ASSERT_TRUE(ws->send(json{{"type", "resume"}, {"after", last}}.dump()));
  writer.join();
  const json live = create_task(alice.client, "live");

  std::vector<std::string> expected = missed;
  expected.insert(expected.end(), concurrent.begin(), concurrent.end());
  expected.push_back(live["id"]);
  // Live events may precede the resume's effect (events committed before the connection can be published
  // after it): each newer than `after`, in order. The server acknowledges the resume with {"type":"resumed"};
  // from there on the stream is exactly the rest of the history after `after`, then live.
  std::vector<json> early;
  bool acknowledged = false;
  const auto deadline = Clock::now() + kWait;
  while (!acknowledged && Clock::now() < deadline) {
    auto m = ws->next_json(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!m) break;
    if (m->value("type", "") == "resumed") {
      EXPECT_EQ((*m)["after"], last) << m->dump();
      acknowledged = true;
    } else {
      early.push_back(*m);
    }
  }
  ASSERT_TRUE(acknowledged) << "no {\"type\":\"resumed\"} after " << show(early);
  for (const auto& m : early)
    EXPECT_GT(seq(m), last) << "before the replay: " << show(early);
  if (!early.empty()) {
    EXPECT_TRUE(IsRun(early, seq(early.front()))) << show(early);
  }
  auto got = receive(*ws, expected.size());
  EXPECT_TRUE(IsRun(got, last + 1, expected));
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(drain(*ws).empty()) << "duplicates after the seam";

  // A resume with nothing missed just continues live.
  ASSERT_TRUE(ws->send(json{{"type", "resume"}, {"after", last + 121}}.dump()));
  const auto ack = ws->next_json(kWait);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(*ack, (json{{"type", "resumed"}, {"after", last + 121}}));
  EXPECT_TRUE(sync(*ws).empty());
  const json next = create_task(alice.client, "next");
  EXPECT_TRUE(IsRun(receive(*ws, 1), last + 122, {next["id"]}));
}

TEST_F(RealtimeTest, ResumeMessageWhileAWriteIsBlockedLosesNothing) {
  // The client stops reading until the server's write to it blocks (90 events of ~60 KB — control characters
  // are escaped in JSON — more than loopback buffers hold, ~4 MB), asks to resume from the start, then reads
  // again. What was being written arrives whole, then the acknowledgement, then the whole history from
  // sequence 1, then live.
  auto alice = user();
  auto ws = open_ws(url(), alice.token, 0, false, /*receive_buffer=*/4096);
  EXPECT_TRUE(sync(*ws).empty());
  ws->pause();
  const auto ids = create_many(alice.client, 90, "big", std::string(10'000, '\x01'));
  ASSERT_TRUE(ws->send(json{{"type", "resume"}, {"after", 0}}.dump()));
  std::this_thread::sleep_for(
      300ms);  // for the server to take the resume in (the outcome must not depend on it)
  ws->resume();
  const json live = create_task(alice.client, "live");

  // Before the server's {"type":"resumed"}: what it had already started writing; after it: the replay.
  std::vector<json> early, replayed;
  bool acknowledged = false;
  while (auto m = ws->next_json(kWait)) {
    if (!acknowledged && m->value("type", "") == "resumed") {
      acknowledged = true;
      continue;
    }
    (acknowledged ? replayed : early).push_back(*m);
    if (acknowledged && task_id(*m) == live["id"]) break;
  }
  for (auto& m : drain(*ws))
    replayed.push_back(std::move(m));
  ASSERT_TRUE(acknowledged) << "no {\"type\":\"resumed\"} after " << show(early);
  EXPECT_TRUE(IsRun(early, 1));
  std::vector<std::string> expected = ids;
  expected.push_back(live["id"]);
  EXPECT_TRUE(IsRun(replayed, 1, expected)) << early.size() << " before the replay";
  EXPECT_EQ(replayed.size(), expected.size());
}

// ---- 3. resync
// ---------------------------------------------------------------------------------------------

TEST(RealtimeResync, HistoryOlderThanTheRetentionAsksForAResync) {
  Database db;
  const std::map<std::string, std::string> env = {{"TODO_OUTBOX_RETENTION", "1s"}};
  std::string token, user_id;
  {
    OwnServer first(db.url, env);
    auto alice = new_user(first->base_url());
    token = alice.token;
    user_id = alice.id;
    auto ws = open_ws(first->base_url(), token, 0);
    create_many(alice.client, 3, "old");
    ASSERT_TRUE(IsRun(receive(*ws, 3), 1));  // delivered, so published
    std::this_thread::sleep_for(1100ms);     // older than the retention
    ws->close();
    ASSERT_EQ(first->terminate(), 0);
  }
  // The relay prunes when it starts (and every minute after): a restart prunes the published events now.
  OwnServer second(db.url, env);
  const std::string count_sql = "SELECT count(*) FROM outbox WHERE user_id = '" + user_id + "'";
  const auto deadline = Clock::now() + 10s;
  while (db.query(count_sql) != "0" && Clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  ASSERT_EQ(db.query(count_sql), "0") << "the outbox was not pruned";

  auto ws = open_ws(second->base_url(), token, 0);
  auto got = receive(*ws, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], json({{"type", "resync"}}));
  auto partial = open_ws(second->base_url(), token, 2);
  got = receive(*partial, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], json({{"type", "resync"}}));
  auto current = open_ws(second->base_url(), token, 3);  // nothing missed: no resync
  EXPECT_TRUE(sync(*current).empty());
  // A client ahead of the server saw another history (a database restored from a backup): it would take
  // sequences 4, 5, … for ones it has. It reloads.
  auto ahead = open_ws(second->base_url(), token, 10);
  got = receive(*ahead, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], json({{"type", "resync"}}));

  // After the resync, live changes flow.
  HttpClient client(second->base_url());
  client.set_token(token);
  const json t = create_task(client, "new");
  for (auto* s : {ws.get(), partial.get(), current.get(), ahead.get()})
    EXPECT_TRUE(IsRun(receive(*s, 1), 4, {t["id"]}));
}

// ---- 4. across replicas
// ------------------------------------------------------------------------------------

/// Replicas A and B on one database without Kafka: B learns of the events A's relay publishes by NOTIFY only.
struct NotifyReplicas {
  void start(std::map<std::string, std::string> a_env = {}) {
    a.emplace(db.url, std::move(a_env));
    ASSERT_EQ(
        wait_metric((*a)->base_url(), "outbox_relay_lanes", [](double v) { return v == events::kLanes; }),
        events::kLanes);
    b.emplace(db.url, std::map<std::string, std::string>{});
    // The relays share the lanes: A keeps lanes 0-15 and B takes 16-31 (A gives back its highest ones).
    ASSERT_EQ(wait_metric((*a)->base_url(), "outbox_relay_lanes", [](double v) { return v == 16; }), 16);
    ASSERT_EQ(wait_metric((*b)->base_url(), "outbox_relay_lanes", [](double v) { return v == 16; }), 16);
  }
  /// A new user (registered through A) whose events A's relay publishes, or B's.
  std::optional<TestUser> user_published_by(bool by_a) {
    for (int i = 0; i < 200; ++i) {
      auto u = new_user((*a)->base_url());
      if ((events::lane_of(u.id) < events::kLanes / 2) == by_a) return u;
    }
    return std::nullopt;
  }

  Database db;
  std::optional<OwnServer> a, b;
};

TEST(RealtimeReplicas, AChangeOnOneReplicaReachesASocketOnAnotherExactlyOnceInOrder) {
  NotifyReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start());
  auto on_a = r.user_published_by(true), on_b = r.user_published_by(false);
  ASSERT_TRUE(on_a && on_b);
  for (TestUser* u : {&*on_a, &*on_b}) {
    SCOPED_TRACE(u == &*on_a ? "published by A" : "published by B");
    auto ws = open_ws((*r.b)->base_url(), u->token, 0);
    const auto ids = create_many(u->client, 50, "burst");  // u->client talks to A
    auto got = receive(*ws, ids.size());
    EXPECT_TRUE(IsRun(got, 1, ids));
    EXPECT_TRUE(drain(*ws).empty()) << "duplicates";
  }
}

// A replica's LISTEN connection drops (a network blip, an idle-session timeout, a failover): the NOTIFYs sent
// meanwhile are lost, so once it listens again its sessions fetch what they missed, without waiting for the
// user's next change.
TEST(RealtimeReplicas, AfterItsListenConnectionDropsAReplicaCatchesUpItsSockets) {
  NotifyReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start());
  auto on_a = r.user_published_by(true);
  ASSERT_TRUE(on_a);
  auto ws = open_ws((*r.b)->base_url(), on_a->token, 0);
  const auto first = create_many(on_a->client, 1, "before");
  ASSERT_TRUE(IsRun(receive(*ws, 1), 1, first));

  pqxx::connection admin(r.db.url);
  pqxx::nontransaction n(admin);
  const auto killed = n.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'todo-ws-listener' "
      "AND datname = current_database()");  // the cluster may serve other tests' databases
  ASSERT_EQ(killed.size(), 2u) << "one listener a replica";
  // Sent while B's listener is gone (it notices within 0.2 s, reconnects a second later).
  const auto ids = create_many(on_a->client, 3, "while B was not listening");
  auto got = receive(*ws, ids.size());
  EXPECT_TRUE(IsRun(got, 2, ids)) << "no later change came to wake B";
  EXPECT_TRUE(drain(*ws).empty()) << "duplicates";
}

// Without `after` a socket starts from the present, which for the client is its 101: a change it makes once
// it has that reaches the socket, even when it commits before the session has joined the hub (its replica's
// pool busy: here two connections, both waiting for a row lock).
TEST(RealtimeReplicas, AChangeMadeAfterTheUpgradeReachesTheSocketWhileThePoolIsBusy) {
  NotifyReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start({{"TODO_DB_POOL_SIZE", "2"}}));
  auto u = r.user_published_by(false);  // B's relay publishes, A learns by NOTIFY: any replica works
  ASSERT_TRUE(u);
  HttpClient on_b((*r.b)->base_url());
  on_b.set_token(u->token);
  const std::string locked = create_task(u->client, "locked")["id"];  // u->client talks to A
  pqxx::connection admin(r.db.url);
  pqxx::work lock(admin);
  lock.exec("SELECT 1 FROM tasks WHERE id = '" + locked + "' FOR UPDATE");
  std::vector<std::thread> writers;  // each holds one of A's two connections until the lock goes
  for (int i = 0; i < 2; ++i)
    writers.emplace_back([&, i] {
      HttpClient c((*r.a)->base_url());
      c.set_token(u->token);
      c.patch("/api/v1/tasks/" + locked, {{"title", "writer " + std::to_string(i)}});
    });
  std::this_thread::sleep_for(300ms);
  std::atomic<bool> upgraded{false};
  std::unique_ptr<WsClient> ws;
  std::thread opener([&] {
    ws = open_ws((*r.a)->base_url(), u->token);
    upgraded = true;
  });
  for (int i = 0; i < 30 && !upgraded; ++i)
    std::this_thread::sleep_for(50ms);
  // Made through B while A's pool is still busy; it counts for the socket only if its 101 came first.
  const bool after_upgrade = upgraded.load();
  const std::string during = create_task(on_b, "during")["id"];
  lock.commit();
  for (auto& w : writers)
    w.join();
  opener.join();
  ASSERT_TRUE(ws);
  const std::string later = create_task(on_b, "later")["id"];
  std::vector<std::string> owed;
  if (after_upgrade) owed.push_back(during);
  owed.push_back(later);
  std::vector<json> got;  // up to the last change (the writers' updates may come between)
  std::vector<std::string> created;
  const auto deadline = Clock::now() + kWait;
  while (created.empty() || created.back() != later) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto m = left.count() > 0 ? ws->next_json(left) : std::nullopt;
    if (!m) break;
    got.push_back(*m);
    if (m->value("type", "") == "task.created") created.push_back(task_id(*m));
  }
  // A change committed before the position was read but numbered by its relay after that read (B's relay
  // numbers asynchronously, within milliseconds) is sent too: the socket starts from the sequence it read,
  // and the README promises the changes after the 101, not that an earlier one is never sent. So `during`,
  // made before the 101, may come; it must when it came after.
  if (!after_upgrade && created.size() == 2 && created.front() == during) owed.insert(owed.begin(), during);
  EXPECT_EQ(created, owed) << "upgraded before the change: " << after_upgrade << "; " << show(got);
}

/// Replicas A and B on one database and one mock Kafka cluster (B with `b_env` besides); a user whose events
/// A's relay publishes; their socket on B, already getting A's events through B's consumer group.
struct KafkaReplicas {
  void start(std::map<std::string, std::string> b_env = {}) {
    for (const char* topic : {"task-events", "task-updates", "reminders"})
      kafka.create_topic(topic, 4);
    a.emplace(db.url, std::map<std::string, std::string>{{"KAFKA_BROKERS", kafka.bootstrap_servers()}});
    ASSERT_EQ(
        wait_metric((*a)->base_url(), "outbox_relay_lanes", [](double v) { return v == events::kLanes; }),
        events::kLanes);
    b_env["KAFKA_BROKERS"] = kafka.bootstrap_servers();
    b.emplace(db.url, b_env);
    ASSERT_EQ(wait_metric((*a)->base_url(), "outbox_relay_lanes", [](double v) { return v == 16; }), 16);
    ASSERT_EQ(wait_metric((*b)->base_url(), "outbox_relay_lanes", [](double v) { return v == 16; }), 16);

    for (int i = 0; i < 200 && !on_a; ++i) {
      auto u = new_user((*a)->base_url());
      if (events::lane_of(u.id) < events::kLanes / 2) on_a.emplace(std::move(u));
    }
    ASSERT_TRUE(on_a);
    ws = open_ws((*b)->base_url(), on_a->token, 0);
    // B's consumer joins its group shortly after start: changes until one arrives.
    std::vector<json> first;
    for (int i = 0; i < 100 && first.empty(); ++i) {
      create_task(on_a->client, "warm-up " + std::to_string(i));  // on_a->client talks to A
      first = drain(*ws, 300ms);
    }
    ASSERT_FALSE(first.empty()) << "nothing reached the socket on B through Kafka";
    const std::int64_t after = first.back()["sequence"].get<std::int64_t>();
    auto rest = drain(*ws, 1s);  // warm-up changes still on their way
    last = rest.empty() ? after : rest.back()["sequence"].get<std::int64_t>();
  }

  events::MockKafkaCluster kafka{1};
  Database db;
  std::optional<OwnServer> a, b;
  std::optional<TestUser> on_a;
  std::unique_ptr<WsClient> ws;
  std::int64_t last = 0;  // the last sequence the socket got
};

TEST(RealtimeReplicas, WithKafkaAChangeOnOneReplicaReachesASocketOnAnotherThroughTheTopic) {
  // With KAFKA_BROKERS set, a replica learns of other replicas' events from the topics only (no LISTEN):
  // B's socket gets A's changes through B's own consumer group, or not at all.
  KafkaReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start());
  const auto ids = create_many(r.on_a->client, 50, "through kafka");
  auto got = receive(*r.ws, ids.size());
  EXPECT_TRUE(IsRun(got, r.last + 1, ids));
  EXPECT_TRUE(drain(*r.ws).empty()) << "duplicates";
}

TEST(RealtimeReplicas, WithKafkaAReminderFiredOnOneReplicaReachesASocketOnAnother) {
  // reminder.fired goes to the reminders topic, not task-updates: B's gateway must read that topic too (with
  // Kafka there is no LISTEN). A fires and publishes (B runs no scheduler, and A's relay has the user's
  // lane); the socket is on B.
  KafkaReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start({{"TODO_REMINDERS", "off"}}));
  const json task =
      create_task(r.on_a->client, json{{"title", "call mum"}, {"due_at", format_rfc3339(now() + 1h)}});
  auto created = r.on_a->client.post("/api/v1/tasks/" + task["id"].get<std::string>() + "/reminders",
                                     json{{"at", format_rfc3339(now() + 1500ms)}});
  ASSERT_EQ(created.status, 201) << created.describe();
  const std::string rid = created.json()["id"];
  std::vector<json> got;
  const auto deadline = Clock::now() + kWait;
  while (Clock::now() < deadline && (got.empty() || got.back().value("type", "") != "reminder.fired")) {
    auto m = r.ws->next_json(1s);
    if (m) got.push_back(std::move(*m));
  }
  ASSERT_FALSE(got.empty() || got.back().value("type", "") != "reminder.fired")
      << "no reminder.fired on B's socket; " << show(got);
  EXPECT_EQ(got.back()["data"]["reminder_id"], rid);
  EXPECT_EQ(got.back()["data"]["task_id"], task["id"]);
  EXPECT_TRUE(IsRun(got, r.last + 1, {task["id"]}));  // task.created, then reminder.fired: in order, once
  EXPECT_TRUE(drain(*r.ws).empty()) << "duplicates";
}

// An account removed by an operator (SQL): its sessions are closed with 4401 on every replica at once (the
// users trigger NOTIFYs todo_accounts, which every replica's gateway listens to), another user's go on; a
// TRUNCATE removes them all.
TEST(RealtimeReplicas, TheSessionsOfARemovedAccountAreClosedOnEveryReplica) {
  NotifyReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start());
  auto gone = new_user((*r.a)->base_url());
  auto stays = new_user((*r.a)->base_url());
  auto on_a = open_ws((*r.a)->base_url(), gone.token, 0);
  auto on_b = open_ws((*r.b)->base_url(), gone.token, 0);
  auto other = open_ws((*r.b)->base_url(), stays.token, 0);
  for (auto* ws : {on_a.get(), on_b.get(), other.get()})
    EXPECT_TRUE(sync(*ws).empty());
  r.db.query("DELETE FROM users WHERE id = '" + gone.id + "'");
  const auto deadline = Clock::now() + 2s;
  EXPECT_TRUE(ClosedAsRemoved(*on_a, deadline)) << "on A";
  EXPECT_TRUE(ClosedAsRemoved(*on_b, deadline)) << "on B";
  const json t = create_task(stays.client, "still here");
  EXPECT_TRUE(IsRun(receive(*other, 1), 1, {t["id"]}));
  // Every account at once.
  r.db.query("TRUNCATE users CASCADE");
  EXPECT_TRUE(ClosedAsRemoved(*other, Clock::now() + 2s)) << "after TRUNCATE";
}

// The NOTIFY of a removal sent while a replica's LISTEN connection is down is lost: once it listens again,
// the replica closes the sessions whose account is gone.
TEST(RealtimeReplicas, AnAccountRemovedWhileAReplicaWasNotListeningHasItsSessionsClosedThere) {
  NotifyReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start());
  auto gone = new_user((*r.a)->base_url());
  auto ws = open_ws((*r.b)->base_url(), gone.token, 0);
  EXPECT_TRUE(sync(*ws).empty());
  pqxx::connection admin(r.db.url);
  pqxx::nontransaction n(admin);
  const auto listeners = n.exec(
      "SELECT pid FROM pg_stat_activity WHERE application_name = 'todo-ws-listener' "
      "AND datname = current_database()");
  ASSERT_EQ(listeners.size(), 2u) << "one listener a replica";
  std::string pids;
  for (const auto& row : listeners)
    pids += (pids.empty() ? "" : ",") + std::string(row[0].c_str());
  n.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (" + pids + ")");
  // Once the listeners' backends are gone (the replicas listen again a second after noticing).
  for (int i = 0; i < 100 && n.exec("SELECT 1 FROM pg_stat_activity WHERE pid IN (" + pids + ")").size() > 0;
       ++i)
    std::this_thread::sleep_for(10ms);
  n.exec("DELETE FROM users WHERE id = '" + gone.id + "'");
  EXPECT_TRUE(ClosedAsRemoved(*ws, Clock::now() + 5s));
}

// With Kafka there is no LISTEN for events, but there is one for removed accounts: a removed account's
// sessions are closed on every replica all the same.
TEST(RealtimeReplicas, WithKafkaTheSessionsOfARemovedAccountAreClosedOnEveryReplica) {
  KafkaReplicas r;
  ASSERT_NO_FATAL_FAILURE(r.start());
  auto on_a = open_ws((*r.a)->base_url(), r.on_a->token);
  EXPECT_TRUE(sync(*on_a).empty());
  r.db.query("DELETE FROM users WHERE id = '" + r.on_a->id + "'");
  const auto deadline = Clock::now() + 2s;
  EXPECT_TRUE(ClosedAsRemoved(*on_a, deadline)) << "on A";
  EXPECT_TRUE(ClosedAsRemoved(*r.ws, deadline)) << "on B";
}

// ---- 5. slow consumers
// -------------------------------------------------------------------------------------

// A client that takes no message while its send queue is full, for the stall timeout, is closed with 1013.
TEST(RealtimeSlowConsumer, AClientThatCannotKeepUpIsClosedWith1013AndResumes) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_SEND_QUEUE", "8"}, {"TODO_WS_STALL_TIMEOUT_MS", "1000"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  auto slow = open_ws(url, alice.token, 0, false, /*receive_buffer=*/4096);
  EXPECT_TRUE(sync(*slow).empty());
  const double dropped_before = metric(metrics_text(url), "ws_dropped_slow_total");
  ASSERT_GE(dropped_before, 0);
  slow->pause();

  // 10 000-character descriptions of control characters, which JSON escapes: ~60 KB a message, so that a
  // few dozen fill what loopback buffers hold (~4 MB) and the send queue overflows soon after.
  const std::string big(10'000, '\x01');
  int made = 0;
  double dropped = dropped_before;
  while (made < 400 && dropped <= dropped_before) {
    create_many(alice.client, 10, "big", big);
    made += 10;
    dropped = metric(metrics_text(url), "ws_dropped_slow_total");
  }
  ASSERT_GT(dropped, dropped_before) << "no slow client was dropped after " << made << " changes of ~60 KB";

  // The client reads again: what was in flight, then the close frame.
  slow->resume();
  ASSERT_EQ(slow->wait_closed(kWait), 1013) << slow->close_reason();
  auto got = drain(*slow, 200ms);
  ASSERT_TRUE(IsRun(got, 1));
  const long long last = got.empty() ? 0 : seq(got.back());
  EXPECT_LT(last, made);

  // The server is healthy: it answers, and the socket is gone from its books.
  HttpClient probe(url);
  EXPECT_EQ(probe.get("/healthz").status, 200);
  EXPECT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 0; }), 0);

  // Reconnecting after what it saw gives it the rest, in order, once.
  auto again = open_ws(url, alice.token, last);
  auto rest = receive(*again, static_cast<std::size_t>(made - last));
  EXPECT_TRUE(IsRun(rest, last + 1));
  EXPECT_EQ(rest.size(), static_cast<std::size_t>(made - last));
  const json live = create_task(alice.client, "live");
  EXPECT_TRUE(IsRun(receive(*again, 1), made + 1, {live["id"]}));
  EXPECT_TRUE(drain(*again).empty());
}

// A burst of live events larger than the send queue (a relay that was held up, then publishes them all at
// once) is not a slow client: a client that reads gets every event, in order, once, and stays connected; the
// events beyond the queue are read from the outbox as it takes the queued ones.
TEST(RealtimeSlowConsumer, ABurstLargerThanTheSendQueueReachesAReadingClientWhole) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_SEND_QUEUE", "4"}, {"TODO_WS_STALL_TIMEOUT_MS", "1000"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  const json first = create_task(alice.client, "first");
  auto ws = open_ws(url, alice.token, 0);
  ASSERT_TRUE(IsRun(receive(*ws, 1), 1, {first["id"]}));
  const double dropped_before = metric(metrics_text(url), "ws_dropped_slow_total");

  // The relay numbers each event under the user's sequence row: held, the relay waits, and the 150 creates
  // below are committed meanwhile; released, they are published together.
  pqxx::connection admin(db.url);
  std::vector<std::string> ids;
  {
    pqxx::work hold(admin);
    hold.exec("SELECT 1 FROM user_event_sequences WHERE user_id = " + hold.quote(alice.id) + " FOR UPDATE");
    ids = create_many(alice.client, 150, "burst");
  }
  auto got = receive(*ws, ids.size(), 60s);
  ASSERT_EQ(got.size(), ids.size()) << "closed: " << ws->close_reason();
  EXPECT_TRUE(IsRun(got, 2, ids));
  const json live = create_task(alice.client, "after the burst");
  EXPECT_TRUE(IsRun(receive(*ws, 1), 152, {live["id"]}));
  EXPECT_TRUE(drain(*ws).empty()) << "duplicates";
  EXPECT_EQ(metric(metrics_text(url), "ws_dropped_slow_total"), dropped_before);
}

// A client taking a long catch-up steadily, at 160 KB/s, is no stalled one although the server's writes end
// only in bursts seconds apart: the kernel wakes a writer blocked on a full socket only once a third of its
// send buffer (megabytes on loopback) is free. Between the bursts the client is seen taking data by the
// socket's unsent bytes shrinking (SIOCOUTQ). Taken by the messages written alone, it was closed with 1013
// after the stall timeout (here 2 s) in the first gap between bursts.
TEST(RealtimeSlowConsumer, AClientReadingSteadilyBetweenTheWritersWakeupsIsNotTakenForAStalledOne) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_SEND_QUEUE", "8"}, {"TODO_WS_STALL_TIMEOUT_MS", "2000"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  // 6 MB of history: more than loopback's send buffer and the client's receive buffer hold, and than the
  // client reads in the test. Control characters are escaped in JSON: 60 KB a message.
  const auto ids = create_many(alice.client, 100, "history", std::string(10'000, '\x01'));
  WsOptions o = ws_options(target(alice.token, 0));
  o.receive_buffer = 64 * 1024;
  o.read_delay = 375ms;  // 160 KB/s
  WsClient ws(url, o);
  ASSERT_TRUE(ws.upgraded()) << ws.status() << " " << ws.error();
  constexpr std::size_t kRead = 24;  // 9 s (taken by the messages written alone, it was closed ~3 s in)
  const auto got = receive(ws, kRead, 30s);
  EXPECT_EQ(got.size(), kRead) << "closed: " << ws.closed() << " " << ws.close_reason();
  EXPECT_TRUE(IsRun(got, 1, std::vector<std::string>(ids.begin(), ids.begin() + kRead)));
  EXPECT_FALSE(ws.closed()) << ws.close_reason();
  EXPECT_EQ(metric(metrics_text(url), "ws_dropped_slow_total"), 0);
  ws.abort();
}

// A catch-up the kernel buffered whole (the server's writes all done) is read by a slow client for longer
// than the silence timeout, the pings (and so its pongs) waiting behind it: the client is alive as long as
// it takes the data, and stays connected.
TEST(RealtimeSlowConsumer, AClientReadingABufferedCatchUpSlowlyIsNotDroppedAsSilent) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_PING_INTERVAL_MS", "300"}, {"TODO_WS_SILENCE_TIMEOUT_MS", "1500"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  const auto ids = create_many(alice.client, 200, "history", std::string(3000, 'h'));
  WsOptions o;
  o.target = target(alice.token, 0);
  o.receive_buffer = 4096;
  o.read_delay = 20ms;  // ~4 s for the whole catch-up, more than twice the 1.5 s timeout
  WsClient ws(url, o);
  ASSERT_TRUE(ws.upgraded());
  const auto started = Clock::now();
  auto got = receive(ws, ids.size(), 60s);
  ASSERT_EQ(got.size(), ids.size()) << "closed: " << ws.close_reason();
  EXPECT_GT(Clock::now() - started, 3s);
  EXPECT_TRUE(IsRun(got, 1, ids));
  const json live = create_task(alice.client, "live after the catch-up");
  EXPECT_TRUE(IsRun(receive(ws, 1), 201, {live["id"]})) << "the connection was dropped as silent";
}

// ---- 6. admission
// ------------------------------------------------------------------------------------------

// A token of another issuer sharing the secret may spell the user id in upper case: it is the same user,
// whose live events it gets (the hub is keyed by the id as the database writes it).
TEST_F(RealtimeTest, ATokenSpellingTheUserIdInUpperCaseGetsTheUsersLiveEvents) {
  auto alice = user();
  std::string upper = alice.id;
  for (auto& ch : upper)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  ASSERT_NE(upper, alice.id);
  auto ws = open_ws(url(), make_user_token(upper, kTestJwtSecret), 0);
  EXPECT_TRUE(sync(*ws).empty());
  const json t = create_task(alice.client, "seen by the upper-case token");
  EXPECT_TRUE(IsRun(receive(*ws, 1), 1, {t["id"]}));
}

TEST_F(RealtimeTest, ABadExpiredOrMissingTokenIsClosedWith4401BeforeAnyData) {
  auto alice = user();
  create_task(alice.client, "history that must not leak");
  const std::string expired = make_user_token(alice.id, kTestJwtSecret, -7200, -3600);
  const std::string wrong_key = make_user_token(alice.id, "another-secret-0123456789-abcdefghijklmnop");
  const std::vector<std::pair<std::string, WsOptions>> cases = {
      {"garbage in the query", ws_options(target("not-a-token", 0))},
      {"expired in the query", ws_options(target(expired, 0))},
      {"wrong key in the query", ws_options(target(wrong_key, 0))},
      {"missing", ws_options("/api/v1/ws?after=0")},
      {"empty", ws_options("/api/v1/ws?access_token=&after=0")},
      {"expired as protocol",
       ws_options("/api/v1/ws?after=0", {{"Sec-WebSocket-Protocol", "bearer, " + expired}})},
      {"garbage as protocol",
       ws_options("/api/v1/ws?after=0", {{"Sec-WebSocket-Protocol", "bearer, x.y.z"}})},
  };
  for (const auto& [name, options] : cases) {
    SCOPED_TRACE(name);
    WsClient ws(url(), options);
    ASSERT_TRUE(ws.upgraded()) << ws.status() << " " << ws.error();
    EXPECT_EQ(ws.wait_closed(5s), 4401);
    EXPECT_EQ(ws.messages_received(), 0u);
  }
  // The good token works in both places.
  EXPECT_TRUE(IsRun(receive(*open_ws(url(), alice.token, 0), 1), 1));
  EXPECT_TRUE(IsRun(receive(*open_ws(url(), alice.token, 0, true), 1), 1));
}

// A session lives as long as its token: once the token expires it is closed with 4401 (a REST request with
// it is a 401 by then), and the client, with a new token, resumes after its last sequence without a gap.
TEST_F(RealtimeTest, ASessionEndsWith4401WhenItsTokenExpires) {
  auto alice = user();
  // exp is a whole second: 2-3 s from now.
  auto ws = open_ws(url(), make_user_token(alice.id, kTestJwtSecret, 0, 3), 0);
  EXPECT_TRUE(sync(*ws).empty());
  const json first = create_task(alice.client, "before the expiry");
  ASSERT_TRUE(IsRun(receive(*ws, 1), 1, {first["id"]}));
  EXPECT_EQ(ws->wait_closed(10s), 4401) << "still open after its token expired";
  const json later = create_task(alice.client, "after the expiry");
  auto again = open_ws(url(), alice.token, 1);
  EXPECT_TRUE(IsRun(receive(*again, 1), 2, {later["id"]}));
}

// A valid token whose account was removed (with SQL: the API has no account deletion) is refused as a bad
// token is, with a reason naming the account; it was upgraded and kept open until its expiry.
TEST_F(RealtimeTest, ATokenOfARemovedAccountIsClosedWith4401) {
  auto gone = user();
  db().query("DELETE FROM users WHERE id = '" + gone.id + "'");
  for (const bool protocol : {false, true}) {
    SCOPED_TRACE(protocol ? "as protocol" : "in the query");
    WsClient ws(url(), protocol
                           ? ws_options("/api/v1/ws", {{"Sec-WebSocket-Protocol", "bearer, " + gone.token}})
                           : ws_options(target(gone.token)));
    ASSERT_TRUE(ws.upgraded()) << ws.status() << " " << ws.error();
    EXPECT_EQ(ws.wait_closed(5s), 4401);
    EXPECT_NE(ws.close_reason().find("no longer exists"), std::string::npos) << ws.close_reason();
    EXPECT_EQ(ws.messages_received(), 0u);
  }
}

// The open sessions of an account removed meanwhile (an operator's DELETE; the API has no account deletion)
// are closed with 4401 at once, not at their next resume or their token's expiry; another user's go on.
TEST_F(RealtimeTest, TheOpenSessionsOfAnAccountRemovedMeanwhileAreClosedWith4401AtOnce) {
  auto alice = user();
  auto bob = user();
  auto laptop = open_ws(url(), alice.token, 0);
  auto phone = open_ws(url(), alice.token, 0, /*bearer_protocol=*/true);
  auto bobs = open_ws(url(), bob.token, 0);
  for (auto* ws : {laptop.get(), phone.get(), bobs.get()})
    EXPECT_TRUE(sync(*ws).empty());
  db().query("DELETE FROM users WHERE id = '" + alice.id + "'");
  const auto deadline = Clock::now() + 2s;
  EXPECT_TRUE(ClosedAsRemoved(*laptop, deadline));
  EXPECT_TRUE(ClosedAsRemoved(*phone, deadline));
  EXPECT_FALSE(bobs->closed());
  const json t = create_task(bob.client, "bob's, after alice left");
  EXPECT_TRUE(IsRun(receive(*bobs, 1), 1, {t["id"]}));
  EXPECT_TRUE(sync(*bobs).empty()) << "bob's session serves on";
}

// Two tokens in one upgrade, maybe of two users: refused (as two Authorization headers are on the REST
// routes), whichever they are; it was upgraded as the protocol header's user.
TEST_F(RealtimeTest, ATokenInBothPlacesIsA400) {
  auto alice = user();
  auto bob = user();
  for (const auto& [name, in_query] :
       {std::pair<std::string, std::string>{"another user's", bob.token}, {"the same", alice.token}}) {
    SCOPED_TRACE(name);
    WsClient ws(url(), ws_options(target(in_query), {{"Sec-WebSocket-Protocol", "bearer, " + alice.token}}));
    EXPECT_FALSE(ws.upgraded());
    EXPECT_EQ(ws.status(), 400);
    const auto body = json::parse(ws.error(), nullptr, false);
    ASSERT_TRUE(body.is_object()) << ws.error();
    ASSERT_TRUE(body["errors"].is_array() && body["errors"].size() == 1) << ws.error();
    EXPECT_EQ(body["errors"][0]["field"], "access_token") << ws.error();
  }
}

/// Sends each message of `cases` and expects an error answer whose message holds the case's text.
void expect_errors(WsClient& ws, const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [text, says] : cases) {
    SCOPED_TRACE(text);
    ASSERT_TRUE(ws.send(text));
    auto answer = ws.next_json(kWait);
    ASSERT_TRUE(answer) << "no answer";
    ASSERT_TRUE(answer->is_object()) << answer->dump();
    EXPECT_EQ(answer->value("type", ""), "error") << answer->dump();
    EXPECT_NE(answer->value("message", "").find(says), std::string::npos) << answer->dump();
  }
}

// Client messages are read as strictly as REST bodies: nothing may follow the value (nlohmann's reader
// stopped at a NUL, so this was a ping) and no key may be given twice (the last one won).
TEST_F(RealtimeTest, ClientMessagesAreReadAsStrictlyAsRequestBodies) {
  auto alice = user();
  auto ws = open_ws(url(), alice.token, 0);
  EXPECT_TRUE(sync(*ws).empty());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(R"({"type":"ping"})") + '\0' + "garbage", "not JSON"},
      {std::string(R"({"type":"ping"})") + '\0', "not JSON"},
      {R"({"type":"resume","after":3,"after":4})", "repeats a key: after"},
      {R"({"type":"ping","type":"ping"})", "repeats a key: type"},
  };
  expect_errors(*ws, cases);
  EXPECT_TRUE(sync(*ws).empty()) << "the connection serves on";
}

// A key a client message does not take is refused as a REST body's unknown field is (422 there): a misspelt
// `after` must not resume from elsewhere, silently. The error names the key; the connection serves on.
TEST_F(RealtimeTest, AKeyAClientMessageDoesNotTakeIsAnErrorNamingIt) {
  auto alice = user();
  const json t = create_task(alice.client, "history");  // a resume taken would replay it
  auto ws = open_ws(url(), alice.token);
  EXPECT_TRUE(sync(*ws).empty());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"type":"resume","after":0,"afer":4})",
       "afer: unknown field; a resume message takes type and after"},
      {R"({"type":"resume","afer":0})", "afer: unknown field"},
      {R"({"type":"ping","x":1})", "x: unknown field; a ping message takes only type"},
      {R"({"type":"ping","after":0})", "after: unknown field"},
      {R"({"type":"resume","after":0,"a":1,"b":2,"c":null})", "a: unknown field (and 2 others)"},
      {R"({"after":0,"type":"resume","z":{}})", "z: unknown field"},
  };
  expect_errors(*ws, cases);
  EXPECT_TRUE(sync(*ws).empty()) << "no resume was taken, and the connection serves on";
  // The keys they take still work.
  ASSERT_TRUE(ws->send(R"({"type":"resume","after":0})"));
  auto got = receive(*ws, 2);
  ASSERT_EQ(got.size(), 2u) << show(got);
  EXPECT_EQ(got[0], json({{"type", "resumed"}, {"after", 0}}));
  EXPECT_TRUE(IsRun({got[1]}, 1, {t["id"]}));
}

TEST_F(RealtimeTest, OriginsOutsideTheAllowedListAreRefusedWith403) {
  auto alice = user();
  auto with_origin = [&](const std::string& origin) {
    return std::make_unique<WsClient>(url(), ws_options(target(alice.token), {{"Origin", origin}}));
  };
  auto evil = with_origin("https://evil.example.com");
  EXPECT_FALSE(evil->upgraded());
  EXPECT_EQ(evil->status(), 403) << evil->error();
  auto lookalike = with_origin(kAllowedOrigin + ".evil.example.com");
  EXPECT_EQ(lookalike->status(), 403) << lookalike->error();

  auto app = with_origin(kAllowedOrigin);
  EXPECT_TRUE(app->upgraded()) << app->status() << " " << app->error();
  auto same = with_origin(url());  // the server's own origin
  EXPECT_TRUE(same->upgraded()) << same->status() << " " << same->error();
  auto none = std::make_unique<WsClient>(url(), ws_options(target(alice.token)));  // not a browser
  EXPECT_TRUE(none->upgraded()) << none->status() << " " << none->error();
}

// A browser page of an allowed origin could open the socket but not call the API: no CORS answers, and its
// preflights got 405. Now listed origins get the CORS headers on every answer (errors too, so the page can
// read them) and preflights a 204 naming the path's methods; other origins get none, and a 403 preflight.
TEST_F(RealtimeTest, PagesOfAllowedOriginsMayCallTheApi) {
  auto alice = user();
  const auto task = create_task(alice.client, {{"title", "from the app"}});
  HttpClient anon(url());
  const auto preflight = [&](const std::string& path, const std::string& origin) {
    return anon.request("OPTIONS", path, std::nullopt,
                        {{"Origin", origin},
                         {"Access-Control-Request-Method", "PATCH"},
                         {"Access-Control-Request-Headers", "authorization, content-type, if-match"}});
  };
  auto r = preflight("/api/v1/tasks/" + task["id"].get<std::string>(), kAllowedOrigin);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.header("access-control-allow-origin"), kAllowedOrigin);
  for (const char* m : {"GET", "HEAD", "PATCH", "DELETE"})
    EXPECT_NE(r.header("access-control-allow-methods").find(m), std::string::npos) << m;
  for (const char* h : {"Authorization", "Content-Type", "If-Match", "If-None-Match", "X-Request-Id"})
    EXPECT_NE(r.header("access-control-allow-headers").find(h), std::string::npos) << h;
  EXPECT_NE(r.header("vary").find("Origin"), std::string::npos);
  const std::string list_methods =
      preflight("/api/v1/tasks", kAllowedOrigin).header("access-control-allow-methods");
  for (const char* m : {"GET", "HEAD", "POST"})
    EXPECT_NE(list_methods.find(m), std::string::npos) << m << " in " << list_methods;
  EXPECT_EQ(list_methods.find("PATCH"), std::string::npos) << list_methods;
  // Another origin: refused, naming it, with nothing a browser would take as a permission.
  r = preflight("/api/v1/tasks", "https://evil.example.com");
  EXPECT_TRUE(IsProblem(r, 403)) << r.status << r.body;
  EXPECT_NE(r.body.find("\"field\":\"Origin\""), std::string::npos) << r.body;
  EXPECT_FALSE(r.has_header("access-control-allow-origin"));
  EXPECT_EQ(preflight("/api/v1/nothing", kAllowedOrigin).status, 404);
  // OPTIONS that is no preflight is still a 405.
  EXPECT_EQ(anon.request("OPTIONS", "/api/v1/tasks", std::nullopt, {{"Origin", kAllowedOrigin}}).status, 405);

  // The requests themselves, answers and errors alike.
  r = alice.client.get("/api/v1/me", {{"Origin", kAllowedOrigin}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), kAllowedOrigin);
  EXPECT_NE(r.header("access-control-expose-headers").find("X-Request-Id"), std::string::npos);
  EXPECT_NE(r.header("access-control-expose-headers").find("ETag"), std::string::npos);
  EXPECT_NE(r.header("vary").find("Origin"), std::string::npos);
  r = anon.get("/api/v1/me", {{"Origin", kAllowedOrigin}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("access-control-allow-origin"), kAllowedOrigin);
  r = alice.client.get("/api/v1/me", {{"Origin", "https://evil.example.com"}});
  EXPECT_FALSE(r.has_header("access-control-allow-origin"));
  EXPECT_NE(r.header("vary").find("Origin"), std::string::npos);
  EXPECT_FALSE(alice.client.get("/api/v1/me").has_header("access-control-allow-origin"));
}

// Answers given before routing (a framing refused, a body or a head too large, an HTTP version the server
// does not speak) had no CORS headers: a page of an allowed origin could not read why its request failed.
// They carry a routed answer's when the head's Origin was read; a head not read at all carries none.
TEST_F(RealtimeTest, RefusalsBeforeRoutingCarryTheCorsHeadersToo) {
  const auto head = [](const std::string& origin) { return "Host: x\r\nOrigin: " + origin + "\r\n"; };
  const auto send = [&](const std::string& request) {
    RawConnection c(url());
    EXPECT_TRUE(c.send(request));
    EXPECT_TRUE(c.wait_closed(5s)) << "the connection closes";
    return c.received();
  };
  const auto requests = [&](const std::string& origin) {
    return std::vector<std::pair<std::string, std::string>>{
        {"413", "POST /api/v1/tasks HTTP/1.1\r\n" + head(origin) + "Content-Length: 99999999\r\n\r\n"},
        {"400",
         "POST /api/v1/tasks HTTP/1.1\r\n" + head(origin) + "Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n"},
        {"400", "GET /healthz HTTP/1.1\r\n" + head(origin) + "Transfer-Encoding: gzip\r\n\r\n"},
        {"431",
         "GET /healthz HTTP/1.1\r\n" + head(origin) + "X-Big: " + std::string(64 * 1024, 'h') + "\r\n\r\n"},
        {"431", "GET /healthz?x=" + std::string(2000, 'a') + " HTTP/1.1\r\n" + head(origin) +
                    "X-Pad: " + std::string(15000, 'p') + "\r\n\r\n"},
        {"505", "GET /healthz HTTP/2.0\r\n" + head(origin) + "\r\n"}};
  };
  for (const auto& [status, request] : requests(kAllowedOrigin)) {
    SCOPED_TRACE(status + " " + request.substr(0, 40));
    const std::string got = send(request);
    EXPECT_EQ(got.find("HTTP/1.1 " + status + " "), 0u) << got.substr(0, 300);
    EXPECT_NE(got.find("\r\nAccess-Control-Allow-Origin: " + kAllowedOrigin + "\r\n"), std::string::npos)
        << got;
    EXPECT_NE(got.find("\r\nAccess-Control-Expose-Headers: ETag, Location, Retry-After, WWW-Authenticate, "
                       "X-Request-Id\r\n"),
              std::string::npos)
        << got;
    EXPECT_NE(got.find("\r\nVary: Origin\r\n"), std::string::npos) << got;
  }
  // Another origin: told that the answer varies with it, and nothing it may read.
  for (const auto& [status, request] : requests("https://evil.example.com")) {
    SCOPED_TRACE(status + " " + request.substr(0, 40));
    const std::string got = send(request);
    EXPECT_EQ(got.find("HTTP/1.1 " + status + " "), 0u) << got.substr(0, 300);
    EXPECT_EQ(got.find("Access-Control-"), std::string::npos) << got;
    EXPECT_NE(got.find("\r\nVary: Origin\r\n"), std::string::npos) << got;
  }
  // A request line too long to be read: its Origin was never read.
  const std::string unread =
      send("GET /" + std::string(20 * 1024, 'a') + " HTTP/1.1\r\n" + head(kAllowedOrigin) + "\r\n");
  EXPECT_EQ(unread.find("HTTP/1.1 414 "), 0u) << unread.substr(0, 300);
  EXPECT_EQ(unread.find("Access-Control-"), std::string::npos) << unread;
}

TEST(RealtimeLimits, PerUserAndTotalLimitsRefuseWith429) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_MAX_PER_USER", "2"}, {"TODO_WS_MAX_CONNECTIONS", "3"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  auto bob = new_user(url);
  auto carol = new_user(url);
  auto a1 = open_ws(url, alice.token);
  auto a2 = open_ws(url, alice.token, std::nullopt, true);
  WsClient a3(url, ws_options(target(alice.token)));
  EXPECT_FALSE(a3.upgraded());
  EXPECT_EQ(a3.status(), 429) << a3.error();

  auto b1 = open_ws(url, bob.token);  // bob has room; the server now has 3
  WsClient c1(url, ws_options(target(carol.token)));
  EXPECT_FALSE(c1.upgraded());
  EXPECT_EQ(c1.status(), 429) << c1.error();

  // Room again once a socket is closed; then full again.
  a1->close();
  ASSERT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 2; }), 2);
  auto c2 = open_ws(url, carol.token);
  EXPECT_TRUE(sync(*c2).empty());
  WsClient a4(url, ws_options(target(alice.token)));
  EXPECT_EQ(a4.status(), 429) << a4.error();
}

// A client that starts the closing handshake and then keeps its socket open (no FIN of its own) gave its slot
// back only when the silence sweeper came, a minute later: Beast waits for the client's end of the TCP
// connection with no deadline. Then only at the close deadline, 5 s. The server closes the connection once it
// has answered the close (RFC 6455 7.1.1), and the slot is free at once.
TEST(RealtimeLimits, AClientThatClosesButKeepsItsSocketOpenFreesItsSlotWithinSeconds) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_MAX_PER_USER", "2"}, {"TODO_WS_MAX_CONNECTIONS", "3"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  std::vector<std::unique_ptr<RawConnection>> half_open;
  for (int i = 0; i < 2; ++i) {
    auto c = std::make_unique<RawConnection>(url);
    ASSERT_TRUE(c->send("GET " + target(alice.token) + " HTTP/1.1\r\nHost: " + server->host() +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    const auto r = c->read_response(5s);
    ASSERT_TRUE(r) << c->received();
    ASSERT_EQ(r->status, 101) << r->describe();
    // A masked close frame, code 1000 (the mask key is zero, so the payload reads as is).
    ASSERT_TRUE(c->send(std::string("\x88\x82\x00\x00\x00\x00\x03\xe8", 8)));
    half_open.push_back(std::move(c));
  }
  const auto start = std::chrono::steady_clock::now();
  bool upgraded = false;
  while (!upgraded && std::chrono::steady_clock::now() - start < 20s) {
    WsClient again(url, ws_options(target(alice.token)));
    upgraded = again.upgraded();
    if (!upgraded) {
      EXPECT_EQ(again.status(), 429) << again.error();
      std::this_thread::sleep_for(250ms);
    }
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(upgraded) << "the slots were still taken after 20 s";
  EXPECT_LT(took, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  for (auto& c : half_open)  // the server's close frame came, and then its end of the connection
    EXPECT_TRUE(c->wait_closed(1s)) << c->received().size();
}

TEST(RealtimeLimits, MalformedMessagesAreAnsweredAndNeverLeakAConnectionSlot) {
  // Each malformed message is answered with an error frame and the connection stays usable; whatever a
  // session's end, its slot is given back: more connections than the per-user limit, one after another.
  Database db;
  OwnServer server(db.url, {{"TODO_WS_MAX_PER_USER", "2"}, {"TODO_WS_MAX_CONNECTIONS", "3"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  const std::vector<std::string> malformed = {
      R"({"type":1})",
      R"({"type":null})",
      R"({"type":["resume"],"after":0})",
      R"({"type":{"resume":0}})",
      R"({"after":0})",
      R"({})",
      R"({"type":"bogus"})",
      R"({"type":"resume"})",
      R"({"type":"resume","after":"5"})",
      R"({"type":"resume","after":-1})",
      R"({"type":"resume","after":1.5})",
      R"({"type":"resume","after":9223372036854775808})",
      R"({"type":"resume","after":1e30})",
      R"([{"type":"ping"}])",
      R"("ping")",
      R"(42)",
      R"(null)",
      R"(not json)",
      R"({"type":"ping")",
      R"()",
  };
  for (const auto& text : malformed) {
    SCOPED_TRACE(text);
    auto ws = open_ws(url, alice.token);  // refused with 429 once two slots leaked
    EXPECT_TRUE(sync(*ws).empty());
    ASSERT_TRUE(ws->send(text));
    auto answer = ws->next_json(kWait);
    ASSERT_TRUE(answer) << "no answer; closed: " << ws->closed() << " " << ws->close_reason();
    ASSERT_TRUE(answer->is_object()) << answer->dump();
    EXPECT_EQ(answer->value("type", ""), "error") << answer->dump();
    EXPECT_FALSE(answer->value("message", "").empty()) << answer->dump();
    EXPECT_TRUE(sync(*ws).empty());  // still open and serving
    EXPECT_FALSE(ws->closed());
    ws->close();
    ASSERT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 0; }), 0) << "a slot leaked";
  }
  // A binary frame is not a message of this protocol: closed with 1003 (unsupported data).
  for (int i = 0; i < 3; ++i) {
    auto ws = open_ws(url, alice.token);
    EXPECT_TRUE(sync(*ws).empty());
    ASSERT_TRUE(ws->send_binary(R"({"type":"ping"})"));
    EXPECT_EQ(ws->wait_closed(kWait), 1003) << ws->close_reason();
    ASSERT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 0; }), 0) << "a slot leaked";
  }

  // Both of the user's slots are free, and the sockets work.
  auto one = open_ws(url, alice.token, 0);
  auto two = open_ws(url, alice.token, 0);
  const json t = create_task(alice.client, "after the bad messages");
  EXPECT_TRUE(IsRun(receive(*one, 1), 1, {t["id"]}));
  EXPECT_TRUE(IsRun(receive(*two, 1), 1, {t["id"]}));
  one->close();
  two->close();
  EXPECT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 0; }), 0);
}

// ---- 7. liveness
// -------------------------------------------------------------------------------------------

/// Raw bytes for hand-made frames: bytes({0x81, 0x01, 'x'}).
std::string bytes(std::initializer_list<int> b) {
  return std::string(b.begin(), b.end());
}

/// A client frame (FIN set, masked with a key that is not zero) of opcode `op` carrying `payload`.
std::string client_frame(int op, std::string_view payload) {
  const std::uint8_t key[4] = {0x5a, 0xc3, 0x0f, 0x91};
  std::string f = bytes({0x80 | op});
  if (payload.size() < 126) {
    f += static_cast<char>(0x80 | payload.size());
  } else {
    f += bytes({0x80 | 126, static_cast<int>(payload.size() >> 8), static_cast<int>(payload.size() & 0xff)});
  }
  f.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    f += static_cast<char>(payload[i] ^ key[i % 4]);
  return f;
}

/// A close frame from a client with `code` (masked).
std::string client_close(int code) {
  return client_frame(0x8, bytes({code >> 8, code & 0xff}));
}

/// The code of a server's frame (opcode, payload) that is a close with a code; -1 for anything else.
int close_code(const std::optional<std::pair<int, std::string>>& frame) {
  if (!frame || frame->first != 0x8 || frame->second.size() < 2) return -1;
  return (static_cast<unsigned char>(frame->second[0]) << 8) | static_cast<unsigned char>(frame->second[1]);
}

/// A WebSocket peer on a plain socket that completes the handshake and then neither reads nor answers
/// unless told: it may send raw bytes (send()) and read the server's frames (next_frame()).
class SilentPeer {
 public:
  /// `receive_buffer` (SO_RCVBUF before connecting) small: the server's writes to it soon block.
  /// `with_request`: bytes written together with the upgrade request, in the same send() (its first frames).
  SilentPeer(const ServerProcess& server, const std::string& token, int receive_buffer = 0,
             std::string_view with_request = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(server.port()));
    ::inet_pton(AF_INET, server.host().c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("cannot connect to " + server.base_url());
    const std::string request = "GET " + target(token) + " HTTP/1.1\r\nHost: " + server.host() + ":" +
                                std::to_string(server.port()) +
                                "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                                "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" +
                                std::string(with_request);
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("cannot send the handshake");
    // Exactly the answer's head, byte by byte: nothing after it is read.
    while (received_.find("\r\n\r\n") == std::string::npos) {
      char c;
      if (!readable(5s) || ::recv(fd_, &c, 1, 0) != 1) throw std::runtime_error("no handshake answer");
      received_ += c;
    }
    if (received_.rfind("HTTP/1.1 101", 0) != 0) throw std::runtime_error("not upgraded: " + received_);
    received_.clear();
  }
  ~SilentPeer() { ::close(fd_); }
  SilentPeer(const SilentPeer&) = delete;
  SilentPeer& operator=(const SilentPeer&) = delete;

  /// Writes `bytes` in one call (frames written together arrive together); false when not all were sent.
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  /// Ends its sending side (FIN): the server's teardown need not wait for its close deadline.
  void finish_sending() { ::shutdown(fd_, SHUT_WR); }
  /// Reads (now, at last) until the server closes the connection; false when it is still open after
  /// `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buf[65536];
    while (Clock::now() < deadline) {
      if (!readable(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;  // EOF or reset
      received_.append(buf, static_cast<std::size_t>(n));
    }
    return false;
  }
  /// What arrived after the handshake (once wait_closed() read it).
  const std::string& received() const { return received_; }
  /// Ends its sending side and reads until the server closes the connection (at most 8 s); returns the code
  /// of the close frame the server sent first, or -1 when something else came first or it did not close.
  int closed_with() {
    finish_sending();
    if (!wait_closed(8s)) return -1;
    if (received_.size() < 4 || received_[0] != '\x88' || (received_[1] & 0x7f) < 2) return -1;
    return (static_cast<unsigned char>(received_[2]) << 8) | static_cast<unsigned char>(received_[3]);
  }

  /// One frame from the server (opcode, payload), waiting up to `timeout`; nullopt on timeout or EOF.
  std::optional<std::pair<int, std::string>> next_frame(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      // A server's frames are not masked: two bytes, then 2 or 8 of length for 126 and 127.
      if (received_.size() >= 2) {
        const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(received_[i]); };
        const std::size_t len7 = b(1) & 0x7f;
        const std::size_t extra = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        if (received_.size() >= 2 + extra) {
          std::size_t len = len7;
          if (extra > 0) {
            len = 0;
            for (std::size_t i = 0; i < extra; ++i)
              len = (len << 8) | b(2 + i);
          }
          if (received_.size() >= 2 + extra + len) {
            std::pair<int, std::string> frame{b(0) & 0x0f, received_.substr(2 + extra, len)};
            received_.erase(0, 2 + extra + len);
            return frame;
          }
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || !readable(left)) return std::nullopt;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      received_.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  bool readable(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(std::max<long long>(timeout.count(), 0))) > 0;
  }
  int fd_ = -1;
  std::string received_;
};

// A binary frame is closed with 1003 by the read loop. When the client's next frame was already there (sent
// together: a close, a frame breaking the protocol, bad UTF-8), the close used to deadlock inside Beast
// beside the next read: the session never ended, its slot was never given back, and after as many such
// connections as the per-user limit the user's next connection was refused with 429.
TEST(RealtimeLimits, ABinaryFrameWithAnotherFrameRightBehindItStillFreesTheSlot) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_MAX_PER_USER", "2"}, {"TODO_WS_MAX_CONNECTIONS", "3"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  const std::string binary = bytes({0x82, 0x81, 0, 0, 0, 0, 'x'});  // masked (with a zero mask), "x"
  const std::pair<const char*, std::string> next_frames[] = {
      {"a close (1000)", bytes({0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8})},
      {"an unmasked text frame", bytes({0x81, 0x01, 'x'})},
      {"text that is not UTF-8", bytes({0x81, 0x81, 0, 0, 0, 0, 0xff})},
      {"a close with a 1-byte body", bytes({0x88, 0x81, 0, 0, 0, 0, 0x03})},
  };
  // Four connections, one after another: more than the user's 2 slots.
  for (const auto& [what, frame] : next_frames) {
    SCOPED_TRACE(what);
    SilentPeer peer(*server, alice.token);
    ASSERT_TRUE(peer.send(binary + frame));
    peer.finish_sending();
    EXPECT_TRUE(peer.wait_closed(8s)) << "the server did not close the connection";
    // Its close frame first, with code 1003 (0x03eb).
    const std::string& got = peer.received();
    EXPECT_TRUE(got.size() >= 4 && got[0] == '\x88' && got[2] == '\x03' && got[3] == '\xeb')
        << "no close 1003 from the server";
    ASSERT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 0; }), 0) << "a slot leaked";
  }
  auto ws = open_ws(url, alice.token, 0);  // refused with 429 if two slots had leaked
  const json t = create_task(alice.client, "after the binary frames");
  EXPECT_TRUE(IsRun(receive(*ws, 1), 1, {t["id"]}));
}

// RFC 6455 8.1: text that is not UTF-8 fails the connection with 1007, also when its last character is
// cut off by an empty final frame (which Beast 1.81 lets through, its check running only on a payload).
TEST(RealtimeLimits, TextEndingInAnIncompleteCharacterIsClosedWith1007) {
  Database db;
  OwnServer server(db.url, {});
  auto alice = new_user(server->base_url());
  SilentPeer peer(*server, alice.token);
  // A text frame, not final, holding the first byte of a 2-byte character; then an empty final frame.
  ASSERT_TRUE(peer.send(bytes({0x01, 0x81, 0, 0, 0, 0, 0xcf}) + bytes({0x80, 0x80, 0, 0, 0, 0})));
  EXPECT_EQ(peer.closed_with(), 1007) << "got " << peer.received().size() << " bytes";
}

// RFC 6455 7.4: a close frame with a code an endpoint may not send fails the connection with 1002 (protocol
// error), not an echo of that code. Beast 1.81 echoed the codes from 5000 on.
/// The code of the server's close answering `frame` (sent after `before`, if any), sent whole or a byte at a
/// time (each piece on its own: the server reads the frame's header and body in parts).
int close_answer(const ServerProcess& server, const std::string& token, const std::string& frame,
                 bool byte_by_byte, const std::string& before = {}) {
  SilentPeer peer(server, token);
  if (!before.empty()) {
    EXPECT_TRUE(peer.send(before));
  }
  if (byte_by_byte) {
    for (char c : frame) {
      EXPECT_TRUE(peer.send(std::string(1, c)));
      std::this_thread::sleep_for(5ms);
    }
  } else {
    EXPECT_TRUE(peer.send(frame));
  }
  return peer.closed_with();
}

TEST_F(RealtimeTest, ACloseWithACodeAClientMayNotSendIsAnsweredWith1002) {
  auto alice = user();
  const auto close_with = [&](int code, bool byte_by_byte) {
    return close_answer(server(), alice.token, client_close(code), byte_by_byte);
  };
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 5001, 65535}) {
    SCOPED_TRACE(code);
    EXPECT_EQ(close_with(code, false), 1002);
  }
  EXPECT_EQ(close_with(5000, true), 1002) << "written a byte at a time";
  // The codes a client may send are echoed (RFC 6455 5.5.1).
  for (int code : {1000, 1001, 1003, 1011, 3000, 4000, 4999}) {
    SCOPED_TRACE(code);
    EXPECT_EQ(close_with(code, false), code);
  }
}

// RFC 6455 8.1: a close frame whose reason is not UTF-8 fails the connection with 1007 (Beast 1.81 answered
// 1002), also when the code's bytes and the reason's together would spell a character, in the middle of a
// fragmented message, or sent a byte at a time. A UTF-8 reason is echoed with the code.
TEST_F(RealtimeTest, ACloseWhoseReasonIsNotUtf8IsAnsweredWith1007) {
  auto alice = user();
  const auto close_with = [&](int code, const std::string& reason, bool byte_by_byte = false,
                              const std::string& before = {}) {
    return close_answer(server(), alice.token, client_frame(0x8, bytes({code >> 8, code & 0xff}) + reason),
                        byte_by_byte, before);
  };
  EXPECT_EQ(close_with(1000, "\xff"), 1007);
  EXPECT_EQ(close_with(1000, "caf\xc3"), 1007) << "a character cut off";
  EXPECT_EQ(close_with(0x0fe2, "\x82\xac"), 1007) << "code 4066 (0F E2) then 82 AC: E2 82 AC is a character";
  EXPECT_EQ(close_with(1001, std::string(120, 'a') + "\xc0\x80", true), 1007) << "a byte at a time";
  // A text frame that is not final, then the close.
  EXPECT_EQ(close_with(1000, "\xff", false, bytes({0x01, 0x82, 0, 0, 0, 0, 'a', 'b'})), 1007)
      << "in a fragmented message";
  EXPECT_EQ(close_with(1000, "bye \xc3\xbc"), 1000);
  EXPECT_EQ(close_with(4000, std::string(123, 'a'), true), 4000) << "the longest reason, a byte at a time";
}

// A bad token's 4401 close, answered by a client that then waits for the server to close (RFC 6455 7.1.1):
// the server closes the TCP connection at once, also when the client's close came right behind its upgrade
// request. That one was lost (what was read with the request was dropped on this path), so the server
// waited for it until its 10 s timeout.
TEST_F(RealtimeTest, ABadTokensCloseAnsweredEndsTheConnectionAtOnce) {
  for (const bool early : {false, true}) {
    SCOPED_TRACE(early ? "close sent with the upgrade request" : "close sent after the server's");
    // Frames sent right behind the request are read with it, and answered like the others.
    SilentPeer peer(server(), "not-a-token", 0, early ? client_close(1000) : std::string());
    const auto close = peer.next_frame(kWait);
    ASSERT_TRUE(close) << "no close frame";
    EXPECT_EQ(close_code(close), 4401);
    const auto t0 = Clock::now();
    if (!early) {
      ASSERT_TRUE(peer.send(client_close(4401)));  // answered; no FIN
    }
    EXPECT_TRUE(peer.wait_closed(3s)) << "the connection still open 3 s after the closing handshake";
    EXPECT_LT(Clock::now() - t0, 2s);
  }
}

// RFC 6455 5.2: the most significant bit of a 64-bit payload length MUST be 0; a frame with it set is a
// protocol error (1002). Beast 1.81 took it for a message too big (1009).
TEST_F(RealtimeTest, A64BitLengthWithItsMostSignificantBitSetIsAProtocolError) {
  auto alice = user();
  for (int op : {0x1, 0x2}) {
    SCOPED_TRACE(op);
    SilentPeer peer(server(), alice.token);
    // A text (binary) frame, masked, with length 0x8000000000000005, and five bytes.
    ASSERT_TRUE(
        peer.send(bytes({0x80 | op, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'})));
    EXPECT_EQ(peer.closed_with(), 1002) << "got " << peer.received().size() << " bytes";
  }
}

// Frames a client sends right behind its upgrade request, before the 101 (RFC 6455 4.1 has it wait for the
// answer; some clients do not), arrive with the request: read with it by the HTTP layer, they were lost and
// the message went unanswered.
TEST_F(RealtimeTest, FramesSentTogetherWithTheUpgradeRequestAreRead) {
  auto alice = user();
  SilentPeer peer(server(), alice.token, 0, client_frame(0x1, R"({"type":"ping"})"));
  const auto pong = peer.next_frame(kWait);
  ASSERT_TRUE(pong) << "no answer to the ping sent with the request";
  EXPECT_EQ(pong->first, 0x1);
  EXPECT_EQ(json::parse(pong->second, nullptr, false), json({{"type", "pong"}})) << pong->second;
  // Frames written a byte at a time are read whole too.
  for (char c : client_frame(0x1, R"({"type":"ping"})")) {
    ASSERT_TRUE(peer.send(std::string(1, c)));
    std::this_thread::sleep_for(2ms);
  }
  const auto again = peer.next_frame(kWait);
  ASSERT_TRUE(again);
  EXPECT_EQ(json::parse(again->second, nullptr, false), json({{"type", "pong"}})) << again->second;
  // A message over 125 bytes (a 16-bit length; a ping padded with white space, as a ping takes no other
  // key), and a close: answered, then the close echoed.
  const std::string padded = R"({"type":"ping")" + std::string(300, ' ') + "}";
  ASSERT_TRUE(peer.send(client_frame(0x1, padded) + client_close(1000)));
  const auto third = peer.next_frame(kWait);
  ASSERT_TRUE(third);
  EXPECT_EQ(json::parse(third->second, nullptr, false).value("type", ""), "pong") << third->second;
  const auto close = peer.next_frame(kWait);
  ASSERT_TRUE(close);
  EXPECT_EQ(close->first, 0x8);
  EXPECT_EQ(close->second, bytes({0x03, 0xe8}));
}

// A handshake the server cannot accept is a problem+json naming what is wrong, with the version this server
// speaks on a 426 (RFC 6455 4.2.2): Beast answered some of them itself, in text/plain. Every answer to an
// upgrade, 101 included, carries X-Request-Id and has its access-log line and request metrics.
TEST(RealtimeHandshake, RefusalsAreProblemsAndEveryAnswerHasARequestIdAndALogLine) {
  Database db;
  OwnServer server(db.url, {});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  const std::string good_key = "dGhlIHNhbXBsZSBub25jZQ==";
  auto handshake = [&](const std::string& key, const std::string& version, bool host,
                       const std::string& request_id) {
    RawConnection c(url);
    std::string request = "GET /api/v1/ws?access_token=" + alice.token + " HTTP/1.1\r\n";
    if (host) request += "Host: " + server->host() + "\r\n";
    request += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key + "\r\n";
    if (!version.empty()) request += "Sec-WebSocket-Version: " + version + "\r\n";
    request += "X-Request-Id: " + request_id + "\r\n\r\n";
    EXPECT_TRUE(c.send(request));
    auto r = c.read_response(5s);
    if (!r) throw std::runtime_error("no answer: " + c.received());
    return *r;
  };
  struct Case {
    const char* what;
    std::string key, version;
    bool host;
    int status;
    const char* names;
  };
  const Case cases[] = {
      {"short key", "short", "13", true, 400, "Sec-WebSocket-Key"},
      {"key not base64", "!!!!!!!!!!!!!!!!!!!!!!==", "13", true, 400, "Sec-WebSocket-Key"},
      {"key without padding", "dGhlIHNhbXBsZSBub25jZQ", "13", true, 400, "Sec-WebSocket-Key"},
      {"key with bad padding", "dGhlIHNhbXBsZSBub25jZQ=!", "13", true, 400, "Sec-WebSocket-Key"},
      {"another version", good_key, "8", true, 426, "Sec-WebSocket-Version"},
      {"no version", good_key, "", true, 426, "Sec-WebSocket-Version"},
      {"no host", good_key, "13", false, 400, "Host"},
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string id = "refused-" + std::to_string(++n);
    const auto r = handshake(c.key, c.version, c.host, id);
    EXPECT_TRUE(IsProblem(r, c.status));
    EXPECT_NE(r.body.find(c.names), std::string::npos) << r.body;
    if (std::string_view(c.names).starts_with("Sec-WebSocket")) {
      EXPECT_TRUE(IsProblem(r, c.status, c.names)) << "the header is named in errors[]: " << r.body;
    }
    EXPECT_EQ(r.header("x-request-id"), id);
    if (c.status == 426) {
      EXPECT_EQ(r.header("sec-websocket-version"), "13");
    }
  }
  {
    // An Origin of any bytes is refused with 403 and named (the refusal's JSON refused to hold them: no
    // answer).
    RawConnection c(url);
    ASSERT_TRUE(c.send("GET /api/v1/ws?access_token=" + alice.token + " HTTP/1.1\r\nHost: " + server->host() +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + good_key +
                       "\r\nSec-WebSocket-Version: 13\r\nOrigin: http://\xff\xfe.example\r\n\r\n"));
    const auto r = c.read_response(5s);
    ASSERT_TRUE(r) << c.received();
    EXPECT_TRUE(IsProblem(*r, 403));
    EXPECT_NE(r->body.find("origin not allowed"), std::string::npos) << r->body;
  }
  // Query parameters as on every route: one it does not take is a 422 naming it (a misspelt `after` must not
  // silently start from the present), a repeated one a 400.
  for (const auto& [query, status, field] : std::vector<std::tuple<std::string, int, std::string>>{
           {"&afetr=5", 422, "afetr"},
           {"&after=1&after=2", 400, "after"},
           // An invalid value is a 422 as on every route (README, Errors); a repeated parameter stays 400.
           {"&after=abc", 422, "after"},
           {"&after=-1", 422, "after"},
           {"&after=1.5", 422, "after"},
           {"&after=", 422, "after"},
           {"&after=9223372036854775808", 422, "after"}}) {
    RawConnection c(url);
    ASSERT_TRUE(c.send("GET /api/v1/ws?access_token=" + alice.token + query +
                       " HTTP/1.1\r\nHost: " + server->host() +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + good_key +
                       "\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    const auto r = c.read_response(5s);
    ASSERT_TRUE(r) << c.received();
    EXPECT_TRUE(IsProblem(*r, status, field)) << query << ": " << r->describe();
    // Said as the REST routes say it: RFC 9110's title, the field's message without its name, the range.
    const auto body = r->json();
    if (status == 422) {
      EXPECT_EQ(body["title"], "Unprocessable Content") << r->body;
    }
    const std::string message = body["errors"][0]["message"];
    EXPECT_EQ(message.rfind(field + ":", 0), std::string::npos) << r->body;
    if (field == "after" && status == 422) {
      EXPECT_EQ(message, "must be an integer from 0 to 9223372036854775807") << r->body;
    }
  }
  {
    // Two keys: Beast answered the first (101); which one the client checks the answer against is unknowable.
    RawConnection c(url);
    ASSERT_TRUE(c.send("GET /api/v1/ws?access_token=" + alice.token + " HTTP/1.1\r\nHost: " + server->host() +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + good_key +
                       "\r\nSec-WebSocket-Key: " + good_key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    const auto r = c.read_response(5s);
    ASSERT_TRUE(r) << c.received();
    EXPECT_TRUE(IsProblem(*r, 400, "Sec-WebSocket-Key")) << r->describe();
  }
  {
    // The absolute form (RFC 9112 3.2.2) upgrades too (it was routed as a plain GET: 426).
    RawConnection c(url);
    ASSERT_TRUE(c.send("GET " + url + "/api/v1/ws?access_token=" + alice.token +
                       " HTTP/1.1\r\nHost: " + server->host() +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + good_key +
                       "\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    const auto r = c.read_response(5s);
    ASSERT_TRUE(r) << c.received();
    EXPECT_EQ(r->status, 101) << r->describe();
  }
  const auto accepted = handshake(good_key, "13", true, "accepted-1");
  EXPECT_EQ(accepted.status, 101);
  EXPECT_EQ(accepted.header("x-request-id"), "accepted-1");
  EXPECT_EQ(accepted.header("server"), "todo-server");

  // The access-log lines: one a handshake, with its status (the output is read by another thread: wait for
  // the last one).
  ASSERT_TRUE(server->wait_for_output(R"("request_id":"accepted-1")", 5s));
  std::map<std::string, json> lines;
  std::istringstream out(server->output());
  for (std::string line; std::getline(out, line);) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "request") lines[j.value("request_id", "")] = j;
  }
  n = 0;
  for (const auto& c : cases) {
    const std::string id = "refused-" + std::to_string(++n);
    ASSERT_TRUE(lines.count(id)) << c.what;
    EXPECT_EQ(lines[id]["status"], c.status) << c.what;
    EXPECT_GT(lines[id]["bytes"].get<int>(), 0) << c.what;
  }
  ASSERT_TRUE(lines.count("accepted-1"));
  EXPECT_EQ(lines["accepted-1"]["status"], 101);
  EXPECT_EQ(lines["accepted-1"]["user_id"], alice.id);
  const std::string metrics = HttpClient(url).get("/metrics").body;
  const auto count = [&](const char* status) {
    return metric_value(metrics, "http_requests_total",
                        {{"method", "GET"}, {"route", "/api/v1/ws"}, {"status", status}});
  };
  // The request without Host, refused before routing, still counts under its route; four bad keys, two keys
  // and a repeated query parameter are 400s too, an unknown parameter and five bad values of `after` 422s.
  EXPECT_EQ(count("400"), 7);
  EXPECT_EQ(count("422"), 6);
  EXPECT_EQ(count("426"), 2);
  EXPECT_EQ(count("101"), 2);
}

// An upgrade the database cannot serve (here its position read waits past the lock timeout for a lock an
// operator holds) is a 503 with Retry-After the client can retry, not a 101 closed at once with 1011; the
// refusal frees its connection slot, and the same upgrade succeeds once the lock is gone.
TEST(RealtimeHandshake, AnUpgradeTheDatabaseCannotServeIsA503ToRetry) {
  Database db;
  OwnServer server(db.url, {{"TODO_DB_LOCK_TIMEOUT_MS", "300"}, {"TODO_WS_MAX_PER_USER", "2"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  auto upgrade = [&](const std::string& query) {
    RawConnection c(url);
    EXPECT_TRUE(c.send("GET " + target(alice.token) + query + " HTTP/1.1\r\nHost: " + server->host() +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                       "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"));
    auto r = c.read_response(10s);
    if (!r) throw std::runtime_error("no answer: " + c.received());
    return *r;
  };
  pqxx::connection operator_session(db.url);
  for (const std::string query : {"", "&after=0"}) {
    SCOPED_TRACE("query '" + query + "'");
    {
      pqxx::work w(operator_session);
      w.exec("LOCK TABLE user_event_sequences IN ACCESS EXCLUSIVE MODE");
      for (int i = 0; i < 3; ++i) {  // more than the user's 2 slots: each refusal gives its slot back
        const auto r = upgrade(query);
        EXPECT_TRUE(IsProblem(r, 503)) << r.describe();
        EXPECT_EQ(r.header("retry-after"), "1");
      }
    }  // rolled back: the lock is gone
    const auto r = upgrade(query);
    EXPECT_EQ(r.status, 101) << r.describe();
  }
}

// RFC 6454: an origin's scheme and host are case-insensitive and a default port is the same as none;
// "Host: example.com:80" with "Origin: http://example.com" was refused as another origin (raw strings).
TEST(RealtimeHandshake, OriginsAreComparedAsOrigins) {
  Database db;
  OwnServer server(db.url, {{"TODO_ALLOWED_ORIGINS", "https://App.Example.com:443"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  const auto status = [&](const std::string& host, const std::string& origin) {
    RawConnection c(url);
    EXPECT_TRUE(c.send("GET /api/v1/ws?access_token=" + alice.token + " HTTP/1.1\r\nHost: " + host +
                       "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                       "Origin: " +
                       origin + "\r\n\r\n"));
    const auto r = c.read_response(5s);
    if (!r) throw std::runtime_error("no answer: " + c.received());
    return r->status;
  };
  struct Case {
    const char* host;
    const char* origin;
    long status;
  };
  for (const auto& c : std::vector<Case>{
           {"example.com:80", "http://example.com", 101},
           {"EXAMPLE.com", "http://example.com", 101},
           {"example.com", "HTTP://Example.COM", 101},
           {"example.com", "http://example.com:80", 101},
           {"example.com", "https://example.com", 101},
           {"example.com", "https://example.com:443", 101},
           {"example.com:443", "https://example.com", 101},
           {"example.com:8080", "http://EXAMPLE.COM:8080", 101},
           {"[::1]:8080", "http://[::1]:8080", 101},
           {"example.com:", "http://example.com", 101},  // RFC 3986: an empty port is the default one
           {"example.com:", "https://example.com", 101},
           {"example.com:", "http://example.com:8080", 403},
           {"app.example.com", "https://app.example.com", 101},  // listed, as an origin
           {"other.example", "https://APP.example.com", 101},
           {"other.example", "https://app.example.com:443", 101},
           {"example.com:80", "https://example.com", 403},  // another port
           {"example.com:8080", "http://example.com", 403},
           {"example.com", "http://example.com:8080", 403},
           {"example.com", "http://example.com.evil.io", 403},
           {"example.com", "ftp://example.com", 403},
           {"example.com", "null", 403},
           {"other.example", "http://app.example.com", 403},  // listed for https only
           {"other.example", "https://app.example.com:8443", 403},
       }) {
    EXPECT_EQ(status(c.host, c.origin), c.status) << "Host: " << c.host << ", Origin: " << c.origin;
  }
}

TEST(RealtimeLiveness, PingsFlowAndASilentPeerIsDropped) {
  Database db;
  OwnServer server(db.url, {{"TODO_WS_PING_INTERVAL_MS", "200"}, {"TODO_WS_SILENCE_TIMEOUT_MS", "1000"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  auto bob = new_user(url);

  // A client that answers pings (as WebSocket clients do) stays connected; a silent peer is dropped.
  const auto t0 = Clock::now();
  auto ws = open_ws(url, alice.token);
  std::optional<SilentPeer> silent;
  silent.emplace(*server, alice.token);
  const auto upgraded_at = Clock::now();
  EXPECT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 1; }), 1);
  const auto dropped_after = Clock::now() - upgraded_at;
  EXPECT_GE(dropped_after, 900ms);
  EXPECT_LE(dropped_after, 3000ms);
  EXPECT_TRUE(silent->wait_closed(2s)) << "the server did not close the silent peer's connection";
  EXPECT_NE(silent->received().find('\x89'), std::string::npos) << "no ping frame reached the silent peer";

  std::this_thread::sleep_until(t0 + 2500ms);
  EXPECT_GE(ws->pings_received(), 8u);
  EXPECT_FALSE(ws->closed()) << ws->close_reason();
}

TEST(RealtimeLiveness, ASilentPeerIsDroppedEvenWhileWritesToItAreBlocked) {
  // The window fills up (the server's writes and then its pings wait) before the silence timeout ends:
  // control characters are escaped in JSON, so each event is ~60 KB, and 90 of them exceed what loopback
  // buffers take (~4 MB); the send queue (256) never overflows.
  Database db;
  OwnServer server(db.url, {{"TODO_WS_PING_INTERVAL_MS", "200"}, {"TODO_WS_SILENCE_TIMEOUT_MS", "4000"}});
  const std::string url = server->base_url();
  auto bob = new_user(url);
  SilentPeer silent(*server, bob.token, /*receive_buffer=*/4096);
  const auto upgraded_at = Clock::now();
  ASSERT_EQ(wait_metric(url, "ws_connections", [](double v) { return v == 1; }), 1);
  create_many(bob.client, 90, "big", std::string(10'000, '\x01'));
  const auto filled_after = Clock::now() - upgraded_at;
  EXPECT_EQ(wait_metric(
                url, "ws_connections", [](double v) { return v == 0; }, 8s),
            0);
  const auto dropped_after = Clock::now() - upgraded_at;
  EXPECT_GE(dropped_after, 3900ms);
  EXPECT_LE(dropped_after, 6500ms) << "filled after " << filled_after.count() / 1'000'000 << " ms";
  EXPECT_TRUE(silent.wait_closed(3s));
  EXPECT_EQ(metric(metrics_text(url), "ws_dropped_slow_total"), 0);
}

TEST(RealtimeLiveness, AClientOnASlowLinkIsNotDroppedDuringALongCatchUp) {
  // While a replay runs the server reads nothing, pongs included: the client taking the replay's writes is
  // what shows it is alive. A catch-up of several seconds at the client's pace, silence timeout 2 s. The
  // events are large (20 KB) so that what the socket buffers hold — pings wait behind it — takes the client
  // well under the timeout to read, and many, so that the replay itself waits for the client for longer.
  Database db;
  OwnServer server(db.url, {{"TODO_WS_PING_INTERVAL_MS", "200"}, {"TODO_WS_SILENCE_TIMEOUT_MS", "2000"}});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  constexpr std::size_t kHistory = 1200;  // well over the send queue (256): the replay waits for the client
  create_many(alice.client, static_cast<int>(kHistory), "history",
              std::string(10'000, '"'));  // 20 KB escaped
  WsOptions o = ws_options(target(alice.token, 0));
  o.receive_buffer = 4096;
  o.read_delay = 4ms;  // at most 250 messages a second
  WsClient ws(url, o);
  ASSERT_TRUE(ws.upgraded()) << ws.status() << " " << ws.error();
  const auto t0 = Clock::now();
  const auto got = receive(ws, kHistory, 60s);
  const auto took = Clock::now() - t0;
  EXPECT_EQ(got.size(), kHistory) << "closed: " << ws.closed() << " " << ws.close_reason();
  EXPECT_TRUE(IsRun(got, 1));
  EXPECT_GT(took, 3s) << "the catch-up was too quick to show anything";
  ASSERT_FALSE(ws.closed()) << ws.close_reason();
  // Live after the catch-up.
  const json live = create_task(alice.client, "live");
  EXPECT_TRUE(IsRun(receive(ws, 1), static_cast<long long>(kHistory) + 1, {live["id"]}))
      << "closed: " << ws.closed() << " " << ws.close_reason();
  EXPECT_GE(ws.pings_received(), 1u);
}

// ---- 8. graceful shutdown
// ----------------------------------------------------------------------------------

TEST(RealtimeShutdown, SigtermClosesSocketsWith1001AndExitsZero) {
  Database db;
  OwnServer server(db.url, {});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  auto bob = new_user(url);
  std::vector<std::unique_ptr<WsClient>> sockets;
  sockets.push_back(open_ws(url, alice.token));
  sockets.push_back(open_ws(url, alice.token, 0, true));
  sockets.push_back(open_ws(url, bob.token));
  for (auto& s : sockets)
    sync(*s);

  const auto t0 = Clock::now();
  server->send_signal(SIGTERM);
  for (auto& s : sockets) {
    EXPECT_EQ(s->wait_closed(5s), 1001) << s->close_reason();
    EXPECT_EQ(s->messages_received(), 1u);  // the pong
  }
  const auto status = server->wait_exit(10s);
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(Clock::now() - t0, 3s);
}

// RFC 6455 7.1.1: once close frames went both ways, the server closes the TCP connection at once. Beast's
// teardown waited for the client's end of it (FIN) first, so a client that answered the server's close and
// then waited for the server to close, as the RFC tells clients to, kept its session, and the shutdown that
// waits for the sessions, until the close deadline: the process exited 5.6 s after SIGTERM instead of 0.4.
TEST(RealtimeShutdown, AClientThatAnswersTheCloseLetsTheServerExitAtOnce) {
  Database db;
  OwnServer server(db.url, {});
  auto alice = new_user(server->base_url());
  SilentPeer peer(*server, alice.token);
  ASSERT_TRUE(peer.send(client_frame(0x1, R"({"type":"ping"})")));  // the session is in its read loop
  const auto pong = peer.next_frame(kWait);
  ASSERT_TRUE(pong);
  ASSERT_EQ(pong->first, 0x1) << pong->second;

  const auto t0 = Clock::now();
  server->send_signal(SIGTERM);
  const auto close = peer.next_frame(5s);
  ASSERT_TRUE(close) << "no close frame within 5 s of SIGTERM";
  EXPECT_EQ(close_code(close), 1001);
  ASSERT_TRUE(peer.send(client_close(1001)));  // answered; no FIN: the server closes first
  EXPECT_TRUE(peer.wait_closed(2s)) << "the connection still open 2 s after the closing handshake";
  const auto status = server->wait_exit(10s);
  const auto took = Clock::now() - t0;
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
  EXPECT_EQ(*status, 0);
  EXPECT_LT(took, 2s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

// A client that never answers the close (it reads nothing) holds the shutdown no longer than the close
// deadline (5 s), or the grace period when that is shorter: its connection is closed then, and the process
// exits 0.
TEST(RealtimeShutdown, AClientThatNeverAnswersTheCloseHoldsTheExitAtMostTheCloseDeadline) {
  Database db;
  for (const auto& [grace, bound] : {std::pair{"10", 7s}, std::pair{"1", 3s}}) {
    OwnServer server(db.url, {{"TODO_SHUTDOWN_TIMEOUT_S", grace}});
    auto alice = new_user(server->base_url());
    SilentPeer peer(*server, alice.token);
    ASSERT_TRUE(peer.send(client_frame(0x1, R"({"type":"ping"})")));
    const auto pong = peer.next_frame(kWait);
    ASSERT_TRUE(pong) << "grace " << grace;
    const auto t0 = Clock::now();
    server->send_signal(SIGTERM);
    const auto status = server->wait_exit(15s);
    const auto took = Clock::now() - t0;
    ASSERT_TRUE(status) << "grace " << grace << ": still running 15 s after SIGTERM";
    EXPECT_EQ(*status, 0) << "grace " << grace;
    EXPECT_LT(took, bound) << "grace " << grace << ": "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    EXPECT_TRUE(peer.wait_closed(1s)) << "grace " << grace;
  }
}

// ---- 9. metrics
// --------------------------------------------------------------------------------------------

TEST_F(RealtimeTest, MetricsCountConnectionsMessagesAndLatency) {
  auto alice = user();
  const std::string before = metrics_text(url());
  const double connections = metric(before, "ws_connections");
  const double sent = metric(before, "ws_messages_sent_total");
  const double latency_count = metric(before, "ws_delivery_latency_seconds_count");
  ASSERT_GE(connections, 0) << before;
  ASSERT_GE(sent, 0) << before;
  ASSERT_GE(latency_count, 0) << before;
  EXPECT_GE(metric(before, "ws_dropped_slow_total"), 0) << before;
  for (const auto& type :
       {"# TYPE ws_connections gauge", "# TYPE ws_messages_sent_total counter",
        "# TYPE ws_dropped_slow_total counter", "# TYPE ws_delivery_latency_seconds histogram"})
    EXPECT_NE(before.find(type), std::string::npos) << type;

  auto one = open_ws(url(), alice.token, 0);
  auto two = open_ws(url(), alice.token, 0);
  EXPECT_EQ(wait_metric(url(), "ws_connections", [&](double v) { return v == connections + 2; }),
            connections + 2);
  const json t = create_task(alice.client, "metered");
  EXPECT_TRUE(IsRun(receive(*one, 1), 1, {t["id"]}));
  EXPECT_TRUE(IsRun(receive(*two, 1), 1, {t["id"]}));

  // The client can read a frame before the server's write completion has counted it: wait for the counts.
  EXPECT_GE(wait_metric(url(), "ws_messages_sent_total", [&](double v) { return v >= sent + 2; }), sent + 2);
  EXPECT_GE(wait_metric(url(), "ws_delivery_latency_seconds_count",
                        [&](double v) { return v >= latency_count + 2; }),
            latency_count + 2);
  const std::string after = metrics_text(url());
  EXPECT_GE(metric(after, "ws_messages_sent_total"), sent + 2);
  EXPECT_GE(metric(after, "ws_delivery_latency_seconds_count"), latency_count + 2);
  EXPECT_GE(metric(after, "ws_delivery_latency_seconds_bucket", {{"le", "+Inf"}}), latency_count + 2);
  EXPECT_GE(metric(after, "ws_delivery_latency_seconds_sum"), 0);

  one->close();
  two->abort();
  EXPECT_EQ(wait_metric(url(), "ws_connections", [&](double v) { return v == connections; }), connections);

  ASSERT_TRUE(std::filesystem::exists("/usr/bin/promtool")) << "promtool is missing; run scripts/deps.sh";
  const auto check = run_process({"/usr/bin/promtool", "check", "metrics"}, {.input = after, .cwd = {}});
  EXPECT_EQ(check.status, 0) << "promtool check metrics:\n" << check.output << "\n--- metrics ---\n" << after;
}

TEST(RealtimeMetrics, OnlyLiveDeliveriesAreObservedAsDeliveryLatency) {
  // Replayed history (a resume, on connect or by message) is not commit → write latency: a device back after
  // hours would add hours-long samples. Only the live event is observed.
  Database db;
  OwnServer server(db.url, {});
  const std::string url = server->base_url();
  auto alice = new_user(url);
  constexpr int kHistory = 20;
  const double published = metric(metrics_text(url), "outbox_published_total");
  ASSERT_GE(published, 0);
  create_many(alice.client, kHistory, "history");
  // History must be history: sequenced and published before the client connects, or the relay's late ones
  // would reach it live (and rightly be observed).
  ASSERT_GE(wait_metric(url, "outbox_published_total", [&](double v) { return v >= published + kHistory; }),
            published + kHistory);
  const std::string before = metrics_text(url);
  const double latency_count = metric(before, "ws_delivery_latency_seconds_count");
  const double sent = metric(before, "ws_messages_sent_total");
  ASSERT_GE(latency_count, 0) << before;

  auto ws = open_ws(url, alice.token, 0);
  EXPECT_TRUE(IsRun(receive(*ws, kHistory), 1));
  ASSERT_TRUE(ws->send(R"({"type":"resume","after":0})"));
  auto again = receive(*ws, kHistory + 1);
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again.front(), json({{"type", "resumed"}, {"after", 0}}));
  again.erase(again.begin());
  EXPECT_TRUE(IsRun(again, 1));
  // Every replayed frame was written (and would have been observed by now).
  EXPECT_GE(
      wait_metric(url, "ws_messages_sent_total", [&](double v) { return v >= sent + 2 * kHistory + 1; }),
      sent + 2 * kHistory + 1);
  EXPECT_EQ(metric(metrics_text(url), "ws_delivery_latency_seconds_count"), latency_count);

  const json live = create_task(alice.client, "live");
  EXPECT_TRUE(IsRun(receive(*ws, 1), kHistory + 1, {live["id"]}));
  EXPECT_EQ(
      wait_metric(url, "ws_delivery_latency_seconds_count", [&](double v) { return v >= latency_count + 1; }),
      latency_count + 1);
  std::this_thread::sleep_for(kQuiet);
  EXPECT_EQ(metric(metrics_text(url), "ws_delivery_latency_seconds_count"), latency_count + 1);
}

}  // namespace
}  // namespace todo::test

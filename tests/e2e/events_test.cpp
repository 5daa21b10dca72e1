// End-to-end: every task change reaches Kafka exactly as it was committed. The real binary and real sockets;
// a librdkafka mock cluster created in the test process and given to the server as KAFKA_BROKERS (or the
// server's own, with --kafka=embedded); a real librdkafka consumer reading the topics.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "e2e.hpp"
#include "support/process.hpp"
#include "todo/events/kafka.hpp"
#include "todo/events/outbox.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kPartitions = 4;
const std::vector<std::string> kTopics = {"task-events", "task-updates", "reminders"};

constexpr const char* kCreated = "com.todo.task.created";
constexpr const char* kUpdated = "com.todo.task.updated";
constexpr const char* kCompleted = "com.todo.task.completed";
constexpr const char* kReopened = "com.todo.task.reopened";
constexpr const char* kDeleted = "com.todo.task.deleted";

/// One record read from a topic.
struct Record {
  std::string topic;
  int partition = 0;
  long long offset = 0;
  std::string key;
  std::string raw;
  json value;  // null when the value is not JSON
  std::map<std::string, std::string> headers;

  std::string event_id() const {
    return value.is_object() && value.contains("id") && value["id"].is_string()
               ? value["id"].get<std::string>()
               : "";
  }
  long long sequence() const {
    return value.is_object() && value.contains("sequence") && value["sequence"].is_number_integer()
               ? value["sequence"].get<long long>()
               : -1;
  }
};

std::string describe(const std::vector<Record>& records) {
  std::string out = std::to_string(records.size()) + " records:\n";
  for (const auto& r : records) {
    if (out.size() > 20000) {
      out += "…\n";
      break;
    }
    out += r.topic + "/" + std::to_string(r.partition) + "@" + std::to_string(r.offset) + " key=" + r.key +
           " " + r.raw.substr(0, 300) + "\n";
  }
  return out;
}

/// A librdkafka consumer assigned every partition of `topics` from the beginning (no group rebalance to wait
/// for). Records are kept in the order read: within a partition, and so within a key, that is the topic's
/// order.
class TopicReader {
 public:
  TopicReader(const std::string& brokers, const std::vector<std::string>& topics) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    auto set = [&](const char* key, const std::string& value) {
      if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        throw std::runtime_error(std::string("consumer setting ") + key + ": " + err);
      }
    };
    set("bootstrap.servers", brokers);
    set("group.id", "e2e-" + random_hex(4));
    set("enable.auto.commit", "false");
    set("auto.offset.reset", "earliest");
    set("reconnect.backoff.max.ms", "500");
    set("log_level", "2");  // brokers are taken down on purpose: keep the test output quiet
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("cannot create a consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()) * kPartitions);
    for (const auto& topic : topics)
      for (int p = 0; p < kPartitions; ++p)
        rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    const rd_kafka_resp_err_t e = rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e) {
      rd_kafka_destroy(rk_);
      throw std::runtime_error(std::string("cannot assign partitions: ") + rd_kafka_err2str(e));
    }
  }
  ~TopicReader() {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  /// Reads until `done(records())` holds or `timeout` passes; returns whether it holds.
  bool read_until(const std::function<bool(const std::vector<Record>&)>& done,
                  std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!done(records_)) {
      if (Clock::now() >= deadline) return false;
      poll_once(100);
    }
    return true;
  }
  /// Reads whatever arrives during `period` (to see that nothing more does).
  void read_for(std::chrono::milliseconds period) {
    read_until([](const std::vector<Record>&) { return false; }, period);
  }

  const std::vector<Record>& records() const { return records_; }
  /// The records of `topic` (and of `key` unless empty), in the order read.
  std::vector<Record> of(const std::string& topic, const std::string& key = "") const {
    std::vector<Record> out;
    for (const auto& r : records_)
      if (r.topic == topic && (key.empty() || r.key == key)) out.push_back(r);
    return out;
  }

 private:
  void poll_once(int timeout_ms) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, timeout_ms);
    if (m == nullptr) return;
    if (!m->err) {
      Record r;
      r.topic = rd_kafka_topic_name(m->rkt);
      r.partition = m->partition;
      r.offset = m->offset;
      if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) r.raw.assign(static_cast<const char*>(m->payload), m->len);
      r.value = json::parse(r.raw, nullptr, false);
      if (r.value.is_discarded()) r.value = nullptr;
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0;
             rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
          r.headers[name] = value ? std::string(static_cast<const char*>(value), size) : "";
      }
      records_.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);  // errors (a broker down on purpose) are transient: the consumer retries
  }

  rd_kafka_t* rk_ = nullptr;
  std::vector<Record> records_;
};

/// librdkafka's mock cluster through its C API, for what MockKafkaCluster does not offer: a broker that takes
/// messages but answers late (its round-trip time).
class SlowableMockCluster {
 public:
  SlowableMockCluster() {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) throw std::runtime_error(std::string("mock cluster handle: ") + err);
    cluster_ = rd_kafka_mock_cluster_new(rk_, 1);
    if (cluster_ == nullptr) throw std::runtime_error("cannot create a mock cluster");
    for (const auto& topic : kTopics)
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), kPartitions, 1);
  }
  ~SlowableMockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  SlowableMockCluster(const SlowableMockCluster&) = delete;
  SlowableMockCluster& operator=(const SlowableMockCluster&) = delete;

  std::string bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  /// Requests are served at once (a produced message is in the log) but answered `rtt` later.
  void set_rtt(std::chrono::milliseconds rtt) {
    rd_kafka_mock_broker_set_rtt(cluster_, 1, static_cast<int>(rtt.count()));
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

/// The records with a new event id, in order (what a consumer that dedupes by event id keeps).
std::vector<Record> dedupe(const std::vector<Record>& records) {
  std::set<std::string> seen;
  std::vector<Record> out;
  for (const auto& r : records)
    if (seen.insert(r.event_id()).second) out.push_back(r);
  return out;
}

std::set<std::string> event_ids(const std::vector<Record>& records) {
  std::set<std::string> ids;
  for (const auto& r : records)
    ids.insert(r.event_id());
  return ids;
}

/// The value of an unlabelled sample in Prometheus text; nullopt when absent.
std::optional<double> sample(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    if (line.rfind(name + "{}", 0) == 0) return std::stod(line.substr(name.size() + 3));
  }
  return std::nullopt;
}

std::string metrics_of(const ServerProcess& server) {
  HttpClient client(server.base_url());
  const auto r = client.get("/metrics");
  if (r.status != 200) throw std::runtime_error("GET /metrics: " + r.describe());
  return r.body;
}

double metric(const ServerProcess& server, const std::string& name) {
  const auto text = metrics_of(server);
  const auto v = sample(text, name);
  if (!v) throw std::runtime_error("no sample " + name + " in /metrics:\n" + text);
  return *v;
}

/// Polls `condition` every 100 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

/// What one event must say.
struct Expected {
  std::string type;
  std::string subject;
  json task;                      // data.task: the REST response of the change
  std::optional<json> changes{};  // data.changes (absent when nullopt)
};

/// Checks one user's records of one topic against the changes made, in order, with sequences 1..N.
void expect_events(const std::vector<Record>& got, const std::string& user_id,
                   const std::vector<Expected>& want) {
  ASSERT_EQ(got.size(), want.size()) << describe(got);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& rec = got[i];
    const auto& e = rec.value;
    SCOPED_TRACE(rec.topic + " event #" + std::to_string(i + 1) + ": " + rec.raw);
    ASSERT_TRUE(e.is_object());
    EXPECT_EQ(rec.key, user_id);
    EXPECT_EQ(e.value("specversion", ""), "1.0");
    EXPECT_EQ(e.value("source", ""), "todo-server");
    EXPECT_EQ(e.value("type", ""), want[i].type);
    EXPECT_EQ(e.value("subject", ""), want[i].subject);
    EXPECT_EQ(e.value("datacontenttype", ""), "application/json");
    EXPECT_TRUE(std::regex_match(rec.event_id(), kUuid));
    EXPECT_TRUE(std::regex_match(e.value("time", ""), kRfc3339));
    EXPECT_EQ(rec.sequence(), static_cast<long long>(i + 1));
    ASSERT_TRUE(e.contains("data") && e["data"].is_object());
    const auto& data = e["data"];
    EXPECT_EQ(data.value("user_id", ""), user_id);
    EXPECT_EQ(data.value("task", json()), want[i].task);
    EXPECT_EQ(data.value("version", json()), want[i].task["version"]);
    if (want[i].changes)
      EXPECT_EQ(data.value("changes", json()), *want[i].changes);
    else
      EXPECT_FALSE(data.contains("changes"));
    EXPECT_EQ(rec.headers.count("ce_id") ? rec.headers.at("ce_id") : "", rec.event_id());
    EXPECT_EQ(rec.headers.count("ce_type") ? rec.headers.at("ce_type") : "", want[i].type);
    EXPECT_EQ(rec.headers.count("ce_subject") ? rec.headers.at("ce_subject") : "", want[i].subject);
    EXPECT_EQ(rec.headers.count("ce_specversion") ? rec.headers.at("ce_specversion") : "", "1.0");
  }
}

/// The i-th change of a scripted series on the user's current task: create, rename, complete, reopen,
/// reprioritise, delete, again. Returns the event it must produce; throws when the API refuses it.
std::pair<std::string, std::string> scripted_change(HttpClient& client, int i, std::string& task_id) {
  const std::string path = "/api/v1/tasks/" + task_id;
  HttpResponse r;
  std::string type;
  switch (i % 6) {
    case 0:
      r = client.post("/api/v1/tasks", json{{"title", "change " + std::to_string(i)}});
      type = kCreated;
      if (r.status == 201) task_id = r.json().at("id").get<std::string>();
      break;
    case 1:
      r = client.patch(path, {{"title", "renamed " + std::to_string(i)}});
      type = kUpdated;
      break;
    case 2:
      r = client.post(path + "/complete");
      type = kCompleted;
      break;
    case 3:
      r = client.post(path + "/reopen");
      type = kReopened;
      break;
    case 4:
      r = client.patch(path, {{"priority", "high"}});
      type = kUpdated;
      break;
    default:
      r = client.del(path);
      type = kDeleted;
      break;
  }
  if (r.status / 100 != 2) throw std::runtime_error("change " + std::to_string(i) + ": " + r.describe());
  return {type, task_id};
}

/// Checks that a user's deduplicated events are exactly `want` (type, subject), with sequences 1..N in order.
void expect_series(const std::vector<Record>& deduped, const std::string& user_id,
                   const std::vector<std::pair<std::string, std::string>>& want) {
  ASSERT_EQ(deduped.size(), want.size()) << "user " << user_id << ": " << describe(deduped);
  for (std::size_t i = 0; i < deduped.size(); ++i) {
    SCOPED_TRACE("user " + user_id + " event #" + std::to_string(i + 1) + ": " + deduped[i].raw);
    EXPECT_EQ(deduped[i].sequence(), static_cast<long long>(i + 1)) << "a gap or a reordering";
    EXPECT_EQ(deduped[i].value.value("type", ""), want[i].first);
    EXPECT_EQ(deduped[i].value.value("subject", ""), want[i].second);
    EXPECT_EQ(deduped[i].key, user_id);
  }
}

/// Tests here start their own database, mock cluster and servers.
class EventsTest : public ::testing::Test {
 protected:
  struct Db {
    std::string name;
    std::string url;
  };
  static Db fresh_db() {
    Db db{"events_" + random_hex(4), ""};
    db.url = TestPostgres::shared().create_database(db.name);
    return db;
  }
  static std::string query(const Db& db, const std::string& sql) {
    return TestPostgres::shared().query(db.name, sql);
  }

  /// A one-broker mock cluster with the server's topics (broker id 1); it outlives the test's servers.
  events::MockKafkaCluster& mock_kafka() {
    kafka_ = std::make_unique<events::MockKafkaCluster>(1);
    for (const auto& topic : kTopics)
      kafka_->create_topic(topic, kPartitions);
    return *kafka_;
  }

  std::shared_ptr<ServerProcess> serve(std::map<std::string, std::string> env,
                                       std::vector<std::string> args = {}) {
    auto server = std::make_shared<ServerProcess>(std::move(env), std::move(args));
    servers_.push_back(server);
    return server;
  }

  void TearDown() override {
    if (HasFailure())
      for (const auto& s : servers_)
        std::cerr << server_output_digest(s->output());
    for (const auto& s : servers_)
      if (s->running()) s->terminate(10s);
  }

  std::unique_ptr<events::MockKafkaCluster> kafka_;
  std::vector<std::shared_ptr<ServerProcess>> servers_;
};

TEST_F(EventsTest, EveryMutationYieldsOneEventOnEachTopicInOrder) {
  auto& kafka = mock_kafka();
  const auto db = fresh_db();
  auto server = serve({{"DATABASE_URL", db.url}, {"KAFKA_BROKERS", kafka.bootstrap_servers()}});
  TopicReader reader(kafka.bootstrap_servers(), {"task-events", "task-updates"});
  auto alice = new_user(server->base_url());
  auto bob = new_user(server->base_url());
  std::vector<Expected> want;

  const json created =
      create_task(alice.client, {{"title", "write the report"}, {"priority", "low"}, {"tags", {"work"}}});
  const std::string id = created.at("id");
  const std::string path = "/api/v1/tasks/" + id;
  want.push_back({kCreated, id, created});

  // Reads publish nothing.
  ASSERT_EQ(alice.client.get(path).status, 200);
  ASSERT_EQ(alice.client.get("/api/v1/tasks").status, 200);

  auto r = alice.client.patch(path, {{"title", "write the final report"}, {"priority", "high"}});
  ASSERT_EQ(r.status, 200) << r.describe();
  const json patched = r.json();
  want.push_back(
      {kUpdated, id, patched,
       json{{"title", {"write the report", "write the final report"}}, {"priority", {"low", "high"}}}});

  // Refused changes roll back and publish nothing.
  EXPECT_EQ(alice.client.patch(path, {{"title", "stale"}}, {{"If-Match", "\"1\""}}).status, 409);
  EXPECT_EQ(alice.client.patch(path, {{"priority", "urgent!"}}).status, 422);
  EXPECT_EQ(bob.client.post(path + "/complete").status, 404);

  r = alice.client.post(path + "/complete");
  ASSERT_EQ(r.status, 200) << r.describe();
  const json completed = r.json();
  want.push_back(
      {kCompleted, id, completed,
       json{{"status", {"open", "done"}}, {"completed_at", {nullptr, completed["completed_at"]}}}});

  // Completing a done task changes nothing, so it publishes nothing.
  r = alice.client.post(path + "/complete");
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.json(), completed);

  r = alice.client.post(path + "/reopen");
  ASSERT_EQ(r.status, 200) << r.describe();
  const json reopened = r.json();
  want.push_back(
      {kReopened, id, reopened,
       json{{"status", {"done", "open"}}, {"completed_at", {completed["completed_at"], nullptr}}}});

  r = alice.client.del(path);
  ASSERT_EQ(r.status, 204) << r.describe();
  want.push_back({kDeleted, id, reopened});  // the task as it was when deleted
  ASSERT_EQ(alice.client.get(path).status, 404);

  const json bobs = create_task(bob.client, "bob's own");

  auto count = [](const std::vector<Record>& rs, const std::string& topic, const std::string& key) {
    return std::count_if(rs.begin(), rs.end(),
                         [&](const Record& x) { return x.topic == topic && x.key == key; });
  };
  ASSERT_TRUE(reader.read_until(
      [&](const std::vector<Record>& rs) {
        return count(rs, "task-events", alice.id) >= 5 && count(rs, "task-updates", alice.id) >= 5 &&
               count(rs, "task-events", bob.id) >= 1 && count(rs, "task-updates", bob.id) >= 1;
      },
      20s))
      << describe(reader.records());
  reader.read_for(1500ms);  // a duplicate or an event for a read would arrive meanwhile

  for (const std::string topic : {"task-events", "task-updates"}) {
    SCOPED_TRACE(topic);
    expect_events(reader.of(topic, alice.id), alice.id, want);
    expect_events(reader.of(topic, bob.id), bob.id, {{kCreated, bobs.at("id"), bobs}});
    EXPECT_EQ(reader.of(topic).size(), want.size() + 1) << describe(reader.records());
  }
  // One event, one id, on both topics.
  const auto on_events = reader.of("task-events", alice.id);
  const auto on_updates = reader.of("task-updates", alice.id);
  for (std::size_t i = 0; i < std::min(on_events.size(), on_updates.size()); ++i)
    EXPECT_EQ(on_events[i].event_id(), on_updates[i].event_id()) << i;
  EXPECT_EQ(event_ids(reader.of("task-events")).size(), want.size() + 1);
  EXPECT_EQ(query(db, "SELECT count(*) FROM outbox"), std::to_string(want.size() + 1));
}

TEST_F(EventsTest, KilledBetweenCommitAndPublishRepublishesWithoutLossOrGap) {
  auto& kafka = mock_kafka();
  const auto db = fresh_db();
  const std::map<std::string, std::string> env = {{"DATABASE_URL", db.url},
                                                  {"KAFKA_BROKERS", kafka.bootstrap_servers()}};
  auto first = serve(env);
  std::vector<TestUser> users;
  for (int i = 0; i < 3; ++i)
    users.push_back(new_user(first->base_url()));

  // The broker goes away: commits go on (writes never wait for Kafka), publishing cannot.
  kafka.set_broker_down(1);
  constexpr int kChanges = 50;
  std::vector<std::vector<std::pair<std::string, std::string>>> made(users.size());
  std::vector<std::string> errors(users.size());
  std::vector<std::thread> writers;
  for (std::size_t u = 0; u < users.size(); ++u) {
    const int n = kChanges / 3 + (u < kChanges % 3 ? 1 : 0);
    writers.emplace_back([&, u, n] {
      try {
        users[u].client.set_timeout(10s);
        std::string task;
        for (int i = 0; i < n; ++i)
          made[u].push_back(scripted_change(users[u].client, i, task));
      } catch (const std::exception& e) {
        errors[u] = e.what();
      }
    });
  }
  for (auto& w : writers)
    w.join();
  for (const auto& e : errors)
    ASSERT_EQ(e, "") << "a write failed or waited for Kafka";
  ASSERT_EQ(made[0].size() + made[1].size() + made[2].size(), static_cast<std::size_t>(kChanges));
  EXPECT_EQ(query(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL"), std::to_string(kChanges))
      << "published with the broker down?";

  first->kill9();
  kafka.set_broker_up(1);
  auto second = serve(env);

  TopicReader reader(kafka.bootstrap_servers(), {"task-events", "task-updates"});
  ASSERT_TRUE(reader.read_until(
      [&](const std::vector<Record>&) {
        return event_ids(reader.of("task-events")).size() >= kChanges &&
               event_ids(reader.of("task-updates")).size() >= kChanges;
      },
      45s))
      << describe(reader.records());
  reader.read_for(1s);
  for (const std::string topic : {"task-events", "task-updates"}) {
    SCOPED_TRACE(topic);
    EXPECT_EQ(event_ids(reader.of(topic)).size(), static_cast<std::size_t>(kChanges));
    for (std::size_t u = 0; u < users.size(); ++u)
      expect_series(dedupe(reader.of(topic, users[u].id)), users[u].id, made[u]);
  }
  EXPECT_TRUE(eventually(
      [&] { return query(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == "0"; }, 10s));
}

TEST_F(EventsTest, KilledBeforeTheAcknowledgementRepublishesAndDedupeKeepsEachEventOnce) {
  auto kafka = std::make_unique<SlowableMockCluster>();
  const auto db = fresh_db();
  const std::map<std::string, std::string> env = {{"DATABASE_URL", db.url},
                                                  {"KAFKA_BROKERS", kafka->bootstrap_servers()}};
  auto first = serve(env);
  auto u = new_user(first->base_url());
  std::vector<std::pair<std::string, std::string>> made;
  std::string task;
  for (int i = 0; i < 3; ++i)
    made.push_back(scripted_change(u.client, i, task));
  ASSERT_TRUE(eventually(
      [&] { return query(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == "0"; }, 15s));

  // The broker now stores what it is sent but acknowledges it only after 30 s: the server dies in between.
  kafka->set_rtt(30s);
  for (int i = 3; i < 13; ++i)
    made.push_back(scripted_change(u.client, i, task));
  std::this_thread::sleep_for(1s);  // produced (linger 2 ms), not acknowledged
  EXPECT_EQ(query(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL"), "10");
  first->kill9();
  kafka->set_rtt(0ms);
  auto second = serve(env);

  TopicReader reader(kafka->bootstrap_servers(), {"task-events"});
  ASSERT_TRUE(reader.read_until(
      [&](const std::vector<Record>& rs) { return event_ids(rs).size() >= made.size(); }, 30s))
      << describe(reader.records());
  reader.read_for(1s);
  const auto records = reader.of("task-events", u.id);
  EXPECT_GT(records.size(), made.size()) << "no event reached the topic twice: the killed server's messages "
                                            "never got to the broker, so this did "
                                            "not test republishing";
  expect_series(dedupe(records), u.id, made);
  EXPECT_TRUE(eventually(
      [&] { return query(db, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == "0"; }, 10s));
  second->terminate(10s);  // before the cluster goes away
}

TEST_F(EventsTest, TwoServersOnOneDatabasePublishEachEventOnce) {
  auto& kafka = mock_kafka();
  const auto db = fresh_db();
  const std::map<std::string, std::string> env = {{"DATABASE_URL", db.url},
                                                  {"KAFKA_BROKERS", kafka.bootstrap_servers()}};
  auto a = serve(env);
  std::vector<TestUser> users;
  for (int i = 0; i < 4; ++i)
    users.push_back(new_user(a->base_url()));
  auto b = serve(env);
  TopicReader reader(kafka.bootstrap_servers(), {"task-events"});

  // One series of changes by one writer, alternating between the two servers.
  struct Series {
    std::size_t user;
    int parity;  // 0: starts on a, 1: on b
    std::vector<std::pair<std::string, std::string>> made{};
    std::string error{};
  };
  auto write = [&](Series& series, int first, int count, const std::atomic<bool>* stop) {
    try {
      HttpClient via_a(a->base_url()), via_b(b->base_url());
      via_a.set_token(users[series.user].token);
      via_b.set_token(users[series.user].token);
      std::string task;
      for (int i = first; i < first + count && !(stop && stop->load()); ++i)
        series.made.push_back(scripted_change((i + series.parity) % 2 ? via_b : via_a, i, task));
    } catch (const std::exception& e) {
      series.error = e.what();
    }
  };

  // Concurrent writers (two of them for the first user) while the second relay takes its share of the lanes.
  std::vector<Series> series = {{0, 0}, {0, 1}, {1, 0}, {2, 1}, {3, 0}};
  {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (auto& s : series)
      threads.emplace_back([&, sp = &s] { write(*sp, 0, 300, &stop); });
    const bool balanced = eventually(
        [&] {
          const double la = metric(*a, "outbox_relay_lanes"), lb = metric(*b, "outbox_relay_lanes");
          return la > 0 && lb > 0 && la + lb == events::kLanes;
        },
        20s);
    std::this_thread::sleep_for(500ms);
    stop = true;
    for (auto& t : threads)
      t.join();
    ASSERT_TRUE(balanced) << "the relays did not share the lanes";
    for (const auto& s : series)
      ASSERT_EQ(s.error, "");
  }

  // Users on lanes of each relay (found through the lane locks), so that both relays publish.
  const std::string holders = query(
      db,
      "SELECT string_agg(pid::text || ':' || objid::text, ',') FROM pg_locks WHERE locktype = 'advisory' "
      "AND objsubid = 2 AND granted");
  std::map<int, std::string> lane_holder;
  {
    std::istringstream in(holders);
    std::string item;
    while (std::getline(in, item, ','))
      lane_holder[std::stoi(item.substr(item.find(':') + 1))] = item.substr(0, item.find(':'));
  }
  std::set<std::string> relays_of_users;
  auto note_relay = [&](const TestUser& u) {
    if (auto it = lane_holder.find(events::lane_of(u.id)); it != lane_holder.end())
      relays_of_users.insert(it->second);
  };
  for (const auto& u : users)
    note_relay(u);
  while (relays_of_users.size() < 2 && users.size() < 40) {
    users.push_back(new_user(a->base_url()));
    note_relay(users.back());
  }
  ASSERT_EQ(relays_of_users.size(), 2u) << holders;
  // Then every user makes a few more changes through both servers, on a fresh task.
  for (std::size_t u = 0; u < users.size(); ++u) {
    series.push_back({u, 0});
    write(series.back(), 0, 4, nullptr);
    ASSERT_EQ(series.back().error, "");
  }

  std::size_t total = 0;
  for (const auto& s : series)
    total += s.made.size();
  ASSERT_EQ(query(db, "SELECT count(*) FROM outbox"), std::to_string(total));
  ASSERT_TRUE(
      reader.read_until([&](const std::vector<Record>& rs) { return event_ids(rs).size() >= total; }, 30s))
      << "expected " << total << " events; " << describe(reader.records());
  reader.read_for(1500ms);
  EXPECT_EQ(reader.records().size(), total) << "duplicates on task-events: " << describe(reader.records());
  EXPECT_EQ(event_ids(reader.records()).size(), total);

  // Per user: sequences 1..N in order; per task, its changes in the order they were made.
  for (std::size_t u = 0; u < users.size(); ++u) {
    SCOPED_TRACE("user " + users[u].id);
    std::map<std::string, std::vector<std::string>> want, got;
    std::size_t count = 0;
    for (const auto& s : series)
      if (s.user == u) {
        count += s.made.size();
        for (const auto& [type, subject] : s.made)
          want[subject].push_back(type);
      }
    const auto records = reader.of("task-events", users[u].id);
    ASSERT_EQ(records.size(), count) << describe(records);
    for (std::size_t i = 0; i < records.size(); ++i) {
      EXPECT_EQ(records[i].sequence(), static_cast<long long>(i + 1)) << describe(records);
      got[records[i].value.value("subject", "")].push_back(records[i].value.value("type", ""));
    }
    EXPECT_EQ(got, want);
  }
  EXPECT_GT(metric(*a, "outbox_published_total"), 0);
  EXPECT_GT(metric(*b, "outbox_published_total"), 0);
  EXPECT_EQ(metric(*a, "outbox_published_total") + metric(*b, "outbox_published_total"),
            static_cast<double>(total));
}

TEST_F(EventsTest, EmbeddedKafkaLogsItsAddressAndCarriesTheEvents) {
  const auto db = fresh_db();
  auto server = serve({{"DATABASE_URL", db.url}}, {"--kafka=embedded"});
  std::string bootstrap;
  {
    std::istringstream in(server->output());
    std::string line;
    while (std::getline(in, line)) {
      const auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("kafka_bootstrap")) {
        bootstrap = j["kafka_bootstrap"].get<std::string>();
        EXPECT_NE(j.value("msg", "").find("embedded Kafka"), std::string::npos) << line;
        EXPECT_NE(j.value("msg", "").find(" at " + bootstrap), std::string::npos) << line;
      }
    }
  }
  ASSERT_TRUE(std::regex_match(bootstrap, std::regex(R"(^[A-Za-z0-9.\-\[\]:]+:[0-9]+$)")))
      << "no kafka_bootstrap HOST:PORT in the output:\n"
      << server->output();

  TopicReader reader(bootstrap, {"task-events", "task-updates"});
  auto u = new_user(server->base_url());
  const json t = create_task(u.client, "seen through kcat");
  const auto r = u.client.post("/api/v1/tasks/" + t.at("id").get<std::string>() + "/complete");
  ASSERT_EQ(r.status, 200) << r.describe();
  ASSERT_TRUE(reader.read_until(
      [&](const std::vector<Record>&) {
        return reader.of("task-events", u.id).size() >= 2 && reader.of("task-updates", u.id).size() >= 2;
      },
      20s))
      << describe(reader.records());
  for (const std::string topic : {"task-events", "task-updates"}) {
    const auto got = reader.of(topic, u.id);
    ASSERT_EQ(got.size(), 2u) << describe(got);
    EXPECT_EQ(got[0].value.value("type", ""), kCreated);
    EXPECT_EQ(got[0].value["data"]["task"], t);
    EXPECT_EQ(got[1].value.value("type", ""), kCompleted);
    EXPECT_EQ(got[1].value["data"]["task"], r.json());
  }
  EXPECT_EQ(server->terminate(), 0);

  // The environment variable does the same.
  auto by_env = serve({{"DATABASE_URL", fresh_db().url}, {"TODO_KAFKA", "embedded"}});
  EXPECT_NE(by_env->output().find("\"kafka_bootstrap\""), std::string::npos) << by_env->output();
  EXPECT_NE(by_env->output().find("embedded Kafka"), std::string::npos) << by_env->output();
  // Answering /readyz with 200 means it is migrated and runs its io loop, so its SIGTERM handler is in place.
  EXPECT_EQ(HttpClient(by_env->base_url()).get("/readyz").status, 200);
  EXPECT_EQ(by_env->terminate(), 0);
}

TEST_F(EventsTest, BacklogMetricsRiseWhileTheBrokerIsDownAndDrainAfter) {
  auto& kafka = mock_kafka();
  const auto db = fresh_db();
  auto server = serve({{"DATABASE_URL", db.url}, {"KAFKA_BROKERS", kafka.bootstrap_servers()}});
  auto u = new_user(server->base_url());
  create_task(u.client, "before the outage");
  ASSERT_TRUE(eventually([&] { return metric(*server, "outbox_published_total") == 1; }, 15s))
      << metrics_of(*server);

  auto promtool = [&] {
    if (!std::filesystem::exists("/usr/bin/promtool")) return;
    const auto text = metrics_of(*server);
    const auto check = run_process({"/usr/bin/promtool", "check", "metrics"}, {.input = text, .cwd = {}});
    EXPECT_EQ(check.status, 0) << "promtool check metrics:\n"
                               << check.output << "\n--- metrics ---\n"
                               << text;
  };
  // The backlog is sampled every 2 s: one sample may predate the publish (under load it read 1 here).
  std::string text;
  EXPECT_TRUE(eventually(
      [&] {
        text = metrics_of(*server);
        return sample(text, "outbox_backlog") == 0.0 && sample(text, "outbox_oldest_age_seconds") == 0.0;
      },
      10s))
      << text;
  for (const char* name : {"outbox_backlog", "outbox_oldest_age_seconds", "outbox_published_total"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + name + " "), std::string::npos) << name << "\n" << text;
    EXPECT_TRUE(sample(text, name)) << name << "\n" << text;
  }
  promtool();

  kafka.set_broker_down(1);
  u.client.set_timeout(10s);
  std::string task;
  for (int i = 0; i < 5; ++i)
    scripted_change(u.client, i, task);
  ASSERT_TRUE(eventually([&] { return metric(*server, "outbox_backlog") == 5; }, 15s)) << metrics_of(*server);
  EXPECT_TRUE(eventually([&] { return metric(*server, "outbox_oldest_age_seconds") > 0; }, 10s))
      << metrics_of(*server);
  EXPECT_EQ(metric(*server, "outbox_published_total"), 1);
  promtool();

  kafka.set_broker_up(1);
  EXPECT_TRUE(eventually([&] { return metric(*server, "outbox_backlog") == 0; }, 40s)) << metrics_of(*server);
  EXPECT_EQ(metric(*server, "outbox_oldest_age_seconds"), 0) << metrics_of(*server);
  EXPECT_EQ(metric(*server, "outbox_published_total"), 6) << metrics_of(*server);
  promtool();

  // Nothing lost, nothing twice.
  TopicReader reader(kafka.bootstrap_servers(), {"task-events"});
  ASSERT_TRUE(reader.read_until([](const std::vector<Record>& rs) { return rs.size() >= 6; }, 20s))
      << describe(reader.records());
  reader.read_for(1s);
  EXPECT_EQ(reader.records().size(), 6u) << describe(reader.records());
  EXPECT_EQ(event_ids(reader.records()).size(), 6u);
  for (std::size_t i = 0; i < reader.records().size(); ++i)
    EXPECT_EQ(reader.records()[i].sequence(), static_cast<long long>(i + 1)) << describe(reader.records());
}

}  // namespace
}  // namespace todo::test

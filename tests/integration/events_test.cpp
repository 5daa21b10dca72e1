// Integration: the transactional outbox, the relay (to librdkafka's mock cluster, read back by a real
// consumer) and the in-process bus, on a throwaway PostgreSQL.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "integration.hpp"
#include "todo/audit/audit.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/events/bus.hpp"
#include "todo/events/kafka.hpp"
#include "todo/events/outbox.hpp"
#include "todo/events/relay.hpp"
#include "todo/metrics/registry.hpp"
#include "todo/tasks/service.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using events::Event;
using tasks::Task;
using tasks::service::Actor;

constexpr int kPartitions = 3;
const std::vector<std::string> kTaskTypes = {"com.todo.task.created", "com.todo.task.updated",
                                             "com.todo.task.completed", "com.todo.task.reopened",
                                             "com.todo.task.deleted"};

/// Polls `pred` until it holds or `bound` passes; returns whether it held.
template <class P>
bool eventually(P pred, std::chrono::milliseconds bound = 20s) {
  const auto deadline = Clock::now() + bound;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

// ---------------------------------------------------------------------------------------------------------
// A real Kafka consumer (librdkafka's C API) in a consumer group of its own.

struct Message {
  std::string topic;
  int partition = 0;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
  nlohmann::json doc;  // the value parsed (discarded when it is not JSON)
};

class Consumer {
 public:
  Consumer(const std::string& brokers, const std::vector<std::string>& topics)
      : partitions_(topics.size() * kPartitions) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", brokers);
    set(conf, "group.id", "test-" + new_uuid());
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "enable.partition.eof", "true");
    set(conf, "enable.auto.commit", "false");
    char err[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk_) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("consumer: ") + err);
    }
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
    for (const auto& t : topics)
      rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
    const auto e = rd_kafka_subscribe(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e) throw std::runtime_error(std::string("subscribe: ") + rd_kafka_err2str(e));
  }
  ~Consumer() {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  /// Reads until at least `expected` messages arrived in all, every partition is at its end and nothing new
  /// came for `quiet` (so that a duplicate would have shown), or until `bound` passed. Returns every message
  /// read so far, in consumption order.
  const std::vector<Message>& read(std::size_t expected, std::chrono::milliseconds bound = 30s,
                                   std::chrono::milliseconds quiet = 1s) {
    const auto deadline = Clock::now() + bound;
    auto last = Clock::now();
    while (Clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
      if (!m) {
        if (messages_.size() >= expected && eof_.size() >= partitions_ && Clock::now() - last >= quiet) break;
        continue;
      }
      const std::pair<std::string, int> where{m->rkt ? rd_kafka_topic_name(m->rkt) : "", m->partition};
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        eof_.insert(where);
      } else if (!m->err) {
        eof_.erase(where);
        last = Clock::now();
        messages_.push_back(to_message(m, where.first));
      }
      rd_kafka_message_destroy(m);
    }
    return messages_;
  }

  /// The messages read so far on one topic.
  std::vector<Message> on(const std::string& topic) const {
    std::vector<Message> out;
    for (const auto& m : messages_)
      if (m.topic == topic) out.push_back(m);
    return out;
  }

 private:
  static void set(rd_kafka_conf_t* conf, const std::string& k, const std::string& v) {
    char err[512];
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
      throw std::runtime_error("consumer setting " + k + ": " + err);
  }

  static Message to_message(const rd_kafka_message_t* m, std::string topic) {
    Message out;
    out.topic = std::move(topic);
    out.partition = m->partition;
    if (m->key) out.key.assign(static_cast<const char*>(m->key), m->key_len);
    if (m->payload) out.value.assign(static_cast<const char*>(m->payload), m->len);
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i)
        out.headers[name] = value ? std::string(static_cast<const char*>(value), size) : std::string();
    }
    out.doc = nlohmann::json::parse(out.value, nullptr, false);
    return out;
  }

  rd_kafka_t* rk_ = nullptr;
  std::size_t partitions_;
  std::set<std::pair<std::string, int>> eof_;
  std::vector<Message> messages_;
};

// ---------------------------------------------------------------------------------------------------------
// A relay as one replica runs it: its own bus (recorded) and metrics registry.

class Replica {
 public:
  explicit Replica(events::RelayOptions options) : relay_(std::move(options), bus_, registry_) {
    bus_.subscribe([this](const Event& e) {
      std::lock_guard lock(mutex_);
      received_.push_back(e);
    });
  }

  events::Bus& bus() { return bus_; }
  events::Relay& relay() { return relay_; }
  void start() { relay_.start(); }
  void stop() { relay_.stop(); }

  std::vector<Event> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }

  /// The value of an unlabelled sample in this replica's /metrics exposition (NaN when absent).
  double metric(const std::string& name) const {
    std::istringstream in(registry_.serialize());
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
    return std::numeric_limits<double>::quiet_NaN();
  }

 private:
  events::Bus bus_;
  metrics::Registry registry_;
  std::mutex mutex_;
  std::vector<Event> received_;
  events::Relay relay_;  // last: stopped before what it uses goes away
};

/// Whether each of the two relays holds some lanes, and together all.
bool share_the_lanes(const Replica& a, const Replica& b) {
  const double la = a.metric("outbox_relay_lanes");
  const double lb = b.metric("outbox_relay_lanes");
  return la > 0 && lb > 0 && la + lb == events::kLanes;
}

/// Events grouped by user, in the order given.
std::map<std::string, std::vector<Event>> by_user(const std::vector<Event>& events) {
  std::map<std::string, std::vector<Event>> out;
  for (const auto& e : events)
    out[e.user_id].push_back(e);
  return out;
}

std::vector<std::int64_t> one_to(std::int64_t n) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 1; i <= n; ++i)
    v.push_back(i);
  return v;
}

/// Per user (message key), the sequence numbers of a topic's messages in consumption order.
std::map<std::string, std::vector<std::int64_t>> sequences_by_key(const std::vector<Message>& messages) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const auto& m : messages)
    out[m.key].push_back(m.doc.value("sequence", std::int64_t{-1}));
  return out;
}

/// How often each event id occurs among the messages.
std::map<std::string, int> id_counts(const std::vector<Message>& messages) {
  std::map<std::string, int> out;
  for (const auto& m : messages)
    ++out[m.doc.value("id", std::string())];
  return out;
}

class Events : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = migrated_database(fresh_database("events"));
    pool_ = std::make_unique<db::Pool>(url_, 8);
  }
  void TearDown() override {
    pool_.reset();
    kafka_.reset();
  }

  /// A mock cluster with the three topics (kPartitions each).
  void start_kafka() {
    kafka_ = std::make_unique<events::MockKafkaCluster>(1);
    const events::Topics t;
    for (const auto& name : {t.events, t.updates, t.reminders})
      kafka_->create_topic(name, kPartitions);
  }

  events::RelayOptions options() const {
    events::RelayOptions o{url_, kafka_ ? kafka_->bootstrap_servers() : std::string(), events::Topics{}};
    return o;
  }

  std::unique_ptr<Consumer> consumer() const {
    const events::Topics t;
    return std::make_unique<Consumer>(kafka_->bootstrap_servers(),
                                      std::vector<std::string>{t.events, t.updates});
  }

  template <class F>
  auto tx(F fn) {
    return transact(*pool_, std::move(fn));
  }

  std::string new_user() {
    const auth::Registration r{"user-" + new_uuid() + "@example.com", "a long password", "", "Europe/Berlin"};
    return tx([&](pqxx::work& w) { return auth::users::insert(w, r, "hash"); }).id;
  }

  Task create(const Actor& who, const std::string& title) {
    tasks::NewTask r;
    r.title = title;
    return tx([&](pqxx::work& w) { return tasks::service::create(w, who, r); });
  }
  Task rename(const Actor& who, const std::string& id, const std::string& title) {
    tasks::TaskPatch p;
    p.title = title;
    return tx([&](pqxx::work& w) { return tasks::service::update(w, who, id, p, std::nullopt); });
  }

  long scalar(const std::string& sql) {
    return tx([&](pqxx::work& w) { return w.exec(sql)[0][0].as<long>(); });
  }
  long outbox_rows(const std::string& user_id, const std::string& where = "true") {
    return scalar("SELECT count(*) FROM outbox WHERE user_id = " + quoted(user_id) + " AND " + where);
  }
  std::string quoted(const std::string& s) {
    return tx([&](pqxx::work& w) { return w.quote(s); });
  }

  std::string url_;
  std::unique_ptr<events::MockKafkaCluster> kafka_;
  std::unique_ptr<db::Pool> pool_;
};

// ---------------------------------------------------------------------------------------------------------

TEST_F(Events, EveryMutationYieldsOneMessagePerTopicAndOneBusEvent) {
  start_kafka();
  auto consumer = this->consumer();
  const std::string user = new_user();
  const Actor who{user, "req-events-1"};

  Replica replica(options());
  // After commit: when the bus hands an event over, another session sees its row, marked published.
  pqxx::connection check(url_);
  std::vector<std::string> not_committed;  // touched only on the relay thread until it stops
  replica.bus().subscribe([&](const Event& e) {
    pqxx::nontransaction n(check);
    auto r = n.exec_params("SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", e.event_id);
    if (r.empty() || !r[0][0].as<bool>()) not_committed.push_back(e.event_id);
  });
  replica.start();

  const Task created = create(who, "Buy milk");
  tasks::TaskPatch patch;
  patch.title = "Buy oat milk";
  patch.priority = tasks::Priority::high;
  const Task updated =
      tx([&](pqxx::work& w) { return tasks::service::update(w, who, created.id, patch, 1); });
  // Idempotent repeats and refused changes produce nothing.
  tx([&](pqxx::work& w) { tasks::service::update(w, who, created.id, patch, std::nullopt); });
  EXPECT_THROW(tx([&](pqxx::work& w) { tasks::service::update(w, who, created.id, patch, 1); }), Error);
  const Task completed = tx([&](pqxx::work& w) { return tasks::service::complete(w, who, created.id); });
  tx([&](pqxx::work& w) { tasks::service::complete(w, who, created.id); });
  const Task reopened = tx([&](pqxx::work& w) { return tasks::service::reopen(w, who, created.id); });
  tx([&](pqxx::work& w) { tasks::service::reopen(w, who, created.id); });
  tx([&](pqxx::work& w) { tasks::service::remove(w, who, created.id, reopened.version); });
  EXPECT_THROW(tx([&](pqxx::work& w) { tasks::service::remove(w, who, created.id, std::nullopt); }), Error);

  ASSERT_TRUE(eventually([&] { return replica.count() >= 5; })) << replica.count() << " bus events";
  const auto& all = consumer->read(10);
  replica.stop();

  // The bus: each event once, in order, after commit.
  const auto bus = replica.received();
  EXPECT_TRUE(not_committed.empty()) << not_committed.size() << " events reached the bus before commit";
  ASSERT_EQ(bus.size(), 5u);
  for (std::size_t i = 0; i < bus.size(); ++i) {
    EXPECT_EQ(bus[i].type, kTaskTypes[i]);
    EXPECT_EQ(bus[i].sequence, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(bus[i].user_id, user);
    EXPECT_EQ(bus[i].subject, created.id);
  }

  ASSERT_EQ(all.size(), 10u);
  const events::Topics topics;
  const std::vector<int> versions = {1, 2, 3, 4, 4};
  for (const auto& topic : {topics.events, topics.updates}) {
    SCOPED_TRACE(topic);
    const auto messages = consumer->on(topic);
    ASSERT_EQ(messages.size(), 5u);
    std::set<std::string> ids;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      SCOPED_TRACE(i);
      const auto& m = messages[i];
      const auto& d = m.doc;
      ASSERT_TRUE(d.is_object()) << m.value;
      EXPECT_EQ(m.key, user);
      EXPECT_EQ(m.partition, messages[0].partition) << "one key, one partition";
      EXPECT_EQ(d["specversion"], "1.0");
      ASSERT_TRUE(d["id"].is_string());
      EXPECT_TRUE(is_uuid(d["id"].get<std::string>()));
      ids.insert(d["id"].get<std::string>());
      EXPECT_EQ(d["id"], bus[i].event_id) << "the bus sees the same events in the same order";
      EXPECT_EQ(d["source"], "todo-server");
      EXPECT_EQ(d["type"], kTaskTypes[i]);
      EXPECT_EQ(d["subject"], created.id);
      ASSERT_TRUE(d["time"].is_string());
      EXPECT_TRUE(parse_rfc3339(d["time"].get<std::string>()).has_value()) << d["time"];
      EXPECT_EQ(d["datacontenttype"], "application/json");
      EXPECT_EQ(d["sequence"], i + 1);
      EXPECT_EQ(m.headers.count("ce_id") ? m.headers.at("ce_id") : "", d["id"].get<std::string>());
      EXPECT_EQ(m.headers.count("ce_type") ? m.headers.at("ce_type") : "", kTaskTypes[i]);
      const auto& data = d["data"];
      ASSERT_TRUE(data.is_object());
      EXPECT_EQ(data["user_id"], user);
      EXPECT_EQ(data["version"], versions[i]);
      ASSERT_TRUE(data["task"].is_object());
      EXPECT_EQ(data["task"]["id"], created.id);
      EXPECT_EQ(data["task"]["version"], versions[i]);
    }
    EXPECT_EQ(ids.size(), 5u) << "event ids are unique";
    EXPECT_EQ(messages[0].doc["data"]["task"], tasks::to_json(created));
    EXPECT_FALSE(messages[0].doc["data"].contains("changes"));
    EXPECT_EQ(messages[1].doc["data"]["task"], tasks::to_json(updated));
    EXPECT_EQ(messages[1].doc["data"]["changes"],
              (nlohmann::json{{"title", {"Buy milk", "Buy oat milk"}}, {"priority", {"none", "high"}}}));
    EXPECT_EQ(messages[2].doc["data"]["task"], tasks::to_json(completed));
    const auto& done = messages[2].doc["data"]["changes"];
    EXPECT_EQ(done["status"], (nlohmann::json{"open", "done"}));
    ASSERT_TRUE(done.contains("completed_at"));
    EXPECT_TRUE(done["completed_at"][0].is_null());
    EXPECT_TRUE(done["completed_at"][1].is_string());
    EXPECT_EQ(messages[3].doc["data"]["changes"]["status"], (nlohmann::json{"done", "open"}));
    EXPECT_EQ(messages[4].doc["data"]["task"], tasks::to_json(reopened)) << "the last state before deletion";
  }
  EXPECT_EQ(outbox_rows(user), 5);
  EXPECT_EQ(outbox_rows(user, "published_at IS NULL"), 0);
}

TEST_F(Events, RolledBackTransactionLeavesNoEventNoAuditRowNoMessage) {
  start_kafka();
  auto consumer = this->consumer();
  const std::string user = new_user();
  const Actor who{user, "req-rollback"};
  Replica replica(options());
  replica.start();

  const Task kept = create(who, "kept");
  EXPECT_THROW(tx([&](pqxx::work& w) {
                 tasks::NewTask r;
                 r.title = "never";
                 tasks::service::create(w, who, r);
                 throw std::runtime_error("changed my mind");
               }),
               std::runtime_error);
  EXPECT_THROW(tx([&](pqxx::work& w) {
                 tasks::service::complete(w, who, kept.id);
                 throw std::runtime_error("changed my mind");
               }),
               std::runtime_error);
  rename(who, kept.id, "kept, renamed");

  ASSERT_TRUE(eventually([&] { return replica.count() >= 2; }));
  const auto& all = consumer->read(4);
  replica.stop();

  EXPECT_EQ(scalar("SELECT count(*) FROM tasks WHERE title = 'never'"), 0);
  EXPECT_EQ(outbox_rows(user), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE user_id = " + quoted(user)), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM audit_log WHERE user_id = " + quoted(user) +
                   " AND action = 'task.completed'"),
            0);
  const auto bus = replica.received();
  ASSERT_EQ(bus.size(), 2u);
  EXPECT_EQ(bus[0].type, "com.todo.task.created");
  EXPECT_EQ(bus[1].type, "com.todo.task.updated");
  EXPECT_EQ(bus[1].sequence, 2) << "a rolled-back change takes no sequence number";
  ASSERT_EQ(all.size(), 4u);
  for (const auto& m : all) {
    EXPECT_NE(m.doc["type"], "com.todo.task.completed");
    EXPECT_EQ(m.doc["subject"], kept.id);
  }
  for (const auto& topic : {events::Topics{}.events, events::Topics{}.updates})
    EXPECT_EQ(sequences_by_key(consumer->on(topic))[user], (std::vector<std::int64_t>{1, 2})) << topic;
}

TEST_F(Events, PerUserOrderHoldsUnderConcurrentWrites) {
  start_kafka();
  auto consumer = this->consumer();
  const std::vector<std::string> users = {new_user(), new_user(), new_user()};
  Replica replica(options());
  replica.start();

  constexpr int kThreads = 8;
  constexpr int kChanges = 50;
  std::array<std::atomic<int>, 3> made{};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        std::map<int, Task> mine;  // this thread's task of each user
        for (int i = 0; i < kChanges; ++i) {
          const int u = (t + i) % 3;
          const Actor who{users[u]};
          auto it = mine.find(u);
          if (it == mine.end()) {
            mine.emplace(u, create(who, "t" + std::to_string(t)));
          } else if (i % 4 == 1) {
            it->second = tx([&](pqxx::work& w) { return tasks::service::complete(w, who, it->second.id); });
          } else if (i % 4 == 3 && it->second.status == tasks::Status::done) {
            it->second = tx([&](pqxx::work& w) { return tasks::service::reopen(w, who, it->second.id); });
          } else {
            it->second = rename(who, it->second.id, "t" + std::to_string(t) + " #" + std::to_string(i));
          }
          ++made[u];
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << "thread " << t << ": " << e.what();
      }
    });
  for (auto& th : threads)
    th.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_EQ(made[0] + made[1] + made[2], kThreads * kChanges);

  ASSERT_TRUE(eventually([&] { return replica.count() >= kThreads * kChanges; }, 30s)) << replica.count();
  consumer->read(2 * kThreads * kChanges);
  replica.stop();

  const auto bus = by_user(replica.received());
  for (int u = 0; u < 3; ++u) {
    SCOPED_TRACE("user " + std::to_string(u));
    const auto expected = one_to(made[u]);
    std::vector<std::int64_t> seen;
    for (const auto& e : bus.count(users[u]) ? bus.at(users[u]) : std::vector<Event>{})
      seen.push_back(e.sequence);
    EXPECT_EQ(seen, expected) << "bus";
    for (const auto& topic : {events::Topics{}.events, events::Topics{}.updates}) {
      const auto messages = consumer->on(topic);
      EXPECT_EQ(messages.size(), static_cast<std::size_t>(kThreads * kChanges)) << topic;
      EXPECT_EQ(sequences_by_key(messages)[users[u]], expected) << topic;
      for (const auto& [id, n] : id_counts(messages))
        EXPECT_EQ(n, 1) << topic << ": event " << id;
    }
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
}

TEST_F(Events, BrokerOutageGrowsTheBacklogAndLosesOrDuplicatesNothing) {
  start_kafka();
  const std::vector<std::string> users = {new_user(), new_user(), new_user(), new_user()};
  Replica replica(options());
  replica.start();
  std::map<std::string, Task> task_of;
  for (const auto& u : users)
    task_of[u] = create(Actor{u}, "first");
  ASSERT_TRUE(eventually([&] { return replica.count() == users.size(); })) << "the broker works";
  ASSERT_TRUE(eventually([&] { return replica.metric("outbox_backlog") == 0; }));

  kafka_->set_broker_down(1);
  for (int i = 0; i < 50; ++i)
    for (const auto& u : users)
      task_of[u] = rename(Actor{u}, task_of[u].id, "change " + std::to_string(i));
  EXPECT_TRUE(eventually([&] { return replica.metric("outbox_backlog") >= 200; }, 10s))
      << "outbox_backlog = " << replica.metric("outbox_backlog");
  EXPECT_GT(replica.metric("outbox_oldest_age_seconds"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 200);
  EXPECT_EQ(replica.count(), users.size()) << "nothing is published while the broker is down";

  kafka_->set_broker_up(1);
  ASSERT_TRUE(eventually([&] { return replica.count() >= 204; }, 40s)) << replica.count();
  auto consumer = this->consumer();
  consumer->read(2 * 204);
  EXPECT_TRUE(eventually([&] { return replica.metric("outbox_backlog") == 0; }, 10s));
  replica.stop();

  EXPECT_EQ(replica.count(), 204u);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
  const auto bus = by_user(replica.received());
  for (const auto& topic : {events::Topics{}.events, events::Topics{}.updates}) {
    SCOPED_TRACE(topic);
    const auto messages = consumer->on(topic);
    EXPECT_EQ(messages.size(), 204u);
    const auto counts = id_counts(messages);
    EXPECT_EQ(counts.size(), 204u);
    for (const auto& [id, n] : counts)
      EXPECT_EQ(n, 1) << "event " << id;
    const auto seqs = sequences_by_key(messages);
    for (const auto& u : users) {
      EXPECT_EQ(seqs.count(u) ? seqs.at(u) : std::vector<std::int64_t>{}, one_to(51)) << u;
      std::vector<std::int64_t> on_bus;
      for (const auto& e : bus.at(u))
        on_bus.push_back(e.sequence);
      EXPECT_EQ(on_bus, one_to(51)) << u;
    }
  }
}

TEST_F(Events, TwoRelaysShareTheLanesAndPublishEachEventOnce) {
  start_kafka();
  std::vector<std::string> users;
  for (int i = 0; i < 20; ++i)
    users.push_back(new_user());
  auto consumer = this->consumer();

  Replica a(options());
  Replica b(options());
  a.start();
  ASSERT_TRUE(eventually([&] { return a.metric("outbox_relay_lanes") == events::kLanes; }));
  b.start();
  ASSERT_TRUE(eventually([&] { return share_the_lanes(a, b); }))
      << a.metric("outbox_relay_lanes") << " + " << b.metric("outbox_relay_lanes");

  std::map<std::string, Task> task_of;
  for (const auto& u : users) {
    task_of[u] = create(Actor{u}, "shared");
    task_of[u] = rename(Actor{u}, task_of[u].id, "shared, renamed");
  }
  ASSERT_TRUE(eventually([&] { return a.count() + b.count() >= 2 * users.size(); }));
  EXPECT_GT(a.count(), 0u) << "both replicas publish";
  EXPECT_GT(b.count(), 0u) << "both replicas publish";
  {
    const auto on_a = by_user(a.received());
    for (const auto& [user, _] : by_user(b.received()))
      EXPECT_EQ(on_a.count(user), 0u) << "a user's events go through one replica at a time";
  }

  // One replica leaves: the other takes over its lanes and publishes what was committed meanwhile.
  a.stop();
  const std::size_t by_a = a.count();
  for (const auto& u : users)
    task_of[u] = rename(Actor{u}, task_of[u].id, "after the stop");
  ASSERT_TRUE(eventually([&] { return b.metric("outbox_relay_lanes") == events::kLanes; }))
      << b.metric("outbox_relay_lanes");
  ASSERT_TRUE(eventually([&] { return a.count() + b.count() >= 3 * users.size(); })) << a.count() + b.count();
  consumer->read(2 * 3 * users.size());
  b.stop();

  EXPECT_EQ(a.count(), by_a);
  EXPECT_EQ(a.count() + b.count(), 3 * users.size());
  EXPECT_EQ(a.metric("outbox_relay_errors_total"), 0) << "handing lanes over is not an error";
  EXPECT_EQ(b.metric("outbox_relay_errors_total"), 0);
  {
    // B published the last change of every user, those that were A's included.
    const auto on_b = by_user(b.received());
    for (const auto& [user, evs] : by_user(a.received())) {
      ASSERT_EQ(on_b.count(user), 1u) << user;
      ASSERT_EQ(on_b.at(user).size(), 1u) << user;
      EXPECT_EQ(on_b.at(user)[0].sequence, 3) << user;
    }
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
  std::vector<Event> both = a.received();
  for (const auto& e : b.received())
    both.push_back(e);
  std::set<std::string> ids;
  for (const auto& e : both)
    ids.insert(e.event_id);
  EXPECT_EQ(ids.size(), 3 * users.size()) << "no event on both buses";
  for (const auto& topic : {events::Topics{}.events, events::Topics{}.updates}) {
    SCOPED_TRACE(topic);
    const auto messages = consumer->on(topic);
    EXPECT_EQ(messages.size(), 3 * users.size());
    for (const auto& [id, n] : id_counts(messages))
      EXPECT_EQ(n, 1) << "event " << id;
    const auto seqs = sequences_by_key(messages);
    for (const auto& u : users)
      EXPECT_EQ(seqs.count(u) ? seqs.at(u) : std::vector<std::int64_t>{}, one_to(3)) << u;
  }
}

TEST_F(Events, WithoutBrokersTheBusGetsEveryEventOnceInOrder) {
  const std::vector<std::string> users = {new_user(), new_user(), new_user()};
  Replica replica(options());
  ASSERT_TRUE(options().brokers.empty());
  replica.start();
  for (int i = 0; i < 10; ++i)
    for (const auto& u : users) {
      const Task t = create(Actor{u}, "task " + std::to_string(i));
      if (i % 2) tx([&](pqxx::work& w) { tasks::service::complete(w, Actor{u}, t.id); });
    }
  const std::size_t total = 3 * 15;
  ASSERT_TRUE(eventually([&] { return replica.count() >= total; })) << replica.count();
  std::this_thread::sleep_for(500ms);  // anything extra (a duplicate) would show by now
  replica.stop();

  EXPECT_EQ(replica.count(), total);
  for (const auto& [user, evs] : by_user(replica.received())) {
    std::vector<std::int64_t> seqs;
    std::set<std::string> ids;
    for (const auto& e : evs) {
      seqs.push_back(e.sequence);
      ids.insert(e.event_id);
      const auto document = nlohmann::json::parse(e.document);
      EXPECT_EQ(document["id"], e.event_id);
      EXPECT_EQ(document["sequence"], e.sequence);
      EXPECT_EQ(document["time"], e.time);
    }
    EXPECT_EQ(seqs, one_to(15)) << user;
    EXPECT_EQ(ids.size(), 15u);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), static_cast<long>(total));
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
  EXPECT_EQ(replica.metric("outbox_published_total"), static_cast<double>(total));
}

// A relay in the writers' process is woken by their commits directly, for the lanes it holds: no NOTIFY is
// sent, and the event still arrives at once (the safety poll is 30 s, so nothing else could deliver it).
TEST_F(Events, ARelayInTheWritersProcessIsWokenWithoutANotify) {
  const std::string user = new_user();
  auto o = options();
  o.safety_poll = 30s;
  Replica replica(o);
  const auto receipt = pool_->receive_locally(
      events::kOutboxChannel, [&replica](std::uint32_t lanes) { return replica.relay().wake_for(lanes); });
  replica.start();
  ASSERT_TRUE(eventually([&] { return replica.metric("outbox_relay_lanes") == events::kLanes; }));

  const std::size_t sent = pool_->notifications_sent();
  const std::size_t local = pool_->notifications_delivered_locally();
  for (std::size_t i = 1; i <= 5; ++i) {
    const auto committed = Clock::now();
    create(Actor{user}, "task " + std::to_string(i));
    ASSERT_TRUE(eventually([&] { return replica.count() == i; }, 5s)) << "event " << i << " not delivered";
    EXPECT_LT(Clock::now() - committed, 5s);
  }
  EXPECT_EQ(pool_->notifications_sent(), sent) << "no NOTIFY for lanes the local relay holds";
  EXPECT_EQ(pool_->notifications_delivered_locally(), local + 5);
  replica.stop();
  std::vector<std::int64_t> seqs;
  for (const auto& e : replica.received())
    seqs.push_back(e.sequence);
  EXPECT_EQ(seqs, one_to(5));
}

// Two relays in the writers' process, one of them a receiver of its commits: a commit in one of its lanes
// wakes it directly; a commit in the other relay's lanes is NOTIFYed (that relay only listens). Each event
// arrives once, at once (both safety polls are 30 s).
TEST_F(Events, ACommitInAnotherRelaysLaneIsStillNotified) {
  std::vector<std::string> users;
  for (int i = 0; i < 16; ++i)
    users.push_back(new_user());
  auto o = options();
  o.safety_poll = 30s;
  Replica remote(o);  // as another replica's relay: not a receiver of this pool's commits
  Replica local(o);
  const auto receipt = pool_->receive_locally(
      events::kOutboxChannel, [&local](std::uint32_t lanes) { return local.relay().wake_for(lanes); });
  remote.start();
  local.start();
  // A relay balances its lanes when something wakes it; with 30 s safety polls, these NOTIFYs do (as every
  // commit's would), until the two share the lanes.
  ASSERT_TRUE(eventually([&] {
    tx([](pqxx::work& w) { w.exec(std::string("NOTIFY ") + events::kOutboxChannel); });
    return share_the_lanes(local, remote);
  })) << local.metric("outbox_relay_lanes")
      << " + " << remote.metric("outbox_relay_lanes");

  std::size_t by_local = 0, by_remote = 0;
  for (const auto& u : users) {
    const std::size_t sent = pool_->notifications_sent();
    const std::size_t woken = pool_->notifications_delivered_locally();
    const std::size_t before = local.count() + remote.count();
    create(Actor{u}, "one");
    ASSERT_TRUE(eventually([&] { return local.count() + remote.count() == before + 1; }, 5s)) << u;
    if (local.count() > by_local) {
      ++by_local;
      EXPECT_EQ(pool_->notifications_sent(), sent) << u;
      EXPECT_EQ(pool_->notifications_delivered_locally(), woken + 1) << u;
    } else {
      ++by_remote;
      // Counted once the NOTIFY statement returned, which may be just after the remote relay woke.
      EXPECT_TRUE(eventually([&] { return pool_->notifications_sent() == sent + 1; }, 5s))
          << u << ": " << pool_->notifications_sent() - sent << " NOTIFYs";
      EXPECT_EQ(pool_->notifications_delivered_locally(), woken) << u;
    }
  }
  local.stop();
  remote.stop();
  EXPECT_GT(by_local, 0u);
  EXPECT_GT(by_remote, 0u);
  EXPECT_EQ(local.metric("outbox_relay_errors_total"), 0);
  EXPECT_EQ(remote.metric("outbox_relay_errors_total"), 0);
  EXPECT_EQ(local.count() + remote.count(), users.size());
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
}

// Claiming to publish at once (no Kafka): one statement numbers what has no number yet (per user, in outbox
// order, after the numbers already given), marks every claimed event published in the UPDATE that numbers it
// (one new row version each), skips the events of a deleted account, and announces each user's last number on
// todo_events at commit.
TEST_F(Events, ClaimingToPublishNumbersMarksAndAnnouncesEachEventOnce) {
  const std::string a = new_user();
  const std::string b = new_user();
  const std::string gone = new_user();
  const std::vector<int> lanes = all_lanes();
  create(Actor{a}, "a1");
  create(Actor{a}, "a2");
  // Numbered, not published (as a relay waiting on Kafka leaves them).
  const auto first = tx([&](pqxx::work& w) { return events::claim_pending(w, lanes, 100); });
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(outbox_rows(a, "sequence IS NOT NULL AND published_at IS NULL"), 2);
  create(Actor{a}, "a3");
  create(Actor{b}, "b1");
  create(Actor{gone}, "g1");
  tx([&](pqxx::work& w) { w.exec("DELETE FROM users WHERE id = " + w.quote(gone)); });

  struct Listener final : pqxx::notification_receiver {
    explicit Listener(pqxx::connection_base& c) : pqxx::notification_receiver(c, "todo_events") {}
    void operator()(const std::string& payload, int) override { payloads.insert(payload); }
    std::set<std::string> payloads;
  };
  pqxx::connection listening(url_);
  Listener listener(listening);

  // The counter also holds the backend's earlier transactions until their statistics are flushed (at most
  // once a second): the claim's own updates are the difference.
  const auto [claimed, updated] = tx([&](pqxx::work& w) {
    const auto counted = [&w] {
      return w.exec("SELECT pg_stat_get_xact_tuples_updated('outbox'::regclass)")[0][0].as<long>();
    };
    const long before = counted();
    auto c = events::claim_and_publish(w, lanes, 100);
    return std::make_pair(c, counted() - before);
  });
  EXPECT_EQ(claimed.rows, 5);
  ASSERT_EQ(claimed.events.size(), 4u) << "the deleted account's event is marked, not delivered";
  EXPECT_EQ(updated, 5) << "one row version per event: numbered and marked in one UPDATE";
  std::map<std::string, std::vector<std::int64_t>> seqs;
  for (const auto& e : claimed.events) {
    seqs[e.user_id].push_back(e.sequence);
    const auto document = nlohmann::json::parse(e.document);
    EXPECT_EQ(document["sequence"], e.sequence);
    EXPECT_EQ(document["time"], e.time);
  }
  EXPECT_EQ(seqs[a], (std::vector<std::int64_t>{1, 2, 3})) << "in order, after the numbers given before";
  EXPECT_EQ(seqs[b], (std::vector<std::int64_t>{1}));
  EXPECT_EQ(seqs.count(gone), 0u);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE sequence IS NULL"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE sequence IS NOT NULL AND event->>'sequence' IS NULL"),
            4)
      << "the number is kept in its column; the stored document is not rewritten";
  EXPECT_EQ(scalar("SELECT last_sequence FROM user_event_sequences WHERE user_id = '" + a + "'"), 3);

  const std::set<std::string> expected{a + " 3", b + " 1"};
  for (int i = 0; i < 50 && listener.payloads.size() < expected.size(); ++i)
    listening.await_notification(0, 100'000);
  EXPECT_EQ(listener.payloads, expected) << "each user's last number, once";

  EXPECT_EQ(tx([&](pqxx::work& w) { return events::claim_and_publish(w, lanes, 100); }).rows, 0);
  listening.await_notification(0, 200'000);
  EXPECT_EQ(listener.payloads, expected) << "nothing claimed, nothing announced";
}

TEST_F(Events, PublishedRowsArePrunedAfterRetentionUnpublishedOnesAreKept) {
  // Another session holds one lane (as a replica would): its user's events stay unpublished meanwhile.
  constexpr int kLaneLockClass = 0x746f646f;  // the relay's advisory lock class for lanes
  const std::string held_user = new_user();
  std::string free_user = new_user();
  while (events::lane_of(free_user) == events::lane_of(held_user))
    free_user = new_user();
  pqxx::connection holder(url_);
  pqxx::nontransaction(holder).exec_params("SELECT pg_advisory_lock($1::int, $2::int)", kLaneLockClass,
                                           events::lane_of(held_user));

  auto o = options();
  o.retention = 1s;
  o.prune_interval = 200ms;
  Replica replica(o);
  replica.start();
  for (const auto& u : {held_user, free_user}) {
    const Task t = create(Actor{u}, "short-lived");
    rename(Actor{u}, t.id, "short-lived, renamed");
    tx([&](pqxx::work& w) { tasks::service::remove(w, Actor{u}, t.id, std::nullopt); });
  }
  ASSERT_TRUE(eventually([&] { return replica.count() >= 3; }));
  ASSERT_TRUE(eventually([&] { return outbox_rows(free_user) == 0; }, 10s))
      << "published rows are pruned after the retention period";
  EXPECT_EQ(outbox_rows(held_user, "published_at IS NULL"), 3) << "unpublished rows are never pruned";
  EXPECT_EQ(replica.count(), 3u);

  pqxx::nontransaction(holder).exec_params("SELECT pg_advisory_unlock($1::int, $2::int)", kLaneLockClass,
                                           events::lane_of(held_user));
  ASSERT_TRUE(eventually([&] { return replica.count() >= 6; }, 10s)) << "the lane is taken once free";
  ASSERT_TRUE(eventually([&] { return outbox_rows(held_user) == 0; }, 10s));
  replica.stop();
  const auto bus = by_user(replica.received());
  for (const auto& u : {held_user, free_user}) {
    std::vector<std::int64_t> seqs;
    for (const auto& e : bus.at(u))
      seqs.push_back(e.sequence);
    EXPECT_EQ(seqs, one_to(3));
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM user_event_sequences"), 2) << "sequences survive pruning";
}

// Migration 0013 stores documents as text (json): rows written before it read back the same, and an event
// numbered before it keeps its number in the column only, so it is published with it exactly once.
TEST(EventStorage, DocumentsStoredBeforeTheJsonMigrationReadBackTheSame) {
  const std::string url = fresh_database("events_0013");
  pqxx::connection c(url);
  ASSERT_EQ(db::migrate(c, 12), 12);
  const std::string event_id = new_uuid();
  const std::string user = [&] {
    pqxx::work w(c);
    const std::string id = new_uuid();
    w.exec_params("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'hash')", id,
                  "user-" + id + "@example.com");
    const std::string lane = std::to_string(events::lane_of(id));
    // As the relay left them before: the number in the column and in the document; a second event not
    // numbered yet; the user's counter.
    w.exec_params(
        "INSERT INTO outbox (event_id, user_id, sequence, lane, type, subject, event, published_at) "
        "VALUES ($1, $2, 1, " +
            lane + ", 'com.todo.task.created', 't', $3::jsonb, now())",
        event_id, id,
        R"({"id": ")" + event_id +
            R"(", "data": {"task": {"title": "Pay \"rent\" ü"}}, "time": "2026-12-05T10:00:00.25Z", )"
            R"("sequence": 1})");
    w.exec_params("INSERT INTO outbox (event_id, user_id, lane, type, subject, event) VALUES ($1, $2, " +
                      lane +
                      ", 'com.todo.task.deleted', 't', '{\"time\": \"2026-12-05T10:00:01Z\", \"data\": {}}')",
                  new_uuid(), id);
    w.exec_params("INSERT INTO user_event_sequences (user_id, last_sequence) VALUES ($1, 1)", id);
    w.exec_params(
        "INSERT INTO audit_log (user_id, action, changes) VALUES ($1, 'task.created', "
        "'{\"title\": [null, \"Pay rent\"], \"tags\": [[], [\"home\"]]}')",
        id);
    w.commit();
    return id;
  }();

  ASSERT_EQ(db::migrate(c), static_cast<int>(db::embedded_migrations().size()) - 12);
  db::prepare_session(c);  // the server's statements, on the migrated schema
  pqxx::work w(c);
  EXPECT_EQ(w.exec("SELECT count(*) FROM outbox WHERE event->>'sequence' IS NOT NULL")[0][0].as<int>(), 0);

  const auto replayed = events::since(w, user, 0, 10);
  ASSERT_EQ(replayed.size(), 1u) << "the unnumbered event is not replayed";
  const Event& e = replayed[0];
  EXPECT_EQ(e.sequence, 1);
  EXPECT_EQ(e.time, "2026-12-05T10:00:00.25Z");
  std::size_t keys = 0;
  for (auto at = e.document.find("\"sequence\""); at != std::string::npos;
       at = e.document.find("\"sequence\"", at + 1))
    ++keys;
  EXPECT_EQ(keys, 1u) << e.document;
  const auto doc = nlohmann::json::parse(e.document);
  EXPECT_EQ(doc, nlohmann::json::parse(R"({"id": ")" + event_id +
                                       R"(", "data": {"task": {"title": "Pay \"rent\" ü"}}, )"
                                       R"("time": "2026-12-05T10:00:00.25Z", "sequence": 1})"));

  const std::vector<int> lanes = all_lanes();
  const auto claimed = events::claim_and_publish(w, lanes, 10);
  ASSERT_EQ(claimed.events.size(), 1u);
  EXPECT_EQ(claimed.events[0].sequence, 2) << "numbered after the number given before the migration";
  EXPECT_EQ(nlohmann::json::parse(claimed.events[0].document)["sequence"], 2);

  // The outbox_events view gives operators the same text as the server publishes.
  const auto published = events::since(w, user, 0, 10);
  const auto viewed = w.exec_params(
      "SELECT event FROM outbox_events WHERE user_id = $1 AND sequence IS NOT NULL ORDER BY sequence", user);
  ASSERT_EQ(published.size(), 2u);
  ASSERT_EQ(viewed.size(), 2u);
  for (std::size_t i = 0; i < published.size(); ++i)
    EXPECT_EQ(viewed[static_cast<pqxx::result::size_type>(i)][0].c_str(), published[i].document);

  const auto page = audit::list(w, user, audit::Query{});
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].changes,
            nlohmann::json::parse(R"({"title":[null,"Pay rent"],"tags":[[],["home"]]})"));
}

}  // namespace
}  // namespace todo::test

// Outbox relay: lanes, claiming, producing, acknowledgement, marking, bus fan-out, backlog metrics and
// pruning.
#include "todo/events/relay.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "todo/core/log.hpp"
#include "todo/db/statements.hpp"
#include "todo/events/kafka.hpp"
#include "todo/events/outbox.hpp"
#include "todo/metrics/registry.hpp"

namespace todo::events {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kApplicationName = "todo-relay";
constexpr int kLaneLockClass = 0x746f646f;  // "todo": first key of the two-key advisory locks on lanes

const db::Statement kRelayCount{"relay_count",
                                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'todo-relay' "
                                "AND datname = current_database()"};
const db::Statement kTryLane{"relay_try_lane", "SELECT pg_try_advisory_lock($1::int, $2::int)"};
const db::Statement kUnlockLane{"relay_unlock_lane", "SELECT pg_advisory_unlock($1::int, $2::int)"};
const db::Registration kRegistered{kRelayCount, kTryLane, kUnlockLane};

/// Wakes the relay on NOTIFY todo_outbox (the payload is the lane; any wakes it up).
class Wakeup final : public pqxx::notification_receiver {
 public:
  explicit Wakeup(pqxx::connection_base& c) : pqxx::notification_receiver(c, kOutboxChannel) {}
  void operator()(const std::string&, int) override { ++count; }
  int count = 0;
};

}  // namespace

struct Relay::State {
  explicit State(metrics::Registry& r)
      : backlog(r.gauge("outbox_backlog", "Events committed and not yet published").with({})),
        oldest_age(r.gauge("outbox_oldest_age_seconds", "Age of the oldest unpublished event (0 when none)")
                       .with({})),
        published(r.counter("outbox_published_total", "Events published (Kafka acknowledged, bus delivered)")
                      .with({})),
        failures(
            r.counter("outbox_delivery_failures_total", "Kafka deliveries that failed and will be retried")
                .with({})),
        lanes_held(r.gauge("outbox_relay_lanes", "Outbox lanes this replica publishes").with({})),
        errors(r.counter("outbox_relay_errors_total",
                         "Relay steps that failed (database or broker errors) and were retried")
                   .with({})),
        lag(r.histogram("outbox_publish_lag_seconds", "From the change's commit to publication", {},
                        {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})
                .with({})) {}

  metrics::Gauge& backlog;
  metrics::Gauge& oldest_age;
  metrics::Counter& published;
  metrics::Counter& failures;
  metrics::Gauge& lanes_held;
  metrics::Counter& errors;
  metrics::Histogram& lag;

  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Wakeup> wakeup;
  std::set<int> lanes;
  std::unique_ptr<KafkaProducer> producer;

  /// An event handed to Kafka and not yet acknowledged on every topic.
  struct InFlight {
    Event event;
    int pending = 0;
    bool failed = false;
  };
  std::map<std::uint64_t, InFlight> in_flight;  // by token: publication order (per user, sequence order)
  std::set<std::int64_t> in_flight_ids;         // their outbox ids
  std::uint64_t next_token = 1;
  void forget(std::map<std::uint64_t, InFlight>::iterator& it) {
    in_flight_ids.erase(it->second.event.id);
    it = in_flight.erase(it);
  }

  /// Users whose last delivery failed, and when to try them again (exponential backoff, never dropped).
  struct Backoff {
    Clock::time_point until;
    std::chrono::milliseconds delay{0};
  };
  std::map<std::string, Backoff> backoff;

  Clock::time_point next_balance{};
  Clock::time_point next_backlog{};
  Clock::time_point next_prune{};
};

Relay::Relay(RelayOptions options, Bus& bus, metrics::Registry& registry)
    : options_(std::move(options)),
      bus_(bus),
      state_(std::make_unique<State>(registry)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_fd_ < 0) throw std::runtime_error(std::string("outbox relay: eventfd: ") + std::strerror(errno));
}

Relay::~Relay() {
  stop();
  ::close(wake_fd_);
}

void Relay::start() {
  thread_ = std::thread([this] { run(); });
}

void Relay::stop(std::chrono::milliseconds grace) {
  grace_ = grace;
  stopping_.store(true);
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

std::uint32_t Relay::wake_for(std::uint32_t lanes) {
  if (stopping_.load()) return 0;
  const std::uint32_t held = lanes & held_.load();
  if (held != 0) {
    const std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);  // never blocks (non-blocking eventfd, a counter)
  }
  return held;
}

void Relay::await_wake(pqxx::connection_base& c, std::chrono::milliseconds timeout) {
  if (c.get_notifs() > 0) return;  // already read by libpq
  pollfd fds[2] = {{c.sock(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  if (::poll(fds, 2, static_cast<int>(timeout.count())) > 0 && (fds[1].revents & POLLIN)) {
    std::uint64_t n = 0;
    (void)!::read(wake_fd_, &n, sizeof n);
  }
  c.get_notifs();
}

namespace {

std::vector<std::string> topics_for(const Event& e, const Topics& t) {
  std::vector<std::string> out{t.events};
  if (e.type.rfind("com.todo.task.", 0) == 0) out.push_back(t.updates);
  if (e.type.rfind("com.todo.reminder.", 0) == 0) out.push_back(t.reminders);
  return out;
}

double seconds_since(const Event& e) {
  auto t = parse_rfc3339(e.time);
  if (!t) return 0;
  return std::chrono::duration<double>(now() - *t).count();
}

}  // namespace

void Relay::run() {
  State& s = *state_;
  // Other relays wait for a NOTIFY of the lanes they hold; ours come from this process (wake_for) too. When
  // lanes may have changed hands, everyone is asked to look (at once rather than at their safety poll).
  auto nudge_others = [](pqxx::transaction_base& t) { t.exec(std::string("NOTIFY ") + kOutboxChannel); };
  auto connect = [&] {
    held_.store(0);
    s.wakeup.reset();
    s.conn = std::make_unique<pqxx::connection>(options_.conninfo);
    db::prepare_session(*s.conn);
    {
      pqxx::nontransaction n(*s.conn);
      n.exec(std::string("SET application_name = '") + kApplicationName + "'");
    }
    s.wakeup = std::make_unique<Wakeup>(*s.conn);
    s.lanes.clear();  // session locks die with the session
    s.next_balance = {};
    {
      pqxx::nontransaction n(*s.conn);
      nudge_others(n);  // a lost session lost its lanes: whoever took them looks now
    }
    spdlog::info("outbox relay connected");
  };
  auto make_producer = [&] {
    s.producer =
        std::make_unique<KafkaProducer>(options_.brokers, [&s](std::uint64_t token, const std::string& err) {
          auto it = s.in_flight.find(token);
          if (it == s.in_flight.end()) return;
          if (err.empty()) {
            --it->second.pending;
          } else {
            it->second.failed = true;
            s.failures.inc();
            log::event(spdlog::level::warn, "kafka delivery failed",
                       {{"event_id", it->second.event.event_id}, {"error", err}});
          }
        });
  };

  // Keeps a fair share of lanes: all of them when alone, about lanes/N with N relays connected.
  auto balance = [&] {
    if (Clock::now() < s.next_balance) return;
    s.next_balance = Clock::now() + std::chrono::seconds(2);
    pqxx::nontransaction n(*s.conn);
    const long relays = std::max(1L, n.exec_prepared(kRelayCount.name)[0][0].as<long>());
    const auto share = static_cast<std::size_t>((kLanes + relays - 1) / relays);
    for (int lane = 0; lane < kLanes && s.lanes.size() < share; ++lane) {
      if (s.lanes.count(lane)) continue;
      if (n.exec_prepared(kTryLane.name, kLaneLockClass, lane)[0][0].as<bool>()) {
        s.lanes.insert(lane);
        held_.fetch_or(lane_bit(lane));
      }
    }
    // Give back lanes beyond the share, but never one with events still in flight (the next holder would
    // publish them again).
    std::set<int> busy;
    for (const auto& [_, f] : s.in_flight)
      busy.insert(lane_of(f.event.user_id));
    bool let_go = false;
    while (s.lanes.size() > share) {
      auto it = std::find_if(s.lanes.rbegin(), s.lanes.rend(), [&](int l) { return !busy.count(l); });
      if (it == s.lanes.rend()) break;
      const int lane = *it;
      held_.fetch_and(~lane_bit(lane));  // before the lock goes: from now on its commits NOTIFY
      n.exec_prepared(kUnlockLane.name, kLaneLockClass, lane);
      s.lanes.erase(lane);
      let_go = true;
    }
    if (let_go) nudge_others(n);
    s.lanes_held.set(static_cast<double>(s.lanes.size()));
  };

  auto finish = [&](std::vector<Event> ready) {
    if (ready.empty()) return;
    std::vector<std::int64_t> ids;
    for (const auto& e : ready)
      ids.push_back(e.id);
    pqxx::work w(*s.conn);
    mark_published(w, ids);
    notify_published(w, ready);
    w.commit();
    for (const auto& e : ready)
      s.lag.observe(seconds_since(e));
    s.published.inc(static_cast<double>(ready.size()));
    bus_.publish(ready);
  };

  // Claims the next unpublished events of our lanes. Without Kafka they are marked and handed to the bus at
  // once; with Kafka they are produced and wait in `in_flight` for their acknowledgements.
  auto claim_and_send = [&]() -> int {
    if (s.lanes.empty() || static_cast<int>(s.in_flight.size()) >= options_.max_in_flight) return 0;
    std::vector<int> lanes(s.lanes.begin(), s.lanes.end());
    if (!s.producer) {
      // Without Kafka: claimed, numbered, marked and announced by one statement, its own transaction.
      pqxx::nontransaction n(*s.conn);
      auto claimed = claim_and_publish(n, lanes, options_.batch);
      for (const auto& e : claimed.events)
        s.lag.observe(seconds_since(e));
      s.published.inc(static_cast<double>(claimed.events.size()));
      bus_.publish(claimed.events);
      return claimed.rows;
    }
    pqxx::work w(*s.conn);
    auto events = claim_pending(w, lanes, options_.batch);
    w.commit();
    int sent = 0;
    std::set<std::string> held_back;  // users whose earlier event could not be queued: keep their order
    for (auto& e : events) {
      if (s.in_flight_ids.count(e.id)) continue;
      if (held_back.count(e.user_id)) continue;
      if (auto b = s.backoff.find(e.user_id); b != s.backoff.end() && Clock::now() < b->second.until) {
        held_back.insert(e.user_id);
        continue;
      }
      const auto topics = topics_for(e, options_.topics);
      const std::string& value = e.document;  // valid UTF-8: PostgreSQL checked it when storing it
      const std::map<std::string, std::string> headers = {
          {"ce_specversion", "1.0"}, {"ce_id", e.event_id},
          {"ce_type", e.type},       {"ce_source", "todo-server"},
          {"ce_subject", e.subject}, {"content-type", "application/cloudevents+json"}};
      State::InFlight f{e, 0, false};
      const std::uint64_t token = s.next_token++;
      auto [it, _] = s.in_flight.emplace(token, std::move(f));
      s.in_flight_ids.insert(e.id);
      bool queued_all = true;
      for (const auto& topic : topics) {
        std::string error;
        if (s.producer->produce(topic, e.user_id, value, headers, token, error)) {
          ++it->second.pending;
        } else {
          queued_all = false;
          spdlog::warn("kafka produce to {} failed: {}", topic, error);
          break;
        }
      }
      if (!queued_all) {
        it->second.failed = true;
        held_back.insert(e.user_id);
      }
      ++sent;
    }
    return sent;
  };

  // Completes events acknowledged on every topic, oldest first per user; failed ones go back to be claimed
  // again.
  auto collect = [&] {
    std::vector<Event> ready;
    std::set<std::string> blocked;  // an earlier event of the user is still unacknowledged
    std::set<std::string>
        failed;  // an earlier event of the user failed: it and all later ones go round again
    for (auto it = s.in_flight.begin(); it != s.in_flight.end();) {
      auto& f = it->second;
      const std::string& user = f.event.user_id;
      if (failed.count(user) || (f.failed && f.pending <= 0)) {
        if (!failed.count(user)) {
          failed.insert(user);
          auto& b = s.backoff[user];
          b.delay = std::min(std::max(b.delay * 2, std::chrono::milliseconds(100)),
                             std::chrono::milliseconds(30'000));
          b.until = Clock::now() + b.delay;
        }
        s.forget(it);  // claimed and produced again, in order, after the backoff
        continue;
      }
      if (f.pending > 0 || f.failed || blocked.count(user)) {
        blocked.insert(user);
        ++it;
        continue;
      }
      s.backoff.erase(user);
      ready.push_back(std::move(f.event));
      s.forget(it);
    }
    finish(std::move(ready));
  };

  auto housekeeping = [&] {
    const auto t = Clock::now();
    if (t >= s.next_backlog) {
      s.next_backlog = t + std::chrono::seconds(2);
      pqxx::nontransaction n(*s.conn);
      const auto b = backlog(n);
      s.backlog.set(static_cast<double>(b.count));
      s.oldest_age.set(b.oldest_age_seconds);
    }
    if (t >= s.next_prune && !s.lanes.empty()) {
      s.next_prune = t + options_.prune_interval;
      for (int round = 0; round < 20; ++round) {
        pqxx::work w(*s.conn);
        const long n = prune(w, options_.retention, 5000);
        w.commit();
        if (n < 5000) break;
      }
    }
  };

  Clock::time_point retry_at{};
  std::chrono::milliseconds backoff{100};
  while (!stopping_.load()) {
    try {
      if (Clock::now() < retry_at) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      if (!s.conn || !s.conn->is_open()) connect();
      if (!options_.brokers.empty() && !s.producer) make_producer();
      if (s.producer) {
        if (auto fatal = s.producer->fatal_error(); !fatal.empty()) {
          // Idempotence is broken: start a new producer and send everything unacknowledged again.
          spdlog::error("kafka producer failed fatally ({}); recreating it", fatal);
          s.producer.reset();
          s.in_flight.clear();
          s.in_flight_ids.clear();
          make_producer();
        }
      }
      balance();
      const int sent = claim_and_send();
      if (s.producer) {
        s.producer->poll(0);
        collect();
      }
      housekeeping();
      backoff = std::chrono::milliseconds(100);
      if (sent >= options_.batch) continue;  // more waiting: no nap
      if (s.producer && !s.in_flight.empty()) {
        s.producer->poll(5);  // acknowledgements arrive within milliseconds while the broker is up
        s.conn->get_notifs();
      } else {
        await_wake(*s.conn, options_.safety_poll);
      }
    } catch (const std::exception& e) {
      s.errors.inc();
      log::event(spdlog::level::warn, "outbox relay error; retrying",
                 {{"error", e.what()}, {"retry_in_ms", backoff.count()}});
      if (s.conn && !s.conn->is_open()) {
        held_.store(0);  // the session and its lane locks are gone
        s.conn.reset();
      }
      retry_at = Clock::now() + backoff;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }

  // Shutting down: let acknowledgements for what is in flight arrive, and record them.
  const auto deadline = Clock::now() + grace_;
  while (s.producer && !s.in_flight.empty() && Clock::now() < deadline) {
    try {
      s.producer->poll(20);
      collect();
    } catch (const std::exception& e) {
      spdlog::warn("outbox relay could not record acknowledgements at shutdown: {}", e.what());
      break;
    }
  }
  held_.store(0);
  if (s.producer)  // the rest of the grace for its own flush, then it is destroyed
    s.producer->set_flush_timeout(
        std::max(std::chrono::milliseconds(0),
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())));
  s.producer.reset();
  s.wakeup.reset();
  s.conn.reset();
}

}  // namespace todo::events

// End-to-end exactly-once: three todo-server processes on one database fire 5 000 reminders due within the
// same minute, e-mailing each to an SMTP sink (python3-aiosmtpd) that counts messages. Each is delivered
// exactly once; then again with one process killed by SIGKILL mid-run: none is lost, and only the killed
// replica's in-flight e-mails may repeat, recognisable by their Message-ID (derived from the reminder id).
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <set>
#include <thread>

#include "e2e.hpp"
#include "smtp_sink.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kUsers = 20;
constexpr int kPerUser = 250;  // 5 000 reminders
constexpr int kReminders = kUsers * kPerUser;
constexpr int kMailers = 4, kMailBatch = 1;  // the server's defaults: e-mails one replica can have in flight

struct Cluster {
  std::string db_url;
  std::unique_ptr<SmtpSink> sink;
  std::vector<std::unique_ptr<ServerProcess>> servers;
  std::vector<std::string> replicas;  // each server's replica id (claimed_by, X-Todo-Sender)

  Cluster() {
    db_url = TestPostgres::shared().create_database("once_" + random_hex(4));
    sink = std::make_unique<SmtpSink>();
    for (int i = 0; i < 3; ++i) {
      servers.push_back(std::make_unique<ServerProcess>(
          std::map<std::string, std::string>{{"DATABASE_URL", db_url},
                                             {"TODO_SMTP_URL", sink->url()},
                                             {"TODO_SMTP_FROM", "reminders@todo.example"},
                                             {"TODO_SMTP_STARTTLS", "off"},
                                             {"TODO_REMINDER_LEASE_MS", "5000"},
                                             {"TODO_SMTP_TIMEOUT_MS", "4000"},
                                             {"TODO_HTTP_THREADS", "2"},
                                             {"TODO_DB_POOL_SIZE", "4"}}));
      const std::string out = servers.back()->output();
      std::smatch m;
      if (!std::regex_search(out, m, std::regex("\"replica\":\"([^\"]+)\"")))
        throw std::runtime_error("no replica id in the output: " + out);
      replicas.push_back(m[1]);
    }
  }

  /// kUsers users who want e-mails, a task each, and kPerUser reminders per task due over ten seconds
  /// starting `lead` from now (inserted in one statement: the API path is tested elsewhere; here the
  /// schedulers are).
  void seed(std::chrono::seconds lead) {
    for (int i = 0; i < kUsers; ++i) {
      auto u = new_user(servers[static_cast<std::size_t>(i % 3)]->base_url());
      if (u.client.patch("/api/v1/me", json{{"email_reminders", true}}).status != 200)
        throw std::runtime_error("PATCH /me failed");
      create_task(u.client, json{{"title", "task of user " + std::to_string(i)}});
    }
    pqxx::connection c(db_url);
    pqxx::work w(c);
    auto r = w.exec_params(
        "INSERT INTO reminders (user_id, id, task_id, at, fire_at) "
        "SELECT t.user_id, gen_random_uuid(), t.id, x.ts, x.ts FROM tasks t, generate_series(1, $1) g, "
        "LATERAL (SELECT date_trunc('second', now()) + $2 * interval '1 second' + (g % 20) * interval '500 "
        "milliseconds' AS ts) x",
        kPerUser, static_cast<int>(lead.count()));
    if (r.affected_rows() != static_cast<std::size_t>(kReminders)) throw std::runtime_error("seeding failed");
    w.commit();
  }

  long scalar(const std::string& sql) {
    pqxx::connection c(db_url);
    pqxx::nontransaction n(c);
    return n.exec(sql)[0][0].as<long>();
  }

  /// Message-ID → how many times the sink got it, and who sent each copy.
  struct Tally {
    std::map<std::string, int> count;
    std::map<std::string, std::vector<std::string>> senders;
    std::size_t total = 0;
  };
  Tally tally() const {
    Tally t;
    for (const auto& m : sink->messages()) {
      const std::string id = m["message_id"];
      ++t.count[id];
      t.senders[id].push_back(m["sender"]);
      ++t.total;
    }
    return t;
  }

  bool wait_for_distinct(std::size_t n, std::chrono::seconds bound) {
    const auto deadline = Clock::now() + bound;
    while (Clock::now() < deadline) {
      if (tally().count.size() >= n) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  std::string digest() {
    std::string s;
    for (auto& srv : servers)
      if (srv) s += server_output_digest(srv->output());
    return s + "---- sink ----\n" + sink->log();
  }
};

/// Every reminder is delivered, its fired event written once, and each Message-ID is the reminder's own.
void expect_all_delivered(Cluster& c, const Cluster::Tally& t) {
  EXPECT_EQ(c.scalar("SELECT count(*) FROM reminders WHERE state = 'delivered'"), kReminders);
  EXPECT_EQ(c.scalar("SELECT count(*) FROM outbox WHERE type = 'com.todo.reminder.fired'"), kReminders);
  EXPECT_EQ(c.scalar("SELECT count(DISTINCT event->'data'->>'reminder_id') FROM outbox "
                     "WHERE type = 'com.todo.reminder.fired'"),
            kReminders);
  EXPECT_EQ(t.count.size(), static_cast<std::size_t>(kReminders));
  pqxx::connection conn(c.db_url);
  pqxx::nontransaction n(conn);
  std::size_t matched = 0;
  // <reminder-{id}-{fire_at epoch seconds}.{microseconds}@todo-server>
  for (const auto& row : n.exec("SELECT id, floor(extract(epoch FROM fire_at))::bigint || '.' || "
                                "to_char(extract(microseconds FROM fire_at)::bigint % 1000000, 'FM000000') "
                                "FROM reminders")) {
    const std::string mid =
        "<reminder-" + std::string(row[0].c_str()) + "-" + row[1].c_str() + "@todo-server>";
    matched += t.count.count(mid);
  }
  EXPECT_EQ(matched, static_cast<std::size_t>(kReminders)) << "mails whose Message-ID is no reminder's";
}

void report(const char* what, Cluster& c, const Cluster::Tally& t) {
  std::map<std::string, int> per_sender;
  for (const auto& [_, senders] : t.senders)
    for (const auto& s : senders)
      ++per_sender[s];
  std::cout << what << ": " << t.total << " messages, " << t.count.size() << " distinct; per replica:";
  for (std::size_t i = 0; i < c.replicas.size(); ++i)
    std::cout << " #" << i << "=" << per_sender[c.replicas[i]];
  std::cout << "\n";
}

// How long all mails may take to arrive: about 20 s on an idle 2-core machine, over 60 s with compilers
// running beside it (4 031 of 5 000 had arrived at 60 s). A bound on a hang, not a speed goal
// (bench/reminders.sh measures the speed); the counts checked after it are the test.
constexpr auto kDeliveryBound = 180s;

TEST(RemindersExactlyOnce, ThreeReplicasDeliverEachOfFiveThousandOnce) {
  Cluster c;
  c.seed(8s);
  const bool all = c.wait_for_distinct(kReminders, kDeliveryBound);
  std::this_thread::sleep_for(1s);  // would-be duplicates arrive
  const auto t = c.tally();
  report("three replicas", c, t);
  ASSERT_TRUE(all) << t.count.size() << " of " << kReminders << "\n" << c.digest();
  EXPECT_EQ(t.total, static_cast<std::size_t>(kReminders)) << "duplicates";
  for (const auto& [id, n] : t.count)
    ASSERT_EQ(n, 1) << id;
  expect_all_delivered(c, t);
}

TEST(RemindersExactlyOnce, AKilledReplicaLosesNothingAndOnlyItsInFlightMailsRepeat) {
  Cluster c;
  c.seed(6s);
  // Kill replica 0 once mail is flowing.
  const auto deadline = Clock::now() + 60s;
  while (c.tally().total < static_cast<std::size_t>(kReminders / 4) && Clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_LT(c.tally().total, static_cast<std::size_t>(kReminders)) << "everything was sent before the kill";
  c.servers[0]->kill9();
  const std::string killed = c.replicas[0];
  const bool all = c.wait_for_distinct(kReminders, kDeliveryBound);
  std::this_thread::sleep_for(1s);
  const auto t = c.tally();
  report("one replica killed", c, t);
  ASSERT_TRUE(all) << t.count.size() << " of " << kReminders << "\n" << c.digest();
  std::size_t repeated = 0;
  for (const auto& [id, n] : t.count) {
    if (n == 1) continue;
    ++repeated;
    EXPECT_EQ(n, 2) << id;
    const auto& senders = t.senders.at(id);
    EXPECT_NE(std::find(senders.begin(), senders.end(), killed), senders.end())
        << id << " repeated without the killed replica having sent it";
  }
  // The killed replica held leases on e-mails it was sending: they ran out and another replica took them over
  // (a second attempt), whether or not the first had reached the sink.
  const long taken_over = c.scalar("SELECT count(*) FROM reminders WHERE attempts >= 2");
  std::cout << "repeated after the kill: " << repeated << "; leases taken over: " << taken_over << "\n";
  EXPECT_GE(taken_over, 1);
  EXPECT_GE(taken_over, static_cast<long>(repeated));
  EXPECT_LE(repeated, static_cast<std::size_t>(kMailers * kMailBatch));
  EXPECT_EQ(t.total, static_cast<std::size_t>(kReminders) + repeated);
  expect_all_delivered(c, t);
}

}  // namespace
}  // namespace todo::test

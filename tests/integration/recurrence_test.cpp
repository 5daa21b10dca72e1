// Integration: recurring task series on a throwaway PostgreSQL — the next occurrence created with the
// completion, exactly once under concurrency, COUNT/UNTIL, generate_ahead top-ups, after_completion,
// series-wide edits and deletes, and the events and audit rows of each created occurrence.
#include <gtest/gtest.h>

#include <algorithm>
#include <barrier>
#include <memory>
#include <set>
#include <thread>
#include <tuple>

#include "integration.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/recurrence/zone.hpp"
#include "todo/tasks/service.hpp"

namespace todo::test {
namespace {

using tasks::Status;
using tasks::Task;
using tasks::service::Actor;
namespace svc = tasks::service;

Instant at(const char* rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) throw std::invalid_argument(rfc3339);
  return *t;
}

/// Each task's occurrence number (-1: none) and due time, in order.
using Dues = std::vector<std::pair<int, Instant>>;
Dues dues(const std::vector<Task>& all) {
  Dues out;
  for (const auto& o : all)
    out.emplace_back(o.occurrence.value_or(-1), *o.due_at);
  return out;
}

class Recurrence : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(migrated_database(fresh_database("recurrence")));
    pool_ = new db::Pool(*url_, 4);
  }
  static void TearDownTestSuite() {
    delete pool_;
    delete url_;
    pool_ = nullptr;
    url_ = nullptr;
  }
  template <class F>
  static auto tx(F fn) {
    return transact(*pool_, std::move(fn));
  }
  static std::string new_user() {
    const auth::Registration r{"user-" + new_uuid() + "@example.com", "a long password", "", "UTC"};
    return tx([&](pqxx::work& w) { return auth::users::insert(w, r, "hash"); }).id;
  }
  static Task create(const std::string& user, const std::string& rule, const char* due,
                     const std::string& tz = "UTC", int ahead = 0,
                     tasks::RecurrenceMode mode = tasks::RecurrenceMode::fixed) {
    tasks::NewTask n;
    n.title = "Pay rent";
    n.description = "to the landlord";
    n.priority = tasks::Priority::high;
    n.tags = {"home", "money"};
    n.due_at = at(due);
    n.timezone = tz;
    n.recurrence = rule;
    n.generate_ahead = ahead;
    n.recurrence_mode = mode;
    return tx([&](pqxx::work& w) { return svc::create(w, Actor(user), n); });
  }
  static Task complete(const std::string& user, const std::string& id) {
    return tx([&](pqxx::work& w) { return svc::complete(w, Actor(user), id); });
  }
  static std::vector<Task> series(const std::string& user, const std::string& series_id) {
    return tx([&](pqxx::work& w) { return tasks::repository::series_tasks(w, user, series_id); });
  }
  static std::vector<Task> open_of(const std::vector<Task>& all) {
    std::vector<Task> out;
    std::copy_if(all.begin(), all.end(), std::back_inserter(out),
                 [](const Task& t) { return t.status == Status::open; });
    return out;
  }
  static long count_sql(const std::string& sql, const std::string& a, const std::string& b) {
    return tx([&](pqxx::work& w) { return w.exec_params(sql, a, b)[0][0].as<long>(); });
  }

  static std::string* url_;
  static db::Pool* pool_;
};
std::string* Recurrence::url_ = nullptr;
db::Pool* Recurrence::pool_ = nullptr;

TEST_F(Recurrence, ARecurringTaskStartsASeries) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=MONTHLY;BYMONTHDAY=1", "2030-05-01T09:00:00Z");
  EXPECT_EQ(t.series_id, t.id);
  EXPECT_EQ(t.occurrence, 0);
  EXPECT_EQ(t.series_start, t.due_at);
  EXPECT_EQ(series(user, t.id).size(), 1u);
  const nlohmann::json j = tasks::to_json(t);
  EXPECT_EQ(j["series_id"], t.id);
  EXPECT_EQ(j["occurrence"], 0);
  EXPECT_EQ(j["recurrence_mode"], "fixed");
  EXPECT_EQ(j["generate_ahead"], 0);
  EXPECT_FALSE(j.contains("series_start"));
}

TEST_F(Recurrence, CompletingCreatesTheNextOccurrenceWithItsEventAndAuditRow) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=MONTHLY;BYMONTHDAY=1", "2030-05-01T09:00:00Z", "Europe/Berlin");
  const Task done = complete(user, t.id);
  EXPECT_EQ(done.status, Status::done);
  const auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u);
  const Task& next = all[1];
  EXPECT_EQ(next.occurrence, 1);
  EXPECT_EQ(next.series_id, t.id);
  EXPECT_EQ(next.status, Status::open);
  EXPECT_EQ(next.due_at, at("2030-06-01T09:00:00Z"));  // 11:00 CEST, as the first one
  EXPECT_EQ(next.title, t.title);
  EXPECT_EQ(next.description, t.description);
  EXPECT_EQ(next.priority, t.priority);
  EXPECT_EQ(next.tags, t.tags);
  EXPECT_EQ(next.timezone, "Europe/Berlin");
  EXPECT_EQ(next.recurrence, t.recurrence);
  EXPECT_EQ(count_sql("SELECT count(*) FROM outbox WHERE user_id = $1 AND subject = $2 AND type = "
                      "'com.todo.task.created'",
                      user, next.id),
            1);
  EXPECT_EQ(count_sql("SELECT count(*) FROM audit_log WHERE user_id = $1 AND task_id = $2 AND action = "
                      "'task.created'",
                      user, next.id),
            1);
}

TEST_F(Recurrence, WallTimeHoldsAcrossDst) {
  const auto user = new_user();
  // Mondays 9:00 in New York; 2030-03-10 is the spring-forward Sunday.
  const Task t = create(user, "FREQ=WEEKLY;BYDAY=MO", "2030-03-04T14:00:00Z", "America/New_York");
  complete(user, t.id);
  const auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].due_at, at("2030-03-11T13:00:00Z"));
}

TEST_F(Recurrence, CompletingTwiceCreatesOneNext) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2030-01-01T08:00:00Z");
  const Task first = complete(user, t.id);
  const Task again = complete(user, t.id);
  EXPECT_EQ(first.version, again.version);
  EXPECT_EQ(series(user, t.id).size(), 2u);
}

TEST_F(Recurrence, ConcurrentCompletesCreateOneNext) {
  for (int round = 0; round < 10; ++round) {
    const auto user = new_user();
    const Task t = create(user, "FREQ=WEEKLY", "2030-01-07T08:00:00Z");
    std::barrier start(2);
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int i = 0; i < 2; ++i)
      threads.emplace_back([&] {
        start.arrive_and_wait();
        try {
          complete(user, t.id);
        } catch (...) {
          ++failures;
        }
      });
    for (auto& th : threads)
      th.join();
    EXPECT_EQ(failures, 0);
    const auto all = series(user, t.id);
    ASSERT_EQ(all.size(), 2u) << "round " << round;
    EXPECT_EQ(all[1].occurrence, 1);
    EXPECT_EQ(count_sql("SELECT count(*) FROM outbox WHERE user_id = $1 AND subject = $2 AND type = "
                        "'com.todo.task.completed'",
                        user, t.id),
              1);
  }
}

TEST_F(Recurrence, PatchingStatusDoneCompletesToo) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2030-01-01T08:00:00Z");
  tasks::TaskPatch p;
  p.status = Status::done;
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), t.id, p, std::nullopt); });
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), t.id, p, std::nullopt); });  // unchanged
  const auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].due_at, at("2030-01-02T08:00:00Z"));
  // Reopening and completing again does not create another: the series already has its open occurrence.
  tx([&](pqxx::work& w) { return svc::reopen(w, Actor(user), t.id); });
  complete(user, t.id);
  EXPECT_EQ(series(user, t.id).size(), 2u);
}

TEST_F(Recurrence, CountAndUntilEndTheSeries) {
  const auto user = new_user();
  Task t = create(user, "FREQ=DAILY;COUNT=3", "2030-01-01T08:00:00Z");
  for (int i = 0; i < 3; ++i) {
    const auto open = open_of(series(user, t.series_id.value()));
    ASSERT_EQ(open.size(), 1u) << i;
    complete(user, open[0].id);
  }
  auto all = series(user, t.id);
  EXPECT_EQ(all.size(), 3u);
  EXPECT_TRUE(open_of(all).empty());
  EXPECT_EQ(all.back().due_at, at("2030-01-03T08:00:00Z"));

  t = create(user, "FREQ=WEEKLY;UNTIL=20300115T080000Z", "2030-01-01T08:00:00Z");
  complete(user, t.id);
  complete(user, open_of(series(user, t.id)).at(0).id);
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.back().due_at, at("2030-01-15T08:00:00Z"));  // UNTIL is inclusive
  complete(user, all.back().id);
  EXPECT_EQ(series(user, t.id).size(), 3u);
}

TEST_F(Recurrence, AStartOutsideTheRuleCountsTowardsCount) {
  const auto user = new_user();
  // 2030-01-01 is a Tuesday; the rule says Mondays. The task is occurrence 0, COUNT=2 leaves one Monday.
  const Task t = create(user, "FREQ=WEEKLY;BYDAY=MO;COUNT=2", "2030-01-01T08:00:00Z");
  complete(user, t.id);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].due_at, at("2030-01-07T08:00:00Z"));
  complete(user, all[1].id);
  EXPECT_EQ(series(user, t.id).size(), 2u);
}

TEST_F(Recurrence, FixedSkipsMissedOccurrences) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2020-01-01T08:00:00Z");
  const Instant before = now();
  complete(user, t.id);
  const auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u) << "missed days are not created in bulk";
  ASSERT_TRUE(all[1].due_at);
  EXPECT_GT(*all[1].due_at, before);
  EXPECT_LE(*all[1].due_at, before + std::chrono::hours{24});
  EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(*all[1].due_at).time_since_epoch().count() % 86400,
            8 * 3600);
}

TEST_F(Recurrence, AfterCompletionCountsFromTheCompletion) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY;INTERVAL=3", "2030-01-01T07:30:00Z", "Asia/Kolkata", 0,
                        tasks::RecurrenceMode::after_completion);
  const Instant before = now();
  complete(user, t.id);
  const auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u);
  // Three days after today's date in Kolkata, at the series' 13:00 IST.
  const auto& z = recurrence::zone("Asia/Kolkata");
  const auto today = date::floor<date::days>(z.to_local(before));
  const Instant expected =
      z.to_instant(recurrence::LocalTime{today + date::days{3}} + std::chrono::hours{13});
  EXPECT_EQ(all[1].due_at, expected);
  EXPECT_EQ(all[1].recurrence_mode, tasks::RecurrenceMode::after_completion);
}

TEST_F(Recurrence, GenerateAheadKeepsOccurrencesCreatedAndTopsUp) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=MONTHLY;BYMONTHDAY=1", "2030-01-01T09:00:00Z", "UTC", 12);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 13u);
  EXPECT_EQ(all.back().due_at, at("2031-01-01T09:00:00Z"));
  for (std::size_t i = 0; i < all.size(); ++i)
    EXPECT_EQ(all[i].occurrence, static_cast<int>(i));
  complete(user, all[0].id);
  complete(user, all[1].id);
  complete(user, all[1].id);  // again: nothing more
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 15u);
  EXPECT_EQ(open_of(all).size(), 13u);
  EXPECT_EQ(all.back().due_at, at("2031-03-01T09:00:00Z"));
  std::set<Instant> dues;
  for (const auto& x : all)
    dues.insert(*x.due_at);
  EXPECT_EQ(dues.size(), all.size()) << "no occurrence twice";
}

// A "this" edit that took the rule and the due date off the series' highest occurrence leaves that task out
// of the schedule: the series goes on, numbered after it and timed after the highest occurrence that still
// has a due date, and the task no longer counts among the open occurrences that generate_ahead keeps (the
// next occurrence was timed after one with no time: none was created, and the series stopped for good).
TEST_F(Recurrence, AnOccurrenceEditedOffTheScheduleDoesNotEndTheSeries) {
  const auto user = new_user();
  tasks::TaskPatch off;
  off.recurrence.emplace();  // none
  off.due_at.emplace();      // none
  const auto take_off = [&](const std::string& id) {
    return tx([&](pqxx::work& w) { return svc::update(w, Actor(user), id, off, std::nullopt); });
  };
  // Each occurrence's number and due time (nullopt: none), in order.
  const auto numbered = [&](const std::string& series_id) {
    std::vector<std::pair<int, std::optional<Instant>>> out;
    for (const auto& o : series(user, series_id))
      out.emplace_back(o.occurrence.value_or(-1), o.due_at);
    return out;
  };
  using Numbered = std::vector<std::pair<int, std::optional<Instant>>>;

  // generate_ahead 1: the occurrence ahead taken off the schedule, then the open one completed.
  const Task t = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z", "UTC", 1);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u);
  const Task loose = take_off(all[1].id);
  EXPECT_FALSE(loose.recurrence);
  EXPECT_EQ(loose.series_id, t.id);
  EXPECT_EQ(tx([&](pqxx::work& w) { return svc::occurrences(w, user, t.id, 2); }),
            (std::vector<Instant>{at("2027-03-02T09:00:00Z"), at("2027-03-03T09:00:00Z")}));
  complete(user, t.id);
  ASSERT_EQ(numbered(t.id), (Numbered{{0, at("2027-03-01T09:00:00Z")},
                                      {1, std::nullopt},
                                      {2, at("2027-03-02T09:00:00Z")},
                                      {3, at("2027-03-03T09:00:00Z")}}));
  complete(user, series(user, t.id)[2].id);
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[4].occurrence, 4);
  EXPECT_EQ(all[4].due_at, at("2027-03-04T09:00:00Z"));

  // Skipping the open occurrence instead: the one that replaces it comes the same way.
  const Task s = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z", "UTC", 1);
  take_off(series(user, s.id)[1].id);
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), s.id, std::nullopt);
    return 0;
  });
  EXPECT_EQ(numbered(s.id),
            (Numbered{{1, std::nullopt}, {2, at("2027-03-02T09:00:00Z")}, {3, at("2027-03-03T09:00:00Z")}}));

  // generate_ahead 0: the next occurrence, created by a completion, taken off the schedule once the completed
  // one was reopened; completing it again creates the next one (nothing on the schedule was open).
  const Task r = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z");
  complete(user, r.id);
  tx([&](pqxx::work& w) { return svc::reopen(w, Actor(user), r.id); });
  take_off(series(user, r.id)[1].id);
  complete(user, r.id);
  EXPECT_EQ(numbered(r.id),
            (Numbered{{0, at("2027-03-01T09:00:00Z")}, {1, std::nullopt}, {2, at("2027-03-02T09:00:00Z")}}));
}

// Taking back the occurrences a completion created (chat's undo, service::withdraw) takes back only those
// still the series' highest, down to an occurrence that exists: an occurrence skipped since between them
// would come back with its number and date (the one above it was taken back, the record went back below the
// skipped one, and completing again re-created it).
TEST_F(Recurrence, WithdrawingTakesBackOnlyTheSeriesHighestOccurrences) {
  const auto user = new_user();
  // Daily, five occurrences in all, two ahead; the third taken off the schedule (no rule, same date), so
  // completing the first creates two: occurrences 3 and 4.
  const auto completed_twice = [&] {
    const Task t = create(user, "FREQ=DAILY;COUNT=5", "2027-03-01T09:00:00Z", "UTC", 2);
    tasks::TaskPatch off;
    off.recurrence.emplace();
    tx([&](pqxx::work& w) {
      return svc::update(w, Actor(user), series(user, t.id)[2].id, off, std::nullopt);
    });
    const auto before = tx([&](pqxx::work& w) { return tasks::repository::series_highest(w, user, t.id); });
    complete(user, t.id);
    const auto all = series(user, t.id);
    if (all.size() != 5u) throw std::runtime_error("expected five occurrences");
    return std::make_tuple(
        t, before,
        std::vector<std::pair<std::string, int>>{{all[3].id, static_cast<int>(all[3].version)},
                                                 {all[4].id, static_cast<int>(all[4].version)}});
  };
  const auto withdraw = [&](const std::string& series_id,
                            const std::vector<std::pair<std::string, int>>& created,
                            const std::optional<tasks::repository::SeriesHighest>& before) {
    return tx([&](pqxx::work& w) { return svc::withdraw(w, Actor(user), series_id, created, before); });
  };
  const auto again = [&](const std::string& id) {
    tx([&](pqxx::work& w) { return svc::reopen(w, Actor(user), id); });
    complete(user, id);
  };
  const Dues kept{{0, at("2027-03-01T09:00:00Z")},
                  {1, at("2027-03-02T09:00:00Z")},
                  {2, at("2027-03-03T09:00:00Z")},
                  {3, at("2027-03-04T09:00:00Z")},
                  {4, at("2027-03-05T09:00:00Z")}};

  // Both still the highest: taken back, and completing again creates them again.
  const auto [a, a_before, a_created] = completed_twice();
  EXPECT_EQ(withdraw(a.id, a_created, a_before).withdrawn.size(), 2u);
  EXPECT_EQ(series(user, a.id).size(), 3u);
  again(a.id);
  EXPECT_EQ(dues(series(user, a.id)), kept);

  // Occurrence 3 skipped since (nothing replaces it: COUNT): occurrence 4 stays, and 3 never comes back.
  const auto [b, b_before, b_created] = completed_twice();
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), b_created[0].first, std::nullopt);
    return 0;
  });
  const auto done = withdraw(b.id, {b_created[1]}, b_before);
  EXPECT_TRUE(done.withdrawn.empty());
  ASSERT_EQ(done.passed.size(), 1u);
  EXPECT_EQ(done.passed[0].occurrence, 4);
  again(b.id);
  EXPECT_EQ(dues(series(user, b.id)), (Dues{kept[0], kept[1], kept[2], kept[4]}));

  // Occurrence 4 changed since: it stays, and so does 3 below it (taken back, its date was lost for good).
  const auto [c, c_before, c_created] = completed_twice();
  tasks::TaskPatch title;
  title.title = "Pay the rent";
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), c_created[1].first, title, std::nullopt); });
  const auto kept_c = withdraw(c.id, c_created, c_before);
  EXPECT_TRUE(kept_c.withdrawn.empty());
  EXPECT_EQ(kept_c.passed.size(), 1u);  // the changed one is not as created: neither taken nor passed
  again(c.id);
  EXPECT_EQ(dues(series(user, c.id)), kept);
}

TEST_F(Recurrence, ConcurrentCompletesOfDifferentOccurrencesNeverDuplicate) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=WEEKLY", "2030-01-07T08:00:00Z", "UTC", 4);
  auto open = open_of(series(user, t.id));
  ASSERT_EQ(open.size(), 5u);
  std::barrier start(static_cast<std::ptrdiff_t>(open.size()));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (const auto& o : open)
    threads.emplace_back([&, id = o.id] {
      start.arrive_and_wait();
      try {
        complete(user, id);
      } catch (...) {
        ++failures;
      }
    });
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(failures, 0);
  const auto all = series(user, t.id);
  EXPECT_EQ(all.size(), 10u);
  EXPECT_EQ(open_of(all).size(), 5u);
  std::set<Instant> dues;
  for (const auto& x : all)
    dues.insert(*x.due_at);
  EXPECT_EQ(dues.size(), all.size());
}

TEST_F(Recurrence, SeriesScopedEditsAndDeletes) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=WEEKLY", "2030-01-07T08:00:00Z", "UTC", 3);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 4u);
  // scope=this: only the addressed occurrence.
  tasks::TaskPatch p;
  p.title = "Only this one";
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), all[1].id, p, std::nullopt); });
  // scope=series from occurrence 2: it and the following ones.
  p.title = "Renamed";
  tx([&](pqxx::work& w) {
    return svc::update(w, Actor(user), all[2].id, p, std::nullopt, tasks::Scope::series);
  });
  all = series(user, t.id);
  EXPECT_EQ(all[0].title, "Pay rent");
  EXPECT_EQ(all[1].title, "Only this one");
  EXPECT_EQ(all[2].title, "Renamed");
  EXPECT_EQ(all[3].title, "Renamed");
  // A new schedule from occurrence 1: the following open occurrences are replaced.
  tasks::TaskPatch s;
  s.recurrence = std::optional<std::string>("FREQ=WEEKLY;BYDAY=FR");
  s.due_at = std::optional<Instant>(at("2030-01-18T08:00:00Z"));
  tx([&](pqxx::work& w) {
    return svc::update(w, Actor(user), all[1].id, s, std::nullopt, tasks::Scope::series);
  });
  all = series(user, t.id);
  auto open = open_of(all);
  ASSERT_EQ(open.size(), 4u);
  EXPECT_EQ(open[0].due_at, at("2030-01-07T08:00:00Z"));  // before the edited one: untouched
  EXPECT_EQ(open[1].due_at, at("2030-01-18T08:00:00Z"));
  EXPECT_EQ(open[2].due_at, at("2030-01-25T08:00:00Z"));
  EXPECT_EQ(open[3].due_at, at("2030-02-01T08:00:00Z"));
  EXPECT_EQ(open[2].recurrence, "FREQ=WEEKLY;BYDAY=FR");
  // Deleting one occurrence (scope=this) skips it: the series goes on.
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), open[3].id, std::nullopt);
    return 0;
  });
  open = open_of(series(user, t.id));
  ASSERT_EQ(open.size(), 4u);
  EXPECT_EQ(open[3].due_at, at("2030-02-08T08:00:00Z"));
  // Deleting the series: no open occurrence is left, and nothing comes back.
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), open[2].id, std::nullopt, tasks::Scope::series);
    return 0;
  });
  all = series(user, t.id);
  EXPECT_TRUE(open_of(all).empty());
}

// Occurrences created after an edit of "this and following" follow it, even when an occurrence from before
// the edit is the one completed. (They used to copy the completed occurrence: its old time of day or rule,
// two open occurrences on one day, its old title.) `edited_then_first_completed` makes a daily series from
// 2027-01-01 09:00 UTC with one occurrence ahead, applies `patch` to occurrence 1 for the series, completes
// occurrence 0, and gives the series.
class EditedSeries : public Recurrence {
 protected:
  static std::vector<Task> edited_then_first_completed(const std::string& user,
                                                       const tasks::TaskPatch& patch) {
    const Task t = create(user, "FREQ=DAILY", "2027-01-01T09:00:00Z", "UTC", 1);
    const auto all = series(user, t.id);
    if (all.size() != 2) throw std::runtime_error("expected 2 occurrences");
    tx([&](pqxx::work& w) {
      return svc::update(w, Actor(user), all[1].id, patch, std::nullopt, tasks::Scope::series);
    });
    complete(user, all[0].id);
    return series(user, t.id);
  }
};

TEST_F(EditedSeries, ANewTimeOfDayAndTitle) {
  const auto user = new_user();
  tasks::TaskPatch p;
  p.due_at = std::optional<Instant>(at("2027-01-02T18:00:00Z"));
  p.title = "Pay rent (evening)";
  auto all = edited_then_first_completed(user, p);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].due_at, at("2027-01-03T18:00:00Z"));
  EXPECT_EQ(all[2].title, "Pay rent (evening)");
  complete(user, all[1].id);
  all = series(user, all[0].id);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3].due_at, at("2027-01-04T18:00:00Z"));
  EXPECT_EQ(open_of(all).size(), 2u);
}

TEST_F(EditedSeries, ANewRule) {
  const auto user = new_user();
  tasks::TaskPatch p;
  p.recurrence = std::optional<std::string>("FREQ=WEEKLY");
  const auto all = edited_then_first_completed(user, p);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].due_at, at("2027-01-09T09:00:00Z"));  // weekly from occurrence 1, not daily
  EXPECT_EQ(all[2].recurrence, "FREQ=WEEKLY");
}

// A series-wide edit reaches the following occurrences even when the edited one already has the values
// given (here after a "this" edit of it). It used to compute the changes against the edited occurrence alone
// and, finding none, leave the following ones as they were.
TEST_F(Recurrence, SeriesEditReachesTheFollowingWhenThisOneAlreadyHasTheValues) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2030-01-01T09:00:00Z", "UTC", 2);
  ASSERT_EQ(series(user, t.id).size(), 3u);
  auto edit_first = [&](const tasks::TaskPatch& p, tasks::Scope scope) {
    return tx([&](pqxx::work& w) { return svc::update(w, Actor(user), t.id, p, std::nullopt, scope); });
  };
  auto both = [&](const tasks::TaskPatch& p) {
    edit_first(p, tasks::Scope::this_occurrence);
    return edit_first(p, tasks::Scope::series);
  };

  tasks::TaskPatch title;
  title.title = "X";
  both(title);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  for (const auto& o : all)
    EXPECT_EQ(o.title, "X") << "occurrence " << o.occurrence.value_or(-1);

  tasks::TaskPatch ahead;
  ahead.generate_ahead = 3;
  both(ahead);
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 4u) << "topped up to 1 + 3";
  for (const auto& o : all)
    EXPECT_EQ(o.generate_ahead, 3) << "occurrence " << o.occurrence.value_or(-1);
  EXPECT_EQ(all[3].due_at, at("2030-01-04T09:00:00Z"));

  tasks::TaskPatch later;
  later.due_at = std::optional<Instant>(at("2030-01-01T10:00:00Z"));
  edit_first(later, tasks::Scope::this_occurrence);
  const int version = series(user, t.id)[0].version;
  const Task answered = edit_first(later, tasks::Scope::series);
  EXPECT_EQ(answered.version, version) << "nothing of occurrence 0 that the API shows changed";
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(all[static_cast<std::size_t>(i)].occurrence, i);
    EXPECT_EQ(all[static_cast<std::size_t>(i)].title, "X");
  }
  EXPECT_EQ(all[0].version, version);
  EXPECT_EQ(all[1].due_at, at("2030-01-02T10:00:00Z"));
  EXPECT_EQ(all[2].due_at, at("2030-01-03T10:00:00Z"));
  EXPECT_EQ(all[3].due_at, at("2030-01-04T10:00:00Z"));
  // The new schedule is kept: the occurrence completing the first one follows it too.
  complete(user, t.id);
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[4].due_at, at("2030-01-05T10:00:00Z"));

  // With no occurrence ahead the new schedule lives in the edited occurrence alone, and is kept there.
  const Task single = create(user, "FREQ=DAILY", "2030-01-01T09:00:00Z");
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), single.id, later, std::nullopt); });
  tx([&](pqxx::work& w) {
    return svc::update(w, Actor(user), single.id, later, std::nullopt, tasks::Scope::series);
  });
  complete(user, single.id);
  all = series(user, single.id);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].due_at, at("2030-01-02T10:00:00Z"));
}

// COUNT bounds the whole series by occurrence number: a "this and following" reschedule goes on with the
// count instead of starting it again at the edited occurrence. It used to restart it: four tasks for COUNT=3,
// and one more each time the last occurrence was rescheduled for the series.
TEST_F(Recurrence, CountBoundsTheSeriesAcrossSeriesWideReschedules) {
  const auto user = new_user();
  auto reschedule = [&](const std::string& id, const char* due) {
    tasks::TaskPatch p;
    p.due_at = std::optional<Instant>(at(due));
    tx([&](pqxx::work& w) { return svc::update(w, Actor(user), id, p, std::nullopt, tasks::Scope::series); });
  };
  const Task ahead = create(user, "FREQ=DAILY;COUNT=3", "2030-01-01T09:00:00Z", "UTC", 5);
  auto all = series(user, ahead.id);
  ASSERT_EQ(all.size(), 3u);
  reschedule(all[1].id, "2030-01-02T10:00:00Z");
  all = series(user, ahead.id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].due_at, at("2030-01-01T09:00:00Z"));
  EXPECT_EQ(all[1].due_at, at("2030-01-02T10:00:00Z"));
  EXPECT_EQ(all[2].due_at, at("2030-01-03T10:00:00Z"));
  reschedule(all[2].id, "2030-01-03T11:00:00Z");
  for (const auto& o : series(user, ahead.id))
    complete(user, o.id);
  all = series(user, ahead.id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].due_at, at("2030-01-03T11:00:00Z"));

  // Without occurrences ahead: completing through the series, and rescheduling its last occurrence.
  const Task t = create(user, "FREQ=DAILY;COUNT=3", "2030-01-01T09:00:00Z");
  complete(user, t.id);
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 2u);
  reschedule(all[1].id, "2030-01-02T10:00:00Z");
  const auto upcoming = tx([&](pqxx::work& w) { return svc::occurrences(w, user, all[1].id, 10); });
  EXPECT_EQ(upcoming, std::vector<Instant>{at("2030-01-03T10:00:00Z")}) << "one left of three";
  complete(user, all[1].id);
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].due_at, at("2030-01-03T10:00:00Z"));
  complete(user, all[2].id);
  reschedule(all[2].id, "2030-01-03T11:00:00Z");
  reschedule(all[2].id, "2030-01-03T12:00:00Z");
  all = series(user, t.id);
  EXPECT_EQ(all.size(), 3u) << "COUNT=3";
  EXPECT_TRUE(open_of(all).empty());
}

// A skipped (or deleted) occurrence is final: the occurrences created later are numbered and timed after the
// highest one the series ever created, and the upcoming list does not show it again. (A skip left no trace:
// the next top-up reused the skipped number and time, beyond COUNT too.)
TEST_F(Recurrence, ASkippedOccurrenceNeverComesBack) {
  const auto user = new_user();
  auto skip = [&](const std::string& id) {
    tx([&](pqxx::work& w) {
      svc::remove(w, Actor(user), id, std::nullopt);
      return 0;
    });
  };
  // COUNT used up by the skipped occurrence 2: the series ends with 0 and 1.
  const Task c = create(user, "FREQ=DAILY;COUNT=3", "2027-03-01T09:00:00Z", "UTC", 2);
  auto all = series(user, c.id);
  ASSERT_EQ(all.size(), 3u);
  skip(all[2].id);
  EXPECT_EQ(tx([&](pqxx::work& w) { return svc::occurrences(w, user, c.id, 10); }),
            std::vector<Instant>{at("2027-03-02T09:00:00Z")});
  complete(user, c.id);
  EXPECT_EQ(dues(series(user, c.id)),
            (Dues{{0, at("2027-03-01T09:00:00Z")}, {1, at("2027-03-02T09:00:00Z")}}));

  // No COUNT: the last occurrence ahead skipped, then the ones before it completed.
  const Task a = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z", "UTC", 3);
  all = series(user, a.id);
  ASSERT_EQ(all.size(), 4u);
  tasks::TaskPatch none_ahead;
  none_ahead.generate_ahead = 0;
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), a.id, none_ahead, std::nullopt); });
  skip(all[3].id);
  EXPECT_EQ(tx([&](pqxx::work& w) { return svc::occurrences(w, user, a.id, 3); }),
            (std::vector<Instant>{at("2027-03-02T09:00:00Z"), at("2027-03-03T09:00:00Z"),
                                  at("2027-03-05T09:00:00Z")}));
  for (int i = 0; i < 3; ++i)
    complete(user, all[static_cast<std::size_t>(i)].id);
  EXPECT_EQ(dues(series(user, a.id)), (Dues{{0, at("2027-03-01T09:00:00Z")},
                                            {1, at("2027-03-02T09:00:00Z")},
                                            {2, at("2027-03-03T09:00:00Z")},
                                            {4, at("2027-03-05T09:00:00Z")}}));

  // The highest occurrence skipped while an earlier one is open again (nothing replaces it then).
  const Task b = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z");
  complete(user, b.id);
  complete(user, series(user, b.id)[1].id);
  tx([&](pqxx::work& w) { return svc::reopen(w, Actor(user), b.id); });
  all = series(user, b.id);
  ASSERT_EQ(all.size(), 3u);
  skip(all[2].id);
  complete(user, b.id);
  EXPECT_EQ(dues(series(user, b.id)), (Dues{{0, at("2027-03-01T09:00:00Z")},
                                            {1, at("2027-03-02T09:00:00Z")},
                                            {3, at("2027-03-04T09:00:00Z")}}));

  // A series-wide reschedule replaces the following occurrences, the skipped one too: its schedule numbers
  // its own after the highest one left.
  const Task r = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z", "UTC", 2);
  all = series(user, r.id);
  ASSERT_EQ(all.size(), 3u);
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), r.id, none_ahead, std::nullopt); });
  skip(all[2].id);
  tasks::TaskPatch later;
  later.due_at = std::optional<Instant>(at("2027-03-01T10:00:00Z"));
  later.generate_ahead = 2;
  tx([&](pqxx::work& w) {
    return svc::update(w, Actor(user), r.id, later, std::nullopt, tasks::Scope::series);
  });
  EXPECT_EQ(dues(series(user, r.id)), (Dues{{0, at("2027-03-01T10:00:00Z")},
                                            {1, at("2027-03-02T10:00:00Z")},
                                            {2, at("2027-03-03T10:00:00Z")}}));
}

// A task of an ended series (DELETE ?scope=series) given a rule again recurs anew, as a new task due then
// would: a series of its own anchored at its own due_at, numbered from 0. (It kept the ended series' start:
// monthly from a Tuesday March 2 gave April 1, and a rule on Tuesdays was refused as never occurring after
// Monday's start.)
TEST_F(Recurrence, ARuleSetAgainAfterTheSeriesEndedStartsANewSeries) {
  const auto user = new_user();
  auto set_rule = [&](const std::string& id, const char* rule, int ahead) {
    tasks::TaskPatch p;
    p.recurrence = std::optional<std::string>(rule);
    p.generate_ahead = ahead;
    return tx([&](pqxx::work& w) { return svc::update(w, Actor(user), id, p, std::nullopt); });
  };
  const Task t = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z");  // a Monday
  complete(user, t.id);
  complete(user, series(user, t.id)[1].id);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), all[2].id, std::nullopt, tasks::Scope::series);
    return 0;
  });
  const Task tuesday = all[1];
  const Task monthly = set_rule(tuesday.id, "FREQ=MONTHLY", 2);
  EXPECT_EQ(monthly.series_id, tuesday.id);
  EXPECT_EQ(monthly.occurrence, 0);
  EXPECT_EQ(monthly.series_start, at("2027-03-02T09:00:00Z"));
  EXPECT_EQ(dues(series(user, tuesday.id)), (Dues{{0, at("2027-03-02T09:00:00Z")},
                                                  {1, at("2027-04-02T09:00:00Z")},
                                                  {2, at("2027-05-02T09:00:00Z")},
                                                  {3, at("2027-06-02T09:00:00Z")}}));
  EXPECT_EQ(series(user, t.id).size(), 1u) << "the ended series keeps its first task";
  EXPECT_NO_THROW(set_rule(tuesday.id, "FREQ=DAILY;INTERVAL=7;BYDAY=TU", 2));

  // The ended series' first task, alone in it now: its series again, numbered from 0 (not after the ended
  // series' highest occurrence).
  const Task first = set_rule(t.id, "FREQ=WEEKLY", 0);
  EXPECT_EQ(first.series_id, t.id);
  EXPECT_EQ(dues(series(user, t.id)),
            (Dues{{0, at("2027-03-01T09:00:00Z")}, {1, at("2027-03-08T09:00:00Z")}}));

  // The first task of an ended series that still has other tasks: a new series id (its own is taken).
  const Task u = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z");
  complete(user, u.id);
  complete(user, series(user, u.id)[1].id);
  all = series(user, u.id);
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), all[2].id, std::nullopt, tasks::Scope::series);
    return 0;
  });
  const Task again = set_rule(u.id, "FREQ=WEEKLY", 0);
  ASSERT_TRUE(again.series_id);
  EXPECT_NE(*again.series_id, u.id);
  EXPECT_EQ(again.occurrence, 0);
  EXPECT_EQ(dues(series(user, *again.series_id)),
            (Dues{{0, at("2027-03-01T09:00:00Z")}, {1, at("2027-03-08T09:00:00Z")}}));
  EXPECT_EQ(series(user, u.id).size(), 1u);

  // A rule removed from one occurrence of a series that goes on, then set again: it stays in that series.
  const Task g = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z", "UTC", 1);
  tasks::TaskPatch no_rule;
  no_rule.recurrence.emplace();
  tx([&](pqxx::work& w) { return svc::update(w, Actor(user), g.id, no_rule, std::nullopt); });
  const Task back = set_rule(g.id, "FREQ=DAILY", 1);
  EXPECT_EQ(back.series_id, g.id);
  EXPECT_EQ(series(user, g.id).size(), 2u);
}

// A rule that never occurs after the series' start is refused (naming `recurrence`) on create and on an edit
// of the rule, the zone or (for the series) the start. Two kinds used to be taken, with no occurrence ever:
// those only the start makes impossible (every 7 days from a Thursday is never a Tuesday; odd years have no
// February 29).
TEST_F(Recurrence, RulesThatNeverOccurAfterTheStartAreRefused) {
  const auto user = new_user();
  auto refused_field = [](auto fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.errors().empty() ? std::string() : e.errors()[0].field;
    }
    return std::string("(none)");
  };
  EXPECT_EQ(refused_field([&] { create(user, "FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2030-01-03T11:00:00Z"); }),
            "recurrence");
  EXPECT_EQ(refused_field([&] {
              create(user, "FREQ=YEARLY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=29", "2031-04-01T09:00:00Z");
            }),
            "recurrence");
  // Thursdays 11:00 UTC (01:00 on Fridays on Kiritimati, UTC+14).
  const Task t = create(user, "FREQ=DAILY;INTERVAL=7;BYDAY=TH", "2030-01-03T11:00:00Z", "UTC", 1);
  const auto before = series(user, t.id);
  ASSERT_EQ(before.size(), 2u);
  auto edit = [&](const std::string& id, auto set, tasks::Scope scope) {
    return refused_field([&] {
      tasks::TaskPatch p;
      set(p);
      tx([&](pqxx::work& w) { return svc::update(w, Actor(user), id, p, std::nullopt, scope); });
    });
  };
  const auto tuesdays = [](tasks::TaskPatch& p) {
    p.recurrence = std::optional<std::string>("FREQ=DAILY;INTERVAL=7;BYDAY=TU");
  };
  const auto kiritimati = [](tasks::TaskPatch& p) { p.timezone = "Pacific/Kiritimati"; };
  const auto friday = [](tasks::TaskPatch& p) {
    p.due_at = std::optional<Instant>(at("2030-01-11T11:00:00Z"));
  };
  EXPECT_EQ(edit(t.id, tuesdays, tasks::Scope::this_occurrence), "recurrence");
  EXPECT_EQ(edit(before[1].id, tuesdays, tasks::Scope::series), "recurrence");
  EXPECT_EQ(edit(t.id, kiritimati, tasks::Scope::this_occurrence), "recurrence");
  EXPECT_EQ(edit(before[1].id, friday, tasks::Scope::series), "recurrence");
  const auto after = series(user, t.id);
  ASSERT_EQ(after.size(), 2u);
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].version, before[i].version) << i;
    EXPECT_EQ(after[i].due_at, before[i].due_at) << i;
  }
  // Moving one occurrence alone keeps the series' start: the rule still occurs from it.
  EXPECT_EQ(edit(before[1].id, friday, tasks::Scope::this_occurrence), "(none)");
}

TEST_F(Recurrence, RecurringNeedsDueAt) {
  const auto user = new_user();
  tasks::NewTask n;
  n.title = "x";
  n.recurrence = "FREQ=DAILY";
  auto e = [&] {
    try {
      tx([&](pqxx::work& w) { return svc::create(w, Actor(user), n); });
    } catch (const Error& e) {
      return e.errors().empty() ? std::string() : e.errors()[0].field;
    }
    return std::string("(none)");
  }();
  EXPECT_EQ(e, "due_at");
  const Task t = create(user, "FREQ=DAILY", "2030-01-01T08:00:00Z");
  tasks::TaskPatch p;
  p.due_at = std::optional<Instant>{};
  EXPECT_THROW(tx([&](pqxx::work& w) { return svc::update(w, Actor(user), t.id, p, std::nullopt); }), Error);
  tasks::TaskPatch g;
  g.recurrence_mode = tasks::RecurrenceMode::after_completion;
  g.generate_ahead = 2;
  EXPECT_THROW(tx([&](pqxx::work& w) { return svc::update(w, Actor(user), t.id, g, std::nullopt); }), Error);
}

std::vector<std::pair<std::string, std::string>> copied;
void record_copy(pqxx::transaction_base&, const std::string&, const std::string& from, const Task& to) {
  copied.emplace_back(from, to.id);
}

TEST_F(Recurrence, TheReminderHookSeesEachNewOccurrence) {
  copied.clear();
  svc::set_copy_reminders(record_copy);
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2030-01-01T08:00:00Z", "UTC", 2);
  complete(user, t.id);
  svc::set_copy_reminders(nullptr);
  const auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 4u);
  ASSERT_EQ(copied.size(), 3u);
  EXPECT_EQ(copied[0], std::make_pair(t.id, all[1].id));
  EXPECT_EQ(copied[1], std::make_pair(t.id, all[2].id));
  // From the series' latest open occurrence, as the fields are, not from the one completed.
  EXPECT_EQ(copied[2], std::make_pair(all[2].id, all[3].id));
}

TEST_F(Recurrence, UpcomingOccurrences) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", "2030-01-25T17:00:00Z");
  const auto times = tx([&](pqxx::work& w) { return svc::occurrences(w, user, t.id, 10); });
  EXPECT_EQ(times, (std::vector<Instant>{at("2030-02-22T17:00:00Z"), at("2030-03-29T17:00:00Z"),
                                         at("2030-04-26T17:00:00Z")}));
}

// Skipping an after_completion occurrence is not completing it: the occurrence that replaces it comes one
// interval after the skipped one's due time (after now, when that is past), never earlier. (It came one
// interval after now: a week before the skipped one, and on the same date again at every skip, each using up
// an occurrence number.)
TEST_F(Recurrence, SkippingAnAfterCompletionOccurrenceNeverMovesItEarlier) {
  const auto user = new_user();
  const Task t =
      create(user, "FREQ=WEEKLY", "2030-03-04T09:00:00Z", "UTC", 0, tasks::RecurrenceMode::after_completion);
  auto skip = [&](const std::string& id) {
    tx([&](pqxx::work& w) {
      svc::remove(w, Actor(user), id, std::nullopt);
      return 0;
    });
    const auto open = open_of(series(user, t.id));
    if (open.size() != 1) throw std::runtime_error("expected one open occurrence");
    return open[0];
  };
  const Task second = skip(t.id);
  EXPECT_EQ(second.due_at, at("2030-03-11T09:00:00Z"));
  EXPECT_EQ(second.occurrence, 1);
  EXPECT_EQ(skip(second.id).due_at, at("2030-03-18T09:00:00Z"));
  // An overdue one: an interval after now, as a completion would.
  const Task late =
      create(user, "FREQ=WEEKLY", "2020-03-02T09:00:00Z", "UTC", 0, tasks::RecurrenceMode::after_completion);
  const Instant before = now();
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), late.id, std::nullopt);
    return 0;
  });
  const auto open = open_of(series(user, late.id));
  ASSERT_EQ(open.size(), 1u);
  EXPECT_GT(*open[0].due_at, before + date::days{6});
}

// Raising generate_ahead on an occurrence that is not the series' latest open one (PATCH scope=this) tops the
// series up at once, and the later open occurrences take the new value, which the ones created later keep.
// (The top-up took the latest open occurrence's old value: nothing was created, and the new value was lost.)
TEST_F(Recurrence, RaisingGenerateAheadOnAnEarlierOccurrenceTopsUp) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2027-01-04T09:00:00Z", "UTC", 1);
  tasks::TaskPatch p;
  p.generate_ahead = 4;
  const Task saved = tx([&](pqxx::work& w) { return svc::update(w, Actor(user), t.id, p, std::nullopt); });
  EXPECT_EQ(saved.generate_ahead, 4);
  auto open = open_of(series(user, t.id));
  ASSERT_EQ(open.size(), 5u);
  EXPECT_EQ(open.back().due_at, at("2027-01-08T09:00:00Z"));
  for (const auto& o : open)
    EXPECT_EQ(o.generate_ahead, 4) << "occurrence " << o.occurrence.value_or(-1);
  complete(user, t.id);
  open = open_of(series(user, t.id));
  ASSERT_EQ(open.size(), 5u);
  EXPECT_EQ(open.back().due_at, at("2027-01-09T09:00:00Z"));
  EXPECT_EQ(open.back().generate_ahead, 4);
}

// Lowering generate_ahead on an occurrence (PATCH scope=this) is the series' new value too: the later open
// occurrences take it, and completing does not top the series up until fewer than 1 + the new value are open.
// The occurrences already created stay. (The later ones kept the old value, and every completion created
// one.)
TEST_F(Recurrence, LoweringGenerateAheadOnAnEarlierOccurrenceReachesTheSeries) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2027-01-04T09:00:00Z", "UTC", 4);
  auto open = open_of(series(user, t.id));
  ASSERT_EQ(open.size(), 5u);
  tasks::TaskPatch p;
  p.generate_ahead = 1;
  const Task saved = tx([&](pqxx::work& w) { return svc::update(w, Actor(user), t.id, p, std::nullopt); });
  EXPECT_EQ(saved.generate_ahead, 1);
  open = open_of(series(user, t.id));
  ASSERT_EQ(open.size(), 5u) << "the occurrences already created stay";
  for (const auto& o : open)
    EXPECT_EQ(o.generate_ahead, 1) << "occurrence " << o.occurrence.value_or(-1);
  EXPECT_EQ(count_sql("SELECT count(*) FROM outbox WHERE user_id = $1 AND subject = $2 AND "
                      "type = 'com.todo.task.updated'",
                      user, open[4].id),
            1);
  for (int i = 0; i < 3; ++i)
    complete(user, open[i].id);
  const auto all = series(user, t.id);
  EXPECT_EQ(all.size(), 5u) << "two open, 1 + 1 ahead: nothing created";
  complete(user, open[3].id);
  const auto after = series(user, t.id);
  ASSERT_EQ(after.size(), 6u) << "one open: topped up to two";
  EXPECT_EQ(after.back().generate_ahead, 1);
}

// The upcoming occurrences of an occurrence from before a "this and following" edit are the series' real
// ones: the open occurrences after it, then those that completing would create. (They were computed from the
// task's own, old schedule.)
TEST_F(Recurrence, UpcomingOccurrencesOfAnEarlierOccurrenceFollowASeriesEdit) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2027-01-04T09:00:00Z", "UTC", 2);
  const auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  tasks::TaskPatch p;
  p.due_at = std::optional<Instant>(at("2027-01-05T14:00:00Z"));
  tx([&](pqxx::work& w) {
    return svc::update(w, Actor(user), all[1].id, p, std::nullopt, tasks::Scope::series);
  });
  const auto times = tx([&](pqxx::work& w) { return svc::occurrences(w, user, t.id, 3); });
  EXPECT_EQ(times, (std::vector<Instant>{at("2027-01-05T14:00:00Z"), at("2027-01-06T14:00:00Z"),
                                         at("2027-01-07T14:00:00Z")}));
  complete(user, t.id);
  const auto after = series(user, t.id);
  ASSERT_EQ(after.size(), 4u);
  EXPECT_EQ(after.back().due_at, at("2027-01-07T14:00:00Z")) << "what completing created";
}

// An occurrence completed early, before the ones ahead of it, is still an upcoming occurrence of the series:
// it is listed, with its state, among the open ones. (It was left out, and the list went on past it.)
TEST_F(Recurrence, UpcomingOccurrencesListTheOnesDoneEarly) {
  const auto user = new_user();
  const Task t = create(user, "FREQ=DAILY", "2031-01-01T09:00:00Z", "UTC", 2);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  complete(user, all[2].id);  // done early: occurrence 3 is created
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 4u);
  const auto list = tx([&](pqxx::work& w) { return svc::occurrence_list(w, user, t.id, 4); });
  const std::vector<svc::Occurrence> expected{
      {at("2031-01-02T09:00:00Z"), all[1].id, 1, Status::open},
      {at("2031-01-03T09:00:00Z"), all[2].id, 2, Status::done},
      {at("2031-01-04T09:00:00Z"), all[3].id, 3, Status::open},
      {at("2031-01-05T09:00:00Z"), std::nullopt, std::nullopt, std::nullopt},
  };
  EXPECT_EQ(list, expected);
  EXPECT_EQ(tx([&](pqxx::work& w) { return svc::occurrences(w, user, t.id, 4); }),
            (std::vector<Instant>{at("2031-01-02T09:00:00Z"), at("2031-01-03T09:00:00Z"),
                                  at("2031-01-04T09:00:00Z"), at("2031-01-05T09:00:00Z")}));
  // The highest occurrence done early, with none open after it (COUNT ended the series): no time listed
  // twice.
  const Task c = create(user, "FREQ=DAILY;COUNT=3", "2031-01-01T09:00:00Z", "UTC", 2);
  all = series(user, c.id);
  ASSERT_EQ(all.size(), 3u);
  complete(user, all[2].id);
  EXPECT_EQ(tx([&](pqxx::work& w) { return svc::occurrences(w, user, c.id, 10); }),
            (std::vector<Instant>{at("2031-01-02T09:00:00Z"), at("2031-01-03T09:00:00Z")}));
}

// An occurrence is on its schedule only at its own instant: moved for the series onto another instant of the
// rule (another occurrence's), or moved there earlier by a "this" edit, it starts a new schedule, and the
// following occurrences are made anew after it. (Any instant of the rule counted as on the schedule: the
// following ones were kept, two occurrences on one day.)
TEST_F(Recurrence, OnlyItsOwnInstantIsOnTheSchedule) {
  const auto user = new_user();
  auto edit = [&](const std::string& id, const tasks::TaskPatch& p, tasks::Scope scope) {
    return tx([&](pqxx::work& w) { return svc::update(w, Actor(user), id, p, std::nullopt, scope); });
  };
  tasks::TaskPatch move;
  move.due_at = std::optional<Instant>(at("2030-01-03T09:00:00Z"));  // occurrence 2's instant

  const Task t = create(user, "FREQ=DAILY", "2030-01-01T09:00:00Z", "UTC", 2);
  auto all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  edit(all[1].id, move, tasks::Scope::series);
  all = series(user, t.id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].due_at, at("2030-01-03T09:00:00Z"));
  EXPECT_EQ(all[2].due_at, at("2030-01-04T09:00:00Z")) << "made anew after the moved one";

  // Moved by a "this" edit, then a series-wide edit that resends that due_at (a client saving its form).
  const Task u = create(user, "FREQ=DAILY", "2030-01-01T09:00:00Z", "UTC", 2);
  all = series(user, u.id);
  ASSERT_EQ(all.size(), 3u);
  edit(all[1].id, move, tasks::Scope::this_occurrence);
  tasks::TaskPatch form = move;
  form.title = "Pay rent (moved)";
  edit(all[1].id, form, tasks::Scope::series);
  all = series(user, u.id);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].due_at, at("2030-01-04T09:00:00Z"));
  EXPECT_EQ(all[2].title, "Pay rent (moved)");

  // Its own instant, resent, keeps the following occurrences (ids and all).
  const auto before = series(user, u.id);
  edit(before[1].id, form, tasks::Scope::series);
  const auto after = series(user, u.id);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2].id, before[2].id);
  EXPECT_EQ(after[2].version, before[2].version);
}

// A series-wide edit of an after_completion series that does not change its schedule (a new title, sent with
// the occurrence's own due_at by a client saving its form) keeps the following occurrence: same id, same
// time, the new title. (It was always deleted and recreated, an interval after now.)
TEST_F(Recurrence, AfterCompletionSeriesEditWithoutAScheduleChangeKeepsTheFollowing) {
  const auto user = new_user();
  const Task t =
      create(user, "FREQ=WEEKLY", "2030-01-01T09:00:00Z", "UTC", 0, tasks::RecurrenceMode::after_completion);
  complete(user, t.id);
  const auto before = series(user, t.id);
  ASSERT_EQ(before.size(), 2u);
  tasks::TaskPatch form;
  form.title = "Water plants";
  form.due_at.emplace(before[0].due_at);
  form.recurrence.emplace(before[0].recurrence);
  form.recurrence_mode = tasks::RecurrenceMode::after_completion;
  tx([&](pqxx::work& w) {
    return svc::update(w, Actor(user), t.id, form, std::nullopt, tasks::Scope::series);
  });
  const auto after = series(user, t.id);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1].id, before[1].id) << "not recreated";
  EXPECT_EQ(after[1].due_at, before[1].due_at);
  EXPECT_EQ(after[1].title, "Water plants");
  EXPECT_EQ(after[0].title, "Water plants");
  // A real schedule change still makes it anew: a new rule.
  tasks::TaskPatch rule;
  rule.recurrence = std::optional<std::string>("FREQ=DAILY");
  tx([&](pqxx::work& w) {
    return svc::update(w, Actor(user), t.id, rule, std::nullopt, tasks::Scope::series);
  });
  const auto renewed = series(user, t.id);
  ASSERT_EQ(renewed.size(), 2u);
  EXPECT_NE(renewed[1].id, before[1].id);
  EXPECT_EQ(renewed[1].recurrence, "FREQ=DAILY");
}

// after_completion series end at year 9999, as fixed ones do: no occurrence time past it (which RFC 3339
// cannot write: "+10000-01-01T09:00:00Z" was listed).
TEST_F(Recurrence, AfterCompletionOccurrencesStopAtYear9999) {
  const auto user = new_user();
  for (const auto mode : {tasks::RecurrenceMode::after_completion, tasks::RecurrenceMode::fixed}) {
    const Task t = create(user, "FREQ=DAILY", "9999-12-30T09:00:00Z", "UTC", 0, mode);
    const auto times = tx([&](pqxx::work& w) { return svc::occurrences(w, user, t.id, 3); });
    EXPECT_EQ(times, (std::vector<Instant>{at("9999-12-31T09:00:00Z")}));
  }
}

// The occurrences list of an overdue after_completion task shows what completing it now creates: an interval
// after today, at the series' time of day, then an interval after each. (It went on from the task's past due
// time, on a schedule completing never follows: every 2 days from a due time 3 days and an hour ago, it
// listed 23 hours from now, while completing created the day after tomorrow.)
TEST_F(Recurrence, UpcomingOccurrencesOfAnOverdueAfterCompletionTaskAreWhatCompletingCreates) {
  const auto user = new_user();
  for (int attempt = 1;; ++attempt) {
    const Instant start = now();
    const Instant due =
        std::chrono::floor<std::chrono::seconds>(start) - date::days{3} - std::chrono::hours{1};
    const Task t = create(user, "FREQ=DAILY;INTERVAL=2", format_rfc3339(due).c_str(), "UTC", 0,
                          tasks::RecurrenceMode::after_completion);
    const auto list = tx([&](pqxx::work& w) { return svc::occurrence_list(w, user, t.id, 3); });
    complete(user, t.id);
    // Listed and completed on two dates (midnight in between): the completion rightly differs; once more.
    if (attempt == 1 && date::floor<date::days>(start) != date::floor<date::days>(now())) continue;
    const auto all = series(user, t.id);
    ASSERT_EQ(all.size(), 2u);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(format_rfc3339(list[0].due_at), format_rfc3339(*all[1].due_at)) << "listed, created";
    EXPECT_FALSE(list[0].task_id);
    EXPECT_EQ(list[1].due_at, list[0].due_at + date::days{2});
    EXPECT_EQ(list[2].due_at, list[0].due_at + date::days{4});
    // The created one's own list goes on from it in turn (it is not overdue: as if completed when due).
    const auto next = tx([&](pqxx::work& w) { return svc::occurrences(w, user, all[1].id, 2); });
    ASSERT_EQ(next.size(), 2u);
    EXPECT_EQ(format_rfc3339(next[0]), format_rfc3339(list[1].due_at));
    EXPECT_EQ(format_rfc3339(next[1]), format_rfc3339(list[2].due_at));
    break;
  }
}

// A task that leaves an ended series for a series of its own (a rule set again), or joins one (a plain task
// given a rule), records its new series_id and occurrence among the changes of its task.updated event and
// audit row, with the fields the request changed. (They were left out, though they changed.)
TEST_F(Recurrence, ChangesListTheSeriesATaskLeavesOrJoins) {
  const auto user = new_user();
  const auto last_changes = [&](const std::string& id) {
    return tx([&](pqxx::work& w) {
      const auto audit = w.exec_params(
          "SELECT changes::text FROM audit_log WHERE user_id = $1 AND task_id = $2 AND action = "
          "'task.updated' ORDER BY id DESC LIMIT 1",
          user, id);
      const auto event = w.exec_params(
          "SELECT event::text FROM outbox WHERE user_id = $1 AND subject = $2 AND type = "
          "'com.todo.task.updated' ORDER BY id DESC LIMIT 1",
          user, id);
      if (audit.empty() || event.empty()) throw std::runtime_error("no task.updated for " + id);
      return std::make_pair(nlohmann::json::parse(audit[0][0].c_str()),
                            nlohmann::json::parse(event[0][0].c_str())["data"]["changes"]);
    });
  };
  const Task t = create(user, "FREQ=DAILY", "2027-03-01T09:00:00Z");
  complete(user, t.id);
  complete(user, series(user, t.id)[1].id);
  const auto three = series(user, t.id);
  ASSERT_EQ(three.size(), 3u);
  tx([&](pqxx::work& w) {
    svc::remove(w, Actor(user), three[2].id, std::nullopt, tasks::Scope::series);
    return 0;
  });
  tasks::TaskPatch weekly;
  weekly.recurrence = std::optional<std::string>("FREQ=WEEKLY");
  const auto set_weekly = [&](const std::string& id) {
    return tx([&](pqxx::work& w) { return svc::update(w, Actor(user), id, weekly, std::nullopt); });
  };
  // The ended series' first task, with another task left in it: a new series id (its own is taken);
  // occurrence 0 in both, so not listed.
  const Task first = set_weekly(t.id);
  ASSERT_TRUE(first.series_id);
  ASSERT_NE(*first.series_id, t.id);
  const nlohmann::json renamed = {{"recurrence", {nullptr, "FREQ=WEEKLY"}},
                                  {"series_id", {t.id, *first.series_id}}};
  EXPECT_EQ(last_changes(t.id), std::make_pair(renamed, renamed));
  // Its second task: a series of its own, named by its id, numbered from 0.
  set_weekly(three[1].id);
  const nlohmann::json second = {
      {"recurrence", {nullptr, "FREQ=WEEKLY"}}, {"series_id", {t.id, three[1].id}}, {"occurrence", {1, 0}}};
  EXPECT_EQ(last_changes(three[1].id), std::make_pair(second, second));

  // A plain task given a rule starts a series: series_id and occurrence from null.
  tasks::NewTask plain;
  plain.title = "plain";
  plain.due_at = at("2027-03-01T09:00:00Z");
  plain.timezone = "UTC";
  const Task p = tx([&](pqxx::work& w) { return svc::create(w, Actor(user), plain); });
  set_weekly(p.id);
  const nlohmann::json joined = {
      {"recurrence", {nullptr, "FREQ=WEEKLY"}}, {"series_id", {nullptr, p.id}}, {"occurrence", {nullptr, 0}}};
  EXPECT_EQ(last_changes(p.id), std::make_pair(joined, joined));
}

// Migrations 0022 and 0024 on a database of version 21: tasks and audit rows stored as the server stored them
// before.
class SeriesMigration : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = fresh_database("series_0022");
    c_ = std::make_unique<pqxx::connection>(url_);
    ASSERT_EQ(db::migrate(*c_, 21), 21);
  }
  std::string new_user() {
    const std::string user = new_uuid();
    pqxx::work w(*c_);
    w.exec_params("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'hash')", user,
                  "user-" + user + "@example.com");
    w.commit();
    return user;
  }
  /// A task of series `series` (none: a plain task) with number `occurrence`, not stored yet.
  static Task build(const std::string& user, const std::optional<std::string>& series, int occurrence,
                    const char* due, Status status, const std::optional<std::string>& rule,
                    const std::string& id = new_uuid()) {
    Task t;
    t.id = id;
    t.user_id = user;
    t.title = "task";
    t.status = status;
    t.due_at = at(due);
    t.timezone = "UTC";
    t.recurrence = rule;
    t.series_id = series;
    if (series) t.occurrence = occurrence;
    return t;
  }
  static void store(pqxx::work& w, const Task& t) {
    w.exec_params(
        "INSERT INTO tasks (id, user_id, title, status, due_at, timezone, recurrence, series_id, occurrence, "
        "series_start, completed_at) VALUES ($1, $2, 'task', $3, $4::timestamptz, 'UTC', $5, $6::uuid, "
        "$7::integer, CASE WHEN $6::uuid IS NOT NULL THEN '2027-01-01T09:00:00Z'::timestamptz END, "
        "CASE WHEN $3 = 'done' THEN now() END)",
        t.id, t.user_id, std::string(tasks::to_string(t.status)), format_rfc3339(*t.due_at), t.recurrence,
        t.series_id, t.occurrence);
  }
  /// A stored task (see build()).
  Task add(const std::string& user, const std::optional<std::string>& series, int occurrence, const char* due,
           Status status, const std::optional<std::string>& rule, const std::string& id = new_uuid()) {
    const Task t = build(user, series, occurrence, due, status, rule, id);
    pqxx::work w(*c_);
    store(w, t);
    w.commit();
    return t;
  }
  /// One request's audit rows, written in one transaction as the server wrote them (they share `at`, the
  /// transaction's start): task.created and task.deleted with every field of the task ([null, value] and
  /// [value, null]), other actions with a change (which no migration reads). A created task is stored, a
  /// deleted one deleted.
  /// `as_jsonb`: the text migration 0013 made of a row stored before it as jsonb (`{"a": [1, null]}`).
  void request(const std::vector<std::pair<const char*, Task>>& rows, bool as_jsonb = false) {
    pqxx::work w(*c_);
    const std::string request_id = new_uuid();
    for (const auto& [action, t] : rows) {
      const std::string_view a(action);
      std::string changes = R"({"title":["task","renamed"]})";
      if (a == "task.created" || a == "task.deleted") {
        changes.clear();
        tasks::append_snapshot(changes, t, /*created=*/a == "task.created");
      }
      w.exec_params(
          "INSERT INTO audit_log (user_id, task_id, action, request_id, changes) VALUES ($1, $2, $3, "
          "$4, CASE WHEN $6 THEN $5::jsonb::json ELSE $5::json END)",
          t.user_id, t.id, std::string(a), request_id, changes, as_jsonb);
      if (a == "task.created") store(w, t);
      if (a == "task.deleted")
        w.exec_params("DELETE FROM tasks WHERE user_id = $1 AND id = $2", t.user_id, t.id);
    }
    w.commit();
  }
  /// A skip or a delete of one occurrence: its request wrote the task.deleted row only.
  void remove(const Task& t, bool as_jsonb = false) { request({{"task.deleted", t}}, as_jsonb); }
  using Row = std::tuple<std::string, std::string, int, std::string>;  // user, series, last, its due
  /// Migrates from version `from` to the newest; returns task_series's rows, ordered.
  std::vector<Row> migrated_rows(int from = 21) {
    EXPECT_EQ(db::migrate(*c_), static_cast<int>(db::embedded_migrations().size()) - from);
    std::vector<Row> rows;
    pqxx::work w(*c_);
    for (const auto& r :
         w.exec("SELECT user_id::text, series_id::text, last_occurrence, last_due_at FROM task_series "
                "ORDER BY user_id, series_id"))
      rows.emplace_back(r[0].c_str(), r[1].c_str(), r[2].as<int>(),
                        format_rfc3339(db::optional_instant(r[3]).value_or(Instant{})));
    return rows;
  }
  static std::vector<Row> sorted(std::vector<Row> rows) {
    std::sort(rows.begin(), rows.end());
    return rows;
  }

  std::string url_;
  std::unique_ptr<pqxx::connection> c_;
};

// Each user's series get their highest occurrence and its due time (the highest by number, which a "this"
// edit may have moved before a lower one); an ended series (its open occurrences deleted, the done ones
// without a rule) too; plain tasks none.
TEST_F(SeriesMigration, FillsTheHighestOccurrenceOfEachSeries) {
  const auto ada = new_user(), bob = new_user();
  const std::optional<std::string> monthly("FREQ=MONTHLY"), none;
  const std::string rent = new_uuid(), ended = new_uuid(), weekly = new_uuid();
  add(ada, rent, 0, "2027-01-01T09:00:00Z", Status::done, monthly, rent);
  add(ada, rent, 1, "2027-02-01T09:00:00Z", Status::open, monthly);
  add(ada, rent, 2, "2027-02-20T09:00:00Z", Status::open, monthly);
  add(ada, ended, 0, "2027-01-01T09:00:00Z", Status::done, none, ended);
  add(ada, ended, 1, "2027-01-02T09:00:00Z", Status::done, none);
  add(bob, weekly, 0, "2027-01-04T09:00:00Z", Status::open, std::string("FREQ=WEEKLY"), weekly);
  add(ada, std::nullopt, 0, "2027-05-01T09:00:00Z", Status::open, none);
  add(bob, std::nullopt, 0, "2027-05-01T09:00:00Z", Status::done, none);
  EXPECT_EQ(migrated_rows(), sorted({{ada, rent, 2, "2027-02-20T09:00:00Z"},
                                     {ada, ended, 1, "2027-01-02T09:00:00Z"},
                                     {bob, weekly, 0, "2027-01-04T09:00:00Z"}}));
}

// An occurrence skipped (or deleted) before 0022 stays skipped: 0024 raises the record to the highest one the
// audit log holds as deleted, with its due time, so the next completion does not bring it back. The series'
// last occurrence skipped (COUNT used up by it), a done one deleted (in a row stored before 0013, as jsonb),
// and a skip that the next occurrence replaced in its request (lower than that one: nothing to raise).
TEST_F(SeriesMigration, OccurrencesSkippedBeforeItStaySkipped) {
  const auto ada = new_user(), bob = new_user();
  const std::optional<std::string> three("FREQ=DAILY;COUNT=3"), weekly("FREQ=WEEKLY");
  const std::string rent = new_uuid(), gym = new_uuid(), walk = new_uuid();
  add(ada, rent, 0, "2027-01-01T09:00:00Z", Status::done, three, rent);
  const Task second = add(ada, rent, 1, "2027-01-02T09:00:00Z", Status::open, three);
  remove(add(ada, rent, 2, "2027-01-03T09:00:00Z", Status::open, three));
  add(ada, gym, 0, "2027-01-01T09:00:00Z", Status::done, weekly, gym);
  const Task skipped = add(ada, gym, 1, "2027-01-08T09:00:00Z", Status::open, weekly);
  request({{"task.created", build(ada, gym, 2, "2027-01-15T09:00:00Z", Status::open, weekly)},
           {"task.deleted", skipped}});
  add(bob, walk, 0, "2027-01-01T09:00:00Z", Status::done, weekly, walk);
  add(bob, walk, 1, "2027-01-08T09:00:00Z", Status::open, weekly);
  remove(add(bob, walk, 2, "2027-01-15T09:00:00Z", Status::done, weekly), /*as_jsonb=*/true);
  EXPECT_EQ(migrated_rows(), sorted({{ada, rent, 2, "2027-01-03T09:00:00Z"},
                                     {ada, gym, 2, "2027-01-15T09:00:00Z"},
                                     {bob, walk, 2, "2027-01-15T09:00:00Z"}}));

  // Completing the last occurrence left creates nothing: COUNT was used up by the skipped one.
  db::Pool pool(url_, 1);
  transact(pool, [&](pqxx::work& w) { return svc::complete(w, Actor(ada), second.id); });
  const auto left =
      transact(pool, [&](pqxx::work& w) { return tasks::repository::series_tasks(w, ada, rent); });
  EXPECT_EQ(dues(left), (Dues{{0, at("2027-01-01T09:00:00Z")}, {1, at("2027-01-02T09:00:00Z")}}));
}

// Deletes that were no skip are not counted: those of a request that also changed a task (a series-wide
// reschedule's, which the new schedule replaced; an undo of a completion, which took its occurrence back),
// one whose number the series gave again later (a reschedule after it), and those after 0022 (the server
// keeps the record from then on, and lowers it on purpose where a delete was no skip).
TEST_F(SeriesMigration, DeletesThatWereNoSkipAreNotCounted) {
  const auto ada = new_user();
  const std::optional<std::string> daily("FREQ=DAILY"), four("FREQ=DAILY;COUNT=4");
  const std::string moved = new_uuid(), undone = new_uuid(), renumbered = new_uuid(), later = new_uuid();
  // Made after_completion series-wide: the occurrences kept ahead were deleted, none created.
  const Task first = add(ada, moved, 0, "2027-01-01T09:00:00Z", Status::open, daily, moved);
  request({{"task.updated", first},
           {"task.deleted", add(ada, moved, 1, "2027-01-02T09:00:00Z", Status::open, daily)},
           {"task.deleted", add(ada, moved, 2, "2027-01-03T09:00:00Z", Status::open, daily)}});
  // A completion undone (chat): reopened, and the occurrence it created deleted.
  const Task reopened = add(ada, undone, 0, "2027-01-01T09:00:00Z", Status::open, daily, undone);
  request({{"task.reopened", reopened},
           {"task.deleted", add(ada, undone, 1, "2027-01-02T09:00:00Z", Status::open, daily)}});
  // The last occurrence skipped, then a reschedule from the second numbered its own from 2 again.
  add(ada, renumbered, 0, "2027-01-01T09:00:00Z", Status::done, four, renumbered);
  const Task from = add(ada, renumbered, 1, "2027-01-02T09:00:00Z", Status::open, four);
  const Task old = add(ada, renumbered, 2, "2027-01-03T09:00:00Z", Status::open, four);
  remove(add(ada, renumbered, 3, "2027-01-04T09:00:00Z", Status::open, four));
  request({{"task.updated", from},
           {"task.deleted", old},
           {"task.created", build(ada, renumbered, 2, "2027-01-05T09:00:00Z", Status::open, four)}});
  add(ada, later, 0, "2027-01-01T09:00:00Z", Status::open, daily, later);
  const Task ahead = add(ada, later, 1, "2027-01-02T09:00:00Z", Status::open, daily);
  ASSERT_EQ(db::migrate(*c_, 22), 1);
  remove(ahead);
  {
    pqxx::work w(*c_);
    w.exec_params(
        "UPDATE task_series SET last_occurrence = 0, last_due_at = '2027-01-01T09:00:00Z' "
        "WHERE user_id = $1 AND series_id = $2",
        ada, later);
    w.commit();
  }
  EXPECT_EQ(migrated_rows(22), sorted({{ada, moved, 0, "2027-01-01T09:00:00Z"},
                                       {ada, undone, 0, "2027-01-01T09:00:00Z"},
                                       {ada, renumbered, 2, "2027-01-05T09:00:00Z"},
                                       {ada, later, 0, "2027-01-01T09:00:00Z"}}));
}

}  // namespace
}  // namespace todo::test

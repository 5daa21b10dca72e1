// Integration: reminder SQL on a throwaway PostgreSQL — the repository and the triggers that keep reminders
// in step with their task, firing (outbox event, exactly once under concurrent claimers) and e-mail leases (a
// crashed replica's expired lease is taken over, a lost lease cannot mark delivered).
#include <date/tz.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "integration.hpp"
#include "todo/auth/users.hpp"
#include "todo/core/error.hpp"
#include "todo/core/ids.hpp"
#include "todo/events/outbox.hpp"
#include "todo/recurrence/zone.hpp"
#include "todo/reminders/queue.hpp"
#include "todo/reminders/service.hpp"
#include "todo/tasks/service.hpp"

namespace todo::test {
namespace {

using namespace std::chrono_literals;
using reminders::Reminder;
using tasks::service::Actor;

Instant at(const char* rfc3339) {
  return *parse_rfc3339(rfc3339);
}

class RemindersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { url_ = migrated_database(fresh_database("reminders")); }

  void SetUp() override {
    conn_ = std::make_unique<pqxx::connection>(url_);
    db::prepare_session(*conn_);
    user_ = make_user();
  }

  std::string make_user(bool email = false) {
    pqxx::work w(*conn_);
    auth::Registration r;
    r.email = "u" + new_uuid().substr(0, 12) + "@example.com";
    r.display_name = "Ann";
    r.timezone = "UTC";
    auto u = auth::users::insert(w, r, "x");
    if (email) {
      auth::ProfilePatch p;
      p.email_reminders = true;
      auth::users::update_profile(w, u.id, p);
    }
    w.commit();
    return u.id;
  }

  std::string make_task(const std::string& user, std::optional<Instant> due,
                        const std::string& zone = "UTC") {
    pqxx::work w(*conn_);
    tasks::NewTask t;
    t.title = "pay rent";
    t.due_at = due;
    t.timezone = zone;
    auto task = tasks::service::create(w, Actor(user), t);
    w.commit();
    return task.id;
  }

  template <class F>
  auto tx(F fn) {
    pqxx::work w(*conn_);
    if constexpr (std::is_void_v<decltype(fn(w))>) {
      fn(w);
      w.commit();
    } else {
      auto r = fn(w);
      w.commit();
      return r;
    }
  }

  /// What the outbox relay does, without Kafka: claims (and so numbers) every pending event and marks it
  /// published.
  void publish_all() {
    const std::vector<int> lanes = all_lanes();
    for (;;) {
      const auto n = tx([&](pqxx::work& w) {
        const auto claimed = events::claim_pending(w, lanes, 1000);
        std::vector<std::int64_t> ids;
        for (const auto& e : claimed)
          ids.push_back(e.id);
        events::mark_published(w, ids);
        return claimed.size();
      });
      if (n == 0) return;
    }
  }

  Reminder add(const std::string& user, const std::string& task, const std::string& body) {
    const auto input = reminders::parse_new_reminder(nlohmann::json::parse(body));
    return tx([&](pqxx::work& w) { return reminders::create(w, user, task, input); });
  }

  Reminder get(const std::string& user, const std::string& id) {
    return *tx([&](pqxx::work& w) { return reminders::repository::find(w, user, id); });
  }

  void patch_due(const std::string& user, const std::string& task, std::optional<Instant> due) {
    tasks::TaskPatch p;
    p.due_at = due;
    tx([&](pqxx::work& w) { tasks::service::update(w, Actor(user), task, p, std::nullopt); });
  }

  void complete(const std::string& user, const std::string& task) {
    tx([&](pqxx::work& w) { tasks::service::complete(w, Actor(user), task); });
  }

  void reopen(const std::string& user, const std::string& task) {
    tx([&](pqxx::work& w) { tasks::service::reopen(w, Actor(user), task); });
  }

  /// Fires every scheduled reminder of the user now, without e-mail; the ones fired.
  std::vector<reminders::queue::Fired> fire_all_now(const std::string& user) {
    make_due(user);
    return tx([&](pqxx::work& w) { return reminders::queue::fire_due(w, 100, false); });
  }

  /// Makes every scheduled reminder of the user due now (fire_at in the past).
  void make_due(const std::string& user) {
    tx([&](pqxx::work& w) {
      w.exec_params(
          "UPDATE reminders SET fire_at = now() - interval '1 second' WHERE user_id = $1 AND "
          "state = 'scheduled'",
          user);
    });
  }

  long count(const std::string& sql, const std::string& param) {
    pqxx::nontransaction n(*conn_);
    return n.exec_params(sql, param)[0][0].as<long>();
  }

  inline static std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
  std::string user_;
};

TEST_F(RemindersTest, AbsoluteAndRelativeFireTimes) {
  const auto task = make_task(user_, at("2030-06-01T09:00:00Z"));
  auto a = add(user_, task, R"({"at": "2030-05-31T20:00:00+02:00"})");
  EXPECT_EQ(a.state, "scheduled");
  EXPECT_EQ(a.fire_at, at("2030-05-31T18:00:00Z"));
  auto r = add(user_, task, R"({"before_due": "PT90M"})");
  EXPECT_EQ(r.before_due, "PT1H30M");
  EXPECT_EQ(r.fire_at, at("2030-06-01T07:30:00Z"));
  const auto listed = tx([&](pqxx::work& w) { return reminders::list_for_task(w, user_, task); });
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, a.id);
  EXPECT_EQ(listed[1].id, r.id);
}

TEST_F(RemindersTest, RelativeDaysAreCalendarDaysInTheTasksZone) {
  // Berlin moves to summer time on 2026-03-29 at 02:00: 09:00 that day is 07:00Z, the day before 08:00Z.
  const auto task = make_task(user_, at("2026-03-29T07:00:00Z"), "Europe/Berlin");
  EXPECT_EQ(add(user_, task, R"({"before_due": "P1D"})").fire_at, at("2026-03-28T08:00:00Z"));
  EXPECT_EQ(add(user_, task, R"({"before_due": "PT24H"})").fire_at, at("2026-03-28T07:00:00Z"));
}

// CET, EET, MET and WET are zones with summer time in the tz database (as recurrence::Zone reads them) and
// fixed-offset abbreviations in PostgreSQL's pg_timezone_abbrevs, which `AT TIME ZONE` used to prefer: a task
// in CET had its reminders an hour off in summer, while Europe/Berlin's were right.
TEST_F(RemindersTest, ZonesNamedLikeAbbreviationsKeepTheirSummerTime) {
  for (const char* zone : {"CET", "MET", "Europe/Berlin"}) {
    SCOPED_TRACE(zone);
    const auto task = make_task(user_, at("2027-03-28T07:00:00Z"), zone);  // 09:00 CEST
    EXPECT_EQ(add(user_, task, R"({"before_due": "P1D"})").fire_at, at("2027-03-27T08:00:00Z"));
  }
  const auto wet = make_task(user_, at("2027-04-01T08:00:00Z"), "WET");  // 09:00 WEST
  EXPECT_EQ(add(user_, wet, R"({"before_due": "P1M"})").fire_at, at("2027-03-01T09:00:00Z"));
  const auto eet = make_task(user_, at("2027-10-31T07:00:00Z"), "EET");  // 09:00 EET, the day after DST
  EXPECT_EQ(add(user_, eet, R"({"before_due": "P1D"})").fire_at, at("2027-10-30T06:00:00Z"));
  // A snooze takes its calendar part in the zone as well (the function it uses, on a fixed instant).
  pqxx::nontransaction n(*conn_);
  EXPECT_EQ(n.exec("SELECT reminder_shift('2027-03-27 08:00:00+00', 'CET', 'P1D', 1) = "
                   "'2027-03-28 07:00:00+00'")[0][0]
                .as<bool>(),
            true);
  // An all-day task's day (the overdue filter's end of day).
  EXPECT_EQ(n.exec("SELECT all_day_end('2027-07-01 10:00:00+00', 'CET') = '2027-07-01 22:00:00+00'")[0][0]
                .as<bool>(),
            true);
}

// The SQL side reads every zone as recurrence::Zone does: instants to wall times and back (the first instant
// of a repeated wall time, a skipped one moved forward by the gap), before and after 2037.
TEST_F(RemindersTest, SqlZonesAgreeWithRecurrenceZones) {
  using namespace std::chrono;
  pqxx::nontransaction n(*conn_);
  for (const char* name : {"CET", "EET", "MET", "WET", "EST", "HST", "MST", "EST5EDT", "UTC", "Zulu",
                           "Europe/Berlin", "America/New_York", "Australia/Sydney"}) {
    SCOPED_TRACE(name);
    const auto& zone = recurrence::zone(name);
    for (const int year : {1980, 2027, 2045}) {
      for (int month = 1; month <= 12; ++month) {
        for (const int hour : {0, 1, 2, 3}) {
          // Instants around the usual change hours on the last Sunday of the month and the 15th.
          for (const date::sys_days day :
               {date::sys_days(date::year_month_day(date::year(year), date::month(month), date::day(15))),
                date::sys_days(date::year_month_weekday_last(date::year(year), date::month(month),
                                                             date::Sunday[date::last]))}) {
            const Instant t = time_point_cast<microseconds>(day + hours(hour) + minutes(30));
            const auto wall =
                static_cast<long long>(duration_cast<seconds>(zone.to_local(t).time_since_epoch()).count());
            const auto epoch = static_cast<long long>(duration_cast<seconds>(t.time_since_epoch()).count());
            const auto row = n.exec_params(
                "SELECT extract(epoch FROM to_timestamp($1) AT TIME ZONE tz_file($2))::bigint, "
                "extract(epoch FROM wall_time_first_instant(to_timestamp($1) AT TIME ZONE 'UTC', "
                "$2))::bigint",
                epoch, name)[0];
            EXPECT_EQ(row[0].as<long long>(), wall) << format_rfc3339(t);
            const auto first =
                zone.to_instant(recurrence::LocalTime(duration_cast<microseconds>(seconds(epoch))));
            EXPECT_EQ(row[1].as<long long>(), duration_cast<seconds>(first.time_since_epoch()).count())
                << "wall time " << format_rfc3339(t);
          }
        }
      }
    }
  }
}

// Wall times around every change of a zone's offset, however large: Casey's 3-hour fall-backs (2009-2023),
// Lord Howe's 30-minute DST, Kathmandu's +05:30 → +05:45, Juneau's repeated day of 1867 (+15:02 → -08:57).
// The first instant of a repeated wall time is the same in SQL as in recurrence::Zone.
TEST_F(RemindersTest, SqlFirstInstantsAgreeAcrossLargeOffsetChanges) {
  using namespace std::chrono;
  pqxx::nontransaction n(*conn_);
  for (const char* name : {"Antarctica/Casey", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Juneau"}) {
    SCOPED_TRACE(name);
    const auto& zone = recurrence::zone(name);
    const date::time_zone* tz = date::locate_zone(name);
    auto info = tz->get_info(date::sys_seconds{date::sys_days{date::year{1850} / 1 / 1}});
    int changes = 0;
    while (info.end < date::sys_seconds{date::sys_days{date::year{2030} / 1 / 1}}) {
      const auto change = info.end;
      const auto before = info.offset;
      info = tz->get_info(change);
      if (info.offset >= before) continue;  // only fall-backs repeat wall times
      ++changes;
      const auto reach = before - info.offset + hours{1};
      for (auto t = change - reach; t <= change + reach; t += minutes{30}) {
        const auto epoch = static_cast<long long>(t.time_since_epoch().count());
        const auto wall = zone.to_local(time_point_cast<microseconds>(t));
        const auto first = zone.to_instant(wall);
        const auto sql = n.exec_params(
            "SELECT extract(epoch FROM wall_time_first_instant(to_timestamp($1) AT TIME ZONE tz_file($2), "
            "$2))::bigint",
            epoch, name)[0][0];
        EXPECT_EQ(sql.as<long long>(), duration_cast<seconds>(first.time_since_epoch()).count())
            << "wall time of " << format_rfc3339(time_point_cast<microseconds>(t));
      }
    }
    EXPECT_GT(changes, 0);
  }
}

TEST_F(RemindersTest, RelativeRemindersFollowDueAt) {
  const auto task = make_task(user_, std::nullopt);
  auto r = add(user_, task, R"({"before_due": "PT15M"})");
  auto a = add(user_, task, R"({"at": "2031-01-01T00:00:00Z"})");
  EXPECT_FALSE(r.fire_at);  // no due date yet: nothing to fire
  patch_due(user_, task, at("2031-02-01T10:00:00Z"));
  EXPECT_EQ(get(user_, r.id).fire_at, at("2031-02-01T09:45:00Z"));
  EXPECT_EQ(get(user_, a.id).fire_at, at("2031-01-01T00:00:00Z"));  // absolute ones stay
  patch_due(user_, task, at("2031-03-01T10:00:00Z"));
  EXPECT_EQ(get(user_, r.id).fire_at, at("2031-03-01T09:45:00Z"));
  patch_due(user_, task, std::nullopt);
  EXPECT_FALSE(get(user_, r.id).fire_at);
  EXPECT_EQ(get(user_, r.id).state, "scheduled");
}

TEST_F(RemindersTest, DeliveredRelativeReminderIsArmedAgainWhenDueMovesLater) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  auto r = add(user_, task, R"({"before_due": "PT15M"})");
  make_due(user_);
  tx([&](pqxx::work& w) { reminders::queue::fire_due(w, 100, false); });
  EXPECT_EQ(get(user_, r.id).state, "delivered");
  patch_due(user_, task, at("2031-04-01T10:00:00Z"));
  const auto again = get(user_, r.id);
  EXPECT_EQ(again.state, "scheduled");
  EXPECT_EQ(again.fire_at, at("2031-04-01T09:45:00Z"));
  EXPECT_FALSE(again.fired_at);
  EXPECT_FALSE(again.delivered_at) << "not delivered at its new time";
}

// A reminder whose time passed while its task was done is missed when the task is reopened (it waited
// cancelled, as if the task were still done); moving the task's due date (or removing it) then arms it again.
// (It took the new time but stayed cancelled, and never fired.)
TEST_F(RemindersTest, MissedReminderOfAReopenedTaskIsArmedWhenDueMoves) {
  const auto task = make_task(user_, at("2020-02-01T10:00:00Z"));
  const auto r = add(user_, task, R"({"before_due": "PT15M"})");
  complete(user_, task);
  EXPECT_EQ(get(user_, r.id).state, "cancelled") << "its task is done";
  reopen(user_, task);
  EXPECT_EQ(get(user_, r.id).state, "missed") << "its time passed while the task was done";
  EXPECT_TRUE(fire_all_now(user_).empty()) << "a missed reminder never fires";
  patch_due(user_, task, at("2020-03-01T10:00:00Z"));
  EXPECT_EQ(get(user_, r.id).state, "missed") << "a past time, as reopening would leave it";
  EXPECT_TRUE(fire_all_now(user_).empty());
  patch_due(user_, task, at("2031-03-01T10:00:00Z"));
  auto s = get(user_, r.id);
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_EQ(s.fire_at, at("2031-03-01T09:45:00Z"));

  // Without a due date and back.
  const auto task2 = make_task(user_, at("2020-02-01T10:00:00Z"));
  const auto r2 = add(user_, task2, R"({"before_due": "PT15M"})");
  complete(user_, task2);
  reopen(user_, task2);
  patch_due(user_, task2, std::nullopt);
  s = get(user_, r2.id);
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_FALSE(s.fire_at);
  patch_due(user_, task2, at("2031-03-01T10:00:00Z"));
  s = get(user_, r2.id);
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_EQ(s.fire_at, at("2031-03-01T09:45:00Z"));
  const auto fired = fire_all_now(user_);
  EXPECT_TRUE(std::any_of(fired.begin(), fired.end(), [&](const auto& f) { return f.id == r2.id; }));

  // While the task is done it waits cancelled at the new time, and reopening restores it.
  const auto task3 = make_task(user_, at("2031-02-01T10:00:00Z"));
  const auto r3 = add(user_, task3, R"({"before_due": "PT15M"})");
  complete(user_, task3);
  patch_due(user_, task3, at("2031-04-01T10:00:00Z"));
  s = get(user_, r3.id);
  EXPECT_EQ(s.state, "cancelled");
  EXPECT_EQ(s.fire_at, at("2031-04-01T09:45:00Z"));
  reopen(user_, task3);
  EXPECT_EQ(get(user_, r3.id).state, "scheduled");
}

// A move of its task that puts a reminder at a time already past never fires it late, whatever its state: it
// is missed at that time (it waited cancelled, as if its task were done), as a reopened task's reminder whose
// time passed is, and a later move to a time still to come arms it again. (A scheduled one took the past time
// and fired at once, while a cancelled one stayed cancelled.) Copies to another occurrence follow the same
// rule; a copy to a done occurrence is cancelled.
TEST_F(RemindersTest, AMoveIntoThePastNeverFiresLate) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  const auto r = add(user_, task, R"({"before_due": "PT15M"})");
  ASSERT_EQ(get(user_, r.id).state, "scheduled");
  patch_due(user_, task, at("2020-02-01T10:00:00Z"));
  auto s = get(user_, r.id);
  EXPECT_EQ(s.state, "missed") << "its new time has passed: missed, not fired late";
  EXPECT_EQ(s.fire_at, at("2020-02-01T09:45:00Z"));
  EXPECT_TRUE(fire_all_now(user_).empty());
  EXPECT_EQ(
      count("SELECT count(*) FROM outbox WHERE subject = $1 AND type = 'com.todo.reminder.fired'", task), 0);
  patch_due(user_, task, at("2031-03-01T10:00:00Z"));
  s = get(user_, r.id);
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_EQ(s.fire_at, at("2031-03-01T09:45:00Z"));

  // Copied to an occurrence due so soon that the offset is already past.
  const auto soon = make_task(user_, now() + std::chrono::hours(1));
  add(user_, task, R"({"before_due": "P1D"})");
  EXPECT_EQ(tx([&](pqxx::work& w) { return reminders::copy_relative(w, user_, task, soon); }), 2);
  std::map<std::string, std::string> states, ids;
  for (const auto& c : tx([&](pqxx::work& w) { return reminders::list_for_task(w, user_, soon); })) {
    states[*c.before_due] = c.state;
    ids[*c.before_due] = c.id;
  }
  EXPECT_EQ(states, (std::map<std::string, std::string>{{"P1D", "missed"}, {"PT15M", "scheduled"}}));
  std::set<std::string> fired;
  for (const auto& f : fire_all_now(user_))
    fired.insert(f.id);
  EXPECT_TRUE(fired.contains(ids["PT15M"]));
  EXPECT_FALSE(fired.contains(ids["P1D"])) << "a missed copy never fires";
  EXPECT_EQ(get(user_, ids["P1D"]).state, "missed");

  const auto done = make_task(user_, now() + std::chrono::hours(1));
  complete(user_, done);
  EXPECT_EQ(tx([&](pqxx::work& w) { return reminders::copy_relative(w, user_, task, done); }), 2);
  for (const auto& c : tx([&](pqxx::work& w) { return reminders::list_for_task(w, user_, done); }))
    EXPECT_EQ(c.state, "cancelled") << *c.before_due << ": its task is done";
}

// A reminder whose time passed without firing while its task was open is missed, not cancelled (cancelled
// is for a done task's reminders): it never fires, is not upcoming, is cancelled while its task is done and
// missed again once reopened, and a snooze schedules it again. (It waited cancelled, so a client could not
// tell it from one cancelled because its task was done.)
TEST_F(RemindersTest, MissedIsNotCancelled) {
  const auto user = make_user();
  const auto task = make_task(user, at("2031-02-01T10:00:00Z"));
  complete(user, task);
  const auto r = add(user, task, R"({"at": "2020-01-01T00:00:00Z"})");
  EXPECT_EQ(r.state, "cancelled") << "added to a done task";
  reopen(user, task);
  EXPECT_EQ(get(user, r.id).state, "missed") << "its time passed while the task was done";
  const auto future = add(user, task, R"({"before_due": "PT15M"})");
  auto list = [&](bool upcoming) {
    std::map<std::string, std::string> out;
    for (const auto& x : tx([&](pqxx::work& w) {
                           return reminders::repository::list(w, user, upcoming, 100, std::nullopt);
                         }).items)
      out[x.id] = x.state;
    return out;
  };
  EXPECT_EQ(list(true), (std::map<std::string, std::string>{{future.id, "scheduled"}}));
  EXPECT_EQ(list(false), (std::map<std::string, std::string>{{r.id, "missed"}, {future.id, "scheduled"}}));
  complete(user, task);
  EXPECT_EQ(list(false), (std::map<std::string, std::string>{{r.id, "cancelled"}, {future.id, "cancelled"}}))
      << "a done task's reminders are cancelled, missed ones too";
  reopen(user, task);
  EXPECT_EQ(list(false), (std::map<std::string, std::string>{{r.id, "missed"}, {future.id, "scheduled"}}));
  tx([&](pqxx::work& w) { w.exec_params("DELETE FROM reminders WHERE id = $1", future.id); });
  for (const auto& f : fire_all_now(user))
    EXPECT_NE(f.user_id, user) << "a missed reminder never fires";
  EXPECT_EQ(get(user, r.id).state, "missed");
  EXPECT_EQ(
      count("SELECT count(*) FROM outbox WHERE user_id = $1 AND type = 'com.todo.reminder.fired'", user), 0);

  // A snooze schedules it again, at now + the duration, and it fires then.
  const auto before = now();
  const auto s = tx([&](pqxx::work& w) { return reminders::snooze(w, user, r.id, {0, 0, 600}); });
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_TRUE(s.snoozed);
  ASSERT_TRUE(s.fire_at);
  EXPECT_GE(*s.fire_at, before + 600s - 1s);
  EXPECT_LE(*s.fire_at, now() + 600s + 1s);
  std::vector<std::string> fired;
  for (const auto& f : fire_all_now(user))
    if (f.user_id == user) fired.push_back(f.id);
  EXPECT_EQ(fired, std::vector<std::string>{r.id});
  EXPECT_EQ(get(user, r.id).state, "delivered");
}

// A relative reminder added to an occurrence is added to the open ones created ahead of it; one whose offset
// time has already passed there is missed (it was cancelled, as if that occurrence were done).
TEST_F(RemindersTest, AReminderAddedAheadWhoseTimePassedIsMissed) {
  const auto user = make_user();
  tasks::NewTask t;
  t.title = "standup";
  t.due_at = now() + 1h;
  t.timezone = "UTC";
  t.recurrence = "FREQ=DAILY";
  t.generate_ahead = 2;
  const auto first = tx([&](pqxx::work& w) { return tasks::service::create(w, Actor(user), t); });
  // Occurrences at +1 h, +1 d 1 h, +2 d 1 h: 26 hours before them is past, past, and 23 hours ahead.
  const auto added = add(user, first.id, R"({"before_due": "P1DT2H"})");
  EXPECT_EQ(added.state, "scheduled") << "asked for now, on the occurrence itself: fires at once";
  std::vector<std::pair<Instant, std::string>> others;
  for (const auto& x : tx([&](pqxx::work& w) {
                         return reminders::repository::list(w, user, false, 100, std::nullopt);
                       }).items)
    if (x.id != added.id) others.emplace_back(*x.fire_at, x.state);
  std::sort(others.begin(), others.end());
  ASSERT_EQ(others.size(), 2u);
  EXPECT_EQ(others[0].second, "missed");
  EXPECT_LT(others[0].first, now());
  EXPECT_EQ(others[1].second, "scheduled");
  EXPECT_GT(others[1].first, now());
  // Due at once, it would be fired by the next test's scheduler calls.
  tx([&](pqxx::work& w) { reminders::remove(w, user, first.id, added.id); });
}

// Moving a done task's due date (or its zone) does not arm its delivered reminders again for the done task:
// they wait cancelled at the new time, and reopening restores them. (They were scheduled again and fired.)
TEST_F(RemindersTest, DeliveredReminderOfADoneTaskIsNotArmedByADueMove) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  const auto r = add(user_, task, R"({"before_due": "PT15M"})");
  fire_all_now(user_);
  ASSERT_EQ(get(user_, r.id).state, "delivered");
  complete(user_, task);
  patch_due(user_, task, at("2031-04-01T10:00:00Z"));
  auto s = get(user_, r.id);
  EXPECT_EQ(s.state, "cancelled");
  EXPECT_EQ(s.fire_at, at("2031-04-01T09:45:00Z"));
  EXPECT_FALSE(s.delivered_at);
  reopen(user_, task);
  EXPECT_EQ(get(user_, r.id).state, "scheduled");

  // A zone change of a done task, likewise.
  const auto task2 = make_task(user_, at("2031-02-01T10:00:00Z"));
  const auto r2 = add(user_, task2, R"({"before_due": "P1D"})");
  fire_all_now(user_);
  ASSERT_EQ(get(user_, r2.id).state, "delivered");
  complete(user_, task2);
  tasks::TaskPatch p;
  p.timezone = "Europe/Berlin";
  tx([&](pqxx::work& w) { tasks::service::update(w, Actor(user_), task2, p, std::nullopt); });
  s = get(user_, r2.id);
  EXPECT_EQ(s.state, "cancelled");
  EXPECT_EQ(s.fire_at, at("2031-01-31T10:00:00Z"));
  EXPECT_TRUE(fire_all_now(user_).empty());
  EXPECT_EQ(
      count("SELECT count(*) FROM outbox WHERE subject = $1 AND type = 'com.todo.reminder.fired'", task2), 1);
}

TEST_F(RemindersTest, CompletingCancelsReopeningRestoresDeletingRemoves) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  auto r = add(user_, task, R"({"before_due": "PT15M"})");
  tx([&](pqxx::work& w) { tasks::service::complete(w, Actor(user_), task); });
  EXPECT_EQ(get(user_, r.id).state, "cancelled");
  // A reminder added to a done task starts cancelled.
  EXPECT_EQ(add(user_, task, R"({"before_due": "PT5M"})").state, "cancelled");
  tx([&](pqxx::work& w) { tasks::service::reopen(w, Actor(user_), task); });
  EXPECT_EQ(get(user_, r.id).state, "scheduled");
  tx([&](pqxx::work& w) { tasks::service::remove(w, Actor(user_), task, std::nullopt); });
  EXPECT_EQ(count("SELECT count(*) FROM reminders WHERE task_id = $1", task), 0);
}

TEST_F(RemindersTest, OtherUsersSeeNothing) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  auto r = add(user_, task, R"({"before_due": "PT15M"})");
  const auto other = make_user();
  auto code = [&](auto fn) -> std::optional<Errc> {
    try {
      tx(fn);
    } catch (const Error& e) {
      return e.code();
    }
    return std::nullopt;
  };
  EXPECT_EQ(code([&](pqxx::work& w) { reminders::list_for_task(w, other, task); }), Errc::not_found);
  EXPECT_EQ(code([&](pqxx::work& w) {
              reminders::create(w, other, task, reminders::parse_new_reminder({{"before_due", "PT1M"}}));
            }),
            Errc::not_found);
  EXPECT_EQ(code([&](pqxx::work& w) { reminders::remove(w, other, task, r.id); }), Errc::not_found);
  EXPECT_EQ(code([&](pqxx::work& w) { reminders::snooze(w, other, r.id, {0, 0, 60}); }), Errc::not_found);
  const auto page =
      tx([&](pqxx::work& w) { return reminders::repository::list(w, other, false, 100, std::nullopt); });
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(get(user_, r.id).state, "scheduled");
}

TEST_F(RemindersTest, AtMostTenPerTask) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  for (int i = 0; i < reminders::kMaxPerTask; ++i)
    add(user_, task, R"({"before_due": "PT)" + std::to_string(i + 1) + R"(M"})");
  try {
    add(user_, task, R"({"before_due": "PT30M"})");
    FAIL() << "the 11th reminder was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unprocessable);
  }
}

TEST_F(RemindersTest, SnoozeSchedulesAgain) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  auto r = add(user_, task, R"({"before_due": "PT15M"})");
  make_due(user_);
  tx([&](pqxx::work& w) { reminders::queue::fire_due(w, 100, false); });
  ASSERT_EQ(get(user_, r.id).state, "delivered");
  const auto before = now();
  auto s = tx([&](pqxx::work& w) { return reminders::snooze(w, user_, r.id, {0, 0, 600}); });
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_TRUE(s.snoozed);
  ASSERT_TRUE(s.fire_at);
  EXPECT_GE(*s.fire_at, before + 600s - 1s);
  EXPECT_LE(*s.fire_at, now() + 600s + 1s);
  // Done task: 409.
  tx([&](pqxx::work& w) { tasks::service::complete(w, Actor(user_), task); });
  try {
    tx([&](pqxx::work& w) { reminders::snooze(w, user_, r.id, {0, 0, 600}); });
    FAIL() << "snoozed a reminder of a done task";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::conflict);
  }
}

// A snooze that meets a completion still in flight waits for it, and then sees the task done: the reminder
// stays cancelled. (The snooze used to read the task unlocked: it waited only on the reminder row, took the
// task's open status from before the completion, and armed the cancelled reminder again, which then fired.)
TEST_F(RemindersTest, SnoozeRacingACompletionLeavesTheReminderCancelled) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  auto r = add(user_, task, R"({"before_due": "PT15M"})");
  pqxx::connection completer(url_);
  db::prepare_session(completer);
  pqxx::work completing(completer);
  tasks::service::complete(completing, Actor(user_), task);  // not committed yet

  pqxx::connection snoozer(url_);
  db::prepare_session(snoozer);
  const int snoozer_pid = snoozer.backendpid();
  std::optional<Errc> snooze_error;
  bool snoozed = false;
  std::thread snooze([&] {
    try {
      pqxx::work w(snoozer);
      reminders::snooze(w, user_, r.id, {0, 0, 600});
      w.commit();
      snoozed = true;
    } catch (const Error& e) {
      snooze_error = e.code();
    }
  });
  // Until the snooze waits for a lock the completion holds.
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {
    pqxx::nontransaction n(*conn_);
    waiting =
        n.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                       snoozer_pid)[0]
            .as<int>() == 1;
    if (!waiting) std::this_thread::sleep_for(10ms);
  }
  completing.commit();
  snooze.join();
  EXPECT_TRUE(waiting) << "the snooze never waited for the completion";
  EXPECT_FALSE(snoozed) << "snoozed a reminder of a task completed meanwhile";
  EXPECT_EQ(snooze_error, Errc::conflict);
  EXPECT_EQ(get(user_, r.id).state, "cancelled");
}

TEST_F(RemindersTest, UpcomingListPages) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  std::vector<std::string> expected;
  for (int i = 10; i >= 1; --i)
    expected.insert(expected.begin(),
                    add(user_, task, R"({"before_due": "PT)" + std::to_string(i) + R"(M"})").id);
  // Ordered by fire time: PT10M first.
  std::reverse(expected.begin(), expected.end());
  const auto task2 = make_task(user_, std::nullopt);
  const auto undated = add(user_, task2, R"({"before_due": "PT1M"})");
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = tx([&](pqxx::work& w) { return reminders::repository::list(w, user_, true, 3, cursor); });
    for (const auto& r : page.items)
      seen.push_back(r.id);
    if (!page.next_cursor) break;
    cursor = page.next_cursor;
  }
  std::sort(expected.begin(), expected.end(), [&](const std::string& a, const std::string& b) {
    return get(user_, a).fire_at < get(user_, b).fire_at;
  });
  EXPECT_EQ(seen, expected);  // the undated one is not upcoming
  auto all =
      tx([&](pqxx::work& w) { return reminders::repository::list(w, user_, false, 100, std::nullopt); });
  ASSERT_EQ(all.items.size(), 11u);
  EXPECT_EQ(all.items.back().id, undated.id);  // no fire time: last
}

TEST_F(RemindersTest, CopyRelativeToNextOccurrence) {
  const auto from = make_task(user_, at("2031-02-01T10:00:00Z"));
  add(user_, from, R"({"before_due": "PT15M"})");
  add(user_, from, R"({"before_due": "P1D"})");
  add(user_, from, R"({"at": "2031-01-01T00:00:00Z"})");
  const auto to = make_task(user_, at("2031-02-08T10:00:00Z"));
  const auto before = std::chrono::floor<std::chrono::milliseconds>(now());
  EXPECT_EQ(tx([&](pqxx::work& w) { return reminders::copy_relative(w, user_, from, to); }), 2);
  const auto after = now();
  auto copied = tx([&](pqxx::work& w) { return reminders::list_for_task(w, user_, to); });
  ASSERT_EQ(copied.size(), 2u);
  std::set<std::string> fire;
  for (const auto& r : copied) {
    EXPECT_EQ(r.state, "scheduled");
    // A time-ordered id, as every id the server gives: version 7, the RFC 9562 variant, the copy's time.
    ASSERT_TRUE(is_uuid(r.id)) << r.id;
    EXPECT_EQ(r.id[14], '7') << r.id;
    EXPECT_NE(std::string("89ab").find(r.id[19]), std::string::npos) << r.id;
    const Instant minted{
        std::chrono::milliseconds{std::stoll(r.id.substr(0, 8) + r.id.substr(9, 4), nullptr, 16)}};
    EXPECT_GE(minted, before) << r.id;
    EXPECT_LE(minted, after) << r.id;
    fire.insert(format_rfc3339(*r.fire_at));
  }
  EXPECT_EQ(fire, (std::set<std::string>{"2031-02-07T10:00:00Z", "2031-02-08T09:45:00Z"}));
  // Another user's tasks cannot be targets or sources.
  const auto other = make_user();
  EXPECT_EQ(tx([&](pqxx::work& w) { return reminders::copy_relative(w, other, from, to); }), 0);
}

TEST_F(RemindersTest, FiringWritesOneEventAndNeverFiresTwice) {
  const auto task = make_task(user_, at("2031-02-01T10:00:00Z"));
  auto r = add(user_, task, R"({"before_due": "PT15M"})");
  auto later = add(user_, task, R"({"at": "2099-01-01T00:00:00Z"})");
  tx([&](pqxx::work& w) {
    w.exec_params("UPDATE reminders SET fire_at = now() - interval '1 second' WHERE user_id = $1 AND id = $2",
                  user_, r.id);
  });
  auto fired = tx([&](pqxx::work& w) { return reminders::queue::fire_due(w, 100, true); });
  std::vector<std::string> mine;
  for (const auto& f : fired)
    if (f.user_id == user_) mine.push_back(f.id);
  EXPECT_EQ(mine, std::vector<std::string>{r.id});
  for (const auto& f : tx([&](pqxx::work& w) { return reminders::queue::fire_due(w, 100, true); }))
    EXPECT_NE(f.id, r.id) << "fired twice";
  EXPECT_EQ(
      count("SELECT count(*) FROM outbox WHERE user_id = $1 AND type = 'com.todo.reminder.fired'", user_), 1);
  const auto s = get(user_, r.id);
  EXPECT_EQ(s.state, "delivered");  // the user does not want e-mails: the event is the delivery
  EXPECT_TRUE(s.fired_at && s.delivered_at);
  EXPECT_EQ(get(user_, later.id).state, "scheduled");
  pqxx::nontransaction n(*conn_);
  const auto doc = nlohmann::json::parse(
      n.exec_params("SELECT event FROM outbox WHERE user_id = $1 AND type = 'com.todo.reminder.fired'",
                    user_)[0][0]
          .c_str());
  EXPECT_EQ(doc["subject"], task);
  EXPECT_EQ(doc["data"]["reminder_id"], r.id);
  EXPECT_EQ(doc["data"]["task_id"], task);
  EXPECT_EQ(doc["data"]["title"], "pay rent");
  EXPECT_EQ(doc["data"]["before_due"], "PT15M");
  EXPECT_EQ(doc["data"]["user_id"], user_);
  EXPECT_EQ(doc["data"]["email"], false);
}

TEST_F(RemindersTest, EmailLeaseIsTakenOverAfterACrash) {
  const auto user = make_user(/*email=*/true);
  const auto task = make_task(user, at("2031-02-01T10:00:00Z"));
  auto r = add(user, task, R"({"before_due": "PT15M"})");
  make_due(user);
  auto fired = tx([&](pqxx::work& w) { return reminders::queue::fire_due(w, 1000, true); });
  ASSERT_TRUE(
      std::any_of(fired.begin(), fired.end(), [&](const auto& f) { return f.id == r.id && f.email; }));
  EXPECT_EQ(get(user, r.id).state, "firing");
  auto mine = [&](const std::vector<reminders::queue::MailJob>& jobs) {
    std::optional<reminders::queue::MailJob> out;
    for (const auto& j : jobs)
      if (j.id == r.id) out = j;
    return out;
  };
  auto a = mine(tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "replica-a", 60s, 1000); }));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->attempts, 1);
  EXPECT_EQ(a->title, "pay rent");
  // Leased to A: B gets nothing.
  EXPECT_FALSE(
      mine(tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "replica-b", 60s, 1000); })));
  // A dies: its lease runs out, B takes over (attempt 2) and delivers; A's late report changes nothing.
  tx([&](pqxx::work& w) {
    w.exec_params(
        "UPDATE reminders SET lease_until = now() - interval '1 second' WHERE user_id = $1 AND id = $2", user,
        r.id);
  });
  auto b = mine(tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "replica-b", 60s, 1000); }));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->attempts, 2);
  EXPECT_FALSE(tx([&](pqxx::work& w) { return reminders::queue::mail_sent(w, *a, "replica-a"); }));
  EXPECT_TRUE(tx([&](pqxx::work& w) { return reminders::queue::mail_sent(w, *b, "replica-b"); }));
  EXPECT_EQ(get(user, r.id).state, "delivered");
  // Delivered is final: nobody claims it again, the event was written once.
  EXPECT_FALSE(
      mine(tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "replica-c", 60s, 1000); })));
  EXPECT_EQ(
      count("SELECT count(*) FROM outbox WHERE user_id = $1 AND type = 'com.todo.reminder.fired'", user), 1);
}

TEST_F(RemindersTest, EmailRetriesWithBackoffThenFails) {
  const auto user = make_user(/*email=*/true);
  const auto task = make_task(user, at("2031-02-01T10:00:00Z"));
  auto r = add(user, task, R"({"at": "2020-01-01T00:00:00Z"})");
  tx([&](pqxx::work& w) { reminders::queue::fire_due(w, 1000, true); });
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::optional<reminders::queue::MailJob> job;
    for (const auto& j : tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "r", 60s, 1000); }))
      if (j.id == r.id) job = j;
    ASSERT_TRUE(job) << "attempt " << attempt;
    EXPECT_EQ(job->attempts, attempt);
    const bool failed = tx([&](pqxx::work& w) {
      return reminders::queue::mail_failed(w, *job, "r", "550 no such user " + std::to_string(attempt), 3,
                                           10min);
    });
    const auto s = get(user, r.id);
    EXPECT_EQ(s.last_error, "550 no such user " + std::to_string(attempt));
    if (attempt < 3) {
      EXPECT_FALSE(failed);
      EXPECT_EQ(s.state, "firing");
      ASSERT_TRUE(s.next_attempt_at);
      EXPECT_GT(*s.next_attempt_at, now() + 9min);  // backing off: not claimable before then
      for (const auto& j : tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "r", 60s, 1000); }))
        EXPECT_NE(j.id, r.id);
      tx([&](pqxx::work& w) {
        w.exec_params("UPDATE reminders SET lease_until = now() WHERE user_id = $1 AND id = $2", user, r.id);
      });
    } else {
      EXPECT_TRUE(failed);
      EXPECT_EQ(s.state, "failed");
    }
  }
}

// A relative reminder whose e-mail is being sent when its task's due_at moves keeps its firing (the e-mail in
// flight) and is scheduled at the new time once the e-mail ends, delivered or failed.
TEST_F(RemindersTest, FiringReminderIsArmedAgainWhenItsEmailEnds) {
  const auto user = make_user(/*email=*/true);
  // Fires the reminder now (e-mail owed) and leases its e-mail.
  auto fire_and_claim = [&](const std::string& id) {
    tx([&](pqxx::work& w) {
      w.exec_params(
          "UPDATE reminders SET fire_at = now() - interval '1 second' WHERE user_id = $1 AND id = $2", user,
          id);
    });
    tx([&](pqxx::work& w) { reminders::queue::fire_due(w, 1000, true); });
    std::optional<reminders::queue::MailJob> job;
    for (const auto& j : tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "r", 60s, 1000); }))
      if (j.id == id) job = j;
    return job;
  };

  // Delivered: scheduled again at the new time, and fires then.
  const auto task = make_task(user, at("2031-02-01T10:00:00Z"));
  const auto r = add(user, task, R"({"before_due": "PT15M"})");
  auto job = fire_and_claim(r.id);
  ASSERT_TRUE(job);
  const auto fired_at = get(user, r.id).fire_at;
  patch_due(user, task, at("2031-04-01T10:00:00Z"));
  auto s = get(user, r.id);
  EXPECT_EQ(s.state, "firing");
  EXPECT_EQ(s.fire_at, fired_at) << "the e-mail in flight keeps its firing";
  EXPECT_TRUE(tx([&](pqxx::work& w) { return reminders::queue::mail_sent(w, *job, "r"); }));
  s = get(user, r.id);
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_EQ(s.fire_at, at("2031-04-01T09:45:00Z"));
  EXPECT_FALSE(s.fired_at);
  EXPECT_FALSE(s.delivered_at) << "not delivered at its new time";
  EXPECT_EQ(s.attempts, 0);
  job = fire_and_claim(r.id);
  ASSERT_TRUE(job) << "fires again at the new time";
  EXPECT_EQ(job->attempts, 1);
  EXPECT_TRUE(tx([&](pqxx::work& w) { return reminders::queue::mail_sent(w, *job, "r"); }));
  EXPECT_EQ(get(user, r.id).state, "delivered") << "nothing waits any more";
  EXPECT_EQ(
      count("SELECT count(*) FROM outbox WHERE subject = $1 AND type = 'com.todo.reminder.fired'", task), 2);

  // Failed for good: scheduled again at the new time as well.
  const auto task2 = make_task(user, at("2031-02-01T10:00:00Z"));
  const auto r2 = add(user, task2, R"({"before_due": "PT1H"})");
  job = fire_and_claim(r2.id);
  ASSERT_TRUE(job);
  patch_due(user, task2, at("2031-05-01T10:00:00Z"));
  EXPECT_TRUE(tx([&](pqxx::work& w) {
    return reminders::queue::mail_failed(w, *job, "r", "550 no such user", 1, 10min);
  })) << "the e-mail failed for good";
  s = get(user, r2.id);
  EXPECT_EQ(s.state, "scheduled");
  EXPECT_EQ(s.fire_at, at("2031-05-01T09:00:00Z"));

  // A retry still to come keeps it firing; moved back to the past meanwhile, nothing is re-armed.
  const auto task3 = make_task(user, at("2031-02-01T10:00:00Z"));
  const auto r3 = add(user, task3, R"({"before_due": "PT15M"})");
  job = fire_and_claim(r3.id);
  ASSERT_TRUE(job);
  patch_due(user, task3, at("2031-06-01T10:00:00Z"));
  EXPECT_FALSE(tx(
      [&](pqxx::work& w) { return reminders::queue::mail_failed(w, *job, "r", "421 try later", 3, 0ms); }));
  EXPECT_EQ(get(user, r3.id).state, "firing");
  patch_due(user, task3, at("2020-06-01T10:00:00Z"));
  std::optional<reminders::queue::MailJob> retry;
  for (const auto& j : tx([&](pqxx::work& w) { return reminders::queue::claim_mail(w, "r", 60s, 1000); }))
    if (j.id == r3.id) retry = j;
  ASSERT_TRUE(retry);
  EXPECT_TRUE(tx([&](pqxx::work& w) { return reminders::queue::mail_sent(w, *retry, "r"); }));
  EXPECT_EQ(get(user, r3.id).state, "delivered");

  // The task completed meanwhile: cancelled at the new time; reopening restores it.
  const auto task4 = make_task(user, at("2031-02-01T10:00:00Z"));
  const auto r4 = add(user, task4, R"({"before_due": "PT15M"})");
  job = fire_and_claim(r4.id);
  ASSERT_TRUE(job);
  patch_due(user, task4, at("2031-07-01T10:00:00Z"));
  tx([&](pqxx::work& w) { tasks::service::complete(w, Actor(user), task4); });
  EXPECT_TRUE(tx([&](pqxx::work& w) { return reminders::queue::mail_sent(w, *job, "r"); }));
  s = get(user, r4.id);
  EXPECT_EQ(s.state, "cancelled");
  EXPECT_EQ(s.fire_at, at("2031-07-01T09:45:00Z"));
  tx([&](pqxx::work& w) { tasks::service::reopen(w, Actor(user), task4); });
  EXPECT_EQ(get(user, r4.id).state, "scheduled");

  // The new time passed while the e-mail was still being tried: missed, not fired late. (It was scheduled at
  // that past time and fired at once.)
  const auto task5 = make_task(user, at("2031-02-01T10:00:00Z"));
  const auto r5 = add(user, task5, R"({"before_due": "PT15M"})");
  job = fire_and_claim(r5.id);
  ASSERT_TRUE(job);
  patch_due(user, task5, at("2031-08-01T10:00:00Z"));
  tx([&](pqxx::work& w) {  // the e-mail's retries took longer than the time left until then
    w.exec_params(
        "UPDATE reminders SET rearm_at = now() - interval '1 minute' WHERE user_id = $1 AND id = $2", user,
        r5.id);
  });
  EXPECT_TRUE(tx([&](pqxx::work& w) { return reminders::queue::mail_sent(w, *job, "r"); }));
  s = get(user, r5.id);
  EXPECT_EQ(s.state, "missed");
  EXPECT_LT(*s.fire_at, now());
  EXPECT_FALSE(s.fired_at);
  for (const auto& f : fire_all_now(user))
    EXPECT_NE(f.id, r5.id) << "fired late";
  EXPECT_EQ(get(user, r5.id).state, "missed");
  EXPECT_EQ(
      count("SELECT count(*) FROM outbox WHERE subject = $1 AND type = 'com.todo.reminder.fired'", task5), 1);
}

// events::append_many, which firing uses: per-user consecutive sequences in the given order, after append's,
// once the relay has numbered them.
TEST_F(RemindersTest, OutboxAppendManyKeepsEachUsersOrder) {
  const auto other = make_user();
  tx([&](pqxx::work& w) { events::append(w, user_, events::kReminderFired, "s0", R"({"n":0})"); });
  std::vector<events::NewEvent> batch;
  for (int i = 1; i <= 6; ++i)
    batch.push_back({i % 2 ? user_ : other, events::kReminderFired, "s" + std::to_string(i),
                     nlohmann::json{{"n", i}}.dump()});
  const auto out = tx([&](pqxx::work& w) { return events::append_many(w, batch); });
  ASSERT_EQ(out.size(), 6u);
  publish_all();
  {
    pqxx::nontransaction n(*conn_);
    for (const auto& [user, expected] :
         {std::pair{user_, std::vector<int>{0, 1, 3, 5}}, std::pair{other, std::vector<int>{2, 4, 6}}}) {
      std::vector<int> got;
      long expected_sequence = 1;
      for (const auto& e : events::since(n, user, 0, 100)) {  // as replayed and published
        EXPECT_EQ(e.sequence, expected_sequence++);
        const auto doc = nlohmann::json::parse(e.document);
        EXPECT_EQ(doc["sequence"], e.sequence);
        got.push_back(doc["data"]["n"].get<int>());
      }
      EXPECT_EQ(got, expected);
    }
  }
  for (const auto& e : out) {
    EXPECT_GT(e.id, 0);
    EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE event_id = $1", e.event_id), 1);
  }
}

TEST_F(RemindersTest, ConcurrentClaimersFireEachReminderExactlyOnce) {
  constexpr int kUsers = 20, kPerUser = 100;
  std::set<std::string> expected;
  std::vector<std::string> users;
  for (int u = 0; u < kUsers; ++u)
    users.push_back(make_user());
  tx([&](pqxx::work& w) {
    for (const auto& user : users) {
      tasks::NewTask t;
      t.title = "t";
      t.due_at = now() + 1h;
      t.timezone = "UTC";
      const auto task = tasks::service::create(w, Actor(user), t);
      auto res = w.exec_params(
          "INSERT INTO reminders (user_id, id, task_id, at, fire_at) SELECT $1, gen_random_uuid(), $2, "
          "now() - interval '1 second', now() - interval '1 second' FROM generate_series(1, $3) RETURNING id",
          user, task.id, kPerUser);
      for (const auto& row : res)
        expected.insert(row[0].c_str());
    }
  });
  std::mutex m;
  std::vector<std::string> fired;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        pqxx::connection c(url_);
        db::prepare_session(c);
        for (;;) {
          pqxx::work w(c);
          auto batch = reminders::queue::fire_due(w, 37, false);
          w.commit();
          if (batch.empty()) break;
          std::lock_guard lock(m);
          for (const auto& f : batch)
            fired.push_back(f.id);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++errors;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(errors, 0);
  std::vector<std::string> ours;
  for (const auto& id : fired)
    if (expected.count(id)) ours.push_back(id);
  std::set<std::string> distinct(ours.begin(), ours.end());
  EXPECT_EQ(ours.size(), expected.size()) << "a reminder fired twice or not at all";
  EXPECT_EQ(distinct, expected);
  publish_all();
  pqxx::nontransaction n(*conn_);
  for (const auto& user : users) {
    // One event each, and the user's sequence stays gapless.
    auto row = n.exec_params(
        "SELECT count(*), count(DISTINCT event->'data'->>'reminder_id'), max(sequence) - min(sequence) + 1 "
        "FROM outbox WHERE user_id = $1 AND type = 'com.todo.reminder.fired'",
        user)[0];
    EXPECT_EQ(row[0].as<int>(), kPerUser);
    EXPECT_EQ(row[1].as<int>(), kPerUser);
    EXPECT_EQ(row[2].as<int>(), kPerUser);
  }
}

// Migration 0023: an open task's reminders that the old rules left cancelled were missed ones; they take the
// state reopening gives (missed at a past time, scheduled at a time still to come), while a done task's stay
// cancelled.
TEST(MissedMigration, AnOpenTasksCancelledRemindersAreMissed) {
  const std::string url = fresh_database("reminders_0023");
  pqxx::connection c(url);
  ASSERT_EQ(db::migrate(c, 22), 22);
  const std::string user = new_uuid(), open = new_uuid(), done = new_uuid();
  std::map<std::string, std::string> ids;  // name → id
  {
    pqxx::work w(c);
    w.exec_params("INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'hash')", user,
                  "user-" + user + "@example.com");
    for (const auto& [id, status] : {std::pair{open, "open"}, std::pair{done, "done"}})
      w.exec_params(
          "INSERT INTO tasks (id, user_id, title, timezone, status) VALUES ($1, $2, 't', 'UTC', $3)", id,
          user, std::string(status));
    const struct {
      const char* name;
      const std::string& task;
      const char* at;
      const char* state;
    } rows[] = {{"open past cancelled", open, "2020-01-01T00:00:00Z", "cancelled"},
                {"open future cancelled", open, "2099-01-01T00:00:00Z", "cancelled"},
                {"open past delivered", open, "2020-01-01T00:00:00Z", "delivered"},
                {"done past cancelled", done, "2020-01-01T00:00:00Z", "cancelled"},
                {"done future cancelled", done, "2099-01-01T00:00:00Z", "cancelled"}};
    for (const auto& r : rows) {
      ids[r.name] = new_uuid();
      w.exec_params(
          "INSERT INTO reminders (user_id, id, task_id, at, fire_at, state) VALUES ($1, $2, $3, $4, $4, $5)",
          user, ids[r.name], r.task, std::string(r.at), std::string(r.state));
    }
    w.commit();
  }
  ASSERT_EQ(db::migrate(c), static_cast<int>(db::embedded_migrations().size()) - 22);
  pqxx::nontransaction n(c);
  std::map<std::string, std::string> states;
  for (const auto& [name, id] : ids)
    states[name] = n.exec_params1("SELECT state FROM reminders WHERE id = $1", id)[0].as<std::string>();
  EXPECT_EQ(states, (std::map<std::string, std::string>{{"open past cancelled", "missed"},
                                                        {"open future cancelled", "scheduled"},
                                                        {"open past delivered", "delivered"},
                                                        {"done past cancelled", "cancelled"},
                                                        {"done future cancelled", "cancelled"}}));
  EXPECT_THROW(n.exec_params("UPDATE reminders SET state = 'lost' WHERE id = $1", ids["open past delivered"]),
               pqxx::check_violation);
}

}  // namespace
}  // namespace todo::test

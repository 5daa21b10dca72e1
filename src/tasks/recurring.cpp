// Next occurrences of task series: the recurrence expander with the series' RFC 5545 semantics.
#include "todo/tasks/recurring.hpp"

#include <algorithm>

#include "todo/recurrence/expand.hpp"

namespace todo::tasks::recurring {
namespace {

/// COUNT bounds the series' occurrence numbers (0 to COUNT - 1) whatever schedule made them: a "this and
/// following" edit starts the schedule anew at the edited occurrence but keeps its number, so the count goes
/// on rather than starting again.
bool beyond_count(const recurrence::Rule& rule, int occurrence) {
  return rule.count && static_cast<long>(occurrence) >= static_cast<long>(*rule.count);
}

/// The series' rule, its COUNT reduced by one when the start does not match the rule (the start is an
/// occurrence of its own, which COUNT includes); nullopt when that leaves nothing.
std::optional<recurrence::Rule> series_rule(recurrence::Rule rule, const Task& t, Instant start) {
  if (rule.count && !recurrence::matches_start(rule, start, t.timezone)) {
    if (*rule.count == 1) return std::nullopt;
    --*rule.count;
  }
  return rule;
}

bool beyond_until(const recurrence::Rule& rule, Instant t, const std::string& tz) {
  if (!rule.until) return false;
  if (rule.until->utc) return t > Instant{rule.until->at.time_since_epoch()};
  return recurrence::zone(tz).to_local(t) > recurrence::LocalTime{rule.until->at.time_since_epoch()};
}

/// after_completion: the occurrence after `from`, with COUNT counted by occurrence index; none after year
/// 9999, where fixed schedules end too (RFC 3339 cannot write a later instant).
std::optional<Instant> after_completion_next(const recurrence::Rule& rule, const Task& t, Instant start,
                                             Instant from, int prev_occurrence) {
  if (beyond_count(rule, prev_occurrence + 1)) return std::nullopt;
  const Instant next = recurrence::add_interval(rule, from, start, t.timezone);
  if (!in_rfc3339_range(next) || beyond_until(rule, next, t.timezone)) return std::nullopt;
  return next;
}

}  // namespace

Instant still_to_come_after(const Task& t, Instant now) {
  if (!t.all_day) return now;
  const recurrence::Zone& z = recurrence::zone(t.timezone);
  const auto today = date::floor<date::days>(z.to_local(now));
  // The day's first instant (to_instant moves a midnight that a spring-forward skips to the day's first wall
  // time), and an occurrence at that instant is still to come.
  return std::min(now, z.to_instant(today) - std::chrono::microseconds(1));
}

std::optional<Instant> next_due(const Task& src, const Task& prev, Instant now) {
  if (!src.recurrence || !prev.due_at) return std::nullopt;
  const Instant start = src.series_start.value_or(*prev.due_at);
  const recurrence::Rule parsed = recurrence::parse(*src.recurrence);
  if (src.recurrence_mode == RecurrenceMode::after_completion)
    return after_completion_next(parsed, src, start, now, prev.occurrence.value_or(0));
  if (beyond_count(parsed, prev.occurrence.value_or(0) + 1)) return std::nullopt;
  const auto rule = series_rule(parsed, src, start);
  if (!rule) return std::nullopt;
  return recurrence::next_after(*rule, start, src.timezone,
                                std::max(*prev.due_at, still_to_come_after(src, now)));
}

bool on_schedule(const Task& t, const std::vector<Task>& series) {
  if (!t.recurrence || !t.due_at || t.recurrence_mode != RecurrenceMode::fixed) return false;
  // Another occurrence's instant (one an earlier occurrence is at or after, or a later one at or before) is
  // not this one's, even when the rule gives it.
  const int n = t.occurrence.value_or(0);
  for (const auto& o : series) {
    if (o.id == t.id || !o.due_at || !o.occurrence) continue;
    if ((*o.occurrence < n && *o.due_at >= *t.due_at) || (*o.occurrence > n && *o.due_at <= *t.due_at))
      return false;
  }
  const Instant start = t.series_start.value_or(*t.due_at);
  if (*t.due_at == start) return true;
  const auto rule = series_rule(recurrence::parse(*t.recurrence), t, start);
  if (!rule) return false;
  const auto at = recurrence::next_after(*rule, start, t.timezone, *t.due_at - std::chrono::microseconds(1));
  return at && *at == *t.due_at;
}

std::vector<Instant> upcoming(const Task& t, Instant now, std::size_t count) {
  std::vector<Instant> out;
  if (!t.recurrence || !t.due_at || count == 0) return out;
  const Instant start = t.series_start.value_or(*t.due_at);
  if (t.recurrence_mode == RecurrenceMode::after_completion) {
    // The first is what completing the task creates: completed when due, or now when it is overdue (an
    // interval after now, as next_due gives; from its past due time, the list showed dates on the old
    // schedule that completing never creates). Each later one an interval after the one before.
    const auto rule = recurrence::parse(*t.recurrence);
    Instant from = std::max(*t.due_at, now);
    int occurrence = t.occurrence.value_or(0);
    while (out.size() < count) {
      auto next = after_completion_next(rule, t, start, from, occurrence++);
      if (!next) break;
      out.push_back(*next);
      from = *next;
    }
    return out;
  }
  const recurrence::Rule parsed = recurrence::parse(*t.recurrence);
  if (parsed.count) {  // the occurrences after this one are numbered from occurrence + 1
    const long left = static_cast<long>(*parsed.count) - 1 - t.occurrence.value_or(0);
    if (left <= 0) return out;
    count = std::min(count, static_cast<std::size_t>(left));
  }
  const auto rule = series_rule(parsed, t, start);
  if (!rule) return out;
  return recurrence::expand(*rule, start, t.timezone, std::max(*t.due_at, still_to_come_after(t, now)),
                            count);
}

}  // namespace todo::tasks::recurring

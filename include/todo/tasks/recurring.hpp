// Recurring task series: when the next occurrence is due (pure functions; the service stores the tasks).
//
// A series starts at its first task's due_at (series_start, the rule's DTSTART), which is always its first
// occurrence, as RFC 5545 has it: when due_at does not match the rule, it still counts towards COUNT. (The
// preview endpoint expands a bare rule the way dateutil does: the start only when it matches.)
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "todo/core/time.hpp"
#include "todo/tasks/model.hpp"

namespace todo::tasks::recurring {

/// The instant after which an occurrence of the task's series is still to come at `now`: `now` itself for a
/// timed task; for an all-day one the start of today in its zone (just before it), as today's occurrence is
/// not missed until its day is over (the overdue filter's rule).
Instant still_to_come_after(const Task& t, Instant now);

/// The due time of the occurrence that follows `prev` in the series of `rule_source` (whose recurrence,
/// mode, zone and series_start apply), or nullopt when COUNT/UNTIL have ended the series. COUNT bounds the
/// occurrence numbers (0 to COUNT - 1), which a "this and following" edit keeps: the series' count goes on
/// from the edited occurrence instead of starting again with the new schedule.
/// - fixed: the first occurrence of the schedule after both prev's due_at and `now` (for an all-day series,
///   today's counts: still_to_come_after): occurrences missed while the series was overdue are skipped, not
///   created in bulk.
/// - after_completion: `now` (the completion) + the rule's interval, at series_start's time of day.
std::optional<Instant> next_due(const Task& rule_source, const Task& prev, Instant now);

/// Whether the task's due_at is its own instant of its series' schedule (series_start and the rule in its
/// zone): not moved off the schedule by an edit of this occurrence alone, and not moved onto another
/// occurrence's instant either. `series` is the series' tasks (the task itself among them or not): an
/// instant of the rule that is not after every earlier occurrence's due_at and before every later one's is
/// another occurrence's, not this one's. Always false for after_completion, whose occurrences depend on when
/// the previous ones were done.
bool on_schedule(const Task& t, const std::vector<Task>& series);

/// Up to `count` upcoming occurrence times of a recurring task's series after the task (after now as well);
/// for after_completion, as if each were completed when due, and an overdue task now: the first is what
/// completing the task now creates when it is overdue (next_due with `now`), else an interval after its
/// due time; each later one an interval after the one before.
std::vector<Instant> upcoming(const Task& t, Instant now, std::size_t count);

}  // namespace todo::tasks::recurring

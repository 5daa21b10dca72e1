// Expanding a recurrence rule into instants, in an IANA zone's wall time.
//
// The expander is our own, written after python-dateutil's rrule (the reference it is tested against), not
// libical: libical 3.0.16 gets UTC offsets near DST changes, the second of two repeated wall times, WKST
// other than MO and FREQ=DAILY;BYMONTHDAY=-1 wrong (see docs/recurrence.md).
//
// Semantics (dateutil's, which follows RFC 5545 except for DTSTART):
// - The rule is expanded in floating local time starting at dtstart's wall time in `tz`; every occurrence
//   keeps dtstart's time of day. Each wall time becomes an instant with the zone's rules at that date: a wall
//   time repeated at a fall-back change means its first instant, one skipped at spring-forward moves forward
//   by the gap (02:30 on a day that jumps from 02:00 to 03:00 becomes 03:30).
// - dtstart itself is an occurrence only when it matches the rule, and COUNT counts occurrences as generated.
//   (Task series differ: a task's due_at is always its series' first occurrence; see tasks/recurring.hpp.)
// - UNTIL is inclusive; a UTC UNTIL is compared with instants, a floating one with wall times.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "todo/core/time.hpp"
#include "todo/recurrence/rule.hpp"
#include "todo/recurrence/zone.hpp"

namespace todo::recurrence {

/// Up to `count` occurrences strictly after `after`, in order, as wall times (floating local expansion) from
/// a local dtstart. `tz` is needed for UTC UNTIL values and may be null when the rule has none.
std::vector<LocalTime> expand_local(const Rule& rule, LocalTime dtstart, const Zone* tz,
                                    std::optional<LocalTime> after, std::size_t count);

/// Up to `count` occurrences strictly after `after`, in order, for a series starting at `dtstart` in zone
/// `tz` (an IANA name; RuleError when unknown).
std::vector<Instant> expand(const Rule& rule, Instant dtstart, std::string_view tz, Instant after,
                            std::size_t count);

/// The first occurrence strictly after `after`, if the rule has one.
std::optional<Instant> next_after(const Rule& rule, Instant dtstart, std::string_view tz, Instant after);

/// True when dtstart's wall time is itself an occurrence of the rule (before COUNT/UNTIL are applied).
bool matches_start(const Rule& rule, Instant dtstart, std::string_view tz);

/// True when the rule, COUNT and UNTIL aside, has no occurrence after dtstart, as found by expanding a whole
/// cycle of the calendar for its periods: the Gregorian calendar repeats every 400 years, so INTERVAL apart
/// the periods' places in it repeat after 400 years' worth of periods at most, and after 7 days' worth for a
/// rule that looks at weekdays only (DAILY;INTERVAL=7;BYDAY=TU from a Thursday: 2 periods; YEARLY;INTERVAL=2;
/// BYMONTH=2;BYMONTHDAY=29 from an odd year: 201). False when year 9999 comes first, nothing being shown.
bool never_occurs_after_start(const Rule& rule, Instant dtstart, std::string_view tz);

/// The wall time `from` + the rule's interval (INTERVAL × FREQ) on the calendar of `tz`, at `time_of_day`'s
/// wall-clock time: the next due time of an "after completion" series. A month or year step that lands on a
/// day the month lacks takes the month's last day (Jan 31 + 1 month = Feb 28/29).
Instant add_interval(const Rule& rule, Instant from, Instant time_of_day, std::string_view tz);

}  // namespace todo::recurrence

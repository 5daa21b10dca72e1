// IANA time zones for wall-clock arithmetic: instants ↔ wall times with this server's rules for skipped and
// repeated wall times, correct beyond 2037.
//
// The system tz database files (TZif) list transitions up to 2037 and give the rule for later years as a
// POSIX TZ string in their footer ("CET-1CEST,M3.5.0,M10.5.0/3"). Debian's howardhinnant date library reads
// the transitions but not the footer, so on its own it has no DST after 2037; Python's zoneinfo (and the
// kernel's libc) apply the footer. Zone does too.
#pragma once

#include <date/date.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "todo/core/time.hpp"

namespace date {
class time_zone;
}

namespace todo::recurrence {

/// A floating wall time (no zone), microsecond precision.
using LocalTime = date::local_time<std::chrono::microseconds>;

/// One IANA zone. Immutable; shared by every thread.
class Zone {
 public:
  /// The wall time of an instant.
  LocalTime to_local(Instant t) const;
  /// The instant of a wall time: the first one when it is repeated (fall-back), moved forward by the gap
  /// when it is skipped (02:30 on a day that jumps from 02:00 to 03:00 becomes 03:30).
  Instant to_instant(LocalTime t) const;
  /// The UTC offset in effect at an instant.
  std::chrono::seconds offset(Instant t) const;
  /// The zone's abbreviation at an instant ("CET", "CEST"; "+03" for a zone without letters for it).
  std::string abbreviation(Instant t) const;

  const std::string& name() const { return name_; }

  struct Posix;  // the footer rule (defined in zone.cpp)
  Zone(std::string name, const date::time_zone* tz, std::shared_ptr<const Posix> footer,
       date::sys_seconds footer_from);

 private:
  std::string name_;
  const date::time_zone* tz_;
  std::shared_ptr<const Posix> footer_;  // null when the zone has no DST after its last transition
  date::sys_seconds footer_from_;        // the last transition in the database; the footer rules after it
};

/// The zone named `iana` (cached); throws RuleError("timezone: …") when the system tz database lacks it.
const Zone& zone(std::string_view iana);

}  // namespace todo::recurrence

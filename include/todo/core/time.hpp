// UTC instants (microsecond precision, as PostgreSQL's timestamptz) and their text forms: RFC 3339,
// PostgreSQL, IANA zones.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace todo {

/// A UTC instant with PostgreSQL timestamptz precision.
using Instant = std::chrono::sys_time<std::chrono::microseconds>;

/// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
/// 'T'/'t' or a space separate date and time; 'Z'/'z' mean UTC. The fraction has 1 to 9 digits and is
/// truncated to microseconds. Years 0001-9999, days within the month (leap years included), hours 0-23,
/// minutes 0-59, seconds 0-59 (a leap second, :60, is rejected), offsets up to ±23:59; the instant itself
/// must fall in 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z, so that format_rfc3339 writes it back
/// as RFC 3339 ("0001-01-01T00:00:00+01:00" is year 0 in UTC). Anything else, trailing text included,
/// gives nullopt.
std::optional<Instant> parse_rfc3339(std::string_view s);

/// Why parse_rfc3339 refuses `s`, as a field's problem: "must be an RFC 3339 date-time with an offset, e.g.
/// …", or, for a well-formed one whose instant falls outside 0001-9999 in UTC ("0001-01-01T00:00:00+01:00"),
/// that it must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z. Empty when parse_rfc3339 accepts it.
std::string rfc3339_problem(std::string_view s);

/// True for 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z: the instants format_rfc3339 writes as
/// RFC 3339 (and parse_rfc3339 accepts).
bool in_rfc3339_range(Instant t);

/// Formats as RFC 3339 in UTC: "2026-03-05T09:00:00Z", or with the fraction trimmed of trailing zeros
/// ("2026-03-05T09:00:00.5Z"). Years outside 0001-9999 come out in ISO 8601 expanded form ("+10000-…",
/// "-0001-…"), which parse_rfc3339 rejects.
std::string format_rfc3339(Instant t);
/// format_rfc3339, appended to `out` (no string of its own).
void append_rfc3339(std::string& out, Instant t);

/// The system clock, truncated (floored) to microseconds.
Instant now();

/// True when `iana` names a zone of the system's tz database (/usr/share/zoneinfo): "UTC", "Europe/Berlin".
/// False for anything else, including path tricks ("../etc/passwd"), whitespace, "localtime" and
/// "posixrules". Never throws; safe to call from any thread.
bool is_valid_timezone(std::string_view iana);

/// Parses PostgreSQL's text output of a timestamptz ("2026-03-05 09:00:00+00", "2026-03-05
/// 09:00:00.123456+00"). Meant for a session whose TimeZone is UTC, but any offset PostgreSQL prints (±HH,
/// ±HH:MM, ±HH:MM:SS) is applied. Accepts 4-6 digit years, a fraction of 1-6 digits and a trailing " BC".
/// Gives nullopt for "infinity", "-infinity", instants before PostgreSQL's earliest (4714-11-24 00:00:00 UTC
/// BC) or beyond Instant's range, and anything malformed: what it accepts, PostgreSQL accepts back (written
/// by to_pg_timestamptz).
std::optional<Instant> parse_pg_timestamptz(std::string_view s);

/// A timestamptz literal PostgreSQL accepts, in the form it prints with TimeZone UTC: "2026-03-05
/// 09:00:00+00", "2026-03-05 09:00:00.123456+00" (fraction trimmed of trailing zeros), years before 0001 as
/// "… BC".
std::string to_pg_timestamptz(Instant t);

}  // namespace todo

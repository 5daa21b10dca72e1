// Word classes of the chat grammar: numbers, ordinals, units, weekdays, months, clock times.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace todo::chat::detail {

enum class Unit { minute, hour, day, week, month, year };

/// "5", "05", "twelve" (up to 9999); `article` also accepts "a"/"an" as 1.
std::optional<int> number_word(std::string_view w, bool article = false);
/// "15th", "1st", "2nd", "3rd", "first" … "tenth"; `last` (-1) only when allow_last.
std::optional<int> ordinal_word(std::string_view w, bool allow_last = false);
/// True for a numeric ordinal shape ("35th"), valid or not.
bool ordinal_shape(std::string_view w);
std::optional<Unit> unit_word(std::string_view w);
/// "30m", "2h", "30min", "2hrs", "3d", "1w".
std::optional<std::pair<int, Unit>> compact_amount(std::string_view w);
/// 0 = Monday … 6 = Sunday; -1 when not a weekday. Ambiguous abbreviations ("sun", "sat", "wed") only when
/// `cued`. `plural` is set for "mondays".
int weekday_word(std::string_view w, bool cued, bool* plural = nullptr);
/// 1-12, 0 when not a month name.
int month_word(std::string_view w);
bool all_digits(std::string_view w);
/// The base form (or a prefix of it, for a prefix search) of a past-tense verb in lower case: "paid" → "pay",
/// "called" → "cal", "submitted" → "submit", "tried" → "try"; the word itself when it does not look past.
std::string base_form(std::string_view w);

/// A command's target that names several tasks rather than one ("all", "all tasks", "everything", "each of
/// them", "them all", "tasks"): bulk actions are not supported, and such words never name a task by its
/// title's letters
/// ("all" is no part of "call mom"). Case is ignored; words are separated by single spaces.
bool bulk_target(std::string_view target);

/// A clock time read from one token, maybe with a following "am"/"pm" token.
struct ClockRead {
  int minute = -1;         // minute of the day; -1 when unreadable
  bool strong = false;     // had a colon or am/pm: certainly meant as a time
  bool uses_next = false;  // the am/pm was the next token
  bool ampm = false;       // am or pm was written
};
/// Reads "5pm", "5:30", "17:00", "5.30pm", "5" + "pm", and (when `after_at`) a bare "5". nullopt when the
/// token does not look like a time at all; minute -1 when it does but is out of range ("25:00", "13pm").
std::optional<ClockRead> clock_word(std::string_view w, std::string_view next, bool after_at);

}  // namespace todo::chat::detail

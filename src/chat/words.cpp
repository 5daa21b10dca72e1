// Word classes of the chat grammar.
#include "words.hpp"

#include <array>

namespace todo::chat::detail {
namespace {

constexpr std::array<std::string_view, 13> kNumbers = {"zero", "one",    "two",   "three", "four",
                                                       "five", "six",    "seven", "eight", "nine",
                                                       "ten",  "eleven", "twelve"};
constexpr std::array<std::string_view, 11> kOrdinals = {
    "", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"};

int digits_value(std::string_view w) {
  int v = 0;
  for (char c : w)
    v = v * 10 + (c - '0');
  return v;
}

}  // namespace

bool all_digits(std::string_view w) {
  if (w.empty()) return false;
  for (char c : w)
    if (c < '0' || c > '9') return false;
  return true;
}

std::string base_form(std::string_view w) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 44> kIrregular = {{
      {"paid", "pay"},    {"bought", "buy"},    {"sent", "send"},     {"made", "make"},    {"done", "do"},
      {"did", "do"},      {"wrote", "write"},   {"written", "write"}, {"took", "take"},    {"taken", "take"},
      {"gave", "give"},   {"given", "give"},    {"got", "get"},       {"gotten", "get"},   {"went", "go"},
      {"gone", "go"},     {"ate", "eat"},       {"eaten", "eat"},     {"told", "tell"},    {"sold", "sell"},
      {"found", "find"},  {"brought", "bring"}, {"thought", "think"}, {"met", "meet"},     {"left", "leave"},
      {"kept", "keep"},   {"spoke", "speak"},   {"spoken", "speak"},  {"fed", "feed"},     {"built", "build"},
      {"spent", "spend"}, {"lent", "lend"},     {"drove", "drive"},   {"driven", "drive"}, {"ran", "run"},
      {"swept", "sweep"}, {"hung", "hang"},     {"lost", "lose"},     {"read", "read"},    {"rang", "ring"},
      {"rung", "ring"},   {"fixed", "fix"},     {"mailed", "mail"},   {"began", "begin"},
  }};
  for (const auto& [past, base] : kIrregular)
    if (w == past) return std::string(base);
  std::string s(w);
  if (s.size() > 4 && s.ends_with("ied")) return s.substr(0, s.size() - 3) + "y";
  if (s.size() > 4 && s.ends_with("ed")) {
    s.resize(s.size() - 2);
    // "submitted" → "submit"; "called" → "cal" (a prefix of "call" still finds it)
    if (s.size() >= 2 && s[s.size() - 1] == s[s.size() - 2]) s.pop_back();
  }
  return s;
}

std::optional<int> number_word(std::string_view w, bool article) {
  if (all_digits(w)) {
    if (w.size() > 4) return std::nullopt;
    return digits_value(w);
  }
  for (std::size_t i = 1; i < kNumbers.size(); ++i)
    if (w == kNumbers[i]) return static_cast<int>(i);
  if (article && (w == "a" || w == "an")) return 1;
  return std::nullopt;
}

bool ordinal_shape(std::string_view w) {
  if (w.size() < 3) return false;
  const auto suffix = w.substr(w.size() - 2);
  if (suffix != "st" && suffix != "nd" && suffix != "rd" && suffix != "th") return false;
  return all_digits(w.substr(0, w.size() - 2));
}

std::optional<int> ordinal_word(std::string_view w, bool allow_last) {
  if (ordinal_shape(w)) {
    const auto d = w.substr(0, w.size() - 2);
    if (d.size() > 4) return 9999;
    return digits_value(d);
  }
  for (std::size_t i = 1; i < kOrdinals.size(); ++i)
    if (w == kOrdinals[i]) return static_cast<int>(i);
  // eleventh … thirty-first
  static constexpr std::array<std::string_view, 10> kTeens = {
      "eleventh",  "twelfth",     "thirteenth", "fourteenth", "fifteenth",
      "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"};
  for (std::size_t i = 0; i < kTeens.size(); ++i)
    if (w == kTeens[i]) return static_cast<int>(i) + 11;
  if (w == "thirtieth") return 30;
  for (const auto& [tens, value] : {std::pair<std::string_view, int>{"twenty-", 20}, {"thirty-", 30}})
    if (w.starts_with(tens))
      for (std::size_t i = 1; i < (value == 20 ? 10u : 2u); ++i)
        if (w.substr(tens.size()) == kOrdinals[i]) return value + static_cast<int>(i);
  if (allow_last && w == "last") return -1;
  return std::nullopt;
}

std::optional<Unit> unit_word(std::string_view w) {
  if (w == "minute" || w == "minutes" || w == "min" || w == "mins") return Unit::minute;
  if (w == "hour" || w == "hours" || w == "hr" || w == "hrs" || w == "h") return Unit::hour;
  if (w == "day" || w == "days") return Unit::day;
  if (w == "week" || w == "weeks" || w == "wk" || w == "wks") return Unit::week;
  if (w == "month" || w == "months") return Unit::month;
  if (w == "year" || w == "years" || w == "yr" || w == "yrs") return Unit::year;
  return std::nullopt;
}

std::optional<std::pair<int, Unit>> compact_amount(std::string_view w) {
  std::size_t i = 0;
  while (i < w.size() && w[i] >= '0' && w[i] <= '9')
    ++i;
  if (i == 0 || i > 4 || i == w.size()) return std::nullopt;
  const auto unit = w.substr(i);
  std::optional<Unit> u;
  if (unit == "m" || unit == "min" || unit == "mins") u = Unit::minute;
  if (unit == "h" || unit == "hr" || unit == "hrs") u = Unit::hour;
  if (unit == "d") u = Unit::day;
  if (unit == "w" || unit == "wk") u = Unit::week;
  if (!u) return std::nullopt;
  return std::pair{digits_value(w.substr(0, i)), *u};
}

int weekday_word(std::string_view w, bool cued, bool* plural) {
  struct Day {
    std::string_view full, a, b, c;
    bool needs_cue;
  };
  static constexpr std::array<Day, 7> kDays = {{{"monday", "mon", "", "", false},
                                                {"tuesday", "tue", "tues", "", false},
                                                {"wednesday", "wed", "weds", "", true},
                                                {"thursday", "thu", "thur", "thurs", false},
                                                {"friday", "fri", "", "", false},
                                                {"saturday", "sat", "", "", true},
                                                {"sunday", "sun", "", "", true}}};
  if (plural) *plural = false;
  for (int i = 0; i < 7; ++i) {
    const auto& d = kDays[static_cast<std::size_t>(i)];
    if (w == d.full) return i;
    if (w.size() == d.full.size() + 1 && w.back() == 's' && w.substr(0, d.full.size()) == d.full) {
      if (plural) *plural = true;
      return i;
    }
    if ((w == d.a || (!d.b.empty() && w == d.b) || (!d.c.empty() && w == d.c)) && (cued || !d.needs_cue))
      return i;
  }
  return -1;
}

int month_word(std::string_view w) {
  static constexpr std::array<std::string_view, 12> kFull = {"january",   "february", "march",    "april",
                                                             "may",       "june",     "july",     "august",
                                                             "september", "october",  "november", "december"};
  static constexpr std::array<std::string_view, 12> kShort = {"jan", "feb", "mar", "apr", "may", "jun",
                                                              "jul", "aug", "sep", "oct", "nov", "dec"};
  for (std::size_t i = 0; i < 12; ++i)
    if (w == kFull[i] || w == kShort[i]) return static_cast<int>(i) + 1;
  if (w == "sept") return 9;
  return 0;
}

std::optional<ClockRead> clock_word(std::string_view w, std::string_view next, bool after_at) {
  std::size_t i = 0;
  while (i < w.size() && w[i] >= '0' && w[i] <= '9')
    ++i;
  if (i == 0 || i > 2) return std::nullopt;
  const bool leading_zero = i == 2 && w[0] == '0';
  int hour = digits_value(w.substr(0, i));
  int minute = 0;
  bool has_minutes = false;
  bool colon = false;
  if (i < w.size() && (w[i] == ':' || w[i] == '.')) {
    colon = w[i] == ':';
    std::size_t j = i + 1;
    while (j < w.size() && w[j] >= '0' && w[j] <= '9')
      ++j;
    if (j - (i + 1) != 2) return std::nullopt;
    minute = digits_value(w.substr(i + 1, 2));
    has_minutes = true;
    i = j;
  }
  auto suffix = w.substr(i);
  bool uses_next = false;
  if (suffix.empty() && (next == "am" || next == "pm" || next == "a.m" || next == "p.m")) {
    suffix = next;
    uses_next = true;
  }
  int ampm = 0;  // 1 am, 2 pm
  if (suffix == "am" || suffix == "a" || suffix == "a.m")
    ampm = 1;
  else if (suffix == "pm" || suffix == "p" || suffix == "p.m")
    ampm = 2;
  else if (!suffix.empty())
    return std::nullopt;
  if (ampm == 0 && !colon && !after_at) return std::nullopt;  // "5" or "5.30" alone is not a time
  ClockRead r;
  r.strong = colon || ampm != 0;
  r.uses_next = uses_next;
  r.ampm = ampm != 0;
  if (minute > 59) return r;
  if (ampm != 0) {
    if (hour < 1 || hour > 12) return r;
    hour %= 12;
    if (ampm == 2) hour += 12;
  } else {
    if (hour > 23) return r;
    // No am/pm: 1-7 read as afternoon/evening, 8-12 as morning/noon, 0 and 13-23 as a 24-hour clock.
    if (!leading_zero && hour >= 1 && hour <= 7) hour += 12;
  }
  (void)has_minutes;
  r.minute = hour * 60 + minute;
  return r;
}

bool bulk_target(std::string_view target) {
  std::string t(target);
  for (char& c : t)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  const std::string_view first = std::string_view(t).substr(0, t.find(' '));
  // "all", "all tasks", "all of them", "everything", "each task", "every task"; "tasks" in general
  if (first == "all" || first == "everything" || first == "each" || first == "every") return true;
  for (const std::string_view whole :
       {"them", "them all", "these", "those", "these tasks", "those tasks", "both", "both of them", "the lot",
        "all of it", "tasks", "my tasks", "the tasks", "todos", "my todos"})
    if (t == whole) return true;
  return false;
}

}  // namespace todo::chat::detail

// The chat parser: intent detection, then one left-to-right pass of the slot grammars (reminders,
// recurrence, dates, times, priority, tags) over the tokens the command words left, then the residual words
// become the title (create), the target (commands on a task) or the search text (list).
#include "todo/chat/parser.hpp"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <unordered_set>

#include "calendar.hpp"
#include "todo/core/text.hpp"
#include "tokenizer.hpp"
#include "words.hpp"

namespace todo::chat {
namespace {

using namespace detail;
using date::days;
using std::string_view;

constexpr int kNoTime = -1;

// A date read from the text; range_* is its extent for list queries ("this week").
struct DatePart {
  local_days day{};
  local_days range_start{};
  int range_days = 1;
  int default_minute = kNoTime;  // "tonight" → 20:00 unless a time is given
  string_view prep;              // the preposition before it: "by", "before", …
  bool weekday_only = false;
  std::size_t at = 0;  // its first token (after the prepositions)
  // a day or a week of a named month ("april 2", "the first week of april", "end of june"): one of them,
  // which a recurrence adverb before a noun names rather than repeats ("quarterly review first week of
  // april")
  bool in_named_month = false;
};

struct TimePart {
  int minute = 0;
  bool weak = false;       // "morning": a default a clock time overrides
  bool bare_hour = false;  // no am/pm written ("at 9"): "tonight at 9" reads 21:00
  bool h12 = false;        // an hour 1-12 with no am/pm nor leading zero: the part of the day picks am or pm
  bool ambiguous = false;  // "2:15": read as 14:15, but 02:15 is as likely
  string_view prep;        // the word joining it: "before", "by", "after", "at", …
};

// A parsed recurrence phrase.
struct Rule {
  const char* freq = nullptr;  // DAILY WEEKLY MONTHLY YEARLY
  int interval = 1;
  unsigned weekdays = 0;  // bit 0 = Monday
  // MONTHLY BYDAY ordinals with exactly one weekday: bit k-1 for the kth (1..5), bit 5 for the last (-1)
  unsigned nths = 0;
  std::uint32_t monthdays = 0;  // BYMONTHDAY: bit d for day d (1..31), bit 0 for the last day (-1)
  int month = 0;                // BYMONTH
  int default_minute = kNoTime;
  bool bad = false;
  void add_nth(int o) {
    if (o == -1)
      nths |= 1u << 5;
    else if (o >= 1 && o <= 5)
      nths |= 1u << (o - 1);
    else
      bad = true;
  }
  void add_monthday(int d) {
    if (d == -1)
      monthdays |= 1u;
    else if (d >= 1 && d <= 31)
      monthdays |= 1u << d;
    else
      bad = true;
  }
};

// Ordinals joined by ",", "and", "&" ("1st and 15th", "1st, 15th and last day", "first and third" before a
// weekday): the days of a month or the weeks of a weekday a monthly rule names.
struct Ordinals {
  std::array<int, 8> v{};
  std::size_t n = 0;
  bool dated = true;      // each one written with digits ("15th") or "last day": days of the month without
                          // "of the month" ("every 1st and 15th"; "every first" needs it)
  bool day_item = false;  // one is "last day"
};

constexpr std::array<const char*, 7> kRruleDays = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};

// The problem of a recurrence whose end cannot be read ("for 99999 times", "for 1.5 weeks"): the dialog
// refuses it ("I can't …") instead of offering a series that would never end.
constexpr string_view kCantEnd = "I can't end the series ";

bool in(string_view w, std::initializer_list<string_view> set) {
  for (auto s : set)
    if (w == s) return true;
  return false;
}

// Words that may introduce a date or time and are consumed with it.
bool is_prep(string_view w) {
  return in(w, {"at", "on", "by", "before", "due", "for", "@", "around", "from"});
}

// Words after which an ambiguous weekday abbreviation ("sun") is read as a day.
bool is_day_cue(string_view w) {
  return in(
      w, {"on", "next",     "this", "every", "by", "until", "till",  "before",  "due",  "coming",  "and",
          "&",  "starting", "from", "each",  "to", "after", "since", "through", "thru", "between", "last"});
}

// Cue words after which a date is meant whatever follows it ("on Friday Night Lights").
bool is_strong_cue(string_view w) {
  return in(
      w, {"on",     "next", "this",     "coming", "upcoming", "every", "each",    "by",   "until",   "till",
          "before", "due",  "starting", "from",   "after",    "since", "through", "thru", "between", "last"});
}

// Words that join a date to a list's range: "after friday", "from monday to friday", "between … and …".
bool is_range_word(string_view w) {
  return in(w, {"after", "before", "since", "until", "till", "through", "thru", "from", "to", "between",
                "and", "by"});
}

// Words about dates that a list request must not search for as text ("tasks due after the holidays").
bool is_date_word(string_view w) {
  return is_range_word(w) ||
         in(w, {"during",  "last",    "ago",       "past",    "week",      "weeks",   "month",
                "months",  "year",    "years",     "days",    "yesterday", "today",   "tomorrow",
                "tonight", "morning", "afternoon", "evening", "night",     "weekend", "spring",
                "summer",  "autumn",  "fall",      "winter",  "quarter",   "o'clock"}) ||
         month_word(w) != 0 || weekday_word(w, true) >= 0 || ordinal_shape(w);
}

// "mon-fri", "monday-friday": the days from one to the other (bit 0 = Monday); 0 when not such a range.
unsigned weekday_range(string_view w) {
  if (w == "m-f") return 0x1f;  // "standup M-F 9am"
  const std::size_t dash = w.find('-');
  if (dash == string_view::npos) return 0;
  const int a = weekday_word(w.substr(0, dash), true);
  const int b = weekday_word(w.substr(dash + 1), true);
  if (a < 0 || b < 0 || a == b) return 0;
  unsigned mask = 0;
  for (int d = a;; d = (d + 1) % 7) {
    mask |= 1u << d;
    if (d == b) break;
  }
  return mask;
}

// Whether `s` holds a letter, a digit or a character beyond ASCII (an emoji names a task too): "...", "?!",
// "'" do not.
bool has_text(string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x80 || std::isalnum(c);
  });
}

class Parser {
 public:
  Parser(string_view text, const ParseContext& ctx, std::string& lower, std::vector<Token>& tokens,
         bool as_list = false)
      : text_(text), ctx_(ctx), t_(tokens), clk_(make_clock(ctx.zone, ctx.now)), as_list_(as_list) {
    tokenize(text, lower, t_);
    n_ = t_.size();
    if (ctx.titles)
      for (const auto& title : *ctx.titles) {
        std::string key = lower_unicode(collapse_space(title));
        longest_title_ = std::max(longest_title_, key.size());
        titles_.insert(std::move(key));
      }
  }

  Reading run();

 private:
  // ---- token helpers ----
  string_view low(std::size_t i) const { return i < n_ ? t_[i].low : string_view(); }
  bool is(std::size_t i, string_view w) const { return i < n_ && t_[i].low == w; }
  bool free(std::size_t i) const { return i < n_ && !t_[i].used && !t_[i].punct; }
  bool free_is(std::size_t i, string_view w) const { return free(i) && t_[i].low == w; }
  bool free_in(std::size_t i, std::initializer_list<string_view> set) const {
    return free(i) && in(low(i), set);
  }
  // Phrase of free words starting at i; its length or 0.
  std::size_t phrase(std::size_t i, std::initializer_list<string_view> words) const {
    std::size_t k = 0;
    for (auto w : words) {
      if (!free_is(i + k, w)) return 0;
      ++k;
    }
    return k;
  }
  // Whether a token in [a, b) writes a year (four digits in a row: "2027", "3/1/2027", "2027-03-01").
  bool names_a_year(std::size_t a, std::size_t b) const {
    for (std::size_t i = a; i < b && i < n_; ++i) {
      int run = 0;
      for (char c : low(i))
        if ((run = (c >= '0' && c <= '9') ? run + 1 : 0) == 4) return true;
    }
    return false;
  }
  // "2:15" without am/pm is read as 14:15, but 02:15 is as likely: not a confident reading.
  void ambiguous_time(int minute) {
    problem("a time without am/pm (read as " + std::to_string(minute / 60) + ":" +
            (minute % 60 < 10 ? "0" : "") + std::to_string(minute % 60) + ")");
  }
  std::size_t first_free() const {
    for (std::size_t i = 0; i < n_; ++i)
      if (free(i)) return i;
    return n_;
  }
  // The tokens of a list item's marker at the start: a bullet ("-", "*", "+", "•") or a number ("1.", "2)"),
  // then a box ("[ ]", "[x]"), either or both; 0 when there is none.
  std::size_t list_marker(std::size_t at = 0) const {
    const auto punct = [&](std::size_t i, string_view p) { return i < n_ && t_[i].punct && t_[i].low == p; };
    std::size_t i = at;
    if (at < n_ && !t_[at].punct && in(low(at), {"-", "*", "+", "\u2022"}))
      i = at + 1;
    else if (at + 1 < n_ && all_digits(low(at)) && low(at).size() <= 3 &&
             (punct(at + 1, ".") || punct(at + 1, ")")))
      i = at + 2;
    if (punct(i, "[")) {
      const std::size_t x = i + 1 < n_ && !t_[i + 1].punct && low(i + 1) == "x" ? i + 2 : i + 1;
      if (punct(x, "]")) i = x + 1;
    }
    return i;
  }
  // Whether token k starts a line: the first one, or one after a line break ('\n', '\r', NEL U+0085, the
  // separators U+2028/U+2029).
  bool line_start(std::size_t k) const {
    if (k == 0) return true;
    const string_view gap = text_.substr(t_[k - 1].end, t_[k].begin - t_[k - 1].end);
    return gap.find_first_of("\n\r") != string_view::npos || gap.find("\u0085") != string_view::npos ||
           gap.find("\u2028") != string_view::npos || gap.find("\u2029") != string_view::npos;
  }
  // How many lines of the message start with a list marker: "- buy milk\n- buy eggs" is a list pasted from
  // notes, several tasks.
  std::size_t listed_lines() const {
    std::size_t lines = 0;
    for (std::size_t k = 0; k < n_; ++k)
      if (line_start(k) && list_marker(k) > k) ++lines;
    return lines;
  }
  // "buy milk\ncall mom\npay rent": lines without markers pasted as one message, each with words of the
  // title (not "dentist\nfriday 3pm", whose second line is its date). A line that continues the one before
  // (it starts with a joining word, "call plumber\nabout the sink", or the one before ends with one or a
  // comma) is one with it. Several such lines, each short (up to 8 words, not a sentence ended by "."), are
  // several tasks: refused as a marked list is; a longer one is a note on the task, whose words would all be
  // its title: asked (a problem). Called on a create's reading, once the dates and the rest are read.
  void pasted_lines() {
    static constexpr std::size_t kShortLine = 8;
    const auto joins = [](string_view w) {
      return is_prep(w) ||
             in(w, {"and", "or", "but", "so", "to", "about", "with", "of", "in", "&", "then", "because"});
    };
    std::size_t lines = 0, first_a = n_, first_b = n_;
    bool long_line = false;
    for (std::size_t a = 0; a < n_;) {
      std::size_t b = a + 1;  // the line [a, b), continued lines included
      while (b < n_ && (!line_start(b) || joins(low(b)) || joins(low(b - 1)) ||
                        (t_[b - 1].punct && t_[b - 1].low == ",")))
        ++b;
      std::size_t words = 0;
      bool title = false;
      for (std::size_t k = a; k < b; ++k) {
        words += t_[k].punct ? 0 : 1;
        title = title || free(k);
      }
      if (title) {
        ++lines;
        long_line = long_line || words > kShortLine || (t_[b - 1].punct && t_[b - 1].low == ".");
        if (first_a == n_) {
          first_a = a;
          first_b = b;
        }
      }
      a = b;
    }
    if (lines < 2) return;
    if (long_line) {
      problem("a message of several lines, read as one task");
      return;
    }
    several_tasks(first_a, first_b);
  }
  // Several tasks in one message, which the dialog cannot add: refused, the words [a, b) of one as an
  // example.
  void several_tasks(std::size_t a, std::size_t b) {
    problem(
        "I can't add several tasks from one message: send each line of the list as a message of its own, "
        "e.g. " +
        quote(a, b));
    several_lines_ = true;
  }
  std::size_t last_free() const {
    for (std::size_t i = n_; i > 0; --i)
      if (free(i - 1)) return i - 1;
    return n_;
  }
  void take(std::size_t a, std::size_t b, std::optional<SpanKind> kind) {
    if (a >= b) return;
    for (std::size_t k = a; k < b && k < n_; ++k)
      t_[k].used = true;
    if (kind) spans_.push_back({t_[a].begin, t_[std::min(b, n_) - 1].end, *kind});
  }
  void problem(std::string p) { r_.problems.push_back(std::move(p)); }
  std::string quote(std::size_t a, std::size_t b) const {
    return "'" + std::string(text_.substr(t_[a].begin, t_[b - 1].end - t_[a].begin)) + "'";
  }
  // Back over free prepositions before a match at i.
  std::size_t back_prep(std::size_t i, string_view* prep) {
    std::size_t s = i;
    while (s > 0 && free(s - 1) &&
           (is_prep(low(s - 1)) || (update_like_ && in(low(s - 1), {"to", "until", "till"})))) {
      --s;
      if (prep && prep->empty()) *prep = low(s);
      if (in(low(s), {"to", "until", "till"})) to_prep_ = true;
    }
    // "pay bills no later than the 15th", "not later than friday": a deadline, as "by" is
    if (s >= 3 && free_in(s - 3, {"no", "not"}) && phrase(s - 2, {"later", "than"})) {
      s -= 3;
      if (prep && prep->empty()) *prep = "by";
    }
    // "push the report back to friday", "move X forward to monday": the new date says where; the direction
    // before it is no part of the task's name
    if (mover_ && s < i && low(s) == "to" && s > 0 &&
        free_in(s - 1, {"back", "forward", "forwards", "ahead", "up", "out"}))
      --s;
    return s;
  }

  // An ordinal before a noun is no date: "5th Avenue", "the 2nd interview", "the 3rd quarter review". A
  // date's ordinal ends the message or comes before a date or time word, a preposition or a conjunction ("on
  // the 2nd", "the 2nd at 9am", "the 2nd of March", "by the 3rd, please"), a number, a tag or punctuation.
  bool ordinal_noun(std::size_t i) const {
    if (i + 1 >= n_ || t_[i + 1].punct) return false;
    const string_view next = low(i + 1);
    if (next.empty() || next[0] < 'a' || next[0] > 'z') return false;  // "the 2nd 9am", "#home"
    if (continues_date(next)) return fixed_ordinal_noun(i);
    return true;
  }
  static bool continues_date(string_view w) {
    return (is_date_word(w) && w != "quarter") ||
           in(w, {"of",     "at",       "on",     "in",      "by",      "before",    "after",  "from",
                  "to",     "until",    "till",   "through", "thru",    "and",       "or",     "for",
                  "every",  "each",     "this",   "next",    "with",    "please",    "pls",    "starting",
                  "around", "about",    "am",     "pm",      "a.m",     "p.m",       "noon",   "midnight",
                  "midday", "eod",      "sharp",  "urgent",  "asap",    "important", "high",   "low",
                  "medium", "priority", "remind", "again",   "too",     "also",      "then",   "so",
                  "but",    "if",       "when",   "as",      "instead", "latest",    "not",    "p1",
                  "p2",     "p3",       "p4",     "daily",   "weekly",  "monthly",   "yearly", "annually",
                  "is",     "are",      "it",     "that",    "which",   "was",       "will",   "we",
                  "i",      "you",      "they"});
  }
  // Nouns that follow an ordinal whatever comes after them.
  bool fixed_ordinal_noun(std::size_t i) const {
    return in(low(i + 1), {"avenue",  "ave",      "street",    "st",     "floor",   "grade",    "place",
                           "road",    "rd",       "boulevard", "blvd",   "lane",    "birthday", "anniversary",
                           "edition", "century",  "row",       "period", "round",   "grader",   "amendment",
                           "time",    "attempt",  "try",       "level",  "chapter", "gear",     "installment",
                           "payment", "semester", "term",      "draft",  "version", "person",   "week",
                           "weeks",   "weekend"});
  }
  // A free word at j that opens a noun, no date, time, unit, recurrence or joining word: "schedule" in "check
  // Mon-Fri schedule", "report" in "submit weekly report", "meeting" in "prep for tuesday meeting".
  bool noun_at(std::size_t j) const {
    if (!free(j)) return false;
    const string_view w = low(j);
    return !w.empty() && w[0] >= 'a' && w[0] <= 'z' && !continues_date(w) && !unit_word(w) &&
           weekday_range(w) == 0 &&
           !in(w, {"weekday", "weekdays", "weekends", "workday", "workdays", "biweekly", "fortnightly",
                   "quarterly", "every!", "thanks", "thx", "sharp", "o'clock", "oclock", "ish"});
  }
  // "before flight", "before the movie", "before bed": "before" at j and a noun after it (an article or a
  // possessive may come first) naming an event, no date ("before christmas", "before the 15th") nor the due
  // date ("before the due date", "before it's due").
  bool before_event(std::size_t j) {
    if (!free_is(j, "before")) return false;
    std::size_t m = j + 1;
    if (free_in(m, {"the", "my", "your", "his", "her", "our", "their", "a", "an"})) ++m;
    if (!noun_at(m) || is_date_word(low(m)) || in(low(m), {"due", "deadline", "it's", "its", "it"}))
      return false;
    DatePart d;
    bool bad = false;
    const std::size_t problems = r_.problems.size();  // a probe: "before thanksgiving" is read later
    const bool date = match_date(j + 1, d, bad) != 0;
    r_.problems.resize(problems);
    return !date;
  }
  // The end of the words naming the event after "before" (from due_ref_b_): up to a word read otherwise, a
  // mark, or the "to" before the task's words ("mom's birthday" in "remind me 2 days before mom's birthday to
  // buy a gift").
  std::size_t event_end() const {
    std::size_t e = due_ref_b_;
    while (e < n_ && free(e) && e != due_ref_to_)
      ++e;
    return e;
  }
  // "in 2 weeks time", "in 2 weeks' time" (British): the words after "in <amount>" that end it, 0 when none.
  std::size_t time_suffix(std::size_t j) const {
    if (free_is(j, "time")) return 1;
    const bool quote =
        j < n_ && !t_[j].used && t_[j].punct && t_[j].low == "'" && j > 0 && t_[j - 1].end == t_[j].begin;
    return quote && free_is(j + 1, "time") ? 2 : 0;
  }
  // "check in 2 days", "sign in", "log in": "in" at i ends a verb that starts the title, no cue of the date
  // after it ("check" in 2 days would lose the verb's "in").
  bool verb_in(std::size_t i) const {
    return i > 0 && free_in(i, {"in"}) && i - 1 == body_start_ &&
           free_in(i - 1, {"check", "sign", "log", "clock", "punch", "hand", "fill", "move", "plug", "tune",
                           "weigh", "opt", "pencil", "cash", "chip"});
  }
  // A plural noun at j ("tickets", "seats"): a noun ending in a plural "s" (not "class", "bus", "tennis").
  bool plural_noun_at(std::size_t j) const {
    if (!noun_at(j)) return false;
    const string_view w = low(j);
    return w.size() >= 4 && w.back() == 's' && !w.ends_with("ss") && !w.ends_with("us") &&
           !w.ends_with("is") && w.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") == string_view::npos;
  }
  string_view raw_of(std::size_t i) const { return i < n_ ? t_[i].raw : string_view(); }
  // A word written with a capital first letter ("Friday", "FRIDAY").
  bool capital(std::size_t i) const {
    return i < n_ && !t_[i].punct && !t_[i].raw.empty() && t_[i].raw[0] >= 'A' && t_[i].raw[0] <= 'Z';
  }
  // A house or room number, no time, after "at": one with letters that write no time ("at 221b baker street",
  // "at 2B conference room": any word after it), or a number before one to three words that end in a street
  // word ("at 10 Downing Street", "at 350 Fifth Avenue", "at 1234 Elm St"). "at 9h30", "at 5ish", "at 5
  // pm", "at 5 on Main Street" stay times.
  bool address_number(std::size_t i) const {
    if (i >= n_ || t_[i].punct) return false;
    const string_view w = low(i);
    const std::size_t digits = std::min(w.find_first_not_of("0123456789"), w.size());
    if (digits == 0 || digits > 5) return false;
    const string_view letters = w.substr(digits);
    if (letters.size() > 2 || letters.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != string_view::npos ||
        in(letters, {"a", "p", "am", "pm", "h", "hr", "hs", "m", "mn", "st", "nd", "rd", "th"}))
      return false;
    const auto word = [&](std::size_t k) {
      return k < n_ && !t_[k].punct && !low(k).empty() && low(k)[0] >= 'a' && low(k)[0] <= 'z';
    };
    if (!letters.empty()) return word(i + 1);
    for (std::size_t k = i + 1; k <= i + 4 && word(k); ++k) {
      const string_view x = low(k);
      if (k > i + 1 && in(x, {"street",  "st",        "avenue",  "ave",    "road",  "rd",      "lane",
                              "ln",      "boulevard", "blvd",    "drive",  "dr",    "way",     "place",
                              "pl",      "court",     "ct",      "square", "sq",    "terrace", "crescent",
                              "highway", "hwy",       "parkway", "pkwy",   "plaza", "circle",  "loop"}))
        return true;
      if (continues_date(x) || x.find('\'') != string_view::npos ||
          in(x, {"the", "a", "an", "my", "your", "his", "her", "our", "their"}))
        return false;
    }
    return false;
  }
  // A fraction or ratio, no date: a year-less "N/M" before a unit of measure, wherever it is ("add 1/2 cup
  // sugar", "3/4 tsp salt", "take 1/2 day off friday"), or inside the message, after no cue word, before "of"
  // or a word that is no date, time or joining word ("buy 1/2 gallon milk", "sell 2/3 of shares", "listen to
  // 24/7 podcast"). "call dad 3/5", "3/5 dentist", "dentist 3/5 at 9am", "on 3/5 …" are dates.
  bool quantity_slash(std::size_t i) const {
    const string_view w = low(i);
    const std::size_t slash = w.find('/');
    if (i >= n_ || slash == string_view::npos || !all_digits(w.substr(0, slash)) ||
        !all_digits(w.substr(slash + 1)))
      return false;
    const string_view next = i + 1 < n_ && !t_[i + 1].punct ? low(i + 1) : string_view();
    if (measure_word(next) || unit_word(next)) return true;
    if (i > 0 && is_strong_cue(low(i - 1))) return false;
    // "split bill 50/50", "60/40 split": neither number can be a day or a month: a ratio; so are numbers that
    // add up to 100, a split in percent ("split rent 70/30": a month and a day add up to 43 at most).
    // ("dentist 13/45" may be a mistyped date, and after a cue word, "on 50/50", it is one: unreadable, not
    // guessed.)
    const auto number = [](string_view x) { return x.size() <= 3 ? std::stoi(std::string(x)) : 1000; };
    if (slash > 0 && slash + 1 < w.size()) {
      const int a = number(w.substr(0, slash)), b = number(w.substr(slash + 1));
      if ((a > 31 && b > 31) || a + b == 100) return true;
    }
    if (i <= body_start_) return false;
    return !next.empty() && next[0] >= 'a' && next[0] <= 'z' && (next == "of" || !continues_date(next));
  }
  // A number of something measured after "at", no time: "change oil at 5000 miles", "bake at 350 degrees".
  bool measured_number(std::size_t i) const {
    return i + 1 < n_ && !t_[i].punct && all_digits(low(i)) && free(i + 1) &&
           (measure_word(low(i + 1)) ||
            in(low(i + 1), {"degrees", "degree", "percent", "mph", "psi", "rpm"}));
  }
  // A word that follows an amount of something measured: "1/2 cup", "3/4 inch".
  static bool measure_word(string_view w) {
    return in(w,
              {"cup",       "cups",   "tbsp",   "tbs",     "tablespoon", "tablespoons", "tsp",    "teaspoon",
               "teaspoons", "oz",     "ounce",  "ounces",  "lb",         "lbs",         "pound",  "pounds",
               "gram",      "grams",  "kg",     "kilo",    "kilos",      "ml",          "liter",  "liters",
               "litre",     "litres", "gallon", "gallons", "gal",        "quart",       "quarts", "qt",
               "pint",      "pints",  "inch",   "inches",  "ft",         "foot",        "feet",   "yard",
               "yards",     "yd",     "mile",   "miles",   "km",         "cm",          "mm",     "meter",
               "meters",    "metre",  "metres", "stick",   "sticks",     "dozen",       "pinch",  "clove",
               "cloves",    "slice",  "slices", "serving", "servings"});
  }
  // "renew passport by april", "file taxes due april", "daily until june": a month after a deadline word in a
  // create, without its day. Its start or its end? Not guessed: a problem (a list reads the whole month).
  bool deadline_month(std::size_t i) const {
    return !list_ && i > 0 && free(i) && month_word(low(i)) &&
           free_in(i - 1, {"by", "before", "due", "until", "till", "through", "thru"});
  }
  // A day word that is part of a name, not a date: a weekday after a word that makes it a named day ("Black
  // Friday sale", "Cyber Monday", "vote on Super Tuesday") or a title ("Dr. Friday"), or a capitalised
  // weekday, today, tonight or tomorrow that starts a run of capitalised words holding one that is no date,
  // time or joining word ("watch Friday Night Lights", "teach Sunday School", "reply to Sun Microsystems",
  // "watch The Tonight Show", "watch Tomorrow Never Dies"). "call mom friday", "Friday: call mom", "Call Mom
  // Friday Night", "Call Mom Friday At 3pm" keep their date, and so does a day after a cue word ("on Friday
  // Night Lights" is on Friday). Returns the end of the name (the token after it), or i when the word is
  // none.
  std::size_t day_name(std::size_t i) const {
    if (i >= n_ || t_[i].punct) return i;
    const bool weekday = weekday_word(low(i), true) >= 0;
    if (!weekday && !in(low(i), {"today", "tonight", "tomorrow"})) return i;
    if (weekday && i > 0 && !t_[i - 1].punct &&
        in(low(i - 1), {"black", "good", "cyber", "super", "ash", "holy", "maundy", "shrove", "palm",
                        "easter", "giving", "fat", "bowl", "casual", "throwback", "taco", "meatless"}))
      return i + 1;
    if (weekday && i > 1 && t_[i - 1].low == "." && in(low(i - 2), {"dr", "mr", "mrs", "ms", "prof"}))
      return i + 1;
    // "watch friday night lights", "play monday blues playlist", "join tuesday club": a weekday between title
    // words, right before a noun (or a part of the day and a noun), names a thing, in any case: its words are
    // not cut out of the title. At the start ("friday night drinks"), at the end ("drinks friday night"), or
    // after a cue or a preposition ("on friday night lights", "prep for tuesday meeting") it is the date.
    if (weekday && i > body_start_ && free(i - 1) && !is_prep(low(i - 1)) && !is_day_cue(low(i - 1)) &&
        !is_strong_cue(low(i - 1)) && !in(low(i - 1), {"is", "are", "was", "upcoming"}) &&
        weekday_word(low(i), true) >= 0 && weekday_range(low(i)) == 0) {
      bool plural = false;
      weekday_word(low(i), true, &plural);
      const std::size_t part = free_in(i + 1, {"morning", "afternoon", "evening", "night"}) ? 1 : 0;
      // (not before a determiner, "call mom friday the 13th", nor an ordinal, "monday morning first thing")
      if (!plural && noun_at(i + 1 + part) && !ordinal_word(low(i + 1 + part)) &&
          !in(low(i + 1 + part), {"the", "a", "an", "my", "your", "his", "her", "our", "their", "these",
                                  "those", "some", "me", "him", "them", "us"}))
        return i + 1 + part;
    }
    if (!capital(i) || (i > 0 && is_strong_cue(low(i - 1)))) return i;
    for (std::size_t k = i + 1; capital(k); ++k) {
      if (in(low(k), {"night", "morning", "afternoon", "evening"})) continue;  // "Friday Night Lights"
      if (continues_date(low(k))) return i;
      std::size_t end = k + 1;
      while (capital(end))
        ++end;
      return end;
    }
    return i;
  }

  // "brunch sun 11am", "dinner sat at 8pm", "standup wed morning": a time (or "at" and a time, or a part of
  // the day) right after the word at i makes an ambiguous weekday abbreviation ("sun", "sat", "wed") the day.
  // Not after a word that opens a noun ("lie in the sun at 3pm", "get some sun at noon").
  bool time_follows(std::size_t i) const {
    if (i + 1 >= n_ || !free(i + 1)) return false;
    if (i > 0 && !t_[i - 1].punct && in(low(i - 1), {"the",    "a",  "an",   "some",  "more", "much", "no",
                                                     "enough", "my", "your", "his",   "her",  "our",  "their",
                                                     "its",    "in", "into", "under", "of",   "from", "out"}))
      return false;
    std::size_t k = i + 1;
    if (in(low(k), {"noon", "midday", "midnight", "morning", "afternoon", "evening", "night"})) return true;
    const bool at = in(low(k), {"at", "@"});
    if (at) ++k;
    if (!free(k)) return false;
    if (at && in(low(k), {"noon", "midday", "midnight"})) return true;
    if (at && (address_number(k) || measured_number(k))) return false;
    const auto c = clock_word(low(k), free(k + 1) ? low(k + 1) : string_view(), at);
    return c && c->minute >= 0 && (at || c->strong);
  }

  // A date `d` read in [a, b) counted `by` days from its first day ("the day before christmas": -1, "2 days
  // after christmas": 2): one day, all-day unless a time is said.
  void take_date_counted(std::size_t a, std::size_t b, DatePart& d, bool bad, int by) {
    d.at = a;
    const std::size_t s = back_prep(a, &d.prep);
    if (bad) {
      unreadable_ = true;
      take(s, b, std::nullopt);
      return;
    }
    d.day = d.range_start = d.range_start + days(by);
    d.range_days = 1;
    d.default_minute = kNoTime;
    d.weekday_only = false;
    (reminder_mode_ ? rdates_ : dates_).push_back(d);
    take(s, b, SpanKind::date);
    if (!reminder_mode_) take_copula(s);
  }

  // "the meeting is at 10am tomorrow", "my flight is on friday": the "is" joining a subject to its date or
  // time is no part of the title ("the meeting"). Not after a question word ("figure out what the problem
  // is tomorrow"), nor before a deadline ("the essay is by friday" keeps it).
  void take_copula(std::size_t s) {
    if (r_.intent != Intent::create || list_ || s < 2 || s - 1 <= body_start_ ||
        !free_in(s - 1, {"is", "are"}))
      return;
    if (is_prep(low(s)) && !in(low(s), {"at", "on", "@", "around", "from"})) return;
    for (std::size_t k = body_start_; k + 1 < s; ++k)
      if (free_in(k, {"what", "who", "whom", "where", "why", "how", "which", "when", "whether", "if"}))
        return;
    take(s - 1, s, std::nullopt);
  }

  // ---- grammars ----
  std::size_t match_amount(std::size_t i, int& n, Unit& u) const;
  std::size_t odd_amount(std::size_t i) const;
  std::size_t match_date(std::size_t i, DatePart& d, bool& bad);
  std::size_t match_time(std::size_t i, TimePart& t, bool& bad);
  std::size_t match_month_day(std::size_t i, DatePart& d, bool& bad, bool yearly = false);
  // After a separator of a list's items at j ("," "and" "&" ", and"); j when there is none.
  std::size_t list_separator(std::size_t j) const {
    std::size_t s = j;
    if (s < n_ && t_[s].punct && t_[s].low == ",") ++s;
    if (free_in(s, {"and", "&"})) ++s;
    return s;
  }
  std::size_t match_weekday_list(std::size_t i, unsigned& mask) const;
  // A week named from this one at k: "this week" (0), "next week" / "next wk" (1), "(the) week after next"
  // (2); the words' length, 0 when there are none.
  std::size_t week_phrase(std::size_t k, int& weeks) const {
    if (phrase(k, {"the", "week", "after", "next"})) return weeks = 2, 4;
    if (phrase(k, {"week", "after", "next"})) return weeks = 2, 3;
    if (free_in(k, {"this", "next"}) && free_in(k + 1, {"week", "wk"})) return weeks = low(k) == "next", 2;
    return 0;
  }
  std::size_t match_ordinals(std::size_t i, Ordinals& out) const;
  std::size_t ordinal_rule(std::size_t e, const Ordinals& o, bool days, Rule& r) const;
  std::size_t match_ordinals_of_month(std::size_t i, Rule& r) const;
  // "(at|by|on) (the) end of every/each month": the end of those words, 0 when they are none.
  std::size_t end_of_every_month(std::size_t i) const {
    std::size_t k = i + (free_in(i, {"at", "by", "on"}) ? 1 : 0);
    if (free_is(k, "the")) ++k;
    return phrase(k, {"end", "of"}) && free_in(k + 2, {"every", "each"}) && free_is(k + 3, "month") ? k + 4
                                                                                                    : 0;
  }
  std::size_t match_recurrence(std::size_t i);
  std::size_t match_times_per(std::size_t i);
  // "Weekly review every friday": a recurrence adverb that starts the message is part of the title when
  // another recurrence follows.
  bool later_recurrence(std::size_t i) const {
    for (std::size_t k = i + 1; k < n_; ++k)
      if (in(low(k), {"every", "every!", "daily", "weekly", "monthly", "yearly", "annually"})) return true;
    return false;
  }
  std::size_t match_rule_tail(std::size_t j, Rule& r);
  std::size_t match_priority(std::size_t i);
  std::size_t match_tags(std::size_t i);
  bool match_shift(std::size_t i);
  bool slots_at(std::size_t i);
  void extract();

  // ---- intents ----
  bool whole_message();
  void detect_command();
  void finish_dates();
  void finish_list();
  void list_dates(Query& q);
  std::string residual(std::size_t from = 0, std::size_t to = std::string::npos) const;
  static std::string clean_title(std::string s);
  static std::string clean_target(std::string s);
  void finish_spans();

  void cant_end_until();
  std::optional<local_days> resolve_day_of_month(int day);
  local_days first_occurrence(local_days from, int minute, bool& found) const;
  std::optional<Instant> combine(const std::vector<DatePart>& ds, const std::vector<TimePart>& ts,
                                 const std::vector<Instant>& rel, bool& all_day, bool for_reminder);
  static bool fit_day_part(const TimePart& t, int part, bool from_date, int& minute, bool& next_day);
  std::optional<int> range_start(const std::string& first, const ClockRead& b, std::size_t qa,
                                 std::size_t qb);

  string_view text_;
  const ParseContext& ctx_;
  std::vector<Token>& t_;
  std::size_t n_ = 0;
  Clock clk_;
  Reading r_;
  std::vector<Span> spans_;
  double conf_ = 0.9;
  bool as_list_ = false;
  bool untag_ = false;  // "remove tag X from Y", "untag Y X": not something the dialog can do  // read again
                        // as a list: "tasks due this week" had no command word
  bool update_like_ = false;
  bool mover_ = false;          // a verb that moves a task: "by 2 days" after it is a shift
  bool bring_ = false;          // "bring/pull X forward": forward is earlier
  bool after_date_ = false;     // "pay bill after friday": due the day after a date
  bool several_lines_ = false;  // "- buy milk\n- buy eggs": a pasted list, several tasks
  bool no_rule_due_ = false;    // "gym every monday or tuesday at 7am": no rule, and so no due date
  std::string cant_;            // "snooze the dentist": what the dialog cannot do, said instead of a task
  // "2 days before due date" without "remind me": a reminder only when the task has a due date
  std::size_t due_ref_a_ = 0, due_ref_b_ = 0, due_ref_offset_ = 0;  // offset SIZE_MAX: none ("6 months")
  std::string due_ref_problem_;  // "6 months before": unreadable as a reminder, if the task has a due date
  // "take pill 1 hour before bed tonight": the amount counts from an event the words name (bed), not from the
  // task's due date: the title's, unless the message gives the event's time ("before dinner at 6pm")
  bool due_ref_event_ = false;
  // "remind me 24 hours before flight to check in": the "to" before the task's words (n_: none)
  std::size_t due_ref_to_ = SIZE_MAX;
  bool task_after_to_ = false;  // the title is the words after due_ref_to_, then those before it
  // "remind me 1 hour before the meeting tomorrow at 3pm": nothing before the amount and no "to" after the
  // event: the event is the task to remind of, the date and time said its time
  bool remind_before_event_ = false;
  std::string
      unknown_event_;  // "remind me to check in 24 hours before flight": 'flight', whose time is not given
  // "remind me the night before": that part of the day (minute) the day before the due day
  int part_before_ = kNoTime;
  std::size_t part_before_a_ = 0;
  std::optional<Shift> shift_;
  bool shift_bad_ = false;      // a move by an amount that was not read ("by 1.5 days", "forward a day")
  bool remind_lead_ = false;    // the message starts with "remind me"
  bool reminder_mode_ = false;  // dates and times after a mid-text "remind me" belong to the reminder
  std::size_t remind_from_ = SIZE_MAX;  // the first word of the reminder's part (reminder_mode_)
  bool reminder_unread_ = false;        // a date or time in the reminder's part could not be read
  bool list_ = false;
  bool unreadable_ = false;       // something date- or time-like could not be read: no due date at all
  bool reminder_passed_ = false;  // "remind me to X today" after 09:00: no reminder (it would fire late)
  bool to_prep_ = false;          // a date or time came after "to"/"until" ("move X to friday")
  bool priority_via_to_ = false;
  bool ambiguous_verb_ = false;  // make/set/change/update/edit: an update only with a sign of one
  bool yesno_ =
      false;  // "have I paid rent", "is the report done": whether tasks are done (open and done ones)
  std::size_t cmd_a_ = 0, cmd_b_ = 0;
  std::size_t body_start_ = 0;
  // The words after a command that spell one of the user's task titles (ParseContext::titles): no date,
  // recurrence, priority or tag is read in them, and they are the target (or the search) as written.
  // A rename's new title after such a name ("rename plan today to plan tomorrow") is taken as written too.
  std::size_t name_a_ = 0, name_b_ = 0, new_a_ = 0, new_b_ = 0;
  bool named(std::size_t i) const {
    return (i >= name_a_ && i < name_b_) || (i >= new_a_ && i < new_b_) || (i >= work_a_ && i < work_b_);
  }
  // "watch The Day After Tomorrow": a date phrase led by a capitalised "The" after a lower-case word and
  // written in capitals to the end of its run is the name of a work (a film, a book), no date: its words are
  // kept whole in the title, the target or the search. ("call The Bank Tomorrow" keeps its date: "The Bank"
  // is no date phrase.)
  std::size_t work_a_ = 0, work_b_ = 0;
  void protect_work_name() {
    for (std::size_t i = 1; i < n_; ++i) {
      if (!free(i) || !capital(i) || low(i) != "the" || t_[i - 1].punct || t_[i - 1].raw.empty() ||
          t_[i - 1].raw[0] < 'a' || t_[i - 1].raw[0] > 'z' || is_strong_cue(low(i - 1)))
        continue;
      std::size_t end = i + 1;
      while (capital(end))
        ++end;
      const std::size_t problems = r_.problems.size();
      DatePart d;
      bool bad = false;
      const std::size_t k = match_date(i, d, bad);
      r_.problems.resize(problems);
      if (k < 2 || i + k > end) continue;
      work_a_ = i;
      work_b_ = end;
      take(i, end, std::nullopt);
      return;
    }
  }
  std::unordered_set<std::string> titles_;  // ParseContext::titles in lower case, single-spaced
  std::size_t longest_title_ = 0;
  bool add_tag_ = false;  // "add tag work to weekly report"
  // Words a problem refused whole ("twice a day", "every 12 hours"): they stay in the title, unread, and no
  // other problem quotes them again.
  std::vector<std::pair<std::size_t, std::size_t>> refused_;
  // The words of a recurrence refused whole ("every monday or tuesday", "twice a week"): a create's title
  // keeps them, but they name no task ("make gym recurring every monday or tuesday" is about "gym").
  std::vector<std::pair<std::size_t, std::size_t>> refused_rule_;
  bool refused(std::size_t i) const {
    return std::any_of(refused_.begin(), refused_.end(),
                       [&](const auto& r) { return i >= r.first && i < r.second; });
  }
  // The end of the longest run of unused words from `a` that spells one of the user's titles; `a` when none.
  std::size_t title_end(std::size_t a) const {
    if (titles_.empty() || a >= n_ || t_[a].used) return a;
    // Bounded by the words' own lengths (the message may space them more widely than the title does).
    std::size_t b = a, letters = 0;
    while (b < n_ && !t_[b].used && (letters += t_[b].end - t_[b].begin) <= longest_title_)
      ++b;
    // A title may end in punctuation ("standup (daily)"); the user's titles are the words' judge.
    for (; b > a; --b)
      if (titles_.contains(
              lower_unicode(collapse_space(text_.substr(t_[a].begin, t_[b - 1].end - t_[a].begin)))))
        return b;
    return a;
  }
  void protect_name();
  // The free words in [a, b) as tags ("tag groceries with home and errands", "add tag work to …").
  void take_tag_words(std::size_t a, std::size_t b) {
    for (std::size_t j = a; j < b; ++j) {
      if (!free(j) || in(low(j), {"and", "&"})) continue;
      std::string tag(low(j));
      if (!tag.empty() && tag[0] == '#') tag.erase(0, 1);
      if (!tag.empty() && std::find(r_.tags.begin(), r_.tags.end(), tag) == r_.tags.end())
        r_.tags.push_back(tag);
      take(j, j + 1, SpanKind::tag);
    }
  }
  void revert_command() {
    for (std::size_t k = cmd_a_; k < cmd_b_ && k < n_; ++k)
      t_[k].used = false;
    if (cmd_a_ < n_)
      std::erase_if(spans_, [&](const Span& sp) {
        return sp.kind == SpanKind::command && sp.start == t_[cmd_a_].begin;
      });
  }
  // The "or" right after recurrence span `sp` ("every monday or …"), or 0 when none follows it.
  std::size_t or_after(const Span& sp) const {
    std::size_t k = 0;
    while (k < n_ && t_[k].begin < sp.end)
      ++k;
    return k > 0 && t_[k - 1].end == sp.end && free_is(k, "or") && k + 1 < n_ ? k : 0;
  }
  // Gives span `sp`'s words before token k back to the title; its first word.
  std::size_t unread(const Span& sp, std::size_t k) {
    std::size_t a = k;
    for (std::size_t m = 0; m < k; ++m)
      if (t_[m].begin >= sp.start) {
        t_[m].used = false;
        a = std::min(a, m);
      }
    return a;
  }
  // "oil change every 3 months or 3000 miles": a recurrence with another measure joined by "or" (whichever
  // comes first) is no rule a task can have (it repeats by time only): the words stay in the title whole
  // ("oil change or 3000 miles" lost them), as a problem, so that the dialog asks.
  void recurrence_or_measure() {
    if (!rule_) return;
    for (std::size_t s = 0; s < spans_.size(); ++s) {
      const Span sp = spans_[s];
      if (sp.kind != SpanKind::recurrence) continue;
      const std::size_t k = or_after(sp);
      if (!(k > 0 && free(k + 1) && low(k + 1).find_first_of("0123456789") == 0)) continue;
      std::size_t unit = k + 2;  // after the amount, its digit groups too ("5,000 km")
      while (unit + 1 < n_ && t_[unit].punct && t_[unit].low == "," && t_[unit].begin == t_[unit - 1].end &&
             t_[unit + 1].begin == t_[unit].end && all_digits(low(unit + 1)))
        unit += 2;
      if (!(free(unit) && low(unit)[0] >= 'a' && low(unit)[0] <= 'z' && !unit_word(low(unit)) &&
            !is_date_word(low(unit))))
        continue;
      const std::size_t a = unread(sp, k);
      refused_rule_.emplace_back(a, unit + 1);
      // "make gym recurring every 3 months or 3000 miles" has nothing to offer: refused as "every monday or
      // tuesday" is, naming what it can't do (it was "I'm not sure I understood", asking to say it another
      // way)
      if (r_.intent == Intent::make_recurring)
        problem("I can't repeat a task " + quote(a, unit + 1) + ": a task repeats by time only, not by " +
                quote(k, unit + 1) + " (say " + quote(a, k) + " alone to repeat it by time)");
      else
        problem("a repeat by time or by another measure " + quote(a, unit + 1) +
                ": a task repeats by time only (say " + quote(a, k) + " alone to repeat it)");
      spans_.erase(spans_.begin() + static_cast<std::ptrdiff_t>(s));
      rule_.reset();
      return;
    }
  }
  // "gym every monday or tuesday", "every monday, wednesday or friday", "every day or two", "every month or
  // so": a recurrence and another day or amount joined by "or" says no set days, which a rule needs ("gym or"
  // was a task every Monday, the other day lost). No rule: refused with a pointer (the dialog says it and
  // offers nothing), the words kept in the title, no due date from them.
  void recurrence_or_alternative() {
    if (!rule_) return;
    for (std::size_t s = 0; s < spans_.size(); ++s) {
      const Span sp = spans_[s];
      if (sp.kind != SpanKind::recurrence) continue;
      const std::size_t k = or_after(sp);
      if (k == 0 || t_[k + 1].punct) continue;
      // The other one read as a date or a recurrence of its own ("or tuesday", "or every tuesday") is no
      // date either: back to the title.
      const std::size_t other = static_cast<std::size_t>(
          std::find_if(spans_.begin(), spans_.end(),
                       [&](const Span& o) {
                         return o.start == t_[k + 1].begin &&
                                (o.kind == SpanKind::date || o.kind == SpanKind::recurrence);
                       }) -
          spans_.begin());
      const string_view w = low(k + 1);  // another day or amount, not another thing ("or get evicted")
      if (other == spans_.size() &&
          !(free(k + 1) &&
            ((w[0] >= '0' && w[0] <= '9') || number_word(w) || ordinal_word(w) || unit_word(w) ||
             (is_date_word(w) && !is_range_word(w)) || in(w, {"so", "every", "each", "on"}))))
        continue;
      std::size_t alt = k + 1;  // its last word: "or every tuesday", "or on tuesdays"
      if (other < spans_.size()) {
        while (alt + 1 < n_ && t_[alt + 1].end <= spans_[other].end)
          ++alt;
        for (std::size_t m = k + 1; m <= alt; ++m)
          t_[m].used = false;
        spans_.erase(spans_.begin() + static_cast<std::ptrdiff_t>(other));
        if (other < s) --s;
      } else if (in(low(alt), {"every", "each", "on"}) && free(alt + 1)) {
        ++alt;
      }
      const std::size_t a = unread(sp, k);
      const bool day = weekday_word(low(alt), true) >= 0;
      // one said with "and" instead, as a pointer: "every monday and tuesday"
      const std::string both = std::string(text_.substr(t_[a].begin, t_[k - 1].end - t_[a].begin)) + " and " +
                               std::string(text_.substr(t_[k + 1].begin, t_[alt].end - t_[k + 1].begin));
      refused_rule_.emplace_back(a, alt + 1);
      problem("I can't repeat a task " + quote(a, alt + 1) +
              ": a task repeats on set days, not on one or another (say which, e.g. " + quote(a, k) +
              (day ? ", or all of them, '" + both + "')" : ")"));
      spans_.erase(spans_.begin() + static_cast<std::ptrdiff_t>(s));
      rule_.reset();
      no_rule_due_ = true;
      return;
    }
  }
  // "change priority of weekly report to urgent", "tag weekly report with finance", "move weekly report to
  // monday" with no task "weekly report" known: recurrence words between the command and the word that starts
  // the change ("to", "as", "with", "for", "into") are the name's, never a new schedule nobody asked for.
  // They go back to the name (before the dates are read, so that no due date comes from them) and the update
  // stays what it was, with a problem: the name was not seen whole. (With a recurrence after that word too,
  // the update keeps the problem alone, below.)
  void recurrence_in_name() {
    if (r_.intent != Intent::update || !rule_ || name_b_ != name_a_ || cmd_b_ <= cmd_a_) return;
    std::size_t sep = cmd_b_;
    while (sep < n_ && !in(low(sep), {"to", "as", "with", "for", "into"}))
      ++sep;
    if (sep >= n_) return;
    const auto in_name = [&](const Span& sp) {
      return sp.start >= t_[cmd_b_ - 1].end && sp.start < t_[sep].begin;
    };
    bool named = false;
    for (const auto& sp : spans_) {
      if (sp.kind != SpanKind::recurrence) continue;
      if (!in_name(sp)) return;
      named = true;
    }
    if (!named) return;
    for (const auto& sp : spans_)
      if (sp.kind == SpanKind::recurrence)
        for (std::size_t k = 0; k < n_; ++k)
          if (t_[k].begin >= sp.start && t_[k].end <= sp.end) t_[k].used = false;
    std::erase_if(spans_, [](const Span& sp) { return sp.kind == SpanKind::recurrence; });
    rule_.reset();
    problem("a recurrence word in the task's name?");
  }

  std::vector<DatePart> dates_;
  std::vector<TimePart> times_;
  std::vector<Instant> rels_;
  std::vector<DatePart> rdates_;
  std::vector<TimePart> rtimes_;
  std::vector<Instant> rrels_;
  std::optional<Rule> rule_;
  std::size_t title_adverb_ =
      0;  // 1 + the recurrence adverb that starts a create before a noun ("Weekly sync")
  std::optional<local_days> start_;
  std::optional<local_days> until_;
  bool until_weekday_ = false;  // "until friday": a bare weekday, the one after a start before it
  std::vector<std::uint32_t>
      bound_spans_;  // where the spans of "starting …", "until …" start: dates without a rule
  int count_ = 0;
  int for_n_ = 0;  // "for 10 days" with a recurrence: -1 when the amount is unreadable
  Unit for_unit_ = Unit::day;
  std::size_t for_a_ = 0, for_b_ = 0;
  std::size_t bad_until_a_ = 0, bad_until_b_ = 0;  // an end date that was not read ("until feb 30")
  bool after_completion_ = false;
  std::vector<std::chrono::seconds> offsets_;
  std::vector<string_view> filter_words_;
  bool overdue_ = false;
  string_view date_how_;  // a list's word joining its first date: "after", "by", "from", …
  std::optional<std::string> status_;
  std::optional<bool> has_due_;
};

// ---------------------------------------------------------------- amounts, dates, times

std::size_t Parser::match_amount(std::size_t i, int& n, Unit& u) const {
  if (!free(i)) return 0;
  if (auto c = compact_amount(low(i))) {
    n = c->first;
    u = c->second;
    return 1;
  }
  if (phrase(i, {"half", "an", "hour"})) {
    n = 30;
    u = Unit::minute;
    return 3;
  }
  // "a couple of days" is two, and so is "a couple days"
  if (const std::size_t c = phrase(i, {"a", "couple", "of"}) ? 3
                            : phrase(i, {"couple", "of"})    ? 2
                            : phrase(i, {"a", "couple"})     ? 2
                                                             : 0) {
    if (auto unit = unit_word(low(i + c)); unit && free(i + c)) {
      n = 2;
      u = *unit;
      return c + 1;
    }
    return 0;
  }
  if (auto num = number_word(low(i), true)) {
    std::size_t k = 1;
    if (free_in(i + k, {"fortnight", "fortnights"})) {  // two weeks
      n = *num * 2;
      u = Unit::week;
      return k + 1;
    }
    if (auto unit = unit_word(low(i + k)); unit && free(i + k)) {
      n = *num;
      u = *unit;
      return k + 1;
    }
  }
  return 0;
}

// An amount before a unit word written in a way match_amount does not read: a sign ("+3", "-3"), digit groups
// ("3,000", "1,234,567"), a fraction ("1.5", "1/2") or more than four digits. Returns how many tokens the
// number takes, 0 when tokens i.. are not such an amount followed by a unit.
std::size_t Parser::odd_amount(std::size_t i) const {
  if (!free(i)) return 0;
  std::size_t k = 1;
  std::string_view w = low(i);
  const bool sign = w.size() > 1 && (w[0] == '+' || w[0] == '-');
  if (sign) w.remove_prefix(1);
  const std::size_t dot = w.find_first_of("./");
  bool odd = sign;
  if (dot != std::string_view::npos && dot > 0 && dot + 1 < w.size() && all_digits(w.substr(0, dot)) &&
      all_digits(w.substr(dot + 1))) {
    odd = true;
  } else if (!all_digits(w)) {
    return 0;
  } else if (w.size() > 4) {
    odd = true;
  }
  // "3,000": the tokenizer splits at commas.
  if (dot == std::string_view::npos && w.size() <= 3) {
    while (i + k + 1 < n_ && t_[i + k].punct && t_[i + k].low == "," && free(i + k + 1) &&
           low(i + k + 1).size() == 3 && all_digits(low(i + k + 1))) {
      k += 2;
      odd = true;
    }
  }
  if (!odd || !free(i + k) || !unit_word(low(i + k))) return 0;
  return k;
}

std::optional<local_days> Parser::resolve_day_of_month(int day) {
  if (day < 1 || day > 31) return std::nullopt;
  local_days first = add_months_first(clk_.today, 0);
  for (int m = 0; m < 13; ++m) {
    const local_days month = add_months_first(first, m);
    if (auto d = make_date(year_of(month), static_cast<int>(month_of(month)), day); d && *d >= clk_.today)
      return d;
  }
  return std::nullopt;
}

// "march 5", "march 5th", "march 5, 2027", "5 march", "5th of march 2027"; year-less dates take the next one.
// `yearly`: the day of a yearly rule ("every year on feb 29"), any valid month and day (in a leap year), not
// one date within the next year.
std::size_t Parser::match_month_day(std::size_t i, DatePart& d, bool& bad, bool yearly) {
  int month = 0;
  int day = 0;
  std::size_t k = 0;
  auto day_at = [&](std::size_t j) -> int {
    if (!free(j)) return 0;
    if (all_digits(low(j)) && low(j).size() <= 2) return std::stoi(std::string(low(j)));
    if (ordinal_shape(low(j))) return *ordinal_word(low(j));
    // "June 10-15", "10-12 March": a range of days is due on its first (as "9-10am" is at 9)
    const string_view w = low(j);
    const std::size_t dash = w.find('-');
    if (dash != string_view::npos && dash > 0 && dash <= 2 && w.size() - dash - 1 >= 1 &&
        w.size() - dash - 1 <= 2 && all_digits(w.substr(0, dash)) && all_digits(w.substr(dash + 1))) {
      const int a = std::stoi(std::string(w.substr(0, dash)));
      const int b = std::stoi(std::string(w.substr(dash + 1)));
      if (a >= 1 && a < b && b <= 31) return a;
    }
    return 0;
  };
  if (int m = month_word(low(i)); m && free(i)) {
    std::size_t j = i + 1;
    // "Dec. 24": the dot of an abbreviation
    if (j < n_ && t_[j].punct && t_[j].low == "." && low(i).size() <= 4 &&
        !in(low(i), {"may", "june", "july"}))
      ++j;
    if (free_is(j, "the")) ++j;
    if (int dd = day_at(j)) {
      month = m;
      day = dd;
      k = j + 1 - i;
    }
  }
  if (!month) {
    std::size_t j = i;
    if (free_is(j, "the") && ordinal_shape(low(j + 1))) ++j;
    if (int dd = day_at(j)) {
      std::size_t m_at = j + 1;
      if (free_is(m_at, "of")) ++m_at;
      if (int m = month_word(low(m_at)); m && free(m_at)) {
        month = m;
        day = dd;
        k = m_at + 1 - i;
      }
    }
  }
  if (!month) return 0;
  // Optional year: "2027", ", 2027".
  int year = 0;
  std::size_t y = i + k;
  if (y < n_ && t_[y].punct && t_[y].low == "," && all_digits(low(y + 1)) && low(y + 1).size() == 4) ++y;
  if (free(y) && all_digits(low(y)) && low(y).size() == 4) {
    year = std::stoi(std::string(low(y)));
    k = y + 1 - i;
  }
  std::optional<local_days> date;
  if (year) {
    date = make_date(year, month, day);
  } else if (yearly) {
    date = make_date(2024, month, day);  // only its month and day are used
  } else if (day <= days_in_month(2024, static_cast<unsigned>(month))) {
    for (int yy = year_of(clk_.today); yy < year_of(clk_.today) + 2 && !date; ++yy)
      if (auto c = make_date(yy, month, day); c && *c >= clk_.today) date = c;
  }
  if (!date) {
    bad = true;
    problem("unreadable date " + quote(i, i + k));
    return k;
  }
  d.day = d.range_start = *date;
  d.in_named_month = true;
  return k;
}

std::size_t Parser::match_date(std::size_t i, DatePart& d, bool& bad) {
  const string_view w = low(i);
  const local_days today = clk_.today;
  const int wd = iso_weekday(today);
  const local_days monday = today - days(wd);
  auto set = [&](local_days day) {
    d.day = d.range_start = day;
    d.range_days = 1;
  };
  // "gym mon wed fri": a weekday right after another one is a day too
  const bool cued = (i > 0 && (is_day_cue(low(i - 1)) || (t_[i - 1].punct && t_[i - 1].low == ",") ||
                               (!t_[i - 1].punct && weekday_word(low(i - 1), true) >= 0))) ||
                    time_follows(i);
  if (day_name(i) != i) return 0;  // "watch Friday Night Lights", "watch The Tonight Show"

  // Holidays after a cue word ("call grandma on christmas", "by new year's eve"): the fixed ones are their
  // next date (today included); a movable one ("on thanksgiving", "by easter") is not guessed.
  if (cued) {
    int month = 0, day = 0;
    std::size_t k = 0;
    const bool is_day = free_is(i + 1, "day");
    if (in(w, {"christmas", "xmas"})) {
      const bool eve = free_is(i + 1, "eve");
      month = 12;
      day = eve ? 24 : 25;
      k = eve || is_day ? 2 : 1;
    } else if (w == "halloween") {
      month = 10, day = 31, k = 1;
    } else if (in(w, {"valentine's", "valentines"}) && is_day) {
      month = 2, day = 14, k = 2;
    } else if (phrase(i, {"new", "year's"}) || phrase(i, {"new", "years"})) {
      const bool eve = free_is(i + 2, "eve");
      month = eve ? 12 : 1;
      day = eve ? 31 : 1;
      k = eve || free_is(i + 2, "day") ? 3 : 2;
    } else if (const std::size_t movable =
                   in(w, {"thanksgiving", "easter", "passover", "hanukkah", "chanukah", "diwali", "ramadan",
                          "eid"})
                       ? 1
                   : is_day && in(w, {"mother's", "mothers", "father's", "fathers", "memorial", "labor",
                                      "labour", "presidents", "presidents'", "mlk", "independence"})
                       ? 2
                       : 0) {
      k = movable;
      bad = true;
      problem("a holiday whose date I can't tell " + quote(i, i + k) + " (say its date)");
      return k;
    }
    if (k) {
      for (int y = year_of(today); y < year_of(today) + 2; ++y)
        if (const auto c = make_date(y, month, day); c && *c >= today) return set(*c), k;
    }
  }
  // "(in) the first week of april", "the 3rd week of june 2027", "the last week of april", "the 2nd week of
  // next month": days 1-7, 8-14, 15-21, 22-28 of that month (as "every 3rd monday" is the one in days 15-21)
  // or its last 7; as a date their first day (this year's or, once passed, next year's; today while it runs).
  // After "for" in a create it says what the thing is for, in the title: "book flights for the 3rd week of
  // april".
  {
    std::size_t j = in(w, {"in", "during"}) ? i + 1 : i;
    if (free_is(j, "the")) ++j;
    const auto o =
        free(j) && free_is(j + 1, "week") && free_is(j + 2, "of") ? ordinal_word(low(j), true) : std::nullopt;
    const std::size_t s = i > 0 && free_is(i - 1, "the") ? i - 1 : i;  // "for the 3rd week": at "3rd" too
    if (o && (*o == -1 || (*o >= 1 && *o <= 4)) && !(!list_ && s > 0 && free_is(s - 1, "for"))) {
      std::size_t e = j + 3;
      int year = 0, month = 0;
      if (free_in(e, {"this", "next"}) && free_is(e + 1, "month")) {
        const local_days first = add_months_first(today, low(e) == "next" ? 1 : 0);
        year = year_of(first);
        month = static_cast<int>(month_of(first));
        e += 2;
      } else if (free(e) && (month = month_word(low(e))) != 0) {
        ++e;
        if (free(e) && all_digits(low(e)) && low(e).size() == 4) year = std::stoi(std::string(low(e++)));
      }
      if (month) {
        const auto week = [&](int y) {
          const int dim = days_in_month(y, static_cast<unsigned>(month));
          return *make_date(y, month, *o == -1 ? dim - 6 : 7 * (*o - 1) + 1);
        };
        local_days first = week(year ? year : year_of(today));
        if (!year && first + days(7) <= today) first = week(year_of(today) + 1);
        d.range_start = first;
        d.range_days = 7;
        d.day = first < today && today < first + days(7) ? today : first;
        d.in_named_month = true;
        return e - i;
      }
    }
  }
  if (in(w, {"today", "tod"})) return set(today), 1;
  if (w == "tonight") {
    set(today);
    d.default_minute = 20 * 60;
    return 1;
  }
  if (in(w, {"tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "tommorrow"})) return set(today + days(1)), 1;
  if (phrase(i, {"the", "day", "after", "tomorrow"})) return set(today + days(2)), 4;
  if (phrase(i, {"day", "after", "tomorrow"})) return set(today + days(2)), 3;
  if (w == "yesterday") {
    set(today - days(1));
    if (!list_) {  // a list may look back
      problem("'yesterday' is in the past");
      bad = true;
    }
    return 1;
  }
  // last week / month / year / <weekday>: in the past, which only a list may ask about
  if (w == "last" && free(i + 1)) {
    const string_view x = low(i + 1);
    const int day = weekday_word(x, true);
    if (day >= 0 || in(x, {"week", "month", "year"})) {
      if (day >= 0) {
        const int back = (wd - day + 7) % 7;
        set(today - days(back == 0 ? 7 : back));
      } else if (x == "week") {
        d.day = d.range_start = monday - days(7);
        d.range_days = 7;
      } else if (x == "month") {
        d.day = d.range_start = add_months_first(today, -1);
        d.range_days = days_in_month(year_of(d.range_start), month_of(d.range_start));
      } else {
        d.day = d.range_start = *make_date(year_of(today) - 1, 1, 1);
        d.range_days = static_cast<int>((*make_date(year_of(today), 1, 1) - d.range_start).count());
      }
      if (!list_) {
        problem(quote(i, i + 2) + " is in the past");
        bad = true;
      }
      return 2;
    }
  }
  // "in june", "during december 2027" (and in a list "after june", "from may to july"): that month; as a date
  // its 1st (today in the current month), in a list the whole month. A year-less month is this year's, or
  // next year's when it has passed.
  {
    const std::size_t j = in(w, {"in", "during"}) ? i + 1 : i;
    // "renew passport April 2027": a month with its year is that month too, unless a deadline word before it
    // leaves open whether its start or its end is meant (see deadline_month)
    const bool with_year =
        j == i && free(i + 1) && all_digits(low(i + 1)) && low(i + 1).size() == 4 && !deadline_month(i);
    const bool joined = j != i || (list_ && i > 0 && is_range_word(low(i - 1))) || with_year;
    const auto day_after = [&](std::size_t k) {
      return (all_digits(low(k)) && low(k).size() <= 2) || ordinal_shape(low(k)) ||
             (low(k) == "the" && ordinal_shape(low(k + 1)));
    };
    if (int m = joined && free(j) ? month_word(low(j)) : 0; m && !day_after(j + 1)) {
      int year = year_of(today) + (m < static_cast<int>(month_of(today)) ? 1 : 0);
      std::size_t k = j + 1;
      if (free(k) && all_digits(low(k)) && low(k).size() == 4) year = std::stoi(std::string(low(k++)));
      const local_days first = *make_date(year, m, 1);
      d.range_start = first;
      d.range_days = days_in_month(year, static_cast<unsigned>(m));
      d.day = first < today && today < first + days(d.range_days) ? today : first;
      return k - i;
    }
  }
  // "(in) the week after next": the Monday-to-Sunday week two weeks from this one (as a date its Monday), and
  // with a weekday after it that day of it ("the week after next on tuesday"; "next week tuesday" too)
  {
    const std::size_t j = in(w, {"in", "during"}) ? i + 1 : i;
    int weeks = 0;
    if (const std::size_t k = week_phrase(j, weeks);
        k && (weeks == 2 || free_is(j + k, "on") || (free(j + k) && weekday_word(low(j + k), true) >= 0))) {
      const std::size_t on = free_is(j + k, "on") ? 1 : 0;
      bool plural = false;
      const int day = free(j + k + on) ? weekday_word(low(j + k + on), true, &plural) : -1;
      if (day >= 0 && !plural) {
        set(monday + days(7 * weeks + day));
        return j + k + on + 1 - i;
      }
      if (weeks == 2) {
        set(monday + days(14));
        d.range_days = 7;
        return j + k - i;
      }
    }
  }
  // this/next/coming + weekday | week | weekend | month | year | morning …
  if (in(w, {"this", "next", "coming", "upcoming"}) && free(i + 1)) {
    const string_view x = low(i + 1);
    const bool next = w == "next";
    if (int day = weekday_word(x, true); day >= 0) {
      if (next)
        set(monday + days(7 + day));
      else
        set(today + days((day - wd + 7) % 7));
      return 2;
    }
    if (in(x, {"week", "wk"})) {
      if (next) {
        set(monday + days(7));
        d.range_days = 7;
      } else {
        d.day = monday + days(6);
        d.range_start = monday;
        d.range_days = 7;
      }
      return 2;
    }
    if (x == "weekend") {
      local_days sat = monday + days(next ? 12 : 5);
      if (!next && wd == 6) sat = today - days(1);
      d.day = !next && wd == 6 ? today : sat;
      d.range_start = sat;
      d.range_days = 2;
      return 2;
    }
    if (x == "month") {
      const local_days first = add_months_first(today, next ? 1 : 0);
      d.range_start = first;
      d.range_days = days_in_month(year_of(first), month_of(first));
      d.day = next ? first : first + days(d.range_days - 1);
      return 2;
    }
    if (x == "year") {
      const local_days first = *make_date(year_of(today) + (next ? 1 : 0), 1, 1);
      d.range_start = first;
      d.range_days = static_cast<int>((*make_date(year_of(first) + 1, 1, 1) - first).count());
      d.day = next ? first : first + days(d.range_days - 1);
      return 2;
    }
    if (!next && in(x, {"morning", "afternoon", "evening", "am", "pm", "a.m", "p.m"})) {  // "this am"
      set(today);
      d.default_minute = in(x, {"morning", "am", "a.m"}) ? 9 * 60 : x == "evening" ? 19 * 60 : 15 * 60;
      return 2;
    }
  }
  // "the weekend" (this one): "the" is the date's ("wash car over the weekend" was "wash car over the"), and
  // "watch The Weekend", a name in capitals, is a work's (protect_work_name)
  if (const std::size_t k = w == "the" && free_is(i + 1, "weekend")       ? 2
                            : w == "weekend" && i > 0 && is(i - 1, "the") ? 1
                                                                          : 0) {
    local_days sat = monday + days(5);
    d.day = wd == 6 ? today : sat;
    d.range_start = wd == 6 ? today - days(1) : sat;
    d.range_days = 2;
    return k;
  }
  bool plural = false;
  if (int day = weekday_word(w, cued, &plural); day >= 0 && !plural) {
    int delta = (day - wd + 7) % 7;
    if (delta == 0) delta = 7;
    // "tuesday next week", "tuesday (of) the week after next": that day of that week
    const std::size_t of = free_is(i + 1, "of") ? 1 : 0;
    if (int weeks = 0; const std::size_t k = week_phrase(i + 1 + of, weeks)) {
      set(monday + days(7 * weeks + day));
      return 1 + of + k;
    }
    // "friday after next": the one after the next one
    const bool after_next = phrase(i + 1, {"after", "next"}) != 0;
    set(today + days(delta + (after_next ? 7 : 0)));
    d.weekday_only = true;
    return after_next ? 3 : 1;
  }
  // in N units / in a week
  if (w == "in" || w == "within") {
    int n = 0;
    Unit u{};
    std::size_t j = i + 1;
    if (free_is(j, "the") && free_is(j + 1, "next")) j += 2;
    if (std::size_t k = match_amount(j, n, u)) {
      switch (u) {
        case Unit::minute:
        case Unit::hour:
          return 0;  // relative instants: handled by the caller
        case Unit::day:
          set(today + days(n));
          break;
        case Unit::week:
          set(today + days(7 * n));
          break;
        case Unit::month:
          set(add_months(today, n));
          break;
        case Unit::year:
          set(add_months(today, 12 * n));
          break;
      }
      if (j != i + 1) {  // "in the next 3 days": a range from today
        d.range_start = today;
        d.range_days = static_cast<int>((d.day - today).count()) + 1;
      }
      return j - i + k;
    }
    // "in 3000000 days", "in -3 days": amounts are read up to 9999 (more runs past the year 9999 for years,
    // and nobody counts days that way); a negative one is in the past. Left alone, either went into the title
    // at high confidence.
    if (std::size_t k = free(i + 1) ? odd_amount(j) : 0) {
      bad = true;
      problem("unreadable amount " + quote(i, j + k + 1));
      return j + k + 1 - i;
    }
  }
  // "10000 days from now", "1.5 weeks from today": likewise.
  if (std::size_t k = odd_amount(i);
      k && free_is(i + k + 1, "from") && free_in(i + k + 2, {"now", "today"})) {
    bad = true;
    problem("unreadable amount " + quote(i, i + k + 3));
    return k + 3;
  }
  if (phrase(i, {"the", "next"})) {
    int n = 0;
    Unit u{};
    if (std::size_t k = match_amount(i + 2, n, u); k && u != Unit::minute && u != Unit::hour) {
      const local_days end = u == Unit::day     ? today + days(n)
                             : u == Unit::week  ? today + days(7 * n)
                             : u == Unit::month ? add_months(today, n)
                                                : add_months(today, 12 * n);
      d.day = end;
      d.range_start = today;
      d.range_days = static_cast<int>((end - today).count()) + 1;
      return 2 + k;
    }
  }
  // N units from now / from today / from another date ("a week from friday", "3 days from tomorrow")
  {
    int n = 0;
    Unit u{};
    if (std::size_t k = match_amount(i, n, u);
        k && free_is(i + k, "from") && u != Unit::minute && u != Unit::hour) {
      local_days base = today;
      std::size_t m = 0;
      if (free_in(i + k + 1, {"now", "today"})) {
        m = 1;
      } else {
        DatePart from;
        bool from_bad = false;
        m = match_date(i + k + 1, from, from_bad);
        if (m && from_bad) {
          bad = true;
          return k + 1 + m;
        }
        base = from.day;
      }
      if (m) {
        const local_days day = u == Unit::day     ? base + days(n)
                               : u == Unit::week  ? base + days(7 * n)
                               : u == Unit::month ? add_months(base, n)
                                                  : add_months(base, 12 * n);
        set(day);
        return k + 1 + m;
      }
    }
  }
  // end / beginning / start of (the | this | next) month/week/year; also "(the) last/first day of …"
  {
    std::size_t k = 0;
    const std::size_t e0 = i + (free_is(i, "the") ? 1 : 0);
    bool end = low(e0) == "end";
    if (free_in(e0, {"end", "beginning", "start"}) && free_is(e0 + 1, "of")) {
      k = e0 + 2 - i;
    } else if (free_in(e0, {"last", "first"}) && free_is(e0 + 1, "day") && free_is(e0 + 2, "of")) {
      k = e0 + 3 - i;  // "pay rent on the last day of the month"
      end = low(e0) == "last";
    }
    int ahead = 0;  // 0 this, 1 next
    if (k && free_in(i + k, {"the", "this"})) {
      ++k;
    } else if (k && free_is(i + k, "next")) {
      ahead = 1;
      ++k;
    }
    if (k && free(i + k)) {
      const string_view x = low(i + k);
      // "end of january", "the start of march 2027": that month's last or first day (this year's, or next
      // year's once the month has passed)
      if (const int m = ahead == 0 ? month_word(x) : 0) {
        int year = year_of(today) + (m < static_cast<int>(month_of(today)) ? 1 : 0);
        std::size_t e = k + 1;
        if (free(i + e) && all_digits(low(i + e)) && low(i + e).size() == 4)
          year = std::stoi(std::string(low(i + e++)));
        const auto day =
            make_date(year, m, end ? static_cast<int>(days_in_month(year, static_cast<unsigned>(m))) : 1);
        if (!day) {
          bad = true;
          problem("unreadable date " + quote(i, i + e));
          return e;
        }
        set(*day);
        d.in_named_month = true;
        return e;
      }
      if (x == "month") {
        const local_days first = add_months_first(today, ahead);
        set(end ? add_months_first(today, ahead + 1) - days(1) : first);
        return k + 1;
      }
      if (x == "week") {
        set(monday + days(7 * ahead + (end ? 6 : 0)));
        return k + 1;
      }
      if (x == "year") {
        set(*make_date(year_of(today) + ahead, end ? 12 : 1, end ? 31 : 1));
        return k + 1;
      }
      if (x == "quarter") {  // "by end of quarter": the last day of Mar, Jun, Sep or Dec
        const int into = (static_cast<int>(month_of(today)) - 1) % 3;
        const local_days first = add_months_first(today, 3 * ahead - into);
        set(end ? add_months_first(first, 3) - days(1) : first);
        return k + 1;
      }
    }
    if (w == "eom") {
      set(add_months_first(today, 1) - days(1));
      return 1;
    }
    if (w == "eow") {  // the end of the week, as "end of week": its Sunday
      set(monday + days(6));
      return 1;
    }
  }
  // "mid-month", "mid month": the 15th of this month, or of the next once passed; "mid-march", "mid march
  // [2027]": March 15, this year's or, once passed, next year's
  if (w == "mid-month" || w == "midmonth" || (w == "mid" && free_is(i + 1, "month"))) {
    const local_days fifteenth = add_months_first(today, 0) + days(14);
    set(fifteenth >= today ? fifteenth : add_months_first(today, 1) + days(14));
    return w == "mid" ? 2 : 1;
  }
  if (const int m = w.starts_with("mid-")       ? month_word(w.substr(4))
                    : w == "mid" && free(i + 1) ? month_word(low(i + 1))
                                                : 0) {
    std::size_t k = w == "mid" ? 2 : 1;
    int year = year_of(today);
    const bool year_given = free(i + k) && all_digits(low(i + k)) && low(i + k).size() == 4;
    if (year_given) year = std::stoi(std::string(low(i + k)));
    local_days day = *make_date(year, m, 15);
    if (!year_given && day < today) day = *make_date(year + 1, m, 15);
    set(day);
    return k + (year_given ? 1 : 0);
  }
  if (std::size_t k = match_month_day(i, d, bad)) return k;
  // 2026-03-05
  if (w.size() == 10 && w[4] == '-' && w[7] == '-' && all_digits(w.substr(0, 4)) &&
      all_digits(w.substr(5, 2)) && all_digits(w.substr(8, 2))) {
    auto date = make_date(std::stoi(std::string(w.substr(0, 4))), std::stoi(std::string(w.substr(5, 2))),
                          std::stoi(std::string(w.substr(8, 2))));
    if (!date) {
      bad = true;
      problem("unreadable date " + quote(i, i + 1));
      return 1;
    }
    return set(*date), 1;
  }
  // 3/5, 3/5/2026, 3/5/26 in the reader's order; also 24.12.2026 (with its year) and 12-24 (see below)
  const char sep = w.find('/') != string_view::npos   ? '/'
                   : w.find('.') != string_view::npos ? '.'
                   : w.find('-') != string_view::npos ? '-'
                                                      : '\0';
  // a dashed date has one or two digits before and between its dashes ("555-1234" is a number)
  const auto short_parts = [&] {
    const std::size_t a = w.find('-');
    const std::size_t b = w.find('-', a + 1);
    return a <= 2 && (b == string_view::npos ? w.size() - a - 1 : b - a - 1) <= 2;
  };
  if (sep && w.size() <= 10 && w.front() != sep && (sep != '-' || short_parts()) && !quantity_slash(i)) {
    int parts[3] = {0, 0, 0};
    int count = 0;
    std::size_t p = 0;
    bool ok = true;
    while (p <= w.size() && count < 3) {
      std::size_t q = w.find(sep, p);
      if (q == string_view::npos) q = w.size();
      const auto part = w.substr(p, q - p);
      if (!all_digits(part) || part.size() > 4) {
        ok = false;
        break;
      }
      parts[count++] = std::stoi(std::string(part));
      p = q + 1;
      if (q == w.size()) break;
    }
    // Dots only with a four-digit year ("1.5", "5.30" and version numbers are no dates). A dash without a
    // year is a date after a cue ("on 12-24"); alone at the end of the message it might be one ("party
    // 12-24": a problem, not a guess); elsewhere it is a range of numbers ("buy 3-4 apples").
    const bool year4 = count == 3 && w.size() - w.rfind(sep) == 5;
    if (ok && p > w.size() && sep == '.' && !year4) ok = false;
    if (ok && p > w.size() && sep == '-' && count == 2 && !cued) {
      bool last = true;
      for (std::size_t k = i + 1; k < n_; ++k)
        last = last && (t_[k].punct || t_[k].used);
      const bool mf = ctx_.order == DateOrder::month_first;
      const bool counted = i > 0 && in(low(i - 1), {"pages", "page", "pp", "chapters", "chapter", "questions",
                                                    "exercises", "items", "steps", "lines", "rows", "slides",
                                                    "verses", "sections", "lessons", "units", "problems"});
      if (!last || counted || !make_date(2024, mf ? parts[0] : parts[1], mf ? parts[1] : parts[0])) return 0;
      // "call mum 12-24": after a create's title of two words or more, a date valid in the reader's order is
      // read ("party 12-24", one word, might be a count: a problem).
      std::size_t words = 0;
      for (std::size_t k = 0; k < i; ++k)
        words += free(k) ? 1 : 0;
      const bool create = r_.intent == Intent::create && !list_;
      if (!(create && words >= 2)) {
        bad = true;
        problem("a date written with a dash " + quote(i, i + 1) + " (say \"on " + std::string(raw_of(i)) +
                "\" or the month's name)");
        return 1;
      }
    }
    if (ok && p > w.size() && count >= 2) {
      const bool mf = ctx_.order == DateOrder::month_first;
      const int month = mf ? parts[0] : parts[1];
      const int day = mf ? parts[1] : parts[0];
      std::optional<local_days> date;
      if (count == 3) {
        int year = parts[2];
        if (year < 100) year += 2000;
        date = make_date(year, month, day);
      } else if (month >= 1 && month <= 12 && day >= 1 &&
                 day <= days_in_month(2024, static_cast<unsigned>(month))) {
        for (int yy = year_of(today); yy < year_of(today) + 2 && !date; ++yy)
          if (auto c = make_date(yy, month, day); c && *c >= today) date = c;
      }
      if (!date) {
        bad = true;
        problem("unreadable date " + quote(i, i + 1));
        return 1;
      }
      return set(*date), 1;
    }
  }
  // the 15th / on the 15th / on the twenty-fifth (an ordinal in words only after a cue)
  if (w == "the" && free(i + 1) && !ordinal_noun(i + 1) &&
      (ordinal_shape(low(i + 1)) ||
       (ordinal_word(low(i + 1)) && cued && (!free(i + 2) || in(low(i + 2), {"at", "of"}))))) {
    // "the 15th of this month", "by the 15th of the month": the next 15th, the words with it
    const std::size_t k =
        free_is(i + 2, "of") && free_in(i + 3, {"this", "the"}) && free_is(i + 4, "month") ? 5 : 2;
    auto date = resolve_day_of_month(*ordinal_word(low(i + 1)));
    if (!date) {
      bad = true;
      problem("unreadable date " + quote(i, i + k));
      return k;
    }
    return set(*date), k;
  }
  if (ordinal_shape(w) && cued && !ordinal_noun(i)) {
    auto date = resolve_day_of_month(*ordinal_word(w));
    if (!date) {
      bad = true;
      problem("unreadable date " + quote(i, i + 1));
      return 1;
    }
    return set(*date), 1;
  }
  return 0;
}

std::size_t Parser::match_time(std::size_t i, TimePart& t, bool& bad) {
  const string_view w = low(i);
  t.weak = false;
  if (in(w, {"noon", "midday"})) return t.minute = 12 * 60, 1;
  if (w == "midnight") return t.minute = 24 * 60, 1;
  const bool cue = i > 0 && (t_[i - 1].used || in(low(i - 1), {"at", "the", "in"}));
  if (in(w, {"morning", "afternoon", "evening", "night"}) && free(i) && cue) {
    t.weak = true;
    t.minute = w == "morning" ? 9 * 60 : w == "afternoon" ? 15 * 60 : w == "evening" ? 19 * 60 : 21 * 60;
    std::size_t s = 0;
    if (i >= 2 && free_is(i - 2, "in") && free_is(i - 1, "the")) s = 2;
    if (s) take(i - s, i, std::nullopt);
    return 1;
  }
  if (w == "eod" || w == "cob") return t.minute = 17 * 60, 1;
  // "call plumber first thing tomorrow", "first thing monday", "first thing (in the morning)": the morning
  // of that day, as "tomorrow morning" is (not "the first thing", "my first thing", "first thing to do")
  if (phrase(i, {"first", "thing"}) &&
      !(i > 0 && !t_[i - 1].punct &&
        in(low(i - 1), {"the", "a", "an", "my", "your", "his", "her", "our", "their", "this", "that", "one",
                        "every", "each", "next", "last"})) &&
      !free_in(i + 2, {"to", "i", "you", "we", "they", "that", "which", "of", "is", "was"})) {
    t.weak = true;
    t.minute = 9 * 60;
    return phrase(i + 2, {"in", "the", "morning"}) ? 5 : 2;
  }
  // "tmrw am", "monday pm", "every monday am": am or pm alone right after a day (not after a number: "june 5
  // pm") is its morning or its afternoon, as "tomorrow morning" is
  if (in(w, {"am", "pm", "a.m", "p.m"}) && free(i) && i > 0 && !all_digits(low(i - 1)) && !spans_.empty() &&
      (spans_.back().kind == SpanKind::date || spans_.back().kind == SpanKind::recurrence) &&
      spans_.back().end == t_[i - 1].end) {
    t.weak = true;
    t.minute = w[0] == 'a' ? 9 * 60 : 15 * 60;
    return 1;
  }
  if (phrase(i, {"end", "of", "day"})) return t.minute = 17 * 60, 3;
  if (phrase(i, {"end", "of", "the", "day"})) return t.minute = 17 * 60, 4;
  if (phrase(i, {"the", "end", "of", "the", "day"})) return t.minute = 17 * 60, 5;
  const bool after_at =
      i > 0 && free_in(i - 1, {"at", "@", "around"}) && !address_number(i) && !measured_number(i);
  const string_view next = free(i + 1) ? low(i + 1) : string_view();
  // "half past 3", "quarter past 9", "(a) quarter to 5": the hour reads as "at 3" does (am/pm written, or the
  // part of the day, or 1-7 pm and 8-12 am).
  {
    std::size_t k = free_is(i, "a") ? 1 : 0;
    const int delta = phrase(i + k, {"half", "past"})      ? 30
                      : phrase(i + k, {"quarter", "past"}) ? 15
                      : phrase(i + k, {"quarter", "to"})   ? -15
                                                           : 0;
    k += 2;
    const string_view hour = low(i + k);
    // "quarter to midnight" is 23:45, "quarter past midnight" 00:15 after it, "half past noon" 12:30.
    if (delta != 0 && (delta != 30 || k == 2) && free(i + k) && in(hour, {"midnight", "noon", "midday"})) {
      t.minute = (hour == "midnight" ? 24 * 60 : 12 * 60) + delta;
      return k + 1;
    }
    // An hour in words ("quarter to five") reads as its digits.
    const auto in_words = all_digits(hour) ? std::nullopt : number_word(hour);
    const std::string hour_text =
        in_words && *in_words >= 1 && *in_words <= 12 ? std::to_string(*in_words) : std::string(hour);
    if (delta != 0 && (delta != 30 || k == 2) && free(i + k) &&
        hour.find_first_of(":.") == string_view::npos) {
      if (auto c = clock_word(hour_text, free(i + k + 1) ? low(i + k + 1) : string_view(), true)) {
        const std::size_t end = i + k + (c->uses_next ? 2 : 1);
        if (c->minute < 0) {
          bad = true;
          problem("unreadable time " + quote(i, end));
          return end - i;
        }
        t.minute = (c->minute + delta + 24 * 60) % (24 * 60);
        t.bare_hour = !c->ampm;
        t.h12 = !c->ampm && hour_text[0] != '0';
        return end - i;
      }
    }
  }
  // "9-10am", "2-3pm", "9am-10am", "9:00-10:30": the start of the range; its end is not a due date. A first
  // time without am/pm takes the second's unless that puts it after it ("11-1pm" is 11:00); one with its own
  // keeps it ("11pm-1am" is 23:00).
  if (const std::size_t dash = w.find('-'); dash != string_view::npos && dash > 0) {
    const auto b = clock_word(w.substr(dash + 1), next, true);
    if (b && b->strong && b->minute >= 0) {
      if (const auto start = range_start(std::string(w.substr(0, dash)), *b, i, i + (b->uses_next ? 2 : 1))) {
        t.minute = *start;
        return b->uses_next ? 2 : 1;
      }
    }
  }
  // "from 3 to 5pm", "3pm to 5pm", "9am until 11am", "between 3 and 5pm": a range in words, read as "3-5pm"
  // is (its start), "from" with it ("from 3" was left in the title, "from 3pm to 5pm" two different times).
  {
    const bool between = w == "between";
    std::size_t j = between ? i + 1 : i;
    std::string first(free(j) ? low(j) : string_view());
    const auto a = clock_word(first, "", true);
    if (a && a->minute >= 0 && free_in(++j, {"am", "pm", "a.m", "p.m"})) first += low(j++);
    if (a && a->minute >= 0 && (between ? free_is(j, "and") : free_in(j, {"to", "till", "until"})) &&
        free(j + 1)) {
      const auto b = clock_word(low(j + 1), free(j + 2) ? low(j + 2) : string_view(), true);
      const std::size_t e = j + 1 + (b && b->uses_next ? 2 : 1);
      if (b && b->strong && b->minute >= 0) {
        if (const auto start = range_start(first, *b, i, e)) {
          t.minute = *start;
          return e - i;
        }
      }
    }
  }
  if (auto c = clock_word(w, next, after_at)) {
    const std::size_t k = c->uses_next ? 2 : 1;
    // "buy 2 pm tickets", "book 7pm seats": a time between a word and a plural noun says which ones, in the
    // title (a time first, "6pm drinks", or after "at", "at 6pm drinks", is the task's)
    if (!after_at && c->minute >= 0 && i > body_start_ && free(i - 1) &&
        (!is_prep(low(i - 1)) || low(i - 1) == "for") && plural_noun_at(i + k))
      return 0;
    if (c->minute < 0) {
      bad = true;
      problem("unreadable time " + quote(i, i + k));
      return k;
    }
    t.minute = c->minute;
    t.bare_hour = !c->ampm;
    const std::size_t digits = std::min(w.find_first_not_of("0123456789"), w.size());
    const int written = digits == 1 || digits == 2 ? std::stoi(std::string(w.substr(0, digits))) : 0;
    t.h12 = !c->ampm && w[0] != '0' && written >= 1 && written <= 12;
    t.ambiguous = !c->ampm && w.size() == 4 && w[1] == ':' && w[0] >= '1' && w[0] <= '7';
    if (free_is(i + k, "o'clock") || free_is(i + k, "oclock")) return k + 1;
    return k;
  }
  return 0;
}

// The start of a range of times whose end `b` was read ("9-10am", "from 3 to 5pm"): a first time without
// am/pm takes the second's unless that puts it after it ("11-1pm" is 11:00); one with its own keeps it
// ("11pm-1am" is 23:00). The end is not kept. nullopt when `first` is no time; [qa, qb) is the range's text.
std::optional<int> Parser::range_start(const std::string& first, const ClockRead& b, std::size_t qa,
                                       std::size_t qb) {
  auto a = clock_word(first, b.ampm ? (b.minute >= 12 * 60 ? "pm" : "am") : "", true);
  bool own_ampm = false;
  if (a && a->minute >= 0 && !a->uses_next) {  // "9am-10am", "9:00-10:30"
    a = clock_word(first, "", true);
    own_ampm = a && a->ampm;
  }
  const int written = a ? a->minute : -1;
  if (a && !own_ampm && a->minute > b.minute && b.ampm) a->minute -= 12 * 60;
  if (a && written >= 0 && a->minute < 0) {
    // "10-9am": neither 10am nor 10pm the day before ends at 9am that day. Read as the evening to the next
    // morning (10pm-9am, starting 22:00), but only as a question: a problem, never a sure reading.
    a->minute += 24 * 60;
    problem("a time range that ends before it starts " + quote(qa, qb) + " (read as " +
            std::to_string(a->minute / 60) + ":" + (a->minute % 60 < 10 ? "0" : "") +
            std::to_string(a->minute % 60) + " to the next morning)");
  }
  if (a && a->minute >= 0) return a->minute;
  return std::nullopt;
}

// ---------------------------------------------------------------- recurrence

std::size_t Parser::match_weekday_list(std::size_t i, unsigned& mask) const {
  std::size_t j = i;
  std::size_t end = i;
  bool cued = true;
  while (j < n_) {
    bool plural = false;
    const int d = free(j) ? weekday_word(low(j), cued, &plural) : -1;
    if (d < 0) break;
    mask |= 1u << d;
    end = ++j;
    const std::size_t s = list_separator(j);
    if (s == j) break;
    j = s;
  }
  return end - i;
}

// "1st and 15th", "1st, 15th and last day", "first and third" (before "monday"): ordinals joined by ",",
// "and", "&". "last" is one only before "day" (the month's last day, taken with it) or a weekday.
std::size_t Parser::match_ordinals(std::size_t i, Ordinals& out) const {
  std::size_t j = i, end = i;
  while (out.n < out.v.size() && free(j)) {
    const auto o = ordinal_word(low(j), true);
    if (!o) break;
    std::size_t len = 1;
    bool dated = ordinal_shape(low(j));
    if (*o == -1) {
      if (free_is(j + 1, "day")) {
        len = 2;
        dated = out.day_item = true;
      } else if (!free(j + 1) || weekday_word(low(j + 1), true) < 0) {
        break;
      }
    }
    out.v[out.n++] = *o;
    out.dated = out.dated && dated;
    end = j += len;
    const std::size_t s = list_separator(j);
    if (s == j) break;
    j = s;
  }
  return end - i;
}

// The rule the ordinals `o` ending at `e` name: the weeks of the one weekday after them ("1st and 3rd
// monday": BYDAY=1MO,3MO) or, when `days` (they are dated, or "of the month" follows them), days of the month
// ("1st and 15th": BYMONTHDAY=1,15). Returns the end of the words taken, 0 when they name neither.
std::size_t Parser::ordinal_rule(std::size_t e, const Ordinals& o, bool days, Rule& r) const {
  unsigned mask = 0;
  if (const std::size_t m = o.day_item ? 0 : match_weekday_list(e, mask); m && std::popcount(mask) == 1) {
    r.weekdays = mask;
    for (std::size_t k = 0; k < o.n; ++k)
      r.add_nth(o.v[k]);
    return e + m;
  }
  if (!days) return 0;
  for (std::size_t k = 0; k < o.n; ++k)
    r.add_monthday(o.v[k]);
  return e;
}

// After the unit: "on monday", "on the 15th", "on the last day", "on jan 1", "on the first monday".
std::size_t Parser::match_rule_tail(std::size_t j, Rule& r) {
  std::size_t k = j;
  if (!free_is(k, "on")) return 0;
  ++k;
  if (r.freq == std::string_view("WEEKLY")) {
    if (std::size_t m = match_weekday_list(k, r.weekdays)) return k + m - j;
    return 0;
  }
  if (r.freq == std::string_view("MONTHLY")) {
    if (free_is(k, "the")) ++k;
    // "on the 1st and 15th", "on the last day", "on the 1st and 3rd monday"
    Ordinals o;
    const std::size_t m = match_ordinals(k, o);
    const std::size_t e = m ? ordinal_rule(k + m, o, o.dated, r) : 0;
    return e ? e - j : 0;
  }
  if (r.freq == std::string_view("YEARLY")) {
    DatePart d;
    bool bad = false;
    if (std::size_t m = match_month_day(k, d, bad, /*yearly=*/true)) {
      if (bad) {
        r.bad = true;
      } else {
        r.month = static_cast<int>(month_of(d.day));
        r.add_monthday(static_cast<int>(day_of(d.day)));
      }
      return k + m - j;
    }
  }
  return 0;
}

std::size_t Parser::match_recurrence(std::size_t i) {
  const string_view w = low(i);
  Rule r;
  std::size_t j = i + 1;
  bool matched = false;
  auto of_month = [&](std::size_t k) {  // "of the month", "of every month", "of each month", "of month"
    if (!free_is(k, "of")) return k;
    std::size_t m = k + 1;
    if (free_in(m, {"the", "every", "each"})) ++m;
    return free_is(m, "month") ? m + 1 : k;
  };
  if (w == "every" || w == "every!" || w == "each") {
    if (w == "every!") after_completion_ = true;
    if (free_is(j, "other")) {
      r.interval = 2;
      ++j;
    } else if (auto o = ordinal_word(low(j)); o && free(j) && unit_word(low(j + 1)) &&
                                              free(j + 1)) {  // "every 2nd week", "every third month"
      r.interval = *o;
      // "every 10000th day": ordinal_word caps digits at 9999, which is no reading of what was said.
      if (*o < 1 || (ordinal_shape(low(j)) && low(j).size() > 6)) r.bad = true;
      ++j;
    } else if (auto num = number_word(low(j));
               num && free(j) && !ordinal_shape(low(j)) &&
               (unit_word(low(j + 1)) || weekday_word(low(j + 1), true) >= 0)) {
      r.interval = *num;
      if (*num < 1) r.bad = true;
      ++j;
    }
    const string_view x = low(j);
    if (!free(j)) return 0;
    if (auto u = unit_word(x); u && *u != Unit::minute && *u != Unit::hour) {
      r.freq = *u == Unit::day     ? "DAILY"
               : *u == Unit::week  ? "WEEKLY"
               : *u == Unit::month ? "MONTHLY"
                                   : "YEARLY";
      ++j;
      matched = true;
    } else if (in(x, {"quarter", "fortnight"})) {  // "each quarter": every 3 months; a fortnight: 2 weeks
      r.freq = x == "quarter" ? "MONTHLY" : "WEEKLY";
      r.interval *= x == "quarter" ? 3 : 2;
      ++j;
      matched = true;
    } else if (const unsigned range = weekday_range(x)) {  // "every mon-fri"
      r.freq = "WEEKLY";
      r.weekdays = range;
      ++j;
      matched = true;
    } else if (in(x, {"weekday", "weekdays", "workday", "workdays"})) {
      r.freq = "WEEKLY";
      r.weekdays = 0x1f;
      ++j;
      matched = true;
    } else if (phrase(j, {"work", "day"}) || phrase(j, {"business", "day"})) {
      r.freq = "WEEKLY";
      r.weekdays = 0x1f;
      j += 2;
      matched = true;
    } else if (in(x, {"weekend", "weekends"})) {
      r.freq = "WEEKLY";
      r.weekdays = 0x60;
      ++j;
      matched = true;
    } else if (in(x, {"morning", "afternoon", "evening", "night"})) {
      r.freq = "DAILY";
      r.default_minute = x == "morning"     ? 9 * 60
                         : x == "afternoon" ? 15 * 60
                         : x == "evening"   ? 19 * 60
                                            : 21 * 60;
      ++j;
      matched = true;
    } else if (std::size_t m = match_weekday_list(j, r.weekdays)) {
      r.freq = "WEEKLY";
      j += m;
      matched = true;
    } else if (Ordinals o; const std::size_t m = match_ordinals(j, o)) {
      // "every 2nd tuesday", "every 1st and 3rd monday", "every 1st and 15th", "every last day", "every
      // first of the month" (in words only with "of the month")
      if (const std::size_t e = ordinal_rule(j + m, o, o.dated || of_month(j + m) != j + m, r)) {
        r.freq = "MONTHLY";
        j = of_month(e);
        matched = true;
      }
    } else {
      DatePart d;
      bool bad = false;
      if (std::size_t m = match_month_day(j, d, bad, /*yearly=*/true)) {
        r.freq = "YEARLY";
        if (bad) {
          r.bad = true;
        } else {
          r.month = static_cast<int>(month_of(d.day));
          r.add_monthday(static_cast<int>(day_of(d.day)));
        }
        j += m;
        matched = true;
      }
    }
  } else if (in(w, {"daily", "weekly", "monthly", "yearly", "annually", "biweekly", "fortnightly",
                    "quarterly"}) &&
             !(i == body_start_ && later_recurrence(i)) &&
             // "submit weekly report by friday", "pay quarterly taxes": inside a new task's title, before a
             // noun, it says which report, not how often (first, "Weekly team sync", it is the rule; in a
             // command's words, "move weekly report to friday", it stays a question without the titles)
             !(r_.intent == Intent::create && i > body_start_ && noun_at(i + 1))) {
    r.freq = w == "daily"                                             ? "DAILY"
             : w == "weekly" || w == "biweekly" || w == "fortnightly" ? "WEEKLY"
             : w == "monthly" || w == "quarterly"                     ? "MONTHLY"
                                                                      : "YEARLY";
    if (w == "biweekly" || w == "fortnightly") r.interval = 2;
    if (w == "quarterly") r.interval = 3;
    matched = true;
    if (r_.intent == Intent::create && i == body_start_ && noun_at(i + 1)) title_adverb_ = i + 1;
  } else if (const std::size_t e = match_ordinals_of_month(i, r)) {
    r.freq = "MONTHLY";
    j = e;
    matched = true;
  } else if (const std::size_t e = end_of_every_month(i)) {
    // "send invoice at the end of every month": its last day (it was a monthly rule from today, with "at the
    // end of" in the title)
    r.freq = "MONTHLY";
    r.add_monthday(-1);
    j = e;
    matched = true;
  } else {
    // "on weekdays", "on mondays", and without "on": "standup weekdays at 8", "gym mondays and wednesdays",
    // "standup mon-fri at 9"
    bool plural = false;
    if (in(w, {"weekdays", "workdays"})) {
      r.freq = "WEEKLY";
      r.weekdays = 0x1f;
      matched = true;
    } else if (w == "weekends") {
      r.freq = "WEEKLY";
      r.weekdays = 0x60;
      matched = true;
    } else if (const unsigned range = weekday_range(w);
               range && (w != "m-f" || time_follows(i)) && !(i > body_start_ && noun_at(i + 1))) {
      // "standup mon-fri at 9"; "M-F" only before a time ("Standup mtg M-F 9am"); inside a title, before a
      // noun, the days say which ones ("check Mon-Fri schedule")
      r.freq = "WEEKLY";
      r.weekdays = range;
      matched = true;
    } else if (int d = weekday_word(w, true, &plural); d >= 0 && plural) {
      // Without "on", one plural day is a recurrence only before a time ("standup mondays at 9"; "I hate
      // mondays" is a title); a list of them always ("gym mondays and wednesdays").
      const std::size_t m = match_weekday_list(i, r.weekdays);
      matched =
          (i > 0 && free_is(i - 1, "on")) || std::popcount(r.weekdays) > 1 || free_in(i + m, {"at", "@"});
      if (matched) {
        r.freq = "WEEKLY";
        j = i + m;
      }
    }
    if (matched && i > 0 && free_is(i - 1, "on")) --i;
  }
  if (!matched) return 0;
  j += match_rule_tail(j, r);
  // "every weekday except friday", "every day but not sundays": those days are left out
  if (r.freq && (r.weekdays || r.freq == std::string_view("DAILY")) && !r.nths && r.interval == 1) {
    std::size_t e = j;
    if (free_in(e, {"except", "excluding", "apart"})) {
      e += free_is(e, "apart") ? (free_is(e + 1, "from") ? 2 : 0) : 1;
    } else if (phrase(e, {"but", "not"})) {
      e += 2;
    }
    if (e > j && free_is(e, "on")) ++e;
    unsigned out = 0;
    if (std::size_t m = e > j ? match_weekday_list(e, out) : 0) {
      if (r.freq == std::string_view("DAILY")) {
        r.freq = "WEEKLY";
        r.weekdays = 0x7f;
      }
      r.weekdays &= ~out;
      if (!r.weekdays) r.bad = true;
      j = e + m;
    }
  }
  if (r.freq == std::string_view("YEARLY") && r.month == 0 && (r.monthdays & ~1u)) r.bad = true;
  if (r.bad) problem("unreadable recurrence " + quote(i, j));
  if (rule_) problem("two recurrences");
  rule_ = r;
  take(i, j, SpanKind::recurrence);
  return j - i;
}

// "on the 1st and 15th of every month", "the last day of each month", "1st of every month", "pay rent on the
// first of the month" (a habit; "by the 15th of the month" is a deadline, and "the last day of the month" a
// date), "(on) (the) first monday of every month", "the 1st and 3rd monday of each month": the days or the
// weeks of a monthly rule. The end of the words, 0 when they are none.
std::size_t Parser::match_ordinals_of_month(std::size_t i, Rule& r) const {
  std::size_t k = i + (free_is(i, "on") ? 1 : 0);
  const bool the = free_is(k, "the");
  if (the) ++k;
  Ordinals o;
  const std::size_t m = match_ordinals(k, o);
  if (!m) return 0;
  std::size_t e = k + m;
  unsigned mask = 0;
  const std::size_t wd = o.day_item ? 0 : match_weekday_list(e, mask);
  if (wd && std::popcount(mask) != 1) return 0;
  e += wd;
  if (!free_is(e, "of")) return 0;
  const bool every = free_in(e + 1, {"every", "each"}) && free_is(e + 2, "month");
  const bool habit = the && !wd && !o.day_item && phrase(e + 1, {"the", "month"}) &&
                     !(i > 0 && free_in(i - 1, {"by", "before", "due", "until", "till", "through", "thru"}));
  if (!every && !habit) return 0;
  if (wd) r.weekdays = mask;
  for (std::size_t n = 0; n < o.n; ++n)
    wd ? r.add_nth(o.v[n]) : r.add_monthday(o.v[n]);
  return e + 3;
}

// How many times in a period: "twice a day", "3 times a week", "2x daily", "once a month"; and a period
// shorter than a day: "every 12 hours", "every hour", "hourly". Once a period is that period's rule ("call
// mom once a week" → WEEKLY). More than once has no rule the server evaluates: a task repeats by the day at
// least, at its due time (no HOURLY, no BYHOUR), and "twice a week" does not say which days. Those are a
// problem starting "I can't " that names the words, so that the dialog refuses them instead of offering the
// task without its rule ("take pills twice a day" was a task "take pills twice a day", "three times daily"
// DAILY;COUNT=3, "every 12 hours" an unreadable 'every'). Returns the words taken.
std::size_t Parser::match_times_per(std::size_t i) {
  if (!free(i) || list_) return 0;
  const string_view w = low(i);
  int times = 0;
  std::size_t j = i + 1;
  if (in(w, {"once", "twice", "thrice"})) {
    times = w == "once" ? 1 : w == "twice" ? 2 : 3;
  } else if (w.size() >= 2 && w.back() == 'x' && all_digits(w.substr(0, w.size() - 1))) {  // "2x daily"
    times = number_word(w.substr(0, w.size() - 1)).value_or(0);
  } else if (const auto num = number_word(w); num && free_in(j, {"times", "x"})) {
    times = *num;
    ++j;
  }
  std::size_t sub_daily = 0;  // the end of "every 12 hours", "every hour", "hourly"
  if (in(w, {"every", "each"})) {
    std::size_t k = j;
    if (free_is(k, "other")) ++k;
    int n = 1;
    Unit u{};
    if (const std::size_t m = match_amount(k, n, u); m && (u == Unit::hour || u == Unit::minute)) {
      sub_daily = k + m;
    } else if (free(k) && unit_word(low(k)) &&
               (*unit_word(low(k)) == Unit::hour || *unit_word(low(k)) == Unit::minute)) {
      sub_daily = k + 1;  // "every hour", "every minute"
    } else if (const std::size_t h = phrase(k, {"half", "hour"})         ? 2
                                     : phrase(k, {"half", "an", "hour"}) ? 3
                                                                         : 0) {
      sub_daily = k + h;
    }
  } else if (w == "hourly" && !(r_.intent == Intent::create && i > body_start_ && noun_at(i + 1))) {
    sub_daily = i + 1;  // "backup hourly"; "check hourly rate" says which rate
  }
  if (sub_daily) {
    problem("I can't repeat a task more often than once a day " + quote(i, sub_daily) +
            ": a task repeats by the day at least, at its due time (add a task for each time of day, e.g. "
            "\u201cevery day at 9am\u201d)");
    refused_.emplace_back(i, sub_daily);
    refused_rule_.emplace_back(i, sub_daily);
    return sub_daily - i;
  }
  if (times < 1) return 0;
  // The period: "a day", "per week", "each month", "every year", "a fortnight"'s weeks aside; or an adverb.
  Unit unit{};
  if (free_in(j, {"a", "an", "per", "each", "every"}) && free(j + 1) && unit_word(low(j + 1))) {
    unit = *unit_word(low(j + 1));
    j += 2;
  } else if (free_in(j, {"daily", "weekly", "monthly", "yearly", "annually"})) {
    const string_view x = low(j);
    unit = x == "daily" ? Unit::day : x == "weekly" ? Unit::week : x == "monthly" ? Unit::month : Unit::year;
    ++j;
  } else {
    return 0;
  }
  if (unit == Unit::minute || unit == Unit::hour) {  // "twice an hour"
    problem("I can't repeat a task more often than once a day " + quote(i, j) +
            ": a task repeats by the day at least, at its due time");
    refused_.emplace_back(i, j);
    refused_rule_.emplace_back(i, j);
    return j - i;
  }
  if (times > 1) {
    problem(
        "I can't repeat a task " + quote(i, j) +
        (unit == Unit::day
             ? std::string(": a task repeats at most once a day, at its due time (add a task for each time "
                           "of day, e.g. \u201cevery day at 9am\u201d and \u201cevery day at 9pm\u201d)")
             : std::string(": say which days, e.g. \u201cevery monday and thursday\u201d or "
                           "\u201cevery month on the 1st\u201d")));
    refused_.emplace_back(i, j);
    refused_rule_.emplace_back(i, j);
    return j - i;
  }
  Rule r;
  r.freq = unit == Unit::day     ? "DAILY"
           : unit == Unit::week  ? "WEEKLY"
           : unit == Unit::month ? "MONTHLY"
                                 : "YEARLY";
  const std::size_t tail = j;
  j += match_rule_tail(j, r);
  if (r.bad) problem("unreadable recurrence " + quote(tail, j));
  if (rule_) problem("two recurrences");
  rule_ = r;
  take(i, j, SpanKind::recurrence);
  return j - i;
}

// ---------------------------------------------------------------- priority, tags

std::size_t Parser::match_priority(std::size_t i) {
  const string_view w = low(i);
  std::optional<Priority> p;
  std::size_t k = 0;
  auto level = [](string_view x) -> std::optional<Priority> {
    if (in(x, {"urgent", "top", "highest", "critical", "1", "p1"})) return Priority::urgent;
    if (in(x, {"high", "2", "p2"})) return Priority::high;
    if (in(x, {"medium", "normal", "3", "p3"})) return Priority::medium;
    if (in(x, {"low", "lowest", "4", "p4"})) return Priority::low;
    return std::nullopt;
  };
  // "!!" written apart, or after a word ("milk!!": two '!' punctuation tokens)
  if (i < n_ && !t_[i].used && (w == "!" || w.find_first_not_of('!') == string_view::npos) && !w.empty()) {
    std::size_t j = i;
    std::size_t bangs = 0;
    while (j < n_ && !t_[j].used && !t_[j].low.empty() &&
           t_[j].low.find_first_not_of('!') == string_view::npos &&
           (j == i || t_[j].begin == t_[j - 1].end)) {
      bangs += t_[j].low.size();
      ++j;
    }
    if (bangs >= 2) {
      p = bangs >= 3 ? Priority::urgent : Priority::high;
      k = j - i;
    }
  } else if (!free(i)) {
    return 0;
  } else if (w.size() == 2 && w[0] == 'p' && w[1] >= '1' && w[1] <= '4') {
    p = level(w);
    k = 1;
  } else if (in(w, {"priority", "prio"}) && (free(i + 1) || is(i + 1, ":"))) {
    std::size_t j = i + 1;
    if (is(j, ":")) ++j;  // "priority: high"
    if (free_is(j, "is")) ++j;
    if (auto l = level(low(j)); l && free(j)) {
      p = l;
      k = j + 1 - i;
    }
  } else if (auto l = level(w); l && !all_digits(w) && free_in(i + 1, {"priority", "prio", "pri"})) {
    p = l;
    k = 2;
  } else if (const std::size_t dash = w.find('-');
             dash != string_view::npos && in(w.substr(dash + 1), {"priority", "prio", "pri"}) &&
             level(w.substr(0, dash)) && !all_digits(w.substr(0, dash))) {  // "high-priority"
    p = level(w.substr(0, dash));
    k = 1;
  } else if (in(w, {"urgent", "urgently", "asap"})) {
    p = Priority::urgent;
    k = 1;
  } else if (w == "important") {
    p = Priority::high;
    k = 1;
  } else if (update_like_ && in(w, {"to", "as"}) && free(i + 1)) {
    // "change the priority of taxes to high" / "mark it as low"
    if (auto l = level(low(i + 1)); l && !all_digits(low(i + 1)) && (i + 2 >= n_ || !free(i + 2))) {
      p = l;
      k = 2;
      priority_via_to_ = true;
    }
  }
  if (!p) return 0;
  std::size_t s = i;
  // "not urgent", "not very important", "isn't high priority": no priority is said, certainly not that one.
  std::size_t n = s;
  if (n > 0 && free_in(n - 1, {"very", "so", "too", "that", "really", "a"})) --n;
  if (n > 0 && free_in(n - 1, {"not", "isn't", "isnt", "non", "never"})) {
    s = n - 1;
    if (s > 0 && free_is(s - 1, "is")) --s;
    take(s, i + k, std::nullopt);
    return i + k - s;
  }
  if (s > 0 && free_in(s - 1, {"a", "as", "is"})) --s;
  if (s > 0 && free_in(s - 1, {"with", "is"})) --s;
  if (r_.priority && *r_.priority != *p) problem("two priorities");
  r_.priority = p;
  take(s, i + k, SpanKind::priority);
  return i + k - s;
}

std::size_t Parser::match_tags(std::size_t i) {
  const string_view raw = t_[i].raw;
  auto add = [&](string_view tag) {
    std::string s(tag);
    for (char& c : s)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (s.empty() || s.size() > 200) return;
    if (std::find(r_.tags.begin(), r_.tags.end(), s) == r_.tags.end()) r_.tags.push_back(std::move(s));
  };
  // "fix bug #123", "pay invoice #1234": a number after '#' is the thing's number, in the title, no tag
  if (raw.size() > 1 && raw[0] == '#' && raw[1] != '#' && !all_digits(raw.substr(1))) {
    add(raw.substr(1));
    take(i, i + 1, SpanKind::tag);
    return 1;
  }
  std::size_t k = 0;
  if (free_in(i, {"tagged", "labeled", "labelled"})) {
    k = 1;
    if (free_in(i + 1, {"with", "as"})) k = 2;
  } else if (phrase(i, {"with", "tag"}) || phrase(i, {"with", "tags"})) {
    k = 2;
  } else if (phrase(i, {"with", "the", "tag"}) || phrase(i, {"with", "the", "tags"})) {
    k = 3;
  }
  if (!k) return 0;
  std::size_t j = i + k;
  std::size_t got = 0;
  while (free(j)) {
    string_view tag = t_[j].raw;
    if (!tag.empty() && tag[0] == '#') tag.remove_prefix(1);
    if (tag.empty()) break;
    add(tag);
    ++got;
    ++j;
    std::size_t s = j;
    if (s < n_ && t_[s].punct && t_[s].low == ",") ++s;
    if (free_in(s, {"and", "&"})) ++s;
    if (s == j || !free(s)) break;
    j = s;
  }
  if (!got) return 0;
  take(i, j, SpanKind::tag);
  return j - i;
}

// ---------------------------------------------------------------- the slot pass

// A move by an amount after a verb that moves a task: "by 2 days", "by a week", "back 2 days", "out a month",
// "2 days later", "a week later", "earlier by an hour", "2 days earlier", and an amount alone at the end
// ("postpone the launch 2 weeks"). Later unless "earlier", "sooner" or "up" says otherwise; "forward"/"ahead"
// is earlier after "bring"/"pull" and a problem after the others ("move X forward a week": which way?). An
// amount it cannot read ("by 1.5 days", "by 0 days") is a problem, never a guess.
bool Parser::match_shift(std::size_t i) {
  if (!mover_ || r_.intent != Intent::update || reminder_mode_ || list_) return false;
  const auto direction = [&](std::size_t k) {
    if (free_in(k, {"later", "back", "out"})) return 1;
    if (free_in(k, {"earlier", "sooner", "up"})) return -1;  // "move the dentist up a day"
    if (free_in(k, {"forward", "forwards", "ahead"})) return 2;
    return 0;
  };
  std::size_t j = i;
  int dir = direction(j);
  if (dir) ++j;
  const bool by = free_is(j, "by");
  if (by) ++j;
  int n = 0;
  Unit u{};
  std::size_t k = match_amount(j, n, u);
  bool odd = false;
  if (!k && (k = odd_amount(j))) {
    ++k;  // the unit
    odd = true;
  }
  if (!k) return false;
  std::size_t e = j + k;
  if (!dir && (dir = direction(e))) ++e;
  // an amount alone ("postpone the launch 2 weeks") only at the end: "move 2 day workshop" names a task
  if (!dir && !by && e < n_ && !t_[e].punct) return false;
  if (dir == 2 && bring_) dir = -1;
  if (odd || n < 1 || n > 9999) {
    problem("unreadable move " + quote(i, e) + ": say a whole number from 1 to 9999, e.g. \"by 2 days\"");
  } else if (dir == 2) {
    problem("which way is " + quote(i, e) + "? Say \"later\" or \"earlier\", e.g. \"2 days later\"");
  } else if (shift_) {
    problem("two moves by an amount");
  } else {
    static constexpr Shift::Unit kUnits[] = {Shift::Unit::minute, Shift::Unit::hour,  Shift::Unit::day,
                                             Shift::Unit::week,   Shift::Unit::month, Shift::Unit::year};
    shift_ = Shift{dir < 0 ? -n : n, kUnits[static_cast<std::size_t>(u)]};
    take(i, e, SpanKind::shift);
    return true;
  }
  shift_bad_ = true;
  take(i, e, std::nullopt);
  return true;
}

bool Parser::slots_at(std::size_t i) {
  if (refused(i)) return false;
  if (match_shift(i)) return true;
  // "the night before christmas", "the morning after the 15th": that part of the day, the day before or after
  // the date. "the night before" alone: after "remind me", that part of the day before the task's due day
  // (finish_dates); otherwise it counts from a date the message does not give ("pack for trip the night
  // before", "take out trash the morning after"): the title's, never tonight at 21:00
  if (free_is(i, "the") && free_in(i + 1, {"morning", "afternoon", "evening", "night"}) &&
      free_in(i + 2, {"before", "after"})) {
    const string_view part = low(i + 1);
    const int minute = part == "morning"     ? 9 * 60
                       : part == "afternoon" ? 15 * 60
                       : part == "evening"   ? 19 * 60
                                             : 21 * 60;
    const bool before = low(i + 2) == "before";
    DatePart d;
    bool bad = false;
    const std::size_t m = before && (remind_lead_ || reminder_mode_) ? 0 : match_date(i + 3, d, bad);
    if (m) {
      take_date_counted(i, i + 3 + m, d, bad, before ? -1 : d.range_days);
      TimePart t;
      t.weak = true;
      t.minute = minute;
      if (!bad) (reminder_mode_ ? rtimes_ : times_).push_back(t);
    } else if (before && (remind_lead_ || reminder_mode_) && part_before_ == kNoTime) {
      part_before_ = minute;
      part_before_a_ = i;
      take(i, i + 3, SpanKind::reminder);
    } else {
      refused_.emplace_back(i, i + 3);
    }
    return true;
  }
  // reminder offsets: "30 minutes before", "an hour earlier", "the day before"
  {
    int n = 0;
    Unit u{};
    std::size_t a = i;
    std::size_t k = 0;
    if (free_is(i, "the") && free_in(i + 1, {"day", "week"})) {
      n = 1;
      u = low(i + 1) == "day" ? Unit::day : Unit::week;
      k = 2;
    } else {
      k = match_amount(i, n, u);
    }
    bool odd = false;
    if (!k && (k = odd_amount(i))) {
      ++k;  // the unit
      odd = true;
    }
    if (k && free_in(i + k, {"before", "earlier", "ahead", "prior", "beforehand"})) {
      std::size_t e = i + k + 1;
      // "call mom the day before christmas", "buy gifts 2 days before christmas": without "remind me", a date
      // named right after "before" is counted back from (Dec 24, no reminder a day before Dec 25)
      if (low(e - 1) == "before" && !odd && (u == Unit::day || u == Unit::week) && !remind_lead_ &&
          !reminder_mode_) {
        DatePart d;
        bool bad = false;
        if (const std::size_t m = match_date(e, d, bad)) {
          take_date_counted(i, e + m, d, bad, -n * (u == Unit::week ? 7 : 1));
          return true;
        }
      }
      if (low(e - 1) == "prior" && free_is(e, "to")) ++e;
      // "2 days before the due date", "a day before it's due": before the due date, said
      if (in(low(e - 1), {"before", "to"})) {
        const std::size_t m = e + (free_in(e, {"the", "its", "my", "their"}) ? 1 : 0);
        if (phrase(m, {"due", "date"}))
          e = m + 2;
        else if (free_is(m, "deadline"))
          e = m + 1;
        else if (phrase(e, {"it's", "due"}) || phrase(e, {"its", "due"}))
          e += 2;
        else if (phrase(e, {"it", "is", "due"}))
          e += 3;
      }
      const long long unit = u == Unit::minute ? 60
                             : u == Unit::hour ? 3600
                             : u == Unit::day  ? 86400
                             : u == Unit::week ? 604800
                                               : 0;
      // "remind me", "with a reminder", "reminder" before it
      if (a > 0 && free_in(a - 1, {"reminder", "alert", "notification"})) --a;
      if (a > 0 && free_is(a - 1, "a")) --a;
      if (a > 0 && free_is(a - 1, "with")) --a;
      if (a > 1 && free_in(a - 2, {"remind", "alert", "notify", "ping"}) && free_is(a - 1, "me")) a -= 2;
      // "pay credit card 2 days before due date", "call mom 30 minutes before the meeting", "renew passport 6
      // months before trip", "pack for trip the day before" may count from a date the message does not give
      // (the bill's, the meeting's, the trip's): without a due date of the task's own, the words are the
      // title's (finish_dates), and an amount no reminder can be ("6 months") is no problem there
      // "remind me to check in 24 hours before flight": so are the amount and an event after "remind me to
      // X" (they were a reminder a day before a task "check in flight"): a reminder before the flight needs
      // its time
      const bool event = e == i + k + 1 && before_event(e - 1);
      // "remind me 24 hours before flight to check in": the task is the words after "to", the amount and the
      // event before them are read as in "remind me to check in 24 hours before flight" (they were a reminder
      // on a task "flight to check in")
      // A "to" after a journey says where it goes when another one follows ("remind me 24 hours before my
      // flight to paris to check in": the task is "check in", not "paris to check in").
      std::size_t lead_to = n_;
      for (std::size_t m = e + 1; event && remind_lead_ && first_free() == i && m + 1 < n_; ++m) {
        if (free_is(m, "to") && free(m + 1) && !std::isdigit(static_cast<unsigned char>(low(m + 1)[0]))) {
          const bool first = lead_to == n_;
          lead_to = m;
          if (!first || !in(low(m - 1), {"flight", "trip", "train", "drive", "ride", "bus", "journey",
                                         "cruise", "ferry", "visit", "move", "commute"}))
            break;
        }
      }
      // the event may be a task of the user's, its title taken whole (protect_name): "before the meeting"
      const bool named =
          name_b_ > name_a_ && (name_a_ == e || (name_a_ == e + 1 && free_in(e, {"the", "my", "our"})));
      bool to_after = false;
      for (std::size_t m = name_b_; named && m < n_; ++m)
        to_after = to_after || free_is(m, "to");
      remind_before_event_ = remind_before_event_ || (remind_lead_ && a == i && first_free() == i &&
                                                      ((event && lead_to == n_) || (named && !to_after)));
      const bool ref = a == i && !reminder_mode_ && r_.intent == Intent::create && !odd && n <= 100000 &&
                       !due_ref_b_ && (!remind_lead_ || (event && (first_free() < i || lead_to < n_)));
      if (ref) {
        due_ref_a_ = a;
        due_ref_b_ = e;
        due_ref_offset_ = unit != 0 ? offsets_.size() : SIZE_MAX;
        due_ref_event_ = event;
        due_ref_to_ = lead_to;
      }
      if (odd || unit == 0 || n > 100000) {
        (ref ? due_ref_problem_ : r_.problems.emplace_back()) = "unreadable reminder " + quote(i, e);
      } else {
        offsets_.push_back(std::chrono::seconds(n * unit));
      }
      take(a, e, SpanKind::reminder);
      return true;
    }
  }
  if (match_times_per(i) || match_recurrence(i)) return true;
  // recurrence modifiers
  if (phrase(i, {"after", "completion"}) || phrase(i, {"after", "completing"}) ||
      phrase(i, {"after", "done"}) || phrase(i, {"after", "finishing"}) ||
      phrase(i, {"from", "completion"})) {
    after_completion_ = true;
    take(i, i + 2, SpanKind::recurrence);
    return true;
  }
  if (phrase(i, {"after", "it's", "done"}) || phrase(i, {"after", "it", "is", "done"}) ||
      phrase(i, {"after", "i", "finish"})) {
    after_completion_ = true;
    take(i, i + (low(i + 1) == "it" ? 4 : 3), SpanKind::recurrence);
    return true;
  }
  if (!list_ && free_in(i, {"starting", "beginning", "from", "until", "till", "through", "thru", "ending"})) {
    std::size_t j = i + 1;
    if (free_in(j, {"on", "from"})) ++j;
    DatePart d;
    bool bad = false;
    std::size_t k = match_date(j, d, bad);
    // "through january", "thru march 2027": to the end of that month ("until january" may mean its start: see
    // deadline_month); "starting april", "beginning june": from its first day (it stayed in the title, and
    // the series started today), and so does "from may" with a recurrence ("run every day from may"; without
    // one, "get keys from May" names no start)
    const bool from_month =
        in(low(i), {"starting", "beginning"}) || (low(i) == "from" && (rule_ || later_recurrence(i)));
    if (const int m =
            !k && (from_month || in(low(i), {"through", "thru"})) && free(j) ? month_word(low(j)) : 0) {
      int year = year_of(clk_.today) + (m < static_cast<int>(month_of(clk_.today)) ? 1 : 0);
      k = 1;
      if (free(j + 1) && all_digits(low(j + 1)) && low(j + 1).size() == 4) {
        year = std::stoi(std::string(low(j + 1)));
        k = 2;
      }
      if (const auto day =
              make_date(year, m, from_month ? 1 : days_in_month(year, static_cast<unsigned>(m)))) {
        d.day = *day;
      } else {
        bad = true;
        problem("unreadable date " + quote(j, j + k));
      }
    }
    if (!k && free(j) && all_digits(low(j)) && low(j).size() == 4) {  // "until 2099": to the end of that year
      const bool until = in(low(i), {"until", "till", "through", "thru", "ending"});
      d.day = *make_date(std::stoi(std::string(low(j))), until ? 12 : 1, until ? 31 : 1);
      k = 1;
    }
    if (k) {
      const bool until = in(low(i), {"until", "till", "through", "thru", "ending"});
      if (!bad) (until ? until_ : start_) = d.day;
      if (!bad && until) until_weekday_ = d.weekday_only;
      if (bad && until) {
        bad_until_a_ = i;
        bad_until_b_ = j + k;
      }
      if (!bad && until && d.day - clk_.today > days(334) && !names_a_year(j, j + k))
        // "until March 1" said on March 4: next year's March 1 is a guess, not a reading.
        problem("the end date " + quote(j, j + k) + " has just passed (read as " +
                std::to_string(year_of(d.day)) + ")");
      take(i, j + k, bad ? std::nullopt : std::optional(SpanKind::recurrence));
      if (!bad) bound_spans_.push_back(t_[i].begin);
      return true;
    }
  }
  if (free_is(i, "for") || free(i)) {
    std::size_t j = free_is(i, "for") ? i + 1 : i;
    if (auto num = number_word(low(j)); num && free(j) && free_in(j + 1, {"times", "occurrences", "time"})) {
      count_ = *num;
      if (*num < 1) problem("unreadable count " + quote(i, j + 2));
      take(i, j + 2, SpanKind::recurrence);
      return true;
    }
    // "for 99999 times", "for 1.5 times": a count that cannot be read. Refused, never offered: without its
    // count the series would be endless.
    if (free(j) && low(j).find_first_of("0123456789") == 0 && free_in(j + 1, {"times", "occurrences"})) {
      problem(std::string(kCantEnd) + quote(i, j + 2) +
              ": a count must be a whole number from 1 to 9999 (unreadable count)");
      take(i, j + 2, std::nullopt);
      return true;
    }
  }
  // "every day for 10 days", "every monday for 6 weeks": how long a recurrence lasts (kept only with one;
  // else the words go back to the title: "vacation for 10 days")
  if (!list_ && free_is(i, "for") && !for_b_) {
    int n = 0;
    Unit u{};
    std::size_t k = match_amount(i + 1, n, u);
    const bool odd = !k && (k = odd_amount(i + 1)) != 0;
    if (odd) ++k;  // the unit
    if (k && (odd || (u != Unit::minute && u != Unit::hour))) {
      for_n_ = odd || n < 1 ? -1 : n;  // "for 0 days" ends nothing: unreadable, not endless
      for_unit_ = u;
      for_a_ = i;
      for_b_ = i + 1 + k;
      take(i, for_b_, SpanKind::recurrence);
      return true;
    }
  }
  // relative instants: in 30 minutes / in 2 hours / 2 hours from now
  {
    int n = 0;
    Unit u{};
    std::size_t a = 0;
    std::size_t k = 0;
    if (free_in(i, {"in", "within"})) {
      a = 1;
      k = match_amount(i + 1, n, u);
      // "check in 24 hours before flight": the amount counts back from the event, no time from now
      if (k && before_event(i + 1 + k)) k = 0;
    } else if ((k = match_amount(i, n, u)) && free_is(i + k, "from") && free_is(i + k + 1, "now")) {
      a = 0;
    } else {
      k = 0;
    }
    if (k && (u == Unit::minute || u == Unit::hour)) {
      const auto d = std::chrono::minutes(static_cast<long long>(n) * (u == Unit::hour ? 60 : 1));
      const Instant at = clk_.now + d;
      (reminder_mode_ ? rrels_ : rels_).push_back(at);
      std::size_t e = i + a + k + (a == 0 ? 2 : time_suffix(i + a + k));
      take(verb_in(i) ? i + 1 : back_prep(i, nullptr), e, SpanKind::time);
      return true;
    }
  }
  {
    DatePart d;
    bool bad = false;
    std::size_t k = match_date(i, d, bad);
    // "in 2 weeks": "time" after it is its end ("in 2 weeks' time"); "before the trip" after it counts back
    // from the trip, no date from today ("renew passport in 6 months before trip" stays the title's)
    int amount = 0;
    Unit unit{};
    if (k && free_in(i, {"in", "within"}) && match_amount(i + 1, amount, unit) + 1 == k)
      k = before_event(i + k) ? 0 : k + time_suffix(i + k);
    if (k) {
      d.at = i;
      std::size_t s = verb_in(i) ? i + 1 : back_prep(i, &d.prep);
      // "call bob later today", "later this week": the day said
      if (s == i && i > 0 && free_is(i - 1, "later") && in(low(i), {"today", "tonight", "this"})) --s;
      // "wash car over the weekend", "during the weekend"
      if (s == i && i > 0 && free_in(i - 1, {"over", "during"}) && phrase(i, {"the", "weekend"})) --s;
      // "prep slides for tuesday meeting": the day says which meeting, and "for" joins it to the title
      // ("prep slides for meeting", due Tuesday), not to the date
      if (s + 1 == i && low(s) == "for" && r_.intent == Intent::create && !list_ && noun_at(i + k)) {
        s = i;
        d.prep = {};
      }
      // "call mom the day after christmas", "2 days after christmas", "a week after the 15th": that many days
      // after the date (its last day), as "the day before christmas" counts back
      if (s == i && !bad && !list_ && !reminder_mode_ && i > 1 && free_is(i - 1, "after")) {
        int n = 0;
        Unit u{};
        for (std::size_t a = 1; a <= 3 && a < i; ++a) {
          const std::size_t from = i - 1 - a;
          std::size_t m = match_amount(from, n, u);
          if (a == 2 && free_is(from, "the") && free_in(from + 1, {"day", "week"})) {
            n = 1;
            u = low(from + 1) == "day" ? Unit::day : Unit::week;
            m = 2;
          }
          if (m == a && (u == Unit::day || u == Unit::week)) {
            take_date_counted(from, i + k, d, bad, d.range_days - 1 + n * (u == Unit::week ? 7 : 1));
            return true;
          }
        }
      }
      // "pay bill after friday": a new task due from the day after that date on, as a list reads "after
      // friday" (from the end of Friday); with a time, a problem (Saturday at 3pm, or Friday after 3pm?)
      if (s == i && !bad && !list_ && !reminder_mode_ && r_.intent == Intent::create && i > 0 &&
          free_is(i - 1, "after")) {
        s = i - 1;
        d.day = d.range_start = d.range_start + days(d.range_days);
        d.range_days = 1;
        d.default_minute = kNoTime;
        d.weekday_only = false;
        after_date_ = true;
      }
      if (!bad) (reminder_mode_ ? rdates_ : dates_).push_back(d);
      take(s, i + k, bad ? std::nullopt : std::optional(SpanKind::date));
      if (bad) unreadable_ = true;
      if (bad && reminder_mode_) reminder_unread_ = true;
      if (!bad && !reminder_mode_) take_copula(s);
      return true;
    }
  }
  {
    TimePart t;
    bool bad = false;
    if (std::size_t k = match_time(i, t, bad)) {
      if (free_is(i + k, "sharp")) ++k;  // "at 7 pm sharp"
      std::size_t s = back_prep(i, &t.prep);
      // "pick up dry cleaning after 5pm": the time from which it can be done, due then as "at 5pm" is; in a
      // list ("what's due after 5pm") the start of the range
      if (s == i && !t.weak && i > 0 && free_is(i - 1, "after")) {
        t.prep = "after";
        s = back_prep(i - 1, nullptr);
      }
      if (!bad) (reminder_mode_ ? rtimes_ : times_).push_back(t);
      if (bad) unreadable_ = true;
      if (bad && reminder_mode_) reminder_unread_ = true;
      take(s, i + k, bad ? std::nullopt : std::optional(SpanKind::time));
      if (!bad && !reminder_mode_) take_copula(s);
      return true;
    }
  }
  if (match_priority(i)) return true;
  if (match_tags(i)) return true;
  // a "remind me" later in the text: what follows is the reminder's time
  if (i > 0 && (phrase(i, {"remind", "me"}) || phrase(i, {"alert", "me"}) || phrase(i, {"notify", "me"}))) {
    reminder_mode_ = true;
    remind_from_ = std::min(remind_from_, i);
    take(i, i + 2 + (free_is(i + 2, "at") ? 0 : 0), SpanKind::reminder);
    return true;
  }
  if (i > 0 && (phrase(i, {"with", "a", "reminder"}) || phrase(i, {"reminder"}))) {
    const std::size_t k = low(i) == "with" ? 3 : 1;
    reminder_mode_ = true;
    remind_from_ = std::min(remind_from_, i);
    take(i, i + k, SpanKind::reminder);
    return true;
  }
  return false;
}

void Parser::extract() {
  for (std::size_t i = 0; i < n_; ++i) {
    if (t_[i].used) continue;
    if (t_[i].punct && t_[i].low != "!") continue;
    slots_at(i);
  }
  // What looks like a date or a time but was not read is not guessed.
  std::size_t reported = 0;  // the end of the words the last problem quoted: one problem for them
  for (std::size_t i = 0; i < n_; ++i) {
    if (!free(i) || i < reported || refused(i)) continue;
    const string_view w = low(i);
    // "schedule 1:1 with boss": a one-on-one, no time (except after "at")
    const bool one_on_one = w.size() == 3 && w[1] == ':' && all_digits(w.substr(0, 1)) &&
                            all_digits(w.substr(2)) && !(i > 0 && in(low(i - 1), {"at", "@", "around"}));
    const bool timeish =
        w.find(':') != string_view::npos && w.find_first_of("0123456789") == 0 && !one_on_one;
    bool clock = false;
    if (auto c = clock_word(w, free(i + 1) ? low(i + 1) : string_view(), false); c && c->minute < 0)
      clock = true;
    // "buy card for dad's 50th", "celebrate our 10th": an ordinal someone has is an anniversary, no date
    const bool possessed =
        i > 0 && !t_[i - 1].punct &&
        (low(i - 1).ends_with("'s") || in(low(i - 1), {"my", "our", "your", "his", "her", "their"}));
    bool dateish = ordinal_shape(w) && !ordinal_noun(i) && !possessed;
    if (!dateish && w.find('/') != string_view::npos && w.find_first_of("0123456789") == 0 &&
        !quantity_slash(i))
      dateish = true;
    std::size_t quoted = i + 1;  // the words the problem quotes
    // Time-like words that were not read: "at 9h30", "at half 5" (British for 5:30), "in 2wks", the zone in
    // "at 3pm EST". A problem (low confidence, no due date), never a title at 0.85.
    if (free_in(i, {"at", "@", "around"}) && free(i + 1) && !t_[i + 1].punct) {
      const string_view next = low(i + 1);
      const bool digit_led = !next.empty() && next[0] >= '0' && next[0] <= '9';
      // a phone number ("call Mark at 555-1234", "text Sam at 07700 900123") is no time either
      const std::size_t run = std::min(next.find_first_not_of("0123456789"), next.size());
      const bool phone =
          run >= 5 || (run >= 3 && run + 1 < next.size() && (next[run] == '-' || next[run] == '.') &&
                       next[run + 1] >= '0' && next[run + 1] <= '9');
      if (digit_led && !ordinal_shape(next) && !address_number(i + 1) && !measured_number(i + 1) && !phone) {
        clock = true;
        quoted = i + 2;
      }
      if (in(next, {"half", "quarter"}) && i + 2 < n_ && free(i + 2) &&
          (all_digits(low(i + 2)) || number_word(low(i + 2)))) {
        clock = true;
        quoted = i + 3;
      }
    }
    // "follow up in a few days": how many is not said (not guessed)
    if (free_in(i, {"in", "within"}) && phrase(i + 1, {"a", "few"}) && free(i + 3) && unit_word(low(i + 3))) {
      dateish = true;
      quoted = i + 4;
    }
    if (free_in(i, {"in", "within"}) && free(i + 1)) {
      const string_view next = low(i + 1);
      const std::size_t d = next.find_first_not_of("0123456789");
      if (d > 0 && d != string_view::npos && d + 5 >= next.size() &&
          next.substr(d).find_first_not_of("abcdefghijklmnopqrstuvwxyz.") == string_view::npos &&
          in(next.substr(d, 1), {"s", "m", "h", "d", "w", "y"})) {
        dateish = true;  // "in 2wks", "in 3hrs."; not "in 4b"
        quoted = i + 2;
      }
    }
    if (i > 0 && free(i) && t_[i - 1].used && !t_[i - 1].punct &&
        in(w, {"est", "edt", "cst",  "cdt",  "mst", "mdt",  "pst", "pdt",  "akst", "akdt",
               "hst", "gmt", "utc",  "bst",  "cet", "cest", "eet", "eest", "wet",  "ist",
               "jst", "kst", "aest", "aedt", "et",  "ct",   "mt",  "pt",   "z"})) {
      for (const auto& sp : spans_)
        if (sp.kind == SpanKind::time && sp.end == t_[i - 1].end) clock = true;  // "at 3pm EST"
    }
    // "every 2 hours", "every blue moon": a recurrence that was not understood
    if (in(w, {"every", "every!"})) dateish = true;
    // "pick up dry cleaning by 6", "call back after 5": an hour alone after such a word may be a time (or an
    // amount: "cut costs by 10"), not read either way
    if (free_in(i, {"by", "before", "after", "until", "till"}) && free(i + 1) && all_digits(low(i + 1)) &&
        (i + 2 >= n_ || t_[i + 2].punct || continues_date(low(i + 2)))) {
      if (auto c = clock_word(low(i + 1), string_view(), true); c && c->minute >= 0) {
        clock = true;
        quoted = i + (unit_word(low(i + 2)) ? 3 : 2);  // "after 5 days" is not read either
      }
    }
    if (deadline_month(i + 1)) {
      dateish = true;
      quoted = i + 2;
    }
    // "change the report by 2 days": a shift after a verb that does not move a task (match_shift) is not read
    int amount = 0;
    Unit unit{};
    std::size_t from = i;
    if (const std::size_t k = update_like_ ? match_amount(i, amount, unit) : 0) {
      // "by a week", not 'a'; "by 2 days" was quoted at "by" (an hour alone after it) already
      if (i > 0 && free_is(i - 1, "by")) {
        from = i - 1;
        dateish = dateish || !all_digits(low(i));
      } else {
        dateish = true;
      }
      quoted = i + k;
    }
    if (timeish || clock || dateish) {
      problem("unreadable date or time " + quote(from, std::min(quoted, n_)));
      reported = quoted;
      unreadable_ = true;
      if (i >= remind_from_) reminder_unread_ = true;
    }
  }
}

// ---------------------------------------------------------------- dates → instants

local_days Parser::first_occurrence(local_days from, int minute, bool& found) const {
  const Rule& r = *rule_;
  found = false;
  for (int k = 0; k < 366 * 9; ++k) {
    const local_days d = from + days(k);
    bool match = true;
    const int wd = iso_weekday(d);
    const int dom = static_cast<int>(day_of(d));
    const int dim = days_in_month(year_of(d), month_of(d));
    if (r.weekdays && !(r.weekdays >> wd & 1u)) match = false;
    // the kth such weekday of the month, or its last
    if (match && r.nths && !(r.nths >> ((dom - 1) / 7) & 1u) && !(dom + 7 > dim && (r.nths >> 5 & 1u)))
      match = false;
    if (match && r.monthdays && !(r.monthdays >> dom & 1u) && !(dom == dim && (r.monthdays & 1u)))
      match = false;
    if (match && r.month > 0 && static_cast<int>(month_of(d)) != r.month) match = false;
    if (!match) continue;
    if (minute != kNoTime && wall_to_instant(clk_.zone, d, minute) < clk_.now) continue;
    found = true;
    return d;
  }
  return from;
}

// An end of a series that was not read ("until feb 30", "until february", "until the cows come home", "every
// day until"): refused with a problem starting kCantEnd, never offered as a series without its end, which
// would never end. "until further notice" is no end: the series is endless. "walk until 5pm every day" and
// "walk through the park every day" have no end date to read.
void Parser::cant_end_until() {
  std::size_t a = bad_until_a_, b = bad_until_b_;
  for (std::size_t i = 0; i < n_ && a == b; ++i) {
    if (!free_in(i, {"until", "till", "til", "through", "thru"})) continue;
    if (phrase(i + 1, {"further", "notice"})) {
      take(i, i + 3, SpanKind::recurrence);
      continue;
    }
    const bool through = in(low(i), {"through", "thru"});
    std::size_t e = i + 1;
    while (e < n_ && free(e))
      ++e;
    bool last = true;  // "every day until": nothing after it
    for (std::size_t k = i + 1; k < n_; ++k)
      last = last && t_[k].punct;
    const string_view next = low(free_is(i + 1, "the") ? i + 2 : i + 1);  // "through the end of …"
    const bool dateish = e > i + 1 && (is_date_word(next) || next.find_first_of("0123456789") == 0 ||
                                       in(next, {"end", "beginning", "start"}));
    // "read until sleepy every night": words that are no date between "until" and the recurrence are the
    // title's (an end comes after the rule: "every day until the cows come home" is refused)
    bool before_rule = false;
    for (const auto& sp : spans_)
      before_rule = before_rule || (e < n_ && sp.kind == SpanKind::recurrence && sp.start == t_[e].begin);
    if (before_rule && !dateish) continue;
    if ((!through && (e > i + 1 || last)) || (through && dateish)) {
      a = i;
      b = e;
    }
  }
  if (a == b) return;
  problem(
      std::string(kCantEnd) + quote(a, b) +
      ": say its last day, e.g. \"until january 31\", \"until the end of january\" or \"through january\" "
      "(unreadable end date)");
}

// The part of the day decides the am/pm of an hour written without it: morning → am ("at 6 in the morning"),
// afternoon, evening and night → pm ("tomorrow evening at 8", "at 11 at night"); "12" in the evening or at
// night is midnight, and so are the night's small hours ("at 2 at night", "tonight at 0:30", "tonight at
// 1am"): `next_day` is then set. `part` is the part's default minute (morning 09:00, afternoon 15:00, evening
// 19:00, tonight 20:00, night 21:00) or kNoTime. False when a time written with am/pm or on a 24-hour clock
// contradicts the part ("at 8am in the evening"). `from_date`: the part came with the date ("tonight", "this
// evening"), where any morning hour is the night's ("tonight at 1am").
bool Parser::fit_day_part(const TimePart& t, int part, bool from_date, int& minute, bool& next_day) {
  if (part == kNoTime) return true;
  const int hour = minute / 60;
  if (part < 12 * 60) {  // morning
    if (t.h12) minute = (hour % 12) * 60 + minute % 60;
    return t.h12 || minute < 12 * 60;
  }
  if (part < 17 * 60) {  // afternoon
    if (t.h12 && hour < 12) minute += 12 * 60;
    return t.h12 || minute >= 12 * 60;
  }
  // evening and night
  if (t.h12) {
    if (hour == 12) {
      minute -= 12 * 60;
      next_day = true;
    } else if (part >= 20 * 60 && hour >= 13 && hour <= 16) {  // "at 2 at night", "tonight at 1": small hours
      minute -= 12 * 60;
      next_day = true;
    } else if (hour < 12) {
      minute += 12 * 60;
    }
    return true;
  }
  if (minute < 12 * 60 && (from_date || minute < 5 * 60)) {
    next_day = true;
    return true;
  }
  return minute >= 12 * 60;
}

// One instant out of the date, time and relative parts; nullopt when there are none or they conflict.
std::optional<Instant> Parser::combine(const std::vector<DatePart>& ds, const std::vector<TimePart>& ts,
                                       const std::vector<Instant>& rel, bool& all_day, bool for_reminder) {
  all_day = false;
  if (ds.empty() && ts.empty() && rel.empty()) return std::nullopt;
  if (ds.size() > 1) {
    // "friday march 6": fine when they agree; two weekdays ("gym monday and wednesday") are two dates.
    for (const auto& d : ds)
      if (d.day != ds.front().day && d.weekday_only == ds.front().weekday_only) {
        problem("two different dates");
        return std::nullopt;
      }
  }
  std::optional<DatePart> date;
  for (const auto& d : ds)
    if (!date || date->weekday_only) date = d;
  if (ds.size() > 1) {
    for (const auto& d : ds)
      if (d.weekday_only && iso_weekday(d.day) != iso_weekday(date->day)) {
        problem("the weekday does not match the date");
        return std::nullopt;
      }
  }
  const TimePart* time = nullptr;
  for (const auto& t : ts) {
    if (time && !time->weak && !t.weak && time->minute != t.minute) {
      problem("two different times");
      return std::nullopt;
    }
    if (!time || time->weak) time = &t;
  }
  if (!rel.empty()) {
    if (rel.size() > 1 || date || time) {
      problem("a relative time with another date or time");
      return std::nullopt;
    }
    return rel.front();
  }
  int minute = time ? time->minute : date && date->default_minute != kNoTime ? date->default_minute : kNoTime;
  // The part of the day said with the time ("tomorrow evening at 8", "at 6 in the morning") or by the date
  // ("tonight at 9", "this morning at 6") decides its am/pm.
  int part = kNoTime;
  for (const auto& t : ts)
    if (t.weak && part == kNoTime) part = t.minute;
  const bool part_from_date = part == kNoTime && date && date->default_minute != kNoTime;
  if (part_from_date) part = date->default_minute;
  bool after_midnight = false;
  if (time && !time->weak && !fit_day_part(*time, part, part_from_date, minute, after_midnight)) {
    problem("a time that does not fit the part of the day");
    return std::nullopt;
  }
  if (time && time->ambiguous && part == kNoTime) ambiguous_time(minute);
  if (date) {
    if (minute == kNoTime) {
      if (for_reminder) return wall_to_instant(clk_.zone, date->day, 9 * 60);
      all_day = true;
      return wall_to_instant(clk_.zone, date->day, 0);
    }
    return wall_to_instant(clk_.zone, after_midnight ? date->day + days(1) : date->day, minute);
  }
  // A time alone: its next occurrence.
  for (int k = 0; k < 3; ++k) {
    const Instant at = wall_to_instant(clk_.zone, clk_.today + days(k), minute);
    if (at > clk_.now) return at;
  }
  return std::nullopt;
}

void Parser::finish_dates() {
  bool all_day = false;
  // "remind me to call mom tomorrow": a reminder needs a time, and a date alone reminds at 09:00 (as "remind
  // me about X tomorrow" does); the task is due then, with its reminder at the due time (added in run()).
  // "remind me to check in 24 hours before my flight on friday": the amount before the event is the title's
  // (the event has no time, below), so no reminder of its own: 09:00 that day (it was all-day with a reminder
  // at midnight)
  const bool event_only = due_ref_event_ && offsets_.size() == 1 && due_ref_offset_ == 0;
  const bool remind_at_nine = remind_lead_ && r_.intent == Intent::create &&
                              (offsets_.empty() || event_only) && part_before_ == kNoTime && times_.empty() &&
                              rels_.empty() && rdates_.empty() && rtimes_.empty() && rrels_.empty();
  // "team offsite from june 10 to june 12", "conference june 10 until june 12", "vacation from monday to
  // friday": a span of days is due on its first day, as "June 10-12" is; with a recurrence the end after "to"
  // is its end, as "until" is ("gym every day from june 1 to june 30")
  if (r_.intent == Intent::create && !update_like_ && !list_) {
    std::size_t to = dates_.size();  // the date after "to"
    for (std::size_t k = 0; k < dates_.size(); ++k)
      if (dates_[k].at > 0 && free_is(dates_[k].at - 1, "to")) to = k;
    const bool pair = dates_.size() == 2 && (to == 1 || (until_ && to == 2));
    const std::optional<local_days> first = start_ ? start_
                                            : pair || (dates_.size() == 1 && until_)
                                                ? std::optional(dates_.front().day)
                                                : std::nullopt;
    std::optional<local_days> end = until_;
    bool weekday = until_weekday_;
    // ("gym every day from monday to friday" may mean its weekdays: not read as an end)
    const bool to_end = to < dates_.size() && !until_ && (start_ ? dates_.size() == 1 : pair) &&
                        !(rule_ && dates_[to].weekday_only);
    if (to_end) {
      end = dates_[to].day;
      weekday = dates_[to].weekday_only;
    }
    if (first && end && weekday && *end < *first) end = *end + days(7);  // "from monday to friday"
    if (first && end && *end >= *first) {
      if (to_end) {
        take(dates_[to].at - 1, dates_[to].at, std::nullopt);
        dates_.erase(dates_.begin() + static_cast<std::ptrdiff_t>(to));
      }
      if (rule_)
        until_ = end;
      else
        until_.reset();
    }
  }
  // "quarterly review first week of april", "monthly report march 31": an adverb that starts a new task's
  // title before a noun says which review when the message dates it by a day or a week of a named month; no
  // rule
  // ("Weekly sync monday" repeats; so does anything said with a start, an end or a count)
  if (rule_ && title_adverb_ && !start_ && !until_ && count_ == 0 && !for_b_ && !after_completion_ &&
      std::any_of(dates_.begin(), dates_.end(), [](const DatePart& d) { return d.in_named_month; })) {
    const std::size_t a = title_adverb_ - 1;
    t_[a].used = false;
    std::erase_if(spans_,
                  [&](const Span& sp) { return sp.kind == SpanKind::recurrence && sp.start == t_[a].begin; });
    rule_.reset();
  }
  if (rule_) {
    // A plain date is where the recurrence starts.
    local_days from = start_.value_or(clk_.today);
    std::vector<DatePart> ds = dates_;
    // Two dates, two times of day ("every day at 8am and 6pm"), a time that contradicts the part of the day
    // ("every evening at 8am"): a conflict, as for a single date: a problem and no due date (never the last
    // one said, silently).
    bool conflict = false;
    if (!start_ && !ds.empty()) {
      from = ds.front().day;
      if (ds.size() > 1) {
        problem("two different dates");
        conflict = true;
      }
    }
    if (from < clk_.today) from = clk_.today;
    if (!rels_.empty()) {
      problem("a relative time with a recurrence");
      conflict = true;
    }
    int minute = kNoTime;
    const TimePart* time = nullptr;
    int part = kNoTime;
    for (const auto& t : times_) {
      if (t.weak && part == kNoTime) part = t.minute;
      if (!t.weak && time && !time->weak && time->minute != t.minute && !conflict) {
        problem("two different times");
        conflict = true;
      }
      if (minute == kNoTime || !t.weak) {
        minute = t.minute;
        time = &t;
      }
    }
    // "every evening at 8", "every tuesday evening at 8", "tonight at 9 every week": the part of the day
    // decides the am/pm, as for a single date.
    const bool part_from_date = part == kNoTime && !ds.empty() && ds.front().default_minute != kNoTime;
    if (part_from_date) part = ds.front().default_minute;
    if (part == kNoTime) part = rule_->default_minute;
    bool next_day = false;
    if (time && !time->weak && !fit_day_part(*time, part, part_from_date, minute, next_day)) {
      problem("a time that does not fit the part of the day");
      conflict = true;
    }
    if (time && time->ambiguous && part == kNoTime) ambiguous_time(minute);
    if (minute == kNoTime && !ds.empty() && ds.front().default_minute != kNoTime)
      minute = ds.front().default_minute;
    if (minute == kNoTime) minute = rule_->default_minute;
    if (minute == kNoTime && remind_at_nine) minute = 9 * 60;
    bool found = false;
    if (minute >= 24 * 60) {  // midnight, or "quarter past midnight": the next day's small hours
      minute -= 24 * 60;
      next_day = true;
    }
    if (next_day) from += days(1);
    const local_days first = first_occurrence(from, minute, found);
    if (for_n_ < 0)
      problem(std::string(kCantEnd) + quote(for_a_, for_b_) +
              ": a duration must be a whole number from 1 to 9999 (unreadable duration)");
    cant_end_until();
    if (for_n_ > 0) {
      // One occurrence for each unit ("every day for 10 days", "every monday for 6 weeks"): that many
      // occurrences; otherwise ("daily for 2 weeks") up to the end of the period from the first one.
      const Rule& r = *rule_;
      const bool one_each = r.interval == 1 && std::popcount(r.weekdays) <= 1 &&
                            ((for_unit_ == Unit::day && r.freq == std::string_view("DAILY") && !r.weekdays) ||
                             (for_unit_ == Unit::week && r.freq == std::string_view("WEEKLY")) ||
                             (for_unit_ == Unit::month && r.freq == std::string_view("MONTHLY")) ||
                             (for_unit_ == Unit::year && r.freq == std::string_view("YEARLY")));
      if (count_ > 0 || until_) {
        problem("both a count and an end date");
      } else if (one_each) {
        count_ = for_n_;
      } else {
        const long long n = for_n_;
        const local_days end = for_unit_ == Unit::day     ? first + days(n)
                               : for_unit_ == Unit::week  ? first + days(7 * n)
                               : for_unit_ == Unit::month ? add_months(first, static_cast<int>(n))
                                                          : add_months(first, static_cast<int>(12 * n));
        until_ = end - days(1);
      }
    }
    std::string rrule = std::string("FREQ=") + rule_->freq;
    if (rule_->interval > 1) rrule += ";INTERVAL=" + std::to_string(rule_->interval);
    if (rule_->month) rrule += ";BYMONTH=" + std::to_string(rule_->month);
    if (rule_->monthdays) {  // "1,15", "15,-1"
      rrule += ";BYMONTHDAY=";
      for (int d = 1; d <= 32; ++d)
        if (rule_->monthdays >> (d % 32) & 1u)
          rrule += (rrule.back() == '=' ? "" : ",") + std::to_string(d == 32 ? -1 : d);
    }
    if (rule_->weekdays) {
      rrule += ";BYDAY=";
      bool first_day = true;
      for (int d = 0; d < 7; ++d) {
        if (!(rule_->weekdays >> d & 1u)) continue;
        // "MO", or each week of the month the rule names: "1MO,3MO", "-1FR"
        for (int k = rule_->nths ? 0 : 6; k < (rule_->nths ? 6 : 7); ++k) {
          if (k < 6 && !(rule_->nths >> k & 1u)) continue;
          if (!first_day) rrule += ",";
          first_day = false;
          if (k < 6) rrule += std::to_string(k == 5 ? -1 : k + 1);
          rrule += kRruleDays[static_cast<std::size_t>(d)];
        }
      }
    }
    if (count_ > 0) rrule += ";COUNT=" + std::to_string(count_);
    if (until_) {
      const Instant end = wall_to_instant(clk_.zone, *until_, minute == kNoTime ? 24 * 60 - 1 : minute);
      rrule += ";UNTIL=" + rrule_utc(minute == kNoTime ? end + std::chrono::seconds(59) : end);
      if (found && *until_ < first) problem("the recurrence ends before it starts");
    }
    if (count_ > 0 && until_) problem("both a count and an end date");
    if (!found || rule_->bad) {
      problem("no occurrence of the recurrence");
    } else if (!conflict) {
      r_.due_at = wall_to_instant(clk_.zone, first, minute == kNoTime ? 0 : minute);
      r_.all_day = minute == kNoTime;
    }
    r_.recurrence = std::move(rrule);
  } else {
    if (for_b_) {  // "vacation for 10 days": no recurrence to last, so the words are the title's
      for (std::size_t k = for_a_; k < for_b_; ++k)
        t_[k].used = false;
      std::erase_if(spans_, [&](const Span& sp) {
        return sp.kind == SpanKind::recurrence && sp.start == t_[for_a_].begin;
      });
    }
    std::vector<DatePart> ds = dates_;
    // "vacation from june 10 to june 12": without a rule the words of a start or an end are a date's
    for (auto& sp : spans_)
      if (sp.kind == SpanKind::recurrence &&
          std::find(bound_spans_.begin(), bound_spans_.end(), sp.start) != bound_spans_.end())
        sp.kind = SpanKind::date;
    if (start_) ds.push_back(DatePart{*start_, *start_, 1, kNoTime, {}, false});
    if (until_) ds.push_back(DatePart{*until_, *until_, 1, kNoTime, {}, false});
    if (count_ > 0) problem("'times' without a recurrence");
    // "pay bill after friday at 3pm": on Saturday at 3pm, or on Friday after 3pm? Not guessed.
    if (after_date_ && (!times_.empty() || !rels_.empty())) {
      problem("a time with 'after' a date");
      unreadable_ = true;
    }
    auto due = combine(ds, times_, rels_, all_day, false);
    if (due && all_day && remind_at_nine) {
      const Instant nine = wall_to_instant(clk_.zone, make_clock(clk_.zone, *due).today, 9 * 60);
      if (nine >= clk_.now) {
        due = nine;
        all_day = false;
      } else if (*due >= wall_to_instant(clk_.zone, clk_.today, 0)) {
        problem("no time for the reminder (09:00, the time a date alone reminds at, has passed)");
        reminder_passed_ = true;
      }
    }
    r_.due_at = due;
    r_.all_day = due && all_day;
  }
  if (unreadable_) {
    r_.due_at.reset();
    r_.all_day = false;
  }
  if (rule_ && rule_->bad) r_.recurrence.reset();
  if (after_completion_) r_.recurrence_mode = RecurrenceMode::after_completion;
  if (after_completion_ && !rule_) problem("'after completion' without a recurrence");
  if (r_.due_at && *r_.due_at < clk_.now && !r_.all_day) problem("the date is in the past");
  if (r_.due_at && r_.all_day && *r_.due_at < wall_to_instant(clk_.zone, clk_.today, 0))
    problem("the date is in the past");
  const auto give_back = [&](std::size_t a, std::size_t b) {  // words read as a reminder: the title's
    for (std::size_t k = a; k < b; ++k)
      t_[k].used = false;
    std::erase_if(spans_,
                  [&](const Span& sp) { return sp.kind == SpanKind::reminder && sp.start == t_[a].begin; });
  };
  // "take pill 1 hour before bed tonight": before an event whose time the message does not give (tonight is
  // the task's day, not bed time), the words are the title's too; "leave 30 minutes before dinner at 6pm"
  // gives it
  const bool event_time =
      std::any_of(times_.begin(), times_.end(), [](const TimePart& t) { return !t.weak; });
  // "remind me 24 hours before my flight to paris on friday at 6pm to check in": a "to" after the words read
  // as the event's date and time starts the task's words, not the first "to" ("to paris" says where)
  if (free(due_ref_to_)) {
    std::size_t last = n_;  // the last word read otherwise
    for (std::size_t k = due_ref_to_; k < n_; ++k)
      if (t_[k].used && !t_[k].punct) last = k;
    for (std::size_t k = last + 1; last < n_ && k + 1 < n_; ++k)
      if (free_is(k, "to") && free(k + 1)) {
        due_ref_to_ = k;
        break;
      }
  }
  if (due_ref_b_ > due_ref_a_ && (!r_.due_at || (due_ref_event_ && !event_time))) {
    // "pay credit card 2 days before due date": the title's
    give_back(due_ref_a_, due_ref_b_);
    if (remind_lead_ && due_ref_event_ && !r_.due_at) {  // "remind me to check in 24 hours before flight"
      unknown_event_ = quote(due_ref_b_, std::max(event_end(), due_ref_b_ + 1));
    }
    if (due_ref_offset_ < offsets_.size())
      offsets_.erase(offsets_.begin() + static_cast<std::ptrdiff_t>(due_ref_offset_));
    task_after_to_ = free(due_ref_to_);
  } else {
    if (due_ref_event_ && due_ref_b_ > due_ref_a_) {
      // "leave 30 minutes before dinner at 6pm", "remind me to check in 24 hours before my flight on friday
      // at 6pm": the event's words say when, not what: the task is "leave", due at the event's time (they
      // were "leave dinner", "check in my flight"); with "to" after them, up to it ("remind me 2 hours before
      // the meeting tomorrow at 3pm to print slides")
      const bool to = free(due_ref_to_);
      const std::size_t end = to ? due_ref_to_ + 1 : event_end();
      take(due_ref_b_, end, std::nullopt);
      for (auto& sp : spans_)  // the reminder's span ends with the event's words right after it
        if (!to && end > due_ref_b_ && sp.kind == SpanKind::reminder && sp.start == t_[due_ref_a_].begin)
          sp.end = t_[end - 1].end;
    }
    if (!due_ref_problem_.empty()) problem(due_ref_problem_);
  }
  // "exam friday 9am, remind me the night before": 21:00 the day before the due day; without a due date
  // ("remind me to pack the night before") the words are the title's, and no reminder is read
  if (part_before_ != kNoTime && r_.due_at) {
    const local_days due_day = make_clock(clk_.zone, *r_.due_at).today;
    r_.reminders.push_back(
        Reminder{std::nullopt, wall_to_instant(clk_.zone, due_day - days(1), part_before_)});
  } else if (part_before_ != kNoTime) {
    give_back(part_before_a_, part_before_a_ + 3);
  }
  // reminders
  for (auto s : offsets_)
    r_.reminders.push_back(Reminder{s, std::nullopt});
  bool rall = false;
  std::optional<Instant> at;
  if (rdates_.empty() && rrels_.empty() && !rtimes_.empty() && r_.due_at) {
    // "dentist friday 3pm, remind me at 9am": a time alone reminds on the task's own day (the day before
    // when that time is after the task's), not at the time's next occurrence.
    const local_days due_day = make_clock(clk_.zone, *r_.due_at).today;
    for (int back = 0; back < 2 && !at; ++back) {
      const std::vector<DatePart> on{
          DatePart{due_day - days(back), due_day - days(back), 1, kNoTime, {}, false}};
      at = combine(on, rtimes_, rrels_, rall, true);
      if (at && !r_.all_day && *at > *r_.due_at && back == 0) at.reset();
    }
  } else if (!reminder_unread_ && !(unreadable_ && rdates_.empty() && rrels_.empty())) {
    // Never from what is left of a part not read ("yesterday at 9am": not the next 9am; "tomorrow at 25:00":
    // not tomorrow 09:00), nor a time alone on a task's own day that was not read ("meet bob on the 35th,
    // remind me at 9am").
    at = combine(rdates_, rtimes_, rrels_, rall, true);
  }
  if (reminder_unread_) at.reset();
  // A reminder's time that has passed would fire at once, late: a problem, as a past due date is (read in
  // full, it is kept, so that the dialog offers it saying when).
  if (at && *at < clk_.now) problem("the reminder's time is in the past");
  if (at) r_.reminders.push_back(Reminder{std::nullopt, at});
}

// ---------------------------------------------------------------- residual text

// Brackets stay balanced in the residual text: an opening one is kept when words of its own are left before
// its closing one, which is then kept too ("call grandma (bday is 1/12)" → "call grandma (bday)"); one whose
// words were all read goes with them ("call bob (tomorrow)" → "call bob").
std::string Parser::residual(std::size_t from, std::size_t to) const {
  const auto opens = [&](std::size_t k) { return t_[k].punct && (t_[k].low == "(" || t_[k].low == "["); };
  const auto closes = [&](std::size_t k) { return t_[k].punct && (t_[k].low == ")" || t_[k].low == "]"); };
  // whether the bracket opened at k has a word left before the one that closes it
  const auto keeps_words = [&](std::size_t k) {
    for (std::size_t m = k + 1, depth = 1; m < n_; ++m) {
      if (opens(m)) ++depth;
      if (closes(m) && --depth == 0) return false;
      if (!t_[m].punct && (!t_[m].used || named(m))) return true;
    }
    return false;
  };
  // Single quotes around words ("read 'War and Peace'", "watch 'Dune' tomorrow") stay balanced too: an
  // opening one (before a word, after a space) pairs with the next closing one (after a word); the pair stays
  // when words of its own are left between them. A lone one at an edge ("the kids'") goes, as before.
  const auto squote = [&](std::size_t k) { return k < n_ && t_[k].punct && t_[k].low == "'"; };
  const auto squote_opens = [&](std::size_t k) {
    return squote(k) && k + 1 < n_ && t_[k + 1].begin == t_[k].end && (k == 0 || t_[k - 1].end < t_[k].begin);
  };
  const auto squote_closes = [&](std::size_t k) {
    return squote(k) && k > 0 && t_[k - 1].end == t_[k].begin;
  };
  const auto keeps_quote = [&](std::size_t k) {  // an opening quote with words left before its closing one
    bool words = false;
    for (std::size_t m = k + 1; m < n_ && !squote_opens(m); ++m) {
      if (squote_closes(m)) return words;
      words = words || (!t_[m].punct && (!t_[m].used || named(m)));
    }
    return false;
  };
  const auto closes_kept_quote = [&](std::size_t k) {  // a closing quote whose opening one stays
    if (!squote_closes(k)) return false;
    for (std::size_t m = k; m-- > from;) {
      if (squote_opens(m)) return keeps_quote(m);
      if (squote_closes(m)) return false;
    }
    return false;
  };
  std::string out;
  int depth = 0;  // brackets opened in `out` and not closed yet
  to = std::min(to, n_);
  std::size_t i = from;
  while (i < to) {
    if (t_[i].used && !named(i)) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j + 1 < to && (!t_[j + 1].used || named(j + 1)))
      ++j;
    // drop punctuation at the run's edges, but quotes and the brackets that stay
    std::size_t a = i;
    std::size_t b = j;
    while (a <= b && t_[a].punct && !(opens(a) && keeps_words(a)) && t_[a].low != "\"" &&
           !(closes(a) && depth > 0) && !(squote_opens(a) && keeps_quote(a)) && !closes_kept_quote(a))
      ++a;
    while (b >= a && b != static_cast<std::size_t>(-1) && t_[b].punct && !closes(b) && t_[b].low != "\"" &&
           !(opens(b) && keeps_words(b)) && !closes_kept_quote(b)) {
      if (b == 0) break;
      --b;
    }
    if (a <= b && (!t_[b].punct || closes(b) || t_[b].low == "\"" || opens(b) || closes_kept_quote(b))) {
      if (!out.empty() && !closes(a) && !closes_kept_quote(a) && out.back() != '(' && out.back() != '[')
        out += ' ';
      out += text_.substr(t_[a].begin, t_[b].end - t_[a].begin);
      for (std::size_t k = a; k <= b; ++k)
        depth += opens(k) ? 1 : closes(k) && depth > 0 ? -1 : 0;
    }
    i = j + 1;
  }
  return out;
}

namespace {

bool strip_word_front(std::string& s, std::initializer_list<string_view> words) {
  for (auto w : words) {
    if (s.size() > w.size() && s[w.size()] == ' ') {
      bool same = true;
      for (std::size_t k = 0; k < w.size(); ++k)
        if (static_cast<char>(std::tolower(static_cast<unsigned char>(s[k]))) != w[k]) same = false;
      if (same) {
        s.erase(0, w.size() + 1);
        return true;
      }
    } else if (s.size() == w.size()) {
      bool same = true;
      for (std::size_t k = 0; k < w.size(); ++k)
        if (static_cast<char>(std::tolower(static_cast<unsigned char>(s[k]))) != w[k]) same = false;
      if (same) {
        s.clear();
        return true;
      }
    }
  }
  return false;
}

bool strip_word_back(std::string& s, std::initializer_list<string_view> words) {
  for (auto w : words) {
    if (s.size() < w.size()) continue;
    const std::size_t at = s.size() - w.size();
    if (at > 0 && s[at - 1] != ' ') continue;
    bool same = true;
    for (std::size_t k = 0; k < w.size(); ++k)
      if (static_cast<char>(std::tolower(static_cast<unsigned char>(s[at + k]))) != w[k]) same = false;
    if (same) {
      s.erase(at == 0 ? 0 : at - 1);
      return true;
    }
  }
  return false;
}

void trim_punct(std::string& s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == ',' || s.back() == ':' || s.back() == '-' || s.back() == ';'))
    s.pop_back();
  std::size_t a = 0;
  while (a < s.size() && (s[a] == ' ' || s[a] == ',' || s[a] == ':' || s[a] == '-' || s[a] == ';'))
    ++a;
  s.erase(0, a);
}

}  // namespace

std::string Parser::clean_title(std::string s) {
  // A title is one line (tasks::parse_new_task): a tab or a line break in the message is a space in it.
  s = collapse_space(s);
  for (int round = 0; round < 4; ++round) {
    trim_punct(s);
    // "… before it's due": "due" is no dangling preposition there
    std::string tail = s.substr(s.size() - std::min<std::size_t>(s.size(), 9));
    for (char& c : tail)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tail.ends_with(" it's due") || tail.ends_with(" its due") || tail.ends_with(" is due")) break;
    // "pack for trip the night before", "call bob 30 minutes before": "before" after a time is no dangling
    // preposition either
    std::string end = s.substr(s.size() - std::min<std::size_t>(s.size(), 18));
    for (char& c : end)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (end.ends_with(" before") || end.ends_with(" after")) {
      end.resize(end.rfind(' '));
      const std::string_view prev = std::string_view(end).substr(end.rfind(' ') + 1);
      if (unit_word(prev) || in(prev, {"morning", "afternoon", "evening", "night"})) break;
    }
    bool changed = strip_word_back(s, {"at", "on", "by", "before", "to", "for", "and", "with", "due", "from",
                                       "starting", "until", "every", "please"});
    changed |= strip_word_front(s, {"to", "please", "and"});
    if (!changed) break;
  }
  trim_punct(s);
  return s;
}

std::string Parser::clean_target(std::string s) {
  s = collapse_space(s);  // "delete  weekly   report" names "weekly report"
  for (int round = 0; round < 4; ++round) {
    trim_punct(s);
    bool changed = strip_word_front(
        s, {"the", "my", "a", "an", "that", "this", "task", "to", "with", "about", "of", "for", "off"});
    changed |=
        strip_word_back(s, {"task", "todo",    "item",     "to",         "as",      "for",   "please",
                            "at",   "on",      "by",       "off",        "now",     "is",    "the",
                            "and",  "anymore", "any more", "any longer", "no more", "again", "from now on"});
    if (!changed) break;
  }
  trim_punct(s);
  return s;
}

// ---------------------------------------------------------------- intents

// The message as one normalised string, for the small whole-message intents.
bool Parser::whole_message() {
  std::string norm;
  for (std::size_t i = 0; i < n_; ++i) {
    if (t_[i].punct || t_[i].used) continue;
    if (!norm.empty()) norm += ' ';
    norm += t_[i].low;
  }
  auto all = [&](SpanKind kind) {
    for (std::size_t i = 0; i < n_; ++i)
      if (!t_[i].punct && !t_[i].used) take(i, i + 1, kind);
  };
  auto one_of = [&](std::initializer_list<string_view> set) { return in(norm, set); };
  if (one_of({"help", "help me", "what can you do", "what can i say", "how does this work", "commands",
              "usage", "what do you understand", "?"}) ||
      (norm.empty() && n_ > 0 && t_[0].low == "?")) {
    r_.intent = Intent::help;
    conf_ = 0.95;
    all(SpanKind::command);
    return true;
  }
  if (one_of({"hello", "hi", "hey", "hello there", "hi there", "hey there", "thanks", "thank you",
              "good morning", "good night", "good evening", "how are you"})) {
    r_.intent = Intent::unknown;
    problem("not a request about tasks");
    return true;
  }
  if (one_of({"undo", "undo that", "undo it", "undo the last change", "undo the last action", "undo last",
              "revert", "revert that", "take that back", "oops undo", "oops", "undo please"})) {
    r_.intent = Intent::undo;
    conf_ = one_of({"oops"}) ? 0.6 : 0.95;
    all(SpanKind::command);
    return true;
  }
  if (one_of({"yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "confirm", "do it", "go ahead",
              "correct", "right", "yes please", "that's right", "absolutely", "affirmative", "yes do it",
              "please do"})) {
    r_.intent = Intent::confirm;
    conf_ = 0.95;
    all(SpanKind::command);
    return true;
  }
  if (one_of({"no", "n", "nope", "nah", "cancel", "never mind", "nevermind", "stop", "don't", "dont",
              "no thanks", "no thank you", "not that", "abort", "forget it", "cancel that"})) {
    r_.intent = Intent::deny;
    conf_ = 0.95;
    all(SpanKind::command);
    return true;
  }
  // select: "the second one", "second", "number 2", "option 3", "2", "#2", "the last one"
  {
    std::size_t i = 0;
    std::vector<std::size_t> words;
    for (std::size_t k = 0; k < n_; ++k)
      if (!t_[k].punct) words.push_back(k);
    std::size_t a = 0;
    auto w = [&](std::size_t k) { return a + k < words.size() ? low(words[a + k]) : string_view(); };
    if (w(0) == "the") ++a;
    if (in(w(0), {"number", "option", "no", "choice", "#"})) ++a;
    std::optional<int> idx;
    string_view x = w(0);
    if (!x.empty() && x[0] == '#' && words.size() == 1) x.remove_prefix(1);
    if (auto o = ordinal_word(x, true))
      idx = *o;
    else if (all_digits(x) && x.size() <= 2)
      idx = std::stoi(std::string(x));
    if (idx) {
      ++a;
      if (w(0) == "one") ++a;
      if (a == words.size() && (*idx == -1 || (*idx >= 1 && *idx <= 50))) {
        r_.intent = Intent::select;
        r_.index = *idx;
        conf_ = 0.95;
        all(SpanKind::selection);
        return true;
      }
    }
    (void)i;
  }
  return false;
}

void Parser::detect_command() {
  // "- [ ] buy milk", "* [ ] buy milk", "[ ] buy milk", "- buy milk", "1. buy milk": a line pasted from a
  // list in notes is a task to add (or "remind me …"), the marker no part of its title ("- [ ] delete old
  // emails" adds that task). A ticked box ("- [x] buy milk") is added open too, which the reading says: a
  // problem, so that the dialog asks first.
  if (const std::size_t k = list_marker()) {
    // "- buy milk\n- buy eggs\n- call mom tomorrow": several tasks, which one message cannot add (they were
    // one task "buy milk - buy eggs - call mom" due tomorrow); refused, never one merged title
    if (k < n_ && listed_lines() >= 2) {
      std::size_t end = k + 1;
      while (end < n_ && !line_start(end))
        ++end;
      several_tasks(k, end);
    }
    take(0, k, std::nullopt);
    const std::size_t f = first_free();
    if (f == n_) return;  // the marker alone: no task (unknown)
    // "- [ ] what's due today", "* how many tasks are overdue": a question after the marker is still the
    // question (a list), read as without it ("- [ ] what to buy for party" is a task)
    const bool question =
        (t_[n_ - 1].punct && t_[n_ - 1].low == "?") ||
        free_in(f, {"what's", "whats", "which", "when's", "whens"}) ||
        (free_is(f, "what") && free_in(f + 1, {"is", "are", "needs", "do", "have", "should"})) ||
        (free_is(f, "how") && free_is(f + 1, "many")) ||
        (free_is(f, "when") && free_in(f + 1, {"is", "are"})) ||
        (free_in(f, {"is", "are"}) && free_in(f + 1, {"anything", "any", "there"})) ||
        phrase(f, {"do", "i", "have"}) || phrase(f, {"have", "i"}) || phrase(f, {"did", "i"});
    bool ticked = false;
    for (std::size_t i = 0; i < k; ++i)
      ticked = ticked || (!t_[i].punct && low(i) == "x");
    if (ticked && !question) problem("a ticked box " + quote(0, k) + ": the task would be added open");
    if (!question && !phrase(first_free(), {"remind", "me"})) {
      r_.intent = Intent::create;
      conf_ = 0.85;
      return;
    }
  }
  // politeness
  for (int round = 0; round < 3; ++round) {
    const std::size_t s = first_free();
    if (std::size_t k = phrase(s, {"can", "you"})                                               ? 2
                        : phrase(s, {"could", "you"})                                           ? 2
                        : phrase(s, {"would", "you"})                                           ? 2
                        : free_in(s, {"please", "pls", "plz", "hey", "hi", "ok", "okay", "so"}) ? 1
                                                                                                : 0) {
      take(s, s + k, std::nullopt);
      if (free_is(first_free(), "please")) take(first_free(), first_free() + 1, std::nullopt);
    } else {
      break;
    }
  }
  if (as_list_) {
    r_.intent = Intent::list;
    list_ = true;
    conf_ = 0.9;
    return;
  }
  const std::size_t s = first_free();
  auto cmd = [&](std::size_t k, Intent intent, double c = 0.9) {
    cmd_a_ = s;
    cmd_b_ = s + k;
    take(s, s + k, SpanKind::command);
    r_.intent = intent;
    conf_ = c;
  };
  auto find = [&](std::initializer_list<string_view> words) -> std::size_t {
    for (std::size_t i = s + 1; i < n_; ++i)
      if (free(i) && in(low(i), words)) return i;
    return n_;
  };
  const string_view w = low(s);
  std::size_t k = 0;
  // create with a command
  if ((k = phrase(s, {"remind", "me", "to"}))) {
    cmd(k, Intent::create, 0.95);
    remind_lead_ = true;
    return;
  }
  if ((k = phrase(s, {"remind", "me", "about"})) || (k = phrase(s, {"remind", "me", "of"}))) {
    cmd(k, Intent::add_reminder, 0.9);
    remind_lead_ = true;
    reminder_mode_ = true;
    remind_from_ = 0;
    return;
  }
  if ((k = phrase(s, {"remind", "me"}))) {
    cmd(k, Intent::create, 0.9);
    remind_lead_ = true;
    return;
  }
  for (auto p : {std::initializer_list<string_view>{"set", "a", "reminder", "for"},
                 {"set", "a", "reminder", "on"},
                 {"add", "a", "reminder", "to"},
                 {"add", "a", "reminder", "for"},
                 {"add", "a", "reminder", "on"},
                 {"set", "a", "reminder"},
                 {"add", "a", "reminder"},
                 {"create", "a", "reminder", "for"}}) {
    if ((k = phrase(s, p))) {
      cmd(k, Intent::add_reminder, 0.9);
      reminder_mode_ = true;
      remind_from_ = 0;
      return;
    }
  }
  // "add tag work to weekly report": tags on a task, not a new one
  for (auto p : {std::initializer_list<string_view>{"add", "the", "tag"},
                 {"add", "the", "tags"},
                 {"add", "a", "tag"},
                 {"add", "tag"},
                 {"add", "tags"}}) {
    if ((k = phrase(s, p))) {
      add_tag_ = true;
      update_like_ = true;
      cmd(k, Intent::update, 0.9);
      return;
    }
  }
  // "add #work to weekly report" naming a task of the user's tags it
  if (w == "add" && free(s)) {
    std::size_t to = s + 1;
    bool tags_only = true;
    for (; to < n_ && !free_is(to, "to"); ++to)
      tags_only = tags_only && low(to).starts_with('#');
    std::size_t a = to + 1;
    if (free_in(a, {"the", "my"}) && title_end(a) == a) ++a;
    if (to < n_ && to > s + 1 && tags_only && title_end(a) > a && title_end(a) >= last_free() + 1) {
      add_tag_ = true;
      update_like_ = true;
      cmd(1, Intent::update, 0.9);
      return;
    }
  }
  // "finish weekly report" naming a task of the user's completes it ("Finish slides by eod" is a title)
  if (w == "finish" && free(s)) {
    std::size_t a = s + 1;
    if (free_in(a, {"the", "my"}) && title_end(a) == a) ++a;
    if (const std::size_t b = title_end(a); b > a && b >= last_free() + 1) {
      cmd(1, Intent::complete, 0.9);
      return;
    }
  }
  for (auto p : {std::initializer_list<string_view>{"add", "a", "task", "to"},
                 {"add", "a", "task"},
                 {"add", "task"},
                 {"create", "a", "task", "to"},
                 {"create", "a", "task"},
                 {"create", "task"},
                 {"new", "task"},
                 {"add", "a", "todo"},
                 {"add", "todo"},
                 {"i", "need", "to"},
                 {"i", "have", "to"},
                 {"i", "must"},
                 {"need", "to"},
                 {"don't", "forget", "to"},
                 {"dont", "forget", "to"},
                 {"remember", "to"},
                 {"todo"},
                 {"to", "do"},
                 {"new", "todo"},
                 {"new", "reminder"},
                 {"add"},
                 {"create"}}) {
    if ((k = phrase(s, p))) {
      cmd(k, Intent::create, 0.95);
      return;
    }
  }
  // "new: call bob" is a command; "New Year's party" is a title.
  if (w == "new" && free(s) && s + 1 < n_ && t_[s + 1].punct && t_[s + 1].low == ":") {
    cmd(1, Intent::create, 0.95);
    return;
  }
  // list. Questions: "how many tasks do I have?", "is anything overdue?", "when is the dentist?". A yes/no
  // opener ("is", "are", "do I", "have I", "did I") asks only when the message ends with a question mark.
  auto list_cmd = [&](std::initializer_list<std::initializer_list<string_view>> phrases) {
    for (auto p : phrases) {
      if ((k = phrase(s, p))) {
        cmd(k, Intent::list, 0.9);
        list_ = true;
        return true;
      }
    }
    return false;
  };
  const bool asked = t_[n_ - 1].punct && t_[n_ - 1].low == "?";
  // Yes/no questions about the user's tasks, with or without "?": "have I called mum", "did I pay rent" (a
  // past verb: whether that task is done), "are the tasks overdue", "is the report done" (a subject with a
  // status word). Titles that merely start like a question ("do laundry", "is the printer broken") stay
  // creates.
  if (free(s + 2) && (phrase(s, {"have", "i"}) || phrase(s, {"did", "i"}))) {
    list_cmd({{"have", "i"}, {"did", "i"}});
    yesno_ = true;
    return;
  }
  const auto is_done_word = [&](std::size_t i) {
    return in(low(i), {"done", "finished", "completed", "complete"});
  };
  const auto is_status_word = [&](std::size_t i) {
    return in(low(i), {"overdue", "late", "due", "tasks", "todos", "open", "pending"});
  };
  // The last word before a closing "?", if any: "is report done" asks, whatever "report" is (read as "report
  // is done" it completed a task whose title merely began with "is").
  std::size_t last_word = n_ - 1;
  while (last_word > s && t_[last_word].punct)
    --last_word;
  if (in(w, {"is", "are"}) && free(s + 1) &&
      (in(low(s + 1), {"the", "my", "our", "all"}) || (w == "are" && in(low(s + 1), {"tasks", "todos"})) ||
       title_end(s + 1) > s + 1 ||  // "is weekly report done" with a task "weekly report"
       (last_word > s + 1 && free(last_word) && (is_done_word(last_word) || is_status_word(last_word))))) {
    bool done_word = false, status_word = false;
    for (std::size_t i = s + 2; i < n_; ++i) {
      if (!free(i)) continue;
      done_word = done_word || is_done_word(i);
      status_word = status_word || is_status_word(i);
    }
    if (done_word || status_word) {
      list_cmd({{w}});
      yesno_ = done_word;
      return;
    }
  }
  if (list_cmd({{"what", "do", "i", "have"},
                {"what", "have", "i", "got"},
                {"what's"},
                {"whats"},
                {"what", "is"},
                {"what", "are"},
                {"what", "needs"},
                {"what"},
                {"show", "me"},
                {"show"},
                {"list"},
                {"which"},
                {"do", "i", "have"},
                {"are", "there"},
                {"is", "there"},
                {"anything"},
                {"any"},
                {"search", "for"},
                {"search"},
                {"find"},
                {"look", "for"},
                {"view"},
                {"display"},
                {"get", "my"},
                {"tell", "me"},
                {"how", "many"},
                {"when", "is"},
                {"when", "are"},
                {"when's"},
                {"whens"},
                {"is", "anything"},
                {"is", "any"},
                {"are", "any"}}) ||
      (asked && list_cmd({{"do", "i"}, {"have", "i"}, {"did", "i"}, {"is"}, {"are"}})))
    return;
  // "done tasks", "completed tasks from last week", "finished todos": words about tasks in general after the
  // done word ask for the done tasks, a list (the done word is its filter), never a task named "tasks"
  if (in(w, {"done", "finished", "completed"}) && free(s)) {
    std::size_t j = s + 1;
    while (j < n_ && free_in(j, {"my", "the", "all", "of"}))
      ++j;
    bool general = j < n_ && free_in(j, {"tasks", "todos", "to-dos", "items"});
    for (std::size_t i = j + 1; general && i < n_; ++i) {
      const string_view x = low(i);
      general =
          t_[i].punct || is_date_word(x) || x.starts_with('#') || x.find_first_of("0123456789") == 0 ||
          in(x, {"from",  "this", "next",   "due",      "on",     "in",       "the",    "of",    "at",
                 "since", "with", "tagged", "until",    "till",   "by",       "before", "after", "between",
                 "and",   "to",   "for",    "so",       "far",    "yet",      "ago",    "a",     "an",
                 "high",  "low",  "medium", "priority", "urgent", "important"});
    }
    if (general) {
      r_.intent = Intent::list;
      list_ = true;
      conf_ = 0.9;
      return;
    }
  }
  // complete
  for (auto p : {std::initializer_list<string_view>{"i'm", "done", "with"},
                 {"im", "done", "with"},
                 {"i", "am", "done", "with"},
                 {"done", "with"},
                 {"finished", "with"},
                 {"i", "finished"},
                 {"i've", "finished"},
                 {"i", "have", "finished"},
                 {"i", "completed"},
                 {"i've", "done"},
                 {"i", "did"},
                 {"check", "off"},
                 {"tick", "off"},
                 {"cross", "off"},
                 {"done"},
                 {"finished"},
                 {"completed"},
                 {"complete"}}) {
    if ((k = phrase(s, p))) {
      cmd(k, Intent::complete, 0.9);
      return;
    }
  }
  if (in(w, {"check", "tick", "cross"}) && free(s)) {
    const std::size_t off = find({"off"});
    if (off < n_ && off == last_free()) {
      take(off, off + 1, SpanKind::command);
      cmd(1, Intent::complete, 0.9);
      return;
    }
  }
  if (w == "mark" && free(s)) {
    // mark X [as] done | not done | undone | open | incomplete | complete
    for (std::size_t i = n_; i-- > s + 1;) {
      if (!free(i)) continue;
      std::size_t a = i;
      Intent intent = Intent::unknown;
      if (in(low(i), {"done", "complete", "completed", "finished"})) {
        intent = Intent::complete;
        if (a > 0 && free_is(a - 1, "not")) {
          intent = Intent::reopen;
          --a;
        }
      } else if (in(low(i), {"undone", "open", "incomplete", "uncompleted", "todo", "unfinished"})) {
        intent = Intent::reopen;
      }
      if (intent == Intent::unknown) break;
      if (a > 0 && free_is(a - 1, "as")) --a;
      take(a, i + 1, SpanKind::command);
      cmd(1, intent, 0.9);
      return;
    }
    update_like_ = true;
    cmd(1, Intent::update, 0.9);  // "mark X as urgent"
    return;
  }
  if ((k = phrase(s, {"reopen"})) || (k = phrase(s, {"re-open"})) || (k = phrase(s, {"uncomplete"})) ||
      (k = phrase(s, {"unmark"})) || (k = phrase(s, {"undo", "complete"})) ||
      (k = phrase(s, {"undo", "completing"}))) {
    cmd(k, Intent::reopen, 0.9);
    return;
  }
  // "remove tag health from dentist", "untag dentist personal": taking a tag off a task (not a delete)
  for (auto p : {std::initializer_list<string_view>{"remove", "the", "tag"},
                 {"remove", "the", "tags"},
                 {"remove", "tag"},
                 {"remove", "tags"},
                 {"delete", "the", "tag"},
                 {"delete", "tag"},
                 {"untag"}}) {
    if ((k = phrase(s, p))) {
      untag_ = true;
      cmd(k, Intent::update, 0.9);
      return;
    }
  }
  for (auto p : {std::initializer_list<string_view>{"get", "rid", "of"},
                 {"delete"},
                 {"remove"},
                 {"drop"},
                 {"trash"},
                 {"erase"},
                 {"cancel"},
                 {"scrap"},
                 {"forget", "about"}}) {
    // "drop off laundry", "drop by the bank": an errand, not a delete
    if ((k = phrase(s, p)) && !(w == "drop" && free_in(s + 1, {"off", "by"}))) {
      cmd(k, Intent::remove, 0.9);
      return;
    }
  }
  // stop recurring
  for (auto p : {std::initializer_list<string_view>{"stop", "repeating"},
                 {"stop", "recurring"},
                 {"don't", "repeat"},
                 {"dont", "repeat"},
                 {"do", "not", "repeat"},
                 {"no", "longer", "repeat"},
                 {"stop", "the", "recurrence", "of"},
                 {"end", "the", "recurrence", "of"},
                 {"remove", "the", "recurrence", "from"}}) {
    if ((k = phrase(s, p))) {
      cmd(k, Intent::stop_recurring, 0.9);
      return;
    }
  }
  // "snooze dentist by 10 minutes", "skip gym today", "stop call mom" ask for what the dialog does not do
  // (snooze a reminder, skip one occurrence of a series) or for a stop of a series: never a confident task
  // "snooze dentist by 10 minutes". Snoozing is refused ("I can't …", the dialog says it); skipping too when
  // the words name a task of the user's; "stop X" naming one is offered as "stop repeating X". Otherwise
  // they may start a title ("skip rope", "stop smoking"): low confidence, asked. "stop by the bank" is one.
  if (in(w, {"snooze", "skip", "stop"}) && free(s) && free(s + 1)) {
    std::size_t a = s + 1;
    if (free_in(a, {"the", "my", "this", "that"}) && title_end(a) == a) ++a;
    const bool names_task = title_end(a) > a;
    if (w == "snooze") {
      r_.intent = Intent::create;
      conf_ = 0.85;
      cant_ = "I can't snooze a reminder in chat: snooze it from its notification or in the app (" +
              quote(s, n_) + ")";
      return;
    }
    if (w == "skip" && names_task) {
      r_.intent = Intent::create;
      conf_ = 0.85;
      cant_ = "I can't skip one occurrence of a task in chat: skip it in the app, or say \u201ccomplete " +
              std::string(text_.substr(t_[a].begin, t_[title_end(a) - 1].end - t_[a].begin)) + "\u201d (" +
              quote(s, n_) + ")";
      return;
    }
    if (w == "stop" && names_task) {
      cmd(1, Intent::stop_recurring, 0.9);
      problem("'stop' read as stop repeating");
      return;
    }
    if (!free_in(s + 1, {"by", "at", "in", "over", "off", "for", "to", "on", "and", "with"})) {
      r_.intent = Intent::create;
      conf_ = 0.85;
      problem("a new task, or " + std::string(w == "skip" ? "skip" : "stop repeating") +
              " a task of yours? " + quote(s, n_));
      return;
    }
  }
  // make X … : recurring / not recurring / priority / otherwise a create ("make dinner")
  if (in(w, {"make", "set"}) && free(s)) {
    const std::size_t rep = find({"repeat", "recur", "recurring", "repeating"});
    if (rep < n_) {
      std::size_t a = rep;
      bool stop = false;
      if (a > s + 1 && free_in(a - 1, {"not", "non", "stop"})) {
        --a;
        stop = true;
      }
      if (a > s + 1 && free_is(a - 1, "to")) --a;
      take(a, rep + 1, SpanKind::command);
      cmd(1, stop ? Intent::stop_recurring : Intent::make_recurring, 0.9);
      return;
    }
    const std::size_t nonrec = find({"non-recurring", "one-off", "one-time"});
    if (nonrec < n_) {
      take(nonrec, nonrec + 1, SpanKind::command);
      cmd(1, Intent::stop_recurring, 0.9);
      return;
    }
    update_like_ = true;
    ambiguous_verb_ = true;
    cmd(1, Intent::update, 0.9);
    return;
  }
  if ((k = phrase(s, {"repeat"})) || (k = phrase(s, {"recur"}))) {
    cmd(k, Intent::make_recurring, 0.9);
    return;
  }
  // "bring the report forward a day", "pull X forward by 2 days": a move earlier
  if (in(w, {"bring", "pull"}) && free(s) && find({"forward", "forwards"}) < n_) {
    update_like_ = mover_ = bring_ = true;
    cmd(1, Intent::update, 0.9);
    return;
  }
  for (auto p : {std::initializer_list<string_view>{"move"},
                 {"reschedule"},
                 {"postpone"},
                 {"push", "back"},
                 {"push"},
                 {"delay"},
                 {"defer"},
                 {"bump"},
                 {"rename"},
                 {"change"},
                 {"update"},
                 {"edit"},
                 {"prioritize"},
                 {"tag"},
                 {"retag"}}) {
    if ((k = phrase(s, p))) {
      update_like_ = true;
      ambiguous_verb_ = in(w, {"change", "update", "edit"});
      mover_ = in(w, {"move", "reschedule", "postpone", "push", "delay", "defer", "bump"});
      cmd(k, Intent::update, 0.9);
      return;
    }
  }
  // "groceries is done", "groceries done", "taxes is not done", "gym should repeat every day"
  const std::size_t last = last_free();
  if (last < n_ && last > s) {
    if (in(low(last), {"done", "finished", "complete", "completed"})) {
      std::size_t a = last;
      Intent intent = Intent::complete;
      if (a > s && free_is(a - 1, "not")) {
        intent = Intent::reopen;
        --a;
      }
      if (a > s && free_in(a - 1, {"is", "are", "was"})) --a;
      take(a, last + 1, SpanKind::command);
      r_.intent = intent;
      conf_ = 0.85;
      return;
    }
  }
  const std::size_t should = find({"should"});
  if (should < n_ && free_in(should + 1, {"repeat", "recur"})) {
    take(should, should + 2, SpanKind::command);
    r_.intent = Intent::make_recurring;
    conf_ = 0.9;
    return;
  }
  for (std::size_t i = s + 1; i + 1 < n_; ++i) {
    if (free_is(i, "is") && (free_is(i + 1, "due") || (free_is(i + 1, "now") && free_is(i + 2, "due")))) {
      take(i, i + (low(i + 1) == "now" ? 3 : 2), SpanKind::command);
      update_like_ = true;
      r_.intent = Intent::update;
      conf_ = 0.85;
      return;
    }
  }
  if (s >= n_) {
    r_.intent = Intent::unknown;
    conf_ = 0.0;
    return;
  }
  r_.intent = Intent::create;
  conf_ = 0.85;
}

// The words after a command that spell a task title of the user's (ParseContext::titles) name that task:
// "delete weekly report", "move weekly report to friday", "set priority of daily standup to p1", "when is
// weekly report due". The leftmost, longest title that starts at the first free word (or after "the", "my",
// "priority of", "due date of" …) is taken whole, so the date, recurrence, priority or tag words in it are
// not read; it joins the target (or the search) again in residual().
void Parser::protect_name() {
  if (titles_.empty()) return;
  const Intent i = r_.intent;
  const bool names = i == Intent::complete || i == Intent::reopen || i == Intent::remove ||
                     i == Intent::update || i == Intent::make_recurring || i == Intent::stop_recurring ||
                     i == Intent::add_reminder;
  // questions about one task: "when is weekly report due", "is weekly report done", "did I pay rent today"
  const bool question =
      i == Intent::list && cmd_b_ > cmd_a_ &&
      (yesno_ || in(low(cmd_a_), {"when", "when's", "whens", "is", "are", "did", "have", "do"}));
  // "remind me 30 minutes before weekly report": a reminder on that task, read as one later
  const bool reminder = i == Intent::create && remind_lead_;
  if (!names && !question && !reminder) return;
  std::size_t a = first_free();
  if (reminder || add_tag_) {  // the task's name follows "before" / "to"
    const string_view after = reminder ? "before" : "to";
    while (a < n_ && !free_is(a, after))
      ++a;
    ++a;
  }
  for (; a < n_ && free(a); ++a) {
    if (const std::size_t b = title_end(a); b > a) {
      name_a_ = a;
      name_b_ = b;
      take(a, b, std::nullopt);
      // "rename plan today to plan tomorrow": the new title is the rest, as written
      if (cmd_b_ > cmd_a_ && in(low(cmd_a_), {"rename", "retitle"}) && free_in(b, {"to", "as", "into"})) {
        new_a_ = b + 1;
        new_b_ = n_;
        take(new_a_, new_b_, std::nullopt);
      }
      return;
    }
    if (!in(low(a), {"the",   "my",       "priority", "prio",     "of",        "for", "due",        "date",
                     "time",  "deadline", "title",    "name",     "tags",      "tag", "recurrence", "from",
                     "about", "finish",   "finished", "complete", "completed", "do",  "done"}))
      return;
  }
}

// The due-date range of a list from its dates and the words that join them: "due this week" (its range),
// "after friday" (from the end of Friday), "before friday", "by/until/till/through friday" (up to its end),
// "since monday" (from the last Monday up to now), "from friday" (open-ended), "from monday to friday" and
// "between monday and friday" (Monday to the end of the Friday after it), "in december" (that month). A date
// about when tasks were done ("what did I finish today") cannot be a due-date filter: a problem.
void Parser::list_dates(Query& q) {
  if (dates_.empty()) return;
  // "due" said: the dates are due dates, even of done tasks
  bool due = false;
  for (std::size_t i = 0; i < n_; ++i)
    due = due || in(low(i), {"due", "overdue", "deadline"});
  if (status_ == "done" && !due) {
    problem("the task list cannot filter by when tasks were done (listing all done tasks)");
    return;
  }
  // The word joining each date: its preposition, or a free range word right before it (taken).
  auto joined_by = [&](const DatePart& d) -> string_view {
    if (!d.prep.empty() && d.prep != "due") return d.prep;
    if (d.at > 0 && free(d.at - 1) && is_range_word(low(d.at - 1))) {
      take(d.at - 1, d.at, SpanKind::date);
      return low(d.at - 1);
    }
    return {};
  };
  auto start = [&](const DatePart& d) { return wall_to_instant(clk_.zone, d.range_start, 0); };
  auto end = [&](const DatePart& d) {
    return wall_to_instant(clk_.zone, d.range_start + days(d.range_days), 0);
  };
  DatePart a = dates_.front();
  const string_view how = date_how_ = joined_by(a);
  if (dates_.size() == 2) {
    DatePart b = dates_[1];
    const string_view to = joined_by(b);
    if (!(in(how, {"from", "between", ""}) && in(to, {"to", "until", "till", "through", "thru", "and"}) &&
          (how == "between") == (to == "and"))) {
      problem("two different dates");
      return;
    }
    if (b.range_start < a.range_start && b.weekday_only) b.range_start += days(7);  // "from friday to monday"
    if (b.range_start < a.range_start) {
      problem("the range ends before it starts");
      return;
    }
    q.due_after = start(a);
    q.due_before = end(b);
    return;
  }
  if (dates_.size() > 2) {
    problem("two different dates");
    return;
  }
  if (how == "since") {
    // The last such day, not the next: "since monday" on a Wednesday is two days ago.
    if (a.range_start > clk_.today && a.weekday_only) a.range_start -= days(7);
    if (a.range_start > clk_.today && !names_a_year(a.at, n_))
      if (auto earlier = make_date(year_of(a.range_start) - 1, static_cast<int>(month_of(a.range_start)),
                                   static_cast<int>(day_of(a.range_start))))
        a.range_start = *earlier;
    q.due_after = start(a);
    q.due_before = std::max(clk_.now, start(a));
  } else if (how == "after") {
    q.due_after = end(a);
  } else if (how == "before") {
    q.due_before = start(a);
  } else if (in(how, {"by", "until", "till", "through", "thru", "to"})) {
    q.due_before = end(a);
  } else if (how == "from") {
    q.due_after = start(a);
  } else {
    q.due_after = start(a);
    q.due_before = end(a);
  }
}

void Parser::finish_list() {
  bool asked_done = false;
  // filter words
  for (std::size_t i = 0; i < n_; ++i) {
    if (!free(i)) continue;
    const string_view w = low(i);
    if (in(w, {"overdue", "late"}) || phrase(i, {"past", "due"})) {
      overdue_ = true;
      take(i, i + (w == "past" ? 2 : 1), SpanKind::filter);
    } else if (in(w, {"done", "completed", "finished", "complete", "finish"})) {
      if (yesno_) {
        asked_done = true;  // "is the report done": asks about it, open or done
        take(i, i + 1, std::nullopt);
        continue;
      }
      status_ = "done";
      take(i, i + 1, SpanKind::filter);
    } else if (in(w, {"open", "pending", "remaining", "unfinished", "incomplete", "outstanding"})) {
      status_ = "open";
      take(i, i + 1, SpanKind::filter);
    } else if (const std::size_t k = in(w, {"undated", "unscheduled"})                            ? 1
                                     : phrase(i, {"without", "a", "due", "date"})                 ? 4
                                     : phrase(i, {"no", "due", "date"})                           ? 3
                                     : phrase(i, {"without", "due", "date"})                      ? 3
                                     : phrase(i, {"without", "a", "date"})                        ? 3
                                     : phrase(i, {"without", "a", "deadline"})                    ? 3
                                     : phrase(i, {"no", "date"}) || phrase(i, {"no", "deadline"}) ? 2
                                     : phrase(i, {"without", "date"})                             ? 2
                                     : phrase(i, {"without", "deadline"})                         ? 2
                                                                                                  : 0) {
      has_due_ = false;
      take(i, i + k, SpanKind::filter);
    } else if (w == "soon") {
      // "what's due soon": the next seven days, today included
      DatePart d;
      d.day = clk_.today + days(7);
      d.range_start = clk_.today;
      d.range_days = 8;
      d.at = i;
      dates_.push_back(d);
      take(i, i + 1, SpanKind::date);
    } else if (in(w, {"all", "everything"})) {
      status_ = status_.value_or("all");
      take(i, i + 1, SpanKind::filter);
    }
  }
  Query q;
  if (status_ && *status_ != "all") q.status = status_;
  if (!status_) q.status = "open";
  q.overdue = overdue_;
  q.has_due = has_due_;
  if (r_.priority) q.priorities.push_back(*r_.priority);
  q.tags = r_.tags;
  list_dates(q);
  if (!times_.empty() || !rels_.empty()) {
    // A time on the list's one date ("what's due tomorrow before 5pm": tomorrow's 17:00, not today's). After
    // it ("what's due after 5pm", "today after 5pm", "after friday at 5pm") it is where the range starts
    // (without a date, today's, also when passed), to the end of its day (or on, after a date joined by
    // "after"); otherwise where it ends, from now on unless the date says where it starts.
    bool all_day = false;
    const bool on_date = dates_.size() == 1 && rels_.empty();
    const string_view how = times_.empty() ? string_view() : times_.back().prep;
    std::vector<DatePart> day;
    if (on_date)
      day = dates_;
    else if (how == "after" && dates_.empty() && rels_.empty())
      day.push_back(DatePart{clk_.today, clk_.today, 1, kNoTime, {}, false});
    if (auto at = combine(day, times_, rels_, all_day, false)) {
      if (how == "after" || (on_date && date_how_ == "after" && in(how, {"", "at", "@", "around"}))) {
        q.due_after = *at;
        if (!on_date)
          q.due_before = wall_to_instant(clk_.zone, make_clock(clk_.zone, *at).today + days(1), 0);
        else if (date_how_ == "after")
          q.due_before.reset();
      } else {
        q.due_before = *at;
        if (!q.due_after) q.due_after = clk_.now;
      }
    }
  }
  if (rule_) problem("a recurrence in a list request");
  // "show tasks matching 🎂", "tasks that match report": the words after it are the search
  std::size_t subject = n_;  // where the words naming what to look for start, if the request has them
  for (std::size_t i = 1; i < n_; ++i)
    if (free_in(i, {"matching", "match", "matches"}) &&
        in(low(i - 1), {"tasks", "task", "todos", "that", "which"})) {
      take(i, i + 1, std::nullopt);
      subject = i + 1;
    }
  // "when is the dentist?", "is the report done?", "find 🎂" name what to look for
  if (cmd_b_ > cmd_a_ && in(low(cmd_a_), {"when", "when's", "whens", "is", "are", "find", "search", "look"}))
    subject = std::min(subject, cmd_b_);
  // ... and with no letter, digit or emoji in it ("when is !!!?", "is ??? done?", "when is ...?") they name
  // nothing: no list of urgent or done tasks, no search for ".", but a question
  bool nothing = subject < n_;
  for (std::size_t i = subject; nothing && i < n_; ++i)
    nothing = !has_text(t_[i].raw) ||
              in(low(i), {"the", "my", "a", "tasks", "task", "todos", "done", "finished", "completed",
                          "complete", "overdue", "late", "due", "open", "pending"});
  // (the question mark that ends the question names nothing: "when is?" asks about nothing yet)
  const std::size_t end = t_[n_ - 1].punct && t_[n_ - 1].low == "?" ? n_ - 1 : n_;
  bool punct_only = false;
  for (std::size_t i = subject; nothing && i < end; ++i)
    punct_only = punct_only || !has_text(t_[i].raw);
  // filler words; what is left is a search
  for (std::size_t i = 0; i < n_; ++i) {
    if (free_in(
            i, {"my",     "me",       "the",   "tasks",      "task",   "todos", "todo",     "to-dos", "items",
                "things", "is",       "are",   "do",         "i",      "have",  "due",      "that",   "which",
                "any",    "anything", "there", "for",        "with",   "in",    "of",       "on",     "about",
                "got",    "left",     "up",    "coming",     "what's", "whats", "what",     "list",   "show",
                "a",      "to",       "all",   "containing", "called", "named", "priority", "tagged", "stuff",
                "right",  "now",      "still", "need",       "needs",  "done",  "did",      "was",    "were",
                "should", "next",     "else",  "can",        "could",  "must",  "focus",    "work"}))
      take(i, i + 1, std::nullopt);
  }
  if (yesno_)
    for (std::size_t i = 0; i < n_; ++i)
      if (free_in(i, {"already", "yet", "ever"})) take(i, i + 1, std::nullopt);
  std::string rest = residual();
  trim_punct(rest);
  if (yesno_ && !rest.empty()) {
    // "have I paid rent": the task is "pay rent", open or done; the search has the verb's base form
    const std::size_t sp = rest.find(' ');
    std::string first = rest.substr(0, sp);
    for (char& c : first)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const std::string base = base_form(first);
    if (base != first) rest = base + (sp == std::string::npos ? std::string() : rest.substr(sp));
    if (!status_ && !overdue_) q.status.reset();
  } else if (asked_done && !status_) {
    q.status = "done";  // "are my tasks done": the done ones
  }
  if (!rest.empty()) q.q = rest;
  // Date words that were not read ("due after the holidays") are no search text: never a confident "none".
  // A name holding a day word ("find Friday Night Lights") is search text.
  for (std::size_t i = 0; i < n_; i = std::max(i + 1, day_name(i)))
    if (free(i) && day_name(i) == i && is_date_word(low(i))) {
      problem("unread date words in the list request " + quote(i, i + 1));
      break;
    }
  if (punct_only)
    problem("nothing to look for " + quote(subject, n_));
  else
    r_.query = std::move(q);
  r_.due_at.reset();
  r_.all_day = false;
  r_.recurrence.reset();
  r_.tags.clear();
  r_.priority.reset();
}

void Parser::finish_spans() {
  std::sort(spans_.begin(), spans_.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  bool ascii = true;
  for (unsigned char c : text_)
    if (c >= 0x80) ascii = false;
  if (!ascii) {
    // byte offsets → code points
    auto cp = [&](std::size_t byte) {
      std::size_t n = 0;
      for (std::size_t i = 0; i < byte && i < text_.size(); ++i)
        if ((static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80) ++n;
      return n;
    };
    for (auto& s : spans_) {
      s.start = cp(s.start);
      s.end = cp(s.end);
    }
  }
  r_.spans = std::move(spans_);
}

Reading Parser::run() {
  if (n_ == 0) {
    r_.intent = Intent::unknown;
    r_.confidence = 0.0;
    r_.problems.push_back("empty message");
    return std::move(r_);
  }
  if (!whole_message()) {
    detect_command();
    protect_name();
    body_start_ = first_free();
    protect_work_name();
    if (r_.intent != Intent::unknown) {
      extract();
      recurrence_or_measure();
      recurrence_or_alternative();
      recurrence_in_name();
      if (list_) {
        finish_list();
      } else {
        finish_dates();
        // A date the API could not write back as RFC 3339: "tomorrow" on 9999-12-31.
        if (r_.due_at && !in_rfc3339_range(*r_.due_at)) {
          problem("a date after the year 9999");
          r_.due_at.reset();
          r_.all_day = false;
        }
      }
    }
  }
  // An ambiguous verb with no sign of an update starts a title: "Make dinner reservations", "Update resume".
  if (r_.intent == Intent::update && ambiguous_verb_) {
    bool signal = to_prep_ || priority_via_to_;
    for (std::size_t i = 0; i < n_; ++i)
      if ((in(low(i), {"priority", "prio", "deadline", "title", "name"}) &&
           in(low(i + 1), {"of", "for", "to"})) ||
          phrase(i, {"due", "date"}))
        signal = true;
    const bool make_set = cmd_a_ < n_ && in(low(cmd_a_), {"make", "set"});
    if (make_set && (r_.priority || !r_.tags.empty())) signal = true;
    // "change weekly report" naming a task of the user's is no new task: it asks what to change. ("Make
    // dinner reservations" stays a title even with a task "dinner reservations".)
    if (!signal && (name_b_ == name_a_ || make_set)) {
      revert_command();
      r_.intent = Intent::create;
      conf_ = 0.85;
      if (r_.recurrence) {
        // fine: a recurring task
      }
    }
  }
  // "move car for street cleaning", "push code to github", "delay flight notification": a verb that moves a
  // task is an update only when a change follows it (a date, a time, a recurrence, a priority, a tag, or a
  // date or time that could not be read) or when the words after it are a task of the user's, whole ("move
  // dentist" with a task "dentist" asks what to change). Otherwise it starts a title.
  if (r_.intent == Intent::update && !ambiguous_verb_ && !untag_ && !add_tag_ && cmd_b_ > cmd_a_ &&
      in(low(cmd_a_),
         {"move", "reschedule", "postpone", "push", "delay", "defer", "bump", "bring", "pull"}) &&
      !r_.due_at && !unreadable_ && !rule_ && !r_.priority && r_.tags.empty() && r_.reminders.empty() &&
      offsets_.empty() && !to_prep_ && !priority_via_to_ && !shift_ && !shift_bad_) {
    bool whole_name = name_b_ > name_a_;
    for (std::size_t k = cmd_b_; whole_name && k < n_; ++k)
      if (free(k) && !(k >= name_a_ && k < name_b_) &&
          !in(low(k), {"the", "my", "back", "later", "forward", "earlier"}))
        whole_name = false;
    if (!whole_name) {
      revert_command();
      r_.intent = Intent::create;
      conf_ = 0.85;
    }
  }
  // "Trash out every Tuesday", "Drop off laundry every friday", "cancel netflix before the 15th": a verb that
  // is as often the start of a title (trash, drop, scrap, cancel) before a recurrence, a date or a time
  // starts one (a delete has no date). The plain commands ("delete weekly report", "complete daily standup
  // notes") stay commands: the recurrence or date words are then a problem, never a new task.
  if (r_.intent == Intent::remove && (r_.recurrence || r_.due_at || !dates_.empty() || !times_.empty()) &&
      cmd_b_ > cmd_a_ && name_b_ == name_a_ && in(low(cmd_a_), {"trash", "drop", "scrap", "cancel"})) {
    revert_command();
    r_.intent = Intent::create;
    conf_ = 0.85;
  }
  // "Add milk to shopping list": "add … to <something> list" is the title itself.
  if (r_.intent == Intent::create && cmd_b_ == cmd_a_ + 1 && cmd_a_ < n_ && low(cmd_a_) == "add") {
    const std::size_t last = last_free();
    bool to = false;
    for (std::size_t i = cmd_b_; i < last; ++i)
      if (free_is(i, "to")) to = true;
    if (to && last < n_ && low(last) == "list" &&
        !(last >= 1 &&
          (free_is(last - 1, "my") || free_is(last - 1, "the") || (last >= 2 && free_is(last - 2, "my")))))
      revert_command();
  }
  std::string rest;
  switch (r_.intent) {
    case Intent::create: {
      // "remind me 24 hours before flight to check in": "check in 24 hours before flight"
      rest = task_after_to_ ? residual(due_ref_to_ + 1) + " " + residual(0, due_ref_to_) : residual();
      if (remind_lead_) {
        // "remind me about the dentist at 8am" / "remind me 30 minutes before the dentist" → a reminder on a
        // task
        if (strip_word_front(rest, {"about", "of"}) || (!offsets_.empty() && !r_.due_at && !rest.empty())) {
          r_.intent = Intent::add_reminder;
          r_.target = clean_target(rest);
          if (r_.due_at) r_.reminders.push_back(Reminder{std::nullopt, r_.due_at});
          r_.due_at.reset();
          r_.all_day = false;
          break;
        }
        // "remind me 1 hour before the meeting tomorrow at 3pm": a reminder on the task "meeting", its time
        // said: due_at is the meeting's (the dialog adds the task so, due then, when none matches); it was
        // a task "the meeting"
        if (remind_before_event_ && r_.due_at && !r_.all_day && !r_.recurrence && offsets_.size() == 1 &&
            r_.reminders.size() == 1 && !clean_target(rest).empty()) {
          r_.intent = Intent::add_reminder;
          r_.target = clean_target(rest);
          if (*r_.due_at >= clk_.now && *r_.due_at - offsets_.front() < clk_.now)
            problem("the reminder's time is in the past");
          break;
        }
        // the event as a new task (a day without a time, a rule): "meeting", not "the meeting"
        if (remind_before_event_) strip_word_front(rest, {"the", "my", "a", "an"});
        // "remind me to X at T": a task due at T with a reminder at the due time (PT0S)
        if (r_.due_at && offsets_.empty() && r_.reminders.empty() && !reminder_passed_)
          r_.reminders.push_back(Reminder{std::chrono::seconds(0), std::nullopt});
        if (!r_.due_at)
          problem(unknown_event_.empty() ? std::string("no time for the reminder")
                                         : "no time for the reminder: when is " + unknown_event_ +
                                               "? (say its day and time too)");
      }
      strip_word_back(rest,
                      {"to my list", "to the list", "to my todo list", "to my to-do list", "to my tasks"});
      r_.title = clean_title(std::move(rest));
      if (!has_text(r_.title)) r_.title.clear();  // "...", "?!", "'' tomorrow": no title, as "!!" has none
      if (r_.title.empty()) problem("no title");
      if (!cant_.empty()) problem(cant_);
      if (!several_lines_) pasted_lines();
      if (several_lines_ || !cant_.empty()) {  // never the lines of a list merged into one task
        r_.title.clear();
        r_.due_at.reset();
        r_.all_day = false;
        r_.reminders.clear();
        r_.recurrence.reset();
      }
      break;
    }
    case Intent::add_reminder: {
      rest = residual();
      strip_word_front(rest, {"about", "of"});
      r_.target = clean_target(rest);
      if (r_.due_at) {
        // dates read before "remind me" took effect: the reminder's time
        r_.reminders.push_back(Reminder{std::nullopt, r_.due_at});
        r_.due_at.reset();
        r_.all_day = false;
      }
      if (r_.reminders.empty()) problem("no time for the reminder");
      if (r_.target.empty()) problem("which task?");
      break;
    }
    case Intent::update: {
      if (untag_) {
        // The tag: the words before "from" (else the last word); the task: the words after it (else the
        // rest).
        std::size_t from = n_;
        for (std::size_t i = 0; i < n_; ++i)
          if (free_is(i, "from") && from == n_) from = i;
        std::string tags;
        for (const auto& t : r_.tags)
          tags += (tags.empty() ? "" : " ") + t;
        if (from < n_) {
          if (tags.empty()) tags = residual(0, from);
          r_.target = clean_target(residual(from + 1));
        } else if (const std::size_t last = last_free(); tags.empty() && last < n_) {
          tags = std::string(t_[last].raw);
          r_.target = clean_target(residual(0, last));
        } else {
          r_.target = clean_target(residual());
        }
        if (!tags.empty() && tags[0] == '#') tags.erase(0, 1);
        problem("I can't take a tag off a task in chat yet: remove " +
                (tags.empty() ? std::string("the tag") : "\u201c" + tags + "\u201d") +
                (r_.target.empty() ? std::string() : " from \u201c" + r_.target + "\u201d") + " in the app");
        r_.tags.clear();
        break;
      }
      if (add_tag_) {
        // "add tag work to weekly report": the words before "to" are tags, the ones after it the task
        std::size_t to = cmd_b_;
        while (to < n_ && !free_is(to, "to"))
          ++to;
        take_tag_words(cmd_b_, to);
        take(to, to + 1, std::nullopt);
        r_.target = clean_target(residual(to + 1));
        if (r_.target.empty()) problem("which task?");
        if (r_.tags.empty()) problem("nothing to change");
        if (r_.due_at || r_.recurrence) problem("a date in a command");
        r_.due_at.reset();
        r_.all_day = false;
        r_.recurrence.reset();
        break;
      }
      rest = residual();
      // rename X to Y / call X Y
      std::size_t split = std::string::npos;
      const std::size_t first = first_free();
      bool rename = false;
      for (std::size_t i = 0; i < n_; ++i)
        if (t_[i].used && in(low(i), {"rename", "retitle"})) rename = true;
      if (rename || phrase(first, {"the", "title"}) == 0) {
        for (std::size_t i = n_; i-- > 0;)
          if (free_in(i, {"to", "as", "into"}) && rename) {
            split = i;
            break;
          }
      }
      if (split != std::string::npos) {
        take(split, split + 1, SpanKind::command);
        r_.target = clean_target(residual(0, split));
        r_.title = clean_title(residual(split + 1));
        if (!has_text(r_.title)) r_.title.clear();
        if (r_.title.empty()) problem("no new title");
      } else {
        // "tag groceries with home": the words after the last "with"/"as" are tags
        bool tagging = false;
        for (std::size_t i = 0; i < n_; ++i)
          if (t_[i].used && in(low(i), {"tag", "retag"}) && i == 0) tagging = true;
        if (tagging) {
          for (std::size_t i = n_; i-- > 0;) {
            if (free_in(i, {"with", "as"})) {
              take_tag_words(i + 1, n_);
              take(i, i + 1, std::nullopt);
              break;
            }
          }
        }
        // "priority of", "the due date of", "due date"
        for (std::size_t i = 0; i < n_; ++i) {
          if (phrase(i, {"priority", "of"}) || phrase(i, {"priority", "for"}) ||
              phrase(i, {"due", "date", "of"}) || phrase(i, {"date", "of"}) || phrase(i, {"time", "of"}) ||
              phrase(i, {"deadline", "of"}))
            take(i, i + (low(i) == "due" ? 3 : 2), SpanKind::command);
          else if (free_in(i, {"priority", "prio", "deadline"}) ||
                   (free_is(i, "due") && free_is(i + 1, "date")))
            take(i, i + (low(i) == "due" ? 2 : 1), SpanKind::command);
        }
        r_.target = clean_target(residual());
        strip_word_back(r_.target, {"'s"});
        if (r_.target.size() > 2 && r_.target.ends_with("'s")) r_.target.resize(r_.target.size() - 2);
      }
      if (r_.target.empty()) problem("which task?");
      if (shift_) {
        // "postpone the report to friday by 2 days": a date and a move; which one? Neither is guessed.
        if (r_.due_at || !dates_.empty() || !times_.empty() || !rels_.empty() || rule_) {
          problem(
              "both a new date and a move by an amount: say one, e.g. \"postpone the report by 2 days\" or "
              "\"move the report to friday\"");
          r_.due_at.reset();
          r_.all_day = false;
          r_.recurrence.reset();
          shift_bad_ = true;
        } else if (!shift_bad_) {  // with a move that was not read ("two moves"), none is
          r_.shift = shift_;
        }
      }
      if (r_.title.empty() && !r_.due_at && !r_.priority && r_.tags.empty() && !r_.recurrence &&
          r_.reminders.empty() && !r_.shift && !shift_bad_)
        problem("nothing to change");
      if (r_.recurrence && name_b_ == name_a_ && cmd_b_ > cmd_a_) {
        // "move weekly report to every friday" with no task "weekly report" known: a recurrence before the
        // word that starts the change ("to", "as", "with", "for") may be the name's, never a sure new
        // schedule
        std::size_t sep = cmd_b_;
        while (sep < n_ && !in(low(sep), {"to", "as", "with", "for", "into"}))
          ++sep;
        for (const auto& sp : spans_)
          if (sp.kind == SpanKind::recurrence && sep < n_ && sp.start >= t_[cmd_b_ - 1].end &&
              sp.start < t_[sep].begin) {
            problem("a recurrence word in the task's name?");
            break;
          }
      }
      if (r_.recurrence) r_.intent = Intent::make_recurring;
      break;
    }
    case Intent::make_recurring:
      // "make gym recurring every monday or tuesday": the refused rule's words are no part of the task's name
      // (it was "gym every monday or tuesday"), and its problem says why there is no recurrence
      for (const auto& [a, b] : refused_rule_)
        for (std::size_t k = a; k < b && k < n_; ++k)
          t_[k].used = true;
      r_.target = clean_target(residual());
      if (r_.target.empty()) problem("which task?");
      if (!r_.recurrence && refused_rule_.empty()) problem("no recurrence");
      break;
    case Intent::complete:
    case Intent::reopen:
    case Intent::remove:
    case Intent::stop_recurring:
      r_.target = clean_target(residual());
      if (r_.target.empty()) problem("which task?");
      if (r_.intent != Intent::stop_recurring && (r_.due_at || r_.recurrence)) problem("a date in a command");
      if (r_.intent == Intent::stop_recurring && r_.recurrence) problem("a recurrence in 'stop repeating'");
      r_.due_at.reset();
      r_.all_day = false;
      r_.recurrence.reset();
      r_.recurrence_mode = RecurrenceMode::fixed;
      break;
    case Intent::list:
      break;
    default:
      break;
  }
  // "mark all done", "mark all #home done", "complete all", "delete everything": a command names one task,
  // and "all" is no task's name (nor a piece of "call mom"). Unless a task of the user is called so, the
  // dialog says that bulk actions are not supported; nothing is offered.
  const Intent it = r_.intent;
  if ((it == Intent::complete || it == Intent::reopen || it == Intent::remove || it == Intent::update ||
       it == Intent::make_recurring || it == Intent::stop_recurring || it == Intent::add_reminder) &&
      !r_.target.empty() && name_b_ == name_a_ && bulk_target(r_.target)) {
    problem(
        "I can't act on several tasks at once: bulk actions are not supported, name one task, e.g. "
        "\u201ccomplete buy milk\u201d");
    r_.target.clear();
    r_.title.clear();
  }
  if (r_.intent != Intent::create && r_.intent != Intent::update && r_.intent != Intent::list &&
      r_.intent != Intent::make_recurring) {
    r_.title.clear();
  }
  if (r_.intent == Intent::create && r_.title.empty() && r_.target.empty()) {
    // nothing left: e.g. "tomorrow at 5pm"
  }
  // A question is never a confident create: "should I call bob?" may be a task, or may ask about one.
  if (r_.intent == Intent::create && t_[n_ - 1].punct && t_[n_ - 1].low == "?")
    problem("a question, not a task to add");
  if (no_rule_due_) {  // a date or time with the rule refused is no single task's ("... or tuesday at 7am")
    r_.due_at.reset();
    r_.all_day = false;
  }
  double c = conf_;
  if (!r_.problems.empty()) c = std::min(c, 0.4);
  if (r_.intent == Intent::unknown) c = 0.0;
  r_.confidence = c;
  finish_spans();
  return std::move(r_);
}

// "tasks due this week", "overdue tasks", "my tasks today", "high priority tasks": a create without a command
// word whose title is only words about tasks in general asks for a list. The words joining a list's range
// ("tasks due after friday", "my tasks due since monday", "tasks due between monday and friday") count too
// when a date was read.
bool asks_for_a_list(const Reading& r) {
  if (r.intent != Intent::create || r.title.empty()) return false;
  bool dated = false;
  for (const auto& sp : r.spans) {
    if (sp.kind == SpanKind::command) return false;
    dated = dated || sp.kind == SpanKind::date;
  }
  bool noun = false;
  std::vector<std::string> words;
  std::size_t a = 0;
  while (a < r.title.size()) {
    std::size_t b = r.title.find(' ', a);
    if (b == std::string::npos) b = r.title.size();
    std::string w = r.title.substr(a, b - a);
    for (char& c : w)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    words.push_back(std::move(w));
    a = b + 1;
  }
  // The filter words of a list count too: "tasks with no date", "undated tasks", "tasks due soon".
  const auto phrase_at = [&](std::size_t i, std::initializer_list<string_view> p) -> std::size_t {
    std::size_t k = 0;
    for (const auto w : p) {
      if (i + k >= words.size() || words[i + k] != w) return 0;
      ++k;
    }
    return k;
  };
  for (std::size_t i = 0; i < words.size();) {
    const std::string& w = words[i];
    std::size_t k = 0;
    for (const auto p : {std::initializer_list<string_view>{"with", "no", "due", "date"},
                         {"with", "no", "date"},
                         {"with", "no", "deadline"},
                         {"without", "a", "due", "date"},
                         {"without", "due", "date"},
                         {"without", "a", "date"},
                         {"without", "a", "deadline"},
                         {"without", "date"},
                         {"without", "deadline"},
                         {"no", "due", "date"},
                         {"no", "date"},
                         {"no", "deadline"}})
      if (!k) k = phrase_at(i, p);
    if (k) {
      i += k;
      continue;
    }
    // "tasks matching report", "tasks that match report": the rest is what to look for
    if (noun &&
        (in(w, {"matching", "match", "matches"}) ||
         (in(w, {"that", "which"}) && i + 1 < words.size() && in(words[i + 1], {"match", "matches"}))))
      return true;
    if (in(w, {"tasks", "todos", "to-dos", "overdue"}))
      noun = true;
    else if (!in(w, {"my", "all", "the", "any", "open", "pending", "remaining", "unfinished", "outstanding",
                     "due", "upcoming", "undated", "unscheduled", "soon"}) &&
             !(dated && is_range_word(w)))
      return false;
    ++i;
  }
  return noun;
}

}  // namespace

std::string_view to_string(Intent i) {
  static constexpr std::array<std::string_view, 15> k = {
      "create",         "list", "complete", "reopen",  "delete", "update", "add_reminder", "make_recurring",
      "stop_recurring", "undo", "help",     "confirm", "deny",   "select", "unknown"};
  return k[static_cast<std::size_t>(i)];
}

std::string_view to_string(Priority p) {
  static constexpr std::array<std::string_view, 5> k = {"none", "low", "medium", "high", "urgent"};
  return k[static_cast<std::size_t>(p)];
}

std::string_view to_string(SpanKind s) {
  static constexpr std::array<std::string_view, 10> k = {
      "command", "date", "time", "recurrence", "priority", "tag", "reminder", "filter", "selection", "shift"};
  return k[static_cast<std::size_t>(s)];
}

std::optional<ParseContext> make_context(Instant now, std::string_view timezone, DateOrder order) {
  if (!is_valid_timezone(timezone)) return std::nullopt;
  try {
    return ParseContext{now, date::locate_zone(timezone), order};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Reading parse(std::string_view text, const ParseContext& ctx) {
  thread_local std::string lower;
  thread_local std::vector<Token> tokens;
  if (text.size() > kMaxParseBytes) text = text.substr(0, kMaxParseBytes);
  if (tokens.capacity() < 64) tokens.reserve(64);
  try {
    Reading r = Parser(text, ctx, lower, tokens).run();
    if (asks_for_a_list(r)) return Parser(text, ctx, lower, tokens, /*as_list=*/true).run();
    return r;
  } catch (const std::exception& e) {  // a bug; never an exception out of parse()
    Reading r;
    r.problems.push_back(std::string("internal error: ") + e.what());
    return r;
  }
}

}  // namespace todo::chat

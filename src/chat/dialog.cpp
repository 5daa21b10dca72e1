// The chat dialog: answers open questions, resolves targets, executes through tasks::service and undoes.
#include "todo/chat/dialog.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <map>

#include "calendar.hpp"
#include "todo/chat/reading_json.hpp"
#include "todo/core/error.hpp"
#include "todo/core/text.hpp"
#include "todo/db/statements.hpp"
#include "todo/recurrence/expand.hpp"
#include "todo/reminders/service.hpp"
#include "todo/tasks/service.hpp"
#include "words.hpp"

namespace todo::chat {
namespace {

namespace svc = tasks::service;
using tasks::Status;
using tasks::Task;

// Titles containing the target words (case aside), when full-text search (whole words and prefixes) found
// none: from the start of a word for a target shorter than kMidWordMin characters ("all" is no part of "call
// mom"), anywhere for a longer one ("voice" in "Invoice batch1").
const db::Statement kTitleLike{"chat_tasks_title_like",
                               "SELECT id FROM tasks WHERE user_id = $1 AND status = $2 AND title ~* $3 "
                               "ORDER BY coalesce(due_at, 'infinity'::timestamptz), id LIMIT 11"};
constexpr std::size_t kMidWordMin = 4;
// The titles of the user's tasks that the message holds (case aside), longest first.
const db::Statement kTitlesIn{
    "chat_tasks_titles_in",
    "SELECT title FROM (SELECT DISTINCT title FROM tasks WHERE user_id = $1 "
    "AND strpos(lower($2), lower(title)) > 0) t ORDER BY length(title) DESC LIMIT 50"};
// The user's tasks with a status whose title is the target words (case aside; same_title() decides): found
// however many other titles hold those words.
const db::Statement kTitleIs{
    "chat_tasks_title_is",
    "SELECT id FROM tasks WHERE user_id = $1 AND status = $2 AND lower(title) = lower($3) "
    "ORDER BY id LIMIT 2"};
const db::Registration kRegistered{kTitleLike, kTitlesIn, kTitleIs};

constexpr std::size_t kMaxCandidates = 10;  // offered as options; one more is read to know there are more
constexpr int kListLimit = 50;
constexpr std::size_t kTitlesInReply = 10;

/// Everything one message's handling needs.
struct Step {
  pqxx::transaction_base& w;
  Conversation& c;
  const Turn& turn;
  const DialogSettings& settings;
  Reply& out;
  svc::Actor actor;
  /// The message gives a time of day and no date ("move the dentist to 10am"): a reschedule keeps the task's
  /// day. Kept with an open question, whose stored reading has no spans.
  bool time_only = false;
};

std::string in_quotes(const std::string& s) {
  return "\u201c" + s + "\u201d";
}

/// "Thu, Mar 5" (all-day) or "Thu, Mar 5, 5:00 PM" in the user's zone.
std::string when(Instant t, bool all_day, const date::time_zone* zone) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto local =
      zone ? detail::to_local(zone, t)
           : date::local_seconds(std::chrono::floor<std::chrono::seconds>(t).time_since_epoch());
  const auto day = std::chrono::floor<date::days>(local);
  const date::year_month_day ymd{day};
  const date::weekday wd{day};
  std::string s = std::string(kDays[wd.c_encoding()]) + ", " + kMonths[unsigned(ymd.month()) - 1] + " " +
                  std::to_string(unsigned(ymd.day()));
  const auto this_year =
      date::year_month_day{std::chrono::floor<date::days>(std::chrono::system_clock::now())}.year();
  if (ymd.year() != this_year) s += ", " + std::to_string(int(ymd.year()));
  if (all_day) return s;
  const date::hh_mm_ss hms{local - day};
  const long h = hms.hours().count();
  const long m = hms.minutes().count();
  s += ", " + std::to_string(h % 12 == 0 ? 12 : h % 12) + ":" + (m < 10 ? "0" : "") + std::to_string(m) +
       (h < 12 ? " AM" : " PM");
  return s;
}

/// The task's own timezone, or the user's when it has none (or one this server does not know).
const date::time_zone* own_zone(const Task& t, const date::time_zone* user) {
  if (t.timezone.empty()) return user;
  try {
    return date::locate_zone(t.timezone);
  } catch (const std::exception&) {
    return user;
  }
}

/// The zone a task's day is read in: an all-day task's day is the date of its due_at in the task's own
/// timezone ("pay invoice on December 10" added in Berlin stays Dec 10 for its user now in New York); a timed
/// task's day is the user's.
const date::time_zone* day_zone(const Task& t, const date::time_zone* user) {
  return t.all_day ? own_zone(t, user) : user;
}

std::string due_phrase(const Task& t, const date::time_zone* zone) {
  if (!t.due_at) return "";
  return when(*t.due_at, t.all_day, day_zone(t, zone));
}

/// "Buy milk (Thu, Mar 5, 5:00 PM)" or "Buy milk".
std::string label(const Task& t, const date::time_zone* zone) {
  const auto due = due_phrase(t, zone);
  return due.empty() ? t.title : t.title + " (" + due + ")";
}

void say(Step& s, std::string text) {
  s.out.text = std::move(text);
}

void ask(Step& s, std::string question, std::vector<std::string> options = {},
         nlohmann::json pending = nullptr) {
  if (pending.is_object()) {  // kept so that an unsure answer can be met with the same question
    if (!pending.contains("question")) pending["question"] = question;
    if (!pending.contains("options")) pending["options"] = options;
  }
  s.out.text = std::move(question);
  s.out.needs_clarification = true;
  s.out.options = std::move(options);
  s.c.pending = std::move(pending);
}

void add_action(Step& s, std::string type, const Task& t, nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json a = {{"type", std::move(type)}, {"task", tasks::to_json(t)}};
  for (auto& [k, v] : extra.items())
    a[k] = v;
  s.out.actions.push_back(std::move(a));
}

void push_undo(Step& s, nlohmann::json entry) {
  s.c.actions.push_back(std::move(entry));
}

/// The message of a validation error, for a reply: "title: must be at most 500 characters".
std::string problem_text(const Error& e) {
  if (e.errors().empty()) return e.what();
  std::string out;
  for (const auto& f : e.errors())
    out += (out.empty() ? "" : "; ") + f.field + ": " + f.message;
  return out;
}

std::string plural(long n, const char* unit) {
  return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
}

/// "30 minutes before", "1 day before", "at the due time", "at Thu, Mar 5, 8:00 AM".
std::string reminder_phrase(const Reminder& r, const date::time_zone* zone) {
  if (r.at) return "at " + when(*r.at, false, zone);
  const long secs = static_cast<long>(r.before_due.value_or(std::chrono::seconds{0}).count());
  if (secs == 0) return "at the due time";
  if (secs % 604800 == 0) return plural(secs / 604800, "week") + " before";
  if (secs % 86400 == 0) return plural(secs / 86400, "day") + " before";
  if (secs % 3600 == 0) return plural(secs / 3600, "hour") + " before";
  if (secs % 60 == 0) return plural(secs / 60, "minute") + " before";
  return plural(secs, "second") + " before";
}

/// "30 minutes before" / "at the due time and 1 day before".
std::string reminder_times(const std::vector<Reminder>& rs, const date::time_zone* zone) {
  std::string out;
  for (std::size_t i = 0; i < rs.size(); ++i)
    out += (i == 0 ? "" : i + 1 == rs.size() ? " and " : ", ") + reminder_phrase(rs[i], zone);
  return out;
}

/// "a reminder 30 minutes before" / "reminders at the due time and 1 day before".
std::string reminders_phrase(const std::vector<Reminder>& rs, const date::time_zone* zone) {
  return (rs.size() == 1 ? "a reminder " : "reminders ") + reminder_times(rs, zone);
}

/// The reading's reminders validated like POST /api/v1/tasks/{id}/reminders bodies; Error(unprocessable)
/// naming the problem.
std::vector<reminders::NewReminder> reminder_inputs(const Reading& r) {
  std::vector<reminders::NewReminder> out;
  const nlohmann::json reading = to_json(r);  // named: a temporary's member would dangle in the loop
  for (const auto& body : reading["reminders"])
    out.push_back(reminders::parse_new_reminder(body));
  return out;
}

/// Stores the reminders on the task (in the message's transaction); their API views.
nlohmann::json attach(Step& s, const Task& t, const std::vector<reminders::NewReminder>& inputs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& in : inputs)
    out.push_back(reminders::to_json(reminders::create(s.w, s.actor.user_id, t.id, in)));
  return out;
}

nlohmann::json ids_of(const nlohmann::json& reminders) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : reminders)
    out.push_back(r.at("id"));
  return out;
}

const char* mode_name(RecurrenceMode m) {
  return m == RecurrenceMode::after_completion ? "after_completion" : "fixed";
}

/// A reading in a form that can wait for an answer (spans and problems are not needed any more).
nlohmann::json stored_op(const Reading& r) {
  nlohmann::json j = to_json(r);
  j.erase("spans");
  j.erase("problems");
  return j;
}

/// A PostgreSQL regular expression matching `words` literally: where a word starts (at the start of the title
/// or after a character that is no letter, digit or underscore) when they are shorter than kMidWordMin code
/// points and start with such a character, else anywhere.
std::string title_pattern(const std::string& words) {
  const auto word_char = [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u >= 0x80 || std::isalnum(u) || ch == '_';
  };
  const bool short_words = utf8_length(words) < kMidWordMin;
  std::string p = short_words && !words.empty() && word_char(words[0]) ? "(^|[^[:alnum:]_])" : "";
  for (char ch : words) {
    if (!word_char(ch))
      p += '\\';  // a backslash before a character that is no letter or digit: that character
    p += ch;
  }
  return p;
}

/// The user's tasks with `status` whose title matches the target words: full-text (every word, as a prefix)
/// by relevance, else a substring of the title (one that starts a word when it is short: title_pattern()).
std::vector<Task> matches(Step& s, const std::string& target, Status status) {
  std::vector<Task> out;
  tasks::ListQuery q;
  q.status = status;
  q.search = tasks::to_prefix_tsquery(target);
  q.limit = static_cast<int>(kMaxCandidates + 1);
  if (q.search) {
    q.sort = {{tasks::SortField::rank, true}, {tasks::SortField::due_at, false}};
    out = svc::list(s.w, s.actor.user_id, q).items;
  }
  if (out.empty()) {
    const auto rows = s.w.exec_prepared(kTitleLike.name, s.actor.user_id, std::string(to_string(status)),
                                        title_pattern(target));
    for (const auto& row : rows)
      out.push_back(svc::get(s.w, s.actor.user_id, row[0].c_str()));
  }
  return out;
}

bool same_title(std::string_view a, std::string_view b) {
  return lower_unicode(trim(a)) == lower_unicode(trim(b));
}

/// The user's tasks with `status` whose title is `words` (case aside), however many other titles hold them;
/// at most two (one is a match, two are not).
std::vector<Task> titled(Step& s, const std::string& words, Status status) {
  std::vector<Task> out;
  const auto rows = s.w.exec_prepared(kTitleIs.name, s.actor.user_id, std::string(to_string(status)),
                                      std::string(trim(words)));
  for (const auto& row : rows)
    if (auto t = tasks::repository::find(s.w, s.actor.user_id, row[0].c_str());
        t && same_title(t->title, words))
      out.push_back(std::move(*t));
  return out;
}

/// The task as it is now, its row locked for the rest of the message's transaction (under its series lock
/// first, the order every writer takes them in): a change made elsewhere since it was found (a REST PATCH, a
/// DELETE) is seen, and none can come between this read and the dialog's own change. nullopt when it no
/// longer exists.
std::optional<Task> lock_task(Step& s, const std::string& id) {
  const auto found = tasks::repository::find(s.w, s.actor.user_id, id);
  if (!found) return std::nullopt;
  if (found->series_id) tasks::repository::lock_series(s.w, s.actor.user_id, *found->series_id);
  return tasks::repository::find_for_update(s.w, s.actor.user_id, id);
}

void perform(Step& s, const Reading& op, const Task& found);
void do_create(Step& s, const Reading& r);

/// Finds the task `op` names and performs it, or asks which one, or says that none matched.
void resolve_and_perform(Step& s, const Reading& op) {
  if (op.target.empty()) {
    ask(s, "Which task do you mean? Please name it, e.g. \u201ccomplete buy milk\u201d.");
    return;
  }
  // Open tasks first (done ones first for reopen), then the others.
  const Status first = op.intent == Intent::reopen ? Status::done : Status::open;
  const Status second = first == Status::open ? Status::done : Status::open;
  std::vector<Task> found = matches(s, op.target, first);
  if (found.empty()) found = matches(s, op.target, second);
  if (detail::bulk_target(op.target)) {
    // "all", "everything" (say, from the model): one task at a time; only a task so called is named by it,
    // never the tasks whose titles merely hold the word
    std::erase_if(found, [&](const Task& t) { return !same_title(t.title, op.target); });
    if (found.empty()) {
      say(s,
          "I can't act on several tasks at once: bulk actions are not supported. Name one task, e.g. "
          "\u201ccomplete buy milk\u201d.");
      return;
    }
  }
  const bool counted_back =  // "… 1 hour before the meeting tomorrow at 3pm": relative reminders, a time said
      op.due_at && !op.reminders.empty() &&
      std::all_of(op.reminders.begin(), op.reminders.end(), [](const Reminder& r) { return r.before_due; });
  if (found.empty() && op.intent == Intent::add_reminder && counted_back) {
    // "remind me 1 hour before the meeting tomorrow at 3pm" with no such task: remind of the meeting, a task
    // due at the time said
    Reading create = op;
    create.intent = Intent::create;
    create.title = op.target;
    create.target.clear();
    do_create(s, create);
    return;
  }
  if (found.empty()) {
    say(s, "I couldn't find a task matching " + in_quotes(op.target) + ".");
    return;
  }
  // Several: the one whose title is the words, if only one is. With more than the options read, it may be
  // beyond them: looked for on its own.
  std::vector<Task> exact;
  if (found.size() > kMaxCandidates)
    exact = titled(s, op.target, found.front().status);
  else if (found.size() > 1)
    std::copy_if(found.begin(), found.end(), std::back_inserter(exact),
                 [&](const Task& t) { return same_title(t.title, op.target); });
  if (exact.size() == 1) found = exact;
  if (found.size() == 1) {
    perform(s, op, found.front());
    return;
  }
  const bool more = found.size() > kMaxCandidates;
  if (more) found.resize(kMaxCandidates);
  nlohmann::json candidates = nlohmann::json::array();
  std::vector<std::string> options;
  for (const auto& t : found) {
    candidates.push_back({{"id", t.id}, {"title", t.title}});
    // Identical texts (two undated "call anna") are told apart, "call anna (2)": the option a client sends
    // back when one is clicked names one.
    std::string option = label(t, s.turn.zone);
    for (int n = 2; std::find(options.begin(), options.end(), option) != options.end(); ++n)
      option = label(t, s.turn.zone) + " (" + std::to_string(n) + ")";
    options.push_back(std::move(option));
  }
  const std::string how_many =
      more ? "More than " + std::to_string(kMaxCandidates) + " tasks match " + in_quotes(op.target) +
                 "; here are the first " + std::to_string(kMaxCandidates) +
                 " (name it more precisely to narrow them)."
           : std::to_string(found.size()) + " tasks match " + in_quotes(op.target) + ".";
  ask(s, "Which one do you mean? " + how_many, options,
      {{"kind", "select"},
       {"op", stored_op(op)},
       {"time_only", s.time_only},
       {"candidates", std::move(candidates)},
       {"options", options},
       {"narrow", more}});
}

// ---- executing
// ----------------------------------------------------------------------------------------------

void do_create(Step& s, const Reading& r) {
  nlohmann::json body = {{"title", r.title}};
  if (r.priority) body["priority"] = std::string(to_string(*r.priority));
  if (!r.tags.empty()) body["tags"] = r.tags;
  if (r.due_at) {
    body["due_at"] = format_rfc3339(*r.due_at);
    body["all_day"] = r.all_day;
  }
  if (r.recurrence) {
    body["recurrence"] = *r.recurrence;
    body["recurrence_mode"] = mode_name(r.recurrence_mode);
  }
  tasks::NewTask input;
  std::vector<reminders::NewReminder> reminder_input;
  try {
    input = tasks::parse_new_task(body);  // the REST API's validation
    reminder_input = reminder_inputs(r);
  } catch (const Error& e) {
    say(s, "I can't create that task: " + problem_text(e) + ".");
    return;
  }
  Task t;
  try {
    t = svc::create(s.w, s.actor, input);  // also checks the rule against the due date
  } catch (const Error& e) {
    if (e.code() != Errc::unprocessable) throw;
    say(s, "I can't create that task: " + problem_text(e) + ".");
    return;
  }
  nlohmann::json extra = nlohmann::json::object();
  if (!reminder_input.empty()) extra["reminders"] = attach(s, t, reminder_input);
  add_action(s, "create", t, std::move(extra));
  push_undo(s, {{"type", "create"}, {"task_id", t.id}, {"version", t.version}, {"title", t.title}});
  std::string text = "Added " + in_quotes(t.title);
  if (t.due_at) text += ", due " + due_phrase(t, s.turn.zone);
  if (t.recurrence)
    text += std::string(", repeating") +
            (r.recurrence_mode == RecurrenceMode::after_completion ? " after each completion" : "") + " (" +
            *t.recurrence + ")";
  if (t.priority != tasks::Priority::none)
    text += ", " + std::string(tasks::to_string(t.priority)) + " priority";
  for (const auto& tag : t.tags)
    text += " #" + tag;
  if (!r.reminders.empty()) text += ", with " + reminders_phrase(r.reminders, s.turn.zone);
  text += ".";
  say(s, std::move(text));
}

/// "remind me 30 minutes before the dentist": the reminders are stored on the task; undo removes them. With
/// the time said ("… before the meeting tomorrow at 3pm", `due_at`) on a task not due then, they count back
/// from that time (an `at` reminder, 14:00): the task's own due time, or none, is not the one said.
void do_add_reminder(Step& s, const Reading& said, const Task& task) {
  Reading r = said;
  if (r.due_at && (task.all_day || task.due_at != r.due_at))
    for (auto& rem : r.reminders)
      if (rem.before_due) rem = Reminder{std::nullopt, *r.due_at - *rem.before_due};
  std::vector<reminders::NewReminder> input;
  try {
    input = reminder_inputs(r);
  } catch (const Error& e) {
    say(s, "I can't add that reminder: " + problem_text(e) + ".");
    return;
  }
  if (input.empty()) {
    ask(s, "When should I remind you about " + in_quotes(task.title) +
               "? For example \u201cremind me 30 minutes before " + task.title + "\u201d.");
    return;
  }
  const auto existing = reminders::list_for_task(s.w, s.actor.user_id, task.id).size();
  if (existing + input.size() > static_cast<std::size_t>(reminders::kMaxPerTask)) {
    say(s, in_quotes(task.title) + " already has " + std::to_string(existing) +
               " reminders; a task has at most " + std::to_string(reminders::kMaxPerTask) + ".");
    return;
  }
  const nlohmann::json stored = attach(s, task, input);
  add_action(s, "add_reminder", task, {{"reminders", stored}});
  push_undo(s, {{"type", "add_reminder"},
                {"task_id", task.id},
                {"version", task.version},
                {"title", task.title},
                {"reminder_ids", ids_of(stored)}});
  std::string text =
      "I'll remind you about " + in_quotes(task.title) + " " + reminder_times(r.reminders, s.turn.zone);
  if (said.due_at && r.reminders.front().at && said.reminders.front().before_due)  // counted back: from what
    text += " (" + reminder_times(said.reminders, s.turn.zone) + " " +
            when(*said.due_at, false, s.turn.zone) + ")";
  bool waiting = false;
  for (const auto& j : stored)
    waiting = waiting || j["fire_at"].is_null();
  if (waiting)
    text += " (once it has a due date)";
  else if (task.status == Status::done)
    text += " (if you reopen it)";
  say(s, text + ".");
}

/// The words of the message a span covers, or nothing.
std::string span_text(const std::string& message, const Span& sp) {
  // Spans count code points; walk the UTF-8 text to find their bytes.
  std::size_t cp = 0, start = std::string::npos, end = message.size();
  for (std::size_t i = 0; i <= message.size(); ++i) {
    if (i < message.size() && (static_cast<unsigned char>(message[i]) & 0xC0) == 0x80) continue;
    if (cp == sp.start) start = i;
    if (cp == sp.end) {
      end = i;
      break;
    }
    ++cp;
  }
  if (start == std::string::npos || end < start) return "";
  return message.substr(start, end - start);
}

/// The text of the message's date spans ("this week"), or nothing.
std::string date_words(const Turn& turn) {
  std::string out;
  for (const auto& sp : turn.reading.spans) {
    if (sp.kind != SpanKind::date && sp.kind != SpanKind::time) continue;
    const std::string words = span_text(turn.message, sp);
    if (words.empty()) continue;
    if (!out.empty()) out += " ";
    out += words;
  }
  return out;
}

/// Whether the message says a time of day and no date: a time span, no date or recurrence span, and no time
/// counted from now ("in 2 hours", "30 minutes from now").
bool time_of_day_only(const Turn& turn) {
  bool time = false;
  for (const auto& sp : turn.reading.spans) {
    if (sp.kind == SpanKind::date || sp.kind == SpanKind::recurrence) return false;
    if (sp.kind != SpanKind::time) continue;
    time = true;
    const std::string words = lower_ascii(span_text(turn.message, sp));
    std::size_t a = 0;
    while (a < words.size()) {
      std::size_t b = words.find(' ', a);
      if (b == std::string::npos) b = words.size();
      const std::string_view w = std::string_view(words).substr(a, b - a);
      if (detail::unit_word(w) || detail::compact_amount(w) || w == "now") return false;
      a = b + 1;
    }
  }
  return time;
}

/// The tasks a list query asks for, in words: "open tasks with high priority tagged work due this week".
/// `words`: the message's date words as written ("this week"), or "" to say the range in dates.
std::string list_what(const Query& q, const date::time_zone* zone, const std::string& words) {
  std::string what = q.status ? *q.status + " tasks" : "tasks";
  if (q.overdue) what = "overdue " + what;
  if (!q.priorities.empty()) {
    std::string ps;
    for (auto p : q.priorities)
      ps += (ps.empty() ? "" : " or ") + std::string(to_string(p));
    what += " with " + ps + " priority";
  }
  for (const auto& t : q.tags)
    what += " tagged " + t;
  if (q.q) what += " matching " + in_quotes(*q.q);
  if (q.due_after || q.due_before) {
    if (!words.empty())  // the words as written, "due" included when they have it ("what's due this week")
      what += (lower_ascii(words).starts_with("due ") ? " " : " due ") + words;
    else if (q.due_after && q.due_before)
      what += " due from " + when(*q.due_after, true, zone) + " to before " + when(*q.due_before, true, zone);
    else if (q.due_after)
      what += " due from " + when(*q.due_after, true, zone);
    else
      what += " due before " + when(*q.due_before, true, zone);
  }
  if (q.has_due) what += *q.has_due ? " with a due date" : " without a due date";
  return what;
}

/// Whether a list answers a yes/no question about whether tasks are done ("have I paid rent?", "did I call
/// mum", "is the report done?"): the parser lists those over open and done tasks (no status) with search
/// words, and its command words open the question.
bool asks_if_done(const Turn& turn) {
  const Reading& r = turn.reading;
  if (!r.query || r.query->status || !r.query->q || r.query->overdue) return false;
  for (const auto& sp : r.spans) {
    if (sp.kind != SpanKind::command) continue;
    const std::string words = lower_ascii(span_text(turn.message, sp));
    return words == "have i" || words == "did i" || words == "is" || words == "are";
  }
  return false;
}

void do_list(Step& s, const Reading& r) {
  const Query q = r.query.value_or(Query{});
  std::vector<std::pair<std::string, std::string>> params;
  if (q.status) params.emplace_back("status", *q.status);
  for (auto p : q.priorities)
    params.emplace_back("priority", std::string(to_string(p)));
  for (const auto& t : q.tags)
    params.emplace_back("tag", t);
  if (q.due_after) params.emplace_back("due_after", format_rfc3339(*q.due_after));
  if (q.due_before) params.emplace_back("due_before", format_rfc3339(*q.due_before));
  if (q.overdue) params.emplace_back("overdue", "true");
  if (q.has_due) params.emplace_back("has_due", *q.has_due ? "true" : "false");
  // A search with no letter or digit ("when is 🎂?", "find 🎂") is no full-text search (the REST API refuses
  // it as `q`): the titles holding it, as a command names a task by a piece of its title.
  const bool by_title = q.q && !tasks::to_prefix_tsquery(*q.q);
  if (q.q && !by_title) params.emplace_back("q", *q.q);
  params.emplace_back("sort", q.q && !by_title ? "rank,due_at" : "due_at");
  params.emplace_back("limit", std::to_string(kListLimit));
  tasks::ListQuery lq;
  try {
    lq = tasks::parse_list_query(params);  // the REST API's validation
  } catch (const Error& e) {
    say(s, "I can't search for that: " + problem_text(e) + ".");
    return;
  }
  // An all-day task is due on its date (in its own zone): it matches when that date is one of the user's days
  // the range covers, wherever its due_at instant falls ("what's due today" in New York lists a Berlin
  // all-day task of today, due at 18:00 the day before there). Timed tasks match by instant.
  auto day_of = [&](Instant t, bool ceil) {
    const auto local = detail::to_local(s.turn.zone, t);
    auto day = std::chrono::floor<date::days>(local);
    if (ceil && local != day) day += date::days(1);
    return date::format("%F", day);
  };
  if (by_title) lq.title_contains = *q.q;
  if (q.due_after) lq.due_after_day = day_of(*q.due_after, false);
  if (q.due_before) lq.due_before_day = day_of(*q.due_before, true);
  const auto page = svc::list(s.w, s.actor.user_id, lq);
  for (const auto& t : page.items)
    add_action(s, "list", t);

  const std::string what = list_what(q, s.turn.zone, date_words(s.turn));
  const std::size_t n = page.items.size();
  if (n > 0 && asks_if_done(s.turn)) {
    // "have I paid rent?", "is the report done?": whether each match is done
    std::size_t done = 0;
    std::string text;
    for (std::size_t i = 0; i < n && i < kTitlesInReply; ++i) {
      const bool is_done = page.items[i].status == Status::done;
      done += is_done ? 1 : 0;
      text += std::string(i ? "; " : "") + in_quotes(page.items[i].title) +
              (page.items[i].due_at ? " (" + due_phrase(page.items[i], s.turn.zone) + ")" : std::string()) +
              (is_done ? " is done" : " is not done yet");
    }
    if (n > kTitlesInReply) text += "; and " + std::to_string(n - kTitlesInReply) + " more";
    say(s, std::string(done == std::min(n, kTitlesInReply) ? "Yes: " : done == 0 ? "No: " : "") + text + ".");
    return;
  }
  if (n == 0) {
    say(s, "You have no " + what + ".");
    return;
  }
  std::string text = "You have " + std::string(page.next_cursor ? "more than " : "") + std::to_string(n) +
                     " " +
                     (n == 1 && !page.next_cursor
                          ? what.substr(0, what.find("tasks")) + "task" + what.substr(what.find("tasks") + 5)
                          : what) +
                     ": ";
  for (std::size_t i = 0; i < n && i < kTitlesInReply; ++i)
    text += (i ? ", " : "") + label(page.items[i], s.turn.zone);
  if (n > kTitlesInReply) text += " and " + std::to_string(n - kTitlesInReply) + " more";
  say(s, text + ".");
}

nlohmann::json opt_instant(const std::optional<Instant>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

/// An occurrence's reminders as they stand ("<id> <updated_at>", oldest first): a reminder added, removed,
/// snoozed or fired since changes it. Edits of reminders do not move the task's version.
nlohmann::json reminders_state(Step& s, const std::string& task_id) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : reminders::list_for_task(s.w, s.actor.user_id, task_id))
    out.push_back(r.id + " " + format_rfc3339(r.updated_at));
  return out;
}

void do_status(Step& s, Task task, Status to) {
  if (task.status == to) {
    say(s, in_quotes(task.title) + (to == Status::done ? " is already done." : " is already open."));
    return;
  }
  // Completing an occurrence of a series creates the next one(s): remembered, so that undo removes them too,
  // with the series' record of its highest occurrence before them, which undo sets back. Under the series
  // lock (the completion takes it again), so that no other transaction's occurrence is taken for one of
  // these.
  std::vector<std::string> before;
  nlohmann::json series_before;
  if (to == Status::done && task.series_id) {
    tasks::repository::lock_series(s.w, s.actor.user_id, *task.series_id);
    for (const auto& o : tasks::repository::series_tasks(s.w, s.actor.user_id, *task.series_id))
      before.push_back(o.id);
    if (const auto high = tasks::repository::series_highest(s.w, s.actor.user_id, *task.series_id))
      series_before = {{"occurrence", high->occurrence}, {"due_at", opt_instant(high->due_at)}};
  }
  const Task t =
      to == Status::done ? svc::complete(s.w, s.actor, task.id) : svc::reopen(s.w, s.actor, task.id);
  nlohmann::json created = nlohmann::json::array();
  if (to == Status::done && task.series_id)
    for (const auto& o : tasks::repository::series_tasks(s.w, s.actor.user_id, *task.series_id))
      if (std::find(before.begin(), before.end(), o.id) == before.end())
        created.push_back({{"id", o.id}, {"version", o.version}, {"reminders", reminders_state(s, o.id)}});
  const char* type = to == Status::done ? "complete" : "reopen";
  add_action(s, type, t);
  nlohmann::json entry = {{"type", type},
                          {"task_id", t.id},
                          {"version", t.version},
                          {"version_before", task.version},
                          {"title", t.title}};
  if (!created.empty()) {
    entry["created"] = std::move(created);
    entry["series_id"] = *task.series_id;
    if (!series_before.is_null()) entry["series_before"] = std::move(series_before);
  }
  push_undo(s, std::move(entry));
  say(s, to == Status::done ? "Marked " + in_quotes(t.title) + " as done."
                            : "Reopened " + in_quotes(t.title) + ".");
}

/// Applies `patch` (a PATCH body) to the task with the REST API's validation and version check, records the
/// previous values for undo and says `done`.
void do_patch(Step& s, const Task& task, const nlohmann::json& patch, const nlohmann::json& before,
              const std::string& done) {
  tasks::TaskPatch p;
  try {
    p = tasks::parse_task_patch(patch);
  } catch (const Error& e) {
    say(s, "I can't change " + in_quotes(task.title) + ": " + problem_text(e) + ".");
    return;
  }
  Task t;
  try {
    t = svc::update(s.w, s.actor, task.id, p, task.version);  // also checks a rule against the due date
  } catch (const Error& e) {
    if (e.code() != Errc::unprocessable) throw;
    say(s, "I can't change " + in_quotes(task.title) + ": " + problem_text(e) + ".");
    return;
  }
  add_action(s, "update", t, {{"changes", patch}});
  push_undo(s, {{"type", "update"},
                {"task_id", t.id},
                {"version", t.version},
                {"version_before", task.version},
                {"title", t.title},
                {"before", before}});
  say(s, done);
}

/// The local day of `day_of` at the local time of day of `time_of`, both as the user sees them in `zone`:
/// "move X to friday" keeps X's 15:00 on the user's Friday. (With the day in the user's zone and the time in
/// the task's, a Tokyo user's New York task moved to Friday landed on Saturday.) The day is read in
/// `day_of_zone` when given: an all-day task's day is its date in its own timezone (day_zone).
Instant day_at_time(Instant day_of, Instant time_of, const date::time_zone* zone,
                    const date::time_zone* day_of_zone = nullptr) {
  const auto seconds = [](Instant i) { return std::chrono::floor<std::chrono::seconds>(i); };
  const auto day = std::chrono::floor<date::days>(detail::to_local(day_of_zone ? day_of_zone : zone, day_of));
  const auto local = detail::to_local(zone, time_of);
  const auto of_day = local - std::chrono::floor<date::days>(local);
  const auto minute = std::chrono::floor<std::chrono::minutes>(of_day);
  return detail::wall_to_instant(zone, day, static_cast<int>(minute.count())) + (of_day - minute) +
         (time_of - seconds(time_of));
}

bool by_the_clock(const Shift& shift) {
  return shift.unit == Shift::Unit::minute || shift.unit == Shift::Unit::hour;
}

/// "2 days later", "1 hour earlier".
std::string shift_phrase(const Shift& shift) {
  static constexpr const char* kUnits[] = {"minute", "hour", "day", "week", "month", "year"};
  return plural(std::abs(shift.count), kUnits[static_cast<std::size_t>(shift.unit)]) +
         (shift.count < 0 ? " earlier" : " later");
}

/// `due` moved by `shift`: days, weeks, months and years on the calendar in `zone`, the wall time of day kept
/// (also across a DST change; a skipped one moves forward by the gap) and a month's end clamped (Jan 31 + 1
/// month = Feb 28); hours and minutes as elapsed time.
Instant shifted(Instant due, const Shift& shift, const date::time_zone* zone) {
  const long long n = shift.count;
  switch (shift.unit) {
    case Shift::Unit::minute:
      return due + std::chrono::minutes(n);
    case Shift::Unit::hour:
      return due + std::chrono::hours(n);
    default:
      break;
  }
  const auto day = std::chrono::floor<date::days>(detail::to_local(zone, due));
  const date::local_days to =
      shift.unit == Shift::Unit::day ? day + date::days(n)
      : shift.unit == Shift::Unit::week
          ? day + date::days(7 * n)
          : detail::add_months(day, static_cast<int>(shift.unit == Shift::Unit::month ? n : 12 * n));
  return day_at_time(detail::wall_to_instant(zone, to, 0), due, zone);
}

void do_update(Step& s, const Reading& r, const Task& task) {
  nlohmann::json patch = nlohmann::json::object(), before = nlohmann::json::object();
  std::vector<std::string> said;
  if (!r.title.empty() && r.title != task.title) {
    patch["title"] = r.title;
    before["title"] = task.title;
    said.push_back("renamed it to " + in_quotes(r.title));
  }
  std::optional<Instant> due = r.due_at;
  bool all_day = r.all_day;
  std::string by;  // " (2 days later)": a move by an amount
  if (r.shift) {
    // "postpone the report by 2 days": from its due date, in the task's own zone
    if (!task.due_at) {
      ask(s, in_quotes(task.title) + " has no due date to move; say when, e.g. \u201cmove " + task.title +
                 " to friday\u201d.");
      return;
    }
    if (task.all_day && by_the_clock(*r.shift)) {
      ask(s, in_quotes(task.title) + " is due all day (" + due_phrase(task, s.turn.zone) +
                 "), with no time of day to move by " + shift_phrase(*r.shift) +
                 "; give it a time first, e.g. \u201cmove " + task.title +
                 " to 3pm\u201d, or move it by days. Nothing changed.");
      return;
    }
    due = shifted(*task.due_at, *r.shift, own_zone(task, s.turn.zone));
    all_day = task.all_day;
    if (!in_rfc3339_range(*due)) {
      say(s, "I can't move " + in_quotes(task.title) + " " + shift_phrase(*r.shift) +
                 ": that is outside the years 1 to 9999. Nothing changed.");
      return;
    }
    by = " (" + shift_phrase(*r.shift) + ")";
  } else if (due && all_day && task.due_at && !task.all_day) {
    // a date alone keeps a timed task's time of day
    due = day_at_time(*due, *task.due_at, s.turn.zone);
    all_day = false;
  } else if (due && !all_day && task.due_at && s.time_only) {  // and a time alone keeps the task's day
    due = day_at_time(*task.due_at, *due, s.turn.zone, day_zone(task, s.turn.zone));
  } else if (due && all_day && task.all_day) {  // the user's date, as a day in the task's timezone
    due = detail::wall_to_instant(day_zone(task, s.turn.zone),
                                  std::chrono::floor<date::days>(detail::to_local(s.turn.zone, *due)), 0);
  }
  if (due && (due != task.due_at || all_day != task.all_day)) {
    patch["due_at"] = format_rfc3339(*due);
    patch["all_day"] = all_day;
    before["due_at"] = opt_instant(task.due_at);
    before["all_day"] = task.all_day;
    said.push_back("moved it to " + when(*due, all_day, all_day ? day_zone(task, s.turn.zone) : s.turn.zone) +
                   by);
  }
  if (r.priority && static_cast<int>(*r.priority) != static_cast<int>(task.priority)) {
    patch["priority"] = std::string(to_string(*r.priority));
    before["priority"] = std::string(tasks::to_string(task.priority));
    said.push_back("set its priority to " + std::string(to_string(*r.priority)));
  }
  if (!r.tags.empty()) {
    std::vector<std::string> tags = task.tags;
    for (const auto& t : r.tags)
      if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
    if (tags != task.tags) {
      patch["tags"] = tags;
      before["tags"] = task.tags;
      said.push_back("tagged it " + [&] {
        std::string out;
        for (const auto& t : r.tags)
          out += (out.empty() ? "#" : " #") + t;
        return out;
      }());
    }
  }
  if (r.recurrence && r.recurrence != task.recurrence) {
    patch["recurrence"] = *r.recurrence;
    patch["recurrence_mode"] = mode_name(r.recurrence_mode);
    before["recurrence"] = task.recurrence ? nlohmann::json(*task.recurrence) : nlohmann::json(nullptr);
    before["recurrence_mode"] = std::string(tasks::to_string(task.recurrence_mode));
    said.push_back("made it repeat (" + *r.recurrence + ")");
  }
  if (patch.empty()) {
    say(s, in_quotes(task.title) + " already is like that; nothing changed.");
    return;
  }
  std::string text;
  for (std::size_t i = 0; i < said.size(); ++i)
    text += (i == 0 ? "" : i + 1 == said.size() ? " and " : ", ") + said[i];
  do_patch(s, task, patch, before, "Updated " + in_quotes(task.title) + ": " + text + ".");
}

void do_recurring(Step& s, const Reading& r, const Task& task, bool make) {
  if (!make) {
    if (!task.recurrence) {
      say(s, in_quotes(task.title) + " does not repeat.");
      return;
    }
    do_patch(s, task, {{"recurrence", nullptr}}, {{"recurrence", *task.recurrence}},
             in_quotes(task.title) + " no longer repeats.");
    return;
  }
  if (!r.recurrence) {
    ask(s, "How often should " + in_quotes(task.title) + " repeat? For example \u201cmake " + task.title +
               " recurring every Monday\u201d.");
    return;
  }
  if (!task.due_at && !r.due_at) {
    ask(s, "When is the first " + in_quotes(task.title) +
               " due? A repeating task needs a due date, for example "
               "\u201cmake " +
               task.title + " recurring every Monday at 9am\u201d.");
    return;
  }
  // The first occurrence: the reading's when the task has no date; else the day and time the message gives
  // ("every friday at 10am" on a task due Wednesday 16:00 → the next Friday 10:00), each part it does not
  // give taken from the task ("every monday" keeps its 16:00, "daily at 7am" its date). The rule runs in the
  // task's own timezone, which counts its days and its time of day: the day and the time said are read there
  // ("every friday at 10am" from Tokyo on a Los Angeles task is Friday 10:00 in Los Angeles; read in Tokyo,
  // it was Thursday 17:00 there, a first occurrence on a Thursday before Fridays at 17:00).
  const auto* zone = own_zone(task, s.turn.zone);
  const auto there = [&](Instant said, bool day_only) {  // the user's day (and time) said, in `zone`
    if (zone == s.turn.zone && !day_only) return said;
    const auto local = detail::to_local(s.turn.zone, said);
    const auto day = std::chrono::floor<date::days>(local);
    const auto minute = std::chrono::floor<std::chrono::minutes>(local - day);
    return detail::wall_to_instant(zone, day, day_only ? 0 : static_cast<int>(minute.count()));
  };
  // A timed task of another zone: said there, where its rule's days are ("every friday": Friday there), the
  // zone named ("Fri, Dec 11, 8:00 PM (America/Los_Angeles)"); an all-day one's day is its zone's.
  const auto when_there = [&](Instant t, bool whole_day) {
    const bool elsewhere = !whole_day && zone != s.turn.zone;
    return when(t, whole_day, whole_day || elsewhere ? zone : s.turn.zone) +
           (elsewhere ? " (" + task.timezone + ")" : std::string());
  };
  std::optional<Instant> first = task.due_at;
  bool all_day = task.all_day;
  // The first occurrence came from the day (and time) said: one that has passed is the rule's next one.
  bool said_there = false;
  if (r.due_at && !task.due_at) {
    first = there(*r.due_at, r.all_day);
    all_day = r.all_day;
    said_there = !r.all_day && zone != s.turn.zone;
  } else if (r.due_at) {
    const std::string& rule = *r.recurrence;
    bool names_day = rule.find("BYDAY=") != std::string::npos ||
                     rule.find("BYMONTHDAY=") != std::string::npos ||
                     rule.find("BYMONTH=") != std::string::npos;
    for (const auto& sp : r.spans)
      names_day = names_day || sp.kind == SpanKind::date;
    if (names_day && !r.all_day) {
      first = there(*r.due_at, false);
      all_day = false;
      said_there = zone != s.turn.zone;
    } else if (names_day && task.all_day) {
      // the day said ("every friday": the user's next Friday), as that day in the all-day task's own timezone
      first = there(*r.due_at, true);
    } else if (names_day) {
      // the day said (the user's next Friday) at the task's time of day, both in the task's own timezone,
      // where the rule's days are counted: the first occurrence on the weekday of all the others ("every
      // monday" said on a Monday after the task's 16:00: the next Monday 16:00)
      first = day_at_time(*r.due_at, *task.due_at, zone, s.turn.zone);
      said_there = true;
    } else if (!r.all_day) {
      // the task's day there at the time said there
      const auto local = detail::to_local(s.turn.zone, *r.due_at);
      const auto minute =
          std::chrono::floor<std::chrono::minutes>(local - std::chrono::floor<date::days>(local));
      first =
          detail::wall_to_instant(zone, std::chrono::floor<date::days>(detail::to_local(zone, *task.due_at)),
                                  static_cast<int>(minute.count()));
      all_day = false;
    }
  }
  // A time said that has passed where it is read ("every monday at 3pm" from Los Angeles on a Tokyo task,
  // Monday 15:00 in Tokyo being Sunday evening in Los Angeles), or a day said whose time of day, the task's,
  // has passed today: the rule's next occurrence there, as a time passed in the user's own zone is the
  // parser's next one
  if (said_there && first && *first < s.turn.now) {
    try {
      first = recurrence::next_after(recurrence::parse(*r.recurrence), *first, zone->name(), s.turn.now)
                  .value_or(*first);
    } catch (const std::exception&) {  // a rule the task service refuses says so below
    }
  }
  if (r.due_at && !all_day && first != task.due_at &&
      *first < s.turn.now) {  // a part from the task made it past
    ask(s, "When is the first " + in_quotes(task.title) + " due? " + when_there(*first, false) +
               " has passed; say it with the day and the time, for example \u201cmake " + task.title +
               " recurring every Monday at 9am\u201d.");
    return;
  }
  nlohmann::json patch = {{"recurrence", *r.recurrence}, {"recurrence_mode", mode_name(r.recurrence_mode)}};
  nlohmann::json before = {
      {"recurrence", task.recurrence ? nlohmann::json(*task.recurrence) : nlohmann::json(nullptr)},
      {"recurrence_mode", std::string(tasks::to_string(task.recurrence_mode))}};
  const bool moved = first != task.due_at || all_day != task.all_day;
  if (moved) {
    patch["due_at"] = format_rfc3339(*first);
    patch["all_day"] = all_day;
    before["due_at"] = opt_instant(task.due_at);
    before["all_day"] = task.all_day;
  }
  std::string text = in_quotes(task.title) + " now repeats";
  if (r.recurrence_mode == RecurrenceMode::after_completion) text += " after each completion";
  text += " (" + *r.recurrence + ")";
  if (moved) {
    const bool elsewhere = !all_day && zone != s.turn.zone;
    text += ", first due " + when_there(*first, all_day);
    if (elsewhere && r.due_at && !r.all_day)  // the time said was read there, not in the user's zone
      text += ". The time is " + task.timezone + "'s, the task's time zone, where it repeats";
  }
  do_patch(s, task, patch, before, text + ".");
}

/// The reminders of a task that undoing its delete re-creates: relative ones, and absolute ones still to
/// come.
nlohmann::json kept_reminders(Step& s, const std::string& task_id) {
  nlohmann::json kept = nlohmann::json::array();
  const auto now = std::chrono::system_clock::now();
  for (const auto& rem : reminders::list_for_task(s.w, s.actor.user_id, task_id)) {
    // Snoozed to a time still to come: it comes back snoozed to it, also when its own time has passed.
    const bool snoozed = rem.snoozed && rem.state == "scheduled" && rem.fire_at && *rem.fire_at > now;
    nlohmann::json k;
    if (rem.before_due)
      k = {{"before_due", *rem.before_due}};
    else if (rem.at && (*rem.at > now || snoozed))
      k = {{"at", format_rfc3339(*rem.at)}};
    else
      continue;
    if (snoozed) k["snoozed_until"] = format_rfc3339(*rem.fire_at);
    k["id"] = rem.id;  // the old id, which an add_reminder entry below may name (restored())
    kept.push_back(std::move(k));
  }
  return kept;
}

/// A series' record of its highest occurrence in an undo entry ({occurrence, due_at}), or nothing.
std::optional<tasks::repository::SeriesHighest> highest_of(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  tasks::repository::SeriesHighest out;
  out.occurrence = j.value("occurrence", 0);
  if (j.contains("due_at") && j["due_at"].is_string())
    out.due_at = parse_rfc3339(j["due_at"].get<std::string>());
  return out;
}

/// Asks before deleting `task`; "yes" deletes it as it is now (do_delete with its version).
void ask_delete(Step& s, const Task& task, const std::string& lead = {}) {
  ask(s, lead + "Delete " + in_quotes(label(task, s.turn.zone)) + "?", {"yes", "no"},
      {{"kind", "confirm"}, {"task_id", task.id}, {"title", task.title}, {"version", task.version}});
}

/// Deletes the task the user said yes to; `asked_version`, the version the question showed (0: none kept): a
/// task changed since (renamed, moved elsewhere) is asked about again as it is now, not deleted unseen.
void do_delete(Step& s, const std::string& task_id, std::int64_t asked_version = 0) {
  auto locked = lock_task(s, task_id);
  if (!locked) {
    say(s, "That task no longer exists.");
    return;
  }
  Task t = std::move(*locked);
  if (asked_version != 0 && t.version != asked_version) {
    ask_delete(s, t, "It was changed since I asked. ");
    return;
  }
  // A repeating task is one task to the person saying "delete": the series ends (its open occurrences go, the
  // done ones keep their history), where skipping this occurrence alone would leave the next one standing.
  const bool series = t.series_id && t.recurrence;
  nlohmann::json entry = {{"type", "delete"}, {"title", t.title}};
  if (series) {
    // Undo re-creates every occurrence the delete removes, each with its own fields, number, anchor and
    // reminders, and the series' record of its highest occurrence: read under the series lock (lock_task),
    // which the delete takes again.
    nlohmann::json removed = nlohmann::json::array();
    for (const auto& o : tasks::repository::series_tasks(s.w, s.actor.user_id, *t.series_id))
      if (o.status == Status::open || o.id == t.id)  // the task named, done or not, and the open ones
        removed.push_back({{"task", tasks::to_json(o)},
                           {"series_start", opt_instant(o.series_start)},
                           {"reminders", kept_reminders(s, o.id)}});
    entry["series"] = std::move(removed);
    if (const auto high = tasks::repository::series_highest(s.w, s.actor.user_id, *t.series_id))
      entry["series_highest"] = {{"occurrence", high->occurrence}, {"due_at", opt_instant(high->due_at)}};
  } else {
    entry["reminders"] = kept_reminders(s, t.id);
  }
  entry["task"] = tasks::to_json(t);
  svc::remove(s.w, s.actor, t.id, t.version, series ? tasks::Scope::series : tasks::Scope::this_occurrence);
  add_action(s, "delete", t);
  push_undo(s, std::move(entry));
  say(s, "Deleted " + in_quotes(t.title) + (series ? " and its repetitions" : "") +
             ". Say \u201cundo\u201d to bring it back.");
}

/// Carries out `op` on the task found for it, as that task is now (lock_task): one deleted since it was found
/// is gone, one changed since (by another device) is acted on with its changes, never refused for them.
void perform(Step& s, const Reading& op, const Task& found) {
  auto locked = lock_task(s, found.id);
  if (!locked) {
    say(s, "That task no longer exists.");
    return;
  }
  Task task = std::move(*locked);
  switch (op.intent) {
    case Intent::complete:
      do_status(s, std::move(task), Status::done);
      return;
    case Intent::reopen:
      do_status(s, std::move(task), Status::open);
      return;
    case Intent::remove:
      ask_delete(s, task);
      return;
    case Intent::update:
      do_update(s, op, task);
      return;
    case Intent::make_recurring:
    case Intent::stop_recurring:
      do_recurring(s, op, task, op.intent == Intent::make_recurring);
      return;
    case Intent::add_reminder:
      do_add_reminder(s, op, task);
      return;
    default:
      say(s, "I can't do that with " + in_quotes(task.title) + ".");
  }
}

// ---- undo
// ---------------------------------------------------------------------------------------------------

/// The id of the task an undo entry is about (a delete's snapshot, or task_id).
std::string entry_task_id(const nlohmann::json& e) {
  return e.contains("task") ? e["task"].value("id", std::string()) : e.value("task_id", std::string());
}

/// After the undo of `entry` was refused (its task changed elsewhere since, or gone), the conversation's
/// earlier changes to that task leave the stack with it: undoing them would go back across that change (or
/// find no task), and each "undo" refused the same way in turn. The words saying so, or "".
std::string drop_earlier(Step& s, const nlohmann::json& entry) {
  const std::string id = entry_task_id(entry);
  nlohmann::json kept = nlohmann::json::array();
  long dropped = 0;
  for (auto& e : s.c.actions) {
    if (!id.empty() && entry_task_id(e) == id)
      ++dropped;
    else
      kept.push_back(std::move(e));
  }
  s.c.actions = std::move(kept);
  if (dropped == 0) return "";
  return " Its " + plural(dropped, "earlier change") +
         " in this conversation can't be undone either, so \u201cundo\u201d now goes back to the one "
         "before.";
}

std::optional<Task> find_task(Step& s, const nlohmann::json& entry) {
  auto t = lock_task(s, entry.value("task_id", std::string()));
  if (!t)
    say(s, "I can't undo that: " + in_quotes(entry.value("title", std::string("the task"))) +
               " no longer exists." + drop_earlier(s, entry));
  return t;
}

/// After undoing `entry` (which moved its task from version `before` through `entry`'s change to `after`),
/// the task is as it was at `before`: the entry below it for the same task, if it expects `before`, now
/// expects `after`. When a delete was undone by re-creating the task, every entry below for it takes the new
/// id, so that undoing them walks on back through the task's history; the entry right below that expects
/// another version (the task was changed elsewhere between it and the delete) then expects none the task can
/// have (0), so that its undo is refused as "changed since", as it is without the delete and its undo: the
/// re-created task's own version 1 must not pass for the one it expected.
void rebase(Step& s, const std::string& old_id, int before, const std::string& new_id, int after) {
  bool below = true;  // the entry right below, for this task: its version moves too
  for (auto it = s.c.actions.rbegin(); it != s.c.actions.rend(); ++it) {
    const bool snapshot = (*it).contains("task");
    if (entry_task_id(*it) != old_id) continue;
    if (below) {
      below = false;
      nlohmann::json& holder = snapshot ? (*it)["task"] : *it;
      if (holder.value("version", 0) == before)
        holder["version"] = after;
      else if (new_id == old_id)
        return;
      else
        holder["version"] = 0;
    }
    (snapshot ? (*it)["task"]["id"] : (*it)["task_id"]) = new_id;
    if (new_id == old_id) return;
  }
}

/// After an undo gave task `id` back the state it had at version `before` (now as version `after`), the
/// completion that created it, further down, still finds it as created: "done", "done", "undo", "undo" on a
/// daily task left its second occurrence open ("changed since").
void rebase_created(Step& s, const std::string& id, int before, int after) {
  for (auto& e : s.c.actions)
    if (e.contains("created"))
      for (auto& c : e["created"])
        if (c.value("id", std::string()) == id && c.value("version", 0) == before) c["version"] = after;
}

/// " (a, b)" of the tasks' labels.
std::string labels(Step& s, const std::vector<Task>& tasks) {
  std::string out;
  for (std::size_t i = 0; i < tasks.size(); ++i)
    out += (i == 0 ? "" : ", ") + in_quotes(label(tasks[i], s.turn.zone));
  return " (" + out + ")";
}

/// Undoing a completion: takes back the next occurrences it created (entry["created"]) that are still as they
/// were created (open, same version, same reminders), as if they had never been: not as a skip, so completing
/// again creates them again (service::withdraw). One changed since is kept, and so is one the series went on
/// past (a later occurrence created or skipped since: taken back, its date was lost for good). The reply's
/// words about those kept, or "".
std::string remove_created(Step& s, const nlohmann::json& entry) {
  std::vector<Task> changed;
  std::vector<std::pair<std::string, int>> untouched;
  std::string series_id = entry.value("series_id", std::string());
  for (const auto& c : entry.value("created", nlohmann::json::array())) {
    const auto o = tasks::repository::find(s.w, s.actor.user_id, c.value("id", std::string()));
    if (!o) continue;  // deleted meanwhile
    if (o->status != Status::open || o->version != c.value("version", 0) ||
        (c.contains("reminders") && c["reminders"] != reminders_state(s, o->id))) {
      changed.push_back(*o);
      continue;
    }
    untouched.emplace_back(o->id, o->version);
    if (series_id.empty() && o->series_id) series_id = *o->series_id;  // an entry stored before series_id
  }
  std::vector<Task> passed;
  if (!untouched.empty()) {
    const auto before = highest_of(entry.value("series_before", nlohmann::json()));
    auto done = svc::withdraw(s.w, s.actor, series_id, untouched, before);
    for (const auto& o : done.withdrawn)
      add_action(s, "delete", o);
    passed = std::move(done.passed);
  }
  std::string out;
  if (!changed.empty())
    out += " The next occurrence it created" + labels(s, changed) + " was changed since, so I kept it.";
  if (!passed.empty())
    out += " The next occurrence it created" + labels(s, passed) +
           " stays: the series went on past it since, and its date would be lost.";
  return out;
}

/// The create body that re-creates a deleted task from its snapshot (tasks::to_json).
nlohmann::json creation_of(const nlohmann::json& snap) {
  nlohmann::json body = nlohmann::json::object();
  for (const char* k : {"title", "description", "status", "priority", "tags", "due_at", "all_day", "timezone",
                        "recurrence", "recurrence_mode", "generate_ahead"})
    if (snap.contains(k)) body[k] = snap[k];
  // A task without a rule takes no series settings (a 422): one whose series ended keeps those it had.
  if (!body.contains("recurrence") || body["recurrence"].is_null()) {
    body.erase("recurrence_mode");
    body.erase("generate_ahead");
  }
  return body;
}

/// After `t` re-created the deleted task `snap`: its reminders back (missed when their time has passed
/// meanwhile: they never fire late), the entries below that name the deleted one follow the new one (an
/// add_reminder entry the re-created reminders' new ids, so that undoing it removes them), and the action.
void restored(Step& s, const nlohmann::json& snap, const Task& t, const nlohmann::json& reminders) {
  std::map<std::string, std::string> new_ids;  // old reminder id → the re-created one's
  for (const auto& kept : reminders) {
    nlohmann::json rem = kept;
    std::optional<Instant> snoozed_until;
    if (rem.contains("snoozed_until") && rem["snoozed_until"].is_string())
      snoozed_until = parse_rfc3339(rem["snoozed_until"].get<std::string>());
    const std::string old_reminder = rem.value("id", std::string());
    rem.erase("snoozed_until");
    rem.erase("id");
    const auto back =
        reminders::restore(s.w, s.actor.user_id, t.id, reminders::parse_new_reminder(rem), snoozed_until);
    if (!old_reminder.empty()) new_ids[old_reminder] = back.id;
  }
  const std::string old_id = snap.value("id", std::string());
  rebase(s, old_id, snap.value("version", 0), t.id, t.version);
  for (auto& e : s.c.actions)
    if (e.value("type", std::string()) == "add_reminder" && e.value("task_id", std::string()) == t.id &&
        e.contains("reminder_ids"))
      for (auto& id : e["reminder_ids"])
        if (const auto it = new_ids.find(id.is_string() ? id.get<std::string>() : std::string());
            it != new_ids.end())
          id = it->second;
  for (auto& e : s.c.actions)  // a completion below that created it: undoing it finds it as created
    if (e.contains("created"))
      for (auto& c : e["created"])
        if (c.value("id", std::string()) == old_id && c.value("version", 0) == snap.value("version", 0))
          c = {{"id", t.id}, {"version", t.version}, {"reminders", reminders_state(s, t.id)}};
  add_action(s, "create", t, {{"previous_id", old_id}});
}

/// Undoing the delete of a repeating task: every occurrence it removed comes back, by number, as a new
/// task with its own fields and reminders, in one new series that keeps the deleted one's record of its
/// highest occurrence. (Re-created one by one, each before the next exists, so that a relative reminder
/// re-created on one is not also added to the later ones.)
void restore_series(Step& s, const nlohmann::json& entry) {
  const auto highest = highest_of(entry.value("series_highest", nlohmann::json()));
  std::optional<std::string> series_id;
  std::string title = entry.value("title", std::string());
  std::size_t count = 0;
  for (const auto& item : entry.at("series")) {
    const nlohmann::json& snap = item.at("task");
    const auto request = tasks::parse_new_task(creation_of(snap));
    std::optional<Instant> start;
    if (item.contains("series_start") && item["series_start"].is_string())
      start = parse_rfc3339(item["series_start"].get<std::string>());
    if (!start) start = request.due_at;
    const Task t = svc::restore_occurrence(s.w, s.actor, request, series_id, snap.value("occurrence", 0),
                                           start.value_or(Instant{}), highest);
    if (!series_id) series_id = t.series_id;
    restored(s, snap, t, item.value("reminders", nlohmann::json::array()));
    ++count;
  }
  say(s, "Undone: restored " + in_quotes(title) +
             (count > 1 ? " and its repetitions (" + std::to_string(count) + " occurrences, as new tasks"
                        : std::string(" (as a new task")) +
             " with new ids).");
}

void do_undo(Step& s) {
  if (s.c.actions.empty()) {
    say(s, "There is nothing to undo in this conversation.");
    return;
  }
  const nlohmann::json entry = s.c.actions.back();
  s.c.actions.erase(s.c.actions.size() - 1);
  const std::string type = entry.value("type", std::string());
  const std::string title = entry.value("title", std::string());
  try {
    if (type == "create") {
      auto t = find_task(s, entry);
      if (!t) return;
      // A repeating task goes with its series, as a delete does; skipping this occurrence alone would leave
      // the next one standing.
      const bool series = t->series_id && t->recurrence;
      svc::remove(s.w, s.actor, t->id, entry.value("version", 0),
                  series ? tasks::Scope::series : tasks::Scope::this_occurrence);
      add_action(s, "delete", *t);
      say(s, "Undone: removed " + in_quotes(t->title) + (series ? " and its repetitions" : "") + " again.");
    } else if (type == "complete" || type == "reopen") {
      auto t = find_task(s, entry);
      if (!t) return;
      const bool reopen = type == "complete";
      // Only as the completion (or reopening) left it, as an update's undo: a task changed since (reopened,
      // renamed, moved elsewhere) is a conflict, "changed since", and stays as it is.
      const std::int64_t expected = entry.value("version", 0);
      const Task u =
          reopen ? svc::reopen(s.w, s.actor, t->id, expected) : svc::complete(s.w, s.actor, t->id, expected);
      rebase(s, t->id, entry.value("version_before", 0), t->id, u.version);
      rebase_created(s, t->id, entry.value("version_before", 0), u.version);
      add_action(s, reopen ? "reopen" : "complete", u);
      const std::string kept = reopen ? remove_created(s, entry) : std::string();
      say(s, "Undone: " + in_quotes(u.title) + (reopen ? " is open again." : " is done again.") + kept);
    } else if (type == "delete" && entry.contains("series")) {
      restore_series(s, entry);
    } else if (type == "delete") {
      const nlohmann::json& snap = entry.at("task");
      const Task t = svc::create(s.w, s.actor, tasks::parse_new_task(creation_of(snap)));
      restored(s, snap, t, entry.value("reminders", nlohmann::json::array()));
      say(s, "Undone: restored " + in_quotes(t.title) + " (as a new task with a new id).");
    } else if (type == "add_reminder") {
      auto t = find_task(s, entry);
      if (!t) return;
      int removed = 0;
      for (const auto& id : entry.value("reminder_ids", nlohmann::json::array())) {
        try {
          reminders::remove(s.w, s.actor.user_id, t->id, id.get<std::string>());
          ++removed;
        } catch (const Error& e) {
          if (e.code() != Errc::not_found) throw;  // deleted meanwhile
        }
      }
      add_action(s, "remove_reminder", *t,
                 {{"reminder_ids", entry.value("reminder_ids", nlohmann::json::array())}});
      say(s, removed == 0 ? "That reminder on " + in_quotes(t->title) + " was already removed."
                          : "Undone: removed the reminder" + std::string(removed == 1 ? "" : "s") + " from " +
                                in_quotes(t->title) + ".");
    } else if (type == "update") {
      auto t = find_task(s, entry);
      if (!t) return;
      const auto patch = tasks::parse_task_patch(entry.at("before"));
      const Task u = svc::update(s.w, s.actor, t->id, patch, entry.value("version", 0));
      rebase(s, t->id, entry.value("version_before", 0), t->id, u.version);
      add_action(s, "update", u, {{"changes", entry.at("before")}});
      say(s, "Undone: " + in_quotes(u.title) + " is back as it was.");
    } else {
      say(s, "There is nothing to undo in this conversation.");
    }
  } catch (const Error& e) {
    if (e.code() != Errc::conflict) throw;
    say(s, "I can't undo that: " + in_quotes(title) + " was changed since, so I left it as it is." +
               drop_earlier(s, entry));
  }
}

// ---- questions
// ----------------------------------------------------------------------------------------------

/// The message as an answer: without the spaces around it and the full stops, "!" and "?" that end it.
std::string_view answer_words(const Turn& turn) {
  std::string_view m = trim(turn.message);
  while (!m.empty() && (m.back() == '.' || m.back() == '!' || m.back() == '?'))
    m.remove_suffix(1);
  return m;
}

/// Whether the message is a bare name, which the dialog would add as a task: read as a create without any
/// command word ("add", "remind me to").
bool bare_name(const Turn& turn) {
  if (turn.reading.intent != Intent::create || answer_words(turn).empty()) return false;
  return std::none_of(turn.reading.spans.begin(), turn.reading.spans.end(),
                      [](const Span& sp) { return sp.kind == SpanKind::command; });
}

/// The choice a message makes among `count` options: "2", "#2", "the second one", or an option's title.
std::optional<int> chosen(const Turn& turn, const nlohmann::json& candidates, const nlohmann::json& options) {
  const Reading& r = turn.reading;
  const int count = static_cast<int>(candidates.size());
  if (r.intent == Intent::select && r.index) return *r.index == -1 ? count : *r.index;
  std::string_view m = answer_words(turn);
  if (!m.empty() && m.front() == '#') m.remove_prefix(1);
  // "-1" is the last option, as "the last one" is; another negative number is out of range (asked again).
  const bool negative = !m.empty() && m.front() == '-';
  if (negative) m.remove_prefix(1);
  if (!m.empty() && m.size() <= 3 &&
      std::all_of(m.begin(), m.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const int n = std::stoi(std::string(m));
    return negative ? (n == 1 ? count : 0) : n;
  }
  if (negative) return std::nullopt;
  // An option's own text (what a client sends back when one is clicked) chooses it, also when another
  // candidate has the same title ("pay invoice" beside "pay invoice (Sun, Dec 20, 10:00 AM)"): as written
  // first ("Call Anna" beside "call anna"), then case aside; else a candidate's title, when only one has it.
  std::optional<int> exact, by_option, by_title;
  int exact_matched = 0, options_matched = 0, titles_matched = 0;
  for (int i = 0; i < count; ++i) {
    if (i < static_cast<int>(options.size()) && options[i].is_string()) {
      const std::string& option = options[i].get_ref<const std::string&>();
      if (trim(option) == m) {
        ++exact_matched;
        exact = i + 1;
      }
      if (same_title(m, option)) {
        ++options_matched;
        by_option = i + 1;
      }
    }
    if (same_title(m, candidates[i].value("title", std::string()))) {
      ++titles_matched;
      by_title = i + 1;
    }
  }
  if (exact_matched == 1) return exact;
  if (options_matched == 1) return by_option;
  if (options_matched == 0 && titles_matched == 1) return by_title;
  return std::nullopt;  // several with this text: it does not choose
}

void clarify(Step& s);

/// The intents that act on an existing task, named by the reading's target.
bool names_a_task(Intent i) {
  return i == Intent::complete || i == Intent::reopen || i == Intent::remove || i == Intent::update ||
         i == Intent::make_recurring || i == Intent::stop_recurring || i == Intent::add_reminder;
}

/// Carries out a reading the dialog is sure of (or one the user said yes to).
void act(Step& s, const Reading& r) {
  if (names_a_task(r.intent)) {
    resolve_and_perform(s, r);
    return;
  }
  switch (r.intent) {
    case Intent::create:
      do_create(s, r);
      break;
    case Intent::list:
      do_list(s, r);
      break;
    case Intent::undo:
      do_undo(s);
      break;
    case Intent::help:
      say(s, help_text());
      break;
    case Intent::confirm:
    case Intent::deny:
    case Intent::select:
      say(s, "There is no open question in this conversation. " +
                 std::string("Say \u201chelp\u201d to see what I can do."));
      break;
    default:  // unknown
      clarify(s);
      break;
  }
}

/// Handles the message as the answer to the open question; false when it is not one (the question is then
/// dropped and the message handled on its own).
bool answer_pending(Step& s) {
  if (s.c.pending.is_null()) return false;
  const nlohmann::json pending = std::move(s.c.pending);
  s.c.pending = nullptr;
  s.time_only = pending.value("time_only", false);
  const Reading& r = s.turn.reading;
  const std::string kind = pending.value("kind", std::string());
  const bool answer_like =
      r.intent == Intent::confirm || r.intent == Intent::deny || r.intent == Intent::select;
  // The open question asked again, after `lead`; it stays open.
  const auto ask_again = [&](const std::string& lead) {
    const nlohmann::json asked = pending.value("options", nlohmann::json::array());
    std::vector<std::string> opts;
    for (const auto& o : asked)
      if (o.is_string()) opts.push_back(o.get<std::string>());
    const std::string question = pending.value("question", std::string("Please answer my last question."));
    ask(s, lead + question, std::move(opts), pending);
  };
  if (answer_like && r.confidence < s.settings.confidence) {
    // An answer read without confidence (a model's "confirm" at 0.1) never acts: the question stands.
    ask_again("I'm not sure that answers my question. ");
    return true;
  }
  if (r.intent == Intent::select && (kind == "proposal" || kind == "confirm")) {
    // "the first one" or "2" to a yes/no question answers nothing: the question stands.
    ask_again("Please answer yes or no. ");
    return true;
  }
  if (kind == "proposal") {
    if (r.intent == Intent::deny) {
      say(s, "OK, I won't do that.");
      return true;
    }
    if (r.intent != Intent::confirm) return false;
    std::vector<FieldError> errors;
    const auto op = reading_from_json(pending.at("op"), Instant{}, errors);
    if (!op) {
      say(s, "Sorry, I lost track of that question. Please ask again.");
      return true;
    }
    act(s, *op);
    return true;
  }
  if (kind == "confirm") {
    const std::string title = pending.value("title", std::string());
    if (r.intent == Intent::confirm) {
      do_delete(s, pending.value("task_id", std::string()), pending.value("version", std::int64_t{0}));
      return true;
    }
    if (r.intent == Intent::deny) {
      say(s, "OK, I won't delete " + in_quotes(title) + ".");
      return true;
    }
    return false;
  }
  if (kind != "select") return false;
  if (r.intent == Intent::deny) {
    say(s, "OK, never mind.");
    return true;
  }
  const nlohmann::json& candidates = pending.at("candidates");
  const nlohmann::json options = pending.value("options", nlohmann::json::array());
  const auto choice = chosen(s.turn, candidates, options);
  if (!choice && r.intent == Intent::confirm) {
    // "yes" chooses none of the options (it said "no open question", though one was): the question stands.
    ask_again(
        "\u201cYes\u201d doesn't say which: please choose one of the options (\u201cthe first "
        "one\u201d, \u201c2\u201d or its title), or say \u201cno\u201d. ");
    return true;
  }
  std::vector<FieldError> errors;
  if (!choice && bare_name(s.turn)) {
    // A bare name that chooses no option ("report final please", "final", or the words of "name it more
    // precisely" when more matched than were offered) names the task anew, among all the user's tasks, never
    // a task to add.
    auto op = reading_from_json(pending.at("op"), Instant{}, errors);
    if (!op) return false;
    // The words as the parser read them for a title ("report final please" names "report final").
    op->target = r.title.empty() ? std::string(answer_words(s.turn)) : r.title;
    resolve_and_perform(s, *op);
    return true;
  }
  if (!choice) return false;
  const int count = static_cast<int>(candidates.size());
  if (*choice < 1 || *choice > count) {
    std::vector<std::string> opts;
    for (const auto& o : options)
      opts.push_back(o.get<std::string>());
    ask(s,
        "Please choose one of the " + std::to_string(count) + " options (1 to " + std::to_string(count) +
            ").",
        std::move(opts), pending);
    return true;
  }
  const auto op = reading_from_json(pending.at("op"), Instant{}, errors);
  if (!op) {
    say(s, "Sorry, I lost track of that question. Please ask again.");
    return true;
  }
  auto task =
      tasks::repository::find(s.w, s.actor.user_id, candidates[*choice - 1].value("id", std::string()));
  if (!task) {
    say(s, "That task no longer exists.");
    return true;
  }
  perform(s, *op, *task);
  return true;
}

/// A low-confidence reading complete enough to carry out once the user says yes.
bool proposable(const Reading& r) {
  // A problem saying what the dialog can't do ("I can't end the series 'for 99999 times' …") is refused, not
  // offered: "yes" to a repeating task without the end it was given would make an endless series.
  for (const auto& p : r.problems)
    if (p.starts_with("I can't ")) return false;
  // A repeating task needs its first due date: without one, "yes" could only fail.
  if (r.intent == Intent::create) return !r.title.empty() && (!r.recurrence || r.due_at);
  if (r.intent == Intent::list) return r.query.has_value();  // none: nothing to look for ("when is !!!?")
  if (!names_a_task(r.intent) || r.target.empty()) return false;
  if (r.intent == Intent::update)  // an update that changes something
    return !r.title.empty() || r.due_at || r.shift || r.priority || !r.tags.empty() || r.recurrence;
  if (r.intent == Intent::make_recurring) return r.recurrence.has_value();
  if (r.intent == Intent::add_reminder) return !r.reminders.empty();
  return true;
}

/// "create “Buy milk”, due Fri, Mar 6, 3:00 PM" — the reading in words, for a yes/no question.
std::string describe(const Reading& r, const date::time_zone* zone) {
  std::string out;
  const std::string target = in_quotes(r.target);
  switch (r.intent) {
    case Intent::create:
      out = "create " + in_quotes(r.title);
      out += r.due_at ? ", due " + when(*r.due_at, r.all_day, zone) : std::string(", with no due date");
      break;
    case Intent::list:  // the filters that "yes" runs, as do_list says them
      return "list " + list_what(r.query.value_or(Query{}), zone, "");
    case Intent::complete:
      return "mark " + target + " as done";
    case Intent::reopen:
      return "reopen " + target;
    case Intent::remove:
      return "delete " + target;
    case Intent::update:
      out = "change " + target;
      if (!r.title.empty()) out += ", renaming it to " + in_quotes(r.title);
      if (r.due_at) out += ", moving it to " + when(*r.due_at, r.all_day, zone);
      if (r.shift) out += ", moving it " + shift_phrase(*r.shift);
      break;
    case Intent::make_recurring:
      out = "make " + target + " repeat";
      break;
    case Intent::stop_recurring:
      return "stop repeating " + target;
    case Intent::add_reminder:  // when, as the reply after "yes" says it
      return "remind you about " + target + " " + reminder_times(r.reminders, zone) +
             (r.due_at ? " " + when(*r.due_at, r.all_day, zone) : std::string());  // "1 hour before <then>"
    default:
      return "that";
  }
  if (r.recurrence) out += ", repeating (" + *r.recurrence + ")";
  if (r.priority) out += ", " + std::string(to_string(*r.priority)) + " priority";
  for (const auto& tag : r.tags)
    out += " #" + tag;
  // What "yes" adds besides the task, said as the reply after it says it.
  if (r.intent == Intent::create && !r.reminders.empty())
    out += ", with " + reminders_phrase(r.reminders, zone);
  return out;
}

void clarify(Step& s) {
  const Reading& r = s.turn.reading;
  std::string problems;
  for (const auto& p : r.problems)
    problems += (problems.empty() ? "" : "; ") + p;
  if (r.confidence > 0 && proposable(r)) {
    // A reading exists: offer it as a yes/no question; "yes" carries it out, "no" drops it.
    ask(s,
        (problems.empty() ? std::string("I'm not sure I understood. ")
                          : "I'm not sure I understood (" + problems + "). ") +
            "Did you mean: " + describe(r, s.turn.zone) + "?",
        {"yes", "no"}, {{"kind", "proposal"}, {"op", stored_op(r)}, {"time_only", s.time_only}});
    return;
  }
  for (const auto& p : r.problems)
    if (p.starts_with("I can't ")) {  // understood, but not something the dialog does
      say(s, p + ".");
      return;
    }
  if (r.intent == Intent::list && !r.query) {  // "when is !!!?", "is ??? done?": a question about nothing
    ask(s,
        "What should I look for (" + problems + ")? Name the task, e.g. \u201cwhen is the dentist?\u201d.");
    return;
  }
  if (r.problems.empty()) {
    ask(s,
        "I'm not sure what you mean. Try \u201cBuy milk tomorrow at 5pm\u201d, \u201cwhat's due this "
        "week?\u201d, "
        "\u201cdone with groceries\u201d or \u201chelp\u201d.");
    return;
  }
  ask(s, "I'm not sure I understood (" + problems +
             "). Could you say it another way, e.g. with a date like "
             "\u201cMarch 5 at 5pm\u201d?");
}

}  // namespace

std::vector<std::string> titles_in(pqxx::transaction_base& w, const std::string& user_id,
                                   const std::string& message) {
  std::vector<std::string> out;
  // Single-spaced, as the parser reads the message: "delete  weekly   report" names "weekly report".
  for (const auto& row : w.exec_prepared(kTitlesIn.name, user_id, collapse_space(message)))
    out.push_back(row[0].as<std::string>());
  return out;
}

std::string help_text() {
  return "I can add tasks (\u201cBuy milk tomorrow at 5pm #home p2\u201d, \u201ccall mom every Sunday at "
         "6pm\u201d), "
         "list them (\u201cwhat's due this week?\u201d, \u201cshow high priority tasks tagged work\u201d, "
         "\u201cwhat's overdue\u201d), complete or reopen them (\u201cdone with groceries\u201d, "
         "\u201creopen "
         "groceries\u201d), delete them (\u201cdelete the dentist\u201d, after a yes), change them "
         "(\u201cmove the "
         "dentist to Friday 3pm\u201d, \u201cpostpone the dentist by 2 days\u201d, \u201crename groceries to "
         "Buy food\u201d, \u201cchange priority of "
         "groceries to high\u201d, \u201ctag groceries with home\u201d), make them repeat or stop "
         "(\u201cmake gym "
         "recurring every Monday\u201d, \u201cstop repeating gym\u201d), remind you (\u201cremind me 30 "
         "minutes before the dentist\u201d) and undo my last change "
         "(\u201cundo\u201d).";
}

nlohmann::json to_json(const Reply& r) {
  nlohmann::json j = {{"conversation_id", r.conversation_id},
                      {"reply", r.text},
                      {"intent", to_string(r.intent)},
                      {"confidence", std::round(r.confidence * 100.0) / 100.0},
                      {"actions", r.actions},
                      {"needs_clarification", r.needs_clarification},
                      {"options", r.options},
                      {"source", r.source}};
  if (r.llm_error) j["llm_error"] = *r.llm_error;
  return j;
}

Reply respond(pqxx::transaction_base& w, Conversation& c, const Turn& turn, const DialogSettings& settings) {
  Reply out;
  out.conversation_id = c.id;
  out.intent = turn.reading.intent;
  out.confidence = turn.reading.confidence;
  out.source = turn.source;
  out.llm_error = turn.llm_error;
  Step s{w, c, turn, settings, out, svc::Actor{turn.user_id, turn.request_id}};
  const Reading& r = turn.reading;

  if (!answer_pending(s)) {
    s.time_only = time_of_day_only(turn);
    if (r.confidence < settings.confidence || r.intent == Intent::unknown)
      clarify(s);  // never act on a guess
    else
      act(s, r);
  }
  const std::string at = format_rfc3339(turn.now);
  conversations::add_turn(c, "user", turn.message, at);
  conversations::add_turn(c, "assistant", out.text, at);
  return out;
}

}  // namespace todo::chat

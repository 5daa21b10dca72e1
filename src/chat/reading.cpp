// The JSON form of a Reading.
#include <charconv>
#include <cmath>

#include "todo/chat/parser.hpp"

namespace todo::chat {

std::string iso_duration(std::chrono::seconds s) {
  long long v = s.count();
  if (v == 0) return "PT0S";
  std::string out = v < 0 ? "-P" : "P";
  if (v < 0) v = -v;
  const long long d = v / 86400;
  v %= 86400;
  if (d) out += std::to_string(d) + "D";
  if (v) {
    out += "T";
    if (v / 3600) out += std::to_string(v / 3600) + "H";
    if (v % 3600 / 60) out += std::to_string(v % 3600 / 60) + "M";
    if (v % 60) out += std::to_string(v % 60) + "S";
  }
  return out;
}

namespace {

constexpr char kShiftUnits[] = {'M', 'H', 'D', 'W', 'M', 'Y'};  // by Shift::Unit; the first two after "T"

}  // namespace

std::string iso_duration(const Shift& s) {
  const auto u = static_cast<std::size_t>(s.unit);
  const bool clock = s.unit == Shift::Unit::minute || s.unit == Shift::Unit::hour;
  return std::string(s.count < 0 ? "-P" : "P") + (clock ? "T" : "") +
         std::to_string(s.count < 0 ? -static_cast<long long>(s.count) : s.count) + kShiftUnits[u];
}

std::optional<Shift> parse_shift(std::string_view s) {
  const bool earlier = s.starts_with('-');
  if (earlier) s.remove_prefix(1);
  if (!s.starts_with('P')) return std::nullopt;
  s.remove_prefix(1);
  const bool clock = s.starts_with('T');
  if (clock) s.remove_prefix(1);
  int n = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p == s.data() || s.front() < '0' || s.front() > '9' || n < 1 || n > 9999 ||
      p + 1 != s.data() + s.size())
    return std::nullopt;
  const char unit = *p;
  for (std::size_t u = 0; u < std::size(kShiftUnits); ++u)
    if (kShiftUnits[u] == unit && clock == (u < 2))
      return Shift{earlier ? -n : n, static_cast<Shift::Unit>(u)};
  return std::nullopt;
}

namespace {

nlohmann::json opt_time(const std::optional<Instant>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json to_json(const Reading& r) {
  nlohmann::json reminders = nlohmann::json::array();
  for (const auto& m : r.reminders) {
    if (m.before_due)
      reminders.push_back({{"before_due", iso_duration(*m.before_due)}});
    else if (m.at)
      reminders.push_back({{"at", format_rfc3339(*m.at)}});
  }
  nlohmann::json query = nullptr;
  if (r.query) {
    const Query& q = *r.query;
    query = nlohmann::json::object();
    if (q.status) query["status"] = *q.status;
    if (!q.priorities.empty()) {
      query["priority"] = nlohmann::json::array();
      for (auto p : q.priorities)
        query["priority"].push_back(to_string(p));
    }
    if (!q.tags.empty()) query["tag"] = q.tags;
    if (q.due_after) query["due_after"] = format_rfc3339(*q.due_after);
    if (q.due_before) query["due_before"] = format_rfc3339(*q.due_before);
    if (q.overdue) query["overdue"] = true;
    if (q.has_due) query["has_due"] = *q.has_due;
    if (q.q) query["q"] = *q.q;
  }
  nlohmann::json spans = nlohmann::json::array();
  for (const auto& s : r.spans)
    spans.push_back({{"start", s.start}, {"end", s.end}, {"kind", to_string(s.kind)}});
  return {
      {"intent", to_string(r.intent)},
      {"confidence", std::round(r.confidence * 100.0) / 100.0},
      {"title", r.title},
      {"due_at", opt_time(r.due_at)},
      {"all_day", r.all_day},
      {"shift", r.shift ? nlohmann::json(iso_duration(*r.shift)) : nlohmann::json(nullptr)},
      {"recurrence", r.recurrence ? nlohmann::json(*r.recurrence) : nlohmann::json(nullptr)},
      {"recurrence_mode",
       r.recurrence_mode == RecurrenceMode::after_completion ? "after_completion" : "fixed"},
      {"reminders", std::move(reminders)},
      {"priority", r.priority ? nlohmann::json(to_string(*r.priority)) : nlohmann::json(nullptr)},
      {"tags", r.tags},
      {"target", r.target},
      {"query", std::move(query)},
      {"index", r.index ? nlohmann::json(*r.index) : nlohmann::json(nullptr)},
      {"spans", std::move(spans)},
      {"problems", r.problems},
  };
}

}  // namespace todo::chat

// Hub: per-user session registry and fan-out; the client message format.
#include "todo/realtime/hub.hpp"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "todo/core/error.hpp"
#include "todo/core/json.hpp"

namespace todo::realtime {

Admission Hub::reserve(const std::string& user_id, std::size_t max_per_user, std::size_t max_total) {
  std::lock_guard lock(mutex_);
  if (total_ + reserved_total_ >= max_total) return Admission::too_many;
  auto it = users_.find(user_id);
  auto r = reserved_.find(user_id);
  const std::size_t mine =
      (it == users_.end() ? 0 : it->second.size()) + (r == reserved_.end() ? 0 : r->second);
  if (mine >= max_per_user) return Admission::too_many_for_user;
  ++reserved_[user_id];
  ++reserved_total_;
  return Admission::admitted;
}

void Hub::release(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  unreserve(user_id);
}

void Hub::unreserve(const std::string& user_id) {
  auto r = reserved_.find(user_id);
  if (r == reserved_.end()) return;
  if (--r->second == 0) reserved_.erase(r);
  --reserved_total_;
}

void Hub::add(const std::string& user_id, const std::shared_ptr<Subscriber>& s) {
  std::lock_guard lock(mutex_);
  unreserve(user_id);
  users_[user_id].push_back({s.get(), s});
  ++total_;
}

void Hub::remove(const std::string& user_id, const Subscriber* s) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  if (it == users_.end()) return;
  auto& v = it->second;
  // Exactly the caller's entry: erasing another (say, the first expired one) would leave the caller's
  // counted for ever.
  auto i = std::find_if(v.begin(), v.end(), [s](const Entry& e) { return e.key == s; });
  if (i == v.end()) return;
  v.erase(i);
  --total_;
  if (v.empty()) users_.erase(it);
}

std::size_t Hub::count(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  auto r = reserved_.find(user_id);
  return (it == users_.end() ? 0 : it->second.size()) + (r == reserved_.end() ? 0 : r->second);
}

std::vector<std::string> Hub::users() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(users_.size());
  for (const auto& [user, sessions] : users_)
    if (!sessions.empty()) out.push_back(user);
  return out;
}

std::size_t Hub::total() const {
  std::lock_guard lock(mutex_);
  return total_ + reserved_total_;
}

std::vector<std::shared_ptr<Subscriber>> Hub::sessions_of(const std::string& user_id) const {
  std::vector<std::shared_ptr<Subscriber>> targets;
  std::lock_guard lock(mutex_);
  auto it = users_.find(user_id);
  if (it == users_.end()) return targets;
  for (const auto& e : it->second)
    if (auto p = e.ref.lock()) targets.push_back(std::move(p));
  return targets;
}

void Hub::publish(const std::shared_ptr<const Delivery>& d) {
  for (const auto& t : sessions_of(d->user_id))
    t->deliver(d);
}

std::vector<std::shared_ptr<Subscriber>> Hub::everyone() const {
  std::vector<std::shared_ptr<Subscriber>> targets;
  std::lock_guard lock(mutex_);
  targets.reserve(total_);
  for (const auto& [_, v] : users_)
    for (const auto& e : v)
      if (auto p = e.ref.lock()) targets.push_back(std::move(p));
  return targets;
}

void Hub::close_all(int code, const char* reason) {
  for (const auto& t : everyone())
    t->close(code, reason);
}

void Hub::close_user(const std::string& user_id, int code, const char* reason) {
  for (const auto& t : sessions_of(user_id))
    t->close(code, reason);
}

void Hub::tick_all(std::chrono::steady_clock::time_point now) {
  for (const auto& t : everyone())
    t->tick(now);
}

std::string client_message(const std::string& cloudevent_json) {
  const auto ce = nlohmann::json::parse(cloudevent_json);
  std::string type = ce.value("type", "");
  constexpr std::string_view kPrefix = "com.todo.";
  if (type.rfind(kPrefix, 0) == 0) type = type.substr(kPrefix.size());
  nlohmann::json m = {{"type", type},
                      {"sequence", ce.value("sequence", 0)},
                      {"event_id", ce.value("id", "")},
                      {"time", ce.value("time", "")},
                      {"data", ce.contains("data") ? ce["data"] : nlohmann::json::object()}};
  return m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ClientRequest parse_client_request(std::string_view text) {
  ClientRequest r;
  // Read as strictly as a REST body (json::parse_object): nothing after the value (nlohmann stops at a NUL),
  // no key given twice (nlohmann keeps the last).
  nlohmann::json msg;
  try {
    msg = json::parse_object(text);
  } catch (const Error& e) {
    const bool whole = !e.errors().empty() && e.errors().front().field == "body";
    if (whole && e.code() == Errc::bad_request)
      r.problem = "not JSON: expected {\"type\":\"resume\",\"after\":<sequence>} or {\"type\":\"ping\"}";
    else if (whole && e.code() == Errc::unprocessable &&
             e.errors().front().message == "expected a JSON object")
      r.problem =
          "not a JSON object: expected {\"type\":\"resume\",\"after\":<sequence>} or {\"type\":\"ping\"}";
    else if (e.detail().starts_with("the body "))
      r.problem = "the message " + e.detail().substr(9);  // "the message repeats a key: after"
    else
      r.problem = e.detail();  // "after: number out of range"
    return r;
  }
  const auto type = msg.find("type");
  if (type == msg.end() || !type->is_string()) {
    r.problem = "type must be a string: \"resume\" or \"ping\"";
    return r;
  }
  const auto& name = type->get_ref<const std::string&>();
  if (name != "ping" && name != "resume") {
    r.problem = "unknown type: expected \"resume\" or \"ping\"";
    return r;
  }
  // As a REST body's unknown field is a 422: a misspelt `after` must not resume from somewhere else,
  // silently. The first unknown key (in key order) is named, the others counted, as repeated keys are.
  std::size_t unknown = 0;
  std::string first_unknown;
  for (auto it = msg.begin(); it != msg.end(); ++it) {
    if (it.key() == "type" || (name == "resume" && it.key() == "after")) continue;
    if (unknown++ == 0) first_unknown = it.key();
  }
  if (unknown > 0) {
    r.problem = first_unknown + ": unknown field";
    if (unknown > 1)
      r.problem += " (and " + std::to_string(unknown - 1) + (unknown == 2 ? " other)" : " others)");
    r.problem +=
        name == "ping" ? "; a ping message takes only type" : "; a resume message takes type and after";
    return r;
  }
  if (name == "ping") {
    r.kind = ClientRequest::Kind::ping;
    return r;
  }
  const auto after = msg.find("after");
  // nlohmann keeps non-negative integers as unsigned: one above INT64_MAX is not a sequence number.
  if (after == msg.end() || !after->is_number_unsigned() ||
      after->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    r.problem = "after must be a sequence number (an integer >= 0)";
    return r;
  }
  r.kind = ClientRequest::Kind::resume;
  r.after = static_cast<std::int64_t>(after->get<std::uint64_t>());
  return r;
}

std::string client_error(std::string_view problem) {
  return nlohmann::json{{"type", "error"}, {"message", problem}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace todo::realtime

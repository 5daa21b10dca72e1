// Recurrence routes: expanding a rule without saving anything (for editors and scripts).
#include <charconv>

#include "todo/api/context.hpp"
#include "todo/core/error.hpp"
#include "todo/recurrence/expand.hpp"

namespace todo::api {

using boost::asio::awaitable;
using http::Request;
using http::Response;

std::size_t count_param(const Request& req, std::size_t fallback) {
  const auto v = req.query_one("count");
  if (!v) return fallback;
  unsigned long n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < 1 || n > kMaxOccurrences)
    throw invalid("count", "must be an integer from 1 to " + std::to_string(kMaxOccurrences));
  return n;
}

nlohmann::json occurrences_json(const std::vector<Instant>& times) {
  nlohmann::json out = nlohmann::json::array();
  for (auto t : times)
    out.push_back(format_rfc3339(t));
  return {{"occurrences", std::move(out)}};
}

void add_recurrence_routes(http::Router& router, Context& ctx) {
  // GET /api/v1/recurrence/preview?rule=&start=&timezone=&count=: the rule's occurrences from start, as
  // python-dateutil's rrule gives them (start itself only when it matches the rule).
  router.add(
      "GET", "/api/v1/recurrence/preview", {{"rule", "start", "timezone", "count"}},
      [&ctx](Request& req) -> awaitable<Response> {
        authenticate(req, ctx);
        co_await require_account(ctx, req.user_id);  // it reads no data of the account's to tell
        std::vector<FieldError> errors;
        std::optional<recurrence::Rule> rule;
        const auto rule_text = req.query_one("rule");
        if (!rule_text || rule_text->empty()) {
          errors.push_back({"rule", "is required: an RRULE such as FREQ=WEEKLY;BYDAY=MO"});
        } else {
          try {
            rule = recurrence::parse(*rule_text);
          } catch (const recurrence::RuleError& e) {
            errors.push_back({"rule", e.what()});
          }
        }
        const auto start_text = req.query_one("start");
        std::optional<Instant> start = start_text ? parse_rfc3339(*start_text) : std::nullopt;
        if (!start_text)
          errors.push_back(
              {"start", "is required: an RFC 3339 date-time with an offset, e.g. 2026-03-05T09:00:00Z"});
        else if (!start)
          errors.push_back({"start", rfc3339_problem(*start_text)});
        const std::string tz = req.query_one("timezone").value_or("UTC");
        if (!is_valid_timezone(tz))
          errors.push_back({"timezone", "must be an IANA time zone such as Europe/Berlin"});
        std::size_t count = 10;
        try {
          count = count_param(req, 10);
        } catch (const Error& e) {
          if (e.code() != Errc::unprocessable) throw;  // a repeated count: 400
          errors.insert(errors.end(), e.errors().begin(), e.errors().end());
        }
        if (!errors.empty()) {
          std::string detail = errors.front().field + ": " + errors.front().message;
          throw Error(Errc::unprocessable, std::move(detail), std::move(errors));
        }
        const auto times =
            recurrence::expand(*rule, *start, tz, *start - std::chrono::microseconds{1}, count);
        co_return Response::json(200, occurrences_json(times));
      });
}

}  // namespace todo::api

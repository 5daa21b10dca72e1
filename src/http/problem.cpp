// Errc → HTTP status and problem+json bodies.
#include "todo/http/problem.hpp"

namespace todo::http {
namespace {

struct Kind {
  unsigned status;
  const char* slug;
  const char* title;
};

Kind kind_of(Errc code) {
  switch (code) {
    case Errc::bad_request:
      return {400, "bad-request", "Bad Request"};
    case Errc::unauthorized:
      return {401, "unauthorized", "Unauthorized"};
    case Errc::forbidden:
      return {403, "forbidden", "Forbidden"};
    case Errc::not_found:
      return {404, "not-found", "Not Found"};
    case Errc::method_not_allowed:
      return {405, "method-not-allowed", "Method Not Allowed"};
    case Errc::conflict:
      return {409, "conflict", "Conflict"};
    case Errc::precondition:
      return {412, "precondition-failed", "Precondition Failed"};
    case Errc::payload_too_large:
      return {413, "payload-too-large", "Payload Too Large"};
    case Errc::unsupported_media:
      return {415, "unsupported-media-type", "Unsupported Media Type"};
    case Errc::unprocessable:
      return {422, "validation", "Unprocessable Content"};
    case Errc::too_many_requests:
      return {429, "too-many-requests", "Too Many Requests"};
    case Errc::uri_too_long:
      return {414, "uri-too-long", "URI Too Long"};
    case Errc::headers_too_large:
      return {431, "headers-too-large", "Request Header Fields Too Large"};
    case Errc::upgrade_required:
      return {426, "upgrade-required", "Upgrade Required"};
    case Errc::not_implemented:
      return {501, "not-implemented", "Not Implemented"};
    case Errc::http_version:
      return {505, "http-version-not-supported", "HTTP Version Not Supported"};
    case Errc::unavailable:
      return {503, "unavailable", "Service Unavailable"};
    case Errc::internal:
      return {500, "internal", "Internal Server Error"};
  }
  return {500, "internal", "Internal Server Error"};
}

}  // namespace

unsigned status_of(Errc code) {
  return kind_of(code).status;
}

Response problem(const Error& error) {
  const Kind k = kind_of(error.code());
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : error.errors())
    errors.push_back({{"field", e.field}, {"message", e.message}});
  Response r = Response::json(k.status, {{"type", std::string("https://todo-server.dev/problems/") + k.slug},
                                         {"title", k.title},
                                         {"status", k.status},
                                         {"detail", error.detail()},
                                         {"errors", std::move(errors)}});
  r.content_type = "application/problem+json";
  if (error.code() == Errc::unauthorized) r.with_header("WWW-Authenticate", "Bearer");
  if (error.code() == Errc::unavailable) r.with_header("Retry-After", "1");
  return r;
}

}  // namespace todo::http

// HTTP server: accept loop, sessions and the request pipeline (request id, routing, errors, metrics, access
// log).
#include "todo/http/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/range/iterator_range.hpp>
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "session.hpp"
#include "todo/core/encoding.hpp"
#include "todo/core/ids.hpp"
#include "todo/core/log.hpp"
#include "todo/core/text.hpp"
#include "todo/http/origin.hpp"
#include "todo/http/problem.hpp"
#include "todo/metrics/registry.hpp"

namespace todo::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

/// The server's own probes.
struct Server::Metrics {
  explicit Metrics(metrics::Registry& r)
      : requests(r.counter("http_requests_total", "HTTP requests answered", {"method", "route", "status"})),
        duration(r.histogram(
            "http_request_duration_seconds", "Time from request read to response ready", {"method", "route"},
            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})),
        connections(r.gauge("http_connections", "Open HTTP connections").with({})),
        accept_errors(r.counter("http_accept_errors_total",
                                "Connections that could not be accepted (e.g. out of file descriptors)", {})
                          .with({})),
        body_memory_refusals(
            r.counter("http_body_memory_refusals_total",
                      "Requests refused (503) because request bodies held their memory budget", {})
                .with({})),
        in_flight(r.gauge("http_requests_in_flight", "Requests being handled").with({})) {}
  metrics::Family<metrics::Counter>& requests;
  metrics::Family<metrics::Histogram>& duration;
  metrics::Gauge& connections;
  metrics::Counter& accept_errors;
  metrics::Counter& body_memory_refusals;
  metrics::Gauge& in_flight;
};

namespace {

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':'))
      return false;
  return true;
}

// Beast's parse errors (as opposed to I/O errors and timeouts).
const boost::system::error_category& kHttpErrors =
    bhttp::make_error_code(bhttp::error::bad_method).category();

// The methods that are their own label value in the request metrics; any other token is "other", so that a
// client inventing methods cannot grow the series without bound.
std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown = {"GET",    "HEAD",    "POST",  "PUT",    "PATCH",
                                                             "DELETE", "OPTIONS", "TRACE", "CONNECT"};
  return std::find(kKnown.begin(), kKnown.end(), method) != kKnown.end() ? method : "other";
}

// The method token at the start of `head`, a request not parsed, or "" when it has none (RFC 9110 5.6.2).
std::string request_method(std::string_view head) {
  const auto end = head.find(' ');
  if (end == std::string_view::npos || end == 0 || end > 32) return {};
  const auto method = head.substr(0, end);
  for (char c : method)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return {};
  return std::string(method);
}

bool unreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~").find(c) != std::string_view::npos;
}
bool sub_delim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}
bool hex_digit(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

// One or more characters `allowed` takes, or percent-encoded octets ("%" HEXDIG HEXDIG).
template <class Allowed>
bool pct_encoded_text(std::string_view s, Allowed allowed) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      if (!allowed(s[i])) return false;
    } else if (i + 2 >= s.size() || !hex_digit(s[i + 1]) || !hex_digit(s[i + 2])) {
      return false;
    } else {
      i += 2;
    }
  }
  return !s.empty();
}

// Inside the brackets of an IP-literal (RFC 3986 3.2.2): an IPv6 address, with a zone after "%25" (RFC 6874:
// fe80::1%25eth0), or IPvFuture ("v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )).
bool ip_literal(std::string_view s) {
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
    const auto dot = s.find('.');
    if (dot == std::string_view::npos || dot == 1 || dot + 1 == s.size()) return false;
    return std::all_of(s.begin() + 1, s.begin() + dot, hex_digit) &&
           std::all_of(s.begin() + dot + 1, s.end(),
                       [](char c) { return unreserved(c) || sub_delim(c) || c == ':'; });
  }
  const auto zone = s.find("%25");
  const auto address = s.substr(0, zone);
  if (zone != std::string_view::npos && !pct_encoded_text(s.substr(zone + 3), unreserved)) return false;
  if (address.find('%') != std::string_view::npos) return false;  // a scope as the socket API writes it
  boost::system::error_code ec;
  boost::asio::ip::make_address_v6(std::string(address), ec);
  return !ec;
}

// RFC 9112 3.2, RFC 3986 3.2.2-3.2.3: a Host field's value is uri-host [":" port]. The host is a reg-name
// (unreserved, sub-delims and percent-encoded octets; an IPv4 address has its form) or an IP-literal in
// brackets; an http(s) URI's host is never empty (RFC 9110 4.2.1). The port is a number up to 65535, or
// empty, the same as none (RFC 3986 6.2.3). "x:80:80" and "::1" (IPv6 without brackets) are neither.
bool sane_host(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  const auto host_end = h.front() == '[' ? h.find(']') : h.find(':');
  const bool bracketed = h.front() == '[';
  if (bracketed && host_end == std::string_view::npos) return false;
  const auto host = bracketed ? h.substr(1, host_end - 1) : h.substr(0, host_end);
  std::string_view rest = host_end == std::string_view::npos ? "" : h.substr(host_end + (bracketed ? 1 : 0));
  if (!rest.empty()) {
    if (rest.front() != ':') return false;
    unsigned long port = 0;
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return false;
      port = port * 10 + static_cast<unsigned long>(c - '0');
      if (port > 65535) return false;
    }
  }
  return bracketed ? ip_literal(host)
                   : pct_encoded_text(host, [](char c) { return unreserved(c) || sub_delim(c); });
}

// The authority of an absolute-form target ("http://host:port/path" → "host:port"), or nullopt for any
// other form.
std::optional<std::string_view> absolute_authority(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"})
    if (target.size() >= scheme.size() && beast::iequals(target.substr(0, scheme.size()), scheme))
      return target.substr(scheme.size(), target.find_first_of("/?#", scheme.size()) - scheme.size());
  return std::nullopt;
}

// The origin form of an absolute-form target (RFC 9112 3.2.2: "http://host:port/path?query", which a server
// must accept): "/path?query", "/" when the path is empty. A view of `target`, or of `storage` when a "/" has
// to be put before a query, so that the usual origin-form request costs no copy.
std::string_view origin_form(std::string_view target, std::string& storage) {
  const auto authority = absolute_authority(target);
  if (!authority) return target;
  const auto rest = target.find_first_of("/?", static_cast<std::size_t>(authority->data() - target.data()));
  if (rest == std::string_view::npos) return "/";
  if (target[rest] == '/') return target.substr(rest);
  storage = "/" + std::string(target.substr(rest));
  return storage;
}

// An encoded '/' (%2F) in a path: part of a segment, not a separator (RFC 3986 2.2), and no resource has one.
bool has_encoded_slash(std::string_view raw_path) {
  for (std::size_t p = raw_path.find('%'); p != std::string_view::npos; p = raw_path.find('%', p + 1))
    if (beast::iequals(raw_path.substr(p, 3), "%2f")) return true;
  return false;
}

// The route template and path of a request answered before routing (its head was read, but it is refused
// for its framing, its size or the memory its body would take), as dispatch() would count and log them: the
// path decoded, the template it matches for any method, and "unmatched" only when it matches none (or
// cannot be decoded, or has an encoded '/').
std::pair<std::string, std::string> route_and_path(const Router& router, std::string_view method,
                                                   std::string_view target) {
  std::string storage;
  const std::string_view origin = origin_form(target, storage);
  const std::string_view raw = origin.substr(0, origin.find_first_of("?#"));
  std::pair<std::string, std::string> out{"unmatched", std::string(raw)};
  if (has_encoded_slash(raw)) return out;
  try {
    out.second = url_decode(raw, /*plus_is_space=*/false);
  } catch (const Error&) {
    return out;
  }
  if (auto m = router.match(method, out.second); !m.route.empty()) out.first = std::move(m.route);
  return out;
}

// What is wrong with a request's framing and Host, before its body is read: such a request is answered and
// the connection closed, since where its body ends cannot be trusted (RFC 9112 6.1, 6.3: a Transfer-Encoding
// whose last coding is not chunked made the body be read as the next request).
std::optional<Error> framing_error(const bhttp::request_parser<bhttp::string_body>& parser) {
  const auto& h = parser.get();
  // RFC 9110 4.2.1: an http(s) URI with an empty host is invalid and must be rejected ("http:///tasks",
  // "http://:80/tasks"); 4.2.4: one with userinfo ("http://user@host/") is an error too.
  if (const auto authority = absolute_authority(h.target())) {
    if (authority->find('@') != std::string_view::npos)
      return Error(Errc::bad_request, "the request target has userinfo (user@)", {{"target", "userinfo"}});
    const auto colon = authority->rfind(':');
    const std::string_view host =
        colon != std::string_view::npos && authority->find(']', colon) == std::string_view::npos
            ? authority->substr(0, colon)
            : *authority;
    if (host.empty())
      return Error(Errc::bad_request, "the request target has an empty host", {{"target", "empty host"}});
    // RFC 9112 3.2.2: the target's authority stands for Host, and is held to the same form.
    if (!sane_host(*authority))
      return Error(Errc::bad_request, "the request target's authority is not a host[:port]",
                   {{"target", "authority is not a host[:port]"}});
  }
  if (const auto te = h.find(bhttp::field::transfer_encoding); te != h.end()) {
    if (h.version() < 11)
      return Error(Errc::bad_request, "Transfer-Encoding is not allowed in an HTTP/1.0 request",
                   {{"Transfer-Encoding", "not allowed in HTTP/1.0"}});
    std::vector<std::string> codings;
    for (const auto& field : boost::make_iterator_range(h.equal_range(bhttp::field::transfer_encoding))) {
      std::string_view list = field.value();
      while (!list.empty()) {
        const auto comma = list.find(',');
        const auto item = trim(list.substr(0, comma));
        if (!item.empty()) codings.push_back(lower_ascii(item));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      }
    }
    if (codings.empty() || codings.back() != "chunked")
      return Error(Errc::bad_request, "Transfer-Encoding must end with chunked",
                   {{"Transfer-Encoding", "must end with chunked"}});
    if (std::count(codings.begin(), codings.end(), "chunked") > 1)  // RFC 9112 6.1: chunked at most once
      return Error(Errc::bad_request, "Transfer-Encoding names chunked more than once",
                   {{"Transfer-Encoding", "chunked more than once"}});
    for (const auto& c : codings)
      if (c != "chunked")
        return Error(Errc::not_implemented, "the transfer coding '" + c + "' is not supported",
                     {{"Transfer-Encoding", "only chunked is supported"}});
    if (h.count(bhttp::field::content_length))
      return Error(Errc::bad_request, "a request cannot have both Transfer-Encoding and Content-Length",
                   {{"Content-Length", "not allowed with Transfer-Encoding"}});
  }
  const auto hosts = h.count(bhttp::field::host);
  if (hosts > 1)
    return Error(Errc::bad_request, "more than one Host header", {{"Host", "given more than once"}});
  if (hosts == 0 && h.version() >= 11)
    return Error(Errc::bad_request, "an HTTP/1.1 request must have a Host header", {{"Host", "is required"}});
  if (hosts == 1 && !sane_host(h[bhttp::field::host]))
    return Error(Errc::bad_request, "the Host header is not a host[:port]",
                 {{"Host", "is not a host[:port]"}});
  // Two credentials: which one the client meant is unknowable (the first was used silently).
  if (h.count(bhttp::field::authorization) > 1)
    return Error(Errc::bad_request, "more than one Authorization header",
                 {{"Authorization", "given more than once"}});
  return std::nullopt;
}

// Bytes of request bodies held at once, under a budget: a request reserves its body's size before reading
// it, and gives it back once answered. Without it, clients holding nearly complete 1 MiB bodies (no token
// needed: the body is read before routing) grew the process by 0.9 MB a connection, without bound.
class BodyReservation {
 public:
  BodyReservation(std::atomic<std::size_t>& used, std::size_t bytes, std::size_t budget) : used_(used) {
    std::size_t now = used.load();
    do {
      if (bytes > 0 && now + bytes > budget) return;
    } while (!used.compare_exchange_weak(now, now + bytes));
    bytes_ = bytes;
    held_ = true;
  }
  ~BodyReservation() {
    if (held_) used_.fetch_sub(bytes_);
  }
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;
  explicit operator bool() const { return held_; }

 private:
  std::atomic<std::size_t>& used_;
  std::size_t bytes_ = 0;
  bool held_ = false;
};

// The read buffer's size for a header limit: a head that reaches the limit fits (so Beast tells the
// header_limit error, 431/414), with room for the reads around it; never 64 KiB, over which a field makes
// Beast's field container throw (header limits are capped in Server's constructor to keep it so).
std::size_t read_buffer_limit(std::size_t header_limit) {
  return header_limit + 8 * 1024;
}

// What a page of an allowed origin may send (besides the CORS-safelisted ones) and read.
constexpr const char* kCorsRequestHeaders =
    "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id";
constexpr const char* kCorsResponseHeaders = "ETag, Location, Retry-After, WWW-Authenticate, X-Request-Id";

// How long a connection closed after an error answer reads and drops what the client still sends.
constexpr std::chrono::seconds kLinger{2};

// A 400 for a head Beast refused: framing conflicts name their header, as framing_error() does for the ones
// it finds itself; others keep Beast's words.
Error malformed_head(const beast::error_code& ec, const bhttp::request_header<>& parsed) {
  const bool has_te = parsed.count(bhttp::field::transfer_encoding) > 0;
  const bool has_cl = parsed.count(bhttp::field::content_length) > 0;
  if ((ec == bhttp::error::bad_content_length && has_te) ||
      (ec == bhttp::error::bad_transfer_encoding && has_cl))
    return Error(Errc::bad_request, "a request cannot have both Transfer-Encoding and Content-Length",
                 {{"Content-Length", "not allowed with Transfer-Encoding"}});
  if (ec == bhttp::error::bad_content_length)
    return Error(Errc::bad_request, "malformed HTTP request: the Content-Length is not a length",
                 {{"Content-Length", "is not a length"}});
  if (ec == bhttp::error::multiple_content_length)
    return Error(Errc::bad_request,
                 "malformed HTTP request: Content-Length given twice with different values",
                 {{"Content-Length", "given more than once with different values"}});
  if (ec == bhttp::error::bad_transfer_encoding)
    return Error(Errc::bad_request, "malformed HTTP request: bad Transfer-Encoding",
                 {{"Transfer-Encoding", "is not a list of codings ending with chunked"}});
  return Error(Errc::bad_request, "malformed HTTP request: " + ec.message());
}

// RFC 9112 2.3, 2.6: Beast reads HTTP/1.0 and HTTP/1.1 alone and refuses any other version as malformed.
// When the request line it refused at the start of `buffer` has another version ("HTTP/" DIGIT "." DIGIT
// after the target), the version is written over with HTTP/1.1, so that the head can be read again, and the
// version as sent is returned: a later minor version of 1 is served as 1.1, the highest the server has;
// another major version is answered 505. Nothing for a line that has no version.
std::optional<std::string> rewrite_version(beast::flat_buffer& buffer) {
  auto* data = static_cast<char*>(buffer.data().data());
  const std::string_view seen(data, buffer.size());
  // Beast parsed the method and the target, each ended by a space, before it refused the version.
  const auto method_end = seen.find(' ');
  const auto target_end = method_end == std::string_view::npos ? method_end : seen.find(' ', method_end + 1);
  if (target_end == std::string_view::npos || seen.size() < target_end + 9) return std::nullopt;
  char* v = data + target_end + 1;
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (std::string_view(v, 5) != "HTTP/" || !digit(v[5]) || v[6] != '.' || !digit(v[7])) return std::nullopt;
  if (v[5] == '1' && v[7] <= '1') return std::nullopt;  // 1.0 or 1.1 followed by something else: malformed
  std::string sent(v, 8);
  v[5] = '1';
  v[7] = '1';
  return sent;
}

// A 505 for a request of a major version other than HTTP/1 (`sent` as rewrite_version returned it).
Error version_not_supported(const std::string& sent) {
  return Error(Errc::http_version, sent + " is not supported: this server speaks HTTP/1.1 (and HTTP/1.0)",
               {{"HTTP-version", sent + " is not supported"}});
}

// The decoded path of a target, as routing decodes it ("/api/v1/w%73" is "/api/v1/ws"), for finding an
// upgrade handler; "" for a path routing would refuse (an encoded '/', a bad escape).
std::string upgrade_path(std::string_view origin_target) {
  const std::string_view raw = origin_target.substr(0, origin_target.find('?'));
  if (has_encoded_slash(raw)) return {};
  try {
    return url_decode(raw, /*plus_is_space=*/false);
  } catch (const Error&) {
    return {};
  }
}

// A chunked body whose size line or trailer does not fit the read buffer.
Error chunk_metadata_too_long(std::size_t limit) {
  return Error(Errc::bad_request,
               "malformed HTTP request body: a chunk size line or the trailer is longer than " +
                   std::to_string(limit) + " bytes",
               {{"body", "chunk size line or trailer too long"}});
}

Response too_large(std::size_t limit) {
  return problem(Error(Errc::payload_too_large,
                       "the request body is larger than " + std::to_string(limit) + " bytes",
                       {{"body", "too large"}}));
}

}  // namespace

// ---- Session ----------------------------------------------------------------------------------------------

namespace {

// Statuses whose responses have no body, and no Content-Length (RFC 9110 8.6).
bool bodiless(unsigned status) {
  return status / 100 == 1 || status == 204 || status == 304;
}

// The status line and header fields of `r`, as Beast's serializer writes them for a string body after
// prepare_payload() and keep_alive(): one string, written together with the body, so that a response costs
// one gathering write rather than the serializer's walk over its buffer sequences.
std::string response_head(const Response& r, const std::string& request_id, unsigned version,
                          bool keep_alive) {
  std::string h;
  h.reserve(160 + request_id.size() + r.content_type.size());
  h += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  h += std::to_string(r.status);
  h += ' ';
  h += bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  auto field = [&h](std::string_view name, std::string_view value) {
    h += "\r\n";
    h += name;
    h += ": ";
    h += value;
  };
  if (!r.content_type.empty()) field("Content-Type", r.content_type);
  field("X-Request-Id", request_id);
  for (const auto& [k, v] : r.headers)
    field(k, v);
  if (version == 10 && keep_alive) field("Connection", "keep-alive");
  if (version != 10 && !keep_alive) field("Connection", "close");
  if (!bodiless(r.status)) field("Content-Length", std::to_string(r.body.size()));
  h += "\r\n\r\n";
  return h;
}

}  // namespace

void Session::close_if_idle() {
  if (!idle_.load()) return;
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    beast::error_code ec;
    self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    self->stream_.socket().close(ec);
  });
}

asio::awaitable<void> Session::run() {
  const ServerOptions& opt = server_.options_;
  // Bounded: it holds a head (at most the header limit), the next piece of a body, and a chunked body's size
  // lines and trailer, which no other limit covers (Beast parses a trailer whole, without the header limit):
  // a trailer field of 64 KiB made Beast throw out of the io thread (the process aborted, no token needed),
  // and an endless size line or trailer grew the buffer without bound. Fields never reach 64 KiB in it.
  beast::flat_buffer buffer(read_buffer_limit(opt.header_limit));
  // Set when the server answers and closes with the client perhaps still sending (a 413, a 400): the
  // connection then lingers a little before it closes (RFC 9112 9.6), else the kernel resets it on the
  // unread bytes and the client's send fails before it reads the answer.
  bool linger = false;
  // Writes `r`: its status line and header fields, then its body, in one gathering write.
  // A response to HEAD is the head alone, with the Content-Length the body would have had.
  auto write = [&](Response& r, const std::string& request_id, unsigned version, bool keep_alive,
                   bool head_only = false) -> asio::awaitable<beast::error_code> {
    if (bodiless(r.status)) r.body.clear();
    const std::string head = response_head(r, request_id, version, keep_alive);
    const std::array<asio::const_buffer, 2> wire{
        asio::buffer(head), head_only ? asio::const_buffer() : asio::const_buffer(asio::buffer(r.body))};
    stream_.expires_after(opt.request_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, wire, kTuple);
    co_return ec;
  };
  // An answer to a request that could not be read or framed, then the connection closes. It has its
  // access-log line and metrics, and, when its head was read, the request's own id, its path's route (else
  // route "unmatched") and the CORS headers of a routed answer, so that a page can read why it failed.
  auto answer_and_close = [&](Response r, const bhttp::request_parser<bhttp::string_body>* read = nullptr,
                              std::string method = {}) -> asio::awaitable<void> {
    std::string id;
    std::pair<std::string, std::string> route_path{"unmatched", ""};
    if (read) {
      const auto& h = read->get();
      const auto given = h["X-Request-Id"];
      if (sane_request_id(given)) id = std::string(given);
      method = std::string(h.method_string());
      route_path = route_and_path(server_.router_, method, h.target());
      server_.add_cors(r, h[bhttp::field::origin]);
    }
    if (id.empty()) id = new_uuid();
    server_.record(id, method, route_path.second, route_path.first, r.status, 0, r.body.size(), "");
    linger = true;
    co_await write(r, id, 11, /*keep_alive=*/false, /*head_only=*/method == "HEAD");
  };

  // The first request's head is bounded by the header timeout from accept: a connection that never sent a
  // byte was held for the idle timeout (60 s), six times what a partial head gets. Between requests on a
  // kept-alive connection the wait for the next one is the idle timeout.
  bool first_request = true;
  const auto first_head_deadline = std::chrono::steady_clock::now() + opt.header_timeout;
  // RFC 9112 2.2: empty lines before a request line are ignored (a CRLF some clients send after a body),
  // at most kMaxEmptyLines of them before each request.
  constexpr int kMaxEmptyLines = 4;
  int empty_lines = 0;
  // The version the request line was sent with, when it was rewritten to HTTP/1.1 and its head is read again.
  std::optional<std::string> rewritten_version;
  for (;;) {
    if (buffer.size() == 0) {
      // Wait for the next request's first byte; shutdown closes us here.
      idle_.store(true);
      if (server_.stopping_.load()) break;
      if (first_request)
        stream_.expires_at(first_head_deadline);
      else
        stream_.expires_after(opt.idle_timeout);
      auto [ec, n] = co_await stream_.async_read_some(buffer.prepare(4096), kTuple);
      idle_.store(false);
      if (ec) break;
      buffer.commit(n);
    }
    {
      const auto* data = static_cast<const char*>(buffer.data().data());
      const std::size_t size = buffer.size();
      std::size_t skip = 0;
      while (empty_lines < kMaxEmptyLines) {
        if (skip < size && data[skip] == '\n') {
          skip += 1;
        } else if (skip + 1 < size && data[skip] == '\r' && data[skip + 1] == '\n') {
          skip += 2;
        } else {
          break;
        }
        ++empty_lines;
      }
      buffer.consume(skip);
      if (skip > 0 && buffer.size() == 0) continue;  // only empty lines so far: wait for the request line
      if (buffer.size() == 1 && empty_lines < kMaxEmptyLines &&
          *static_cast<const char*>(buffer.data().data()) == '\r') {
        // A CR whose LF has not arrived: read on before deciding whether it begins an empty line.
        if (!first_request) stream_.expires_after(opt.header_timeout);
        auto [ec, n] = co_await stream_.async_read_some(buffer.prepare(4096), kTuple);
        if (ec) break;
        buffer.commit(n);
        continue;
      }
    }
    empty_lines = 0;

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opt.header_limit));
    parser.body_limit(opt.body_limit);
    if (first_request)
      stream_.expires_at(first_head_deadline);
    else
      stream_.expires_after(opt.header_timeout);
    first_request = false;
    const std::optional<std::string> version_sent = std::exchange(rewritten_version, std::nullopt);
    auto [hec, hn] = co_await bhttp::async_read_header(stream_, buffer, parser, kTuple);
    if (hec == bhttp::error::bad_version && !version_sent) {
      rewritten_version = rewrite_version(buffer);
      if (rewritten_version) continue;  // read again with a fresh parser
    }
    const bool unsupported_version = version_sent && (*version_sent)[5] != '1';
    if (hec) {
      // Timeouts, resets and end of stream just close; a malformed request gets a 400 first. Its method is
      // kept, so that a HEAD gets no body: from the request line when Beast parsed it, else from the bytes
      // still in `buffer` (Beast consumes nothing of a request line it has not parsed).
      const std::string_view seen(static_cast<const char*>(buffer.data().data()), buffer.size());
      const bool line_parsed = !parser.get().target().empty();
      std::string method = line_parsed ? std::string(parser.get().method_string()) : request_method(seen);
      if (unsupported_version && hec.category() == kHttpErrors) {
        // The version is what the server cannot take, whatever else is wrong with the head.
        co_await answer_and_close(problem(version_not_supported(*version_sent)),
                                  line_parsed ? &parser : nullptr, std::move(method));
      } else if (hec == bhttp::error::body_limit) {
        // Content-Length over the limit, seen once the whole head is parsed: its fields are all there.
        co_await answer_and_close(too_large(opt.body_limit), &parser);
      } else if (hec == bhttp::error::header_limit) {
        // A request line that leaves no room for the blank line ending a head without fields: its target is
        // too long (414); else the header fields are (431).
        const auto line_end = seen.find('\n');
        const bool line_too_long =
            !line_parsed && (line_end == std::string_view::npos || line_end + 3 > opt.header_limit);
        Response r = problem(line_too_long ? Error(Errc::uri_too_long, "the request target is too long")
                                           : Error(Errc::headers_too_large, "request headers are too large"));
        // The fields before the one over the limit were read: an Origin among them is answered.
        if (line_parsed) server_.add_cors(r, parser.get()[bhttp::field::origin]);
        co_await answer_and_close(std::move(r), nullptr, std::move(method));
      } else if (hec.category() == kHttpErrors) {
        Response r = problem(malformed_head(hec, parser.get()));
        co_await answer_and_close(std::move(r), line_parsed ? &parser : nullptr, std::move(method));
      }
      break;
    }
    if (unsupported_version) {
      co_await answer_and_close(problem(version_not_supported(*version_sent)), &parser);
      break;
    }
    // Beast's limit leaves out the request line when the line came in a read of its own (heads of 16.4 to
    // 20.4 KiB passed a 16 KiB limit, depending on the line's length): the whole head is held to it here.
    if (hn > opt.header_limit) {
      co_await answer_and_close(problem(Error(Errc::headers_too_large, "request headers are too large")),
                                &parser);
      break;
    }
    if (auto len = parser.content_length(); len && *len > opt.body_limit) {
      co_await answer_and_close(too_large(opt.body_limit), &parser);
      break;
    }
    if (auto bad = framing_error(parser)) {
      co_await answer_and_close(problem(*bad), &parser);
      break;
    }
    // Memory for the body before it is read: its Content-Length, or the limit for a chunked one.
    const BodyReservation body_memory(server_.body_bytes_,
                                      parser.chunked() ? opt.body_limit : parser.content_length().value_or(0),
                                      opt.body_memory);
    if (!body_memory) {
      server_.metrics_->body_memory_refusals.inc();
      co_await answer_and_close(
          problem(Error(Errc::unavailable, "the server holds as many request bodies as it may; try again")),
          &parser);
      break;
    }
    // Not to an HTTP/1.0 client, which has no 1xx (RFC 9110 10.1.1: it ignores the expectation).
    if (parser.get().version() >= 11 && beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      stream_.expires_after(opt.request_timeout);
      auto [cec, cn] = co_await bhttp::async_write(stream_, cont, kTuple);
      if (cec) break;
    }
    // Beast adds a chunked body's trailer fields to the header's; they are no header fields (RFC 9110
    // 6.5.1: never Authorization, If-Match, Host or framing), so the header as it was before the body is put
    // back once the body is read. Kept, an Authorization sent only in the trailer authenticated the request.
    // (Erasing the fields after the header's count was wrong: Beast files a field next to one of the same
    // name, so a trailer field named like a header field pushed the header's last fields out instead.)
    std::optional<bhttp::request_header<>> head;
    if (parser.chunked()) head.emplace(parser.get().base());
    if (!parser.is_done()) {
      stream_.expires_after(opt.request_timeout);
      auto [bec, bn] = co_await bhttp::async_read(stream_, buffer, parser, kTuple);
      if (bec == bhttp::error::body_limit) {
        co_await answer_and_close(too_large(opt.body_limit), &parser);
        break;
      }
      if (bec == bhttp::error::buffer_overflow) {
        Response r = problem(chunk_metadata_too_long(buffer.max_size()));
        co_await answer_and_close(std::move(r), &parser);
        break;
      }
      if (bec) {
        if (bec.category() == kHttpErrors)
          co_await answer_and_close(
              problem(Error(Errc::bad_request, "malformed HTTP request body: " + bec.message())), &parser);
        break;
      }
    }
    stream_.expires_never();

    auto msg = parser.release();
    if (head) msg.base() = std::move(*head);
    // RFC 9110 5.3: several Connection lines are one list. Beast reads the first line only: a "close" or an
    // "Upgrade" on a later line was not seen (the connection was kept; an upgrade got a 426).
    if (msg.count(bhttp::field::connection) > 1) {
      std::string joined;
      for (const auto& f : boost::make_iterator_range(msg.equal_range(bhttp::field::connection)))
        joined += (joined.empty() ? "" : ", ") + std::string(f.value());
      msg.set(bhttp::field::connection, joined);
    }
    std::string absolute_storage;
    const std::string_view origin_target = origin_form(msg.target(), absolute_storage);
    // A fragment ('#…') is the client's own and never sent (RFC 9110 7.1): one in the target is a 400 naming
    // it, rather than text taken into the last query parameter ("q=milk#x" searched for "milk#x").
    const bool has_fragment = origin_target.find('#') != std::string_view::npos;
    if (!has_fragment && boost::beast::websocket::is_upgrade(msg)) {
      if (auto it = server_.upgrades_.find(upgrade_path(origin_target)); it != server_.upgrades_.end()) {
        // The WebSocket side owns the connection from here on.
        handed_over_ = true;
        const auto started = std::chrono::steady_clock::now();
        const auto given = msg["X-Request-Id"];
        Server::Upgrade up;
        up.request_id = sane_request_id(given) ? std::string(given) : new_uuid();
        up.received = beast::buffers_to_string(buffer.data());
        up.answered = [server = &server_, request_id = up.request_id, path = std::string(it->first), started,
                       done = false](unsigned status, std::size_t bytes, std::string_view user_id) mutable {
          if (std::exchange(done, true)) return;
          const double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
          server->record(request_id, "GET", path, path, status, seconds, bytes, user_id);
        };
        it->second(std::move(stream_), std::move(msg), std::move(up));
        co_return;
      }
    }
    Request req;
    req.method = std::string(msg.method_string());
    const std::string_view target = origin_target;
    const auto qpos = target.find('?');
    std::optional<Error> bad_target;
    try {
      if (has_fragment)
        throw Error(Errc::bad_request,
                    "target: a request target has no fragment ('#'; write %23 for one in a value)",
                    {{"target", "has a fragment ('#'; write %23 for one in a value)"}});
      const std::string_view raw_path = target.substr(0, qpos);
      // An encoded '/' is part of a segment, not a separator (RFC 3986 2.2), and no resource has one: routed
      // after decoding, "/api%2Fv1%2Ftasks%2F{id}" reached the task, past a proxy's rules for its path.
      if (has_encoded_slash(raw_path))
        throw Error(Errc::not_found, "no resource at " + std::string(raw_path) +
                                         " (an encoded '/' is not a "
                                         "path separator)");
      try {
        req.path = url_decode(raw_path, /*plus_is_space=*/false);
      } catch (const Error& e) {
        throw Error(Errc::bad_request, std::string("path: ") + e.what(), {{"path", e.what()}});
      }
      if (qpos != std::string_view::npos) req.query = parse_query_string(target.substr(qpos + 1));
    } catch (const Error& e) {
      bad_target = e;
    }
    req.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    const bool keep_alive = msg.keep_alive();

    const bool asterisk_form = msg.target() == "*";
    Response r = co_await server_.dispatch(req, bad_target ? &*bad_target : nullptr, asterisk_form);

    const bool keep = keep_alive && !server_.stopping_.load();
    if (co_await write(r, req.request_id, msg.version(), keep, req.method == "HEAD") || !keep) break;
  }
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !ec && !server_.stopping_.load()) {
    // What the client still sends is read and dropped until it closes too, for kLinger at most.
    stream_.expires_after(kLinger);
    std::vector<char> sink(4096);
    for (;;) {
      auto [rec, n] = co_await stream_.async_read_some(asio::buffer(sink), kTuple);
      if (rec) break;
    }
  }
  stream_.socket().close(ec);
}

// ---- Server -----------------------------------------------------------------------------------------------

Server::Server(asio::io_context& ioc, ServerOptions options, const Router& router,
               metrics::Registry& registry, std::vector<asio::io_context*> session_contexts)
    : ioc_(ioc),
      session_contexts_(std::move(session_contexts)),
      options_(std::move(options)),
      router_(router),
      metrics_(std::make_unique<Metrics>(registry)),
      acceptor_(asio::make_strand(ioc)) {
  // Heads, and so the read buffer (read_buffer_limit), stay under the 64 KiB a field may have in Beast.
  options_.header_limit = std::min<std::size_t>(options_.header_limit, 48 * 1024);
}

Server::~Server() = default;

void Server::start() {
  // An IP literal, or a name such as localhost (its first address).
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive);
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(address, options_.port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  accept_loop();
}

tcp::endpoint Server::endpoint() const {
  return acceptor_.local_endpoint();
}

void Server::on_upgrade(std::string path, UpgradeHandler handler) {
  upgrades_[std::move(path)] = std::move(handler);
}

void Server::accept_loop() {
  asio::co_spawn(
      acceptor_.get_executor(),
      [this]() -> asio::awaitable<void> {
        std::uint64_t accept_failures = 0;
        auto last_accept_report = std::chrono::steady_clock::time_point();
        for (;;) {
          // An io_context run by its own thread alone serialises the connection's handlers: no strand
          // needed. On the shared `ioc_` (run by any number of threads), a strand does.
          asio::any_io_executor peer =
              session_contexts_.empty()
                  ? asio::any_io_executor(asio::make_strand(ioc_))
                  : asio::any_io_executor(
                        session_contexts_[next_context_++ % session_contexts_.size()]->get_executor());
          auto [ec, socket] = co_await acceptor_.async_accept(peer, kTuple);
          if (stopping_.load()) co_return;
          if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            // EMFILE, ENFILE, ENOBUFS: the connection waiting in the backlog fails again at once, so retrying
            // straight away spun a core and logged 150 000 lines a second. Keep serving the connections we
            // have, try again in 100 ms, and say so once every 10 s with the count.
            ++accept_failures;
            metrics_->accept_errors.inc();
            const auto now = std::chrono::steady_clock::now();
            if (now - last_accept_report >= std::chrono::seconds(10)) {
              spdlog::warn("accept failed {} times since the last report: {}; retrying every 100 ms",
                           accept_failures, ec.message());
              accept_failures = 0;
              last_accept_report = now;
            }
            asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
            co_await pause.async_wait(kTuple);
            continue;
          }
          socket.set_option(tcp::no_delay(true));
          auto session = std::make_shared<Session>(*this, beast::tcp_stream(std::move(socket)));
          add(session);
          auto ex = session->stream_executor();
          asio::co_spawn(ex, session->run(), [this, session](std::exception_ptr ep) {
            if (ep) {
              try {
                std::rethrow_exception(ep);
              } catch (const std::exception& e) {
                spdlog::error("session failed: {}", e.what());
              }
            }
            remove(session.get());
          });
        }
      },
      asio::detached);
}

void Server::add(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.insert(s);
  metrics_->connections.inc();
}

void Server::remove(Session* s) {
  std::lock_guard lock(sessions_mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    auto p = it->lock();
    if (!p || p.get() == s) {
      sessions_.erase(it);
      break;
    }
  }
  metrics_->connections.dec();
}

std::size_t Server::open_sessions() const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

void Server::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::lock_guard lock(sessions_mutex_);
  for (const auto& w : sessions_)
    if (auto s = w.lock()) s->close_if_idle();
}

asio::awaitable<void> Server::close_listener() {
  co_await asio::dispatch(acceptor_.get_executor(), asio::use_awaitable);
  beast::error_code ec;
  acceptor_.close(ec);
}

namespace {

// "a, b, c": an Allow header's value.
std::string comma_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items)
    out += (out.empty() ? "" : ", ") + i;
  return out;
}

// A parameter the route does not take is a 422 naming it, and what the route takes.
void check_query(const Request& req, const std::vector<std::string>& names) {
  for (const auto& [name, value] : req.query) {
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    const std::string takes = comma_list(names);
    throw invalid(name, "not a parameter of " + req.method + " " + req.route + " (it takes " +
                            (takes.empty() ? std::string("none") : takes) + ")");
  }
}

}  // namespace

asio::awaitable<Response> Server::dispatch(Request& req, const Error* bad_target, bool asterisk_form) {
  const auto started = std::chrono::steady_clock::now();
  auto given = req.header("x-request-id");
  req.request_id = sane_request_id(given) ? std::string(given) : new_uuid();
  metrics_->in_flight.inc();

  Response resp;
  std::string route = "unmatched";
  std::optional<Error> failure;
  // CORS (Fetch standard): a browser page of a listed origin may call the API; its answers say so, and its
  // preflights (OPTIONS with Access-Control-Request-Method) are answered here, before any token is asked.
  const std::string_view origin = req.header("origin");
  const bool origin_allowed =
      !origin.empty() && !options_.allowed_origins.empty() && listed_origin(origin, options_.allowed_origins);
  try {
    if (bad_target) throw *bad_target;
    // RFC 9110 9.3.7: OPTIONS * asks what the server can do at all; no other method takes the target *.
    if (asterisk_form && req.method != "OPTIONS")
      throw Error(Errc::bad_request, "target: * (the asterisk form) is for OPTIONS alone",
                  {{"target", "* is for OPTIONS alone"}});
    auto m = router_.match(req.method, req.path);
    if (m.route.empty() && !asterisk_form) throw Error(Errc::not_found, "no resource at " + req.path);
    route = asterisk_form ? "*" : m.route;
    // The path's methods, for Allow and preflights (not on the served path).
    const auto allowed = [&m] { return comma_list(m.allowed); };
    if (asterisk_form) {
      auto methods = router_.methods();
      methods.emplace_back("OPTIONS");  // this one, and preflights
      resp = Response::no_content();
      resp.with_header("Allow", comma_list(methods));
    } else if (req.method == "OPTIONS" && !m.handler &&
               !req.header("access-control-request-method").empty()) {
      if (!origin_allowed)
        throw Error(Errc::forbidden, "origin not allowed: " + std::string(origin),
                    {{"Origin", "not in TODO_ALLOWED_ORIGINS"}});
      resp = Response::no_content();
      resp.with_header("Access-Control-Allow-Methods", allowed())
          .with_header("Access-Control-Allow-Headers", kCorsRequestHeaders)
          .with_header("Access-Control-Max-Age", "600");
    } else if (!m.handler) {
      const std::string allow = allowed();
      resp = problem(Error(Errc::method_not_allowed, req.method + " is not supported here; use " + allow));
      resp.with_header("Allow", allow);
    } else {
      req.route = m.route;
      req.params = std::move(m.params);
      router_.run_gate(req);
      if (!m.query->any_checked_by_handler) {
        try {
          check_query(req, m.query->names);
        } catch (const Error&) {
          router_.run_before_query_refusal(req);
          throw;
        }
      }
      std::optional<Error> not_found;
      try {
        resp = co_await (*m.handler)(req);
      } catch (const Error& e) {
        if (e.code() != Errc::not_found) throw;
        not_found = e;
      }
      if (not_found) {
        co_await router_.run_on_not_found(req);  // not in the handler: a catch block cannot co_await
        throw *not_found;
      }
    }
  } catch (const Error& e) {
    failure = e;
  } catch (const std::exception& e) {
    log::event(spdlog::level::err, "unhandled error",
               {{"request_id", req.request_id}, {"route", route}, {"error", e.what()}});
    failure = Error(Errc::internal, "an internal error occurred; the request id identifies it in the logs");
  }
  if (failure) resp = problem(*failure);
  add_cors(resp, origin);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_->in_flight.dec();
  record(req.request_id, req.method, req.path, route, resp.status, seconds, resp.body.size(), req.user_id);
  co_return resp;
}

void Server::add_cors(Response& resp, std::string_view origin) const {
  if (origin.empty() || options_.allowed_origins.empty()) return;
  if (listed_origin(origin, options_.allowed_origins)) {
    resp.with_header("Access-Control-Allow-Origin", std::string(origin))
        .with_header("Access-Control-Expose-Headers", kCorsResponseHeaders);
  }
  resp.with_header("Vary", "Origin");
}

void Server::record(const std::string& request_id, const std::string& method, const std::string& path,
                    const std::string& route, unsigned status, double seconds, std::size_t bytes,
                    std::string_view user_id) {
  const std::string label(method_label(method));
  metrics_->requests.with({label, route, std::to_string(status)}).inc();
  metrics_->duration.with({label, route}).observe(seconds);
  if (log::enabled(spdlog::level::info))
    log::event(spdlog::level::info, "request",
               {{"request_id", request_id},
                {"method", method},
                {"path", path},
                {"route", route},
                {"status", status},
                {"duration_ms", seconds * 1000.0},
                {"bytes", bytes},
                {"user_id", user_id}});
}

}  // namespace todo::http

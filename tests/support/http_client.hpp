// Blocking HTTP/1.1 client for tests (libcurl, keep-alive) and a raw socket for misbehaving-client tests.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace todo::test {

/// A response as the client saw it.
struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined with ", "
  std::string body;

  /// The body parsed as JSON; throws (quoting the body) when it is not.
  nlohmann::json json() const;
  /// The header's value, "" when absent. `name` in lower case.
  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const { return headers.count(name) != 0; }
  /// "<status> <body>" for assertion messages.
  std::string describe() const;
};

/// Request headers. A header given an empty value is removed from what libcurl would send by itself.
using Headers = std::map<std::string, std::string>;

/// One keep-alive connection's worth of client (a libcurl easy handle). Not thread-safe; one per thread.
class HttpClient {
 public:
  explicit HttpClient(std::string base_url);
  ~HttpClient();
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&& other) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `method` `path` (which includes any query) with an optional body; a body defaults to
  /// Content-Type: application/json. Throws on transport errors (connection refused, reset, timeout).
  HttpResponse request(const std::string& method, const std::string& path,
                       std::optional<std::string> body = {}, const Headers& headers = {});

  HttpResponse get(const std::string& path, const Headers& headers = {});
  HttpResponse post(const std::string& path, const nlohmann::json& body, const Headers& headers = {});
  HttpResponse post(const std::string& path);  // no body
  HttpResponse patch(const std::string& path, const nlohmann::json& body, const Headers& headers = {});
  HttpResponse put(const std::string& path, const nlohmann::json& body, const Headers& headers = {});
  HttpResponse del(const std::string& path, const Headers& headers = {});

  /// Adds `Authorization: Bearer <token>` to every request from now on (unless a request sets Authorization).
  void set_token(std::string token) { token_ = std::move(token); }
  void clear_token() { token_.reset(); }
  const std::optional<std::string>& token() const { return token_; }
  /// Per-request timeout (default 30 s).
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  void* curl_ = nullptr;  // CURL*
  std::optional<std::string> token_;
  std::chrono::milliseconds timeout_{30'000};
};

/// Percent-encodes a query parameter value.
std::string url_encode(std::string_view value);

/// A plain TCP connection for tests that misbehave on purpose (partial headers, slow bodies).
class RawConnection {
 public:
  /// Connects to host:port, or to the host and port of an "http://host:port" URL.
  RawConnection(const std::string& host, int port);
  explicit RawConnection(const std::string& base_url);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// Writes all of `data`; false when the peer has closed or reset the connection.
  bool send(std::string_view data);
  /// Reads whatever arrives until the peer closes the connection or `timeout` passes; true when it closed.
  /// What was read is appended to received().
  bool wait_closed(std::chrono::milliseconds timeout);
  /// Reads until `received()` holds one complete HTTP response (headers + Content-Length body), the peer
  /// closes, or `timeout` passes; returns the parsed response when complete and removes its bytes from
  /// received().
  std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }
  bool closed() const { return closed_; }
  void close();

 private:
  /// One read of up to `timeout`; false when nothing more can come (closed/reset) or on timeout.
  bool read_some(std::chrono::milliseconds timeout);

  int fd_ = -1;
  bool closed_ = false;
  std::string received_;
};

/// Parses the complete raw HTTP response at the start of `raw`; nullopt when incomplete. `consumed`, when
/// given, receives its length in bytes.
std::optional<HttpResponse> parse_http_response(std::string_view raw, std::size_t* consumed = nullptr);

}  // namespace todo::test

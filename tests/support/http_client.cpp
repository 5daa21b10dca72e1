// Blocking HTTP client over libcurl (one easy handle: one keep-alive connection) and a raw TCP connection.
#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <regex>
#include <stdexcept>

namespace todo::test {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

void add_header(std::map<std::string, std::string>& headers, std::string_view line) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string name = lower(trim(line.substr(0, colon)));
  const std::string value = trim(line.substr(colon + 1));
  auto [it, inserted] = headers.emplace(name, value);
  if (!inserted) it->second += ", " + value;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * n);
  // A new status line (after "100 Continue" or a redirect) starts a new header set.
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
  } else {
    add_header(*headers, line);
  }
  return size * n;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

nlohmann::json HttpResponse::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error("response body is not JSON (" + std::string(e.what()) + "): " + describe());
  }
}

std::string HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpResponse::describe() const {
  std::string b = body.size() > 2000 ? body.substr(0, 2000) + "…" : body;
  return std::to_string(status) + " " + b;
}

HttpClient::HttpClient(std::string base_url) : base_url_(std::move(base_url)) {
  global_init();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : base_url_(std::move(other.base_url_)),
      curl_(std::exchange(other.curl_, nullptr)),
      token_(std::move(other.token_)),
      timeout_(other.timeout_) {}

HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
  if (this != &other) {
    if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
    base_url_ = std::move(other.base_url_);
    curl_ = std::exchange(other.curl_, nullptr);
    token_ = std::move(other.token_);
    timeout_ = other.timeout_;
  }
  return *this;
}

HttpResponse HttpClient::request(const std::string& method, const std::string& path,
                                 std::optional<std::string> body, const Headers& headers) {
  auto* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache
  HttpResponse response;
  const std::string url = base_url_ + path;

  curl_slist* list = nullptr;
  const auto has = [&](const std::string& name) {
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return lower(h.first) == name; });
  };
  for (const auto& [name, value] : headers) {
    list = curl_slist_append(list, (value.empty() ? name + ":" : name + ": " + value).c_str());
  }
  if (body && !has("content-type")) list = curl_slist_append(list, "Content-Type: application/json");
  if (!has("expect")) list = curl_slist_append(list, "Expect:");
  if (token_ && !has("authorization"))
    list = curl_slist_append(list, ("Authorization: Bearer " + *token_).c_str());

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROXY, "");
  curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 2000L);

  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    throw std::runtime_error(method + " " + path + ": " + curl_easy_strerror(rc));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

HttpResponse HttpClient::get(const std::string& path, const Headers& headers) {
  return request("GET", path, std::nullopt, headers);
}

HttpResponse HttpClient::post(const std::string& path, const nlohmann::json& body, const Headers& headers) {
  return request("POST", path, body.dump(), headers);
}

HttpResponse HttpClient::post(const std::string& path) {
  return request("POST", path, std::nullopt);
}

HttpResponse HttpClient::patch(const std::string& path, const nlohmann::json& body, const Headers& headers) {
  return request("PATCH", path, body.dump(), headers);
}

HttpResponse HttpClient::put(const std::string& path, const nlohmann::json& body, const Headers& headers) {
  return request("PUT", path, body.dump(), headers);
}

HttpResponse HttpClient::del(const std::string& path, const Headers& headers) {
  return request("DELETE", path, std::nullopt, headers);
}

std::string url_encode(std::string_view value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

RawConnection::RawConnection(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string h = host;
  if (h.size() > 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
  if (getaddrinfo(h.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    throw std::runtime_error("RawConnection: cannot resolve " + host);
  }
  fd_ = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  const int rc = fd_ < 0 ? -1 : connect(fd_, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0) {
    close();
    throw std::runtime_error("RawConnection: cannot connect to " + host + ":" + std::to_string(port));
  }
}

namespace {
std::pair<std::string, int> split_url(const std::string& url) {
  static const std::regex kUrl(R"(^https?://(\[[^\]]+\]|[^:/]+):([0-9]+))");
  std::smatch m;
  if (!std::regex_search(url, m, kUrl)) throw std::runtime_error("RawConnection: bad URL " + url);
  return {m[1].str(), std::stoi(m[2].str())};
}
}  // namespace

RawConnection::RawConnection(const std::string& base_url)
    : RawConnection(split_url(base_url).first, split_url(base_url).second) {}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawConnection::read_some(std::chrono::milliseconds timeout) {
  if (closed_ || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  const int r = poll(&p, 1, static_cast<int>(std::max<long long>(timeout.count(), 0)));
  if (r <= 0) return false;
  char buf[4096];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    received_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  closed_ = true;  // orderly close (0) or reset
  return false;
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    read_some(left);
  }
  return closed_;
}

std::optional<HttpResponse> RawConnection::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::size_t consumed = 0;
    if (auto r = parse_http_response(received_, &consumed)) {
      received_.erase(0, consumed);
      return r;
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (closed_ || left.count() <= 0) return std::nullopt;
    read_some(left);
  }
}

std::optional<HttpResponse> parse_http_response(std::string_view raw, std::size_t* consumed) {
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view head = raw.substr(0, end);
  HttpResponse response;
  const auto first_eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, first_eol);
  const auto sp = status_line.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  response.status = std::strtol(std::string(status_line.substr(sp + 1, 3)).c_str(), nullptr, 10);
  std::size_t pos = first_eol == std::string_view::npos ? head.size() : first_eol + 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = head.size();
    add_header(response.headers, head.substr(pos, eol - pos));
    pos = eol + 2;
  }
  std::size_t length = 0;
  if (auto it = response.headers.find("content-length"); it != response.headers.end()) {
    length = std::stoul(it->second);
  }
  if (raw.size() < end + 4 + length) return std::nullopt;
  response.body = std::string(raw.substr(end + 4, length));
  if (consumed != nullptr) *consumed = end + 4 + length;
  return response;
}

}  // namespace todo::test

// SMTP with libcurl, and MIME composition.
#include "todo/reminders/smtp.hpp"

#include <curl/curl.h>
#include <date/date.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace todo::reminders {
namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16 | static_cast<unsigned char>(in[i + 1]) << 8 |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (i < in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kAlphabet[n >> 18 & 63];
    out += kAlphabet[n >> 12 & 63];
    out += i + 1 < in.size() ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

// base64 in lines of 76 characters (RFC 2045).
std::string base64_lines(std::string_view in) {
  const std::string b = base64(in);
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 76)
    out += b.substr(i, 76) + "\r\n";
  return out;
}

// s on one line: line breaks become spaces (no header injection).
std::string one_line(std::string_view s) {
  std::string out(s);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80 && static_cast<unsigned char>(c) >= 0x20;
  });
}

// Text a mail client would read as an RFC 2047 encoded word ("=?UTF-8?B?...?=") and show decoded.
bool looks_encoded(std::string_view s) {
  return s.find("=?") != std::string_view::npos;
}

// A header value without line breaks (no header injection), as an RFC 2047 encoded word unless it is plain
// printable ASCII that no client would decode (a title "=?UTF-8?B?QWRtaW4=?=" is shown as typed).
std::string header_text(std::string_view s) {
  const std::string clean = one_line(s);
  if (printable_ascii(clean) && !looks_encoded(clean)) return clean;
  // Encoded words of at most 75 characters: 45 input bytes each, split on UTF-8 character boundaries.
  std::string out;
  std::size_t i = 0;
  while (i < clean.size()) {
    std::size_t end = std::min(clean.size(), i + 45);
    while (end < clean.size() && (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80)
      --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(clean).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

// An address for a header: no line breaks (no header injection) and nothing that would end it early.
std::string header_address(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '\r' && c != '\n' && c != '<' && c != '>') out += c;
  return out;
}

// RFC 5322 atext: the characters a phrase's words may have without quoting.
bool is_atext(char c) {
  if (c == '\0') return false;
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

// A display name as an RFC 5322 phrase: as it is when it is words of atext separated by single spaces; RFC
// 2047 encoded words when it has non-ASCII or control characters; else a quoted-string (\ and " escaped), so
// that specials such as , < > @ ; : stay inside the name ("Doe, John" is one name, not two addresses), and
// text that looks like an encoded word is shown as typed (clients decode none inside quotes).
std::string phrase(std::string_view name) {
  const std::string text = one_line(name);
  if (!printable_ascii(text)) return header_text(text);
  bool plain = !text.empty() && text.front() != ' ' && text.back() != ' ' && !looks_encoded(text);
  for (std::size_t i = 0; plain && i < text.size(); ++i)
    plain = is_atext(text[i]) || (text[i] == ' ' && text[i + 1] != ' ');
  if (plain) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string rfc5322_date(Instant t) {
  return date::format("%a, %d %b %Y %H:%M:%S +0000", std::chrono::floor<std::chrono::seconds>(t));
}

std::once_flag curl_init;

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t read_cb(char* buffer, std::size_t size, std::size_t nitems, void* userp) {
  auto* u = static_cast<Upload*>(userp);
  const std::size_t n = std::min(size * nitems, u->data->size() - u->offset);
  std::memcpy(buffer, u->data->data() + u->offset, n);
  u->offset += n;
  return n;
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string compose(const Mail& m, const std::string& boundary) {
  std::string h;
  const std::string to = header_address(m.to);
  h += "From: " + header_address(m.from) + "\r\n";
  h += "To: " + (m.to_name.empty() ? to : phrase(m.to_name) + " <" + to + ">") + "\r\n";
  h += "Subject: " + header_text(m.subject) + "\r\n";
  h += "Date: " + rfc5322_date(m.date) + "\r\n";
  h += "Message-ID: " + m.message_id + "\r\n";
  for (const auto& [name, value] : m.headers)
    h += name + ": " + header_text(value) + "\r\n";
  h += "MIME-Version: 1.0\r\n";
  h += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  h += "--" + boundary + "\r\n";
  h += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  h += base64_lines(m.text);
  h += "--" + boundary + "\r\n";
  h += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  h += base64_lines(m.html);
  h += "--" + boundary + "--\r\n";
  return h;
}

SmtpClient::SmtpClient(SmtpOptions options) : options_(std::move(options)) {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  if (!curl_) throw std::runtime_error("curl_easy_init failed");
}

SmtpClient::~SmtpClient() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

std::string SmtpClient::send(const std::string& to, const std::string& message) {
  CURL* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // keeps the connection cache: the next message reuses the session
  char errbuf[CURL_ERROR_SIZE] = {};
  Upload upload{&message};
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  const std::string from = "<" + options_.from + ">";
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<long>(options_.timeout.count(), 10'000)));
  const long ssl = options_.starttls == StartTls::required        ? CURLUSESSL_ALL
                   : options_.starttls == StartTls::opportunistic ? CURLUSESSL_TRY
                                                                  : CURLUSESSL_NONE;
  curl_easy_setopt(c, CURLOPT_USE_SSL, ssl);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(rcpt);
  if (rc == CURLE_OK) return {};
  long response = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
  std::string error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  if (response) error += " (SMTP " + std::to_string(response) + ")";
  return error;
}

}  // namespace todo::reminders

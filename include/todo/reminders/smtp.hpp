// E-mail over SMTP with libcurl (smtp:// with optional or required STARTTLS, or smtps://), and the MIME
// message of a reminder.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "todo/core/time.hpp"

namespace todo::reminders {

/// STARTTLS on smtp:// URLs: off, opportunistic (when the server offers it) or required.
enum class StartTls { off, opportunistic, required };

/// Where and how to send; `url` empty means no e-mail at all.
struct SmtpOptions {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string user;
  std::string password;
  std::string from;  // the envelope and header sender address
  StartTls starttls = StartTls::opportunistic;
  std::string ca_file;  // extra trust anchors (PEM) for the server certificate, e.g. a private CA
  std::chrono::milliseconds timeout{30'000};
};

/// One message to compose.
struct Mail {
  std::string from;
  std::string to;
  std::string to_name;
  std::string subject;
  std::string message_id;  // with the angle brackets
  Instant date{};
  std::string text;                                          // plain-text part
  std::string html;                                          // HTML part
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

/// RFC 5322 text with CRLF line ends: headers (non-ASCII subject and names as RFC 2047 encoded words, a
/// display name with specials as a quoted-string, no line break in any of them) and a multipart/alternative
/// body of the text and HTML parts, both UTF-8 in base64.
std::string compose(const Mail& m, const std::string& boundary);

/// Escapes &, <, >, " and ' for HTML text.
std::string html_escape(std::string_view s);

/// One SMTP connection's worth of state (a curl easy handle, reusing the connection between messages). Not
/// thread-safe: one per sending thread.
class SmtpClient {
 public:
  explicit SmtpClient(SmtpOptions options);
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  /// Sends `message` (composed) to `to`; returns an empty string on success, else what went wrong.
  std::string send(const std::string& to, const std::string& message);

 private:
  SmtpOptions options_;
  void* curl_;
};

}  // namespace todo::reminders

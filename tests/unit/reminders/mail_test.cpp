// Reminder e-mail composition: headers, encoded words, multipart/alternative, Message-ID.
#include <gtest/gtest.h>

#include "todo/reminders/scheduler.hpp"
#include "todo/reminders/smtp.hpp"

namespace todo::reminders {
namespace {

std::string unbase64(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : in) {
    const auto p = kAlphabet.find(c);
    if (p == std::string::npos) continue;  // line breaks and padding
    buf = buf << 6 | static_cast<unsigned>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>(buf >> bits & 0xFF);
    }
  }
  return out;
}

Mail sample() {
  Mail m;
  m.from = "todo@example.com";
  m.to = "ann@example.com";
  m.to_name = "Ann";
  m.subject = "Reminder: pay rent";
  m.message_id =
      message_id("11111111-1111-1111-1111-111111111111", Instant{std::chrono::seconds{1772700000}});
  m.date = *parse_rfc3339("2026-03-05T09:00:00Z");
  m.text = "This is your reminder for: pay rent\n";
  m.html = "<p>This is your reminder for: <strong>pay rent</strong></p>";
  m.headers = {{"X-Todo-Reminder-Id", "11111111-1111-1111-1111-111111111111"}};
  return m;
}

TEST(Mail, MessageIdIsDerivedFromTheReminder) {
  using std::chrono::microseconds;
  const Instant at{microseconds{42'050'000}};
  EXPECT_EQ(message_id("abc", at), "<reminder-abc-42.050000@todo-server>");
  EXPECT_EQ(message_id("abc", at), message_id("abc", at));
  // snoozed or moved: a new firing, a new message, also within the same second
  EXPECT_NE(message_id("abc", at), message_id("abc", Instant{microseconds{43'050'000}}));
  EXPECT_NE(message_id("abc", at), message_id("abc", Instant{microseconds{42'900'000}}));
  EXPECT_EQ(message_id("abc", Instant{microseconds{-1}}), "<reminder-abc--1.999999@todo-server>");
}

TEST(Mail, HeadersAndParts) {
  const std::string msg = compose(sample(), "BOUNDARY");
  EXPECT_NE(msg.find("From: todo@example.com\r\n"), std::string::npos);
  EXPECT_NE(msg.find("To: Ann <ann@example.com>\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Subject: Reminder: pay rent\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Date: Thu, 05 Mar 2026 09:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(
      msg.find(
          "Message-ID: <reminder-11111111-1111-1111-1111-111111111111-1772700000.000000@todo-server>\r\n"),
      std::string::npos);
  EXPECT_NE(msg.find("X-Todo-Reminder-Id: 11111111-1111-1111-1111-111111111111\r\n"), std::string::npos);
  EXPECT_NE(msg.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Content-Type: multipart/alternative; boundary=\"BOUNDARY\"\r\n"), std::string::npos);
  const auto text = msg.find("Content-Type: text/plain; charset=utf-8");
  const auto html = msg.find("Content-Type: text/html; charset=utf-8");
  ASSERT_NE(text, std::string::npos);
  ASSERT_NE(html, std::string::npos);
  EXPECT_LT(text, html);  // the preferred (richer) part last
  EXPECT_NE(msg.find("--BOUNDARY--\r\n"), std::string::npos);
  // Every line ends in CRLF and none is longer than 998 characters (RFC 5322).
  std::size_t start = 0;
  while (start < msg.size()) {
    const auto end = msg.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    ASSERT_GT(end, start);
    EXPECT_EQ(msg[end - 1], '\r');
    EXPECT_LE(end - start, 998u);
    start = end + 1;
  }
  // The parts decode to the given text.
  const auto text_body = msg.find("\r\n\r\n", text) + 4;
  EXPECT_EQ(unbase64(msg.substr(text_body, msg.find("--BOUNDARY", text_body) - text_body)), sample().text);
  const auto html_body = msg.find("\r\n\r\n", html) + 4;
  EXPECT_EQ(unbase64(msg.substr(html_body, msg.find("--BOUNDARY", html_body) - html_body)), sample().html);
}

TEST(Mail, EncodesNonAsciiAndRefusesHeaderInjection) {
  Mail m = sample();
  m.subject = "Erinnerung: Miete überweisen";
  m.to_name = "Zoë";
  m.headers = {{"X-Test", "a\r\nBcc: evil@example.com"}};
  const std::string msg = compose(m, "B");
  EXPECT_NE(msg.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_EQ(msg.find("überweisen"), std::string::npos);
  EXPECT_NE(msg.find("To: =?UTF-8?B?Wm/Dqw==?= <ann@example.com>"), std::string::npos);
  EXPECT_EQ(msg.find("\r\nBcc:"), std::string::npos);
  const auto s = msg.find("Subject: =?UTF-8?B?") + 19;
  EXPECT_EQ(unbase64(msg.substr(s, msg.find("?=", s) - s)), "Erinnerung: Miete überweisen");
}

// The To header's display name is an RFC 5322 phrase: quoted when it has specials, so that "Doe, John" is one
// name and "Bob <admin@evil.example>" no address. (It went in as it was: two addresses, or the wrong one.)
TEST(Mail, DisplayNamesAreQuotedWhenTheyHaveSpecials) {
  const auto to_line = [](const std::string& name) {
    Mail m = sample();
    m.to_name = name;
    const std::string msg = compose(m, "B");
    const auto start = msg.find("\r\nTo: ") + 2;
    return msg.substr(start, msg.find("\r\n", start) - start);
  };
  EXPECT_EQ(to_line("Ann Smith"), "To: Ann Smith <ann@example.com>");
  EXPECT_EQ(to_line("Doe, John"), "To: \"Doe, John\" <ann@example.com>");
  EXPECT_EQ(to_line("Bob <admin@evil.example>"), "To: \"Bob <admin@evil.example>\" <ann@example.com>");
  EXPECT_EQ(to_line(R"(Say "hi" \o/)"), R"(To: "Say \"hi\" \\o/" <ann@example.com>)");
  EXPECT_EQ(to_line("J. Doe"), "To: \"J. Doe\" <ann@example.com>");
  EXPECT_EQ(to_line(" Ann"), "To: \" Ann\" <ann@example.com>");
  // Text a client would decode as an RFC 2047 encoded word is quoted, so it is shown as typed.
  EXPECT_EQ(to_line("=?UTF-8?B?QWRtaW4=?="), "To: \"=?UTF-8?B?QWRtaW4=?=\" <ann@example.com>");
  EXPECT_EQ(to_line("a=b"), "To: a=b <ann@example.com>");
  EXPECT_EQ(to_line("Ann\r\nBcc: evil@example.com"), "To: \"Ann  Bcc: evil@example.com\" <ann@example.com>");
  EXPECT_EQ(to_line("Zoë, Doe").rfind("To: =?UTF-8?B?", 0), 0u);
  // The From and To addresses cannot carry a header of their own either.
  Mail m = sample();
  m.from = "todo@example.com\r\nBcc: evil@example.com";
  m.to = "ann@example.com>\r\nBcc: evil@example.com";
  const std::string msg = compose(m, "B");
  EXPECT_EQ(msg.find("\r\nBcc:"), std::string::npos);
  // A title with specials or line breaks stays in the Subject.
  m = sample();
  m.subject = "Reminder: a, b <c@d> \"e\"\r\nBcc: evil@example.com";
  EXPECT_NE(compose(m, "B").find("Subject: Reminder: a, b <c@d> \"e\"  Bcc: evil@example.com\r\n"),
            std::string::npos);  // A title that looks like an encoded word is encoded itself, so that a
                                 // client shows it as typed.
  m.subject = "Reminder: =?UTF-8?B?QWRtaW4=?=";
  EXPECT_NE(compose(m, "B").find("Subject: =?UTF-8?B?UmVtaW5kZXI6ID0/VVRGLTg/Qj9RV1J0YVc0PT89?=\r\n"),
            std::string::npos);
}

// The "Due:" line of a reminder e-mail, in the task's zone, with summer time after 2037 as before it (the
// date library alone has none after 2037: "2040-07-01 08:00 CET").
TEST(Mail, DueTimeInTheTasksZone) {
  EXPECT_EQ(due_text(*parse_rfc3339("2036-07-01T07:00:00Z"), "Europe/Berlin"), "2036-07-01 09:00 CEST");
  EXPECT_EQ(due_text(*parse_rfc3339("2040-07-01T07:00:00Z"), "Europe/Berlin"), "2040-07-01 09:00 CEST");
  EXPECT_EQ(due_text(*parse_rfc3339("2040-01-15T08:00:30Z"), "Europe/Berlin"), "2040-01-15 09:00 CET");
  EXPECT_EQ(due_text(*parse_rfc3339("2040-07-01T07:00:00Z"), "No/Such_Zone"), "2040-07-01 07:00 UTC");
  // An all-day task: its day in its own zone, no time (its due_at is that day's start there).
  EXPECT_EQ(due_text(*parse_rfc3339("2026-12-23T23:00:00Z"), "Europe/Berlin", true), "2026-12-24 (all day)");
  EXPECT_EQ(due_text(*parse_rfc3339("2026-12-24T00:00:00Z"), "America/New_York", true),
            "2026-12-23 (all day)");
  EXPECT_EQ(due_text(*parse_rfc3339("2040-07-01T00:00:00+02:00"), "Europe/Berlin", true),
            "2040-07-01 (all day)");
}

TEST(Mail, HtmlEscape) {
  EXPECT_EQ(html_escape("<b>Tom & \"Jerry\"</b>'s"), "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&lt;/b&gt;&#39;s");
}

}  // namespace
}  // namespace todo::reminders

// Conversions at the SQL boundary.
#include "todo/db/statements.hpp"

#include <mutex>
#include <stdexcept>
#include <string_view>

namespace todo::db {
namespace {

std::mutex& statements_mutex() {
  static std::mutex m;
  return m;
}
std::vector<Statement>& statements() {
  static std::vector<Statement> s;
  return s;
}

}  // namespace

void register_statements(std::initializer_list<Statement> list) {
  std::lock_guard lock(statements_mutex());
  statements().insert(statements().end(), list.begin(), list.end());
}

std::vector<Statement> registered_statements() {
  std::lock_guard lock(statements_mutex());
  return statements();
}

std::vector<std::string> session_settings(const SessionLimits& limits) {
  // Instants are UTC on the wire and in text results.
  std::vector<std::string> set{"SET TIME ZONE 'UTC'"};
  if (limits.statement.count() > 0)
    set.push_back("SET statement_timeout = " + std::to_string(limits.statement.count()));
  if (limits.lock.count() > 0) set.push_back("SET lock_timeout = " + std::to_string(limits.lock.count()));
  return set;
}

void prepare_session(pqxx::connection_base& c, const SessionLimits& limits) {
  {
    pqxx::nontransaction n(c);
    for (const auto& statement : session_settings(limits))
      n.exec(statement);
  }
  std::lock_guard lock(statements_mutex());
  for (const auto& s : statements())
    c.prepare(s.name, s.sql);
}

bool cancelled_state(std::string_view sqlstate) {
  return sqlstate == "57014" || sqlstate == "55P03";
}

Error cancelled_error() {
  return Error(Errc::unavailable,
               "the database did not finish in time (a statement ran or waited for a lock too long); nothing "
               "was written");
}

Error unanswered_error(std::chrono::milliseconds answer) {
  return Error(Errc::unavailable, "the database did not answer within " + std::to_string(answer.count()) +
                                      " ms; nothing was written");
}

namespace {

void append_element(std::string& a, const std::string& item) {
  a += '"';
  for (char c : item) {
    if (c == '"' || c == '\\') a += '\\';
    a += c;
  }
  a += '"';
}

}  // namespace

std::string array_literal(const std::vector<std::string>& items) {
  std::string a = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) a += ",";
    append_element(a, items[i]);
  }
  return a + "}";
}

std::vector<std::string> parse_text_array(std::string_view text) {
  auto malformed = [&] {
    return std::runtime_error("malformed array text: " + std::string(text.substr(0, 80)));
  };
  std::size_t i = 0;
  if (!text.empty() && text[0] == '[') {  // dimension decoration: [1:2]={...}
    const auto eq = text.find('=');
    if (eq == std::string_view::npos) throw malformed();
    i = eq + 1;
  }
  if (i >= text.size() || text[i] != '{') throw malformed();
  std::vector<std::string> out;
  int depth = 0;
  bool element_expected = true;  // after '{' or ',': an element (or a nested '{', or '}' of an empty array)
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '{') {
      if (!element_expected) throw malformed();
      ++depth;
    } else if (c == '}') {
      if (depth == 0 || (element_expected && text[i - 1] != '{')) throw malformed();  // only {} is empty
      --depth;
      element_expected = false;
      if (depth == 0) {
        ++i;
        break;
      }
    } else if (c == ',') {
      if (element_expected || depth == 0) throw malformed();
      element_expected = true;
    } else if (c == '"') {
      if (!element_expected) throw malformed();
      std::string value;
      for (++i;; ++i) {
        if (i >= text.size()) throw malformed();
        if (text[i] == '\\') {
          if (++i >= text.size()) throw malformed();
          value += text[i];
        } else if (text[i] == '"') {
          break;
        } else {
          value += text[i];
        }
      }
      out.push_back(std::move(value));
      element_expected = false;
    } else {
      // An unquoted element runs to the next ',' or '}' (PostgreSQL quotes any with white space, braces,
      // quotes, backslashes or commas, and the empty string).
      if (!element_expected) throw malformed();
      const std::size_t end = text.find_first_of(",}", i);
      if (end == std::string_view::npos) throw malformed();
      const std::string_view value = text.substr(i, end - i);
      if (value.find_first_of("\"\\{") != std::string_view::npos) throw malformed();
      if (value != "NULL") out.emplace_back(value);
      i = end - 1;
      element_expected = false;
    }
  }
  if (depth != 0 || i != text.size()) throw malformed();
  return out;
}

std::string record_separated(const std::vector<std::string>& items) {
  std::size_t size = items.size();
  for (const auto& item : items)
    size += item.size();
  std::string out;
  out.reserve(size);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].empty() || items[i].find('\x1e') != std::string::npos)
      throw std::invalid_argument("record_separated: an empty item or one containing 0x1E");
    if (i) out += '\x1e';
    out += items[i];
  }
  return out;
}

std::string array_literal(const std::vector<std::optional<std::string>>& items) {
  std::string a = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) a += ",";
    if (items[i])
      append_element(a, *items[i]);
    else
      a += "NULL";  // unquoted: the SQL null ("NULL" quoted is the text)
  }
  return a + "}";
}

Instant instant_text(const char* text) {
  auto t = parse_pg_timestamptz(text);
  if (!t) throw std::runtime_error(std::string("unexpected timestamptz from the database: ") + text);
  return *t;
}

}  // namespace todo::db

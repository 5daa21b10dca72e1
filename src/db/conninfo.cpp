// What libpq says of a connection string before the database answers.
#include "todo/db/conninfo.hpp"

#include <libpq-fe.h>

namespace todo::db {

bool refuses_a_value(std::string_view m) {
  return m.starts_with("invalid ") || m.find("failed: invalid ") != std::string_view::npos;
}

std::optional<std::string> refused_value(const std::string& conninfo) {
  // PQconnectStart checks the options, then starts to connect without waiting for an answer: the attempt is
  // dropped at once (PostgreSQL logs nothing for a connection that sends nothing).
  PGconn* pg = PQconnectStart(conninfo.c_str());
  if (pg == nullptr) return std::nullopt;
  std::optional<std::string> refused;
  if (PQstatus(pg) == CONNECTION_BAD) {
    std::string message = PQerrorMessage(pg);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    if (refuses_a_value(message)) refused = std::move(message);
  }
  PQfinish(pg);
  return refused;
}

}  // namespace todo::db

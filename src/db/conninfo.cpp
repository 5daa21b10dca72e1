// What libpq says of a connection string before the database answers.
#include "todo/db/conninfo.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>

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

bool ready_by(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (r > 0 || (r < 0 && errno != EINTR)) return true;
  }
}

}  // namespace todo::db

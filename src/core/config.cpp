// Configuration table: one row a setting, with its variable, flag, help and parser.
#include "todo/core/config.hpp"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <thread>

#include "todo/core/text.hpp"

namespace todo {
namespace {

struct Setting {
  const char* env;
  const char* flag;
  const char* help;
  std::function<void(Config&, const std::string&)> apply;  // throws std::invalid_argument with the reason
};

std::uint64_t parse_uint(const std::string& v, std::uint64_t min, std::uint64_t max) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty())
    throw std::invalid_argument("expected a whole number");
  if (n < min || n > max)
    throw std::invalid_argument("expected a number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  return n;
}

// A TCP port to connect to: digits only, 1 to 65535.
bool is_port(std::string_view v) {
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return !v.empty() && ec == std::errc() && end == v.data() + v.size() && n >= 1 && n <= 65535;
}

// A Kafka topic name: 1-249 of [a-zA-Z0-9._-].
std::string topic(const std::string& v) {
  if (v.empty() || v.size() > 249)
    throw std::invalid_argument("expected a topic name of 1 to 249 characters");
  for (char ch : v)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-'))
      throw std::invalid_argument("a topic name has only letters, digits, '.', '_' and '-'");
  return v;
}

// A duration: a whole number with a unit s, m, h or d.
std::chrono::seconds duration(const std::string& v) {
  constexpr const char* kExpected =
      "expected a duration: a whole number from 1 to 100000000 and a unit s, m, h or d, such as 7d, 12h, 90m "
      "or 3600s";
  if (v.size() < 2) throw std::invalid_argument(kExpected);
  const char unit = v.back();
  std::uint64_t n = 0;
  try {
    n = parse_uint(v.substr(0, v.size() - 1), 1, 100'000'000);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(kExpected);  // "0s" said "expected a number from 1 to 100000000"
  }
  switch (unit) {
    case 's':
      return std::chrono::seconds(n);
    case 'm':
      return std::chrono::minutes(n);
    case 'h':
      return std::chrono::hours(n);
    case 'd':
      return std::chrono::hours(24 * n);
    default:
      throw std::invalid_argument(kExpected);
  }
}

// Whether getaddrinfo() finds `host` (with `flags`, of `family`).
bool resolves(const std::string& host, int flags, int family) {
  addrinfo hints{};
  hints.ai_flags = flags;
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (found) freeaddrinfo(found);
  return rc == 0;
}

// What is wrong with a listen host, or "": an [IPv6] literal (with a %zone, as in [fe80::1%eth0]), an IPv4
// address, or a name made of letters, digits, '-' and '.' that resolves.
std::string host_problem(const std::string& host, bool bracketed) {
  if (bracketed)
    return resolves(host, AI_NUMERICHOST, AF_INET6) ? "" : "expected an IPv6 address in [ ]; got " + host;
  if (host.find_first_not_of("0123456789.") == std::string::npos) {
    in_addr v4{};
    return inet_pton(AF_INET, host.c_str(), &v4) == 1 ? "" : "expected an IPv4 address; got " + host;
  }
  if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") !=
      std::string::npos)
    return "expected host:port with an IPv4 address, [IPv6] or a host name; got " + host;
  return resolves(host, AI_PASSIVE, AF_UNSPEC) ? "" : "the host name " + host + " does not resolve";
}

// An integer as libpq reads one (strtol: spaces around it, a sign), or nullopt.
std::optional<long long> libpq_integer(std::string_view v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front())))
    v.remove_prefix(1);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
    v.remove_suffix(1);
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  long long n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return n;
}

// Why libpq cannot read a DATABASE_URL, in words of our own: libpq's message quotes the part it stumbled on,
// which may be the password ("invalid percent-encoded token: \"50%off-secret\"") or the whole URL.
std::string unreadable_database_url(std::string_view libpq_message) {
  const auto says = [&](std::string_view words) {
    return libpq_message.find(words) != std::string_view::npos;
  };
  std::string reason = "not a PostgreSQL connection URI or key=value string libpq can read";
  if (says("percent-encoded") || says("%00"))
    reason += ": a % that starts no percent-encoded byte (a % in a password is written %25)";
  else if (says("IPv6") || says("\"]\""))
    reason += ": an IPv6 host needs both brackets, [ and ], around an address";
  else if (says("connection option") || says("query parameter") || says("key/value"))
    reason += ": an option libpq does not know, or one that is not key=value";
  else if (says("\"=\"") || says("quoted string"))
    reason += ": expected key=value pairs (a value with a space in single quotes)";
  else
    reason += ": check percent-encoding (a % in a password is %25) and brackets";
  return reason;
}

// A connection string or URL libpq can read, with values that can be right: a syntax error or a typo in a
// value (port, sslmode) was retried for a minute as "database not reachable yet", though no retry mends it.
// No reason quotes any part of the value: in a URL with an unencoded '/' or '@' in the password, libpq reads
// pieces of the password as the port, a host or the database name.
void parse_database_url(Config& c, const std::string& v) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(v.c_str(), &error);
  if (options == nullptr) {
    const std::string message = error ? error : "";
    PQfreemem(error);
    throw std::invalid_argument(unreadable_database_url(message));
  }
  constexpr const char* kEncoding =
      " (in a URL, a '/' or '@' in the user name or password is written %2F or %40)";
  std::string problem;
  for (const PQconninfoOption* o = options; o->keyword != nullptr && problem.empty(); ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key(o->keyword);
    const std::string_view value(o->val);
    auto one_of = [&](std::initializer_list<std::string_view> allowed) {
      if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
      problem = "the " + std::string(key) + " is not one libpq knows (";
      for (const auto a : allowed)
        problem += std::string(a) + (a == *(allowed.end() - 1) ? ")" : ", ");
    };
    // One value, or one for each host ("5432,5433"; an empty one is the default), each checked by `bad`.
    auto each = [&](auto bad) {
      for (std::string_view rest(value);;) {
        const auto comma = rest.find(',');
        if (bad(rest.substr(0, comma))) return true;
        if (comma == std::string_view::npos) return false;
        rest.remove_prefix(comma + 1);
      }
    };
    if (key == "port") {
      if (each([](std::string_view port) {
            const auto n = libpq_integer(port);
            return !port.empty() && (!n || *n < 1 || *n > 65535);
          }))
        problem = std::string("a port is not a number from 1 to 65535") + kEncoding;
    } else if (key == "host") {
      // A host name never has an '@' (a socket folder starts with '/'): it is the rest of a password.
      if (each([](std::string_view host) {
            return !host.starts_with('/') && host.find('@') != std::string_view::npos;
          }))
        problem = std::string("a host has an '@' in it") + kEncoding;
    } else if (key == "dbname" && v.find("://") != std::string::npos &&
               value.find('@') != std::string_view::npos) {
      problem = std::string("the database name of a URL has an '@' in it") + kEncoding;
    } else if (key == "connect_timeout" || key == "keepalives" || key == "keepalives_idle" ||
               key == "keepalives_interval" || key == "keepalives_count" || key == "tcp_user_timeout") {
      if (!libpq_integer(value)) problem = "the " + std::string(key) + " is not a whole number";
    } else if (key == "sslmode") {
      one_of({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"});
    } else if (key == "gssencmode") {
      one_of({"disable", "prefer", "require"});
    } else if (key == "channel_binding") {
      one_of({"disable", "prefer", "require"});
    } else if (key == "target_session_attrs") {
      one_of({"any", "read-write", "read-only", "primary", "standby", "prefer-standby"});
    }
  }
  PQconninfoFree(options);
  if (!problem.empty()) throw std::invalid_argument(problem);
  c.database_url = v;
}

void parse_addr(Config& c, const std::string& v) {
  const auto colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0) throw std::invalid_argument("expected host:port");
  std::string host = v.substr(0, colon);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  // An address that cannot be one failed only at bind, after the migrations, among other lines.
  if (const std::string problem = host_problem(host, bracketed); !problem.empty())
    throw std::invalid_argument(problem);
  c.http_host = host;
  c.http_port = static_cast<std::uint16_t>(parse_uint(v.substr(colon + 1), 0, 65535));
}

// What is wrong with `host[:port]` of a broker or URL, or "": a host is a name of letters, digits, '.', '-'
// and '_' (not resolved here: it may come up after the server), an IPv4 address, or an IPv6 address in
// brackets; a port is a number from 1 to 65535. librdkafka took "host:70000" as port 4464 (70000 mod 65536)
// and "host:abc" as port 0; libcurl refused ports past 65535 only when sending.
std::string endpoint_problem(std::string_view hp, bool port_required) {
  std::string_view host = hp, port;
  bool has_port = false;
  if (hp.starts_with('[')) {
    const auto close = hp.find(']');
    if (close == std::string_view::npos) return "an IPv6 address in [ ] needs its ]";
    host = hp.substr(1, close - 1);
    if (close + 1 < hp.size()) {
      if (hp[close + 1] != ':') return "expected :port after the ]";
      port = hp.substr(close + 2);
      has_port = true;
    }
    in6_addr v6{};
    const std::string address(host.substr(0, host.find('%')));  // a %zone (RFC 6874 writes it %25)
    if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return "expected an IPv6 address in [ ]";
  } else {
    if (const auto colon = hp.rfind(':'); colon != std::string_view::npos) {
      host = hp.substr(0, colon);
      port = hp.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return "a host is empty";
    if (host.find(':') != std::string_view::npos) return "an IPv6 address is written in [ ]";
    if (host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
        std::string_view::npos)
      return "a host is a name, an IPv4 address or [IPv6]";
    in_addr v4{};
    if (host.find_first_not_of("0123456789.") == std::string_view::npos &&
        inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1)
      return "a host of digits and dots is not an IPv4 address";
  }
  if (!has_port) return port_required ? "expected host:port" : "";
  return is_port(port) ? "" : "a port is a number from 1 to 65535";
}

// KAFKA_BROKERS: host:port, comma-separated (spaces around an entry are allowed). An empty entry ("," or
// "a:9092,") is refused: librdkafka ran with no broker, logging "No brokers configured" forever.
std::string check_brokers(const std::string& v) {
  for (std::string_view rest(v);;) {
    const auto comma = rest.find(',');
    const auto entry = trim(rest.substr(0, comma));
    if (entry.empty()) throw std::invalid_argument("expected host:port,… without an empty entry");
    if (const auto problem = endpoint_problem(entry, true); !problem.empty())
      throw std::invalid_argument(problem + " (in '" + std::string(entry) + "'; expected host:port,…)");
    if (comma == std::string_view::npos) return v;
    rest.remove_prefix(comma + 1);
  }
}

// A URL, its scheme checked by the caller, with a host and, if any, a port from 1 to 65535.
std::string check_url_authority(const std::string& v) {
  std::string_view authority(v);
  authority.remove_prefix(v.find("://") + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) throw std::invalid_argument("expected a host after the scheme");
  if (const auto problem = endpoint_problem(authority, false); !problem.empty())
    throw std::invalid_argument(problem);
  return v;
}

// A URL as a message may show it: without the user name and password it may hold (scheme://user:pw@host).
std::string without_userinfo(const std::string& url) {
  const auto start = url.find("://");
  if (start == std::string::npos) return url;
  const auto end = url.find_first_of("/?#", start + 3);
  const auto at = url.rfind('@', end == std::string::npos ? std::string::npos : end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start + 3) + "<hidden>" + url.substr(at);
}

// An entry of TODO_ALLOWED_ORIGINS other than "*": what a browser sends as its Origin, scheme://host[:port]
// (RFC 6454), with nothing after it: an entry with a path (a trailing '/' included), a query, user info or a
// port that is no port would never match one. The scheme is compared case aside, as origins are.
void check_origin(const std::string& o) {
  const std::string lower = lower_ascii(o);
  const auto sep = lower.find("://");
  if (sep == std::string::npos || (lower.substr(0, sep) != "http" && lower.substr(0, sep) != "https"))
    throw std::invalid_argument("each origin is * or starts with http:// or https://");
  const std::string host_port = o.substr(sep + 3);
  auto bad = [&] {
    return std::invalid_argument("an origin is scheme://host[:port] with nothing after it, not '" + o + "'");
  };
  if (host_port.empty() || host_port.find_first_of("/?#@ \t") != std::string::npos) throw bad();
  // The port: after the last ':' outside an IPv6 literal's brackets.
  const auto close = host_port.rfind(']');
  const auto colon = host_port.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
    if (colon == 0 || !is_port(std::string_view(host_port).substr(colon + 1))) throw bad();
  }
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      {"DATABASE_URL", "--database-url", "PostgreSQL connection URL (required)", parse_database_url},
      {"TODO_HTTP_ADDR", "--http-addr", "listen address host:port (default 127.0.0.1:8080; port 0 picks one)",
       parse_addr},
      {"TODO_JWT_SECRET", "--jwt-secret", "HS256 signing secret, at least 32 bytes (required)",
       [](Config& c, const std::string& v) {
         if (v.size() < 32) throw std::invalid_argument("must be at least 32 bytes");
         c.jwt_secret = v;
       }},
      {"TODO_LOG_LEVEL", "--log-level", "trace|debug|info|warn|error|off (default info)",
       [](Config& c, const std::string& v) {
         static const std::vector<std::string> ok = {"trace", "debug",    "info", "warn",
                                                     "error", "critical", "off"};
         if (std::find(ok.begin(), ok.end(), v) == ok.end())
           throw std::invalid_argument("expected trace, debug, info, warn, error or off");
         c.log_level = v;
       }},
      {"TODO_DB_POOL_SIZE", "--db-pool-size", "database connections (default 8)",
       [](Config& c, const std::string& v) { c.db_pool_size = parse_uint(v, 1, 1000); }},
      {"TODO_DB_CREATE_WRITERS", "--db-create-writers",
       "task creates written at once; those arriving meanwhile share the next transaction (default 2)",
       [](Config& c, const std::string& v) { c.db_create_writers = parse_uint(v, 1, 1000); }},
      {"TODO_DB_STATEMENT_TIMEOUT_MS", "--db-statement-timeout-ms",
       "longest a request's SQL statement may run before it is cancelled (503); 0: no limit (10000)",
       [](Config& c, const std::string& v) {
         c.db_statement_timeout = std::chrono::milliseconds(parse_uint(v, 0, 3'600'000));
       }},
      {"TODO_DB_LOCK_TIMEOUT_MS", "--db-lock-timeout-ms",
       "longest a request's SQL statement may wait for a lock before it is cancelled (503); 0: no limit "
       "(5000)",
       [](Config& c, const std::string& v) {
         c.db_lock_timeout = std::chrono::milliseconds(parse_uint(v, 0, 3'600'000));
       }},
      {"TODO_DB_ANSWER_TIMEOUT_MS", "--db-answer-timeout-ms",
       "longest a request waits for the database's answer to a transaction or read, a free connection "
       "included, before the server itself gives up (503; a database that stopped answering); 0: no limit "
       "(15000)",
       [](Config& c, const std::string& v) {
         c.db_answer_timeout = std::chrono::milliseconds(parse_uint(v, 0, 3'600'000));
       }},
      {"TODO_LIST_CACHE_MB", "--list-cache-mb",
       "MiB of recent task list pages kept by list version; 0 keeps none (default 64)",
       [](Config& c, const std::string& v) { c.list_cache_bytes = parse_uint(v, 0, 65536) << 20; }},
      {"TODO_HTTP_THREADS", "--http-threads", "io threads (default: one per core)",
       [](Config& c, const std::string& v) { c.http_threads = parse_uint(v, 1, 1024); }},
      {"TODO_HTTP_BODY_LIMIT", "--http-body-limit", "largest request body in bytes (default 1048576)",
       [](Config& c, const std::string& v) { c.body_limit = parse_uint(v, 1024, 1ull << 30); }},
      {"TODO_HTTP_BODY_MEMORY_MB", "--http-body-memory-mb",
       "MiB that all request bodies being read or handled may take together; a request past it is a 503 "
       "(default 64)",
       [](Config& c, const std::string& v) { c.body_memory = parse_uint(v, 1, 1u << 20) << 20; }},
      {"TODO_HTTP_HEADER_TIMEOUT_MS", "--http-header-timeout-ms",
       "time to receive a request's headers (10000)",
       [](Config& c, const std::string& v) {
         c.header_timeout = std::chrono::milliseconds(parse_uint(v, 10, 3'600'000));
       }},
      {"TODO_HTTP_IDLE_TIMEOUT_MS", "--http-idle-timeout-ms", "keep-alive idle time before closing (60000)",
       [](Config& c, const std::string& v) {
         c.idle_timeout = std::chrono::milliseconds(parse_uint(v, 10, 3'600'000));
       }},
      {"TODO_HTTP_REQUEST_TIMEOUT_MS", "--http-request-timeout-ms",
       "time to receive a request's body (30000)",
       [](Config& c, const std::string& v) {
         c.request_timeout = std::chrono::milliseconds(parse_uint(v, 10, 3'600'000));
       }},
      {"TODO_SHUTDOWN_TIMEOUT_S", "--shutdown-timeout-s", "grace period for in-flight requests (10)",
       [](Config& c, const std::string& v) {
         c.shutdown_timeout = std::chrono::seconds(parse_uint(v, 0, 3600));
       }},
      {"KAFKA_BROKERS", "--kafka-brokers", "Kafka bootstrap servers host:port,… (optional)",
       [](Config& c, const std::string& v) { c.kafka_brokers = check_brokers(v); }},
      {"TODO_KAFKA", "--kafka",
       "auto (Kafka if KAFKA_BROKERS is set), embedded (in-process mock cluster), off",
       [](Config& c, const std::string& v) {
         if (v != "auto" && v != "embedded" && v != "off")
           throw std::invalid_argument("expected auto, embedded or off");
         c.kafka_mode = v;
       }},
      {"TODO_KAFKA_TOPIC_EVENTS", "--kafka-topic-events", "topic of every event (task-events)",
       [](Config& c, const std::string& v) { c.topic_events = topic(v); }},
      {"TODO_KAFKA_TOPIC_UPDATES", "--kafka-topic-updates", "topic of task changes for sync (task-updates)",
       [](Config& c, const std::string& v) { c.topic_updates = topic(v); }},
      {"TODO_KAFKA_TOPIC_REMINDERS", "--kafka-topic-reminders", "topic of reminder events (reminders)",
       [](Config& c, const std::string& v) { c.topic_reminders = topic(v); }},
      {"TODO_ALLOWED_ORIGINS", "--allowed-origins",
       "origins allowed to open WebSockets besides the server's own, comma-separated (* for any)",
       [](Config& c, const std::string& v) {
         c.allowed_origins.clear();
         std::size_t start = 0;
         while (start <= v.size()) {
           auto comma = v.find(',', start);
           if (comma == std::string::npos) comma = v.size();
           std::string o(v.substr(start, comma - start));
           while (!o.empty() && o.back() == ' ')
             o.pop_back();
           while (!o.empty() && o.front() == ' ')
             o.erase(o.begin());
           if (!o.empty()) {
             if (o != "*") check_origin(o);
             c.allowed_origins.push_back(o);
           }
           start = comma + 1;
         }
       }},
      {"TODO_WS_MAX_PER_USER", "--ws-max-per-user", "WebSocket connections per user (20)",
       [](Config& c, const std::string& v) { c.ws_max_per_user = parse_uint(v, 1, 100'000); }},
      {"TODO_WS_MAX_CONNECTIONS", "--ws-max-connections", "WebSocket connections in total (20000)",
       [](Config& c, const std::string& v) { c.ws_max_connections = parse_uint(v, 1, 10'000'000); }},
      {"TODO_WS_SEND_QUEUE", "--ws-send-queue",
       "messages queued for a WebSocket client; beyond them events wait in the outbox (256)",
       [](Config& c, const std::string& v) { c.ws_send_queue = parse_uint(v, 1, 1'000'000); }},
      {"TODO_WS_STALL_TIMEOUT_MS", "--ws-stall-timeout-ms",
       "close a WebSocket client (1013) whose full send queue takes no message this long (60000)",
       [](Config& c, const std::string& v) {
         c.ws_stall_timeout = std::chrono::milliseconds(parse_uint(v, 10, 3'600'000));
       }},
      {"TODO_WS_PING_INTERVAL_MS", "--ws-ping-interval-ms", "WebSocket ping interval (20000)",
       [](Config& c, const std::string& v) {
         c.ws_ping_interval = std::chrono::milliseconds(parse_uint(v, 10, 3'600'000));
       }},
      {"TODO_WS_SILENCE_TIMEOUT_MS", "--ws-silence-timeout-ms",
       "drop a WebSocket peer silent this long (60000)",
       [](Config& c, const std::string& v) {
         c.ws_silence_timeout = std::chrono::milliseconds(parse_uint(v, 10, 3'600'000));
       }},
      {"TODO_OUTBOX_RETENTION", "--outbox-retention",
       "how long published events are kept, e.g. 7d, 12h, 90m (7d)",
       [](Config& c, const std::string& v) { c.outbox_retention = duration(v); }},
      {"TODO_REMINDERS", "--reminders", "run the reminder scheduler in this process: on or off (on)",
       [](Config& c, const std::string& v) {
         if (v != "on" && v != "off") throw std::invalid_argument("expected on or off");
         c.reminders_enabled = v == "on";
       }},
      {"TODO_REMINDER_LEASE_MS", "--reminder-lease-ms",
       "how long a replica holds a reminder e-mail before another may retry it (60000)",
       [](Config& c, const std::string& v) {
         c.reminder_lease = std::chrono::milliseconds(parse_uint(v, 100, 3'600'000));
       }},
      {"TODO_REMINDER_MAX_ATTEMPTS", "--reminder-max-attempts", "e-mail attempts before a reminder fails (5)",
       [](Config& c, const std::string& v) {
         c.reminder_max_attempts = static_cast<int>(parse_uint(v, 1, 100));
       }},
      {"TODO_REMINDER_BACKOFF_MS", "--reminder-backoff-ms",
       "first e-mail retry delay, doubled each time (2000)",
       [](Config& c, const std::string& v) {
         c.reminder_backoff = std::chrono::milliseconds(parse_uint(v, 1, 3'600'000));
       }},
      {"TODO_SMTP_URL", "--smtp-url",
       "SMTP server smtp://host:port or smtps://host:port (no e-mail when unset)",
       [](Config& c, const std::string& v) {
         if (v.rfind("smtp://", 0) != 0 && v.rfind("smtps://", 0) != 0)
           throw std::invalid_argument("expected smtp://host:port or smtps://host:port");
         c.smtp_url = check_url_authority(v);
       }},
      {"TODO_SMTP_HOST", "--smtp-host", "SMTP server host (instead of TODO_SMTP_URL)",
       [](Config& c, const std::string& v) {
         for (char ch : v)
           if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-' || ch == ':' ||
                 ch == '[' || ch == ']'))
             throw std::invalid_argument("expected a host name or IP address");
         c.smtp_host = v;
       }},
      {"TODO_SMTP_PORT", "--smtp-port", "SMTP server port with TODO_SMTP_HOST (587; 465 means smtps)",
       [](Config& c, const std::string& v) {
         c.smtp_port = static_cast<std::uint16_t>(parse_uint(v, 1, 65535));
       }},
      {"TODO_SMTP_USER", "--smtp-user", "SMTP user name (optional)",
       [](Config& c, const std::string& v) { c.smtp_user = v; }},
      {"TODO_SMTP_PASSWORD", "--smtp-password", "SMTP password (optional)",
       [](Config& c, const std::string& v) { c.smtp_password = v; }},
      {"TODO_SMTP_FROM", "--smtp-from", "sender address of reminder e-mails (required with SMTP)",
       [](Config& c, const std::string& v) {
         const auto at = v.find('@');
         if (at == std::string::npos || at == 0 || at + 1 == v.size() ||
             v.find_first_of(" <>\r\n,") != std::string::npos)
           throw std::invalid_argument("expected an address like todo@example.com");
         c.smtp_from = v;
       }},
      {"TODO_SMTP_STARTTLS", "--smtp-starttls",
       "STARTTLS on smtp:// URLs: off, opportunistic (if offered) or required (opportunistic)",
       [](Config& c, const std::string& v) {
         if (v != "off" && v != "opportunistic" && v != "required")
           throw std::invalid_argument("expected off, opportunistic or required");
         c.smtp_starttls = v;
       }},
      {"TODO_SMTP_CA_FILE", "--smtp-ca-file", "PEM file of CAs to trust for the SMTP server's certificate",
       [](Config& c, const std::string& v) {
         if (std::FILE* f = std::fopen(v.c_str(), "r"))
           std::fclose(f);
         else
           throw std::invalid_argument("cannot read the file");
         c.smtp_ca_file = v;
       }},
      {"TODO_SMTP_TIMEOUT_MS", "--smtp-timeout-ms", "time limit of one e-mail delivery (30000)",
       [](Config& c, const std::string& v) {
         c.smtp_timeout = std::chrono::milliseconds(parse_uint(v, 100, 600'000));
       }},
      {"TODO_SMTP_CONCURRENCY", "--smtp-concurrency", "e-mails sent at once by this process (4)",
       [](Config& c, const std::string& v) { c.smtp_concurrency = parse_uint(v, 1, 64); }},
      {"TODO_CHAT_CONFIDENCE", "--chat-confidence",
       "below this confidence (0..1) the chat asks instead of acting (0.7)",
       [](Config& c, const std::string& v) {
         double d = 0;
         auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
         if (v.empty() || ec != std::errc() || p != v.data() + v.size() || !(d >= 0.0 && d <= 1.0))
           throw std::invalid_argument("expected a number from 0 to 1, e.g. 0.7");
         c.chat_confidence = d;
       }},
      {"TODO_CHAT_TTL_S", "--chat-ttl-s", "seconds a chat conversation lives after its last message (86400)",
       [](Config& c, const std::string& v) {
         c.chat_ttl = std::chrono::seconds(parse_uint(v, 1, 365 * 86'400));
       }},
      {"TODO_LLM_URL", "--llm-url",
       "OpenAI-compatible chat-completions URL for messages the chat parser cannot read (optional)",
       [](Config& c, const std::string& v) {
         if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
           throw std::invalid_argument("expected an http:// or https:// URL");
         c.llm_url = check_url_authority(v);
       }},
      {"TODO_LLM_MODEL", "--llm-model", "the model name sent to TODO_LLM_URL (required with it)",
       [](Config& c, const std::string& v) { c.llm_model = v; }},
      {"TODO_LLM_API_KEY", "--llm-api-key", "bearer token for TODO_LLM_URL (optional)",
       [](Config& c, const std::string& v) { c.llm_api_key = v; }},
      {"TODO_LLM_TIMEOUT_MS", "--llm-timeout-ms", "time the LLM may take to answer (5000)",
       [](Config& c, const std::string& v) {
         c.llm_timeout = std::chrono::milliseconds(parse_uint(v, 10, 600'000));
       }},
  };
  return all;
}

// The value as a message shows it: never a secret, nor the user name and password a URL may hold.
std::string shown(const Setting& s, const std::string& value) {
  const std::string_view env(s.env);
  if (env == "TODO_JWT_SECRET" || env == "DATABASE_URL" || env == "TODO_SMTP_PASSWORD" ||
      env == "TODO_LLM_API_KEY")
    return "<hidden>";
  if (env == "TODO_SMTP_URL" || env == "TODO_LLM_URL") return without_userinfo(value);
  return value;
}

// A setting's value and where it came from: the environment, or a flag (which wins).
struct Given {
  std::string value;
  bool from_flag = false;
};

void apply(Config& c, const Setting& s, const Given& given) {
  try {
    s.apply(c, given.value);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("invalid ") + (given.from_flag ? s.flag : s.env) + "=" +
                      shown(s, given.value) + ": " + e.what());
  }
}

}  // namespace

std::string usage() {
  std::string u =
      "usage: todo-server [serve|migrate|--help] [flags]\n\n"
      "  serve     listen (the probes at once), apply pending migrations, serve the API (default)\n"
      "  migrate   apply pending migrations and exit\n\n"
      "Settings (environment variable, or the flag, which wins):\n";
  for (const auto& s : settings()) {
    u += "  " + std::string(s.flag) + "=VALUE";
    u.append(std::max<int>(1, 32 - static_cast<int>(std::string_view(s.flag).size()) - 6), ' ');
    u += std::string(s.env) + ": " + s.help + "\n";
  }
  return u;
}

Config load_config(int argc, const char* const* argv) {
  Config c;
  c.http_threads = std::max(1u, std::thread::hardware_concurrency());
  // Every value first, the environment's and then the flags' (a later flag replaces an earlier one), and only
  // then checked: a bad variable that a flag replaces stops nothing. --help wins over everything, bad values
  // and unknown flags included.
  std::vector<std::optional<Given>> given(settings().size());
  for (std::size_t k = 0; k < settings().size(); ++k)
    if (const char* v = std::getenv(settings()[k].env); v && *v) given[k] = Given{v, false};
  std::optional<ConfigError> misuse;  // the first, reported unless --help comes
  bool command_seen = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "help") {
      c.command = "help";
      return c;
    }
    if (misuse) continue;
    if (arg.rfind("--", 0) != 0) {
      if (command_seen || (arg != "serve" && arg != "migrate"))
        misuse = ConfigError("unknown command '" + arg + "' (expected serve or migrate; see --help)");
      c.command = arg;
      command_seen = true;
      continue;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    auto it =
        std::find_if(settings().begin(), settings().end(), [&](const Setting& s) { return name == s.flag; });
    if (it == settings().end()) {
      misuse = ConfigError("unknown flag " + name + " (see --help)");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        misuse = ConfigError("flag " + name + " needs a value");
        continue;
      }
      value = argv[++i];
    }
    given[static_cast<std::size_t>(it - settings().begin())] = Given{value, true};
  }
  if (misuse) throw *misuse;
  for (std::size_t k = 0; k < settings().size(); ++k)
    if (given[k]) apply(c, settings()[k], *given[k]);
  // How the setting of this variable was given, and how an error about two settings names it: by its flag
  // when a flag gave it, else by its variable.
  auto index_of = [&](std::string_view env) {
    return static_cast<std::size_t>(
        std::find_if(settings().begin(), settings().end(), [&](const Setting& s) { return env == s.env; }) -
        settings().begin());
  };
  auto is_given = [&](std::string_view env) { return given[index_of(env)].has_value(); };
  auto named = [&](std::string_view env) {
    const auto k = index_of(env);
    return given[k] && given[k]->from_flag ? std::string(settings()[k].flag) : std::string(env);
  };
  if (c.database_url.empty())
    throw ConfigError("missing DATABASE_URL (or --database-url): where is PostgreSQL?");
  if (!c.llm_url.empty() && c.llm_model.empty())
    throw ConfigError("missing TODO_LLM_MODEL (or --llm-model): the model to ask at " +
                      named("TODO_LLM_URL"));
  if (c.command == "serve" && c.jwt_secret.empty())
    throw ConfigError("missing TODO_JWT_SECRET (or --jwt-secret): at least 32 random bytes to sign tokens");
  if (!c.smtp_url.empty() && !c.smtp_host.empty())
    throw ConfigError("invalid " + named("TODO_SMTP_HOST") + ": set " + named("TODO_SMTP_URL") + " or " +
                      named("TODO_SMTP_HOST") + ", not both");
  if (c.smtp_port && c.smtp_host.empty())
    throw ConfigError("invalid " + named("TODO_SMTP_PORT") + ": it needs TODO_SMTP_HOST (or --smtp-host)");
  if (!c.smtp_host.empty()) {
    const int port = c.smtp_port ? c.smtp_port : 587;
    const bool v6 = c.smtp_host.find(':') != std::string::npos && c.smtp_host.front() != '[';
    c.smtp_url = std::string(port == 465 ? "smtps://" : "smtp://") +
                 (v6 ? "[" + c.smtp_host + "]" : c.smtp_host) + ":" + std::to_string(port);
  }
  // Two settings that must agree: the one given is named (the memory, when both are), with its value.
  if (c.body_memory < c.body_limit) {
    if (is_given("TODO_HTTP_BODY_MEMORY_MB") || !is_given("TODO_HTTP_BODY_LIMIT"))
      throw ConfigError("invalid " + named("TODO_HTTP_BODY_MEMORY_MB") + "=" +
                        std::to_string(c.body_memory >> 20) + ": must hold at least one body of " +
                        named("TODO_HTTP_BODY_LIMIT") + " (" + std::to_string(c.body_limit) + " bytes)");
    throw ConfigError("invalid " + named("TODO_HTTP_BODY_LIMIT") + "=" + std::to_string(c.body_limit) +
                      ": larger than all request bodies may take together, TODO_HTTP_BODY_MEMORY_MB (" +
                      std::to_string(c.body_memory >> 20) + " MiB)");
  }
  // An e-mail's lease must outlast its delivery, or another replica could send it again meanwhile.
  if (!c.smtp_url.empty() && c.reminder_lease <= c.smtp_timeout) {
    if (is_given("TODO_REMINDER_LEASE_MS") || !is_given("TODO_SMTP_TIMEOUT_MS"))
      throw ConfigError("invalid " + named("TODO_REMINDER_LEASE_MS") + "=" +
                        std::to_string(c.reminder_lease.count()) + ": must be longer than " +
                        named("TODO_SMTP_TIMEOUT_MS") + " (" + std::to_string(c.smtp_timeout.count()) + ")");
    throw ConfigError(
        "invalid " + named("TODO_SMTP_TIMEOUT_MS") + "=" + std::to_string(c.smtp_timeout.count()) +
        ": must be shorter than TODO_REMINDER_LEASE_MS (" + std::to_string(c.reminder_lease.count()) + ")");
  }
  if (!c.smtp_url.empty() && c.smtp_from.empty())
    throw ConfigError("missing TODO_SMTP_FROM (or --smtp-from): the sender address of reminder e-mails");
  return c;
}

}  // namespace todo

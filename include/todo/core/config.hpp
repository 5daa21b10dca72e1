// Configuration: environment variables, each overridable by a flag; a bad setting fails fast naming itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace todo {

/// A setting that cannot be used; what() is one line naming it.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Everything the process reads from its environment and command line.
struct Config {
  std::string command = "serve";  // serve | migrate | help
  std::string database_url;
  std::string http_host = "127.0.0.1";
  std::uint16_t http_port = 8080;
  std::string jwt_secret;
  std::string log_level = "info";
  std::size_t db_pool_size = 8;
  std::chrono::milliseconds db_statement_timeout{10'000};  // a request's statement (SET statement_timeout)
  std::chrono::milliseconds db_lock_timeout{5'000};        // its wait for a lock (SET lock_timeout)
  std::chrono::milliseconds db_answer_timeout{15'000};     // a request's DB work, bounded by the server
  std::size_t db_create_writers = 2;                       // tasks::CreateBatcher's transactions at once
  std::size_t list_cache_bytes = 64u << 20;                // tasks::ListCache
  std::size_t http_threads = 0;                            // 0: one per core
  std::size_t body_limit = 1 << 20;
  std::size_t body_memory = 64u << 20;  // all request bodies being read or handled, together
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::seconds shutdown_timeout{10};
  std::string kafka_brokers;
  std::string kafka_mode = "auto";  // auto (Kafka when KAFKA_BROKERS is set) | embedded (mock cluster) | off
  std::string topic_events = "task-events";
  std::string topic_updates = "task-updates";
  std::string topic_reminders = "reminders";
  std::chrono::seconds outbox_retention{7 * 24 * 3600};
  std::vector<std::string> allowed_origins;
  std::size_t ws_max_per_user = 20;
  std::size_t ws_max_connections = 20'000;
  std::size_t ws_send_queue = 256;
  std::chrono::milliseconds ws_stall_timeout{60'000};
  std::chrono::milliseconds ws_ping_interval{20'000};
  std::chrono::milliseconds ws_silence_timeout{60'000};
  // Reminders: the scheduler, and e-mail over SMTP (smtp_url empty: no e-mail).
  bool reminders_enabled = true;
  std::chrono::milliseconds reminder_lease{60'000};
  int reminder_max_attempts = 5;
  std::chrono::milliseconds reminder_backoff{2'000};
  std::string smtp_url;  // smtp://host:port or smtps://host:port (also built from TODO_SMTP_HOST/PORT)
  std::string smtp_host;
  std::uint16_t smtp_port = 0;
  std::string smtp_user;
  std::string smtp_password;
  std::string smtp_from;
  std::string smtp_starttls = "opportunistic";  // off | opportunistic | required
  std::string smtp_ca_file;
  std::chrono::milliseconds smtp_timeout{30'000};
  std::size_t smtp_concurrency = 4;
  double chat_confidence = 0.7;           // below it the chat asks instead of acting
  std::chrono::seconds chat_ttl{86'400};  // a chat conversation expires this long after its last turn
  std::string llm_url;                    // OpenAI-compatible chat-completions endpoint; empty: no LLM
  std::string llm_model;
  std::string llm_api_key;
  std::chrono::milliseconds llm_timeout{5'000};
};

/// Reads the environment (through getenv) and argv: a flag's value replaces the variable's before either is
/// checked, and --help (anywhere but as a flag's value) returns command "help" whatever else is given. Throws
/// ConfigError naming the setting as given (its flag when a flag gave it).
Config load_config(int argc, const char* const* argv);

/// The --help text.
std::string usage();

}  // namespace todo

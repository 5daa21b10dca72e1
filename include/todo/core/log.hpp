// Logging: spdlog writing one JSON object a line to stdout.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace todo::log {

/// Installs the JSON line formatter on the default logger at the given level name.
void init(const std::string& level);

/// Logs a structured event: the fields are merged into the line's JSON object beside time, level and msg.
void event(spdlog::level::level_enum level, std::string_view msg, const nlohmann::json& fields);
/// Whether a line of this level would be written (to skip building its fields).
inline bool enabled(spdlog::level::level_enum level) {
  return spdlog::default_logger_raw()->should_log(level);
}

/// Logs a start-up announcement (such as the listening URL) that scripts wait for: at info, or at the
/// configured level when that is higher, so that it is printed unless logging is off.
void announce(std::string_view msg, const nlohmann::json& fields);

/// At most one report a period for a failure that repeats with every request (the database down: one warning
/// a refused request was thousands of lines a second). tick() counts one; it returns how many there were
/// since the last report, this one included, when a report is due (the first always is), and 0 otherwise.
class Throttle {
 public:
  explicit Throttle(std::chrono::steady_clock::duration period) : period_(period) {}
  std::uint64_t tick();

 private:
  std::mutex mutex_;
  std::chrono::steady_clock::duration period_;
  std::chrono::steady_clock::time_point last_{};
  bool reported_ = false;
  std::uint64_t count_ = 0;
};

}  // namespace todo::log

// Logging: spdlog writing one JSON object a line to stdout.
#pragma once

#include <spdlog/spdlog.h>

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

}  // namespace todo::log

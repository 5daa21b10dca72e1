// JSON line formatter for spdlog: {"time":…,"level":…,"msg":…, structured fields…}.
#include "todo/core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <utility>

namespace todo::log {
namespace {

// A payload starting with this byte is a pre-serialised JSON object of fields (from event()).
constexpr char kFieldsMarker = '\x1e';

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    const auto t = time_point_cast<milliseconds>(msg.time);
    const auto secs = time_point_cast<seconds>(t);
    std::time_t tt = system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>((t - secs).count()));
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string line = "{\"time\":\"";
    line += stamp;
    line += "\",\"level\":\"";
    line += spdlog::level::to_string_view(msg.level).data();
    line += "\",";
    if (!payload.empty() && payload.front() == kFieldsMarker) {
      payload.remove_prefix(1);  // already `"msg":…,…}` without the opening brace
      line.append(payload);
    } else {
      line += "\"msg\":";
      line +=
          nlohmann::json(std::string(payload)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      line += "}";
    }
    line += "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

void init(const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>("todo", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  logger->set_formatter(std::make_unique<JsonFormatter>());
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void event(spdlog::level::level_enum level, std::string_view msg, const nlohmann::json& fields) {
  if (!spdlog::default_logger_raw()->should_log(level)) return;
  nlohmann::json line = nlohmann::json::object();
  line["msg"] = msg;
  for (auto it = fields.begin(); it != fields.end(); ++it)
    line[it.key()] = it.value();
  std::string s = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s[0] = kFieldsMarker;
  spdlog::log(level, "{}", s);
}

void announce(std::string_view msg, const nlohmann::json& fields) {
  const auto level = std::max(spdlog::level::info, spdlog::default_logger_raw()->level());
  if (level == spdlog::level::off) return;
  event(level, msg, fields);
}

std::uint64_t Throttle::tick() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  ++count_;
  if (reported_ && now - last_ < period_) return 0;
  reported_ = true;
  last_ = now;
  return std::exchange(count_, 0);
}

}  // namespace todo::log

// The serialized output of a registry using every feature passes `promtool check metrics` without complaint.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "todo/metrics/process_metrics.hpp"
#include "todo/metrics/registry.hpp"
#include "todo/metrics/timer.hpp"

namespace todo::metrics {
namespace {

namespace fs = std::filesystem;

// Debian's prometheus package; PROMTOOL overrides the path.
std::string promtool_path() {
  const char* env = std::getenv("PROMTOOL");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/promtool";
}

struct CheckResult {
  int exit_status;
  std::string output;  // stdout and stderr
};

// Writes `text` to a temp file and runs `promtool check metrics < file`.
CheckResult promtool_check(const std::string& text) {
  static int sequence = 0;
  const std::string stem = "todo_metrics_" + std::to_string(getpid()) + "_" + std::to_string(sequence++);
  const fs::path input = fs::temp_directory_path() / (stem + ".prom");
  const fs::path output = fs::temp_directory_path() / (stem + ".out");
  std::ofstream(input, std::ios::binary) << text;
  const std::string command =
      "'" + promtool_path() + "' check metrics < '" + input.string() + "' > '" + output.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::stringstream captured;
  captured << std::ifstream(output).rdbuf();
  fs::remove(input);
  fs::remove(output);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, captured.str()};
}

class Promtool : public ::testing::Test {
 protected:
  void SetUp() override {
    // promtool is a real dependency of this test (scripts/deps.sh installs `prometheus`): fail, never skip.
    ASSERT_TRUE(fs::exists(promtool_path())) << promtool_path() << " is missing; run scripts/deps.sh";
  }
};

TEST_F(Promtool, DetectsProblems) {
  // Guards against a check that passes vacuously.
  const CheckResult bad = promtool_check("# HELP jobs Jobs.\n# TYPE jobs counter\njobs 1\n");
  EXPECT_NE(bad.exit_status, 0);
  EXPECT_NE(bad.output.find("_total"), std::string::npos) << bad.output;
}

TEST_F(Promtool, AcceptsEverythingTheRegistryWrites) {
  Registry r;
  auto& requests =
      r.counter("http_requests_total", "HTTP requests by method and status.", {"method", "code"});
  requests.with({"GET", "200"}).inc(1e6);
  requests.with({"POST", "201"}).inc(0.5);
  r.counter("restarts_total", "Unlabelled counter, never incremented.");

  auto& weird = r.gauge("label_escapes", "Help with \\ backslash, \"quotes\"\nand a newline.", {"value"});
  weird.with({"quote \" here"}).set(1);
  weird.with({"back\\slash"}).set(-2.5);
  weird.with({"new\nline"}).set(1e-9);
  weird.with({"all \\\"\n at once \\n"}).set(1e300);
  weird.with({""}).set(0);
  weird.with({"utf-8 caf\xC3\xA9 \xF0\x9F\x98\x80, broken \xFF\xC0"}).set(-0.0);
  r.gauge("special_values", "Infinities and NaN.", {"kind"}).with({"pos"}).set(INFINITY);
  r.gauge("special_values", "Infinities and NaN.", {"kind"}).with({"neg"}).set(-INFINITY);
  r.gauge("special_values", "Infinities and NaN.", {"kind"}).with({"nan"}).set(NAN);
  r.gauge("special_values", "Infinities and NaN.", {"kind"})
      .with({"max"})
      .set(std::numeric_limits<double>::max());
  r.gauge("special_values", "Infinities and NaN.", {"kind"})
      .with({"denorm"})
      .set(std::numeric_limits<double>::denorm_min());
  r.gauge("not_used_yet", "A labelled family with no children.", {"shard"});

  auto& latency = r.histogram("request_duration_seconds", "Request latency.", {"route"});
  for (double v : {0.001, 0.005, 0.3, 1.0, 7.0, 60.0})
    latency.with({"/api/v1/tasks"}).observe(v);
  { Timer t(latency.with({"/metrics"})); }
  r.histogram("payload_bytes", "Payload sizes.", {}, {100, 1000, 1e6}).with().observe(512);
  r.histogram("empty_seconds", "A histogram with no observations.", {});

  r.gauge_callback("db_queue_depth", "Jobs waiting for a DB connection.", [] { return 3.0; });
  r.gauge_callback("failing_reader", "A callback that throws.",
                   []() -> double { throw std::runtime_error("x"); });
  r.counter_callback("relay_sent_total", "Events sent by the relay.", [] { return 12345678901.0; });
  add_process_metrics(r);

  const std::string text = r.serialize();
  const CheckResult result = promtool_check(text);
  EXPECT_EQ(result.exit_status, 0) << result.output << "\n--- input ---\n" << text;
  EXPECT_EQ(result.output, "") << "--- input ---\n" << text;
}

}  // namespace
}  // namespace todo::metrics

// Process metrics read from /proc.
#include "todo/metrics/process_metrics.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "todo/metrics/registry.hpp"

namespace todo::metrics {
namespace {

TEST(ProcessMetrics, ReadsPlausibleValues) {
  const ProcessStats s = read_process_stats();
  EXPECT_GT(s.resident_memory_bytes, 1024 * 1024);
  EXPECT_GE(s.cpu_seconds_total, 0);
  EXPECT_GE(s.open_fds, 3);  // stdin, stdout, stderr
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(s.start_time_seconds, now - 24 * 3600);
  EXPECT_LE(s.start_time_seconds, now + 1);
}

TEST(ProcessMetrics, OpenFdsFollowsOpenAndClose) {
  const double before = read_process_stats().open_fds;
  const int fd = open("/proc/self/stat", O_RDONLY);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_process_stats().open_fds, before + 1);
  close(fd);
  EXPECT_EQ(read_process_stats().open_fds, before);
}

TEST(ProcessMetrics, RegistersTheStandardNames) {
  Registry r;
  add_process_metrics(r);
  const std::string text = r.serialize();
  EXPECT_NE(text.find("# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes "),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "),
            std::string::npos);
  EXPECT_NE(text.find("# TYPE process_open_fds gauge\nprocess_open_fds "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds "),
            std::string::npos);
  EXPECT_EQ(text.find("NaN"), std::string::npos);
  EXPECT_THROW(add_process_metrics(r), std::invalid_argument);
}

}  // namespace
}  // namespace todo::metrics

// Process metrics (memory, CPU, file descriptors, start time) read from /proc at scrape time.
#pragma once

namespace todo::metrics {

class Registry;

// The standard process_* values of the calling process; NaN where /proc cannot be read.
struct ProcessStats {
  double resident_memory_bytes;
  double cpu_seconds_total;
  double open_fds;
  double start_time_seconds;  // since the Unix epoch
};

ProcessStats read_process_stats();

// Registers process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds and
// process_start_time_seconds as callbacks. Throws std::invalid_argument if called twice on a registry.
void add_process_metrics(Registry& registry);

}  // namespace todo::metrics

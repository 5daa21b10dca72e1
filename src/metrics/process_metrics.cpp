// Process metrics (memory, CPU, file descriptors, start time) read from /proc at scrape time.
#include "todo/metrics/process_metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <exception>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "todo/metrics/registry.hpp"

namespace todo::metrics {
namespace {

// Fields of /proc/self/stat after the command name (which may contain spaces and parentheses);
// index 0 is field 3 of proc(5), "state".
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string field; rest >> field;)
    fields.push_back(field);
  return fields;
}

double stat_field(const std::vector<std::string>& fields, std::size_t proc5_number) {
  const std::size_t i = proc5_number - 3;
  if (i >= fields.size()) return NAN;
  try {
    return std::stod(fields[i]);
  } catch (const std::exception&) {
    return NAN;
  }
}

double clock_ticks_per_second() {
  const long ticks = sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : NAN;
}

double resident_memory_bytes() {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  if (!(in >> size >> resident)) return NAN;
  const long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? resident * static_cast<double>(page) : NAN;
}

double cpu_seconds_total() {
  const auto fields = stat_fields();
  return (stat_field(fields, 14) + stat_field(fields, 15)) / clock_ticks_per_second();  // utime + stime
}

double open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return NAN;
  // The directory stream holds a descriptor of its own, which is not counted.
  const std::string own = std::to_string(dirfd(dir));
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != ".." && name != own) ++count;
  }
  closedir(dir);
  return count;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double btime = NAN;
      in >> btime;
      return btime;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return NAN;
}

double start_time_seconds() {
  return boot_time_seconds() + stat_field(stat_fields(), 22) / clock_ticks_per_second();  // starttime
}

}  // namespace

ProcessStats read_process_stats() {
  return {resident_memory_bytes(), cpu_seconds_total(), open_fds(), start_time_seconds()};
}

void add_process_metrics(Registry& registry) {
  const double start_time = start_time_seconds();  // does not change
  registry.gauge_callback("process_resident_memory_bytes", "Resident memory size in bytes.",
                          resident_memory_bytes);
  registry.counter_callback("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                            cpu_seconds_total);
  registry.gauge_callback("process_open_fds", "Number of open file descriptors.", open_fds);
  registry.gauge_callback("process_start_time_seconds",
                          "Start time of the process since unix epoch in seconds.",
                          [start_time] { return start_time; });
}

}  // namespace todo::metrics

// Registry: the set of metric families a process exposes, and their Prometheus text exposition.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "todo/metrics/family.hpp"

namespace todo::metrics {

// Owns metric families by name, checks names and conflicts, and serialises everything for /metrics.
// Thread-safe; families (and their children) live as long as the registry.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the existing family when the name is already registered with the same type, help, label
  // names (and buckets); any other re-registration, an invalid name, an empty help, or a name that breaks
  // the Prometheus conventions (counters end in _total and nothing else does; only histograms use the
  // _bucket/_sum/_count suffixes and the `le` label) throws std::invalid_argument.
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> label_names,
                               std::vector<double> buckets = default_buckets());

  // A gauge read at scrape time (e.g. a queue depth owned by another component). `read` runs on the
  // scraping thread without registry locks held; if it throws, the sample is NaN. Names are unique.
  void gauge_callback(std::string name, std::string help, std::function<double()> read);
  // The same for a counter owned elsewhere (e.g. process_cpu_seconds_total).
  void counter_callback(std::string name, std::string help, std::function<double()> read);

  // Every family, sorted by name, in text exposition format 0.0.4 (see kTextContentType).
  std::string serialize() const;

  // .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 (seconds).
  static std::vector<double> default_buckets();

 private:
  template <class M>
  Family<M>& add(MetricType type, std::string name, std::string help, std::vector<std::string> label_names,
                 std::vector<double> buckets);
  void add_callback(MetricType type, std::string name, std::string help, std::function<double()> read);
  void insert_locked(std::unique_ptr<FamilyBase> family);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
  std::map<std::string, std::string, std::less<>> sample_names_;  // every series name in use → its family
};

}  // namespace todo::metrics

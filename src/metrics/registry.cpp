// Registry: metric families by name, with the checks that keep the exposition valid for Prometheus.
#include "todo/metrics/registry.hpp"

#include <cmath>
#include <set>
#include <stdexcept>

#include "todo/metrics/text_format.hpp"

namespace todo::metrics {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument("metrics: " + what);
}

// The grammar, plus the naming rules that `promtool check metrics` reports as problems.
void check_family(MetricType type, const std::string& name, const std::string& help,
                  const std::vector<std::string>& label_names) {
  if (!is_valid_metric_name(name)) fail("invalid metric name '" + name + "'");
  if (help.empty()) fail(name + ": help text is required");
  const bool total = name.ends_with("_total");
  if (type == MetricType::counter && !total) fail("counter " + name + ": name must end in _total");
  if (type != MetricType::counter && total) fail(name + ": only counter names end in _total");
  if (type != MetricType::histogram &&
      (name.ends_with("_bucket") || name.ends_with("_sum") || name.ends_with("_count"))) {
    fail(name + ": the suffixes _bucket, _sum and _count are reserved for histograms");
  }
  std::set<std::string_view> seen;
  for (const std::string& label : label_names) {
    if (!is_valid_label_name(label)) fail(name + ": invalid label name '" + label + "'");
    if (label == "le" || label == "quantile") fail(name + ": label name '" + label + "' is reserved");
    if (!seen.insert(label).second) fail(name + ": duplicate label name '" + label + "'");
  }
}

// Every series name a family emits, and its own name, so no two families can produce the same series.
std::vector<std::string> sample_names(const FamilyBase& family) {
  if (family.type() != MetricType::histogram) return {family.name()};
  return {family.name(), family.name() + "_bucket", family.name() + "_sum", family.name() + "_count"};
}

// A single unlabelled sample whose value is read from its owner at scrape time.
class CallbackFamily final : public FamilyBase {
 public:
  CallbackFamily(std::string name, std::string help, MetricType type, std::function<double()> read)
      : FamilyBase(std::move(name), std::move(help), type, {}), read_(std::move(read)) {}

 private:
  void write_samples(std::string& out) const override {
    double value;
    try {
      value = read_();
    } catch (...) {
      // A failing reader must not break the whole scrape.
      value = NAN;
    }
    append_sample(out, name(), {}, {}, {}, {}, format_value(value));
  }

  std::function<double()> read_;
};

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

Family<Counter>& Registry::counter(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<Counter>(MetricType::counter, std::move(name), std::move(help), std::move(label_names), {});
}

Family<Gauge>& Registry::gauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return add<Gauge>(MetricType::gauge, std::move(name), std::move(help), std::move(label_names), {});
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> label_names, std::vector<double> buckets) {
  return add<Histogram>(MetricType::histogram, std::move(name), std::move(help), std::move(label_names),
                        Histogram::checked_bounds(std::move(buckets)));
}

void Registry::gauge_callback(std::string name, std::string help, std::function<double()> read) {
  add_callback(MetricType::gauge, std::move(name), std::move(help), std::move(read));
}

void Registry::counter_callback(std::string name, std::string help, std::function<double()> read) {
  add_callback(MetricType::counter, std::move(name), std::move(help), std::move(read));
}

std::string Registry::serialize() const {
  // Families are never removed, so the pointers stay valid after the lock is released; callbacks then run
  // unlocked and may take their own locks.
  std::vector<const FamilyBase*> families;
  {
    std::lock_guard lock(mutex_);
    families.reserve(families_.size());
    for (const auto& [name, family] : families_)
      families.push_back(family.get());
  }
  std::string out;
  for (const FamilyBase* family : families)
    family->serialize(out);
  return out;
}

std::vector<double> Registry::default_buckets() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

template <class M>
Family<M>& Registry::add(MetricType type, std::string name, std::string help,
                         std::vector<std::string> label_names, std::vector<double> buckets) {
  check_family(type, name, help, label_names);
  std::lock_guard lock(mutex_);
  if (auto it = families_.find(name); it != families_.end()) {
    auto* same = dynamic_cast<Family<M>*>(it->second.get());
    if (same != nullptr && same->help() == help && same->label_names() == label_names &&
        same->buckets() == buckets) {
      return *same;
    }
    fail(name + " is already registered with a different type, help, labels or buckets");
  }
  std::unique_ptr<Family<M>> family(
      new Family<M>(std::move(name), std::move(help), type, std::move(label_names), std::move(buckets)));
  Family<M>& result = *family;
  insert_locked(std::move(family));
  return result;
}

void Registry::add_callback(MetricType type, std::string name, std::string help,
                            std::function<double()> read) {
  check_family(type, name, help, {});
  if (!read) fail(name + ": callback is empty");
  std::lock_guard lock(mutex_);
  if (families_.contains(name)) fail(name + " is already registered");
  insert_locked(std::make_unique<CallbackFamily>(std::move(name), std::move(help), type, std::move(read)));
}

void Registry::insert_locked(std::unique_ptr<FamilyBase> family) {
  const std::vector<std::string> names = sample_names(*family);
  for (const std::string& sample : names) {
    if (auto it = sample_names_.find(sample); it != sample_names_.end()) {
      fail(family->name() + " would expose " + sample + ", which belongs to " + it->second);
    }
  }
  for (const std::string& sample : names)
    sample_names_.emplace(sample, family->name());
  std::string name = family->name();
  families_.emplace(std::move(name), std::move(family));
}

}  // namespace todo::metrics

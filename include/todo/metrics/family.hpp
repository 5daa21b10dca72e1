// Family: one metric name and its labelled children, as the registry stores and serialises it.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "todo/metrics/counter.hpp"
#include "todo/metrics/gauge.hpp"
#include "todo/metrics/histogram.hpp"

namespace todo::metrics {

// Label values, in the order of the family's label names.
using Labels = std::vector<std::string>;

enum class MetricType { counter, gauge, histogram };

// The word used on a `# TYPE` line.
std::string_view to_string(MetricType type);

class Registry;

// What the registry needs of any family: its identity and its exposition text.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends `# HELP`, `# TYPE` and every sample of the family.
  void serialize(std::string& out) const;

 protected:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names);
  virtual void write_samples(std::string& out) const = 0;

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<std::string> label_names_;
};

// The children of one metric, one per distinct combination of label values; created by Registry.
// Defined for Counter, Gauge and Histogram.
template <class M>
class Family final : public FamilyBase {
 public:
  // The child for these label values, created on first use. The reference stays valid as long as the
  // registry; keep it to update without a lookup. Throws std::invalid_argument on a wrong number of values.
  M& with(const Labels& values = {});

  // Histogram bucket bounds (without +Inf); empty for other types.
  const std::vector<double>& buckets() const { return buckets_; }

 private:
  friend class Registry;
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> buckets);
  std::unique_ptr<M> make_child() const;
  void write_samples(std::string& out) const override;

  std::vector<double> buckets_;
  mutable std::shared_mutex mutex_;
  std::map<Labels, std::unique_ptr<M>> children_;
};

extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

}  // namespace todo::metrics

// Family: labelled children of one metric, and their exposition text.
#include "todo/metrics/family.hpp"

#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "todo/metrics/text_format.hpp"

namespace todo::metrics {

std::string_view to_string(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type,
                       std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}

void FamilyBase::serialize(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  out += escape_help(help_);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += to_string(type_);
  out += '\n';
  write_samples(out);
}

template <class M>
Family<M>::Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
                  std::vector<double> buckets)
    : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
      buckets_(std::move(buckets)) {
  // An unlabelled metric exists from the start, so it is exposed (as zero) before its first update.
  if (FamilyBase::label_names().empty()) children_.emplace(Labels{}, make_child());
}

template <class M>
M& Family<M>::with(const Labels& values) {
  if (values.size() != label_names().size()) {
    throw std::invalid_argument("metrics: " + name() + " takes " + std::to_string(label_names().size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  {
    std::shared_lock lock(mutex_);
    if (auto it = children_.find(values); it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mutex_);
  auto [it, inserted] = children_.try_emplace(values);
  if (inserted) it->second = make_child();
  return *it->second;
}

template <class M>
std::unique_ptr<M> Family<M>::make_child() const {
  if constexpr (std::is_same_v<M, Histogram>) {
    return std::make_unique<Histogram>(buckets_);
  } else {
    return std::make_unique<M>();
  }
}

template <class M>
void Family<M>::write_samples(std::string& out) const {
  if constexpr (std::is_same_v<M, Histogram>) {
    const std::string bucket_name = name() + "_bucket";
    const std::string sum_name = name() + "_sum";
    const std::string count_name = name() + "_count";
    std::vector<std::string> le;
    le.reserve(buckets_.size());
    for (double bound : buckets_)
      le.push_back(format_value(bound));

    std::shared_lock lock(mutex_);
    for (const auto& [values, child] : children_) {
      const Histogram::Snapshot s = child->snapshot();
      for (std::size_t i = 0; i < le.size(); ++i) {
        append_sample(out, bucket_name, label_names(), values, "le", le[i],
                      std::to_string(s.cumulative_counts[i]));
      }
      append_sample(out, bucket_name, label_names(), values, "le", "+Inf", std::to_string(s.count));
      append_sample(out, sum_name, label_names(), values, {}, {}, format_value(s.sum));
      append_sample(out, count_name, label_names(), values, {}, {}, std::to_string(s.count));
    }
  } else {
    std::shared_lock lock(mutex_);
    for (const auto& [values, child] : children_) {
      append_sample(out, name(), label_names(), values, {}, {}, format_value(child->value()));
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace todo::metrics

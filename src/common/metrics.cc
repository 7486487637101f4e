#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace ember::metrics {

namespace {

bool isNameStart(char c, bool allowColon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allowColon && c == ':');
}

bool isNameChar(char c, bool allowColon) {
  return isNameStart(c, allowColon) || (c >= '0' && c <= '9');
}

bool validName(const std::string& name, bool allowColon) {
  if (name.empty() || !isNameStart(name[0], allowColon)) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [&](char c) { return isNameChar(c, allowColon); });
}

// Label values: backslash, double quote and line feed are escaped (text format 0.0.4).
void appendEscapedLabelValue(std::string& out, const std::string& value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c; break;
    }
  }
}

// HELP text: only backslash and line feed are escaped.
void appendEscapedHelp(std::string& out, const std::string& help) {
  for (char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c; break;
    }
  }
}

// Go-compatible float text: shortest round-trip form, and Prometheus' spelling of the specials.
std::string formatDouble(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", v);
}

// Validates `labels` and renders them sorted by name as `a="x",b="y"` (no braces). The rendered
// text doubles as the series key, so label order given by callers does not matter.
std::string renderLabels(const Labels& labels, bool histogram) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(labels.size());
  for (const auto& label : labels) {
    if (!validName(label.first, false) || label.first.starts_with("__")) {
      throw std::invalid_argument("invalid metric label name: " + label.first);
    }
    if (histogram && label.first == "le") {
      throw std::invalid_argument("label name 'le' is reserved for histogram buckets");
    }
    sorted.push_back(&label);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  std::string out;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && sorted[i]->first == sorted[i - 1]->first) {
      throw std::invalid_argument("duplicate metric label name: " + sorted[i]->first);
    }
    if (i > 0) {
      out += ',';
    }
    out += sorted[i]->first;
    out += "=\"";
    appendEscapedLabelValue(out, sorted[i]->second);
    out += '"';
  }
  return out;
}

// Appends `name{labels[,extra]} value\n`.
void appendSample(std::string& out, const std::string& name, const char* suffix,
                  const std::string& labels, const std::string& extra, const std::string& value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty()) {
      out += ',';
    }
    out += extra;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void checkBounds(const std::vector<double>& bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  checkBounds(bounds_);
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double v) {
  if (std::isnan(v)) {
    return;  // a NaN would poison the sum forever; it is always a caller bug
  }
  size_t idx = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                   bounds_.begin());
  counts_[idx].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::snapshot(std::vector<uint64_t>& buckets, double& sum, uint64_t& count) const {
  buckets.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    buckets[i] = counts_[i].load(std::memory_order_relaxed);
  }
  sum = sum_.load(std::memory_order_relaxed);
  count = count_.load(std::memory_order_relaxed);
}

const std::vector<double>& latencyBuckets() {
  static const std::vector<double> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                               1,      2.5,     5,      10,    30,     60};
  return kBuckets;
}

struct Registry::Family {
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::string name;
  std::string help;
  const char* type = "";
  std::map<std::string, Series> series;  // key: rendered, sorted labels
};

Registry::Registry() = default;

Registry::~Registry() = default;

Registry& Registry::global() {
  static Registry* registry = new Registry();  // never destroyed: handles outlive static dtors
  return *registry;
}

Registry::Family& Registry::family(const std::string& name, const std::string& help,
                                   const char* type) {
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (std::string_view(it->second->type) != type) {
      throw std::logic_error(fmt::format("metric {} registered as {} and as {}", name,
                                         it->second->type, type));
    }
    return *it->second;
  }
  if (!validName(name, true)) {
    throw std::invalid_argument("invalid metric name: " + name);
  }
  auto fam = std::make_unique<Family>();
  fam->name = name;
  fam->help = help;
  fam->type = type;
  return *families_.emplace(name, std::move(fam)).first->second;
}

Counter& Registry::counter(const std::string& name, const std::string& help,
                           const Labels& labels) {
  std::string key = renderLabels(labels, false);
  std::lock_guard<std::mutex> lock(mu_);
  Family::Series& s = family(name, help, "counter").series[key];
  if (!s.counter) {
    s.counter = std::make_unique<Counter>();
  }
  return *s.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::string key = renderLabels(labels, false);
  std::lock_guard<std::mutex> lock(mu_);
  Family::Series& s = family(name, help, "gauge").series[key];
  if (!s.gauge) {
    s.gauge = std::make_unique<Gauge>();
  }
  return *s.gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const Labels& labels, const std::vector<double>& bounds) {
  std::string key = renderLabels(labels, true);
  checkBounds(bounds);  // throw before anything is registered
  std::lock_guard<std::mutex> lock(mu_);
  Family::Series& s = family(name, help, "histogram").series[key];
  if (!s.histogram) {
    s.histogram = std::make_unique<Histogram>(bounds);
  }
  return *s.histogram;
}

std::string Registry::render() const {
  std::string out;
  std::vector<uint64_t> buckets;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, fam] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    appendEscapedHelp(out, fam->help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += fam->type;
    out += '\n';
    for (const auto& [labels, s] : fam->series) {
      if (s.counter) {
        appendSample(out, name, "", labels, {}, fmt::format("{}", s.counter->value()));
      } else if (s.gauge) {
        appendSample(out, name, "", labels, {}, fmt::format("{}", s.gauge->value()));
      } else if (s.histogram) {
        double sum = 0;
        [[maybe_unused]] uint64_t count = 0;
        s.histogram->snapshot(buckets, sum, count);
        const std::vector<double>& bounds = s.histogram->bounds();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < buckets.size(); ++i) {
          cumulative += buckets[i];
          std::string le = i < bounds.size() ? formatDouble(bounds[i]) : "+Inf";
          appendSample(out, name, "_bucket", labels, "le=\"" + le + "\"",
                       fmt::format("{}", cumulative));
        }
        appendSample(out, name, "_sum", labels, {}, formatDouble(sum));
        // _count equals the +Inf bucket, as the format requires, even mid-update.
        appendSample(out, name, "_count", labels, {}, fmt::format("{}", cumulative));
      }
    }
  }
  return out;
}

}  // namespace ember::metrics

#pragma once
// A small Prometheus registry. Handles returned by the registry are stable for the life of the
// process and cheap to update from any thread (atomics); look them up once and keep them.
//
// Exposition: Registry::render() writes the text format 0.0.4 (HELP/TYPE lines, escaped label
// values, histograms as cumulative _bucket{le=...} series plus _sum and _count).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ember::metrics {

// Label pairs of one series. Order does not matter: the registry sorts them by name, so
// {a=1,b=2} and {b=2,a=1} name the same series.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count. Thread-safe.
class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe.
class Gauge {
 public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t d) { value_.fetch_add(d, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Cumulative histogram with fixed upper bounds (seconds for latencies, bytes for sizes).
// observe() is lock-free: one bucket increment, one count increment and one add to the sum.
class Histogram {
 public:
  // REQUIRES: bounds strictly increasing and finite (the +Inf bucket is implicit).
  explicit Histogram(std::vector<double> bounds);
  // Counts v in the first bucket whose upper bound is >= v (Prometheus `le` is inclusive).
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Snapshot: per-bucket (non-cumulative) counts, +Inf last; sum; count. Taken without a lock,
  // so under concurrent observe() the three parts may be off by the observations in flight.
  void snapshot(std::vector<uint64_t>& buckets, double& sum, uint64_t& count) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};  // exact for byte sizes too (a scaled integer would overflow)
};

// Default latency buckets: 100us .. 60s.
const std::vector<double>& latencyBuckets();

// A set of metric families. Lookups take a mutex: do them at setup time (or through a small cache
// of your own) and keep the returned reference, which stays valid for the registry's lifetime.
//
// Programming errors throw (they are setup errors, like configuration): std::invalid_argument
// for a malformed metric or label name, std::logic_error when a name is registered again with a
// different type.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process-wide registry that /metrics serves.
  static Registry& global();

  // Returns the series `name{labels}`, creating it (and its family, with `help`) on first use.
  // A later call with the same name keeps the first help text.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  // `bounds` is used when the series is created; an existing series keeps its buckets.
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels = {},
                       const std::vector<double>& bounds = latencyBuckets());

  // Prometheus text exposition format 0.0.4: families sorted by name, series by label set.
  std::string render() const;

 private:
  struct Family;
  Family& family(const std::string& name, const std::string& help, const char* type);
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

}  // namespace ember::metrics

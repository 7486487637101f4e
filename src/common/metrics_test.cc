#include "common/metrics.h"

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ember::metrics {
namespace {

TEST(MetricsTest, CounterRendersHelpTypeAndValue) {
  Registry r;
  Counter& c = r.counter("ember_test_total", "Things counted.", {{"kind", "a"}});
  c.inc();
  c.inc(41);
  EXPECT_EQ(c.value(), 42u);
  EXPECT_EQ(r.render(),
            "# HELP ember_test_total Things counted.\n"
            "# TYPE ember_test_total counter\n"
            "ember_test_total{kind=\"a\"} 42\n");
}

TEST(MetricsTest, SameNameAndLabelsReturnSameHandle) {
  Registry r;
  Counter& a = r.counter("c_total", "h", {{"x", "1"}, {"y", "2"}});
  Counter& b = r.counter("c_total", "other help is ignored", {{"y", "2"}, {"x", "1"}});
  Counter& other = r.counter("c_total", "h", {{"x", "2"}, {"y", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &other);
  a.inc();
  std::string text = r.render();
  EXPECT_NE(text.find("# HELP c_total h\n"), std::string::npos);
  EXPECT_NE(text.find("c_total{x=\"1\",y=\"2\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("c_total{x=\"2\",y=\"2\"} 0\n"), std::string::npos);
}

TEST(MetricsTest, GaugeWithoutLabels) {
  Registry r;
  Gauge& g = r.gauge("ember_conns", "Open connections.");
  g.add(5);
  g.add(-7);
  EXPECT_EQ(g.value(), -2);
  EXPECT_EQ(r.render(),
            "# HELP ember_conns Open connections.\n"
            "# TYPE ember_conns gauge\n"
            "ember_conns -2\n");
  g.set(9);
  EXPECT_NE(r.render().find("ember_conns 9\n"), std::string::npos);
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry r;
  r.counter("esc_total", "line1\nback\\slash \"quotes\" stay", {{"v", "a\"b\\c\nd"}}).inc(3);
  EXPECT_EQ(r.render(),
            "# HELP esc_total line1\\nback\\\\slash \"quotes\" stay\n"
            "# TYPE esc_total counter\n"
            "esc_total{v=\"a\\\"b\\\\c\\nd\"} 3\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInclusiveBounds) {
  Registry r;
  Histogram& h = r.histogram("lat_seconds", "Latency.", {{"op", "get"}}, {0.1, 1, 10});
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive: lands in the 0.1 bucket
  h.observe(0.5);
  h.observe(100);  // +Inf only
  std::vector<uint64_t> buckets;
  double sum = 0;
  uint64_t count = 0;
  h.snapshot(buckets, sum, count);
  EXPECT_EQ(buckets, (std::vector<uint64_t>{2, 1, 0, 1}));
  EXPECT_DOUBLE_EQ(sum, 100.65);
  EXPECT_EQ(count, 4u);
  EXPECT_EQ(r.render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
            "lat_seconds_bucket{op=\"get\",le=\"10\"} 3\n"
            "lat_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{op=\"get\"} 100.65\n"
            "lat_seconds_count{op=\"get\"} 4\n");
}

TEST(MetricsTest, HistogramWithoutLabelsAndDefaultBuckets) {
  Registry r;
  Histogram& h = r.histogram("d_seconds", "D.");
  EXPECT_EQ(h.bounds(), latencyBuckets());
  EXPECT_DOUBLE_EQ(latencyBuckets().front(), 0.0001);
  EXPECT_DOUBLE_EQ(latencyBuckets().back(), 60);
  h.observe(0.0002);
  std::string text = r.render();
  EXPECT_NE(text.find("d_seconds_bucket{le=\"0.0001\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{le=\"0.00025\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_sum 0.0002\n"), std::string::npos);
  EXPECT_NE(text.find("d_seconds_count 1\n"), std::string::npos);
}

TEST(MetricsTest, HistogramSumHandlesLargeByteSizes) {
  Registry r;
  Histogram& h = r.histogram("size_bytes", "Sizes.", {}, {1024, 1 << 20});
  for (int i = 0; i < 1000; ++i) {
    h.observe(5.0 * (1ULL << 40));  // 5 TiB: a micro-scaled integer sum would overflow
  }
  std::vector<uint64_t> buckets;
  double sum = 0;
  uint64_t count = 0;
  h.snapshot(buckets, sum, count);
  EXPECT_DOUBLE_EQ(sum, 1000 * 5.0 * (1ULL << 40));
  EXPECT_EQ(buckets.back(), 1000u);
}

TEST(MetricsTest, FamiliesAreSortedByName) {
  Registry r;
  r.counter("zz_total", "z");
  r.gauge("aa", "a");
  std::string text = r.render();
  EXPECT_LT(text.find("# HELP aa"), text.find("# HELP zz_total"));
}

TEST(MetricsTest, RejectsBadNamesAndTypeConflicts) {
  Registry r;
  EXPECT_THROW(r.counter("1bad", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("bad-name", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("ok_total", "h", {{"bad-label", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok_total", "h", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(r.counter("ok_total", "h", {{"a", "1"}, {"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h_seconds", "h", {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h2_seconds", "h", {}, {1, 1}), std::invalid_argument);
  EXPECT_NO_THROW(r.counter("name:with_colon_total", "h"));
  r.counter("dual", "h");
  EXPECT_THROW(r.gauge("dual", "h"), std::logic_error);
  EXPECT_THROW(r.histogram("dual", "h"), std::logic_error);
  // A failed registration leaves no half-made family or series behind.
  EXPECT_EQ(r.render().find("h2_seconds"), std::string::npos);
  EXPECT_EQ(r.render().find("ok_total"), std::string::npos);
}

TEST(MetricsTest, GlobalRegistryIsASingleton) {
  EXPECT_EQ(&Registry::global(), &Registry::global());
}

TEST(MetricsTest, ConcurrentUpdatesAndLookups) {
  Registry r;
  constexpr int kThreads = 4;
  constexpr int kIters = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      Counter& shared = r.counter("conc_total", "h");
      Histogram& h = r.histogram("conc_seconds", "h", {}, {0.5});
      for (int i = 0; i < kIters; ++i) {
        shared.inc();
        h.observe(i % 2 == 0 ? 0.25 : 1.0);
        if (i % 1000 == 0) {
          r.counter("conc_total", "h", {{"t", std::to_string(t)}}).inc();
          (void)r.render();
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(r.counter("conc_total", "h").value(), uint64_t{kThreads} * kIters);
  std::string text = r.render();
  EXPECT_NE(text.find("conc_seconds_bucket{le=\"0.5\"} 40000\n"), std::string::npos);
  EXPECT_NE(text.find("conc_seconds_count 80000\n"), std::string::npos);
  EXPECT_NE(text.find("conc_total{t=\"3\"} 20\n"), std::string::npos);
}

}  // namespace
}  // namespace ember::metrics

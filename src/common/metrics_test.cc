#include "common/metrics.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace kino::metrics {
namespace {

TEST(Metrics, RendersPrometheusText) {
  Counter& c = GetCounter("kino_test_total", "A test counter.");
  c.Increment({{"route", "a\"b"}});
  c.Increment({{"route", "a\"b"}}, 2);
  Histogram& h = GetHistogram("kino_test_seconds", "A test histogram.", {0.1, 1});
  h.Observe(0.5);
  std::string text = RenderAll();
  EXPECT_NE(text.find("# TYPE kino_test_total counter"), std::string::npos);
  EXPECT_NE(text.find("kino_test_total{route=\"a\\\"b\"} 3"), std::string::npos);
  EXPECT_NE(text.find("kino_test_seconds_bucket{le=\"0.1\"} 0"), std::string::npos);
  EXPECT_NE(text.find("kino_test_seconds_bucket{le=\"+Inf\"} 1"), std::string::npos);
  EXPECT_NE(text.find("kino_test_seconds_count 1"), std::string::npos);
}

// A series found once and updated from several threads counts every update, and is the same
// series that updates by labels reach.
TEST(Metrics, SeriesHandlesCountEveryUpdateAcrossThreads) {
  Counter& c = GetCounter("kino_test_series_total", "A counter updated through a handle.");
  ValueSeries& series = c.Series({{"route", "r"}});
  Histogram& h =
      GetHistogram("kino_test_series_seconds", "A histogram through a handle.", {0.1, 1, 10});
  HistogramSeries& latency = h.Series({{"route", "r"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        series.Add(1);
        latency.Observe(0.5);  // exact in binary: the sum is exact too
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  c.Increment({{"route", "r"}}, 5);
  EXPECT_EQ(c.Value({{"route", "r"}}), 40005);
  EXPECT_EQ(&c.Series({{"route", "r"}}), &series);

  std::string text = RenderAll();
  EXPECT_NE(text.find("kino_test_series_seconds_bucket{route=\"r\",le=\"0.1\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("kino_test_series_seconds_bucket{route=\"r\",le=\"1\"} 40000\n"),
            std::string::npos);
  EXPECT_NE(text.find("kino_test_series_seconds_bucket{route=\"r\",le=\"10\"} 40000\n"),
            std::string::npos);
  EXPECT_NE(text.find("kino_test_series_seconds_count{route=\"r\"} 40000\n"), std::string::npos);
  EXPECT_NE(text.find("kino_test_series_seconds_sum{route=\"r\"} 20000\n"), std::string::npos);
}

TEST(Metrics, GaugeSeriesMovesBothWays) {
  Gauge& g = GetGauge("kino_test_series_gauge", "A gauge through a handle.");
  ValueSeries& s = g.Series({});
  s.Add(3);
  s.Add(-1);
  EXPECT_EQ(g.Value(), 2);
  g.Set(7);
  EXPECT_EQ(s.Value(), 7);
}

}  // namespace
}  // namespace kino::metrics

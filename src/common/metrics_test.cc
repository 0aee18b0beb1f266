#include "common/metrics.h"

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

}  // namespace
}  // namespace kino::metrics

// Process-wide metrics in the Prometheus text exposition format (version 0.0.4).
//
// Metrics are registered by name once and live for the process. Label values are given at
// each update; each distinct label set becomes one time series. An update by labels takes the
// family's mutex to find its series; a caller on a hot path (the HTTP server, once per request)
// looks the series up once with Series() and then updates it with atomics, without the lock.
//
// Thread-safety: all functions are safe from any thread.
#ifndef KINO_COMMON_METRICS_H_
#define KINO_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kino::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

// One labelled value of a counter or gauge. Lives as long as its family (the process).
class ValueSeries {
 public:
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Counter {
 public:
  Counter(std::string name, std::string help);
  void Increment(const Labels& labels = {}, double by = 1);
  double Value(const Labels& labels = {}) const;
  // The series for `labels`, created at 0 if new; valid for the process.
  ValueSeries& Series(const Labels& labels);
  void Render(std::string* out) const;

 private:
  std::string name_;
  std::string help_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<ValueSeries>> values_;
};

class Gauge {
 public:
  Gauge(std::string name, std::string help);
  void Add(double delta, const Labels& labels = {});
  void Set(double value, const Labels& labels = {});
  double Value(const Labels& labels = {}) const;
  ValueSeries& Series(const Labels& labels);
  void Render(std::string* out) const;

 private:
  std::string name_;
  std::string help_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<ValueSeries>> values_;
};

// One labelled series of a histogram: cumulative bucket counts, count and sum. A scrape that
// races an Observe may see the count one ahead of a bucket; Prometheus tolerates that.
class HistogramSeries {
 public:
  explicit HistogramSeries(const std::vector<double>* bounds);
  void Observe(double value);

 private:
  friend class Histogram;
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class Histogram {
 public:
  // `bounds` are the upper bounds of the buckets, ascending; +Inf is implied.
  Histogram(std::string name, std::string help, std::vector<double> bounds);
  void Observe(double value, const Labels& labels = {});
  HistogramSeries& Series(const Labels& labels);
  void Render(std::string* out) const;

 private:
  std::string name_;
  std::string help_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<HistogramSeries>> series_;
};

// The registry behind GET /metrics. Returned references live for the process.
Counter& GetCounter(const std::string& name, const std::string& help);
Gauge& GetGauge(const std::string& name, const std::string& help);
Histogram& GetHistogram(const std::string& name, const std::string& help,
                        std::vector<double> bounds);

// Every registered metric, rendered in registration order.
std::string RenderAll();

}  // namespace kino::metrics

#endif  // KINO_COMMON_METRICS_H_

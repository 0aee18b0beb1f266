// Process-wide metrics in the Prometheus text exposition format (version 0.0.4).
//
// Metrics are registered by name once and live for the process. Label values are given at
// each update; each distinct label set becomes one time series. Updates take a mutex per
// metric family, which is cheap next to the work being counted (requests, jobs, deliveries).
//
// Thread-safety: all functions are safe from any thread.
#ifndef KINO_COMMON_METRICS_H_
#define KINO_COMMON_METRICS_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kino::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  Counter(std::string name, std::string help);
  void Increment(const Labels& labels = {}, double by = 1);
  double Value(const Labels& labels = {}) const;
  void Render(std::string* out) const;

 private:
  std::string name_;
  std::string help_;
  mutable std::mutex mu_;
  std::map<Labels, double> values_;
};

class Gauge {
 public:
  Gauge(std::string name, std::string help);
  void Add(double delta, const Labels& labels = {});
  void Set(double value, const Labels& labels = {});
  double Value(const Labels& labels = {}) const;
  void Render(std::string* out) const;

 private:
  std::string name_;
  std::string help_;
  mutable std::mutex mu_;
  std::map<Labels, double> values_;
};

class Histogram {
 public:
  // `bounds` are the upper bounds of the buckets, ascending; +Inf is implied.
  Histogram(std::string name, std::string help, std::vector<double> bounds);
  void Observe(double value, const Labels& labels = {});
  void Render(std::string* out) const;

 private:
  struct Series {
    std::vector<uint64_t> buckets;
    uint64_t count = 0;
    double sum = 0;
  };
  std::string name_;
  std::string help_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, Series> series_;
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

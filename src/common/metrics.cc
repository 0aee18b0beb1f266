#include "common/metrics.h"

#include <charconv>
#include <functional>
#include <memory>

namespace kino::metrics {
namespace {

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatLabels(const Labels& labels, const std::string& extra_key = "",
                         const std::string& extra_value = "") {
  if (labels.empty() && extra_key.empty()) {
    return "";
  }
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + EscapeLabel(v) + "\"";
    first = false;
  }
  if (!extra_key.empty()) {
    out += (first ? "" : ",") + extra_key + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

// Shortest text that reads back as the same double ("0.1", not "0.10000000000000001").
std::string FormatNumber(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void RenderHeader(std::string* out, const std::string& name, const std::string& help,
                  const char* type) {
  *out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

struct Registry {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<Counter>> counters;
  std::map<std::string, std::unique_ptr<Gauge>> gauges;
  std::map<std::string, std::unique_ptr<Histogram>> histograms;
  std::vector<std::function<void(std::string*)>> renderers;
};

Registry& GetRegistry() {
  static auto* registry = new Registry();  // Never destroyed: metrics outlive every thread.
  return *registry;
}

}  // namespace

namespace {

// The series of `map` for `labels`, made on first use. The caller holds the family's mutex.
template <typename SeriesT, typename... Args>
SeriesT& FindOrAdd(std::map<Labels, std::unique_ptr<SeriesT>>& map, const Labels& labels,
                   Args&&... args) {
  auto it = map.find(labels);
  if (it == map.end()) {
    it = map.emplace(labels, std::make_unique<SeriesT>(std::forward<Args>(args)...)).first;
  }
  return *it->second;
}

double ValueOf(const std::map<Labels, std::unique_ptr<ValueSeries>>& map, const Labels& labels) {
  auto it = map.find(labels);
  return it == map.end() ? 0 : it->second->Value();
}

void RenderValues(const std::string& name,
                  const std::map<Labels, std::unique_ptr<ValueSeries>>& map, std::string* out) {
  for (const auto& [labels, series] : map) {
    *out += name + FormatLabels(labels) + " " + FormatNumber(series->Value()) + "\n";
  }
}

}  // namespace

Counter::Counter(std::string name, std::string help)
    : name_(std::move(name)), help_(std::move(help)) {}

ValueSeries& Counter::Series(const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindOrAdd(values_, labels);
}

void Counter::Increment(const Labels& labels, double by) {
  Series(labels).Add(by);
}

double Counter::Value(const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ValueOf(values_, labels);
}

void Counter::Render(std::string* out) const {
  RenderHeader(out, name_, help_, "counter");
  std::lock_guard<std::mutex> lock(mu_);
  RenderValues(name_, values_, out);
}

Gauge::Gauge(std::string name, std::string help) : name_(std::move(name)), help_(std::move(help)) {}

ValueSeries& Gauge::Series(const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindOrAdd(values_, labels);
}

void Gauge::Add(double delta, const Labels& labels) {
  Series(labels).Add(delta);
}

void Gauge::Set(double value, const Labels& labels) {
  Series(labels).Set(value);
}

double Gauge::Value(const Labels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  return ValueOf(values_, labels);
}

void Gauge::Render(std::string* out) const {
  RenderHeader(out, name_, help_, "gauge");
  std::lock_guard<std::mutex> lock(mu_);
  RenderValues(name_, values_, out);
}

HistogramSeries::HistogramSeries(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds->size())) {}

void HistogramSeries::Observe(double value) {
  // Cumulative buckets: the value counts in every bucket whose bound it does not pass.
  for (size_t i = bounds_->size(); i > 0 && value <= (*bounds_)[i - 1]; --i) {
    buckets_[i - 1].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Histogram(std::string name, std::string help, std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)) {}

HistogramSeries& Histogram::Series(const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  return FindOrAdd(series_, labels, &bounds_);
}

void Histogram::Observe(double value, const Labels& labels) {
  Series(labels).Observe(value);
}

void Histogram::Render(std::string* out) const {
  RenderHeader(out, name_, help_, "histogram");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [labels, s] : series_) {
    for (size_t i = 0; i < bounds_.size(); ++i) {
      *out += name_ + "_bucket" + FormatLabels(labels, "le", FormatNumber(bounds_[i])) + " " +
              std::to_string(s->buckets_[i].load(std::memory_order_relaxed)) + "\n";
    }
    uint64_t count = s->count_.load(std::memory_order_relaxed);
    *out +=
        name_ + "_bucket" + FormatLabels(labels, "le", "+Inf") + " " + std::to_string(count) + "\n";
    *out += name_ + "_sum" + FormatLabels(labels) + " " +
            FormatNumber(s->sum_.load(std::memory_order_relaxed)) + "\n";
    *out += name_ + "_count" + FormatLabels(labels) + " " + std::to_string(count) + "\n";
  }
}

Counter& GetCounter(const std::string& name, const std::string& help) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto& slot = r.counters[name];
  if (!slot) {
    slot = std::make_unique<Counter>(name, help);
    Counter* c = slot.get();
    r.renderers.emplace_back([c](std::string* out) { c->Render(out); });
  }
  return *slot;
}

Gauge& GetGauge(const std::string& name, const std::string& help) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto& slot = r.gauges[name];
  if (!slot) {
    slot = std::make_unique<Gauge>(name, help);
    Gauge* g = slot.get();
    r.renderers.emplace_back([g](std::string* out) { g->Render(out); });
  }
  return *slot;
}

Histogram& GetHistogram(const std::string& name, const std::string& help,
                        std::vector<double> bounds) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto& slot = r.histograms[name];
  if (!slot) {
    slot = std::make_unique<Histogram>(name, help, std::move(bounds));
    Histogram* h = slot.get();
    r.renderers.emplace_back([h](std::string* out) { h->Render(out); });
  }
  return *slot;
}

std::string RenderAll() {
  Registry& r = GetRegistry();
  std::vector<std::function<void(std::string*)>> renderers;
  {
    std::lock_guard<std::mutex> lock(r.mu);
    renderers = r.renderers;
  }
  std::string out;
  for (const auto& render : renderers) {
    render(&out);
  }
  return out;
}

}  // namespace kino::metrics

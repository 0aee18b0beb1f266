#include "api/router.h"

#include "common/strings.h"

namespace kino::api {
namespace {

std::vector<std::string> PatternSegments(std::string_view pattern) {
  std::vector<std::string> out;
  for (std::string_view s : Split(pattern, '/')) {
    if (!s.empty()) {
      out.emplace_back(s);
    }
  }
  return out;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  Route r;
  r.method = std::move(method);
  r.segments = PatternSegments(pattern);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

void Router::AddBlocking(std::string method, std::string pattern, Handler handler) {
  Add(std::move(method), std::move(pattern), std::move(handler));
  routes_.back().blocking = true;
}

void Router::AddStream(std::string method, std::string pattern, StreamHandler handler) {
  Route r;
  r.method = std::move(method);
  r.segments = PatternSegments(pattern);
  r.pattern = std::move(pattern);
  r.stream_handler = std::move(handler);
  routes_.push_back(std::move(r));
}

bool Router::MatchRoute(const Route& route, const std::vector<std::string>& segments,
                        PathParams* params, int* literal_score) {
  if (route.segments.size() != segments.size()) {
    return false;
  }
  PathParams bound;
  int score = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& p = route.segments[i];
    if (!p.empty() && p[0] == ':') {
      bound[p.substr(1)] = segments[i];
    } else if (p == segments[i]) {
      // Earlier literal segments weigh more, so "/stream/copy" beats "/stream/:uid".
      score += 1 << (segments.size() - i);
    } else {
      return false;
    }
  }
  *params = std::move(bound);
  *literal_score = score;
  return true;
}

RouteMatch Router::Match(std::string_view method, const std::vector<std::string>& segments) const {
  RouteMatch best;
  int best_score = -1;
  int best_path_score = -1;
  for (const Route& r : routes_) {
    PathParams params;
    int score = 0;
    if (!MatchRoute(r, segments, &params, &score)) {
      continue;
    }
    if (score > best_path_score) {
      best_path_score = score;
      best.allowed.clear();
    }
    if (score == best_path_score) {
      best.allowed.push_back(r.method);
    }
    best.path_matched = true;
    bool method_ok = r.method == method || (method == "HEAD" && r.method == "GET");
    if (method_ok && score > best_score) {
      best_score = score;
      best.route = &r;
      best.params = std::move(params);
    }
  }
  // A less specific route of the right method must not shadow a more specific path: e.g.
  // DELETE /stream/copy should be 405, not DELETE /stream/:uid with uid "copy".
  if (best.route != nullptr && best_score < best_path_score) {
    best.route = nullptr;
  }
  return best;
}

}  // namespace kino::api

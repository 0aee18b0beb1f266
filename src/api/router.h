// Router: maps a method and a decoded path to a handler.
//
// Patterns are slash-separated segments; a segment ":name" matches any one segment and binds
// it. A literal segment wins over a parameter at the same depth. Two kinds of handler exist:
// buffered handlers get the whole body (up to the server's limit) in Request::body; streaming
// handlers read the body themselves through a BodyReader (uploads).
#ifndef KINO_API_ROUTER_H_
#define KINO_API_ROUTER_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "api/body_reader.h"
#include "api/http_types.h"

namespace kino::api {

using PathParams = std::map<std::string, std::string, std::less<>>;

using Handler = std::function<Response(Request&, const PathParams&)>;
using StreamHandler =
    std::function<boost::asio::awaitable<Response>(Request&, const PathParams&, BodyReader&)>;

struct Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;
  Handler handler;
  StreamHandler stream_handler;
  bool blocking = false;  // the handler may block for long: the server runs it off its I/O threads
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for the path, or none for the method
  PathParams params;
  bool path_matched = false;         // some route has this path (405 rather than 404)
  std::vector<std::string> allowed;  // methods for the path, when path_matched
};

class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler);
  void AddStream(std::string method, std::string pattern, StreamHandler handler);
  // A buffered handler that may block for a long time (decoding media): the server runs it on
  // a separate pool so that the other connections of its I/O thread keep being served.
  void AddBlocking(std::string method, std::string pattern, Handler handler);
  RouteMatch Match(std::string_view method, const std::vector<std::string>& segments) const;

 private:
  static bool MatchRoute(const Route& route, const std::vector<std::string>& segments,
                         PathParams* params, int* literal_score);
  std::vector<Route> routes_;
};

}  // namespace kino::api

#endif  // KINO_API_ROUTER_H_

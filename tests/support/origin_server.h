// OriginServer: a tiny HTTP/1.1 server on 127.0.0.1 (plain sockets, one thread per connection)
// that plays the origin of an upload by link in tests. Each path serves a body with a chosen
// behaviour: honour Range or not, cut the connection or stall after some bytes, redirect, or
// answer an error status. Every request's path and Range header are recorded.
//
// Thread-safety: all methods from any thread; Serve() may replace a resource while serving.
#ifndef KINO_TESTS_SUPPORT_ORIGIN_SERVER_H_
#define KINO_TESTS_SUPPORT_ORIGIN_SERVER_H_

#include <atomic>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kino::testing {

struct OriginResource {
  int status = 200;
  std::string body;
  std::string location;  // for 3xx
  bool ranges = true;    // answer "Range: bytes=N-" with 206 (unless If-Range differs)
  std::string etag;      // sent as ETag when set
  // After this many body bytes of a full (non-range) answer: cut the connection, or stall
  // (send nothing more until the client leaves or the server stops). npos: neither.
  size_t cut_after = std::string::npos;
  size_t stall_after = std::string::npos;
};

// A resource answering `status` with `body`.
inline OriginResource Answer(int status, std::string body) {
  OriginResource r;
  r.status = status;
  r.body = std::move(body);
  return r;
}
// A 302 to `location`.
inline OriginResource Redirect(std::string location) {
  OriginResource r = Answer(302, "");
  r.location = std::move(location);
  return r;
}

struct OriginRequest {
  std::string path;
  std::string range;     // "" when none
  std::string if_range;  // "" when none
};

class OriginServer {
 public:
  OriginServer() = default;
  ~OriginServer();
  OriginServer(const OriginServer&) = delete;
  OriginServer& operator=(const OriginServer&) = delete;

  void Serve(const std::string& path, OriginResource resource);
  // Binds 127.0.0.1 on a free port and starts accepting. False on failure.
  bool Start();
  void Stop();

  // "http://127.0.0.1:PORT" + path
  std::string Url(const std::string& path) const;
  std::vector<OriginRequest> requests() const;
  // Connections open right now (a stalled one counts until the client leaves).
  int open_connections() const { return open_.load(); }

 private:
  void AcceptLoop();
  void Handle(int fd);

  std::map<std::string, OriginResource> resources_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> workers_;     // guarded by mu_
  std::vector<OriginRequest> requests_;  // guarded by mu_
};

}  // namespace kino::testing

#endif  // KINO_TESTS_SUPPORT_ORIGIN_SERVER_H_

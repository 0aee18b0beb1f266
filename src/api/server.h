// Server: HTTP/1.1 on Boost.Beast and Boost.Asio, with every connection a coroutine.
//
// - Keep-alive and pipelining: requests on one connection are answered in order, one at a
//   time; the next request is not read before the previous response is written.
// - Limits: request header at most 16 KiB; a buffered body at most `max_body_bytes` (413 past
//   it); streaming routes read their bodies themselves.
// - Timeouts: a request header must arrive within `header_timeout`; an idle keep-alive
//   connection is closed after `idle_timeout`; a body read or a response write that makes no
//   progress for `io_timeout` ends the connection. A slow client therefore never holds a
//   thread: threads only run ready work.
// - Threads: each of the `threads` I/O threads runs its own event loop; the accepting thread
//   hands each new connection to the next loop in turn, and the connection stays there, so a
//   request never wakes another thread. Routes added with Router::AddBlocking run on a small
//   separate pool (and come back to their loop to answer); every other handler runs on its
//   connection's I/O thread and must not block for long.
// - Responses with FileSlice parts are written with sendfile(2).
// - Shutdown(): stops accepting, closes idle connections, lets in-flight requests finish for up
//   to `grace`, then stops.
//
// Beast and Asio stay inside server.cc; this header is cheap to include.
#ifndef KINO_API_SERVER_H_
#define KINO_API_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "api/router.h"
#include "common/status.h"

namespace kino::api {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free port
  int threads = 2;
  uint64_t max_body_bytes = 1 << 20;
  std::chrono::seconds header_timeout{30};
  std::chrono::seconds idle_timeout{75};
  std::chrono::seconds io_timeout{60};
  std::chrono::seconds grace{20};
};

class Server {
 public:
  Server(ServerOptions options, const Router* router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. Returns the bound address ("127.0.0.1:43817").
  Result<std::string> Listen();
  // Serves until Shutdown() completes. Blocks the calling thread (which serves too).
  void Run();
  // Thread-safe; returns at once. Run() returns when draining is over.
  void Shutdown();
  // Calls `fn` on SIGTERM or SIGINT (from the server's threads). Call before Run().
  void OnSignal(std::function<void(int)> fn);

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kino::api

#endif  // KINO_API_SERVER_H_

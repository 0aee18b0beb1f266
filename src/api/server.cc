// Beast and Asio live here and nowhere else in the server.
#include "api/server.h"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/envelope.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/errors.h"

namespace kino::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kSendfileChunk = 1 << 20;
constexpr size_t kBodyReadReserve = 128 * 1024;
// How long the accept loop waits after running out of descriptors before trying again.
constexpr std::chrono::milliseconds kAcceptPause{100};
// Room for a typical response header, so that serialising one allocates once.
constexpr size_t kHeadReserve = 1024;
// Threads for routes added with Router::AddBlocking (thumbnail decoding).
constexpr int kBlockingThreads = 2;
// Lingering close: after answering a request whose body was not read (an early 4xx), the rest
// of the body is read and dropped for a while before closing, so that the close does not
// reset the connection under a client still sending and the client sees the answer.
constexpr std::chrono::seconds kLingerTime{5};
constexpr uint64_t kLingerBytes = 256ull * 1024 * 1024;

metrics::Counter& RequestsCounter() {
  static metrics::Counter& c =
      metrics::GetCounter("kino_http_requests_total", "HTTP requests by route, method and status.");
  return c;
}
metrics::Histogram& LatencyHistogram() {
  static metrics::Histogram& h = metrics::GetHistogram(
      "kino_http_request_duration_seconds", "Time from request header to response end.",
      {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  return h;
}
// The catch-all at a connection's coroutine entry: a surprise exception (from a library that
// throws, or bad_alloc) ends that one connection with a log line and a counter, never the
// process.
void OnSessionEnd(std::exception_ptr error) {
  if (!error) {
    return;
  }
  static metrics::Counter& internal = metrics::GetCounter(
      "kino_internal_errors_total", "Surprise exceptions caught at a thread or coroutine entry.");
  internal.Increment({{"where", "http_session"}});
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  log::Error("session_exception", log::RedactSecrets(what));
}

std::string RouteLabel(const Route* route) {
  return route != nullptr ? route->pattern : "unmatched";
}

// The method as a metrics label: one of the methods Kino serves, else "other", so that a
// client inventing methods cannot grow the number of series without bound.
std::string_view MethodLabel(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    if (method == known) {
      return known;
    }
  }
  return "other";
}

// The request metrics' series for one route, method and status: looked up under the
// families' mutexes once per thread, then updated with atomics on every request.
struct RequestSeries {
  metrics::ValueSeries* requests;
  metrics::HistogramSeries* latency;
};

RequestSeries& SeriesFor(const Route* route, std::string_view method, int status) {
  using Key = std::tuple<const Route*, std::string_view, int>;
  thread_local std::map<Key, RequestSeries> cache;
  Key key{route, MethodLabel(method), status};
  auto it = cache.find(key);
  if (it == cache.end()) {
    std::string name = RouteLabel(route);
    RequestSeries series{&RequestsCounter().Series({{"route", name},
                                                    {"method", std::string(std::get<1>(key))},
                                                    {"status", std::to_string(status)}}),
                         &LatencyHistogram().Series({{"route", name}})};
    it = cache.emplace(key, series).first;
  }
  return it->second;
}

metrics::ValueSeries& InFlightGauge() {
  static metrics::ValueSeries& g =
      metrics::GetGauge("kino_http_in_flight_requests", "Requests being served now.").Series({});
  return g;
}

// 16 hex digits, unique within the process: a counter from a random start, mixed (splitmix64,
// a bijection) so that ids do not look sequential. Ids only name requests in logs; no random
// bytes from the kernel are spent per request.
std::string NextRequestId() {
  static std::atomic<uint64_t> counter = [] {
    uint64_t start = 0;
    RandomBytes(&start, sizeof(start));
    return start;
  }();
  uint64_t z = counter.fetch_add(1, std::memory_order_relaxed) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, z >>= 4) {
    out[static_cast<size_t>(i)] = kHex[z & 0xf];
  }
  return out;
}

bool IsApiPath(std::string_view path) {
  return path.rfind("/client/v4/", 0) == 0;
}

Response ErrorFor(std::string_view path, const Status& s, std::string_view request_id) {
  return IsApiPath(path) ? JsonError(s, request_id) : PlainError(s, request_id);
}

// Per-connection state the server can reach from outside the session (shutdown).
struct SessionHandle {
  beast::tcp_stream* stream = nullptr;
  std::atomic<bool> idle{true};
  bool unread_body = false;  // the last response went out before its request's body was read
};

// Reads a request body through the Beast parser, a buffer at a time.
class ParserBodyReader : public BodyReader {
 public:
  ParserBodyReader(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                   http::request_parser<http::buffer_body>& parser, std::chrono::seconds timeout)
      : stream_(stream), buffer_(buffer), parser_(parser), timeout_(timeout) {
    // Beast reads no more than the buffer's free capacity (at least 512 bytes, at most 64 KiB)
    // per call; the few KiB left after the header would make a large body cost a system call
    // and a timer update every few KiB.
    buffer_.reserve(kBodyReadReserve);
    auto expect = parser_.get()[http::field::expect];
    expect_continue_ =
        EqualsIgnoreCase(std::string_view(expect.data(), expect.size()), "100-continue");
    if (parser_.content_length()) {
      content_length_ = *parser_.content_length();
    }
  }

  asio::awaitable<Result<size_t>> Read(char* out, size_t capacity) override {
    if (parser_.is_done() || capacity == 0) {
      co_return size_t{0};
    }
    if (expect_continue_) {
      // RFC 9110 section 10.1.1: the client waits for this before sending the body.
      expect_continue_ = false;
      http::response<http::empty_body> cont{http::status::continue_, 11};
      error_code ec;
      stream_.expires_after(timeout_);
      co_await http::async_write(stream_, cont, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        co_return Cancelled("client went away");
      }
    }
    // A read can end on chunk framing (RFC 9112 section 7.1) without a body byte; 0 must mean
    // the end of the body only, so read again until bytes arrive or the message is done.
    size_t n = 0;
    error_code ec;
    while (n == 0 && !ec && !parser_.is_done()) {
      auto& body = parser_.get().body();
      body.data = out;
      body.size = capacity;
      stream_.expires_after(timeout_);
      co_await http::async_read_some(stream_, buffer_, parser_,
                                     asio::redirect_error(asio::use_awaitable, ec));
      n = capacity - body.size;
      if (ec == http::error::need_buffer) {
        ec = {};
      }
    }
    if (ec) {
      if (ec == beast::error::timeout) {
        co_return DeadlineExceeded("request body stalled");
      }
      if (ec == http::error::partial_message || ec == asio::error::eof ||
          ec == asio::error::connection_reset) {
        co_return Cancelled("client closed the connection mid-body");
      }
      co_return InvalidArgument("malformed request body: " + ec.message(), domain::kErrBadUpload);
    }
    bytes_read_ += n;
    co_return n;
  }

  std::optional<uint64_t> content_length() const override { return content_length_; }
  uint64_t bytes_read() const override { return bytes_read_; }

 private:
  beast::tcp_stream& stream_;
  beast::flat_buffer& buffer_;
  http::request_parser<http::buffer_body>& parser_;
  std::chrono::seconds timeout_;
  bool expect_continue_ = false;
  std::optional<uint64_t> content_length_;
  uint64_t bytes_read_ = 0;
};

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router* router)
      : options_(std::move(options)),
        router_(router),
        loops_(MakeLoops(options_.threads)),
        acceptor_(*loops_[0]),
        signals_(*loops_[0], SIGINT, SIGTERM),
        blocking_pool_(kBlockingThreads) {}

  Result<std::string> Listen() {
    std::string host = options_.listen;
    std::string port = "8080";
    size_t colon = host.rfind(':');
    if (colon != std::string::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    error_code ec;
    auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
    auto port_number = ParseUint64(port);
    if (ec || !port_number || *port_number > 65535) {
      return InvalidArgument("--listen must be HOST:PORT with a numeric IP, got " +
                             options_.listen);
    }
    tcp::endpoint endpoint(address, static_cast<uint16_t>(*port_number));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) {
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
      acceptor_.bind(endpoint, ec);
    }
    if (!ec) {
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
      return Unavailable("listening on " + options_.listen + ": " + ec.message());
    }
    tcp::endpoint bound = acceptor_.local_endpoint();
    std::string addr = bound.address().to_string();
    if (bound.address().is_v6()) {
      addr = "[" + addr + "]";
    }
    return addr + ":" + std::to_string(bound.port());
  }

  void OnSignal(std::function<void(int)> fn) { on_signal_ = std::move(fn); }

  void Run() {
    signals_.async_wait([this](const error_code& ec, int signo) {
      if (!ec && on_signal_) {
        on_signal_(signo);
      }
    });
    asio::co_spawn(*loops_[0], AcceptLoop(), asio::detached);
    // Loops without a connection yet must keep running until DrainWatch stops them.
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& loop : loops_) {
      guards.push_back(asio::make_work_guard(*loop));
    }
    std::vector<std::thread> threads;
    for (size_t i = 1; i < loops_.size(); ++i) {
      threads.emplace_back([this, i] { loops_[i]->run(); });
    }
    loops_[0]->run();
    for (auto& t : threads) {
      t.join();
    }
    blocking_pool_.stop();
    blocking_pool_.join();
  }

  void Shutdown() {
    asio::post(*loops_[0], [this] { BeginDrain(); });
  }

 private:
  // One event loop per I/O thread, each told it is run by one thread (asio then skips the
  // wake-ups meant for other threads of the same loop).
  static std::vector<std::unique_ptr<asio::io_context>> MakeLoops(int threads) {
    std::vector<std::unique_ptr<asio::io_context>> loops;
    for (int i = 0; i < std::max(1, threads); ++i) {
      loops.push_back(std::make_unique<asio::io_context>(1));
    }
    return loops;
  }

  void StopLoops() {
    for (auto& loop : loops_) {
      loop->stop();
    }
  }

  void BeginDrain() {
    if (draining_.exchange(true)) {
      return;
    }
    error_code ec;
    acceptor_.close(ec);
    signals_.cancel(ec);
    CloseIdleSessions();
    drain_deadline_ = std::chrono::steady_clock::now() + options_.grace;
    asio::co_spawn(*loops_[0], DrainWatch(), asio::detached);
  }

  void CloseIdleSessions() {
    std::lock_guard<std::mutex> lock(sessions_mu_);
    for (auto& handle : sessions_) {
      if (handle->idle.load() && handle->stream != nullptr) {
        beast::tcp_stream* stream = handle->stream;
        asio::post(stream->get_executor(), [handle] {
          if (handle->idle.load() && handle->stream != nullptr) {
            handle->stream->cancel();
          }
        });
      }
    }
  }

  asio::awaitable<void> DrainWatch() {
    asio::steady_timer timer(*loops_[0]);
    while (true) {
      size_t open = 0;
      {
        std::lock_guard<std::mutex> lock(sessions_mu_);
        open = sessions_.size();
      }
      if (open == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
        if (open > 0) {
          log::Warn("shutdown_grace_expired", "closing connections still in flight",
                    {{"connections", std::to_string(open)}});
        }
        StopLoops();
        co_return;
      }
      CloseIdleSessions();
      timer.expires_after(std::chrono::milliseconds(50));
      error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> AcceptLoop() {
    size_t next_loop = 0;
    while (!draining_.load()) {
      error_code ec;
      // Round robin: the connection lives on this loop (and its thread) until it closes.
      tcp::socket socket(*loops_[next_loop]);
      next_loop = (next_loop + 1) % loops_.size();
      co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (draining_.load() || ec == asio::error::operation_aborted) {
          co_return;
        }
        // Out of descriptors (EMFILE, ENFILE) or memory: the connection waits in the listen
        // backlog while open ones finish. Retrying at once would spin on the same error.
        bool exhausted = ec == asio::error::no_descriptors || ec.value() == ENFILE ||
                         ec == asio::error::no_memory || ec == asio::error::no_buffer_space;
        log::Warn("accept_failed", ec.message(),
                  {{"retry_ms", std::to_string(exhausted ? kAcceptPause.count() : 0)}});
        if (exhausted) {
          asio::steady_timer pause(*loops_[0]);
          pause.expires_after(kAcceptPause);
          co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        continue;
      }
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(std::move(socket)), OnSessionEnd);
    }
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    auto handle = std::make_shared<SessionHandle>();
    std::string peer_ip;
    {
      error_code ec;
      // Responses are whole messages: no Nagle delay for their last partial segment (a file's
      // header and body are coalesced by MSG_MORE or TCP_CORK instead, see WriteResponse).
      socket.set_option(tcp::no_delay(true), ec);
      auto ep = socket.remote_endpoint(ec);
      if (!ec) {
        auto addr = ep.address();
        if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
          addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
        }
        peer_ip = addr.to_string();
      }
    }
    beast::tcp_stream stream(std::move(socket));
    handle->stream = &stream;
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      sessions_.push_back(handle);
    }
    beast::flat_buffer buffer;
    bool first = true;
    while (!draining_.load() || first) {
      first = false;
      bool keep_alive = co_await ServeOne(stream, buffer, peer_ip, *handle);
      if (!keep_alive) {
        break;
      }
    }
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (handle->unread_body && !draining_.load()) {
      co_await Linger(stream);
    }
    {
      std::lock_guard<std::mutex> lock(sessions_mu_);
      handle->stream = nullptr;
      sessions_.remove(handle);
    }
  }

  static asio::awaitable<void> Linger(beast::tcp_stream& stream) {
    std::vector<char> scratch(64 * 1024);
    uint64_t dropped = 0;
    stream.expires_after(kLingerTime);
    while (dropped < kLingerBytes) {
      error_code ec;
      size_t n = co_await stream.async_read_some(asio::buffer(scratch),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        break;  // EOF, reset or the time is up: close now
      }
      dropped += n;
    }
  }

  // Serves one request. Returns whether the connection may carry another.
  asio::awaitable<bool> ServeOne(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                 const std::string& peer_ip, SessionHandle& handle) {
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    // Buffered routes enforce max_body_bytes themselves; streaming routes have their own limits.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    handle.idle.store(true);
    stream.expires_after(buffer.size() > 0 ? options_.header_timeout : options_.idle_timeout);
    error_code ec;
    co_await http::async_read_header(stream, buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    handle.idle.store(false);
    // Body bytes that arrived with the header make a buffer_body parser ask for a buffer; the
    // header itself is complete, and the BodyReader supplies buffers from here on.
    if (ec == http::error::need_buffer && parser.is_header_done()) {
      ec = {};
    }
    if (ec) {
      if (ec == http::error::header_limit) {
        co_await WriteSimple(stream, 431, "request header too large\n");
      } else if (ec != http::error::end_of_stream && ec != beast::error::timeout &&
                 ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
                 ec != asio::error::eof) {
        log::Debug("bad_request_header", ec.message());
        co_await WriteSimple(stream, 400, "malformed request\n");
      }
      co_return false;
    }

    auto started = std::chrono::steady_clock::now();
    InFlightGauge().Add(1);
    Request req = BuildRequest(parser.get(), peer_ip);
    ParserBodyReader reader(stream, buffer, parser, options_.io_timeout);
    const Route* route = nullptr;
    Response res = co_await Dispatch(req, reader, &route);
    bool keep_alive = parser.get().keep_alive() && !res.close && !draining_.load();
    handle.unread_body = !parser.is_done();
    if (handle.unread_body) {
      keep_alive = false;  // the handler did not read the body: the stream is out of step
    }
    res.headers.Set("X-Request-Id", req.request_id);
    bool ok = co_await WriteResponse(stream, req, res, keep_alive);
    InFlightGauge().Add(-1);

    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    RequestSeries& series = SeriesFor(route, req.method, res.status);
    series.requests->Add(1);
    series.latency->Observe(seconds);
    // The fields (a redacted path among them) cost more than serving a small range: build
    // them only when debug logging is on.
    if (log::Enabled(log::Level::kDebug)) {
      log::Debug("http_request", "served",
                 {{"request_id", req.request_id},
                  {"method", req.method},
                  {"route", RouteLabel(route)},
                  {"path", log::RedactUrl(req.path)},
                  {"status", std::to_string(res.status)},
                  {"ms", std::to_string(static_cast<int64_t>(seconds * 1000))}});
    }
    co_return ok&& keep_alive;
  }

  static Request BuildRequest(const http::request<http::buffer_body>& msg,
                              const std::string& peer_ip) {
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    std::string_view target = req.target;
    size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
      req.query = ParseQuery(target.substr(q + 1));
    }
    for (const auto& field : msg) {
      req.headers.Add(std::string_view(field.name_string().data(), field.name_string().size()),
                      std::string_view(field.value().data(), field.value().size()));
    }
    req.peer_ip = peer_ip;
    req.request_id = NextRequestId();
    return req;
  }

  asio::awaitable<Response> Dispatch(Request& req, ParserBodyReader& reader,
                                     const Route** matched) {
    auto segments = SplitPath(req.path);
    if (!segments) {
      co_return ErrorFor(req.path, InvalidArgument("malformed path"), req.request_id);
    }
    RouteMatch match = router_->Match(req.method, *segments);
    if (match.route == nullptr) {
      if (match.path_matched && req.method != "OPTIONS") {
        Response r = ErrorFor(req.path,
                              Status(StatusCode::kInvalidArgument, "method not allowed",
                                     domain::kErrMethodNotAllowed),
                              req.request_id);
        std::string allow;
        for (const auto& m : match.allowed) {
          allow += (allow.empty() ? "" : ", ") + m;
        }
        r.headers.Set("Allow", allow);
        co_return r;
      }
      co_return ErrorFor(req.path, NotFound("No route for the URI", domain::kErrNoRoute),
                         req.request_id);
    }
    *matched = match.route;
    if (match.route->stream_handler) {
      co_return co_await match.route->stream_handler(req, match.params, reader);
    }
    Status body_status = co_await ReadWholeBody(reader, &req.body);
    if (!body_status.ok()) {
      Response r = ErrorFor(req.path, body_status, req.request_id);
      r.close = true;
      co_return r;
    }
    if (match.route->blocking) {
      // Off the I/O thread; co_spawn resumes this coroutine on its own loop afterwards.
      co_return co_await asio::co_spawn(
          blocking_pool_, RunBlocking(match.route, &req, &match.params), asio::use_awaitable);
    }
    co_return match.route->handler(req, match.params);
  }

  // A blocking route's handler, run on blocking_pool_.
  static asio::awaitable<Response> RunBlocking(const Route* route, Request* req,
                                               const PathParams* params) {
    co_return route->handler(*req, *params);
  }

  asio::awaitable<Status> ReadWholeBody(ParserBodyReader& reader, std::string* body) {
    if (reader.content_length() && *reader.content_length() > options_.max_body_bytes) {
      co_return ResourceExhausted(
          "request body larger than " + std::to_string(options_.max_body_bytes) + " bytes",
          domain::kErrUploadTooLarge);
    }
    char chunk[16384];
    while (true) {
      Result<size_t> n = co_await reader.Read(chunk, sizeof(chunk));
      if (!n.ok()) {
        co_return n.status();
      }
      if (*n == 0) {
        co_return Status::Ok();
      }
      body->append(chunk, *n);
      if (body->size() > options_.max_body_bytes) {
        co_return ResourceExhausted("request body too large", domain::kErrUploadTooLarge);
      }
    }
  }

  asio::awaitable<void> WriteSimple(beast::tcp_stream& stream, int status, std::string body) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "text/plain");
    res.set(http::field::connection, "close");
    res.body() = std::move(body);
    res.prepare_payload();
    error_code ec;
    stream.expires_after(options_.io_timeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  }

  // Writes the response. The header is serialised into one buffer (SerializeHead) and leaves
  // with the first body bytes where it can: a string body in the same write, a file body that
  // one sendfile(2) call sends (a typical range) with MSG_MORE, so that the kernel holds the
  // header until the file's bytes join it. Longer files and multipart bodies set TCP_CORK
  // instead: each sendfile call or small write would otherwise end in a partial packet.
  asio::awaitable<bool> WriteResponse(beast::tcp_stream& stream, const Request& req, Response& res,
                                      bool keep_alive) {
    bool no_body =
        res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200);
    bool send_body = !no_body && !res.omit_body && req.method != "HEAD";
    std::string out;
    out.reserve(kHeadReserve + (send_body && res.parts.empty() ? res.body.size() : 0));
    SerializeHead(res, no_body, keep_alive, &out);

    auto& socket = stream.socket();
    if (!socket.native_non_blocking()) {
      error_code ec;
      socket.native_non_blocking(true, ec);  // once per connection: it costs a system call
      if (ec) {
        co_return false;
      }
    }
    if (!send_body) {
      co_return co_await SendAll(socket, out, 0);
    }
    if (res.parts.empty()) {
      out += res.body;
      co_return co_await SendAll(socket, out, 0);
    }
    if (res.parts.size() == 1 && std::holds_alternative<FileSlice>(res.parts[0]) &&
        std::get<FileSlice>(res.parts[0]).length <= kSendfileChunk) {
      const FileSlice& slice = std::get<FileSlice>(res.parts[0]);
      co_return co_await SendAll(socket, out, slice.length > 0 ? MSG_MORE : 0) &&
          co_await SendFile(socket, slice);
    }
    SetCork(socket, true);
    bool ok = co_await SendAll(socket, out, 0);
    for (size_t i = 0; ok && i < res.parts.size(); ++i) {
      const BodyPart& part = res.parts[i];
      ok = std::holds_alternative<std::string>(part)
               ? co_await SendAll(socket, std::get<std::string>(part), 0)
               : co_await SendFile(socket, std::get<FileSlice>(part));
    }
    SetCork(socket, false);  // sends what the cork still holds
    co_return ok;
  }

  // The status line and header fields (RFC 9112 sections 4 and 5), with Content-Length and,
  // when the connection ends here, Connection: close. Kino sets these two itself, so the
  // handler's own are dropped, and so is any field whose name or value could split the header
  // (a CR or LF, which only a bug could put there).
  static void SerializeHead(const Response& res, bool no_body, bool keep_alive, std::string* out) {
    out->append("HTTP/1.1 ");
    AppendDecimal(static_cast<uint64_t>(res.status), out);
    out->push_back(' ');
    auto reason = http::obsolete_reason(static_cast<http::status>(res.status));
    if (!reason.starts_with("<")) {  // Beast's "<unknown-status>": RFC 9112 allows none
      out->append(reason.data(), reason.size());
    }
    out->append("\r\n");
    for (const auto& [name, value] : res.headers.fields()) {
      if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection") ||
          EqualsIgnoreCase(name, "Transfer-Encoding")) {
        continue;
      }
      if (name.empty() || !IsSafeInHeader(name, true) || !IsSafeInHeader(value, false)) {
        log::Warn("response_header_dropped", "a response header field held a line break");
        continue;
      }
      out->append(name);
      out->append(": ");
      out->append(value);
      out->append("\r\n");
    }
    if (!no_body) {
      out->append("Content-Length: ");
      AppendDecimal(res.ContentLength(), out);
      out->append("\r\n");
    }
    if (!keep_alive) {
      out->append("Connection: close\r\n");
    }
    out->append("\r\n");
  }

  // False when `text` holds a CR or LF (or, in a field name, a colon or space): bytes that
  // would end the field early.
  static bool IsSafeInHeader(std::string_view text, bool is_name) {
    for (char c : text) {
      if (c == '\r' || c == '\n' || (is_name && (c == ':' || c == ' '))) {
        return false;
      }
    }
    return true;
  }

  static void AppendDecimal(uint64_t value, std::string* out) {
    char digits[20];
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), value);
    out->append(digits, end);
  }

  // TCP_CORK (tcp(7)): while set, the kernel sends only full segments, so a multipart answer's
  // framing and file bytes leave in as few packets as they fill, instead of one small packet
  // per write. Clearing it sends the rest at once.
  static void SetCork(tcp::socket& socket, bool on) {
    int value = on ? 1 : 0;
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_CORK, &value, sizeof(value));
  }

  // Writes all of `bytes` to the non-blocking socket, waiting for room when it is full.
  // `flags` may hold MSG_MORE: more of the response follows at once.
  asio::awaitable<bool> SendAll(tcp::socket& socket, std::string_view bytes, int flags) {
    while (!bytes.empty()) {
      ssize_t n = ::send(socket.native_handle(), bytes.data(), bytes.size(), flags | MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!co_await WaitWritable(socket)) {
          co_return false;
        }
        continue;
      }
      co_return false;  // the client went away
    }
    co_return true;
  }

  // Sends a file range with sendfile(2) from the descriptor the handler opened: the bytes go
  // from the page cache to the socket without passing through user space, and a slow reader
  // costs only the socket's buffer.
  asio::awaitable<bool> SendFile(tcp::socket& socket, const FileSlice& slice) {
    int fd = slice.file->fd();
    off_t offset = static_cast<off_t>(slice.offset);
    uint64_t remaining = slice.length;
    bool ok = true;
    while (ok && remaining > 0) {
      ssize_t n = ::sendfile(socket.native_handle(), fd, &offset,
                             static_cast<size_t>(std::min<uint64_t>(remaining, kSendfileChunk)));
      if (n > 0) {
        remaining -= static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        ok = co_await WaitWritable(socket);
        continue;
      }
      ok = false;  // n == 0: the file is shorter than planned; or a socket error
    }
    co_return ok;
  }

  asio::awaitable<bool> WaitWritable(tcp::socket& socket) {
    asio::steady_timer watchdog(socket.get_executor());
    watchdog.expires_after(options_.io_timeout);
    bool timed_out = false;
    watchdog.async_wait([&socket, &timed_out](const error_code& ec) {
      if (!ec) {
        timed_out = true;
        error_code ignored;
        socket.cancel(ignored);
      }
    });
    error_code ec;
    co_await socket.async_wait(tcp::socket::wait_write,
                               asio::redirect_error(asio::use_awaitable, ec));
    watchdog.cancel();
    co_return !ec && !timed_out;
  }

  ServerOptions options_;
  const Router* router_;
  std::vector<std::unique_ptr<asio::io_context>> loops_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::thread_pool blocking_pool_;  // declared after loops_: stopped and joined before them
  std::function<void(int)> on_signal_;
  std::atomic<bool> draining_{false};
  std::chrono::steady_clock::time_point drain_deadline_;
  std::mutex sessions_mu_;
  std::list<std::shared_ptr<SessionHandle>> sessions_;
};

Server::Server(ServerOptions options, const Router* router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}
Server::~Server() = default;
Result<std::string> Server::Listen() {
  return impl_->Listen();
}
void Server::Run() {
  impl_->Run();
}
void Server::Shutdown() {
  impl_->Shutdown();
}
void Server::OnSignal(std::function<void(int)> fn) {
  impl_->OnSignal(std::move(fn));
}

}  // namespace kino::api

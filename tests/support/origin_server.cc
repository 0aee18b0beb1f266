#include "tests/support/origin_server.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kino::testing {
namespace {

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) {
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads up to the end of the request head ("" when the client left first).
std::string ReadHead(int fd) {
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return "";
    }
    head.append(buf, static_cast<size_t>(n));
  }
  return head;
}

// The value of header `name` (lower case) in `head`, or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    size_t colon = head.find(':', pos);
    size_t end = head.find("\r\n", pos);
    if (colon == std::string::npos || end == std::string::npos || colon > end) {
      continue;
    }
    std::string key = head.substr(pos, colon - pos);
    for (char& c : key) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (key == name) {
      size_t v = head.find_first_not_of(' ', colon + 1);
      return head.substr(v, end - v);
    }
  }
  return "";
}

// Waits until the client closes or `stopping` turns true.
void Stall(int fd, const std::atomic<bool>& stopping) {
  char buf[256];
  while (!stopping.load()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0 && ::recv(fd, buf, sizeof(buf), 0) <= 0) {
      return;
    }
  }
}

}  // namespace

OriginServer::~OriginServer() {
  Stop();
}

void OriginServer::Serve(const std::string& path, OriginResource resource) {
  std::lock_guard<std::mutex> lock(mu_);
  resources_[path] = std::move(resource);
}

bool OriginServer::Start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return false;
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return true;
}

void OriginServer::Stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);
  }
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (std::thread& t : workers) {
    t.join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
  }
}

std::string OriginServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<OriginRequest> OriginServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void OriginServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    workers_.emplace_back([this, fd] {
      ++open_;
      Handle(fd);
      ::close(fd);
      --open_;
    });
  }
}

void OriginServer::Handle(int fd) {
  std::string head = ReadHead(fd);
  size_t sp1 = head.find(' ');
  size_t sp2 = head.find(' ', sp1 + 1);
  if (head.empty() || sp1 == std::string::npos || sp2 == std::string::npos) {
    return;
  }
  OriginRequest req{head.substr(sp1 + 1, sp2 - sp1 - 1), HeaderValue(head, "range"),
                    HeaderValue(head, "if-range")};
  OriginResource res = Answer(404, "not found");
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req);
    auto it = resources_.find(req.path);
    if (it != resources_.end()) {
      res = it->second;
    }
  }

  // "bytes=N-" only, which is all a resuming fetch sends; a stale If-Range gets the whole
  // resource (RFC 9110 section 13.1.5).
  size_t start = 0;
  bool fresh = req.if_range.empty() || req.if_range == res.etag;
  if (res.status == 200 && res.ranges && fresh && req.range.rfind("bytes=", 0) == 0) {
    start = std::stoul(req.range.substr(6));
  }
  bool partial = start > 0 && start < res.body.size();
  std::string out = "HTTP/1.1 " + std::to_string(partial ? 206 : res.status) + " X\r\n";
  if (start >= res.body.size() && start > 0) {
    out = "HTTP/1.1 416 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    SendAll(fd, out.data(), out.size());
    return;
  }
  if (partial) {
    out += "Content-Range: bytes " + std::to_string(start) + "-" +
           std::to_string(res.body.size() - 1) + "/" + std::to_string(res.body.size()) + "\r\n";
  }
  if (!res.etag.empty()) {
    out += "ETag: " + res.etag + "\r\n";
  }
  if (!res.location.empty()) {
    out += "Location: " + res.location + "\r\n";
  }
  out += "Content-Length: " + std::to_string(res.body.size() - start) +
         "\r\nConnection: close\r\n\r\n";
  SendAll(fd, out.data(), out.size());

  size_t stop = res.body.size();
  if (!partial) {
    stop = std::min({stop, res.cut_after, res.stall_after});
  }
  SendAll(fd, res.body.data() + start, stop - start);
  if (!partial && res.stall_after != std::string::npos) {
    Stall(fd, stopping_);
  }
}

}  // namespace kino::testing

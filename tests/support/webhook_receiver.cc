#include "tests/support/webhook_receiver.h"

#include <cctype>
#include <cstdio>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace kino::testing {
namespace {

constexpr size_t kMaxRequestBytes = 4 * 1024 * 1024;

std::string Lower(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The receiver's own HMAC-SHA256, in lowercase hex.
std::string HexHmacSha256(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &mac_len);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < mac_len; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", mac[i]);
    hex += byte;
  }
  return hex;
}

bool SendAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one request: head up to the blank line, then Content-Length bytes of body.
bool ReadRequest(int fd, WebhookReceiver::Delivery* d) {
  std::string data;
  char buf[8192];
  size_t head_end = std::string::npos;
  size_t want = 0;
  while (true) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = data.substr(0, head_end);
        size_t eol = head.find("\r\n");
        std::string line = head.substr(0, eol);
        size_t sp1 = line.find(' ');
        size_t sp2 = line.find(' ', sp1 + 1);
        if (sp1 == std::string::npos || sp2 == std::string::npos) {
          return false;
        }
        d->method = line.substr(0, sp1);
        d->path = line.substr(sp1 + 1, sp2 - sp1 - 1);
        size_t at = eol == std::string::npos ? head.size() : eol + 2;
        while (at < head.size()) {
          size_t next = head.find("\r\n", at);
          std::string field =
              head.substr(at, next == std::string::npos ? std::string::npos : next - at);
          size_t colon = field.find(':');
          if (colon != std::string::npos) {
            d->headers[Lower(field.substr(0, colon))] = Trim(field.substr(colon + 1));
          }
          at = next == std::string::npos ? head.size() : next + 2;
        }
        auto cl = d->headers.find("content-length");
        want = cl == d->headers.end() ? 0 : std::stoul(cl->second);
      }
    }
    if (head_end != std::string::npos && data.size() >= head_end + 4 + want) {
      d->body = data.substr(head_end + 4, want);
      return true;
    }
    if (data.size() > kMaxRequestBytes) {
      return false;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return false;
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

std::string Reason(int status) {
  return status >= 200 && status < 300 ? "OK" : status < 400 ? "Moved" : "Error";
}

}  // namespace

bool VerifyWebhookSignature(const std::string& secret, const std::string& header,
                            const std::string& body, int64_t* time) {
  // time=<digits>,sig1=<64 lowercase hex>
  size_t comma = header.find(',');
  if (header.rfind("time=", 0) != 0 || comma == std::string::npos ||
      header.compare(comma + 1, 5, "sig1=") != 0) {
    return false;
  }
  std::string t = header.substr(5, comma - 5);
  std::string sig = header.substr(comma + 6);
  if (t.empty() || t.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  *time = std::stoll(t);
  std::string expected = HexHmacSha256(secret, t + "." + body);
  return sig.size() == expected.size() &&
         CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) == 0;
}

WebhookReceiver::~WebhookReceiver() {
  Stop();
}

bool WebhookReceiver::Start(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 256) != 0) {
    close(fd);
    return false;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  acceptor_ = std::thread([this, fd] { AcceptLoop(fd); });
  return true;
}

void WebhookReceiver::Stop() {
  int fd = listen_fd_.exchange(-1);
  if (fd >= 0) {
    shutdown(fd, SHUT_RDWR);  // wakes accept()
  }
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  if (fd >= 0) {
    close(fd);
  }
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(connections_);
  }
  for (auto& t : threads) {
    t.join();
  }
}

std::string WebhookReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void WebhookReceiver::set_secret(const std::string& secret) {
  std::lock_guard<std::mutex> lock(mu_);
  secret_ = secret;
}

void WebhookReceiver::set_responder(Responder responder) {
  std::lock_guard<std::mutex> lock(mu_);
  responder_ = std::move(responder);
}

std::vector<WebhookReceiver::Delivery> WebhookReceiver::deliveries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return deliveries_;
}

bool WebhookReceiver::WaitFor(const std::function<bool(const std::vector<Delivery>&)>& done,
                              std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done(deliveries())) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void WebhookReceiver::AcceptLoop(int listen_fd) {
  while (true) {
    int fd = accept(listen_fd, nullptr, nullptr);
    if (fd < 0) {
      return;  // shut down
    }
    timeval tv{10, 0};  // a stuck client never holds Stop() for long
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::lock_guard<std::mutex> lock(mu_);
    connections_.emplace_back([this, fd] { Serve(fd); });
  }
}

void WebhookReceiver::Serve(int fd) {
  Delivery d;
  if (ReadRequest(fd, &d)) {
    Answer answer = Record(std::move(d));
    std::this_thread::sleep_for(answer.delay);
    const std::string& body = answer.body;
    std::string out =
        "HTTP/1.1 " + std::to_string(answer.status) + " " + Reason(answer.status) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nConnection: close\r\n";
    for (const auto& [name, value] : answer.headers) {
      out += name + ": " + value + "\r\n";
    }
    SendAll(fd, out + "\r\n" + body);
  }
  close(fd);
}

WebhookReceiver::Answer WebhookReceiver::Record(Delivery d) {
  std::lock_guard<std::mutex> lock(mu_);
  d.at = std::chrono::steady_clock::now();
  d.event_id = d.headers.count("webhook-id") != 0 ? d.headers["webhook-id"] : "";
  d.signature_ok =
      VerifyWebhookSignature(secret_, d.headers["webhook-signature"], d.body, &d.signed_time);
  int nth = ++per_event_[d.event_id];
  Answer answer = responder_ ? responder_(d, nth) : Answer{};
  d.answered = answer.status;
  deliveries_.push_back(std::move(d));
  return answer;
}

}  // namespace kino::testing

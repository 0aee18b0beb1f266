// WebhookReceiver: a small HTTP/1.1 server on 127.0.0.1 that plays an integrator's webhook
// endpoint in integration tests.
//
// Each request is read whole (Content-Length bodies only), its Webhook-Signature is checked
// with the receiver's own HMAC-SHA256 (OpenSSL) and a constant-time comparison, and it is
// recorded as a Delivery. The answer comes from the responder (200 by default). One thread
// accepts; each connection gets its own thread, so slow answers do not hold up others.
//
// Thread-safety: every public method may be called from any thread.
#ifndef KINO_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_
#define KINO_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kino::testing {

class WebhookReceiver {
 public:
  struct Delivery {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    std::string event_id;  // the Webhook-Id header
    int64_t signed_time = 0;
    bool signature_ok = false;  // time=,sig1= present and sig1 matches the secret
    int answered = 0;           // the status the receiver sent back
    std::chrono::steady_clock::time_point at;
  };

  struct Answer {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds delay{0};  // wait this long before answering
    std::string body = "{}";
  };

  // Decides the answer to a delivery; `nth_of_event` counts this event id's deliveries from 1.
  using Responder = std::function<Answer(const Delivery& delivery, int nth_of_event)>;

  WebhookReceiver() = default;
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // Listens on 127.0.0.1:`port` (0 picks one). False when the socket cannot be bound.
  bool Start(int port = 0);
  // Closes the listening socket and waits for the connection threads. Deliveries are kept.
  void Stop();
  int port() const { return port_; }
  std::string url(const std::string& path = "/hook") const;

  void set_secret(const std::string& secret);
  void set_responder(Responder responder);

  std::vector<Delivery> deliveries() const;
  // Polls (every 20 ms) until `done(deliveries())` holds or `timeout` passes.
  bool WaitFor(const std::function<bool(const std::vector<Delivery>&)>& done,
               std::chrono::milliseconds timeout) const;

 private:
  void AcceptLoop(int listen_fd);
  void Serve(int fd);
  Answer Record(Delivery delivery);

  std::atomic<int> listen_fd_{-1};
  int port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<std::thread> connections_;  // guarded by mu_
  std::string secret_;                    // guarded by mu_
  Responder responder_;                   // guarded by mu_
  std::vector<Delivery> deliveries_;      // guarded by mu_
  std::map<std::string, int> per_event_;  // guarded by mu_
};

// "time=<t>,sig1=<hex>" checked against HMAC-SHA256(secret, "<t>.<body>") with OpenSSL and
// CRYPTO_memcmp. *time gets t when the header parses.
bool VerifyWebhookSignature(const std::string& secret, const std::string& header,
                            const std::string& body, int64_t* time);

}  // namespace kino::testing

#endif  // KINO_TESTS_SUPPORT_WEBHOOK_RECEIVER_H_

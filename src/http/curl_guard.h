// CurlGuard: what both of Kino's libcurl clients (fetch.h for upload by link, http_client.h for
// webhooks) install on a transfer: the private-address guard, checked on the address each
// connection really opens (so neither DNS rebinding nor a redirect gets past it), and the
// caller's cancellation, polled while the transfer runs.
//
// Thread-safety: one guard per transfer; it must outlive the transfer.
#ifndef KINO_HTTP_CURL_GUARD_H_
#define KINO_HTTP_CURL_GUARD_H_

#include <functional>

#include <curl/curl.h>

namespace kino::http {

struct CurlGuard {
  bool allow_private_addresses = false;
  const std::function<bool()>* cancelled = nullptr;  // may be null or empty

  // Set by the callbacks: why curl was stopped.
  bool refused_address = false;
  bool was_cancelled = false;
};

// Points curl's open-socket and progress callbacks at `guard`.
void InstallCurlGuard(CURL* curl, CurlGuard* guard);

}  // namespace kino::http

#endif  // KINO_HTTP_CURL_GUARD_H_

// A small blocking HTTP client (libcurl) for requests Kino sends itself: webhook deliveries.
//
// Safe by default for user-chosen URLs: http and https only, no proxies from the environment,
// redirects followed only to the same host (see Post), bounded connect and total time, a
// bounded response body, and the private-address guard (http/address_guard.h) on every
// address connected to unless the caller allows private addresses.
//
// Thread-safety: each call uses its own libcurl handle; calls may run on any thread at once.
#ifndef KINO_HTTP_HTTP_CLIENT_H_
#define KINO_HTTP_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kino::http {

struct ParsedUrl {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // as written; IPv6 literals keep their brackets
};

// Accepts an absolute http(s) URL with a host, at most 2048 bytes, no spaces or control
// characters. InvalidArgument (with `api_code`) naming what is wrong otherwise.
Result<ParsedUrl> ParseHttpUrl(std::string_view url, int api_code = 0);

// The most redirects one Post follows.
inline constexpr int kMaxPostRedirects = 3;

struct PostOptions {
  int64_t connect_timeout_ms = 5000;
  int64_t total_timeout_ms = 15000;  // per request; each redirect hop gets its own
  size_t max_response_bytes = 64 * 1024;
  bool allow_private_addresses = false;
  std::string user_agent = "Kino-Webhook/1";
  // When set and it returns true, the transfer is aborted soon (e.g. the job was cancelled).
  // Called from the calling thread, a few times a second.
  std::function<bool()> cancelled;
};

struct PostResult {
  // The response's status code, or 0 when no response arrived (see `error`).
  int http_status = 0;
  int64_t latency_ms = 0;
  // Empty when a status arrived and nothing else went wrong. Otherwise a short description
  // without the URL's query or credentials: "connect: address not allowed (private)",
  // "timeout after 15000 ms", "response body larger than 65536 bytes", "redirect to another
  // host not followed", ...
  std::string error;
  std::string body;  // at most max_response_bytes
  bool cancelled = false;
};

using HeaderFields = std::vector<std::pair<std::string, std::string>>;

// POSTs `body` to `url` with `headers`. Never fails as a Status: every outcome, including
// transport errors, is described by the result, because the caller records each attempt.
// A 301, 302, 307 or 308 whose Location names the same host (any scheme or port) is followed
// with the same method, body and headers, at most kMaxPostRedirects times; any other 3xx, or
// one to another host, is returned as it is with `error` saying so. `latency_ms` covers every
// hop.
PostResult Post(std::string_view url, std::string_view body, const HeaderFields& headers,
                const PostOptions& options);

}  // namespace kino::http

#endif  // KINO_HTTP_HTTP_CLIENT_H_

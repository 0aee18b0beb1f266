// Fetch: downloads a user-chosen http(s) URL into a caller's sink, for upload by link
// (POST /stream/copy). Built on libcurl.
//
// Safe for URLs a user typed: http and https only (also on redirects), at most
// `max_redirects` redirects, no proxies from the environment, a size bound checked against
// Content-Length up front and against the bytes received, a connect timeout and a stall
// timeout (the transfer fails when fewer than 1 byte per second arrives for `stall_seconds`),
// and the private-address guard (http/address_guard.h) applied to every address actually
// connected to (CURLOPT_OPENSOCKETFUNCTION sees the resolved address of each connection,
// including those of redirects), unless the caller allows private addresses.
//
// Resuming: with `resume_from` > 0 a `Range: bytes=N-` request is sent, with `If-Range: V` when
// the caller kept the validator V of the earlier response (RFC 9110 section 13.1.5), so that an
// origin whose file changed sends the whole new file instead of the rest of the old one. The
// sink's on_start learns whether the origin honoured the Range (206 starting at N) or sent the
// whole resource (200), and the validator of this response to keep for a later resume.
//
// Thread-safety: each call uses its own libcurl handle; calls may run on any thread at once.
#ifndef KINO_HTTP_FETCH_H_
#define KINO_HTTP_FETCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kino::http {

inline constexpr uint64_t kDefaultMaxFetchBytes = 30ull * 1000 * 1000 * 1000;  // Stream's 30 GB

struct FetchOptions {
  int max_redirects = 5;
  uint64_t max_bytes = kDefaultMaxFetchBytes;
  int64_t connect_timeout_ms = 10000;
  int64_t stall_seconds = 30;
  // The whole transfer's bound (0: none); past it the fetch fails with DeadlineExceeded.
  int64_t max_seconds = 0;
  bool allow_private_addresses = false;
  uint64_t resume_from = 0;
  std::string if_range;  // with resume_from: the validator on_start reported earlier
  std::string user_agent = "Kino-Fetch/1";
  // When set and it returns true, the transfer is aborted soon (the job was cancelled).
  std::function<bool()> cancelled;
};

struct FetchSink {
  // Called once before the first body byte with the offset the body starts at (resume_from
  // when the origin answered 206 to the Range, 0 when it sent the whole resource) and the
  // response's validator for If-Range: its strong ETag, else its Last-Modified, else "".
  std::function<Status(uint64_t start_offset, std::string_view validator)> on_start;
  std::function<Status(std::string_view data)> on_data;
};

struct FetchInfo {
  int http_status = 0;    // of the final response; 0 when none arrived
  uint64_t received = 0;  // body bytes handed to the sink by this call
  uint64_t start_offset = 0;
};

// Downloads `url` into `sink`. OK once the whole body arrived. Errors, none naming the URL
// (it may carry credentials in its query):
//   InvalidArgument   retrying cannot help: malformed or non-http(s) URL, an address refused
//                     by the guard, a 4xx answer other than 408/429, too many redirects, a
//                     body larger than max_bytes.
//   Unavailable       may work later: connection failures, 5xx, 408, 429, a cut-off body.
//   DeadlineExceeded  connect timeout, the origin stalled past stall_seconds, or the transfer
//                     took longer than max_seconds.
//   Cancelled         options.cancelled said so.
// A sink's own error is returned unchanged.
Status Fetch(std::string_view url, const FetchSink& sink, const FetchOptions& options,
             FetchInfo* info = nullptr);

}  // namespace kino::http

#endif  // KINO_HTTP_FETCH_H_

#include "http/fetch.h"

#include <memory>
#include <mutex>
#include <optional>

#include <curl/curl.h>

#include "common/strings.h"
#include "http/curl_guard.h"
#include "http/http_client.h"

namespace kino::http {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What the callbacks share during one transfer.
struct Transfer {
  CURL* curl = nullptr;
  const FetchOptions* options = nullptr;
  const FetchSink* sink = nullptr;
  FetchInfo info;
  std::optional<uint64_t> content_range_start;  // of the latest response's headers
  std::string etag;                             // of the latest response, strong ones only
  std::string last_modified;                    // of the latest response
  bool started = false;
  CurlGuard guard;
  bool too_large = false;
  bool bad_status = false;
  Status sink_error;
};

// "bytes 100-199/1000" -> 100 (RFC 9110 section 14.4).
std::optional<uint64_t> ContentRangeStart(std::string_view value) {
  value = TrimWhitespace(value);
  if (value.size() < 6 || !EqualsIgnoreCase(value.substr(0, 6), "bytes ")) {
    return std::nullopt;
  }
  value.remove_prefix(6);
  return ParseUint64(TrimWhitespace(value.substr(0, value.find('-'))));
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
    // A new response (after a redirect or a 100).
    t->content_range_start.reset();
    t->etag.clear();
    t->last_modified.clear();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return size * n;
  }
  std::string_view name = line.substr(0, colon);
  std::string_view value = TrimWhitespace(line.substr(colon + 1));
  if (EqualsIgnoreCase(name, "content-range")) {
    t->content_range_start = ContentRangeStart(value);
  } else if (EqualsIgnoreCase(name, "etag") && value.substr(0, 2) != "W/") {
    t->etag = std::string(value);  // a weak ETag cannot be used in If-Range
  } else if (EqualsIgnoreCase(name, "last-modified")) {
    t->last_modified = std::string(value);
  }
  return size * n;
}

// Decides, at the first body byte, whether this response is one we take and where it starts.
bool StartBody(Transfer* t) {
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  t->info.http_status = static_cast<int>(status);
  uint64_t start = 0;
  if (status == 206 && t->options->resume_from > 0 &&
      t->content_range_start == t->options->resume_from) {
    start = t->options->resume_from;
  } else if (status != 200) {
    t->bad_status = true;  // includes a 206 we did not ask for or that starts elsewhere
    return false;
  }
  curl_off_t length = -1;
  curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  if (length > 0 && start + static_cast<uint64_t>(length) > t->options->max_bytes) {
    t->too_large = true;
    return false;
  }
  t->info.start_offset = start;
  t->started = true;
  if (t->sink->on_start) {
    t->sink_error = t->sink->on_start(start, t->etag.empty() ? t->last_modified : t->etag);
  }
  return t->sink_error.ok();
}

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (!t->started && !StartBody(t)) {
    return 0;  // aborts with CURLE_WRITE_ERROR
  }
  if (t->info.start_offset + t->info.received + bytes > t->options->max_bytes) {
    t->too_large = true;
    return 0;
  }
  t->sink_error = t->sink->on_data(std::string_view(data, bytes));
  if (!t->sink_error.ok()) {
    return 0;
  }
  t->info.received += bytes;
  return bytes;
}

void SetOptions(CURL* c, const std::string& url, Transfer* t, const std::string& range,
                curl_slist* headers) {
  const FetchOptions& o = *t->options;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(o.max_redirects));
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // ignore http_proxy & co. from the environment
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "identity");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.stall_seconds));
  if (o.max_seconds > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(o.max_seconds));
  }
  if (!range.empty()) {
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
  }
  if (headers != nullptr) {
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  InstallCurlGuard(c, &t->guard);
}

Status StatusForHttp(int status) {
  std::string what = "origin answered HTTP " + std::to_string(status);
  if (status >= 400 && status < 500 && status != 408 && status != 429) {
    return InvalidArgument(what);
  }
  return Unavailable(what);
}

// Turns the outcome of curl_easy_perform into Fetch's Status (see fetch.h).
Status Outcome(CURLcode code, Transfer& t) {
  const FetchOptions& o = *t.options;
  if (!t.sink_error.ok()) {
    return t.sink_error;
  }
  if (t.guard.refused_address) {
    return InvalidArgument("origin address not allowed (private or special-purpose network)");
  }
  if (t.too_large) {
    return InvalidArgument("origin file larger than " + std::to_string(o.max_bytes) + " bytes");
  }
  if (t.guard.was_cancelled) {
    return Cancelled("fetch cancelled");
  }
  if (t.bad_status) {
    return StatusForHttp(t.info.http_status);
  }
  switch (code) {
    case CURLE_OK:
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      return InvalidArgument("more than " + std::to_string(o.max_redirects) + " redirects");
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidArgument("redirect to a scheme other than http or https");
    case CURLE_URL_MALFORMAT:
      return InvalidArgument("malformed URL");
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceeded(
          t.info.http_status == 0 && !t.started
              ? "origin did not answer in time (connect " + std::to_string(o.connect_timeout_ms) +
                    " ms, stall " + std::to_string(o.stall_seconds) + " s)"
              : "origin stalled (no data for " + std::to_string(o.stall_seconds) +
                    " s) or the transfer passed its time bound");
    default:
      return Unavailable(std::string("fetching from origin: ") + curl_easy_strerror(code));
  }
  long status = 0;
  curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
  t.info.http_status = static_cast<int>(status);
  if (!t.started) {
    // No body byte arrived: an error status, or an empty 200 (which we refuse as well).
    if (status == 200 || (status == 206 && t.content_range_start == o.resume_from)) {
      return InvalidArgument("origin sent an empty body");
    }
    return StatusForHttp(t.info.http_status);
  }
  return Status::Ok();
}

}  // namespace

Status Fetch(std::string_view url, const FetchSink& sink, const FetchOptions& options,
             FetchInfo* info) {
  KINO_RETURN_IF_ERROR(ParseHttpUrl(url).status());
  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
  if (!c) {
    return Internal("curl_easy_init failed");
  }
  Transfer t;
  t.curl = c.get();
  t.options = &options;
  t.guard.allow_private_addresses = options.allow_private_addresses;
  t.guard.cancelled = &options.cancelled;
  t.sink = &sink;
  std::string range =
      options.resume_from > 0 ? std::to_string(options.resume_from) + "-" : std::string();
  std::string url_copy(url);
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  if (options.resume_from > 0 && !options.if_range.empty() &&
      options.if_range.find_first_of("\r\n") == std::string::npos) {
    headers.reset(curl_slist_append(nullptr, ("If-Range: " + options.if_range).c_str()));
  }
  SetOptions(c.get(), url_copy, &t, range, headers.get());
  CURLcode code = curl_easy_perform(c.get());
  Status s = Outcome(code, t);
  if (info != nullptr) {
    *info = t.info;
  }
  return s;
}

}  // namespace kino::http

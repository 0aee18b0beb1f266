#include "http/http_client.h"

#include <cctype>
#include <chrono>
#include <memory>
#include <mutex>

#include <curl/curl.h>

#include "http/curl_guard.h"

namespace kino::http {
namespace {

constexpr size_t kMaxUrlBytes = 2048;

struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
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

Result<std::string> UrlPart(CURLU* u, CURLUPart part, const char* what, int api_code) {
  char* value = nullptr;
  if (curl_url_get(u, part, &value, 0) != CURLUE_OK || value == nullptr) {
    return InvalidArgument(std::string("URL has no ") + what, api_code);
  }
  std::string out(value);
  curl_free(value);
  return out;
}

// Per-transfer state the callbacks see.
struct Transfer {
  const PostOptions* options = nullptr;
  std::string body;
  bool too_large = false;
  CurlGuard guard;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->body.size() + bytes > t->options->max_response_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->body.append(data, bytes);
  return bytes;
}

void SetOptions(CURL* c, std::string_view url, std::string_view body, curl_slist* headers,
                Transfer* t) {
  const PostOptions& o = *t->options;
  curl_easy_setopt(c, CURLOPT_URL, std::string(url).c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // ignore http_proxy & co. from the environment
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  InstallCurlGuard(c, &t->guard);
}

std::string DescribeFailure(CURLcode code, const Transfer& t, const PostOptions& o) {
  if (t.guard.refused_address) {
    return "connect: address not allowed (private or special-purpose)";
  }
  if (t.too_large) {
    return "response body larger than " + std::to_string(o.max_response_bytes) + " bytes";
  }
  if (t.guard.was_cancelled) {
    return "cancelled";
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return "timeout (connect " + std::to_string(o.connect_timeout_ms) + " ms, total " +
           std::to_string(o.total_timeout_ms) + " ms)";
  }
  return curl_easy_strerror(code);
}

}  // namespace

Result<ParsedUrl> ParseHttpUrl(std::string_view url, int api_code) {
  if (url.empty() || url.size() > kMaxUrlBytes) {
    return InvalidArgument("URL must be 1 to 2048 bytes", api_code);
  }
  for (char ch : url) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return InvalidArgument("URL must not contain spaces or control characters", api_code);
    }
  }
  std::unique_ptr<CURLU, CurlUrlDeleter> u(curl_url());
  if (!u) {
    return Internal("curl_url failed");
  }
  // No default scheme: "example.com/hook" is refused rather than guessed.
  if (curl_url_set(u.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) {
    return InvalidArgument("URL is not a valid absolute URL", api_code);
  }
  ParsedUrl parsed;
  KINO_ASSIGN_OR_RETURN(parsed.scheme, UrlPart(u.get(), CURLUPART_SCHEME, "scheme", api_code));
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    return InvalidArgument("URL must start with http:// or https://", api_code);
  }
  KINO_ASSIGN_OR_RETURN(parsed.host, UrlPart(u.get(), CURLUPART_HOST, "host", api_code));
  if (parsed.host.empty()) {
    return InvalidArgument("URL has no host", api_code);
  }
  return parsed;
}

namespace {

// One request, no redirects followed; `*location` gets the Location of a 3xx ("" if none).
PostResult PostOnce(std::string_view url, std::string_view body, curl_slist* headers,
                    const PostOptions& options, std::string* location) {
  PostResult result;
  std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
  if (!c) {
    result.error = "curl_easy_init failed";
    return result;
  }
  Transfer t;
  t.options = &options;
  t.guard.allow_private_addresses = options.allow_private_addresses;
  t.guard.cancelled = &options.cancelled;
  SetOptions(c.get(), url, body, headers, &t);
  auto start = std::chrono::steady_clock::now();
  CURLcode code = curl_easy_perform(c.get());
  result.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();

  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  result.http_status = static_cast<int>(status);
  result.body = std::move(t.body);
  result.cancelled = t.guard.was_cancelled;
  if (code != CURLE_OK) {
    result.error = DescribeFailure(code, t, options);
  }
  char* redirect = nullptr;
  location->clear();
  if (curl_easy_getinfo(c.get(), CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect) {
    *location = redirect;  // already made absolute by curl
  }
  return result;
}

bool IsFollowedRedirect(int status) {
  return status == 301 || status == 302 || status == 307 || status == 308;
}

bool SameHost(std::string_view a, std::string_view b) {
  auto pa = ParseHttpUrl(a);
  auto pb = ParseHttpUrl(b);
  if (!pa.ok() || !pb.ok() || pa->host.size() != pb->host.size()) {
    return false;
  }
  for (size_t i = 0; i < pa->host.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(pa->host[i])) !=
        std::tolower(static_cast<unsigned char>(pb->host[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

PostResult Post(std::string_view url, std::string_view body, const HeaderFields& headers,
                const PostOptions& options) {
  GlobalInit();
  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, SlistDeleter> owned_list(list);

  std::string target(url);
  std::string location;
  int64_t latency_ms = 0;
  PostResult result;
  for (int hop = 0;; ++hop) {
    result = PostOnce(target, body, list, options, &location);
    latency_ms += result.latency_ms;
    result.latency_ms = latency_ms;
    if (!result.error.empty() || !IsFollowedRedirect(result.http_status)) {
      return result;
    }
    // RFC 9110 15.4: the receiver moved; follow it only where it stays on the same host, so a
    // notification URL can never bounce Kino to another server.
    if (location.empty() || !SameHost(target, location)) {
      result.error = "redirect to another host not followed";
      return result;
    }
    if (hop == kMaxPostRedirects) {
      result.error = "too many redirects";
      return result;
    }
    target = location;
  }
}

}  // namespace kino::http

// A blocking HTTP/1.1 client for tests (libcurl), so integration tests talk to the real server
// over a real socket exactly as any client would.
#ifndef KINO_TESTS_SUPPORT_HTTP_CLIENT_H_
#define KINO_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kino::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;
  // Send the body from this file instead of `body` (large uploads).
  std::string body_file;
  long timeout_seconds = 60;
};

struct HttpResponse {
  long status = 0;  // 0 when the request failed at the transport level (see error)
  std::string error;
  HeaderList headers;  // names lower-cased, in arrival order
  std::string body;

  // The first header of that (case-insensitive) name, or "".
  std::string Header(const std::string& name) const;
  // How many headers of that name arrived.
  int HeaderCount(const std::string& name) const;
  // The body parsed as JSON (a discarded value when it is not JSON).
  nlohmann::json Json() const;
};

HttpResponse Http(const HttpRequest& request);

inline HttpResponse Get(const std::string& url, HeaderList headers = {}) {
  return Http({"GET", url, std::move(headers), "", "", 60});
}
inline HttpResponse Head(const std::string& url, HeaderList headers = {}) {
  return Http({"HEAD", url, std::move(headers), "", "", 60});
}
inline HttpResponse Post(const std::string& url, std::string body, HeaderList headers = {}) {
  return Http({"POST", url, std::move(headers), std::move(body), "", 60});
}
inline HttpResponse Put(const std::string& url, std::string body, HeaderList headers = {}) {
  return Http({"PUT", url, std::move(headers), std::move(body), "", 60});
}
inline HttpResponse Delete(const std::string& url, HeaderList headers = {}) {
  return Http({"DELETE", url, std::move(headers), "", "", 60});
}

// A multipart/form-data body with one file field; sets *content_type.
std::string MultipartBody(const std::string& field, const std::string& filename,
                          const std::string& data, std::string* content_type);

// A raw TCP connection to the server at `url` ("http://127.0.0.1:PORT"), for requests no
// well-behaved client sends. Returns the socket, or -1.
int ConnectRaw(const std::string& url);

}  // namespace kino::testing

#endif  // KINO_TESTS_SUPPORT_HTTP_CLIENT_H_

// Request and Response as Kino's handlers see them: plain values, no Beast types, so that
// handler files stay cheap to compile and easy to test.
#ifndef KINO_API_HTTP_TYPES_H_
#define KINO_API_HTTP_TYPES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kino::api {

// HTTP header fields; names compare case-insensitively (RFC 9110 section 5.1).
class Headers {
 public:
  std::optional<std::string_view> Get(std::string_view name) const;
  std::string_view GetOr(std::string_view name, std::string_view fallback) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  // Replaces every field of that name.
  void Set(std::string_view name, std::string_view value);
  void Add(std::string_view name, std::string_view value);
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;                                      // "GET", ...
  std::string target;                                      // as received: path and query
  std::string path;                                        // percent-decoded path
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded
  Headers headers;
  std::string body;  // buffered bodies only (not for streaming routes)
  std::string peer_ip;
  std::string request_id;

  // The first value of query parameter `name`.
  std::optional<std::string_view> Query(std::string_view name) const;
};

// A file descriptor opened for reading, closed when the last holder lets go. A handler that
// opened a file to measure it hands the same descriptor on to be sent: the path is walked
// once, and the bytes sent are those of the file measured even if it is replaced meanwhile.
class OpenFile {
 public:
  explicit OpenFile(int fd) : fd_(fd) {}
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  int fd() const { return fd_; }

 private:
  int fd_;
};

// A piece of an open file to send as part of the body (sendfile(2)).
struct FileSlice {
  std::shared_ptr<const OpenFile> file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

using BodyPart = std::variant<std::string, FileSlice>;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When non-empty, the body is these parts in order and `body` is ignored. Content-Length is
  // their total size.
  std::vector<BodyPart> parts;
  // HEAD: headers (with the Content-Length of the full body) but no body bytes.
  bool omit_body = false;
  // Close the connection after this response.
  bool close = false;

  uint64_t ContentLength() const;
};

// Splits "a/b%20c/d" into decoded segments; nullopt on a bad percent escape or an encoded '/'.
std::optional<std::vector<std::string>> SplitPath(std::string_view path);

// Parses "a=1&b=x%20y" (also '+' as space in values, per HTML forms). A value with a bad percent
// escape is kept as it came, '%' and all, so that the parameter's own check refuses it rather
// than the parameter silently disappearing; a pair whose name is badly escaped is dropped.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace kino::api

#endif  // KINO_API_HTTP_TYPES_H_

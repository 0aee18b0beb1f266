// A streaming multipart/form-data parser (RFC 7578, framing of RFC 2046 section 5.1.1) for
// uploads that may be gigabytes long. Push-based: the caller feeds the request body in chunks
// of any size and the parser calls back with each part's headers and data. Memory stays
// constant: at most one part's header block (bounded by Limits) plus the length of the boundary
// delimiter is held back; part data is handed on as it arrives.
//
// Thread-safety: a MultipartParser is used by one thread at a time.
#ifndef KINO_HTTP_MULTIPART_H_
#define KINO_HTTP_MULTIPART_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kino::http {

// Extracts the boundary from a request's Content-Type, e.g.
// `multipart/form-data; boundary="----abc"` (quoted or not). InvalidArgument when the media type
// is not multipart/form-data, the boundary parameter is missing, or it is not 1 to 70 of the
// characters RFC 2046 section 5.1.1 allows (bchars, not ending in a space).
Result<std::string> BoundaryFromContentType(std::string_view content_type);

// What the parser learned from one part's header block.
struct PartHeaders {
  std::string name;                     // the form field name (Content-Disposition name=)
  std::optional<std::string> filename;  // present for file fields; filename* (RFC 8187) wins
  std::string content_type;             // the part's Content-Type, "" when absent
};

struct MultipartLimits {
  size_t max_header_bytes = 16 * 1024;  // per part, the whole header block
  size_t max_parts = 16;
};

class MultipartParser {
 public:
  // Every callback may be empty (then nothing is called). A callback that returns a non-OK
  // Status stops parsing: Feed() returns that Status unchanged, and so does every later call.
  struct Callbacks {
    std::function<Status(const PartHeaders&)> on_part_begin;
    std::function<Status(std::string_view data)> on_part_data;  // called zero or more times
    std::function<Status()> on_part_end;
  };
  using Limits = MultipartLimits;

  // `boundary` as returned by BoundaryFromContentType().
  MultipartParser(std::string boundary, Callbacks callbacks, Limits limits = {});

  // Consumes the next piece of the body; pieces may be split anywhere, even one byte each.
  // InvalidArgument for a malformed body: bytes other than padding after a boundary, header
  // lines that are folded, malformed or longer than the limit in total, a part without
  // Content-Disposition: form-data and a name, more parts than the limit.
  Status Feed(std::string_view chunk);

  // Call once the body has ended. InvalidArgument when the closing boundary ("--boundary--")
  // was never seen, i.e. the body was truncated; a part cut short never gets on_part_end.
  Status Finish();

  // True once the closing boundary has been seen (the rest is epilogue and ignored).
  bool done() const { return state_ == State::kEpilogue; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kEpilogue, kFailed };

  Status Process(std::string_view in);
  Status ScanForDelimiter(std::string_view& in);
  Status AfterDelimiter(std::string_view& in);
  Status ReadHeaders(std::string_view& in);
  Status BeginPart(std::string_view block);
  Status EndPart();
  size_t PartialDelimiterSuffix(std::string_view in) const;

  std::string delimiter_;  // CRLF "--" boundary (RFC 2046: the CRLF belongs to the delimiter)
  Callbacks callbacks_;
  Limits limits_;
  State state_ = State::kPreamble;
  Status failure_;
  std::string carry_;       // held-back bytes: a possible partial delimiter or padding
  std::string header_buf_;  // the current part's header block while it is incomplete
  size_t parts_ = 0;
  bool part_open_ = false;
};

}  // namespace kino::http

#endif  // KINO_HTTP_MULTIPART_H_

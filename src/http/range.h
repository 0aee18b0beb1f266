// Byte ranges (RFC 9110 section 14): parsing the Range header of a GET, formatting Content-Range,
// and planning a multipart/byteranges body (section 14.6).
//
// Everything here is pure computation on strings and sizes; the server owns the I/O.
// Thread-safety: free functions on values; safe from any thread.
#ifndef KINO_HTTP_RANGE_H_
#define KINO_HTTP_RANGE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kino::http {

// An inclusive byte range within a representation: first <= last < size.
struct ByteRange {
  uint64_t first;
  uint64_t last;

  uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

enum class RangeOutcome {
  kNone,           // no Range header, or one that must be ignored: answer 200 with the whole body
  kSatisfiable,    // answer 206 with `ranges` (one range: single part; more: multipart/byteranges)
  kUnsatisfiable,  // answer 416 with Content-Range: FormatUnsatisfiedRange(size)
};

struct RangeSpec {
  RangeOutcome outcome = RangeOutcome::kNone;
  // Only for kSatisfiable: sorted by `first`, overlapping and adjacent ranges merged, every
  // range clamped to the representation, never empty.
  std::vector<ByteRange> ranges;
};

// More range-specs than this in one header and the header is ignored (kNone): a client asking
// for hundreds of pieces is far more likely abusive than useful (RFC 9110 section 14.2 lets a
// server ignore such requests, and section 17.15 describes the denial-of-service risk).
inline constexpr size_t kMaxRangeSpecs = 100;

// Parses the value of a Range header (RFC 9110 sections 14.1.1 and 14.2) for a representation
// of `representation_size` bytes.
//  - Only the "bytes" unit (case-insensitive) is understood; any other unit gives kNone.
//  - Forms: "bytes=0-99", "bytes=100-" (to the end), "bytes=-500" (the last 500 bytes), and
//    comma-separated lists of these with optional spaces/tabs around the commas.
//  - A syntactically invalid value (including first > last, signs, missing digits) gives kNone:
//    section 14.2 says an invalid Range is ignored.
//  - Numbers too large for 64 bits are treated as "beyond the end", never as an error.
//  - A range whose first byte is at or past the end, or a suffix of length 0, is unsatisfiable
//    and dropped; if nothing remains the outcome is kUnsatisfiable. With size 0 every range is
//    unsatisfiable.
//  - last is clamped to size-1; a suffix longer than the representation selects all of it.
RangeSpec ParseRange(std::string_view header_value, uint64_t representation_size);

// "bytes 0-99/1000" for a Content-Range header of a 206 response or a multipart part.
std::string FormatContentRange(const ByteRange& r, uint64_t size);

// "bytes */1000" for the Content-Range header of a 416 response.
std::string FormatUnsatisfiedRange(uint64_t size);

// The framing of a multipart/byteranges body (RFC 9110 section 14.6). The server writes, for each
// range i, part_headers[i] followed by exactly the bytes of range i, and finally `closing`.
// content_length is the exact length of that whole body.
struct MultipartRanges {
  std::string boundary;  // random, from the CSPRNG; never appears in the framing by chance
  std::vector<std::string> part_headers;
  std::string closing;
  uint64_t content_length = 0;

  // "multipart/byteranges; boundary=<boundary>" for the response's Content-Type header.
  std::string ContentType() const;
};

// Plans the body for `ranges` (as returned by ParseRange) of a representation of `size` bytes
// whose own media type is `content_type` (each part carries it; empty leaves it out).
MultipartRanges PlanMultipartRanges(const std::vector<ByteRange>& ranges, uint64_t size,
                                    std::string_view content_type);

}  // namespace kino::http

#endif  // KINO_HTTP_RANGE_H_

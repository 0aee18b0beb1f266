#include "http/range.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "common/random.h"
#include "common/strings.h"

namespace kino::http {
namespace {

// Optional whitespace (RFC 9110 section 5.6.3): spaces and tabs only.
std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// 1*DIGIT as an unsigned number that saturates at the 64-bit maximum instead of failing: a
// position past every possible size means "beyond the end", which the caller then handles.
std::optional<uint64_t> ParseDigitsSaturating(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    auto digit = static_cast<uint64_t>(c - '0');
    v = (v > (kMax - digit) / 10) ? kMax : v * 10 + digit;
  }
  return v;
}

// One range-spec before it meets the representation size.
struct RawSpec {
  bool suffix = false;  // "-N": the last N bytes
  uint64_t first = 0;   // int-range first-pos, or the suffix length
  uint64_t last = std::numeric_limits<uint64_t>::max();  // absent last-pos means "to the end"
};

// range-spec = int-range / suffix-range (RFC 9110 section 14.1.1). Extension ranges
// (other-range) are not valid for the bytes unit, so anything else is nullopt.
std::optional<RawSpec> ParseSpec(std::string_view s) {
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  RawSpec spec;
  if (dash == 0) {
    std::optional<uint64_t> n = ParseDigitsSaturating(s.substr(1));
    if (!n) {
      return std::nullopt;
    }
    spec.suffix = true;
    spec.first = *n;
    return spec;
  }
  std::optional<uint64_t> first = ParseDigitsSaturating(s.substr(0, dash));
  if (!first) {
    return std::nullopt;
  }
  spec.first = *first;
  std::string_view last_text = s.substr(dash + 1);
  if (!last_text.empty()) {
    std::optional<uint64_t> last = ParseDigitsSaturating(last_text);
    if (!last || *last < *first) {
      return std::nullopt;  // section 14.1.1: first-pos > last-pos makes the spec invalid
    }
    spec.last = *last;
  }
  return spec;
}

// Applies a spec to a representation; nullopt when it is unsatisfiable (section 14.1.1).
std::optional<ByteRange> Resolve(const RawSpec& spec, uint64_t size) {
  if (size == 0) {
    return std::nullopt;
  }
  if (spec.suffix) {
    if (spec.first == 0) {
      return std::nullopt;
    }
    uint64_t first = spec.first >= size ? 0 : size - spec.first;
    return ByteRange{first, size - 1};
  }
  if (spec.first >= size) {
    return std::nullopt;
  }
  return ByteRange{spec.first, std::min(spec.last, size - 1)};
}

// Sorts and merges overlapping or touching ranges (section 14.2 allows coalescing).
std::vector<ByteRange> Coalesce(std::vector<ByteRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  std::vector<ByteRange> merged;
  for (const ByteRange& r : ranges) {
    // last < size <= UINT64_MAX, so last + 1 cannot overflow.
    if (!merged.empty() && r.first <= merged.back().last + 1) {
      merged.back().last = std::max(merged.back().last, r.last);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

}  // namespace

RangeSpec ParseRange(std::string_view header_value, uint64_t representation_size) {
  // ranges-specifier = range-unit "=" range-set (section 14.1.1); units compare
  // case-insensitively (section 14.1).
  size_t eq = header_value.find('=');
  if (eq == std::string_view::npos || !EqualsIgnoreCase(header_value.substr(0, eq), "bytes")) {
    return {};
  }
  std::vector<std::string_view> elements = Split(header_value.substr(eq + 1), ',');
  if (elements.size() > kMaxRangeSpecs) {
    return {};
  }

  // range-set = 1#range-spec; empty list elements are allowed and skipped (section 5.6.1).
  std::vector<ByteRange> satisfiable;
  bool any_spec = false;
  for (std::string_view element : elements) {
    element = TrimOws(element);
    if (element.empty()) {
      continue;
    }
    any_spec = true;
    std::optional<RawSpec> spec = ParseSpec(element);
    if (!spec) {
      return {};
    }
    if (std::optional<ByteRange> r = Resolve(*spec, representation_size)) {
      satisfiable.push_back(*r);
    }
  }

  if (!any_spec) {
    return {};
  }
  if (satisfiable.empty()) {
    return {RangeOutcome::kUnsatisfiable, {}};
  }
  return {RangeOutcome::kSatisfiable, Coalesce(std::move(satisfiable))};
}

std::string FormatContentRange(const ByteRange& r, uint64_t size) {
  return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
         std::to_string(size);
}

std::string FormatUnsatisfiedRange(uint64_t size) {
  return "bytes */" + std::to_string(size);
}

std::string MultipartRanges::ContentType() const {
  return "multipart/byteranges; boundary=" + boundary;
}

MultipartRanges PlanMultipartRanges(const std::vector<ByteRange>& ranges, uint64_t size,
                                    std::string_view content_type) {
  MultipartRanges plan;
  plan.boundary = RandomHex(16);

  // A header value never carries control characters; drop any so the framing cannot be split.
  std::string type;
  for (char c : content_type) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      type.push_back(c);
    }
  }

  // Body: "--B" CRLF headers CRLF data, then CRLF "--B" ... for the next part, and finally
  // CRLF "--B--" CRLF (RFC 2046 section 5.1.1; the CRLF before a delimiter belongs to it).
  for (size_t i = 0; i < ranges.size(); ++i) {
    std::string head = (i == 0 ? "--" : "\r\n--") + plan.boundary + "\r\n";
    if (!type.empty()) {
      head += "Content-Type: " + type + "\r\n";
    }
    head += "Content-Range: " + FormatContentRange(ranges[i], size) + "\r\n\r\n";
    plan.content_length += head.size() + ranges[i].length();
    plan.part_headers.push_back(std::move(head));
  }
  plan.closing = "\r\n--" + plan.boundary + "--\r\n";
  plan.content_length += plan.closing.size();
  return plan;
}

}  // namespace kino::http

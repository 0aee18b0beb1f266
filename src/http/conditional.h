// Conditional requests (RFC 9110 section 13) for GET and HEAD of a static representation such
// as a download file: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range.
//
// Pure functions on header values; safe from any thread.
#ifndef KINO_HTTP_CONDITIONAL_H_
#define KINO_HTTP_CONDITIONAL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kino::http {

// The validators of the selected representation (RFC 9110 section 8.8).
struct Validators {
  std::string etag;  // a strong entity-tag including its quotes, e.g. "\"abc\""; empty if none
  // Last modification time in microseconds since the epoch; <= 0 means unknown. HTTP dates have
  // whole seconds, so comparisons use this value truncated to the second, as the
  // Last-Modified header the server sends does.
  int64_t last_modified_micros = 0;
};

// Raw header values from the request; an empty view means the header was absent.
struct ConditionalHeaders {
  std::string_view if_match = {};
  std::string_view if_none_match = {};
  std::string_view if_modified_since = {};
  std::string_view if_unmodified_since = {};
  std::string_view if_range = {};
};

enum class Precondition {
  kProceed,             // serve the request normally
  kNotModified,         // 304 (GET/HEAD only)
  kPreconditionFailed,  // 412
};

// Evaluates the preconditions in the order of RFC 9110 section 13.2.2:
//   1. If-Match (strong comparison, "*" matches the existing representation) -> 412 if false;
//   2. else If-Unmodified-Since -> 412 if the representation changed after the date;
//   3. If-None-Match (weak comparison) -> 304 for GET/HEAD, 412 otherwise, if it matches;
//   4. else, for GET/HEAD, If-Modified-Since -> 304 if not modified since the date.
// If-Range is not part of this; the caller asks IfRangeAllowsRange() when a Range is present.
// Dates that do not parse are ignored (sections 13.1.3 and 13.1.4), as are date conditions when
// the last modification time is unknown. Entity-tags that do not parse match nothing.
// `method` is compared case-sensitively (section 9.1).
Precondition EvaluatePreconditions(std::string_view method, const ConditionalHeaders& h,
                                   const Validators& v);

// If-Range (section 13.1.5): true when the Range header may be honoured. Empty -> true. An
// entity-tag must match strongly (a weak tag never does); an HTTP-date must equal the
// Last-Modified time exactly. Anything else, including a malformed value, -> false, and the
// server then sends the whole representation with 200.
bool IfRangeAllowsRange(std::string_view if_range, const Validators& v);

// Parses an HTTP-date in any of the three formats a recipient must accept (RFC 9110 section
// 5.6.7): IMF-fixdate, the obsolete RFC 850 form and asctime. Microseconds since the epoch.
std::optional<int64_t> ParseAnyHttpDate(std::string_view text);

}  // namespace kino::http

#endif  // KINO_HTTP_CONDITIONAL_H_

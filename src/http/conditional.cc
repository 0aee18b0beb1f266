#include "http/conditional.h"

#include <vector>

#include "common/time_util.h"

namespace kino::http {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // including the quotes
};

bool IsEtagChar(unsigned char c) {
  // etagc = %x21 / %x23-7E / obs-text (RFC 9110 section 8.8.3)
  return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

// Reads one entity-tag at the start of `s` and removes it; nullopt if `s` does not start with one.
std::optional<EntityTag> ConsumeEntityTag(std::string_view& s) {
  EntityTag tag;
  if (s.starts_with("W/")) {
    tag.weak = true;
    s.remove_prefix(2);
  }
  if (s.empty() || s.front() != '"') {
    return std::nullopt;
  }
  size_t end = 1;
  while (end < s.size() && IsEtagChar(static_cast<unsigned char>(s[end]))) {
    ++end;
  }
  if (end >= s.size() || s[end] != '"') {
    return std::nullopt;
  }
  tag.opaque = s.substr(0, end + 1);
  s.remove_prefix(end + 1);
  return tag;
}

void SkipOws(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
}

// #entity-tag (section 5.6.1 list syntax). A malformed list yields no tags at all: there is no
// safe way to resynchronise inside a broken quoted string.
std::vector<EntityTag> ParseEntityTagList(std::string_view s) {
  std::vector<EntityTag> tags;
  while (true) {
    // Skip separators, including empty list elements.
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == ',')) {
      s.remove_prefix(1);
    }
    if (s.empty()) {
      return tags;
    }
    std::optional<EntityTag> tag = ConsumeEntityTag(s);
    if (!tag) {
      return {};
    }
    tags.push_back(*tag);
    SkipOws(s);
    if (!s.empty() && s.front() != ',') {
      return {};
    }
  }
}

std::optional<EntityTag> ParseOwnTag(const Validators& v) {
  std::string_view s = v.etag;
  std::optional<EntityTag> tag = ConsumeEntityTag(s);
  if (!tag || !s.empty()) {
    return std::nullopt;
  }
  return tag;
}

// Strong comparison (section 8.8.3.2): neither is weak and the opaque tags are identical.
bool StrongMatch(const EntityTag& a, const EntityTag& b) {
  return !a.weak && !b.weak && a.opaque == b.opaque;
}

// Weak comparison: the opaque tags are identical, whatever their weakness.
bool WeakMatch(const EntityTag& a, const EntityTag& b) {
  return a.opaque == b.opaque;
}

bool IsStar(std::string_view value) {
  SkipOws(value);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  return value == "*";
}

// True when any tag in the header matches the representation's own tag.
bool AnyTagMatches(std::string_view header, const Validators& v, bool strong) {
  std::optional<EntityTag> own = ParseOwnTag(v);
  if (!own) {
    return false;
  }
  for (const EntityTag& tag : ParseEntityTagList(header)) {
    if (strong ? StrongMatch(tag, *own) : WeakMatch(tag, *own)) {
      return true;
    }
  }
  return false;
}

// If-Match (section 13.1.1); the representation exists, so "*" is true.
bool IfMatchPasses(std::string_view header, const Validators& v) {
  return IsStar(header) || AnyTagMatches(header, v, /*strong=*/true);
}

// If-None-Match (section 13.1.2): false when "*" or any tag matches weakly.
bool IfNoneMatchPasses(std::string_view header, const Validators& v) {
  return !IsStar(header) && !AnyTagMatches(header, v, /*strong=*/false);
}

std::optional<int64_t> LastModifiedSeconds(const Validators& v) {
  if (v.last_modified_micros <= 0) {
    return std::nullopt;
  }
  return v.last_modified_micros / kMicrosPerSecond;
}

std::optional<int64_t> DateSeconds(std::string_view header) {
  std::optional<int64_t> micros = ParseAnyHttpDate(header);
  if (!micros) {
    return std::nullopt;
  }
  return *micros / kMicrosPerSecond;
}

bool IsGetOrHead(std::string_view method) {
  return method == "GET" || method == "HEAD";
}

// "Sunday, 06-Nov-94 08:49:37 GMT" -> IMF-fixdate text.
std::optional<std::string> Rfc850ToImf(std::string_view s) {
  size_t comma = s.find(", ");
  if (comma == std::string_view::npos || comma < 3) {
    return std::nullopt;
  }
  std::string_view rest = s.substr(comma + 2);
  if (rest.size() != 22 || rest[2] != '-' || rest[6] != '-' || rest[9] != ' ' ||
      rest.substr(18) != " GMT") {
    return std::nullopt;
  }
  std::string_view yy = rest.substr(7, 2);
  if (yy[0] < '0' || yy[0] > '9' || yy[1] < '0' || yy[1] > '9') {
    return std::nullopt;
  }
  // Section 5.6.7 maps a two-digit year more than 50 years ahead into the past; a fixed pivot
  // gives the same answer until 2070.
  std::string century = yy < "70" ? "20" : "19";
  return std::string(s.substr(0, 3)) + ", " + std::string(rest.substr(0, 2)) + " " +
         std::string(rest.substr(3, 3)) + " " + century + std::string(yy) + " " +
         std::string(rest.substr(10, 8)) + " GMT";
}

// "Sun Nov  6 08:49:37 1994" -> IMF-fixdate text.
std::optional<std::string> AsctimeToImf(std::string_view s) {
  if (s.size() != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ') {
    return std::nullopt;
  }
  std::string day(s.substr(8, 2));
  if (day[0] == ' ') {
    day[0] = '0';
  }
  return std::string(s.substr(0, 3)) + ", " + day + " " + std::string(s.substr(4, 3)) + " " +
         std::string(s.substr(20, 4)) + " " + std::string(s.substr(11, 8)) + " GMT";
}

}  // namespace

std::optional<int64_t> ParseAnyHttpDate(std::string_view text) {
  if (std::optional<int64_t> t = ParseHttpDate(text)) {
    return t;
  }
  if (std::optional<std::string> imf = Rfc850ToImf(text)) {
    return ParseHttpDate(*imf);
  }
  if (std::optional<std::string> imf = AsctimeToImf(text)) {
    return ParseHttpDate(*imf);
  }
  return std::nullopt;
}

Precondition EvaluatePreconditions(std::string_view method, const ConditionalHeaders& h,
                                   const Validators& v) {
  // Step 1 and 2 (section 13.2.2): If-Match, else If-Unmodified-Since.
  if (!h.if_match.empty()) {
    if (!IfMatchPasses(h.if_match, v)) {
      return Precondition::kPreconditionFailed;
    }
  } else if (!h.if_unmodified_since.empty()) {
    std::optional<int64_t> date = DateSeconds(h.if_unmodified_since);
    std::optional<int64_t> modified = LastModifiedSeconds(v);
    if (date && modified && *modified > *date) {
      return Precondition::kPreconditionFailed;
    }
  }

  // Step 3 and 4: If-None-Match, else If-Modified-Since (GET/HEAD only).
  if (!h.if_none_match.empty()) {
    if (!IfNoneMatchPasses(h.if_none_match, v)) {
      return IsGetOrHead(method) ? Precondition::kNotModified : Precondition::kPreconditionFailed;
    }
  } else if (!h.if_modified_since.empty() && IsGetOrHead(method)) {
    std::optional<int64_t> date = DateSeconds(h.if_modified_since);
    std::optional<int64_t> modified = LastModifiedSeconds(v);
    if (date && modified && *modified <= *date) {
      return Precondition::kNotModified;
    }
  }
  return Precondition::kProceed;
}

bool IfRangeAllowsRange(std::string_view if_range, const Validators& v) {
  std::string_view value = if_range;
  SkipOws(value);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  if (if_range.empty()) {
    return true;
  }

  // An entity-tag starts with a quote or W/ (section 13.1.5); a weak one never matches.
  if (value.starts_with("W/") || value.starts_with("\"")) {
    std::string_view rest = value;
    std::optional<EntityTag> tag = ConsumeEntityTag(rest);
    std::optional<EntityTag> own = ParseOwnTag(v);
    return tag && rest.empty() && own && StrongMatch(*tag, *own);
  }

  std::optional<int64_t> date = DateSeconds(value);
  std::optional<int64_t> modified = LastModifiedSeconds(v);
  return date && modified && *date == *modified;
}

}  // namespace kino::http

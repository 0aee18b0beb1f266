#include "http/multipart.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace kino::http {
namespace {

constexpr size_t kMaxBoundaryLength = 70;
// Transport padding (RFC 2046 section 5.1.1: LWSP after a boundary) we are willing to skip.
constexpr size_t kMaxPadding = 256;

// RFC 2046 section 5.1.1 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space (not last).
bool IsBoundaryChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
}

bool IsTokenChar(char c) {
  if (c <= 0x20 || c >= 0x7f) {
    return false;
  }
  return std::string_view("()<>@,;:\\\"/[]?={}").find(c) == std::string_view::npos;
}

void SkipSpaces(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
}

// One `; name=value` parameter of a header value (RFC 9110 section 5.6.6). The value may be
// a token or a quoted-string with backslash escapes.
struct Param {
  std::string name;  // lower case
  std::string value;
};

Result<std::string> ReadQuoted(std::string_view& s) {
  std::string out;
  s.remove_prefix(1);  // the opening quote
  while (!s.empty()) {
    char c = s.front();
    s.remove_prefix(1);
    if (c == '"') {
      return out;
    }
    if (c == '\\') {
      if (s.empty()) {
        break;
      }
      c = s.front();
      s.remove_prefix(1);
    }
    out.push_back(c);
  }
  return InvalidArgument("unterminated quoted string in a header parameter");
}

Result<std::vector<Param>> ParseParams(std::string_view s) {
  std::vector<Param> params;
  while (true) {
    SkipSpaces(s);
    if (s.empty()) {
      return params;
    }
    if (s.front() != ';') {
      return InvalidArgument("expected ';' between header parameters");
    }
    s.remove_prefix(1);
    SkipSpaces(s);
    if (s.empty()) {
      return params;  // a trailing ';' is harmless
    }
    size_t eq = s.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return InvalidArgument("header parameter without a value");
    }
    Param p;
    p.name = AsciiLower(TrimWhitespace(s.substr(0, eq)));
    s.remove_prefix(eq + 1);
    SkipSpaces(s);
    if (!s.empty() && s.front() == '"') {
      KINO_ASSIGN_OR_RETURN(p.value, ReadQuoted(s));
    } else {
      size_t end = 0;
      while (end < s.size() && s[end] != ';' && s[end] != ' ' && s[end] != '\t') {
        ++end;
      }
      p.value = std::string(s.substr(0, end));
      s.remove_prefix(end);
    }
    params.push_back(std::move(p));
  }
}

// RFC 8187 ext-value: charset'language'pct-encoded. Only UTF-8 (and its ASCII subset) is
// accepted; anything else falls back to the plain filename parameter.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  size_t q1 = v.find('\'');
  size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) {
    return std::nullopt;
  }
  std::string charset = AsciiLower(v.substr(0, q1));
  if (charset != "utf-8" && charset != "us-ascii") {
    return std::nullopt;
  }
  return PercentDecode(v.substr(q2 + 1));
}

// Content-Disposition: form-data; name="field"; filename="x.mp4" (RFC 7578 section 4.2).
Status ParseDisposition(std::string_view value, PartHeaders* part, bool* has_name) {
  std::string_view v = TrimWhitespace(value);
  size_t semi = v.find(';');
  if (!EqualsIgnoreCase(TrimWhitespace(v.substr(0, semi)), "form-data")) {
    return InvalidArgument("part's Content-Disposition is not form-data");
  }
  if (semi == std::string_view::npos) {
    return Status::Ok();
  }
  KINO_ASSIGN_OR_RETURN(std::vector<Param> params, ParseParams(v.substr(semi)));
  std::optional<std::string> ext_filename;
  for (Param& p : params) {
    if (p.name == "name") {
      part->name = std::move(p.value);
      *has_name = true;
    } else if (p.name == "filename") {
      part->filename = std::move(p.value);
    } else if (p.name == "filename*") {
      ext_filename = DecodeExtValue(p.value);
    }
  }
  if (ext_filename) {
    part->filename = std::move(ext_filename);
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> BoundaryFromContentType(std::string_view content_type) {
  std::string_view v = TrimWhitespace(content_type);
  size_t semi = v.find(';');
  if (!EqualsIgnoreCase(TrimWhitespace(v.substr(0, semi)), "multipart/form-data")) {
    return InvalidArgument("Content-Type must be multipart/form-data");
  }
  if (semi == std::string_view::npos) {
    return InvalidArgument("multipart/form-data without a boundary parameter");
  }
  KINO_ASSIGN_OR_RETURN(std::vector<Param> params, ParseParams(v.substr(semi)));
  for (const Param& p : params) {
    if (p.name != "boundary") {
      continue;
    }
    const std::string& b = p.value;
    if (b.empty() || b.size() > kMaxBoundaryLength || b.back() == ' ' ||
        !std::all_of(b.begin(), b.end(), IsBoundaryChar)) {
      return InvalidArgument("multipart boundary must be 1 to 70 characters allowed by RFC 2046");
    }
    return b;
  }
  return InvalidArgument("multipart/form-data without a boundary parameter");
}

MultipartParser::MultipartParser(std::string boundary, Callbacks callbacks, Limits limits)
    : delimiter_("\r\n--" + boundary), callbacks_(std::move(callbacks)), limits_(limits) {
  // The first delimiter may open the body without the CRLF that belongs to every other one:
  // pretend the body began with a CRLF so one scan finds both.
  carry_ = "\r\n";
}

Status MultipartParser::Feed(std::string_view chunk) {
  if (state_ == State::kFailed) {
    return failure_;
  }
  if (state_ == State::kEpilogue || chunk.empty()) {
    return Status::Ok();
  }
  Status s;
  if (carry_.empty()) {
    s = Process(chunk);
  } else {
    std::string joined = std::move(carry_);
    carry_.clear();
    joined.append(chunk);
    s = Process(joined);
  }
  if (!s.ok()) {
    state_ = State::kFailed;
    failure_ = s;
  }
  return s;
}

Status MultipartParser::Finish() {
  if (state_ == State::kFailed) {
    return failure_;
  }
  if (state_ != State::kEpilogue) {
    state_ = State::kFailed;
    failure_ = InvalidArgument("multipart body ended before its closing boundary (truncated)");
    return failure_;
  }
  return Status::Ok();
}

// Runs the state machine over `in` until it is used up or more bytes are needed; bytes that
// cannot be decided yet are left in carry_.
Status MultipartParser::Process(std::string_view in) {
  while (!in.empty()) {
    switch (state_) {
      case State::kPreamble:
      case State::kBody:
        KINO_RETURN_IF_ERROR(ScanForDelimiter(in));
        break;
      case State::kAfterDelimiter:
        KINO_RETURN_IF_ERROR(AfterDelimiter(in));
        break;
      case State::kHeaders:
        KINO_RETURN_IF_ERROR(ReadHeaders(in));
        break;
      case State::kEpilogue:
        return Status::Ok();
      case State::kFailed:
        return failure_;
    }
  }
  return Status::Ok();
}

// The longest suffix of `in` that is a proper prefix of the delimiter: it may be the start of
// a delimiter that the next chunk completes, so it is held back rather than handed on.
size_t MultipartParser::PartialDelimiterSuffix(std::string_view in) const {
  size_t max = std::min(in.size(), delimiter_.size() - 1);
  for (size_t n = max; n > 0; --n) {
    if (in.substr(in.size() - n) == std::string_view(delimiter_).substr(0, n)) {
      return n;
    }
  }
  return 0;
}

Status MultipartParser::ScanForDelimiter(std::string_view& in) {
  size_t pos = in.find(delimiter_);
  bool in_body = state_ == State::kBody;
  if (pos == std::string_view::npos) {
    size_t keep = PartialDelimiterSuffix(in);
    if (in_body && in.size() > keep && callbacks_.on_part_data) {
      KINO_RETURN_IF_ERROR(callbacks_.on_part_data(in.substr(0, in.size() - keep)));
    }
    carry_.assign(in.substr(in.size() - keep));
    in = {};
    return Status::Ok();
  }
  if (in_body) {
    if (pos > 0 && callbacks_.on_part_data) {
      KINO_RETURN_IF_ERROR(callbacks_.on_part_data(in.substr(0, pos)));
    }
    KINO_RETURN_IF_ERROR(EndPart());
  }
  in.remove_prefix(pos + delimiter_.size());
  state_ = State::kAfterDelimiter;
  return Status::Ok();
}

// After "--boundary": either "--" (the close delimiter) or optional padding and CRLF.
Status MultipartParser::AfterDelimiter(std::string_view& in) {
  size_t i = 0;
  if (in.size() >= 2 && in.substr(0, 2) == "--") {
    state_ = State::kEpilogue;
    in = {};
    return Status::Ok();
  }
  if (in.size() == 1 && in[0] == '-') {
    carry_.assign(in);
    in = {};
    return Status::Ok();
  }
  while (i < in.size() && (in[i] == ' ' || in[i] == '\t') && i < kMaxPadding) {
    ++i;
  }
  if (i == in.size() && i < kMaxPadding) {
    carry_.assign(in);  // padding so far; wait for the CRLF
    in = {};
    return Status::Ok();
  }
  if (in.substr(i, 2) == "\r\n") {
    in.remove_prefix(i + 2);
    state_ = State::kHeaders;
    header_buf_ = "\r\n";  // so that an empty header block ends with the same CRLF CRLF
    return Status::Ok();
  }
  if (i + 1 == in.size() && in[i] == '\r') {
    carry_.assign(in);
    in = {};
    return Status::Ok();
  }
  return InvalidArgument("unexpected bytes after a multipart boundary");
}

Status MultipartParser::ReadHeaders(std::string_view& in) {
  size_t old = header_buf_.size();
  size_t room = limits_.max_header_bytes + 4 - std::min(old, limits_.max_header_bytes + 4);
  header_buf_.append(in.substr(0, std::min(in.size(), room)));
  // Search from a little before the old end: the CRLF CRLF may straddle two chunks.
  size_t from = old >= 3 ? old - 3 : 0;
  size_t end = header_buf_.find("\r\n\r\n", from);
  if (end == std::string::npos) {
    if (header_buf_.size() > limits_.max_header_bytes + 2) {
      return InvalidArgument("multipart part headers larger than " +
                             std::to_string(limits_.max_header_bytes) + " bytes");
    }
    in = {};
    return Status::Ok();
  }
  size_t used = end + 4 - old;  // bytes of `in` that belong to the header block
  in.remove_prefix(used);
  // header_buf_ began with the CRLF of the delimiter line; an empty block has end == 0.
  std::string block = end >= 2 ? header_buf_.substr(2, end - 2) : std::string();
  header_buf_.clear();
  KINO_RETURN_IF_ERROR(BeginPart(block));
  state_ = State::kBody;
  return Status::Ok();
}

Status MultipartParser::BeginPart(std::string_view block) {
  if (++parts_ > limits_.max_parts) {
    return InvalidArgument("more than " + std::to_string(limits_.max_parts) + " multipart parts");
  }
  PartHeaders part;
  bool has_disposition = false;
  bool has_name = false;
  for (std::string_view line : Split(block, '\n')) {
    if (line.empty()) {
      continue;
    }
    if (line.back() != '\r' && line.data() + line.size() != block.data() + block.size()) {
      return InvalidArgument("multipart header line not ended by CRLF");
    }
    if (line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return InvalidArgument("folded multipart header lines are not allowed (RFC 7578)");
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        !std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(colon),
                     IsTokenChar)) {
      return InvalidArgument("malformed multipart header line");
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = TrimWhitespace(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Disposition")) {
      has_disposition = true;
      KINO_RETURN_IF_ERROR(ParseDisposition(value, &part, &has_name));
    } else if (EqualsIgnoreCase(name, "Content-Type")) {
      part.content_type = std::string(value);
    }
  }
  if (!has_disposition || !has_name) {
    return InvalidArgument("multipart part without Content-Disposition: form-data; name=...");
  }
  part_open_ = true;
  if (callbacks_.on_part_begin) {
    return callbacks_.on_part_begin(part);
  }
  return Status::Ok();
}

Status MultipartParser::EndPart() {
  part_open_ = false;
  if (callbacks_.on_part_end) {
    return callbacks_.on_part_end();
  }
  return Status::Ok();
}

}  // namespace kino::http

// libFuzzer target for the parsers every upload path runs on untrusted bytes: the multipart
// boundary (Content-Type), the streaming multipart/form-data parser, tus Upload-Metadata and
// tus offsets.
//
// Input: the first line is a header value (used as Content-Type, Upload-Metadata and
// Upload-Offset); the rest is a request body.
//
// Invariants checked (abort on failure, which libFuzzer reports as a crash):
//   - the multipart parser reports the same parts, bytes and outcome whether the body arrives
//     whole, split at one point, or (for small bodies) one byte at a time;
//   - parsed metadata keys are non-empty, lower case and unique.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "http/multipart.h"
#include "http/tus.h"

namespace {

using namespace kino;  // NOLINT(google-build-using-namespace): fuzz entry point

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

// Everything the parser reported, as one string, and how it ended.
std::string Transcript(const std::string& boundary, std::string_view body, size_t piece) {
  std::string out;
  http::MultipartParser::Callbacks cb;
  cb.on_part_begin = [&out](const http::PartHeaders& h) {
    out += "[begin " + h.name + "|" + h.filename.value_or("-") + "|" + h.content_type + "]";
    return Status::Ok();
  };
  cb.on_part_data = [&out](std::string_view d) {
    out.append(d);
    return Status::Ok();
  };
  cb.on_part_end = [&out] {
    out += "[end]";
    return Status::Ok();
  };
  http::MultipartParser parser(boundary, cb);
  Status s;
  for (size_t at = 0; s.ok() && at < body.size(); at += piece) {
    s = parser.Feed(body.substr(at, piece));
  }
  if (s.ok()) {
    s = parser.Finish();
  }
  return out + (s.ok() ? "[ok]" : "[error]");
}

void CheckMetadata(std::string_view header) {
  auto pairs = http::ParseUploadMetadata(header);
  if (!pairs.ok()) {
    return;
  }
  std::set<std::string> keys;
  for (const auto& [key, value] : *pairs) {
    Require(!key.empty(), "metadata key is empty");
    for (char c : key) {
      Require(!std::isupper(static_cast<unsigned char>(c)), "metadata key not lower case");
    }
    Require(keys.insert(key).second, "metadata key repeated");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  std::string_view header = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : input.substr(newline + 1);

  CheckMetadata(header);
  http::ParseTusOffset(header, "Upload-Offset").status().IgnoreError();

  auto boundary = http::BoundaryFromContentType(header);
  if (!boundary.ok()) {
    return 0;
  }
  std::string whole = Transcript(*boundary, body, body.size() + 1);
  size_t split = body.empty() ? 1 : 1 + static_cast<size_t>(data[0]) % body.size();
  Require(Transcript(*boundary, body, split) == whole, "split body parsed differently");
  if (body.size() <= 4096) {
    Require(Transcript(*boundary, body, 1) == whole, "byte-wise body parsed differently");
  }
  return 0;
}

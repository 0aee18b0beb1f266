#include "http/multipart.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace kino::http {
namespace {

struct SeenPart {
  PartHeaders headers;
  std::string data;
  bool ended = false;
};

// Feeds `body` to a parser in pieces of `piece` bytes and records what it reports.
class Recorder {
 public:
  explicit Recorder(std::string boundary = "XyZ", MultipartLimits limits = {})
      : parser_(std::move(boundary), Callbacks(), limits) {}

  Status FeedAll(std::string_view body, size_t piece) {
    for (size_t i = 0; i < body.size(); i += piece) {
      KINO_RETURN_IF_ERROR(parser_.Feed(body.substr(i, piece)));
    }
    return parser_.Finish();
  }

  std::vector<SeenPart> parts;
  MultipartParser parser_;

 private:
  MultipartParser::Callbacks Callbacks() {
    MultipartParser::Callbacks cb;
    cb.on_part_begin = [this](const PartHeaders& h) {
      parts.push_back({h, "", false});
      return Status::Ok();
    };
    cb.on_part_data = [this](std::string_view d) {
      parts.back().data.append(d);
      return Status::Ok();
    };
    cb.on_part_end = [this] {
      parts.back().ended = true;
      return Status::Ok();
    };
    return cb;
  }
};

std::string FilePart(std::string_view name, std::string_view filename, std::string_view data) {
  return "--XyZ\r\nContent-Disposition: form-data; name=\"" + std::string(name) +
         "\"; filename=\"" + std::string(filename) + "\"\r\nContent-Type: video/mp4\r\n\r\n" +
         std::string(data) + "\r\n";
}

const char kClose[] = "--XyZ--\r\n";

TEST(BoundaryFromContentType, AcceptsQuotedAndBare) {
  EXPECT_EQ(*BoundaryFromContentType("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*BoundaryFromContentType("Multipart/Form-Data;boundary=\"a b'c\""), "a b'c");
  EXPECT_EQ(*BoundaryFromContentType("multipart/form-data; charset=x; boundary=----WebKit12"),
            "----WebKit12");
}

TEST(BoundaryFromContentType, RefusesOtherTypesAndBadBoundaries) {
  EXPECT_FALSE(BoundaryFromContentType("application/json").ok());
  EXPECT_FALSE(BoundaryFromContentType("multipart/form-data").ok());
  EXPECT_FALSE(BoundaryFromContentType("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(BoundaryFromContentType("multipart/form-data; boundary=\"ends \"").ok());
  EXPECT_FALSE(BoundaryFromContentType("multipart/form-data; boundary=a<b").ok());
  EXPECT_FALSE(
      BoundaryFromContentType("multipart/form-data; boundary=" + std::string(71, 'a')).ok());
  EXPECT_FALSE(BoundaryFromContentType("multipart/mixed; boundary=abc").ok());
}

TEST(MultipartParser, ParsesOneFileWhateverThePieceSize) {
  std::string data = "bytes with \r\n--XyNotQuite and \r\n-- inside";
  std::string body = FilePart("file", "a.mp4", data) + kClose;
  for (size_t piece : {1, 2, 3, 7, 16, 1000}) {
    Recorder r;
    ASSERT_TRUE(r.FeedAll(body, piece).ok()) << piece;
    ASSERT_EQ(r.parts.size(), 1u) << piece;
    EXPECT_EQ(r.parts[0].headers.name, "file");
    EXPECT_EQ(r.parts[0].headers.filename, "a.mp4");
    EXPECT_EQ(r.parts[0].headers.content_type, "video/mp4");
    EXPECT_EQ(r.parts[0].data, data) << piece;
    EXPECT_TRUE(r.parts[0].ended);
    EXPECT_TRUE(r.parser_.done());
  }
}

TEST(MultipartParser, SkipsPreambleAndEpilogueAndKeepsPartsApart) {
  std::string body = "preamble text\r\n" +
                     std::string(
                         "--XyZ\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n"
                         "hello\r\n") +
                     FilePart("file", "b.mov", "") + kClose + "epilogue --XyZ junk";
  Recorder r;
  ASSERT_TRUE(r.FeedAll(body, 5).ok());
  ASSERT_EQ(r.parts.size(), 2u);
  EXPECT_EQ(r.parts[0].headers.name, "meta");
  EXPECT_FALSE(r.parts[0].headers.filename.has_value());
  EXPECT_EQ(r.parts[0].data, "hello");
  EXPECT_EQ(r.parts[1].data, "");
  EXPECT_TRUE(r.parts[1].ended);
}

TEST(MultipartParser, AcceptsPaddingAfterBoundaryAndExtendedFilename) {
  std::string body =
      "--XyZ  \t\r\nContent-Disposition: form-data; name=file; filename=\"plain.mp4\"; "
      "filename*=UTF-8''caf%C3%A9.mp4\r\n\r\nX\r\n--XyZ--";
  Recorder r;
  ASSERT_TRUE(r.FeedAll(body, 4).ok());
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_EQ(r.parts[0].headers.filename, "caf\xC3\xA9.mp4");
}

TEST(MultipartParser, TruncatedBodyFailsAtFinishWithoutEndingThePart) {
  std::string body = FilePart("file", "a.mp4", "partial data");
  body.resize(body.size() - 4);
  Recorder r;
  Status s = r.FeedAll(body, 3);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(r.parts.size(), 1u);
  EXPECT_FALSE(r.parts[0].ended);
}

TEST(MultipartParser, EmptyBodyAndBodyWithoutBoundaryAreTruncated) {
  Recorder empty;
  EXPECT_FALSE(empty.parser_.Finish().ok());
  Recorder none;
  EXPECT_FALSE(none.FeedAll("just some bytes", 4).ok());
  EXPECT_TRUE(none.parts.empty());
}

TEST(MultipartParser, RefusesMalformedHeaders) {
  const std::vector<std::string> bad = {
      "--XyZ\r\nContent-Type: video/mp4\r\n\r\nx\r\n--XyZ--",                      // no disposition
      "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",               // no name
      "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ--",      // not form-data
      "--XyZ\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n--XyZ--",   // folded
      "--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--",                                // malformed
      "--XyZ\r\nContent-Disposition: form-data; name=\"open\r\n\r\nx\r\n--XyZ--",  // quote
      "--XyZjunk\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--",   // after boundary
  };
  for (const std::string& body : bad) {
    Recorder r;
    EXPECT_EQ(r.FeedAll(body, 3).code(), StatusCode::kInvalidArgument) << body;
  }
}

TEST(MultipartParser, EnforcesHeaderAndPartLimits) {
  MultipartLimits limits;
  limits.max_header_bytes = 64;
  limits.max_parts = 2;
  std::string big =
      "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX-Pad: " + std::string(100, 'p') +
      "\r\n\r\nx\r\n--XyZ--";
  Recorder r1("XyZ", limits);
  EXPECT_EQ(r1.FeedAll(big, 10).code(), StatusCode::kInvalidArgument);

  std::string three =
      FilePart("a", "1", "x") + FilePart("b", "2", "y") + FilePart("c", "3", "z") + kClose;
  MultipartLimits two_parts;
  two_parts.max_parts = 2;
  Recorder r2("XyZ", two_parts);
  EXPECT_EQ(r2.FeedAll(three, 10).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r2.parts.size(), 2u);
}

TEST(MultipartParser, CallbackErrorStopsParsingAndSticks) {
  MultipartParser::Callbacks cb;
  cb.on_part_data = [](std::string_view) { return ResourceExhausted("too big", 10011); };
  MultipartParser p("XyZ", cb);
  Status s = p.Feed(FilePart("file", "a", "some data") + kClose);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.api_code(), 10011);
  EXPECT_EQ(p.Feed("more").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(p.Finish().code(), StatusCode::kResourceExhausted);
}

TEST(MultipartParser, MemoryStaysBoundedForLargeParts) {
  // 4 MiB of data in 64 KiB pieces: the parser hands everything on and holds back at most a
  // partial delimiter between pieces.
  std::string chunk(65536, '\r');
  size_t total = 0;
  MultipartParser::Callbacks cb;
  cb.on_part_data = [&total](std::string_view d) {
    total += d.size();
    return Status::Ok();
  };
  MultipartParser p("XyZ", cb);
  ASSERT_TRUE(p.Feed("--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\n").ok());
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(p.Feed(chunk).ok());
  }
  ASSERT_TRUE(p.Feed("\r\n--XyZ--").ok());
  ASSERT_TRUE(p.Finish().ok());
  EXPECT_EQ(total, 64u * 65536u);
}

}  // namespace
}  // namespace kino::http

#include "http/tus.h"

#include <gtest/gtest.h>

namespace kino::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs ParseOk(std::string_view header) {
  Result<Pairs> pairs = ParseUploadMetadata(header);
  EXPECT_TRUE(pairs.ok()) << header << ": " << pairs.status().ToString();
  return pairs.ok() ? *pairs : Pairs{};
}

std::string ParseError(std::string_view header) {
  Result<Pairs> pairs = ParseUploadMetadata(header);
  EXPECT_FALSE(pairs.ok()) << header;
  if (pairs.ok()) {
    return "";
  }
  EXPECT_EQ(pairs.status().code(), StatusCode::kInvalidArgument);
  return pairs.status().message();
}

TEST(ParseUploadMetadata, ParsesTheCloudflareExample) {
  EXPECT_EQ(ParseOk("maxDurationSeconds NjAw,requiresignedurls,expiry "
                    "MjAyNC0wMi0yN1QwNzoyMDo1MFo="),
            (Pairs{{"maxdurationseconds", "600"},
                   {"requiresignedurls", ""},
                   {"expiry", "2024-02-27T07:20:50Z"}}));
}

TEST(ParseUploadMetadata, EmptyHeaderHasNoPairs) {
  EXPECT_TRUE(ParseOk("").empty());
  EXPECT_TRUE(ParseOk("  ").empty());
}

TEST(ParseUploadMetadata, KeysAreLowerCasedAndOrderIsKept) {
  EXPECT_EQ(ParseOk("Name aGVsbG8=,FLAG"), (Pairs{{"name", "hello"}, {"flag", ""}}));
}

TEST(ParseUploadMetadata, ToleratesSpacesAroundPairs) {
  EXPECT_EQ(ParseOk(" name aGk= , flag "), (Pairs{{"name", "hi"}, {"flag", ""}}));
}

TEST(ParseUploadMetadata, AcceptsUnpaddedAndEmptyValues) {
  EXPECT_EQ(ParseOk("name aGVsbG8"), (Pairs{{"name", "hello"}}));
  EXPECT_EQ(ParseOk("name "), (Pairs{{"name", ""}}));
}

TEST(ParseUploadMetadata, DecodesBinaryAndUtf8Values) {
  EXPECT_EQ(ParseOk("name 5pel5pys"), (Pairs{{"name", "\xe6\x97\xa5\xe6\x9c\xac"}}));
  EXPECT_EQ(ParseOk("raw AP8="), (Pairs{{"raw", std::string("\0\xff", 2)}}));
}

TEST(ParseUploadMetadata, RejectsBadBase64NamingTheKey) {
  for (std::string_view bad : {"name !!!!", "name aGk=x", "name aGk===", "name a", "name aG=k",
                               "name aGk= extra", "name  aGk=", "name aGVsbG8_", "name aGVsbG9="}) {
    EXPECT_NE(ParseError(bad).find("\"name\""), std::string::npos) << bad;
  }
}

TEST(ParseUploadMetadata, RejectsDuplicateKeysCaseInsensitively) {
  EXPECT_NE(ParseError("name aGk=,name aGk=").find("more than once"), std::string::npos);
  EXPECT_NE(ParseError("Name aGk=,nAME").find("more than once"), std::string::npos);
}

TEST(ParseUploadMetadata, RejectsEmptyKeys) {
  for (std::string_view bad : {",", "name aGk=,", ",name aGk=", "a,,b"}) {
    EXPECT_NE(ParseError(bad).find("empty key"), std::string::npos) << bad;
  }
}

TEST(ParseUploadMetadata, RejectsControlAndNonAsciiKeys) {
  ParseError("na\x01me aGk=");
  ParseError("n\xc3\xa4me aGk=");
  ParseError("na\tme aGk=");
}

TEST(ParseTusOffset, AcceptsDigits) {
  EXPECT_EQ(*ParseTusOffset("0", "Upload-Offset"), 0u);
  EXPECT_EQ(*ParseTusOffset("5242880", "Upload-Offset"), 5242880u);
  EXPECT_EQ(*ParseTusOffset("18446744073709551615", "Upload-Length"), UINT64_MAX);
}

TEST(ParseTusOffset, RejectsAnythingElseNamingTheHeader) {
  for (std::string_view bad :
       {"", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "18446744073709551616", "１"}) {
    Result<uint64_t> n = ParseTusOffset(bad, "Upload-Length");
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(n.status().message().find("Upload-Length"), std::string::npos);
  }
}

}  // namespace
}  // namespace kino::http

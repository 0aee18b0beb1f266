#include "http/range.h"

#include <string>

#include <gtest/gtest.h>

namespace kino::http {
namespace {

using Ranges = std::vector<ByteRange>;

RangeSpec Parse(std::string_view header, uint64_t size = 1000) {
  return ParseRange(header, size);
}

void ExpectRanges(std::string_view header, uint64_t size, const Ranges& want) {
  RangeSpec spec = ParseRange(header, size);
  EXPECT_EQ(spec.outcome, RangeOutcome::kSatisfiable) << header;
  EXPECT_EQ(spec.ranges, want) << header;
}

void ExpectIgnored(std::string_view header, uint64_t size = 1000) {
  RangeSpec spec = ParseRange(header, size);
  EXPECT_EQ(spec.outcome, RangeOutcome::kNone) << header;
  EXPECT_TRUE(spec.ranges.empty()) << header;
}

void ExpectUnsatisfiable(std::string_view header, uint64_t size = 1000) {
  RangeSpec spec = ParseRange(header, size);
  EXPECT_EQ(spec.outcome, RangeOutcome::kUnsatisfiable) << header;
  EXPECT_TRUE(spec.ranges.empty()) << header;
}

TEST(ParseRange, AcceptsTheThreeFormsOfRangeSpec) {
  ExpectRanges("bytes=0-99", 1000, {{0, 99}});
  ExpectRanges("bytes=100-", 1000, {{100, 999}});
  ExpectRanges("bytes=-500", 1000, {{500, 999}});
  ExpectRanges("bytes=999-999", 1000, {{999, 999}});
}

TEST(ParseRange, UnitIsCaseInsensitive) {
  ExpectRanges("Bytes=0-0", 10, {{0, 0}});
}

TEST(ParseRange, ClampsLastPositionToTheEnd) {
  ExpectRanges("bytes=500-5000", 1000, {{500, 999}});
  ExpectRanges("bytes=0-99999999999999999999999999", 1000, {{0, 999}});
}

TEST(ParseRange, SuffixLongerThanRepresentationSelectsAll) {
  ExpectRanges("bytes=-5000", 1000, {{0, 999}});
  ExpectRanges("bytes=-1000", 1000, {{0, 999}});
  ExpectRanges("bytes=-99999999999999999999999", 1000, {{0, 999}});
}

TEST(ParseRange, ParsesListsWithWhitespaceAroundCommas) {
  ExpectRanges("bytes=0-1, 5-9", 1000, {{0, 1}, {5, 9}});
  ExpectRanges("bytes=0-1 ,\t5-9 , -1", 1000, {{0, 1}, {5, 9}, {999, 999}});
  ExpectRanges("bytes=0-1,,5-9,", 1000, {{0, 1}, {5, 9}});
}

TEST(ParseRange, CoalescesOverlappingAndAdjacentRanges) {
  ExpectRanges("bytes=0-10,5-20", 1000, {{0, 20}});
  ExpectRanges("bytes=0-9,10-19", 1000, {{0, 19}});
  ExpectRanges("bytes=500-599,0-9,-450", 1000, {{0, 9}, {500, 999}});
  ExpectRanges("bytes=0-0,2-2,1-1", 1000, {{0, 2}});
  ExpectRanges("bytes=0-1,3-4", 1000, {{0, 1}, {3, 4}});
}

TEST(ParseRange, IgnoresOtherUnitsAndMalformedValues) {
  for (std::string_view bad :
       {"",           "bytes",         "bytes=",      "bytes= ",       "bytes=,",    "items=0-1",
        "byte=0-1",   "bytes 0-1",     "bytes=abc",   "bytes=1",       "bytes=-",    "bytes=--1",
        "bytes=+1-2", "bytes=1-+2",    "bytes=1-2-3", "bytes=0x10-20", "bytes=1 -2", "bytes=0-1,x",
        "bytes=5-4",  "bytes=0-1,9-3", "=0-1",        " bytes=0-1"}) {
    ExpectIgnored(bad);
  }
}

TEST(ParseRange, UnsatisfiableWhenEveryRangeStartsPastTheEnd) {
  ExpectUnsatisfiable("bytes=1000-");
  ExpectUnsatisfiable("bytes=1000-2000");
  ExpectUnsatisfiable("bytes=5000-6000,1000-1001");
  ExpectUnsatisfiable("bytes=-0");
  ExpectUnsatisfiable("bytes=99999999999999999999999-");
}

TEST(ParseRange, DropsOnlyTheUnsatisfiableRangesOfAList) {
  ExpectRanges("bytes=2000-3000,0-1", 1000, {{0, 1}});
  ExpectRanges("bytes=-0,5-6", 1000, {{5, 6}});
}

TEST(ParseRange, EveryRangeOfAnEmptyRepresentationIsUnsatisfiable) {
  ExpectUnsatisfiable("bytes=0-", 0);
  ExpectUnsatisfiable("bytes=0-0", 0);
  ExpectUnsatisfiable("bytes=-1", 0);
}

TEST(ParseRange, OneByteRepresentation) {
  ExpectRanges("bytes=0-", 1, {{0, 0}});
  ExpectRanges("bytes=-1", 1, {{0, 0}});
  ExpectUnsatisfiable("bytes=1-", 1);
}

TEST(ParseRange, HugeRepresentationSizes) {
  const uint64_t kMax = UINT64_MAX;
  ExpectRanges("bytes=0-", kMax, {{0, kMax - 1}});
  ExpectRanges("bytes=-1", kMax, {{kMax - 1, kMax - 1}});
  ExpectRanges("bytes=18446744073709551614-", kMax, {{kMax - 1, kMax - 1}});
}

std::string ManySpecs(size_t n) {
  std::string header = "bytes=";
  for (size_t i = 0; i < n; ++i) {
    header += (i ? "," : "") + std::to_string(i * 2) + "-" + std::to_string(i * 2);
  }
  return header;
}

TEST(ParseRange, TooManyRangeSpecsAreIgnored) {
  EXPECT_EQ(Parse(ManySpecs(kMaxRangeSpecs), 100000).outcome, RangeOutcome::kSatisfiable);
  EXPECT_EQ(Parse(ManySpecs(kMaxRangeSpecs + 1), 100000).outcome, RangeOutcome::kNone);
}

TEST(FormatContentRange, FormatsSatisfiedAndUnsatisfied) {
  EXPECT_EQ(FormatContentRange({0, 99}, 1000), "bytes 0-99/1000");
  EXPECT_EQ(FormatContentRange({999, 999}, 1000), "bytes 999-999/1000");
  EXPECT_EQ(FormatUnsatisfiedRange(1000), "bytes */1000");
  EXPECT_EQ(FormatUnsatisfiedRange(0), "bytes */0");
}

// Builds the body the server would write from a plan and the representation bytes.
std::string Assemble(const MultipartRanges& plan, const Ranges& ranges, const std::string& data) {
  std::string body;
  for (size_t i = 0; i < ranges.size(); ++i) {
    body += plan.part_headers[i];
    body += data.substr(ranges[i].first, ranges[i].length());
  }
  return body + plan.closing;
}

std::string Representation(size_t size) {
  std::string data;
  for (size_t i = 0; i < size; ++i) {
    data.push_back(static_cast<char>('a' + i % 26));
  }
  return data;
}

TEST(PlanMultipartRanges, ContentLengthMatchesTheAssembledBody) {
  std::string data = Representation(1000);
  RangeSpec spec = ParseRange("bytes=0-9,500-509,-5", data.size());
  ASSERT_EQ(spec.ranges.size(), 3u);

  MultipartRanges plan = PlanMultipartRanges(spec.ranges, data.size(), "video/mp4");
  std::string body = Assemble(plan, spec.ranges, data);
  EXPECT_EQ(body.size(), plan.content_length);

  std::string b = plan.boundary;
  std::string want = "--" + b +
                     "\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-9/1000\r\n\r\n"
                     "abcdefghij\r\n--" +
                     b +
                     "\r\nContent-Type: video/mp4\r\nContent-Range: bytes 500-509/1000\r\n\r\n" +
                     data.substr(500, 10) + "\r\n--" + b +
                     "\r\nContent-Type: video/mp4\r\nContent-Range: bytes 995-999/1000\r\n\r\n" +
                     data.substr(995) + "\r\n--" + b + "--\r\n";
  EXPECT_EQ(body, want);
}

TEST(PlanMultipartRanges, BoundaryIsFreshForEachPlan) {
  Ranges ranges = {{0, 0}, {2, 2}};
  MultipartRanges a = PlanMultipartRanges(ranges, 3, "audio/mp4");
  MultipartRanges b = PlanMultipartRanges(ranges, 3, "audio/mp4");
  EXPECT_NE(a.boundary, b.boundary);
  EXPECT_GE(a.boundary.size(), 16u);
  EXPECT_EQ(a.ContentType(), "multipart/byteranges; boundary=" + a.boundary);
}

TEST(PlanMultipartRanges, OmitsContentTypeWhenEmptyAndDropsControlCharacters) {
  MultipartRanges plain = PlanMultipartRanges({{0, 0}, {5, 6}}, 10, "");
  EXPECT_EQ(plain.part_headers[0].find("Content-Type"), std::string::npos);
  EXPECT_EQ(Assemble(plain, {{0, 0}, {5, 6}}, Representation(10)).size(), plain.content_length);

  MultipartRanges sneaky = PlanMultipartRanges({{0, 0}, {5, 6}}, 10, "video/mp4\r\nX-Evil: 1");
  EXPECT_NE(sneaky.part_headers[0].find("Content-Type: video/mp4X-Evil: 1\r\n"), std::string::npos);
}

}  // namespace
}  // namespace kino::http

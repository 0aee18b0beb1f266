#include "media/mp4_box.h"

#include <string>

#include <gtest/gtest.h>

namespace kino::media {
namespace {

std::string MakeBox(const char (&type)[5], const std::string& payload) {
  BoxWriter w;
  w.Begin(FourCc(type));
  w.Bytes(payload);
  w.End();
  return w.Take();
}

TEST(Mp4BoxTest, SplitsConsecutiveBoxes) {
  const std::string data = MakeBox("ftyp", "abcd") + MakeBox("free", "");
  auto boxes = ParseBoxes(data);

  ASSERT_TRUE(boxes.has_value());
  ASSERT_EQ(boxes->size(), 2u);
  EXPECT_EQ((*boxes)[0].type, FourCc("ftyp"));
  EXPECT_EQ((*boxes)[0].payload, "abcd");
  EXPECT_EQ((*boxes)[1].whole.size(), 8u);
}

TEST(Mp4BoxTest, ReadsLargeSize) {
  BoxWriter w;
  w.U32(1);
  w.U32(FourCc("mdat"));
  w.U64(16 + 3);
  w.Bytes("xyz");
  auto boxes = ParseBoxes(w.data());

  ASSERT_TRUE(boxes.has_value());
  EXPECT_EQ((*boxes)[0].payload, "xyz");
}

TEST(Mp4BoxTest, SizeZeroRunsToTheEnd) {
  std::string data = MakeBox("free", "") + std::string("\0\0\0\0mdatpayload", 15);
  auto boxes = ParseBoxes(data);

  ASSERT_TRUE(boxes.has_value());
  EXPECT_EQ((*boxes)[1].payload, "payload");
}

TEST(Mp4BoxTest, RejectsSizeSmallerThanHeader) {
  EXPECT_FALSE(ParseBoxes(std::string("\0\0\0\4free", 8)).has_value());
}

TEST(Mp4BoxTest, RejectsBoxRunningPastTheEnd) {
  std::string box = MakeBox("moov", "12345678");
  EXPECT_FALSE(ParseBoxes(box.substr(0, box.size() - 1)).has_value());
}

TEST(Mp4BoxTest, RejectsTruncatedHeader) {
  EXPECT_FALSE(ParseBoxes(std::string("\0\0\0", 3)).has_value());
}

TEST(Mp4BoxTest, ReaderFailureIsSticky) {
  ByteReader r(std::string_view("\x01\x02\x03", 3));
  EXPECT_EQ(r.U16(), 0x0102);
  EXPECT_EQ(r.U32(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Mp4BoxTest, WriterFillsNestedSizes) {
  BoxWriter w;
  w.Begin(FourCc("moov"));
  w.BeginFull(FourCc("mvhd"), 1, 0x000003);
  w.End();
  w.End();
  auto outer = ParseBoxes(w.data());

  ASSERT_TRUE(outer.has_value());
  auto inner = ParseBoxes((*outer)[0].payload);
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ((*inner)[0].type, FourCc("mvhd"));
  EXPECT_EQ((*inner)[0].payload, std::string("\x01\x00\x00\x03", 4));
}

TEST(Mp4BoxTest, PrintsFourCcSafely) {
  EXPECT_EQ(FourCcText(FourCc("avc1")), "avc1");
  EXPECT_EQ(FourCcText(0x01020304), "????");
}

}  // namespace
}  // namespace kino::media

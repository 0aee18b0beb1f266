#include "common/strings.h"

#include <gtest/gtest.h>

namespace kino {
namespace {

TEST(Base64, RoundTripsStandardAndUrl) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00"}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
    EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(s)), s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64, RejectsForeignCharactersAndPaddingInUrlForm) {
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm8=").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_TRUE(Base64Decode("Zm8").has_value());
}

TEST(Hex, RoundTrips) {
  EXPECT_EQ(HexEncode("\x01\xab"), "01ab");
  EXPECT_EQ(*HexDecode("01AB"), "\x01\xab");
  EXPECT_FALSE(HexDecode("0g").has_value());
  EXPECT_FALSE(HexDecode("abc").has_value());
}

TEST(ParseNumbers, AreStrict) {
  EXPECT_EQ(*ParseUint64("123"), 123u);
  EXPECT_FALSE(ParseUint64("-1").has_value());
  EXPECT_FALSE(ParseUint64("+1").has_value());
  EXPECT_FALSE(ParseUint64("1 ").has_value());
  EXPECT_FALSE(ParseUint64("").has_value());
  EXPECT_FALSE(ParseUint64("99999999999999999999").has_value());
  EXPECT_EQ(*ParseInt64("-5"), -5);
  EXPECT_EQ(*ParseDouble("0.5"), 0.5);
  EXPECT_FALSE(ParseDouble("abc").has_value());
}

TEST(Percent, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(*PercentDecode("a%20b"), "a b");
  EXPECT_FALSE(PercentDecode("a%2").has_value());
  EXPECT_FALSE(PercentDecode("%zz").has_value());
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
}

TEST(Strings, CaseAndTrim) {
  EXPECT_TRUE(EqualsIgnoreCase("Upload-Offset", "upload-offset"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "ab"));
  EXPECT_EQ(TrimWhitespace("  x \r\n"), "x");
  EXPECT_EQ(Split("a,b,,c", ',').size(), 4u);
}

}  // namespace
}  // namespace kino

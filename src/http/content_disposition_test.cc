#include "http/content_disposition.h"

#include <gtest/gtest.h>

namespace kino::http {
namespace {

TEST(ValidateDownloadFilename, AppendsTheExtension) {
  Result<std::string> name = ValidateDownloadFilename("MY_VIDEO", ".mp4");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "MY_VIDEO.mp4");
  EXPECT_EQ(*ValidateDownloadFilename("a-b_c9", ".m4a"), "a-b_c9.m4a");
}

TEST(ValidateDownloadFilename, StripsATrailingExtensionSoItIsNeverDoubled) {
  EXPECT_EQ(*ValidateDownloadFilename("MY_VIDEO.mp4", ".mp4"), "MY_VIDEO.mp4");
  EXPECT_EQ(*ValidateDownloadFilename("MY_VIDEO.MP4", ".mp4"), "MY_VIDEO.mp4");
  EXPECT_EQ(*ValidateDownloadFilename("song.M4a", ".m4a"), "song.m4a");
}

TEST(ValidateDownloadFilename, OnlyOneExtensionIsStripped) {
  EXPECT_FALSE(ValidateDownloadFilename("x.mp4.mp4", ".mp4").ok());
  EXPECT_FALSE(ValidateDownloadFilename("x.m4a", ".mp4").ok());
}

TEST(ValidateDownloadFilename, AcceptsExactly120Characters) {
  std::string name(120, 'a');
  EXPECT_EQ(*ValidateDownloadFilename(name, ".mp4"), name + ".mp4");
  EXPECT_TRUE(ValidateDownloadFilename(name + ".mp4", ".mp4").ok());
}

TEST(ValidateDownloadFilename, RejectsMoreThan120Characters) {
  Result<std::string> name = ValidateDownloadFilename(std::string(121, 'a'), ".mp4");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(name.status().message().find("120"), std::string::npos);
}

TEST(ValidateDownloadFilename, RejectsEverythingOutsideTheAlphabet) {
  for (std::string_view bad : {"", ".mp4", "../x", "a/b", "a\\b", "my video", "a.b", "caf\xc3\xa9",
                               "\xe2\x80\xae", "a\r\nb", "a\"b", "a%20b", "a;b", "-\t"}) {
    Result<std::string> name = ValidateDownloadFilename(bad, ".mp4");
    EXPECT_FALSE(name.ok()) << bad;
    if (!name.ok()) {
      EXPECT_EQ(name.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(ValidateDownloadFilename(std::string_view("x\0y", 3), ".mp4").ok());
}

TEST(AttachmentHeader, QuotesAPlainName) {
  EXPECT_EQ(AttachmentHeader("clip.mp4"), "attachment; filename=\"clip.mp4\"");
}

TEST(AttachmentHeader, AddsTheExtendedFormForNonAsciiNames) {
  EXPECT_EQ(AttachmentHeader("caf\xc3\xa9.mp4"),
            "attachment; filename=\"caf__.mp4\"; filename*=UTF-8''caf%C3%A9.mp4");
}

TEST(AttachmentHeader, NeverEmitsQuotesOrControlCharactersRaw) {
  std::string header = AttachmentHeader("a\"b\r\nX-Evil: 1\\%.mp4");
  EXPECT_EQ(header.find('\r'), std::string::npos);
  EXPECT_EQ(header.find('\n'), std::string::npos);
  EXPECT_EQ(header,
            "attachment; filename=\"a_b__X-Evil: 1__.mp4\"; "
            "filename*=UTF-8''a%22b%0D%0AX-Evil%3A%201%5C%25.mp4");
}

TEST(SanitizeDefaultFilename, MapsSpacesAndDotsAndDropsTheRest) {
  EXPECT_EQ(SanitizeDefaultFilename("My Holiday. 2024!", "uid"), "My_Holiday_2024");
  EXPECT_EQ(SanitizeDefaultFilename("  a   b  ", "uid"), "a_b");
  EXPECT_EQ(SanitizeDefaultFilename("Caf\xc3\xa9 M\xc3\xbcller", "uid"), "Caf_Mller");
  EXPECT_EQ(SanitizeDefaultFilename("../../etc/passwd", "uid"), "etcpasswd");
}

TEST(SanitizeDefaultFilename, DropsAnUploadedFilesExtension) {
  EXPECT_EQ(SanitizeDefaultFilename("my video.mp4", "uid"), "my_video");
  EXPECT_EQ(SanitizeDefaultFilename("clip.MOV", "uid"), "clip");
  EXPECT_EQ(SanitizeDefaultFilename("mp4", "uid"), "mp4");
}

TEST(SanitizeDefaultFilename, FallsBackWhenNothingIsLeft) {
  EXPECT_EQ(SanitizeDefaultFilename("", "ea95132c"), "ea95132c");
  EXPECT_EQ(SanitizeDefaultFilename("\xe6\x97\xa5\xe6\x9c\xac", "ea95132c"), "ea95132c");
  EXPECT_EQ(SanitizeDefaultFilename(" . . ", "ea95132c"), "ea95132c");
}

TEST(SanitizeDefaultFilename, CutsTo120CharactersAndAlwaysValidates) {
  std::string longname(200, 'x');
  longname[119] = ' ';
  std::string name = SanitizeDefaultFilename(longname, "uid");
  EXPECT_EQ(name, std::string(119, 'x'));
  for (std::string_view meta : {"a b c", "...", "\xff\xfe", "x.mp4", "__a__", "a-.-b"}) {
    std::string sanitized = SanitizeDefaultFilename(meta, "uid");
    EXPECT_TRUE(ValidateDownloadFilename(sanitized, ".mp4").ok()) << meta << " -> " << sanitized;
  }
}

}  // namespace
}  // namespace kino::http

#include "media/probe.h"

#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "media/transcode_test_media.h"

namespace kino::media {
namespace {

using testing::Ffmpeg;
using testing::TempDir;
using testing::TestAudio;
using testing::TestVideo;

class ProbeTest : public ::testing::Test {
 protected:
  // Makes `name` in the temp dir from ffmpeg `args` (inputs and codec options) and probes it.
  ProbeResult Make(const std::string& name, const std::string& args) {
    std::string path = dir_.File(name);
    EXPECT_TRUE(Ffmpeg(args + " '" + path + "'")) << args;
    return ProbeFile(path);
  }
  std::string H264Aac(double seconds = 2) {
    return TestVideo("320x180", 25, seconds) + TestAudio(seconds) +
           "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest";
  }

  TempDir dir_;
};

TEST_F(ProbeTest, ReadsH264AacMp4WithMoovAtEnd) {
  ProbeResult r = Make("a.mp4", H264Aac());
  ASSERT_EQ(r.error, MediaError::kNone) << r.error_text;
  EXPECT_EQ(r.info.container, "mov,mp4,m4a,3gp,3g2,mj2");
  EXPECT_NEAR(r.info.duration_s, 2.0, 0.1);
  EXPECT_EQ(r.info.width, 320);
  EXPECT_EQ(r.info.height, 180);
  EXPECT_NEAR(r.info.fps, 25, 0.01);
  EXPECT_EQ(r.info.video_codec, "h264");
  EXPECT_EQ(r.info.audio_codec, "aac");
  EXPECT_EQ(r.info.pix_fmt, "yuv420p");
  EXPECT_EQ(r.info.bit_depth, 8);
  EXPECT_EQ(r.info.audio_channels, 2);
  EXPECT_EQ(r.info.audio_sample_rate, 48000);
  EXPECT_TRUE(r.info.has_video && r.info.has_audio);
  EXPECT_TRUE(r.info.browser_safe_h264);
  EXPECT_TRUE(r.info.aac_stereo);
}

TEST_F(ProbeTest, HevcInMatroskaIsNotBrowserSafe) {
  ProbeResult r = Make("a.mkv", TestVideo("320x180", 25, 1) +
                                    "-c:v libx265 -preset ultrafast "
                                    "-x265-params log-level=error");
  ASSERT_EQ(r.error, MediaError::kNone) << r.error_text;
  EXPECT_EQ(r.info.video_codec, "hevc");
  EXPECT_FALSE(r.info.browser_safe_h264);
  EXPECT_FALSE(r.info.has_audio);
  EXPECT_NEAR(r.info.duration_s, 1.0, 0.1);
}

TEST_F(ProbeTest, ReadsVp9OpusWebm) {
  ProbeResult r = Make("a.webm", TestVideo("320x180", 25, 1) + TestAudio(1) +
                                     "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -c:a libopus");
  ASSERT_EQ(r.error, MediaError::kNone) << r.error_text;
  EXPECT_EQ(r.info.video_codec, "vp9");
  EXPECT_EQ(r.info.audio_codec, "opus");
  EXPECT_FALSE(r.info.aac_stereo);
}

TEST_F(ProbeTest, ReadsMpeg2InTransportStream) {
  ProbeResult r =
      Make("a.ts", TestVideo("320x180", 25, 1) + TestAudio(1) + "-c:v mpeg2video -c:a mp2");
  ASSERT_EQ(r.error, MediaError::kNone) << r.error_text;
  EXPECT_EQ(r.info.container, "mpegts");
  EXPECT_EQ(r.info.video_codec, "mpeg2video");
}

TEST_F(ProbeTest, RotatedMovReportsUprightDisplaySize) {
  std::string plain = dir_.File("plain.mp4");
  ASSERT_TRUE(Ffmpeg(H264Aac(1) + " '" + plain + "'"));
  ProbeResult r = Make("r.mov", "-i '" + plain + "' -c copy -metadata:s:v:0 rotate=90");
  ASSERT_EQ(r.error, MediaError::kNone) << r.error_text;
  // ffmpeg 5.1 stores "rotate=90" as a matrix that turns the picture 90 degrees counter-
  // clockwise (ffprobe prints rotation=90), so 270 clockwise brings it upright, as ffmpeg's
  // own autorotate does.
  EXPECT_EQ(r.info.rotation, 270);
  EXPECT_EQ(r.info.width, 180);
  EXPECT_EQ(r.info.height, 320);
  EXPECT_FALSE(r.info.browser_safe_h264);  // a copy would keep the rotation as metadata only
}

TEST_F(ProbeTest, TenBitIsNotBrowserSafe) {
  ProbeResult r = Make(
      "a.mp4", TestVideo("320x180", 25, 1) + "-c:v libx264 -preset ultrafast -pix_fmt yuv420p10le");
  ASSERT_EQ(r.error, MediaError::kNone) << r.error_text;
  EXPECT_EQ(r.info.pix_fmt, "yuv420p10le");
  EXPECT_EQ(r.info.bit_depth, 10);
  EXPECT_FALSE(r.info.browser_safe_h264);
}

TEST_F(ProbeTest, SurroundAacIsNotCopyableStereo) {
  ProbeResult r = Make("a.mp4", TestVideo("320x180", 25, 1) + TestAudio(1, "5.1") +
                                    "-c:v libx264 -preset ultrafast -c:a aac");
  ASSERT_EQ(r.error, MediaError::kNone) << r.error_text;
  EXPECT_EQ(r.info.audio_channels, 6);
  EXPECT_FALSE(r.info.aac_stereo);
}

TEST_F(ProbeTest, AudioOnlyIsNonVideo) {
  ProbeResult r = Make("a.m4a", TestAudio(1) + "-c:a aac");
  EXPECT_EQ(r.error, MediaError::kNonVideo);
  EXPECT_TRUE(r.info.has_audio);
}

TEST_F(ProbeTest, SingleImageIsNonVideo) {
  EXPECT_EQ(Make("a.png", TestVideo("320x180", 25, 1) + "-frames:v 1").error,
            MediaError::kNonVideo);
  EXPECT_EQ(Make("a.jpg", TestVideo("320x180", 25, 1) + "-frames:v 1").error,
            MediaError::kNonVideo);
}

TEST_F(ProbeTest, TinyClipIsTooShort) {
  ProbeResult r = Make("a.mp4", TestVideo("320x180", 25, 0.05) + "-c:v libx264 -preset ultrafast");
  EXPECT_EQ(r.error, MediaError::kTooShort) << r.error_text;
}

TEST_F(ProbeTest, TruncatedMp4IsMalformed) {
  std::string whole = dir_.File("whole.mp4");
  ASSERT_TRUE(Ffmpeg(H264Aac() + " '" + whole + "'"));
  testing::WriteTruncatedCopy(whole, dir_.File("cut.mp4"), 0.5);
  EXPECT_EQ(ProbeFile(dir_.File("cut.mp4")).error, MediaError::kMalformed);
}

TEST_F(ProbeTest, RandomBytesAreMalformed) {
  for (size_t size : {0, 100, 4096, 200000}) {
    std::string path = dir_.File("random" + std::to_string(size));
    testing::WriteRandomBytes(path, size);
    EXPECT_EQ(ProbeFile(path).error, MediaError::kMalformed) << size;
  }
}

TEST_F(ProbeTest, MissingFileIsMalformed) {
  EXPECT_EQ(ProbeFile(dir_.File("nope.mp4")).error, MediaError::kMalformed);
}

TEST_F(ProbeTest, QuickCheckRecognisesMp4Head) {
  std::string path = dir_.File("a.mp4");
  ASSERT_TRUE(Ffmpeg(H264Aac(1) + " '" + path + "'"));
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  QuickCheckResult r = QuickCheckHeader(head);
  EXPECT_EQ(r.error, MediaError::kNone);
  EXPECT_EQ(r.container, "mov,mp4,m4a,3gp,3g2,mj2");
}

TEST_F(ProbeTest, QuickCheckRefusesRandomAndEmptyHeads) {
  std::string path = dir_.File("random");
  testing::WriteRandomBytes(path, 65536);
  std::ifstream in(path, std::ios::binary);
  std::string head((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(QuickCheckHeader(head).error, MediaError::kMalformed);
  EXPECT_EQ(QuickCheckHeader("").error, MediaError::kMalformed);
  EXPECT_EQ(QuickCheckHeader("hello world, this is not a video").error, MediaError::kMalformed);
}

}  // namespace
}  // namespace kino::media

#include "media/thumbnail.h"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "media/transcode_test_media.h"

namespace kino::media {
namespace {

using nlohmann::json;
using testing::Ffmpeg;
using testing::Ffprobe;
using testing::TempDir;
using testing::TestAudio;
using testing::TestVideo;

// One 4:3 source and a rotated copy, made once for the suite.
class ThumbnailTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    media_ = new TempDir();
    ASSERT_TRUE(Ffmpeg(TestVideo("320x240", 25, 2) + "-c:v libx264 -preset ultrafast -g 10 '" +
                       Source() + "'"));
    ASSERT_TRUE(
        Ffmpeg("-i '" + Source() + "' -c copy -metadata:s:v:0 rotate=90 '" + Rotated() + "'"));
  }
  static void TearDownTestSuite() { delete media_; }
  static std::string Source() { return media_->File("src.mp4"); }
  static std::string Rotated() { return media_->File("rotated.mov"); }

  // Writes `bytes` to a file and ffprobes its first stream (frames counted).
  json Probe(const std::string& bytes, const std::string& name) {
    std::string path = dir_.File(name);
    std::ofstream(path, std::ios::binary) << bytes;
    json j = Ffprobe("-count_frames -show_streams", path);
    return j.is_discarded() || j["streams"].empty() ? json() : j["streams"][0];
  }
  // The JPEG for `request` of `input`, probed: {codec_name, width, height, ...}.
  json Jpeg(const ThumbnailRequest& request, const std::string& input = Source()) {
    Result<std::string> jpeg = MakeThumbnailJpeg(input, request);
    EXPECT_TRUE(jpeg.ok()) << jpeg.status().ToString();
    return jpeg.ok() ? Probe(*jpeg, "t.jpg") : json();
  }
  static ThumbnailRequest Box(int width, int height, ThumbnailFit fit) {
    ThumbnailRequest r;
    r.time_s = 1;
    r.width = width;
    r.height = height;
    r.fit = fit;
    return r;
  }
  static void ExpectSize(const json& stream, int width, int height) {
    EXPECT_EQ(stream.value("width", 0), width);
    EXPECT_EQ(stream.value("height", 0), height);
  }

  static TempDir* media_;
  TempDir dir_;
};

TempDir* ThumbnailTest::media_ = nullptr;

TEST_F(ThumbnailTest, JpegDefaultsTo640WideKeepingAspect) {
  json s = Jpeg(ThumbnailRequest{});
  EXPECT_EQ(s.value("codec_name", ""), "mjpeg");
  ExpectSize(s, 640, 480);
}

TEST_F(ThumbnailTest, OneSideDerivesTheOther) {
  ExpectSize(Jpeg(Box(0, 120, ThumbnailFit::kCrop)), 160, 120);
  ExpectSize(Jpeg(Box(100, 0, ThumbnailFit::kFill)), 100, 75);
}

TEST_F(ThumbnailTest, EachFitSizesTheBoxAsStreamDoes) {
  ExpectSize(Jpeg(Box(200, 200, ThumbnailFit::kCrop)), 200, 200);
  ExpectSize(Jpeg(Box(200, 200, ThumbnailFit::kClip)), 200, 150);
  ExpectSize(Jpeg(Box(200, 200, ThumbnailFit::kScale)), 200, 200);
  ExpectSize(Jpeg(Box(200, 200, ThumbnailFit::kFill)), 200, 200);
  ExpectSize(Jpeg(Box(90, 300, ThumbnailFit::kClip)), 90, 68);
}

TEST_F(ThumbnailTest, RotatedSourceGivesPortraitThumbnail) {
  ExpectSize(Jpeg(ThumbnailRequest{}, Rotated()), 640, 853);
}

TEST_F(ThumbnailTest, TimePastTheEndUsesTheLastFrame) {
  ThumbnailRequest r;
  r.time_s = 60;
  ExpectSize(Jpeg(r), 640, 480);
}

TEST_F(ThumbnailTest, RefusesBadRequestsAndInputs) {
  ThumbnailRequest negative;
  negative.time_s = -1;
  EXPECT_EQ(MakeThumbnailJpeg(Source(), negative).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeThumbnailJpeg(Source(), Box(kMaxThumbnailSide + 1, 0, ThumbnailFit::kCrop))
                .status()
                .code(),
            StatusCode::kInvalidArgument);

  std::string audio = dir_.File("a.m4a");
  ASSERT_TRUE(Ffmpeg(TestAudio(1) + "-c:a aac '" + audio + "'"));
  Result<std::string> r = MakeThumbnailJpeg(audio, ThumbnailRequest{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("non_video:", 0), 0u) << r.status().message();
}

// The average colour of a JPEG as "r,g,b", decoded by the ffmpeg program.
std::string MeanColour(const std::string& jpeg_path) {
  std::string command = "ffmpeg -nostdin -v error -i '" + jpeg_path +
                        "' -vf scale=1:1 -f rawvideo -pix_fmt rgb24 - 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  unsigned char rgb[3] = {0, 0, 0};
  size_t n = pipe != nullptr ? fread(rgb, 1, 3, pipe) : 0;
  if (pipe != nullptr) {
    pclose(pipe);
  }
  return n == 3 ? std::to_string(rgb[0] / 64) + "," + std::to_string(rgb[1] / 64) + "," +
                      std::to_string(rgb[2] / 64)
                : "";
}

// Red for a second, then blue, with a single keyframe: the frame at 1.5 s is only reached by
// decoding forward from the keyframe at 0.
TEST_F(ThumbnailTest, PicksTheFrameShownAtTheTime) {
  std::string in = dir_.File("colours.mp4");
  ASSERT_TRUE(
      Ffmpeg("-f lavfi -i color=c=red:s=320x240:r=25:d=1 -f lavfi -i "
             "color=c=blue:s=320x240:r=25:d=1 -filter_complex '[0][1]concat=n=2' "
             "-c:v libx264 -preset ultrafast -g 100 '" +
             in + "'"));
  for (double t : {0.5, 1.5}) {
    ThumbnailRequest r;
    r.time_s = t;
    r.width = 64;
    Result<std::string> jpeg = MakeThumbnailJpeg(in, r);
    ASSERT_TRUE(jpeg.ok()) << jpeg.status().ToString();
    std::string path = dir_.File("t.jpg");
    std::ofstream(path, std::ios::binary) << *jpeg;
    EXPECT_EQ(MeanColour(path), t < 1 ? "3,0,0" : "0,0,3") << t;
  }
}

TEST_F(ThumbnailTest, ParsesFitNames) {
  EXPECT_EQ(ParseThumbnailFit("crop"), ThumbnailFit::kCrop);
  EXPECT_EQ(ParseThumbnailFit("clip"), ThumbnailFit::kClip);
  EXPECT_EQ(ParseThumbnailFit("scale"), ThumbnailFit::kScale);
  EXPECT_EQ(ParseThumbnailFit("fill"), ThumbnailFit::kFill);
  EXPECT_EQ(ParseThumbnailFit("stretch"), std::nullopt);
}

TEST_F(ThumbnailTest, GifHasSeveralFramesAtTheDefaultSize) {
  ThumbnailRequest r;
  r.time_s = 0.5;
  r.duration_s = 1;
  r.fps = 8;
  Result<std::string> gif = MakeThumbnailGif(Source(), r);
  ASSERT_TRUE(gif.ok()) << gif.status().ToString();
  EXPECT_EQ(gif->substr(0, 6), "GIF89a");
  json s = Probe(*gif, "t.gif");
  EXPECT_EQ(s.value("codec_name", ""), "gif");
  ExpectSize(s, 320, 240);
  EXPECT_NEAR(std::atoi(s.value("nb_read_frames", "0").c_str()), 8, 1);
}

TEST_F(ThumbnailTest, GifCapsRateAndRefusesOversizedBox) {
  ThumbnailRequest r;
  r.duration_s = 1;
  r.fps = 100;  // capped at kMaxGifFps
  r.width = 160;
  Result<std::string> gif = MakeThumbnailGif(Source(), r);
  ASSERT_TRUE(gif.ok()) << gif.status().ToString();
  json s = Probe(*gif, "t.gif");
  ExpectSize(s, 160, 120);
  EXPECT_LE(std::atoi(s.value("nb_read_frames", "0").c_str()), 16);

  r.width = kMaxGifSide + 1;
  EXPECT_EQ(MakeThumbnailGif(Source(), r).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kino::media

#include "media/download_mp4.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "media/download_test_util.h"

namespace kino::media {
namespace {

using testing::CountPackets;
using testing::DecodeErrors;
using testing::FileExists;
using testing::ProbeValue;
using testing::TempDir;
using testing::TopLevelBoxes;

// One source and its two renditions, made once for the whole suite (ffmpeg is slow on 2 cores).
class DownloadMp4Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    media_ = new TempDir();
    source_ = media_->File("src.mp4");
    ASSERT_TRUE(testing::MakeSource(source_));
    video_ = testing::MakeRendition(source_, "v", media_->File("v720"));
    audio_ = testing::MakeRendition(source_, "a", media_->File("audio"));
  }
  static void TearDownTestSuite() { delete media_; }

  // A copy of a rendition in this test's own directory, free to damage.
  FragmentedTrack CopyOf(const FragmentedTrack& track, const std::string& name) {
    std::string dir = tmp_.File(name);
    std::filesystem::create_directories(dir);
    FragmentedTrack copy;
    copy.init_path = dir + "/init.mp4";
    std::filesystem::copy_file(track.init_path, copy.init_path);
    for (const std::string& seg : track.segment_paths) {
      copy.segment_paths.push_back(dir + "/" + std::filesystem::path(seg).filename().string());
      std::filesystem::copy_file(seg, copy.segment_paths.back());
    }
    return copy;
  }

  // Expects neither the output nor its temporary file to exist.
  void ExpectNoOutput(const std::string& out) {
    EXPECT_FALSE(FileExists(out));
    EXPECT_FALSE(FileExists(out + ".tmp"));
  }

  // ftyp first, then moov, and moov before the only mdat.
  static void ExpectFastStart(const std::string& path) {
    std::vector<std::string> boxes = TopLevelBoxes(path);
    ASSERT_GE(boxes.size(), 3u);
    EXPECT_EQ(boxes[0], "ftyp");
    EXPECT_EQ(boxes[1], "moov");
    EXPECT_EQ(std::count(boxes.begin(), boxes.end(), "mdat"), 1);
    EXPECT_EQ(std::count(boxes.begin(), boxes.end(), "moov"), 1);
  }

  static double Duration(const std::string& path) {
    return std::atof(ProbeValue(path, "format=duration").c_str());
  }

  static TempDir* media_;
  static std::string source_;
  static FragmentedTrack video_;
  static FragmentedTrack audio_;
  TempDir tmp_;
};

TempDir* DownloadMp4Test::media_ = nullptr;
std::string DownloadMp4Test::source_;
FragmentedTrack DownloadMp4Test::video_;
FragmentedTrack DownloadMp4Test::audio_;

TEST_F(DownloadMp4Test, WritesMoovBeforeMdatWithBothTracks) {
  std::string out = tmp_.File("default.mp4");
  ASSERT_TRUE(MakeDownloadMp4(video_, &audio_, out, nullptr).ok());

  ExpectFastStart(out);
  EXPECT_EQ(ProbeValue(out, "stream=codec_name"), "h264\naac");
  EXPECT_FALSE(FileExists(out + ".tmp"));
}

TEST_F(DownloadMp4Test, KeepsDurationAndEverySample) {
  std::string out = tmp_.File("default.mp4");
  ASSERT_TRUE(MakeDownloadMp4(video_, &audio_, out, nullptr).ok());

  EXPECT_NEAR(Duration(out), Duration(source_), 0.1);
  EXPECT_EQ(CountPackets(out, "v:0"), CountPackets(source_, "v:0"));
  EXPECT_EQ(CountPackets(out, "a:0"), CountPackets(source_, "a:0"));
  EXPECT_EQ(DecodeErrors(out), "");
}

TEST_F(DownloadMp4Test, KeepsBFrameOrderWithCompositionOffsets) {
  std::string out = tmp_.File("default.mp4");
  ASSERT_TRUE(MakeDownloadMp4(video_, &audio_, out, nullptr).ok());

  EXPECT_NE(testing::ReadFileBytes(out).find("ctts"), std::string::npos);
  EXPECT_EQ(ProbeValue(out, "stream=has_b_frames", "v:0"), "2");
  // Same timestamps as the rendition (read through ffmpeg's concat protocol), in decode order.
  std::string rendition = "concat:" + video_.init_path;
  for (const std::string& seg : video_.segment_paths) {
    rendition += "|" + seg;
  }
  std::string cmd =
      "ffprobe -v error -select_streams v:0 -show_entries packet=pts,dts,flags"
      " -of csv=p=0 ";
  std::string from_out;
  std::string from_rendition;
  testing::RunCommand(cmd + out, &from_out);
  testing::RunCommand(cmd + "'" + rendition + "'", &from_rendition);
  EXPECT_EQ(from_out, from_rendition);
}

TEST_F(DownloadMp4Test, WritesVideoOnlyWhenAudioIsNull) {
  std::string out = tmp_.File("default.mp4");
  ASSERT_TRUE(MakeDownloadMp4(video_, nullptr, out, nullptr).ok());

  EXPECT_EQ(ProbeValue(out, "stream=codec_name"), "h264");
  EXPECT_EQ(CountPackets(out, "v:0"), CountPackets(source_, "v:0"));
  EXPECT_EQ(DecodeErrors(out), "");
}

TEST_F(DownloadMp4Test, WritesM4aWithOnlyAac) {
  std::string out = tmp_.File("audio.m4a");
  ASSERT_TRUE(MakeDownloadM4a(audio_, out, nullptr).ok());

  ExpectFastStart(out);
  EXPECT_EQ(testing::ReadFileBytes(out).substr(8, 4), "M4A ");
  EXPECT_EQ(ProbeValue(out, "stream=codec_name"), "aac");
  EXPECT_EQ(CountPackets(out, "a:0"), CountPackets(source_, "a:0"));
  EXPECT_NEAR(Duration(out), Duration(source_), 0.1);
  EXPECT_EQ(DecodeErrors(out), "");
}

TEST_F(DownloadMp4Test, ReportsProgressUpToOne) {
  std::vector<double> seen;
  auto progress = [&](double f) {
    seen.push_back(f);
    return true;
  };
  ASSERT_TRUE(MakeDownloadMp4(video_, &audio_, tmp_.File("d.mp4"), progress).ok());

  ASSERT_FALSE(seen.empty());
  EXPECT_DOUBLE_EQ(seen.back(), 1.0);
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_GE(seen[i], seen[i - 1]);
  }
}

TEST_F(DownloadMp4Test, CancelsWhenProgressReturnsFalse) {
  std::string out = tmp_.File("d.mp4");
  Status status = MakeDownloadMp4(video_, &audio_, out, [](double) { return false; });

  EXPECT_EQ(status.code(), StatusCode::kCancelled);
  ExpectNoOutput(out);
}

TEST_F(DownloadMp4Test, FailsWithNotFoundWhenASegmentIsMissing) {
  FragmentedTrack video = CopyOf(video_, "v");
  std::filesystem::remove(video.segment_paths[1]);
  std::string out = tmp_.File("d.mp4");

  Status status = MakeDownloadMp4(video, &audio_, out, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  ExpectNoOutput(out);
}

TEST_F(DownloadMp4Test, FailsWithDataLossWhenASegmentIsTruncated) {
  FragmentedTrack video = CopyOf(video_, "v");
  std::filesystem::resize_file(video.segment_paths[1], 1000);
  std::string out = tmp_.File("d.mp4");

  Status status = MakeDownloadMp4(video, &audio_, out, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss) << status.ToString();
  ExpectNoOutput(out);
}

TEST_F(DownloadMp4Test, FailsWithInvalidArgumentWhenInitIsNotMp4) {
  FragmentedTrack video = CopyOf(video_, "v");
  testing::WriteFileBytes(video.init_path, "this is not an mp4 file at all");
  std::string out = tmp_.File("d.mp4");

  Status status = MakeDownloadMp4(video, &audio_, out, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  ExpectNoOutput(out);
}

TEST_F(DownloadMp4Test, FailsWithInvalidArgumentWhenSegmentListIsEmpty) {
  FragmentedTrack video{video_.init_path, {}};
  std::string out = tmp_.File("d.mp4");

  Status status = MakeDownloadMp4(video, &audio_, out, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  ExpectNoOutput(out);
}

TEST_F(DownloadMp4Test, FailsWithInvalidArgumentWhenVideoRenditionHoldsAudio) {
  std::string out = tmp_.File("d.mp4");

  Status status = MakeDownloadMp4(audio_, nullptr, out, nullptr);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  ExpectNoOutput(out);
}

}  // namespace
}  // namespace kino::media

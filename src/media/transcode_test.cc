#include "media/transcode.h"

extern "C" {
#include <libavutil/log.h>
}

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/download_mp4.h"
#include "media/mp4_box.h"
#include "media/mp4_fragments.h"
#include "media/transcode_test_media.h"

namespace kino::media {
namespace {

using nlohmann::json;
using testing::Ffmpeg;
using testing::Ffprobe;
using testing::TempDir;
using testing::TestAudio;
using testing::TestVideo;

// x264 and the muxers report every rendition at info level; the tests read statuses instead.
const int kQuietLibav = (av_log_set_level(AV_LOG_ERROR), 0);

// Records what ProcessVideo reports; cancels once `cancel_after` progress calls were made.
class RecordingObserver : public ProcessObserver {
 public:
  void OnProgress(double fraction) override { progress.push_back(fraction); }
  void OnRenditionsReady(const PackageResult& ready) override { published.push_back(ready); }
  bool Cancelled() override { return cancel; }

  std::vector<double> progress;
  std::vector<PackageResult> published;
  bool cancel = false;
};

double Number(const json& value) {
  if (value.is_number()) {
    return value.get<double>();
  }
  return value.is_string() ? std::atof(value.get<std::string>().c_str()) : 0;
}

// Presentation span of the first stream of `path`, from its packets: last end - first start.
double Span(const std::string& path) {
  json j = Ffprobe("-select_streams 0 -show_entries packet=pts_time,duration_time", path);
  double first = HUGE_VAL, last = 0;
  for (const json& p : j["packets"]) {
    double pts = Number(p["pts_time"]);
    first = std::min(first, pts);
    last = std::max(last, pts + Number(p["duration_time"]));
  }
  return last - first;
}

class TranscodeTest : public ::testing::Test {
 protected:
  TranscodeTest() {
    options_.heights = {360, 240};
    options_.preset = "ultrafast";
    options_.segment_seconds = 1;
  }

  // Makes `name` in the temp dir with ffmpeg `args` (inputs and codec options).
  std::string Make(const std::string& name, const std::string& args) {
    std::string path = dir_.File(name);
    EXPECT_TRUE(Ffmpeg(args + " '" + path + "'")) << args;
    return path;
  }
  std::string H264Aac(const std::string& name, const std::string& size = "640x360",
                      double seconds = 2) {
    return Make(name, TestVideo(size, 25, seconds) + TestAudio(seconds) +
                          "-c:v libx264 -preset ultrafast -bf 2 -g 25 -c:a aac -shortest");
  }

  Result<PackageResult> Process(const std::string& input) {
    return ProcessVideo(input, out(), options_, &observer_);
  }
  std::string out() const { return dir_.File("out"); }

  // The package plays through both manifests, each rendition lasts `seconds`, and
  // renditions.json gives the same package back.
  void ExpectPlayable(const PackageResult& package, double seconds) {
    json hls = Ffprobe("-show_streams -show_format", out() + "/video.m3u8");
    json dash = Ffprobe("-show_streams -show_format", out() + "/video.mpd");
    ASSERT_FALSE(hls.is_discarded());
    ASSERT_FALSE(dash.is_discarded());
    EXPECT_NEAR(Number(hls["format"]["duration"]), seconds, 0.1);
    EXPECT_NEAR(Number(dash["format"]["duration"]), seconds, 0.1);
    for (const RenditionInfo& r : package.renditions) {
      SCOPED_TRACE(r.name);
      EXPECT_NEAR(r.duration_s, seconds, 0.1);
      EXPECT_NEAR(Span(out() + "/" + r.name + "/index.m3u8"), seconds, 0.1);
      bool video = r.kind == RenditionKind::kVideo;
      EXPECT_TRUE(HasStream(dash, video ? "h264" : "aac", r.width, r.height));
      EXPECT_TRUE(HasStream(hls, video ? "h264" : "aac", r.width, r.height));
      if (video) {
        EXPECT_EQ(r.width % 2, 0);
        EXPECT_EQ(r.height % 2, 0);
        EXPECT_EQ(r.codecs.rfind("avc1.", 0), 0u);
      } else {
        EXPECT_EQ(r.codecs, "mp4a.40.2");
      }
    }
    Result<PackageResult> loaded = LoadPackage(out());
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    ASSERT_EQ(loaded->renditions.size(), package.renditions.size());
    for (size_t i = 0; i < package.renditions.size(); ++i) {
      EXPECT_EQ(loaded->renditions[i].name, package.renditions[i].name);
      EXPECT_EQ(loaded->renditions[i].segment_files, package.renditions[i].segment_files);
      EXPECT_EQ(loaded->renditions[i].segment_ticks, package.renditions[i].segment_ticks);
    }
  }

  static bool HasStream(const json& probe, const std::string& codec, int width, int height) {
    for (const json& s : probe["streams"]) {
      if (s.value("codec_name", "") != codec) {
        continue;
      }
      if (codec != "h264" || (s.value("width", 0) == width && s.value("height", 0) == height)) {
        return true;
      }
    }
    return false;
  }

  // One stream property of a rendition, e.g. Prop("audio", "channels").
  json Prop(const std::string& rendition, const std::string& key) {
    json j = Ffprobe("-show_streams", out() + "/" + rendition + "/index.m3u8");
    return j["streams"].empty() ? json() : j["streams"][0][key];
  }

  FragmentedTrack Track(const RenditionInfo& info) const {
    FragmentedTrack t;
    t.init_path = out() + "/" + info.name + "/" + info.init_file;
    for (const std::string& s : info.segment_files) {
      t.segment_paths.push_back(out() + "/" + info.name + "/" + s);
    }
    return t;
  }

  // When the rendition's first sample is presented, in seconds, read from its files (tfdt
  // plus the first sample's composition offset, ISO/IEC 14496-12 8.8.12 and 8.8.8).
  double FirstPresentation(const RenditionInfo& info) const {
    uint32_t handler = info.kind == RenditionKind::kVideo ? FourCc("vide") : FourCc("soun");
    Result<Mp4TrackIndex> index = IndexFragmentedTrack(Track(info), handler);
    EXPECT_TRUE(index.ok()) << index.status().ToString();
    if (!index.ok() || index->samples.empty()) {
      return -1;
    }
    double ticks =
        static_cast<double>(index->first_decode_time) + index->samples.front().composition_offset;
    return ticks / index->info.media_timescale;
  }

  static std::vector<std::string> Names(const PackageResult& package) {
    std::vector<std::string> names;
    for (const RenditionInfo& r : package.renditions) {
      names.push_back(r.name);
    }
    return names;
  }

  static void ExpectAligned(const RenditionInfo& a, const RenditionInfo& b) {
    ASSERT_EQ(a.segment_durations.size(), b.segment_durations.size());
    for (size_t i = 0; i < a.segment_durations.size(); ++i) {
      EXPECT_NEAR(a.segment_durations[i], b.segment_durations[i], 1e-3) << i;
    }
  }

  TempDir dir_;
  LadderOptions options_;
  RecordingObserver observer_;
};

TEST_F(TranscodeTest, CopiesH264AacMp4WithMoovAtEndAndEncodesLowerRungsAfter) {
  std::string in = H264Aac("in.mp4");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"v360", "v240", "audio"}));
  EXPECT_TRUE(r->renditions[0].copied);
  EXPECT_FALSE(r->renditions[1].copied);
  EXPECT_TRUE(r->renditions[2].copied);
  EXPECT_EQ(r->renditions[1].width, 426);
  EXPECT_EQ(r->renditions[0].segment_files.size(), 2u);
  ExpectAligned(r->renditions[0], r->renditions[1]);
  ExpectPlayable(*r, 2.0);

  // The copy is published first, with its audio; the lower rung follows.
  ASSERT_EQ(observer_.published.size(), 2u);
  EXPECT_EQ(Names(observer_.published[0]), (std::vector<std::string>{"v360", "audio"}));
  EXPECT_EQ(Names(observer_.published[1]), Names(*r));
  ASSERT_FALSE(observer_.progress.empty());
  EXPECT_TRUE(std::is_sorted(observer_.progress.begin(), observer_.progress.end()));
  EXPECT_DOUBLE_EQ(observer_.progress.back(), 1.0);
}

// B-frames make a video track's first DTS negative; the presentation must still start at 0 in
// every rendition, copied or encoded, as the audio does (within its 21 ms of priming).
TEST_F(TranscodeTest, RenditionsStartTogetherInTheirFiles) {
  for (bool copy : {true, false}) {
    SCOPED_TRACE(copy ? "copied" : "encoded");
    options_.allow_copy = copy;
    std::filesystem::remove_all(out());
    Result<PackageResult> r = Process(H264Aac("in.mp4"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const RenditionInfo& rendition : r->renditions) {
      EXPECT_NEAR(FirstPresentation(rendition), 0.0, 1e-3) << rendition.name;
      EXPECT_NEAR(static_cast<double>(rendition.start_ticks) / rendition.timescale, 0.0, 1e-3);
    }
  }
}

TEST_F(TranscodeTest, EncodesEveryRungWhenCopyIsOff) {
  options_.allow_copy = false;
  std::string in = H264Aac("in.mp4");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"v360", "v240", "audio"}));
  for (const RenditionInfo& rendition : r->renditions) {
    EXPECT_FALSE(rendition.copied) << rendition.name;
  }
  EXPECT_EQ(r->renditions[0].segment_files.size(), 2u);
  ExpectAligned(r->renditions[0], r->renditions[1]);
  ExpectPlayable(*r, 2.0);
  EXPECT_EQ(observer_.published.size(), 1u);
}

TEST_F(TranscodeTest, EncodesHevcInMatroska) {
  std::string in = Make("in.mkv", TestVideo("320x240", 25, 2) + TestAudio(2) +
                                      "-c:v libx265 -preset ultrafast -x265-params "
                                      "log-level=error -c:a aac -shortest");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"v240", "audio"}));
  EXPECT_EQ(r->renditions[0].width, 320);
  ExpectPlayable(*r, 2.0);
}

TEST_F(TranscodeTest, EncodesVp9OpusWebm) {
  std::string in = Make("in.webm", TestVideo("320x240", 25, 2) + TestAudio(2) +
                                       "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 "
                                       "-c:a libopus -shortest");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"v240", "audio"}));
  ExpectPlayable(*r, 2.0);
}

TEST_F(TranscodeTest, EncodesMpeg2InTransportStream) {
  std::string in = Make("in.ts", TestVideo("640x360", 25, 2) + TestAudio(2) +
                                     "-c:v mpeg2video -q:v 4 -c:a mp2 -shortest");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"v360", "v240", "audio"}));
  ExpectPlayable(*r, 2.0);
}

TEST_F(TranscodeTest, RotatedMovBecomesPortrait) {
  // FFmpeg 5.1 writes the display matrix from the rotate tag only when stream-copying.
  std::string upright = H264Aac("upright.mp4", "320x240");
  std::string in = Make("in.mov", "-i '" + upright + "' -c copy -metadata:s:v:0 rotate=90");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(Names(*r), (std::vector<std::string>{"v240", "audio"}));
  EXPECT_FALSE(r->renditions[0].copied);  // a copy would keep the sideways picture
  EXPECT_EQ(r->renditions[0].width, 240);
  EXPECT_EQ(r->renditions[0].height, 320);
  EXPECT_EQ(Prop("v240", "width"), 240);
  EXPECT_EQ(Prop("v240", "height"), 320);
  ExpectPlayable(*r, 2.0);
}

TEST_F(TranscodeTest, OddSizeGetsEvenRungs) {
  options_.allow_copy = false;
  std::string in = Make(
      "in.mp4", TestVideo("853x479", 25, 1) + "-c:v libx264 -preset ultrafast -pix_fmt yuv420p");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(Names(*r), (std::vector<std::string>{"v360", "v240"}));
  EXPECT_EQ(r->renditions[0].width, 642);  // 360 * 853 / 479 = 641.1, to the nearest even
  EXPECT_EQ(r->renditions[1].width, 428);
  ExpectPlayable(*r, 1.0);
}

TEST_F(TranscodeTest, VariableFrameRateKeepsItsTimeline) {
  std::string in = Make("in.mkv", TestVideo("320x240", 30, 2) +
                                      "-vf \"select='lt(n\\,20)+not(mod(n\\,3))'\" -fps_mode vfr "
                                      "-c:v libx264 -preset ultrafast");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectPlayable(*r, 2.0);
}

TEST_F(TranscodeTest, NoAudioMakesVideoOnlyPackage) {
  std::string in =
      Make("in.mp4", TestVideo("320x240", 25, 1) + "-c:v libx264 -preset ultrafast -g 12");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Names(*r), (std::vector<std::string>{"v240"}));
  EXPECT_TRUE(r->renditions[0].copied);
  ExpectPlayable(*r, 1.0);
}

TEST_F(TranscodeTest, MonoStaysMonoAndOddRatesBecome48k) {
  std::string in = Make("in.mkv", TestVideo("320x240", 25, 1) +
                                      "-f lavfi -i sine=sample_rate=32000:duration=1 "
                                      "-c:v libx264 -preset ultrafast -c:a pcm_s16le -ac 1");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Prop("audio", "channels"), 1);
  EXPECT_EQ(Prop("audio", "sample_rate"), "48000");
  ExpectPlayable(*r, 1.0);
}

TEST_F(TranscodeTest, SurroundIsDownmixedToStereoAt44k) {
  std::string in = Make("in.mp4", TestVideo("320x240", 25, 1) +
                                      "-f lavfi -i sine=sample_rate=44100:duration=1,"
                                      "aformat=channel_layouts=5.1 "
                                      "-c:v libx264 -preset ultrafast -c:a aac");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->renditions.back().copied);
  EXPECT_EQ(Prop("audio", "channels"), 2);
  EXPECT_EQ(Prop("audio", "sample_rate"), "44100");
  ExpectPlayable(*r, 1.0);
}

TEST_F(TranscodeTest, TenBitBecomesEightBit) {
  std::string in = Make("in.mkv", TestVideo("320x240", 25, 1) +
                                      "-c:v libx264 -preset ultrafast -pix_fmt yuv420p10le");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Prop("v240", "pix_fmt"), "yuv420p");
  EXPECT_NE(Prop("v240", "profile"), "High 10");
  ExpectPlayable(*r, 1.0);
}

TEST_F(TranscodeTest, HdrIsToneMappedToBt709) {
  std::string in = Make("in.mkv", TestVideo("320x240", 25, 1) +
                                      "-c:v libx264 -preset ultrafast -pix_fmt yuv420p10le "
                                      "-color_primaries bt2020 -color_trc smpte2084 "
                                      "-colorspace bt2020nc");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Prop("v240", "pix_fmt"), "yuv420p");
  EXPECT_EQ(Prop("v240", "color_transfer"), "bt709");
  EXPECT_EQ(Prop("v240", "color_primaries"), "bt709");
  ExpectPlayable(*r, 1.0);
}

TEST_F(TranscodeTest, FramesAboveMaxFpsAreDropped) {
  options_.max_fps = 30;
  std::string in = Make("in.mp4", TestVideo("320x240", 60, 2) + "-c:v libx264 -preset ultrafast");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->renditions[0].copied);
  EXPECT_NEAR(r->renditions[0].fps, 30, 0.01);
  json j = Ffprobe("-count_packets -show_streams", out() + "/v240/index.m3u8");
  EXPECT_NEAR(std::atoi(j["streams"][0].value("nb_read_packets", "0").c_str()), 60, 1);
  ExpectPlayable(*r, 2.0);
}

TEST_F(TranscodeTest, SixtyFpsIsKeptUnderTheDefaultCap) {
  options_.allow_copy = false;
  std::string in = Make("in.mp4", TestVideo("320x240", 60, 1) + "-c:v libx264 -preset ultrafast");
  Result<PackageResult> r = Process(in);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->renditions[0].fps, 60, 0.01);
  ExpectPlayable(*r, 1.0);
}

TEST_F(TranscodeTest, RefusesAudioOnlyAsNonVideo) {
  std::string in = Make("in.m4a", TestAudio(1) + "-c:a aac");
  Result<PackageResult> r = Process(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(RefusalOf(r.status()), MediaError::kNonVideo);
}

TEST_F(TranscodeTest, RefusesTruncatedFileAsMalformed) {
  std::string full = H264Aac("full.mp4");
  std::string in = dir_.File("cut.mp4");
  testing::WriteTruncatedCopy(full, in, 0.5);
  Result<PackageResult> r = Process(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(RefusalOf(r.status()), MediaError::kMalformed) << r.status().ToString();
}

TEST_F(TranscodeTest, RefusesRandomBytesAsMalformed) {
  std::string in = dir_.File("noise.mp4");
  testing::WriteRandomBytes(in, 100000);
  Result<PackageResult> r = Process(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(RefusalOf(r.status()), MediaError::kMalformed) << r.status().ToString();
}

TEST_F(TranscodeTest, RefusesTinyClipAsTooShort) {
  std::string in =
      Make("in.mp4", TestVideo("320x240", 25, 0.05) + "-c:v libx264 -preset ultrafast");
  Result<PackageResult> r = Process(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(RefusalOf(r.status()), MediaError::kTooShort) << r.status().ToString();
}

TEST_F(TranscodeTest, CancelledObserverStopsWithCancelled) {
  observer_.cancel = true;
  std::string in = H264Aac("in.mp4");
  Result<PackageResult> r = Process(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(RefusalOf(r.status()), MediaError::kNone);
}

TEST_F(TranscodeTest, LoadPackageWithoutPackageIsNotFound) {
  Result<PackageResult> r = LoadPackage(dir_.File("nothing"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

// The renditions are what the download code reads: an MP4 and an M4A come out of them.
TEST_F(TranscodeTest, OutputMakesDownloads) {
  for (bool copy : {true, false}) {
    SCOPED_TRACE(copy ? "copied" : "encoded");
    options_.allow_copy = copy;
    std::filesystem::remove_all(out());
    std::string in = H264Aac("in.mp4", "640x360", 2);
    Result<PackageResult> r = Process(in);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    FragmentedTrack video = Track(r->renditions.front());
    FragmentedTrack audio = Track(r->renditions.back());
    std::string mp4 = dir_.File("download.mp4");
    std::string m4a = dir_.File("download.m4a");
    ASSERT_TRUE(MakeDownloadMp4(video, &audio, mp4, nullptr).ok());
    ASSERT_TRUE(MakeDownloadM4a(audio, m4a, nullptr).ok());

    json j = Ffprobe("-show_format -show_streams", mp4);
    EXPECT_NEAR(Number(j["format"]["duration"]), 2.0, 0.1);
    ASSERT_EQ(j["streams"].size(), 2u);
    for (const json& s : j["streams"]) {
      EXPECT_NEAR(Number(s["duration"]), 2.0, 0.1) << s.value("codec_name", "");
    }
    EXPECT_NEAR(Number(Ffprobe("-show_format", m4a)["format"]["duration"]), 2.0, 0.1);
  }
}

}  // namespace
}  // namespace kino::media

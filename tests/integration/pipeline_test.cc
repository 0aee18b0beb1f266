// The media pipeline end to end over real HTTP: every kind of input Kino must make "ready to
// view" (or refuse), made by the ffmpeg program at test time, uploaded to the real server,
// processed by its job workers, and read back through the delivery paths with ffprobe, as a player
// would.
//
// One server serves every case (the test ladder is 360,240 with x264 ultrafast); the inputs are
// made and uploaded once, up front, so that the server encodes while earlier cases are checked.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/support/kino_server.h"

namespace kino::testing {
namespace {

// ---- running programs ----------------------------------------------------------------------

// What ffprobe finds in a file or URL: per stream, its kind and size, and the span its packets
// cover (first presentation time to last presentation time plus duration).
struct StreamSpan {
  std::string type;  // "video", "audio"
  std::string codec, pix_fmt, avg_frame_rate, color_transfer;
  int width = 0, height = 0, channels = 0;
  double first = 1e9, end = -1e9;
  double seconds() const { return end - first; }
};

// Streams by index; empty when ffprobe cannot read `input`.
std::map<int, StreamSpan> Probe(const std::string& input) {
  int exit_code = 0;
  std::string json = CaptureCommand(
      "ffprobe -v error -of json -show_entries "
      "stream=index,codec_type,codec_name,width,height,pix_fmt,channels,avg_frame_rate,"
      "color_transfer:"
      "packet=stream_index,pts_time,duration_time '" +
          input + "'",
      &exit_code);
  nlohmann::json j = nlohmann::json::parse(exit_code == 0 ? json : "", nullptr, false);
  std::map<int, StreamSpan> spans;
  if (!j.is_object() || !j["streams"].is_array()) {
    return spans;
  }
  for (const auto& s : j["streams"]) {
    StreamSpan& span = spans[s.value("index", -1)];
    span.type = s.value("codec_type", "");
    span.codec = s.value("codec_name", "");
    span.pix_fmt = s.value("pix_fmt", "");
    span.avg_frame_rate = s.value("avg_frame_rate", "");
    span.color_transfer = s.value("color_transfer", "");
    span.width = s.value("width", 0);
    span.height = s.value("height", 0);
    span.channels = s.value("channels", 0);
  }
  for (const auto& p : j.value("packets", nlohmann::json::array())) {
    auto it = spans.find(p.value("stream_index", -1));
    if (it == spans.end() || !p.contains("pts_time")) {
      continue;
    }
    double pts = std::stod(p["pts_time"].get<std::string>());
    double duration =
        p.contains("duration_time") ? std::stod(p["duration_time"].get<std::string>()) : 0;
    it->second.first = std::min(it->second.first, pts);
    it->second.end = std::max(it->second.end, pts + duration);
  }
  return spans;
}

// The first stream of `type` in a probe (nullptr when there is none).
const StreamSpan* First(const std::map<int, StreamSpan>& spans, const std::string& type) {
  for (const auto& [index, span] : spans) {
    if (span.type == type) {
      return &span;
    }
  }
  return nullptr;
}

// ---- the inputs ----------------------------------------------------------------------------

// ffmpeg argument lists; "{out}" is the input file being made, "{tmp}" a scratch file.
const std::string kVideo = "-f lavfi -i testsrc2=size=640x360:rate=25:duration=2 ";
const std::string kSine = "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 ";
const std::string kX264 = "-c:v libx264 -preset ultrafast -pix_fmt yuv420p ";
const std::string kAac = "-c:a aac -ac 2 ";

struct Rung {
  int width, height;
  bool operator<(const Rung& o) const {
    return std::tie(width, height) < std::tie(o.width, o.height);
  }
  bool operator==(const Rung& o) const { return width == o.width && height == o.height; }
};

struct PlayableCase {
  std::string name;
  std::string file;                   // extension tells the container
  std::vector<std::string> commands;  // ffmpeg runs that make it
  int width, height;                  // the API's input size (rotation applied)
  std::vector<Rung> rungs;            // the video renditions
  int audio_channels;                 // of the audio rendition; 0: no audio
  std::string frame_rate = "";        // every video rendition's, when set
};

std::ostream& operator<<(std::ostream& os, const PlayableCase& c) {
  return os << c.name;
}

const std::vector<Rung> kWide = {{640, 360}, {426, 240}};

const std::vector<PlayableCase>& PlayableCases() {
  static const auto* cases = new std::vector<PlayableCase>{
      {"H264AacMp4MoovAtEnd",
       "moov_end.mp4",
       {kVideo + kSine + kX264 + kAac + "{out}"},
       640,
       360,
       kWide,
       2},
      {"HevcInMkv",
       "hevc.mkv",
       {kVideo + kSine +
        "-c:v libx265 -preset ultrafast -x265-params log-level=error -pix_fmt yuv420p " + kAac +
        "{out}"},
       640,
       360,
       kWide,
       2},
      {"Vp9OpusWebm",
       "vp9.webm",
       {"-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 " + kSine +
        "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 300k -c:a libopus -ac 2 {out}"},
       320,
       240,
       {{320, 240}},
       2},
      {"Mpeg2InTs",
       "mpeg2.ts",
       {kVideo + kSine + "-c:v mpeg2video -q:v 5 -c:a mp2 -ac 2 -f mpegts {out}"},
       640,
       360,
       kWide,
       2},
      {"MovRotated90",
       "rotated.mov",
       {kVideo + kSine + kX264 + kAac + "-f mp4 {tmp}",
        "-i {tmp} -c copy -metadata:s:v:0 rotate=90 {out}"},
       360,
       640,
       {{360, 640}, {240, 426}},
       2},
      {"OddSize853x479",
       "odd.mp4",
       {"-f lavfi -i testsrc=size=853x479:rate=25:duration=2 " + kSine +
        "-c:v libx264 -preset ultrafast -pix_fmt yuv444p " + kAac + "{out}"},
       853,
       479,
       {{642, 360}, {428, 240}},
       2},
      {"VariableFrameRate",
       "vfr.mp4",
       {"-f lavfi -i testsrc2=size=640x360:rate=30:duration=2 " + kSine +
        "-vf select='lt(n\\,20)+not(mod(n\\,3))' -fps_mode vfr " + kX264 + kAac + "{out}"},
       640,
       360,
       kWide,
       2},
      {"NoAudio", "noaudio.mp4", {kVideo + kX264 + "{out}"}, 640, 360, kWide, 0},
      {"MonoAudio",
       "mono.mp4",
       {kVideo + kSine + kX264 + "-c:a aac -ac 1 {out}"},
       640,
       360,
       kWide,
       1},
      {"SurroundAudio",
       "surround.mp4",
       {kVideo + kSine + kX264 +
        "-af 'pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0' -c:a aac {out}"},
       640,
       360,
       kWide,
       2},
      {"TenBit",
       "tenbit.mp4",
       {kVideo + kSine + "-c:v libx264 -preset ultrafast -pix_fmt yuv420p10le " + kAac + "{out}"},
       640,
       360,
       kWide,
       2},
      {"SixtyFps",
       "fps60.mp4",
       {"-f lavfi -i testsrc2=size=640x360:rate=60:duration=2 " + kSine + kX264 + kAac + "{out}"},
       640,
       360,
       kWide,
       2,
       "60/1"},
      // Beyond the list above: faster than 60 fps (frames are dropped to 60), and HDR10 (PQ,
      // BT.2020, 10-bit HEVC) tone-mapped to BT.709 8-bit.
      {"HundredTwentyFps",
       "fps120.mp4",
       {"-f lavfi -i testsrc2=size=640x360:rate=120:duration=2 " + kSine + kX264 + kAac + "{out}"},
       640,
       360,
       kWide,
       2,
       "60/1"},
      {"Hdr10Hevc",
       "hdr.mkv",
       {kVideo + kSine +
        "-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -color_primaries bt2020 "
        "-color_trc smpte2084 -colorspace bt2020nc -x265-params "
        "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc " +
        kAac + "{out}"},
       640,
       360,
       kWide,
       2},
  };
  return *cases;
}

struct RefusedCase {
  std::string name;
  std::string file;
  std::vector<std::string> commands;  // empty: the test writes the bytes itself
  std::string reason;                 // errorReasonCode
};

std::ostream& operator<<(std::ostream& os, const RefusedCase& c) {
  return os << c.name;
}

const std::vector<RefusedCase>& RefusedCases() {
  static const auto* cases = new std::vector<RefusedCase>{
      {"AudioOnly", "audio.m4a", {kSine + "-c:a aac {out}"}, "ERR_NON_VIDEO"},
      // The moov box is at the end, so the first half holds no index at all.
      {"Truncated", "truncated.mp4", {}, "ERR_MALFORMED_VIDEO"},
      {"RandomBytes", "random.bin", {}, "ERR_MALFORMED_VIDEO"},
      {"TooShort",
       "short.mp4",
       {"-f lavfi -i testsrc2=size=320x240:rate=60:duration=0.05 " + kX264 + "{out}"},
       "ERR_DURATION_TOO_SHORT"},
  };
  return *cases;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
  return s;
}

bool MakeInput(const std::string& dir, const std::string& file,
               const std::vector<std::string>& commands) {
  for (const std::string& c : commands) {
    std::string args = Replace(Replace(c, "{out}", dir + "/" + file), "{tmp}", dir + "/tmp.mp4");
    if (!RunFfmpeg(args)) {
      return false;
    }
  }
  return true;
}

// The bytes of the refused inputs that ffmpeg does not make.
std::string SpecialBytes(const std::string& dir, const std::string& file) {
  if (file == "truncated.mp4") {
    std::string whole = ReadFile(dir + "/moov_end.mp4");
    return whole.substr(0, whole.size() / 2);
  }
  std::mt19937 random(42);
  std::string bytes(64 * 1024, '\0');
  for (char& c : bytes) {
    c = static_cast<char>(random() & 0xff);
  }
  return bytes;
}

// A direct creator upload: the video stays (in state error when refused).
std::string DirectUpload(const KinoServer& server, const std::string& path) {
  nlohmann::json created = server.ApiPost("/direct_upload", R"({"maxDurationSeconds":600})").Json();
  if (!created["result"].is_object()) {
    return "";
  }
  std::string content_type;
  std::string body = MultipartBody("file", "upload.bin", ReadFile(path), &content_type);
  Post(created["result"]["uploadURL"].get<std::string>(), body, {{"Content-Type", content_type}});
  return created["result"]["uid"].get<std::string>();
}

// ---- the shared server ---------------------------------------------------------------------

// One server and one set of inputs for every test of this file, made on first use and stopped
// when the test program exits.
struct Shared {
  TempDir inputs;
  KinoServer server;
  std::map<std::string, std::string> uids;  // by case name
  std::string setup_error;

  void SetUp() {
    if (!server.Start()) {
      setup_error = "the server did not start: " + server.log();
      return;
    }
    for (const PlayableCase& c : PlayableCases()) {
      if (!MakeInput(inputs.path(), c.file, c.commands)) {
        setup_error = "ffmpeg could not make " + c.file;
        return;
      }
      uids[c.name] = UploadFile(server, inputs.Join(c.file));
    }
    for (const RefusedCase& c : RefusedCases()) {
      if (c.commands.empty()) {
        std::FILE* f = std::fopen(inputs.Join(c.file).c_str(), "wb");
        std::string bytes = SpecialBytes(inputs.path(), c.file);
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
      } else if (!MakeInput(inputs.path(), c.file, c.commands)) {
        setup_error = "ffmpeg could not make " + c.file;
        return;
      }
    }
  }
};

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    static std::unique_ptr<Shared> made;
    if (!made) {
      made = std::make_unique<Shared>();
      made->SetUp();
    }
    shared_ = made.get();
  }
  void SetUp() override { ASSERT_EQ(shared_->setup_error, ""); }

  static KinoServer& server() { return shared_->server; }
  static std::string Input(const std::string& file) { return shared_->inputs.Join(file); }
  static const std::string& Scratch() { return shared_->inputs.path(); }
  static std::string Uid(const std::string& name) { return shared_->uids[name]; }
  static std::string Delivery(const std::string& uid, const std::string& path) {
    return shared_->server.url() + "/" + uid + "/" + path;
  }

  static Shared* shared_;
};

Shared* PipelineTest::shared_ = nullptr;

void ExpectDeliveryHeaders(const HttpResponse& r, const std::string& content_type,
                           const std::string& cache_control) {
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), content_type);
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
  EXPECT_EQ(r.Header("cache-control"), cache_control);
}

// The video's renditions as a manifest shows them to ffprobe, against the source's streams.
void ExpectManifest(const std::string& url, const PlayableCase& c,
                    const std::map<int, StreamSpan>& source) {
  SCOPED_TRACE(url);
  std::map<int, StreamSpan> streams = Probe(url);
  ASSERT_FALSE(streams.empty()) << "ffprobe cannot read the manifest";
  const StreamSpan* source_video = First(source, "video");
  const StreamSpan* source_audio = First(source, "audio");
  std::vector<Rung> rungs;
  int audio_streams = 0;
  for (const auto& [index, s] : streams) {
    if (s.type == "video") {
      rungs.push_back({s.width, s.height});
      EXPECT_EQ(s.codec, "h264");
      EXPECT_EQ(s.pix_fmt, "yuv420p");
      EXPECT_NE(s.color_transfer, "smpte2084");  // HDR is tone-mapped
      EXPECT_NEAR(s.seconds(), source_video->seconds(), 0.1) << s.width << "x" << s.height;
      if (!c.frame_rate.empty()) {
        EXPECT_EQ(s.avg_frame_rate, c.frame_rate);
      }
    } else if (s.type == "audio") {
      ++audio_streams;
      EXPECT_EQ(s.codec, "aac");
      EXPECT_EQ(s.channels, c.audio_channels);
      ASSERT_NE(source_audio, nullptr);
      EXPECT_NEAR(s.seconds(), source_audio->seconds(), 0.1);
    }
  }
  std::vector<Rung> expected = c.rungs;
  std::sort(rungs.begin(), rungs.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_TRUE(rungs == expected) << "renditions differ";
  EXPECT_EQ(audio_streams, c.audio_channels > 0 ? 1 : 0);
}

// Probes the image a thumbnail URL answers with and checks its type and size.
void ExpectImage(const std::string& url, const std::string& content_type, int width, int height,
                 const std::string& dir) {
  SCOPED_TRACE(url);
  HttpResponse r = Get(url);
  ExpectDeliveryHeaders(r, content_type, "public, max-age=86400");
  std::string path = dir + (content_type == "image/gif" ? "/thumb.gif" : "/thumb.jpg");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(r.body.data(), 1, r.body.size(), f);
  std::fclose(f);
  std::map<int, StreamSpan> image = Probe(path);
  ASSERT_EQ(image.size(), 1u);
  EXPECT_EQ(image.begin()->second.codec, content_type == "image/gif" ? "gif" : "mjpeg");
  EXPECT_EQ(image.begin()->second.width, width);
  EXPECT_NEAR(image.begin()->second.height, height, 1);
}

class PlayableTest : public PipelineTest, public ::testing::WithParamInterface<PlayableCase> {};

TEST_P(PlayableTest, ReachesReadyAndPlaysOverHlsAndDash) {
  const PlayableCase& c = GetParam();
  const std::string uid = Uid(c.name);
  ASSERT_FALSE(uid.empty()) << "upload failed";
  nlohmann::json video = WaitForState(server(), uid, "ready");
  std::map<int, StreamSpan> source = Probe(Input(c.file));
  ASSERT_NE(First(source, "video"), nullptr);

  // The API's view.
  ASSERT_EQ(video["status"]["state"], "ready") << video.dump();
  EXPECT_EQ(video["status"]["pctComplete"], "100.000000");
  EXPECT_EQ(video["status"]["errorReasonCode"], "");
  EXPECT_EQ(video["readyToStream"], true);
  EXPECT_TRUE(video["readyToStreamAt"].is_string());
  EXPECT_EQ(video["input"]["width"], c.width);
  EXPECT_EQ(video["input"]["height"], c.height);
  EXPECT_NEAR(video["duration"].get<double>(), First(source, "video")->seconds(), 0.1);

  // Manifests over HTTP, as ffprobe (a player) reads them.
  ExpectManifest(Delivery(uid, "manifest/video.m3u8"), c, source);
  ExpectManifest(Delivery(uid, "manifest/video.mpd"), c, source);

  // Thumbnails: the default (640 wide) and a requested box, JPEG and GIF.
  ExpectImage(Delivery(uid, "thumbnails/thumbnail.jpg"), "image/jpeg", 640,
              static_cast<int>(std::lround(640.0 * c.height / c.width)), Scratch());
  ExpectImage(Delivery(uid, "thumbnails/thumbnail.jpg?time=1s&width=160&height=90&fit=scale"),
              "image/jpeg", 160, 90, Scratch());
  ExpectImage(Delivery(uid, "thumbnails/thumbnail.gif?width=120&height=120&duration=1s&fps=4"),
              "image/gif", 120, 120, Scratch());
}

INSTANTIATE_TEST_SUITE_P(Inputs, PlayableTest, ::testing::ValuesIn(PlayableCases()),
                         [](const auto& param_info) { return param_info.param.name; });

class RefusedTest : public PipelineTest, public ::testing::WithParamInterface<RefusedCase> {};

// A basic upload is answered at once; a direct upload leaves the video in state error, and
// every delivery path then answers 424.
TEST_P(RefusedTest, EndsInErrorWithItsReason) {
  const RefusedCase& c = GetParam();
  std::string path = Input(c.file);

  std::string content_type;
  std::string body = MultipartBody("file", c.file, ReadFile(path), &content_type);
  HeaderList headers = server().Auth();
  headers.emplace_back("Content-Type", content_type);
  HttpResponse basic = Post(server().api(), body, headers);
  EXPECT_EQ(basic.status, 400);
  nlohmann::json j = basic.Json();
  EXPECT_EQ(j["errors"][0]["code"], 10059) << basic.body;
  EXPECT_NE(j["errors"][0]["message"].get<std::string>().find(c.reason), std::string::npos)
      << basic.body;

  std::string uid = DirectUpload(server(), path);
  ASSERT_FALSE(uid.empty());
  nlohmann::json video = server().ApiGet("/" + uid).Json()["result"];
  EXPECT_EQ(video["status"]["state"], "error") << video.dump();
  EXPECT_EQ(video["status"]["errorReasonCode"], c.reason);
  EXPECT_NE(video["status"]["errorReasonText"], "");
  EXPECT_EQ(video["readyToStream"], false);
  EXPECT_TRUE(video["readyToStreamAt"].is_null());

  for (const char* p : {"manifest/video.m3u8", "manifest/video.mpd", "manifest/v240/index.m3u8",
                        "manifest/v240/init.mp4", "thumbnails/thumbnail.jpg",
                        "thumbnails/thumbnail.gif", "downloads/default.mp4"}) {
    HttpResponse r = Get(Delivery(uid, p));
    EXPECT_EQ(r.status, 424) << p;
    EXPECT_EQ(r.Header("access-control-allow-origin"), "*") << p;
    EXPECT_EQ(r.Header("cache-control"), "no-store") << p;
  }
}

INSTANTIATE_TEST_SUITE_P(Inputs, RefusedTest, ::testing::ValuesIn(RefusedCases()),
                         [](const auto& param_info) { return param_info.param.name; });

// Content types, CORS and caching of every kind of package file, and 404 for unknown videos.
TEST_F(PipelineTest, PackageFilesHaveTypesCorsAndCaching) {
  const std::string uid = Uid("H264AacMp4MoovAtEnd");
  ASSERT_EQ(WaitForState(server(), uid, "ready")["status"]["state"], "ready");
  const std::string ready = "public, max-age=300";
  const std::string immutable = "public, max-age=31536000, immutable";
  ExpectDeliveryHeaders(Get(Delivery(uid, "manifest/video.m3u8")), "application/vnd.apple.mpegurl",
                        ready);
  ExpectDeliveryHeaders(Get(Delivery(uid, "manifest/video.mpd")), "application/dash+xml", ready);
  ExpectDeliveryHeaders(Get(Delivery(uid, "manifest/v240/index.m3u8")),
                        "application/vnd.apple.mpegurl", ready);
  ExpectDeliveryHeaders(Get(Delivery(uid, "manifest/v240/init.mp4")), "video/mp4", immutable);
  ExpectDeliveryHeaders(Get(Delivery(uid, "manifest/v240/seg_00001.m4s")), "video/mp4", immutable);
  ExpectDeliveryHeaders(Get(Delivery(uid, "manifest/audio/init.mp4")), "audio/mp4", immutable);
  ExpectDeliveryHeaders(Get(Delivery(uid, "manifest/audio/seg_00001.m4s")), "audio/mp4", immutable);

  // A player on another origin asks first.
  HttpResponse preflight =
      Http({"OPTIONS",
            Delivery(uid, "manifest/video.m3u8"),
            {{"Origin", "https://player.example"}, {"Access-Control-Request-Method", "GET"}},
            "",
            "",
            30});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("access-control-allow-origin"), "*");
  EXPECT_NE(preflight.Header("access-control-allow-methods").find("GET"), std::string::npos);

  // Players fetch byte ranges of segments.
  HttpResponse part = Get(Delivery(uid, "manifest/v240/seg_00001.m4s"), {{"Range", "bytes=0-99"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body.size(), 100u);

  // Bad thumbnail parameters are a plain 400, never a picture of something else.
  for (const char* q : {"thumbnail.jpg?width=5000", "thumbnail.jpg?height=0",
                        "thumbnail.jpg?fit=bogus", "thumbnail.jpg?time=soon",
                        "thumbnail.gif?duration=0s", "thumbnail.gif?fps=-1", "thumbnail.png"}) {
    long status = Get(Delivery(uid, std::string("thumbnails/") + q)).status;
    EXPECT_TRUE(status == 400 || status == 404) << q << " " << status;
  }

  // Files outside the package and unknown videos.
  EXPECT_EQ(Get(Delivery(uid, "manifest/v240/seg_99999.m4s")).status, 404);
  long escape = Get(Delivery(uid, "manifest/v240/..%2f..%2foriginal")).status;
  EXPECT_TRUE(escape == 400 || escape == 404) << escape;
  const std::string unknown = "00000000000000000000000000000001";
  for (const char* p : {"manifest/video.m3u8", "manifest/video.mpd", "manifest/v240/init.mp4",
                        "thumbnails/thumbnail.jpg", "thumbnails/thumbnail.gif"}) {
    HttpResponse r = Get(Delivery(unknown, p));
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.Header("access-control-allow-origin"), "*") << p;
  }
}

// ---- crashes and cancellation --------------------------------------------------------------

// A server of its own, with x264 at veryfast so that a 30 s input takes long enough to encode
// for the test to act in the middle.
class PipelineJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start()) << server_.log();
    input_ = dir_.Join("long.mkv");
    ASSERT_TRUE(RunFfmpeg("-f lavfi -i testsrc2=size=640x360:rate=25:duration=30 " +
                          Replace(kSine, "duration=2", "duration=30") + kX264 + kAac + input_));
  }

  // Uploads the input and waits until its encode is under way.
  std::string UploadAndWaitForEncoding() {
    std::string uid = UploadFile(server_, input_);
    bool encoding = WaitFor([&] {
      nlohmann::json v = server_.ApiGet("/" + uid).Json()["result"];
      return v.is_object() && v["status"]["state"] == "inprogress" &&
             v["status"]["pctComplete"] != "0.000000";
    });
    return encoding ? uid : "";
  }

  // Rows of the jobs table of `uid` as "kind state attempts", by creation.
  std::vector<std::string> Jobs(const std::string& uid) {
    std::string out = CaptureCommand("sqlite3 -separator ' ' '" + server_.data_dir() +
                                     "/data/kino.db' \"SELECT kind, state, attempts, "
                                     "coalesce(lease_owner, '-') FROM jobs WHERE video_uid = '" +
                                     uid + "' ORDER BY created\"");
    std::vector<std::string> rows;
    for (size_t at = 0, eol; (eol = out.find('\n', at)) != std::string::npos; at = eol + 1) {
      rows.push_back(out.substr(at, eol - at));
    }
    return rows;
  }

  // How many log lines of `event` name the video.
  int LogCount(const std::string& event, const std::string& uid) {
    std::string log = server_.log();
    int n = 0;
    for (size_t at = 0, eol; (eol = log.find('\n', at)) != std::string::npos; at = eol + 1) {
      std::string line = log.substr(at, eol - at);
      n += line.find("\"event\":\"" + event + "\"") != std::string::npos &&
           line.find(uid) != std::string::npos;
    }
    return n;
  }

  KinoServer server_{KinoServer::Options{{{"KINO_X264_PRESET", "veryfast"}}, {}}};
  TempDir dir_;
  std::string input_;
};

// kill -9 in the middle of an encode: the restarted server takes the job back at once, and
// the video becomes ready; the job ran to completion once, in its second attempt.
TEST_F(PipelineJobTest, KilledDuringEncodeStillBecomesReady) {
  std::string uid = UploadAndWaitForEncoding();
  ASSERT_FALSE(uid.empty()) << server_.log();
  server_.Kill9();
  // The dead process's lease is still there: the job is stuck until someone takes it back.
  std::vector<std::string> left = Jobs(uid);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].rfind("process_video running 1 ", 0), 0u) << left[0];

  ASSERT_TRUE(server_.Restart()) << server_.log();
  nlohmann::json video = WaitForState(server_, uid, "ready", std::chrono::seconds(240));
  ASSERT_EQ(video["status"]["state"], "ready") << video.dump();
  EXPECT_EQ(video["status"]["pctComplete"], "100.000000");
  EXPECT_EQ(Jobs(uid), std::vector<std::string>({"process_video done 2 -"}));
  EXPECT_EQ(LogCount("job_started", uid), 2);
  EXPECT_EQ(LogCount("job_done", uid), 1);

  // The package made after the restart is whole.
  std::map<int, StreamSpan> streams = Probe(server_.url() + "/" + uid + "/manifest/video.m3u8");
  ASSERT_NE(First(streams, "video"), nullptr);
  for (const auto& [index, s] : streams) {
    EXPECT_NEAR(s.seconds(), 30, 0.1) << s.type << " " << s.width;
  }
}

// Deleting a video in the middle of its encode stops the encode for good: no retry, no
// failure reported on a video that is gone, and none of its files left behind.
TEST_F(PipelineJobTest, DeletedDuringEncodeIsCancelled) {
  std::string uid = UploadAndWaitForEncoding();
  ASSERT_FALSE(uid.empty()) << server_.log();
  ASSERT_EQ(server_.ApiDelete("/" + uid).status, 200);

  // The encode notices (at its next heartbeat, or when its files vanish) and stops.
  EXPECT_TRUE(
      WaitFor([&] { return LogCount("job_cancelled", uid) == 1; }, std::chrono::seconds(30)))
      << server_.log();
  const std::vector<std::string> expected = {"process_video cancelled 1 -",
                                             "delete_video_files done 1 -"};
  EXPECT_TRUE(WaitFor([&] { return Jobs(uid) == expected; }, std::chrono::seconds(10)))
      << ::testing::PrintToString(Jobs(uid));
  EXPECT_FALSE(std::filesystem::exists(server_.data_dir() + "/data/blobs/videos/" + uid));
  EXPECT_EQ(LogCount("job_retry", uid), 0) << server_.log();
  EXPECT_EQ(LogCount("job_failed", uid), 0);
  EXPECT_EQ(LogCount("job_done", uid), 1);  // delete_video_files
}

// With the copy fast path the video is readyToStream, playable from its copied rendition, while
// the lower rungs are still encoding; pctComplete then goes on to 100.
TEST_F(PipelineJobTest, CopiedRenditionIsStreamableBeforeTheLadderIsDone) {
  std::string mp4 = dir_.Join("long.mp4");
  ASSERT_TRUE(RunFfmpeg("-i " + input_ + " -c copy " + mp4));
  std::string uid = UploadFile(server_, mp4);
  ASSERT_FALSE(uid.empty());

  nlohmann::json early;
  ASSERT_TRUE(WaitFor([&] {
    early = server_.ApiGet("/" + uid).Json()["result"];
    return early.is_object() && early["readyToStream"] == true;
  }));
  EXPECT_EQ(early["status"]["state"], "inprogress") << early.dump();
  EXPECT_LT(std::stod(early["status"]["pctComplete"].get<std::string>()), 100);
  EXPECT_TRUE(early["readyToStreamAt"].is_string());
  HttpResponse master = Get(server_.url() + "/" + uid + "/manifest/video.m3u8");
  EXPECT_EQ(master.Header("cache-control"), "no-cache");  // it will list more renditions
  std::map<int, StreamSpan> streams =
      Probe(server_.url() + "/" + uid + "/manifest/v360/index.m3u8");
  ASSERT_NE(First(streams, "video"), nullptr);
  EXPECT_NEAR(First(streams, "video")->seconds(), 30, 0.1);

  nlohmann::json done = WaitForState(server_, uid, "ready");
  EXPECT_EQ(done["status"]["pctComplete"], "100.000000");
  EXPECT_EQ(done["readyToStreamAt"], early["readyToStreamAt"]);
  EXPECT_NE(Get(server_.url() + "/" + uid + "/manifest/video.m3u8").body.find("v240/index.m3u8"),
            std::string::npos);
}

// A processing job that fails on every attempt for a reason outside the input is tried up to
// its attempts, each after a backoff (--job-retry-base-ms, shortened here), and then given up:
// the video ends in error with ERR_UNKNOWN and the job is failed, not retried for ever. The
// failure is made real: the video's package directory is immutable (chattr +i), so clearing
// it for a fresh encode fails with EPERM, even for root.
TEST(PipelineGiveUpTest, JobFailingEveryAttemptEndsTheVideoInErrUnknown) {
  KinoServer server(KinoServer::Options{{{"KINO_JOB_RETRY_BASE_MS", "10"}}, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  TempDir dir;
  std::string input = dir.Join("in.mp4");
  ASSERT_TRUE(RunFfmpeg("-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 " + kSine + kX264 +
                        kAac + input));
  nlohmann::json created =
      server.ApiPost("/direct_upload", R"({"maxDurationSeconds":600})").Json()["result"];
  std::string uid = created.value("uid", "");
  ASSERT_FALSE(uid.empty()) << created.dump();
  std::string package = server.data_dir() + "/data/blobs/videos/" + uid + "/package";
  std::filesystem::create_directories(package);
  ASSERT_TRUE(WriteFile(package + "/stale", "left from an earlier run"));
  // chattr +i needs CAP_LINUX_IMMUTABLE (root, or sudo without a password) and a file system
  // with the flag (ext4, XFS, Btrfs); `make test` runs as root on ext4.
  const std::string sudo = geteuid() == 0 ? "" : "sudo -n ";
  int chattr = -1;
  std::string why = CaptureCommand(sudo + "chattr +i '" + package + "' 2>&1", &chattr);
  if (chattr != 0) {
    GTEST_SKIP() << "cannot make a directory immutable here: " << why;
  }

  std::string content_type;
  std::string body = MultipartBody("file", "in.mp4", ReadFile(input), &content_type);
  Post(created.value("uploadURL", ""), body, {{"Content-Type", content_type}});
  nlohmann::json video = WaitForState(server, uid, "error", std::chrono::seconds(60));
  CaptureCommand(sudo + "chattr -i '" + package + "'");

  EXPECT_EQ(video["status"]["state"], "error") << video.dump() << server.log();
  EXPECT_EQ(video["status"]["errorReasonCode"], "ERR_UNKNOWN") << video.dump();
  EXPECT_FALSE(video["status"].value("errorReasonText", "").empty());
  std::string jobs = CaptureCommand("sqlite3 -separator ' ' '" + server.data_dir() +
                                    "/data/kino.db' \"SELECT state, attempts FROM jobs WHERE "
                                    "video_uid = '" +
                                    uid + "' AND kind = 'process_video'\"");
  EXPECT_EQ(jobs, "failed 5\n") << server.log();
}

}  // namespace
}  // namespace kino::testing

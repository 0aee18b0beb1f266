// Downloads end to end: the API (create, status, delete, errors), the files themselves (checked
// by the ffprobe program), their delivery (ranges, validators, names, digests, CORS, signed
// URLs), the lifecycle (video deleted, server killed during generation, damaged renditions) and
// the webhook events.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/kino_server.h"
#include "tests/support/webhook_receiver.h"

namespace kino::testing {
namespace {

// ffprobe's view of a file: streams (codec_type, codec_name, duration) and the format.
nlohmann::json Probe(const std::string& path) {
  return nlohmann::json::parse(
      CaptureCommand("ffprobe -v error -show_entries format=duration,format_name:stream=codec_type,"
                     "codec_name,duration -of json '" +
                     path + "'"),
      nullptr, false);
}

// The top-level boxes in the order ffprobe's MP4 demuxer meets them ("ftyp", "moov", ...).
std::vector<std::string> TopLevelBoxes(const std::string& path) {
  std::string trace = CaptureCommand("ffprobe -v trace '" + path + "' 2>&1");
  std::regex box("type:'([a-z0-9 ]{4})' parent:'root'");
  std::vector<std::string> out;
  for (std::sregex_iterator it(trace.begin(), trace.end(), box), end; it != end; ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

size_t IndexOf(const std::vector<std::string>& v, const std::string& s) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == s) {
      return i;
    }
  }
  return v.size();
}

// The codec names of one kind of stream, in order.
std::vector<std::string> Codecs(const nlohmann::json& probe, const std::string& type) {
  std::vector<std::string> out;
  for (const auto& s : probe.value("streams", nlohmann::json::array())) {
    if (s.value("codec_type", "") == type) {
      out.push_back(s.value("codec_name", ""));
    }
  }
  return out;
}

double StreamDuration(const nlohmann::json& probe, const std::string& type) {
  for (const auto& s : probe.value("streams", nlohmann::json::array())) {
    if (s.value("codec_type", "") == type) {
      return std::stod(s.value("duration", "-1"));
    }
  }
  return -1;
}

// The SHA-256 of a file by programs other than Kino: lowercase hex and RFC 9530's base64.
std::string Sha256Hex(const std::string& path) {
  return CaptureCommand("sha256sum '" + path + "' | cut -c1-64 | tr -d '\\n'");
}
std::string Sha256Base64(const std::string& path) {
  std::string b64 = CaptureCommand("openssl dgst -sha256 -binary '" + path + "' | base64 -w0");
  return b64;
}

// One part of a multipart/byteranges body.
struct Part {
  std::string content_range;
  std::string content_type;
  std::string data;
};

// Splits a multipart/byteranges body (RFC 9110 section 14.6) by its boundary.
std::vector<Part> ParseByteranges(const std::string& content_type, const std::string& body) {
  std::vector<Part> parts;
  size_t b = content_type.find("boundary=");
  if (b == std::string::npos) {
    return parts;
  }
  std::string delimiter = "--" + content_type.substr(b + 9);
  size_t pos = body.find(delimiter);
  while (pos != std::string::npos) {
    pos += delimiter.size();
    if (body.compare(pos, 2, "--") == 0) {
      break;  // the closing delimiter
    }
    size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string::npos) {
      break;
    }
    Part part;
    std::string head = body.substr(pos, head_end - pos);
    std::smatch m;
    if (std::regex_search(head, m, std::regex("Content-Range: ([^\r\n]+)", std::regex::icase))) {
      part.content_range = m[1];
    }
    if (std::regex_search(head, m, std::regex("Content-Type: ([^\r\n]+)", std::regex::icase))) {
      part.content_type = m[1];
    }
    size_t data_start = head_end + 4;
    size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string::npos) {
      break;
    }
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(part);
    pos = next + 2;
  }
  return parts;
}

int ErrorCode(const HttpResponse& r) {
  nlohmann::json j = r.Json();
  if (!j.is_object() || !j["errors"].is_array() || j["errors"].empty()) {
    return -1;
  }
  return j["errors"][0].value("code", -1);
}

HttpResponse PostNoBody(const KinoServer& server, const std::string& path) {
  return Post(server.api() + path, "", server.Auth());
}

// Polls GET /downloads until `type` is no longer inprogress; returns that item (null if the
// deadline passed first).
nlohmann::json WaitForDownload(const KinoServer& server, const std::string& uid,
                               const std::string& type,
                               std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  nlohmann::json item;
  bool done = WaitFor(
      [&] {
        nlohmann::json j = server.ApiGet("/" + uid + "/downloads").Json();
        if (!j.is_object() || !j["result"].is_object() || !j["result"].contains(type)) {
          return false;
        }
        item = j["result"][type];
        return item.value("status", "") != "inprogress";
      },
      timeout);
  return done ? item : nlohmann::json();
}

// A ready video: made by ffmpeg, uploaded, processed. Returns its uid ("" on failure).
std::string ReadyVideo(const KinoServer& server, const std::string& dir, const std::string& name,
                       const std::string& ffmpeg_args) {
  std::string path = dir + "/" + name;
  if (!RunFfmpeg(ffmpeg_args + " " + path)) {
    return "";
  }
  std::string uid = UploadFile(server, path);
  if (uid.empty() || WaitForState(server, uid, "ready")["status"].value("state", "") != "ready") {
    return "";
  }
  return uid;
}

// ffmpeg arguments of the shared test video: 3 s of 320x240 H.264 and AAC.
constexpr const char* kTinyVideoArgs =
    "-f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -f lavfi -i "
    "sine=frequency=440:sample_rate=48000:duration=3 -c:v libx264 -preset ultrafast -pix_fmt "
    "yuv420p -g 50 -c:a aac -b:a 96k -shortest";

// Asks for both downloads of `uid` and waits for them. True when both are ready.
bool MakeBothDownloads(const KinoServer& server, const std::string& uid) {
  PostNoBody(server, "/" + uid + "/downloads");
  PostNoBody(server, "/" + uid + "/downloads/audio");
  return WaitForDownload(server, uid, "default").value("status", "") == "ready" &&
         WaitForDownload(server, uid, "audio").value("status", "") == "ready";
}

// A video that will stay in state error: a direct creator upload of a file that is no video.
std::string ErroredVideo(const KinoServer& server) {
  nlohmann::json made = server.ApiPost("/direct_upload", R"({"maxDurationSeconds":60})").Json();
  std::string uid = made["result"].value("uid", "");
  std::string content_type;
  std::string body = MultipartBody("file", "notes.txt", std::string(4096, 'x'), &content_type);
  Post(made["result"].value("uploadURL", ""), body, {{"Content-Type", content_type}});
  return uid;
}

// ---------------------------------------------------------------------------------------------
// One server and one ready video with both downloads made, shared by the read-only cases.

class DownloadsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new KinoServer();
    ASSERT_TRUE(server_->Start()) << server_->log();
    dir_ = new TempDir();
    uid_ = ReadyVideo(*server_, dir_->path(), "holiday.mp4", kTinyVideoArgs);
    ASSERT_FALSE(uid_.empty()) << server_->log();
    video_ = new nlohmann::json(server_->ApiGet("/" + uid_).Json()["result"]);
    ASSERT_TRUE(MakeBothDownloads(*server_, uid_)) << server_->log();
  }

  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    delete video_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static std::string FileUrl(const std::string& file) {
    return server_->url() + "/" + uid_ + "/downloads/" + file;
  }
  static nlohmann::json Downloads() {
    return server_->ApiGet("/" + uid_ + "/downloads").Json()["result"];
  }
  // Fetches a download to a file in the temp dir and returns its path.
  static std::string Fetch(const std::string& file) {
    HttpResponse r = Get(FileUrl(file));
    EXPECT_EQ(r.status, 200);
    std::string path = dir_->Join("fetched-" + file);
    WriteFile(path, r.body);
    return path;
  }

  static KinoServer* server_;
  static TempDir* dir_;
  static std::string uid_;
  static nlohmann::json* video_;
};

KinoServer* DownloadsTest::server_ = nullptr;
TempDir* DownloadsTest::dir_ = nullptr;
std::string DownloadsTest::uid_;
nlohmann::json* DownloadsTest::video_ = nullptr;

// --- the API ---

TEST_F(DownloadsTest, CreateWithoutBodyOrContentTypeAnswersTheKeyedResult) {
  HttpResponse r = PostNoBody(*server_, "/" + uid_ + "/downloads");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  nlohmann::json j = r.Json();
  EXPECT_EQ(j["success"], true);
  ASSERT_TRUE(j["result"]["default"].is_object()) << r.body;
  EXPECT_EQ(j["result"]["default"]["url"], FileUrl("default.mp4"));
}

TEST_F(DownloadsTest, CreateAcceptsAnEmptyJsonObject) {
  HttpResponse r = server_->ApiPost("/" + uid_ + "/downloads", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json()["result"]["default"].is_object());
  r = server_->ApiPost("/" + uid_ + "/downloads/audio", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.Json()["result"]["audio"].is_object());
}

TEST_F(DownloadsTest, CreateRefusesABodyThatIsNotJson) {
  HttpResponse r = server_->ApiPost("/" + uid_ + "/downloads", "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), 10001);
}

TEST_F(DownloadsTest, PerTypePathsNameTheirFiles) {
  nlohmann::json d = Downloads();
  EXPECT_EQ(d["default"]["url"], FileUrl("default.mp4"));
  EXPECT_EQ(d["audio"]["url"], FileUrl("audio.m4a"));
  HttpResponse r = PostNoBody(*server_, "/" + uid_ + "/downloads/default");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["result"]["default"]["url"], FileUrl("default.mp4"));
}

TEST_F(DownloadsTest, RePostReturnsTheReadyDownloadAndMakesNothingNew) {
  nlohmann::json before = Downloads();
  std::string etag = Head(FileUrl("default.mp4")).Header("etag");
  std::string modified = Head(FileUrl("default.mp4")).Header("last-modified");
  HttpResponse r = PostNoBody(*server_, "/" + uid_ + "/downloads");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["result"]["default"]["status"], "ready");
  EXPECT_EQ(r.Json()["result"]["default"]["sha256"], before["default"]["sha256"]);
  EXPECT_EQ(Downloads(), before);
  EXPECT_EQ(Head(FileUrl("default.mp4")).Header("etag"), etag);
  EXPECT_EQ(Head(FileUrl("default.mp4")).Header("last-modified"), modified);
}

TEST_F(DownloadsTest, StatusHasNumberPercentUrlAndSha256) {
  nlohmann::json d = Downloads();
  for (const char* type : {"default", "audio"}) {
    SCOPED_TRACE(type);
    EXPECT_EQ(d[type]["status"], "ready");
    ASSERT_TRUE(d[type]["percentComplete"].is_number());
    EXPECT_DOUBLE_EQ(d[type]["percentComplete"].get<double>(), 100.0);
    EXPECT_TRUE(d[type]["url"].is_string());
    EXPECT_TRUE(std::regex_match(d[type].value("sha256", ""), std::regex("[0-9a-f]{64}")));
    EXPECT_TRUE(d[type]["size"].is_number_integer());
  }
}

TEST_F(DownloadsTest, UnknownTypeIs400WithItsOwnCode) {
  HttpResponse r = PostNoBody(*server_, "/" + uid_ + "/downloads/hd");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), 10006);
  r = server_->ApiDelete("/" + uid_ + "/downloads/hd");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), 10006);
}

TEST_F(DownloadsTest, UnknownVideoIs404WithItsOwnCode) {
  const std::string nobody = "/00000000000000000000000000000001/downloads";
  for (const HttpResponse& r :
       {PostNoBody(*server_, nobody), server_->ApiGet(nobody), server_->ApiDelete(nobody)}) {
    EXPECT_EQ(r.status, 404) << r.body;
    EXPECT_EQ(ErrorCode(r), 10003);
  }
}

TEST_F(DownloadsTest, NotReadyVideoIs422WithItsOwnCode) {
  nlohmann::json made = server_->ApiPost("/direct_upload", R"({"maxDurationSeconds":60})").Json();
  std::string uid = made["result"].value("uid", "");
  ASSERT_FALSE(uid.empty());
  for (const char* path : {"/downloads", "/downloads/audio"}) {
    HttpResponse r = PostNoBody(*server_, "/" + uid + path);
    EXPECT_EQ(r.status, 422) << r.body;
    EXPECT_EQ(ErrorCode(r), 10004);
  }
  EXPECT_EQ(server_->ApiGet("/" + uid + "/downloads").Json()["result"], nlohmann::json::object());
}

TEST_F(DownloadsTest, ErroredVideoIs424WithItsOwnCodeAndOnDelivery) {
  std::string uid = ErroredVideo(*server_);
  ASSERT_EQ(server_->ApiGet("/" + uid).Json()["result"]["status"]["state"], "error");
  HttpResponse r = PostNoBody(*server_, "/" + uid + "/downloads");
  EXPECT_EQ(r.status, 424) << r.body;
  EXPECT_EQ(ErrorCode(r), 10005);
  for (const char* file : {"default.mp4", "audio.m4a"}) {
    HttpResponse d = Get(server_->url() + "/" + uid + "/downloads/" + file);
    EXPECT_EQ(d.status, 424) << file;
    EXPECT_EQ(d.Header("access-control-allow-origin"), "*");
    EXPECT_EQ(d.Header("cache-control"), "no-store");
  }
}

// --- the files ---

TEST_F(DownloadsTest, DefaultMp4IsMoovFirstH264AacOfTheVideosDuration) {
  std::string path = Fetch("default.mp4");
  std::vector<std::string> boxes = TopLevelBoxes(path);
  ASSERT_LT(IndexOf(boxes, "moov"), boxes.size()) << CaptureCommand("ffprobe -v trace " + path);
  EXPECT_LT(IndexOf(boxes, "moov"), IndexOf(boxes, "mdat"));
  nlohmann::json probe = Probe(path);
  EXPECT_EQ(Codecs(probe, "video"), std::vector<std::string>{"h264"}) << probe;
  EXPECT_EQ(Codecs(probe, "audio"), std::vector<std::string>{"aac"}) << probe;
  double duration = (*video_)["duration"].get<double>();
  EXPECT_NEAR(StreamDuration(probe, "video"), duration, 0.1);
  EXPECT_NEAR(StreamDuration(probe, "audio"), duration, 0.1);
  EXPECT_NEAR(std::stod(probe["format"].value("duration", "-1")), duration, 0.1);
}

TEST_F(DownloadsTest, AudioM4aIsMoovFirstAacOnlyOfTheVideosDuration) {
  std::string path = Fetch("audio.m4a");
  std::vector<std::string> boxes = TopLevelBoxes(path);
  ASSERT_LT(IndexOf(boxes, "moov"), boxes.size());
  EXPECT_LT(IndexOf(boxes, "moov"), IndexOf(boxes, "mdat"));
  nlohmann::json probe = Probe(path);
  EXPECT_EQ(Codecs(probe, "video"), std::vector<std::string>{}) << probe;
  EXPECT_EQ(Codecs(probe, "audio"), std::vector<std::string>{"aac"}) << probe;
  EXPECT_NEAR(StreamDuration(probe, "audio"), (*video_)["duration"].get<double>(), 0.1);
  // ISO/IEC 14496-12 ftyp: major brand "M4A ".
  EXPECT_EQ(ReadFile(path).substr(4, 8), "ftypM4A ");
}

TEST_F(DownloadsTest, Sha256AndReprDigestMatchTheBytes) {
  nlohmann::json d = Downloads();
  for (const char* file : {"default.mp4", "audio.m4a"}) {
    SCOPED_TRACE(file);
    std::string path = Fetch(file);
    std::string type = std::string(file) == "default.mp4" ? "default" : "audio";
    EXPECT_EQ(d[type].value("sha256", ""), Sha256Hex(path));
    EXPECT_EQ(d[type]["size"].get<int64_t>(), static_cast<int64_t>(ReadFile(path).size()));
    EXPECT_EQ(Get(FileUrl(file)).Header("repr-digest"), "sha-256=:" + Sha256Base64(path) + ":");
    // RFC 9530: the representation's digest, so a partial response carries the same value.
    EXPECT_EQ(Get(FileUrl(file), {{"Range", "bytes=0-9"}}).Header("repr-digest"),
              "sha-256=:" + Sha256Base64(path) + ":");
  }
}

// --- delivery ---

TEST_F(DownloadsTest, HeadHasTheLengthAndNoBody) {
  HttpResponse full = Get(FileUrl("default.mp4"));
  HttpResponse head = Head(FileUrl("default.mp4"));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.Header("content-length"), std::to_string(full.body.size()));
  EXPECT_EQ(head.Header("accept-ranges"), "bytes");
  EXPECT_EQ(head.Header("etag"), full.Header("etag"));
}

TEST_F(DownloadsTest, ContentTypesAreVideoMp4AndAudioMp4) {
  EXPECT_EQ(Head(FileUrl("default.mp4")).Header("content-type"), "video/mp4");
  EXPECT_EQ(Head(FileUrl("audio.m4a")).Header("content-type"), "audio/mp4");
}

TEST_F(DownloadsTest, SingleRangesAnswer206WithTheirBytes) {
  std::string full = Get(FileUrl("default.mp4")).body;
  size_t size = full.size();
  HttpResponse r = Get(FileUrl("default.mp4"), {{"Range", "bytes=100-199"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, full.substr(100, 100));
  EXPECT_EQ(r.Header("content-range"), "bytes 100-199/" + std::to_string(size));
  EXPECT_EQ(r.Header("content-type"), "video/mp4");

  r = Get(FileUrl("default.mp4"), {{"Range", "bytes=-50"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, full.substr(size - 50));
  r = Get(FileUrl("default.mp4"), {{"Range", "bytes=" + std::to_string(size - 10) + "-"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, full.substr(size - 10));
  // A last-byte-pos past the end is cut to the end (RFC 9110 section 14.1.2).
  r = Get(FileUrl("default.mp4"), {{"Range", "bytes=0-999999999"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, full);
}

TEST_F(DownloadsTest, MultipleRangesAnswerMultipartByteranges) {
  std::string full = Get(FileUrl("audio.m4a")).body;
  HttpResponse r = Get(FileUrl("audio.m4a"), {{"Range", "bytes=0-9, 200-299, -20"}});
  ASSERT_EQ(r.status, 206);
  std::string type = r.Header("content-type");
  EXPECT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u) << type;
  EXPECT_EQ(r.Header("content-length"), std::to_string(r.body.size()));
  std::vector<Part> parts = ParseByteranges(type, r.body);
  ASSERT_EQ(parts.size(), 3u) << r.body.substr(0, 400);
  std::string size = std::to_string(full.size());
  EXPECT_EQ(parts[0].content_range, "bytes 0-9/" + size);
  EXPECT_EQ(parts[0].data, full.substr(0, 10));
  EXPECT_EQ(parts[1].data, full.substr(200, 100));
  EXPECT_EQ(parts[2].data, full.substr(full.size() - 20));
  EXPECT_EQ(parts[2].content_type, "audio/mp4");
}

TEST_F(DownloadsTest, UnsatisfiableRangeIs416WithTheSize) {
  std::string size = Head(FileUrl("default.mp4")).Header("content-length");
  HttpResponse r = Get(FileUrl("default.mp4"), {{"Range", "bytes=" + size + "-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("content-range"), "bytes */" + size);
  // A Range header Kino does not understand is ignored: the whole file (RFC 9110 14.2).
  r = Get(FileUrl("default.mp4"), {{"Range", "lines=1-2"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-length"), size);
}

TEST_F(DownloadsTest, ConcatenatedRangesEqualTheFullFile) {
  std::string full = Get(FileUrl("default.mp4")).body;
  std::string joined;
  const size_t step = 65536;
  for (size_t at = 0; at < full.size(); at += step) {
    HttpResponse r =
        Get(FileUrl("default.mp4"),
            {{"Range", "bytes=" + std::to_string(at) + "-" + std::to_string(at + step - 1)}});
    ASSERT_EQ(r.status, 206);
    joined += r.body;
  }
  EXPECT_EQ(joined.size(), full.size());
  EXPECT_TRUE(joined == full);
}

TEST_F(DownloadsTest, ValidatorsGive304And412) {
  HttpResponse first = Get(FileUrl("default.mp4"));
  std::string etag = first.Header("etag");
  std::string modified = first.Header("last-modified");
  EXPECT_TRUE(std::regex_match(etag, std::regex("\"[0-9a-f]{64}\""))) << etag;  // strong
  EXPECT_FALSE(modified.empty());

  HttpResponse r = Get(FileUrl("default.mp4"), {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.Header("etag"), etag);
  EXPECT_EQ(Get(FileUrl("default.mp4"), {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(Get(FileUrl("default.mp4"), {{"If-None-Match", "*"}}).status, 304);
  EXPECT_EQ(Head(FileUrl("default.mp4"), {{"If-None-Match", "W/" + etag}}).status, 304);

  EXPECT_EQ(Get(FileUrl("default.mp4"), {{"If-Modified-Since", modified}}).status, 304);
  EXPECT_EQ(
      Get(FileUrl("default.mp4"), {{"If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}}).status,
      200);
  // If-None-Match wins over If-Modified-Since (RFC 9110 section 13.2.2).
  EXPECT_EQ(
      Get(FileUrl("default.mp4"), {{"If-None-Match", "\"other\""}, {"If-Modified-Since", modified}})
          .status,
      200);
  EXPECT_EQ(Get(FileUrl("default.mp4"), {{"If-Match", "\"other\""}}).status, 412);
  EXPECT_EQ(Get(FileUrl("default.mp4"), {{"If-Match", etag}}).status, 200);
  EXPECT_EQ(Get(FileUrl("default.mp4"), {{"If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT"}})
                .status,
            412);
  EXPECT_EQ(Get(FileUrl("default.mp4"), {{"If-Unmodified-Since", modified}}).status, 200);
}

TEST_F(DownloadsTest, IfRangeSendsThePartOnlyWhileTheFileIsUnchanged) {
  HttpResponse first = Get(FileUrl("default.mp4"));
  HttpResponse r =
      Get(FileUrl("default.mp4"), {{"Range", "bytes=0-99"}, {"If-Range", first.Header("etag")}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body.size(), 100u);
  r = Get(FileUrl("default.mp4"),
          {{"Range", "bytes=0-99"}, {"If-Range", first.Header("last-modified")}});
  EXPECT_EQ(r.status, 206);
  r = Get(FileUrl("default.mp4"), {{"Range", "bytes=0-99"}, {"If-Range", "\"stale\""}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, first.body);
  r = Get(FileUrl("default.mp4"),
          {{"Range", "bytes=0-99"}, {"If-Range", "Sat, 01 Jan 2000 00:00:00 GMT"}});
  EXPECT_EQ(r.status, 200);
}

TEST_F(DownloadsTest, BrowsersGetCorsOnEveryAnswer) {
  HttpResponse r = Get(FileUrl("default.mp4"), {{"Origin", "https://app.example"}});
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
  std::string exposed = r.Header("access-control-expose-headers");
  for (const char* h : {"Content-Range", "Content-Length", "ETag", "Repr-Digest",
                        "Content-Disposition", "Accept-Ranges"}) {
    EXPECT_NE(exposed.find(h), std::string::npos) << h;
  }
  EXPECT_EQ(
      Get(FileUrl("default.mp4"), {{"Range", "bytes=0-1"}}).Header("access-control-allow-origin"),
      "*");
  HttpResponse pre = Http({"OPTIONS",
                           FileUrl("default.mp4"),
                           {{"Origin", "https://app.example"},
                            {"Access-Control-Request-Method", "GET"},
                            {"Access-Control-Request-Headers", "range"}},
                           "",
                           "",
                           30});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.Header("access-control-allow-origin"), "*");
  EXPECT_NE(pre.Header("access-control-allow-methods").find("GET"), std::string::npos);
  EXPECT_NE(pre.Header("access-control-allow-headers").find("range"), std::string::npos);
}

TEST_F(DownloadsTest, FilenameParameterNamesTheAttachment) {
  auto disposition = [](const std::string& file, const std::string& query) {
    return Head(FileUrl(file) + query).Header("content-disposition");
  };
  EXPECT_EQ(disposition("default.mp4", "?filename=MY_VIDEO"),
            "attachment; filename=\"MY_VIDEO.mp4\"");
  EXPECT_EQ(disposition("default.mp4", "?filename=MY_VIDEO.mp4"),
            "attachment; filename=\"MY_VIDEO.mp4\"");
  EXPECT_EQ(disposition("default.mp4", "?filename=clip.MP4"), "attachment; filename=\"clip.mp4\"");
  EXPECT_EQ(disposition("audio.m4a", "?filename=talk-2024_v2"),
            "attachment; filename=\"talk-2024_v2.m4a\"");
  EXPECT_EQ(disposition("audio.m4a", "?filename=talk.m4a"), "attachment; filename=\"talk.m4a\"");
  std::string longest(120, 'a');
  EXPECT_EQ(disposition("default.mp4", "?filename=" + longest),
            "attachment; filename=\"" + longest + ".mp4\"");
  EXPECT_EQ(Get(FileUrl("default.mp4") + "?filename=" + longest + ".mp4").status, 200);
}

TEST_F(DownloadsTest, BadFilenamesAre400) {
  for (const std::string& bad :
       {std::string(121, 'a'), std::string(""), std::string("a%20b"), std::string("..%2Fx"),
        std::string("a.b"), std::string("clip.mp4.mp4"), std::string("clip.m4a"),
        std::string("%C3%A9t%C3%A9"), std::string("a%22b"), std::string(".mp4"),
        std::string("a%0d%0aSet-Cookie:x"), std::string("ab%zz"), std::string("ab%")}) {
    SCOPED_TRACE(bad);
    HttpResponse r = Get(FileUrl("default.mp4") + "?filename=" + bad);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("filename"), std::string::npos) << r.body;
    EXPECT_EQ(r.Header("content-disposition"), "");
  }
  EXPECT_EQ(Get(FileUrl("audio.m4a") + "?filename=a.mp4").status, 400);
}

TEST_F(DownloadsTest, DefaultNameComesFromMetaName) {
  // An upload's meta.name is its file name (video.mp4): the extension is not doubled.
  EXPECT_EQ(Head(FileUrl("default.mp4")).Header("content-disposition"),
            "inline; filename=\"video.mp4\"");
  EXPECT_EQ(Head(FileUrl("audio.m4a")).Header("content-disposition"),
            "inline; filename=\"video.m4a\"");
  ASSERT_EQ(server_->ApiPost("/" + uid_, R"({"meta":{"name":"Été à Paris: day 2.mov"}})").status,
            200);
  EXPECT_EQ(Head(FileUrl("default.mp4")).Header("content-disposition"),
            "inline; filename=\"t_Paris_day_2.mp4\"");
  ASSERT_EQ(server_->ApiPost("/" + uid_, R"({"meta":{"name":"@@@"}})").status, 200);
  EXPECT_EQ(Head(FileUrl("default.mp4")).Header("content-disposition"),
            "inline; filename=\"" + uid_ + ".mp4\"");
  ASSERT_EQ(server_->ApiPost("/" + uid_, R"({"meta":{"name":"video.mp4"}})").status, 200);
}

TEST_F(DownloadsTest, UnknownFilesAndVideosAre404) {
  EXPECT_EQ(Get(server_->url() + "/" + uid_ + "/downloads/other.mp4").status, 404);
  EXPECT_EQ(Get(server_->url() + "/00000000000000000000000000000001/downloads/default.mp4").status,
            404);
  EXPECT_EQ(Head(server_->url() + "/00000000000000000000000000000001/downloads/audio.m4a").status,
            404);
}

// A client that resets its connection while a download is going out (a player seeking, a tab
// closed) ends that response only. The reset makes the server's next write fail with EPIPE,
// which also raises SIGPIPE: the server must survive that and go on serving.
TEST_F(DownloadsTest, ClientsResettingMidDownloadDoNotStopTheServer) {
  const std::string request =
      "GET /" + uid_ + "/downloads/default.mp4 HTTP/1.1\r\nHost: kino\r\n\r\n";
  // The signal comes only when the reset lands between two of the server's writes, so many
  // tries, each resetting as soon as the first bytes arrive.
  for (int i = 0; i < 300; ++i) {
    int fd = ConnectRaw(server_->url());
    ASSERT_GE(fd, 0) << "the server stopped after " << i << " resets\n" << server_->log();
    ASSERT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    char head[100];
    recv(fd, head, sizeof(head), 0);
    linger reset{1, 0};  // close with RST, not FIN
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Head(FileUrl("default.mp4")).status, 200) << server_->log();
  EXPECT_EQ(Get(server_->url() + "/healthz").status, 200);
}

// ---------------------------------------------------------------------------------------------
// Downloads of a video that requires signed URLs, fetched as a downloads user does: a token from
// the /token endpoint in place of the uid in the `url` the API gives.

class SignedDownloadsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new KinoServer();
    dir_ = new TempDir();
    ASSERT_TRUE(server_->Start()) << server_->log();
    uid_ = ReadyVideo(*server_, dir_->path(), "private.mp4", kTinyVideoArgs);
    ASSERT_FALSE(uid_.empty()) << server_->log();
    ASSERT_TRUE(MakeBothDownloads(*server_, uid_)) << server_->log();
    items_ = new nlohmann::json(server_->ApiGet("/" + uid_ + "/downloads").Json()["result"]);
    // What anyone could fetch while the video was public.
    public_bytes_ = new std::map<std::string, std::string>();
    for (const char* type : {"default", "audio"}) {
      HttpResponse r = Get((*items_)[type].value("url", ""));
      ASSERT_EQ(r.status, 200) << type;
      (*public_bytes_)[type] = r.body;
    }
    ASSERT_EQ(server_->ApiPost("/" + uid_, R"({"requireSignedURLs":true})").status, 200);
    ready_ = true;
  }

  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
    delete items_;
    delete public_bytes_;
    server_ = nullptr;
  }

  void SetUp() override { ASSERT_TRUE(ready_) << (server_ != nullptr ? server_->log() : ""); }

  // A token from the /token endpoint, made with `body` ("" on failure).
  static std::string Token(const nlohmann::json& body) {
    HttpResponse r = server_->ApiPost("/" + uid_ + "/token", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["result"].value("token", "");
  }
  // The API's `url` of the download `type` with `token` in place of the uid.
  static std::string SignedUrl(const std::string& token, const std::string& type) {
    std::string url = (*items_)[type].value("url", "");
    size_t at = url.find("/" + uid_ + "/downloads/");
    return at == std::string::npos ? "" : url.replace(at + 1, uid_.size(), token);
  }
  static const std::string& PublicBytes(const std::string& type) { return (*public_bytes_)[type]; }
  static std::string Sha256Of(const std::string& type) {
    return (*items_)[type].value("sha256", "");
  }

  static KinoServer* server_;
  static TempDir* dir_;
  static std::string uid_;
  static nlohmann::json* items_;                             // GET .../downloads, both ready
  static std::map<std::string, std::string>* public_bytes_;  // by type
  static bool ready_;
};

KinoServer* SignedDownloadsTest::server_ = nullptr;
TempDir* SignedDownloadsTest::dir_ = nullptr;
std::string SignedDownloadsTest::uid_;
nlohmann::json* SignedDownloadsTest::items_ = nullptr;
std::map<std::string, std::string>* SignedDownloadsTest::public_bytes_ = nullptr;
bool SignedDownloadsTest::ready_ = false;

// The `N` of "private, max-age=N", or -1 for any other Cache-Control.
int64_t PrivateMaxAge(const HttpResponse& r) {
  std::smatch m;
  std::string value = r.Header("cache-control");
  if (!std::regex_match(value, m, std::regex("private, max-age=([0-9]+)"))) {
    return -1;
  }
  return std::stoll(m[1]);
}

int64_t UnixNow() {
  return static_cast<int64_t>(std::time(nullptr));
}

// The URIs of a playlist (RFC 8216 section 4.1: lines that are not tags or blank).
std::vector<std::string> PlaylistUris(const std::string& playlist) {
  std::vector<std::string> uris;
  std::istringstream lines(playlist);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '#') {
      uris.push_back(line);
    }
  }
  return uris;
}

TEST_F(SignedDownloadsTest, DownloadableTokenGetsTheBytesServedBeforeTheVideoWasPrivate) {
  std::string token = Token({{"downloadable", true}});
  ASSERT_FALSE(token.empty());
  for (const char* type : {"default", "audio"}) {
    SCOPED_TRACE(type);
    HttpResponse r = Get(SignedUrl(token, type));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.body == PublicBytes(type));
    std::string path = dir_->Join(std::string("signed-") + type);
    WriteFile(path, r.body);
    EXPECT_EQ(Sha256Hex(path), Sha256Of(type));
    EXPECT_EQ(r.Header("etag"), "\"" + Sha256Of(type) + "\"");
    EXPECT_EQ(r.Header("repr-digest"), "sha-256=:" + Sha256Base64(path) + ":");
    HttpResponse head = Head(SignedUrl(token, type));
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.Header("content-length"), std::to_string(r.body.size()));
  }
}

TEST_F(SignedDownloadsTest, RangesThroughTheTokenAnswer206WithTheirBytes) {
  std::string token = Token({{"downloadable", true}});
  const std::string& full = PublicBytes("default");
  std::string size = std::to_string(full.size());
  HttpResponse r = Get(SignedUrl(token, "default"), {{"Range", "bytes=100-199"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.Header("content-range"), "bytes 100-199/" + size);
  EXPECT_TRUE(r.body == full.substr(100, 100));
  r = Get(SignedUrl(token, "default"), {{"Range", "bytes=-50"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.Header("content-range"), "bytes " + std::to_string(full.size() - 50) + "-" +
                                           std::to_string(full.size() - 1) + "/" + size);
  EXPECT_TRUE(r.body == full.substr(full.size() - 50));
  r = Get(SignedUrl(token, "default"), {{"Range", "bytes=" + size + "-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("content-range"), "bytes */" + size);

  // A client resuming the M4A piece by piece puts the whole file back together.
  const std::string& audio = PublicBytes("audio");
  const size_t step = 16384;
  std::string joined;
  for (size_t at = 0; at < audio.size(); at += step) {
    std::string last = std::to_string(std::min(at + step, audio.size()) - 1);
    HttpResponse part =
        Get(SignedUrl(token, "audio"), {{"Range", "bytes=" + std::to_string(at) + "-" + last},
                                        {"If-Range", "\"" + Sha256Of("audio") + "\""}});
    ASSERT_EQ(part.status, 206);
    EXPECT_EQ(part.Header("content-range"),
              "bytes " + std::to_string(at) + "-" + last + "/" + std::to_string(audio.size()));
    joined += part.body;
  }
  EXPECT_TRUE(joined == audio);
}

TEST_F(SignedDownloadsTest, FilenameParameterIsHonouredWithTheToken) {
  std::string token = Token({{"downloadable", true}});
  HttpResponse r = Get(SignedUrl(token, "default") + "?filename=holiday_2026");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-disposition"), "attachment; filename=\"holiday_2026.mp4\"");
  EXPECT_TRUE(r.body == PublicBytes("default"));
  r = Get(SignedUrl(token, "audio") + "?filename=talk.m4a", {{"Range", "bytes=0-9"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.Header("content-disposition"), "attachment; filename=\"talk.m4a\"");
  // Without it, the file plays inline under the video's name (meta.name of the upload).
  EXPECT_EQ(Head(SignedUrl(token, "default")).Header("content-disposition"),
            "inline; filename=\"video.mp4\"");
  // A bad name is refused with the token as without it.
  r = Get(SignedUrl(token, "default") + "?filename=..%2Fx");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("filename"), std::string::npos) << r.body;
  EXPECT_EQ(r.Header("content-disposition"), "");
}

TEST_F(SignedDownloadsTest, AnswersAreCachedPrivatelyNoLongerThanTheTokenLives) {
  const int64_t exp = UnixNow() + 120;
  std::string token = Token({{"downloadable", true}, {"exp", exp}});
  std::string url = SignedUrl(token, "default");
  std::string etag = "\"" + Sha256Of("default") + "\"";
  const int64_t before = UnixNow();
  for (const HttpResponse& r : {Get(url), Head(url), Get(url, {{"Range", "bytes=0-99"}}),
                                Get(url, {{"If-None-Match", etag}})}) {
    SCOPED_TRACE(r.status);
    int64_t max_age = PrivateMaxAge(r);
    EXPECT_LE(max_age, exp - before) << r.Header("cache-control");
    EXPECT_GE(max_age, 100) << r.Header("cache-control");
  }
  EXPECT_EQ(Get(url, {{"If-None-Match", etag}}).status, 304);
  // A token that outlives the hour a download may be cached is held to that hour.
  std::string long_lived = Token({{"downloadable", true}, {"exp", UnixNow() + 20 * 3600}});
  EXPECT_EQ(PrivateMaxAge(Head(SignedUrl(long_lived, "audio"))), 3600);
}

TEST_F(SignedDownloadsTest, UidPathIsRefusedWithAJsonCodeOncePrivate) {
  for (const char* type : {"default", "audio"}) {
    SCOPED_TRACE(type);
    std::string url = (*items_)[type].value("url", "");
    for (const HttpResponse& r :
         {Get(url), Get(url, {{"Range", "bytes=0-99"}}), Get(url + "?filename=clip"), Head(url)}) {
      EXPECT_EQ(r.status, 401);
      if (!r.body.empty()) {  // HEAD has none
        EXPECT_EQ(r.Header("content-type"), "application/json");
        EXPECT_EQ(r.Json()["error"]["code"], 10024) << r.body;
      }
      EXPECT_EQ(r.Header("cache-control"), "no-store");
      EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
      // Nothing about the file leaks to a client without a token.
      for (const char* header : {"etag", "repr-digest", "content-range", "content-disposition"}) {
        EXPECT_EQ(r.Header(header), "") << header;
      }
    }
  }
}

TEST_F(SignedDownloadsTest, TokenWithoutDownloadableIsRefusedForDownloadsButPlaysHls) {
  for (const nlohmann::json& body :
       {nlohmann::json::object(), nlohmann::json{{"downloadable", false}}}) {
    SCOPED_TRACE(body.dump());
    std::string token = Token(body);
    ASSERT_FALSE(token.empty());
    for (const char* type : {"default", "audio"}) {
      HttpResponse r = Get(SignedUrl(token, type), {{"Range", "bytes=0-99"}});
      EXPECT_EQ(r.status, 403) << type;
      EXPECT_EQ(r.Json()["error"]["code"], 10411) << r.body;
      EXPECT_EQ(r.Header("etag"), "");
      EXPECT_EQ(r.Header("cache-control"), "no-store");
    }
    // The same token plays the video: the master playlist, a media playlist it names, and
    // that playlist's first segment, each through the token's relative URIs.
    std::string base = server_->url() + "/" + token + "/manifest/";
    HttpResponse master = Get(base + "video.m3u8");
    ASSERT_EQ(master.status, 200) << master.body;
    EXPECT_EQ(master.body.rfind("#EXTM3U", 0), 0u);
    std::vector<std::string> variants = PlaylistUris(master.body);
    ASSERT_FALSE(variants.empty()) << master.body;
    HttpResponse media = Get(base + variants[0]);
    ASSERT_EQ(media.status, 200);
    std::vector<std::string> segments = PlaylistUris(media.body);
    ASSERT_FALSE(segments.empty()) << media.body;
    std::string rendition = variants[0].substr(0, variants[0].find('/') + 1);
    HttpResponse segment = Get(base + rendition + segments[0]);
    EXPECT_EQ(segment.status, 200);
    EXPECT_FALSE(segment.body.empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Cases that change the server's state get a server of their own.

class DownloadLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.log(); }
  std::string SmallVideo(const std::string& name = "v.mp4") {
    return ReadyVideo(server_, dir_.path(), name,
                      "-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 -f lavfi -i "
                      "sine=frequency=440:sample_rate=48000:duration=2 -c:v libx264 -preset "
                      "ultrafast -pix_fmt yuv420p -g 50 -c:a aac -b:a 64k -shortest");
  }
  // A small ready video whose two downloads are ready; "" on failure.
  std::string VideoWithBothDownloads() {
    std::string uid = SmallVideo();
    return !uid.empty() && MakeBothDownloads(server_, uid) ? uid : "";
  }
  std::string FileUrl(const std::string& uid, const std::string& file) {
    return server_.url() + "/" + uid + "/downloads/" + file;
  }
  KinoServer server_;
  TempDir dir_;
};

// Many clients asking at once for the same download (a page with many viewers pressing
// "download") make one file: one job runs, every POST answers 200 with the same state.
TEST_F(DownloadLifecycleTest, ConcurrentPostsMakeOneDownload) {
  std::string uid = SmallVideo();
  ASSERT_FALSE(uid.empty()) << server_.log();
  std::vector<int> statuses(16, 0);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < statuses.size(); ++i) {
    clients.emplace_back([&, i] {
      statuses[i] =
          PostNoBody(server_, "/" + uid + (i % 2 == 0 ? "/downloads" : "/downloads/default"))
              .status;
    });
  }
  for (auto& c : clients) {
    c.join();
  }
  for (int status : statuses) {
    EXPECT_EQ(status, 200);
  }
  ASSERT_EQ(WaitForDownload(server_, uid, "default").value("status", ""), "ready");
  // Idle a moment so that a second job, had one been queued, would have run too.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string metrics = Get(server_.url() + "/metrics").body;
  EXPECT_NE(metrics.find(R"(kino_jobs_total{kind="make_download",outcome="done"} 1)"
                         "\n"),
            std::string::npos)
      << metrics;
  nlohmann::json all = server_.ApiGet("/" + uid + "/downloads").Json()["result"];
  EXPECT_EQ(all.size(), 1u) << all.dump();
}

TEST_F(DownloadLifecycleTest, DeliveryOfADownloadNotCreatedIs404) {
  std::string uid = SmallVideo();
  ASSERT_FALSE(uid.empty()) << server_.log();
  EXPECT_EQ(Get(FileUrl(uid, "default.mp4")).status, 404);
  EXPECT_EQ(Get(FileUrl(uid, "audio.m4a")).status, 404);
  HttpResponse r = Get(FileUrl(uid, "default.mp4"));
  EXPECT_EQ(r.Header("cache-control"), "no-store");
  EXPECT_EQ(server_.ApiGet("/" + uid + "/downloads").Json()["result"], nlohmann::json::object());
}

TEST_F(DownloadLifecycleTest, DeleteWithATypeRemovesThatTypeOnly) {
  std::string uid = VideoWithBothDownloads();
  ASSERT_FALSE(uid.empty()) << server_.log();

  HttpResponse r = server_.ApiDelete("/" + uid + "/downloads/audio");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["result"], "ok");
  nlohmann::json left = server_.ApiGet("/" + uid + "/downloads").Json()["result"];
  EXPECT_FALSE(left.contains("audio"));
  EXPECT_TRUE(left.contains("default"));
  EXPECT_EQ(Get(FileUrl(uid, "audio.m4a")).status, 404);
  EXPECT_EQ(Get(FileUrl(uid, "default.mp4")).status, 200);
  EXPECT_FALSE(std::filesystem::exists(server_.data_dir() + "/data/blobs/videos/" + uid +
                                       "/downloads/audio.m4a"));
  r = server_.ApiDelete("/" + uid + "/downloads/audio");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), 10007);
}

TEST_F(DownloadLifecycleTest, DeleteWithoutTypeRemovesEveryType) {
  std::string uid = VideoWithBothDownloads();
  ASSERT_FALSE(uid.empty()) << server_.log();

  HttpResponse r = server_.ApiDelete("/" + uid + "/downloads");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["result"], "ok");
  EXPECT_EQ(server_.ApiGet("/" + uid + "/downloads").Json()["result"], nlohmann::json::object());
  EXPECT_EQ(Get(FileUrl(uid, "default.mp4")).status, 404);
  EXPECT_EQ(Get(FileUrl(uid, "audio.m4a")).status, 404);
  std::string files = server_.data_dir() + "/data/blobs/videos/" + uid + "/downloads/";
  EXPECT_FALSE(std::filesystem::exists(files + "default.mp4"));
  EXPECT_FALSE(std::filesystem::exists(files + "audio.m4a"));
  r = server_.ApiDelete("/" + uid + "/downloads");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), 10007);
  // Made again after a delete: a fresh file with the same bytes.
  PostNoBody(server_, "/" + uid + "/downloads");
  EXPECT_EQ(WaitForDownload(server_, uid, "default").value("status", ""), "ready");
  EXPECT_EQ(Get(FileUrl(uid, "default.mp4")).status, 200);
}

TEST_F(DownloadLifecycleTest, DeletingTheVideoRemovesItsDownloads) {
  std::string uid = SmallVideo();
  ASSERT_FALSE(uid.empty()) << server_.log();
  PostNoBody(server_, "/" + uid + "/downloads");
  ASSERT_EQ(WaitForDownload(server_, uid, "default").value("status", ""), "ready");
  std::string file = server_.data_dir() + "/data/blobs/videos/" + uid + "/downloads/default.mp4";
  ASSERT_TRUE(std::filesystem::exists(file));

  EXPECT_EQ(server_.ApiDelete("/" + uid).status, 200);
  EXPECT_EQ(Get(FileUrl(uid, "default.mp4")).status, 404);
  HttpResponse r = server_.ApiGet("/" + uid + "/downloads");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), 10003);
  EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists(file); }, std::chrono::seconds(30)));
}

// A ready video whose renditions are gone (a damaged store) gives an error after the job's
// retries, never a download that stays inprogress forever.
// Renditions gone from disk fail every attempt of the download's job: it is tried again after
// each backoff (--job-retry-base-ms, shortened here from a second), up to its five attempts,
// and then the download ends in error rather than staying inprogress for good.
TEST(DownloadRetryTest, MissingRenditionsAreTriedAgainThenEndInError) {
  KinoServer server(KinoServer::Options{{{"KINO_JOB_RETRY_BASE_MS", "10"}}, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  TempDir dir;
  std::string uid = ReadyVideo(server, dir.path(), "v.mp4", kTinyVideoArgs);
  ASSERT_FALSE(uid.empty()) << server.log();
  std::filesystem::remove_all(server.data_dir() + "/data/blobs/videos/" + uid + "/package");
  PostNoBody(server, "/" + uid + "/downloads");
  nlohmann::json item = WaitForDownload(server, uid, "default", std::chrono::seconds(60));
  EXPECT_EQ(item.value("status", ""), "error") << server.log();
  EXPECT_FALSE(item.value("error", "").empty());
  EXPECT_EQ(Get(server.url() + "/" + uid + "/downloads/default.mp4").status, 404);
  std::string jobs = CaptureCommand("sqlite3 -separator ' ' '" + server.data_dir() +
                                    "/data/kino.db' \"SELECT state, attempts FROM jobs WHERE "
                                    "video_uid = '" +
                                    uid + "' AND kind = 'make_download'\"");
  EXPECT_EQ(jobs, "failed 5\n") << server.log();
}

// Inputs the pipeline takes by different paths: stream copy (H.264/AAC MP4), a full encode
// (MPEG-4 Part 2 and MP3 in Matroska), and a video with no sound.
TEST_F(DownloadLifecycleTest, FilesAreRightForEachKindOfInput) {
  struct Input {
    std::string name;
    std::string args;
    bool audio;
  };
  const std::vector<Input> inputs = {
      {"copy.mp4",
       "-f lavfi -i testsrc2=size=160x120:rate=30000/1001:duration=2.5 -f lavfi -i "
       "sine=sample_rate=44100:duration=2.5 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "
       "-c:a aac -shortest",
       true},
      {"encode.mkv",
       "-f lavfi -i testsrc2=size=160x120:rate=24:duration=2 -f lavfi -i "
       "sine=sample_rate=32000:duration=2 -c:v mpeg4 -c:a libmp3lame -shortest",
       true},
      {"silent.mp4",
       "-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 -c:v libx264 -preset ultrafast "
       "-pix_fmt yuv420p",
       false},
  };
  for (const Input& in : inputs) {
    SCOPED_TRACE(in.name);
    std::string uid = ReadyVideo(server_, dir_.path(), in.name, in.args);
    ASSERT_FALSE(uid.empty()) << server_.log();
    double duration = server_.ApiGet("/" + uid).Json()["result"]["duration"].get<double>();
    PostNoBody(server_, "/" + uid + "/downloads");
    PostNoBody(server_, "/" + uid + "/downloads/audio");
    ASSERT_EQ(WaitForDownload(server_, uid, "default").value("status", ""), "ready");

    std::string mp4 = dir_.Join(uid + ".mp4");
    WriteFile(mp4, Get(FileUrl(uid, "default.mp4")).body);
    std::vector<std::string> boxes = TopLevelBoxes(mp4);
    EXPECT_LT(IndexOf(boxes, "moov"), IndexOf(boxes, "mdat"));
    nlohmann::json probe = Probe(mp4);
    EXPECT_EQ(Codecs(probe, "video"), std::vector<std::string>{"h264"});
    EXPECT_NEAR(StreamDuration(probe, "video"), duration, 0.1);
    nlohmann::json audio = WaitForDownload(server_, uid, "audio");
    if (!in.audio) {
      EXPECT_TRUE(Codecs(probe, "audio").empty());
      EXPECT_EQ(audio.value("status", ""), "error");
      EXPECT_FALSE(audio.value("error", "").empty());
      EXPECT_EQ(Get(FileUrl(uid, "audio.m4a")).status, 404);
      continue;
    }
    EXPECT_EQ(Codecs(probe, "audio"), std::vector<std::string>{"aac"});
    EXPECT_NEAR(StreamDuration(probe, "audio"), duration, 0.1);
    ASSERT_EQ(audio.value("status", ""), "ready");
    std::string m4a = dir_.Join(uid + ".m4a");
    WriteFile(m4a, Get(FileUrl(uid, "audio.m4a")).body);
    nlohmann::json aprobe = Probe(m4a);
    EXPECT_TRUE(Codecs(aprobe, "video").empty());
    EXPECT_EQ(Codecs(aprobe, "audio"), std::vector<std::string>{"aac"});
    EXPECT_NEAR(StreamDuration(aprobe, "audio"), duration, 0.1);
  }
}

// Download webhook events, opted into on the subscription: written to the outbox in the same
// transaction as the state change (read here straight from the database; delivery has its own
// tests).
class DownloadWebhookTest : public DownloadLifecycleTest {
 protected:
  // The outbox rows of a video: kind and parsed body, in sequence order.
  std::vector<std::pair<std::string, nlohmann::json>> Events(const std::string& uid) {
    std::string out = CaptureCommand("sqlite3 -readonly -json '" + server_.data_dir() +
                                     "/data/kino.db' \"SELECT kind, body FROM webhook_events WHERE "
                                     "video_uid = '" +
                                     uid + "' ORDER BY seq\"");
    std::vector<std::pair<std::string, nlohmann::json>> events;
    nlohmann::json rows = nlohmann::json::parse(out.empty() ? "[]" : out, nullptr, false);
    for (const auto& row : rows) {
      events.emplace_back(row.value("kind", ""),
                          nlohmann::json::parse(row.value("body", ""), nullptr, false));
    }
    return events;
  }
  HttpResponse PutWebhook(const std::string& json) {
    HeaderList headers = server_.Auth();
    headers.emplace_back("Content-Type", "application/json");
    return Put(server_.api() + "/webhook", json, headers);
  }
};

TEST_F(DownloadWebhookTest, OptedInSubscriptionGetsReadyAndErrorEvents) {
  HttpResponse put = PutWebhook(R"({"notificationUrl":"https://hooks.example/kino",)"
                                R"("downloadEvents":true})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Json()["result"]["downloadEvents"], true);
  // A later PUT without the field keeps it.
  PutWebhook(R"({"notificationUrl":"https://hooks.example/other"})");
  EXPECT_EQ(server_.ApiGet("/webhook").Json()["result"]["downloadEvents"], true);

  std::string uid = ReadyVideo(server_, dir_.path(), "silent.mp4",
                               "-f lavfi -i testsrc2=size=160x120:rate=25:duration=2 -c:v "
                               "libx264 -preset ultrafast -pix_fmt yuv420p");
  ASSERT_FALSE(uid.empty()) << server_.log();
  PostNoBody(server_, "/" + uid + "/downloads");
  PostNoBody(server_, "/" + uid + "/downloads/audio");
  nlohmann::json ready = WaitForDownload(server_, uid, "default");
  ASSERT_EQ(ready.value("status", ""), "ready");
  ASSERT_EQ(WaitForDownload(server_, uid, "audio").value("status", ""), "error");

  std::map<std::string, nlohmann::json> by_kind;
  for (const auto& [kind, body] : Events(uid)) {
    by_kind[kind] = body;
  }
  ASSERT_EQ(by_kind.size(), 3u) << server_.log();
  EXPECT_TRUE(by_kind.count("video.ready"));
  const nlohmann::json& made = by_kind["download.ready"];
  EXPECT_EQ(made["type"], "download.ready");
  EXPECT_EQ(made["uid"], uid);
  EXPECT_EQ(made["download"]["type"], "default");
  EXPECT_EQ(made["download"]["status"], "ready");
  EXPECT_EQ(made["download"]["sha256"], ready["sha256"]);
  EXPECT_EQ(made["download"]["size"], ready["size"]);
  EXPECT_EQ(made["download"]["url"], ready["url"]);
  EXPECT_EQ(made["video"]["uid"], uid);
  EXPECT_EQ(made["video"]["readyToStream"], true);
  const nlohmann::json& failed = by_kind["download.error"];
  EXPECT_EQ(failed["download"]["type"], "audio");
  EXPECT_EQ(failed["download"]["status"], "error");
  EXPECT_FALSE(failed["download"].value("error", "").empty());
}

TEST_F(DownloadWebhookTest, SubscriptionWithoutOptInGetsOnlyTheVideoObject) {
  ASSERT_EQ(PutWebhook(R"({"notificationUrl":"https://hooks.example/kino"})").status, 200);
  EXPECT_FALSE(server_.ApiGet("/webhook").Json()["result"].contains("downloadEvents"));
  HttpResponse bad = PutWebhook(R"({"notificationUrl":"https://hooks.example/kino",)"
                                R"("downloadEvents":"yes"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorCode(bad), 10002);

  std::string uid = VideoWithBothDownloads();
  ASSERT_FALSE(uid.empty()) << server_.log();
  auto events = Events(uid);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "video.ready");
  // Stream's body: the bare video object.
  EXPECT_EQ(events[0].second["uid"], uid);
  EXPECT_FALSE(events[0].second.contains("type"));
}

// ---------------------------------------------------------------------------------------------
// A download that cannot be made: after the video became ready, the segment of its top rendition
// is cut short on disk (a failing disk, an interrupted copy). Corrupt stored data does not heal
// by retrying, so the job gives up at its first attempt: the download ends in error, its file
// answers 404, and an opted-in webhook receiver is told, signed, over real HTTP.

using Delivery = WebhookReceiver::Delivery;

class DownloadErrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(plain_.Start());
    ASSERT_TRUE(opted_in_.Start());
    ASSERT_TRUE(server_.Start()) << server_.log();
  }

  // Cuts to half its size the first segment of the video's first rendition of `kind` ("video":
  // the top one, which default.mp4 is made from; "audio"). False when it could not.
  bool CutFirstSegment(const std::string& uid, const std::string& kind) {
    std::string package = server_.data_dir() + "/data/blobs/videos/" + uid + "/package/";
    nlohmann::json listing =
        nlohmann::json::parse(ReadFile(package + "renditions.json"), nullptr, false);
    if (!listing.is_object()) {
      return false;
    }
    for (const auto& r : listing["renditions"]) {
      if (r.value("kind", "") != kind) {
        continue;  // renditions are listed highest first
      }
      std::string segment =
          package + r.value("name", "") + "/" + r["segment_files"][0].get<std::string>();
      std::error_code ec;
      uintmax_t size = std::filesystem::file_size(segment, ec);
      if (!ec) {
        std::filesystem::resize_file(segment, size / 2, ec);
      }
      return !ec;
    }
    return false;
  }

  // A ready video whose top video rendition is damaged ("" on failure).
  std::string DamagedVideo() {
    std::string uid = ReadyVideo(server_, dir_.path(), "damaged.mp4", kTinyVideoArgs);
    return !uid.empty() && CutFirstSegment(uid, "video") ? uid : "";
  }

  // Subscribes `receiver` to the account's events and gives it the secret.
  void Subscribe(WebhookReceiver& receiver, bool download_events) {
    nlohmann::json body = {{"notificationUrl", receiver.url()},
                           {"downloadEvents", download_events}};
    HeaderList headers = server_.Auth();
    headers.emplace_back("Content-Type", "application/json");
    HttpResponse r = Put(server_.api() + "/webhook", body.dump(), headers);
    ASSERT_EQ(r.status, 200) << r.body;
    receiver.set_secret(r.Json()["result"].value("secret", ""));
  }

  // The POSTs a receiver got whose Webhook-Event starts with `prefix`.
  static std::vector<Delivery> Events(const WebhookReceiver& receiver, const std::string& prefix) {
    std::vector<Delivery> out;
    for (const Delivery& d : receiver.deliveries()) {
      auto kind = d.headers.find("webhook-event");
      if (d.method == "POST" && kind != d.headers.end() && kind->second.rfind(prefix, 0) == 0) {
        out.push_back(d);
      }
    }
    return out;
  }

  // POSTs the download `type` and waits (20 s at most: no retries are expected) for its end.
  nlohmann::json MakeDownload(const std::string& uid, const std::string& type = "default") {
    PostNoBody(server_, "/" + uid + "/downloads/" + type);
    return WaitForDownload(server_, uid, type, std::chrono::seconds(20));
  }

  KinoServer server_{KinoServer::Options{{{"KINO_ALLOW_PRIVATE_URLS", "1"},
                                          {"KINO_WEBHOOK_RETRY_BASE_MS", "50"},
                                          {"KINO_WEBHOOK_MAX_BACKOFF_SECONDS", "1"}},
                                         {}}};
  WebhookReceiver plain_;     // subscribed without downloadEvents
  WebhookReceiver opted_in_;  // subscribed with downloadEvents
  TempDir dir_;
};

TEST_F(DownloadErrorTest, DamagedRenditionEndsInErrorAndItsFileIs404) {
  std::string uid = DamagedVideo();
  ASSERT_FALSE(uid.empty()) << server_.log();
  nlohmann::json item = MakeDownload(uid);
  ASSERT_EQ(item.value("status", ""), "error") << server_.log();
  EXPECT_EQ(item.value("error", ""),
            "making the download failed: the video's stored renditions are damaged");
  EXPECT_FALSE(item.contains("size"));
  EXPECT_FALSE(item.contains("sha256"));
  ASSERT_TRUE(item["percentComplete"].is_number());
  EXPECT_LT(item["percentComplete"].get<double>(), 100.0);
  // The operator's log has the details the account is not shown.
  EXPECT_NE(server_.log().find("\"event\":\"job_failed\""), std::string::npos);
  EXPECT_EQ(server_.log().find("\"event\":\"job_retry\""), std::string::npos);

  // Delivery: a plain 404 that no cache keeps, however the file is asked for.
  std::string url = item.value("url", "");
  for (const HttpResponse& r :
       {Get(url), Head(url), Get(url, {{"Range", "bytes=0-99"}}), Get(url + "?filename=clip")}) {
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.Header("cache-control"), "no-store");
    EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
    EXPECT_EQ(r.Header("etag"), "");
    EXPECT_EQ(r.Header("content-type").rfind("text/plain", 0), 0u);
  }
  EXPECT_NE(Get(url).body.find("failed"), std::string::npos);

  // Asking again keeps the error; the audio download, made from intact segments, is made.
  HttpResponse again = PostNoBody(server_, "/" + uid + "/downloads");
  EXPECT_EQ(again.Json()["result"]["default"], item);
  PostNoBody(server_, "/" + uid + "/downloads/audio");
  EXPECT_EQ(WaitForDownload(server_, uid, "audio").value("status", ""), "ready");
  EXPECT_EQ(server_.ApiGet("/" + uid).Json()["result"]["status"]["state"], "ready");

  // Trying again (DELETE, then POST) makes a new attempt, which fails the same way.
  ASSERT_EQ(server_.ApiDelete("/" + uid + "/downloads/default").status, 200);
  EXPECT_EQ(MakeDownload(uid), item);
  EXPECT_EQ(Get(url).status, 404);
}

// The video's events go out one after another in the order they were recorded. The audio
// download fails while the subscription has no downloadEvents, the MP4 once it has: had the
// first failure recorded an event, it would arrive before the second one's.
TEST_F(DownloadErrorTest, SignedErrorEventReachesOnlyAnOptedInSubscription) {
  Subscribe(plain_, false);
  std::string uid = DamagedVideo();
  ASSERT_FALSE(uid.empty()) << server_.log();
  ASSERT_TRUE(CutFirstSegment(uid, "audio"));
  ASSERT_TRUE(WaitFor([&] { return !Events(plain_, "video.").empty(); }, std::chrono::seconds(30)));
  ASSERT_EQ(MakeDownload(uid, "audio").value("status", ""), "error") << server_.log();

  Subscribe(opted_in_, true);
  nlohmann::json item = MakeDownload(uid, "default");
  ASSERT_EQ(item.value("status", ""), "error") << server_.log();
  auto default_event_arrived = [&] {
    for (const Delivery& d : Events(opted_in_, "download.")) {
      nlohmann::json j = nlohmann::json::parse(d.body, nullptr, false);
      if (j.is_object() && j["download"].value("type", "") == "default") {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(WaitFor(default_event_arrived, std::chrono::seconds(30))) << server_.log();

  std::vector<Delivery> events = Events(opted_in_, "download.");
  ASSERT_EQ(events.size(), 1u);
  const Delivery& d = events[0];
  EXPECT_TRUE(d.signature_ok) << d.headers.at("webhook-signature");
  int64_t now = UnixNow();
  EXPECT_LE(std::abs(now - d.signed_time), 60);
  EXPECT_EQ(d.headers.at("webhook-event"), "download.error");
  EXPECT_EQ(d.headers.at("content-type"), "application/json");
  EXPECT_EQ(d.headers.at("user-agent"), "Kino-Webhook/1");
  EXPECT_TRUE(std::regex_match(d.event_id, std::regex("[0-9a-f]{32}"))) << d.event_id;
  nlohmann::json body = nlohmann::json::parse(d.body, nullptr, false);
  EXPECT_EQ(body["type"], "download.error");
  EXPECT_EQ(body["uid"], uid);
  // The item GET .../downloads shows, plus its type.
  nlohmann::json want = item;
  want["type"] = "default";
  EXPECT_EQ(body["download"], want);
  EXPECT_EQ(body["video"]["uid"], uid);
  EXPECT_EQ(body["video"]["readyToStream"], true);
  EXPECT_EQ(body["video"]["status"]["state"], "ready");
  EXPECT_EQ(Get(body["download"].value("url", "")).status, 404);

  // The subscription without downloadEvents got the video's ready event and nothing else.
  std::vector<Delivery> plain = plain_.deliveries();
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].headers["webhook-event"], "video.ready");
  EXPECT_TRUE(plain[0].signature_ok);
  EXPECT_TRUE(Events(opted_in_, "video.").empty());
}

// With a stream-copied top rung, the video is readyToStream while its lower rungs are still
// being encoded. A download asked for then is made from the final top rung right away, and is
// not made a second time when the video turns ready.
TEST(DownloadEarlyTest, DownloadDuringProcessingIsMadeOnce) {
  KinoServer server(KinoServer::Options{{{"KINO_LADDER", "480,240"}}, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  TempDir dir;
  std::string path = dir.Join("early.mp4");
  ASSERT_TRUE(RunFfmpeg(
      "-f lavfi -i testsrc2=size=640x480:rate=25:duration=30 -f lavfi -i "
      "sine=sample_rate=48000:duration=30 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 "
      "-c:a aac -shortest " +
      path));
  std::string uid = UploadFile(server, path);
  ASSERT_FALSE(uid.empty());
  nlohmann::json video;
  ASSERT_TRUE(WaitFor([&] {
    video = server.ApiGet("/" + uid).Json()["result"];
    return video.value("readyToStream", false) || video["status"].value("state", "") == "error";
  }));
  HttpResponse created = PostNoBody(server, "/" + uid + "/downloads");
  ASSERT_EQ(created.status, 200) << created.body;
  std::string state_after = server.ApiGet("/" + uid).Json()["result"]["status"].value("state", "");
  ASSERT_EQ(state_after, "inprogress") << "processing ended before the download was asked for";

  nlohmann::json item = WaitForDownload(server, uid, "default");
  ASSERT_EQ(item.value("status", ""), "ready") << server.log();
  std::string url = server.url() + "/" + uid + "/downloads/default.mp4";
  std::string modified = Head(url).Header("last-modified");
  ASSERT_EQ(WaitForState(server, uid, "ready")["status"].value("state", ""), "ready");
  nlohmann::json after = server.ApiGet("/" + uid + "/downloads").Json()["result"]["default"];
  EXPECT_EQ(after.value("status", ""), "ready");
  EXPECT_EQ(after.value("sha256", ""), item.value("sha256", ""));
  EXPECT_EQ(Head(url).Header("last-modified"), modified);
  std::string file = dir.Join("early-download.mp4");
  WriteFile(file, Get(url).body);
  nlohmann::json probe = Probe(file);
  EXPECT_EQ(Codecs(probe, "video"), std::vector<std::string>{"h264"});
  EXPECT_NEAR(StreamDuration(probe, "video"), 30.0, 0.1);
  EXPECT_EQ(server.log().find("\"event\":\"download_ready\""),
            server.log().rfind("\"event\":\"download_ready\""));
}

// kill -9 while the file is being made; the restarted server takes the job back and finishes.
// The input (a stream-copied, nearly lossless 720p rung) is large enough for the remux to be
// caught with percentComplete above 0.
TEST(DownloadCrashTest, KillDuringGenerationThenRestartBecomesReady) {
  KinoServer server(KinoServer::Options{{{"KINO_LADDER", "720"}}, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  TempDir dir;
  std::string uid = ReadyVideo(server, dir.path(), "big.mp4",
                               "-f lavfi -i testsrc2=size=1280x720:rate=25:duration=20 -f lavfi "
                               "-i sine=sample_rate=48000:duration=20 -c:v libx264 -preset "
                               "ultrafast -qp 4 -pix_fmt yuv420p -g 50 -c:a aac -shortest");
  ASSERT_FALSE(uid.empty()) << server.log();

  // Polled every 2 ms: the remux of this 35 MB input lasts some tens of milliseconds.
  PostNoBody(server, "/" + uid + "/downloads");
  bool mid = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!mid && std::chrono::steady_clock::now() < deadline) {
    nlohmann::json d = server.ApiGet("/" + uid + "/downloads").Json()["result"]["default"];
    if (d.value("status", "") != "inprogress") {
      break;
    }
    mid = d.value("percentComplete", 0.0) > 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  server.Kill9();
  ASSERT_TRUE(mid) << "the download finished before it could be caught in progress";
  // Killed before the file was stored: the first process never logged it ready.
  ASSERT_EQ(server.log().find("\"event\":\"download_ready\""), std::string::npos);

  ASSERT_TRUE(server.Restart()) << server.log();
  nlohmann::json item = WaitForDownload(server, uid, "default");
  ASSERT_EQ(item.value("status", ""), "ready") << server.log();
  std::string path = dir.Join("after.mp4");
  WriteFile(path, Get(server.url() + "/" + uid + "/downloads/default.mp4").body);
  EXPECT_EQ(item.value("sha256", ""), Sha256Hex(path));
  nlohmann::json probe = Probe(path);
  EXPECT_EQ(Codecs(probe, "video"), std::vector<std::string>{"h264"});
  EXPECT_NEAR(StreamDuration(probe, "video"), 20.0, 0.1);
  // Nothing of the killed run is left in the work directory.
  EXPECT_TRUE(CaptureCommand("ls " + server.data_dir() + "/data/tmp 2>/dev/null").empty());
}

}  // namespace
}  // namespace kino::testing

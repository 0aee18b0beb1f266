// Every upload path end to end against the real server (basic multipart, upload by link from
// a local origin, direct creator upload, tus 1.0.0), each kind of bad input, and the video
// list's filters. Most servers here run without encode workers, so a finished upload stays
// in `queued` and the machine's cores are left alone.
#include <cstdio>
#include <filesystem>
#include <string>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/kino_server.h"
#include "tests/support/origin_server.h"

namespace kino::testing {
namespace {

namespace fs = std::filesystem;

// Media made once for the whole binary.
class Media {
 public:
  static Media& Get() {
    static Media media;
    return media;
  }
  const std::string& video() const { return video_; }     // 2 s, 320x240, H.264/AAC
  const std::string& not_video() const { return text_; }  // a text file

 private:
  Media() {
    std::string path = dir_.Join("clip.mp4");
    if (MakeTestVideo(path, 2, "160x120")) {
      video_ = ReadFile(path);
    }
    text_ = std::string(20000, 'x') + "\nthis is not a video\n";
  }
  TempDir dir_;
  std::string video_;
  std::string text_;
};

std::string Base64(const std::string& in) {
  static const char* kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) {
      out += kChars[(n >> s) & 63];
    }
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += std::string{kChars[(n >> 18) & 63], kChars[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += std::string{kChars[(n >> 18) & 63], kChars[(n >> 12) & 63], kChars[(n >> 6) & 63], '='};
  }
  return out;
}

// An RFC 3339 time `seconds` from now.
std::string SecondsFromNow(int seconds) {
  time_t t = time(nullptr) + seconds;
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  return buf;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

KinoServer::Options Quiet(std::map<std::string, std::string> extra = {}) {
  KinoServer::Options o;
  o.env = {{"KINO_WORKERS", "0"}, {"KINO_ALLOW_PRIVATE_URLS", "1"}};
  for (auto& [k, v] : extra) {
    o.env[k] = v;
  }
  return o;
}

class IngestTest : public ::testing::Test {
 protected:
  explicit IngestTest(KinoServer::Options options = Quiet()) : server_(std::move(options)) {}

  void SetUp() override {
    ASSERT_FALSE(Media::Get().video().empty()) << "ffmpeg could not make the test clip";
    ASSERT_TRUE(server_.Start()) << server_.log();
  }

  std::string Data() const { return server_.data_dir() + "/data"; }
  std::string OriginalPath(const std::string& uid) const {
    return Data() + "/blobs/videos/" + uid + "/original";
  }
  std::string PartialPath(const std::string& kind, const std::string& uid) const {
    return Data() + "/partial/" + kind + "-" + uid;
  }
  // Number of videos the account has (any state).
  size_t VideoCount() const { return server_.ApiGet("").Json()["result"].size(); }

  HttpResponse PostFile(const std::string& url, const std::string& field, const std::string& data,
                        HeaderList headers) const {
    std::string type;
    std::string body = MultipartBody(field, "clip.mp4", data, &type);
    headers.emplace_back("Content-Type", type);
    return Post(url, body, headers);
  }
  HttpResponse Basic(const std::string& data, HeaderList extra = {}) const {
    HeaderList h = server_.Auth();
    h.insert(h.end(), extra.begin(), extra.end());
    return PostFile(server_.api(), "file", data, h);
  }
  HttpResponse RawBasic(const std::string& content_type, const std::string& body) const {
    HeaderList h = server_.Auth();
    h.emplace_back("Content-Type", content_type);
    return Post(server_.api(), body, h);
  }

  // tus requests with the token (and Tus-Resumable unless `headers` overrides it).
  HttpResponse Tus(const std::string& method, const std::string& url, HeaderList headers,
                   const std::string& body = "", bool auth = true) const {
    HeaderList h = auth ? server_.Auth() : HeaderList{};
    bool has_version = false;
    for (auto& [k, v] : headers) {
      has_version |= k == "Tus-Resumable";
    }
    if (!has_version) {
      h.emplace_back("Tus-Resumable", "1.0.0");
    }
    h.insert(h.end(), headers.begin(), headers.end());
    return Http({method, url, h, body, "", 60});
  }
  HttpResponse Patch(const std::string& url, uint64_t offset, const std::string& bytes,
                     bool auth = true) const {
    return Tus("PATCH", url,
               {{"Upload-Offset", std::to_string(offset)},
                {"Content-Type", "application/offset+octet-stream"}},
               bytes, auth);
  }
  // Creates a tus upload of `length` bytes; returns its Location ("" on failure).
  std::string CreateTus(size_t length, const std::string& metadata = "",
                        const std::string& query = "") const {
    HeaderList h = {{"Upload-Length", std::to_string(length)}};
    if (!metadata.empty()) {
      h.emplace_back("Upload-Metadata", metadata);
    }
    HttpResponse r = Tus("POST", server_.api() + query, h);
    return r.status == 201 ? r.Header("location") : "";
  }

  nlohmann::json Copy(const nlohmann::json& body, long expect = 200) const {
    HttpResponse r = server_.ApiPost("/copy", body.dump());
    EXPECT_EQ(r.status, expect) << r.body;
    return r.Json();
  }

  KinoServer server_;
};

// A HEAD answer has no body to look into.
void ExpectHeadStatus(const HttpResponse& r, long status) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_TRUE(r.body.empty());
}

void ExpectError(const HttpResponse& r, long status, int code) {
  EXPECT_EQ(r.status, status) << r.body;
  nlohmann::json j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["success"], false);
  ASSERT_TRUE(j["errors"].is_array() && !j["errors"].empty()) << r.body;
  EXPECT_EQ(j["errors"][0]["code"], code) << r.body;
}

std::string State(const nlohmann::json& video) {
  return video["status"].value("state", "");
}
std::string Reason(const nlohmann::json& video) {
  return video["status"].value("errorReasonCode", "");
}

// --- basic upload ------------------------------------------------------------------------------

TEST_F(IngestTest, BasicUploadStoresTheFileAndQueuesIt) {
  HttpResponse r = Basic(Media::Get().video(), {{"Upload-Creator", "alice"}});
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json v = r.Json()["result"];
  EXPECT_EQ(State(v), "queued");
  EXPECT_EQ(v["creator"], "alice");
  EXPECT_EQ(v["meta"]["name"], "clip.mp4");
  EXPECT_EQ(v["size"], Media::Get().video().size());
  EXPECT_NEAR(v["duration"].get<double>(), 2.0, 0.1);
  EXPECT_EQ(v["input"]["width"], 160);
  EXPECT_EQ(v["input"]["height"], 120);
  EXPECT_TRUE(v["status"]["pctComplete"].is_string()) << v;
  EXPECT_EQ(ReadFile(OriginalPath(v["uid"])), Media::Get().video());
  EXPECT_EQ(State(server_.ApiGet("/" + v["uid"].get<std::string>()).Json()["result"]), "queued");
}

TEST_F(IngestTest, BasicUploadAcceptsAChunkedBody) {
  std::string type;
  std::string body = MultipartBody("file", "a.mp4", Media::Get().video(), &type);
  HeaderList h = server_.Auth();
  h.emplace_back("Content-Type", type);
  h.emplace_back("Transfer-Encoding", "chunked");
  HttpResponse r = Post(server_.api(), body, h);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ReadFile(OriginalPath(r.Json()["result"]["uid"])), Media::Get().video());
}

TEST_F(IngestTest, BasicUploadRefusesATruncatedBody) {
  std::string type;
  std::string body = MultipartBody("file", "a.mp4", Media::Get().video(), &type);
  ExpectError(RawBasic(type, body.substr(0, body.size() / 2)), 400, 10017);
  EXPECT_EQ(VideoCount(), 0u);
  EXPECT_FALSE(fs::exists(Data() + "/blobs/videos"));
}

TEST_F(IngestTest, BasicUploadRefusesAWrongFieldName) {
  ExpectError(PostFile(server_.api(), "video", Media::Get().video(), server_.Auth()), 400, 10017);
  EXPECT_EQ(VideoCount(), 0u);
}

TEST_F(IngestTest, BasicUploadRefusesTwoFiles) {
  std::string b = "XyZb";
  std::string part =
      "--" + b + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n" +
      Media::Get().video() + "\r\n";
  ExpectError(RawBasic("multipart/form-data; boundary=" + b, part + part + "--" + b + "--\r\n"),
              400, 10017);
  EXPECT_EQ(VideoCount(), 0u);
}

TEST_F(IngestTest, BasicUploadRefusesAnEmptyFile) {
  ExpectError(Basic(""), 400, 10017);
  EXPECT_EQ(VideoCount(), 0u);
}

TEST_F(IngestTest, BasicUploadRefusesABodyThatIsNotMultipart) {
  ExpectError(RawBasic("application/json", "{}"), 400, 10017);
  ExpectError(RawBasic("multipart/form-data", "no boundary"), 400, 10017);
}

TEST_F(IngestTest, BasicUploadOfANonVideoIs400With10059AndLeavesNothing) {
  ExpectError(Basic(Media::Get().not_video()), 400, 10059);
  EXPECT_EQ(VideoCount(), 0u);
  EXPECT_TRUE(!fs::exists(Data() + "/blobs/videos") || fs::is_empty(Data() + "/blobs/videos"));
}

TEST_F(IngestTest, BasicUploadNeedsTheToken) {
  std::string type;
  std::string body = MultipartBody("file", "a.mp4", Media::Get().video(), &type);
  ExpectError(Post(server_.api(), body, {{"Content-Type", type}}), 401, 10000);
}

class SmallLimitTest : public IngestTest {
 protected:
  SmallLimitTest() : IngestTest(Quiet({{"KINO_MAX_UPLOAD_BYTES", "10000"}})) {}
};

TEST_F(SmallLimitTest, BasicUploadOverTheLimitIs413) {
  ExpectError(Basic(Media::Get().video()), 413, 10011);
  EXPECT_EQ(VideoCount(), 0u);
}

TEST_F(SmallLimitTest, ChunkedBasicUploadOverTheLimitIs413) {
  std::string type;
  std::string body = MultipartBody("file", "a.mp4", Media::Get().video(), &type);
  HeaderList h = server_.Auth();
  h.emplace_back("Content-Type", type);
  h.emplace_back("Transfer-Encoding", "chunked");
  ExpectError(Post(server_.api(), body, h), 413, 10011);
  EXPECT_EQ(VideoCount(), 0u);
}

// --- upload by link ----------------------------------------------------------------------------

class CopyTest : public IngestTest {
 protected:
  CopyTest() : IngestTest(Quiet({{"KINO_FETCH_STALL_SECONDS", "1"}})) {}
  void SetUp() override {
    IngestTest::SetUp();
    origin_.Serve("/clip.mp4", Answer(200, Media::Get().video()));
    origin_.Serve("/redirect", Redirect("/clip.mp4"));
    origin_.Serve("/text", Answer(200, Media::Get().not_video()));
    origin_.Serve("/missing", Answer(404, "gone"));
    OriginResource cut = Answer(200, Media::Get().video());
    cut.cut_after = Media::Get().video().size() / 2;
    origin_.Serve("/cut", cut);
    OriginResource stall = Answer(200, Media::Get().video());
    stall.stall_after = 1000;
    stall.ranges = false;  // every attempt starts over and stalls again
    origin_.Serve("/stall", stall);
    ASSERT_TRUE(origin_.Start());
  }
  // Posts a copy of `path` and waits for it to leave downloading.
  nlohmann::json CopyAndWait(const std::string& path, nlohmann::json body = {}) {
    body["url"] = origin_.Url(path);
    nlohmann::json j = Copy(body);
    std::string uid = j["result"].value("uid", "");
    EXPECT_EQ(State(j["result"]), "downloading");
    return WaitForState(server_, uid, "queued", std::chrono::seconds(60));
  }
  OriginServer origin_;
};

TEST_F(CopyTest, CopyFetchesTheUrlAndQueuesTheVideo) {
  nlohmann::json v = CopyAndWait("/clip.mp4", {{"meta", {{"name", "linked"}}}, {"creator", "bob"}});
  EXPECT_EQ(State(v), "queued") << v;
  EXPECT_EQ(v["meta"]["name"], "linked");
  EXPECT_EQ(v["creator"], "bob");
  EXPECT_NEAR(v["duration"].get<double>(), 2.0, 0.1);
  EXPECT_EQ(ReadFile(OriginalPath(v["uid"])), Media::Get().video());
  EXPECT_FALSE(fs::exists(PartialPath("fetch", v["uid"])));
}

TEST_F(CopyTest, CopyFollowsARedirect) {
  nlohmann::json v = CopyAndWait("/redirect");
  EXPECT_EQ(State(v), "queued") << v;
  EXPECT_EQ(ReadFile(OriginalPath(v["uid"])), Media::Get().video());
}

TEST_F(CopyTest, CopyResumesWithRangeAfterACutConnection) {
  nlohmann::json v = CopyAndWait("/cut");
  EXPECT_EQ(State(v), "queued") << v;
  EXPECT_EQ(ReadFile(OriginalPath(v["uid"])), Media::Get().video());
  auto requests = origin_.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(Media::Get().video().size() / 2) + "-");
}

TEST_F(CopyTest, CopyOfANonVideoEndsInErrNonVideo) {
  nlohmann::json v = CopyAndWait("/text");
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_NON_VIDEO");
}

TEST_F(CopyTest, CopyOfAMissingFileEndsInErrFetchOriginError) {
  nlohmann::json v = CopyAndWait("/missing");
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_FETCH_ORIGIN_ERROR");
  EXPECT_FALSE(fs::exists(PartialPath("fetch", v["uid"])));
  EXPECT_FALSE(fs::exists(OriginalPath(v["uid"])));
}

TEST_F(CopyTest, CopyFromAStallingOriginEndsInErrFetchOriginError) {
  nlohmann::json v = CopyAndWait("/stall");
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_FETCH_ORIGIN_ERROR");
  EXPECT_FALSE(fs::exists(PartialPath("fetch", v["uid"])));
  EXPECT_FALSE(fs::exists(OriginalPath(v["uid"])));
}

TEST_F(CopyTest, CopyEnforcesMaxDurationSeconds) {
  nlohmann::json v = CopyAndWait("/clip.mp4", {{"maxDurationSeconds", 1}});
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_DURATION_EXCEED_CONSTRAINT");
}

TEST_F(CopyTest, DeletingTheVideoStopsTheFetch) {
  nlohmann::json j = Copy({{"url", origin_.Url("/stall")}});
  std::string uid = j["result"]["uid"];
  ASSERT_TRUE(WaitFor([&] { return origin_.open_connections() == 1; }, std::chrono::seconds(10)));
  ASSERT_EQ(server_.ApiDelete("/" + uid).status, 200);
  EXPECT_TRUE(WaitFor([&] { return origin_.open_connections() == 0; }, std::chrono::seconds(10)));
  EXPECT_TRUE(
      WaitFor([&] { return !fs::exists(PartialPath("fetch", uid)); }, std::chrono::seconds(10)));
  EXPECT_FALSE(fs::exists(OriginalPath(uid)));
  ExpectError(server_.ApiGet("/" + uid), 404, 10003);
}

TEST_F(CopyTest, CopyRefusesBadUrls) {
  for (std::string url : {"ftp://127.0.0.1/a.mp4", "file:///etc/passwd", "not a url", "", "http://",
                          "gopher://example.com/"}) {
    ExpectError(server_.ApiPost("/copy", nlohmann::json{{"url", url}}.dump()), 400, 10002);
  }
  ExpectError(server_.ApiPost("/copy", "{}"), 400, 10002);
  ExpectError(server_.ApiPost("/copy", "{\"url\": 5}"), 400, 10002);
  ExpectError(server_.ApiPost("/copy", "not json"), 400, 10001);
  EXPECT_EQ(VideoCount(), 0u);
}

// Stream bounds the videos an account may have downloading, queued or in progress; past the
// bound every kind of new upload answers 429 with code 10016 (the SDK retries 429 by itself),
// and room comes back as videos finish or go.
class QueueLimitTest : public IngestTest {
 protected:
  QueueLimitTest() : IngestTest(Quiet({{"KINO_MAX_QUEUED_VIDEOS", "2"}})) {}
  void SetUp() override {
    IngestTest::SetUp();
    OriginResource stall = Answer(200, Media::Get().video());
    stall.stall_after = 1000;  // the copies stay downloading for the whole test
    stall.ranges = false;
    origin_.Serve("/stall", stall);
    ASSERT_TRUE(origin_.Start());
  }
  OriginServer origin_;
};

TEST_F(QueueLimitTest, NewUploadsAre429WhileTheAccountHasTooManyUnfinishedVideos) {
  nlohmann::json body = {{"url", origin_.Url("/stall")}};
  std::string first = Copy(body)["result"].value("uid", "");
  std::string second = Copy(body)["result"].value("uid", "");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());

  ExpectError(server_.ApiPost("/copy", body.dump()), 429, 10016);
  ExpectError(Basic(Media::Get().video()), 429, 10016);
  ExpectError(server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": 60})"), 429, 10016);
  HttpResponse tus = Tus("POST", server_.api(), {{"Upload-Length", "1000"}});
  EXPECT_EQ(tus.status, 429) << tus.body;
  EXPECT_EQ(VideoCount(), 2u);  // nothing was made by the refused requests

  // Deleting one makes room for one.
  EXPECT_EQ(server_.ApiDelete("/" + first).status, 200);
  std::string third = Copy(body)["result"].value("uid", "");
  EXPECT_FALSE(third.empty());
  ExpectError(server_.ApiPost("/copy", body.dump()), 429, 10016);
}

TEST(CopyCrashTest, AFetchCutByAKill9ResumesWithRangeAfterTheRestart) {
  const std::string& clip = Media::Get().video();
  ASSERT_FALSE(clip.empty());
  OriginServer origin;
  OriginResource once = Answer(200, clip);
  once.stall_after = clip.size() / 2;  // the first answer stops halfway; a Range gets the rest
  origin.Serve("/clip.mp4", once);
  ASSERT_TRUE(origin.Start());
  KinoServer server(Quiet());
  ASSERT_TRUE(server.Start()) << server.log();

  HttpResponse r = server.ApiPost("/copy", nlohmann::json{{"url", origin.Url("/clip.mp4")}}.dump());
  std::string uid = r.Json()["result"].value("uid", "");
  std::string partial = server.data_dir() + "/data/partial/fetch-" + uid;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::error_code ec;
        return fs::file_size(partial, ec) == clip.size() / 2;
      },
      std::chrono::seconds(20)));
  server.Kill9();
  ASSERT_TRUE(server.Restart()) << server.log();

  nlohmann::json v = WaitForState(server, uid, "queued", std::chrono::seconds(60));
  EXPECT_EQ(State(v), "queued") << v;
  EXPECT_EQ(ReadFile(server.data_dir() + "/data/blobs/videos/" + uid + "/original"), clip);
  auto requests = origin.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(clip.size() / 2) + "-");
}

TEST_F(CopyTest, AResumedFetchStartsOverWhenTheOriginFileChanged) {
  // The first answer (version 1) is cut halfway; by the retry the file is another one.
  OriginResource v1 = Answer(200, Media::Get().not_video());
  v1.etag = "\"v1\"";
  v1.cut_after = v1.body.size() / 2;
  origin_.Serve("/changing", v1);
  nlohmann::json j = Copy({{"url", origin_.Url("/changing")}});
  std::string uid = j["result"]["uid"];
  ASSERT_TRUE(WaitFor([&] { return !origin_.requests().empty(); }, std::chrono::seconds(10)));
  OriginResource v2 = Answer(200, Media::Get().video());
  v2.etag = "\"v2\"";
  origin_.Serve("/changing", v2);

  nlohmann::json v = WaitForState(server_, uid, "queued", std::chrono::seconds(60));
  EXPECT_EQ(State(v), "queued") << v;
  EXPECT_EQ(ReadFile(OriginalPath(uid)), Media::Get().video());
  auto requests = origin_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(v1.body.size() / 2) + "-");
  EXPECT_EQ(requests[1].if_range, "\"v1\"");
  EXPECT_FALSE(fs::exists(Data() + "/partial/fetch-validator-" + uid));
}

class GuardedCopyTest : public IngestTest {
 protected:
  GuardedCopyTest() : IngestTest(KinoServer::Options{{{"KINO_WORKERS", "0"}}, {}}) {}
};

// True when every address `host` resolves to is an IPv4 loopback address.
bool ResolvesToLoopbackOnly(const char* host) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  if (getaddrinfo(host, nullptr, &hints, &found) != 0 || found == nullptr) {
    return false;
  }
  bool loopback = true;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    auto* in = reinterpret_cast<sockaddr_in*>(a->ai_addr);
    loopback = loopback && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  freeaddrinfo(found);
  return loopback;
}

TEST_F(GuardedCopyTest, CopyRefusesPrivateAddresses) {
  OriginServer origin;
  origin.Serve("/clip.mp4", Answer(200, Media::Get().video()));
  ASSERT_TRUE(origin.Start());
  for (std::string url : {origin.Url("/clip.mp4"), std::string("http://localhost/a.mp4"),
                          std::string("http://10.1.2.3/a.mp4"),
                          std::string("http://169.254.169.254/latest/meta-data"),
                          std::string("http://[::1]/a.mp4")}) {
    ExpectError(server_.ApiPost("/copy", nlohmann::json{{"url", url}}.dump()), 400, 10002);
  }
  // A name passes the early check; the guard refuses the address it resolves to at connect
  // time. The machine's own name resolves to one of its (private or loopback) addresses.
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  if (!ResolvesToLoopbackOnly(host)) {
    // Never aim a test at an address outside this machine.
    GTEST_SKIP() << "the host name " << host << " does not resolve to loopback only";
  }
  std::string url = origin.Url("/clip.mp4");
  url.replace(url.find("127.0.0.1"), 9, host);
  nlohmann::json j = Copy({{"url", url}});
  std::string uid = j["result"].value("uid", "");
  nlohmann::json v = WaitForState(server_, uid, "queued", std::chrono::seconds(60));
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_FETCH_ORIGIN_ERROR");
  EXPECT_NE(v["status"].value("errorReasonText", "").find("not allowed"), std::string::npos) << v;
  EXPECT_TRUE(origin.requests().empty());
}

// --- direct creator upload ---------------------------------------------------------------------

TEST_F(IngestTest, DirectUploadTakesOnePostAndRefusesTheSecond) {
  HttpResponse created = server_.ApiPost(
      "/direct_upload", R"({"maxDurationSeconds": 60, "meta": {"name": "direct"}})");
  ASSERT_EQ(created.status, 200) << created.body;
  nlohmann::json res = created.Json()["result"];
  std::string uid = res["uid"];
  std::string url = res["uploadURL"];
  EXPECT_EQ(url, server_.url() + "/upload/" + uid);
  EXPECT_EQ(State(server_.ApiGet("/" + uid).Json()["result"]), "pendingupload");

  HttpResponse up = PostFile(url, "file", Media::Get().video(), {});
  ASSERT_EQ(up.status, 200) << up.body;
  EXPECT_EQ(up.Header("access-control-allow-origin"), "*");
  nlohmann::json v = server_.ApiGet("/" + uid).Json()["result"];
  EXPECT_EQ(State(v), "queued");
  EXPECT_EQ(v["meta"]["name"], "direct");
  EXPECT_EQ(v["maxDurationSeconds"], 60);
  EXPECT_EQ(ReadFile(OriginalPath(uid)), Media::Get().video());

  ExpectError(PostFile(url, "file", Media::Get().video(), {}), 410, 10012);
}

TEST_F(IngestTest, DirectUploadKeepsAnEditMadeWhileTheBytesArrive) {
  nlohmann::json res =
      server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": 60})").Json()["result"];
  std::string uid = res["uid"];
  std::string type;
  std::string body = MultipartBody("file", "clip.mp4", Media::Get().video(), &type);
  int fd = ConnectRaw(server_.url());
  ASSERT_GE(fd, 0);
  std::string head = "POST /upload/" + uid + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
                     "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  size_t half = body.size() / 2;
  ASSERT_TRUE(SendAll(fd, head + body.substr(0, half)));
  ASSERT_TRUE(
      WaitFor([&] { return State(server_.ApiGet("/" + uid).Json()["result"]) == "downloading"; }));

  ASSERT_EQ(server_.ApiPost("/" + uid, R"({"meta": {"name": "edited"}, "creator": "erin"})").status,
            200);
  ASSERT_TRUE(SendAll(fd, body.substr(half)));
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).substr(0, 12), "HTTP/1.1 200");

  nlohmann::json v = server_.ApiGet("/" + uid).Json()["result"];
  EXPECT_EQ(State(v), "queued");
  EXPECT_EQ(v["meta"]["name"], "edited");
  EXPECT_EQ(v["creator"], "erin");
}

TEST_F(IngestTest, DirectUploadAfterTheExpiryIsRefused) {
  time_t t = time(nullptr) + 2;
  HttpResponse created = server_.ApiPost(
      "/direct_upload",
      nlohmann::json{{"maxDurationSeconds", 60}, {"expiry", SecondsFromNow(2)}}.dump());
  ASSERT_EQ(created.status, 200) << created.body;
  std::string url = created.Json()["result"]["uploadURL"];
  ASSERT_TRUE(WaitFor([&] { return time(nullptr) > t + 1; }, std::chrono::seconds(5)));
  ExpectError(PostFile(url, "file", Media::Get().video(), {}), 410, 10012);
}

TEST_F(IngestTest, DirectUploadNeedsMaxDurationSeconds) {
  ExpectError(server_.ApiPost("/direct_upload", "{}"), 400, 10002);
  ExpectError(server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": -1})"), 400, 10002);
  ExpectError(server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": "x"})"), 400, 10002);
  EXPECT_EQ(VideoCount(), 0u);
}

TEST_F(IngestTest, DirectUploadOfANonVideoEndsInErrNonVideo) {
  nlohmann::json res =
      server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": 60})").Json()["result"];
  ExpectError(PostFile(res["uploadURL"], "file", Media::Get().not_video(), {}), 400, 10059);
  nlohmann::json v = server_.ApiGet("/" + res["uid"].get<std::string>()).Json()["result"];
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_NON_VIDEO");
}

TEST_F(IngestTest, DirectUploadEnforcesMaxDurationSeconds) {
  nlohmann::json res =
      server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": 1})").Json()["result"];
  HttpResponse up = PostFile(res["uploadURL"], "file", Media::Get().video(), {});
  EXPECT_EQ(up.status, 400) << up.body;
  nlohmann::json v = server_.ApiGet("/" + res["uid"].get<std::string>()).Json()["result"];
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_DURATION_EXCEED_CONSTRAINT");
}

TEST_F(IngestTest, DirectUploadWithABadBodyCanBeRetried) {
  nlohmann::json res =
      server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": 60})").Json()["result"];
  std::string url = res["uploadURL"];
  ExpectError(PostFile(url, "wrong", Media::Get().video(), {}), 400, 10017);
  EXPECT_EQ(State(server_.ApiGet("/" + res["uid"].get<std::string>()).Json()["result"]),
            "pendingupload");
  EXPECT_EQ(PostFile(url, "file", Media::Get().video(), {}).status, 200);
}

TEST_F(IngestTest, UploadUrlsOfUnknownOrOddPathsAre404) {
  std::string fake = "00000000000000000000000000000000";
  ExpectError(PostFile(server_.url() + "/upload/" + fake, "file", "x", {}), 404, 10018);
  // Encoded ".." segments never reach a handler as a path (curl itself resolves literal ones).
  EXPECT_EQ(PostFile(server_.url() + "/upload/..%2F..%2Fetc", "file", "x", {}).status, 400);
  EXPECT_EQ(PostFile(server_.url() + "/upload/%2e%2e", "file", "x", {}).status, 404);
  ExpectHeadStatus(Tus("HEAD", server_.url() + "/tus/..%2Fx", {}), 400);
  ExpectError(Get(server_.api() + "/..%2F..%2Fsystem", server_.Auth()), 400, 10002);
  ExpectError(Get(server_.api() + "/%2e%2e/%2e%2e/system", server_.Auth()), 404, 7003);
  ExpectError(Tus("PATCH", server_.api() + "/tus/%2e%2e", {{"Upload-Offset", "0"}}), 404, 10018);
}

// --- tus ---------------------------------------------------------------------------------------

TEST_F(IngestTest, TusOptionsAnnouncesTheProtocol) {
  HttpResponse r = Http({"OPTIONS", server_.api(), {}, "", "", 60});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("tus-version"), "1.0.0");
  std::string ext = r.Header("tus-extension");
  for (const char* e : {"creation", "creation-with-upload", "termination", "expiration"}) {
    EXPECT_NE(ext.find(e), std::string::npos) << ext;
  }
  EXPECT_FALSE(r.Header("tus-max-size").empty());
  EXPECT_EQ(r.Header("access-control-allow-origin"), "*");
}

TEST_F(IngestTest, TusUploadInTwoPatchesBecomesTheOriginal) {
  const std::string& data = Media::Get().video();
  std::string meta = "Name " + Base64("tus clip") + ",RequireSignedURLs,MaxDurationSeconds " +
                     Base64("60") + ",filetype " + Base64("video/mp4");
  HttpResponse created = Tus("POST", server_.api(),
                             {{"Upload-Length", std::to_string(data.size())},
                              {"Upload-Metadata", meta},
                              {"Upload-Creator", "carol"}});
  ASSERT_EQ(created.status, 201) << created.body;
  std::string url = created.Header("location");
  std::string uid = created.Header("stream-media-id");
  EXPECT_EQ(url, server_.api() + "/tus/" + uid);
  EXPECT_EQ(created.Header("tus-resumable"), "1.0.0");
  std::string expose = created.Header("access-control-expose-headers");
  for (const char* h : {"Location", "stream-media-id", "Upload-Offset"}) {
    EXPECT_NE(expose.find(h), std::string::npos) << expose;
  }

  HttpResponse head = Tus("HEAD", url, {});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("upload-offset"), "0");
  EXPECT_EQ(head.Header("upload-length"), std::to_string(data.size()));
  EXPECT_EQ(head.Header("cache-control"), "no-store");

  size_t half = data.size() / 2;
  HttpResponse p1 = Patch(url, 0, data.substr(0, half));
  EXPECT_EQ(p1.status, 204) << p1.body;
  EXPECT_EQ(p1.Header("upload-offset"), std::to_string(half));
  EXPECT_EQ(Tus("HEAD", url, {}).Header("upload-offset"), std::to_string(half));
  ExpectError(Patch(url, 0, data.substr(0, 10)), 409, 10019);
  HttpResponse p2 = Patch(url, half, data.substr(half));
  EXPECT_EQ(p2.status, 204) << p2.body;

  nlohmann::json v = server_.ApiGet("/" + uid).Json()["result"];
  EXPECT_EQ(State(v), "queued");
  EXPECT_EQ(v["meta"]["name"], "tus clip");
  EXPECT_EQ(v["meta"]["filetype"], "video/mp4");
  EXPECT_EQ(v["requireSignedURLs"], true);
  EXPECT_EQ(v["maxDurationSeconds"], 60);
  EXPECT_EQ(v["creator"], "carol");
  EXPECT_EQ(ReadFile(OriginalPath(uid)), data);
  EXPECT_FALSE(fs::exists(PartialPath("tus", uid)));
}

TEST_F(IngestTest, TusCreationWithUploadTakesTheFirstBytes) {
  const std::string& data = Media::Get().video();
  HttpResponse r = Tus("POST", server_.api(),
                       {{"Upload-Length", std::to_string(data.size())},
                        {"Content-Type", "application/offset+octet-stream"}},
                       data);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("upload-offset"), std::to_string(data.size()));
  EXPECT_EQ(State(server_.ApiGet("/" + r.Header("stream-media-id")).Json()["result"]), "queued");
}

TEST_F(IngestTest, TusTerminationRemovesTheUpload) {
  std::string url = CreateTus(1000);
  ASSERT_FALSE(url.empty());
  std::string uid = url.substr(url.rfind('/') + 1);
  ASSERT_EQ(Patch(url, 0, std::string(100, 'a')).status, 204);
  ASSERT_TRUE(fs::exists(PartialPath("tus", uid)));
  HttpResponse del = Tus("DELETE", url, {});
  EXPECT_EQ(del.status, 204) << del.body;
  ExpectHeadStatus(Tus("HEAD", url, {}), 404);
  ExpectError(server_.ApiGet("/" + uid), 404, 10003);
  EXPECT_FALSE(fs::exists(PartialPath("tus", uid)));
}

// Starts a PATCH of `total` bytes on a raw connection and sends the first `sent` of them.
int StartPatch(const std::string& server_url, const std::string& upload_url,
               const std::string& token, size_t total, size_t sent) {
  int fd = ConnectRaw(server_url);
  std::string path = upload_url.substr(server_url.size());
  std::string head = "PATCH " + path +
                     " HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                     "Content-Type: application/offset+octet-stream\r\nAuthorization: Bearer " +
                     token + "\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n";
  if (fd >= 0 && !SendAll(fd, head + std::string(sent, 'a'))) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST_F(IngestTest, TusKeepsWhatArrivedBeforeTheClientLeft) {
  std::string url = CreateTus(1000);
  int fd = StartPatch(server_.url(), url, kTestToken, 600, 400);
  ASSERT_GE(fd, 0);
  std::string partial = PartialPath("tus", url.substr(url.rfind('/') + 1));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::error_code ec;
        return fs::file_size(partial, ec) == 400;
      },
      std::chrono::seconds(10)));
  close(fd);
  EXPECT_TRUE(WaitFor([&] { return Tus("HEAD", url, {}).Header("upload-offset") == "400"; },
                      std::chrono::seconds(10)));
  EXPECT_EQ(Patch(url, 400, std::string(100, 'b')).status, 204);
  EXPECT_EQ(Tus("HEAD", url, {}).Header("upload-offset"), "500");
}

TEST_F(IngestTest, TusRefusesASecondPatchWhileOneIsWriting) {
  std::string url = CreateTus(1000);
  int fd = StartPatch(server_.url(), url, kTestToken, 600, 100);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(
      WaitFor([&] { return fs::exists(PartialPath("tus", url.substr(url.rfind('/') + 1))); },
              std::chrono::seconds(10)));
  ExpectError(Patch(url, 0, "abc"), 409, 10022);
  ASSERT_TRUE(SendAll(fd, std::string(500, 'a')));
  char buf[1024];
  ssize_t n = recv(fd, buf, sizeof(buf), 0);
  close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).substr(0, 12), "HTTP/1.1 204");
  EXPECT_EQ(Tus("HEAD", url, {}).Header("upload-offset"), "600");
}

TEST_F(IngestTest, TusRefusesBytesPastUploadLength) {
  std::string url = CreateTus(100);
  ExpectError(Patch(url, 0, std::string(101, 'a')), 413, 10011);
  EXPECT_EQ(Tus("HEAD", url, {}).Header("upload-offset"), "0");
  HttpResponse big = Tus("POST", server_.api(), {{"Upload-Length", "999999999999999"}});
  ExpectError(big, 413, 10011);
}

TEST_F(IngestTest, TusRefusesBadNumbers) {
  for (std::string bad : {"-5", "abc", "", "1.5", "0x10", "99999999999999999999999"}) {
    ExpectError(Tus("POST", server_.api(), {{"Upload-Length", bad}}), 400, 10002);
  }
  ExpectError(Tus("POST", server_.api(), {{"Upload-Length", "0"}}), 400, 10002);
  ExpectError(Tus("POST", server_.api(), {}), 400, 10002);
  std::string url = CreateTus(100);
  for (std::string bad : {"-1", "x", "", "1e3", "+1"}) {
    HttpResponse r =
        Tus("PATCH", url,
            {{"Upload-Offset", bad}, {"Content-Type", "application/offset+octet-stream"}}, "abc");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  ExpectError(Tus("PATCH", url, {{"Upload-Offset", "0"}, {"Content-Type", "text/plain"}}, "abc"),
              415, 10020);
  EXPECT_EQ(Tus("HEAD", url, {}).Header("upload-offset"), "0");
}

TEST_F(IngestTest, TusNeedsTheProtocolVersion) {
  std::string url = CreateTus(100);
  HttpResponse r = Tus("HEAD", url, {{"Tus-Resumable", "0.2.2"}});
  EXPECT_EQ(r.status, 412);
  EXPECT_EQ(r.Header("tus-version"), "1.0.0");
}

TEST_F(IngestTest, TusRefusesMetadataThatIsNotBase64) {
  ExpectError(
      Tus("POST", server_.api(), {{"Upload-Length", "10"}, {"Upload-Metadata", "name %%%"}}), 400,
      10002);
  ExpectError(
      Tus("POST", server_.api(),
          {{"Upload-Length", "10"}, {"Upload-Metadata", "maxdurationseconds " + Base64("abc")}}),
      400, 10002);
  EXPECT_EQ(VideoCount(), 0u);
}

TEST_F(IngestTest, TusUnknownOrForeignUidsAre404) {
  std::string fake = "00000000000000000000000000000000";
  ExpectHeadStatus(Tus("HEAD", server_.api() + "/tus/" + fake, {}), 404);
  ExpectError(Patch(server_.api() + "/tus/" + fake, 0, "abc"), 404, 10018);
  ExpectError(Tus("DELETE", server_.url() + "/tus/" + fake, {}), 404, 10018);

  // An upload made with the token is not reachable through the one-time path.
  std::string url = CreateTus(100);
  std::string uid = url.substr(url.rfind('/') + 1);
  ExpectHeadStatus(Tus("HEAD", server_.url() + "/tus/" + uid, {}, "", false), 404);

  // Another account's token does not reach this account's upload.
  std::string other = "fedcba9876543210fedcba9876543210";
  std::string cmd =
      "KINO_DATA_DIR=" + Data() + " " +
      std::string(std::getenv("KINO_BINARY") ? std::getenv("KINO_BINARY") : "build/kino") +
      " tokens create --account " + other;
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    out.append(buf, n);
  }
  ASSERT_EQ(pclose(p), 0) << out;
  size_t at = out.find("\ntoken ", out.find("token id"));
  ASSERT_NE(at, std::string::npos) << out;
  std::string token = out.substr(at + 7, out.find('\n', at + 7) - at - 7);
  std::string foreign = server_.url() + "/client/v4/accounts/" + other + "/stream/tus/" + uid;
  HeaderList h = {{"Authorization", "Bearer " + token}, {"Tus-Resumable", "1.0.0"}};
  ExpectHeadStatus(Http({"HEAD", foreign, h, "", "", 60}), 404);
  ExpectError(Get(server_.url() + "/client/v4/accounts/" + other + "/stream/" + uid,
                  {{"Authorization", "Bearer " + token}}),
              404, 10003);
  EXPECT_EQ(Tus("HEAD", url, {}).status, 200);
}

TEST_F(IngestTest, TusDirectUserUrlNeedsNoToken) {
  const std::string& data = Media::Get().video();
  std::string url = CreateTus(data.size(), "name " + Base64("direct tus"), "?direct_user=true");
  ASSERT_FALSE(url.empty());
  std::string uid = url.substr(url.rfind('/') + 1);
  EXPECT_EQ(url, server_.url() + "/tus/" + uid);

  HttpResponse pre = Http({"OPTIONS", url, {{"Origin", "https://app.example"}}, "", "", 60});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.Header("access-control-allow-origin"), "*");
  EXPECT_NE(pre.Header("access-control-allow-methods").find("PATCH"), std::string::npos);
  EXPECT_NE(pre.Header("access-control-allow-headers").find("Upload-Offset"), std::string::npos);

  EXPECT_EQ(Tus("HEAD", url, {}, "", false).status, 200);
  EXPECT_EQ(Patch(url, 0, data, false).status, 204);
  EXPECT_EQ(State(server_.ApiGet("/" + uid).Json()["result"]), "queued");
  // Once complete the one-time URL takes nothing more.
  EXPECT_NE(Patch(url, data.size(), "more", false).status, 204);
}

TEST_F(IngestTest, TusOfANonVideoEndsInErrNonVideo) {
  const std::string& data = Media::Get().not_video();
  std::string url = CreateTus(data.size());
  EXPECT_EQ(Patch(url, 0, data).status, 204);
  nlohmann::json v = server_.ApiGet("/" + url.substr(url.rfind('/') + 1)).Json()["result"];
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_NON_VIDEO");
}

TEST_F(IngestTest, TusEnforcesMaxDurationSeconds) {
  const std::string& data = Media::Get().video();
  std::string url = CreateTus(data.size(), "maxDurationSeconds " + Base64("1"));
  EXPECT_EQ(Patch(url, 0, data).status, 204);
  nlohmann::json v = server_.ApiGet("/" + url.substr(url.rfind('/') + 1)).Json()["result"];
  EXPECT_EQ(State(v), "error");
  EXPECT_EQ(Reason(v), "ERR_DURATION_EXCEED_CONSTRAINT");
}

class SweepTest : public IngestTest {
 protected:
  SweepTest() : IngestTest(Quiet({{"KINO_SWEEP_SECONDS", "1"}})) {}
};

TEST_F(SweepTest, AnAbandonedTusUploadIsRemovedAfterItsExpiry) {
  std::string url = CreateTus(1000, "expiry " + Base64(SecondsFromNow(2)));
  ASSERT_FALSE(url.empty());
  std::string uid = url.substr(url.rfind('/') + 1);
  HttpResponse patched = Patch(url, 0, std::string(100, 'a'));
  EXPECT_EQ(patched.status, 204);
  EXPECT_FALSE(patched.Header("upload-expires").empty());
  ASSERT_TRUE(fs::exists(PartialPath("tus", uid)));

  EXPECT_TRUE(
      WaitFor([&] { return server_.ApiGet("/" + uid).status == 404; }, std::chrono::seconds(10)));
  EXPECT_FALSE(fs::exists(PartialPath("tus", uid)));
  ExpectHeadStatus(Tus("HEAD", url, {}), 404);
}

TEST_F(SweepTest, AnUnusedDirectUploadIsRemovedAfterItsExpiry) {
  HttpResponse created = server_.ApiPost(
      "/direct_upload",
      nlohmann::json{{"maxDurationSeconds", 60}, {"expiry", SecondsFromNow(2)}}.dump());
  ASSERT_EQ(created.status, 200) << created.body;
  std::string uid = created.Json()["result"]["uid"];
  EXPECT_TRUE(
      WaitFor([&] { return server_.ApiGet("/" + uid).status == 404; }, std::chrono::seconds(10)));
}

// --- videos ------------------------------------------------------------------------------------

std::string Uid(const HttpResponse& r) {
  return r.Json()["result"].value("uid", "");
}

TEST_F(IngestTest, ListFiltersByStatusCreatorSearchAndTime) {
  std::string a = Uid(Basic(Media::Get().video(), {{"Upload-Creator", "alice"}}));
  std::string b = Uid(Basic(Media::Get().video(), {{"Upload-Creator", "bob"}}));
  ASSERT_EQ(server_.ApiPost("/" + b, R"({"meta": {"name": "Holiday Trip"}})").status, 200);
  std::string c = Uid(server_.ApiPost("/direct_upload", R"({"maxDurationSeconds": 5})"));
  ASSERT_FALSE(a.empty() || b.empty() || c.empty());

  auto uids = [&](const std::string& query) {
    HttpResponse r = server_.ApiGet(query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    std::vector<std::string> out;
    nlohmann::json j = r.Json();
    for (const auto& v : j["result"]) {
      out.push_back(v["uid"]);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(uids(""), (V{c, b, a}));
  EXPECT_EQ(uids("?asc=true"), (V{a, b, c}));
  EXPECT_EQ(uids("?status=pendingupload"), V{c});
  EXPECT_EQ(uids("?status=queued&asc=true"), (V{a, b}));
  EXPECT_EQ(uids("?creator=alice"), V{a});
  EXPECT_EQ(uids("?search=holiday"), V{b});
  EXPECT_EQ(uids("?limit=1"), V{c});

  std::string created_b = server_.ApiGet("/" + b).Json()["result"]["created"];
  EXPECT_EQ(uids("?before=" + created_b), V{a});
  EXPECT_EQ(uids("?after=" + created_b), V{c});

  nlohmann::json counted = server_.ApiGet("?limit=1&include_counts=true").Json();
  EXPECT_EQ(counted["total"], 3) << counted;
  EXPECT_EQ(counted["range"], 2) << counted;

  ExpectError(server_.ApiGet("?status=nope"), 400, 10002);
  ExpectError(server_.ApiGet("?limit=0"), 400, 10002);
  ExpectError(server_.ApiGet("?limit=abc"), 400, 10002);
  ExpectError(server_.ApiGet("?before=yesterday"), 400, 10002);
  ExpectError(server_.ApiGet("?asc=maybe"), 400, 10002);
}

TEST_F(IngestTest, EditDeleteAndStorageUsage) {
  std::string uid = Uid(Basic(Media::Get().video(), {{"Upload-Creator", "dave"}}));
  ASSERT_FALSE(uid.empty());
  HttpResponse edited =
      server_.ApiPost("/" + uid, R"({"meta": {"name": "renamed"}, "requireSignedURLs": true,
                    "allowedOrigins": ["example.com"]})");
  ASSERT_EQ(edited.status, 200) << edited.body;
  nlohmann::json v = server_.ApiGet("/" + uid).Json()["result"];
  EXPECT_EQ(v["meta"]["name"], "renamed");
  EXPECT_EQ(v["requireSignedURLs"], true);
  EXPECT_EQ(v["allowedOrigins"], nlohmann::json::array({"example.com"}));
  ExpectError(server_.ApiPost("/" + uid, R"({"requireSignedURLs": "yes"})"), 400, 10002);

  nlohmann::json usage = server_.ApiGet("/storage-usage").Json()["result"];
  EXPECT_EQ(usage["videoCount"], 1);
  EXPECT_EQ(server_.ApiGet("/storage-usage?creator=nobody").Json()["result"]["videoCount"], 0);

  EXPECT_EQ(server_.ApiDelete("/" + uid).status, 200);
  ExpectError(server_.ApiGet("/" + uid), 404, 10003);
  ExpectError(server_.ApiDelete("/" + uid), 404, 10003);
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(OriginalPath(uid)); }, std::chrono::seconds(20)));
}

TEST_F(IngestTest, DeletingAnUnfinishedTusUploadRemovesItsPartialFile) {
  std::string url = CreateTus(1000);
  std::string uid = url.substr(url.rfind('/') + 1);
  ASSERT_EQ(Patch(url, 0, std::string(10, 'a')).status, 204);
  EXPECT_EQ(server_.ApiDelete("/" + uid).status, 200);
  EXPECT_TRUE(
      WaitFor([&] { return !fs::exists(PartialPath("tus", uid)); }, std::chrono::seconds(20)));
}

}  // namespace
}  // namespace kino::testing

// Signed URLs over real HTTP: tokens made by the `openssl` program (an implementation independent
// of Kino's) and by Kino's /token endpoint, checked on every delivery path of the real server.
//
// Two servers:
//   - main: 127.0.0.1, trusts 127.0.0.1 as a proxy (so X-Forwarded-For chooses the client the
//     access rules see, IPv6 included) and has a GeoIP database built at test time with
//     libmaxmind-db-writer-perl (src/auth/testdata/make_test_mmdb.pl);
//   - ipv6: [::1], trusts no proxy and has no GeoIP database.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "tests/support/kino_server.h"

namespace kino::testing {
namespace {

// ---- tokens made with the openssl program ----

// `openssl dgst` over `input` with extra arguments (-sign KEY, or an HMAC key).
std::string OpensslDigest(const TempDir& dir, const std::string& input, const std::string& args) {
  WriteFile(dir.Join("input"), input);
  return CaptureCommand("openssl dgst -sha256 -binary " + args + " " + dir.Join("input"));
}

std::string Compact(const std::string& header, const std::string& payload) {
  return Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
}

// A user's signing key, as POST .../keys returned it, with its PEM written to a file.
struct UserKey {
  std::string id;
  std::string pem_path;         // PKCS#1 private key
  std::string public_pem_path;  // its SubjectPublicKeyInfo
};

class Signer {
 public:
  explicit Signer(const TempDir& dir) : dir_(dir) {}

  // RS256 over header.payload with the key's private PEM.
  std::string Rs256(const UserKey& key, const std::string& header, const std::string& payload) {
    std::string input = Compact(header, payload);
    return input + "." + Base64UrlEncode(OpensslDigest(dir_, input, "-sign " + key.pem_path));
  }

  // The classic confusion attack: HS256 with the RSA public key's PEM text as the HMAC secret.
  std::string Hs256WithPublicKey(const UserKey& key, const std::string& payload) {
    std::string secret = ReadFile(key.public_pem_path);
    std::string input = Compact(R"({"alg":"HS256","kid":")" + key.id + R"("})", payload);
    std::string mac = OpensslDigest(dir_, input, "-mac HMAC -macopt hexkey:" + HexEncode(secret));
    return input + "." + Base64UrlEncode(mac);
  }

 private:
  const TempDir& dir_;
};

std::string Header(const std::string& kid) {
  return R"({"alg":"RS256","kid":")" + kid + R"("})";
}

int64_t Now() {
  return static_cast<int64_t>(std::time(nullptr));
}

// A payload with numeric exp/nbf (self-signed style) and `extra` members appended.
std::string Payload(const std::string& sub, const std::string& kid, int64_t exp,
                    const std::string& extra = "") {
  return R"({"sub":")" + sub + R"(","kid":")" + kid + R"(","exp":)" + std::to_string(exp) +
         R"(,"nbf":)" + std::to_string(Now() - 3600) + extra + "}";
}

// ---- server set-up ----

// The source tree. __FILE__ is relative to the build directory when Ninja compiles, and this
// binary lives in <build>/tests/integration.
std::string SourceDir() {
  std::filesystem::path file = __FILE__;
  if (file.is_relative()) {
    std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
    file = exe.parent_path().parent_path().parent_path() / file;
  }
  return std::filesystem::weakly_canonical(file).parent_path().parent_path().parent_path();
}

UserKey CreateKey(const KinoServer& server, const TempDir& dir) {
  nlohmann::json r = server.ApiPost("/keys", "").Json()["result"];
  UserKey key;
  key.id = r.value("id", "");
  key.pem_path = dir.Join(key.id + ".pem");
  key.public_pem_path = dir.Join(key.id + ".pub");
  WriteFile(key.pem_path, Base64Decode(r.value("pem", "")).value_or(""));
  CaptureCommand("openssl rsa -in " + key.pem_path + " -pubout -out " + key.public_pem_path +
                 " 2>/dev/null");
  return key;
}

// Uploads a 2-second video, waits until it is ready, and turns requireSignedURLs on.
std::string ReadySignedVideo(const KinoServer& server, const TempDir& dir) {
  std::string path = dir.Join("v.mp4");
  if (!MakeTestVideo(path, 2, "160x120")) {
    return "";
  }
  std::string uid = UploadFile(server, path);
  if (uid.empty() || WaitForState(server, uid, "ready")["status"]["state"] != "ready") {
    return "";
  }
  server.ApiPost("/" + uid, R"({"requireSignedURLs":true})");
  return uid;
}

// A token from the server's own /token endpoint ("" on failure).
std::string ServerToken(const KinoServer& server, const std::string& uid, const std::string& body) {
  return server.ApiPost("/" + uid + "/token", body).Json()["result"].value("token", "");
}

// The delivery answer's status and, for 401/403, its {"error":{"code":N}} code.
struct Outcome {
  long status = 0;
  int code = 0;
};

Outcome Fetch(const std::string& url, HeaderList headers = {}) {
  HttpResponse r = Get(url, std::move(headers));
  Outcome o{r.status, 0};
  nlohmann::json j = r.Json();
  if (j.is_object() && j.contains("error")) {
    o.code = j["error"].value("code", 0);
  }
  return o;
}

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << o.status << "/" << o.code;
}

bool operator==(const Outcome& a, const Outcome& b) {
  return a.status == b.status && a.code == b.code;
}

// ---- the main server ----

class SignedUrlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::string mmdb = dir_->Join("test.mmdb");
    CaptureCommand("perl " + SourceDir() + "/src/auth/testdata/make_test_mmdb.pl " + mmdb);
    server_ = new KinoServer(KinoServer::Options{{{"KINO_GEOIP_DB", mmdb},
                                                  {"KINO_TRUSTED_PROXIES", "127.0.0.1"},
                                                  {"KINO_LOG_LEVEL", "debug"}},
                                                 {}});
    if (!std::filesystem::exists(mmdb) || !server_->Start()) {
      return;
    }
    uid_ = ReadySignedVideo(*server_, *dir_);
    key_ = CreateKey(*server_, *dir_);
    // A ready MP4 download, so that a downloadable token gets the file itself.
    server_->ApiPost("/" + uid_ + "/downloads", "");
    WaitFor([] {
      nlohmann::json j = server_->ApiGet("/" + uid_ + "/downloads").Json();
      return j["result"]["default"].value("status", "") == "ready";
    });
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_FALSE(uid_.empty()) << server_->log();
    ASSERT_FALSE(key_.id.empty());
  }

  std::string Good(const std::string& extra = "") {
    return signer_.Rs256(key_, Header(key_.id), Payload(uid_, key_.id, Now() + 600, extra));
  }
  std::string Url(const std::string& id, const std::string& rest = "/manifest/video.m3u8") {
    return server_->url() + "/" + id + rest;
  }
  // The manifest fetched with `token` as though the client were `client_ip` (sent through the
  // trusted proxy 127.0.0.1 as X-Forwarded-For).
  Outcome FetchAs(const std::string& token, const std::string& client_ip) {
    return Fetch(Url(token), {{"X-Forwarded-For", client_ip}});
  }
  std::string WithRules(const std::string& rules) { return Good(R"(,"accessRules":)" + rules); }

  static TempDir* dir_;
  static KinoServer* server_;
  static std::string uid_;
  static UserKey key_;
  Signer signer_{*dir_};
};

TempDir* SignedUrlTest::dir_ = nullptr;
KinoServer* SignedUrlTest::server_ = nullptr;
std::string SignedUrlTest::uid_;
UserKey SignedUrlTest::key_;

const Outcome kOk{200, 0};

TEST_F(SignedUrlTest, TokenTable) {
  const int64_t now = Now();
  const std::string good = Good();
  const std::string k = key_.id;
  std::string unknown_kid = "00000000000000000000000000000abc";
  std::string string_times = R"({"sub":")" + uid_ + R"(","kid":")" + k + R"(","exp":")" +
                             std::to_string(now + 600) + R"(","nbf":")" + std::to_string(now - 60) +
                             R"("})";
  std::string sig = good.substr(good.rfind('.') + 1);
  std::string signing_input = good.substr(0, good.rfind('.'));

  struct Case {
    const char* name;
    std::string token;
    Outcome want;
  };
  const std::vector<Case> cases = {
      {"good, numeric exp", good, kOk},
      {"good, exp and nbf as numeric strings", signer_.Rs256(key_, Header(k), string_times), kOk},
      {"from the /token endpoint", ServerToken(*server_, uid_, ""), kOk},
      {"expired a second ago, inside the leeway",
       signer_.Rs256(key_, Header(k), Payload(uid_, k, now - 1)), kOk},
      {"expired", signer_.Rs256(key_, Header(k), Payload(uid_, k, now - 120)), {401, 10404}},
      {"not yet valid",
       signer_.Rs256(key_, Header(k),
                     R"({"sub":")" + uid_ + R"(","kid":")" + k + R"(","exp":)" +
                         std::to_string(now + 7200) + R"(,"nbf":)" + std::to_string(now + 600) +
                         "}"),
       {401, 10405}},
      {"sub is not a uid",
       signer_.Rs256(key_, Header(k), Payload("somebody-else", k, now + 600)),
       {401, 10407}},
      {"sub is no video",
       signer_.Rs256(key_, Header(k), Payload(unknown_kid, k, now + 600)),
       {404, 0}},
      {"alg none",
       Compact(R"({"alg":"none","kid":")" + k + R"("})", Payload(uid_, k, now + 600)) + ".",
       {401, 10402}},
      {"HS256 keyed with the public key",
       signer_.Hs256WithPublicKey(key_, Payload(uid_, k, now + 600)),
       {401, 10402}},
      {"unknown kid",
       signer_.Rs256(key_, Header(unknown_kid), Payload(uid_, unknown_kid, now + 600)),
       {401, 10406}},
      {"signature cut by one character", good.substr(0, good.size() - 1), {401, 10401}},
      {"signature cut by two characters", good.substr(0, good.size() - 2), {401, 10403}},
      {"signature with base64 padding", good + "==", {401, 10401}},
      {"payload with base64 padding", signing_input + "=." + sig, {401, 10401}},
      {"signature of another payload",
       Compact(Header(k), Payload(uid_, k, now + 600, R"(,"downloadable":true)")) + "." + sig,
       {401, 10403}},
      {"two parts", signing_input, {401, 10401}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_FALSE(c.token.empty());
    EXPECT_EQ(Fetch(Url(c.token)), c.want);
  }
}

// A signing key belongs to one account. A token that another account's key signed is refused
// for this account's video, as though its subject were malformed, and the other account's
// /token endpoint does not know the video.
TEST_F(SignedUrlTest, AnotherAccountsKeyCannotSignForThisAccountsVideos) {
  const std::string other = "fedcba9876543210fedcba9876543210";
  std::string out;
  std::string other_token = CreateApiToken(*server_, other, "other", &out);
  ASSERT_FALSE(other_token.empty()) << out;
  const std::string other_api = server_->url() + "/client/v4/accounts/" + other + "/stream";
  HeaderList other_auth = {{"Authorization", "Bearer " + other_token}};

  nlohmann::json made =
      Http({"POST", other_api + "/keys", other_auth, "", "", 60}).Json()["result"];
  UserKey other_key;
  other_key.id = made.value("id", "");
  ASSERT_FALSE(other_key.id.empty()) << made.dump();
  other_key.pem_path = dir_->Join(other_key.id + ".pem");
  WriteFile(other_key.pem_path, Base64Decode(made.value("pem", "")).value_or(""));

  std::string token =
      signer_.Rs256(other_key, Header(other_key.id),
                    Payload(uid_, other_key.id, Now() + 600, R"(,"downloadable":true)"));
  EXPECT_EQ(Fetch(Url(token)), (Outcome{401, 10407}));
  EXPECT_EQ(Fetch(Url(token, "/downloads/default.mp4")), (Outcome{401, 10407}));
  // This account's own key still signs for it: the refusal is about whose key it is.
  EXPECT_EQ(Fetch(Url(Good())), kOk);

  EXPECT_EQ(Http({"POST", other_api + "/" + uid_ + "/token", other_auth, "", "", 60}).status, 404);
}

TEST_F(SignedUrlTest, EveryDeliveryPathNeedsTheTokenAndTakesIt) {
  const std::string token = Good(R"(,"downloadable":true)");
  for (const char* path :
       {"/manifest/video.m3u8", "/manifest/video.mpd", "/thumbnails/thumbnail.jpg",
        "/thumbnails/thumbnail.gif?duration=1s", "/downloads/default.mp4"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(Fetch(Url(uid_, path)), (Outcome{401, 10024}));
    EXPECT_EQ(Fetch(Url(token, path)), kOk);
  }
}

TEST_F(SignedUrlTest, DownloadNeedsDownloadable) {
  EXPECT_EQ(Fetch(Url(Good(), "/downloads/default.mp4")), (Outcome{403, 10411}));
  EXPECT_EQ(Fetch(Url(Good(R"(,"downloadable":false)"), "/downloads/default.mp4")),
            (Outcome{403, 10411}));
  EXPECT_EQ(Fetch(Url(ServerToken(*server_, uid_, ""), "/downloads/default.mp4")),
            (Outcome{403, 10411}));
  EXPECT_EQ(
      Fetch(Url(ServerToken(*server_, uid_, R"({"downloadable":true})"), "/downloads/default.mp4")),
      kOk);
}

TEST_F(SignedUrlTest, RevokedKeyFailsAtOnce) {
  UserKey second = CreateKey(*server_, *dir_);
  std::string token =
      signer_.Rs256(second, Header(second.id), Payload(uid_, second.id, Now() + 600));
  EXPECT_EQ(Fetch(Url(token)), kOk);
  EXPECT_EQ(server_->ApiDelete("/keys/" + second.id).Json()["result"], "Revoked");
  EXPECT_EQ(Fetch(Url(token)), (Outcome{401, 10406}));
}

TEST_F(SignedUrlTest, AccessRulesAnyAndIpv4) {
  EXPECT_EQ(Fetch(Url(WithRules(R"([{"type":"any","action":"allow"}])"))), kOk);
  EXPECT_EQ(Fetch(Url(WithRules(R"([{"type":"any","action":"block"}])"))), (Outcome{403, 10410}));
  // The socket peer 127.0.0.1, with no forwarding header.
  std::string allow_local = WithRules(
      R"([{"type":"ip.src","action":"allow","ip":["127.0.0.0/8"]},{"type":"any","action":"block"}])");
  EXPECT_EQ(Fetch(Url(allow_local)), kOk);
  EXPECT_EQ(Fetch(Url(WithRules(R"([{"type":"ip.src","action":"block","ip":["127.0.0.1"]}])"))),
            (Outcome{403, 10410}));
  // No rule matches: allowed.
  EXPECT_EQ(Fetch(Url(WithRules(R"([{"type":"ip.src","action":"block","ip":["10.0.0.0/8"]}])"))),
            kOk);
  // Through the trusted proxy, the forwarded address is the client.
  std::string only_doc_net = WithRules(
      R"([{"type":"ip.src","action":"allow","ip":["203.0.113.0/24"]},{"type":"any","action":"block"}])");
  EXPECT_EQ(FetchAs(only_doc_net, "203.0.113.7"), kOk);
  EXPECT_EQ(FetchAs(only_doc_net, "198.51.100.7"), (Outcome{403, 10410}));
  EXPECT_EQ(FetchAs(only_doc_net, "198.51.100.7, 203.0.113.7"), kOk);
}

TEST_F(SignedUrlTest, AccessRulesIpv6ThroughTheProxy) {
  std::string token = WithRules(
      R"([{"type":"ip.src","action":"allow","ip":["2001:db8::/32"]},{"type":"any","action":"block"}])");
  EXPECT_EQ(FetchAs(token, "2001:db8::7"), kOk);
  EXPECT_EQ(FetchAs(token, "2001:db9::7"), (Outcome{403, 10410}));
  EXPECT_EQ(FetchAs(WithRules(R"([{"type":"ip.src","action":"block","ip":["2001:db8::7/128"]}])"),
                    "2001:db8::7"),
            (Outcome{403, 10410}));
}

TEST_F(SignedUrlTest, AccessRulesCountryFromTheGeoIpDatabase) {
  std::string only_gb = WithRules(
      R"([{"type":"ip.geoip.country","action":"allow","country":["GB"]},{"type":"any","action":"block"}])");
  EXPECT_EQ(FetchAs(only_gb, "81.2.69.160"), kOk);
  EXPECT_EQ(FetchAs(only_gb, "1.2.3.4"), (Outcome{403, 10410}));
  // A record without a country matches no country rule.
  EXPECT_EQ(FetchAs(only_gb, "10.9.8.7"), (Outcome{403, 10410}));
  std::string no_us =
      WithRules(R"([{"type":"ip.geoip.country","action":"block","country":["US"]}])");
  EXPECT_EQ(FetchAs(no_us, "1.2.3.4"), (Outcome{403, 10410}));
  EXPECT_EQ(FetchAs(no_us, "81.2.69.160"), kOk);
  EXPECT_EQ(FetchAs(WithRules(R"([{"type":"ip.geoip.country","action":"allow","country":["DE"]},)"
                              R"({"type":"any","action":"block"}])"),
                    "2001:db8::1"),
            kOk);
  // Rules from the /token endpoint behave the same.
  std::string minted = ServerToken(
      *server_, uid_,
      R"({"accessRules":[{"type":"ip.geoip.country","action":"block","country":["GB"]}]})");
  EXPECT_EQ(FetchAs(minted, "81.2.69.160"), (Outcome{403, 10410}));
  EXPECT_EQ(FetchAs(minted, "1.2.3.4"), kOk);
}

TEST_F(SignedUrlTest, AllowedOriginsGuardThePlaylists) {
  ASSERT_EQ(server_->ApiPost("/" + uid_, R"({"allowedOrigins":["*.example.com"]})").status, 200);
  std::string token = Good();
  EXPECT_EQ(Fetch(Url(token), {{"Origin", "https://app.example.com"}}), kOk);
  EXPECT_EQ(Fetch(Url(token), {{"Referer", "https://app.example.com/watch?v=1"}}), kOk);
  EXPECT_EQ(Fetch(Url(token), {{"Origin", "https://example.com"}}), (Outcome{403, 10025}));
  EXPECT_EQ(Fetch(Url(token), {{"Origin", "https://evil.test"}}), (Outcome{403, 10025}));
  EXPECT_EQ(Fetch(Url(token)), (Outcome{403, 10025}));
  EXPECT_EQ(Fetch(Url(token, "/manifest/video.mpd"), {{"Origin", "https://evil.test"}}),
            (Outcome{403, 10025}));
  // Thumbnails are not restricted by origin.
  EXPECT_EQ(Fetch(Url(token, "/thumbnails/thumbnail.jpg")), kOk);
  ASSERT_EQ(server_->ApiPost("/" + uid_, R"({"allowedOrigins":[]})").status, 200);
  EXPECT_EQ(Fetch(Url(token)), kOk);
}

// Every URI inside a signed HLS master playlist, and inside its media playlists, resolves under
// the token's path and answers 200; the same files through the bare uid answer 401.
TEST_F(SignedUrlTest, SignedHlsManifestPlaysEndToEnd) {
  std::string base = server_->url() + "/" + Good() + "/manifest/";
  HttpResponse master = Get(base + "video.m3u8");
  ASSERT_EQ(master.status, 200) << master.body;
  auto uris_in = [](const std::string& playlist) {
    std::vector<std::string> uris;
    std::istringstream lines(playlist);
    for (std::string line; std::getline(lines, line);) {
      if (size_t at = line.find("URI=\""); at != std::string::npos) {
        uris.push_back(line.substr(at + 5, line.find('"', at + 5) - at - 5));
      } else if (!line.empty() && line[0] != '#') {
        uris.push_back(line);
      }
    }
    return uris;
  };
  int fetched = 0;
  for (const std::string& media : uris_in(master.body)) {
    HttpResponse playlist = Get(base + media);
    ASSERT_EQ(playlist.status, 200) << media;
    std::string dir = media.substr(0, media.rfind('/') + 1);
    for (const std::string& file : uris_in(playlist.body)) {
      SCOPED_TRACE(dir + file);
      HttpResponse segment = Get(base + dir + file);
      EXPECT_EQ(segment.status, 200);
      EXPECT_FALSE(segment.body.empty());
      EXPECT_EQ(segment.Header("cache-control").rfind("private, max-age=", 0), 0u);
      EXPECT_EQ(Fetch(server_->url() + "/" + uid_ + "/manifest/" + dir + file),
                (Outcome{401, 10024}));
      ++fetched;
    }
  }
  EXPECT_GE(fetched, 4);  // init + segment for video and for audio at least
}

// The server logs every request at debug level here. No token appears in the log, whole or
// broken: every token of this suite starts with the base64url of {"alg":" (eyJhbGciOi).
TEST_F(SignedUrlTest, TheLogNeverHoldsAToken) {
  std::string token = Good();
  Fetch(Url(token));
  Fetch(Url(token + "=="));
  Fetch(Url(token.substr(0, token.rfind('.'))));
  std::string log = server_->log();
  EXPECT_NE(log.find("signed_url_refused"), std::string::npos);
  EXPECT_NE(log.find("[redacted]"), std::string::npos);
  EXPECT_EQ(log.find("eyJhbGciOi"), std::string::npos);
  EXPECT_EQ(log.find(token.substr(token.rfind('.') + 1)), std::string::npos);
}

TEST_F(SignedUrlTest, TokenEndpointRefusesBadBodies) {
  auto code_of = [](const HttpResponse& r) {
    nlohmann::json j = r.Json();
    return r.status * 100000 + (j.is_object() ? j["errors"][0].value("code", 0) : 0);
  };
  const std::string path = "/" + uid_ + "/token";
  const long bad = 400 * 100000L + 10002;
  EXPECT_EQ(code_of(server_->ApiPost(path, "{nope")), 400 * 100000L + 10001);
  EXPECT_EQ(code_of(server_->ApiPost(path, R"({"exp":"soon"})")), bad);
  EXPECT_EQ(code_of(server_->ApiPost(path, R"({"exp":1})")), bad);
  EXPECT_EQ(code_of(server_->ApiPost(path, "{\"exp\":" + std::to_string(Now() + 90000) + "}")),
            bad);
  EXPECT_EQ(code_of(server_->ApiPost(path, "{\"nbf\":" + std::to_string(Now() + 7200) + "}")), bad);
  EXPECT_EQ(code_of(server_->ApiPost(path, R"({"downloadable":"yes"})")), bad);
  EXPECT_EQ(code_of(server_->ApiPost(path, R"({"flags":[1]})")), bad);
  EXPECT_EQ(code_of(server_->ApiPost(path, R"({"id":")" + key_.id + R"("})")), bad);
  EXPECT_EQ(code_of(server_->ApiPost(path, R"({"id":")" + key_.id + R"(","pem":"bm90IGEga2V5"})")),
            bad);
  EXPECT_EQ(code_of(server_->ApiPost(
                path, R"({"id":"00000000000000000000000000000abc","pem":"bm90IGEga2V5"})")),
            404 * 100000L + 10014);
  std::string six(R"({"type":"any","action":"allow"},)");
  std::string rules = "[" + six + six + six + six + six + R"({"type":"any","action":"allow"}])";
  EXPECT_EQ(code_of(server_->ApiPost(path, R"({"accessRules":)" + rules + "}")), bad);
  EXPECT_EQ(
      code_of(server_->ApiPost(
          path, R"({"accessRules":[{"type":"ip.src","action":"allow","ip":["1.2.3.4/40"]}]})")),
      bad);
  EXPECT_EQ(
      code_of(server_->ApiPost(
          path,
          R"({"accessRules":[{"type":"ip.geoip.country","action":"allow","country":["gbr"]}]})")),
      bad);
  EXPECT_EQ(code_of(server_->ApiPost("/00000000000000000000000000000abc/token", "")),
            404 * 100000L + 10003);
}

// The caller's own key through the token endpoint: only the private half of a key of this
// account is accepted, and its tokens verify.
TEST_F(SignedUrlTest, TokenEndpointSignsWithTheCallersKey) {
  nlohmann::json created = server_->ApiPost("/keys", "{}").Json()["result"];
  ASSERT_TRUE(created.is_object());
  std::string body = R"({"id":")" + created.value("id", "") + R"(","pem":")" +
                     created.value("pem", "") + R"(","exp":)" + std::to_string(Now() + 600) + "}";
  std::string token = ServerToken(*server_, uid_, body);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(Fetch(Url(token)), kOk);
  // Another key's PEM under this id is refused.
  nlohmann::json other = server_->ApiPost("/keys", "").Json()["result"];
  std::string mismatched =
      R"({"id":")" + created.value("id", "") + R"(","pem":")" + other.value("pem", "") + R"("})";
  EXPECT_EQ(server_->ApiPost("/" + uid_ + "/token", mismatched).status, 400);
  // The list shows ids and dates only, never a private key.
  HttpResponse list = server_->ApiGet("/keys");
  EXPECT_EQ(list.body.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(list.body.find(created.value("pem", "").substr(0, 40)), std::string::npos);
  bool listed = false;
  nlohmann::json listed_keys = list.Json()["result"];
  for (const auto& k : listed_keys) {
    listed = listed || k["id"] == created["id"];
    EXPECT_EQ(k.size(), 2u);
  }
  EXPECT_TRUE(listed) << list.body;
}

// ---- the IPv6 server: no trusted proxy, no GeoIP database ----

class SignedUrlIpv6Test : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new KinoServer(KinoServer::Options{{{"KINO_LISTEN", "[::1]:0"}}, {}});
    if (server_->Start()) {
      uid_ = ReadySignedVideo(*server_, *dir_);
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  void SetUp() override { ASSERT_FALSE(uid_.empty()) << server_->log(); }

  Outcome FetchWithRules(const std::string& rules, HeaderList headers = {}) {
    std::string token = ServerToken(*server_, uid_, R"({"accessRules":)" + rules + "}");
    EXPECT_FALSE(token.empty());
    return Fetch(server_->url() + "/" + token + "/manifest/video.m3u8", std::move(headers));
  }

  static TempDir* dir_;
  static KinoServer* server_;
  static std::string uid_;
};

TempDir* SignedUrlIpv6Test::dir_ = nullptr;
KinoServer* SignedUrlIpv6Test::server_ = nullptr;
std::string SignedUrlIpv6Test::uid_;

TEST_F(SignedUrlIpv6Test, IpSrcRulesSeeTheIpv6Peer) {
  EXPECT_EQ(
      FetchWithRules(
          R"([{"type":"ip.src","action":"allow","ip":["::1"]},{"type":"any","action":"block"}])"),
      kOk);
  EXPECT_EQ(FetchWithRules(R"([{"type":"ip.src","action":"block","ip":["::1/128"]}])"),
            (Outcome{403, 10410}));
  EXPECT_EQ(FetchWithRules(R"([{"type":"ip.src","action":"block","ip":["127.0.0.0/8"]}])"), kOk);
}

TEST_F(SignedUrlIpv6Test, ForwardingHeaderFromAnUntrustedPeerIsIgnored) {
  std::string only_doc_net =
      R"([{"type":"ip.src","action":"allow","ip":["203.0.113.7"]},{"type":"any","action":"block"}])";
  EXPECT_EQ(FetchWithRules(only_doc_net, {{"X-Forwarded-For", "203.0.113.7"}}),
            (Outcome{403, 10410}));
  std::string block_peer = R"([{"type":"ip.src","action":"block","ip":["::1"]}])";
  EXPECT_EQ(FetchWithRules(block_peer, {{"X-Forwarded-For", "203.0.113.7"}}),
            (Outcome{403, 10410}));
}

TEST_F(SignedUrlIpv6Test, CountryRuleWithoutADatabaseRefusesAndSaysWhy) {
  EXPECT_EQ(FetchWithRules(R"([{"type":"ip.geoip.country","action":"block","country":["GB"]}])"),
            (Outcome{403, 10412}));
  EXPECT_NE(server_->log().find("signed_url_geoip_unavailable"), std::string::npos);
  // A rule list that decides before reaching the country rule needs no database.
  EXPECT_EQ(FetchWithRules(R"([{"type":"any","action":"allow"},)"
                           R"({"type":"ip.geoip.country","action":"block","country":["GB"]}])"),
            kOk);
}

}  // namespace
}  // namespace kino::testing

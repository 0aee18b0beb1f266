// The foundation over real HTTP: the envelope, authentication on every route, error mapping,
// system endpoints, restart with the same data directory, and graceful shutdown.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/kino_server.h"

namespace kino::testing {
namespace {

class FoundationTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.log(); }
  KinoServer server_;
};

// Runs a command and returns its stdout.
std::string Capture(const std::string& cmd, int* exit_code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
    out.append(buf, n);
  }
  *exit_code = pclose(p);
  return out;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void ExpectEnvelopeError(const HttpResponse& r, long status, int code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  nlohmann::json j = r.Json();
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["success"], false);
  EXPECT_TRUE(j["result"].is_null());
  ASSERT_TRUE(j["errors"].is_array());
  ASSERT_FALSE(j["errors"].empty());
  EXPECT_EQ(j["errors"][0]["code"], code) << r.body;
  EXPECT_TRUE(j["errors"][0]["message"].is_string());
  EXPECT_TRUE(j["messages"].is_array());
}

TEST_F(FoundationTest, EmptyListIsTheBareEnvelope) {
  HttpResponse r = server_.ApiGet("");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_EQ(r.body, R"({"result":[],"success":true,"errors":[],"messages":[]})");
}

TEST_F(FoundationTest, EveryResponseHasARequestId) {
  EXPECT_EQ(server_.ApiGet("").Header("x-request-id").size(), 16u);
  EXPECT_EQ(Get(server_.url() + "/healthz").Header("x-request-id").size(), 16u);
  EXPECT_EQ(Get(server_.url() + "/nowhere").Header("x-request-id").size(), 16u);
}

TEST_F(FoundationTest, HealthzAnswersOk) {
  HttpResponse r = Get(server_.url() + "/healthz");
  EXPECT_EQ(r.status, 200) << r.error << " " << server_.url();
  EXPECT_EQ(r.body, "ok\n");
}

TEST_F(FoundationTest, MetricsCountRequestsInPrometheusFormat) {
  server_.ApiGet("");
  HttpResponse r = Get(server_.url() + "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("kino_http_requests_total{"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("kino_http_request_duration_seconds_bucket{"), std::string::npos);
  EXPECT_NE(r.body.find("kino_http_in_flight_requests"), std::string::npos);
}

// Series are counted per route, method and status; a method Kino does not serve is counted as
// "other", so made-up methods cannot add series without bound.
TEST_F(FoundationTest, MetricsNameEachRouteAndFoldUnknownMethods) {
  EXPECT_EQ(Http({"BREW", server_.url() + "/healthz", {}, "", "", 10}).status, 405);
  EXPECT_EQ(Http({"MKCOFFEE", server_.url() + "/nowhere", {}, "", "", 10}).status, 404);
  EXPECT_EQ(Get(server_.url() + "/healthz").status, 200);
  std::string text = Get(server_.url() + "/metrics").body;
  EXPECT_NE(text.find(R"(kino_http_requests_total{route="/healthz",method="GET",status="200"} )"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(kino_http_requests_total{route="unmatched",method="other",status="405"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"(kino_http_requests_total{route="unmatched",method="other",status="404"} 1)"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.find("BREW"), std::string::npos);
  EXPECT_EQ(text.find("MKCOFFEE"), std::string::npos);
}

// Every account-scoped route refuses a request without credentials, with a bad token, and
// with a good token for another account.
TEST_F(FoundationTest, EveryApiRouteNeedsTheAccountsToken) {
  const std::string uid = "/00000000000000000000000000000001";
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", ""},
      {"POST", ""},
      {"GET", "/storage-usage"},
      {"POST", "/copy"},
      {"POST", "/direct_upload"},
      {"GET", uid},
      {"POST", uid},
      {"DELETE", uid},
      {"GET", uid + "/downloads"},
      {"POST", uid + "/downloads"},
      {"POST", uid + "/downloads/audio"},
      {"DELETE", uid + "/downloads"},
      {"DELETE", uid + "/downloads/default"},
      {"POST", uid + "/token"},
      {"GET", "/keys"},
      {"POST", "/keys"},
      {"DELETE", "/keys/00000000000000000000000000000002"},
      {"GET", "/webhook"},
      {"PUT", "/webhook"},
      {"DELETE", "/webhook"},
  };
  const std::string other = "/client/v4/accounts/ffffffffffffffffffffffffffffffff/stream";
  for (const auto& [method, path] : routes) {
    SCOPED_TRACE(method + " " + path);
    ExpectEnvelopeError(Http({method, server_.api() + path, {}, "", "", 30}), 401, 10000);
    ExpectEnvelopeError(Http({method,
                              server_.api() + path,
                              {{"Authorization", "Bearer wrong-token-xyz"}},
                              "",
                              "",
                              30}),
                        401, 10000);
    ExpectEnvelopeError(Http({method, server_.url() + other + path, server_.Auth(), "", "", 30}),
                        403, 10000);
  }
}

TEST_F(FoundationTest, UnknownRouteIs7003) {
  ExpectEnvelopeError(Get(server_.url() + "/client/v4/accounts/x/nothing/here", server_.Auth()),
                      404, 7003);
  ExpectEnvelopeError(server_.ApiGet("/a/b/c/d/e/f"), 404, 7003);
}

TEST_F(FoundationTest, WrongMethodIs405WithAllow) {
  HttpResponse r = Http({"PATCH", server_.api() + "/storage-usage", server_.Auth(), "", "", 30});
  ExpectEnvelopeError(r, 405, 7001);
  EXPECT_NE(r.Header("allow").find("GET"), std::string::npos);
}

TEST_F(FoundationTest, BadJsonBodyIs400) {
  HttpResponse r = server_.ApiPost("/00000000000000000000000000000001", "{not json");
  ExpectEnvelopeError(r, 400, 10001);
  ExpectEnvelopeError(server_.ApiPost("/00000000000000000000000000000001", "[1,2]"), 400, 10001);
}

TEST_F(FoundationTest, UnknownVideoIs404) {
  ExpectEnvelopeError(server_.ApiGet("/00000000000000000000000000000001"), 404, 10003);
  ExpectEnvelopeError(server_.ApiGet("/not-an-id"), 404, 10003);
  ExpectEnvelopeError(server_.ApiGet("/..%2f..%2fetc"), 400, 10002);
}

TEST_F(FoundationTest, BadListFiltersAre400) {
  ExpectEnvelopeError(server_.ApiGet("?limit=0"), 400, 10002);
  ExpectEnvelopeError(server_.ApiGet("?limit=abc"), 400, 10002);
  ExpectEnvelopeError(server_.ApiGet("?status=sideways"), 400, 10002);
  ExpectEnvelopeError(server_.ApiGet("?after=yesterday"), 400, 10002);
  EXPECT_EQ(server_.ApiGet("?limit=5&asc=true&status=ready").status, 200);
}

TEST_F(FoundationTest, StorageUsageStartsEmpty) {
  nlohmann::json j = server_.ApiGet("/storage-usage").Json();
  EXPECT_EQ(j["result"]["videoCount"], 0);
  EXPECT_EQ(j["result"]["totalStorageMinutes"], 0);
}

TEST_F(FoundationTest, OversizedHeaderIs431AndGarbageIs400) {
  int fd = ConnectRaw(server_.url());
  ASSERT_GE(fd, 0);
  std::string req =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  ASSERT_GT(write(fd, req.data(), req.size()), 0);
  EXPECT_NE(ReadAll(fd).find(" 431 "), std::string::npos);
  close(fd);

  fd = ConnectRaw(server_.url());
  ASSERT_GE(fd, 0);
  std::string junk = "\x01\x02 NOT HTTP AT ALL\r\n\r\n";
  ASSERT_GT(write(fd, junk.data(), junk.size()), 0);
  EXPECT_NE(ReadAll(fd).find(" 400 "), std::string::npos);
  close(fd);
  EXPECT_EQ(Get(server_.url() + "/healthz").status, 200);  // still serving
}

TEST_F(FoundationTest, KeepAliveServesPipelinedRequestsInOrder) {
  int fd = ConnectRaw(server_.url());
  ASSERT_GE(fd, 0);
  std::string two =
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n";
  ASSERT_GT(write(fd, two.data(), two.size()), 0);
  std::string out = ReadAll(fd);
  close(fd);
  size_t first = out.find("HTTP/1.1 200");
  size_t second = out.find("HTTP/1.1 404");
  ASSERT_NE(first, std::string::npos) << out;
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_LT(first, second);
}

TEST_F(FoundationTest, SigtermLetsTheRequestInFlightFinish) {
  // A request whose body is still arriving when SIGTERM comes.
  int fd = ConnectRaw(server_.url());
  ASSERT_GE(fd, 0);
  std::string body = R"({"meta":{"name":"x"}})";
  std::string head = "POST /client/v4/accounts/" + std::string(kTestAccount) +
                     "/stream/00000000000000000000000000000001 HTTP/1.1\r\nHost: x\r\n"
                     "Authorization: Bearer " +
                     kTestToken + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  ASSERT_GT(write(fd, head.data(), head.size()), 0);
  ASSERT_GT(write(fd, body.data(), 5), 0);
  usleep(200 * 1000);  // let the server read the header before the signal
  kill(server_.pid(), SIGTERM);
  usleep(200 * 1000);
  ASSERT_GT(write(fd, body.data() + 5, body.size() - 5), 0);
  std::string out = ReadAll(fd);
  close(fd);
  EXPECT_NE(out.find("HTTP/1.1 404"), std::string::npos) << out;  // answered, not dropped
  EXPECT_EQ(server_.Stop(SIGTERM, std::chrono::seconds(25)), 0);
}

TEST(FoundationRestartTest, DataSurvivesARestart) {
  KinoServer server;
  ASSERT_TRUE(server.Start()) << server.log();
  std::string out;
  std::string token = CreateApiToken(server, kTestAccount, "second", &out);
  ASSERT_FALSE(token.empty()) << out;

  EXPECT_EQ(server.Stop(), 0);
  ASSERT_TRUE(server.Restart()) << server.log();
  EXPECT_EQ(Get(server.api(), {{"Authorization", "Bearer " + token}}).status, 200);
  EXPECT_EQ(server.ApiGet("").status, 200);

  int code = 0;
  std::string list = Capture(
      "KINO_DATA_DIR=" + server.data_dir() + "/data " + KinoBinaryPath() + " tokens list", &code);
  EXPECT_NE(list.find("second"), std::string::npos) << list;
  // Revoking a token takes effect at once, without a restart.
  size_t second_line = list.find("second");
  size_t line_start = list.rfind('\n', second_line);
  line_start = line_start == std::string::npos ? 0 : line_start + 1;
  std::string id = list.substr(line_start, list.find(' ', line_start) - line_start);
  Capture(
      "KINO_DATA_DIR=" + server.data_dir() + "/data " + KinoBinaryPath() + " tokens revoke " + id,
      &code);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(Get(server.api(), {{"Authorization", "Bearer " + token}}).status, 401);
  EXPECT_EQ(server.ApiGet("").status, 200);
}

TEST(FoundationFirstStartTest, FirstStartWithoutCredentialsPrintsAccountAndToken) {
  KinoServer server(KinoServer::Options{{{"KINO_ACCOUNT_ID", ""}, {"KINO_API_TOKEN", ""}}, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  const std::string& out = server.startup_output();
  size_t a = out.find("created account ");
  size_t t = out.find("API token (shown once, keep it): ");
  ASSERT_NE(a, std::string::npos) << out;
  ASSERT_NE(t, std::string::npos) << out;
  std::string account = out.substr(a + 16, 32);
  std::string token = out.substr(t + 33, out.find('\n', t) - t - 33);
  HttpResponse r = Get(server.url() + "/client/v4/accounts/" + account + "/stream",
                       {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server.log().find(token), std::string::npos);  // never logged
}

TEST(FoundationCliTest, HelpDescribesCommandsAndFlags) {
  int code = 0;
  std::string top = Capture(KinoBinaryPath() + " --help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(top.find("serve"), std::string::npos);
  EXPECT_NE(top.find("tokens create"), std::string::npos);
  std::string serve = Capture(KinoBinaryPath() + " serve --help", &code);
  EXPECT_EQ(code, 0);
  for (const char* flag : {"--listen", "--data", "--public-url", "--workers", "KINO_LISTEN",
                           "KINO_DATA_DIR", "KINO_PUBLIC_URL", "KINO_WORKERS"}) {
    EXPECT_NE(serve.find(flag), std::string::npos) << flag;
  }
  Capture(KinoBinaryPath() + " serve --no-such-flag 2>/dev/null", &code);
  EXPECT_NE(code, 0);
  Capture(KinoBinaryPath() + " serve --listen nonsense 2>/dev/null", &code);
  EXPECT_NE(code, 0);
}

TEST(FoundationPublicUrlTest, PublicUrlIsTheBaseOfReturnedUrls) {
  KinoServer server(KinoServer::Options{{{"KINO_PUBLIC_URL", "https://videos.example.com/"}}, {}});
  ASSERT_TRUE(server.Start()) << server.log();
  EXPECT_EQ(server.ApiGet("").status, 200);
  EXPECT_NE(server.log().find("https://videos.example.com"), std::string::npos);
}

// A GeoIP database that cannot be opened stops the start with a clear error, rather than
// every country access rule being refused later.
TEST(FoundationStartTest, UnreadableGeoIpDatabaseStopsTheStart) {
  KinoServer server(KinoServer::Options{{{"KINO_GEOIP_DB", "/nonexistent/country.mmdb"}}, {}});
  EXPECT_FALSE(server.Start());
  std::string log = server.log();
  EXPECT_NE(log.find("startup_failed"), std::string::npos) << log;
  EXPECT_NE(log.find("--geoip-db"), std::string::npos) << log;
}

// CPU seconds (user + system) the process has used, from /proc/PID/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    } else if (i == 15) {
      stime = std::stoull(field);
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Out of descriptors, the server neither crashes nor spins on accept: new connections wait in
// the listen backlog and are served once open ones close. The soft limit is raised to the hard
// one at start (logged), so the test sets both low.
TEST(FoundationLimitsTest, RunningOutOfDescriptorsPausesAcceptingAndRecovers) {
  KinoServer server;
  server.RunThrough({"/usr/bin/prlimit", "--nofile=64:64", "--"});
  ASSERT_TRUE(server.Start()) << server.log();
  EXPECT_NE(server.log().find(R"("event":"open_file_limit")"), std::string::npos);
  EXPECT_NE(server.log().find(R"("limit":"64")"), std::string::npos) << server.log();

  std::vector<int> idle;
  for (int i = 0; i < 80; ++i) {
    int fd = ConnectRaw(server.url());  // completes in the backlog even when not accepted
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double before = CpuSeconds(server.pid());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double used = CpuSeconds(server.pid()) - before;
  EXPECT_LT(used, 0.3) << "the accept loop spins while out of descriptors";
  EXPECT_NE(server.log().find(R"("event":"accept_failed")"), std::string::npos);

  for (int fd : idle) {
    close(fd);
  }
  EXPECT_EQ(Get(server.url() + "/healthz").status, 200) << server.log();
}

}  // namespace
}  // namespace kino::testing

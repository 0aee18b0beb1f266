#include "common/log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kino::log {
namespace {

TEST(Log, LineIsOneJsonObjectWithFields) {
  std::string line = FormatLine(Level::kWarn, "job_retry", "retrying \"x\"", {{"job_id", "j1"}});
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["event"], "job_retry");
  EXPECT_EQ(j["msg"], "retrying \"x\"");
  EXPECT_EQ(j["job_id"], "j1");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(Redact, HidesBearerJwtPemAndQuerySecrets) {
  std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlc2ln";
  std::string text = "Authorization: Bearer abc123 token " + jwt +
                     " -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- "
                     "http://h/x?token=abc&ok=1";
  std::string out = RedactSecrets(text);
  EXPECT_EQ(out.find("abc123"), std::string::npos);
  EXPECT_EQ(out.find(jwt), std::string::npos);
  EXPECT_EQ(out.find("MIIE"), std::string::npos);
  EXPECT_EQ(out.find("token=abc"), std::string::npos);
  EXPECT_NE(out.find("ok=1"), std::string::npos);
}

TEST(Redact, UrlKeepsHostAndPathButNotSecrets) {
  std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlc2ln";
  EXPECT_EQ(RedactUrl("https://user:pw@example.com/" + jwt + "/downloads/default.mp4?x=1"),
            "https://example.com/[redacted]/downloads/default.mp4");
  EXPECT_EQ(RedactUrl("http://h:8080/a/b"), "http://h:8080/a/b");
}

TEST(Redact, UrlHidesBrokenTokensToo) {
  std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhYmMifQ.c2lnbmF0dXJlc2ln";
  EXPECT_EQ(RedactUrl("/" + jwt + "==/manifest/video.m3u8"), "/[redacted]/manifest/video.m3u8");
  EXPECT_EQ(RedactUrl("/" + jwt.substr(0, jwt.rfind('.')) + "/x"), "/[redacted]/x");
  EXPECT_EQ(RedactUrl("/" + std::string(80, 'a') + "/x"), "/[redacted]/x");
  EXPECT_EQ(RedactUrl("/0123456789abcdef0123456789abcdef/manifest/v360/seg_00001.m4s"),
            "/0123456789abcdef0123456789abcdef/manifest/v360/seg_00001.m4s");
}

}  // namespace
}  // namespace kino::log

// Webhooks over real HTTP: the real server notifies a real receiver (tests/support/
// webhook_receiver.h) that checks every signature with its own HMAC code. Covers the
// subscription API, the ready and error events, retries with backoff, same-host redirects,
// giving up, durability across a restart, download events, and 100 videos finishing together.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/crypto.h"
#include "common/strings.h"
#include "tests/support/kino_server.h"
#include "tests/support/webhook_receiver.h"

namespace kino::testing {
namespace {

using Delivery = WebhookReceiver::Delivery;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kRetryBaseMs = 50;

// A server that may call 127.0.0.1 and retries quickly.
KinoServer::Options FastRetries(std::vector<std::string> extra_args = {}) {
  KinoServer::Options o;
  o.env = {{"KINO_ALLOW_PRIVATE_URLS", "1"},
           {"KINO_WEBHOOK_RETRY_BASE_MS", std::to_string(kRetryBaseMs)},
           {"KINO_WEBHOOK_MAX_BACKOFF_SECONDS", "1"}};
  o.args = std::move(extra_args);
  return o;
}

HttpResponse PutWebhook(const KinoServer& server, const std::string& json_body) {
  HeaderList headers = server.Auth();
  headers.emplace_back("Content-Type", "application/json");
  return Put(server.api() + "/webhook", json_body, headers);
}

// Subscribes `receiver` (at `path`) and hands it the secret. Returns the result object.
nlohmann::json Subscribe(const KinoServer& server, WebhookReceiver& receiver,
                         const std::string& path = "/hook", bool download_events = false) {
  nlohmann::json body = {{"notificationUrl", receiver.url(path)}};
  if (download_events) {
    body["downloadEvents"] = true;
  }
  HttpResponse r = PutWebhook(server, body.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  nlohmann::json result = r.Json()["result"];
  receiver.set_secret(result.value("secret", ""));
  return result;
}

// POSTs of one event id (the receiver also sees the GETs of upload by link).
std::vector<Delivery> PostsOf(const std::vector<Delivery>& all, const std::string& event_id) {
  std::vector<Delivery> out;
  for (const auto& d : all) {
    if (d.method == "POST" && d.event_id == event_id) {
      out.push_back(d);
    }
  }
  return out;
}

int Successes(const std::vector<Delivery>& ds) {
  return static_cast<int>(std::count_if(ds.begin(), ds.end(), [](const Delivery& d) {
    return d.answered >= 200 && d.answered <= 299;
  }));
}

WebhookReceiver::Answer Status(int status) {
  WebhookReceiver::Answer a;
  a.status = status;
  return a;
}

// The attempts the API shows for the account, newest first.
nlohmann::json Attempts(const KinoServer& server) {
  return server.ApiGet("/webhook/attempts").Json()["result"];
}

// Polls the attempts list until the event reached `state`.
bool WaitForEventState(const KinoServer& server, const std::string& event_id,
                       const std::string& state, milliseconds timeout = seconds(30)) {
  return WaitFor(
      [&] {
        for (const auto& a : Attempts(server)) {
          if (a["eventId"] == event_id && a["eventState"] == state) {
            return true;
          }
        }
        return false;
      },
      timeout);
}

// The value of one series of /metrics ("" when absent).
std::string Metric(const KinoServer& server, const std::string& series) {
  std::string text = Get(server.url() + "/metrics").body;
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) {
    return "";
  }
  size_t start = at + series.size() + 2;
  return text.substr(start, text.find('\n', start) - start);
}

std::string DeliveriesSeries(const std::string& outcome) {
  return "kino_webhook_deliveries_total{outcome=\"" + outcome + "\"}";
}

// A direct creator upload of `data`, which Kino refuses (a text file is ERR_MALFORMED_VIDEO);
// the video stays, in error, so its webhook goes out. Returns the video's uid.
std::string UploadNonVideo(const KinoServer& server, const std::string& data = "not a video\n",
                           const std::string& filename = "notes.txt") {
  nlohmann::json created =
      server.ApiPost("/direct_upload", R"({"maxDurationSeconds": 60})").Json()["result"];
  std::string content_type;
  std::string body = MultipartBody("file", filename, data, &content_type);
  HttpResponse r = Post(created.value("uploadURL", ""), body, {{"Content-Type", content_type}});
  EXPECT_EQ(r.status, 400) << r.body;
  return created.value("uid", "");
}

// The receiver's checker is not vacuous: it accepts exactly the header Kino's own HMAC code
// makes, and refuses every change to it.
TEST(WebhookReceiverTest, SignatureCheckAcceptsOnlyTheRightSignature) {
  const std::string secret = "85011ed3a913c6ad5f9cf6c5573cc0a7";
  const std::string body = R"({"uid":"abc"})";
  std::string sig = HexEncode(HmacSha256(secret, "1230811200." + body));
  std::string good = "time=1230811200,sig1=" + sig;
  int64_t t = 0;
  EXPECT_TRUE(VerifyWebhookSignature(secret, good, body, &t));
  EXPECT_EQ(t, 1230811200);

  std::string upper = sig;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  for (const std::string& bad : {"time=1230811201,sig1=" + sig, "time=1230811200,sig1=" + upper,
                                 "time=1230811200,sig1=" + sig.substr(1), "sig1=" + sig,
                                 std::string("time=1230811200"), std::string()}) {
    EXPECT_FALSE(VerifyWebhookSignature(secret, bad, body, &t)) << bad;
  }
  EXPECT_FALSE(VerifyWebhookSignature(secret, good, body + " ", &t));
  EXPECT_FALSE(VerifyWebhookSignature(secret + "0", good, body, &t));
}

class WebhooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(receiver_.Start());
    ASSERT_TRUE(server_.Start()) << server_.log();
  }

  // Waits for the first POST whose body is the video `uid` and returns it.
  Delivery WaitForVideoEvent(const std::string& uid, seconds timeout = seconds(120)) {
    Delivery found;
    receiver_.WaitFor(
        [&](const std::vector<Delivery>& all) {
          for (const auto& d : all) {
            nlohmann::json j = nlohmann::json::parse(d.body, nullptr, false);
            if (d.method == "POST" && j.is_object() && j.value("uid", "") == uid) {
              found = d;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  WebhookReceiver receiver_;
  KinoServer server_{FastRetries()};
  TempDir media_;
};

TEST_F(WebhooksTest, SubscriptionRoundTripsAndKeepsItsSecret) {
  HttpResponse put = PutWebhook(server_, R"({"notification_url": "http://127.0.0.1:9/a"})");
  ASSERT_EQ(put.status, 200) << put.body;
  nlohmann::json first = put.Json()["result"];
  EXPECT_EQ(first["notificationUrl"], "http://127.0.0.1:9/a");
  EXPECT_TRUE(first["modified"].is_string());
  ASSERT_TRUE(first["secret"].is_string());
  EXPECT_EQ(first["secret"].get<std::string>().size(), 32u);
  EXPECT_FALSE(first.contains("downloadEvents"));

  EXPECT_EQ(server_.ApiGet("/webhook").Json()["result"], first);

  nlohmann::json second =
      PutWebhook(server_, R"({"notificationUrl": "https://127.0.0.1:9/b", "downloadEvents": true})")
          .Json()["result"];
  EXPECT_EQ(second["notificationUrl"], "https://127.0.0.1:9/b");
  EXPECT_EQ(second["secret"], first["secret"]);
  EXPECT_EQ(second["downloadEvents"], true);

  HttpResponse del = server_.ApiDelete("/webhook");
  EXPECT_EQ(del.status, 200);
  EXPECT_EQ(del.Json()["result"], "ok");
  EXPECT_EQ(server_.ApiGet("/webhook").status, 404);
  EXPECT_EQ(server_.ApiDelete("/webhook").status, 404);
  EXPECT_EQ(server_.ApiGet("/webhook/attempts").status, 404);

  // A new subscription after a delete gets a new secret.
  nlohmann::json third =
      PutWebhook(server_, R"({"notificationUrl": "http://127.0.0.1:9/c"})").Json()["result"];
  EXPECT_NE(third["secret"], first["secret"]);
}

TEST_F(WebhooksTest, BadSubscriptionsAre400) {
  for (const char* body : {
           R"({})",
           R"({"notificationUrl": ""})",
           R"({"notificationUrl": "ftp://127.0.0.1/x"})",
           R"({"notificationUrl": "127.0.0.1/no-scheme"})",
           R"({"notificationUrl": "http://127.0.0.1/a b"})",
           R"({"notificationUrl": 42})",
           R"({"notificationUrl": "http://127.0.0.1/", "downloadEvents": "yes"})",
           R"(not json)",
       }) {
    HttpResponse r = PutWebhook(server_, body);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
    EXPECT_EQ(r.Json()["success"], false) << body;
  }
  EXPECT_EQ(server_.ApiGet("/webhook").status, 404);  // nothing was saved
}

TEST(WebhooksGuardTest, PrivateAddressesAreRefusedUnlessAllowed) {
  KinoServer server;  // no KINO_ALLOW_PRIVATE_URLS
  ASSERT_TRUE(server.Start()) << server.log();
  for (const char* url : {"http://127.0.0.1:8080/h", "http://localhost/h", "http://10.1.2.3/h",
                          "http://192.168.0.1/h", "http://[::1]/h", "http://169.254.169.254/"}) {
    HttpResponse r = PutWebhook(server, nlohmann::json{{"notificationUrl", url}}.dump());
    EXPECT_EQ(r.status, 400) << url << " -> " << r.body;
  }
  EXPECT_EQ(PutWebhook(server, R"({"notificationUrl": "https://hooks.example.com/x"})").status,
            200);
}

// The ready event, then (opted in) the download event, in that order, both signed.
TEST_F(WebhooksTest, ReadyEventThenDownloadEventAreSignedAndInOrder) {
  Subscribe(server_, receiver_, "/hook", /*download_events=*/true);
  std::string file = media_.Join("v.mp4");
  ASSERT_TRUE(MakeTestVideo(file, 1, "160x120"));
  std::string uid = UploadFile(server_, file);
  ASSERT_FALSE(uid.empty());

  Delivery ready = WaitForVideoEvent(uid);
  ASSERT_FALSE(ready.body.empty()) << server_.log();
  EXPECT_TRUE(ready.signature_ok) << ready.headers["webhook-signature"];
  EXPECT_EQ(ready.path, "/hook");
  EXPECT_EQ(ready.headers["content-type"], "application/json");
  EXPECT_EQ(ready.headers["webhook-event"], "video.ready");
  EXPECT_EQ(ready.event_id.size(), 32u);
  int64_t now =
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_LE(std::abs(now - ready.signed_time), 60);

  // The bare video object, as GET returns it inside the envelope.
  nlohmann::json body = nlohmann::json::parse(ready.body);
  EXPECT_FALSE(body.contains("result"));
  EXPECT_FALSE(body.contains("success"));
  EXPECT_EQ(body["status"]["state"], "ready");
  EXPECT_EQ(body["readyToStream"], true);
  nlohmann::json got = server_.ApiGet("/" + uid).Json()["result"];
  EXPECT_EQ(body["playback"], got["playback"]);
  EXPECT_EQ(body["duration"], got["duration"]);

  ASSERT_EQ(server_.ApiPost("/" + uid + "/downloads", "").status, 200);
  ASSERT_TRUE(receiver_.WaitFor(
      [](const std::vector<Delivery>& all) {
        return std::any_of(all.begin(), all.end(), [](const Delivery& d) {
          return d.headers.count("webhook-event") &&
                 d.headers.at("webhook-event") == "download.ready";
        });
      },
      seconds(120)))
      << server_.log();
  std::vector<Delivery> all = receiver_.deliveries();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].headers["webhook-event"], "video.ready");
  EXPECT_EQ(all[1].headers["webhook-event"], "download.ready");
  EXPECT_TRUE(all[1].signature_ok);
  EXPECT_NE(all[1].event_id, all[0].event_id);
  nlohmann::json download = nlohmann::json::parse(all[1].body);
  EXPECT_EQ(download["type"], "download.ready");
  EXPECT_EQ(download["uid"], uid);
  EXPECT_EQ(download["download"]["type"], "default");
  EXPECT_EQ(download["download"]["status"], "ready");
  EXPECT_EQ(download["download"]["percentComplete"], 100);
  EXPECT_EQ(Get(download["download"]["url"].get<std::string>()).status, 200);
  EXPECT_EQ(download["video"]["uid"], uid);
}

TEST_F(WebhooksTest, ErrorEventForANonVideo) {
  Subscribe(server_, receiver_);
  std::string audio = media_.Join("tone.m4a");
  ASSERT_TRUE(RunFfmpeg("-f lavfi -i sine=frequency=440:duration=0.5 -c:a aac " + audio));
  std::string uid = UploadNonVideo(server_, ReadFile(audio), "tone.m4a");
  ASSERT_FALSE(uid.empty());
  Delivery d = WaitForVideoEvent(uid, seconds(30));
  ASSERT_FALSE(d.body.empty()) << server_.log();
  EXPECT_TRUE(d.signature_ok);
  EXPECT_EQ(d.headers["webhook-event"], "video.error");
  nlohmann::json body = nlohmann::json::parse(d.body);
  EXPECT_EQ(body["status"]["state"], "error");
  EXPECT_EQ(body["status"]["errorReasonCode"], "ERR_NON_VIDEO");
  EXPECT_EQ(body["readyToStream"], false);
}

// A refused basic upload answers 400 and keeps no video, so it sends nothing.
TEST_F(WebhooksTest, RefusedBasicUploadSendsNoEvent) {
  Subscribe(server_, receiver_);
  std::string content_type;
  std::string body = MultipartBody("file", "notes.txt", "not a video", &content_type);
  HeaderList headers = server_.Auth();
  headers.emplace_back("Content-Type", content_type);
  EXPECT_EQ(Post(server_.api(), body, headers).status, 400);
  std::string marker = UploadNonVideo(server_);  // a later event of another video
  ASSERT_TRUE(WaitForVideoEvent(marker, seconds(30)).signature_ok);
  EXPECT_EQ(receiver_.deliveries().size(), 1u);
}

TEST_F(WebhooksTest, ThreeFailuresThenSuccessIsDeliveredOnceWithBackoff) {
  Subscribe(server_, receiver_);
  receiver_.set_responder([](const Delivery&, int nth) {
    WebhookReceiver::Answer a;
    a.status = nth <= 3 ? 500 : 200;
    return a;
  });
  std::string uid = UploadNonVideo(server_);
  Delivery first = WaitForVideoEvent(uid, seconds(30));
  ASSERT_FALSE(first.event_id.empty()) << server_.log();
  ASSERT_TRUE(WaitForEventState(server_, first.event_id, "delivered")) << server_.log();

  std::vector<Delivery> posts = PostsOf(receiver_.deliveries(), first.event_id);
  ASSERT_EQ(posts.size(), 4u);
  EXPECT_EQ(Successes(posts), 1);
  EXPECT_EQ(posts[3].answered, 200);
  for (size_t i = 0; i < posts.size(); ++i) {
    EXPECT_TRUE(posts[i].signature_ok) << i;
    EXPECT_EQ(posts[i].body, first.body) << i;  // the same event, byte for byte
  }
  // Exponential backoff with jitter over the upper half: the n-th retry waits at least
  // base * 2^(n-1) / 2.
  for (size_t i = 1; i < posts.size(); ++i) {
    auto gap = std::chrono::duration_cast<milliseconds>(posts[i].at - posts[i - 1].at).count();
    EXPECT_GE(gap, (kRetryBaseMs << (i - 1)) / 2) << "retry " << i;
  }

  nlohmann::json attempts = Attempts(server_);
  ASSERT_EQ(attempts.size(), 4u);
  EXPECT_EQ(attempts[0]["httpStatus"], 200);
  EXPECT_EQ(attempts[0]["error"], "");
  EXPECT_EQ(attempts[0]["videoUid"], uid);
  EXPECT_EQ(attempts[0]["kind"], "video.error");
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(attempts[i]["httpStatus"], 500);
    EXPECT_EQ(attempts[i]["error"], "HTTP 500");
    EXPECT_TRUE(attempts[i]["latencyMs"].is_number());
    EXPECT_TRUE(attempts[i]["attempted"].is_string());
    EXPECT_EQ(attempts[i]["eventState"], "delivered");
  }
  EXPECT_EQ(Metric(server_, DeliveriesSeries("delivered")), "1");
  EXPECT_EQ(Metric(server_, DeliveriesSeries("failed_attempt")), "3");
  EXPECT_EQ(Metric(server_, DeliveriesSeries("given_up")), "0");
}

// The video's download event is written while its ready event is still failing: it waits, and
// goes out only after the ready event was delivered.
TEST_F(WebhooksTest, AVideosEventsGoOutInTheOrderTheyHappened) {
  Subscribe(server_, receiver_, "/hook", /*download_events=*/true);
  std::atomic<bool> accept_ready{false};
  receiver_.set_responder([&accept_ready](const Delivery& d, int) {
    bool is_ready =
        d.headers.count("webhook-event") && d.headers.at("webhook-event") == "video.ready";
    return Status(is_ready && !accept_ready.load() ? 500 : 200);
  });
  std::string file = media_.Join("v.mp4");
  ASSERT_TRUE(MakeTestVideo(file, 1, "160x120"));
  std::string uid = UploadFile(server_, file);
  ASSERT_FALSE(WaitForVideoEvent(uid).body.empty()) << server_.log();

  ASSERT_EQ(server_.ApiPost("/" + uid + "/downloads", "").status, 200);
  ASSERT_TRUE(WaitFor([&] {
    return server_.ApiGet("/" + uid + "/downloads").Json()["result"]["default"]["status"] ==
           "ready";
  })) << server_.log();
  // Two more failed tries of the ready event after the download became ready.
  size_t now = receiver_.deliveries().size();
  ASSERT_TRUE(
      receiver_.WaitFor([&](const auto& all) { return all.size() >= now + 2; }, seconds(30)));
  accept_ready = true;

  ASSERT_TRUE(receiver_.WaitFor(
      [](const std::vector<Delivery>& all) {
        return !all.empty() && all.back().headers.at("webhook-event") == "download.ready";
      },
      seconds(30)))
      << server_.log();
  std::vector<Delivery> all = receiver_.deliveries();
  ASSERT_GE(all.size(), 4u);
  for (size_t i = 0; i + 2 < all.size(); ++i) {
    EXPECT_EQ(all[i].headers.at("webhook-event"), "video.ready") << i;
    EXPECT_EQ(all[i].answered, 500) << i;
  }
  EXPECT_EQ(all[all.size() - 2].headers.at("webhook-event"), "video.ready");
  EXPECT_EQ(all[all.size() - 2].answered, 200);
  EXPECT_EQ(all.back().answered, 200);
}

TEST(WebhooksTimeoutTest, ASlowReceiverTimesOutAndIsRetried) {
  WebhookReceiver receiver;
  ASSERT_TRUE(receiver.Start());
  receiver.set_responder([](const Delivery&, int nth) {
    WebhookReceiver::Answer a;
    a.delay = nth == 1 ? milliseconds(1500) : milliseconds(0);
    return a;
  });
  KinoServer server(FastRetries({"--webhook-timeout-ms", "300"}));
  ASSERT_TRUE(server.Start()) << server.log();
  Subscribe(server, receiver);

  UploadNonVideo(server);
  ASSERT_TRUE(receiver.WaitFor([](const auto& all) { return !all.empty(); }, seconds(30)));
  std::string event_id = receiver.deliveries()[0].event_id;
  ASSERT_TRUE(WaitForEventState(server, event_id, "delivered")) << server.log();
  nlohmann::json attempts = Attempts(server);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_TRUE(attempts[1]["httpStatus"].is_null());
  EXPECT_NE(attempts[1]["error"].get<std::string>().find("timeout"), std::string::npos)
      << attempts[1];
  EXPECT_LT(attempts[1]["latencyMs"].get<int64_t>(), 1500);
  EXPECT_EQ(attempts[0]["httpStatus"], 200);
}

// Kino reads at most 64 KiB of an answer; the status line alone decides the outcome.
TEST_F(WebhooksTest, AnOversizedAnswerIsCutOffAndItsStatusCounts) {
  Subscribe(server_, receiver_);
  receiver_.set_responder([](const Delivery&, int) {
    WebhookReceiver::Answer a;
    a.body.assign(1 << 20, 'x');
    return a;
  });
  UploadNonVideo(server_);
  ASSERT_TRUE(receiver_.WaitFor([](const auto& all) { return !all.empty(); }, seconds(30)));
  std::string event_id = receiver_.deliveries()[0].event_id;
  ASSERT_TRUE(WaitForEventState(server_, event_id, "delivered")) << server_.log();
  nlohmann::json attempts = Attempts(server_);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0]["httpStatus"], 200);
  EXPECT_EQ(attempts[0]["error"], "response body larger than 65536 bytes");
}

TEST_F(WebhooksTest, DeletingTheSubscriptionStopsRetries) {
  Subscribe(server_, receiver_);
  receiver_.set_responder([](const Delivery&, int) { return Status(500); });
  UploadNonVideo(server_);
  ASSERT_TRUE(receiver_.WaitFor([](const auto& all) { return all.size() >= 2; }, seconds(30)));
  ASSERT_EQ(server_.ApiDelete("/webhook").status, 200);

  // At most the attempt already on the wire when the subscription went.
  size_t sent = receiver_.deliveries().size();
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_LE(receiver_.deliveries().size(), sent + 1);
}

TEST_F(WebhooksTest, RedirectsAreFollowedOnlyOnTheSameHost) {
  int port = receiver_.port();
  receiver_.set_responder([port](const Delivery& d, int) {
    WebhookReceiver::Answer a;
    if (d.path == "/moved-here") {
      a.status = 307;
      a.headers = {{"Location", "/final"}};
    } else if (d.path == "/moved-away") {
      a.status = 308;
      a.headers = {{"Location", "http://localhost:" + std::to_string(port) + "/final"}};
    }
    return a;
  });

  Subscribe(server_, receiver_, "/moved-here");
  std::string followed = UploadNonVideo(server_);
  Delivery first = WaitForVideoEvent(followed, seconds(30));
  ASSERT_TRUE(WaitForEventState(server_, first.event_id, "delivered")) << server_.log();
  std::vector<Delivery> posts = PostsOf(receiver_.deliveries(), first.event_id);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[1].path, "/final");
  EXPECT_TRUE(posts[1].signature_ok);

  Subscribe(server_, receiver_, "/moved-away");
  std::string refused = UploadNonVideo(server_);
  Delivery away = WaitForVideoEvent(refused, seconds(30));
  ASSERT_TRUE(WaitFor([&] { return Attempts(server_)[0]["eventId"] == away.event_id; }));
  EXPECT_EQ(Attempts(server_)[0]["error"], "redirect to another host not followed");
  for (const auto& d : receiver_.deliveries()) {
    EXPECT_EQ(d.headers.at("host").rfind("127.0.0.1:", 0), 0u) << "followed to " << d.path;
  }
}

TEST(WebhooksGiveUpTest, AnEventPastItsMaximumAgeIsGivenUpWithAWarning) {
  WebhookReceiver receiver;
  ASSERT_TRUE(receiver.Start());
  receiver.set_responder([](const Delivery&, int) { return Status(503); });
  KinoServer server(FastRetries({"--webhook-max-age-seconds", "1"}));
  ASSERT_TRUE(server.Start()) << server.log();
  Subscribe(server, receiver);

  std::string uid = UploadNonVideo(server);
  ASSERT_TRUE(receiver.WaitFor([](const auto& all) { return !all.empty(); }, seconds(30)));
  std::string event_id = receiver.deliveries()[0].event_id;
  ASSERT_TRUE(WaitForEventState(server, event_id, "given_up")) << server.log();

  EXPECT_EQ(Metric(server, DeliveriesSeries("given_up")), "1");
  EXPECT_EQ(Metric(server, DeliveriesSeries("delivered")), "0");
  std::string log = server.log();
  size_t line = log.find("\"event\":\"webhook_given_up\"");
  ASSERT_NE(line, std::string::npos) << log;
  std::string given_up = log.substr(log.rfind('\n', line) + 1);
  given_up = given_up.substr(0, given_up.find('\n'));
  EXPECT_NE(given_up.find("\"level\":\"warn\""), std::string::npos) << given_up;
  EXPECT_NE(given_up.find(uid), std::string::npos) << given_up;
  // Never the secret.
  std::string secret = server.ApiGet("/webhook").Json()["result"]["secret"];
  EXPECT_EQ(log.find(secret), std::string::npos);

  // Given up means no more attempts.
  size_t sent = receiver.deliveries().size();
  std::this_thread::sleep_for(milliseconds(1500));
  EXPECT_EQ(receiver.deliveries().size(), sent);
}

TEST_F(WebhooksTest, UndeliveredEventsAreDeliveredAfterARestart) {
  Subscribe(server_, receiver_);
  int port = receiver_.port();
  receiver_.Stop();  // the receiver is down

  std::string uid = UploadNonVideo(server_);
  ASSERT_TRUE(WaitFor([&] {
    nlohmann::json a = Attempts(server_);
    return a.size() >= 2 && a[0]["httpStatus"].is_null();
  })) << server_.log();
  EXPECT_NE(Attempts(server_)[0]["error"], "");
  EXPECT_EQ(Attempts(server_)[0]["eventState"], "pending");

  ASSERT_EQ(server_.Stop(), 0);
  ASSERT_TRUE(receiver_.Start(port));
  ASSERT_TRUE(server_.Restart()) << server_.log();

  Delivery d = WaitForVideoEvent(uid, seconds(30));
  ASSERT_FALSE(d.body.empty()) << server_.log();
  ASSERT_TRUE(WaitForEventState(server_, d.event_id, "delivered"));
  std::vector<Delivery> posts = PostsOf(receiver_.deliveries(), d.event_id);
  EXPECT_EQ(Successes(posts), 1);
  for (const auto& p : posts) {
    EXPECT_TRUE(p.signature_ok);
  }
}

// 100 videos uploaded while no encoder runs, then one restart with two encoders: they finish
// within seconds of each other. Every first attempt is answered 503, so each event is also
// retried once under that load.
TEST(WebhooksLoadTest, HundredVideosFinishingTogetherArriveOnceEach) {
  constexpr int kVideos = 100;
  WebhookReceiver receiver;
  ASSERT_TRUE(receiver.Start());
  receiver.set_responder([](const Delivery&, int nth) { return Status(nth == 1 ? 503 : 200); });
  KinoServer server(FastRetries({"--workers", "0"}));
  ASSERT_TRUE(server.Start()) << server.log();
  Subscribe(server, receiver);

  TempDir media;
  std::string file = media.Join("tiny.mp4");
  ASSERT_TRUE(MakeTestVideo(file, 0.3, "64x64"));
  std::set<std::string> uids;
  for (int i = 0; i < kVideos; ++i) {
    std::string uid = UploadFile(server, file);
    ASSERT_FALSE(uid.empty()) << i;
    uids.insert(uid);
  }
  EXPECT_TRUE(receiver.deliveries().empty());  // nothing finished without an encoder
  ASSERT_EQ(server.Stop(), 0);
  server.options().args = {"--workers", "2"};
  auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(server.Restart()) << server.log();

  auto all_delivered = [&](const std::vector<Delivery>& all) {
    std::set<std::string> done;
    for (const auto& d : all) {
      if (d.answered == 200) {
        done.insert(d.event_id);
      }
    }
    return done.size() >= static_cast<size_t>(kVideos);
  };
  ASSERT_TRUE(receiver.WaitFor(all_delivered, seconds(300))) << server.log();
  std::vector<Delivery> all = receiver.deliveries();

  std::map<std::string, std::vector<Delivery>> by_event;
  std::set<std::string> ready_uids;
  for (const auto& d : all) {
    EXPECT_TRUE(d.signature_ok) << d.event_id;
    by_event[d.event_id].push_back(d);
  }
  EXPECT_EQ(by_event.size(), static_cast<size_t>(kVideos));
  auto first_ok = std::chrono::steady_clock::time_point::max();
  auto last_ok = std::chrono::steady_clock::time_point::min();
  for (const auto& [id, ds] : by_event) {
    EXPECT_EQ(Successes(ds), 1) << id;
    EXPECT_EQ(ds.size(), 2u) << id;  // 503, then 200
    nlohmann::json body = nlohmann::json::parse(ds.back().body);
    EXPECT_EQ(body["status"]["state"], "ready");
    ready_uids.insert(body.value("uid", ""));
    first_ok = std::min(first_ok, ds.back().at);
    last_ok = std::max(last_ok, ds.back().at);
  }
  EXPECT_EQ(ready_uids, uids);
  EXPECT_EQ(Metric(server, DeliveriesSeries("delivered")), std::to_string(kVideos));
  auto ms = [](auto d) { return std::chrono::duration_cast<milliseconds>(d).count(); };
  std::printf("[ info ] %d videos: first delivery %lld ms after the restart, last %lld ms\n",
              kVideos, static_cast<long long>(ms(first_ok - restarted)),
              static_cast<long long>(ms(last_ok - restarted)));
}

}  // namespace
}  // namespace kino::testing

// Two Kino nodes on one PostgreSQL database: what one is given, the other serves and works on.
//
// Needs KINO_TEST_POSTGRES_URL (scripts/postgres.sh start; scripts/test.sh's "postgres" suite
// does it). Each test gets a fresh schema in that database. The nodes share one data directory,
// standing for the shared file system their blobs need until blobs move to object storage.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "storage/test_database.h"
#include "tests/support/kino_server.h"

namespace kino::testing {
namespace {

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("KINO_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') {
      GTEST_SKIP() << "KINO_TEST_POSTGRES_URL is not set: start a server with "
                      "scripts/postgres.sh start";
    }
    auto schema = storage::TestSchema::Create(url);
    ASSERT_TRUE(schema.ok()) << schema.status().ToString();
    schema_ = std::move(schema).value();
  }

  // A node on the test schema and the shared data directory.
  std::unique_ptr<KinoServer> Node(const std::string& node_id) {
    KinoServer::Options options;
    options.env = {{"KINO_DATA_DIR", shared_.Join("data")}};
    options.args = {"--database-url", schema_->url(), "--node-id", node_id};
    return std::make_unique<KinoServer>(options);
  }

  TempDir shared_;
  std::unique_ptr<storage::TestSchema> schema_;
};

TEST_F(PostgresTest, VideoUploadedToOneNodeIsReadyOnBoth) {
  // Both nodes start at once on an empty schema: one applies the migrations, the other waits.
  auto a = Node("a");
  auto b = Node("b");
  bool a_started = false;
  std::thread start_a([&] { a_started = a->Start(); });
  bool b_started = b->Start();
  start_a.join();
  ASSERT_TRUE(a_started) << a->log();
  ASSERT_TRUE(b_started) << b->log();

  std::string video = shared_.Join("in.mp4");
  ASSERT_TRUE(MakeTestVideo(video, 2));
  std::string uid = UploadFile(*a, video);
  ASSERT_FALSE(uid.empty()) << a->log();
  nlohmann::json ready = WaitForState(*a, uid, "ready");
  ASSERT_EQ(ready["status"]["state"], "ready") << ready.dump() << a->log() << b->log();

  HttpResponse on_b = b->ApiGet("/" + uid);
  ASSERT_EQ(on_b.status, 200) << on_b.body;
  EXPECT_EQ(on_b.Json()["result"]["status"]["state"], "ready");
  EXPECT_EQ(on_b.Json()["result"]["readyToStream"], true);
  HttpResponse list = b->ApiGet("");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.Json()["result"].size(), 1u);
  EXPECT_EQ(list.Json()["result"][0]["uid"], uid);

  // The row is in PostgreSQL, and no SQLite file was made beside the blobs.
  auto db = storage::OpenPostgres(schema_->url());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto rows = (*db)->Query("SELECT state FROM videos WHERE uid = $1", {storage::Text(uid)});
  ASSERT_TRUE(rows.ok() && rows->size() == 1);
  EXPECT_EQ((*rows)[0].Text(0), "ready");
  EXPECT_FALSE(std::filesystem::exists(shared_.Join("data/kino.db")));
}

TEST_F(PostgresTest, DownloadAskedOfOneNodeIsMadeAndSeenByTheOther) {
  auto a = Node("a");
  ASSERT_TRUE(a->Start()) << a->log();
  auto b = Node("b");
  ASSERT_TRUE(b->Start()) << b->log();
  std::string video = shared_.Join("in.mp4");
  ASSERT_TRUE(MakeTestVideo(video, 2));
  std::string uid = UploadFile(*b, video);
  ASSERT_FALSE(uid.empty()) << b->log();
  ASSERT_EQ(WaitForState(*b, uid, "ready")["status"]["state"], "ready") << b->log();

  HttpResponse created = b->ApiPost("/" + uid + "/downloads", "{}");
  ASSERT_EQ(created.status, 200) << created.body;
  nlohmann::json last;
  bool ready = WaitFor([&] {
    last = a->ApiGet("/" + uid + "/downloads").Json();
    return last["result"]["default"].value("status", "") == "ready";
  });
  EXPECT_TRUE(ready) << last.dump() << a->log() << b->log();
}

TEST_F(PostgresTest, TokensCommandUsesTheDatabaseUrl) {
  auto a = Node("a");
  ASSERT_TRUE(a->Start()) << a->log();
  int code = 0;
  std::string out =
      CaptureCommand("env -u KINO_DATA_DIR " + KinoBinaryPath() + " tokens list --database-url '" +
                         schema_->url() + "' --data " + shared_.Join("cli"),
                     &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("KINO_API_TOKEN"), std::string::npos) << out;
  EXPECT_NE(out.find(kTestAccount), std::string::npos) << out;
}

TEST_F(PostgresTest, UnreachableDatabaseStopsTheStartWithAClearError) {
  KinoServer::Options options;
  options.args = {"--database-url", "postgres://kino:sekrit@127.0.0.1:1/kino"};
  KinoServer node(options);
  EXPECT_FALSE(node.Start());
  std::string log = node.log();
  EXPECT_NE(log.find("startup_failed"), std::string::npos) << log;
  EXPECT_NE(log.find("PostgreSQL"), std::string::npos) << log;
  EXPECT_EQ(log.find("sekrit"), std::string::npos) << log;
}

}  // namespace
}  // namespace kino::testing

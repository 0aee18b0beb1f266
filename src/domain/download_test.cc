#include "domain/download.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "domain/account.h"
#include "domain/video.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::domain {
namespace {

class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    std::string account = NewId();
    ASSERT_TRUE(AccountRepository::Ensure(*db_, account).ok());
    Video v;
    v.uid = uid_;
    v.account_id = account;
    ASSERT_TRUE(VideoRepository::Insert(*db_, v).ok());
  }

  Download Make(DownloadType type) {
    Download d;
    d.video_uid = uid_;
    d.type = type;
    return d;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::string uid_ = NewId();
};

TEST_F(DownloadTest, InsertIsIdempotent) {
  Download d = Make(DownloadType::kDefault);
  EXPECT_TRUE(*DownloadRepository::InsertIfAbsent(*db_, d));
  EXPECT_FALSE(*DownloadRepository::InsertIfAbsent(*db_, d));
  EXPECT_EQ(DownloadRepository::List(*db_, uid_)->size(), 1u);
}

TEST_F(DownloadTest, LifecycleToReadyAndRestart) {
  Download d = Make(DownloadType::kAudio);
  ASSERT_TRUE(DownloadRepository::InsertIfAbsent(*db_, d).ok());
  ASSERT_TRUE(DownloadRepository::SetProgress(*db_, uid_, DownloadType::kAudio, 50).ok());
  ASSERT_TRUE(DownloadRepository::MarkReady(*db_, uid_, DownloadType::kAudio, 10, "ab").ok());
  auto got = DownloadRepository::Get(*db_, uid_, DownloadType::kAudio);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, DownloadStatus::kReady);
  EXPECT_EQ((*got)->percent_complete, 100);
  ASSERT_TRUE(DownloadRepository::Restart(*db_, uid_, DownloadType::kAudio).ok());
  got = DownloadRepository::Get(*db_, uid_, DownloadType::kAudio);
  EXPECT_EQ((*got)->status, DownloadStatus::kInProgress);
  EXPECT_EQ((*got)->generation, 2);
}

TEST_F(DownloadTest, DeletingTheVideoDeletesItsDownloads) {
  ASSERT_TRUE(DownloadRepository::InsertIfAbsent(*db_, Make(DownloadType::kDefault)).ok());
  ASSERT_TRUE(VideoRepository::Delete(*db_, uid_).ok());
  EXPECT_TRUE(DownloadRepository::List(*db_, uid_)->empty());
}

TEST(DownloadNames, MatchStream) {
  EXPECT_EQ(DownloadFileName(DownloadType::kDefault), "default.mp4");
  EXPECT_EQ(DownloadFileName(DownloadType::kAudio), "audio.m4a");
  EXPECT_FALSE(ParseDownloadType("hd").has_value());
  EXPECT_EQ(DownloadBlobKey("u", DownloadType::kAudio), "videos/u/downloads/audio.m4a");
}

}  // namespace
}  // namespace kino::domain

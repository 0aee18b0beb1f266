#include "domain/video.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "domain/account.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::domain {
namespace {

class VideoRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    ASSERT_TRUE(AccountRepository::Ensure(*db_, account_).ok());
    ASSERT_TRUE(AccountRepository::Ensure(*db_, other_).ok());
  }

  Video Add(std::string name, int64_t created, std::string account = "") {
    Video v;
    v.uid = NewId();
    v.account_id = account.empty() ? account_ : account;
    v.meta = {{"name", name}};
    v.created = created;
    v.modified = created;
    EXPECT_TRUE(VideoRepository::Insert(*db_, v).ok());
    return v;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::string account_ = NewId();
  std::string other_ = NewId();
};

TEST_F(VideoRepositoryTest, RoundTripsEveryField) {
  Video v = Add("cat.mp4", 10);
  v.creator = "me";
  v.allowed_origins = {"example.com"};
  v.require_signed_urls = true;
  v.state = VideoState::kReady;
  v.duration = 5.5;
  v.max_duration_seconds = 60;
  ASSERT_TRUE(VideoRepository::Save(*db_, v).ok());
  auto got = VideoRepository::Get(*db_, account_, v.uid);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->creator, "me");
  EXPECT_EQ(got->allowed_origins, std::vector<std::string>{"example.com"});
  EXPECT_TRUE(got->require_signed_urls);
  EXPECT_EQ(got->state, VideoState::kReady);
  EXPECT_DOUBLE_EQ(got->duration, 5.5);
  EXPECT_EQ(got->max_duration_seconds, 60);
  EXPECT_EQ(got->meta["name"], "cat.mp4");
}

TEST_F(VideoRepositoryTest, OtherAccountSeesNotFound) {
  Video v = Add("x", 1);
  auto got = VideoRepository::Get(*db_, other_, v.uid);
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
}

TEST_F(VideoRepositoryTest, ListFiltersOrdersAndCounts) {
  Add("Holiday Cat", 1);
  Add("dog", 2);
  Add("another cat", 3);
  Add("cat elsewhere", 4, other_);
  VideoListFilter f;
  f.account_id = account_;
  f.search = "CAT";
  auto page = VideoRepository::List(*db_, f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->videos.size(), 2u);
  EXPECT_EQ(page->videos[0].meta["name"], "another cat");  // newest first
  f.ascending = true;
  f.limit = 1;
  page = VideoRepository::List(*db_, f);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->videos[0].meta["name"], "Holiday Cat");
  EXPECT_EQ(page->total, 2);
  EXPECT_EQ(page->remaining, 1);
}

TEST_F(VideoRepositoryTest, SearchTreatsLikeWildcardsLiterally) {
  Add("100%", 1);
  Add("100 percent", 2);
  VideoListFilter f;
  f.account_id = account_;
  f.search = "0%";
  auto page = VideoRepository::List(*db_, f);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->videos.size(), 1u);
}

}  // namespace
}  // namespace kino::domain

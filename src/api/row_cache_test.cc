#include "api/row_cache.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "domain/account.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::api {
namespace {

class RowCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    std::string account = NewId();
    ASSERT_TRUE(domain::AccountRepository::Ensure(*db_, account).ok());
    domain::Video v;
    v.uid = uid_;
    v.account_id = account;
    ASSERT_TRUE(domain::VideoRepository::Insert(*db_, v).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::string uid_ = NewId();
  RowCache cache_;
};

TEST_F(RowCacheTest, RepeatedReadsShareOneCopyUntilAWrite) {
  auto first = cache_.Video(*db_, uid_);
  ASSERT_TRUE(first.ok());
  auto second = cache_.Video(*db_, uid_);
  ASSERT_TRUE(second.ok());
  if (db_->WriteGeneration()) {
    EXPECT_EQ(first->get(), second->get());  // served from the cache
  }
  EXPECT_FALSE((*second)->require_signed_urls);

  domain::Video changed = **second;
  changed.require_signed_urls = true;
  ASSERT_TRUE(domain::VideoRepository::Save(*db_, changed).ok());
  auto third = cache_.Video(*db_, uid_);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE((*third)->require_signed_urls);  // the write made the copy stale
}

TEST_F(RowCacheTest, DownloadsFollowTheirLifecycle) {
  auto none = cache_.Download(*db_, uid_, domain::DownloadType::kDefault);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);

  domain::Download d;
  d.video_uid = uid_;
  d.type = domain::DownloadType::kDefault;
  ASSERT_TRUE(domain::DownloadRepository::InsertIfAbsent(*db_, d).ok());
  auto pending = cache_.Download(*db_, uid_, domain::DownloadType::kDefault);
  ASSERT_TRUE(pending.ok() && *pending != nullptr);
  EXPECT_EQ((*pending)->status, domain::DownloadStatus::kInProgress);

  ASSERT_TRUE(
      domain::DownloadRepository::MarkReady(*db_, uid_, domain::DownloadType::kDefault, 10, "ab")
          .ok());
  auto ready = cache_.Download(*db_, uid_, domain::DownloadType::kDefault);
  ASSERT_TRUE(ready.ok() && *ready != nullptr);
  EXPECT_EQ((*ready)->status, domain::DownloadStatus::kReady);
  EXPECT_EQ((*ready)->sha256, "ab");

  // A write inside a transaction invalidates too.
  ASSERT_TRUE(db_->Transact([&](storage::Database& tx) {
                   return domain::DownloadRepository::Delete(tx, uid_,
                                                             domain::DownloadType::kDefault)
                       .status();
                 })
                  .ok());
  auto gone = cache_.Download(*db_, uid_, domain::DownloadType::kDefault);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(*gone, nullptr);
}

TEST_F(RowCacheTest, UnknownVideoIsNotFound) {
  auto missing = cache_.Video(*db_, NewId());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace kino::api

#include "domain/account.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::domain {
namespace {

class AccountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    ASSERT_TRUE(AccountRepository::Ensure(*db_, account_).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::string account_ = NewId();
};

TEST_F(AccountTest, CreatedTokenAuthenticatesUntilRevoked) {
  auto t = AccountRepository::CreateToken(*db_, account_, "ci");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->token.size(), 40u);
  EXPECT_EQ(*AccountRepository::Authenticate(*db_, t->token), account_);
  ASSERT_TRUE(AccountRepository::RevokeToken(*db_, t->info.id).ok());
  EXPECT_EQ(AccountRepository::Authenticate(*db_, t->token).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(AccountTest, TokenIsStoredOnlyAsHash) {
  auto t = AccountRepository::CreateToken(*db_, account_, "ci");
  ASSERT_TRUE(t.ok());
  auto rows = db_->Query("SELECT token_hash FROM api_tokens");
  ASSERT_TRUE(rows.ok());
  EXPECT_NE((*rows)[0].Text(0), t->token);
  EXPECT_EQ((*rows)[0].Text(0).size(), 64u);
}

TEST_F(AccountTest, ImportedTokenIsIdempotentAndBoundToItsAccount) {
  ASSERT_TRUE(AccountRepository::ImportToken(*db_, account_, "chosen-token", "env").ok());
  ASSERT_TRUE(AccountRepository::ImportToken(*db_, account_, "chosen-token", "env").ok());
  EXPECT_EQ(*AccountRepository::Authenticate(*db_, "chosen-token"), account_);
  std::string other = NewId();
  ASSERT_TRUE(AccountRepository::Ensure(*db_, other).ok());
  EXPECT_EQ(AccountRepository::ImportToken(*db_, other, "chosen-token", "env").code(),
            StatusCode::kAlreadyExists);
}

TEST_F(AccountTest, GarbageTokensAreRefused) {
  for (std::string bad : {std::string(""), std::string(300, 'a'), std::string("x")}) {
    EXPECT_EQ(AccountRepository::Authenticate(*db_, bad).status().code(),
              StatusCode::kUnauthenticated);
  }
}

}  // namespace
}  // namespace kino::domain

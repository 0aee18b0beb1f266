#include "domain/signing_key_repo.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "domain/account.h"
#include "domain/errors.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::domain {
namespace {

class SigningKeyRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    ASSERT_TRUE(AccountRepository::Ensure(*db_, account_).ok());
    ASSERT_TRUE(AccountRepository::Ensure(*db_, other_).ok());
  }

  SigningKey Key(const std::string& account, int64_t created = 1) const {
    SigningKey key;
    key.id = NewId();
    key.account_id = account;
    key.public_pem = "PUBLIC " + key.id;
    key.private_pem = "PRIVATE " + key.id;
    key.created = created;
    return key;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  std::string account_ = NewId();
  std::string other_ = NewId();
};

TEST_F(SigningKeyRepoTest, UserKeyIsStoredWithoutPrivateKey) {
  SigningKey key = Key(account_);
  ASSERT_TRUE(SigningKeyRepository::InsertUserKey(*db_, key).ok());
  auto rows = db_->Query("SELECT private_pem, builtin FROM signing_keys WHERE id = $1",
                         {storage::Text(key.id)});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_TRUE((*rows)[0].IsNull(0));
  EXPECT_EQ((*rows)[0].Int(1), 0);
}

TEST_F(SigningKeyRepoTest, ListShowsLiveUserKeysOfTheAccountOldestFirst) {
  SigningKey a = Key(account_, 2);
  SigningKey b = Key(account_, 1);
  ASSERT_TRUE(SigningKeyRepository::InsertUserKey(*db_, a).ok());
  ASSERT_TRUE(SigningKeyRepository::InsertUserKey(*db_, b).ok());
  ASSERT_TRUE(SigningKeyRepository::InsertUserKey(*db_, Key(other_)).ok());
  ASSERT_TRUE(SigningKeyRepository::InsertBuiltinKey(*db_, Key(account_)).ok());
  auto keys = SigningKeyRepository::ListUserKeys(*db_, account_);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].id, b.id);
  EXPECT_EQ((*keys)[1].id, a.id);
  EXPECT_FALSE((*keys)[0].private_pem.has_value());
}

TEST_F(SigningKeyRepoTest, RevokedKeyIsNoLongerLiveNorListed) {
  SigningKey key = Key(account_);
  ASSERT_TRUE(SigningKeyRepository::InsertUserKey(*db_, key).ok());
  ASSERT_TRUE(SigningKeyRepository::FindLive(*db_, key.id)->has_value());
  ASSERT_TRUE(SigningKeyRepository::Revoke(*db_, account_, key.id, 5).ok());
  EXPECT_FALSE(SigningKeyRepository::FindLive(*db_, key.id)->has_value());
  EXPECT_TRUE(SigningKeyRepository::ListUserKeys(*db_, account_)->empty());
  Status again = SigningKeyRepository::Revoke(*db_, account_, key.id, 6);
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.api_code(), kErrSigningKeyNotFound);
}

TEST_F(SigningKeyRepoTest, KeyOfAnotherAccountIsNotFound) {
  SigningKey key = Key(other_);
  ASSERT_TRUE(SigningKeyRepository::InsertUserKey(*db_, key).ok());
  EXPECT_EQ(SigningKeyRepository::GetLive(*db_, account_, key.id).status().api_code(),
            kErrSigningKeyNotFound);
  EXPECT_EQ(SigningKeyRepository::Revoke(*db_, account_, key.id, 1).api_code(),
            kErrSigningKeyNotFound);
  EXPECT_TRUE(SigningKeyRepository::GetLive(*db_, other_, key.id).ok());
}

TEST_F(SigningKeyRepoTest, BuiltinKeyIsCreatedOnceAndKeepsItsPrivateKey) {
  SigningKey first = Key(account_);
  auto stored = SigningKeyRepository::InsertBuiltinKey(*db_, first);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->id, first.id);
  auto second = SigningKeyRepository::InsertBuiltinKey(*db_, Key(account_));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id, first.id);
  auto found = SigningKeyRepository::FindBuiltin(*db_, account_);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->private_pem, first.private_pem);
  EXPECT_TRUE((*found)->builtin);
  EXPECT_FALSE(SigningKeyRepository::FindBuiltin(*db_, other_)->has_value());
}

TEST_F(SigningKeyRepoTest, RevokedBuiltinKeyIsReplacedByTheNextOne) {
  SigningKey first = Key(account_);
  ASSERT_TRUE(SigningKeyRepository::InsertBuiltinKey(*db_, first).ok());
  ASSERT_TRUE(SigningKeyRepository::Revoke(*db_, account_, first.id, 9).ok());
  SigningKey next = Key(account_);
  auto stored = SigningKeyRepository::InsertBuiltinKey(*db_, next);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->id, next.id);
}

TEST_F(SigningKeyRepoTest, UserKeysAreLimitedPerAccount) {
  auto insert_many = [&](storage::Database& tx) -> Status {
    for (int64_t i = 0; i < kMaxSigningKeysPerAccount; ++i) {
      KINO_RETURN_IF_ERROR(SigningKeyRepository::InsertUserKey(tx, Key(account_, i)));
    }
    return Status::Ok();
  };
  ASSERT_TRUE(db_->Transact(insert_many).ok());
  Status over = SigningKeyRepository::InsertUserKey(*db_, Key(account_));
  EXPECT_EQ(over.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(over.api_code(), kErrTooManySigningKeys);
  EXPECT_TRUE(SigningKeyRepository::InsertUserKey(*db_, Key(other_)).ok());
  EXPECT_TRUE(SigningKeyRepository::InsertBuiltinKey(*db_, Key(account_)).ok());
}

}  // namespace
}  // namespace kino::domain

#include "storage/database.h"

#include <thread>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace kino::storage {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenSqlite(dir_.Join("kino.db"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, MigrationsCreateTablesAndAreIdempotent) {
  ASSERT_TRUE(Migrate(*db_).ok());
  auto rows = db_->Query("SELECT COUNT(*) FROM schema_version");
  ASSERT_TRUE(rows.ok());
  EXPECT_GE((*rows)[0].Int(0), 1);
}

TEST_F(DatabaseTest, NumberedParametersBindInAnyOrder) {
  ASSERT_TRUE(
      db_->Exec("INSERT INTO accounts (id, created) VALUES ($2, $1)", {Int(7), Text("abc")}).ok());
  auto rows = db_->Query("SELECT id, created FROM accounts WHERE id = $1", {Text("abc")});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].Text(0), "abc");
  EXPECT_EQ((*rows)[0].Int(1), 7);
}

TEST_F(DatabaseTest, FailedTransactionRollsBack) {
  Status s = db_->Transact([](Database& tx) -> Status {
    KINO_RETURN_IF_ERROR(tx.Exec("INSERT INTO accounts (id, created) VALUES ('x', 1)").status());
    return Internal("boom");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  auto rows = db_->Query("SELECT COUNT(*) FROM accounts");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 0);
}

TEST_F(DatabaseTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(db_->Exec("INSERT INTO accounts (id, created) VALUES ('x', 1)").ok());
  auto again = db_->Exec("INSERT INTO accounts (id, created) VALUES ('x', 1)");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(DatabaseTest, BadSqlIsAnErrorNotACrash) {
  EXPECT_FALSE(db_->Query("SELEKT nothing").ok());
}

TEST_F(DatabaseTest, ConcurrentTransactionsDoNotLoseUpdates) {
  ASSERT_TRUE(db_->Exec("INSERT INTO accounts (id, created) VALUES ('c', 0)").ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this] {
      for (int i = 0; i < 50; ++i) {
        Status s = db_->Transact([](Database& tx) {
          return tx.Exec("UPDATE accounts SET created = created + 1 WHERE id = 'c'").status();
        });
        EXPECT_TRUE(s.ok());
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  auto rows = db_->Query("SELECT created FROM accounts WHERE id = 'c'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 200);
}

TEST_F(DatabaseTest, ReopenKeepsData) {
  ASSERT_TRUE(db_->Exec("INSERT INTO accounts (id, created) VALUES ('k', 1)").ok());
  db_.reset();
  auto db = OpenSqlite(dir_.Join("kino.db"));
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Query("SELECT COUNT(*) FROM accounts");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 1);
}

}  // namespace
}  // namespace kino::storage

#include "storage/database.h"

#include <cstdlib>
#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include "common/time_util.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::storage {
namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  bool OnPostgres() const { return db_->Dialect() == "postgres"; }

  // The server ends the session of the connection db_ last used (now idle in its pool), as a
  // server restart or an idle timeout would.
  void CloseIdleConnectionFromTheServer() {
    auto pid = db_->Query("SELECT pg_backend_pid()");
    ASSERT_TRUE(pid.ok());
    auto other = OpenAnotherHandle(*db_);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->Query("SELECT pg_terminate_backend($1)", {Int((*pid)[0].Int(0))}).ok());
  }

  // `threads` threads, each with its own handle on the database (another node), run `fn`.
  void OnSeveralNodes(int threads, const std::function<void(Database&)>& fn) {
    std::vector<std::unique_ptr<Database>> handles;
    for (int t = 0; t < threads; ++t) {
      auto db = OpenAnotherHandle(*db_);
      ASSERT_TRUE(db.ok()) << db.status().ToString();
      handles.push_back(std::move(db).value());
    }
    std::vector<std::thread> running;
    for (auto& handle : handles) {
      running.emplace_back([&fn, db = handle.get()] { fn(*db); });
    }
    for (auto& th : running) {
      th.join();
    }
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
  if (OnPostgres()) {
    GTEST_SKIP() << "reopening a file is SQLite's case";
  }
  ASSERT_TRUE(db_->Exec("INSERT INTO accounts (id, created) VALUES ('k', 1)").ok());
  db_.reset();
  auto db = OpenSqlite(dir_.Join("kino.db"));
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Query("SELECT COUNT(*) FROM accounts");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 1);
}

TEST_F(DatabaseTest, ValuesRoundTripWithTheirTypes) {
  ASSERT_TRUE(
      db_->Exec(ForDialect("CREATE TABLE t (k TEXT, i INTEGER, r REAL, s TEXT)", db_->Dialect()))
          .ok());
  int64_t big = std::numeric_limits<int64_t>::max();
  ASSERT_TRUE(
      db_->Exec("INSERT INTO t VALUES ('a', $1, $2, $3), ('b', $4, $5, NULL)",
                {Int(big), Real(0.1), Text("it's \"quoted\" \xc3\xa9"), Int(-7), Real(-1e300)})
          .ok());
  auto rows = db_->Query("SELECT i, r, s FROM t ORDER BY k");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].Int(0), big);
  EXPECT_EQ((*rows)[0].Real(1), 0.1);
  EXPECT_EQ((*rows)[0].Text(2), "it's \"quoted\" \xc3\xa9");
  EXPECT_EQ((*rows)[1].Int(0), -7);
  EXPECT_EQ((*rows)[1].Real(1), -1e300);
  EXPECT_TRUE((*rows)[1].IsNull(2));
  EXPECT_EQ((*rows)[1].OptText(2), std::nullopt);
}

TEST_F(DatabaseTest, MicrosecondTimesFitInMigratedColumns) {
  int64_t now = NowMicros();
  ASSERT_TRUE(db_->Exec("INSERT INTO accounts (id, created) VALUES ('t', $1)", {Int(now)}).ok());
  auto rows = db_->Query("SELECT created FROM accounts WHERE id = 't'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), now);
}

TEST_F(DatabaseTest, LimitTakesAParameter) {
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_TRUE(db_->Exec("INSERT INTO accounts (id, created) VALUES ($1, 1)", {Text(id)}).ok());
  }
  auto rows = db_->Query("SELECT id FROM accounts ORDER BY id LIMIT $1", {Int(2)});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 2u);
}

TEST_F(DatabaseTest, ReadThenWriteOnSeveralNodesLosesNoUpdate) {
  ASSERT_TRUE(db_->Exec("INSERT INTO accounts (id, created) VALUES ('n', 0)").ok());
  OnSeveralNodes(3, [](Database& node) {
    for (int i = 0; i < 20; ++i) {
      Status s = node.Transact([](Database& tx) -> Status {
        KINO_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT created FROM accounts WHERE id = 'n'"));
        return tx.Exec("UPDATE accounts SET created = $1 WHERE id = 'n'", {Int(rows[0].Int(0) + 1)})
            .status();
      });
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  });
  auto rows = db_->Query("SELECT created FROM accounts WHERE id = 'n'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 60);
}

TEST_F(DatabaseTest, SwallowedErrorInATransactionIsNotReportedAsCommitted) {
  if (!OnPostgres()) {
    GTEST_SKIP() << "SQLite keeps a transaction usable after a failed statement";
  }
  Status s = db_->Transact([](Database& tx) -> Status {
    tx.Exec("INSERT INTO nowhere VALUES (1)").status().IgnoreError();
    return tx.Exec("INSERT INTO accounts (id, created) VALUES ('s', 1)").status();
  });
  EXPECT_FALSE(s.ok());
  auto rows = db_->Query("SELECT COUNT(*) FROM accounts WHERE id = 's'");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].Int(0), 0);
}

TEST_F(DatabaseTest, LostConnectionIsReplaced) {
  if (!OnPostgres()) {
    GTEST_SKIP() << "a PostgreSQL connection pool's case";
  }
  ASSERT_NO_FATAL_FAILURE(CloseIdleConnectionFromTheServer());
  // The statement on the dead connection may fail; the pool then opens a new one.
  if (!db_->Query("SELECT 1").ok()) {
    EXPECT_TRUE(db_->Query("SELECT 1").ok());
  }
}

TEST_F(DatabaseTest, TransactionOnAConnectionTheServerClosedRunsOnANewOne) {
  if (!OnPostgres()) {
    GTEST_SKIP() << "a PostgreSQL connection pool's case";
  }
  ASSERT_NO_FATAL_FAILURE(CloseIdleConnectionFromTheServer());
  Status s = db_->Transact([](Database& tx) {
    return tx.Exec("INSERT INTO accounts (id, created) VALUES ('r', 1)").status();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(DatabaseTest, NodesStartingTogetherApplyEachMigrationOnce) {
  const char* url = std::getenv("KINO_TEST_POSTGRES_URL");
  if (!OnPostgres() || url == nullptr) {
    GTEST_SKIP() << "the advisory lock is PostgreSQL's";
  }
  auto schema = TestSchema::Create(url);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  std::vector<std::thread> nodes;
  std::vector<Status> opened(4);
  for (size_t n = 0; n < opened.size(); ++n) {
    nodes.emplace_back([&, n] { opened[n] = OpenPostgres((*schema)->url()).status(); });
  }
  for (auto& node : nodes) {
    node.join();
  }
  for (const Status& s : opened) {
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  auto db = OpenPostgres((*schema)->url());
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->Query("SELECT version, COUNT(*) FROM schema_version GROUP BY version");
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  for (const Row& row : *rows) {
    EXPECT_EQ(row.Int(1), 1) << "migration " << row.Int(0);
  }
}

TEST(PostgresOpen, UnreachableServerIsUnavailableAndKeepsThePasswordOut) {
  auto db = OpenPostgres("postgres://kino:sekrit@127.0.0.1:1/kino?connect_timeout=5");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db.status().message().find("sekrit"), std::string::npos) << db.status().message();
}

TEST(PostgresOpen, UnparsableUrlKeepsThePasswordOut) {
  auto db = OpenPostgres("postgres://kino:se%zzkrit@127.0.0.1:1/kino");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().message().find("zzkrit"), std::string::npos) << db.status().message();
}

TEST(PostgresOpen, MalformedUrlIsAnErrorNotACrash) {
  EXPECT_FALSE(OpenPostgres("postgres://[not a host").ok());
  EXPECT_FALSE(OpenPostgres("nonsense=").ok());
}

TEST(Migrations, PostgresColumnTypesAreSixtyFourBit) {
  EXPECT_EQ(ForDialect("a INTEGER NOT NULL, r REAL, INTEGERS TEXT", "postgres"),
            "a BIGINT NOT NULL, r DOUBLE PRECISION, INTEGERS TEXT");
  EXPECT_EQ(ForDialect("a INTEGER, r REAL", "sqlite"), "a INTEGER, r REAL");
}

}  // namespace
}  // namespace kino::storage

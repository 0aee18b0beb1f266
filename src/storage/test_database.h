// The database a unit test runs on, on either engine. For tests only (kino_storage_testing).
//
// KINO_TEST_ENGINE picks the engine: "sqlite" (the default) or "postgres". On PostgreSQL every
// test gets a fresh schema in the database at KINO_TEST_POSTGRES_URL (scripts/postgres.sh start
// prints one), dropped with everything in it when the test's Database is destroyed, so tests
// stay independent and may run in parallel on one server.
#ifndef KINO_STORAGE_TEST_DATABASE_H_
#define KINO_STORAGE_TEST_DATABASE_H_

#include <memory>
#include <string>

#include "common/status.h"
#include "storage/database.h"

namespace kino::storage {

// "sqlite" or "postgres", from KINO_TEST_ENGINE.
std::string TestEngine();

// A fresh, migrated database: a SQLite file in `dir`, or a new PostgreSQL schema.
// FailedPrecondition when the engine is postgres and KINO_TEST_POSTGRES_URL is not set.
Result<std::unique_ptr<Database>> OpenTestDatabase(const std::string& dir);

// A second handle on the same database as `test_db` (made by OpenTestDatabase), with its own
// connections: another node, for tests of what several nodes do at once.
Result<std::unique_ptr<Database>> OpenAnotherHandle(Database& test_db);

// A fresh schema in the PostgreSQL database at `base_url`, dropped with everything in it when
// this object is destroyed. url() reaches the schema (search_path set), for kino --database-url.
class TestSchema {
 public:
  static Result<std::unique_ptr<TestSchema>> Create(const std::string& base_url);
  ~TestSchema();
  TestSchema(const TestSchema&) = delete;
  TestSchema& operator=(const TestSchema&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  TestSchema(std::string base_url, std::string name);

  std::string base_url_;
  std::string name_;
  std::string url_;
};

}  // namespace kino::storage

#endif  // KINO_STORAGE_TEST_DATABASE_H_

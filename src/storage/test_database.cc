#include "storage/test_database.h"

#include <cstdio>
#include <cstdlib>

#include <pqxx/pqxx>

#include "common/random.h"

namespace kino::storage {
namespace {

// Runs one statement on a connection of its own; the exception becomes a Status.
Status RunAdmin(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection conn(url);
    pqxx::nontransaction tx(conn);
    tx.exec(sql);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Unavailable(std::string("test schema: ") + e.what());
  }
}

// A test's Database: the engine's, plus what must be cleaned up after it.
class TestDatabase : public Database {
 public:
  TestDatabase(std::unique_ptr<Database> inner, std::string sqlite_path,
               std::unique_ptr<TestSchema> schema)
      : schema_(std::move(schema)),
        sqlite_path_(std::move(sqlite_path)),
        inner_(std::move(inner)) {}

  Result<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    return inner_->Query(sql, params);
  }
  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    return inner_->Exec(sql, params);
  }
  Status Transact(const std::function<Status(Database&)>& fn) override {
    return inner_->Transact(fn);
  }
  std::string_view Dialect() const override { return inner_->Dialect(); }
  std::optional<uint64_t> WriteGeneration() const override { return inner_->WriteGeneration(); }

  Result<std::unique_ptr<Database>> OpenAnother() {
    return schema_ ? OpenPostgres(schema_->url()) : OpenSqlite(sqlite_path_);
  }

 private:
  // Declared first so that it is destroyed last, after the connections into it.
  std::unique_ptr<TestSchema> schema_;
  std::string sqlite_path_;
  std::unique_ptr<Database> inner_;
};

}  // namespace

std::string TestEngine() {
  const char* engine = std::getenv("KINO_TEST_ENGINE");
  return engine != nullptr && std::string_view(engine) == "postgres" ? "postgres" : "sqlite";
}

Result<std::unique_ptr<Database>> OpenTestDatabase(const std::string& dir) {
  if (TestEngine() == "sqlite") {
    std::string path = dir + "/kino.db";
    KINO_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenSqlite(path));
    return std::unique_ptr<Database>(std::make_unique<TestDatabase>(std::move(db), path, nullptr));
  }
  const char* url = std::getenv("KINO_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') {
    // Printed as well, for fixtures that do not print the Status: CTest skips on this text.
    const char* msg =
        "KINO_TEST_POSTGRES_URL is not set: start a server with scripts/postgres.sh start";
    std::fprintf(stderr, "%s\n", msg);
    return FailedPrecondition(msg);
  }
  KINO_ASSIGN_OR_RETURN(std::unique_ptr<TestSchema> schema, TestSchema::Create(url));
  KINO_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, OpenPostgres(schema->url()));
  return std::unique_ptr<Database>(
      std::make_unique<TestDatabase>(std::move(db), "", std::move(schema)));
}

Result<std::unique_ptr<Database>> OpenAnotherHandle(Database& test_db) {
  auto* test = dynamic_cast<TestDatabase*>(&test_db);
  if (test == nullptr) {
    return InvalidArgument("OpenAnotherHandle needs a database made by OpenTestDatabase");
  }
  return test->OpenAnother();
}

TestSchema::TestSchema(std::string base_url, std::string name)
    : base_url_(std::move(base_url)), name_(std::move(name)) {
  // libpq's URI form takes server options as a query parameter: -c search_path=NAME.
  url_ = base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") +
         "options=-csearch_path%3D" + name_;
}

Result<std::unique_ptr<TestSchema>> TestSchema::Create(const std::string& base_url) {
  std::string name = "kino_test_" + RandomHex(6);
  KINO_RETURN_IF_ERROR(RunAdmin(base_url, "CREATE SCHEMA " + name));
  return std::unique_ptr<TestSchema>(new TestSchema(base_url, name));
}

TestSchema::~TestSchema() {
  RunAdmin(base_url_, "DROP SCHEMA IF EXISTS " + name_ + " CASCADE").IgnoreError();
}

}  // namespace kino::storage

// Database: the one interface Kino's metadata lives behind.
//
// Every repository in src/domain and src/jobs speaks portable SQL through this interface, with
// numbered parameters written `$1`, `$2`, ... (PostgreSQL's form; the SQLite driver rewrites them
// to `?1`, `?2`). The SQL subset both engines share is used: TEXT, INTEGER, REAL columns,
// `INSERT ... ON CONFLICT`, `UPDATE ... RETURNING`. Times are INTEGER microseconds since the epoch
// (migrations make INTEGER a BIGINT and REAL a DOUBLE PRECISION on PostgreSQL). Booleans are
// INTEGER 0/1 on both engines; LIKE is case-sensitive on PostgreSQL, so compare LOWER() of both
// sides. Where the engines must differ (JSON functions, row locks), branch on Dialect().
//
// Thread-safety: a Database may be used from any thread. Transact() runs its function with
// exclusive use of a connection; statements inside it must use the Database& it is handed.
#ifndef KINO_STORAGE_DATABASE_H_
#define KINO_STORAGE_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace kino::storage {

// A SQL value: NULL, integer, real or text (blobs are stored as text; Kino keeps none in SQL).
using Value = std::variant<std::monostate, int64_t, double, std::string>;

inline Value Null() {
  return std::monostate{};
}
inline Value Text(std::string_view s) {
  return std::string(s);
}
inline Value Int(int64_t v) {
  return v;
}
inline Value Real(double v) {
  return v;
}
inline Value Bool(bool v) {
  return static_cast<int64_t>(v ? 1 : 0);
}
// NULL when `v` is empty.
inline Value OptText(const std::optional<std::string>& v) {
  return v ? Value(*v) : Null();
}
inline Value OptInt(const std::optional<int64_t>& v) {
  return v ? Value(*v) : Null();
}

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // Conversions are lenient between int and real; NULL reads as 0 / "" .
  int64_t Int(size_t i) const;
  double Real(size_t i) const;
  std::string Text(size_t i) const;
  bool Bool(size_t i) const { return Int(i) != 0; }
  std::optional<std::string> OptText(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;

 private:
  std::vector<Value> values_;
};

using Rows = std::vector<Row>;

class Database {
 public:
  virtual ~Database() = default;

  // Runs a statement that returns rows.
  virtual Result<Rows> Query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs a statement; returns the number of rows it changed.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs `fn` in one transaction: commits when it returns OK, rolls back otherwise. Retries the
  // whole function (a bounded number of times) when the engine reports a conflict, so `fn` must
  // have no effects outside the database. Nested calls on the handed Database join the outer
  // transaction.
  virtual Status Transact(const std::function<Status(Database&)>& fn) = 0;

  // "sqlite" or "postgres": for the few statements that must differ.
  virtual std::string_view Dialect() const = 0;

  // A number that grows after every statement or transaction of this process that changed a
  // row, for callers that keep copies of rows: a copy read when the number was N is current
  // while it is still N. nullopt when this Database cannot tell (other processes share the
  // engine, as with PostgreSQL): then nothing may be cached.
  virtual std::optional<uint64_t> WriteGeneration() const { return std::nullopt; }
};

// Opens (creating if needed) a SQLite database file in WAL mode and applies Kino's migrations.
Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path);

// Opens a pool of connections to the PostgreSQL database at `url`, a libpq URI
// (postgres://user:pass@host:port/db?sslmode=...), and applies Kino's migrations; nodes that start
// at once take turns through an advisory lock. Unavailable when the server cannot be reached.
// Transactions run at SERIALIZABLE; Transact() retries serialization failures and deadlocks.
// Errors never quote the URL's password.
Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url);

// Applies every migration newer than the database's version, each in its own transaction.
Status Migrate(Database& db);

// A migration statement, written for SQLite, in `dialect`'s column types.
std::string ForDialect(std::string_view statement, std::string_view dialect);

}  // namespace kino::storage

#endif  // KINO_STORAGE_DATABASE_H_

// SQLite implementation of Database.
//
// One connection serves the whole process behind a mutex: SQLite allows one writer at a time
// anyway, and Kino's statements take microseconds. WAL mode lets other processes (the CLI's
// `kino tokens` commands) read while the server writes; busy_timeout waits for their locks.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <sqlite3.h>

#include "common/log.h"
#include "storage/database.h"
#include "storage/transaction_view.h"

namespace kino::storage {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr int kMaxTransactionAttempts = 5;
// Kino's SQL texts are constants with numbered parameters, so a few dozen cover every call; the
// bound only matters if some caller builds SQL dynamically.
constexpr size_t kMaxCachedStatements = 256;

// "$12" -> "?12": SQLite's numbered parameter form.
std::string RewriteParams(std::string_view sql) {
  std::string out(sql);
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i] == '$' && out[i + 1] >= '0' && out[i + 1] <= '9') {
      out[i] = '?';
    }
  }
  return out;
}

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + sqlite3_errstr(rc) + " (" + sqlite3_errmsg(db) + ")";
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    return Unavailable(msg);
  }
  if (rc == SQLITE_CONSTRAINT) {
    return AlreadyExists(msg);
  }
  return Internal(msg);
}

class Connection {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Rows changed by this connection since it opened (triggers included, rolled-back changes
  // too): grows with every write.
  uint64_t TotalChanges() const { return static_cast<uint64_t>(sqlite3_total_changes(db_)); }

  ~Connection() {
    statements_.clear();  // finalized before the connection closes
    sqlite3_close_v2(db_);
  }

  Result<Rows> Run(std::string_view sql, const std::vector<Value>& params, int64_t* changes) {
    KINO_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepared(sql));
    // Reset on every way out: a statement left mid-step would hold its read transaction open.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    KINO_RETURN_IF_ERROR(Bind(stmt, params));
    Rows rows;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      rows.push_back(ReadRow(stmt));
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(db_, rc, "step");
    }
    if (changes != nullptr) {
      *changes = sqlite3_changes64(db_);
    }
    return rows;
  }

  sqlite3* raw() { return db_; }

 private:
  // The prepared statement for `sql`, compiled once and kept: parsing and planning cost more
  // than running Kino's small indexed queries. SQLite re-prepares a kept statement by itself
  // when the schema changes (sqlite3_prepare_v2).
  Result<sqlite3_stmt*> Prepared(std::string_view sql) {
    std::string key(sql);
    if (auto it = statements_.find(key); it != statements_.end()) {
      return it->second.get();
    }
    std::string text = RewriteParams(sql);
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_, text.c_str(), static_cast<int>(text.size()), &raw, nullptr);
    StatementPtr stmt(raw);
    if (rc != SQLITE_OK) {
      return SqliteError(db_, rc, "prepare");
    }
    if (statements_.size() >= kMaxCachedStatements) {
      statements_.clear();
    }
    return statements_.emplace(std::move(key), std::move(stmt)).first->second.get();
  }

  Status Bind(sqlite3_stmt* stmt, const std::vector<Value>& params) {
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text64(stmt, idx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) {
        return SqliteError(db_, rc, "bind");
      }
    }
    return Status::Ok();
  }

  static Row ReadRow(sqlite3_stmt* stmt) {
    int n = sqlite3_column_count(stmt);
    std::vector<Value> values;
    values.reserve(static_cast<size_t>(n));
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          values.emplace_back(std::monostate{});
          break;
        case SQLITE_INTEGER:
          values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
          break;
        case SQLITE_FLOAT:
          values.emplace_back(sqlite3_column_double(stmt, c));
          break;
        default: {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          values.emplace_back(
              std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, c))));
        }
      }
    }
    return Row(std::move(values));
  }

  sqlite3* db_;
  std::unordered_map<std::string, StatementPtr> statements_;
};

class SqliteDatabase : public Database {
 public:
  explicit SqliteDatabase(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  Result<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    std::lock_guard<std::mutex> lock(mu_);
    Result<Rows> rows = conn_->Run(sql, params, nullptr);
    NoteWrites();
    return rows;
  }

  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t changes = 0;
    Status s = conn_->Run(sql, params, &changes).status();
    NoteWrites();
    KINO_RETURN_IF_ERROR(s);
    return changes;
  }

  Status Transact(const std::function<Status(Database&)>& fn) override {
    Status last;
    for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
      last = TransactOnce(fn);
      if (last.code() != StatusCode::kUnavailable) {
        return last;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
    }
    return last;
  }

  std::string_view Dialect() const override { return "sqlite"; }

  // The server is the only process that writes videos and downloads to its SQLite file (the
  // `kino tokens` command writes API tokens only), so this process sees every such write.
  std::optional<uint64_t> WriteGeneration() const override {
    return generation_.load(std::memory_order_acquire);
  }

 private:
  // Called under mu_ after every statement or transaction, before the lock is released: a
  // reader that sees the old generation read the rows before this write was made.
  void NoteWrites() { generation_.store(conn_->TotalChanges(), std::memory_order_release); }

  Status TransactOnce(const std::function<Status(Database&)>& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    // IMMEDIATE takes the write lock up front, so two processes cannot deadlock upgrading.
    KINO_RETURN_IF_ERROR(conn_->Run("BEGIN IMMEDIATE", {}, nullptr).status());
    TransactionView<Connection> view(conn_.get(), "sqlite");
    Status s = fn(view);
    if (s.ok()) {
      s = conn_->Run("COMMIT", {}, nullptr).status();
      if (s.ok()) {
        NoteWrites();
        return s;
      }
    }
    conn_->Run("ROLLBACK", {}, nullptr).status().IgnoreError();
    NoteWrites();
    return s;
  }

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& path) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  auto conn = std::make_unique<Connection>(raw);
  if (rc != SQLITE_OK) {
    return Unavailable("opening database " + path + ": " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    KINO_RETURN_IF_ERROR(conn->Run(pragma, {}, nullptr).status());
  }
  auto db = std::make_unique<SqliteDatabase>(std::move(conn));
  KINO_RETURN_IF_ERROR(Migrate(*db));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace kino::storage

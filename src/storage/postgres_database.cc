// PostgreSQL implementation of Database, on libpqxx 6.4.
//
// A small pool of connections serves the process: a libpqxx connection may be used by one thread
// at a time, so every statement outside a transaction borrows one for its duration, and
// Transact() keeps one until it commits or rolls back. Connections are opened lazily up to
// kMaxConnections; one that breaks is dropped and a new one opened on the next borrow.
//
// Transactions run at SERIALIZABLE, which keeps the guarantee the SQLite backend gives by having
// one writer: a function that reads and then writes sees no interleaved change. The price is
// that PostgreSQL may refuse a transaction (serialization failure, deadlock); Transact() then
// runs the whole function again, a bounded number of times, as the SQLite backend does when the
// file is busy. Statements outside a transaction run alone at READ COMMITTED.
//
// libpqxx reports errors by throwing. Every call into it is made inside Guarded(), which turns
// the exception into a Status, so nothing is thrown past this file.
//
// TODO: libpqxx 6.4 does not free the error result of a statement sent on a connection the
// server has closed; LeakSanitizer counts about 2 KB per such connection (one per server restart
// or killed session per pooled connection), inside the library.
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <pqxx/pqxx>

#include "common/log.h"
#include "common/random.h"
#include "storage/database.h"
#include "storage/transaction_view.h"

namespace kino::storage {
namespace {

constexpr size_t kMaxConnections = 10;
constexpr auto kBorrowTimeout = std::chrono::seconds(30);
constexpr int kMaxTransactionAttempts = 10;
// Key of the session-level advisory lock that lets one node at a time apply migrations.
constexpr int64_t kMigrationLockKey = 0x6b696e6f6d6967;  // "kinomig"

// PostgreSQL type oids (pg_type.dat) of the values read back as numbers.
constexpr pqxx::oid kBoolOid = 16;
constexpr pqxx::oid kInt8Oid = 20;
constexpr pqxx::oid kInt2Oid = 21;
constexpr pqxx::oid kInt4Oid = 23;
constexpr pqxx::oid kOidOid = 26;
constexpr pqxx::oid kFloat4Oid = 700;
constexpr pqxx::oid kFloat8Oid = 701;
constexpr pqxx::oid kNumericOid = 1700;

// What a failed call means for the connection and the transaction it ran in.
struct Failure {
  bool broken = false;    // the connection is unusable: drop it
  bool conflict = false;  // serialization failure or deadlock: the transaction may be retried
};

// The first line of a server message: the DETAIL lines can quote row values.
std::string FirstLine(std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  if (line.rfind("ERROR:  ", 0) == 0) {
    line.remove_prefix(8);
  }
  return std::string(line);
}

// Maps an SQLSTATE (PostgreSQL manual, appendix A) to a Status code the callers already handle
// for SQLite: constraint violations are AlreadyExists, conflicts and outages Unavailable.
Status SqlStateStatus(const std::string& state, const std::string& msg, Failure* failure) {
  std::string text = msg + " (SQLSTATE " + state + ")";
  if (state == "40001" || state == "40P01") {
    failure->conflict = true;
    return Unavailable(text);
  }
  std::string cls = state.substr(0, 2);
  if (cls == "23") {
    return AlreadyExists(text);
  }
  if (cls == "08" || cls == "57" || cls == "53") {
    failure->broken = cls != "53";
    return Unavailable(text);
  }
  return Internal(text);
}

// Runs `fn`, turning any exception libpqxx throws into a Status. (libpqxx 6 throws conflicts as
// transaction_rollback, which is not an sql_error, so they are caught by type.)
template <typename T, typename Fn>
Result<T> Guarded(std::string_view what, Failure* failure, Fn&& fn) {
  try {
    return fn();
  } catch (const pqxx::broken_connection& e) {
    failure->broken = true;
    return Unavailable(std::string(what) + ": connection lost: " + FirstLine(e.what()));
  } catch (const pqxx::serialization_failure& e) {
    return SqlStateStatus("40001", FirstLine(e.what()), failure).Annotate(what);
  } catch (const pqxx::deadlock_detected& e) {
    return SqlStateStatus("40P01", FirstLine(e.what()), failure).Annotate(what);
  } catch (const pqxx::sql_error& e) {
    return SqlStateStatus(e.sqlstate(), FirstLine(e.what()), failure).Annotate(what);
  } catch (const pqxx::transaction_rollback& e) {
    return Unavailable(std::string(what) + ": rolled back: " + FirstLine(e.what()));
  } catch (const pqxx::in_doubt_error& e) {
    failure->broken = true;
    return Unavailable(std::string(what) + ": commit in doubt: " + FirstLine(e.what()));
  } catch (const std::exception& e) {
    return Internal(std::string(what) + ": " + FirstLine(e.what()));
  } catch (...) {
    return Internal(std::string(what) + ": unknown failure in libpqxx");
  }
}

// `text` with the password of `url` (postgres://user:password@host/db) replaced: libpq quotes
// pieces of a URL it cannot parse.
std::string WithoutPassword(std::string text, std::string_view url) {
  size_t scheme = url.find("://");
  size_t at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return text;
  }
  std::string_view userinfo = url.substr(scheme + 3, at - scheme - 3);
  size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos || colon + 1 == userinfo.size()) {
    return text;
  }
  std::string_view password = userinfo.substr(colon + 1);
  for (size_t p = text.find(password); p != std::string::npos; p = text.find(password, p)) {
    text.replace(p, password.size(), "[redacted]");
    p += 10;
  }
  return text;
}

// Parameter text for PostgreSQL: every value goes as text of unknown type, which the server
// types from where the parameter stands (a column, a comparison, LIMIT), as SQLite does.
Result<std::string> ParamText(const Value& v) {
  if (const auto* n = std::get_if<int64_t>(&v)) {
    return std::to_string(*n);
  }
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
    return std::string(buf, ec == std::errc() ? end : buf);
  }
  const auto& s = std::get<std::string>(v);
  if (s.find('\0') != std::string::npos) {
    return InvalidArgument("text with a NUL byte cannot be stored in PostgreSQL");
  }
  return s;
}

Value ReadField(const pqxx::field& f) {
  if (f.is_null()) {
    return std::monostate{};
  }
  switch (f.type()) {
    case kBoolOid:
      return static_cast<int64_t>(f.c_str()[0] == 't' ? 1 : 0);
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
    case kOidOid:
      return static_cast<int64_t>(std::strtoll(f.c_str(), nullptr, 10));
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      return std::strtod(f.c_str(), nullptr);
    default:
      return std::string(f.c_str(), f.size());
  }
}

// One libpqxx connection and the state of the transaction open on it, if any.
class Connection {
 public:
  explicit Connection(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}

  static Result<std::unique_ptr<Connection>> Open(const std::string& url) {
    Failure failure;
    Result<std::unique_ptr<Connection>> conn = Guarded<std::unique_ptr<Connection>>(
        "connecting to PostgreSQL", &failure,
        [&] { return std::make_unique<Connection>(std::make_unique<pqxx::connection>(url)); });
    if (!conn.ok()) {
      return Status(conn.status().code(), WithoutPassword(conn.status().message(), url));
    }
    return conn;
  }

  Result<Rows> Run(std::string_view sql, const std::vector<Value>& params, int64_t* changes) {
    // libpqxx would quietly reconnect a broken connection; the statements after it would then
    // run outside the transaction they belong to. The pool drops it instead.
    if (broken_) {
      failed_ = true;
      return Unavailable("statement: connection lost earlier");
    }
    std::vector<std::string> texts;
    std::vector<const char*> pointers;
    texts.reserve(params.size());
    for (const Value& v : params) {
      if (std::holds_alternative<std::monostate>(v)) {
        texts.emplace_back();
      } else {
        KINO_ASSIGN_OR_RETURN(std::string text, ParamText(v));
        texts.push_back(std::move(text));
      }
    }
    for (size_t i = 0; i < params.size(); ++i) {
      bool null = std::holds_alternative<std::monostate>(params[i]);
      pointers.push_back(null ? nullptr : texts[i].c_str());
    }
    Failure failure;
    Result<Rows> rows = Guarded<Rows>("statement", &failure, [&] {
      pqxx::nontransaction tx(*conn_);
      pqxx::result r =
          tx.exec_params(std::string(sql), pqxx::prepare::make_dynamic_params(pointers));
      if (changes != nullptr) {
        *changes = static_cast<int64_t>(r.affected_rows());
      }
      return ReadRows(r);
    });
    broken_ = broken_ || failure.broken;
    conflict_ = conflict_ || failure.conflict;
    failed_ = failed_ || !rows.ok();
    return rows;
  }

  // Starts a transaction and clears what the last one recorded.
  Status Begin() {
    conflict_ = false;
    failed_ = false;
    return Run("BEGIN ISOLATION LEVEL SERIALIZABLE", {}, nullptr).status();
  }

  bool broken() const { return broken_; }
  // Since Begin(): a statement failed for a conflict / for any reason.
  bool conflict() const { return conflict_; }
  bool failed() const { return failed_; }

 private:
  static Rows ReadRows(const pqxx::result& r) {
    Rows rows;
    rows.reserve(r.size());
    for (const pqxx::row& row : r) {
      std::vector<Value> values;
      values.reserve(row.size());
      for (const pqxx::field& f : row) {
        values.push_back(ReadField(f));
      }
      rows.emplace_back(std::move(values));
    }
    return rows;
  }

  std::unique_ptr<pqxx::connection> conn_;
  bool broken_ = false;
  bool conflict_ = false;
  bool failed_ = false;
};

class Pool;

// A borrowed connection, given back to its pool when destroyed (dropped when broken).
class Borrowed {
 public:
  Borrowed(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
  ~Borrowed();
  Borrowed(Borrowed&&) = default;
  Connection* operator->() { return conn_.get(); }
  Connection* get() { return conn_.get(); }

 private:
  Pool* pool_;
  std::unique_ptr<Connection> conn_;
};

class Pool {
 public:
  explicit Pool(std::string url) : url_(std::move(url)) {}

  // Waits up to kBorrowTimeout for an idle connection, opening one while under the limit.
  Result<Borrowed> Borrow() {
    std::unique_lock<std::mutex> lock(mu_);
    bool free = cv_.wait_for(lock, kBorrowTimeout,
                             [this] { return !idle_.empty() || open_ < kMaxConnections; });
    if (!free) {
      return Unavailable("no free PostgreSQL connection after 30 s (all " +
                         std::to_string(kMaxConnections) + " busy)");
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Borrowed(this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    Result<std::unique_ptr<Connection>> conn = Connection::Open(url_);
    if (!conn.ok()) {
      Return(nullptr);
      return conn.status();
    }
    return Borrowed(this, std::move(conn).value());
  }

  // Takes a connection back; nullptr or a broken one frees its place instead.
  void Return(std::unique_ptr<Connection> conn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (conn != nullptr && !conn->broken()) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    cv_.notify_one();
  }

 private:
  const std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;
};

Borrowed::~Borrowed() {
  if (pool_ != nullptr && conn_ != nullptr) {
    pool_->Return(std::move(conn_));
  }
}

// Sleep before attempt n+1: random up to 2^n ms (at most 256 ms), so that the transactions that
// collided do not collide again in step.
void BackOff(int attempt) {
  uint32_t r = 0;
  RandomBytes(&r, sizeof(r));
  uint32_t cap_ms = 1u << std::min(attempt + 1, 8);
  std::this_thread::sleep_for(std::chrono::microseconds(r % (cap_ms * 1000)));
}

class PostgresDatabase : public Database {
 public:
  explicit PostgresDatabase(const std::string& url) : pool_(url) {}

  Result<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    KINO_ASSIGN_OR_RETURN(Borrowed conn, pool_.Borrow());
    return conn->Run(sql, params, nullptr);
  }

  Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params) override {
    KINO_ASSIGN_OR_RETURN(Borrowed conn, pool_.Borrow());
    int64_t changes = 0;
    KINO_RETURN_IF_ERROR(conn->Run(sql, params, &changes).status());
    return changes;
  }

  Status Transact(const std::function<Status(Database&)>& fn) override {
    Status last;
    for (int attempt = 0; attempt < kMaxTransactionAttempts; ++attempt) {
      bool conflict = false;
      last = TransactOnce(fn, &conflict);
      if (!conflict) {
        return last;
      }
      BackOff(attempt);
    }
    return last.Annotate("transaction still conflicting after " +
                         std::to_string(kMaxTransactionAttempts) + " attempts");
  }

  std::string_view Dialect() const override { return "postgres"; }

 private:
  Status TransactOnce(const std::function<Status(Database&)>& fn, bool* conflict) {
    KINO_ASSIGN_OR_RETURN(Borrowed conn, pool_.Borrow());
    if (Status begun = conn->Begin(); !begun.ok()) {
      // An idle connection the server closed (a restart, an idle timeout) fails here, before
      // anything ran: safe to try again on a new one.
      *conflict = conn->broken();
      return begun;
    }
    TransactionView<Connection> view(conn.get(), "postgres");
    Status s = fn(view);
    // After a failed statement PostgreSQL answers COMMIT with a silent rollback, so a function
    // that swallowed an error must not be reported as committed.
    if (s.ok() && conn->failed()) {
      s = Internal("a statement failed inside the transaction; rolled back");
    }
    if (s.ok()) {
      s = conn->Run("COMMIT", {}, nullptr).status();
    }
    if (!s.ok()) {
      conn->Run("ROLLBACK", {}, nullptr).status().IgnoreError();
    }
    *conflict = !s.ok() && conn->conflict();
    return s;
  }

  Pool pool_;
};

// Applies the migrations while holding a session-level advisory lock on a connection of its own,
// so that nodes starting together apply each migration once: the others wait, then find it done.
Status MigrateUnderLock(const std::string& url, Database& db) {
  Failure failure;
  std::unique_ptr<pqxx::connection> lock_conn;
  KINO_RETURN_IF_ERROR(Guarded<bool>("taking the migration lock", &failure, [&] {
                         lock_conn = std::make_unique<pqxx::connection>(url);
                         pqxx::nontransaction tx(*lock_conn);
                         tx.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLockKey) +
                                 ")");
                         return true;
                       }).status());
  Status migrated = Migrate(db);
  // Closing the session would release the lock too; unlocking first is just tidier.
  Guarded<bool>("releasing the migration lock", &failure,
                [&] {
                  pqxx::nontransaction tx(*lock_conn);
                  tx.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLockKey) + ")");
                  return true;
                })
      .status()
      .IgnoreError();
  return migrated;
}

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url) {
  auto db = std::make_unique<PostgresDatabase>(url);
  // One statement first, so that a wrong URL or a server that is down fails here, clearly.
  Status reachable = db->Query("SELECT 1", {}).status();
  if (!reachable.ok()) {
    return reachable.Annotate("opening PostgreSQL database " + log::RedactUrl(url));
  }
  KINO_RETURN_IF_ERROR(MigrateUnderLock(url, *db));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace kino::storage

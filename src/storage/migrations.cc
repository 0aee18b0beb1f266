// Kino's schema, as an append-only list of migrations. Never edit a released migration: add a
// new one. Each runs in its own transaction together with the bump of schema_version.
//
// The statements are written in SQLite's words, and ForDialect() maps the column types for
// PostgreSQL: INTEGER becomes BIGINT (times are 64-bit microseconds, past PostgreSQL's 32-bit
// INTEGER) and REAL becomes DOUBLE PRECISION (SQLite's REAL is 8 bytes, PostgreSQL's 4).
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "storage/database.h"

namespace kino::storage {
namespace {

struct Migration {
  int version;
  std::vector<const char*> statements;
};

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       {
           R"(CREATE TABLE accounts (
                id TEXT PRIMARY KEY,
                created INTEGER NOT NULL))",
           R"(CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                token_hash TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL DEFAULT '',
                created INTEGER NOT NULL,
                revoked INTEGER))",
           R"(CREATE TABLE videos (
                uid TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                creator TEXT,
                meta TEXT NOT NULL DEFAULT '{}',
                state TEXT NOT NULL,
                pct_complete REAL NOT NULL DEFAULT 0,
                error_code TEXT NOT NULL DEFAULT '',
                error_text TEXT NOT NULL DEFAULT '',
                require_signed_urls INTEGER NOT NULL DEFAULT 0,
                allowed_origins TEXT NOT NULL DEFAULT '[]',
                thumbnail_pct REAL NOT NULL DEFAULT 0,
                max_duration_seconds INTEGER,
                max_size_bytes INTEGER,
                scheduled_deletion INTEGER,
                upload_expiry INTEGER,
                size INTEGER NOT NULL DEFAULT 0,
                duration REAL NOT NULL DEFAULT -1,
                width INTEGER NOT NULL DEFAULT -1,
                height INTEGER NOT NULL DEFAULT -1,
                ready_to_stream INTEGER NOT NULL DEFAULT 0,
                ready_at INTEGER,
                source TEXT NOT NULL,
                source_url TEXT,
                upload_length INTEGER,
                upload_offset INTEGER NOT NULL DEFAULT 0,
                public_details TEXT,
                created INTEGER NOT NULL,
                modified INTEGER NOT NULL,
                uploaded INTEGER))",
           "CREATE INDEX videos_by_account_created ON videos(account_id, created)",
           R"(CREATE TABLE downloads (
                video_uid TEXT NOT NULL REFERENCES videos(uid) ON DELETE CASCADE,
                type TEXT NOT NULL,
                status TEXT NOT NULL,
                percent_complete REAL NOT NULL DEFAULT 0,
                size INTEGER NOT NULL DEFAULT 0,
                sha256 TEXT NOT NULL DEFAULT '',
                error_text TEXT NOT NULL DEFAULT '',
                generation INTEGER NOT NULL DEFAULT 1,
                created INTEGER NOT NULL,
                modified INTEGER NOT NULL,
                PRIMARY KEY (video_uid, type)))",
           R"(CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                video_uid TEXT,
                payload TEXT NOT NULL DEFAULT '{}',
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                run_at INTEGER NOT NULL,
                lease_owner TEXT,
                lease_expires INTEGER,
                last_error TEXT NOT NULL DEFAULT '',
                created INTEGER NOT NULL,
                updated INTEGER NOT NULL))",
           "CREATE INDEX jobs_by_state_run_at ON jobs(state, run_at)",
           "CREATE INDEX jobs_by_video ON jobs(video_uid)",
           R"(CREATE TABLE signing_keys (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts(id),
                public_pem TEXT NOT NULL,
                private_pem TEXT,
                builtin INTEGER NOT NULL DEFAULT 0,
                created INTEGER NOT NULL,
                revoked INTEGER))",
           R"(CREATE TABLE webhooks (
                account_id TEXT PRIMARY KEY REFERENCES accounts(id),
                notification_url TEXT NOT NULL,
                secret TEXT NOT NULL,
                download_events INTEGER NOT NULL DEFAULT 0,
                modified INTEGER NOT NULL))",
           R"(CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                account_id TEXT NOT NULL,
                video_uid TEXT NOT NULL,
                seq INTEGER NOT NULL,
                kind TEXT NOT NULL,
                body TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt INTEGER NOT NULL,
                created INTEGER NOT NULL,
                delivered INTEGER,
                last_status INTEGER,
                last_error TEXT NOT NULL DEFAULT ''))",
           "CREATE INDEX webhook_events_pending ON webhook_events(state, next_attempt)",
           R"(CREATE TABLE webhook_attempts (
                event_id TEXT NOT NULL,
                account_id TEXT NOT NULL,
                attempted INTEGER NOT NULL,
                http_status INTEGER,
                latency_ms INTEGER,
                error TEXT NOT NULL DEFAULT ''))",
           "CREATE INDEX webhook_attempts_by_account ON webhook_attempts(account_id, attempted)",
       }},
  };
  return kMigrations;
}

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Replaces every whole upper-case word `from` in `sql` with `to`. Column names are lower case,
// so only type names match.
std::string ReplaceWord(std::string sql, std::string_view from, std::string_view to) {
  size_t at = 0;
  while ((at = sql.find(from, at)) != std::string::npos) {
    size_t end = at + from.size();
    bool whole =
        (at == 0 || !IsWordChar(sql[at - 1])) && (end == sql.size() || !IsWordChar(sql[end]));
    if (whole) {
      sql.replace(at, from.size(), to);
      at += to.size();
    } else {
      at = end;
    }
  }
  return sql;
}

}  // namespace

std::string ForDialect(std::string_view statement, std::string_view dialect) {
  std::string sql(statement);
  if (dialect == "postgres") {
    sql = ReplaceWord(std::move(sql), "INTEGER", "BIGINT");
    sql = ReplaceWord(std::move(sql), "REAL", "DOUBLE PRECISION");
  }
  return sql;
}

Status Migrate(Database& db) {
  KINO_RETURN_IF_ERROR(db.Exec(ForDialect("CREATE TABLE IF NOT EXISTS schema_version ("
                                          "version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)",
                                          db.Dialect()))
                           .status());
  for (const Migration& m : Migrations()) {
    Status s = db.Transact([&m](Database& tx) -> Status {
      KINO_ASSIGN_OR_RETURN(
          Rows rows, tx.Query("SELECT 1 FROM schema_version WHERE version = $1", {Int(m.version)}));
      if (!rows.empty()) {
        return Status::Ok();
      }
      for (const char* statement : m.statements) {
        KINO_RETURN_IF_ERROR(tx.Exec(ForDialect(statement, tx.Dialect())).status());
      }
      return tx
          .Exec("INSERT INTO schema_version (version, applied) VALUES ($1, $2)",
                {Int(m.version), Int(NowMicros())})
          .status();
    });
    if (!s.ok()) {
      return s.Annotate("migration " + std::to_string(m.version));
    }
  }
  return Status::Ok();
}

}  // namespace kino::storage

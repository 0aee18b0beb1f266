#include "domain/account.h"

#include "common/crypto.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/errors.h"

namespace kino::domain {
namespace {

using storage::Int;
using storage::Text;

// Tokens are hashed with SHA-256: they are long random strings, so a slow password hash would
// add nothing, and the lookup by hash stays one indexed query.
std::string HashToken(std::string_view token) {
  return HexEncode(Sha256(token));
}

std::string NewToken() {
  // 30 random bytes in base64url: 40 characters, 240 bits.
  std::string bytes(30, '\0');
  RandomBytes(bytes.data(), bytes.size());
  return Base64UrlEncode(bytes);
}

}  // namespace

Status AccountRepository::Ensure(storage::Database& db, std::string_view account_id) {
  return db
      .Exec("INSERT INTO accounts (id, created) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            {Text(account_id), Int(NowMicros())})
      .status();
}

Result<bool> AccountRepository::Exists(storage::Database& db, std::string_view account_id) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query("SELECT 1 FROM accounts WHERE id = $1", {Text(account_id)}));
  return !rows.empty();
}

Result<std::vector<std::string>> AccountRepository::ListIds(storage::Database& db) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows, db.Query("SELECT id FROM accounts ORDER BY created"));
  std::vector<std::string> ids;
  for (const auto& r : rows) {
    ids.push_back(r.Text(0));
  }
  return ids;
}

Result<CreatedToken> AccountRepository::CreateToken(storage::Database& db,
                                                    std::string_view account_id,
                                                    std::string_view name) {
  CreatedToken created;
  created.token = NewToken();
  created.info.id = NewId();
  created.info.account_id = std::string(account_id);
  created.info.name = std::string(name);
  created.info.created = NowMicros();
  KINO_RETURN_IF_ERROR(
      db.Exec("INSERT INTO api_tokens (id, account_id, token_hash, name, created) "
              "VALUES ($1, $2, $3, $4, $5)",
              {Text(created.info.id), Text(account_id), Text(HashToken(created.token)), Text(name),
               Int(created.info.created)})
          .status());
  return created;
}

Status AccountRepository::ImportToken(storage::Database& db, std::string_view account_id,
                                      std::string_view token, std::string_view name) {
  return db.Transact([&](storage::Database& tx) -> Status {
    KINO_ASSIGN_OR_RETURN(
        storage::Rows rows,
        tx.Query("SELECT account_id, revoked FROM api_tokens WHERE token_hash = $1",
                 {Text(HashToken(token))}));
    if (!rows.empty()) {
      if (rows[0].Text(0) != account_id) {
        return AlreadyExists("that API token belongs to another account");
      }
      return tx
          .Exec("UPDATE api_tokens SET revoked = NULL WHERE token_hash = $1",
                {Text(HashToken(token))})
          .status();
    }
    return tx
        .Exec(
            "INSERT INTO api_tokens (id, account_id, token_hash, name, created) "
            "VALUES ($1, $2, $3, $4, $5)",
            {Text(NewId()), Text(account_id), Text(HashToken(token)), Text(name), Int(NowMicros())})
        .status();
  });
}

Result<std::vector<ApiTokenInfo>> AccountRepository::ListTokens(storage::Database& db,
                                                                std::string_view account_id) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query("SELECT id, account_id, name, created, revoked FROM api_tokens "
                                 "WHERE account_id = $1 ORDER BY created",
                                 {Text(account_id)}));
  std::vector<ApiTokenInfo> out;
  for (const auto& r : rows) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2), r.Int(3), r.OptInt(4)});
  }
  return out;
}

Status AccountRepository::RevokeToken(storage::Database& db, std::string_view token_id) {
  KINO_ASSIGN_OR_RETURN(int64_t changed, db.Exec("UPDATE api_tokens SET revoked = $2 WHERE id = $1",
                                                 {Text(token_id), Int(NowMicros())}));
  if (changed == 0) {
    return NotFound("no API token with id " + std::string(token_id));
  }
  return Status::Ok();
}

Result<std::string> AccountRepository::Authenticate(storage::Database& db, std::string_view token) {
  if (token.empty() || token.size() > 256) {
    return Unauthenticated("Authentication error", kErrAuthentication);
  }
  std::string hash = HashToken(token);
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query("SELECT account_id, token_hash FROM api_tokens WHERE token_hash = $1 AND "
               "revoked IS NULL",
               {Text(hash)}));
  // The lookup is by hash, so timing reveals nothing about the token; compare once more in
  // constant time all the same.
  if (rows.empty() || !ConstantTimeEquals(rows[0].Text(1), hash)) {
    return Unauthenticated("Authentication error", kErrAuthentication);
  }
  return rows[0].Text(0);
}

}  // namespace kino::domain

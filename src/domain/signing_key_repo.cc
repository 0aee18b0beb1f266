#include "domain/signing_key_repo.h"

#include "domain/errors.h"

namespace kino::domain {
namespace {

using storage::Int;
using storage::OptText;
using storage::Text;

constexpr char kColumns[] = "id, account_id, public_pem, builtin, created, revoked";

SigningKey FromRow(const storage::Row& row) {
  SigningKey key;
  key.id = row.Text(0);
  key.account_id = row.Text(1);
  key.public_pem = row.Text(2);
  key.builtin = row.Bool(3);
  key.created = row.Int(4);
  key.revoked = row.OptInt(5);
  return key;
}

Status KeyNotFound() {
  return NotFound("signing key not found", kErrSigningKeyNotFound);
}

Status Insert(storage::Database& db, const SigningKey& key,
              const std::optional<std::string>& private_pem) {
  return db
      .Exec(
          "INSERT INTO signing_keys (id, account_id, public_pem, private_pem, builtin, created) "
          "VALUES ($1, $2, $3, $4, $5, $6)",
          {Text(key.id), Text(key.account_id), Text(key.public_pem), OptText(private_pem),
           Int(key.builtin ? 1 : 0), Int(key.created)})
      .status();
}

}  // namespace

Status SigningKeyRepository::InsertUserKey(storage::Database& db, const SigningKey& key) {
  return db.Transact([&key](storage::Database& tx) -> Status {
    KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                          tx.Query("SELECT COUNT(*) FROM signing_keys WHERE account_id = $1 AND "
                                   "builtin = 0 AND revoked IS NULL",
                                   {Text(key.account_id)}));
    if (!rows.empty() && rows[0].Int(0) >= kMaxSigningKeysPerAccount) {
      return InvalidArgument("an account may have at most 1000 signing keys; delete some first",
                             kErrTooManySigningKeys);
    }
    SigningKey user = key;
    user.builtin = false;
    return Insert(tx, user, std::nullopt);
  });
}

Result<SigningKey> SigningKeyRepository::InsertBuiltinKey(storage::Database& db,
                                                          const SigningKey& key) {
  SigningKey live;
  Status s = db.Transact([&](storage::Database& tx) -> Status {
    KINO_ASSIGN_OR_RETURN(std::optional<SigningKey> existing, FindBuiltin(tx, key.account_id));
    if (existing) {
      live = std::move(*existing);
      return Status::Ok();
    }
    SigningKey builtin = key;
    builtin.builtin = true;
    KINO_RETURN_IF_ERROR(Insert(tx, builtin, key.private_pem));
    live = std::move(builtin);
    return Status::Ok();
  });
  KINO_RETURN_IF_ERROR(s);
  return live;
}

Result<std::optional<SigningKey>> SigningKeyRepository::FindBuiltin(storage::Database& db,
                                                                    std::string_view account_id) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query(std::string("SELECT ") + kColumns +
                   ", private_pem FROM signing_keys WHERE account_id = $1 AND builtin = 1 AND "
                   "revoked IS NULL ORDER BY created, id LIMIT 1",
               {Text(account_id)}));
  if (rows.empty()) {
    return std::optional<SigningKey>();
  }
  SigningKey key = FromRow(rows[0]);
  key.private_pem = rows[0].OptText(6);
  return std::optional<SigningKey>(std::move(key));
}

Result<std::vector<SigningKey>> SigningKeyRepository::ListUserKeys(storage::Database& db,
                                                                   std::string_view account_id) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query(std::string("SELECT ") + kColumns +
                   " FROM signing_keys WHERE account_id = $1 AND builtin = 0 AND revoked IS NULL "
                   "ORDER BY created, id",
               {Text(account_id)}));
  std::vector<SigningKey> keys;
  keys.reserve(rows.size());
  for (const storage::Row& row : rows) {
    keys.push_back(FromRow(row));
  }
  return keys;
}

Result<std::optional<SigningKey>> SigningKeyRepository::FindLive(storage::Database& db,
                                                                 std::string_view id) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query(std::string("SELECT ") + kColumns +
                                     " FROM signing_keys WHERE id = $1 AND revoked IS NULL",
                                 {Text(id)}));
  if (rows.empty()) {
    return std::optional<SigningKey>();
  }
  return std::optional<SigningKey>(FromRow(rows[0]));
}

Result<SigningKey> SigningKeyRepository::GetLive(storage::Database& db, std::string_view account_id,
                                                 std::string_view id) {
  KINO_ASSIGN_OR_RETURN(std::optional<SigningKey> key, FindLive(db, id));
  if (!key || key->account_id != account_id) {
    return KeyNotFound();
  }
  return std::move(*key);
}

Status SigningKeyRepository::Revoke(storage::Database& db, std::string_view account_id,
                                    std::string_view id, int64_t now_micros) {
  KINO_ASSIGN_OR_RETURN(
      int64_t changed,
      db.Exec("UPDATE signing_keys SET revoked = $1 WHERE id = $2 AND account_id = $3 AND "
              "revoked IS NULL",
              {Int(now_micros), Text(id), Text(account_id)}));
  if (changed == 0) {
    return KeyNotFound();
  }
  return Status::Ok();
}

}  // namespace kino::domain

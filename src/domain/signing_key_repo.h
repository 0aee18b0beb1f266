// Signing keys for signed URLs: the rows of the `signing_keys` table.
//
// Two kinds of key live here. A user key (builtin = false) is made by `POST .../stream/keys`;
// its private half goes to the user once and only the public half (an SPKI PEM) is stored. A
// builtin key (builtin = true) is Kino's own per-account key, used by the token endpoint when
// the caller sends no key of its own; Kino keeps its private PEM, which never leaves the server.
//
// A revoked key stays in the table with `revoked` set, so that a token naming it keeps failing
// as "revoked" rather than turning into "unknown". Key ids are 32 lowercase hex characters and
// unique across accounts (they are the tokens' kid).
//
// Every method takes the Database to use, so callers can group calls into one transaction.
#ifndef KINO_DOMAIN_SIGNING_KEY_REPO_H_
#define KINO_DOMAIN_SIGNING_KEY_REPO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace kino::domain {

// Cloudflare Stream's documented limit of signing keys per account; builtin keys do not count.
inline constexpr int64_t kMaxSigningKeysPerAccount = 1000;

struct SigningKey {
  std::string id;
  std::string account_id;
  std::string public_pem;                  // SubjectPublicKeyInfo PEM
  std::optional<std::string> private_pem;  // builtin keys only: Kino's own secret
  bool builtin = false;
  int64_t created = 0;             // micros
  std::optional<int64_t> revoked;  // micros
};

class SigningKeyRepository {
 public:
  // Stores a user key: only id, account_id, public_pem and created are written (never a
  // private key). InvalidArgument (code 10027) when the account already has
  // kMaxSigningKeysPerAccount live user keys.
  static Status InsertUserKey(storage::Database& db, const SigningKey& key);

  // Stores a builtin key for its account unless the account already has a live one, and
  // returns the account's live builtin key (the one just stored, or the older one: the first
  // writer wins when two requests race).
  static Result<SigningKey> InsertBuiltinKey(storage::Database& db, const SigningKey& key);

  // The account's live builtin key, if any.
  static Result<std::optional<SigningKey>> FindBuiltin(storage::Database& db,
                                                       std::string_view account_id);

  // The account's live user keys, oldest first, without private keys.
  static Result<std::vector<SigningKey>> ListUserKeys(storage::Database& db,
                                                      std::string_view account_id);

  // The live key `id` of any account (for verifying tokens); nullopt when it is unknown or
  // revoked. The private PEM is not read.
  static Result<std::optional<SigningKey>> FindLive(storage::Database& db, std::string_view id);

  // The live key `id` of `account_id`. NotFound (code 10014) when unknown, revoked, or of
  // another account.
  static Result<SigningKey> GetLive(storage::Database& db, std::string_view account_id,
                                    std::string_view id);

  // Marks the account's live key `id` revoked at `now_micros`: tokens naming it fail from then
  // on. Builtin keys may be revoked too (that revokes every token the token endpoint signed for
  // the account; the next request makes a new builtin key). NotFound (code 10014) as GetLive.
  static Status Revoke(storage::Database& db, std::string_view account_id, std::string_view id,
                       int64_t now_micros);
};

}  // namespace kino::domain

#endif  // KINO_DOMAIN_SIGNING_KEY_REPO_H_

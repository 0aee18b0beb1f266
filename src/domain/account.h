// Accounts and the API tokens that act on them.
//
// Account ids are 32 lowercase hex characters. API tokens are stored only as SHA-256 hashes;
// the token itself is shown once, when created. A token acts only on its own account.
#ifndef KINO_DOMAIN_ACCOUNT_H_
#define KINO_DOMAIN_ACCOUNT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace kino::domain {

struct ApiTokenInfo {
  std::string id;
  std::string account_id;
  std::string name;
  int64_t created = 0;
  std::optional<int64_t> revoked;
};

struct CreatedToken {
  ApiTokenInfo info;
  std::string token;  // the secret; never stored, never logged
};

class AccountRepository {
 public:
  // Creates the account if it does not exist.
  static Status Ensure(storage::Database& db, std::string_view account_id);
  static Result<bool> Exists(storage::Database& db, std::string_view account_id);
  static Result<std::vector<std::string>> ListIds(storage::Database& db);

  // Makes a new random token for the account.
  static Result<CreatedToken> CreateToken(storage::Database& db, std::string_view account_id,
                                          std::string_view name);
  // Stores a token chosen by the operator (KINO_API_TOKEN); no-op if it already exists for
  // this account. AlreadyExists if it belongs to another account.
  static Status ImportToken(storage::Database& db, std::string_view account_id,
                            std::string_view token, std::string_view name);
  static Result<std::vector<ApiTokenInfo>> ListTokens(storage::Database& db,
                                                      std::string_view account_id);
  // Revokes by token id. NotFound when unknown.
  static Status RevokeToken(storage::Database& db, std::string_view token_id);
  // The account a live token belongs to; Unauthenticated (api code 10000) otherwise.
  static Result<std::string> Authenticate(storage::Database& db, std::string_view token);
};

}  // namespace kino::domain

#endif  // KINO_DOMAIN_ACCOUNT_H_

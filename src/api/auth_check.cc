#include "api/context.h"
#include "common/strings.h"
#include "domain/account.h"
#include "domain/errors.h"

namespace kino::api {

Result<std::string> Authenticate(ApiContext& ctx, const Request& req,
                                 std::string_view path_account_id) {
  std::string_view token;
  if (auto auth = req.headers.Get("Authorization")) {
    std::string_view v = TrimWhitespace(*auth);
    if (v.size() > 7 && EqualsIgnoreCase(v.substr(0, 7), "Bearer ")) {
      token = TrimWhitespace(v.substr(7));
    }
  } else if (auto key = req.headers.Get("X-Auth-Key")) {
    // Global API keys: Kino treats the key as an API token; the e-mail is not checked.
    token = TrimWhitespace(*key);
  }
  if (token.empty()) {
    return Unauthenticated("Authentication error", domain::kErrAuthentication);
  }
  KINO_ASSIGN_OR_RETURN(std::string account,
                        domain::AccountRepository::Authenticate(*ctx.db, token));
  if (account != path_account_id) {
    return PermissionDenied("Authentication error: the token does not belong to this account",
                            domain::kErrAuthentication);
  }
  return account;
}

}  // namespace kino::api

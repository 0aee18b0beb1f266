// Signing keys and the token endpoint (Cloudflare Stream's signed URLs):
//
//   POST   .../stream/keys          make an RSA-2048 key: {id, pem, jwk, created}, shown once
//   GET    .../stream/keys          the account's live keys: [{id, created}]
//   DELETE .../stream/keys/:key     revoke a key and every token signed with it: "Revoked"
//   POST   .../stream/:uid/token    sign one token for the video: {token}
//
// Only the public half of a user's key is stored (domain/signing_key_repo.h). The token endpoint
// signs with the caller's key when the body has `id` and `pem` (the private PEM is parsed, checked
// against the stored public half, used once and dropped), else with Kino's own key for the
// account, made on first use. Tokens it makes carry exp/nbf as numeric strings, as Stream's do.
#include <memory>
#include <optional>
#include <string>

#include "api/envelope.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "auth/jwt.h"
#include "auth/signing_key.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/errors.h"
#include "domain/signing_key_repo.h"

namespace kino::api {
namespace {

using domain::kErrInvalidParameter;
using domain::SigningKey;
using domain::SigningKeyRepository;

constexpr int64_t kDefaultLifetimeS = 3600;
constexpr int64_t kMaxLifetimeS = 24 * 3600;
constexpr int64_t kDefaultNbfBackS = 3600;

Status BadField(std::string_view field, std::string_view expected) {
  return InvalidArgument("field '" + std::string(field) + "' must be " + std::string(expected),
                         kErrInvalidParameter);
}

nlohmann::json KeyListItem(const SigningKey& key) {
  return {{"id", key.id}, {"created", FormatRfc3339(key.created)}};
}

// ---- keys ----

Result<nlohmann::json> CreateKey(ApiContext& ctx, Request& req, const std::string& account) {
  // Stream's call has no body; tolerate an empty object (the SDK sends one), refuse garbage.
  KINO_RETURN_IF_ERROR(ParseJsonBody(req.body).status());
  std::string id = NewId();
  KINO_ASSIGN_OR_RETURN(auth::GeneratedSigningKey generated, auth::GenerateSigningKey(id));
  SigningKey key;
  key.id = id;
  key.account_id = account;
  key.public_pem = generated.public_pem;
  key.created = NowMicros();
  KINO_RETURN_IF_ERROR(SigningKeyRepository::InsertUserKey(*ctx.db, key));
  log::Info("signing_key_created", "signing key created", {{"key_id", id}});

  nlohmann::json result = KeyListItem(key);
  result["pem"] = generated.pem_base64;
  result["jwk"] = generated.jwk_base64;
  return result;
}

Result<nlohmann::json> ListKeys(ApiContext& ctx, const std::string& account) {
  KINO_ASSIGN_OR_RETURN(std::vector<SigningKey> keys,
                        SigningKeyRepository::ListUserKeys(*ctx.db, account));
  nlohmann::json result = nlohmann::json::array();
  for (const SigningKey& key : keys) {
    result.push_back(KeyListItem(key));
  }
  return result;
}

Result<nlohmann::json> DeleteKey(ApiContext& ctx, const PathParams& params,
                                 const std::string& account) {
  const std::string& id = Param(params, "key");
  if (!IsId(id)) {
    return NotFound("signing key not found", domain::kErrSigningKeyNotFound);
  }
  KINO_RETURN_IF_ERROR(SigningKeyRepository::Revoke(*ctx.db, account, id, NowMicros()));
  log::Info("signing_key_revoked", "signing key revoked", {{"key_id", id}});
  return nlohmann::json("Revoked");
}

// ---- token ----

// What a token request asks for, validated.
struct TokenRequest {
  std::optional<std::string> key_id;
  std::optional<std::string> pem_base64;
  auth::TokenClaims claims;
};

// A NumericDate field: an integer or a string of digits (as tokens carry them). nullopt when
// absent or null.
Result<std::optional<int64_t>> OptionalUnixTime(const nlohmann::json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    return std::optional<int64_t>();
  }
  std::optional<uint64_t> value;
  if (it->is_number_unsigned()) {
    value = it->get<uint64_t>();
  } else if (it->is_string()) {
    value = ParseUint64(it->get_ref<const std::string&>());
  }
  if (!value || *value > static_cast<uint64_t>(auth::kMaxNumericDate)) {
    return BadField(field, "a unix time in seconds");
  }
  return std::optional<int64_t>(static_cast<int64_t>(*value));
}

// exp: default now + 1 h, in the future, at most 24 h ahead. nbf: default now - 1 h, before exp.
Status ReadTimes(const nlohmann::json& body, int64_t now, auth::TokenClaims* claims) {
  KINO_ASSIGN_OR_RETURN(std::optional<int64_t> exp, OptionalUnixTime(body, "exp"));
  KINO_ASSIGN_OR_RETURN(std::optional<int64_t> nbf, OptionalUnixTime(body, "nbf"));
  claims->exp = exp.value_or(now + kDefaultLifetimeS);
  claims->nbf = nbf.value_or(now - kDefaultNbfBackS);
  claims->has_nbf = true;
  if (claims->exp <= now) {
    return BadField("exp", "in the future");
  }
  if (claims->exp > now + kMaxLifetimeS) {
    return BadField("exp", "at most 24 hours from now");
  }
  if (claims->nbf >= claims->exp) {
    return BadField("nbf", "before exp");
  }
  return Status::Ok();
}

// accessRules (at most five, as auth::ParseAccessRules checks) and flags ({"original": bool}).
Status ReadRulesAndFlags(const nlohmann::json& body, auth::TokenClaims* claims) {
  if (auto it = body.find("accessRules"); it != body.end() && !it->is_null()) {
    Result<std::vector<auth::AccessRule>> rules = auth::ParseAccessRules(*it);
    if (!rules.ok()) {
      return InvalidArgument("field 'accessRules': " + rules.status().message(),
                             kErrInvalidParameter);
    }
    claims->access_rules = std::move(rules).value();
  }
  auto flags = body.find("flags");
  if (flags == body.end() || flags->is_null()) {
    return Status::Ok();
  }
  if (!flags->is_object()) {
    return BadField("flags", "an object such as {\"original\": true}");
  }
  KINO_ASSIGN_OR_RETURN(std::optional<bool> original, OptionalBool(*flags, "original"));
  if (original) {
    claims->flags = {{"original", *original}};
  }
  return Status::Ok();
}

Result<TokenRequest> ReadTokenRequest(const std::string& body_text, const std::string& uid) {
  KINO_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(body_text));
  TokenRequest request;
  KINO_ASSIGN_OR_RETURN(request.key_id, OptionalString(body, "id"));
  KINO_ASSIGN_OR_RETURN(request.pem_base64, OptionalString(body, "pem"));
  if (request.key_id.has_value() != request.pem_base64.has_value()) {
    return InvalidArgument("fields 'id' and 'pem' go together: give both or neither",
                           kErrInvalidParameter);
  }
  request.claims.sub = uid;
  KINO_RETURN_IF_ERROR(ReadTimes(body, NowMicros() / 1000000, &request.claims));
  KINO_ASSIGN_OR_RETURN(std::optional<bool> downloadable, OptionalBool(body, "downloadable"));
  request.claims.downloadable = downloadable.value_or(false);
  KINO_RETURN_IF_ERROR(ReadRulesAndFlags(body, &request.claims));
  return request;
}

// The caller's own key: the PEM must be the private half of the account's live key `id`, so
// nobody can mint tokens under a kid that is not theirs.
Result<std::unique_ptr<auth::PrivateKey>> CallerKey(ApiContext& ctx, const std::string& account,
                                                    const TokenRequest& request) {
  KINO_ASSIGN_OR_RETURN(SigningKey stored,
                        SigningKeyRepository::GetLive(*ctx.db, account, *request.key_id));
  Result<std::unique_ptr<auth::PrivateKey>> key =
      auth::PrivateKey::FromBase64Pem(*request.pem_base64);
  if (!key.ok()) {
    return BadField("pem", "the base64 of an RSA private key PEM (2048 to 4096 bits)");
  }
  KINO_ASSIGN_OR_RETURN(std::shared_ptr<const auth::PublicKey> public_key,
                        auth::PublicKey::FromPem(stored.public_pem));
  if (!(*key)->Matches(*public_key)) {
    return InvalidArgument("field 'pem' is not the private key of signing key 'id'",
                           kErrInvalidParameter);
  }
  return key;
}

// Kino's own key for the account, made and stored on first use.
Result<SigningKey> BuiltinKey(ApiContext& ctx, const std::string& account) {
  KINO_ASSIGN_OR_RETURN(std::optional<SigningKey> existing,
                        SigningKeyRepository::FindBuiltin(*ctx.db, account));
  if (existing) {
    return std::move(*existing);
  }
  std::string id = NewId();
  KINO_ASSIGN_OR_RETURN(auth::GeneratedSigningKey generated, auth::GenerateSigningKey(id));
  std::optional<std::string> pem = Base64Decode(generated.pem_base64);
  if (!pem) {
    return Internal("a generated signing key's PEM is not base64");
  }
  SigningKey key;
  key.id = id;
  key.account_id = account;
  key.public_pem = generated.public_pem;
  key.private_pem = std::move(pem);
  key.created = NowMicros();
  KINO_ASSIGN_OR_RETURN(SigningKey live, SigningKeyRepository::InsertBuiltinKey(*ctx.db, key));
  if (live.id == id) {
    log::Info("builtin_signing_key_created", "made the account's own token signing key",
              {{"key_id", id}});
  }
  return live;
}

Result<nlohmann::json> CreateToken(ApiContext& ctx, Request& req, const PathParams& params,
                                   const std::string& account) {
  KINO_ASSIGN_OR_RETURN(domain::Video video, LoadVideo(ctx, params, account));
  KINO_ASSIGN_OR_RETURN(TokenRequest request, ReadTokenRequest(req.body, video.uid));

  std::unique_ptr<auth::PrivateKey> key;
  if (request.key_id) {
    KINO_ASSIGN_OR_RETURN(key, CallerKey(ctx, account, request));
    request.claims.kid = *request.key_id;
  } else {
    KINO_ASSIGN_OR_RETURN(SigningKey builtin, BuiltinKey(ctx, account));
    if (!builtin.private_pem) {
      return Internal("the account's builtin signing key has no private key stored");
    }
    KINO_ASSIGN_OR_RETURN(key, auth::PrivateKey::FromPem(*builtin.private_pem));
    request.claims.kid = builtin.id;
  }
  KINO_ASSIGN_OR_RETURN(std::string token,
                        auth::SignToken(request.claims, *key, /*times_as_strings=*/true));
  return nlohmann::json{{"token", std::move(token)}};
}

}  // namespace

void RegisterKeyRoutes(Router& router, ApiContext& ctx) {
  std::string base = kStreamPrefix;
  router.Add("POST", base + "/keys",
             AccountRoute(ctx, [&ctx](Request& req, const PathParams&, const std::string& a) {
               return CreateKey(ctx, req, a);
             }));
  router.Add("GET", base + "/keys",
             AccountRoute(ctx, [&ctx](Request&, const PathParams&, const std::string& a) {
               return ListKeys(ctx, a);
             }));
  router.Add("DELETE", base + "/keys/:key",
             AccountRoute(ctx, [&ctx](Request&, const PathParams& p, const std::string& a) {
               return DeleteKey(ctx, p, a);
             }));
  router.Add("POST", base + "/:uid/token",
             AccountRoute(ctx, [&ctx](Request& req, const PathParams& p, const std::string& a) {
               return CreateToken(ctx, req, p, a);
             }));
}

}  // namespace kino::api

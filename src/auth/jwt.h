// Signed-URL tokens: JWS compact serialization (RFC 7515 section 7.1) of a JWT (RFC 7519),
// signed with RS256 = RSASSA-PKCS1-v1_5 using SHA-256 (RFC 7518 section 3.3), in the shape
// Cloudflare Stream uses:
//   header  {"alg":"RS256","kid":"<signing key id>"}
//   payload {"sub":"<video uid>","kid":"<signing key id>","exp":1537460365,"nbf":1537453165,
//            "downloadable":true,"accessRules":[...],"flags":{...}}
// `exp`/`nbf` are NumericDates (RFC 7519 section 2); tokens minted by Stream's /token endpoint
// carry them as numeric strings ("exp":"1537460365"), self-signed ones as numbers, so both parse.
//
// Verification is split into steps so the caller (see token_verifier.h) can look the key up
// between them: ParseToken (structure only) -> VerifySignature -> CheckTimes.
//
// Error codes (every failure is Unauthenticated(msg, code) unless noted; the HTTP layer maps
// Unauthenticated to 401 and PermissionDenied to 403 and puts the code in the error envelope):
//
//   code   | status           | meaning
//   -------+------------------+-------------------------------------------------------------
//   10401  | Unauthenticated  | malformed token (parts, base64url, JSON, claims, accessRules)
//   10402  | Unauthenticated  | unsupported or missing alg (only "RS256" is accepted)
//   10403  | Unauthenticated  | signature does not verify with the signing key
//   10404  | Unauthenticated  | expired (exp)
//   10405  | Unauthenticated  | not yet valid (nbf)
//   10406  | Unauthenticated  | unknown or revoked signing key (kid)
//   10407  | Unauthenticated  | wrong subject: sub is not the video being requested
//   10410  | PermissionDenied | blocked by an access rule
//   10411  | PermissionDenied | the token lacks `downloadable: true` for a download
//
// Messages never contain the token, its parts or claim values: they may end up in logs.
//
// Thread-safety: free functions without shared state.
#ifndef KINO_AUTH_JWT_H_
#define KINO_AUTH_JWT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/access_rules.h"
#include "auth/signing_key.h"
#include "common/status.h"

namespace kino::auth {

inline constexpr int kTokenMalformed = 10401;
inline constexpr int kTokenUnsupportedAlg = 10402;
inline constexpr int kTokenBadSignature = 10403;
inline constexpr int kTokenExpired = 10404;
inline constexpr int kTokenNotYetValid = 10405;
inline constexpr int kTokenUnknownKey = 10406;
inline constexpr int kTokenWrongSubject = 10407;
inline constexpr int kTokenBlockedByAccessRule = 10410;
inline constexpr int kTokenNotDownloadable = 10411;

// Longer tokens are refused before any decoding. Real ones are well under 2 KiB; 16 KiB leaves
// room for five access rules with long address lists.
inline constexpr size_t kMaxTokenBytes = 16 * 1024;
// NumericDates beyond the year 9999 are refused, which keeps `exp + leeway` far from overflow.
inline constexpr int64_t kMaxNumericDate = 253402300799;

struct TokenClaims {
  std::string sub;  // the video uid
  std::string kid;  // the signing key id (from the header, or the payload when the header has none)
  int64_t exp = 0;  // unix seconds
  int64_t nbf = 0;  // unix seconds; meaningful only when has_nbf
  bool has_nbf = false;
  bool downloadable = false;
  std::vector<AccessRule> access_rules;
  nlohmann::json flags;  // the `flags` object as given (e.g. {"original": true}), or null
};

// Signs `claims` with `key`: header {"alg":"RS256","kid":claims.kid}. With `times_as_strings`,
// exp and nbf are written as numeric strings, as Stream's /token endpoint does. `downloadable`
// is written only when true, `accessRules` only when non-empty, `flags` only when a non-empty
// object. InvalidArgument when sub or kid is empty or there are more than five access rules.
Result<std::string> SignToken(const TokenClaims& claims, const PrivateKey& key,
                              bool times_as_strings);

struct ParsedToken {
  nlohmann::json header;
  TokenClaims claims;
  std::string signing_input;  // ASCII(BASE64URL(header) || '.' || BASE64URL(payload))
  std::string signature;      // decoded signature bytes
};

// Checks the structure of a compact JWS and decodes its claims; does NOT check the signature or
// the times. Requires: exactly three non-empty parts of unpadded base64url (RFC 7515 section 2);
// a JSON object header with "alg" exactly "RS256" (10402 otherwise, including "none" and
// "HS256"), and no "crit" (RFC 7515 section 4.1.11: we understand no extensions); a JSON object
// payload with a non-empty string `sub`, a `kid` in the header or payload (equal if both), `exp`
// as a number or numeric string, optional `nbf` likewise, optional boolean `downloadable`,
// optional `accessRules` (see ParseAccessRules) and optional object `flags`. Fractional
// NumericDates are rounded towards the safe side (exp down, nbf up). 10401 for any other defect.
Result<ParsedToken> ParseToken(std::string_view compact);

// Verifies the RS256 signature over the signing input with `key` (RFC 7515 section 5.2 step 8).
// 10403 when it does not verify.
Status VerifySignature(const ParsedToken& token, const PublicKey& key);

// RFC 7519 sections 4.1.4 and 4.1.5 with `leeway_s` seconds of clock skew allowed: expired
// (10404) when now >= exp + leeway; not yet valid (10405) when now + leeway < nbf.
Status CheckTimes(const TokenClaims& claims, int64_t now_unix, int64_t leeway_s = 30);

}  // namespace kino::auth

#endif  // KINO_AUTH_JWT_H_

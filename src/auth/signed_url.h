// Signed URLs: deciding whether a token in a delivery URL grants access to a video, and whether
// a browser origin may play a video (allowedOrigins).
//
// VerifySignedUrlToken is the whole of token checking, as a pure function of its inputs: the
// token text, the clock, the client address, the kind of delivery, and two lookups (signing keys
// by kid, video owners by uid) that the caller backs with the database. No HTTP, no globals, so
// every case is unit-testable. The steps, each failing with the code from jwt.h:
//
//   1. ParseToken: structure, alg pinned to RS256, claims           401 10401 / 10402
//   2. the kid names a live signing key (unknown or revoked fail)    401 10406
//   3. the RS256 signature verifies with that key (RFC 7515 5.2)     401 10403
//   4. exp / nbf with kTokenLeewaySeconds of skew (RFC 7519 4.1.4/5) 401 10404 / 10405
//   5. sub is a uid of a video owned by the key's account            401 10407, 404 no video
//   6. a download needs `downloadable: true`                         403 10411
//   7. access rules, in order, first match wins, no match allows    403 10410
//      (a country rule without a GeoIP database refuses)            403 10412
//
// The signature is checked before sub is looked at, so an unsigned token cannot probe which
// videos exist. Messages never contain the token or claim values.
//
// Thread-safety: VerifySignedUrlToken and the origin helpers are pure. PublicKeyCache is safe
// for concurrent use.
#ifndef KINO_AUTH_SIGNED_URL_H_
#define KINO_AUTH_SIGNED_URL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/access_rules.h"
#include "auth/jwt.h"
#include "auth/signing_key.h"
#include "common/status.h"

namespace kino::auth {

// PermissionDenied: the token reaches an ip.geoip.country rule but no GeoIP database is
// configured (or it could not be opened). The caller logs this: an operator must act.
inline constexpr int kTokenGeoIpUnavailable = 10412;

// Clock skew allowed on exp and nbf. Small against the one-hour default lifetime of a token;
// large enough for a signer whose clock is a little off.
inline constexpr int64_t kTokenLeewaySeconds = 30;

// A live (not revoked) signing key, as a verifier needs it.
struct VerificationKey {
  std::string account_id;  // the account whose videos the key may grant
  std::shared_ptr<const PublicKey> key;
};

// Finds the live signing key with id `kid`: nullopt when no live key has that id (unknown or
// revoked); an error only when the lookup itself failed.
using KeyLookup = std::function<Result<std::optional<VerificationKey>>(std::string_view kid)>;
// The account that owns video `uid`; NotFound when there is no such video.
using VideoOwnerLookup = std::function<Result<std::string>(std::string_view uid)>;

enum class TokenUse { kPlayback, kDownload };

struct SignedUrlCheck {
  std::string_view token;
  TokenUse use = TokenUse::kPlayback;
  int64_t now_unix = 0;
  // The address access rules test (see ResolveClientAddress). nullopt when it is unknown: then a
  // token with any ip.src or country rule is refused.
  std::optional<IpAddress> client;
  // For ip.geoip.country rules; null when none is configured.
  const GeoIpDatabase* geo = nullptr;
  int64_t leeway_s = kTokenLeewaySeconds;
};

// Runs steps 1-7 above. On success returns the token's claims (sub is the video's uid).
Result<TokenClaims> VerifySignedUrlToken(const SignedUrlCheck& check, const KeyLookup& keys,
                                         const VideoOwnerLookup& owner_of);

// True when a delivery id is shaped like a JWS compact token (it has a '.'), as opposed to a
// bare uid. Says nothing about validity.
bool LooksLikeToken(std::string_view id);

// --- allowedOrigins ---

// The lower-case host of an Origin value ("https://a.example.com:8443") or of a URL
// ("https://a.example.com/page?x", from Referer). nullopt for "null", an empty host or text
// that is not an absolute http(s) URL.
std::optional<std::string> HostOfOrigin(std::string_view origin_or_url);

// One allowedOrigins entry against a host, case-insensitively. "example.com" matches exactly;
// "*.example.com" matches any subdomain (a.example.com, a.b.example.com) but not example.com
// itself; "*" matches every host.
bool HostMatchesPattern(std::string_view host, std::string_view pattern);

// Whether a playback request may proceed under a video's allowedOrigins. An empty list allows
// everything. Otherwise the host of `origin` (or, when there is no Origin field, of `referer`)
// must match an entry; a request with neither field, or with an unusable one, is refused.
bool OriginAllowed(const std::vector<std::string>& allowed_origins,
                   std::optional<std::string_view> origin, std::optional<std::string_view> referer);

// --- key cache ---

// Parsed public keys by kid, so that a verification does not parse a PEM each time. The caller
// still reads the key's row from the database on every request (that is what makes revocation
// immediate); the cache only maps the PEM text it read to an OpenSSL key, and an entry is used
// only when its PEM equals the one just read. Bounded: when full it is emptied.
class PublicKeyCache {
 public:
  explicit PublicKeyCache(size_t capacity = 4096) : capacity_(capacity) {}

  // The parsed key for (kid, spki_pem); parses and remembers it on a miss. InvalidArgument when
  // the PEM is not a usable public key.
  Result<std::shared_ptr<const PublicKey>> Get(std::string_view kid, std::string_view spki_pem);

  size_t size() const;

 private:
  struct Entry {
    std::string pem;
    std::shared_ptr<const PublicKey> key;
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;  // guarded by mu_
};

}  // namespace kino::auth

#endif  // KINO_AUTH_SIGNED_URL_H_

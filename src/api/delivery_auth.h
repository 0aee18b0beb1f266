// Who may fetch a video's delivery paths (manifests, segments, thumbnails, downloads).
//
// The first path segment of a delivery URL is either the video's uid or a signed token
// (a JWS compact RS256 JWT whose `sub` is the uid). AuthorizeDelivery decides which, checks
// it, and returns the video. A video with requireSignedURLs refuses its bare uid.
//
// A token is checked by auth::VerifySignedUrlToken (see auth/signed_url.h for the steps): its kid
// must be a live signing key of the video's account (a user key or Kino's builtin one), read
// from the database on every request so that a revocation applies at once. Access rules see the
// socket peer, or X-Forwarded-For when the peer is in settings.trusted_proxies. For kManifest a
// non-empty allowedOrigins list is enforced on the Origin (else Referer) host, as Stream does for
// its player and manifests; segments, thumbnails and downloads are not restricted by origin (a
// player fetches segments only through a manifest it was allowed to read).
//
// Errors (answered as plain statuses by the delivery routes; the api code says which):
//   kNotFound          no such video (or a token for a video that does not exist); an id that
//                      is neither a uid nor token-shaped (10003)
//   kUnauthenticated   a token that is malformed (10401), of another alg (10402), badly signed
//                      (10403), expired (10404), not yet valid (10405), of an unknown or revoked
//                      key (10406), or for a video of another account (10407); a bare uid for a
//                      video that needs a token (10024)
//   kPermissionDenied  a valid token that an access rule blocks (10410), that lacks
//                      `downloadable` on a download path (10411), or that reaches a country rule
//                      without a usable GeoIP database (10412, logged); an Origin/Referer not in
//                      allowedOrigins (10025)
//   others             the database failed (500/503)
//
// Thread-safety: may be called from any number of threads at once.
#ifndef KINO_API_DELIVERY_AUTH_H_
#define KINO_API_DELIVERY_AUTH_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "api/context.h"
#include "api/http_types.h"
#include "common/status.h"
#include "domain/video.h"

namespace kino::api {

enum class DeliveryKind {
  kManifest,  // HLS master and media playlists, the DASH MPD: allowedOrigins applies
  kPlayback,  // segments, init segments, thumbnails
  kDownload,  // MP4/M4A downloads: a token needs `downloadable: true`
};

struct DeliveryGrant {
  std::shared_ptr<const domain::Video> video;  // never null; shared with ApiContext::rows
  // The signed token when the request used one, so that URLs inside a manifest can carry it;
  // empty for a bare uid.
  std::string token;
  // The token's exp (unix seconds) when `token` is set, so that caches keep nothing longer.
  int64_t token_exp = 0;
};

Result<DeliveryGrant> AuthorizeDelivery(ApiContext& ctx, const Request& req, std::string_view id,
                                        DeliveryKind kind);

// Opens the GeoIP database at `path` for ip.geoip.country rules and keeps it for the process,
// so that a wrong path is reported when Kino starts; delivery reuses this copy. The error when
// it cannot be opened (annotated with --geoip-db).
Status OpenGeoIpDatabase(const std::string& path);

}  // namespace kino::api

#endif  // KINO_API_DELIVERY_AUTH_H_

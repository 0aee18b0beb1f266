// Who may fetch a video's delivery paths (manifests, segments, thumbnails, downloads).
//
// The first path segment of a delivery URL is either the video's uid or a signed token
// (a JWS compact RS256 JWT whose `sub` is the uid). AuthorizeDelivery decides which, checks
// it, and returns the video. A video with requireSignedURLs refuses its bare uid.
//
// Errors (answered as plain statuses by the delivery routes):
//   kNotFound          no such video (or a token for a video that does not exist)
//   kUnauthenticated   a token that is malformed, badly signed, expired, not yet valid, of an
//                      unknown or revoked key, or a bare uid for a video that needs a token
//   kPermissionDenied  a valid token that an access rule blocks, or that lacks `downloadable`
//                      on a download path
#ifndef KINO_API_DELIVERY_AUTH_H_
#define KINO_API_DELIVERY_AUTH_H_

#include <string>
#include <string_view>

#include "api/context.h"
#include "api/http_types.h"
#include "common/status.h"
#include "domain/video.h"

namespace kino::api {

enum class DeliveryKind { kPlayback, kDownload };

struct DeliveryGrant {
  domain::Video video;
  // The signed token when the request used one, so that URLs inside a manifest can carry it;
  // empty for a bare uid.
  std::string token;
};

Result<DeliveryGrant> AuthorizeDelivery(ApiContext& ctx, const Request& req,
                                        std::string_view id, DeliveryKind kind);

}  // namespace kino::api

#endif  // KINO_API_DELIVERY_AUTH_H_

#include "api/delivery_auth.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "auth/access_rules.h"
#include "auth/signed_url.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/errors.h"
#include "domain/signing_key_repo.h"

namespace kino::api {
namespace {

// Parsed public keys, shared by every request of the process. Key ids are random and unique
// across accounts, and an entry is used only for the exact PEM the database returned, so one
// cache serves every ApiContext.
auth::PublicKeyCache& KeyCache() {
  static auth::PublicKeyCache* cache = new auth::PublicKeyCache();
  return *cache;
}

// The GeoIP databases opened so far, by path; null where opening failed (logged once per path).
// Kept for the life of the process.
struct GeoIpCache {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<auth::GeoIpDatabase>> open;
};

GeoIpCache& GeoIps() {
  static auto* cache = new GeoIpCache();
  return *cache;
}

// The database at `path`, opened on first use; its error when it cannot be opened.
Result<const auth::GeoIpDatabase*> FindOrOpenGeoIp(const std::string& path) {
  GeoIpCache& cache = GeoIps();
  std::lock_guard<std::mutex> lock(cache.mu);
  auto it = cache.open.find(path);
  if (it != cache.open.end()) {
    if (it->second == nullptr) {
      return Unavailable("the GeoIP database " + path + " could not be opened");
    }
    return static_cast<const auth::GeoIpDatabase*>(it->second.get());
  }
  Result<std::unique_ptr<auth::GeoIpDatabase>> db = auth::GeoIpDatabase::Open(path);
  if (!db.ok()) {
    log::Error("geoip_open_failed",
               "country access rules will refuse every request: " + db.status().ToString());
    cache.open.emplace(path, nullptr);
    return db.status();
  }
  return static_cast<const auth::GeoIpDatabase*>(
      cache.open.emplace(path, std::move(db).value()).first->second.get());
}

// For a request: null when the database cannot be opened (the country rule then refuses).
const auth::GeoIpDatabase* GeoIp(const std::string& path) {
  Result<const auth::GeoIpDatabase*> db = FindOrOpenGeoIp(path);
  return db.ok() ? *db : nullptr;
}

// A live key from the database (every request: revocation takes effect at once), parsed through
// the cache.
Result<std::optional<auth::VerificationKey>> LookUpKey(storage::Database& db,
                                                       std::string_view kid) {
  if (!IsId(kid)) {
    return std::optional<auth::VerificationKey>();
  }
  KINO_ASSIGN_OR_RETURN(std::optional<domain::SigningKey> row,
                        domain::SigningKeyRepository::FindLive(db, kid));
  if (!row) {
    return std::optional<auth::VerificationKey>();
  }
  Result<std::shared_ptr<const auth::PublicKey>> key = KeyCache().Get(kid, row->public_pem);
  if (!key.ok()) {
    return Internal("stored public key of signing key " + row->id + " does not parse");
  }
  return std::optional<auth::VerificationKey>(
      auth::VerificationKey{std::move(row->account_id), std::move(key).value()});
}

// The client address: the socket peer, or X-Forwarded-For when the peer is a trusted proxy.
std::optional<auth::IpAddress> ClientAddress(const ApiSettings& settings, const Request& req) {
  Result<auth::IpAddress> peer = auth::ParseIp(req.peer_ip);
  if (!peer.ok()) {
    return std::nullopt;
  }
  std::vector<auth::IpNetwork> proxies;
  for (const std::string& text : settings.trusted_proxies) {
    if (Result<auth::IpNetwork> network = auth::ParseNetwork(text); network.ok()) {
      proxies.push_back(*network);
    }
  }
  // RFC 9110 section 5.3: repeated fields are one comma-separated list.
  std::string forwarded;
  for (const auto& [name, value] : req.headers.fields()) {
    if (EqualsIgnoreCase(name, "X-Forwarded-For")) {
      forwarded += forwarded.empty() ? value : "," + value;
    }
  }
  return auth::ResolveClientAddress(*peer, forwarded, proxies);
}

Status CheckOrigin(const domain::Video& video, const Request& req, DeliveryKind kind) {
  if (kind != DeliveryKind::kManifest ||
      auth::OriginAllowed(video.allowed_origins, req.headers.Get("Origin"),
                          req.headers.Get("Referer"))) {
    return Status::Ok();
  }
  return PermissionDenied("this video may not be played from that origin",
                          domain::kErrAccessDenied);
}

Result<DeliveryGrant> AuthorizeUid(ApiContext& ctx, std::string_view uid) {
  KINO_ASSIGN_OR_RETURN(std::shared_ptr<const domain::Video> video, ctx.rows->Video(*ctx.db, uid));
  if (video->require_signed_urls) {
    return Unauthenticated("this video requires a signed URL", domain::kErrSignedUrlRequired);
  }
  return DeliveryGrant{std::move(video), "", 0};
}

Result<DeliveryGrant> AuthorizeToken(ApiContext& ctx, const Request& req, std::string_view token,
                                     DeliveryKind kind) {
  auth::SignedUrlCheck check;
  check.token = token;
  check.use =
      kind == DeliveryKind::kDownload ? auth::TokenUse::kDownload : auth::TokenUse::kPlayback;
  check.now_unix = NowMicros() / 1000000;
  check.client = ClientAddress(ctx.settings, req);
  check.geo = ctx.settings.geoip_db.empty() ? nullptr : GeoIp(ctx.settings.geoip_db);

  std::shared_ptr<const domain::Video> video;
  auth::KeyLookup keys = [&ctx](std::string_view kid) { return LookUpKey(*ctx.db, kid); };
  auth::VideoOwnerLookup owner_of = [&ctx, &video](std::string_view uid) -> Result<std::string> {
    KINO_ASSIGN_OR_RETURN(video, ctx.rows->Video(*ctx.db, uid));
    return video->account_id;
  };
  Result<auth::TokenClaims> claims = auth::VerifySignedUrlToken(check, keys, owner_of);
  if (!claims.ok()) {
    // The status message names the failed step, never the token or its claims.
    if (claims.status().api_code() == auth::kTokenGeoIpUnavailable) {
      log::Warn("signed_url_geoip_unavailable", claims.status().message(),
                {{"request_id", req.request_id}});
    } else {
      log::Debug(
          "signed_url_refused", claims.status().message(),
          {{"request_id", req.request_id}, {"code", std::to_string(claims.status().api_code())}});
    }
    return claims.status();
  }
  return DeliveryGrant{std::move(video), std::string(token), claims->exp};
}

}  // namespace

Result<DeliveryGrant> AuthorizeDelivery(ApiContext& ctx, const Request& req, std::string_view id,
                                        DeliveryKind kind) {
  Result<DeliveryGrant> grant =
      IsId(id) ? AuthorizeUid(ctx, id)
      : auth::LooksLikeToken(id)
          ? AuthorizeToken(ctx, req, id, kind)
          : Result<DeliveryGrant>(NotFound("video not found", domain::kErrVideoNotFound));
  if (!grant.ok()) {
    return grant;
  }
  KINO_RETURN_IF_ERROR(CheckOrigin(*grant->video, req, kind));
  return grant;
}

Status OpenGeoIpDatabase(const std::string& path) {
  Result<const auth::GeoIpDatabase*> db = FindOrOpenGeoIp(path);
  if (!db.ok()) {
    Status s = db.status();
    return s.Annotate("--geoip-db");
  }
  return Status::Ok();
}

}  // namespace kino::api

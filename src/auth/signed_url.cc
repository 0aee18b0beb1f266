#include "auth/signed_url.h"

#include <utility>

#include "common/random.h"
#include "common/strings.h"

namespace kino::auth {
namespace {

// Step 2: the key named by kid, live.
Result<VerificationKey> FindKey(const KeyLookup& keys, std::string_view kid) {
  KINO_ASSIGN_OR_RETURN(std::optional<VerificationKey> key, keys(kid));
  if (!key || !key->key) {
    return Unauthenticated("token signing key is unknown or revoked", kTokenUnknownKey);
  }
  return std::move(*key);
}

// Step 5: sub names a video of the key's account. A missing video is NotFound; one of another
// account is the same failure as a malformed subject, so keys cannot reach across accounts.
Status CheckSubject(const TokenClaims& claims, const VerificationKey& key,
                    const VideoOwnerLookup& owner_of) {
  if (!IsId(claims.sub)) {
    return Unauthenticated("token subject is not a video uid", kTokenWrongSubject);
  }
  KINO_ASSIGN_OR_RETURN(std::string owner, owner_of(claims.sub));
  if (owner != key.account_id) {
    return Unauthenticated("token subject is not a video of the key's account", kTokenWrongSubject);
  }
  return Status::Ok();
}

bool HasAddressRule(const std::vector<AccessRule>& rules) {
  for (const AccessRule& rule : rules) {
    if (rule.type != AccessRule::Type::kAny) {
      return true;
    }
  }
  return false;
}

// Step 7. Without a known client address only rule lists that never look at it can pass.
Status CheckAccessRules(const TokenClaims& claims, const SignedUrlCheck& check) {
  if (claims.access_rules.empty()) {
    return Status::Ok();
  }
  if (!check.client && HasAddressRule(claims.access_rules)) {
    return PermissionDenied("client address is unknown, so access rules cannot be applied",
                            kTokenBlockedByAccessRule);
  }
  IpAddress client = check.client.value_or(IpAddress{});
  Result<RuleVerdict> verdict = EvaluateAccessRules(claims.access_rules, client, check.geo);
  if (!verdict.ok()) {
    if (verdict.status().code() == StatusCode::kFailedPrecondition) {
      return PermissionDenied("token has a country access rule but no GeoIP database is available",
                              kTokenGeoIpUnavailable);
    }
    return verdict.status();
  }
  if (*verdict == RuleVerdict::kBlock) {
    return PermissionDenied("blocked by the token's access rules", kTokenBlockedByAccessRule);
  }
  return Status::Ok();
}

// Strips "scheme://" (http or https only) and returns the authority and what follows.
std::optional<std::string_view> AfterScheme(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return std::nullopt;
  }
  std::string scheme = AsciiLower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return std::nullopt;
  }
  return url.substr(sep + 3);
}

// The host of an RFC 3986 authority: no userinfo, no port; an IPv6 literal keeps its brackets.
std::string_view HostOfAuthority(std::string_view authority) {
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    return close == std::string_view::npos ? std::string_view() : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<TokenClaims> VerifySignedUrlToken(const SignedUrlCheck& check, const KeyLookup& keys,
                                         const VideoOwnerLookup& owner_of) {
  KINO_ASSIGN_OR_RETURN(ParsedToken token, ParseToken(check.token));
  KINO_ASSIGN_OR_RETURN(VerificationKey key, FindKey(keys, token.claims.kid));
  KINO_RETURN_IF_ERROR(VerifySignature(token, *key.key));
  KINO_RETURN_IF_ERROR(CheckTimes(token.claims, check.now_unix, check.leeway_s));
  KINO_RETURN_IF_ERROR(CheckSubject(token.claims, key, owner_of));

  if (check.use == TokenUse::kDownload && !token.claims.downloadable) {
    return PermissionDenied("token does not allow downloads (downloadable is not true)",
                            kTokenNotDownloadable);
  }
  KINO_RETURN_IF_ERROR(CheckAccessRules(token.claims, check));
  return std::move(token.claims);
}

bool LooksLikeToken(std::string_view id) {
  return id.find('.') != std::string_view::npos;
}

std::optional<std::string> HostOfOrigin(std::string_view origin_or_url) {
  std::optional<std::string_view> rest = AfterScheme(TrimWhitespace(origin_or_url));
  if (!rest) {
    return std::nullopt;
  }
  std::string_view authority = rest->substr(0, rest->find_first_of("/?#"));
  std::string host = AsciiLower(HostOfAuthority(authority));
  // A fully qualified name may end in a dot; it names the same host.
  if (!host.empty() && host.back() == '.') {
    host.pop_back();
  }
  if (host.empty()) {
    return std::nullopt;
  }
  return host;
}

bool HostMatchesPattern(std::string_view host, std::string_view pattern) {
  std::string p = AsciiLower(TrimWhitespace(pattern));
  std::string h = AsciiLower(host);
  if (p == "*") {
    return true;
  }
  if (p.size() > 2 && p[0] == '*' && p[1] == '.') {
    // "*.example.com" needs at least one label before ".example.com".
    std::string_view suffix = std::string_view(p).substr(1);
    return h.size() > suffix.size() && EndsWith(h, suffix);
  }
  return !p.empty() && h == p;
}

bool OriginAllowed(const std::vector<std::string>& allowed_origins,
                   std::optional<std::string_view> origin,
                   std::optional<std::string_view> referer) {
  if (allowed_origins.empty()) {
    return true;
  }
  std::optional<std::string_view> source = origin ? origin : referer;
  if (!source) {
    return false;
  }
  std::optional<std::string> host = HostOfOrigin(*source);
  if (!host) {
    return false;
  }
  for (const std::string& pattern : allowed_origins) {
    if (HostMatchesPattern(*host, pattern)) {
      return true;
    }
  }
  return false;
}

Result<std::shared_ptr<const PublicKey>> PublicKeyCache::Get(std::string_view kid,
                                                             std::string_view spki_pem) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(kid);
    if (it != entries_.end() && it->second.pem == spki_pem) {
      return it->second.key;
    }
  }

  // Parse outside the lock; two threads missing at once both parse, which is harmless.
  KINO_ASSIGN_OR_RETURN(std::shared_ptr<const PublicKey> key, PublicKey::FromPem(spki_pem));
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= capacity_) {
    entries_.clear();
  }
  entries_.insert_or_assign(std::string(kid), Entry{std::string(spki_pem), key});
  return key;
}

size_t PublicKeyCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace kino::auth

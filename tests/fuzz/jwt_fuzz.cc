// libFuzzer target for signed-URL tokens: ParseToken and the whole of VerifySignedUrlToken
// (key lookup, RS256 signature, times, subject, downloadable, access rules) on arbitrary bytes.
// The seed corpus (corpus/jwt) holds tokens signed with the private half of kFuzzPublicPem, so
// mutations reach the steps after the signature check too. The private key is not kept.
//
// Invariants checked (abort on failure, which libFuzzer reports as a crash):
//   - a token that parses has a non-empty sub and kid and at most five access rules;
//   - its access rules survive a round trip through AccessRulesToJson / ParseAccessRules.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "auth/signed_url.h"

namespace {

using namespace kino::auth;  // NOLINT(google-build-using-namespace): fuzz entry point

constexpr char kFuzzKid[] = "f0221a0f1b2c3d4e5f60718293a4b5c6";
constexpr char kFuzzVideo[] = "ea95132c15732412d22c1476fa83f27a";
constexpr char kFuzzAccount[] = "0123456789abcdef0123456789abcdef";
constexpr int64_t kFuzzNow = 1800000000;
constexpr const char* kFuzzPublicPem =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA7rD8TXelmlDOacU7ltTo\n"
    "Qoex8COtygHAxH4+NSDJp+c+ufOXuMTG4PVWIymGKF5PZoqe0kzvVTbc/T1DBz+R\n"
    "VFlFfLoYwvh226/YVEZPxChu9frNwuf6+x7wTSAj7goRLGwA5m3bPccNd66iixu1\n"
    "fmADrPZvtOueOidYysIMhDx/ns8dBrsNhVXiGfPPgVlw0ZzI3q40v6VYk6hZsoOB\n"
    "E0iVnUx6Owh0OYRizwdKO1Iayu6p1Vywlp6HRMSgsJ9T3bIovM6d9M6Wb/S0vMXM\n"
    "CZQEMJknRc7ss4hfSlls2tVGpqAuE8OuXZwI/68tP15PJlmoNBolo2LQPsLT4Vb7\n"
    "AQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

const VerificationKey& FuzzKey() {
  static const VerificationKey* key = [] {
    auto parsed = PublicKey::FromPem(kFuzzPublicPem);
    Require(parsed.ok(), "fuzz public key parses");
    return new VerificationKey{kFuzzAccount, std::move(parsed).value()};
  }();
  return *key;
}

void CheckParsedInvariants(std::string_view text) {
  kino::Result<ParsedToken> parsed = ParseToken(text);
  if (!parsed.ok()) {
    return;
  }
  const TokenClaims& claims = parsed->claims;
  Require(!claims.sub.empty() && !claims.kid.empty(), "sub and kid are non-empty");
  Require(claims.access_rules.size() <= kMaxAccessRules, "at most five access rules");
  auto again = ParseAccessRules(AccessRulesToJson(claims.access_rules));
  Require(again.ok(), "printed access rules parse again");
  Require(AccessRulesToJson(*again) == AccessRulesToJson(claims.access_rules),
          "access rules round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckParsedInvariants(text);

  KeyLookup keys = [](std::string_view kid) -> kino::Result<std::optional<VerificationKey>> {
    if (kid == kFuzzKid) {
      return std::optional<VerificationKey>(FuzzKey());
    }
    return std::optional<VerificationKey>();
  };
  VideoOwnerLookup owners = [](std::string_view uid) -> kino::Result<std::string> {
    if (uid == kFuzzVideo) {
      return std::string(kFuzzAccount);
    }
    return kino::NotFound("no such video");
  };
  for (TokenUse use : {TokenUse::kPlayback, TokenUse::kDownload}) {
    SignedUrlCheck check;
    check.token = text;
    check.use = use;
    check.now_unix = kFuzzNow;
    check.client = ParseIp("192.0.2.10").value();
    (void)VerifySignedUrlToken(check, keys, owners);
  }
  return 0;
}

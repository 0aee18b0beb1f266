#include "auth/jwt.h"

#include <gtest/gtest.h>

#include "auth/test_keys.h"
#include "common/crypto.h"
#include "common/strings.h"

namespace kino::auth {
namespace {

using testing::EvpPkeyPtr;
using testing::HandMadeToken;
using testing::KeyFromJwk;
using testing::SharedTestKey;

constexpr int64_t kNow = 1800000000;
constexpr char kVideo[] = "ea95132c15732412d22c1476fa83f27a";

class JwtTest : public ::testing::Test {
 protected:
  const testing::TestKey& key_ = SharedTestKey(0);
  const std::string& kid_ = key_.generated.id;

  TokenClaims Claims() const {
    TokenClaims claims;
    claims.sub = kVideo;
    claims.kid = kid_;
    claims.exp = kNow + 3600;
    claims.nbf = kNow - 3600;
    claims.has_nbf = true;
    return claims;
  }

  std::string Sign(const TokenClaims& claims, bool times_as_strings = false) const {
    Result<std::string> token = SignToken(claims, *key_.private_key, times_as_strings);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    return token.ok() ? *token : "";
  }

  // A token with the given header and payload JSON; the signature is real when `sign` is set
  // and a placeholder otherwise (ParseToken does not look at it).
  std::string Raw(std::string_view header, std::string_view payload, bool sign = false) const {
    if (sign) {
      EvpPkeyPtr pkey = KeyFromJwk(key_.generated.jwk_base64, "n,e,d,p,q,dp,dq,qi");
      return HandMadeToken(pkey.get(), header, payload);
    }
    return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + ".c2lnbmF0dXJl";
  }

  std::string Header() const { return R"({"alg":"RS256","kid":")" + kid_ + R"("})"; }
  std::string Payload(std::string_view extra = "") const {
    return std::string(R"({"sub":")") + kVideo + R"(","exp":1800003600)" + std::string(extra) + "}";
  }

  // Parses, and on success checks the signature and the times: the whole of token checking
  // except the key lookup and request-specific rules.
  Status Check(std::string_view token) const {
    Result<ParsedToken> parsed = ParseToken(token);
    if (!parsed.ok()) {
      return parsed.status();
    }
    KINO_RETURN_IF_ERROR(VerifySignature(*parsed, *key_.public_key));
    return CheckTimes(parsed->claims, kNow);
  }
};

std::vector<std::string_view> Parts(std::string_view token) {
  return Split(token, '.');
}

std::string Join(std::string_view a, std::string_view b, std::string_view c) {
  return std::string(a) + "." + std::string(b) + "." + std::string(c);
}

// --- Good tokens ---

TEST_F(JwtTest, SignedTokenParsesAndVerifiesWithNumericOrStringTimes) {
  for (bool as_strings : {false, true}) {
    TokenClaims claims = Claims();
    std::string token = Sign(claims, as_strings);
    Result<ParsedToken> parsed = ParseToken(token);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->header, nlohmann::json::parse(Header()));
    EXPECT_EQ(parsed->claims.sub, kVideo);
    EXPECT_EQ(parsed->claims.kid, kid_);
    EXPECT_EQ(parsed->claims.exp, claims.exp);
    EXPECT_EQ(parsed->claims.nbf, claims.nbf);
    EXPECT_TRUE(parsed->claims.has_nbf);
    EXPECT_FALSE(parsed->claims.downloadable);
    EXPECT_TRUE(Check(token).ok()) << Check(token).ToString();
  }
}

TEST_F(JwtTest, StringTimesAreWrittenAsNumericStrings) {
  std::string token = Sign(Claims(), /*times_as_strings=*/true);
  std::string payload = Base64UrlDecode(Parts(token)[1]).value_or("");
  EXPECT_NE(payload.find(R"("exp":"1800003600")"), std::string::npos) << payload;
  EXPECT_NE(payload.find(R"("nbf":"1799996400")"), std::string::npos) << payload;
  std::string numeric = Base64UrlDecode(Parts(Sign(Claims()))[1]).value_or("");
  EXPECT_NE(numeric.find(R"("exp":1800003600)"), std::string::npos) << numeric;
}

TEST_F(JwtTest, HeaderIsExactlyAlgAndKid) {
  std::string header = Base64UrlDecode(Parts(Sign(Claims()))[0]).value_or("");
  EXPECT_EQ(header, Header());
}

TEST_F(JwtTest, OptionalClaimsRoundTrip) {
  TokenClaims claims = Claims();
  claims.downloadable = true;
  claims.flags = {{"original", true}};
  auto rules = nlohmann::json::parse(R"([{"type":"ip.src","action":"allow","ip":["1.2.3.0/24"]},
                                         {"type":"any","action":"block"}])");
  claims.access_rules = ParseAccessRules(rules).value();
  Result<ParsedToken> parsed = ParseToken(Sign(claims));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->claims.downloadable);
  EXPECT_EQ(parsed->claims.flags, claims.flags);
  EXPECT_EQ(AccessRulesToJson(parsed->claims.access_rules), rules);
}

TEST_F(JwtTest, HandMadeTokenFromJwkVerifiesWithStoredPublicKey) {
  // What a customer's own code does: sign with the JWK, Kino checks with the stored SPKI PEM.
  std::string token = Raw(Header(), Payload(R"(,"nbf":1799990000,"downloadable":true)"), true);
  Result<std::shared_ptr<const PublicKey>> stored = PublicKey::FromPem(key_.generated.public_pem);
  ASSERT_TRUE(stored.ok());
  Result<ParsedToken> parsed = ParseToken(token);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(VerifySignature(*parsed, **stored).ok());
  EXPECT_TRUE(parsed->claims.downloadable);
}

TEST_F(JwtTest, KidMayBeOnlyInPayloadOrOnlyInHeader) {
  std::string payload_kid = Payload(R"(,"kid":")" + kid_ + R"(")");
  EXPECT_TRUE(Check(Raw(R"({"alg":"RS256"})", payload_kid, true)).ok());
  EXPECT_TRUE(Check(Raw(Header(), Payload(), true)).ok());
  EXPECT_EQ(ParseToken(Raw(R"({"alg":"RS256"})", payload_kid))->claims.kid, kid_);
}

TEST_F(JwtTest, ExtraHeaderAndClaimsAreIgnored) {
  std::string header = R"({"typ":"JWT","alg":"RS256","kid":")" + kid_ + R"("})";
  EXPECT_TRUE(
      Check(Raw(header, Payload(R"(,"iat":1799990000,"aud":"x","accessRules":null)"), true)).ok());
}

TEST_F(JwtTest, FractionalTimesRoundToTheSafeSide) {
  auto parsed = ParseToken(Raw(Header(), std::string(R"({"sub":")") + kVideo +
                                             R"(","exp":1800003600.9,"nbf":1799996400.1})"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->claims.exp, 1800003600);
  EXPECT_EQ(parsed->claims.nbf, 1799996401);
}

// --- Malformed tokens and refused algorithms ---

struct BadCase {
  const char* name;
  std::string token;
  int api_code;
};

TEST_F(JwtTest, RefusesMalformedTokens) {
  std::string good = Sign(Claims());
  auto p = Parts(good);
  std::string hmac_with_public_key = [&] {
    std::string input = Base64UrlEncode(R"({"alg":"HS256","kid":")" + kid_ + R"("})") + "." +
                        Base64UrlEncode(Payload());
    return input + "." + Base64UrlEncode(HmacSha256(key_.generated.public_pem, input));
  }();
  const std::string sub_only = std::string(R"({"sub":")") + kVideo + R"(")";
  const BadCase cases[] = {
      {"empty", "", kTokenMalformed},
      {"two parts", Join(p[0], p[1], "").substr(0, p[0].size() + p[1].size() + 1), kTokenMalformed},
      {"extra dot at end", good + ".", kTokenMalformed},
      {"extra dot inside", Join(p[0], std::string(p[1]) + ".", p[2]), kTokenMalformed},
      {"four parts", good + ".c2ln", kTokenMalformed},
      {"empty signature", Join(p[0], p[1], ""), kTokenMalformed},
      {"padded header", Join(std::string(p[0]) + "=", p[1], p[2]), kTokenMalformed},
      {"padded signature", Join(p[0], p[1], std::string(p[2]) + "=="), kTokenMalformed},
      {"truncated header", Join(p[0].substr(0, p[0].size() - 1), p[1], p[2]), kTokenMalformed},
      {"truncated payload", Join(p[0], p[1].substr(0, p[1].size() - 2), p[2]), kTokenMalformed},
      {"standard base64 alphabet", Join(p[0], p[1], "ab+/"), kTokenMalformed},
      {"stray character", Join(p[0], std::string(p[1]) + "*", p[2]), kTokenMalformed},
      {"spaces", " " + good, kTokenMalformed},
      {"non-JSON header", Raw("not json", Payload()), kTokenMalformed},
      {"header is an array", Raw(R"(["RS256"])", Payload()), kTokenMalformed},
      {"payload is a string", Raw(Header(), R"("sub")"), kTokenMalformed},
      {"non-JSON payload", Raw(Header(), "{sub:1}"), kTokenMalformed},
      {"too long", Raw(Header(), Payload(R"(,"pad":")" + std::string(kMaxTokenBytes, 'x') + "\"")),
       kTokenMalformed},
      {"alg none", Raw(R"({"alg":"none","kid":"k"})", Payload()), kTokenUnsupportedAlg},
      {"alg none, empty signature",
       Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(Payload()) + ".",
       kTokenUnsupportedAlg},
      {"alg HS256 keyed with the public PEM", hmac_with_public_key, kTokenUnsupportedAlg},
      {"alg lower case", Raw(R"({"alg":"rs256","kid":"k"})", Payload()), kTokenUnsupportedAlg},
      {"alg RS512", Raw(R"({"alg":"RS512","kid":"k"})", Payload()), kTokenUnsupportedAlg},
      {"alg PS256", Raw(R"({"alg":"PS256","kid":"k"})", Payload()), kTokenUnsupportedAlg},
      {"alg missing", Raw(R"({"kid":"k"})", Payload()), kTokenUnsupportedAlg},
      {"alg not a string", Raw(R"({"alg":256,"kid":"k"})", Payload()), kTokenUnsupportedAlg},
      {"crit", Raw(R"({"alg":"RS256","kid":"k","crit":["b64"],"b64":false})", Payload()),
       kTokenMalformed},
      {"sub missing", Raw(Header(), R"({"exp":1800003600})"), kTokenMalformed},
      {"sub empty", Raw(Header(), R"({"sub":"","exp":1800003600})"), kTokenMalformed},
      {"sub not a string", Raw(Header(), R"({"sub":7,"exp":1800003600})"), kTokenMalformed},
      {"kid missing", Raw(R"({"alg":"RS256"})", Payload()), kTokenMalformed},
      {"kid empty", Raw(R"({"alg":"RS256","kid":""})", Payload()), kTokenMalformed},
      {"kid not a string", Raw(R"({"alg":"RS256","kid":5})", Payload()), kTokenMalformed},
      {"kids disagree", Raw(Header(), Payload(R"(,"kid":"other")")), kTokenMalformed},
      {"exp missing", Raw(Header(), sub_only + "}"), kTokenMalformed},
      {"exp not numeric", Raw(Header(), sub_only + R"(,"exp":"soon"})"), kTokenMalformed},
      {"exp negative", Raw(Header(), sub_only + R"(,"exp":-5})"), kTokenMalformed},
      {"exp negative string", Raw(Header(), sub_only + R"(,"exp":"-5"})"), kTokenMalformed},
      {"exp string with space", Raw(Header(), sub_only + R"(,"exp":" 1800003600"})"),
       kTokenMalformed},
      {"exp string exponent", Raw(Header(), sub_only + R"(,"exp":"1.8e9"})"), kTokenMalformed},
      {"exp boolean", Raw(Header(), sub_only + R"(,"exp":true})"), kTokenMalformed},
      {"exp past year 9999", Raw(Header(), sub_only + R"(,"exp":253402300800})"), kTokenMalformed},
      {"exp huge float", Raw(Header(), sub_only + R"(,"exp":1e300})"), kTokenMalformed},
      {"nbf not numeric", Raw(Header(), Payload(R"(,"nbf":"x")")), kTokenMalformed},
      {"downloadable as string", Raw(Header(), Payload(R"(,"downloadable":"true")")),
       kTokenMalformed},
      {"accessRules not an array", Raw(Header(), Payload(R"(,"accessRules":{})")), kTokenMalformed},
      {"accessRules bad rule",
       Raw(Header(), Payload(R"(,"accessRules":[{"type":"ip.src","action":"allow"}])")),
       kTokenMalformed},
      {"six accessRules", Raw(Header(), Payload(R"(,"accessRules":[{"type":"any","action":"allow"},
           {"type":"any","action":"allow"},{"type":"any","action":"allow"},
           {"type":"any","action":"allow"},{"type":"any","action":"allow"},
           {"type":"any","action":"allow"}])")),
       kTokenMalformed},
      {"flags not an object", Raw(Header(), Payload(R"(,"flags":true)")), kTokenMalformed},
  };
  for (const BadCase& c : cases) {
    Result<ParsedToken> parsed = ParseToken(c.token);
    ASSERT_FALSE(parsed.ok()) << c.name;
    EXPECT_EQ(parsed.status().code(), StatusCode::kUnauthenticated) << c.name;
    EXPECT_EQ(parsed.status().api_code(), c.api_code)
        << c.name << ": " << parsed.status().message();
    for (std::string_view part : Parts(c.token)) {
      if (part.size() >= 8) {
        EXPECT_EQ(parsed.status().message().find(part), std::string::npos) << c.name;
      }
    }
  }
}

// --- Signatures ---

TEST_F(JwtTest, RefusesBadSignatures) {
  std::string good = Sign(Claims());
  auto p = Parts(good);
  std::string other_key = *SignToken(Claims(), *SharedTestKey(1).private_key, false);
  std::string tampered_payload =
      Base64UrlEncode(std::string(R"({"sub":"00000000000000000000000000000000","kid":")") + kid_ +
                      R"(","exp":1800003600})");
  std::string flipped = std::string(p[2]);
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  std::string hmac_as_rs256 = [&] {
    std::string input = std::string(p[0]) + "." + std::string(p[1]);
    return input + "." + Base64UrlEncode(HmacSha256(key_.generated.public_pem, input));
  }();
  const std::pair<const char*, std::string> cases[] = {
      {"signed by another key", other_key},
      {"payload swapped", Join(p[0], tampered_payload, p[2])},
      {"signature bit flipped", Join(p[0], p[1], flipped)},
      {"signature truncated to 255 bytes", Join(p[0], p[1], p[2].substr(0, 340))},
      {"HMAC under an RS256 header", hmac_as_rs256},
  };
  for (const auto& [name, token] : cases) {
    Status status = Check(token);
    EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << name;
    EXPECT_EQ(status.api_code(), kTokenBadSignature) << name << ": " << status.ToString();
  }
}

TEST_F(JwtTest, VerifySignatureRechecksAlg) {
  ParsedToken parsed = *ParseToken(Sign(Claims()));
  parsed.header["alg"] = "none";
  EXPECT_EQ(VerifySignature(parsed, *key_.public_key).api_code(), kTokenUnsupportedAlg);
}

// --- Times ---

struct TimeCase {
  const char* name;
  int64_t exp;
  std::optional<int64_t> nbf;
  int api_code;  // 0 = valid
};

TEST(CheckTimes, AppliesExpNbfAndLeeway) {
  const TimeCase cases[] = {
      {"inside the window", kNow + 60, kNow - 60, 0},
      {"no nbf", kNow + 60, std::nullopt, 0},
      {"expired long ago", kNow - 3600, kNow - 7200, kTokenExpired},
      {"expired just inside leeway", kNow - 29, std::nullopt, 0},
      {"expired exactly at leeway", kNow - 30, std::nullopt, kTokenExpired},
      {"nbf in the future", kNow + 7200, kNow + 3600, kTokenNotYetValid},
      {"nbf just inside leeway", kNow + 7200, kNow + 30, 0},
      {"nbf just past leeway", kNow + 7200, kNow + 31, kTokenNotYetValid},
  };
  for (const TimeCase& c : cases) {
    TokenClaims claims;
    claims.exp = c.exp;
    claims.has_nbf = c.nbf.has_value();
    claims.nbf = c.nbf.value_or(0);
    Status status = CheckTimes(claims, kNow);
    EXPECT_EQ(status.api_code(), c.api_code) << c.name;
    if (c.api_code != 0) {
      EXPECT_EQ(status.code(), StatusCode::kUnauthenticated) << c.name;
    }
  }
}

TEST_F(JwtTest, ExpiredAndNotYetValidTokensWithStringTimes) {
  TokenClaims expired = Claims();
  expired.exp = kNow - 3600;
  EXPECT_EQ(Check(Sign(expired, true)).api_code(), kTokenExpired);
  TokenClaims early = Claims();
  early.nbf = kNow + 3600;
  EXPECT_EQ(Check(Sign(early, true)).api_code(), kTokenNotYetValid);
}

// --- Signing ---

TEST_F(JwtTest, SignTokenRefusesIncompleteClaims) {
  TokenClaims claims = Claims();
  claims.sub.clear();
  EXPECT_EQ(SignToken(claims, *key_.private_key, false).status().code(),
            StatusCode::kInvalidArgument);
  claims = Claims();
  claims.kid.clear();
  EXPECT_FALSE(SignToken(claims, *key_.private_key, false).ok());
  claims = Claims();
  claims.access_rules.resize(6);
  EXPECT_FALSE(SignToken(claims, *key_.private_key, false).ok());
}

}  // namespace
}  // namespace kino::auth

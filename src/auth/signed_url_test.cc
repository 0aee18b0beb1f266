#include "auth/signed_url.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include <gtest/gtest.h>
#include <unistd.h>

#include "auth/test_keys.h"
#include "common/crypto.h"
#include "common/strings.h"

namespace kino::auth {
namespace {

using testing::SharedTestKey;

constexpr int64_t kNow = 1800000000;
constexpr char kAccount[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
constexpr char kOtherAccount[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
constexpr char kVideo[] = "ea95132c15732412d22c1476fa83f27a";
constexpr char kOtherVideo[] = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f";
constexpr char kMissingVideo[] = "99999999999999999999999999999999";
constexpr char kUnknownKid[] = "12121212121212121212121212121212";

IpAddress Ip(std::string_view text) {
  Result<IpAddress> ip = ParseIp(text);
  EXPECT_TRUE(ip.ok()) << text;
  return ip.ok() ? *ip : IpAddress{};
}

// Key 0 is a live key of kAccount, key 1 a revoked key of kAccount, key 2 a live key of
// kOtherAccount. Videos: kVideo belongs to kAccount, kOtherVideo to kOtherAccount.
class SignedUrlTest : public ::testing::Test {
 protected:
  const testing::TestKey& live_ = SharedTestKey(0);
  const testing::TestKey& revoked_ = SharedTestKey(1);
  const testing::TestKey& other_ = SharedTestKey(2);

  KeyLookup Keys() {
    return [this](std::string_view kid) -> Result<std::optional<VerificationKey>> {
      ++key_lookups_;
      if (kid == live_.generated.id) {
        return std::optional<VerificationKey>(VerificationKey{kAccount, live_.public_key});
      }
      if (kid == other_.generated.id) {
        return std::optional<VerificationKey>(VerificationKey{kOtherAccount, other_.public_key});
      }
      return std::optional<VerificationKey>();
    };
  }

  static VideoOwnerLookup Owners() {
    return [](std::string_view uid) -> Result<std::string> {
      if (uid == kVideo) {
        return std::string(kAccount);
      }
      if (uid == kOtherVideo) {
        return std::string(kOtherAccount);
      }
      return NotFound("video not found");
    };
  }

  // A token over the given payload JSON members, with a header of `alg` and the key's kid,
  // signed by `key` (RS256 over the bytes exactly as written).
  static std::string Token(const testing::TestKey& key, std::string_view payload_members,
                           std::string_view header = "") {
    std::string h = header.empty() ? R"({"alg":"RS256","kid":")" + key.generated.id + R"("})"
                                   : std::string(header);
    std::string input =
        Base64UrlEncode(h) + "." + Base64UrlEncode("{" + std::string(payload_members) + "}");
    return input + "." + Base64UrlEncode(key.private_key->SignRs256(input).value());
  }

  // The usual claims for kVideo with numeric times, plus `extra` members.
  static std::string Claims(std::string_view extra = "", std::string_view sub = kVideo) {
    return std::string(R"("sub":")") + std::string(sub) + R"(","exp":1800003600,"nbf":1799996400)" +
           std::string(extra);
  }

  Status Verify(std::string_view token, TokenUse use = TokenUse::kPlayback,
                std::optional<IpAddress> client = Ip("198.51.100.7"),
                const GeoIpDatabase* geo = nullptr) {
    SignedUrlCheck check;
    check.token = token;
    check.use = use;
    check.now_unix = kNow;
    check.client = client;
    check.geo = geo;
    return VerifySignedUrlToken(check, Keys(), Owners()).status();
  }

  int key_lookups_ = 0;
};

struct Case {
  Case(std::string name_in, std::string token_in, TokenUse use_in = TokenUse::kPlayback,
       std::string client_in = "", StatusCode code_in = StatusCode::kOk, int api_code_in = 0)
      : name(std::move(name_in)),
        token(std::move(token_in)),
        use(use_in),
        client(std::move(client_in)),
        code(code_in),
        api_code(api_code_in) {}

  std::string name;
  std::string token;
  TokenUse use;
  std::string client;  // empty: an address no rule mentions
  StatusCode code;
  int api_code;
};

void RunCases(const std::vector<Case>& cases, const std::function<Status(const Case&)>& verify) {
  for (const Case& c : cases) {
    Status s = verify(c);
    EXPECT_EQ(s.code(), c.code) << c.name << ": " << s.ToString();
    EXPECT_EQ(s.api_code(), c.api_code) << c.name << ": " << s.ToString();
  }
}

std::string Without(std::string s, size_t n) {
  s.resize(s.size() - n);
  return s;
}

TEST_F(SignedUrlTest, VerifiesTokensTableDriven) {
  const std::string kid = live_.generated.id;
  const std::string good = Token(live_, Claims());
  const std::vector<std::string_view> parts = Split(good, '.');
  const std::string hs_input = Base64UrlEncode(R"({"alg":"HS256","kid":")" + kid + R"("})") + "." +
                               Base64UrlEncode("{" + Claims() + "}");
  const auto unauth = StatusCode::kUnauthenticated;
  const auto denied = StatusCode::kPermissionDenied;

  std::vector<Case> cases = {
      {"good token, numeric times", good},
      {"good token, numeric-string times (as /token makes)",
       Token(live_,
             R"("sub":")" + std::string(kVideo) + R"(","exp":"1800003600","nbf":"1799996400")")},
      {"jose SignJWT shape: kid only in header, no nbf",
       Token(live_, R"("sub":")" + std::string(kVideo) + R"(","exp":1800000100,"iat":1799999000)")},
      {"kid only in payload",
       Token(live_, Claims(R"(,"kid":")" + kid + R"(")"), R"({"alg":"RS256"})")},
      {"wrong sub: a video of another account",
       Token(live_, Claims("", kOtherVideo)),
       {},
       {},
       unauth,
       kTokenWrongSubject},
      {"sub that is not a uid",
       Token(live_, Claims("", "../etc/passwd")),
       {},
       {},
       unauth,
       kTokenWrongSubject},
      {"sub of a video that does not exist",
       Token(live_, Claims("", kMissingVideo)),
       {},
       {},
       StatusCode::kNotFound,
       0},
      {"expired",
       Token(live_, R"("sub":")" + std::string(kVideo) + R"(","exp":1799999900)"),
       {},
       {},
       unauth,
       kTokenExpired},
      {"expired as a string",
       Token(live_, R"("sub":")" + std::string(kVideo) + R"(","exp":"1799999900")"),
       {},
       {},
       unauth,
       kTokenExpired},
      {"expired 10 s ago: inside the leeway",
       Token(live_, R"("sub":")" + std::string(kVideo) + R"(","exp":1799999990)")},
      {"not yet valid",
       Token(live_, R"("sub":")" + std::string(kVideo) + R"(","exp":1800009000,"nbf":1800000600)"),
       {},
       {},
       unauth,
       kTokenNotYetValid},
      {"not yet valid as a string",
       Token(live_,
             R"("sub":")" + std::string(kVideo) + R"(","exp":1800009000,"nbf":"1800000600")"),
       {},
       {},
       unauth,
       kTokenNotYetValid},
      {"no exp",
       Token(live_, R"("sub":")" + std::string(kVideo) + R"(")"),
       {},
       {},
       unauth,
       kTokenMalformed},
      {"alg none, no signature",
       Base64UrlEncode(R"({"alg":"none","kid":")" + kid + R"("})") + "." + std::string(parts[1]) +
           ".",
       {},
       {},
       unauth,
       kTokenUnsupportedAlg},
      {"alg none with a signature",
       Base64UrlEncode(R"({"alg":"none","kid":")" + kid + R"("})") + "." + std::string(parts[1]) +
           "." + std::string(parts[2]),
       {},
       {},
       unauth,
       kTokenUnsupportedAlg},
      {"HS256 signed with the public key PEM as the secret",
       hs_input + "." + Base64UrlEncode(HmacSha256(live_.generated.public_pem, hs_input)),
       {},
       {},
       unauth,
       kTokenUnsupportedAlg},
      {"RS512",
       Token(live_, Claims(), R"({"alg":"RS512","kid":")" + kid + R"("})"),
       {},
       {},
       unauth,
       kTokenUnsupportedAlg},
      {"unknown kid",
       Token(live_, Claims(), R"({"alg":"RS256","kid":")" + std::string(kUnknownKid) + R"("})"),
       {},
       {},
       unauth,
       kTokenUnknownKey},
      {"revoked kid", Token(revoked_, Claims()), {}, {}, unauth, kTokenUnknownKey},
      {"signed by one key, naming another",
       Token(live_, Claims(), R"({"alg":"RS256","kid":")" + other_.generated.id + R"("})"),
       {},
       {},
       unauth,
       kTokenBadSignature},
      {"payload changed after signing",
       std::string(parts[0]) + "." +
           Base64UrlEncode("{" + Claims(R"(,"downloadable":true)") + "}") + "." +
           std::string(parts[2]),
       {},
       {},
       unauth,
       kTokenBadSignature},
      {"signature truncated by one character", Without(good, 1), {}, {}, unauth, kTokenMalformed},
      {"signature truncated by two characters",
       Without(good, 2),
       {},
       {},
       unauth,
       kTokenBadSignature},
      {"signature with base64 padding", good + "==", {}, {}, unauth, kTokenMalformed},
      {"payload with base64 padding",
       std::string(parts[0]) + "." + std::string(parts[1]) + "=." + std::string(parts[2]),
       {},
       {},
       unauth,
       kTokenMalformed},
      {"two parts",
       std::string(parts[0]) + "." + std::string(parts[1]),
       {},
       {},
       unauth,
       kTokenMalformed},
      {"download without downloadable",
       good,
       TokenUse::kDownload,
       {},
       denied,
       kTokenNotDownloadable},
      {"download with downloadable false",
       Token(live_, Claims(R"(,"downloadable":false)")),
       TokenUse::kDownload,
       {},
       denied,
       kTokenNotDownloadable},
      {"download with downloadable true", Token(live_, Claims(R"(,"downloadable":true)")),
       TokenUse::kDownload},
  };
  RunCases(cases, [this](const Case& c) {
    return Verify(c.token, c.use, Ip(c.client.empty() ? "198.51.100.7" : c.client));
  });
}

TEST_F(SignedUrlTest, AppliesAccessRulesTableDriven) {
  auto rules = [this](std::string_view json) {
    return Token(live_, Claims(R"(,"accessRules":)" + std::string(json)));
  };
  const std::string allow_net_else_block =
      rules(R"([{"type":"ip.src","action":"allow","ip":["93.184.216.0/24","2001:db8::/32"]},
                {"type":"any","action":"block"}])");
  const std::string block_net =
      rules(R"([{"type":"ip.src","action":"block","ip":["93.184.216.34"]}])");
  const auto denied = StatusCode::kPermissionDenied;

  std::vector<Case> cases = {
      {"any allow", rules(R"([{"type":"any","action":"allow"}])")},
      {"any block",
       rules(R"([{"type":"any","action":"block"}])"),
       {},
       {},
       denied,
       kTokenBlockedByAccessRule},
      {"empty rule list", rules("[]")},
      {"ip.src allow: inside", allow_net_else_block, {}, "93.184.216.34"},
      {"ip.src allow: outside falls to any block",
       allow_net_else_block,
       {},
       "93.184.217.1",
       denied,
       kTokenBlockedByAccessRule},
      {"ip.src allow: IPv6 inside", allow_net_else_block, {}, "2001:db8:1::5"},
      {"ip.src allow: IPv6 outside",
       allow_net_else_block,
       {},
       "2001:db9::5",
       denied,
       kTokenBlockedByAccessRule},
      {"ip.src allow: v4-mapped v6 client inside", allow_net_else_block, {}, "::ffff:93.184.216.9"},
      {"ip.src block: match", block_net, {}, "93.184.216.34", denied, kTokenBlockedByAccessRule},
      {"ip.src block: no match allows", block_net, {}, "93.184.216.35"},
      {"ip.src block IPv6",
       rules(R"([{"type":"ip.src","action":"block","ip":["2001:db8::/48"]}])"),
       {},
       "2001:db8::1",
       denied,
       kTokenBlockedByAccessRule},
      {"first match wins",
       rules(R"([{"type":"any","action":"allow"},{"type":"any","action":"block"}])")},
      {"country rule without GeoIP database",
       rules(R"([{"type":"ip.geoip.country","action":"allow","country":["GB"]}])"),
       {},
       {},
       denied,
       kTokenGeoIpUnavailable},
      {"country rule after a deciding rule needs no database",
       rules(R"([{"type":"any","action":"allow"},
                 {"type":"ip.geoip.country","action":"block","country":["GB"]}])")},
      {"download checks downloadable before rules",
       rules(R"([{"type":"any","action":"allow"}])"),
       TokenUse::kDownload,
       {},
       denied,
       kTokenNotDownloadable},
      {"malformed rule",
       rules(R"([{"type":"ip.src","action":"allow","ip":["300.1.1.1"]}])"),
       {},
       {},
       StatusCode::kUnauthenticated,
       kTokenMalformed},
      {"six rules",
       rules(R"([{"type":"any","action":"allow"},{"type":"any","action":"allow"},
                               {"type":"any","action":"allow"},{"type":"any","action":"allow"},
                               {"type":"any","action":"allow"},{"type":"any","action":"allow"}])"),
       {},
       {},
       StatusCode::kUnauthenticated,
       kTokenMalformed},
  };
  RunCases(cases, [this](const Case& c) {
    return Verify(c.token, c.use, Ip(c.client.empty() ? "198.51.100.7" : c.client));
  });
}

TEST_F(SignedUrlTest, SpoofedForwardedForFromUntrustedPeerIsIgnored) {
  std::string token =
      Token(live_, Claims(R"(,"accessRules":[{"type":"ip.src","action":"allow","ip":["1.2.3.4"]},
                                             {"type":"any","action":"block"}])"));
  std::vector<IpNetwork> proxies = {ParseNetwork("10.0.0.0/8").value()};

  IpAddress spoofed = ResolveClientAddress(Ip("198.51.100.7"), "1.2.3.4", proxies);
  Status s = Verify(token, TokenUse::kPlayback, spoofed);
  EXPECT_EQ(s.api_code(), kTokenBlockedByAccessRule) << s.ToString();

  IpAddress via_proxy = ResolveClientAddress(Ip("10.1.1.1"), "9.9.9.9, 1.2.3.4", proxies);
  EXPECT_TRUE(Verify(token, TokenUse::kPlayback, via_proxy).ok());
}

TEST_F(SignedUrlTest, UnknownClientAddressRefusesAddressRulesOnly) {
  std::string ip_rule = Token(
      live_, Claims(R"(,"accessRules":[{"type":"ip.src","action":"block","ip":["1.2.3.4"]}])"));
  EXPECT_EQ(Verify(ip_rule, TokenUse::kPlayback, std::nullopt).api_code(),
            kTokenBlockedByAccessRule);
  std::string any_rule =
      Token(live_, Claims(R"(,"accessRules":[{"type":"any","action":"allow"}])"));
  EXPECT_TRUE(Verify(any_rule, TokenUse::kPlayback, std::nullopt).ok());
  EXPECT_TRUE(Verify(Token(live_, Claims()), TokenUse::kPlayback, std::nullopt).ok());
}

TEST_F(SignedUrlTest, KeyLookupFailureIsPassedOn) {
  SignedUrlCheck check;
  std::string token = Token(live_, Claims());
  check.token = token;
  check.now_unix = kNow;
  KeyLookup failing = [](std::string_view) -> Result<std::optional<VerificationKey>> {
    return Unavailable("database is down");
  };
  EXPECT_EQ(VerifySignedUrlToken(check, failing, Owners()).status().code(),
            StatusCode::kUnavailable);
}

TEST_F(SignedUrlTest, MalformedTokenNeedsNoKeyLookup) {
  EXPECT_FALSE(Verify("not.a.token").ok());
  EXPECT_FALSE(Verify(std::string(20000, 'a') + ".b.c").ok());
  EXPECT_EQ(key_lookups_, 0);
}

TEST_F(SignedUrlTest, ReturnsClaimsOfAGoodToken) {
  SignedUrlCheck check;
  std::string token = Token(live_, Claims(R"(,"downloadable":true,"flags":{"original":true})"));
  check.token = token;
  check.use = TokenUse::kDownload;
  check.now_unix = kNow;
  Result<TokenClaims> claims = VerifySignedUrlToken(check, Keys(), Owners());
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->sub, kVideo);
  EXPECT_EQ(claims->kid, live_.generated.id);
  EXPECT_TRUE(claims->downloadable);
  EXPECT_EQ(claims->flags, nlohmann::json({{"original", true}}));
}

TEST_F(SignedUrlTest, TokenFromSignTokenVerifies) {
  TokenClaims claims;
  claims.sub = kVideo;
  claims.kid = live_.generated.id;
  claims.exp = kNow + 60;
  claims.nbf = kNow - 3600;
  claims.has_nbf = true;
  for (bool as_strings : {false, true}) {
    std::string token = SignToken(claims, *live_.private_key, as_strings).value();
    EXPECT_TRUE(Verify(token).ok()) << as_strings;
  }
}

TEST(LooksLikeToken, DistinguishesUidsFromTokens) {
  EXPECT_FALSE(LooksLikeToken(kVideo));
  EXPECT_TRUE(LooksLikeToken("a.b.c"));
  EXPECT_FALSE(LooksLikeToken(""));
}

// --- GeoIP, with a database written at test time by src/auth/testdata/make_test_mmdb.pl ---

class SignedUrlGeoIpTest : public SignedUrlTest {
 protected:
  static void SetUpTestSuite() {
    if (std::system("perl -MMaxMind::DB::Writer::Tree -e1 >/dev/null 2>&1") != 0) {
      return;  // SetUp skips.
    }
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("kino_signed_url_geoip_" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
    std::string path = (*dir_ / "test.mmdb").string();
    std::string cmd = "perl '" KINO_AUTH_TESTDATA_DIR "/make_test_mmdb.pl' '" + path + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    db_ = GeoIpDatabase::Open(path).value().release();
  }
  static void TearDownTestSuite() {
    delete db_;
    db_ = nullptr;
    if (dir_ != nullptr) {
      std::filesystem::remove_all(*dir_);
    }
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (db_ == nullptr) {
      GTEST_SKIP() << "perl module MaxMind::DB::Writer::Tree is missing "
                      "(Debian: libmaxmind-db-writer-perl)";
    }
  }

  static inline GeoIpDatabase* db_ = nullptr;
  static inline std::filesystem::path* dir_ = nullptr;
};

TEST_F(SignedUrlGeoIpTest, AppliesCountryRules) {
  auto rules = [this](std::string_view json) {
    return Token(live_, Claims(R"(,"accessRules":)" + std::string(json)));
  };
  const std::string allow_gb = rules(
      R"([{"type":"ip.geoip.country","action":"allow","country":["GB"]},{"type":"any","action":"block"}])");
  const std::string block_de =
      rules(R"([{"type":"ip.geoip.country","action":"block","country":["DE"]}])");
  const auto denied = StatusCode::kPermissionDenied;

  std::vector<Case> cases = {
      {"allow GB: a GB address", allow_gb, {}, "81.2.69.160"},
      {"allow GB: a US address is blocked by any",
       allow_gb,
       {},
       "1.2.3.4",
       denied,
       kTokenBlockedByAccessRule},
      {"allow GB: unknown country is blocked by any",
       allow_gb,
       {},
       "10.9.8.7",
       denied,
       kTokenBlockedByAccessRule},
      {"block DE: an IPv6 DE address",
       block_de,
       {},
       "2001:db8::1",
       denied,
       kTokenBlockedByAccessRule},
      {"block DE: a GB address passes", block_de, {}, "81.2.69.160"},
      {"block DE: an address not in the database passes", block_de, {}, "203.0.113.9"},
  };
  RunCases(cases, [this](const Case& c) {
    return Verify(c.token, c.use, Ip(c.client.empty() ? "198.51.100.7" : c.client), db_);
  });
}

// --- allowedOrigins ---

TEST(HostOfOrigin, ParsesOriginsAndUrls) {
  EXPECT_EQ(HostOfOrigin("https://Example.COM"), "example.com");
  EXPECT_EQ(HostOfOrigin("https://a.example.com:8443"), "a.example.com");
  EXPECT_EQ(HostOfOrigin("http://user:pw@a.example.com/x?y#z"), "a.example.com");
  EXPECT_EQ(HostOfOrigin("https://example.com./page"), "example.com");
  EXPECT_EQ(HostOfOrigin("http://[2001:db8::1]:80"), "[2001:db8::1]");
  EXPECT_EQ(HostOfOrigin("null"), std::nullopt);
  EXPECT_EQ(HostOfOrigin("file:///etc/passwd"), std::nullopt);
  EXPECT_EQ(HostOfOrigin("https://"), std::nullopt);
  EXPECT_EQ(HostOfOrigin("example.com"), std::nullopt);
}

TEST(HostMatchesPattern, ExactAndWildcardSubdomains) {
  EXPECT_TRUE(HostMatchesPattern("example.com", "example.com"));
  EXPECT_TRUE(HostMatchesPattern("example.com", "Example.Com"));
  EXPECT_FALSE(HostMatchesPattern("a.example.com", "example.com"));
  EXPECT_TRUE(HostMatchesPattern("a.example.com", "*.example.com"));
  EXPECT_TRUE(HostMatchesPattern("a.b.example.com", "*.example.com"));
  EXPECT_FALSE(HostMatchesPattern("example.com", "*.example.com"));
  EXPECT_FALSE(HostMatchesPattern("badexample.com", "*.example.com"));
  EXPECT_FALSE(HostMatchesPattern("example.com.evil.net", "example.com"));
  EXPECT_TRUE(HostMatchesPattern("anything.net", "*"));
  EXPECT_FALSE(HostMatchesPattern("example.com", ""));
}

TEST(OriginAllowed, EnforcesNonEmptyLists) {
  std::vector<std::string> list = {"example.com", "*.partner.net"};
  EXPECT_TRUE(OriginAllowed({}, std::nullopt, std::nullopt));
  EXPECT_TRUE(OriginAllowed(list, "https://example.com", std::nullopt));
  EXPECT_TRUE(OriginAllowed(list, std::nullopt, "https://cdn.partner.net/player.html"));
  EXPECT_FALSE(OriginAllowed(list, "https://partner.net", std::nullopt));
  EXPECT_FALSE(OriginAllowed(list, "https://evil.com", "https://example.com/"));
  EXPECT_FALSE(OriginAllowed(list, std::nullopt, std::nullopt));
  EXPECT_FALSE(OriginAllowed(list, "null", std::nullopt));
}

// --- PublicKeyCache ---

TEST(PublicKeyCache, ReusesParsedKeyOnlyForTheSamePem) {
  const testing::TestKey& a = SharedTestKey(0);
  const testing::TestKey& b = SharedTestKey(1);
  PublicKeyCache cache;
  auto first = cache.Get(a.generated.id, a.generated.public_pem);
  auto again = cache.Get(a.generated.id, a.generated.public_pem);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->get(), again->get());
  // The same kid with other PEM text (a row replaced in the database) is parsed afresh.
  auto replaced = cache.Get(a.generated.id, b.generated.public_pem);
  ASSERT_TRUE(replaced.ok());
  EXPECT_NE(replaced->get(), first->get());
  EXPECT_TRUE((*replaced)->VerifyRs256("x", b.private_key->SignRs256("x").value()));
  EXPECT_EQ(cache.size(), 1u);
}

TEST(PublicKeyCache, RefusesBadPemAndStaysBounded) {
  PublicKeyCache cache(2);
  EXPECT_FALSE(cache.Get("k", "not a pem").ok());
  EXPECT_EQ(cache.size(), 0u);
  for (int i = 0; i < 3; ++i) {
    const testing::TestKey& k = SharedTestKey(i);
    ASSERT_TRUE(cache.Get(k.generated.id, k.generated.public_pem).ok());
    EXPECT_LE(cache.size(), 2u);
  }
}

}  // namespace
}  // namespace kino::auth

#include "auth/access_rules.h"

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

namespace kino::auth {
namespace {

IpAddress Ip(std::string_view text) {
  Result<IpAddress> ip = ParseIp(text);
  EXPECT_TRUE(ip.ok()) << text;
  return ip.ok() ? *ip : IpAddress{};
}

IpNetwork Net(std::string_view text) {
  Result<IpNetwork> network = ParseNetwork(text);
  EXPECT_TRUE(network.ok()) << text;
  return network.ok() ? *network : IpNetwork{};
}

std::vector<AccessRule> Rules(std::string_view json_text) {
  auto json = nlohmann::json::parse(json_text, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << json_text;
  Result<std::vector<AccessRule>> rules = ParseAccessRules(json);
  EXPECT_TRUE(rules.ok()) << json_text << ": " << rules.status().ToString();
  return rules.ok() ? *rules : std::vector<AccessRule>{};
}

RuleVerdict Verdict(std::string_view rules_json, std::string_view client,
                    const GeoIpDatabase* geo = nullptr) {
  Result<RuleVerdict> verdict = EvaluateAccessRules(Rules(rules_json), Ip(client), geo);
  EXPECT_TRUE(verdict.ok()) << verdict.status().ToString();
  return verdict.ok() ? *verdict : RuleVerdict::kBlock;
}

// --- Addresses and networks ---

TEST(ParseIp, AcceptsV4AndV6) {
  EXPECT_EQ(ToString(Ip("1.2.3.4")), "1.2.3.4");
  EXPECT_EQ(ToString(Ip("2001:DB8::1")), "2001:db8::1");
  EXPECT_EQ(Ip("1.2.3.4").family, IpAddress::Family::kV4);
  EXPECT_EQ(Ip("::1").family, IpAddress::Family::kV6);
}

TEST(ParseIp, V4MappedV6EqualsV4) {
  EXPECT_EQ(Ip("::ffff:1.2.3.4"), Ip("1.2.3.4"));
  EXPECT_EQ(Ip("::ffff:102:304"), Ip("1.2.3.4"));
  EXPECT_EQ(Ip("::ffff:1.2.3.4").family, IpAddress::Family::kV4);
  EXPECT_EQ(ToString(Ip("::ffff:1.2.3.4")), "1.2.3.4");
  EXPECT_FALSE(Ip("::1.2.3.4") == Ip("1.2.3.4"));  // IPv4-compatible form is a different address.
}

TEST(ParseIp, RejectsMalformed) {
  const std::string_view bads[] = {"",
                                   "1.2.3",
                                   "1.2.3.4.5",
                                   "1.2.3.256",
                                   "01.2.3.4",
                                   " 1.2.3.4",
                                   "1.2.3.4 ",
                                   "0x1.2.3.4",
                                   "1::2::3",
                                   "fe80::1%eth0",
                                   "[::1]",
                                   "1.2.3.4:80",
                                   "localhost",
                                   "1111:2222:3333:4444:5555:6666:7777:8888:9999",
                                   std::string_view("1.2.3.4\0", 8)};
  for (std::string_view bad : bads) {
    EXPECT_FALSE(ParseIp(bad).ok()) << bad;
  }
}

TEST(ParseNetwork, ParsesCidrsAndBareAddresses) {
  EXPECT_EQ(ToString(Net("1.2.3.0/24")), "1.2.3.0/24");
  EXPECT_EQ(ToString(Net("1.2.3.4")), "1.2.3.4/32");
  EXPECT_EQ(ToString(Net("2001:db8::/32")), "2001:db8::/32");
  EXPECT_EQ(ToString(Net("2001:db8::1")), "2001:db8::1/128");
  EXPECT_EQ(ToString(Net("0.0.0.0/0")), "0.0.0.0/0");
}

TEST(ParseNetwork, ClearsHostBits) {
  EXPECT_EQ(ToString(Net("1.2.3.4/24")), "1.2.3.0/24");
  EXPECT_EQ(ToString(Net("2001:db8:ffff::1/33")), "2001:db8:8000::/33");
}

TEST(ParseNetwork, V4MappedNetworkBecomesV4) {
  EXPECT_EQ(Net("::ffff:1.2.3.0/120"), Net("1.2.3.0/24"));
  EXPECT_EQ(Net("::ffff:0:0/96"), Net("0.0.0.0/0"));
}

TEST(ParseNetwork, RejectsMalformed) {
  for (std::string_view bad : {"1.2.3.0/33", "1.2.3.0/", "1.2.3.0/-1", "1.2.3.0/+8", "/24",
                               "2001:db8::/129", "1.2.3.0/24/1", "1.2.3.0/0024", "x/8"}) {
    EXPECT_FALSE(ParseNetwork(bad).ok()) << bad;
  }
}

struct ContainsCase {
  const char* network;
  const char* ip;
  bool inside;
};

TEST(Contains, MatchesPrefixes) {
  const ContainsCase cases[] = {
      {"1.2.3.0/24", "1.2.3.255", true},
      {"1.2.3.0/24", "1.2.4.0", false},
      {"1.2.3.0/24", "::ffff:1.2.3.9", true},
      {"0.0.0.0/0", "200.1.1.1", true},
      {"0.0.0.0/0", "2001:db8::1", false},
      {"2001:db8::/32", "2001:db8:1234::5", true},
      {"2001:db8::/32", "2001:db9::", false},
      {"2001:db8:8000::/33", "2001:db8:7fff::", false},
      {"::/0", "2001:db8::1", true},
      {"::/0", "1.2.3.4", true},
      {"10.0.0.1", "10.0.0.1", true},
      {"10.0.0.1", "10.0.0.2", false},
      {"::ffff:10.0.0.0/104", "10.200.0.1", true},
  };
  for (const ContainsCase& c : cases) {
    EXPECT_EQ(Contains(Net(c.network), Ip(c.ip)), c.inside) << c.network << " " << c.ip;
  }
}

// --- Parsing rules ---

TEST(ParseAccessRules, ParsesEachType) {
  std::vector<AccessRule> rules = Rules(R"([
      {"type": "ip.src", "action": "allow", "ip": ["1.2.3.0/24", "2001:db8::/32"]},
      {"type": "ip.geoip.country", "action": "block", "country": ["GB", "US"]},
      {"type": "any", "action": "block"}])");
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].type, AccessRule::Type::kIpSrc);
  EXPECT_EQ(rules[0].action, AccessRule::Action::kAllow);
  EXPECT_EQ(rules[0].networks.size(), 2u);
  EXPECT_EQ(rules[1].type, AccessRule::Type::kIpGeoipCountry);
  EXPECT_EQ(rules[1].countries, (std::vector<std::string>{"GB", "US"}));
  EXPECT_EQ(rules[2].type, AccessRule::Type::kAny);
  EXPECT_EQ(rules[2].action, AccessRule::Action::kBlock);
}

TEST(ParseAccessRules, AcceptsEmptyArray) {
  EXPECT_TRUE(Rules("[]").empty());
}

TEST(ParseAccessRules, RoundTripsThroughJson) {
  const char* text = R"([{"type":"ip.src","action":"allow","ip":["1.2.3.0/24","2001:db8::/32"]},)"
                     R"({"type":"ip.geoip.country","action":"block","country":["GB"]},)"
                     R"({"type":"any","action":"block"}])";
  EXPECT_EQ(AccessRulesToJson(Rules(text)), nlohmann::json::parse(text));
}

TEST(ParseAccessRules, RejectsMalformed) {
  const char* bad[] = {
      R"({})",
      R"("any")",
      R"([1])",
      R"([{"action": "allow"}])",
      R"([{"type": "any"}])",
      R"([{"type": "ANY", "action": "allow"}])",
      R"([{"type": "any", "action": "permit"}])",
      R"([{"type": 1, "action": "allow"}])",
      R"([{"type": "ip.src", "action": "allow"}])",
      R"([{"type": "ip.src", "action": "allow", "ip": []}])",
      R"([{"type": "ip.src", "action": "allow", "ip": "1.2.3.4"}])",
      R"([{"type": "ip.src", "action": "allow", "ip": [7]}])",
      R"([{"type": "ip.src", "action": "allow", "ip": ["1.2.3.0/40"]}])",
      R"([{"type": "ip.geoip.country", "action": "allow"}])",
      R"([{"type": "ip.geoip.country", "action": "allow", "country": ["gb"]}])",
      R"([{"type": "ip.geoip.country", "action": "allow", "country": ["GBR"]}])",
      R"([{"type": "ip.geoip.country", "action": "allow", "country": ["G1"]}])",
      R"([{"type":"any","action":"allow"},{"type":"any","action":"allow"},
          {"type":"any","action":"allow"},{"type":"any","action":"allow"},
          {"type":"any","action":"allow"},{"type":"any","action":"allow"}])",
  };
  for (const char* text : bad) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << text;
    Result<std::vector<AccessRule>> rules = ParseAccessRules(json);
    EXPECT_FALSE(rules.ok()) << text;
    EXPECT_EQ(rules.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(ParseAccessRules, ErrorNamesRuleWithoutEchoingValue) {
  auto json = nlohmann::json::parse(R"([{"type":"any","action":"allow"},
      {"type":"ip.src","action":"allow","ip":["999.1.1.1"]}])");
  Result<std::vector<AccessRule>> rules = ParseAccessRules(json);
  ASSERT_FALSE(rules.ok());
  EXPECT_NE(rules.status().message().find("accessRules[1]"), std::string::npos);
  EXPECT_EQ(rules.status().message().find("999"), std::string::npos);
}

TEST(ParseAccessRules, RejectsTooManyEntries) {
  nlohmann::json ips = nlohmann::json::array();
  for (size_t i = 0; i <= kMaxRuleEntries; ++i) {
    ips.push_back("10.0.0.1");
  }
  nlohmann::json rules = {{{"type", "ip.src"}, {"action", "allow"}, {"ip", ips}}};
  EXPECT_FALSE(ParseAccessRules(rules).ok());
}

// --- Evaluating rules without GeoIP ---

TEST(EvaluateAccessRules, NoRulesAllow) {
  EXPECT_EQ(Verdict("[]", "1.2.3.4"), RuleVerdict::kAllow);
}

TEST(EvaluateAccessRules, AnyRuleAppliesItsAction) {
  EXPECT_EQ(Verdict(R"([{"type":"any","action":"block"}])", "1.2.3.4"), RuleVerdict::kBlock);
  EXPECT_EQ(Verdict(R"([{"type":"any","action":"allow"}])", "1.2.3.4"), RuleVerdict::kAllow);
}

TEST(EvaluateAccessRules, IpSrcAllowThenBlockEverythingElse) {
  const char* rules = R"([{"type":"ip.src","action":"allow","ip":["1.2.3.0/24","2001:db8::/32"]},
                          {"type":"any","action":"block"}])";
  EXPECT_EQ(Verdict(rules, "1.2.3.77"), RuleVerdict::kAllow);
  EXPECT_EQ(Verdict(rules, "::ffff:1.2.3.77"), RuleVerdict::kAllow);
  EXPECT_EQ(Verdict(rules, "2001:db8:aa::1"), RuleVerdict::kAllow);
  EXPECT_EQ(Verdict(rules, "1.2.4.1"), RuleVerdict::kBlock);
  EXPECT_EQ(Verdict(rules, "2001:db9::1"), RuleVerdict::kBlock);
}

TEST(EvaluateAccessRules, IpSrcBlockLetsOthersThrough) {
  const char* rules = R"([{"type":"ip.src","action":"block","ip":["2001:db8::/32"]}])";
  EXPECT_EQ(Verdict(rules, "2001:db8::1"), RuleVerdict::kBlock);
  EXPECT_EQ(Verdict(rules, "2001:db7::1"), RuleVerdict::kAllow);
  EXPECT_EQ(Verdict(rules, "1.2.3.4"), RuleVerdict::kAllow);
}

TEST(EvaluateAccessRules, FirstMatchWins) {
  const char* rules = R"([{"type":"ip.src","action":"block","ip":["1.2.3.4"]},
                          {"type":"ip.src","action":"allow","ip":["1.2.3.0/24"]},
                          {"type":"any","action":"block"}])";
  EXPECT_EQ(Verdict(rules, "1.2.3.4"), RuleVerdict::kBlock);
  EXPECT_EQ(Verdict(rules, "1.2.3.5"), RuleVerdict::kAllow);
  EXPECT_EQ(Verdict(rules, "9.9.9.9"), RuleVerdict::kBlock);
}

TEST(EvaluateAccessRules, CountryRuleWithoutDatabaseIsFailedPrecondition) {
  Result<RuleVerdict> verdict = EvaluateAccessRules(
      Rules(R"([{"type":"ip.geoip.country","action":"allow","country":["GB"]}])"), Ip("1.2.3.4"),
      nullptr);
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.status().code(), StatusCode::kFailedPrecondition);
}

TEST(EvaluateAccessRules, CountryRuleAfterDecidingRuleNeedsNoDatabase) {
  EXPECT_EQ(Verdict(R"([{"type":"any","action":"allow"},
                        {"type":"ip.geoip.country","action":"block","country":["GB"]}])",
                    "1.2.3.4"),
            RuleVerdict::kAllow);
}

// --- GeoIP, with a database written at test time ---

class GeoIpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::system("perl -MMaxMind::DB::Writer::Tree -e1 >/dev/null 2>&1") != 0) {
      skip_reason_ = new std::string(
          "perl module MaxMind::DB::Writer::Tree is missing (Debian: libmaxmind-db-writer-perl)");
      return;
    }
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("kino_auth_geoip_" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
    std::string path = (*dir_ / "test.mmdb").string();
    std::string cmd = "perl '" KINO_AUTH_TESTDATA_DIR "/make_test_mmdb.pl' '" + path + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    Result<std::unique_ptr<GeoIpDatabase>> db = GeoIpDatabase::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value().release();
  }
  static void TearDownTestSuite() {
    delete db_;
    if (dir_ != nullptr) {
      std::filesystem::remove_all(*dir_);
    }
    delete dir_;
    delete skip_reason_;
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) {
      GTEST_SKIP() << *skip_reason_;
    }
    ASSERT_NE(db_, nullptr);
  }

  std::optional<std::string> Country(std::string_view ip) {
    Result<std::optional<std::string>> country = db_->CountryOf(Ip(ip));
    EXPECT_TRUE(country.ok()) << country.status().ToString();
    return country.ok() ? *country : std::nullopt;
  }

  static inline GeoIpDatabase* db_ = nullptr;
  static inline std::filesystem::path* dir_ = nullptr;
  static inline std::string* skip_reason_ = nullptr;
};

TEST_F(GeoIpTest, LooksUpCountries) {
  EXPECT_EQ(Country("81.2.69.160"), "GB");
  EXPECT_EQ(Country("1.2.3.4"), "US");
  EXPECT_EQ(Country("2001:db8::1"), "DE");
  EXPECT_EQ(Country("::ffff:81.2.69.1"), "GB");
}

TEST_F(GeoIpTest, UnknownAddressOrRecordWithoutCountryIsNullopt) {
  EXPECT_EQ(Country("8.8.8.8"), std::nullopt);
  EXPECT_EQ(Country("10.9.8.7"), std::nullopt);
  EXPECT_EQ(Country("2a00::1"), std::nullopt);
}

TEST_F(GeoIpTest, CountryAllowRule) {
  const char* rules = R"([{"type":"ip.geoip.country","action":"allow","country":["GB"]},
                          {"type":"any","action":"block"}])";
  EXPECT_EQ(Verdict(rules, "81.2.69.160", db_), RuleVerdict::kAllow);
  EXPECT_EQ(Verdict(rules, "1.2.3.4", db_), RuleVerdict::kBlock);
  EXPECT_EQ(Verdict(rules, "8.8.8.8", db_), RuleVerdict::kBlock);
}

TEST_F(GeoIpTest, CountryBlockRule) {
  const char* rules = R"([{"type":"ip.geoip.country","action":"block","country":["DE","US"]}])";
  EXPECT_EQ(Verdict(rules, "2001:db8::5", db_), RuleVerdict::kBlock);
  EXPECT_EQ(Verdict(rules, "1.2.3.4", db_), RuleVerdict::kBlock);
  EXPECT_EQ(Verdict(rules, "81.2.69.160", db_), RuleVerdict::kAllow);
  EXPECT_EQ(Verdict(rules, "10.9.8.7", db_), RuleVerdict::kAllow);
}

TEST(GeoIpDatabase, OpenFailsOnMissingOrGarbageFile) {
  EXPECT_FALSE(GeoIpDatabase::Open("/nonexistent/kino.mmdb").ok());
  std::string path = (std::filesystem::temp_directory_path() /
                      ("kino_auth_garbage_" + std::to_string(getpid()) + ".mmdb"))
                         .string();
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not a maxmind database", f);
  std::fclose(f);
  EXPECT_FALSE(GeoIpDatabase::Open(path).ok());
  std::filesystem::remove(path);
}

// --- Client address ---

class ClientAddressTest : public ::testing::Test {
 protected:
  std::string Resolve(std::string_view peer, std::string_view xff) {
    return ToString(ResolveClientAddress(Ip(peer), xff, proxies_));
  }
  std::vector<IpNetwork> proxies_ = {Net("10.0.0.0/8"), Net("fd00::/8")};
};

TEST_F(ClientAddressTest, NoHeaderGivesPeer) {
  EXPECT_EQ(Resolve("10.0.0.1", ""), "10.0.0.1");
  EXPECT_EQ(Resolve("10.0.0.1", "  "), "10.0.0.1");
}

TEST_F(ClientAddressTest, SpoofedHeaderFromUntrustedPeerIsIgnored) {
  EXPECT_EQ(Resolve("203.0.113.9", "81.2.69.160"), "203.0.113.9");
  EXPECT_EQ(Resolve("203.0.113.9", "10.0.0.5, 81.2.69.160"), "203.0.113.9");
}

TEST_F(ClientAddressTest, TrustedProxyGivesRightmostUntrustedEntry) {
  EXPECT_EQ(Resolve("10.0.0.1", "81.2.69.160"), "81.2.69.160");
  // The client put a fake address first; only the entries our proxies appended count.
  EXPECT_EQ(Resolve("10.0.0.1", "1.1.1.1, 81.2.69.160, 10.0.0.7,fd00::3"), "81.2.69.160");
  EXPECT_EQ(Resolve("fd00::1", "2001:db8::9"), "2001:db8::9");
  EXPECT_EQ(Resolve("::ffff:10.0.0.1", "81.2.69.160"), "81.2.69.160");
}

TEST_F(ClientAddressTest, AllTrustedGivesLeftmost) {
  EXPECT_EQ(Resolve("10.0.0.1", "10.0.0.3, 10.0.0.2"), "10.0.0.3");
}

TEST_F(ClientAddressTest, MalformedEntryGivesPeer) {
  EXPECT_EQ(Resolve("10.0.0.1", "81.2.69.160, garbage"), "10.0.0.1");
  EXPECT_EQ(Resolve("10.0.0.1", "81.2.69.160,,10.0.0.2"), "10.0.0.1");
  EXPECT_EQ(Resolve("10.0.0.1", "1.2.3.4:5678"), "10.0.0.1");
  EXPECT_EQ(Resolve("10.0.0.1", "unknown"), "10.0.0.1");
}

}  // namespace
}  // namespace kino::auth

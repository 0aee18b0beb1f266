#include "auth/access_rules.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common/strings.h"

namespace kino::auth {
namespace {

// ::ffff:0:0/96, RFC 4291 section 2.5.5.2.
constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool IsV4Mapped(const std::array<uint8_t, 16>& bytes) {
  return std::memcmp(bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

// Clears every bit of `bytes` after the first `bits` bits (counted in the 128-bit space).
void ClearHostBits(std::array<uint8_t, 16>& bytes, int bits) {
  for (int i = 0; i < 16; ++i) {
    int keep = bits - i * 8;
    if (keep <= 0) {
      bytes[i] = 0;
    } else if (keep < 8) {
      bytes[i] &= static_cast<uint8_t>(0xff << (8 - keep));
    }
  }
}

// The prefix length of `network` in the 128-bit space.
int Prefix128(const IpNetwork& network) {
  return network.base.family == IpAddress::Family::kV4 ? network.prefix + 96 : network.prefix;
}

Result<AccessRule::Type> ParseRuleType(const nlohmann::json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s == "any") {
      return AccessRule::Type::kAny;
    }
    if (s == "ip.src") {
      return AccessRule::Type::kIpSrc;
    }
    if (s == "ip.geoip.country") {
      return AccessRule::Type::kIpGeoipCountry;
    }
  }
  return InvalidArgument("unknown type");
}

Result<AccessRule::Action> ParseRuleAction(const nlohmann::json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s == "allow") {
      return AccessRule::Action::kAllow;
    }
    if (s == "block") {
      return AccessRule::Action::kBlock;
    }
  }
  return InvalidArgument("unknown action");
}

// The non-empty, bounded array of strings under `key`, or an error naming the key.
Result<std::vector<std::string_view>> StringList(const nlohmann::json& rule, const char* key) {
  auto it = rule.find(key);
  if (it == rule.end() || !it->is_array() || it->empty()) {
    return InvalidArgument(std::string("needs a non-empty '") + key + "' array");
  }
  if (it->size() > kMaxRuleEntries) {
    return InvalidArgument(std::string("too many '") + key + "' entries");
  }
  std::vector<std::string_view> out;
  for (const auto& item : *it) {
    if (!item.is_string()) {
      return InvalidArgument(std::string("'") + key + "' entries must be strings");
    }
    out.push_back(item.get_ref<const std::string&>());
  }
  return out;
}

bool IsCountryCode(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

Status ParseRuleTargets(const nlohmann::json& item, AccessRule& rule) {
  if (rule.type == AccessRule::Type::kIpSrc) {
    KINO_ASSIGN_OR_RETURN(auto texts, StringList(item, "ip"));
    for (std::string_view text : texts) {
      KINO_ASSIGN_OR_RETURN(IpNetwork network, ParseNetwork(text));
      rule.networks.push_back(network);
    }
  } else if (rule.type == AccessRule::Type::kIpGeoipCountry) {
    KINO_ASSIGN_OR_RETURN(auto codes, StringList(item, "country"));
    for (std::string_view code : codes) {
      if (!IsCountryCode(code)) {
        return InvalidArgument("country must be an ISO 3166-1 alpha-2 code in upper case");
      }
      rule.countries.emplace_back(code);
    }
  }
  return Status::Ok();
}

Result<AccessRule> ParseRule(const nlohmann::json& item) {
  if (!item.is_object()) {
    return InvalidArgument("must be an object");
  }
  AccessRule rule;
  auto type = item.find("type");
  auto action = item.find("action");
  if (type == item.end() || action == item.end()) {
    return InvalidArgument("needs 'type' and 'action'");
  }
  KINO_ASSIGN_OR_RETURN(rule.type, ParseRuleType(*type));
  KINO_ASSIGN_OR_RETURN(rule.action, ParseRuleAction(*action));
  KINO_RETURN_IF_ERROR(ParseRuleTargets(item, rule));
  return rule;
}

const char* TypeName(AccessRule::Type type) {
  switch (type) {
    case AccessRule::Type::kAny:
      return "any";
    case AccessRule::Type::kIpSrc:
      return "ip.src";
    case AccessRule::Type::kIpGeoipCountry:
      return "ip.geoip.country";
  }
  return "any";
}

bool InAnyNetwork(const std::vector<IpNetwork>& networks, const IpAddress& ip) {
  for (const IpNetwork& network : networks) {
    if (Contains(network, ip)) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<IpAddress> ParseIp(std::string_view text) {
  // inet_pton needs a terminated string; the longest IPv6 text form fits in INET6_ADDRSTRLEN.
  char buf[INET6_ADDRSTRLEN];
  if (text.empty() || text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) {
    return InvalidArgument("not an IP address");
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';

  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    std::memcpy(ip.bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
    if (inet_pton(AF_INET, buf, ip.bytes.data() + 12) != 1) {
      return InvalidArgument("not an IP address");
    }
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) {
    return InvalidArgument("not an IP address");
  }
  ip.family = IsV4Mapped(ip.bytes) ? IpAddress::Family::kV4 : IpAddress::Family::kV6;
  return ip;
}

std::string ToString(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ip.family == IpAddress::Family::kV4) {
    inet_ntop(AF_INET, ip.bytes.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

Result<IpNetwork> ParseNetwork(std::string_view text) {
  size_t slash = text.find('/');
  KINO_ASSIGN_OR_RETURN(IpAddress base, ParseIp(text.substr(0, slash)));
  bool v4_text = text.substr(0, slash).find(':') == std::string_view::npos;
  int max_prefix = v4_text ? 32 : 128;
  int prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    std::optional<uint64_t> parsed = digits.size() <= 3 ? ParseUint64(digits) : std::nullopt;
    if (!parsed || *parsed > static_cast<uint64_t>(max_prefix)) {
      return InvalidArgument("bad network prefix length");
    }
    prefix = static_cast<int>(*parsed);
  }

  // Normalise: an IPv4-mapped IPv6 network of /96 or longer is an IPv4 network.
  int prefix128 = v4_text ? prefix + 96 : prefix;
  ClearHostBits(base.bytes, prefix128);
  if (!v4_text && prefix128 >= 96 && IsV4Mapped(base.bytes)) {
    base.family = IpAddress::Family::kV4;
    return IpNetwork{base, prefix128 - 96};
  }
  base.family = v4_text ? IpAddress::Family::kV4 : IpAddress::Family::kV6;
  return IpNetwork{base, prefix};
}

std::string ToString(const IpNetwork& network) {
  return ToString(network.base) + "/" + std::to_string(network.prefix);
}

bool Contains(const IpNetwork& network, const IpAddress& ip) {
  std::array<uint8_t, 16> masked = ip.bytes;
  ClearHostBits(masked, Prefix128(network));
  return masked == network.base.bytes;
}

Result<std::vector<AccessRule>> ParseAccessRules(const nlohmann::json& rules) {
  if (!rules.is_array()) {
    return InvalidArgument("accessRules must be an array");
  }
  if (rules.size() > kMaxAccessRules) {
    return InvalidArgument("accessRules allows at most 5 rules");
  }
  std::vector<AccessRule> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    Result<AccessRule> rule = ParseRule(rules[i]);
    if (!rule.ok()) {
      return InvalidArgument("accessRules[" + std::to_string(i) + "] " + rule.status().message());
    }
    out.push_back(std::move(rule).value());
  }
  return out;
}

nlohmann::json AccessRulesToJson(const std::vector<AccessRule>& rules) {
  nlohmann::json out = nlohmann::json::array();
  for (const AccessRule& rule : rules) {
    nlohmann::json item = {
        {"type", TypeName(rule.type)},
        {"action", rule.action == AccessRule::Action::kAllow ? "allow" : "block"}};
    if (rule.type == AccessRule::Type::kIpSrc) {
      nlohmann::json& ips = item["ip"] = nlohmann::json::array();
      for (const IpNetwork& network : rule.networks) {
        ips.push_back(ToString(network));
      }
    } else if (rule.type == AccessRule::Type::kIpGeoipCountry) {
      item["country"] = rule.countries;
    }
    out.push_back(std::move(item));
  }
  return out;
}

// --- GeoIP ---------------------------------------------------------------------------------

struct GeoIpDatabase::Impl {
  MMDB_s mmdb{};
  ~Impl() { MMDB_close(&mmdb); }
};

GeoIpDatabase::GeoIpDatabase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GeoIpDatabase::~GeoIpDatabase() = default;

Result<std::unique_ptr<GeoIpDatabase>> GeoIpDatabase::Open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &impl->mmdb);
  if (rc != MMDB_SUCCESS) {
    // MMDB_open leaves nothing to close on failure; keep the destructor from closing twice.
    std::string reason = MMDB_strerror(rc);
    if (rc == MMDB_IO_ERROR) {
      reason += std::string(": ") + std::strerror(errno);
    }
    impl->mmdb = MMDB_s{};
    return Unavailable("opening GeoIP database " + path + ": " + reason);
  }
  return std::unique_ptr<GeoIpDatabase>(new GeoIpDatabase(std::move(impl)));
}

Result<std::optional<std::string>> GeoIpDatabase::CountryOf(const IpAddress& ip) const {
  // Look IPv4 up as IPv4 so that IPv4-only databases and the IPv4 subtree of IPv6 ones both work.
  sockaddr_storage storage{};
  if (ip.family == IpAddress::Family::kV4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, ip.bytes.data() + 12, 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, ip.bytes.data(), 16);
  }

  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result =
      MMDB_lookup_sockaddr(&impl_->mmdb, reinterpret_cast<const sockaddr*>(&storage), &mmdb_error);
  if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) {
    return std::optional<std::string>();
  }
  if (mmdb_error != MMDB_SUCCESS) {
    return DataLoss(std::string("GeoIP lookup: ") + MMDB_strerror(mmdb_error));
  }
  if (!result.found_entry) {
    return std::optional<std::string>();
  }

  MMDB_entry_data_s data{};
  int rc = MMDB_get_value(&result.entry, &data, "country", "iso_code", nullptr);
  if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
      (rc == MMDB_SUCCESS && (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING))) {
    return std::optional<std::string>();
  }
  if (rc != MMDB_SUCCESS) {
    return DataLoss(std::string("GeoIP record: ") + MMDB_strerror(rc));
  }
  return std::optional<std::string>(std::string(data.utf8_string, data.data_size));
}

// --- Evaluation ----------------------------------------------------------------------------

Result<RuleVerdict> EvaluateAccessRules(const std::vector<AccessRule>& rules,
                                        const IpAddress& client, const GeoIpDatabase* geo) {
  // The country is looked up at most once, and only when a country rule is reached.
  std::optional<std::optional<std::string>> country;
  for (const AccessRule& rule : rules) {
    bool match = false;
    switch (rule.type) {
      case AccessRule::Type::kAny:
        match = true;
        break;
      case AccessRule::Type::kIpSrc:
        match = InAnyNetwork(rule.networks, client);
        break;
      case AccessRule::Type::kIpGeoipCountry:
        if (geo == nullptr) {
          return FailedPrecondition("no GeoIP database configured");
        }
        if (!country) {
          KINO_ASSIGN_OR_RETURN(country, geo->CountryOf(client));
        }
        match = country->has_value() && std::find(rule.countries.begin(), rule.countries.end(),
                                                  **country) != rule.countries.end();
        break;
    }
    if (match) {
      return rule.action == AccessRule::Action::kAllow ? RuleVerdict::kAllow : RuleVerdict::kBlock;
    }
  }
  return RuleVerdict::kAllow;
}

IpAddress ResolveClientAddress(const IpAddress& peer, std::string_view x_forwarded_for,
                               const std::vector<IpNetwork>& trusted_proxies) {
  if (!InAnyNetwork(trusted_proxies, peer) || TrimWhitespace(x_forwarded_for).empty()) {
    return peer;
  }
  std::vector<std::string_view> entries = Split(x_forwarded_for, ',');
  IpAddress candidate = peer;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    Result<IpAddress> hop = ParseIp(TrimWhitespace(*it));
    if (!hop.ok()) {
      return peer;
    }
    candidate = *hop;
    if (!InAnyNetwork(trusted_proxies, candidate)) {
      return candidate;
    }
  }
  return candidate;  // Every hop was a trusted proxy: the leftmost is the best we know.
}

}  // namespace kino::auth

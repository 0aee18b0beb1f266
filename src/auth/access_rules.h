// Access rules carried inside signed tokens, the IP addresses they test, and GeoIP lookups.
//
// A token's `accessRules` claim (Cloudflare Stream's format) is a list of at most five rules:
//   {"type": "any" | "ip.src" | "ip.geoip.country", "action": "allow" | "block",
//    "ip": ["1.2.3.0/24", "2001:db8::/32", ...],   // for ip.src
//    "country": ["GB", ...]}                        // for ip.geoip.country
// They are tested in order against the client address; the first rule that matches decides, and
// a client that matches no rule is allowed.
//
// Addresses live in one 128-bit space: an IPv4 address is kept as its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2), so "1.2.3.4" and "::ffff:1.2.3.4" are the same
// address and an IPv4 network matches a client that connected over a dual-stack IPv6 socket.
//
// Thread-safety: values are plain data. GeoIpDatabase is immutable after Open() and its lookups
// may run on any number of threads at once.
#ifndef KINO_AUTH_ACCESS_RULES_H_
#define KINO_AUTH_ACCESS_RULES_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace kino::auth {

struct IpAddress {
  enum class Family { kV4, kV6 };

  // Network byte order, always 16 bytes; an IPv4 address sits in the last four after ::ffff:.
  std::array<uint8_t, 16> bytes{};
  // kV4 exactly when `bytes` is an IPv4-mapped address; kept so ToString() prints it as v4.
  Family family = Family::kV4;

  bool operator==(const IpAddress& other) const { return bytes == other.bytes; }
};

// Parses a literal IPv4 ("1.2.3.4", strict dotted decimal, no leading zeros) or IPv6 address
// (RFC 4291 section 2.2 text forms, no zone id). InvalidArgument otherwise.
Result<IpAddress> ParseIp(std::string_view text);

// "1.2.3.4" or "2001:db8::1" (RFC 5952 form from inet_ntop).
std::string ToString(const IpAddress& ip);

// A CIDR block. `prefix` counts bits in the base's own family: 0..32 for IPv4, 0..128 for IPv6.
// Host bits of `base` are always zero.
struct IpNetwork {
  IpAddress base;
  int prefix = 0;

  bool operator==(const IpNetwork& other) const {
    return base == other.base && prefix == other.prefix;
  }
};

// "1.2.3.0/24", "2001:db8::/32"; a bare address is a /32 or /128. Host bits below the prefix are
// cleared ("1.2.3.4/24" is 1.2.3.0/24). An IPv4-mapped IPv6 base with a prefix of at least 96
// becomes the equivalent IPv4 network. InvalidArgument when malformed.
Result<IpNetwork> ParseNetwork(std::string_view text);

// "1.2.3.0/24".
std::string ToString(const IpNetwork& network);

// True when `ip` is inside `network`. An IPv6 network such as ::/0 contains the IPv4 addresses
// that fall inside it in mapped form; an IPv4 network never contains a non-mapped IPv6 address.
bool Contains(const IpNetwork& network, const IpAddress& ip);

struct AccessRule {
  enum class Type { kAny, kIpSrc, kIpGeoipCountry };
  enum class Action { kAllow, kBlock };

  Type type = Type::kAny;
  Action action = Action::kAllow;
  std::vector<IpNetwork> networks;     // kIpSrc only, never empty there
  std::vector<std::string> countries;  // kIpGeoipCountry only: ISO 3166-1 alpha-2, upper case
};

inline constexpr size_t kMaxAccessRules = 5;
// Bounds the work one token can cause; a URL could not carry many more anyway.
inline constexpr size_t kMaxRuleEntries = 256;

// Parses the `accessRules` JSON array. InvalidArgument (naming the rule index, never echoing
// values) when it is not an array, has more than kMaxAccessRules rules, or a rule has an unknown
// type or action, a missing or empty `ip`/`country` list for its type, a malformed network, or a
// country that is not two upper-case ASCII letters. Members that do not belong to a rule's type
// are ignored.
Result<std::vector<AccessRule>> ParseAccessRules(const nlohmann::json& rules);

// The inverse of ParseAccessRules, for signing. Networks print in ToString() form.
nlohmann::json AccessRulesToJson(const std::vector<AccessRule>& rules);

// A MaxMind DB (GeoIP2/GeoLite2 Country or City format) opened with mmap. Owns the mapping.
class GeoIpDatabase {
 public:
  // InvalidArgument or Unavailable with libmaxminddb's reason when the file cannot be opened.
  static Result<std::unique_ptr<GeoIpDatabase>> Open(const std::string& path);
  ~GeoIpDatabase();
  GeoIpDatabase(const GeoIpDatabase&) = delete;
  GeoIpDatabase& operator=(const GeoIpDatabase&) = delete;

  // The record's country.iso_code, or nullopt when the address is not in the database or its
  // record has no country (also for an IPv6 address looked up in an IPv4-only database).
  // DataLoss when the database is corrupt.
  Result<std::optional<std::string>> CountryOf(const IpAddress& ip) const;

 private:
  struct Impl;
  explicit GeoIpDatabase(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

enum class RuleVerdict { kAllow, kBlock };

// Applies `rules` in order to `client`: the first rule that matches gives its action; no match
// allows. `geo` may be null when no ip.geoip.country rule is reached; reaching one without a
// database is FailedPrecondition ("no GeoIP database configured") so that the caller refuses
// the request and logs why, rather than guessing. A client whose country is unknown matches no
// country rule. Errors from the database are passed on.
Result<RuleVerdict> EvaluateAccessRules(const std::vector<AccessRule>& rules,
                                        const IpAddress& client, const GeoIpDatabase* geo);

// The address access rules should see. It is the socket peer, unless the peer is inside one of
// `trusted_proxies`: then X-Forwarded-For is read from the right, skipping entries that are
// themselves trusted proxies, and the first untrusted entry is the client (the leftmost entry
// when every entry is trusted). The header of an untrusted peer is ignored, since anyone can
// write it. An empty header or any entry that is not a plain IP literal gives the peer. Callers
// join repeated X-Forwarded-For fields with "," before calling (RFC 9110 section 5.3).
IpAddress ResolveClientAddress(const IpAddress& peer, std::string_view x_forwarded_for,
                               const std::vector<IpNetwork>& trusted_proxies);

}  // namespace kino::auth

#endif  // KINO_AUTH_ACCESS_RULES_H_

#include "http/address_guard.h"

#include <cstdint>
#include <cstring>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/strings.h"

namespace kino::http {
namespace {

struct Range4 {
  uint32_t base;
  int prefix;
};

// RFC 6890 special-purpose IPv4 ranges, plus multicast and the reserved 240/4.
constexpr Range4 kPrivate4[] = {
    {0x00000000, 8},  {0x0A000000, 8},  {0x64400000, 10}, {0x7F000000, 8},  {0xA9FE0000, 16},
    {0xAC100000, 12}, {0xC0000000, 24}, {0xC0000200, 24}, {0xC0A80000, 16}, {0xC6120000, 15},
    {0xC6336400, 24}, {0xCB007100, 24}, {0xE0000000, 4},  {0xF0000000, 4},
};

bool InRange(uint32_t addr, const Range4& r) {
  uint32_t mask = r.prefix == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix);
  return (addr & mask) == (r.base & mask);
}

bool IsPublic4(uint32_t addr) {
  for (const Range4& r : kPrivate4) {
    if (InRange(addr, r)) {
      return false;
    }
  }
  return true;
}

uint32_t Load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

bool AllZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != 0) {
      return false;
    }
  }
  return true;
}

// Addresses that carry an IPv4 address inside are as public as that address.
bool IsPublic6Embedded(const uint8_t* a, bool* decided) {
  *decided = true;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(a, kMapped, 12) == 0 || std::memcmp(a, kNat64, 12) == 0) {
    return IsPublic4(Load32(a + 12));
  }
  if (AllZero(a, 12)) {
    return false;  // ::, ::1 and the deprecated IPv4-compatible form
  }
  if (a[0] == 0x20 && a[1] == 0x02) {
    return IsPublic4(Load32(a + 2));  // 6to4 (RFC 3056)
  }
  *decided = false;
  return false;
}

bool IsPublic6(const uint8_t* a) {
  bool decided = false;
  bool embedded = IsPublic6Embedded(a, &decided);
  if (decided) {
    return embedded;
  }
  if ((a[0] & 0xfe) == 0xfc) {
    return false;  // unique local fc00::/7
  }
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
    return false;  // link-local fe80::/10
  }
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) {
    return false;  // site-local fec0::/10 (deprecated)
  }
  if (a[0] == 0xff) {
    return false;  // multicast
  }
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) {
    return false;  // documentation 2001:db8::/32
  }
  if (a[0] == 0x01 && AllZero(a + 1, 7)) {
    return false;  // discard-only 100::/64
  }
  return true;
}

}  // namespace

bool IsPublicAddress(const struct sockaddr* addr, socklen_t len) {
  if (addr == nullptr) {
    return false;
  }
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return IsPublic4(ntohl(in->sin_addr.s_addr));
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    return IsPublic6(in6->sin6_addr.s6_addr);
  }
  return false;
}

bool IsPublicIp(std::string_view ip) {
  std::string text(ip);
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) {
    return IsPublic4(ntohl(a4.s_addr));
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
    return IsPublic6(a6.s6_addr);
  }
  return false;
}

bool IsObviouslyPrivateHost(std::string_view host) {
  std::string h = AsciiLower(host);
  if (!h.empty() && h.back() == '.') {
    h.pop_back();  // "localhost." is the same name
  }
  if (h == "localhost" || (h.size() > 10 && h.ends_with(".localhost"))) {
    return true;
  }
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') {
    return !IsPublicIp(std::string_view(h).substr(1, h.size() - 2));
  }
  in_addr a4{};
  if (inet_pton(AF_INET, h.c_str(), &a4) == 1) {
    return !IsPublic4(ntohl(a4.s_addr));
  }
  return false;
}

}  // namespace kino::http

#include "http/address_guard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "http/http_client.h"

namespace kino::http {
namespace {

TEST(AddressGuard, RefusesPrivateAndSpecialIpv4) {
  for (const char* ip :
       {"0.0.0.0", "10.1.2.3", "100.64.0.1", "127.0.0.1", "169.254.169.254", "172.16.0.1",
        "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.51.100.7",
        "203.0.113.9", "224.0.0.1", "240.0.0.1", "255.255.255.255"}) {
    EXPECT_FALSE(IsPublicIp(ip)) << ip;
  }
}

TEST(AddressGuard, AcceptsPublicIpv4) {
  for (const char* ip : {"1.1.1.1", "8.8.8.8", "172.15.255.255", "172.32.0.1", "100.128.0.1",
                         "93.184.216.34", "11.0.0.1"}) {
    EXPECT_TRUE(IsPublicIp(ip)) << ip;
  }
}

TEST(AddressGuard, RefusesPrivateAndEmbeddedIpv6) {
  for (const char* ip : {"::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1",
                         "2001:db8::1", "100::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
                         "64:ff9b::a00:1", "2002:c0a8:0101::1", "::127.0.0.1"}) {
    EXPECT_FALSE(IsPublicIp(ip)) << ip;
  }
}

TEST(AddressGuard, AcceptsPublicIpv6) {
  for (const char* ip : {"2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8",
                         "64:ff9b::808:808", "2002:0808:0808::1"}) {
    EXPECT_TRUE(IsPublicIp(ip)) << ip;
  }
}

TEST(AddressGuard, NonNumericTextIsNotAPublicIp) {
  EXPECT_FALSE(IsPublicIp(""));
  EXPECT_FALSE(IsPublicIp("example.com"));
  EXPECT_FALSE(IsPublicIp("1.2.3"));
  EXPECT_FALSE(IsPublicIp("[::1]"));
}

TEST(AddressGuard, ChecksSockaddrOfEachFamily) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v4), sizeof(v4)));
  inet_pton(AF_INET, "8.8.4.4", &v4.sin_addr);
  EXPECT_TRUE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v4), sizeof(v4)));
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v4), 4));  // truncated

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr);
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v6), sizeof(v6)));
  inet_pton(AF_INET6, "2606:4700::1", &v6.sin6_addr);
  EXPECT_TRUE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v6), sizeof(v6)));

  sockaddr unix_addr{};
  unix_addr.sa_family = AF_UNIX;
  EXPECT_FALSE(IsPublicAddress(&unix_addr, sizeof(unix_addr)));
  EXPECT_FALSE(IsPublicAddress(nullptr, 0));
}

TEST(AddressGuard, SpotsObviouslyPrivateHosts) {
  for (const char* host : {"localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "10.0.0.5",
                           "[::1]", "[fd00::1]", "[::ffff:192.168.0.1]"}) {
    EXPECT_TRUE(IsObviouslyPrivateHost(host)) << host;
  }
  for (const char* host :
       {"example.com", "8.8.8.8", "[2606:4700::1]", "localhost.example.com", "notlocalhost"}) {
    EXPECT_FALSE(IsObviouslyPrivateHost(host)) << host;
  }
}

TEST(ParseHttpUrl, AcceptsHttpAndHttps) {
  auto a = ParseHttpUrl("https://hooks.example.com/kino?x=1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->scheme, "https");
  EXPECT_EQ(a->host, "hooks.example.com");
  auto b = ParseHttpUrl("HTTP://[::1]:8080/h");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->scheme, "http");
  EXPECT_EQ(b->host, "[::1]");
}

TEST(ParseHttpUrl, RefusesOtherSchemesAndMalformedUrls) {
  for (const char* url :
       {"", "example.com/hook", "ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)",
        "http://", "http:// example.com/", "http://exa mple.com/", "https://example.com/\n"}) {
    auto r = ParseHttpUrl(url, 10002);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_EQ(r.status().api_code(), 10002) << url;
  }
  EXPECT_FALSE(ParseHttpUrl("https://example.com/" + std::string(2100, 'a')).ok());
}

}  // namespace
}  // namespace kino::http

// The private-address guard for requests Kino makes on a user's behalf (webhooks, upload by
// link): such a request must not reach the loopback, the local network, link-local cloud
// metadata services or other special-purpose ranges, or a user could use Kino to probe them.
//
// Check the address actually being connected to (after DNS resolution), not the host name, so
// that a name resolving to a private address (or re-resolving to one later) is caught too.
//
// Thread-safety: pure functions.
#ifndef KINO_HTTP_ADDRESS_GUARD_H_
#define KINO_HTTP_ADDRESS_GUARD_H_

#include <string_view>

#include <sys/socket.h>

namespace kino::http {

// True for a globally routable unicast address. False for IPv4 0/8, 10/8, 100.64/10, 127/8,
// 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.168/16, 198.18/15, 198.51.100/24,
// 203.0.113/24, 224/4 and 240/4 (RFC 6890 special-purpose ranges, multicast, broadcast); for
// IPv6 ::, ::1, fc00::/7, fe80::/10, fec0::/10, ff00::/8, 2001:db8::/32, 100::/64; and for
// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible, NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
// addresses whose embedded IPv4 address is not public. Any other family is not public.
bool IsPublicAddress(const struct sockaddr* addr, socklen_t len);

// The same check for a numeric address ("10.0.0.1", "::1", without brackets). False when `ip`
// is not a numeric address.
bool IsPublicIp(std::string_view ip);

// True when `host` (a URL's host: a name, an IPv4 literal or a bracketed IPv6 literal) is
// obviously local without a DNS lookup: "localhost", "*.localhost", or a literal address that
// IsPublicIp() refuses. Used to refuse such URLs early, at configuration time; the connect-time
// check with IsPublicAddress() remains the one that counts.
bool IsObviouslyPrivateHost(std::string_view host);

}  // namespace kino::http

#endif  // KINO_HTTP_ADDRESS_GUARD_H_

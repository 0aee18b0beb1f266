// API tokens for the management API (`Authorization: Bearer <token>`).
//
// A token is 40 characters from the URL-safe base64 alphabet (RFC 4648 section 5), 240 bits from
// the kernel CSPRNG. Kino stores only the hex SHA-256 of a token, so a leaked database does not
// leak credentials; the plain token is shown to its owner once, when it is made. A fast hash is
// enough here because the token has full entropy: there is nothing to guess a dictionary from.
//
// Thread-safety: free functions without shared state.
#ifndef KINO_AUTH_API_TOKEN_H_
#define KINO_AUTH_API_TOKEN_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace kino::auth {

inline constexpr size_t kApiTokenLength = 40;

// A new random token: kApiTokenLength characters of [A-Za-z0-9_-].
std::string NewApiToken();

// The 64-character lowercase hex SHA-256 of `token`: the form Kino stores.
std::string HashApiToken(std::string_view token);

// True when `token` hashes to `stored_hex_hash`. The comparison of the hashes takes time that does
// not depend on where they differ. `stored_hex_hash` may be upper or lower case.
bool TokenMatchesHash(std::string_view token, std::string_view stored_hex_hash);

}  // namespace kino::auth

#endif  // KINO_AUTH_API_TOKEN_H_

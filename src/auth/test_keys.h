// Test-only helpers: signing keys made once per test binary (RSA key generation is slow), and
// OpenSSL keys built by hand from a JWK, the way a user's own signing code would.
#ifndef KINO_AUTH_TEST_KEYS_H_
#define KINO_AUTH_TEST_KEYS_H_

#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "auth/signing_key.h"

namespace kino::auth::testing {

struct TestKey {
  GeneratedSigningKey generated;
  std::unique_ptr<PrivateKey> private_key;
  std::shared_ptr<const PublicKey> public_key;
};

// Key number `index` (0..3), generated on first use and kept for the life of the process.
const TestKey& SharedTestKey(int index);

struct EvpPkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

// Rebuilds an RSA private key from the standard-base64 private JWK that GenerateSigningKey
// returns, using only the members listed in `members` (e.g. "n,e,d" or "n,e,d,p,q,dp,dq,qi").
// Null on any failure (reported through gtest).
EvpPkeyPtr KeyFromJwk(std::string_view jwk_base64, std::string_view members);

// RSASSA-PKCS1-v1_5 SHA-256 with a raw EVP_PKEY; empty on failure.
std::string SignWith(EVP_PKEY* pkey, std::string_view data);

// A JWS compact token with the given header and payload JSON text, signed by `pkey`. Assembled
// by hand, byte for byte, independently of Kino's SignToken.
std::string HandMadeToken(EVP_PKEY* pkey, std::string_view header_json,
                          std::string_view payload_json);

}  // namespace kino::auth::testing

#endif  // KINO_AUTH_TEST_KEYS_H_

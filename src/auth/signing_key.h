// RSA signing keys for signed URLs (Cloudflare Stream's `POST .../stream/keys`).
//
// Kino makes an RSA-2048 key pair, hands the private half to the user once (as a base64 PKCS#1
// PEM and as a base64 private JWK, RFC 7517/7518 section 6.3) and keeps only the public half as a
// SubjectPublicKeyInfo PEM. Users sign tokens themselves, or send the private PEM back to the
// token endpoint, which signs one token with it and forgets it.
//
// Accepted keys are RSA (not RSA-PSS) of 2048 to 4096 bits: smaller keys are too weak, larger ones
// would let a caller of the token endpoint spend our CPU.
//
// Thread-safety: PublicKey and PrivateKey are immutable after construction; their const methods
// may run on any number of threads at once (each call uses its own OpenSSL context).
#ifndef KINO_AUTH_SIGNING_KEY_H_
#define KINO_AUTH_SIGNING_KEY_H_

#include <memory>
#include <string>
#include <string_view>

#include <openssl/types.h>

#include "common/status.h"

namespace kino::auth {

inline constexpr int kSigningKeyBits = 2048;
inline constexpr int kMinKeyBits = 2048;
inline constexpr int kMaxKeyBits = 4096;
// PEM text longer than this is refused before OpenSSL sees it (a 4096-bit PKCS#8 PEM is ~3.3 KiB).
inline constexpr size_t kMaxPemBytes = 16 * 1024;

struct GeneratedSigningKey {
  std::string id;          // the id it was made for (32 hex); also the JWK's kid
  std::string pem_base64;  // standard base64 of the PKCS#1 PEM ("BEGIN RSA PRIVATE KEY")
  // Standard base64 of {"use":"sig","kty":"RSA","kid":id,"alg":"RS256","n","e","d","p","q","dp",
  // "dq","qi"}: base64url (no padding) big-endian integers without leading zero bytes (RFC 7518
  // section 6.3 and 2 "Base64urlUInt").
  std::string jwk_base64;
  std::string public_pem;  // SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"): all Kino stores
};

// Makes a fresh RSA-2048 key for signing key `id`. InvalidArgument unless `id` is 32 lowercase
// hex characters; Internal if OpenSSL fails. Takes tens to hundreds of milliseconds.
Result<GeneratedSigningKey> GenerateSigningKey(std::string_view id);

// The public half of a signing key, as used to verify tokens. Share it via shared_ptr.
class PublicKey {
 public:
  // Parses a SubjectPublicKeyInfo PEM. InvalidArgument when it is not one, is not RSA, or has a
  // size outside [kMinKeyBits, kMaxKeyBits].
  static Result<std::shared_ptr<const PublicKey>> FromPem(std::string_view spki_pem);
  ~PublicKey();
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;

  // True when `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `data` (RFC 8017
  // section 8.2.2). False for a wrong length or any mismatch.
  bool VerifyRs256(std::string_view data, std::string_view signature) const;

  int bits() const;
  const EVP_PKEY* pkey() const { return pkey_; }

 private:
  explicit PublicKey(EVP_PKEY* pkey) : pkey_(pkey) {}
  EVP_PKEY* pkey_;  // owned
};

// A private signing key, held only while one token is signed.
class PrivateKey {
 public:
  // Parses a PKCS#1 ("BEGIN RSA PRIVATE KEY") or PKCS#8 ("BEGIN PRIVATE KEY") PEM. Encrypted
  // PEMs are refused (no passphrase prompt ever happens). InvalidArgument when the text is not
  // such a key, is not RSA, or has a size outside [kMinKeyBits, kMaxKeyBits].
  static Result<std::unique_ptr<PrivateKey>> FromPem(std::string_view pem);
  // The same, from the standard-base64 PEM that the token endpoint receives. ASCII whitespace
  // (line wrapping from `base64`) is ignored; padding may be missing.
  static Result<std::unique_ptr<PrivateKey>> FromBase64Pem(std::string_view b64);
  ~PrivateKey();
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;

  // The SubjectPublicKeyInfo PEM of the public half.
  Result<std::string> PublicPem() const;
  // True when `key` is this key's public half. The token endpoint checks this against the stored
  // key for the given id before signing, so a caller cannot mint tokens under someone else's kid.
  bool Matches(const PublicKey& key) const;
  // RSASSA-PKCS1-v1_5 SHA-256 signature of `data` (RFC 8017 section 8.2.1).
  Result<std::string> SignRs256(std::string_view data) const;

  int bits() const;

 private:
  explicit PrivateKey(EVP_PKEY* pkey) : pkey_(pkey) {}
  EVP_PKEY* pkey_;  // owned
};

}  // namespace kino::auth

#endif  // KINO_AUTH_SIGNING_KEY_H_

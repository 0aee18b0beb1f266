// Hashes, MACs and comparisons (OpenSSL 3 underneath).
#ifndef KINO_COMMON_CRYPTO_H_
#define KINO_COMMON_CRYPTO_H_

#include <string>
#include <string_view>

namespace kino {

// Raw 32-byte digests.
std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);

// Incremental SHA-256 for data that arrives in pieces (uploads, download files).
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  // Returns the raw 32-byte digest; the hasher must not be used afterwards.
  std::string Finish();

 private:
  void* ctx_;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay out of this header.
};

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace kino

#endif  // KINO_COMMON_CRYPTO_H_

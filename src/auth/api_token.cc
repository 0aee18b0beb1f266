#include "auth/api_token.h"

#include <cstdint>

#include "common/crypto.h"
#include "common/random.h"
#include "common/strings.h"

namespace kino::auth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string NewApiToken() {
  // 64 symbols divide 256 evenly, so taking the low six bits of each byte keeps them uniform.
  uint8_t bytes[kApiTokenLength];
  RandomBytes(bytes, sizeof(bytes));
  std::string token(kApiTokenLength, '\0');
  for (size_t i = 0; i < kApiTokenLength; ++i) {
    token[i] = kAlphabet[bytes[i] & 63];
  }
  return token;
}

std::string HashApiToken(std::string_view token) {
  return HexEncode(Sha256(token));
}

bool TokenMatchesHash(std::string_view token, std::string_view stored_hex_hash) {
  // Both sides are 64 hex digits when well formed; lower-casing the stored side is not secret.
  return ConstantTimeEquals(HashApiToken(token), AsciiLower(stored_hex_hash));
}

}  // namespace kino::auth

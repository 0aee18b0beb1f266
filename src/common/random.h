// Identifiers and secrets from the kernel's CSPRNG (getrandom(2)).
#ifndef KINO_COMMON_RANDOM_H_
#define KINO_COMMON_RANDOM_H_

#include <cstddef>
#include <string>

namespace kino {

// Fills `out` with `n` cryptographically secure random bytes. Aborts the process if the kernel
// cannot supply them, since every caller needs unpredictable values to stay safe.
void RandomBytes(void* out, size_t n);

// 2*n_bytes lowercase hex characters from RandomBytes. RandomHex(16) makes the 32-character ids
// Kino uses for accounts, videos, signing keys and jobs.
std::string RandomHex(size_t n_bytes);

// A new 32-character id.
inline std::string NewId() {
  return RandomHex(16);
}

// True when `s` is exactly 32 lowercase hex characters.
bool IsId(std::string_view s);

}  // namespace kino

#endif  // KINO_COMMON_RANDOM_H_

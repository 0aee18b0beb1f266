#include "common/random.h"

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include <sys/random.h>

#include "common/strings.h"

namespace kino {

void RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::abort();
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
}

std::string RandomHex(size_t n_bytes) {
  std::string bytes(n_bytes, '\0');
  RandomBytes(bytes.data(), n_bytes);
  return HexEncode(bytes);
}

bool IsId(std::string_view s) {
  if (s.size() != 32) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace kino

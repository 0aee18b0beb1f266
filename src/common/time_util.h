// Wall-clock helpers and RFC 3339 formatting. Times are microseconds since the Unix epoch (UTC)
// held in int64_t, which covers every date Kino meets.
#ifndef KINO_COMMON_TIME_UTIL_H_
#define KINO_COMMON_TIME_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kino {

// Microseconds since the epoch, from the system clock.
int64_t NowMicros();

// A clock that tests can replace. The default reads the system clock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
  // The process-wide system clock.
  static const Clock& System();
};

// "2026-12-03T21:30:00.123456Z" with `fraction_digits` (0, 3 or 6) digits after the second.
std::string FormatRfc3339(int64_t micros, int fraction_digits = 6);

// Parses RFC 3339 ("2026-12-03T21:30:00Z", "...00.5+01:00"); nullopt when malformed.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// "Thu, 03 Dec 2026 21:30:00 GMT" (RFC 9110 IMF-fixdate) and its parser (IMF-fixdate only).
std::string FormatHttpDate(int64_t micros);
std::optional<int64_t> ParseHttpDate(std::string_view text);

}  // namespace kino

#endif  // KINO_COMMON_TIME_UTIL_H_

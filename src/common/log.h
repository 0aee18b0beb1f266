// Structured logging: one JSON object per line on stderr.
//
//   {"ts":"2026-12-03T21:30:00.123Z","level":"info","event":"server_started","msg":"...",
//    "listen":"127.0.0.1:8080"}
//
// `event` is a stable snake_case name that operators can alert on; `msg` is for humans. Extra
// fields carry the ids that apply (request_id, video_uid, job_id). Levels: error (an operator
// must act), warn (degraded but served), info (lifecycle), debug (per request; off by default).
//
// Never pass a secret (API token, JWT, signing key, webhook secret, signed URL) to a log call;
// run anything that might contain one through RedactSecrets() or RedactUrl() first.
//
// Thread-safety: every function may be called from any thread; each line is written whole.
#ifndef KINO_COMMON_LOG_H_
#define KINO_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace kino::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Field = std::pair<std::string_view, std::string_view>;

// Lines below `level` are dropped. Default kInfo; KINO_LOG_LEVEL=debug|info|warn|error sets it.
void SetLevel(Level level);
bool Enabled(Level level);

// Sends lines to `sink` instead of stderr (tests); nullptr restores stderr. Not thread-safe
// against concurrent logging: set it before starting threads.
using Sink = void (*)(std::string_view line);
void SetSink(Sink sink);

void Write(Level level, std::string_view event, std::string_view msg,
           std::initializer_list<Field> fields = {});

inline void Debug(std::string_view event, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kDebug)) {
    Write(Level::kDebug, event, msg, fields);
  }
}
inline void Info(std::string_view event, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, msg, fields);
}
inline void Warn(std::string_view event, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, event, msg, fields);
}
inline void Error(std::string_view event, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, msg, fields);
}

// Formats one line without writing it (exposed for tests).
std::string FormatLine(Level level, std::string_view event, std::string_view msg,
                       std::initializer_list<Field> fields);

// Replaces anything that looks like a secret with "[redacted]": bearer credentials, JWS compact
// tokens (three base64url parts), PEM blocks, and values of query parameters named token,
// signature, secret, key or sig.
std::string RedactSecrets(std::string_view text);

// Keeps scheme, host and path of a URL; drops userinfo, query and fragment. A path segment that
// looks like a JWT is replaced too, since Kino's signed delivery URLs carry the token there.
std::string RedactUrl(std::string_view url);

}  // namespace kino::log

#endif  // KINO_COMMON_LOG_H_

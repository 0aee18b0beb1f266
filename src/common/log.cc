#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <regex>

#include <nlohmann/json.hpp>

#include "common/time_util.h"

namespace kino::log {
namespace {

Level InitialLevel() {
  const char* env = std::getenv("KINO_LOG_LEVEL");  // NOLINT(concurrency-mt-unsafe): read once
  if (env == nullptr) {
    return Level::kInfo;
  }
  std::string_view v(env);
  if (v == "debug") {
    return Level::kDebug;
  }
  if (v == "warn") {
    return Level::kWarn;
  }
  if (v == "error") {
    return Level::kError;
  }
  return Level::kInfo;
}

std::atomic<int> g_level{static_cast<int>(InitialLevel())};
std::atomic<Sink> g_sink{nullptr};
std::mutex g_write_mu;

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

// A path segment that is, or was meant to be, a signed token. Broken tokens count too (one part
// missing, padding added, cut short): they still carry most of a secret. File names such as
// "video.m3u8" and 32-hex uids are far shorter or have no dot.
bool LooksLikeToken(std::string_view s) {
  if (s.size() > 64) {
    return true;
  }
  bool dot = false;
  for (char c : s) {
    bool base64url = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '=';
    if (c == '.') {
      dot = true;
    } else if (!base64url) {
      return false;
    }
  }
  return dot && s.size() >= 24;
}

}  // namespace

void SetLevel(Level level) {
  g_level.store(static_cast<int>(level));
}
bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load();
}
void SetSink(Sink sink) {
  g_sink.store(sink);
}

std::string FormatLine(Level level, std::string_view event, std::string_view msg,
                       std::initializer_list<Field> fields) {
  nlohmann::ordered_json line;
  line["ts"] = FormatRfc3339(NowMicros(), 3);
  line["level"] = LevelName(level);
  line["event"] = event;
  line["msg"] = msg;
  for (const auto& [key, value] : fields) {
    line[std::string(key)] = value;
  }
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Write(Level level, std::string_view event, std::string_view msg,
           std::initializer_list<Field> fields) {
  if (!Enabled(level)) {
    return;
  }
  std::string line = FormatLine(level, event, msg, fields);
  Sink sink = g_sink.load();
  if (sink != nullptr) {
    sink(line);
    return;
  }
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_write_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string RedactSecrets(std::string_view text) {
  static const std::regex kBearer(R"((Bearer|bearer)\s+[^\s"',]+)");
  static const std::regex kJws(R"([A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})");
  static const std::regex kPem(R"(-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----)");
  static const std::regex kQuery(R"(([?&](token|signature|secret|key|sig)=)[^&\s"]*)",
                                 std::regex::icase);
  std::string out(text);
  out = std::regex_replace(out, kPem, "[redacted]");
  out = std::regex_replace(out, kBearer, "$1 [redacted]");
  out = std::regex_replace(out, kJws, "[redacted]");
  out = std::regex_replace(out, kQuery, "$1[redacted]");
  return out;
}

std::string RedactUrl(std::string_view url) {
  std::string_view rest = url;
  std::string out;
  size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    out.append(rest.substr(0, scheme_end + 3));
    rest.remove_prefix(scheme_end + 3);
    size_t path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      authority.remove_prefix(at + 1);
    }
    out.append(authority);
    rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  }
  rest = rest.substr(0, rest.find_first_of("?#"));
  size_t pos = 0;
  while (pos <= rest.size() && !rest.empty()) {
    size_t next = rest.find('/', pos);
    std::string_view segment =
        rest.substr(pos, next == std::string_view::npos ? rest.npos : next - pos);
    out.append(LooksLikeToken(segment) ? "[redacted]" : std::string(segment));
    if (next == std::string_view::npos) {
      break;
    }
    out.push_back('/');
    pos = next + 1;
  }
  return out;
}

}  // namespace kino::log

#include "media/libav_log.h"

#include <cstdarg>
#include <string>

extern "C" {
#include <libavutil/log.h>
}

#include "common/log.h"

namespace kino::media {
namespace {

constexpr int kLineBytes = 1024;

// Errors stay at warn: a failing call is reported, and logged once, by the caller that gets
// its AVERROR.
log::Level LevelFor(int av_level) {
  return av_level <= AV_LOG_WARNING ? log::Level::kWarn : log::Level::kDebug;
}

void Callback(void* avcl, int av_level, const char* fmt, va_list args) {
  if (av_level > av_log_get_level()) {
    return;
  }
  log::Level level = LevelFor(av_level);
  if (!log::Enabled(level)) {
    return;
  }
  char line[kLineBytes];
  int print_prefix = 1;
  av_log_format_line2(avcl, av_level, fmt, args, line, sizeof(line), &print_prefix);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  if (text.empty()) {
    return;
  }
  log::Write(level, "libav_message", text);
}

}  // namespace

void RouteLibavLogs() {
  av_log_set_callback(Callback);
}

}  // namespace kino::media

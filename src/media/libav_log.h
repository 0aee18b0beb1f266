// Routes FFmpeg's own log messages into Kino's JSON log, so that stderr stays one JSON object
// per line. Warnings and errors of the libraries become `libav_message` lines at warn level;
// their informational chatter (x264's settings and statistics) is kept only at debug level.
//
// Thread-safety: call once at start-up, before any media work; the callback itself may run on
// any thread.
#ifndef KINO_MEDIA_LIBAV_LOG_H_
#define KINO_MEDIA_LIBAV_LOG_H_

namespace kino::media {

void RouteLibavLogs();

}  // namespace kino::media

#endif  // KINO_MEDIA_LIBAV_LOG_H_

// Probing uploaded media: what a file is, whether Kino can play it, and whether the copy fast
// path (stream copy of browser-safe H.264/AAC) applies.
//
// Uploaded files are untrusted. Every function here reads the file through libavformat and
// decodes at most a few packets; none of them trusts a header alone, so random bytes or a
// truncated file come out as kMalformed rather than as a video.
//
// Thread-safety: the functions are reentrant; call them from any thread.
#ifndef KINO_MEDIA_PROBE_H_
#define KINO_MEDIA_PROBE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace kino::media {

enum class MediaError {
  kNone,       // a video Kino can process
  kNonVideo,   // readable media without a video track: audio only, or a still image
  kMalformed,  // not media, unreadable, truncated, or nothing in it decodes
  kTooShort,   // a video shorter than kMinVideoSeconds
};

// Videos shorter than this are refused as kTooShort.
inline constexpr double kMinVideoSeconds = 0.1;

// "none", "non_video", "malformed", "too_short".
std::string_view MediaErrorName(MediaError error);

struct ProbeInfo {
  std::string container;        // libavformat's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  bool recognised = false;      // libavformat knew the container with confidence
  bool text = false;            // not recognised, and the first bytes are text (a document)
  double duration_s = -1;       // container duration, else the longest stream; -1 if unknown
  int width = -1, height = -1;  // display size: sample aspect ratio and rotation applied
  int coded_width = -1, coded_height = -1;  // size of the decoded pictures
  int rotation = 0;                         // degrees clockwise to apply: 0, 90, 180 or 270
  double fps = 0;                           // average frame rate
  std::string video_codec, audio_codec;     // libavcodec names: "h264", "aac", "opus"
  std::string pix_fmt;                      // "yuv420p", "yuv420p10le", ...
  int bit_depth = 8;
  int audio_channels = 0;
  int audio_sample_rate = 0;
  bool has_video = false, has_audio = false;
  int64_t bit_rate = 0;  // container bit rate in bit/s, 0 if unknown
  // H.264 that browsers play as is, so the top rendition can be stream-copied: 8-bit 4:2:0,
  // at most 1080 lines (short side) and 1920 (long side), at most 60 fps, profile Baseline,
  // Main or High, progressive, square pixels and no rotation (a copied stream would carry the
  // rotation only as a display matrix, which Media Source players ignore).
  bool browser_safe_h264 = false;
  bool aac_stereo = false;  // audio is AAC with 1 or 2 channels, so it can be copied
  int video_stream_index = -1;
  int audio_stream_index = -1;
};

struct ProbeResult {
  MediaError error = MediaError::kNone;
  std::string error_text;  // for humans; empty when error is kNone
  ProbeInfo info;
};

// Opens `path`, reads its headers and decodes the first video frame (or, without video, the
// first audio frame). kMalformed when the file cannot be opened or parsed, when libavformat is
// unsure of its format, or when nothing decodes; kNonVideo for audio-only files and still images
// (image demuxers, attached cover pictures); kTooShort for videos under kMinVideoSeconds.
// `info` is filled as far as the file could be read, also on error.
ProbeResult ProbeFile(const std::string& path);

// The cheap check for the upload path: looks only at the first bytes of an upload (64 KiB is
// plenty; fewer is fine) and says whether libavformat recognises a media container in them.
// kMalformed when it does not; kNone otherwise, with `container` set. It cannot tell video from
// audio or find truncation: ProbeFile does that once the upload is complete.
struct QuickCheckResult {
  MediaError error = MediaError::kNone;
  std::string container;
};
QuickCheckResult QuickCheckHeader(std::string_view head_bytes);

}  // namespace kino::media

#endif  // KINO_MEDIA_PROBE_H_

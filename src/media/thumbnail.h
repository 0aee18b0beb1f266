// Thumbnails of a video: a JPEG still at a given time and a short animated GIF, sized and fitted
// the way Cloudflare Stream's thumbnail URLs describe (time, width, height, fit; duration and fps
// for the GIF).
//
// Input: pass the original upload (the path ProcessVideo was given). It has the full resolution
// and every frame, and these functions apply its rotation and pixel aspect ratio themselves, so
// the result is the same picture the renditions show. A rendition would do as well, but it is
// split into segment files that these functions do not read.
//
// Both functions read untrusted media: a file that does not probe as a video is kInvalidArgument
// whose message starts with MediaErrorName ("malformed: ..."), like ProcessVideo's refusals.
//
// Thread-safety: reentrant, no shared state; each call decodes single-threaded.
#ifndef KINO_MEDIA_THUMBNAIL_H_
#define KINO_MEDIA_THUMBNAIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kino::media {

// How the picture fills the requested width x height box.
enum class ThumbnailFit {
  kCrop,   // fill the box, keeping the aspect ratio; what overflows is cut off, centred (default)
  kClip,   // fit inside the box, keeping the aspect ratio; no padding, so one side may be shorter
  kScale,  // stretch to exactly the box, ignoring the aspect ratio
  kFill,   // fit inside the box, keeping the aspect ratio, and pad to the box with black
};

// "crop", "clip", "scale", "fill"; nullopt for anything else.
std::optional<ThumbnailFit> ParseThumbnailFit(std::string_view name);

// Limits. Larger requests are kInvalidArgument; GIF duration and rate are capped instead.
inline constexpr int kMaxThumbnailSide = 4096;  // JPEG width or height
inline constexpr int kMaxGifSide = 480;         // GIF width or height
inline constexpr double kMaxGifSeconds = 15;
inline constexpr double kMaxGifFps = 15;
inline constexpr int kDefaultJpegWidth = 640;  // when neither width nor height is given
inline constexpr int kDefaultGifWidth = 320;

struct ThumbnailRequest {
  // Seconds from the start of the video. Past the end, the last frame is used (no error); the
  // GIF then holds the last frames available.
  double time_s = 0;
  // The box. 0 derives that side from the display aspect ratio (rotation and pixel aspect
  // applied); both 0 means kDefaultJpegWidth (JPEG) or kDefaultGifWidth (GIF) wide. With one
  // side derived the box has the video's aspect, so every fit gives the same picture.
  int width = 0;
  int height = 0;
  ThumbnailFit fit = ThumbnailFit::kCrop;
  // GIF only: how long and how many frames per second, capped at kMaxGifSeconds and
  // kMaxGifFps. Stream's defaults.
  double duration_s = 5;
  double fps = 8;
};

// A baseline JPEG (JFIF, full-range 4:2:0) of the frame shown at request.time_s: the decoder
// seeks to the nearest keyframe at or before that time and decodes forward to it.
// Errors: kInvalidArgument for a refused input or a bad request (negative time, a side below 0
// or above kMaxThumbnailSide); kInternal naming the failing FFmpeg call otherwise.
Result<std::string> MakeThumbnailJpeg(const std::string& input_path,
                                      const ThumbnailRequest& request);

// An animated GIF (looping forever) of request.duration_s from request.time_s at request.fps,
// with one 256-colour palette made for the whole clip. Memory grows with the clip: at the caps
// (480 x 480, 15 s, 15 fps) about 200 MB while the palette is built.
// Errors: as MakeThumbnailJpeg, with kMaxGifSide as the side limit, and kInvalidArgument for a
// duration or rate that is not positive.
Result<std::string> MakeThumbnailGif(const std::string& input_path,
                                     const ThumbnailRequest& request);

}  // namespace kino::media

#endif  // KINO_MEDIA_THUMBNAIL_H_

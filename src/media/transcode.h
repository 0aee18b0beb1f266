// Turning an uploaded video into Kino's streaming package: an H.264/AAC rendition ladder in
// CMAF fragmented MP4, with HLS (RFC 8216) and DASH (ISO/IEC 23009-1) manifests over the same
// segment files.
//
// Layout of `out_dir` after ProcessVideo:
//   video.m3u8          HLS master playlist (relative URIs, highest rendition first)
//   video.mpd           DASH static MPD
//   renditions.json     the PackageResult, for LoadPackage (downloads read it)
//   v1080/ v720/ ...    one directory per video rendition, named "v<height>"
//   audio/              the audio rendition, when the source has audio
// and in each rendition directory: init.mp4, seg_00001.m4s, ..., index.m3u8.
//
// Thread-safety: ProcessVideo and LoadPackage are reentrant; run many at once on different
// out_dirs. The observer is called on the calling thread.
#ifndef KINO_MEDIA_TRANSCODE_H_
#define KINO_MEDIA_TRANSCODE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/probe.h"

namespace kino::media {

struct LadderOptions {
  // Rendition heights (the short side for portrait video). No rendition is taller than the
  // source: rungs above it are dropped and, when the source is between rungs, its own height
  // (rounded down to even) becomes the top rung.
  std::vector<int> heights = {1080, 720, 480, 360, 240};
  std::string preset = "veryfast";  // x264 preset
  // x264 constant rate factor, capped per rung by a VBV maximum bitrate (bufsize = 2 x maxrate):
  //   height  1080   720   480   360   240   (others: interpolated by pixel count)
  //   kbit/s  6000  3500  1800  1000   500
  int crf = 23;
  int audio_bitrate = 128000;  // AAC-LC, stereo (mono stays mono)
  double segment_seconds = 6;
  int max_fps = 60;  // frames above this rate are dropped
  // Stream-copy browser-safe H.264 (ProbeInfo::browser_safe_h264) as the top rung, and AAC in
  // one or two channels as the audio rendition.
  bool allow_copy = true;
  int threads = 0;  // x264 threads per rung, 0 = x264 decides
};

enum class RenditionKind { kVideo, kAudio };

struct RenditionInfo {
  std::string name;  // directory name: "v1080", "v720", ..., "audio"
  RenditionKind kind = RenditionKind::kVideo;
  int width = 0, height = 0;
  double fps = 0;
  int64_t bandwidth = 0;                   // bit/s: the largest segment's rate (RFC 8216 BANDWIDTH)
  int64_t average_bandwidth = 0;           // bit/s: all segments' bytes over the duration
  std::string codecs;                      // RFC 6381, e.g. "avc1.64001f", "mp4a.40.2"
  bool copied = false;                     // stream-copied from the source
  std::string init_file;                   // "init.mp4"
  std::vector<std::string> segment_files;  // "seg_00001.m4s", ...
  std::vector<double> segment_durations;   // seconds
  double duration_s = 0;
  // The same timeline in the track's own units (ISO/IEC 14496-12 mdhd timescale), for DASH's
  // SegmentTimeline: segment i starts at start_ticks + sum(segment_ticks[0..i)).
  int64_t timescale = 0;
  int64_t start_ticks = 0;
  std::vector<int64_t> segment_ticks;
};

struct PackageResult {
  std::vector<RenditionInfo> renditions;  // video highest first, then audio
  double duration_s = 0;
};

class ProcessObserver {
 public:
  virtual ~ProcessObserver() = default;
  // 0..1 from the timestamps processed over the duration; at most about twice a second.
  virtual void OnProgress(double fraction) = 0;
  // Called each time more renditions are complete; the manifests on disk already list them.
  virtual void OnRenditionsReady(const PackageResult& ready) = 0;
  // Polled between packets; true stops processing with a kCancelled Status.
  virtual bool Cancelled() = 0;
};

// Probes `input_path`, then writes the package into `out_dir` (created if missing). One decode
// feeds every encoded rung. With the copy fast path, the copied top rung and audio are
// packaged first (demux and mux only), published, and the lower rungs follow in a second pass.
// `observer` may be null.
//
// Which rungs are encoded and which copied is PlanLadder's decision, with one more condition
// for the copy: the source container must be MP4/MOV (whose H.264 and AAC carry the decoder
// configuration and complete timestamps); other containers are re-encoded.
//
// Timeline: output presentation times are the source's minus the container start time, so the
// package starts at 0 and every rendition shares one timeline. Keyframes are forced at the
// segment boundaries (every options.segment_seconds; with the copy path, at the copied rung's
// cut points), and every rendition is cut there, so segments align across video renditions.
//
// Errors: kInvalidArgument when the probe refuses the input; the message then starts with
// MediaErrorName and a colon ("non_video: audio only"), and RefusalOf() gives the MediaError.
// kCancelled when the observer cancelled, kInternal naming the failing FFmpeg call otherwise,
// also when the source stops decoding part-way. On error out_dir may hold partial output.
Result<PackageResult> ProcessVideo(const std::string& input_path, const std::string& out_dir,
                                   const LadderOptions& options, ProcessObserver* observer);

// The MediaError of a Status returned by ProcessVideo: the refusal reason for its
// kInvalidArgument, kNone for any other Status (OK, cancelled, internal).
MediaError RefusalOf(const Status& status);

// Reads out_dir/renditions.json. kNotFound when missing, kDataLoss when unreadable.
Result<PackageResult> LoadPackage(const std::string& out_dir);

}  // namespace kino::media

#endif  // KINO_MEDIA_TRANSCODE_H_

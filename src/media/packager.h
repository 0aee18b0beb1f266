// CMAF packaging of one rendition (ISO/IEC 23000-19 tracks in ISO/IEC 14496-12 fragmented MP4):
// init.mp4 (ftyp + moov with no samples) and seg_00001.m4s, ... (one moof + mdat each), written
// by libavformat's mp4 muxer into a custom AVIOContext that routes the bytes to those files.
//
// The caller decides where segments start (a sync sample at or after each boundary) so that
// every rendition of a video is cut at the same presentation times; the writer records each
// segment's start, duration and size.
//
// Thread-safety: a RenditionWriter is used by one thread at a time.
#ifndef KINO_MEDIA_PACKAGER_H_
#define KINO_MEDIA_PACKAGER_H_

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/av_util.h"
#include "media/transcode.h"

namespace kino::media {

class RenditionWriter {
 public:
  // Creates `dir` and writes dir/init.mp4 for a single track described by `codecpar`, whose
  // extradata must already hold the decoder configuration (avcC or Annex B SPS/PPS for H.264,
  // AudioSpecificConfig for AAC). Packets handed to Write are timed in `packet_time_base`; the
  // track uses `timescale` ticks per second.
  static Result<std::unique_ptr<RenditionWriter>> Open(const std::string& dir,
                                                       const AVCodecParameters* codecpar,
                                                       AVRational packet_time_base, int timescale);
  ~RenditionWriter();
  RenditionWriter(const RenditionWriter&) = delete;
  RenditionWriter& operator=(const RenditionWriter&) = delete;

  // Appends `packet` (not consumed; its stream_index is ignored). When `cut` is true the packet
  // starts a new segment and must be a sync sample; the first packet always starts segment 1.
  // Presentation timestamps must not be negative once in the track timescale; decode
  // timestamps may be (B-frames), the track then uses negative composition offsets.
  Status Write(const AVPacket& packet, bool cut);

  // Writes the last segment. Call once, after the last Write.
  Status Finish();

  // The files and timeline (init_file, segment_files, segment_durations, duration_s, timescale,
  // start_ticks, segment_ticks, bandwidth, average_bandwidth). Complete after Finish; the
  // caller fills name, kind, size, codecs and copied.
  const RenditionInfo& info() const { return info_; }
  // The track timescale, valid after Open.
  int64_t timescale() const { return info_.timescale; }

 private:
  RenditionWriter() = default;
  // FFmpeg 5.1 passes the bytes as non-const (const from 6.1 on).
  static int OnWrite(void* opaque, uint8_t* data, int size);
  Status Emit(AVPacket* packet);
  Status CloseSegment();
  Status WriteBytesTo(const std::string& path);

  std::string dir_;
  AVRational packet_time_base_{1, 1};
  AvIoContextPtr io_;
  AvOutputPtr muxer_;
  std::string pending_;        // muxer output not yet in a file
  AvPacketPtr held_;           // the last packet, held until the next one gives its duration
  int64_t last_duration_ = 0;  // duration of the previous packet, for the very last one
  bool segment_open_ = false;
  std::vector<int64_t> starts_;  // presentation start of each segment, track ticks
  std::vector<int64_t> sizes_;   // bytes of each segment
  int64_t end_ticks_ = 0;        // latest pts + duration seen
  bool finished_ = false;
  RenditionInfo info_;
};

// Where segments start, on the output timeline in seconds: every `period` seconds from
// `origin`, or an explicit ascending list (the cut times of another rendition, so a second
// pass cuts on the same frames). Take(t) answers "does a segment start at t?" for the sync
// samples of one rendition in presentation order: true the first time t reaches the next
// boundary, which then moves past t.
class SegmentBoundaries {
 public:
  static SegmentBoundaries Periodic(double origin, double period);
  static SegmentBoundaries Explicit(std::vector<double> times);
  bool Take(double t);

 private:
  double Next() const;

  bool explicit_ = false;
  double origin_ = 0, period_ = 1;
  int64_t index_ = 0;
  std::vector<double> times_;
};

// RFC 6381 codecs parameter for H.264 ("avc1.64001f", from the SPS in avcC or Annex B
// extradata) and AAC ("mp4a.40.2"; the object type from the AudioSpecificConfig). Empty for
// other codecs or unreadable extradata.
std::string Rfc6381Codecs(const AVCodecParameters* codecpar);

}  // namespace kino::media

#endif  // KINO_MEDIA_PACKAGER_H_

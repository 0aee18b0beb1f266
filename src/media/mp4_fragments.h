// Indexing a CMAF rendition at box level: the track description from the init segment's moov and
// every sample's size, duration, composition offset, sync flag and byte position from the
// fragments' moof boxes, without reading any media data. The download flattener builds a
// progressive moov from this and copies the sample bytes once.
//
// Box references are to ISO/IEC 14496-12. Input is untrusted: every malformed structure is a
// Status, never a crash.
#ifndef KINO_MEDIA_MP4_FRAGMENTS_H_
#define KINO_MEDIA_MP4_FRAGMENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/mp4_fragmented.h"

namespace kino::media {

// One entry of an edit list (section 8.6.6), in the init's movie and media timescales.
struct Mp4Edit {
  uint64_t segment_duration = 0;     // movie timescale; 0 in a fragmented init means "unknown"
  int64_t media_time = 0;            // media timescale; -1 is an empty edit
  uint32_t media_rate = 0x00010000;  // 16.16 fixed point (integer and fraction words)
};

// What the init segment says about its single track.
struct Mp4TrackInfo {
  uint32_t handler = 0;       // hdlr handler_type: 'vide' or 'soun'
  uint32_t sample_entry = 0;  // first stsd entry: 'avc1', 'avc3', 'mp4a', ...
  uint32_t track_id = 0;
  uint32_t movie_timescale = 0;  // mvhd
  uint32_t media_timescale = 0;  // mdhd
  std::string tkhd_tail;         // tkhd bytes after the duration field (layer .. height), verbatim
  uint32_t tkhd_flags = 0;
  std::string mdhd_language;  // mdhd language + pre_defined (4 bytes), verbatim
  std::string hdlr;           // whole hdlr box, verbatim
  std::string minf_headers;   // whole minf children other than stbl (vmhd/smhd, dinf), verbatim
  std::string stsd;           // whole stsd box (avcC / esds inside), verbatim
  bool has_edit_list = false;
  std::vector<Mp4Edit> edits;
  // trex defaults (section 8.8.3), used when a fragment gives no value.
  uint32_t default_duration = 0;
  uint32_t default_size = 0;
  uint32_t default_flags = 0;
};

// One sample in a fragment file.
struct Mp4Sample {
  uint64_t offset = 0;  // byte position in its segment file
  uint32_t size = 0;
  uint32_t duration = 0;           // media timescale
  int32_t composition_offset = 0;  // media timescale (trun version 1 may be negative)
  uint32_t segment = 0;            // index into FragmentedTrack::segment_paths
  bool sync = false;
};

// A rendition indexed for flattening.
struct Mp4TrackIndex {
  Mp4TrackInfo info;
  std::vector<Mp4Sample> samples;  // decode order
  uint64_t first_decode_time = 0;  // tfdt of the first fragment (media timescale)
  uint64_t media_bytes = 0;        // sum of sample sizes
};

// Parses an init segment (ftyp? moov with one trak). Errors: NotFound (missing file),
// InvalidArgument (not an MP4 init segment, or no track of `handler`), ResourceExhausted (over
// the size limit), Internal (I/O).
Result<Mp4TrackInfo> ParseInitSegment(const std::string& path, uint32_t handler);

// Parses the init and every fragment of `track`. Errors as ParseInitSegment, plus
// InvalidArgument for an empty segment list and DataLoss for a truncated or corrupt fragment
// (a box running past the end of its file, a sample outside every mdat, a bad moof).
Result<Mp4TrackIndex> IndexFragmentedTrack(const FragmentedTrack& track, uint32_t handler);

}  // namespace kino::media

#endif  // KINO_MEDIA_MP4_FRAGMENTS_H_

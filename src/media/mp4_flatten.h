// The layout of a progressive, fast-start MP4 made from indexed CMAF renditions: the bytes that
// go before the media data (ftyp, moov with full sample tables, the mdat header) and the order
// in which the samples are copied into the mdat payload.
//
// Pure computation, no I/O: the caller writes `header` at offset 0 and then each chunk's sample
// bytes, back to back, right after it. Box references are to ISO/IEC 14496-12.
#ifndef KINO_MEDIA_MP4_FLATTEN_H_
#define KINO_MEDIA_MP4_FLATTEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/mp4_fragments.h"

namespace kino::media {

// Consecutive samples of one track stored together in the mdat (a chunk, section 8.7.4).
struct Mp4Chunk {
  uint32_t track = 0;  // index into the tracks given to FlattenMp4
  uint32_t first_sample = 0;
  uint32_t sample_count = 0;
  uint64_t bytes = 0;
};

struct Mp4FlatLayout {
  std::string header;            // ftyp + moov + mdat box header
  std::vector<Mp4Chunk> chunks;  // in mdat order: tracks interleaved by about one second
  uint64_t payload_bytes = 0;    // the mdat payload that follows the header
};

enum class Mp4Brand {
  kMp4,  // ftyp isom (video download)
  kM4a,  // ftyp "M4A " (audio download)
};

// Lays out `tracks` (output track_IDs 1..n in this order) as one progressive file. Uses co64
// and a 64-bit mdat size when offsets pass 4 GiB. InvalidArgument when `tracks` is empty.
Result<Mp4FlatLayout> FlattenMp4(const std::vector<const Mp4TrackIndex*>& tracks, Mp4Brand brand);

}  // namespace kino::media

#endif  // KINO_MEDIA_MP4_FLATTEN_H_

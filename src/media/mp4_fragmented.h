// A CMAF rendition as the media pipeline stores it: an init segment (ftyp + moov with mvex) and
// media fragments (styp? sidx? moof + mdat ...), each in its own file, in presentation order.
//
// ISO/IEC 14496-12 section 8.8 (movie fragments) and ISO/IEC 23000-19 (CMAF) describe the format;
// Kino's renditions hold exactly one track each (H.264 video, or AAC audio).
#ifndef KINO_MEDIA_MP4_FRAGMENTED_H_
#define KINO_MEDIA_MP4_FRAGMENTED_H_

#include <string>
#include <vector>

namespace kino::media {

// One CMAF rendition on disk.
struct FragmentedTrack {
  std::string init_path;                   // .../v1080/init.mp4
  std::vector<std::string> segment_paths;  // .../v1080/seg_00001.m4s, ... in order
};

}  // namespace kino::media

#endif  // KINO_MEDIA_MP4_FRAGMENTED_H_

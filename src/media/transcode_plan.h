// The rendition ladder for one source: which rungs, at what size and bitrate cap, and whether
// the top rung is a stream copy. Pure functions of the probe and the options, no FFmpeg.
#ifndef KINO_MEDIA_TRANSCODE_PLAN_H_
#define KINO_MEDIA_TRANSCODE_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "media/probe.h"
#include "media/transcode.h"

namespace kino::media {

struct RungPlan {
  std::string name;  // "v720"
  int width = 0, height = 0;
  bool copy = false;
  int64_t max_bitrate = 0;  // VBV maxrate, bit/s (0 for a copy)
  int64_t buffer_size = 0;  // VBV bufsize, bits
};

struct LadderPlan {
  std::vector<RungPlan> rungs;  // highest first; a copied rung, if any, is first
  double output_fps = 0;        // source rate, or max_fps when the source is faster
  bool copy_audio = false;      // AAC in one or two channels, copied as is
};

// The ladder for a source. Rung "heights" are the short side of the upright display size, so
// portrait video gets the same quality steps. No rung is taller than the source; a source
// between standard heights gets its own height (rounded down to even) as the top rung. Widths
// keep the display aspect ratio and are even.
LadderPlan PlanLadder(const ProbeInfo& info, const LadderOptions& options);

// The VBV cap for a rung of `short_side` lines (the table in LadderOptions).
int64_t MaxBitrateForHeight(int short_side);

}  // namespace kino::media

#endif  // KINO_MEDIA_TRANSCODE_PLAN_H_

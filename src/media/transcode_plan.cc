#include "media/transcode_plan.h"

#include <algorithm>
#include <cmath>

namespace kino::media {
namespace {

struct CapPoint {
  int height;
  int64_t kbps;
};
// The cap table documented on LadderOptions::crf.
constexpr CapPoint kCaps[] = {{240, 500}, {360, 1000}, {480, 1800}, {720, 3500}, {1080, 6000}};

int EvenDown(int value) {
  return std::max(2, value - value % 2);
}
int EvenNearest(double value) {
  return std::max(2, 2 * static_cast<int>(std::lround(value / 2)));
}

// A rung whose short side is `short_side`, in the source's orientation.
RungPlan MakeRung(int short_side, const ProbeInfo& info) {
  bool portrait = info.height > info.width;
  double aspect = portrait ? static_cast<double>(info.height) / info.width
                           : static_cast<double>(info.width) / info.height;
  int long_side = EvenNearest(short_side * aspect);
  RungPlan rung;
  rung.name = "v" + std::to_string(short_side);
  rung.width = portrait ? short_side : long_side;
  rung.height = portrait ? long_side : short_side;
  rung.max_bitrate = MaxBitrateForHeight(short_side);
  rung.buffer_size = 2 * rung.max_bitrate;
  return rung;
}

bool CanCopy(const ProbeInfo& info, const LadderOptions& options, int source_short) {
  int tallest = *std::max_element(options.heights.begin(), options.heights.end());
  return options.allow_copy && info.browser_safe_h264 && info.fps <= options.max_fps + 0.5 &&
         source_short <= tallest;
}

}  // namespace

int64_t MaxBitrateForHeight(int short_side) {
  const CapPoint* lo = &kCaps[0];
  const CapPoint* hi = &kCaps[std::size(kCaps) - 1];
  // Outside the table the cap follows the pixel count of the nearest point.
  auto by_area = [&](const CapPoint& p) {
    double ratio = static_cast<double>(short_side) / p.height;
    return static_cast<int64_t>(std::lround(p.kbps * ratio * ratio)) * 1000;
  };
  if (short_side <= lo->height) {
    return std::max<int64_t>(by_area(*lo), 100000);
  }
  if (short_side >= hi->height) {
    return by_area(*hi);
  }
  for (size_t i = 1; i < std::size(kCaps); ++i) {
    if (short_side <= kCaps[i].height) {
      const CapPoint& a = kCaps[i - 1];
      const CapPoint& b = kCaps[i];
      double t = (static_cast<double>(short_side) * short_side - a.height * a.height) /
                 (static_cast<double>(b.height) * b.height - a.height * a.height);
      return static_cast<int64_t>(std::lround(a.kbps + t * (b.kbps - a.kbps))) * 1000;
    }
  }
  return by_area(*hi);
}

LadderPlan PlanLadder(const ProbeInfo& info, const LadderOptions& options) {
  LadderPlan plan;
  if (info.width <= 0 || info.height <= 0 || options.heights.empty()) {
    return plan;
  }
  plan.output_fps = info.fps > options.max_fps ? options.max_fps : info.fps;
  plan.copy_audio = options.allow_copy && info.aac_stereo;
  int source_short = std::min(info.width, info.height);

  std::vector<int> heights = options.heights;
  std::sort(heights.begin(), heights.end(), std::greater<int>());
  heights.erase(std::unique(heights.begin(), heights.end()), heights.end());

  int top = 0;  // the short side of the tallest rung chosen so far
  if (CanCopy(info, options, source_short)) {
    RungPlan copy = MakeRung(source_short, info);
    copy.width = info.width;
    copy.height = info.height;
    copy.copy = true;
    copy.max_bitrate = copy.buffer_size = 0;
    plan.rungs.push_back(copy);
    top = source_short;
  } else if (source_short < heights.front() &&
             std::find(heights.begin(), heights.end(), source_short) == heights.end()) {
    plan.rungs.push_back(MakeRung(EvenDown(source_short), info));
    top = EvenDown(source_short);
  }
  for (int h : heights) {
    if (h <= source_short && (top == 0 || h < top)) {
      plan.rungs.push_back(MakeRung(h, info));
      top = h;
    }
  }
  return plan;
}

}  // namespace kino::media

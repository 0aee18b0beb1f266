// Driver for bench/download_remux_bench.sh: makes one download from CMAF renditions on disk
// and prints the wall time from the call to the renamed, fsynced file.
//
//   download_remux_bench_main OUT.mp4 VIDEO_DIR [AUDIO_DIR]
//   download_remux_bench_main --m4a OUT.m4a AUDIO_DIR
//
// Each DIR holds init.mp4 and seg_*.m4s (taken in name order).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "media/download_mp4.h"

namespace {

kino::media::FragmentedTrack TrackFromDir(const std::string& dir) {
  kino::media::FragmentedTrack track;
  track.init_path = dir + "/init.mp4";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".m4s") {
      track.segment_paths.push_back(entry.path().string());
    }
  }
  std::sort(track.segment_paths.begin(), track.segment_paths.end());
  return track;
}

}  // namespace

int main(int argc, char** argv) {
  bool m4a = argc > 1 && std::strcmp(argv[1], "--m4a") == 0;
  int first = m4a ? 2 : 1;
  if (argc - first < 2) {
    std::fprintf(stderr, "usage: %s [--m4a] OUT VIDEO_OR_AUDIO_DIR [AUDIO_DIR]\n", argv[0]);
    return 2;
  }
  std::string out = argv[first];
  kino::media::FragmentedTrack main_track = TrackFromDir(argv[first + 1]);
  kino::media::FragmentedTrack audio;
  bool has_audio = !m4a && argc - first >= 3;
  if (has_audio) {
    audio = TrackFromDir(argv[first + 2]);
  }

  auto start = std::chrono::steady_clock::now();
  kino::Status status =
      m4a ? kino::media::MakeDownloadM4a(main_track, out, nullptr)
          : kino::media::MakeDownloadMp4(main_track, has_audio ? &audio : nullptr, out, nullptr);
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("%.3f\n", elapsed.count());
  return 0;
}

// Test-only helpers for the download and thumbnail tests: temp dirs, real media made by the
// `ffmpeg` program, ffprobe queries and a reader of an MP4 file's top-level boxes.
#ifndef KINO_MEDIA_DOWNLOAD_TEST_UTIL_H_
#define KINO_MEDIA_DOWNLOAD_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "media/mp4_fragmented.h"

namespace kino::media::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `command` through /bin/sh; returns its exit status and puts stdout+stderr in *output.
int RunCommand(const std::string& command, std::string* output = nullptr);

// Options of the generated test source.
struct SourceOptions {
  double duration_s = 3;
  int width = 320;
  int height = 180;
  bool audio = true;
  int rotate_degrees = 0;  // stored as display-matrix metadata (not re-rendered)
};

// Makes an H.264 (x264 defaults, so B-frames) + AAC MP4 at `path` from testsrc2 and a sine.
// Returns false (with a gtest failure added) when ffmpeg fails.
bool MakeSource(const std::string& path, const SourceOptions& options = {});

// Cuts the `stream` ("v" or "a") of `source` into a CMAF rendition under `dir`: init.mp4 and
// seg_00001.m4s, ... of about one second each.
FragmentedTrack MakeRendition(const std::string& source, const std::string& stream,
                              const std::string& dir);

// The four-character types of the file's top-level boxes, in order.
std::vector<std::string> TopLevelBoxes(const std::string& path);

// ffprobe's value for one entry, e.g. ProbeValue(p, "stream=codec_name", "v:0") -> "h264".
std::string ProbeValue(const std::string& path, const std::string& entry,
                       const std::string& select_streams = "");
// Packet count of one stream, counted by reading the file.
int64_t CountPackets(const std::string& path, const std::string& select_streams);
// Every line ffmpeg prints while decoding the whole file at -v error (empty when clean).
std::string DecodeErrors(const std::string& path);

bool FileExists(const std::string& path);
std::string ReadFileBytes(const std::string& path);
void WriteFileBytes(const std::string& path, const std::string& bytes);

}  // namespace kino::media::testing

#endif  // KINO_MEDIA_DOWNLOAD_TEST_UTIL_H_

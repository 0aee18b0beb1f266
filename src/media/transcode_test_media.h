// Test support for media_pipeline_test: a temp directory per test and real media made in it by
// the `ffmpeg` program (tests only; production code never runs ffmpeg or ffprobe).
#ifndef KINO_MEDIA_TRANSCODE_TEST_MEDIA_H_
#define KINO_MEDIA_TRANSCODE_TEST_MEDIA_H_

#include <string>

#include <nlohmann/json.hpp>

namespace kino::media::testing {

// A fresh directory under $TMPDIR, removed with its contents by the destructor.
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

// Runs `ffmpeg -y -loglevel error <args>`; true on exit status 0.
bool Ffmpeg(const std::string& args);

// Runs `ffprobe -of json <args> <path>` and parses its output; a discarded json on failure.
nlohmann::json Ffprobe(const std::string& args, const std::string& path);

// lavfi inputs for ffmpeg: a moving test picture and a tone, `seconds` long.
std::string TestVideo(const std::string& size, double fps, double seconds);
std::string TestAudio(double seconds, const std::string& layout = "stereo");

// Writes `size` pseudo-random bytes (fixed seed) to `path`.
void WriteRandomBytes(const std::string& path, size_t size);
// Copies the first `fraction` of `from` to `to`.
void WriteTruncatedCopy(const std::string& from, const std::string& to, double fraction);

}  // namespace kino::media::testing

#endif  // KINO_MEDIA_TRANSCODE_TEST_MEDIA_H_

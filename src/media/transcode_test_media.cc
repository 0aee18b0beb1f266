#include "media/transcode_test_media.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

namespace kino::media::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kino_media_XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  path_ = made != nullptr ? made : "";
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

bool Ffmpeg(const std::string& args) {
  std::string command = "ffmpeg -nostdin -hide_banner -loglevel error -y " + args;
  return std::system(command.c_str()) == 0;
}

nlohmann::json Ffprobe(const std::string& args, const std::string& path) {
  std::string command =
      "ffprobe -hide_banner -loglevel error -of json " + args + " '" + path + "' 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return nlohmann::json::value_t::discarded;
  }
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  if (pclose(pipe) != 0) {
    return nlohmann::json::value_t::discarded;
  }
  return nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
}

std::string TestVideo(const std::string& size, double fps, double seconds) {
  std::ostringstream s;
  s << "-f lavfi -i testsrc2=size=" << size << ":rate=" << fps << ":duration=" << seconds << " ";
  return s.str();
}

std::string TestAudio(double seconds, const std::string& layout) {
  std::ostringstream s;
  s << "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=" << seconds
    << ",aformat=channel_layouts=" << layout << " ";
  return s.str();
}

void WriteRandomBytes(const std::string& path, size_t size) {
  std::mt19937 rng(42);
  std::ofstream out(path, std::ios::binary);
  for (size_t i = 0; i < size; ++i) {
    out.put(static_cast<char>(rng() & 0xff));
  }
}

void WriteTruncatedCopy(const std::string& from, const std::string& to, double fraction) {
  std::ifstream in(from, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream out(to, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size() * fraction));
}

}  // namespace kino::media::testing

#include "media/download_test_util.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

namespace kino::media::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base != nullptr ? base : "/tmp") + "/kino_media_XXXXXX";
  char* made = mkdtemp(templ.data());
  EXPECT_NE(made, nullptr);
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return -1;
  }
  std::array<char, 4096> buf{};
  std::string text;
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    text.append(buf.data(), n);
  }
  int status = pclose(pipe);
  if (output != nullptr) {
    *output = text;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool MakeSource(const std::string& path, const SourceOptions& o) {
  std::ostringstream cmd;
  cmd << "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=s=" << o.width << "x" << o.height
      << ":r=25:d=" << o.duration_s;
  if (o.audio) {
    cmd << " -f lavfi -i sine=f=440:d=" << o.duration_s << " -c:a aac -b:a 64k";
  }
  cmd << " -c:v libx264 -g 25 -pix_fmt yuv420p";
  if (o.rotate_degrees != 0) {
    cmd << " -metadata:s:v:0 rotate=" << o.rotate_degrees;
  }
  cmd << " " << path;
  std::string out;
  int rc = RunCommand(cmd.str(), &out);
  EXPECT_EQ(rc, 0) << cmd.str() << "\n" << out;
  return rc == 0;
}

FragmentedTrack MakeRendition(const std::string& source, const std::string& stream,
                              const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::string cmd = "ffmpeg -nostdin -v error -y -i " + source + " -map 0:" + stream +
                    " -c copy -f hls -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4"
                    " -start_number 1 -hls_segment_filename '" +
                    dir + "/seg_%05d.m4s' -hls_time 1 " + dir + "/index.m3u8";
  std::string out;
  EXPECT_EQ(RunCommand(cmd, &out), 0) << cmd << "\n" << out;

  FragmentedTrack track;
  track.init_path = dir + "/init.mp4";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".m4s") {
      track.segment_paths.push_back(entry.path().string());
    }
  }
  std::sort(track.segment_paths.begin(), track.segment_paths.end());
  return track;
}

std::vector<std::string> TopLevelBoxes(const std::string& path) {
  std::string data = ReadFileBytes(path);
  std::vector<std::string> types;
  size_t pos = 0;
  while (pos + 8 <= data.size()) {
    auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(data[i])); };
    uint64_t size = byte(pos) << 24 | byte(pos + 1) << 16 | byte(pos + 2) << 8 | byte(pos + 3);
    types.push_back(data.substr(pos + 4, 4));
    if (size == 1 && pos + 16 <= data.size()) {
      size = 0;
      for (size_t i = 0; i < 8; ++i) {
        size = size << 8 | byte(pos + 8 + i);
      }
    }
    if (size < 8) {
      break;
    }
    pos += size;
  }
  return types;
}

std::string ProbeValue(const std::string& path, const std::string& entry,
                       const std::string& select_streams) {
  std::string cmd = "ffprobe -v error";
  if (!select_streams.empty()) {
    cmd += " -select_streams " + select_streams;
  }
  cmd += " -show_entries " + entry + " -of default=nw=1:nk=1 " + path;
  std::string out;
  RunCommand(cmd, &out);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  return out;
}

int64_t CountPackets(const std::string& path, const std::string& select_streams) {
  std::string value =
      ProbeValue(path + " -count_packets", "stream=nb_read_packets", select_streams);
  return std::strtoll(value.c_str(), nullptr, 10);
}

std::string DecodeErrors(const std::string& path) {
  std::string out;
  RunCommand("ffmpeg -nostdin -v error -i " + path + " -f null -", &out);
  return out;
}

bool FileExists(const std::string& path) {
  return std::filesystem::exists(path);
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

}  // namespace kino::media::testing

#include "media/manifest.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace kino::media {
namespace {

using nlohmann::json;

std::string Fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, value);
  return buf;
}

const RenditionInfo* FindAudio(const PackageResult& package) {
  for (const RenditionInfo& r : package.renditions) {
    if (r.kind == RenditionKind::kAudio) {
      return &r;
    }
  }
  return nullptr;
}

// RFC 8216 section 4.3.3.1: every EXTINF, rounded to the nearest integer, must be at most the
// target duration; rounding the longest segment up satisfies that.
int TargetDuration(const RenditionInfo& rendition) {
  double longest = 0;
  for (double d : rendition.segment_durations) {
    longest = std::max(longest, d);
  }
  return std::max(1, static_cast<int>(std::ceil(longest - 1e-3)));
}

// ISO/IEC 23009-1 frame rates are an integer or a fraction: "25", "30000/1001".
std::string DashFrameRate(double fps) {
  if (std::abs(fps - std::round(fps)) < 0.001) {
    return std::to_string(std::lround(fps));
  }
  double ntsc = fps * 1.001;
  if (std::abs(ntsc - std::round(ntsc)) < 0.001) {
    return std::to_string(std::lround(ntsc) * 1000) + "/1001";
  }
  return std::to_string(std::lround(fps * 1000)) + "/1000";
}

// xs:duration for MPD attributes.
std::string IsoDuration(double seconds) {
  return "PT" + Fixed(std::max(0.0, seconds), 3) + "S";
}

// The MPD timeline starts at the earliest first sample of any rendition; each Representation's
// presentationTimeOffset maps that instant to period time 0.
double EarliestStart(const PackageResult& package) {
  double earliest = 0;
  bool any = false;
  for (const RenditionInfo& r : package.renditions) {
    if (r.timescale <= 0) {
      continue;
    }
    double start = static_cast<double>(r.start_ticks) / static_cast<double>(r.timescale);
    earliest = any ? std::min(earliest, start) : start;
    any = true;
  }
  return earliest;
}

// SegmentTimeline (ISO/IEC 23009-1 section 5.3.9.6) with runs of equal durations folded into
// S@r.
void AppendSegmentTimeline(const RenditionInfo& r, std::ostringstream& out) {
  out << "          <SegmentTimeline>\n";
  size_t i = 0;
  while (i < r.segment_ticks.size()) {
    size_t run = 1;
    while (i + run < r.segment_ticks.size() && r.segment_ticks[i + run] == r.segment_ticks[i]) {
      ++run;
    }
    out << "            <S";
    if (i == 0) {
      out << " t=\"" << r.start_ticks << "\"";
    }
    out << " d=\"" << r.segment_ticks[i] << "\"";
    if (run > 1) {
      out << " r=\"" << run - 1 << "\"";
    }
    out << "/>\n";
    i += run;
  }
  out << "          </SegmentTimeline>\n";
}

void AppendRepresentation(const RenditionInfo& r, double origin, std::ostringstream& out) {
  out << "      <Representation id=\"" << r.name << "\" codecs=\"" << r.codecs << "\" bandwidth=\""
      << std::max<int64_t>(r.bandwidth, 1) << "\"";
  if (r.kind == RenditionKind::kVideo) {
    out << " width=\"" << r.width << "\" height=\"" << r.height << "\" frameRate=\""
        << DashFrameRate(r.fps) << "\" sar=\"1:1\"";
  }
  out << ">\n";
  int64_t offset = std::llround(origin * static_cast<double>(r.timescale));
  out << "        <SegmentTemplate timescale=\"" << r.timescale << "\" presentationTimeOffset=\""
      << offset << "\" initialization=\"" << r.name << "/" << r.init_file << "\" media=\"" << r.name
      << "/seg_$Number%05d$.m4s\" startNumber=\"1\">\n";
  AppendSegmentTimeline(r, out);
  out << "        </SegmentTemplate>\n      </Representation>\n";
}

json RenditionToJson(const RenditionInfo& r) {
  return json{{"name", r.name},
              {"kind", r.kind == RenditionKind::kVideo ? "video" : "audio"},
              {"width", r.width},
              {"height", r.height},
              {"fps", r.fps},
              {"bandwidth", r.bandwidth},
              {"average_bandwidth", r.average_bandwidth},
              {"codecs", r.codecs},
              {"copied", r.copied},
              {"init_file", r.init_file},
              {"segment_files", r.segment_files},
              {"segment_durations", r.segment_durations},
              {"duration_s", r.duration_s},
              {"timescale", r.timescale},
              {"start_ticks", r.start_ticks},
              {"segment_ticks", r.segment_ticks}};
}

// Typed readers: false when the member is missing or of another type.
bool ReadString(const json& obj, const char* key, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return false;
  }
  *out = it->get<std::string>();
  return true;
}
template <typename T>
bool ReadNumber(const json& obj, const char* key, T* out) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) {
    return false;
  }
  *out = it->get<T>();
  return true;
}
bool ReadBool(const json& obj, const char* key, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_boolean()) {
    return false;
  }
  *out = it->get<bool>();
  return true;
}
template <typename T, typename Check>
bool ReadArray(const json& obj, const char* key, Check is_type, std::vector<T>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_array()) {
    return false;
  }
  for (const json& item : *it) {
    if (!is_type(item)) {
      return false;
    }
    out->push_back(item.get<T>());
  }
  return true;
}

bool RenditionFromJson(const json& obj, RenditionInfo* r) {
  std::string kind;
  bool ok = obj.is_object() && ReadString(obj, "name", &r->name) &&
            ReadString(obj, "kind", &kind) && ReadNumber(obj, "width", &r->width) &&
            ReadNumber(obj, "height", &r->height) && ReadNumber(obj, "fps", &r->fps) &&
            ReadNumber(obj, "bandwidth", &r->bandwidth) &&
            ReadNumber(obj, "average_bandwidth", &r->average_bandwidth) &&
            ReadString(obj, "codecs", &r->codecs) && ReadBool(obj, "copied", &r->copied) &&
            ReadString(obj, "init_file", &r->init_file) &&
            ReadNumber(obj, "duration_s", &r->duration_s) &&
            ReadNumber(obj, "timescale", &r->timescale) &&
            ReadNumber(obj, "start_ticks", &r->start_ticks);
  ok = ok &&
       ReadArray(
           obj, "segment_files", [](const json& j) { return j.is_string(); }, &r->segment_files);
  ok = ok && ReadArray(
                 obj, "segment_durations", [](const json& j) { return j.is_number(); },
                 &r->segment_durations);
  ok = ok && ReadArray(
                 obj, "segment_ticks", [](const json& j) { return j.is_number_integer(); },
                 &r->segment_ticks);
  if (!ok || (kind != "video" && kind != "audio")) {
    return false;
  }
  r->kind = kind == "video" ? RenditionKind::kVideo : RenditionKind::kAudio;
  return r->segment_files.size() == r->segment_durations.size();
}

Status ErrnoStatus(const std::string& what) {
  return Internal(what + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view contents, const std::string& path) {
  while (!contents.empty()) {
    ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return ErrnoStatus("write " + path);
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

std::string BuildMediaPlaylist(const RenditionInfo& rendition) {
  std::ostringstream out;
  out << "#EXTM3U\n#EXT-X-VERSION:7\n";
  out << "#EXT-X-TARGETDURATION:" << TargetDuration(rendition) << "\n";
  out << "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  // RFC 8216 section 4.3.2.5: the CMAF header every segment needs.
  out << "#EXT-X-MAP:URI=\"" << rendition.init_file << "\"\n";
  for (size_t i = 0; i < rendition.segment_files.size(); ++i) {
    out << "#EXTINF:" << Fixed(rendition.segment_durations[i], 6) << ",\n"
        << rendition.segment_files[i] << "\n";
  }
  out << "#EXT-X-ENDLIST\n";
  return out.str();
}

std::string BuildMasterPlaylist(const PackageResult& package) {
  const RenditionInfo* audio = FindAudio(package);
  std::ostringstream out;
  out << "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n";
  if (audio != nullptr) {
    // RFC 8216 section 4.3.4.1: the audio rendition group the variants point at.
    out << "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"default\",DEFAULT=YES,"
           "AUTOSELECT=YES,URI=\""
        << audio->name << "/index.m3u8\"\n";
  }
  for (const RenditionInfo& r : package.renditions) {
    if (r.kind != RenditionKind::kVideo) {
      continue;
    }
    // Section 4.3.4.2: BANDWIDTH covers every rendition that plays together.
    int64_t peak = r.bandwidth + (audio != nullptr ? audio->bandwidth : 0);
    int64_t average = r.average_bandwidth + (audio != nullptr ? audio->average_bandwidth : 0);
    std::string codecs = r.codecs + (audio != nullptr ? "," + audio->codecs : "");
    out << "#EXT-X-STREAM-INF:BANDWIDTH=" << std::max<int64_t>(peak, 1)
        << ",AVERAGE-BANDWIDTH=" << std::max<int64_t>(average, 1) << ",RESOLUTION=" << r.width
        << "x" << r.height << ",CODECS=\"" << codecs << "\",FRAME-RATE=" << Fixed(r.fps, 3);
    if (audio != nullptr) {
      out << ",AUDIO=\"audio\"";
    }
    out << "\n" << r.name << "/index.m3u8\n";
  }
  return out.str();
}

std::string BuildMpd(const PackageResult& package) {
  double origin = EarliestStart(package);
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
         "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" "
         "mediaPresentationDuration=\""
      << IsoDuration(package.duration_s) << "\" minBufferTime=\"PT2S\">\n"
      << "  <Period id=\"0\" start=\"PT0S\">\n";
  for (RenditionKind kind : {RenditionKind::kVideo, RenditionKind::kAudio}) {
    bool video = kind == RenditionKind::kVideo;
    bool opened = false;
    for (const RenditionInfo& r : package.renditions) {
      if (r.kind != kind) {
        continue;
      }
      if (!opened) {
        out << "    <AdaptationSet id=\"" << (video ? 0 : 1) << "\" contentType=\""
            << (video ? "video" : "audio") << "\" mimeType=\"" << (video ? "video" : "audio")
            << "/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\">\n";
        opened = true;
      }
      AppendRepresentation(r, origin, out);
    }
    if (opened) {
      out << "    </AdaptationSet>\n";
    }
  }
  out << "  </Period>\n</MPD>\n";
  return out.str();
}

std::string PackageToJson(const PackageResult& package) {
  json renditions = json::array();
  for (const RenditionInfo& r : package.renditions) {
    renditions.push_back(RenditionToJson(r));
  }
  json doc{{"duration_s", package.duration_s}, {"renditions", renditions}};
  return doc.dump(2) + "\n";
}

Result<PackageResult> PackageFromJson(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  PackageResult package;
  if (doc.is_discarded() || !doc.is_object() ||
      !ReadNumber(doc, "duration_s", &package.duration_s)) {
    return DataLoss("renditions.json: not a package document");
  }
  auto list = doc.find("renditions");
  if (list == doc.end() || !list->is_array()) {
    return DataLoss("renditions.json: no renditions array");
  }
  for (const json& item : *list) {
    RenditionInfo r;
    if (!RenditionFromJson(item, &r)) {
      return DataLoss("renditions.json: malformed rendition");
    }
    package.renditions.push_back(std::move(r));
  }
  return package;
}

Status WriteFileAtomic(const std::string& path, std::string_view contents) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoStatus("open " + temp);
  }
  Status written = WriteAll(fd, contents, temp);
  if (written.ok() && ::fsync(fd) != 0) {
    written = ErrnoStatus("fsync " + temp);
  }
  ::close(fd);
  if (written.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    written = ErrnoStatus("rename " + temp);
  }
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written;
  }
  // The rename itself is durable only once the directory is synced.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

Status WriteManifests(const std::string& out_dir, const PackageResult& package) {
  for (const RenditionInfo& r : package.renditions) {
    KINO_RETURN_IF_ERROR(
        WriteFileAtomic(out_dir + "/" + r.name + "/index.m3u8", BuildMediaPlaylist(r)));
  }
  KINO_RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/video.mpd", BuildMpd(package)));
  KINO_RETURN_IF_ERROR(WriteFileAtomic(out_dir + "/video.m3u8", BuildMasterPlaylist(package)));
  return WriteFileAtomic(out_dir + "/renditions.json", PackageToJson(package));
}

}  // namespace kino::media

namespace kino::media {

Result<PackageResult> LoadPackage(const std::string& out_dir) {
  std::string path = out_dir + "/renditions.json";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? NotFound("no package in " + out_dir) : ErrnoStatus("open " + path);
  }
  std::string text;
  char buf[65536];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (n < 0) {
    return DataLoss("reading " + path + ": " + std::strerror(errno));
  }
  return PackageFromJson(text);
}

}  // namespace kino::media

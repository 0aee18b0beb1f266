#include "media/mp4_fragments.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media/mp4_box.h"

namespace kino::media {
namespace {

constexpr uint64_t kMaxInitBytes = 16 << 20;
constexpr uint64_t kMaxMoofBytes = 64 << 20;
constexpr size_t kMaxSamplesPerRun = 1 << 20;
constexpr size_t kMaxSamples = 1 << 26;  // 12 days at 60 frames/s

// Track fragment header flags (section 8.8.7.1).
constexpr uint32_t kTfhdBaseDataOffset = 0x000001;
constexpr uint32_t kTfhdSampleDescriptionIndex = 0x000002;
constexpr uint32_t kTfhdDefaultDuration = 0x000008;
constexpr uint32_t kTfhdDefaultSize = 0x000010;
constexpr uint32_t kTfhdDefaultFlags = 0x000020;
constexpr uint32_t kTfhdDefaultBaseIsMoof = 0x020000;
// Track run flags (section 8.8.8.1).
constexpr uint32_t kTrunDataOffset = 0x000001;
constexpr uint32_t kTrunFirstSampleFlags = 0x000004;
constexpr uint32_t kTrunDuration = 0x000100;
constexpr uint32_t kTrunSize = 0x000200;
constexpr uint32_t kTrunFlags = 0x000400;
constexpr uint32_t kTrunCompositionOffset = 0x000800;
// sample_is_non_sync_sample in the sample flags word (section 8.8.3.1).
constexpr uint32_t kSampleNonSync = 0x00010000;

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status OpenError(const std::string& path) {
  int err = errno;
  std::string msg = "open " + path + ": " + std::strerror(err);
  return err == ENOENT ? NotFound(msg) : Internal(msg);
}

Status ReadAt(int fd, uint64_t offset, size_t size, std::string* out, const std::string& path) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    ssize_t got = ::pread(fd, out->data() + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return Internal("read " + path + ": " + std::strerror(errno));
    }
    if (got == 0) {
      return DataLoss(path + " is shorter than its boxes say (truncated)");
    }
    done += static_cast<size_t>(got);
  }
  return Status::Ok();
}

Result<uint64_t> FileSize(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    return Internal("stat " + path + ": " + std::strerror(errno));
  }
  return static_cast<uint64_t>(st.st_size);
}

// The children of `box`, or nullopt when they do not parse.
std::optional<std::vector<Box>> Children(const Box* box) {
  if (box == nullptr) {
    return std::nullopt;
  }
  return ParseBoxes(box->payload);
}

// ---- init segment (moov) ----

// mvhd (section 8.2.2): only the timescale is needed.
bool ParseMvhd(const Box& mvhd, Mp4TrackInfo* info) {
  ByteReader r(mvhd.payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  r.FullBoxHeader(&version, &flags);
  r.Skip(version == 1 ? 16 : 8);  // creation_time, modification_time
  info->movie_timescale = r.U32();
  return r.ok() && info->movie_timescale != 0;
}

// tkhd (section 8.3.2): track_ID, flags, and the tail kept verbatim.
bool ParseTkhd(const Box& tkhd, Mp4TrackInfo* info) {
  ByteReader r(tkhd.payload);
  uint8_t version = 0;
  r.FullBoxHeader(&version, &info->tkhd_flags);
  r.Skip(version == 1 ? 16 : 8);
  info->track_id = r.U32();
  r.Skip(4);                     // reserved
  r.Skip(version == 1 ? 8 : 4);  // duration
  info->tkhd_tail = std::string(r.Bytes(r.remaining()));
  return r.ok() && info->tkhd_tail.size() == 60;
}

// elst (section 8.6.6).
bool ParseElst(const Box& elst, Mp4TrackInfo* info) {
  ByteReader r(elst.payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  r.FullBoxHeader(&version, &flags);
  uint32_t count = r.U32();
  if (!r.ok() || count > r.remaining() / 12) {
    return false;
  }
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    Mp4Edit edit;
    edit.segment_duration = version == 1 ? r.U64() : r.U32();
    edit.media_time = version == 1 ? static_cast<int64_t>(r.U64())
                                   : static_cast<int64_t>(static_cast<int32_t>(r.U32()));
    edit.media_rate = r.U32();
    info->edits.push_back(edit);
  }
  info->has_edit_list = true;
  return r.ok();
}

// mdhd (section 8.4.2).
bool ParseMdhd(const Box& mdhd, Mp4TrackInfo* info) {
  ByteReader r(mdhd.payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  r.FullBoxHeader(&version, &flags);
  r.Skip(version == 1 ? 16 : 8);
  info->media_timescale = r.U32();
  r.Skip(version == 1 ? 8 : 4);
  info->mdhd_language = std::string(r.Bytes(4));
  return r.ok() && info->media_timescale != 0;
}

// hdlr (section 8.4.3): handler_type after pre_defined.
uint32_t HandlerType(const Box& hdlr) {
  ByteReader r(hdlr.payload);
  r.Skip(8);
  return r.U32();
}

// minf (section 8.4.4): stbl's stsd (section 8.5.2) plus the other children verbatim.
bool ParseMinf(const Box& minf, Mp4TrackInfo* info) {
  auto children = Children(&minf);
  if (!children) {
    return false;
  }
  for (const Box& child : *children) {
    if (child.type != FourCc("stbl")) {
      info->minf_headers.append(child.whole);
    }
  }
  auto stbl = Children(FindBox(*children, FourCc("stbl")));
  const Box* stsd = stbl ? FindBox(*stbl, FourCc("stsd")) : nullptr;
  if (stsd == nullptr) {
    return false;
  }
  info->stsd = std::string(stsd->whole);
  ByteReader r(stsd->payload);
  r.Skip(4);  // version, flags
  uint32_t entries = r.U32();
  r.Skip(4);  // first entry's size
  info->sample_entry = r.U32();
  return r.ok() && entries >= 1;
}

bool ParseMdia(const Box& mdia, Mp4TrackInfo* info) {
  auto children = Children(&mdia);
  if (!children) {
    return false;
  }
  const Box* mdhd = FindBox(*children, FourCc("mdhd"));
  const Box* hdlr = FindBox(*children, FourCc("hdlr"));
  const Box* minf = FindBox(*children, FourCc("minf"));
  if (mdhd == nullptr || hdlr == nullptr || minf == nullptr) {
    return false;
  }
  info->handler = HandlerType(*hdlr);
  info->hdlr = std::string(hdlr->whole);
  return ParseMdhd(*mdhd, info) && ParseMinf(*minf, info);
}

bool ParseTrak(const Box& trak, Mp4TrackInfo* info) {
  auto children = Children(&trak);
  if (!children) {
    return false;
  }
  const Box* tkhd = FindBox(*children, FourCc("tkhd"));
  const Box* mdia = FindBox(*children, FourCc("mdia"));
  if (tkhd == nullptr || mdia == nullptr || !ParseTkhd(*tkhd, info) || !ParseMdia(*mdia, info)) {
    return false;
  }
  auto edts = Children(FindBox(*children, FourCc("edts")));
  const Box* elst = edts ? FindBox(*edts, FourCc("elst")) : nullptr;
  return elst == nullptr || ParseElst(*elst, info);
}

// trex (section 8.8.3) for the track, inside mvex.
void ParseTrex(const std::vector<Box>& moov, Mp4TrackInfo* info) {
  auto mvex = Children(FindBox(moov, FourCc("mvex")));
  if (!mvex) {
    return;
  }
  for (const Box& box : *mvex) {
    ByteReader r(box.payload);
    r.Skip(4);
    if (box.type != FourCc("trex") || r.U32() != info->track_id) {
      continue;
    }
    r.Skip(4);  // default_sample_description_index
    info->default_duration = r.U32();
    info->default_size = r.U32();
    info->default_flags = r.U32();
  }
}

Result<Mp4TrackInfo> ParseMoov(const Box& moov, uint32_t handler, const std::string& path) {
  auto children = Children(&moov);
  const Box* mvhd = children ? FindBox(*children, FourCc("mvhd")) : nullptr;
  Mp4TrackInfo info;
  if (mvhd == nullptr || !ParseMvhd(*mvhd, &info)) {
    return InvalidArgument(path + ": moov has no valid mvhd");
  }
  for (const Box& box : *children) {
    if (box.type != FourCc("trak")) {
      continue;
    }
    Mp4TrackInfo track = info;
    if (!ParseTrak(box, &track)) {
      return InvalidArgument(path + ": malformed trak");
    }
    if (track.handler == handler) {
      ParseTrex(*children, &track);
      return track;
    }
  }
  return InvalidArgument(path + ": no " + FourCcText(handler) + " track");
}

// ---- fragments (moof) ----

// Where the data of each run of one file lies, to check it against the file's mdat boxes.
struct DataRange {
  uint64_t begin;
  uint64_t end;
};

// State carried across fragments of one track.
struct IndexState {
  const Mp4TrackInfo* info = nullptr;
  uint32_t segment = 0;
  uint64_t next_decode_time = 0;
  Mp4TrackIndex* index = nullptr;
  std::vector<DataRange> runs;  // data of the current file's runs
};

struct TfhdValues {
  uint64_t base_offset = 0;
  uint32_t duration = 0;
  uint32_t size = 0;
  uint32_t flags = 0;
};

// tfhd (section 8.8.7): the defaults and the base data offset of a track fragment.
Status ParseTfhd(const Box& tfhd, uint64_t moof_offset, uint64_t implicit_base,
                 const Mp4TrackInfo& info, TfhdValues* out) {
  ByteReader r(tfhd.payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  r.FullBoxHeader(&version, &flags);
  if (r.U32() != info.track_id) {
    return DataLoss("fragment for a track the init segment does not describe");
  }
  out->base_offset = (flags & kTfhdDefaultBaseIsMoof) ? moof_offset : implicit_base;
  if (flags & kTfhdBaseDataOffset) {
    out->base_offset = r.U64();
  }
  if ((flags & kTfhdSampleDescriptionIndex) && r.U32() != 1) {
    return Unimplemented("fragment uses a second sample description");
  }
  out->duration = (flags & kTfhdDefaultDuration) ? r.U32() : info.default_duration;
  out->size = (flags & kTfhdDefaultSize) ? r.U32() : info.default_size;
  out->flags = (flags & kTfhdDefaultFlags) ? r.U32() : info.default_flags;
  return r.ok() ? Status::Ok() : DataLoss("malformed tfhd");
}

// tfdt (section 8.8.12). A fragment whose decode time differs from the running total (a gap or
// an overlap) is absorbed by the previous sample's duration, so later samples keep their times.
Status ApplyTfdt(const Box& tfdt, IndexState* state) {
  ByteReader r(tfdt.payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  r.FullBoxHeader(&version, &flags);
  uint64_t decode_time = version == 1 ? r.U64() : r.U32();
  if (!r.ok()) {
    return DataLoss("malformed tfdt");
  }
  std::vector<Mp4Sample>& samples = state->index->samples;
  if (samples.empty()) {
    state->index->first_decode_time = decode_time;
  } else if (decode_time != state->next_decode_time) {
    int64_t fixed = static_cast<int64_t>(samples.back().duration) +
                    static_cast<int64_t>(decode_time - state->next_decode_time);
    // TODO: a gap longer than a sample's 32-bit duration, or an overlap bigger than the last
    // sample, is kept as is; the track then drifts by that much from its tfdt.
    if (fixed > 0 && fixed <= UINT32_MAX) {
      samples.back().duration = static_cast<uint32_t>(fixed);
    }
  }
  state->next_decode_time = decode_time;
  return Status::Ok();
}

// trun (section 8.8.8): appends the run's samples. *data_cursor is where the run's data starts
// when it has no data_offset; it is left at the end of the run's data.
Status ParseTrun(const Box& trun, const TfhdValues& tfhd, uint64_t* data_cursor,
                 IndexState* state) {
  ByteReader r(trun.payload);
  uint8_t version = 0;
  uint32_t flags = 0;
  r.FullBoxHeader(&version, &flags);
  uint32_t count = r.U32();
  uint64_t offset = *data_cursor;
  if (flags & kTrunDataOffset) {
    offset = tfhd.base_offset + static_cast<int64_t>(static_cast<int32_t>(r.U32()));
  }
  std::optional<uint32_t> first_flags;
  if (flags & kTrunFirstSampleFlags) {
    first_flags = r.U32();
  }
  // Bound the count by the bytes present, so a hostile count cannot make a huge table.
  uint32_t per_sample_fields = kTrunDuration | kTrunSize | kTrunFlags | kTrunCompositionOffset;
  size_t per_sample_bytes = 4 * static_cast<size_t>(__builtin_popcount(flags & per_sample_fields));
  size_t max_count = per_sample_bytes > 0 ? r.remaining() / per_sample_bytes : kMaxSamplesPerRun;
  if (!r.ok() || count > max_count || count > kMaxSamplesPerRun) {
    return DataLoss("malformed trun");
  }
  if (state->index->samples.size() + count > kMaxSamples) {
    return ResourceExhausted("too many samples");
  }

  uint64_t begin = offset;
  for (uint32_t i = 0; i < count; ++i) {
    Mp4Sample s;
    s.offset = offset;
    s.segment = state->segment;
    s.duration = (flags & kTrunDuration) ? r.U32() : tfhd.duration;
    s.size = (flags & kTrunSize) ? r.U32() : tfhd.size;
    uint32_t sample_flags = (flags & kTrunFlags) ? r.U32() : tfhd.flags;
    if (i == 0 && first_flags) {
      sample_flags = *first_flags;
    }
    s.sync = (sample_flags & kSampleNonSync) == 0;
    if (flags & kTrunCompositionOffset) {
      // Version 0 offsets are unsigned; version 1 signed. Both fit int32 in practice.
      s.composition_offset = static_cast<int32_t>(r.U32());
    }
    offset += s.size;
    state->next_decode_time += s.duration;
    state->index->media_bytes += s.size;
    state->index->samples.push_back(s);
  }
  if (!r.ok()) {
    return DataLoss("trun sample table runs past its box");
  }
  state->runs.push_back(DataRange{begin, offset});
  *data_cursor = offset;
  return Status::Ok();
}

// traf (section 8.8.6). `implicit_base` is where the data starts when tfhd names no base.
Status ParseTraf(const Box& traf, uint64_t moof_offset, uint64_t* implicit_base,
                 IndexState* state) {
  auto children = Children(&traf);
  const Box* tfhd_box = children ? FindBox(*children, FourCc("tfhd")) : nullptr;
  if (tfhd_box == nullptr) {
    return DataLoss("traf without tfhd");
  }
  TfhdValues tfhd;
  KINO_RETURN_IF_ERROR(ParseTfhd(*tfhd_box, moof_offset, *implicit_base, *state->info, &tfhd));
  if (const Box* tfdt = FindBox(*children, FourCc("tfdt")); tfdt != nullptr) {
    KINO_RETURN_IF_ERROR(ApplyTfdt(*tfdt, state));
  }
  uint64_t cursor = tfhd.base_offset;
  for (const Box& box : *children) {
    if (box.type == FourCc("trun")) {
      KINO_RETURN_IF_ERROR(ParseTrun(box, tfhd, &cursor, state));
    }
  }
  // Section 8.8.7.1: without an explicit base, a following traf's data starts where this ends.
  *implicit_base = cursor;
  return Status::Ok();
}

Status ParseMoof(std::string_view moof_whole, uint64_t moof_offset, IndexState* state) {
  auto boxes = ParseBoxes(moof_whole);
  auto children = (boxes && boxes->size() == 1) ? Children(&(*boxes)[0]) : std::nullopt;
  if (!children) {
    return DataLoss("malformed moof");
  }
  uint64_t implicit_base = moof_offset;
  for (const Box& box : *children) {
    if (box.type == FourCc("traf")) {
      KINO_RETURN_IF_ERROR(ParseTraf(box, moof_offset, &implicit_base, state));
    }
  }
  return Status::Ok();
}

// Every run of the file must lie inside one of its mdat payloads.
Status CheckRunsInMdat(const std::vector<DataRange>& runs, const std::vector<DataRange>& mdats) {
  for (const DataRange& run : runs) {
    bool inside = false;
    for (const DataRange& mdat : mdats) {
      inside = inside || (run.begin >= mdat.begin && run.end <= mdat.end);
    }
    if (!inside && run.end > run.begin) {
      return DataLoss("sample data outside every mdat");
    }
  }
  return Status::Ok();
}

// Walks one fragment file's top-level boxes (section 4.2), parsing moof and noting mdat.
Status IndexSegment(const std::string& path, IndexState* state) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return OpenError(path);
  }
  KINO_ASSIGN_OR_RETURN(uint64_t file_size, FileSize(fd.get(), path));
  std::vector<DataRange> mdats;
  state->runs.clear();
  std::string header;
  uint64_t pos = 0;
  while (pos < file_size) {
    size_t header_size = static_cast<size_t>(std::min<uint64_t>(16, file_size - pos));
    KINO_RETURN_IF_ERROR(ReadAt(fd.get(), pos, header_size, &header, path));
    ByteReader r(header);
    uint64_t size = r.U32();
    uint32_t type = r.U32();
    uint64_t payload = 8;
    if (size == 1) {
      size = r.U64();
      payload = 16;
    } else if (size == 0) {
      size = file_size - pos;
    }
    if (!r.ok() || size < payload || size > file_size - pos) {
      return DataLoss(path + ": box " + FourCcText(type) + " runs past the end (truncated)");
    }
    if (type == FourCc("moof")) {
      if (size > kMaxMoofBytes) {
        return ResourceExhausted(path + ": moof too large");
      }
      std::string moof;
      KINO_RETURN_IF_ERROR(ReadAt(fd.get(), pos, size, &moof, path));
      KINO_RETURN_IF_ERROR(ParseMoof(moof, pos, state).Annotate(path));
    } else if (type == FourCc("mdat")) {
      mdats.push_back(DataRange{pos + payload, pos + size});
    }
    pos += size;
  }
  return CheckRunsInMdat(state->runs, mdats).Annotate(path);
}

Result<std::string> ReadInitFile(const std::string& path) {
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return OpenError(path);
  }
  KINO_ASSIGN_OR_RETURN(uint64_t size, FileSize(fd.get(), path));
  if (size > kMaxInitBytes) {
    return ResourceExhausted(path + ": init segment too large");
  }
  std::string data;
  KINO_RETURN_IF_ERROR(ReadAt(fd.get(), 0, size, &data, path));
  return data;
}

}  // namespace

Result<Mp4TrackInfo> ParseInitSegment(const std::string& path, uint32_t handler) {
  KINO_ASSIGN_OR_RETURN(std::string data, ReadInitFile(path));
  auto boxes = ParseBoxes(data);
  const Box* moov = boxes ? FindBox(*boxes, FourCc("moov")) : nullptr;
  if (moov == nullptr) {
    return InvalidArgument(path + " is not an MP4 init segment (no moov)");
  }
  return ParseMoov(*moov, handler, path);
}

Result<Mp4TrackIndex> IndexFragmentedTrack(const FragmentedTrack& track, uint32_t handler) {
  if (track.segment_paths.empty()) {
    return InvalidArgument("rendition " + track.init_path + " has no segments");
  }
  Mp4TrackIndex index;
  KINO_ASSIGN_OR_RETURN(index.info, ParseInitSegment(track.init_path, handler));
  IndexState state;
  state.info = &index.info;
  state.index = &index;
  for (size_t i = 0; i < track.segment_paths.size(); ++i) {
    state.segment = static_cast<uint32_t>(i);
    KINO_RETURN_IF_ERROR(IndexSegment(track.segment_paths[i], &state));
  }
  if (index.samples.empty()) {
    return DataLoss("rendition " + track.init_path + " has no samples");
  }
  return index;
}

}  // namespace kino::media

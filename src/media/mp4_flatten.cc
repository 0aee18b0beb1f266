#include "media/mp4_flatten.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "media/mp4_box.h"

extern "C" {
#include <libavutil/mathematics.h>
}

namespace kino::media {
namespace {

// Tracks are interleaved in chunks of about this much media time, so a player reading the
// file front to back finds audio and video for the same second close together.
constexpr double kChunkSeconds = 1.0;
constexpr uint32_t kTkhdEnabledInMovie = 0x000003;  // track_enabled | track_in_movie (8.3.2)
constexpr uint32_t kUnityRate = 0x00010000;

uint64_t Rescale(uint64_t value, uint32_t from, uint32_t to) {
  return static_cast<uint64_t>(av_rescale(static_cast<int64_t>(value), static_cast<int64_t>(to),
                                          static_cast<int64_t>(from)));
}

// Everything about one output track that the moov needs beyond its index.
struct TrackPlan {
  const Mp4TrackIndex* index = nullptr;
  uint64_t media_duration = 0;  // media timescale
  uint64_t movie_duration = 0;  // output movie timescale
  std::vector<Mp4Edit> edits;   // output movie timescale; empty: no edts box
};

// Rewrites the init's edit list for the progressive file, whose first sample decodes at 0
// instead of the first fragment's tfdt: media times move back by that tfdt (an empty edit makes
// up the difference when one would go negative), durations are rescaled to the output movie
// timescale, and the last media edit's duration, unknown (0) in a fragmented init, becomes the
// rest of the presentation (`presentation_end`: the latest composition time plus duration, which
// with B-frames lies past the sum of the decode durations).
std::vector<Mp4Edit> OutputEdits(const Mp4TrackIndex& track, uint64_t presentation_end,
                                 uint32_t movie_timescale) {
  const Mp4TrackInfo& info = track.info;
  const int64_t shift = static_cast<int64_t>(track.first_decode_time);
  if (!info.has_edit_list && shift == 0) {
    return {};
  }
  std::vector<Mp4Edit> in = info.has_edit_list ? info.edits : std::vector<Mp4Edit>{Mp4Edit{}};
  size_t last_media = in.size();
  for (size_t i = 0; i < in.size(); ++i) {
    last_media = in[i].media_time >= 0 ? i : last_media;
  }

  std::vector<Mp4Edit> out;
  for (size_t i = 0; i < in.size(); ++i) {
    Mp4Edit e = in[i];
    e.segment_duration = Rescale(e.segment_duration, info.movie_timescale, movie_timescale);
    if (e.media_time >= 0) {
      int64_t media_time = e.media_time - shift;
      if (media_time < 0 && out.empty()) {
        uint64_t empty =
            Rescale(static_cast<uint64_t>(-media_time), info.media_timescale, movie_timescale);
        out.push_back(Mp4Edit{empty, -1, kUnityRate});
      }
      e.media_time = std::max<int64_t>(media_time, 0);
      if (i == last_media && e.segment_duration == 0) {
        uint64_t start = static_cast<uint64_t>(e.media_time);
        uint64_t rest = presentation_end - std::min(start, presentation_end);
        e.segment_duration = Rescale(rest, info.media_timescale, movie_timescale);
      }
    }
    out.push_back(e);
  }
  return out;
}

TrackPlan PlanTrack(const Mp4TrackIndex& track, uint32_t movie_timescale) {
  TrackPlan plan;
  plan.index = &track;
  int64_t presentation_end = 0;
  for (const Mp4Sample& s : track.samples) {
    int64_t end = static_cast<int64_t>(plan.media_duration) + s.composition_offset + s.duration;
    presentation_end = std::max(presentation_end, end);
    plan.media_duration += s.duration;
  }
  plan.edits = OutputEdits(track, static_cast<uint64_t>(presentation_end), movie_timescale);
  if (plan.edits.empty()) {
    plan.movie_duration = Rescale(plan.media_duration, track.info.media_timescale, movie_timescale);
  }
  for (const Mp4Edit& e : plan.edits) {
    plan.movie_duration += e.segment_duration;
  }
  return plan;
}

// Cuts each track into chunks of about kChunkSeconds and orders all chunks by start time (the
// stable sort keeps track order on ties, video first).
std::vector<Mp4Chunk> PlanChunks(const std::vector<const Mp4TrackIndex*>& tracks) {
  std::vector<std::pair<double, Mp4Chunk>> timed;
  for (uint32_t t = 0; t < tracks.size(); ++t) {
    const Mp4TrackIndex& track = *tracks[t];
    const double timescale = track.info.media_timescale;
    const uint64_t limit = static_cast<uint64_t>(timescale * kChunkSeconds);
    uint64_t decode_time = 0;
    uint64_t chunk_start = 0;
    Mp4Chunk chunk{t, 0, 0, 0};
    for (uint32_t i = 0; i < track.samples.size(); ++i) {
      if (chunk.sample_count > 0 && decode_time - chunk_start >= limit) {
        timed.emplace_back(static_cast<double>(chunk_start) / timescale, chunk);
        chunk = Mp4Chunk{t, i, 0, 0};
        chunk_start = decode_time;
      }
      chunk.sample_count++;
      chunk.bytes += track.samples[i].size;
      decode_time += track.samples[i].duration;
    }
    timed.emplace_back(static_cast<double>(chunk_start) / timescale, chunk);
  }
  std::stable_sort(timed.begin(), timed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Mp4Chunk> chunks;
  chunks.reserve(timed.size());
  for (const auto& entry : timed) {
    chunks.push_back(entry.second);
  }
  return chunks;
}

// ---- box writers ----

// ftyp (section 4.3).
void WriteFtyp(Mp4Brand brand, BoxWriter* w) {
  w->Begin(FourCc("ftyp"));
  if (brand == Mp4Brand::kM4a) {
    w->U32(FourCc("M4A "));
    w->U32(0);
    for (uint32_t b : {FourCc("M4A "), FourCc("isom"), FourCc("iso2"), FourCc("mp41")}) {
      w->U32(b);
    }
  } else {
    w->U32(FourCc("isom"));
    w->U32(0x200);
    for (uint32_t b : {FourCc("isom"), FourCc("iso2"), FourCc("avc1"), FourCc("mp41")}) {
      w->U32(b);
    }
  }
  w->End();
}

// Writes creation_time, modification_time (both 0: unknown), timescale and duration in the
// layout of `version` (mvhd, tkhd-like and mdhd share it; sections 8.2.2, 8.4.2).
void WriteTimes(uint8_t version, uint32_t timescale, uint64_t duration, BoxWriter* w) {
  if (version == 1) {
    w->U64(0);
    w->U64(0);
    w->U32(timescale);
    w->U64(duration);
  } else {
    w->U32(0);
    w->U32(0);
    w->U32(timescale);
    w->U32(static_cast<uint32_t>(duration));
  }
}

void WriteUnityMatrix(BoxWriter* w) {
  for (uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u}) {
    w->U32(v);
  }
}

// mvhd (section 8.2.2).
void WriteMvhd(uint32_t timescale, uint64_t duration, uint32_t next_track_id, BoxWriter* w) {
  uint8_t version = duration > UINT32_MAX ? 1 : 0;
  w->BeginFull(FourCc("mvhd"), version, 0);
  WriteTimes(version, timescale, duration, w);
  w->U32(kUnityRate);  // rate 1.0
  w->U16(0x0100);      // volume 1.0
  w->Zeros(2 + 8);     // reserved
  WriteUnityMatrix(w);
  w->Zeros(24);  // pre_defined
  w->U32(next_track_id);
  w->End();
}

// tkhd (section 8.3.2): the source's layer, volume, matrix and size kept verbatim.
void WriteTkhd(const TrackPlan& plan, uint32_t track_id, BoxWriter* w) {
  const Mp4TrackInfo& info = plan.index->info;
  uint8_t version = plan.movie_duration > UINT32_MAX ? 1 : 0;
  w->BeginFull(FourCc("tkhd"), version, info.tkhd_flags | kTkhdEnabledInMovie);
  if (version == 1) {
    w->U64(0);
    w->U64(0);
    w->U32(track_id);
    w->U32(0);
    w->U64(plan.movie_duration);
  } else {
    w->U32(0);
    w->U32(0);
    w->U32(track_id);
    w->U32(0);
    w->U32(static_cast<uint32_t>(plan.movie_duration));
  }
  w->Bytes(info.tkhd_tail);
  w->End();
}

// edts + elst (sections 8.6.5, 8.6.6).
void WriteEdts(const std::vector<Mp4Edit>& edits, BoxWriter* w) {
  if (edits.empty()) {
    return;
  }
  bool wide = false;
  for (const Mp4Edit& e : edits) {
    wide = wide || e.segment_duration > UINT32_MAX || e.media_time > INT32_MAX;
  }
  w->Begin(FourCc("edts"));
  w->BeginFull(FourCc("elst"), wide ? 1 : 0, 0);
  w->U32(static_cast<uint32_t>(edits.size()));
  for (const Mp4Edit& e : edits) {
    if (wide) {
      w->U64(e.segment_duration);
      w->U64(static_cast<uint64_t>(e.media_time));
    } else {
      w->U32(static_cast<uint32_t>(e.segment_duration));
      w->U32(static_cast<uint32_t>(static_cast<int32_t>(e.media_time)));
    }
    w->U32(e.media_rate);
  }
  w->End();
  w->End();
}

// Run-length pairs (count, value) of a per-sample quantity.
template <typename T, typename Get>
std::vector<std::pair<uint32_t, T>> RunLengths(const std::vector<Mp4Sample>& samples, Get get) {
  std::vector<std::pair<uint32_t, T>> runs;
  for (const Mp4Sample& s : samples) {
    T v = get(s);
    if (!runs.empty() && runs.back().second == v) {
      runs.back().first++;
    } else {
      runs.emplace_back(1, v);
    }
  }
  return runs;
}

// stts (section 8.6.1.2): decode time deltas.
void WriteStts(const std::vector<Mp4Sample>& samples, BoxWriter* w) {
  auto runs = RunLengths<uint32_t>(samples, [](const Mp4Sample& s) { return s.duration; });
  w->BeginFull(FourCc("stts"), 0, 0);
  w->U32(static_cast<uint32_t>(runs.size()));
  for (const auto& [count, delta] : runs) {
    w->U32(count);
    w->U32(delta);
  }
  w->End();
}

// ctts (section 8.6.1.3): composition offsets, only when some are non-zero (B-frames). Version 1
// (signed) only when an offset is negative, as version 0 readers are the more common.
void WriteCtts(const std::vector<Mp4Sample>& samples, BoxWriter* w) {
  auto runs = RunLengths<int32_t>(samples, [](const Mp4Sample& s) { return s.composition_offset; });
  bool negative = false;
  for (const auto& run : runs) {
    negative = negative || run.second < 0;
  }
  if (runs.size() == 1 && runs[0].second == 0) {
    return;
  }
  w->BeginFull(FourCc("ctts"), negative ? 1 : 0, 0);
  w->U32(static_cast<uint32_t>(runs.size()));
  for (const auto& [count, offset] : runs) {
    w->U32(count);
    w->U32(static_cast<uint32_t>(offset));
  }
  w->End();
}

// stss (section 8.6.2): absent when every sample is a sync sample.
void WriteStss(const std::vector<Mp4Sample>& samples, BoxWriter* w) {
  std::vector<uint32_t> sync;
  for (uint32_t i = 0; i < samples.size(); ++i) {
    if (samples[i].sync) {
      sync.push_back(i + 1);  // 1-based sample numbers
    }
  }
  if (sync.size() == samples.size()) {
    return;
  }
  w->BeginFull(FourCc("stss"), 0, 0);
  w->U32(static_cast<uint32_t>(sync.size()));
  for (uint32_t n : sync) {
    w->U32(n);
  }
  w->End();
}

// stsz (section 8.7.3.2): one size for all when they agree, else a table.
void WriteStsz(const std::vector<Mp4Sample>& samples, BoxWriter* w) {
  bool uniform = std::all_of(samples.begin(), samples.end(),
                             [&](const Mp4Sample& s) { return s.size == samples[0].size; });
  w->BeginFull(FourCc("stsz"), 0, 0);
  w->U32(uniform ? samples[0].size : 0);
  w->U32(static_cast<uint32_t>(samples.size()));
  if (!uniform) {
    for (const Mp4Sample& s : samples) {
      w->U32(s.size);
    }
  }
  w->End();
}

// stsc (section 8.7.4): a new entry whenever samples-per-chunk changes.
void WriteStsc(const std::vector<const Mp4Chunk*>& chunks, BoxWriter* w) {
  std::vector<std::pair<uint32_t, uint32_t>> entries;  // (first_chunk, samples_per_chunk)
  for (uint32_t i = 0; i < chunks.size(); ++i) {
    if (entries.empty() || entries.back().second != chunks[i]->sample_count) {
      entries.emplace_back(i + 1, chunks[i]->sample_count);
    }
  }
  w->BeginFull(FourCc("stsc"), 0, 0);
  w->U32(static_cast<uint32_t>(entries.size()));
  for (const auto& [first_chunk, per_chunk] : entries) {
    w->U32(first_chunk);
    w->U32(per_chunk);
    w->U32(1);  // sample_description_index
  }
  w->End();
}

// stco / co64 (section 8.7.5): absolute file offsets of the chunks.
void WriteChunkOffsets(const std::vector<uint64_t>& offsets, bool co64, BoxWriter* w) {
  w->BeginFull(co64 ? FourCc("co64") : FourCc("stco"), 0, 0);
  w->U32(static_cast<uint32_t>(offsets.size()));
  for (uint64_t offset : offsets) {
    if (co64) {
      w->U64(offset);
    } else {
      w->U32(static_cast<uint32_t>(offset));
    }
  }
  w->End();
}

// The chunks of one track and their absolute offsets.
struct TrackChunks {
  std::vector<const Mp4Chunk*> chunks;
  std::vector<uint64_t> offsets;
};

// trak (section 8.3.1) with mdia (8.4), minf (8.4.4) and a complete stbl (8.5.1).
void WriteTrak(const TrackPlan& plan, uint32_t track_id, const TrackChunks& chunks, bool co64,
               BoxWriter* w) {
  const Mp4TrackInfo& info = plan.index->info;
  const std::vector<Mp4Sample>& samples = plan.index->samples;
  w->Begin(FourCc("trak"));
  WriteTkhd(plan, track_id, w);
  WriteEdts(plan.edits, w);
  w->Begin(FourCc("mdia"));
  uint8_t version = plan.media_duration > UINT32_MAX ? 1 : 0;
  w->BeginFull(FourCc("mdhd"), version, 0);
  WriteTimes(version, info.media_timescale, plan.media_duration, w);
  w->Bytes(info.mdhd_language);
  w->End();
  w->Bytes(info.hdlr);
  w->Begin(FourCc("minf"));
  w->Bytes(info.minf_headers);
  w->Begin(FourCc("stbl"));
  w->Bytes(info.stsd);
  WriteStts(samples, w);
  WriteCtts(samples, w);
  WriteStss(samples, w);
  WriteStsc(chunks.chunks, w);
  WriteStsz(samples, w);
  WriteChunkOffsets(chunks.offsets, co64, w);
  w->End();  // stbl
  w->End();  // minf
  w->End();  // mdia
  w->End();  // trak
}

// moov (section 8.2.1) for a payload starting at file offset `payload_start`.
std::string BuildMoov(const std::vector<TrackPlan>& plans, const std::vector<Mp4Chunk>& chunks,
                      uint32_t movie_timescale, uint64_t payload_start, bool co64) {
  std::vector<TrackChunks> per_track(plans.size());
  uint64_t offset = payload_start;
  for (const Mp4Chunk& chunk : chunks) {
    per_track[chunk.track].chunks.push_back(&chunk);
    per_track[chunk.track].offsets.push_back(offset);
    offset += chunk.bytes;
  }
  uint64_t duration = 0;
  for (const TrackPlan& plan : plans) {
    duration = std::max(duration, plan.movie_duration);
  }

  BoxWriter w;
  w.Begin(FourCc("moov"));
  WriteMvhd(movie_timescale, duration, static_cast<uint32_t>(plans.size() + 1), &w);
  for (uint32_t t = 0; t < plans.size(); ++t) {
    WriteTrak(plans[t], t + 1, per_track[t], co64, &w);
  }
  w.End();
  return w.Take();
}

// mdat header (section 8.1.1); largesize when the box passes 4 GiB.
std::string MdatHeader(uint64_t payload_bytes) {
  BoxWriter w;
  if (payload_bytes + 8 > UINT32_MAX) {
    w.U32(1);
    w.U32(FourCc("mdat"));
    w.U64(payload_bytes + 16);
  } else {
    w.U32(static_cast<uint32_t>(payload_bytes + 8));
    w.U32(FourCc("mdat"));
  }
  return w.Take();
}

}  // namespace

Result<Mp4FlatLayout> FlattenMp4(const std::vector<const Mp4TrackIndex*>& tracks, Mp4Brand brand) {
  if (tracks.empty()) {
    return InvalidArgument("no tracks to write");
  }
  const uint32_t movie_timescale = tracks[0]->info.movie_timescale;
  std::vector<TrackPlan> plans;
  for (const Mp4TrackIndex* track : tracks) {
    plans.push_back(PlanTrack(*track, movie_timescale));
  }

  Mp4FlatLayout layout;
  layout.chunks = PlanChunks(tracks);
  for (const Mp4Chunk& chunk : layout.chunks) {
    layout.payload_bytes += chunk.bytes;
  }
  BoxWriter ftyp;
  WriteFtyp(brand, &ftyp);
  std::string mdat = MdatHeader(layout.payload_bytes);

  // The moov's size depends only on stco vs co64, not on the offset values: size it with
  // stco, switch to co64 if the last byte would pass 4 GiB, then build it for real.
  bool co64 = false;
  uint64_t moov_size = BuildMoov(plans, layout.chunks, movie_timescale, 0, co64).size();
  if (ftyp.data().size() + moov_size + mdat.size() + layout.payload_bytes > UINT32_MAX) {
    co64 = true;
    moov_size = BuildMoov(plans, layout.chunks, movie_timescale, 0, co64).size();
  }
  uint64_t payload_start = ftyp.data().size() + moov_size + mdat.size();
  layout.header = ftyp.Take();
  layout.header += BuildMoov(plans, layout.chunks, movie_timescale, payload_start, co64);
  layout.header += mdat;
  return layout;
}

}  // namespace kino::media

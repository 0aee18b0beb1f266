#include "media/packager.h"

extern "C" {
#include <libavutil/opt.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace kino::media {
namespace {

constexpr int kIoBufferSize = 64 * 1024;

// Fragmented MP4 as CMAF wants it (ISO/IEC 23000-19 section 7.3): an empty moov in the init
// segment, each fragment's data offsets relative to its moof (default-base-is-moof), fragments
// cut only when we ask (frag_custom). frag_discont with edit lists off makes the first tfdt the
// first packet's own decode time, so every rendition keeps the shared timeline instead of each
// being shifted to zero; no mfra trailer, since segments are separate files. Negative
// composition offsets (trun version 1, section 8.8.8) let a B-frame stream's first decode time
// equal its first presentation time, so a track can start at 0 although its first DTS is
// negative.
constexpr const char* kMovFlags =
    "+frag_custom+empty_moov+default_base_moof+frag_discont+skip_trailer+cmaf+negative_cts_offsets";

std::string SegmentName(size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg_%05zu.m4s", index);
  return buf;
}

// avc1.PPCCLL: profile_idc, constraint flags and level_idc (ISO/IEC 14496-10 7.3.2.1.1).
std::string H264Codecs(const uint8_t* data, int size) {
  const uint8_t* sps = nullptr;
  if (size >= 4 && data[0] == 1) {
    sps = data + 1;  // avcC (ISO/IEC 14496-15 5.3.3.1) repeats the three bytes here
  } else {
    for (int i = 0; i + 4 < size; ++i) {  // Annex B: find the SPS NAL unit (type 7)
      if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 && (data[i + 3] & 0x1f) == 7) {
        sps = (i + 7 <= size) ? data + i + 4 : nullptr;
        break;
      }
    }
  }
  if (sps == nullptr) {
    return "";
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "avc1.%02x%02x%02x", sps[0], sps[1], sps[2]);
  return buf;
}

// mp4a.40.<audio object type> (ISO/IEC 14496-3 1.6.2.1: the first five bits).
std::string AacCodecs(const AVCodecParameters* par) {
  int object_type = par->profile >= 0 ? par->profile + 1 : 2;  // FF_PROFILE_AAC_LOW = 1 -> 2
  if (par->extradata_size >= 1) {
    object_type = par->extradata[0] >> 3;
  }
  if (object_type <= 0 || object_type == 31) {
    object_type = 2;
  }
  return "mp4a.40." + std::to_string(object_type);
}

}  // namespace

std::string Rfc6381Codecs(const AVCodecParameters* codecpar) {
  if (codecpar->codec_id == AV_CODEC_ID_H264) {
    return H264Codecs(codecpar->extradata, codecpar->extradata_size);
  }
  if (codecpar->codec_id == AV_CODEC_ID_AAC) {
    return AacCodecs(codecpar);
  }
  return "";
}

// Timestamps on one frame of two passes are the same doubles; the tolerance only absorbs
// rounding in periodic boundaries.
constexpr double kBoundaryTolerance = 1e-6;

SegmentBoundaries SegmentBoundaries::Periodic(double origin, double period) {
  SegmentBoundaries b;
  b.origin_ = origin;
  b.period_ = period > 0 ? period : 1;
  return b;
}

SegmentBoundaries SegmentBoundaries::Explicit(std::vector<double> times) {
  SegmentBoundaries b;
  b.explicit_ = true;
  b.times_ = std::move(times);
  return b;
}

double SegmentBoundaries::Next() const {
  if (explicit_) {
    return index_ < static_cast<int64_t>(times_.size()) ? times_[index_] : HUGE_VAL;
  }
  return origin_ + static_cast<double>(index_) * period_;
}

bool SegmentBoundaries::Take(double t) {
  if (t + kBoundaryTolerance < Next()) {
    return false;
  }
  while (t + kBoundaryTolerance >= Next()) {
    ++index_;
  }
  return true;
}

Result<std::unique_ptr<RenditionWriter>> RenditionWriter::Open(const std::string& dir,
                                                               const AVCodecParameters* codecpar,
                                                               AVRational packet_time_base,
                                                               int timescale) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Internal("creating " + dir + ": " + ec.message());
  }
  std::unique_ptr<RenditionWriter> w(new RenditionWriter());
  w->dir_ = dir;
  w->packet_time_base_ = packet_time_base;

  AVFormatContext* raw = nullptr;
  KINO_RETURN_IF_ERROR(AvStatus(avformat_alloc_output_context2(&raw, nullptr, "mp4", nullptr),
                                "avformat_alloc_output_context2"));
  w->muxer_.reset(raw);
  AVStream* stream = avformat_new_stream(raw, nullptr);
  if (stream == nullptr) {
    return Internal("avformat_new_stream failed");
  }
  KINO_RETURN_IF_ERROR(
      AvStatus(avcodec_parameters_copy(stream->codecpar, codecpar), "avcodec_parameters_copy"));
  stream->codecpar->codec_tag = 0;
  stream->time_base = AVRational{1, timescale};

  // Our AVIOContext: the muxer writes into pending_, and we decide which file the bytes go to.
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) {
    return Internal("av_malloc failed");
  }
  w->io_.reset(avio_alloc_context(buffer, kIoBufferSize, 1, w.get(), nullptr,
                                  &RenditionWriter::OnWrite, nullptr));
  if (!w->io_) {
    av_free(buffer);
    return Internal("avio_alloc_context failed");
  }
  raw->pb = w->io_.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  // Keep our timestamps exactly: libavformat's own shift (for a B-frame stream's negative first
  // DTS) would move this rendition's presentation times off the shared timeline, while the
  // muxer's negative CTS offsets already handle that DTS without moving any presentation.
  raw->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;

  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "movflags", kMovFlags, 0);
  av_dict_set(&opts, "use_editlist", "0", 0);
  int err = avformat_write_header(raw, &opts);
  av_dict_free(&opts);
  KINO_RETURN_IF_ERROR(AvStatus(err, "avformat_write_header"));
  avio_flush(raw->pb);

  // Everything so far is ftyp + moov: the CMAF header.
  w->info_.init_file = "init.mp4";
  w->info_.timescale = stream->time_base.den / std::max(1, stream->time_base.num);
  KINO_RETURN_IF_ERROR(w->WriteBytesTo(dir + "/init.mp4"));
  return w;
}

RenditionWriter::~RenditionWriter() {
  if (muxer_) {
    muxer_->pb = nullptr;  // ours, freed by io_
  }
  muxer_.reset();
  io_.reset();
}

int RenditionWriter::OnWrite(void* opaque, uint8_t* data, int size) {
  auto* self = static_cast<RenditionWriter*>(opaque);
  self->pending_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
  return size;
}

Status RenditionWriter::WriteBytesTo(const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(pending_.data(), static_cast<std::streamsize>(pending_.size()));
  out.close();
  if (!out) {
    return Internal("writing " + path + " failed");
  }
  pending_.clear();
  return Status::Ok();
}

Status RenditionWriter::Write(const AVPacket& packet, bool cut) {
  AvPacketPtr next = MakePacket();
  KINO_RETURN_IF_ERROR(AvStatus(av_packet_ref(next.get(), &packet), "av_packet_ref"));
  next->stream_index = 0;
  av_packet_rescale_ts(next.get(), packet_time_base_, muxer_->streams[0]->time_base);
  if (next->dts == AV_NOPTS_VALUE) {
    next->dts = next->pts;
  }

  // The held packet lasts until this one starts: exact durations keep each fragment's
  // baseMediaDecodeTime on the source timeline (the muxer derives it from durations).
  if (held_) {
    if (next->dts > held_->dts) {
      held_->duration = next->dts - held_->dts;
    }
    KINO_RETURN_IF_ERROR(Emit(held_.get()));
    held_.reset();
  }
  if (cut && segment_open_) {
    KINO_RETURN_IF_ERROR(CloseSegment());
  }
  if (!segment_open_) {
    starts_.push_back(next->pts);
    segment_open_ = true;
  }
  held_ = std::move(next);
  return Status::Ok();
}

Status RenditionWriter::Emit(AVPacket* packet) {
  if (packet->duration <= 0) {
    packet->duration = last_duration_;
  }
  last_duration_ = packet->duration;
  end_ticks_ = std::max(end_ticks_, packet->pts + packet->duration);
  return AvStatus(av_write_frame(muxer_.get(), packet), "av_write_frame");
}

Status RenditionWriter::CloseSegment() {
  // frag_custom: a null packet makes the muxer write the buffered samples as one fragment.
  KINO_RETURN_IF_ERROR(AvStatus(av_write_frame(muxer_.get(), nullptr), "av_write_frame(flush)"));
  avio_flush(muxer_->pb);
  std::string name = SegmentName(info_.segment_files.size() + 1);
  sizes_.push_back(static_cast<int64_t>(pending_.size()));
  KINO_RETURN_IF_ERROR(WriteBytesTo(dir_ + "/" + name));
  info_.segment_files.push_back(name);
  segment_open_ = false;
  return Status::Ok();
}

Status RenditionWriter::Finish() {
  if (finished_) {
    return Status::Ok();
  }
  finished_ = true;
  if (held_) {
    KINO_RETURN_IF_ERROR(Emit(held_.get()));
    held_.reset();
  }
  if (segment_open_) {
    KINO_RETURN_IF_ERROR(CloseSegment());
  }
  KINO_RETURN_IF_ERROR(AvStatus(av_write_trailer(muxer_.get()), "av_write_trailer"));
  pending_.clear();  // skip_trailer: nothing of use follows the last fragment

  // Timeline: each segment lasts until the next one starts; the last until the end.
  double scale = static_cast<double>(info_.timescale);
  int64_t total_bytes = 0;
  info_.start_ticks = starts_.empty() ? 0 : starts_.front();
  for (size_t i = 0; i < starts_.size(); ++i) {
    int64_t end = i + 1 < starts_.size() ? starts_[i + 1] : end_ticks_;
    int64_t ticks = std::max<int64_t>(end - starts_[i], 1);
    double seconds = static_cast<double>(ticks) / scale;
    info_.segment_ticks.push_back(ticks);
    info_.segment_durations.push_back(seconds);
    info_.duration_s += seconds;
    total_bytes += sizes_[i];
    info_.bandwidth = std::max(info_.bandwidth,
                               static_cast<int64_t>(static_cast<double>(sizes_[i]) * 8 / seconds));
  }
  if (info_.duration_s > 0) {
    info_.average_bandwidth =
        static_cast<int64_t>(static_cast<double>(total_bytes) * 8 / info_.duration_s);
  }
  return Status::Ok();
}

}  // namespace kino::media

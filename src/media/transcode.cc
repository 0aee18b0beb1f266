#include "media/transcode.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
}

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "media/av_util.h"
#include "media/manifest.h"
#include "media/packager.h"
#include "media/transcode_plan.h"

namespace kino::media {
namespace {

constexpr int kAacFrameSamples = 1024;
constexpr double kProgressInterval = 0.5;  // seconds between OnProgress calls

// ---------------------------------------------------------------------------------------------
// Shared helpers.

double Seconds(int64_t ts, AVRational tb) {
  return static_cast<double>(ts) * av_q2d(tb);
}

bool IsMovFamily(const AVFormatContext* ctx) {
  return std::string_view(ctx->iformat->name).find("mp4") != std::string_view::npos;
}

// The track timescale for packets timed in `tb`: the time base itself when it is a plain
// 1/N clock, else 90 kHz (the MPEG systems clock, fine for any frame rate).
int TimescaleFor(AVRational tb) {
  if (tb.num == 1 && tb.den >= 1000 && tb.den <= 1000000) {
    return tb.den;
  }
  return 90000;
}

// Calls OnProgress at most every kProgressInterval, mapping a pass's own 0..1 into the slice
// [begin, end) of the whole job.
class Progress {
 public:
  Progress(ProcessObserver* observer, double duration_s)
      : observer_(observer), duration_s_(duration_s) {}

  void SetSlice(double begin, double end) {
    begin_ = begin;
    end_ = end;
  }
  void At(double seconds) {
    if (observer_ == nullptr || duration_s_ <= 0) {
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::duration<double>(kProgressInterval)) {
      return;
    }
    last_ = now;
    double fraction = std::clamp(seconds / duration_s_, 0.0, 1.0);
    observer_->OnProgress(begin_ + fraction * (end_ - begin_));
  }
  bool Cancelled() const { return observer_ != nullptr && observer_->Cancelled(); }

 private:
  ProcessObserver* observer_;
  double duration_s_;
  double begin_ = 0, end_ = 1;
  std::chrono::steady_clock::time_point last_{};
};

// The opened source. Packets read through Read() are moved onto the output timeline: the
// container start time becomes 0.
class Source {
 public:
  static Result<Source> Open(const std::string& path) {
    AVFormatContext* raw = nullptr;
    KINO_RETURN_IF_ERROR(
        AvStatus(avformat_open_input(&raw, path.c_str(), nullptr, nullptr), "avformat_open_input"));
    Source s;
    s.ctx_.reset(raw);
    KINO_RETURN_IF_ERROR(
        AvStatus(avformat_find_stream_info(raw, nullptr), "avformat_find_stream_info"));
    s.start_ = raw->start_time != AV_NOPTS_VALUE ? raw->start_time : 0;
    return s;
  }

  AVFormatContext* ctx() const { return ctx_.get(); }
  AVStream* stream(int index) const { return ctx_->streams[index]; }

  // False at the end of the file; an error Status when reading fails part-way.
  Result<bool> Read(AVPacket* packet) {
    int err = av_read_frame(ctx_.get(), packet);
    if (err == AVERROR_EOF) {
      return false;
    }
    KINO_RETURN_IF_ERROR(AvStatus(err, "av_read_frame"));
    int64_t shift = av_rescale_q(start_, AV_TIME_BASE_Q, stream(packet->stream_index)->time_base);
    if (packet->pts != AV_NOPTS_VALUE) {
      packet->pts -= shift;
    }
    if (packet->dts != AV_NOPTS_VALUE) {
      packet->dts -= shift;
    }
    return true;
  }

  // Back to the first packet, for a second pass.
  Status Rewind() {
    return AvStatus(avformat_seek_file(ctx_.get(), -1, INT64_MIN, INT64_MIN, INT64_MIN, 0),
                    "avformat_seek_file");
  }

 private:
  AvInputPtr ctx_;
  int64_t start_ = 0;  // AV_TIME_BASE units
};

Result<AvCodecContextPtr> OpenDecoder(const AVStream* stream) {
  const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
  if (codec == nullptr) {
    return Internal(std::string("no decoder for ") + avcodec_get_name(stream->codecpar->codec_id));
  }
  AvCodecContextPtr dec(avcodec_alloc_context3(codec));
  if (!dec) {
    return Internal("avcodec_alloc_context3 failed");
  }
  KINO_RETURN_IF_ERROR(AvStatus(avcodec_parameters_to_context(dec.get(), stream->codecpar),
                                "avcodec_parameters_to_context"));
  dec->pkt_timebase = stream->time_base;
  dec->thread_count = 0;
  KINO_RETURN_IF_ERROR(
      AvStatus(avcodec_open2(dec.get(), codec, nullptr), "avcodec_open2(decoder)"));
  return dec;
}

// Sends one packet (null: end of stream) to `dec` and hands each frame it releases to
// `on_frame`. A packet the decoder rejects as invalid is skipped: damaged frames in an upload
// are tolerated, like players do.
template <typename OnFrame>
Status Decode(AVCodecContext* dec, const AVPacket* packet, AVFrame* frame, OnFrame on_frame) {
  int err = avcodec_send_packet(dec, packet);
  if (err == AVERROR_INVALIDDATA) {
    return Status::Ok();
  }
  if (err < 0 && err != AVERROR_EOF) {
    return AvStatus(err, "avcodec_send_packet");
  }
  while (true) {
    err = avcodec_receive_frame(dec, frame);
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) {
      return Status::Ok();
    }
    if (err == AVERROR_INVALIDDATA) {
      continue;
    }
    KINO_RETURN_IF_ERROR(AvStatus(err, "avcodec_receive_frame"));
    Status handled = on_frame(frame);
    av_frame_unref(frame);
    KINO_RETURN_IF_ERROR(handled);
  }
}

// Sends one frame (null: flush) to `enc` and hands each packet it releases to `on_packet`.
template <typename OnPacket>
Status Encode(AVCodecContext* enc, const AVFrame* frame, AVPacket* packet, OnPacket on_packet) {
  int err = avcodec_send_frame(enc, frame);
  if (err < 0 && err != AVERROR_EOF) {
    return AvStatus(err, "avcodec_send_frame");
  }
  while (true) {
    err = avcodec_receive_packet(enc, packet);
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) {
      return Status::Ok();
    }
    KINO_RETURN_IF_ERROR(AvStatus(err, "avcodec_receive_packet"));
    Status handled = on_packet(packet);
    av_packet_unref(packet);
    KINO_RETURN_IF_ERROR(handled);
  }
}

// ---------------------------------------------------------------------------------------------
// Stream copy: the source's packets cut into segments as they are.

class CopiedTrack {
 public:
  static Result<std::unique_ptr<CopiedTrack>> Open(const std::string& dir, const AVStream* stream,
                                                   SegmentBoundaries boundaries) {
    auto t = std::unique_ptr<CopiedTrack>(new CopiedTrack(std::move(boundaries)));
    t->time_base_ = stream->time_base;
    t->video_ = stream->codecpar->codec_type == AVMEDIA_TYPE_VIDEO;
    int timescale = t->video_ ? TimescaleFor(stream->time_base) : stream->codecpar->sample_rate;
    KINO_ASSIGN_OR_RETURN(
        t->writer_, RenditionWriter::Open(dir, stream->codecpar, stream->time_base, timescale));
    t->codecs_ = Rfc6381Codecs(stream->codecpar);
    return t;
  }

  // Video starts at its first keyframe; audio keeps its priming packets but moves them so the
  // first starts at 0 rather than before it (a fragment cannot start at a negative time).
  Status Write(AVPacket* packet) {
    bool key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
    if (packet->pts == AV_NOPTS_VALUE || (!started_ && video_ && !key)) {
      return Status::Ok();
    }
    if (!started_) {
      started_ = true;
      shift_ = packet->pts < 0 && !video_ ? -packet->pts : 0;
    }
    packet->pts += shift_;
    if (packet->dts != AV_NOPTS_VALUE) {
      packet->dts += shift_;
    }
    double t = Seconds(packet->pts, time_base_);
    // Boundaries are met at the source's own times, so a shifted audio track still ends its
    // segments where the video's end instead of leaving a sliver of a last segment.
    bool cut = key && boundaries_.Take(std::max(0.0, Seconds(packet->pts - shift_, time_base_)));
    if (cut) {
      cut_times_.push_back(t);
    }
    last_time_ = t;
    return writer_->Write(*packet, cut);
  }

  Status Finish() { return writer_->Finish(); }
  const RenditionInfo& info() const { return writer_->info(); }
  const std::string& codecs() const { return codecs_; }
  const std::vector<double>& cut_times() const { return cut_times_; }
  double last_time() const { return last_time_; }

 private:
  explicit CopiedTrack(SegmentBoundaries boundaries) : boundaries_(std::move(boundaries)) {}

  SegmentBoundaries boundaries_;
  AVRational time_base_{1, 1};
  bool video_ = false;
  bool started_ = false;
  int64_t shift_ = 0;
  double last_time_ = 0;
  std::vector<double> cut_times_;
  std::unique_ptr<RenditionWriter> writer_;
  std::string codecs_;
};

// ---------------------------------------------------------------------------------------------
// Video: one decoder, one filter graph splitting into every rung, one x264 encoder per rung.

struct EncodeSettings {
  std::string preset;
  int crf = 23;
  int threads = 0;
  double fps = 0;
  double gop_seconds = 2;
  bool tone_mapped = false;  // the pictures are BT.709 now, whatever the source said
};

// One encoded rung: opened on its first filtered frame, so it takes the sink's time base.
class EncodedRung {
 public:
  EncodedRung(RungPlan plan, std::string dir, SegmentBoundaries boundaries, EncodeSettings settings)
      : plan_(std::move(plan)),
        dir_(std::move(dir)),
        settings_(std::move(settings)),
        force_(boundaries),
        cut_(std::move(boundaries)),
        packet_(MakePacket()) {}

  // Encodes one frame from the rung's sink; forces a keyframe where a segment must start.
  Status Encode(AVFrame* frame, AVRational tb, AVRational frame_rate) {
    if (!enc_) {
      KINO_RETURN_IF_ERROR(OpenEncoder(*frame, tb, frame_rate));
    }
    bool force = force_.Take(Seconds(frame->pts, tb));
    frame->pict_type = force ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    return media::Encode(enc_.get(), frame, packet_.get(), [&](AVPacket* p) { return Mux(p); });
  }

  Status Finish() {
    if (!enc_) {
      return Internal("rendition " + plan_.name + " received no frames");
    }
    KINO_RETURN_IF_ERROR(
        media::Encode(enc_.get(), nullptr, packet_.get(), [&](AVPacket* p) { return Mux(p); }));
    return writer_->Finish();
  }

  RenditionInfo Info(double fps) const {
    RenditionInfo info = writer_->info();
    info.name = plan_.name;
    info.kind = RenditionKind::kVideo;
    info.width = plan_.width;
    info.height = plan_.height;
    info.fps = fps;
    info.codecs = codecs_;
    return info;
  }

 private:
  Status OpenEncoder(const AVFrame& first, AVRational tb, AVRational frame_rate);

  Status Mux(AVPacket* packet) {
    bool key = (packet->flags & AV_PKT_FLAG_KEY) != 0;
    bool cut = key && cut_.Take(Seconds(packet->pts, enc_->time_base));
    return writer_->Write(*packet, cut);
  }

  RungPlan plan_;
  std::string dir_;
  EncodeSettings settings_;
  SegmentBoundaries force_;  // decides keyframes, frame by frame in presentation order
  SegmentBoundaries cut_;    // the same boundaries, met again by the keyframes' packets
  AvCodecContextPtr enc_;
  AvPacketPtr packet_;
  std::unique_ptr<RenditionWriter> writer_;
  std::string codecs_;
};

Status EncodedRung::OpenEncoder(const AVFrame& first, AVRational tb, AVRational frame_rate) {
  KINO_ASSIGN_OR_RETURN(enc_, AllocEncoder(avcodec_find_encoder_by_name("libx264"), "libx264"));
  AVCodecContext* c = enc_.get();
  c->width = first.width;
  c->height = first.height;
  c->pix_fmt = AV_PIX_FMT_YUV420P;
  c->sample_aspect_ratio = AVRational{1, 1};
  c->time_base = tb;
  // x264 picks the H.264 level from the frame rate, so an unknown rate must not fall back to
  // the time base's.
  c->framerate =
      frame_rate.num > 0 && frame_rate.den > 0 ? frame_rate : av_d2q(settings_.fps, 100000);
  c->color_range = AVCOL_RANGE_MPEG;
  c->color_primaries = settings_.tone_mapped ? AVCOL_PRI_BT709 : first.color_primaries;
  c->color_trc = settings_.tone_mapped ? AVCOL_TRC_BT709 : first.color_trc;
  c->colorspace = settings_.tone_mapped ? AVCOL_SPC_BT709 : first.colorspace;
  c->gop_size = std::max(1, static_cast<int>(std::lround(settings_.fps * settings_.gop_seconds)));
  c->rc_max_rate = plan_.max_bitrate;
  c->rc_buffer_size = static_cast<int>(plan_.buffer_size);
  c->thread_count = settings_.threads;
  c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // avcC in the init segment, not in-band SPS/PPS
  c->profile = FF_PROFILE_H264_HIGH;

  AVDictionary* raw = nullptr;
  av_dict_set(&raw, "preset", settings_.preset.c_str(), 0);
  av_dict_set(&raw, "crf", std::to_string(settings_.crf).c_str(), 0);
  // Keyframes we force are IDR pictures, and GOPs are closed (x264's default), so every
  // segment starts with a picture that decodes on its own (ISO/IEC 23000-19 7.3.2.2).
  av_dict_set(&raw, "forced-idr", "1", 0);
  AvDictionaryPtr opts(raw);
  raw = opts.release();
  int err = avcodec_open2(c, c->codec, &raw);
  opts.reset(raw);
  KINO_RETURN_IF_ERROR(AvStatus(err, "avcodec_open2(libx264 " + plan_.name + ")"));

  AvCodecParametersPtr par(avcodec_parameters_alloc());
  if (!par) {
    return Internal("avcodec_parameters_alloc failed");
  }
  KINO_RETURN_IF_ERROR(
      AvStatus(avcodec_parameters_from_context(par.get(), c), "avcodec_parameters_from_context"));
  codecs_ = Rfc6381Codecs(par.get());
  KINO_ASSIGN_OR_RETURN(writer_,
                        RenditionWriter::Open(dir_, par.get(), c->time_base, TimescaleFor(tb)));
  return Status::Ok();
}

// What the ladder's filters must correct in the decoded pictures besides size.
struct PictureFixes {
  bool interlaced = false;
  bool drop_frames = false;  // the source is faster than max_fps
  // SMPTE ST 2084 (PQ) or ARIB STD-B67 (HLG) sources are tone-mapped to BT.709 SDR.
  AVColorTransferCharacteristic hdr_transfer = AVCOL_TRC_UNSPECIFIED;
};

// The filters that turn a decoded picture upright, at most max_fps and into every rung.
std::string LadderFilters(const ProbeInfo& info, const LadderPlan& plan,
                          const std::vector<const RungPlan*>& rungs, const PictureFixes& fixes) {
  std::string chain = "[in]";
  std::vector<std::string> steps;
  if (fixes.interlaced) {
    steps.push_back("bwdif=deint=interlaced");
  }
  if (IsHdrTransfer(fixes.hdr_transfer)) {
    steps.push_back(HdrToSdrFilters(fixes.hdr_transfer));
  }
  // ProbeInfo::rotation is clockwise, as transpose's "clock" direction.
  if (info.rotation == 90) {
    steps.push_back("transpose=clock");
  } else if (info.rotation == 270) {
    steps.push_back("transpose=cclock");
  } else if (info.rotation == 180) {
    steps.push_back("hflip,vflip");
  }
  if (fixes.drop_frames) {
    char fps[64];
    std::snprintf(fps, sizeof(fps), "fps=%.6f", plan.output_fps);
    steps.push_back(fps);
  }
  steps.push_back("split=" + std::to_string(rungs.size()));
  for (size_t i = 0; i < steps.size(); ++i) {
    chain += (i > 0 ? "," : "") + steps[i];
  }
  for (size_t i = 0; i < rungs.size(); ++i) {
    chain += "[s" + std::to_string(i) + "]";
  }
  // Scaling to the rung's exact display size also squares non-square pixels; 10-bit and
  // 4:2:2/4:4:4 sources become 8-bit 4:2:0 in the same step; full range becomes limited.
  for (size_t i = 0; i < rungs.size(); ++i) {
    chain += ";[s" + std::to_string(i) + "]scale=w=" + std::to_string(rungs[i]->width) +
             ":h=" + std::to_string(rungs[i]->height) +
             ":flags=bicubic:out_range=tv,format=yuv420p,setsar=1[out" + std::to_string(i) + "]";
  }
  return chain;
}

class VideoLadder {
 public:
  VideoLadder(const AVStream* stream, std::string filters, double fps)
      : stream_(stream),
        filters_(std::move(filters)),
        fps_(fps),
        frame_(MakeFrame()),
        filtered_(MakeFrame()) {}

  Status Open() {
    KINO_ASSIGN_OR_RETURN(dec_, OpenDecoder(stream_));
    return Status::Ok();
  }
  void AddRung(std::unique_ptr<EncodedRung> rung) { rungs_.push_back(std::move(rung)); }

  Status Write(const AVPacket* packet) {
    return Decode(dec_.get(), packet, frame_.get(), [&](AVFrame* f) { return Filter(f); });
  }

  Status Finish() {
    KINO_RETURN_IF_ERROR(Write(nullptr));
    if (!graph_.graph) {
      return Internal("no video frame decoded");
    }
    KINO_RETURN_IF_ERROR(
        AvStatus(av_buffersrc_add_frame_flags(graph_.source, nullptr, 0), "av_buffersrc(eof)"));
    KINO_RETURN_IF_ERROR(Drain());
    for (auto& rung : rungs_) {
      KINO_RETURN_IF_ERROR(rung->Finish());
    }
    return Status::Ok();
  }

  std::vector<RenditionInfo> Infos() const {
    std::vector<RenditionInfo> infos;
    for (const auto& rung : rungs_) {
      infos.push_back(rung->Info(fps_));
    }
    return infos;
  }
  double last_time() const { return last_time_; }

 private:
  // Pictures go into the graph in increasing time order; a frame without a timestamp follows
  // the previous one by a frame period, and one that goes back in time is dropped.
  Status Filter(AVFrame* frame) {
    int64_t pts = frame->best_effort_timestamp;
    int64_t period =
        std::max<int64_t>(1, av_rescale_q(1, av_inv_q(av_d2q(fps_, 100000)), stream_->time_base));
    if (pts == AV_NOPTS_VALUE) {
      pts = last_pts_ == AV_NOPTS_VALUE ? 0 : last_pts_ + period;
    }
    if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) {
      return Status::Ok();
    }
    last_pts_ = pts;
    frame->pts = pts;
    last_time_ = Seconds(pts, stream_->time_base);
    if (!graph_.graph) {
      KINO_ASSIGN_OR_RETURN(graph_, MakeVideoGraph(*frame, stream_->time_base, filters_,
                                                   static_cast<int>(rungs_.size())));
    }
    KINO_RETURN_IF_ERROR(
        AvStatus(av_buffersrc_add_frame_flags(graph_.source, frame, AV_BUFFERSRC_FLAG_KEEP_REF),
                 "av_buffersrc_add_frame_flags"));
    return Drain();
  }

  // Moves every frame the sinks hold into their encoders.
  Status Drain() {
    for (size_t i = 0; i < rungs_.size(); ++i) {
      AVFilterContext* sink = graph_.sinks[i];
      while (true) {
        int err = av_buffersink_get_frame(sink, filtered_.get());
        if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) {
          break;
        }
        KINO_RETURN_IF_ERROR(AvStatus(err, "av_buffersink_get_frame"));
        Status encoded = rungs_[i]->Encode(filtered_.get(), av_buffersink_get_time_base(sink),
                                           av_buffersink_get_frame_rate(sink));
        av_frame_unref(filtered_.get());
        KINO_RETURN_IF_ERROR(encoded);
      }
    }
    return Status::Ok();
  }

  const AVStream* stream_;
  std::string filters_;
  double fps_;
  AvCodecContextPtr dec_;
  VideoGraph graph_;
  AvFramePtr frame_, filtered_;
  int64_t last_pts_ = AV_NOPTS_VALUE;
  double last_time_ = 0;
  std::vector<std::unique_ptr<EncodedRung>> rungs_;
};

// ---------------------------------------------------------------------------------------------
// Audio: decode, resample to AAC's planar float (stereo, or mono for mono), encode 1024-sample
// frames with FFmpeg's native AAC-LC encoder.

class AudioTrack {
 public:
  AudioTrack(const AVStream* stream, std::string dir, int bitrate, SegmentBoundaries boundaries)
      : stream_(stream),
        dir_(std::move(dir)),
        bitrate_(bitrate),
        boundaries_(std::move(boundaries)),
        frame_(MakeFrame()),
        resampled_(MakeFrame()),
        chunk_(MakeFrame()),
        packet_(MakePacket()) {}

  Status Open() {
    KINO_ASSIGN_OR_RETURN(dec_, OpenDecoder(stream_));
    return OpenEncoder();
  }

  Status Write(const AVPacket* packet) {
    return Decode(dec_.get(), packet, frame_.get(), [&](AVFrame* f) { return Resample(f); });
  }

  Status Finish() {
    KINO_RETURN_IF_ERROR(Write(nullptr));
    if (swr_) {
      KINO_RETURN_IF_ERROR(Resample(nullptr));
    }
    KINO_RETURN_IF_ERROR(EncodeFifo(/*final=*/true));
    KINO_RETURN_IF_ERROR(
        media::Encode(enc_.get(), nullptr, packet_.get(), [&](AVPacket* p) { return Mux(p); }));
    return writer_->Finish();
  }

  RenditionInfo Info() const {
    RenditionInfo info = writer_->info();
    info.name = "audio";
    info.kind = RenditionKind::kAudio;
    info.codecs = codecs_;
    return info;
  }

 private:
  // Mono stays mono; everything else becomes stereo (swresample's default downmix matrix, with
  // ITU-R BS.775 centre and surround levels). 44.1 and 48 kHz are kept, others become 48 kHz.
  Status OpenEncoder() {
    const AVCodecParameters* in = stream_->codecpar;
    KINO_ASSIGN_OR_RETURN(enc_, AllocEncoder(avcodec_find_encoder_by_name("aac"), "aac"));
    AVCodecContext* c = enc_.get();
    int channels = in->ch_layout.nb_channels == 1 ? 1 : 2;
    av_channel_layout_default(&c->ch_layout, channels);
    c->sample_rate =
        (in->sample_rate == 44100 || in->sample_rate == 48000) ? in->sample_rate : 48000;
    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
    c->bit_rate = bitrate_;
    c->profile = FF_PROFILE_AAC_LOW;
    c->time_base = AVRational{1, c->sample_rate};
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // AudioSpecificConfig for the esds box
    KINO_RETURN_IF_ERROR(AvStatus(avcodec_open2(c, c->codec, nullptr), "avcodec_open2(aac)"));

    AvCodecParametersPtr par(avcodec_parameters_alloc());
    if (!par) {
      return Internal("avcodec_parameters_alloc failed");
    }
    KINO_RETURN_IF_ERROR(
        AvStatus(avcodec_parameters_from_context(par.get(), c), "avcodec_parameters_from_context"));
    codecs_ = Rfc6381Codecs(par.get());
    KINO_ASSIGN_OR_RETURN(writer_,
                          RenditionWriter::Open(dir_, par.get(), c->time_base, c->sample_rate));
    fifo_.reset(av_audio_fifo_alloc(c->sample_fmt, channels, 4 * kAacFrameSamples));
    if (!fifo_) {
      return Internal("av_audio_fifo_alloc failed");
    }
    return Status::Ok();
  }

  // The resampler is made for the first decoded frame's actual layout and rate; the encoder's
  // clock starts at that frame's time.
  Status OpenResampler(AVFrame& first) {
    SwrContext* raw = nullptr;
    int err = swr_alloc_set_opts2(&raw, &enc_->ch_layout, enc_->sample_fmt, enc_->sample_rate,
                                  &first.ch_layout, static_cast<AVSampleFormat>(first.format),
                                  first.sample_rate, 0, nullptr);
    swr_.reset(raw);
    KINO_RETURN_IF_ERROR(AvStatus(err, "swr_alloc_set_opts2"));
    KINO_RETURN_IF_ERROR(AvStatus(swr_init(swr_.get()), "swr_init"));

    int64_t pts = first.best_effort_timestamp;
    next_pts_ = pts == AV_NOPTS_VALUE
                    ? 0
                    : std::max<int64_t>(0, av_rescale_q(pts, stream_->time_base, enc_->time_base));
    return Status::Ok();
  }

  // Converts one decoded frame (null: what the resampler still holds) into the FIFO.
  Status Resample(AVFrame* frame) {
    // Channels in an unspecified order (e.g. PCM in Matroska) are taken in the default order
    // for their count, so the resampler knows which to mix where.
    if (frame != nullptr && frame->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      int channels = frame->ch_layout.nb_channels;
      av_channel_layout_uninit(&frame->ch_layout);
      av_channel_layout_default(&frame->ch_layout, channels);
    }
    if (!swr_) {
      KINO_RETURN_IF_ERROR(OpenResampler(*frame));
    }
    av_frame_unref(resampled_.get());
    resampled_->sample_rate = enc_->sample_rate;
    resampled_->format = enc_->sample_fmt;
    KINO_RETURN_IF_ERROR(AvStatus(av_channel_layout_copy(&resampled_->ch_layout, &enc_->ch_layout),
                                  "av_channel_layout_copy"));
    int err = swr_convert_frame(swr_.get(), resampled_.get(), frame);
    if (err == AVERROR_INPUT_CHANGED || err == AVERROR_OUTPUT_CHANGED) {
      // TODO: a mid-stream change of layout or rate is dropped rather than resampled again;
      // the rendition then ends early by the rest of the stream.
      return Status::Ok();
    }
    KINO_RETURN_IF_ERROR(AvStatus(err, "swr_convert_frame"));
    if (resampled_->nb_samples > 0) {
      int wrote = av_audio_fifo_write(fifo_.get(), reinterpret_cast<void**>(resampled_->data),
                                      resampled_->nb_samples);
      KINO_RETURN_IF_ERROR(AvStatus(wrote, "av_audio_fifo_write"));
    }
    return EncodeFifo(/*final=*/false);
  }

  // Encodes whole 1024-sample frames from the FIFO, and with `final` the short remainder too.
  Status EncodeFifo(bool final) {
    while (av_audio_fifo_size(fifo_.get()) >= kAacFrameSamples ||
           (final && av_audio_fifo_size(fifo_.get()) > 0)) {
      int samples = std::min(av_audio_fifo_size(fifo_.get()), kAacFrameSamples);
      av_frame_unref(chunk_.get());
      chunk_->nb_samples = samples;
      chunk_->format = enc_->sample_fmt;
      chunk_->sample_rate = enc_->sample_rate;
      KINO_RETURN_IF_ERROR(AvStatus(av_channel_layout_copy(&chunk_->ch_layout, &enc_->ch_layout),
                                    "av_channel_layout_copy"));
      KINO_RETURN_IF_ERROR(AvStatus(av_frame_get_buffer(chunk_.get(), 0), "av_frame_get_buffer"));
      int read = av_audio_fifo_read(fifo_.get(), reinterpret_cast<void**>(chunk_->data), samples);
      KINO_RETURN_IF_ERROR(AvStatus(read, "av_audio_fifo_read"));
      chunk_->pts = next_pts_;
      next_pts_ += samples;
      KINO_RETURN_IF_ERROR(media::Encode(enc_.get(), chunk_.get(), packet_.get(),
                                         [&](AVPacket* p) { return Mux(p); }));
    }
    return Status::Ok();
  }

  // The encoder's packets start initial_padding (priming) samples before the first frame;
  // moving them later by that much keeps the first fragment at a non-negative time.
  // TODO: without an edit list the priming samples play as 21 ms of leading silence, so audio
  // lags video by that much; an edit list (ISO/IEC 14496-12 8.6.6) in the init would hide it.
  Status Mux(AVPacket* packet) {
    bool cut = boundaries_.Take(std::max(0.0, Seconds(packet->pts, enc_->time_base)));
    packet->pts += enc_->initial_padding;
    packet->dts += enc_->initial_padding;
    return writer_->Write(*packet, cut);
  }

  const AVStream* stream_;
  std::string dir_;
  int bitrate_;
  SegmentBoundaries boundaries_;
  AvCodecContextPtr dec_, enc_;
  SwrPtr swr_;
  AvAudioFifoPtr fifo_;
  AvFramePtr frame_, resampled_, chunk_;
  AvPacketPtr packet_;
  int64_t next_pts_ = 0;
  std::unique_ptr<RenditionWriter> writer_;
  std::string codecs_;
};

// ---------------------------------------------------------------------------------------------
// Passes over the source.

// What one pass over the source feeds; any member may be absent.
struct Pass {
  std::unique_ptr<CopiedTrack> copy_video;
  std::unique_ptr<CopiedTrack> copy_audio;
  std::unique_ptr<VideoLadder> ladder;
  std::unique_ptr<AudioTrack> audio;
};

Status RunPass(Source& source, const ProbeInfo& info, Pass& pass, Progress& progress) {
  AvPacketPtr packet = MakePacket();
  while (true) {
    if (progress.Cancelled()) {
      return Cancelled("processing cancelled");
    }
    KINO_ASSIGN_OR_RETURN(bool more, source.Read(packet.get()));
    if (!more) {
      break;
    }
    int index = packet->stream_index;
    Status fed = Status::Ok();
    if (index == info.video_stream_index) {
      if (pass.copy_video) {
        fed = pass.copy_video->Write(packet.get());
        progress.At(pass.copy_video->last_time());
      }
      if (fed.ok() && pass.ladder) {
        fed = pass.ladder->Write(packet.get());
        progress.At(pass.ladder->last_time());
      }
    } else if (index == info.audio_stream_index) {
      if (pass.copy_audio) {
        fed = pass.copy_audio->Write(packet.get());
      } else if (pass.audio) {
        fed = pass.audio->Write(packet.get());
      }
    }
    av_packet_unref(packet.get());
    KINO_RETURN_IF_ERROR(fed);
  }

  // End of file: drain and close every rendition.
  for (CopiedTrack* t : {pass.copy_video.get(), pass.copy_audio.get()}) {
    if (t != nullptr) {
      KINO_RETURN_IF_ERROR(t->Finish());
    }
  }
  if (pass.ladder) {
    KINO_RETURN_IF_ERROR(pass.ladder->Finish());
  }
  if (pass.audio) {
    KINO_RETURN_IF_ERROR(pass.audio->Finish());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// The job: plan, passes, publishing.

class Processor {
 public:
  Processor(std::string out_dir, const LadderOptions& options, ProcessObserver* observer)
      : out_dir_(std::move(out_dir)), options_(options), observer_(observer) {}

  Result<PackageResult> Run(const std::string& input_path, const ProbeInfo& info);

 private:
  bool CopyPossible(const Source& source) const;
  Result<std::unique_ptr<VideoLadder>> MakeLadder(const Source& source,
                                                  const std::vector<const RungPlan*>& rungs,
                                                  SegmentBoundaries boundaries) const;
  Result<std::unique_ptr<AudioTrack>> MakeAudio(const Source& source) const;
  Status Publish(std::vector<RenditionInfo> video, const std::optional<RenditionInfo>& audio);

  std::string out_dir_;
  LadderOptions options_;
  ProcessObserver* observer_;
  ProbeInfo info_;
  LadderPlan plan_;
  PackageResult package_;
};

// The copy needs the decoder configuration in the stream parameters and complete timestamps,
// which MP4/MOV guarantee; other containers go through the encoder.
bool Processor::CopyPossible(const Source& source) const {
  const AVStream* video = source.stream(info_.video_stream_index);
  return IsMovFamily(source.ctx()) && video->codecpar->extradata_size > 0;
}

Result<std::unique_ptr<VideoLadder>> Processor::MakeLadder(
    const Source& source, const std::vector<const RungPlan*>& rungs,
    SegmentBoundaries boundaries) const {
  const AVStream* stream = source.stream(info_.video_stream_index);
  PictureFixes fixes;
  fixes.interlaced = stream->codecpar->field_order != AV_FIELD_PROGRESSIVE &&
                     stream->codecpar->field_order != AV_FIELD_UNKNOWN;
  fixes.drop_frames = info_.fps > options_.max_fps + 0.5;
  fixes.hdr_transfer = stream->codecpar->color_trc;
  double fps = plan_.output_fps > 0 ? plan_.output_fps : 30;
  EncodeSettings settings;
  settings.preset = options_.preset;
  settings.crf = options_.crf;
  settings.threads = options_.threads;
  settings.fps = fps;
  settings.gop_seconds = std::min(2.0, options_.segment_seconds);
  settings.tone_mapped = IsHdrTransfer(fixes.hdr_transfer);
  auto ladder =
      std::make_unique<VideoLadder>(stream, LadderFilters(info_, plan_, rungs, fixes), fps);
  KINO_RETURN_IF_ERROR(ladder->Open());
  for (const RungPlan* r : rungs) {
    ladder->AddRung(
        std::make_unique<EncodedRung>(*r, out_dir_ + "/" + r->name, boundaries, settings));
  }
  return ladder;
}

Result<std::unique_ptr<AudioTrack>> Processor::MakeAudio(const Source& source) const {
  auto audio = std::make_unique<AudioTrack>(
      source.stream(info_.audio_stream_index), out_dir_ + "/audio", options_.audio_bitrate,
      SegmentBoundaries::Periodic(0, options_.segment_seconds));
  KINO_RETURN_IF_ERROR(audio->Open());
  return audio;
}

Status Processor::Publish(std::vector<RenditionInfo> video,
                          const std::optional<RenditionInfo>& audio) {
  PackageResult package;
  package.renditions = std::move(video);
  if (audio) {
    package.renditions.push_back(*audio);
  }
  for (const RenditionInfo& r : package.renditions) {
    package.duration_s = std::max(package.duration_s, r.duration_s);
  }
  KINO_RETURN_IF_ERROR(WriteManifests(out_dir_, package));
  package_ = std::move(package);
  if (observer_ != nullptr) {
    observer_->OnRenditionsReady(package_);
  }
  return Status::Ok();
}

Result<PackageResult> Processor::Run(const std::string& input_path, const ProbeInfo& info) {
  info_ = info;
  KINO_ASSIGN_OR_RETURN(Source source, Source::Open(input_path));
  plan_ = PlanLadder(info_, options_);
  bool copy_video = !plan_.rungs.empty() && plan_.rungs.front().copy && CopyPossible(source);
  if (!copy_video && !plan_.rungs.empty() && plan_.rungs.front().copy) {
    LadderOptions no_copy = options_;
    no_copy.allow_copy = false;
    plan_ = PlanLadder(info_, no_copy);
  }
  if (plan_.rungs.empty()) {
    return Internal("no rendition fits the source");
  }
  bool has_audio = info_.audio_stream_index >= 0;
  bool copy_audio = has_audio && plan_.copy_audio && IsMovFamily(source.ctx()) &&
                    source.stream(info_.audio_stream_index)->codecpar->extradata_size >= 2;

  std::vector<const RungPlan*> encoded;
  for (const RungPlan& r : plan_.rungs) {
    if (!r.copy) {
      encoded.push_back(&r);
    }
  }
  Progress progress(observer_, info_.duration_s);
  SegmentBoundaries periodic = SegmentBoundaries::Periodic(0, options_.segment_seconds);

  // Pass 1: the copied rung with the audio (copied or encoded), or, without a copy, everything.
  Pass first;
  std::optional<RenditionInfo> audio_info;
  if (copy_video) {
    KINO_ASSIGN_OR_RETURN(first.copy_video,
                          CopiedTrack::Open(out_dir_ + "/" + plan_.rungs.front().name,
                                            source.stream(info_.video_stream_index), periodic));
  } else {
    KINO_ASSIGN_OR_RETURN(first.ladder, MakeLadder(source, encoded, periodic));
  }
  if (copy_audio) {
    KINO_ASSIGN_OR_RETURN(
        first.copy_audio,
        CopiedTrack::Open(out_dir_ + "/audio", source.stream(info_.audio_stream_index), periodic));
  } else if (has_audio) {
    KINO_ASSIGN_OR_RETURN(first.audio, MakeAudio(source));
  }
  progress.SetSlice(0, copy_video && !encoded.empty() ? 0.15 : 1.0);
  KINO_RETURN_IF_ERROR(RunPass(source, info_, first, progress));

  std::vector<RenditionInfo> video;
  if (copy_video) {
    RenditionInfo top = first.copy_video->info();
    const RungPlan& plan = plan_.rungs.front();
    top.name = plan.name;
    top.kind = RenditionKind::kVideo;
    top.width = plan.width;
    top.height = plan.height;
    top.fps = info_.fps;
    top.codecs = first.copy_video->codecs();
    top.copied = true;
    video.push_back(top);
  } else {
    video = first.ladder->Infos();
  }
  if (first.copy_audio) {
    audio_info = first.copy_audio->info();
    audio_info->name = "audio";
    audio_info->kind = RenditionKind::kAudio;
    audio_info->codecs = first.copy_audio->codecs();
    audio_info->copied = true;
  } else if (first.audio) {
    audio_info = first.audio->Info();
  }
  if (audio_info && audio_info->segment_files.empty()) {
    audio_info.reset();  // an audio track without a single packet: a video-only package
  }
  KINO_RETURN_IF_ERROR(Publish(video, audio_info));
  if (!copy_video || encoded.empty()) {
    return package_;
  }

  // Pass 2: the lower rungs, keyframes and cuts on the copied rung's cut times.
  Pass second;
  KINO_ASSIGN_OR_RETURN(
      second.ladder,
      MakeLadder(source, encoded, SegmentBoundaries::Explicit(first.copy_video->cut_times())));
  KINO_RETURN_IF_ERROR(source.Rewind());
  progress.SetSlice(0.15, 1.0);
  KINO_RETURN_IF_ERROR(RunPass(source, info_, second, progress));
  for (RenditionInfo& r : second.ladder->Infos()) {
    video.push_back(std::move(r));
  }
  KINO_RETURN_IF_ERROR(Publish(video, audio_info));
  return package_;
}

}  // namespace

MediaError RefusalOf(const Status& status) {
  if (status.code() != StatusCode::kInvalidArgument) {
    return MediaError::kNone;
  }
  for (MediaError e : {MediaError::kNonVideo, MediaError::kMalformed, MediaError::kTooShort}) {
    std::string prefix = std::string(MediaErrorName(e)) + ":";
    if (status.message().rfind(prefix, 0) == 0) {
      return e;
    }
  }
  return MediaError::kNone;
}

Result<PackageResult> ProcessVideo(const std::string& input_path, const std::string& out_dir,
                                   const LadderOptions& options, ProcessObserver* observer) {
  ProbeResult probe = ProbeFile(input_path);
  if (probe.error != MediaError::kNone) {
    return InvalidArgument(std::string(MediaErrorName(probe.error)) + ": " + probe.error_text);
  }
  if (options.heights.empty() || options.segment_seconds <= 0 || options.max_fps <= 0) {
    return InvalidArgument("ladder options: heights, segment_seconds and max_fps must be set");
  }
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    return Internal("creating " + out_dir + ": " + ec.message());
  }
  Processor processor(out_dir, options, observer);
  KINO_ASSIGN_OR_RETURN(PackageResult package, processor.Run(input_path, probe.info));
  if (observer != nullptr) {
    observer->OnProgress(1.0);
  }
  return package;
}

}  // namespace kino::media

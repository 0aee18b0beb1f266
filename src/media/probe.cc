#include "media/probe.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "media/av_util.h"

namespace kino::media {
namespace {

// libavformat scores its format guess out of AVPROBE_SCORE_MAX (100). Below this the guess
// comes from little more than chance (random bytes often get a few points as MP3 or MPEG-PS).
constexpr int kMinProbeScore = AVPROBE_SCORE_RETRY;
// How many packets of one stream the probe decodes before deciding nothing decodes.
constexpr int kMaxProbePackets = 400;

ProbeResult Fail(MediaError error, std::string text, ProbeInfo info = {}) {
  ProbeResult result;
  result.error = error;
  result.error_text = std::move(text);
  result.info = std::move(info);
  return result;
}

// True when the first bytes of the file read as text: no NUL byte and almost nothing but
// printable characters and white space (UTF-8 continuation bytes count as printable). A file
// no demuxer accepts is then a document or a web page, not damaged media.
bool StartsWithText(const std::string& path) {
  constexpr size_t kSniffBytes = 4096;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return false;
  }
  unsigned char buf[kSniffBytes];
  size_t n = std::fread(buf, 1, sizeof(buf), f);
  std::fclose(f);
  size_t odd = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = buf[i];
    if (c == 0) {
      return false;
    }
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f') {
      ++odd;
    }
  }
  return n > 0 && odd * 100 <= n;  // at most 1 % control characters
}

// Single images are read by the image2 demuxer or one of the "<codec>_pipe" demuxers.
bool IsImageDemuxer(std::string_view name) {
  return name == "image2" || (name.size() > 5 && name.substr(name.size() - 5) == "_pipe");
}

// Degrees clockwise that turn the stored picture upright, from the display matrix
// (ISO/IEC 14496-12 section 8.3.2 tkhd matrix, exported by libavformat as side data).
int RotationOf(const AVStream* stream) {
  const uint8_t* matrix = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr);
  if (matrix == nullptr) {
    return 0;
  }
  // av_display_rotation_get gives the counter-clockwise angle the matrix applies.
  double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(matrix));
  if (std::isnan(ccw)) {
    return 0;
  }
  int clockwise = static_cast<int>(std::lround(-ccw / 90.0)) * 90;
  return ((clockwise % 360) + 360) % 360;
}

// The video stream that holds moving pictures: the best one that is not a cover picture.
int FindVideoStream(AVFormatContext* ctx) {
  int best = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (best >= 0 && !(ctx->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
    return best;
  }
  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    const AVStream* st = ctx->streams[i];
    if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
        !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

double StreamSeconds(const AVStream* st) {
  if (st->duration == AV_NOPTS_VALUE || st->duration <= 0) {
    return -1;
  }
  return static_cast<double>(st->duration) * av_q2d(st->time_base);
}

double BestDuration(const AVFormatContext* ctx) {
  if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0) {
    return static_cast<double>(ctx->duration) / AV_TIME_BASE;
  }
  double longest = -1;
  for (unsigned i = 0; i < ctx->nb_streams; ++i) {
    longest = std::max(longest, StreamSeconds(ctx->streams[i]));
  }
  return longest;
}

double FrameRateOf(const AVStream* st) {
  AVRational rate = st->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0) {
    rate = st->r_frame_rate;
  }
  return (rate.num > 0 && rate.den > 0) ? av_q2d(rate) : 0;
}

bool IsBrowserProfile(int profile) {
  return profile == FF_PROFILE_H264_BASELINE || profile == FF_PROFILE_H264_CONSTRAINED_BASELINE ||
         profile == FF_PROFILE_H264_MAIN || profile == FF_PROFILE_H264_HIGH;
}

void FillVideo(AVFormatContext* ctx, const AVStream* st, ProbeInfo* info) {
  const AVCodecParameters* par = st->codecpar;
  info->has_video = true;
  info->video_codec = avcodec_get_name(par->codec_id);
  info->coded_width = par->width;
  info->coded_height = par->height;
  info->rotation = RotationOf(st);
  info->fps = FrameRateOf(st);
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(par->format));
  if (desc != nullptr) {
    info->pix_fmt = desc->name;
    info->bit_depth = desc->comp[0].depth;
  }

  // Display size: stretch by the sample aspect ratio, then rotate.
  AVRational sar = av_guess_sample_aspect_ratio(ctx, const_cast<AVStream*>(st), nullptr);
  bool square = sar.num <= 0 || sar.den <= 0 || sar.num == sar.den;
  int width = square ? par->width : static_cast<int>(std::lround(par->width * av_q2d(sar)));
  int height = par->height;
  bool sideways = info->rotation == 90 || info->rotation == 270;
  info->width = sideways ? height : width;
  info->height = sideways ? width : height;

  bool yuv420_8bit = par->format == AV_PIX_FMT_YUV420P || par->format == AV_PIX_FMT_YUVJ420P;
  bool progressive =
      par->field_order == AV_FIELD_PROGRESSIVE || par->field_order == AV_FIELD_UNKNOWN;
  int short_side = std::min(par->width, par->height);
  int long_side = std::max(par->width, par->height);
  info->browser_safe_h264 = par->codec_id == AV_CODEC_ID_H264 && yuv420_8bit &&
                            short_side <= 1080 && long_side <= 1920 && info->fps > 0 &&
                            info->fps <= 60.5 && IsBrowserProfile(par->profile) && progressive &&
                            square && info->rotation == 0;
}

void FillAudio(const AVStream* st, ProbeInfo* info) {
  const AVCodecParameters* par = st->codecpar;
  info->has_audio = true;
  info->audio_codec = avcodec_get_name(par->codec_id);
  info->audio_channels = par->ch_layout.nb_channels;
  info->audio_sample_rate = par->sample_rate;
  info->aac_stereo =
      par->codec_id == AV_CODEC_ID_AAC && info->audio_channels >= 1 && info->audio_channels <= 2;
}

// True when at least one frame of `stream_index` decodes. Reads packets from the current
// position; probing only, so it decodes single-threaded.
bool DecodesOneFrame(AVFormatContext* ctx, int stream_index) {
  const AVCodecParameters* par = ctx->streams[stream_index]->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  if (codec == nullptr) {
    return false;
  }
  AvCodecContextPtr dec(avcodec_alloc_context3(codec));
  if (!dec || avcodec_parameters_to_context(dec.get(), par) < 0) {
    return false;
  }
  dec->thread_count = 1;
  if (avcodec_open2(dec.get(), codec, nullptr) < 0) {
    return false;
  }

  AvPacketPtr packet = MakePacket();
  AvFramePtr frame = MakeFrame();
  int sent = 0;
  bool eof = false;
  while (sent < kMaxProbePackets) {
    if (!eof) {
      int err = av_read_frame(ctx, packet.get());
      if (err < 0) {
        eof = true;
        avcodec_send_packet(dec.get(), nullptr);  // drain: the result shows up below
      } else if (packet->stream_index == stream_index) {
        ++sent;
        avcodec_send_packet(dec.get(), packet.get());  // a bad packet is just skipped
      }
      av_packet_unref(packet.get());
    }
    int got = avcodec_receive_frame(dec.get(), frame.get());
    if (got >= 0) {
      return true;
    }
    if (eof && got != AVERROR(EAGAIN)) {
      return false;
    }
  }
  return false;
}

}  // namespace

std::string_view MediaErrorName(MediaError error) {
  switch (error) {
    case MediaError::kNone:
      return "none";
    case MediaError::kNonVideo:
      return "non_video";
    case MediaError::kMalformed:
      return "malformed";
    case MediaError::kTooShort:
      return "too_short";
  }
  return "malformed";
}

ProbeResult ProbeFile(const std::string& path) {
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (err < 0) {
    ProbeInfo unknown;
    unknown.text = StartsWithText(path);
    return Fail(MediaError::kMalformed, AvStatus(err, "avformat_open_input").message(), unknown);
  }
  AvInputPtr ctx(raw);
  ProbeInfo info;
  info.container = ctx->iformat->name;
  if (ctx->probe_score < kMinProbeScore) {
    info.text = StartsWithText(path);
    return Fail(MediaError::kMalformed, "container not recognised with confidence", info);
  }
  info.recognised = true;
  err = avformat_find_stream_info(ctx.get(), nullptr);
  if (err < 0) {
    return Fail(MediaError::kMalformed, AvStatus(err, "avformat_find_stream_info").message(), info);
  }
  info.duration_s = BestDuration(ctx.get());
  info.bit_rate = ctx->bit_rate > 0 ? ctx->bit_rate : 0;

  info.video_stream_index = FindVideoStream(ctx.get());
  info.audio_stream_index = av_find_best_stream(ctx.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (info.audio_stream_index >= 0) {
    FillAudio(ctx->streams[info.audio_stream_index], &info);
  }
  if (info.video_stream_index >= 0) {
    FillVideo(ctx.get(), ctx->streams[info.video_stream_index], &info);
  }

  // Classify. Streams claimed by the headers count only once something in them decodes.
  if (!info.has_video) {
    if (!info.has_audio) {
      return Fail(MediaError::kMalformed, "no audio or video stream", info);
    }
    if (!DecodesOneFrame(ctx.get(), info.audio_stream_index)) {
      return Fail(MediaError::kMalformed, "no audio frame decodes", info);
    }
    return Fail(MediaError::kNonVideo, "audio only", info);
  }
  if (!DecodesOneFrame(ctx.get(), info.video_stream_index)) {
    return Fail(MediaError::kMalformed, "no video frame decodes", info);
  }
  if (IsImageDemuxer(info.container)) {
    return Fail(MediaError::kNonVideo, "still image", info);
  }
  double video_seconds = StreamSeconds(ctx->streams[info.video_stream_index]);
  double seconds = video_seconds > 0 ? video_seconds : info.duration_s;
  if (seconds >= 0 && seconds < kMinVideoSeconds) {
    return Fail(MediaError::kTooShort, "video shorter than 0.1 s", info);
  }
  ProbeResult result;
  result.info = std::move(info);
  return result;
}

QuickCheckResult QuickCheckHeader(std::string_view head_bytes) {
  QuickCheckResult result;
  // libavformat's probes may read up to AVPROBE_PADDING_SIZE bytes past the end, zeroed.
  std::vector<unsigned char> buf(head_bytes.size() + AVPROBE_PADDING_SIZE, 0);
  std::memcpy(buf.data(), head_bytes.data(), head_bytes.size());
  AVProbeData probe = {};
  probe.filename = "";
  probe.buf = buf.data();
  probe.buf_size = static_cast<int>(head_bytes.size());
  int score = 0;
  const AVInputFormat* format = av_probe_input_format3(&probe, 1, &score);
  if (format == nullptr || score < kMinProbeScore) {
    result.error = MediaError::kMalformed;
    return result;
  }
  result.container = format->name;
  return result;
}

}  // namespace kino::media

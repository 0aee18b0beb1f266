#include "media/thumbnail.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
}

#include <algorithm>
#include <cmath>
#include <vector>

#include "media/av_util.h"
#include "media/probe.h"

namespace kino::media {
namespace {

struct Size {
  int width = 0;
  int height = 0;
};

// The box a request asks for, with derived sides filled in from the display size.
Result<Size> ResolveBox(const ThumbnailRequest& request, Size display, int default_width,
                        int max_side) {
  if (request.width < 0 || request.height < 0 || request.width > max_side ||
      request.height > max_side) {
    return InvalidArgument("thumbnail width and height must be 0.." + std::to_string(max_side));
  }
  double aspect = static_cast<double>(display.width) / display.height;
  Size box{request.width, request.height};
  if (box.width == 0 && box.height == 0) {
    box.width = std::min(default_width, max_side);
  }
  if (box.height == 0) {
    box.height = static_cast<int>(std::lround(box.width / aspect));
  } else if (box.width == 0) {
    box.width = static_cast<int>(std::lround(box.height * aspect));
  }
  box.width = std::clamp(box.width, 1, max_side);
  box.height = std::clamp(box.height, 1, max_side);
  return box;
}

// The largest size of the display's aspect ratio inside `box` (for clip and fill).
Size FitInside(Size display, Size box) {
  double s = std::min(static_cast<double>(box.width) / display.width,
                      static_cast<double>(box.height) / display.height);
  return {std::clamp(static_cast<int>(std::lround(display.width * s)), 1, box.width),
          std::clamp(static_cast<int>(std::lround(display.height * s)), 1, box.height)};
}

std::string ScaleTo(Size s) {
  return "scale=w=" + std::to_string(s.width) + ":h=" + std::to_string(s.height) + ":flags=bicubic";
}

// Filters that tone-map HDR, turn the decoded picture upright, square its pixels and fit it
// to `box`.
std::string FitFilters(const ProbeInfo& info, AVColorTransferCharacteristic trc, Size box,
                       ThumbnailFit fit) {
  std::string chain = IsHdrTransfer(trc) ? HdrToSdrFilters(trc) + "," : "";
  if (info.rotation == 90) {
    chain += "transpose=clock,";
  } else if (info.rotation == 270) {
    chain += "transpose=cclock,";
  } else if (info.rotation == 180) {
    chain += "hflip,vflip,";
  }
  Size display{info.width, info.height};
  // Scaling to the display size first makes every later step work on square pixels.
  chain += ScaleTo(display) + ",setsar=1,";
  std::string w = std::to_string(box.width), h = std::to_string(box.height);
  switch (fit) {
    case ThumbnailFit::kCrop: {
      double s = std::max(static_cast<double>(box.width) / display.width,
                          static_cast<double>(box.height) / display.height);
      Size cover{std::max(box.width, static_cast<int>(std::ceil(display.width * s - 1e-9))),
                 std::max(box.height, static_cast<int>(std::ceil(display.height * s - 1e-9)))};
      // crop and pad round odd sizes down to the chroma grid in 4:2:0; 4:4:4 keeps them exact.
      return chain + ScaleTo(cover) + ",format=yuv444p,crop=" + w + ":" + h;
    }
    case ThumbnailFit::kClip:
      return chain + ScaleTo(FitInside(display, box));
    case ThumbnailFit::kScale:
      return chain + ScaleTo(box);
    case ThumbnailFit::kFill:
      return chain + ScaleTo(FitInside(display, box)) + ",format=yuv444p,pad=" + w + ":" + h +
             ":(ow-iw)/2:(oh-ih)/2:color=black";
  }
  return chain + ScaleTo(box);
}

// The probed input, opened for decoding its video stream.
class VideoReader {
 public:
  static Result<VideoReader> Open(const std::string& path) {
    ProbeResult probe = ProbeFile(path);
    if (probe.error != MediaError::kNone) {
      return InvalidArgument(std::string(MediaErrorName(probe.error)) + ": " + probe.error_text);
    }
    VideoReader r;
    r.info_ = probe.info;
    AVFormatContext* raw = nullptr;
    KINO_RETURN_IF_ERROR(
        AvStatus(avformat_open_input(&raw, path.c_str(), nullptr, nullptr), "avformat_open_input"));
    r.ctx_.reset(raw);
    KINO_RETURN_IF_ERROR(
        AvStatus(avformat_find_stream_info(raw, nullptr), "avformat_find_stream_info"));
    int index = r.info_.video_stream_index;
    if (index < 0 || index >= static_cast<int>(raw->nb_streams)) {
      return Internal("video stream vanished between probe and open");
    }
    r.stream_ = raw->streams[r.info_.video_stream_index];
    KINO_RETURN_IF_ERROR(r.OpenDecoder());
    r.start_ = r.stream_->start_time != AV_NOPTS_VALUE ? r.stream_->start_time : 0;
    return r;
  }

  const ProbeInfo& info() const { return info_; }
  AVRational time_base() const { return stream_->time_base; }
  AVColorTransferCharacteristic transfer() const { return stream_->codecpar->color_trc; }

  // A time in seconds from the start, in stream ticks.
  int64_t Ticks(double seconds) const {
    return start_ + static_cast<int64_t>(std::llround(seconds / av_q2d(stream_->time_base)));
  }

  // Positions at the keyframe at or before `seconds`.
  Status Seek(double seconds) {
    int err = av_seek_frame(ctx_.get(), stream_->index, Ticks(seconds), AVSEEK_FLAG_BACKWARD);
    if (err < 0) {  // some files cannot seek; decoding from the start is slower but right
      err = av_seek_frame(ctx_.get(), stream_->index, start_, AVSEEK_FLAG_BACKWARD);
    }
    KINO_RETURN_IF_ERROR(AvStatus(err, "av_seek_frame"));
    avcodec_flush_buffers(dec_.get());
    eof_ = false;
    return Status::Ok();
  }

  // The next decoded frame in presentation order with pts set; false at the end.
  Result<bool> Next(AVFrame* frame) {
    while (true) {
      int err = avcodec_receive_frame(dec_.get(), frame);
      if (err >= 0) {
        frame->pts = frame->best_effort_timestamp;
        if (frame->pts == AV_NOPTS_VALUE) {
          frame->pts = last_pts_ + 1;
        }
        last_pts_ = frame->pts;
        return true;
      }
      if (err == AVERROR_EOF) {
        return false;
      }
      if (err != AVERROR(EAGAIN) && err != AVERROR_INVALIDDATA) {
        return AvStatus(err, "avcodec_receive_frame");
      }
      KINO_RETURN_IF_ERROR(Feed());
    }
  }

 private:
  Status OpenDecoder() {
    const AVCodec* codec = avcodec_find_decoder(stream_->codecpar->codec_id);
    if (codec == nullptr) {
      return Internal("no decoder for the video stream");
    }
    dec_.reset(avcodec_alloc_context3(codec));
    if (!dec_) {
      return Internal("avcodec_alloc_context3 failed");
    }
    KINO_RETURN_IF_ERROR(AvStatus(avcodec_parameters_to_context(dec_.get(), stream_->codecpar),
                                  "avcodec_parameters_to_context"));
    dec_->pkt_timebase = stream_->time_base;
    dec_->thread_count = 1;
    return AvStatus(avcodec_open2(dec_.get(), codec, nullptr), "avcodec_open2");
  }

  // Sends the next video packet to the decoder, or the end-of-stream signal.
  Status Feed() {
    if (eof_) {
      return AvStatus(avcodec_send_packet(dec_.get(), nullptr), "avcodec_send_packet(eof)");
    }
    AvPacketPtr packet = MakePacket();
    while (true) {
      int err = av_read_frame(ctx_.get(), packet.get());
      if (err == AVERROR_EOF) {
        eof_ = true;
        int sent = avcodec_send_packet(dec_.get(), nullptr);
        return sent == AVERROR_EOF ? Status::Ok() : AvStatus(sent, "avcodec_send_packet(eof)");
      }
      KINO_RETURN_IF_ERROR(AvStatus(err, "av_read_frame"));
      if (packet->stream_index != stream_->index) {
        av_packet_unref(packet.get());
        continue;
      }
      err = avcodec_send_packet(dec_.get(), packet.get());
      av_packet_unref(packet.get());
      if (err == AVERROR_INVALIDDATA) {
        continue;  // a damaged packet: try the next one
      }
      return AvStatus(err, "avcodec_send_packet");
    }
  }

  ProbeInfo info_;
  AvInputPtr ctx_;
  AVStream* stream_ = nullptr;
  AvCodecContextPtr dec_;
  int64_t start_ = 0;
  int64_t last_pts_ = 0;
  bool eof_ = false;
};

// The frame on screen at `target` ticks: the last one starting at or before it, or the first
// after it when nothing earlier decodes; at the end of the stream, the last frame.
Result<AvFramePtr> FrameAt(VideoReader& reader, int64_t target) {
  AvFramePtr chosen;
  AvFramePtr frame = MakeFrame();
  while (true) {
    KINO_ASSIGN_OR_RETURN(bool got, reader.Next(frame.get()));
    if (!got) {
      break;
    }
    if (frame->pts > target && chosen) {
      break;
    }
    chosen = std::move(frame);
    frame = MakeFrame();
    if (chosen->pts >= target) {
      break;
    }
  }
  if (!chosen) {
    return Internal("no frame decodes at the requested time");
  }
  return chosen;
}

// Pushes frames through a one-output graph and hands each output frame to `on_frame`.
template <typename OnFrame>
Status Pull(VideoGraph& graph, OnFrame on_frame) {
  AvFramePtr out = MakeFrame();
  while (true) {
    int err = av_buffersink_get_frame(graph.sinks[0], out.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) {
      return Status::Ok();
    }
    KINO_RETURN_IF_ERROR(AvStatus(err, "av_buffersink_get_frame"));
    Status handled = on_frame(out.get());
    av_frame_unref(out.get());
    KINO_RETURN_IF_ERROR(handled);
  }
}

Result<AvCodecContextPtr> OpenImageEncoder(AVCodecID id, const AVFilterContext* sink,
                                           AVPixelFormat format) {
  KINO_ASSIGN_OR_RETURN(AvCodecContextPtr enc,
                        AllocEncoder(avcodec_find_encoder(id), avcodec_get_name(id)));
  enc->width = av_buffersink_get_w(sink);
  enc->height = av_buffersink_get_h(sink);
  enc->pix_fmt = format;
  enc->time_base = av_buffersink_get_time_base(sink);
  enc->sample_aspect_ratio = AVRational{1, 1};
  if (id == AV_CODEC_ID_MJPEG) {
    // A fixed quantiser (about q 3 on the 2..31 scale): sharp and a few tens of kB at 640 wide.
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * 3;
    enc->color_range = AVCOL_RANGE_JPEG;
  }
  KINO_RETURN_IF_ERROR(AvStatus(avcodec_open2(enc.get(), enc->codec, nullptr), "avcodec_open2"));
  return enc;
}

// Sends a frame (null: flush) and appends each packet it releases to `on_packet`.
template <typename OnPacket>
Status EncodeFrame(AVCodecContext* enc, const AVFrame* frame, OnPacket on_packet) {
  KINO_RETURN_IF_ERROR(AvStatus(avcodec_send_frame(enc, frame), "avcodec_send_frame"));
  AvPacketPtr packet = MakePacket();
  while (true) {
    int err = avcodec_receive_packet(enc, packet.get());
    if (err == AVERROR(EAGAIN) || err == AVERROR_EOF) {
      return Status::Ok();
    }
    KINO_RETURN_IF_ERROR(AvStatus(err, "avcodec_receive_packet"));
    Status handled = on_packet(packet.get());
    av_packet_unref(packet.get());
    KINO_RETURN_IF_ERROR(handled);
  }
}

Status CheckTime(const ThumbnailRequest& request) {
  if (!(request.time_s >= 0) || !std::isfinite(request.time_s)) {
    return InvalidArgument("thumbnail time must be a non-negative number of seconds");
  }
  return Status::Ok();
}

// Collects GIF packets into an in-memory GIF file (the "gif" muxer writes the header, the
// looping extension and each frame's delay).
class GifFile {
 public:
  Status Open(const AVCodecContext* enc) {
    AVFormatContext* raw = nullptr;
    KINO_RETURN_IF_ERROR(AvStatus(avformat_alloc_output_context2(&raw, nullptr, "gif", nullptr),
                                  "avformat_alloc_output_context2(gif)"));
    muxer_.reset(raw);
    AVIOContext* io = nullptr;
    KINO_RETURN_IF_ERROR(AvStatus(avio_open_dyn_buf(&io), "avio_open_dyn_buf"));
    io_.reset(io);
    raw->pb = io;
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
    AVStream* stream = avformat_new_stream(raw, nullptr);
    if (stream == nullptr) {
      return Internal("avformat_new_stream failed");
    }
    KINO_RETURN_IF_ERROR(AvStatus(avcodec_parameters_from_context(stream->codecpar, enc),
                                  "avcodec_parameters_from_context"));
    stream->time_base = enc->time_base;
    enc_time_base_ = enc->time_base;
    return AvStatus(avformat_write_header(raw, nullptr), "avformat_write_header(gif)");
  }

  Status Write(AVPacket* packet) {
    packet->stream_index = 0;
    packet->duration = 1;  // one tick of the fps filter's 1/fps clock: one frame
    av_packet_rescale_ts(packet, enc_time_base_, muxer_->streams[0]->time_base);
    return AvStatus(av_write_frame(muxer_.get(), packet), "av_write_frame(gif)");
  }

  Result<std::string> Finish() {
    KINO_RETURN_IF_ERROR(AvStatus(av_write_trailer(muxer_.get()), "av_write_trailer(gif)"));
    muxer_->pb = nullptr;
    return TakeDynBuf(std::move(io_));
  }

  ~GifFile() {
    if (muxer_) {
      muxer_->pb = nullptr;  // ours, freed by io_
    }
  }

 private:
  AvDynBufPtr io_;
  AvOutputPtr muxer_;
  AVRational enc_time_base_{1, 1};
};

}  // namespace

std::optional<ThumbnailFit> ParseThumbnailFit(std::string_view name) {
  if (name == "crop") {
    return ThumbnailFit::kCrop;
  }
  if (name == "clip") {
    return ThumbnailFit::kClip;
  }
  if (name == "scale") {
    return ThumbnailFit::kScale;
  }
  if (name == "fill") {
    return ThumbnailFit::kFill;
  }
  return std::nullopt;
}

Result<std::string> MakeThumbnailJpeg(const std::string& input_path,
                                      const ThumbnailRequest& request) {
  KINO_RETURN_IF_ERROR(CheckTime(request));
  KINO_ASSIGN_OR_RETURN(VideoReader reader, VideoReader::Open(input_path));
  const ProbeInfo& info = reader.info();
  KINO_ASSIGN_OR_RETURN(Size box, ResolveBox(request, {info.width, info.height}, kDefaultJpegWidth,
                                             kMaxThumbnailSide));

  // Seek to the keyframe before the time, then decode forward to the frame shown at it.
  KINO_RETURN_IF_ERROR(reader.Seek(request.time_s));
  KINO_ASSIGN_OR_RETURN(AvFramePtr frame, FrameAt(reader, reader.Ticks(request.time_s)));

  std::string filters =
      "[in]" + FitFilters(info, reader.transfer(), box, request.fit) + ",format=yuvj420p[out0]";
  KINO_ASSIGN_OR_RETURN(VideoGraph graph,
                        MakeVideoGraph(*frame, reader.time_base(), filters, 1, 1));
  KINO_RETURN_IF_ERROR(
      AvStatus(av_buffersrc_add_frame(graph.source, frame.get()), "av_buffersrc_add_frame"));
  KINO_RETURN_IF_ERROR(
      AvStatus(av_buffersrc_add_frame(graph.source, nullptr), "av_buffersrc(eof)"));

  AvCodecContextPtr enc;
  std::string jpeg;
  auto keep = [&](AVPacket* p) {
    jpeg.assign(reinterpret_cast<const char*>(p->data), static_cast<size_t>(p->size));
    return Status::Ok();
  };
  KINO_RETURN_IF_ERROR(Pull(graph, [&](AVFrame* out) -> Status {
    if (enc) {
      return Status::Ok();  // one picture is all a JPEG holds
    }
    KINO_ASSIGN_OR_RETURN(enc,
                          OpenImageEncoder(AV_CODEC_ID_MJPEG, graph.sinks[0], AV_PIX_FMT_YUVJ420P));
    return EncodeFrame(enc.get(), out, keep);
  }));
  if (!enc) {
    return Internal("the filter graph produced no picture");
  }
  KINO_RETURN_IF_ERROR(EncodeFrame(enc.get(), nullptr, keep));
  if (jpeg.empty()) {
    return Internal("the JPEG encoder produced nothing");
  }
  return jpeg;
}

Result<std::string> MakeThumbnailGif(const std::string& input_path,
                                     const ThumbnailRequest& request) {
  KINO_RETURN_IF_ERROR(CheckTime(request));
  if (!(request.duration_s > 0) || !(request.fps > 0)) {
    return InvalidArgument("GIF duration and fps must be positive");
  }
  double seconds = std::min(request.duration_s, kMaxGifSeconds);
  double fps = std::min(request.fps, kMaxGifFps);
  KINO_ASSIGN_OR_RETURN(VideoReader reader, VideoReader::Open(input_path));
  const ProbeInfo& info = reader.info();
  KINO_ASSIGN_OR_RETURN(
      Size box, ResolveBox(request, {info.width, info.height}, kDefaultGifWidth, kMaxGifSide));

  // One palette for the whole clip (palettegen sees every frame before paletteuse maps them),
  // so colours do not flicker from frame to frame.
  char rate[64];
  std::snprintf(rate, sizeof(rate), "fps=%.6f,", fps);
  std::string filters = "[in]" + std::string(rate) +
                        FitFilters(info, reader.transfer(), box, request.fit) +
                        ",split[a][b];[a]palettegen=stats_mode=full[p];"
                        "[b][p]paletteuse=dither=bayer:bayer_scale=3[out0]";

  int64_t begin = reader.Ticks(request.time_s);
  int64_t end = reader.Ticks(request.time_s + seconds);
  KINO_RETURN_IF_ERROR(reader.Seek(request.time_s));
  // Past the end the clip falls back to the last frame.
  KINO_ASSIGN_OR_RETURN(AvFramePtr frame, FrameAt(reader, begin));
  int64_t origin = std::min(frame->pts, begin);
  KINO_ASSIGN_OR_RETURN(VideoGraph graph,
                        MakeVideoGraph(*frame, reader.time_base(), filters, 1, 1));

  AvCodecContextPtr enc;
  GifFile gif;
  auto encode = [&](AVFrame* out) -> Status {
    if (!enc) {
      KINO_ASSIGN_OR_RETURN(enc,
                            OpenImageEncoder(AV_CODEC_ID_GIF, graph.sinks[0], AV_PIX_FMT_PAL8));
      KINO_RETURN_IF_ERROR(gif.Open(enc.get()));
    }
    return EncodeFrame(enc.get(), out, [&](AVPacket* p) { return gif.Write(p); });
  };

  // Frames from the chosen one up to the end of the clip, timed from its start.
  bool more = true;
  while (more && frame->pts < end) {
    frame->pts -= origin;
    KINO_RETURN_IF_ERROR(
        AvStatus(av_buffersrc_add_frame(graph.source, frame.get()), "av_buffersrc_add_frame"));
    KINO_RETURN_IF_ERROR(Pull(graph, encode));
    av_frame_unref(frame.get());
    KINO_ASSIGN_OR_RETURN(more, reader.Next(frame.get()));
  }
  KINO_RETURN_IF_ERROR(
      AvStatus(av_buffersrc_add_frame(graph.source, nullptr), "av_buffersrc(eof)"));
  KINO_RETURN_IF_ERROR(Pull(graph, encode));
  if (!enc) {
    return Internal("the filter graph produced no picture");
  }
  KINO_RETURN_IF_ERROR(EncodeFrame(enc.get(), nullptr, [&](AVPacket* p) { return gif.Write(p); }));
  return gif.Finish();
}

}  // namespace kino::media

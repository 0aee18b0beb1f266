// Ownership and error helpers for FFmpeg's libraries. Every FFmpeg object Kino creates is held
// by one of these unique_ptr types, so no path can leak one; every negative AVERROR becomes a
// Status through AvStatus(), which names the failing call and av_strerror's text.
#ifndef KINO_MEDIA_AV_UTIL_H_
#define KINO_MEDIA_AV_UTIL_H_

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kino::media {

struct AvInputDeleter {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
// An output context owns its AVIOContext only when the muxer opened it with avio_open; close
// that first (pb is cleared by the caller when it owns a custom AVIOContext).
struct AvOutputDeleter {
  void operator()(AVFormatContext* ctx) const {
    if (ctx != nullptr && ctx->oformat != nullptr && !(ctx->oformat->flags & AVFMT_NOFILE) &&
        ctx->pb != nullptr) {
      avio_closep(&ctx->pb);
    }
    avformat_free_context(ctx);
  }
};
struct AvCodecContextDeleter {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct AvFrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct AvPacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct SwrDeleter {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
struct AvIoContextDeleter {
  void operator()(AVIOContext* io) const {
    if (io != nullptr) {
      av_freep(&io->buffer);
    }
    avio_context_free(&io);
  }
};

using AvInputPtr = std::unique_ptr<AVFormatContext, AvInputDeleter>;
using AvOutputPtr = std::unique_ptr<AVFormatContext, AvOutputDeleter>;
using AvCodecContextPtr = std::unique_ptr<AVCodecContext, AvCodecContextDeleter>;
using AvFramePtr = std::unique_ptr<AVFrame, AvFrameDeleter>;
using AvPacketPtr = std::unique_ptr<AVPacket, AvPacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;
using SwrPtr = std::unique_ptr<SwrContext, SwrDeleter>;
using AvIoContextPtr = std::unique_ptr<AVIOContext, AvIoContextDeleter>;

// av_strerror's text for `err`.
std::string AvErrorText(int err);

// OK when `err` >= 0; otherwise an internal Status "<call>: <av_strerror text>".
Status AvStatus(int err, std::string_view call);

// A fresh, unopened context for the encoder `codec` (null: not built into libavcodec), named
// `name` in the error. The caller sets its fields and opens it.
Result<AvCodecContextPtr> AllocEncoder(const AVCodec* codec, std::string_view name);

// Allocation helpers that never return null: they abort on out-of-memory, as the process
// could not continue anyway.
AvFramePtr MakeFrame();
AvPacketPtr MakePacket();

// Added for the transcoder: filter graphs, audio FIFOs and option dictionaries.
struct AvFilterGraphDeleter {
  void operator()(AVFilterGraph* graph) const { avfilter_graph_free(&graph); }
};
struct AvAudioFifoDeleter {
  void operator()(AVAudioFifo* fifo) const { av_audio_fifo_free(fifo); }
};
struct AvDictionaryDeleter {
  void operator()(AVDictionary* dict) const { av_dict_free(&dict); }
};
using AvFilterGraphPtr = std::unique_ptr<AVFilterGraph, AvFilterGraphDeleter>;
using AvAudioFifoPtr = std::unique_ptr<AVAudioFifo, AvAudioFifoDeleter>;
using AvDictionaryPtr = std::unique_ptr<AVDictionary, AvDictionaryDeleter>;

struct AvCodecParametersDeleter {
  void operator()(AVCodecParameters* par) const { avcodec_parameters_free(&par); }
};
using AvCodecParametersPtr = std::unique_ptr<AVCodecParameters, AvCodecParametersDeleter>;

struct AvFilterInOutDeleter {
  void operator()(AVFilterInOut* inout) const { avfilter_inout_free(&inout); }
};
using AvFilterInOutPtr = std::unique_ptr<AVFilterInOut, AvFilterInOutDeleter>;

// An AVIOContext from avio_open_dyn_buf, writing into memory; the deleter frees the buffer too.
struct AvDynBufDeleter {
  void operator()(AVIOContext* io) const {
    uint8_t* data = nullptr;
    avio_close_dyn_buf(io, &data);
    av_free(data);
  }
};
using AvDynBufPtr = std::unique_ptr<AVIOContext, AvDynBufDeleter>;

// Takes everything written to `io` so far and closes it.
std::string TakeDynBuf(AvDynBufPtr io);

// True for the HDR transfer functions Kino converts: SMPTE ST 2084 (PQ) and ARIB STD-B67 (HLG).
bool IsHdrTransfer(AVColorTransferCharacteristic trc);

// Filters (libavfilter graph syntax, one chain) that tone-map BT.2020 HDR pictures with
// transfer `trc` to BT.709 SDR, limited range, 8-bit 4:2:0.
std::string HdrToSdrFilters(AVColorTransferCharacteristic trc);

// A video filter graph with one buffer source, fed decoded frames, and `sinks` buffer sinks.
// The graph owns the filter contexts.
struct VideoGraph {
  AvFilterGraphPtr graph;
  AVFilterContext* source = nullptr;
  std::vector<AVFilterContext*> sinks;
};

// Builds and configures a graph from `description` (libavfilter's graph syntax), whose input
// is labelled [in] and whose outputs are labelled [out0] .. [out<sinks-1>]. The source takes
// frames shaped like `first` (size, pixel format, sample aspect ratio) timed in `time_base`.
// `threads` is the graph's thread count (0 = libavfilter decides). Internal on failure, naming
// the failing call.
Result<VideoGraph> MakeVideoGraph(const AVFrame& first, AVRational time_base,
                                  const std::string& description, int sinks, int threads = 0);

}  // namespace kino::media

#endif  // KINO_MEDIA_AV_UTIL_H_

#include "media/av_util.h"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
}

#include <algorithm>
#include <cstdlib>
#include <string>

namespace kino::media {

std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

Status AvStatus(int err, std::string_view call) {
  if (err >= 0) {
    return Status::Ok();
  }
  return Internal(std::string(call) + ": " + AvErrorText(err));
}

Result<AvCodecContextPtr> AllocEncoder(const AVCodec* codec, std::string_view name) {
  if (codec == nullptr) {
    return Internal(std::string(name) + " encoder not available");
  }
  AvCodecContextPtr enc(avcodec_alloc_context3(codec));
  if (!enc) {
    return Internal("avcodec_alloc_context3 failed");
  }
  return enc;
}

AvFramePtr MakeFrame() {
  AvFramePtr frame(av_frame_alloc());
  if (!frame) {
    std::abort();
  }
  return frame;
}

AvPacketPtr MakePacket() {
  AvPacketPtr packet(av_packet_alloc());
  if (!packet) {
    std::abort();
  }
  return packet;
}

std::string TakeDynBuf(AvDynBufPtr io) {
  uint8_t* data = nullptr;
  int size = avio_close_dyn_buf(io.release(), &data);
  std::string bytes(reinterpret_cast<const char*>(data), static_cast<size_t>(std::max(size, 0)));
  av_free(data);
  return bytes;
}

bool IsHdrTransfer(AVColorTransferCharacteristic trc) {
  return trc == AVCOL_TRC_SMPTE2084 || trc == AVCOL_TRC_ARIB_STD_B67;
}

// Linear light from the BT.2020 signal (nominal peak 100 cd/m2), the Hable curve after
// converting primaries to BT.709, then the BT.709 transfer and matrix (ITU-R BT.2408 discusses
// such HDR-to-SDR mappings).
std::string HdrToSdrFilters(AVColorTransferCharacteristic trc) {
  std::string tin = trc == AVCOL_TRC_SMPTE2084 ? "smpte2084" : "arib-std-b67";
  return "zscale=tin=" + tin +
         ":pin=bt2020:min=bt2020nc:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
         "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p";
}

namespace {

// The [out<i>] buffer sinks, chained as the open inputs avfilter_graph_parse_ptr links to.
Result<AvFilterInOutPtr> MakeSinks(AVFilterGraph* graph, int sinks, VideoGraph* out) {
  const AVFilter* buffersink = avfilter_get_by_name("buffersink");
  AvFilterInOutPtr head;
  for (int i = sinks - 1; i >= 0; --i) {
    std::string name = "out" + std::to_string(i);
    AVFilterContext* sink = nullptr;
    KINO_RETURN_IF_ERROR(AvStatus(
        avfilter_graph_create_filter(&sink, buffersink, name.c_str(), nullptr, nullptr, graph),
        "avfilter_graph_create_filter(buffersink)"));
    out->sinks.insert(out->sinks.begin(), sink);
    AvFilterInOutPtr node(avfilter_inout_alloc());
    if (!node) {
      return Internal("avfilter_inout_alloc failed");
    }
    node->name = av_strdup(name.c_str());
    node->filter_ctx = sink;
    node->pad_idx = 0;
    node->next = head.release();
    head = std::move(node);
  }
  return head;
}

}  // namespace

Result<VideoGraph> MakeVideoGraph(const AVFrame& first, AVRational time_base,
                                  const std::string& description, int sinks, int threads) {
  VideoGraph g;
  g.graph.reset(avfilter_graph_alloc());
  if (!g.graph) {
    return Internal("avfilter_graph_alloc failed");
  }
  g.graph->nb_threads = threads;

  AVRational sar = first.sample_aspect_ratio.num > 0 ? first.sample_aspect_ratio : AVRational{1, 1};
  std::string args = "video_size=" + std::to_string(first.width) + "x" +
                     std::to_string(first.height) + ":pix_fmt=" + std::to_string(first.format) +
                     ":time_base=" + std::to_string(time_base.num) + "/" +
                     std::to_string(time_base.den) + ":pixel_aspect=" + std::to_string(sar.num) +
                     "/" + std::to_string(sar.den);
  KINO_RETURN_IF_ERROR(
      AvStatus(avfilter_graph_create_filter(&g.source, avfilter_get_by_name("buffer"), "in",
                                            args.c_str(), nullptr, g.graph.get()),
               "avfilter_graph_create_filter(buffer)"));
  KINO_ASSIGN_OR_RETURN(AvFilterInOutPtr inputs, MakeSinks(g.graph.get(), sinks, &g));

  AvFilterInOutPtr outputs(avfilter_inout_alloc());
  if (!outputs) {
    return Internal("avfilter_inout_alloc failed");
  }
  outputs->name = av_strdup("in");
  outputs->filter_ctx = g.source;
  outputs->pad_idx = 0;
  AVFilterInOut* in_raw = inputs.release();
  AVFilterInOut* out_raw = outputs.release();
  int err =
      avfilter_graph_parse_ptr(g.graph.get(), description.c_str(), &in_raw, &out_raw, nullptr);
  avfilter_inout_free(&in_raw);
  avfilter_inout_free(&out_raw);
  KINO_RETURN_IF_ERROR(AvStatus(err, "avfilter_graph_parse_ptr(" + description + ")"));
  KINO_RETURN_IF_ERROR(
      AvStatus(avfilter_graph_config(g.graph.get(), nullptr), "avfilter_graph_config"));
  return g;
}

}  // namespace kino::media

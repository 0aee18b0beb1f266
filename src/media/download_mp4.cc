#include "media/download_mp4.h"

#include <utility>
#include <vector>

#include "media/av_util.h"
#include "media/download_output.h"
#include "media/mp4_concat_io.h"

extern "C" {
#include <libavutil/opt.h>
}

namespace kino::media {
namespace {

// One rendition being copied into the output.
struct RemuxTrack {
  FragmentedInput input;
  int in_index = -1;
  AVStream* out_stream = nullptr;
  AvPacketPtr next = MakePacket();
  bool done = false;
};

Status AddTrack(const FragmentedTrack& track, AVMediaType type, AVCodecID codec,
                AVFormatContext* out, RemuxTrack* remux) {
  if (track.segment_paths.empty()) {
    return InvalidArgument("rendition " + track.init_path + " has no segments");
  }
  KINO_ASSIGN_OR_RETURN(remux->input, OpenFragmentedInput(track));
  AVFormatContext* in = remux->input.format.get();
  int index = av_find_best_stream(in, type, -1, -1, nullptr, 0);
  if (index < 0 || in->streams[index]->codecpar->codec_id != codec) {
    return InvalidArgument("rendition " + track.init_path + " lacks the expected " +
                           avcodec_get_name(codec) + " track");
  }
  remux->in_index = index;
  remux->out_stream = avformat_new_stream(out, nullptr);
  if (remux->out_stream == nullptr) {
    return ResourceExhausted("avformat_new_stream failed");
  }
  KINO_RETURN_IF_ERROR(
      AvStatus(avcodec_parameters_copy(remux->out_stream->codecpar, in->streams[index]->codecpar),
               "avcodec_parameters_copy"));
  remux->out_stream->codecpar->codec_tag = 0;
  remux->out_stream->time_base = in->streams[index]->time_base;
  return Status::Ok();
}

// Reads the next packet of the track's stream into remux->next, or marks it done at EOF.
Status ReadNext(RemuxTrack* remux) {
  while (true) {
    av_packet_unref(remux->next.get());
    int err = av_read_frame(remux->input.format.get(), remux->next.get());
    if (err == AVERROR_EOF) {
      remux->done = true;
      return Status::Ok();
    }
    if (err < 0) {
      return DataLoss("reading rendition: " + AvErrorText(err));
    }
    if (remux->next->stream_index == remux->in_index) {
      return Status::Ok();
    }
  }
}

// The track whose next packet has the earliest decode time, or null when all are done.
RemuxTrack* Earliest(std::vector<RemuxTrack>& tracks) {
  RemuxTrack* best = nullptr;
  for (RemuxTrack& t : tracks) {
    if (t.done) {
      continue;
    }
    AVRational tb = t.input.format->streams[t.in_index]->time_base;
    if (best == nullptr ||
        av_compare_ts(t.next->dts, tb, best->next->dts,
                      best->input.format->streams[best->in_index]->time_base) < 0) {
      best = &t;
    }
  }
  return best;
}

double Fraction(const std::vector<RemuxTrack>& tracks) {
  int64_t done = 0;
  int64_t total = 0;
  for (const RemuxTrack& t : tracks) {
    done += avio_tell(t.input.io.get());
    total += t.input.reader->size();
  }
  return total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
}

Status CopyPackets(std::vector<RemuxTrack>& tracks, AVFormatContext* out,
                   const DownloadProgressFn& progress) {
  for (RemuxTrack& t : tracks) {
    KINO_RETURN_IF_ERROR(ReadNext(&t));
  }
  int64_t count = 0;
  for (RemuxTrack* t = Earliest(tracks); t != nullptr; t = Earliest(tracks)) {
    AVPacket* pkt = t->next.get();
    av_packet_rescale_ts(pkt, t->input.format->streams[t->in_index]->time_base,
                         t->out_stream->time_base);
    pkt->stream_index = t->out_stream->index;
    pkt->pos = -1;
    KINO_RETURN_IF_ERROR(AvStatus(av_write_frame(out, pkt), "av_write_frame"));
    KINO_RETURN_IF_ERROR(ReadNext(t));
    if (progress && ++count % 64 == 0 && !progress(Fraction(tracks) * 0.95)) {
      return Cancelled("download cancelled");
    }
  }
  return Status::Ok();
}

// TODO: this libavformat remux reads every packet and the mp4 muxer then rewrites the whole
// file to move moov first (two passes of data I/O); a box-level flattener needs one.
Status Remux(const FragmentedTrack* video, const FragmentedTrack* audio, const char* format_name,
             const std::string& out_path, const DownloadProgressFn& progress) {
  KINO_ASSIGN_OR_RETURN(AtomicOutputFile file, AtomicOutputFile::Create(out_path));
  AVFormatContext* raw = nullptr;
  KINO_RETURN_IF_ERROR(
      AvStatus(avformat_alloc_output_context2(&raw, nullptr, format_name, file.temp_path().c_str()),
               "avformat_alloc_output_context2"));
  AvOutputPtr out(raw);

  std::vector<RemuxTrack> tracks((video != nullptr) + (audio != nullptr));
  size_t next = 0;
  if (video != nullptr) {
    KINO_RETURN_IF_ERROR(
        AddTrack(*video, AVMEDIA_TYPE_VIDEO, AV_CODEC_ID_H264, out.get(), &tracks[next++]));
  }
  if (audio != nullptr) {
    KINO_RETURN_IF_ERROR(
        AddTrack(*audio, AVMEDIA_TYPE_AUDIO, AV_CODEC_ID_AAC, out.get(), &tracks[next++]));
  }

  KINO_RETURN_IF_ERROR(
      AvStatus(avio_open(&out->pb, file.temp_path().c_str(), AVIO_FLAG_WRITE), "avio_open"));
  AVDictionary* options = nullptr;
  av_dict_set(&options, "movflags", "+faststart", 0);
  int err = avformat_write_header(out.get(), &options);
  av_dict_free(&options);
  KINO_RETURN_IF_ERROR(AvStatus(err, "avformat_write_header"));
  KINO_RETURN_IF_ERROR(CopyPackets(tracks, out.get(), progress));
  KINO_RETURN_IF_ERROR(AvStatus(av_write_trailer(out.get()), "av_write_trailer"));
  KINO_RETURN_IF_ERROR(AvStatus(avio_closep(&out->pb), "avio_close"));
  KINO_RETURN_IF_ERROR(file.Commit());
  if (progress) {
    progress(1.0);
  }
  return Status::Ok();
}

}  // namespace

Status MakeDownloadMp4(const FragmentedTrack& video, const FragmentedTrack* audio,
                       const std::string& out_path, const DownloadProgressFn& progress) {
  return Remux(&video, audio, "mp4", out_path, progress);
}

Status MakeDownloadM4a(const FragmentedTrack& audio, const std::string& out_path,
                       const DownloadProgressFn& progress) {
  return Remux(nullptr, &audio, "ipod", out_path, progress);
}

}  // namespace kino::media

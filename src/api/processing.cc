#include "api/processing.h"

#include <cmath>

#include "api/webhook_events.h"
#include "common/log.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "jobs/job_queue.h"
#include "media/probe.h"

namespace kino::api {
namespace {

void FillFromProbe(const media::ProbeInfo& info, domain::Video* video) {
  video->duration = info.duration_s >= 0 ? std::round(info.duration_s * 1000) / 1000 : -1;
  video->width = info.width;
  video->height = info.height;
}

}  // namespace

std::string_view ReasonCodeFor(media::MediaError error) {
  switch (error) {
    case media::MediaError::kNonVideo:
      return domain::kErrNonVideo;
    case media::MediaError::kTooShort:
      return domain::kErrDurationTooShort;
    case media::MediaError::kMalformed:
      return domain::kErrMalformedVideo;
    case media::MediaError::kNone:
      break;
  }
  return domain::kErrUnknown;
}

Status MarkVideoFailed(storage::Database& tx, ApiContext& ctx, domain::Video* video,
                       std::string_view code, std::string_view text) {
  video->state = domain::VideoState::kError;
  video->error_code = std::string(code);
  video->error_text = std::string(text);
  KINO_RETURN_IF_ERROR(domain::VideoRepository::Save(tx, *video));
  return EnqueueVideoEvent(tx, *video, ctx.settings.public_url);
}

Status FinishUpload(ApiContext& ctx, domain::Video* video) {
  std::string key = domain::OriginalKey(video->uid);
  KINO_ASSIGN_OR_RETURN(storage::BlobInfo blob, ctx.blobs->Stat(key));
  video->size = static_cast<int64_t>(blob.size);
  video->uploaded = NowMicros();

  auto path = ctx.blobs->LocalPath(key);
  if (!path) {
    return Internal("the blob store keeps no local files; probing needs one");
  }
  media::ProbeResult probe = media::ProbeFile(*path);
  FillFromProbe(probe.info, video);

  std::string code;
  std::string text;
  if (probe.error != media::MediaError::kNone) {
    code = ReasonCodeFor(probe.error);
    text = probe.error_text;
  } else if (video->max_duration_seconds &&
             video->duration > static_cast<double>(*video->max_duration_seconds)) {
    code = domain::kErrDurationExceedConstraint;
    text = "the video is longer than maxDurationSeconds (" +
           std::to_string(*video->max_duration_seconds) + " s)";
  }

  KINO_RETURN_IF_ERROR(ctx.db->Transact([&](storage::Database& tx) -> Status {
    if (!code.empty()) {
      return MarkVideoFailed(tx, ctx, video, code, text);
    }
    video->state = domain::VideoState::kQueued;
    KINO_RETURN_IF_ERROR(domain::VideoRepository::Save(tx, *video));
    return jobs::JobQueue::Enqueue(tx, jobs::kProcessVideo, video->uid, nlohmann::json::object())
        .status();
  }));
  if (code.empty()) {
    ctx.wake_workers();
  }
  log::Info("upload_complete", code.empty() ? "video queued for processing" : "video refused",
            {{"video_uid", video->uid}, {"reason", code}});
  return Status::Ok();
}

}  // namespace kino::api

#include "api/processing.h"

#include <cmath>

#include "api/webhook_events.h"
#include "common/log.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "domain/errors.h"
#include "jobs/job_queue.h"
#include "media/probe.h"

namespace kino::api {
namespace {

void FillFromProbe(const media::ProbeInfo& info, domain::Video* video) {
  video->duration = info.duration_s >= 0 ? std::round(info.duration_s * 1000) / 1000 : -1;
  video->width = info.width;
  video->height = info.height;
}

// Why the probed file cannot become `video` (one of domain::kErr*, with *text), or "".
std::string RefusalReason(const media::ProbeResult& probe, const domain::Video& video,
                          std::string* text) {
  if (probe.error != media::MediaError::kNone) {
    *text = probe.error_text;
    return std::string(ReasonCodeFor(probe.error, probe.info.text));
  }
  if (video.max_duration_seconds &&
      video.duration > static_cast<double>(*video.max_duration_seconds)) {
    *text = "the video is longer than maxDurationSeconds (" +
            std::to_string(*video.max_duration_seconds) + " s)";
    return std::string(domain::kErrDurationExceedConstraint);
  }
  return "";
}

}  // namespace

std::string_view ReasonCodeFor(media::MediaError error, bool text) {
  switch (error) {
    case media::MediaError::kNonVideo:
      return domain::kErrNonVideo;
    case media::MediaError::kTooShort:
      return domain::kErrDurationTooShort;
    case media::MediaError::kMalformed:
      return text ? domain::kErrNonVideo : domain::kErrMalformedVideo;
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

Status FinishUpload(ApiContext& ctx, domain::Video* video, bool notify_refusal) {
  std::string key = domain::OriginalKey(video->uid);
  KINO_ASSIGN_OR_RETURN(storage::BlobInfo blob, ctx.blobs->Stat(key));
  auto path = ctx.blobs->LocalPath(key);
  if (!path) {
    return Internal("the blob store keeps no local files; probing needs one");
  }
  media::ProbeResult probe = media::ProbeFile(*path);

  std::string code;
  Status s = ctx.db->Transact([&](storage::Database& tx) -> Status {
    // The row as it is now: an upload can take long, and edits made through the API meanwhile
    // must not be overwritten by the copy the upload started with.
    KINO_ASSIGN_OR_RETURN(domain::Video fresh, domain::VideoRepository::GetByUid(tx, video->uid));
    if (video->meta.contains("name") && !fresh.meta.contains("name")) {
      fresh.meta["name"] = video->meta["name"];
    }
    *video = std::move(fresh);
    video->size = static_cast<int64_t>(blob.size);
    video->uploaded = NowMicros();
    FillFromProbe(probe.info, video);

    std::string text;
    code = RefusalReason(probe, *video, &text);
    if (!code.empty() && !notify_refusal) {
      video->state = domain::VideoState::kError;
      video->error_code = code;
      video->error_text = text;
      return domain::VideoRepository::Save(tx, *video);
    }
    if (!code.empty()) {
      return MarkVideoFailed(tx, ctx, video, code, text);
    }
    video->state = domain::VideoState::kQueued;
    KINO_RETURN_IF_ERROR(domain::VideoRepository::Save(tx, *video));
    return jobs::JobQueue::Enqueue(tx, jobs::kProcessVideo, video->uid, nlohmann::json::object())
        .status();
  });
  if (s.code() == StatusCode::kNotFound) {
    // Deleted while its bytes arrived: its file must not outlive it.
    ctx.blobs->DeletePrefix(domain::VideoPrefix(video->uid)).IgnoreError();
    return NotFound("the video was deleted during its upload", domain::kErrVideoNotFound);
  }
  KINO_RETURN_IF_ERROR(s);
  ctx.wake_workers();  // the encode job, or the error's webhook delivery
  log::Info("upload_complete", code.empty() ? "video queued for processing" : "video refused",
            {{"video_uid", video->uid}, {"reason", code}});
  return Status::Ok();
}

}  // namespace kino::api

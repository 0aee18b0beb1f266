// process_video: turns a queued video's original into its streaming package (the rendition
// ladder, HLS and DASH), reporting progress and readiness on the video as it goes.
//
// The job is safe to run again from the start: a retry, or another worker after this one died,
// clears the partial package first. When it finishes, downloads that were asked for while the
// video was processing (or before a re-processing) are made again from the new renditions.
#include <chrono>
#include <filesystem>
#include <mutex>

#include "api/processing.h"
#include "api/webhook_events.h"
#include "app/job_handlers.h"
#include "common/log.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "domain/download.h"
#include "domain/errors.h"
#include "jobs/job_queue.h"

namespace kino::app {
namespace {

constexpr int64_t kProgressSaveMicros = 1000000;

// Saves progress and readiness from the media library's callbacks. Each write reloads the
// video so that edits made through the API meanwhile (meta, creator, ...) are not lost.
class VideoProgress : public media::ProcessObserver {
 public:
  VideoProgress(api::ApiContext& ctx, jobs::JobContext& job) : ctx_(ctx), job_(job) {}

  void OnProgress(double fraction) override {
    int64_t now = NowMicros();
    if (now - last_save_ < kProgressSaveMicros) {
      return;
    }
    last_save_ = now;
    // Progress stops short of 100 until every rendition is published.
    Update([fraction](domain::Video& v) { v.pct_complete = std::min(99.0, fraction * 100); });
  }

  void OnRenditionsReady(const media::PackageResult& ready) override {
    if (ready.renditions.empty()) {
      return;
    }
    Update([](domain::Video& v) {
      if (!v.ready_to_stream) {
        v.ready_to_stream = true;
        v.ready_at = NowMicros();
      }
    });
  }

  bool Cancelled() override { return job_.Cancelled(); }

 private:
  template <typename Fn>
  void Update(Fn fn) {
    Status s = ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_ASSIGN_OR_RETURN(domain::Video v,
                            domain::VideoRepository::GetByUid(tx, job_.job().video_uid));
      fn(v);
      return domain::VideoRepository::Save(tx, v);
    });
    if (!s.ok()) {
      log::Warn("progress_save_failed", s.ToString(), {{"video_uid", job_.job().video_uid}});
    }
  }

  api::ApiContext& ctx_;
  jobs::JobContext& job_;
  int64_t last_save_ = 0;
};

class ProcessVideoHandler : public jobs::JobHandler {
 public:
  ProcessVideoHandler(api::ApiContext& ctx, media::LadderOptions ladder)
      : ctx_(ctx), ladder_(std::move(ladder)) {}

  Result<jobs::JobOutcome> Run(jobs::JobContext& job) override {
    const std::string& uid = job.job().video_uid;
    auto video = domain::VideoRepository::GetByUid(*ctx_.db, uid);
    if (!video.ok()) {
      // Deleted while queued: nothing to do.
      return video.status().code() == StatusCode::kNotFound
                 ? Result<jobs::JobOutcome>(jobs::JobOutcome::kDone)
                 : Result<jobs::JobOutcome>(video.TakeStatus());
    }
    KINO_ASSIGN_OR_RETURN(auto paths, Paths(uid));
    int64_t started = NowMicros();
    KINO_RETURN_IF_ERROR(Begin(*video, paths.second));

    VideoProgress progress(ctx_, job);
    auto package = media::ProcessVideo(paths.first, paths.second, ladder_, &progress);
    if (!package.ok()) {
      return Failed(uid, package.status());
    }
    KINO_RETURN_IF_ERROR(Finish(uid, *package, started));
    return jobs::JobOutcome::kDone;
  }

  void OnGiveUp(const jobs::Job& job, const Status& last_error) override {
    Status s = ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_ASSIGN_OR_RETURN(domain::Video v, domain::VideoRepository::GetByUid(tx, job.video_uid));
      return api::MarkVideoFailed(tx, ctx_, &v, domain::kErrUnknown,
                                  "processing failed: " + last_error.message());
    });
    if (!s.ok()) {
      log::Error("video_fail_save_failed", s.ToString(), {{"video_uid", job.video_uid}});
    }
  }

 private:
  // The original's path and the package directory.
  Result<std::pair<std::string, std::string>> Paths(const std::string& uid) {
    auto input = ctx_.blobs->LocalPath(domain::OriginalKey(uid));
    auto out = ctx_.blobs->LocalPath(domain::PackagePrefix(uid));
    if (!input || !out) {
      return Internal("the blob store keeps no local files; processing needs them");
    }
    return std::make_pair(*input, *out);
  }

  // inprogress, from a clean package directory.
  Status Begin(domain::Video& video, const std::string& out_dir) {
    std::error_code ec;
    std::filesystem::remove_all(out_dir, ec);
    if (ec) {
      return Internal("clearing " + out_dir + ": " + ec.message());
    }
    video.state = domain::VideoState::kInProgress;
    video.pct_complete = 0;
    video.ready_to_stream = false;
    video.ready_at.reset();
    return domain::VideoRepository::Save(*ctx_.db, video);
  }

  // A file the media library refuses will not get better on a retry: fail the video now.
  Result<jobs::JobOutcome> Failed(const std::string& uid, const Status& status) {
    if (status.code() != StatusCode::kInvalidArgument) {
      return status;
    }
    KINO_RETURN_IF_ERROR(ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_ASSIGN_OR_RETURN(domain::Video v, domain::VideoRepository::GetByUid(tx, uid));
      return api::MarkVideoFailed(tx, ctx_, &v, api::ReasonCodeFor(media::RefusalOf(status)),
                                  status.message());
    }));
    log::Info("video_failed", status.message(), {{"video_uid", uid}});
    return jobs::JobOutcome::kDone;
  }

  // ready, its webhook event, and the downloads made again, in one transaction. `started` is
  // when this run began.
  Status Finish(const std::string& uid, const media::PackageResult& package, int64_t started) {
    KINO_RETURN_IF_ERROR(ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_ASSIGN_OR_RETURN(domain::Video v, domain::VideoRepository::GetByUid(tx, uid));
      v.state = domain::VideoState::kReady;
      v.pct_complete = 100;
      if (!v.ready_to_stream) {
        v.ready_to_stream = true;
        v.ready_at = NowMicros();
      }
      if (package.duration_s > 0) {
        v.duration = std::round(package.duration_s * 1000) / 1000;
      }
      KINO_RETURN_IF_ERROR(domain::VideoRepository::Save(tx, v));
      KINO_RETURN_IF_ERROR(api::EnqueueVideoEvent(tx, v, ctx_.settings.public_url));
      return RestartDownloads(tx, uid, started);
    }));
    ctx_.wake_workers();
    log::Info("video_ready", "video processed", {{"video_uid", uid}});
    return Status::Ok();
  }

  // Downloads made before this run are made again from the new renditions. One made during
  // this run is kept: the first renditions published (the top rung and the audio) are final,
  // later publications only add lower rungs, so its file is already what a new run would give.
  static Status RestartDownloads(storage::Database& tx, const std::string& uid, int64_t started) {
    KINO_ASSIGN_OR_RETURN(auto downloads, domain::DownloadRepository::List(tx, uid));
    for (const domain::Download& d : downloads) {
      // An inprogress download's job is waiting for the renditions and will make it.
      if (d.status == domain::DownloadStatus::kInProgress) {
        continue;
      }
      if (d.status == domain::DownloadStatus::kReady && d.modified >= started) {
        continue;
      }
      KINO_RETURN_IF_ERROR(domain::DownloadRepository::Restart(tx, uid, d.type));
      nlohmann::json payload = {{"type", domain::DownloadTypeName(d.type)}};
      KINO_RETURN_IF_ERROR(jobs::JobQueue::Enqueue(tx, jobs::kMakeDownload, uid, payload).status());
    }
    return Status::Ok();
  }

  api::ApiContext& ctx_;
  media::LadderOptions ladder_;
};

}  // namespace

std::shared_ptr<jobs::JobHandler> MakeProcessVideoHandler(api::ApiContext& ctx,
                                                          media::LadderOptions ladder) {
  return std::make_shared<ProcessVideoHandler>(ctx, std::move(ladder));
}

}  // namespace kino::app

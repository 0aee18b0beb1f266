// make_download: makes a download's file from the video's streaming package, stores it, and
// marks the download ready with its size and SHA-256.
//
// The file is a remux of the package's CMAF renditions (media/download_mp4.h): the top video
// rendition plus the audio rendition for "default", the audio rendition alone for "audio".
// It is written to a temporary file named after the job (hashed as it is written, so it is
// never read back), then moved into the BlobStore under domain::DownloadBlobKey. The job is safe to
// run again from the start: a retry, or a worker leasing it after this process died, removes the
// temporary file first.
//
// Waiting: while the video is processing and its package has no playable rendition yet, the
// job defers (the pool runs it again in about a second without counting an attempt).
#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>

#include "api/webhook_events.h"
#include "app/job_handlers.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "domain/download.h"
#include "media/download_mp4.h"
#include "media/transcode.h"

namespace kino::app {
namespace {

using domain::Download;
using domain::DownloadRepository;
using domain::DownloadType;

constexpr int64_t kProgressSaveMicros = 500000;  // about twice a second

// The renditions a download is made from; null where the package has none.
struct Sources {
  const media::RenditionInfo* video = nullptr;
  const media::RenditionInfo* audio = nullptr;
};

Sources PickSources(const media::PackageResult& package) {
  Sources s;
  for (const media::RenditionInfo& r : package.renditions) {
    // Renditions are listed highest first, so the first video one is the top of the ladder.
    if (r.kind == media::RenditionKind::kVideo && s.video == nullptr) {
      s.video = &r;
    }
    if (r.kind == media::RenditionKind::kAudio && s.audio == nullptr) {
      s.audio = &r;
    }
  }
  return s;
}

media::FragmentedTrack TrackOf(const std::string& package_dir, const media::RenditionInfo& r) {
  media::FragmentedTrack track;
  std::string dir = package_dir + "/" + r.name + "/";
  track.init_path = dir + r.init_file;
  for (const std::string& segment : r.segment_files) {
    track.segment_paths.push_back(dir + segment);
  }
  return track;
}

// Why a make_download job gave up, in words for the API and the webhook event. Media errors
// name files under the data directory, which are no business of the account.
std::string_view ReasonForAccount(const Status& status) {
  switch (status.code()) {
    case StatusCode::kDataLoss:
      return "the video's stored renditions are damaged";
    case StatusCode::kNotFound:
      return "the video's stored renditions are missing";
    case StatusCode::kInvalidArgument:
      return "the video's stored renditions cannot be read";
    default:
      return "an internal error; the server log has the details";
  }
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

// Saves progress at most twice a second and stops the remux when the job is cancelled or the
// download was deleted meanwhile.
class ProgressSaver {
 public:
  ProgressSaver(api::ApiContext& ctx, jobs::JobContext& job, DownloadType type)
      : ctx_(ctx), job_(job), type_(type) {}

  bool operator()(double fraction) {
    if (job_.Cancelled()) {
      return false;
    }
    int64_t now = NowMicros();
    if (now - last_save_ < kProgressSaveMicros) {
      return true;
    }
    last_save_ = now;
    const std::string& uid = job_.job().video_uid;
    auto row = DownloadRepository::Get(*ctx_.db, uid, type_);
    if (row.ok() && !row->has_value()) {
      deleted_ = true;
      return false;
    }
    // 100 is reserved for "ready": the file still has to be hashed and stored.
    Status s = DownloadRepository::SetProgress(*ctx_.db, uid, type_,
                                               std::min(99.0, std::max(0.0, fraction * 100)));
    if (!s.ok()) {
      log::Warn("download_progress_save_failed", s.ToString(), {{"video_uid", uid}});
    }
    return true;
  }

  bool deleted() const { return deleted_; }

 private:
  api::ApiContext& ctx_;
  jobs::JobContext& job_;
  DownloadType type_;
  int64_t last_save_ = 0;
  bool deleted_ = false;
};

class DownloadHandler : public jobs::JobHandler {
 public:
  explicit DownloadHandler(api::ApiContext& ctx) : ctx_(ctx) {}

  Result<jobs::JobOutcome> Run(jobs::JobContext& job) override {
    const std::string& uid = job.job().video_uid;
    KINO_ASSIGN_OR_RETURN(DownloadType type, TypeOf(job.job()));
    auto video = domain::VideoRepository::GetByUid(*ctx_.db, uid);
    if (!video.ok()) {
      return Gone(video.TakeStatus());  // a deleted video: nothing to make
    }
    KINO_ASSIGN_OR_RETURN(auto download, DownloadRepository::Get(*ctx_.db, uid, type));
    if (!download || download->status != domain::DownloadStatus::kInProgress) {
      return jobs::JobOutcome::kDone;  // deleted, or already made by an earlier run
    }
    if (video->state == domain::VideoState::kError) {
      KINO_RETURN_IF_ERROR(Fail(*video, type, "the video failed to process"));
      return jobs::JobOutcome::kDone;
    }
    if (!video->ready_to_stream) {
      return jobs::JobOutcome::kDefer;
    }
    auto package_dir = ctx_.blobs->LocalPath(domain::PackagePrefix(uid));
    if (!package_dir) {
      return Internal("the blob store keeps no local files; downloads need them");
    }
    auto package = media::LoadPackage(*package_dir);
    // Still processing (or starting again): the renditions come. A ready video without them
    // has lost its files; waiting would leave the download inprogress forever, so that is a
    // failed attempt, retried with backoff and then an error.
    if (!package.ok() && package.status().code() == StatusCode::kNotFound &&
        video->state != domain::VideoState::kReady) {
      return jobs::JobOutcome::kDefer;
    }
    if (!package.ok()) {
      return package.TakeStatus();
    }
    return Make(job, *video, type, *package_dir, *package);
  }

  void OnGiveUp(const jobs::Job& job, const Status& last_error) override {
    auto type = TypeOf(job);
    auto video = domain::VideoRepository::GetByUid(*ctx_.db, job.video_uid);
    if (!type.ok() || !video.ok()) {
      return;
    }
    // The job_failed log line holds the whole status; the text the account sees names the
    // cause without the server's file paths.
    Status s = Fail(*video, *type,
                    "making the download failed: " + std::string(ReasonForAccount(last_error)));
    if (!s.ok()) {
      log::Error("download_fail_save_failed", s.ToString(), {{"video_uid", job.video_uid}});
    }
  }

 private:
  static Result<DownloadType> TypeOf(const jobs::Job& job) {
    const auto& payload = job.payload;
    if (payload.is_object() && payload.contains("type") && payload["type"].is_string()) {
      if (auto type = domain::ParseDownloadType(payload["type"].get<std::string>())) {
        return *type;
      }
    }
    return InvalidArgument("make_download payload has no valid type: " + payload.dump());
  }

  static Result<jobs::JobOutcome> Gone(Status status) {
    if (status.code() == StatusCode::kNotFound) {
      return jobs::JobOutcome::kDone;
    }
    return status;
  }

  // The video cannot give this download: error with `text` and its webhook event, no retry.
  Status Fail(const domain::Video& video, DownloadType type, const std::string& text) {
    log::Info("download_failed", text,
              {{"video_uid", video.uid}, {"type", domain::DownloadTypeName(type)}});
    return ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_RETURN_IF_ERROR(DownloadRepository::MarkError(tx, video.uid, type, text));
      KINO_ASSIGN_OR_RETURN(auto d, DownloadRepository::Get(tx, video.uid, type));
      if (!d) {
        return Status::Ok();
      }
      return api::EnqueueDownloadEvent(tx, video, *d, ctx_.settings.public_url);
    });
  }

  // One name per attempt: should an attempt whose lease was lost still be running when the
  // next one starts, neither truncates the file the other is writing and hashing.
  std::string TempPath(const jobs::Job& job, int attempt, DownloadType type) const {
    return ctx_.settings.data_dir + "/tmp/download-" + job.id + "-" + std::to_string(attempt) +
           std::string(domain::DownloadExtension(type));
  }

  Result<jobs::JobOutcome> Make(jobs::JobContext& job, const domain::Video& video,
                                DownloadType type, const std::string& package_dir,
                                const media::PackageResult& package) {
    Sources sources = PickSources(package);
    if (type == DownloadType::kAudio && sources.audio == nullptr) {
      KINO_RETURN_IF_ERROR(Fail(video, type, "the video has no audio track"));
      return jobs::JobOutcome::kDone;
    }
    if (type == DownloadType::kDefault && sources.video == nullptr) {
      KINO_RETURN_IF_ERROR(Fail(video, type, "the video has no video rendition"));
      return jobs::JobOutcome::kDone;
    }

    std::string out = TempPath(job.job(), job.job().attempts, type);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(out).parent_path(), ec);
    if (ec) {
      return Internal("creating the download work directory: " + ec.message());
    }
    // Left over when an earlier attempt of this job was killed.
    for (int attempt = 1; attempt <= job.job().attempts; ++attempt) {
      std::string earlier = TempPath(job.job(), attempt, type);
      RemoveQuietly(earlier);
      RemoveQuietly(earlier + ".tmp");
    }

    int64_t started = NowMicros();
    ProgressSaver progress(ctx_, job, type);
    media::DownloadProgressFn fn = [&progress](double f) { return progress(f); };
    Status made;
    media::WrittenDownload written;
    if (type == DownloadType::kAudio) {
      made = media::MakeDownloadM4a(TrackOf(package_dir, *sources.audio), out, fn, &written);
    } else {
      media::FragmentedTrack audio;
      if (sources.audio != nullptr) {
        audio = TrackOf(package_dir, *sources.audio);
      }
      made = media::MakeDownloadMp4(TrackOf(package_dir, *sources.video),
                                    sources.audio != nullptr ? &audio : nullptr, out, fn, &written);
    }
    if (!made.ok()) {
      RemoveQuietly(out);
      if (progress.deleted()) {
        return jobs::JobOutcome::kDone;
      }
      return made.Annotate("making " + std::string(domain::DownloadFileName(type)));
    }
    Status stored = Store(video, type, out, written);
    RemoveQuietly(out);
    KINO_RETURN_IF_ERROR(stored);
    log::Info("download_ready", "download made",
              {{"video_uid", video.uid},
               {"job_id", job.job().id},
               {"type", domain::DownloadTypeName(type)},
               {"millis", std::to_string((NowMicros() - started) / 1000)}});
    return jobs::JobOutcome::kDone;
  }

  // Moves the file into the BlobStore and marks the download ready with the size and SHA-256
  // measured while writing it (and its webhook event) in one transaction. If the download was
  // deleted meanwhile, the stored file is removed again.
  Status Store(const domain::Video& video, DownloadType type, const std::string& path,
               const media::WrittenDownload& written) {
    auto size = static_cast<int64_t>(written.size);
    std::string sha256 = HexEncode(written.sha256);
    std::string key = domain::DownloadBlobKey(video.uid, type);
    KINO_RETURN_IF_ERROR(ctx_.blobs->PutFile(key, path));

    bool still_wanted = false;
    KINO_RETURN_IF_ERROR(ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_ASSIGN_OR_RETURN(auto d, DownloadRepository::Get(tx, video.uid, type));
      still_wanted = d.has_value();
      if (!still_wanted) {
        return Status::Ok();
      }
      KINO_RETURN_IF_ERROR(DownloadRepository::MarkReady(tx, video.uid, type, size, sha256));
      KINO_ASSIGN_OR_RETURN(auto ready, DownloadRepository::Get(tx, video.uid, type));
      if (!ready) {
        return Internal("download row vanished inside its transaction");
      }
      return api::EnqueueDownloadEvent(tx, video, *ready, ctx_.settings.public_url);
    }));
    if (!still_wanted) {
      return ctx_.blobs->Delete(key);
    }
    return Status::Ok();
  }

  api::ApiContext& ctx_;
};

}  // namespace

std::shared_ptr<jobs::JobHandler> MakeDownloadHandler(api::ApiContext& ctx) {
  return std::make_shared<DownloadHandler>(ctx);
}

}  // namespace kino::app

// fetch_video: upload by link. Downloads the URL that POST /stream/copy named into a partial
// file (api::PartialPath(ctx, "fetch", uid)), then hands it to FinishUpload like every other
// upload path: downloading -> queued (its process_video job enqueued in the same transaction)
// or error. A fetch that fails for good ends in error with ERR_FETCH_ORIGIN_ERROR.
//
// Safe to run again: the bytes of an earlier attempt (a retry, or a process that crashed) stay
// in the partial file and the next attempt asks the origin for the rest with a Range request
// (RFC 9110 section 14.2), with If-Range and the validator (ETag or Last-Modified) of the
// response the partial file began with, kept beside it; an origin whose file changed, or that
// ignores Range, sends the whole file and the partial file starts over. A file already published as
// the original (a crash just before the state change) is not fetched again. Deleting the video
// stops the transfer within about a second and leaves no file behind.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/processing.h"
#include "api/tus_handlers.h"
#include "app/job_handlers.h"
#include "common/log.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "http/fetch.h"
#include "storage/blob_store.h"

namespace kino::app {
namespace {

constexpr int64_t kMaxFetchSeconds = 6 * 3600;
// How often a running fetch looks whether its video still wants it.
constexpr int64_t kVideoCheckMicros = 1'000'000;

Status ErrnoStatus(const char* what) {
  return Internal(std::string(what) + " the partial fetch: " + std::strerror(errno));
}

// The partial file a fetch appends to. Not thread-safe; closes its descriptor when destroyed.
class PartialFile {
 public:
  explicit PartialFile(std::string path) : path_(std::move(path)) {}
  ~PartialFile() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  // Opens (or creates) the file; size() is then what earlier attempts left.
  Status Open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    struct stat st {};
    if (fd_ < 0 || ::fstat(fd_, &st) != 0) {
      return ErrnoStatus("opening");
    }
    size_ = static_cast<uint64_t>(st.st_size);
    return Status::Ok();
  }

  // Continues at `offset`, dropping whatever lies past it (0 starts over).
  Status StartAt(uint64_t offset) {
    auto off = static_cast<off_t>(offset);
    if (::ftruncate(fd_, off) != 0 || ::lseek(fd_, off, SEEK_SET) != off) {
      return ErrnoStatus("positioning");
    }
    size_ = offset;
    return Status::Ok();
  }

  Status Append(std::string_view data) {
    while (!data.empty()) {
      ssize_t w = ::write(fd_, data.data(), data.size());
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w <= 0) {
        return ErrnoStatus("writing");
      }
      data.remove_prefix(static_cast<size_t>(w));
      size_ += static_cast<uint64_t>(w);
    }
    return Status::Ok();
  }

  Status Sync() { return ::fdatasync(fd_) == 0 ? Status::Ok() : ErrnoStatus("syncing"); }
  uint64_t size() const { return size_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

class FetchVideoHandler : public jobs::JobHandler {
 public:
  explicit FetchVideoHandler(api::ApiContext& ctx) : ctx_(ctx) {}

  Result<jobs::JobOutcome> Run(jobs::JobContext& job) override {
    const std::string& uid = job.job().video_uid;
    KINO_ASSIGN_OR_RETURN(std::optional<domain::Video> video, Downloading(uid));
    if (!video) {
      return jobs::JobOutcome::kDone;  // deleted, or an earlier run got past downloading
    }
    std::error_code ec;
    bool published = !std::filesystem::exists(Partial(uid), ec) &&
                     ctx_.blobs->Stat(domain::OriginalKey(uid)).ok();
    Status fetched = published ? Status::Ok() : FetchToPartial(job, uid, SourceUrl(job, *video));
    if (fetched.ok()) {
      KINO_RETURN_IF_ERROR(Publish(uid, published));
      return jobs::JobOutcome::kDone;
    }
    if (fetched.code() == StatusCode::kCancelled) {
      RemoveIfDeleted(uid);
      return fetched;
    }
    if (fetched.code() == StatusCode::kInvalidArgument) {
      // Refused URL, 4xx answer, too large: another attempt cannot help.
      KINO_RETURN_IF_ERROR(FailVideo(uid, fetched));
      return jobs::JobOutcome::kDone;
    }
    return fetched;  // retried with backoff; OnGiveUp fails the video after the last attempt
  }

  void OnGiveUp(const jobs::Job& job, const Status& last_error) override {
    Status s = FailVideo(job.video_uid, last_error);
    if (!s.ok()) {
      log::Error("video_fail_save_failed", s.ToString(), {{"video_uid", job.video_uid}});
    }
  }

 private:
  std::string Partial(const std::string& uid) const { return api::PartialPath(ctx_, "fetch", uid); }
  std::string ValidatorPath(const std::string& uid) const {
    return api::PartialPath(ctx_, "fetch-validator", uid);
  }

  std::string ReadValidator(const std::string& uid) const {
    std::ifstream in(ValidatorPath(uid), std::ios::binary);
    std::string validator;
    std::getline(in, validator);
    return validator;
  }

  // Kept before the first body byte is written, so that a resumed fetch always knows which
  // response the bytes on disk came from.
  Status KeepValidator(const std::string& uid, std::string_view validator) const {
    if (validator.empty()) {
      std::error_code ec;
      std::filesystem::remove(ValidatorPath(uid), ec);
      return Status::Ok();
    }
    return storage::WriteFileAtomically(ValidatorPath(uid), validator);
  }

  void RemovePartial(const std::string& uid) const {
    std::error_code ec;
    std::filesystem::remove(Partial(uid), ec);
    std::filesystem::remove(ValidatorPath(uid), ec);
  }

  static std::string SourceUrl(const jobs::JobContext& job, const domain::Video& video) {
    const nlohmann::json& payload = job.job().payload;
    if (payload.is_object() && payload.contains("url") && payload["url"].is_string()) {
      return payload["url"].get<std::string>();
    }
    return video.source_url.value_or("");
  }

  // The video when it exists and still waits for its bytes; nullopt otherwise.
  Result<std::optional<domain::Video>> Downloading(const std::string& uid) {
    auto video = domain::VideoRepository::GetByUid(*ctx_.db, uid);
    if (!video.ok()) {
      if (video.status().code() == StatusCode::kNotFound) {
        return std::optional<domain::Video>();
      }
      return video.status();
    }
    if (video->state != domain::VideoState::kDownloading) {
      return std::optional<domain::Video>();
    }
    return std::optional<domain::Video>(*std::move(video));
  }

  http::FetchOptions Options(jobs::JobContext& job, const std::string& uid) {
    http::FetchOptions o;
    o.allow_private_addresses = ctx_.settings.allow_private_urls;
    o.stall_seconds = ctx_.settings.fetch_stall_seconds;
    o.max_seconds = kMaxFetchSeconds;
    o.max_bytes = ctx_.settings.max_tus_upload_bytes;
    // The job's own cancellation arrives with the next heartbeat; a deleted video is noticed
    // sooner by looking at its row now and then.
    o.cancelled = [this, &job, uid, next_check = int64_t{0}]() mutable {
      if (job.Cancelled()) {
        return true;
      }
      int64_t now = NowMicros();
      if (now < next_check) {
        return false;
      }
      next_check = now + kVideoCheckMicros;
      auto video = Downloading(uid);
      return video.ok() && !*video;
    };
    return o;
  }

  Status FetchToPartial(jobs::JobContext& job, const std::string& uid, const std::string& url) {
    KINO_RETURN_IF_ERROR(api::EnsurePartialDir(ctx_));
    PartialFile file(Partial(uid));
    KINO_RETURN_IF_ERROR(file.Open());
    http::FetchOptions options = Options(job, uid);
    options.resume_from = file.size();
    http::FetchSink sink;
    options.if_range = ReadValidator(uid);
    sink.on_start = [this, &file, &uid](uint64_t start, std::string_view validator) {
      KINO_RETURN_IF_ERROR(file.StartAt(start));
      return start == 0 ? KeepValidator(uid, validator) : Status::Ok();
    };
    sink.on_data = [&file](std::string_view data) { return file.Append(data); };
    log::Info("fetch_started", "fetching the video's URL",
              {{"video_uid", uid},
               {"url", log::RedactUrl(url)},
               {"resume_from", std::to_string(options.resume_from)}});

    http::FetchInfo info;
    Status s = http::Fetch(url, sink, options, &info);
    if (!s.ok() && options.resume_from > 0 && info.http_status == 416) {
      // Nothing past what we hold: the earlier attempt had it all, or the file changed.
      options.resume_from = 0;
      s = file.StartAt(0);
      if (s.ok()) {
        s = http::Fetch(url, sink, options, &info);
      }
    }
    if (s.ok()) {
      s = file.Sync();
    }
    if (s.ok()) {
      log::Info("fetch_complete", "fetched the video's URL",
                {{"video_uid", uid}, {"bytes", std::to_string(file.size())}});
    }
    return s;
  }

  // The fetched file becomes the original; FinishUpload probes it and queues it (or refuses it).
  Status Publish(const std::string& uid, bool already_published) {
    if (!already_published) {
      KINO_RETURN_IF_ERROR(ctx_.blobs->PutFile(domain::OriginalKey(uid), Partial(uid)));
      RemovePartial(uid);
    }
    KINO_ASSIGN_OR_RETURN(std::optional<domain::Video> video, Downloading(uid));
    if (!video) {
      // Deleted while the file was being moved: it must not outlive its video.
      return ctx_.blobs->DeletePrefix(domain::VideoPrefix(uid));
    }
    Status s = api::FinishUpload(ctx_, &*video);
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;  // deleted meanwhile
  }

  Status FailVideo(const std::string& uid, const Status& why) {
    RemovePartial(uid);
    log::Info("fetch_failed", why.message(), {{"video_uid", uid}});
    return ctx_.db->Transact([&](storage::Database& tx) -> Status {
      auto video = domain::VideoRepository::GetByUid(tx, uid);
      if (!video.ok()) {
        return video.status().code() == StatusCode::kNotFound ? Status::Ok() : video.status();
      }
      if (video->state != domain::VideoState::kDownloading) {
        return Status::Ok();
      }
      return api::MarkVideoFailed(tx, ctx_, &*video, domain::kErrFetchOriginError,
                                  "fetching the video's URL failed: " + why.message());
    });
  }

  void RemoveIfDeleted(const std::string& uid) {
    auto video = domain::VideoRepository::GetByUid(*ctx_.db, uid);
    if (!video.ok() && video.status().code() == StatusCode::kNotFound) {
      RemovePartial(uid);
    }
  }

  api::ApiContext& ctx_;
};

}  // namespace

std::shared_ptr<jobs::JobHandler> MakeFetchVideoHandler(api::ApiContext& ctx) {
  return std::make_shared<FetchVideoHandler>(ctx);
}

}  // namespace kino::app

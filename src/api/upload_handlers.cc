// Uploads that are not tus (Cloudflare Stream's "upload a video" pages):
//
//   POST {prefix}                 basic upload: multipart/form-data, field `file`, API token.
//                                 With a Tus-Resumable header it is tus creation instead
//                                 (tus_handlers.cc); both share this one route.
//   POST {prefix}/direct_upload   makes a video in pendingupload and a one-time upload URL.
//   POST /upload/{uid}            that URL: one unauthenticated multipart POST (field `file`)
//                                 before the expiry; later or second ones get 410.
//   OPTIONS /upload/{uid}         CORS preflight for browsers posting to it.
//   POST {prefix}/copy            upload by link: the video starts in downloading and a
//                                 fetch_video job (app/fetch_job.cc) downloads the URL.
//
// Bodies are streamed into a BlobWriter chunk by chunk, so memory stays flat whatever the size.
#include <memory>
#include <vector>

#include "api/envelope.h"
#include "api/handler_util.h"
#include "api/processing.h"
#include "api/routes.h"
#include "api/tus_handlers.h"
#include "api/video_json.h"
#include "common/log.h"
#include "common/random.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "domain/errors.h"
#include "http/address_guard.h"
#include "http/http_client.h"
#include "http/multipart.h"
#include "jobs/job_queue.h"

namespace kino::api {
namespace {

using boost::asio::awaitable;
using domain::kErrBadUpload;
using domain::kErrInvalidParameter;

constexpr size_t kReadChunk = 256 * 1024;
// Room for the multipart framing around the file (boundaries, part headers, small fields).
constexpr uint64_t kMultipartSlack = 64 * 1024;
// Non-file form fields are read and dropped; their total is bounded all the same.
constexpr uint64_t kMaxOtherFieldBytes = 64 * 1024;
constexpr int64_t kMinute = 60'000'000;
constexpr int64_t kDefaultDirectExpiry = 30 * kMinute;
constexpr int64_t kMaxDirectExpiry = 6 * 60 * kMinute;
constexpr int kFetchAttempts = 3;

struct ReceivedFile {
  std::optional<std::string> filename;
  uint64_t size = 0;
};

Status TooLarge(uint64_t max_bytes) {
  return ResourceExhausted("upload larger than " + std::to_string(max_bytes) +
                               " bytes; use a tus resumable upload for large files",
                           domain::kErrUploadTooLarge);
}

// What the parser callbacks accumulate for one multipart body.
class FileCollector {
 public:
  FileCollector(storage::BlobWriter* writer, uint64_t max_bytes)
      : writer_(writer), max_bytes_(max_bytes) {}

  http::MultipartParser::Callbacks Callbacks() {
    http::MultipartParser::Callbacks cb;
    cb.on_part_begin = [this](const http::PartHeaders& h) { return Begin(h); };
    cb.on_part_data = [this](std::string_view d) { return Data(d); };
    cb.on_part_end = [this] {
      in_file_ = false;
      return Status::Ok();
    };
    return cb;
  }

  Status Check() const {
    if (file_parts_ == 0) {
      return InvalidArgument("the form has no field named 'file'", kErrBadUpload);
    }
    if (file_.size == 0) {
      return InvalidArgument("the uploaded file is empty", kErrBadUpload);
    }
    return Status::Ok();
  }
  const ReceivedFile& file() const { return file_; }

 private:
  Status Begin(const http::PartHeaders& h) {
    bool is_file = h.name == "file";
    if (is_file || h.filename) {
      if (!is_file) {
        return InvalidArgument("a file was sent in field '" + h.name + "'; use field 'file'",
                               kErrBadUpload);
      }
      if (++file_parts_ > 1) {
        return InvalidArgument("the form has more than one file; send one per upload",
                               kErrBadUpload);
      }
      file_.filename = h.filename;
    }
    in_file_ = is_file;
    return Status::Ok();
  }

  Status Data(std::string_view d) {
    if (!in_file_) {
      other_bytes_ += d.size();
      return other_bytes_ > kMaxOtherFieldBytes
                 ? InvalidArgument("form fields other than 'file' are too large", kErrBadUpload)
                 : Status::Ok();
    }
    file_.size += d.size();
    if (file_.size > max_bytes_) {
      return TooLarge(max_bytes_);
    }
    return writer_->Write(d);
  }

  storage::BlobWriter* writer_;
  uint64_t max_bytes_;
  ReceivedFile file_;
  int file_parts_ = 0;
  bool in_file_ = false;
  uint64_t other_bytes_ = 0;
};

// The parser's own errors carry no API code: they are all "malformed multipart body".
Status AsBadUpload(Status s) {
  if (s.ok() || s.api_code() != 0 || s.code() != StatusCode::kInvalidArgument) {
    return s;
  }
  return InvalidArgument("malformed multipart body: " + s.message(), kErrBadUpload);
}

// Streams a multipart body's `file` field into the blob store under the video's original key.
// Nothing is left under that key unless the whole file arrived and passed the checks.
awaitable<Result<ReceivedFile>> ReceiveMultipartFile(ApiContext& ctx, const Request& req,
                                                     BodyReader& body, const std::string& uid,
                                                     uint64_t max_bytes) {
  auto boundary = http::BoundaryFromContentType(req.headers.GetOr("Content-Type", ""));
  if (!boundary.ok()) {
    co_return InvalidArgument(boundary.status().message() + " (send the file in field 'file')",
                              kErrBadUpload);
  }
  if (body.content_length() && *body.content_length() > max_bytes + kMultipartSlack) {
    co_return TooLarge(max_bytes);
  }
  auto writer = ctx.blobs->Create(domain::OriginalKey(uid));
  if (!writer.ok()) {
    co_return writer.status();
  }
  FileCollector collector(writer->get(), max_bytes);
  http::MultipartParser parser(*boundary, collector.Callbacks());
  std::vector<char> buffer(kReadChunk);
  while (true) {
    Result<size_t> n = co_await body.Read(buffer.data(), buffer.size());
    if (!n.ok()) {
      co_return n.status();
    }
    if (*n == 0) {
      break;
    }
    Status fed = parser.Feed(std::string_view(buffer.data(), *n));
    if (!fed.ok()) {
      co_return AsBadUpload(std::move(fed));
    }
  }
  Status done = AsBadUpload(parser.Finish());
  if (done.ok()) {
    done = collector.Check();
  }
  if (done.ok()) {
    done = (*writer)->Commit();
  }
  if (!done.ok()) {
    co_return done;
  }
  co_return collector.file();
}

domain::Video NewVideo(const std::string& account, domain::VideoSource source,
                       domain::VideoState state) {
  domain::Video v;
  v.uid = NewId();
  v.account_id = account;
  v.source = source;
  v.state = state;
  v.created = v.modified = NowMicros();
  return v;
}

void NameFromFilename(const ReceivedFile& file, domain::Video* video) {
  if (file.filename && !file.filename->empty() && !video->meta.contains("name")) {
    video->meta["name"] = *file.filename;
  }
}

// FinishUpload's refusal of a file, as the 400 Stream answers a basic upload with.
Status RefusalStatus(const domain::Video& video) {
  return InvalidArgument("the uploaded file is not a playable video (" + video.error_code +
                             (video.error_text.empty() ? "" : ": " + video.error_text) + ")",
                         domain::kErrNotVideo);
}

awaitable<Response> BasicUpload(ApiContext& ctx, Request& req, const PathParams& params,
                                BodyReader& body) {
  auto account = Authenticate(ctx, req, Param(params, "account"));
  if (!account.ok()) {
    co_return JsonError(account.status(), req.request_id);
  }
  // Before the body is read: a refused upload costs the client no transfer.
  if (Status room = CheckQueueRoom(ctx, *account); !room.ok()) {
    co_return JsonError(room, req.request_id);
  }
  domain::Video video =
      NewVideo(*account, domain::VideoSource::kBasic, domain::VideoState::kDownloading);
  if (Status s = ApplyCreatorHeader(req, &video); !s.ok()) {
    co_return JsonError(s, req.request_id);
  }
  auto file =
      co_await ReceiveMultipartFile(ctx, req, body, video.uid, ctx.settings.max_basic_upload_bytes);
  if (!file.ok()) {
    co_return JsonError(file.status(), req.request_id);
  }
  NameFromFilename(*file, &video);

  Status s = domain::VideoRepository::Insert(*ctx.db, video);
  if (!s.ok()) {
    ctx.blobs->DeletePrefix(domain::VideoPrefix(video.uid)).IgnoreError();
    co_return JsonError(s, req.request_id);
  }
  s = FinishUpload(ctx, &video, /*notify_refusal=*/false);
  if (s.ok() && video.state == domain::VideoState::kError) {
    // A refused basic upload leaves nothing behind: the caller got the answer right here.
    s = DeleteVideoNow(ctx, video);
    co_return JsonError(s.ok() ? RefusalStatus(video) : s, req.request_id);
  }
  if (!s.ok()) {
    co_return JsonError(s, req.request_id);
  }
  co_return JsonOk(VideoToJson(video, ctx.settings.public_url));
}

awaitable<Response> PostToStream(ApiContext& ctx, Request& req, const PathParams& params,
                                 BodyReader& body) {
  if (req.headers.Has("Tus-Resumable")) {
    co_return co_await CreateTusUpload(ctx, req, params, body);
  }
  co_return co_await BasicUpload(ctx, req, params, body);
}

// --- direct creator uploads -------------------------------------------------------------------

Result<int64_t> DirectExpiry(const nlohmann::json& body) {
  KINO_ASSIGN_OR_RETURN(auto expiry, OptionalTime(body, "expiry"));
  int64_t now = NowMicros();
  if (!expiry || !*expiry) {
    return now + kDefaultDirectExpiry;
  }
  if (**expiry <= now || **expiry > now + kMaxDirectExpiry) {
    return InvalidArgument("field 'expiry' must be in the future and at most 6 hours ahead",
                           kErrInvalidParameter);
  }
  return **expiry;
}

Result<nlohmann::json> CreateDirectUpload(ApiContext& ctx, Request& req,
                                          const std::string& account) {
  KINO_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(req.body));
  if (!body.contains("maxDurationSeconds") || body["maxDurationSeconds"].is_null()) {
    return InvalidArgument("field 'maxDurationSeconds' is required (an integer from 1 to 36000)",
                           kErrInvalidParameter);
  }
  KINO_RETURN_IF_ERROR(CheckQueueRoom(ctx, account));
  domain::Video video =
      NewVideo(account, domain::VideoSource::kDirect, domain::VideoState::kPendingUpload);
  KINO_RETURN_IF_ERROR(ApplyVideoFields(body, &video));
  KINO_RETURN_IF_ERROR(ApplyCreatorHeader(req, &video));
  KINO_ASSIGN_OR_RETURN(video.upload_expiry, DirectExpiry(body));
  KINO_RETURN_IF_ERROR(domain::VideoRepository::Insert(*ctx.db, video));
  log::Info("direct_upload_created", "one-time upload URL made", {{"video_uid", video.uid}});
  return nlohmann::json{
      {"uploadURL", ctx.settings.public_url + "/upload/" + video.uid},
      {"uid", video.uid},
      {"scheduledDeletion", video.scheduled_deletion
                                ? nlohmann::json(FormatRfc3339(*video.scheduled_deletion))
                                : nlohmann::json(nullptr)},
      {"watermark", nullptr}};
}

// Takes the one-time URL: the video moves from pendingupload to downloading in one
// transaction, so of two concurrent POSTs only one gets past here.
Result<domain::Video> ClaimDirectUpload(ApiContext& ctx, const std::string& uid) {
  domain::Video video;
  KINO_RETURN_IF_ERROR(ctx.db->Transact([&](storage::Database& tx) -> Status {
    Status not_found = NotFound("no direct upload at this URL", domain::kErrUploadNotFound);
    auto found = domain::VideoRepository::GetByUid(tx, uid);
    if (!found.ok()) {
      return found.status().code() == StatusCode::kNotFound ? not_found : found.status();
    }
    video = *std::move(found);
    if (video.source != domain::VideoSource::kDirect || video.upload_length) {
      return not_found;
    }
    if (video.state != domain::VideoState::kPendingUpload) {
      return FailedPrecondition("this upload URL was already used", domain::kErrUploadUrlUsed);
    }
    if (video.upload_expiry && *video.upload_expiry < NowMicros()) {
      return FailedPrecondition("this upload URL has expired", domain::kErrUploadUrlUsed);
    }
    video.state = domain::VideoState::kDownloading;
    return domain::VideoRepository::Save(tx, video);
  }));
  return video;
}

// A failed transfer (bad body, client gone) gives the URL back, so the end user can retry.
void ReleaseDirectUpload(ApiContext& ctx, const std::string& uid) {
  Status s = ctx.db->Transact([&](storage::Database& tx) -> Status {
    KINO_ASSIGN_OR_RETURN(domain::Video video, domain::VideoRepository::GetByUid(tx, uid));
    if (video.state != domain::VideoState::kDownloading) {
      return Status::Ok();
    }
    video.state = domain::VideoState::kPendingUpload;
    return domain::VideoRepository::Save(tx, video);
  });
  if (!s.ok() && s.code() != StatusCode::kNotFound) {
    log::Warn("direct_upload_release_failed", s.ToString(), {{"video_uid", uid}});
  }
}

awaitable<Response> ReceiveDirectUpload(ApiContext& ctx, Request& req, const std::string& uid,
                                        BodyReader& body) {
  if (!IsId(uid)) {
    co_return JsonError(NotFound("no direct upload at this URL", domain::kErrUploadNotFound),
                        req.request_id);
  }
  auto video = ClaimDirectUpload(ctx, uid);
  if (!video.ok()) {
    co_return JsonError(video.status(), req.request_id);
  }
  auto file =
      co_await ReceiveMultipartFile(ctx, req, body, uid, ctx.settings.max_basic_upload_bytes);
  if (!file.ok()) {
    ReleaseDirectUpload(ctx, uid);
    co_return JsonError(file.status(), req.request_id);
  }
  NameFromFilename(*file, &*video);
  Status s = FinishUpload(ctx, &*video);
  if (!s.ok()) {
    co_return JsonError(s, req.request_id);
  }
  // Unlike a basic upload, a refused direct upload stays (in error): the creator's backend
  // learns of it through the API and its webhook.
  if (video->state == domain::VideoState::kError) {
    co_return JsonError(RefusalStatus(*video), req.request_id);
  }
  co_return JsonOk(VideoToJson(*video, ctx.settings.public_url));
}

// --- upload by link ---------------------------------------------------------------------------

// The URL to fetch. A literal private address or "localhost" is refused here, at once; names
// are checked on the address actually connected to, by the fetch itself.
Result<std::string> CopySourceUrl(const ApiContext& ctx, const nlohmann::json& body) {
  KINO_ASSIGN_OR_RETURN(auto input, OptionalString(body, "input"));
  KINO_ASSIGN_OR_RETURN(auto url, OptionalString(body, "url"));
  if (!input && !url) {
    return InvalidArgument("field 'url' (or 'input') is required", kErrInvalidParameter);
  }
  std::string chosen = input ? *input : *url;
  KINO_ASSIGN_OR_RETURN(http::ParsedUrl parsed, http::ParseHttpUrl(chosen, kErrInvalidParameter));
  if (!ctx.settings.allow_private_urls && http::IsObviouslyPrivateHost(parsed.host)) {
    return InvalidArgument(
        "field 'url' points to a private or loopback address, which this server does not fetch",
        kErrInvalidParameter);
  }
  return chosen;
}

Result<nlohmann::json> CopyVideo(ApiContext& ctx, Request& req, const std::string& account) {
  KINO_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(req.body));
  KINO_ASSIGN_OR_RETURN(std::string url, CopySourceUrl(ctx, body));
  KINO_RETURN_IF_ERROR(CheckQueueRoom(ctx, account));
  domain::Video video =
      NewVideo(account, domain::VideoSource::kCopy, domain::VideoState::kDownloading);
  KINO_RETURN_IF_ERROR(ApplyVideoFields(body, &video));
  KINO_RETURN_IF_ERROR(ApplyCreatorHeader(req, &video));
  KINO_ASSIGN_OR_RETURN(auto name, OptionalString(body, "name"));
  if (name && !video.meta.contains("name")) {
    video.meta["name"] = *name;  // the legacy top-level field
  }
  video.meta["downloaded-from"] = url;
  video.source_url = url;

  jobs::EnqueueOptions options;
  options.max_attempts = kFetchAttempts;
  KINO_RETURN_IF_ERROR(ctx.db->Transact([&](storage::Database& tx) -> Status {
    KINO_RETURN_IF_ERROR(domain::VideoRepository::Insert(tx, video));
    return jobs::JobQueue::Enqueue(tx, jobs::kFetchVideo, video.uid, {{"url", url}}, options)
        .status();
  }));
  ctx.wake_workers();
  log::Info("copy_requested", "upload by link queued",
            {{"video_uid", video.uid}, {"url", log::RedactUrl(url)}});
  return VideoToJson(video, ctx.settings.public_url);
}

// Browsers post to the upload URL from the creator's page: every answer carries CORS.
awaitable<Response> DirectUploadRoute(ApiContext& ctx, Request& req, const PathParams& params,
                                      BodyReader& body) {
  Response r = co_await ReceiveDirectUpload(ctx, req, Param(params, "uid"), body);
  AddUploadCors(r, "POST, OPTIONS");
  co_return r;
}

Response UploadPreflight() {
  Response r;
  r.status = 204;
  AddUploadCors(r, "POST, OPTIONS");
  return r;
}

}  // namespace

void RegisterUploadRoutes(Router& router, ApiContext& ctx) {
  std::string base = kStreamPrefix;
  router.AddStream("POST", base, [&ctx](Request& req, const PathParams& p, BodyReader& body) {
    return PostToStream(ctx, req, p, body);
  });
  router.Add("POST", base + "/direct_upload",
             AccountRoute(ctx, [&ctx](Request& req, const PathParams&, const std::string& a) {
               return CreateDirectUpload(ctx, req, a);
             }));
  router.Add("POST", base + "/copy",
             AccountRoute(ctx, [&ctx](Request& req, const PathParams&, const std::string& a) {
               return CopyVideo(ctx, req, a);
             }));
  router.AddStream("POST", "/upload/:uid",
                   [&ctx](Request& req, const PathParams& p, BodyReader& body) {
                     return DirectUploadRoute(ctx, req, p, body);
                   });
  router.Add("OPTIONS", "/upload/:uid",
             [](Request&, const PathParams&) { return UploadPreflight(); });
}

}  // namespace kino::api

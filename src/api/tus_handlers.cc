// tus 1.0.0 resumable uploads (https://tus.io/protocols/resumable-upload): core protocol plus
// the creation, creation-with-upload, termination and expiration extensions.
//
//   POST    {prefix}            creation (dispatched here from upload_handlers.cc when the
//                               request has Tus-Resumable); ?direct_user=true makes the
//                               upload URL usable without the API token
//   OPTIONS {prefix}            discovery: Tus-Version, Tus-Extension, Tus-Max-Size
//   HEAD|PATCH|DELETE|OPTIONS {prefix}/tus/{uid}   upload URL (API token required)
//   HEAD|PATCH|DELETE|OPTIONS /tus/{uid}           one-time upload URL (direct_user)
//
// Bytes are appended to a partial file under data_dir/partial (never a blob key). The offset
// recorded in the video row only ever counts bytes that were fsync'ed first, so a crash never
// claims bytes that are not on disk; a PATCH first truncates the partial file to the recorded
// offset, dropping whatever a crash left past it. When the offset reaches Upload-Length the
// file moves into the blob store under the original's key and FinishUpload takes over.
#include "api/tus_handlers.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/envelope.h"
#include "api/handler_util.h"
#include "api/processing.h"
#include "api/routes.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "domain/errors.h"
#include "http/tus.h"
#include "jobs/job_queue.h"

namespace kino::api {
namespace {

using boost::asio::awaitable;
using domain::kErrInvalidParameter;
using domain::kErrUploadNotFound;

constexpr size_t kReadChunk = 256 * 1024;
// A PATCH makes its bytes durable (fsync, then the offset in the database) every this many
// bytes and at its end: a crash loses at most this much of a long PATCH.
constexpr uint64_t kSyncEvery = 8 * 1024 * 1024;
constexpr int64_t kMaxExpiryAhead = 7LL * 24 * 3600 * 1'000'000;
constexpr int64_t kMaxDurationLimit = 36000;
constexpr size_t kMaxCreatorLength = 64;
constexpr size_t kMaxMetaBytes = 16 * 1024;

constexpr char kTusMethods[] = "POST, HEAD, PATCH, DELETE, OPTIONS";

// One PATCH at a time per upload (tus 1.0.0 leaves concurrent appends undefined).
// TODO: the set is per process; nodes sharing a data directory on PostgreSQL do not exclude
// two PATCHes of one upload sent to two nodes at once (clients send them one at a time).
class ActiveUploads {
 public:
  bool TryAcquire(const std::string& uid) {
    std::lock_guard<std::mutex> lock(mu_);
    return uids_.insert(uid).second;
  }
  void Release(const std::string& uid) {
    std::lock_guard<std::mutex> lock(mu_);
    uids_.erase(uid);
  }

 private:
  std::mutex mu_;
  std::set<std::string> uids_;
};

ActiveUploads& Active() {
  static ActiveUploads active;
  return active;
}

class ActiveGuard {
 public:
  explicit ActiveGuard(std::string uid) : uid_(std::move(uid)) {}
  ~ActiveGuard() { Active().Release(uid_); }
  ActiveGuard(const ActiveGuard&) = delete;
  ActiveGuard& operator=(const ActiveGuard&) = delete;

 private:
  std::string uid_;
};

void AddTusHeaders(Response& r) {
  r.headers.Set("Tus-Resumable", http::kTusVersion);
  AddUploadCors(r, kTusMethods);
}

Response TusError(const Status& s, const Request& req) {
  Response r = JsonError(s, req.request_id);
  AddTusHeaders(r);
  if (r.status == 412) {
    r.headers.Set("Tus-Version", http::kTusVersion);
  }
  return r;
}

Status CheckTusVersion(const Request& req) {
  auto v = req.headers.Get("Tus-Resumable");
  if (!v || TrimWhitespace(*v) != http::kTusVersion) {
    return FailedPrecondition("unsupported or missing Tus-Resumable; this server speaks 1.0.0",
                              domain::kErrTusVersion);
  }
  return Status::Ok();
}

Status BadMeta(std::string_view key, std::string_view expected) {
  return InvalidArgument(
      "Upload-Metadata: " + std::string(key) + " must be " + std::string(expected),
      kErrInvalidParameter);
}

bool IsExpired(const domain::Video& v) {
  return v.state == domain::VideoState::kPendingUpload && v.upload_expiry &&
         *v.upload_expiry < NowMicros();
}

std::string UploadUrl(const ApiContext& ctx, const domain::Video& v) {
  if (v.source == domain::VideoSource::kDirect) {
    return ctx.settings.public_url + "/tus/" + v.uid;
  }
  return ctx.settings.public_url + "/client/v4/accounts/" + v.account_id + "/stream/tus/" + v.uid;
}

// --- creation ---------------------------------------------------------------------------------

// One Upload-Metadata pair (keys already lower case). Cloudflare's keys configure the video;
// every other key lands in meta, as tus clients put filename and filetype there.
Status ApplyMetaPair(const std::string& key, const std::string& value, domain::Video* v) {
  if (key == "name") {
    v->meta["name"] = value;
  } else if (key == "requiresignedurls") {
    if (!value.empty() && value != "true" && value != "false") {
      return BadMeta(key, "a flag (no value), true or false");
    }
    v->require_signed_urls = value != "false";
  } else if (key == "maxdurationseconds") {
    auto n = ParseInt64(value);
    if (!n || *n < 1 || *n > kMaxDurationLimit) {
      return BadMeta(key, "an integer from 1 to 36000");
    }
    v->max_duration_seconds = *n;
  } else if (key == "expiry") {
    auto t = ParseRfc3339(value);
    if (!t || *t <= NowMicros() || *t > NowMicros() + kMaxExpiryAhead) {
      return BadMeta(key, "an RFC 3339 time in the future, at most 7 days ahead");
    }
    v->upload_expiry = *t;
  } else if (key == "scheduleddeletion") {
    auto t = ParseRfc3339(value);
    if (!t) {
      return BadMeta(key, "an RFC 3339 time");
    }
    v->scheduled_deletion = *t;
  } else if (key == "allowedorigins") {
    v->allowed_origins.clear();
    for (std::string_view o : Split(value, ',')) {
      if (!TrimWhitespace(o).empty()) {
        v->allowed_origins.emplace_back(TrimWhitespace(o));
      }
    }
  } else if (key == "thumbnailtimestamppct") {
    auto d = ParseDouble(value);
    if (!d || *d < 0 || *d > 1) {
      return BadMeta(key, "a number from 0 to 1");
    }
    v->thumbnail_pct = *d;
  } else if (key != "watermark") {  // watermark profiles are not supported; ignored
    v->meta[key] = value;
  }
  return Status::Ok();
}

Status ApplyTusMetadata(const Request& req, domain::Video* v) {
  auto pairs = http::ParseUploadMetadata(req.headers.GetOr("Upload-Metadata", ""));
  if (!pairs.ok()) {
    return InvalidArgument(pairs.status().message(), kErrInvalidParameter);
  }
  for (const auto& [key, value] : *pairs) {
    KINO_RETURN_IF_ERROR(ApplyMetaPair(key, value, v));
  }
  if (v->meta.dump().size() > kMaxMetaBytes) {
    return InvalidArgument("Upload-Metadata: more than 16 KiB of metadata", kErrInvalidParameter);
  }
  return Status::Ok();
}

Result<uint64_t> UploadLength(const ApiContext& ctx, const Request& req) {
  if (req.headers.Has("Upload-Defer-Length")) {
    return InvalidArgument("Upload-Defer-Length is not supported; send Upload-Length",
                           kErrInvalidParameter);
  }
  auto header = req.headers.Get("Upload-Length");
  if (!header) {
    return InvalidArgument("Upload-Length is required", kErrInvalidParameter);
  }
  auto length = http::ParseTusOffset(*header, "Upload-Length");
  if (!length.ok()) {
    return InvalidArgument(length.status().message(), kErrInvalidParameter);
  }
  if (*length == 0) {
    return InvalidArgument("Upload-Length must be at least 1 byte", kErrInvalidParameter);
  }
  if (*length > ctx.settings.max_tus_upload_bytes) {
    return ResourceExhausted("Upload-Length larger than the " +
                                 std::to_string(ctx.settings.max_tus_upload_bytes) +
                                 " bytes this server accepts",
                             domain::kErrUploadTooLarge);
  }
  return *length;
}

Result<domain::Video> NewTusVideo(ApiContext& ctx, const Request& req, const std::string& account) {
  KINO_RETURN_IF_ERROR(CheckTusVersion(req));
  KINO_ASSIGN_OR_RETURN(uint64_t length, UploadLength(ctx, req));
  KINO_RETURN_IF_ERROR(CheckQueueRoom(ctx, account));
  domain::Video v;
  v.uid = NewId();
  v.account_id = account;
  auto direct = req.Query("direct_user");
  v.source = direct && (*direct == "true" || *direct == "1") ? domain::VideoSource::kDirect
                                                             : domain::VideoSource::kTus;
  v.state = domain::VideoState::kPendingUpload;
  v.upload_length = static_cast<int64_t>(length);
  v.created = v.modified = NowMicros();
  v.upload_expiry = v.created + ctx.settings.tus_expiry_seconds * 1'000'000;
  KINO_RETURN_IF_ERROR(ApplyTusMetadata(req, &v));
  KINO_RETURN_IF_ERROR(ApplyCreatorHeader(req, &v));
  return v;
}

// --- appending bytes --------------------------------------------------------------------------

Status WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return Internal(std::string("writing the partial upload: ") + std::strerror(errno));
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

// Records `offset` in the row, which must still be a pending upload (not terminated meanwhile).
Status RecordOffset(ApiContext& ctx, domain::Video* video, uint64_t offset) {
  return ctx.db->Transact([&](storage::Database& tx) -> Status {
    KINO_ASSIGN_OR_RETURN(domain::Video fresh, domain::VideoRepository::GetByUid(tx, video->uid));
    if (fresh.state != domain::VideoState::kPendingUpload) {
      return FailedPrecondition("the upload no longer accepts bytes", domain::kErrConflict);
    }
    fresh.upload_offset = static_cast<int64_t>(offset);
    KINO_RETURN_IF_ERROR(domain::VideoRepository::Save(tx, fresh));
    *video = fresh;
    return Status::Ok();
  });
}

// Durable first, recorded second: the order that makes a crash harmless.
Status SyncAndRecord(ApiContext& ctx, int fd, domain::Video* video, uint64_t offset) {
  if (::fdatasync(fd) != 0) {
    return Internal(std::string("fsync of the partial upload: ") + std::strerror(errno));
  }
  return RecordOffset(ctx, video, offset);
}

// Opens the partial file positioned at the recorded offset, cutting off any bytes past it.
Result<int> OpenAtOffset(const ApiContext& ctx, const domain::Video& video) {
  KINO_RETURN_IF_ERROR(EnsurePartialDir(ctx));
  std::string path = PartialPath(ctx, "tus", video.uid);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Internal("opening the partial upload: " + std::string(std::strerror(errno)));
  }
  struct stat st {};
  auto offset = static_cast<off_t>(video.upload_offset);
  if (::fstat(fd, &st) != 0 || st.st_size < offset) {
    ::close(fd);
    return DataLoss("the partial upload file is shorter than its recorded offset");
  }
  if ((st.st_size > offset && ::ftruncate(fd, offset) != 0) ||
      ::lseek(fd, offset, SEEK_SET) != offset) {
    ::close(fd);
    return Internal("positioning the partial upload: " + std::string(std::strerror(errno)));
  }
  return fd;
}

// Appends the request body to the upload. Whatever arrived before a failure (client gone,
// stall) is kept and recorded, as tus asks; a body that would pass Upload-Length is refused
// whole (413) and the file cut back to where this request started.
awaitable<Status> AppendBody(ApiContext& ctx, domain::Video* video, BodyReader& body) {
  auto fd = OpenAtOffset(ctx, *video);
  if (!fd.ok()) {
    co_return fd.status();
  }
  const uint64_t length = static_cast<uint64_t>(*video->upload_length);
  const uint64_t start = static_cast<uint64_t>(video->upload_offset);
  uint64_t written = start;
  uint64_t recorded = start;
  Status failure;
  bool too_long = false;
  std::vector<char> buffer(kReadChunk);
  while (failure.ok()) {
    Result<size_t> n = co_await body.Read(buffer.data(), buffer.size());
    if (!n.ok()) {
      failure = n.status();
      break;
    }
    if (*n == 0) {
      break;
    }
    if (written + *n > length) {
      too_long = true;
      break;
    }
    failure = WriteAll(*fd, buffer.data(), *n);
    if (failure.ok()) {
      written += *n;
    }
    if (failure.ok() && written - recorded >= kSyncEvery) {
      failure = SyncAndRecord(ctx, *fd, video, written);
      recorded = written;
    }
  }
  if (too_long) {
    written = start;
    failure =
        ::ftruncate(*fd, static_cast<off_t>(start)) == 0
            ? ResourceExhausted("the body goes past Upload-Length", domain::kErrUploadTooLarge)
            : Internal("truncating the partial upload");
  }
  if (written != recorded) {
    Status s = SyncAndRecord(ctx, *fd, video, written);
    if (failure.ok()) {
      failure = s;
    }
  }
  ::close(*fd);
  co_return failure;
}

// The last byte arrived: the partial file becomes the original and processing starts.
Status CompleteUpload(ApiContext& ctx, domain::Video* video) {
  std::string path = PartialPath(ctx, "tus", video->uid);
  std::string key = domain::OriginalKey(video->uid);
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    KINO_RETURN_IF_ERROR(ctx.blobs->PutFile(key, path));
  } else if (!ctx.blobs->Stat(key).ok()) {
    return DataLoss("the finished upload's file is missing");
  }
  return FinishUpload(ctx, video);
}

void AddOffsetHeaders(Response& r, const domain::Video& v) {
  r.headers.Set("Upload-Offset", std::to_string(v.upload_offset));
  if (v.upload_expiry && v.state == domain::VideoState::kPendingUpload) {
    r.headers.Set("Upload-Expires", FormatHttpDate(*v.upload_expiry));
  }
}

// Appends the body and completes the upload when it is whole. Common to PATCH and
// creation-with-upload.
awaitable<Status> ReceiveBytes(ApiContext& ctx, domain::Video* video, BodyReader& body) {
  if (!Active().TryAcquire(video->uid)) {
    co_return FailedPrecondition("another request is writing to this upload", domain::kErrConflict);
  }
  ActiveGuard guard(video->uid);
  uint64_t length = static_cast<uint64_t>(*video->upload_length);
  auto declared = body.content_length();
  if (declared && static_cast<uint64_t>(video->upload_offset) + *declared > length) {
    co_return ResourceExhausted("the body goes past Upload-Length", domain::kErrUploadTooLarge);
  }
  Status s = co_await AppendBody(ctx, video, body);
  if (s.ok() && static_cast<uint64_t>(video->upload_offset) == length) {
    s = CompleteUpload(ctx, video);
  }
  co_return s;
}

bool HasOffsetStreamType(const Request& req) {
  std::string_view type = req.headers.GetOr("Content-Type", "");
  return EqualsIgnoreCase(TrimWhitespace(type.substr(0, type.find(';'))),
                          "application/offset+octet-stream");
}

awaitable<Response> CreateInner(ApiContext& ctx, Request& req, const PathParams& params,
                                BodyReader& body) {
  auto account = Authenticate(ctx, req, Param(params, "account"));
  if (!account.ok()) {
    co_return TusError(account.status(), req);
  }
  auto video = NewTusVideo(ctx, req, *account);
  if (!video.ok()) {
    co_return TusError(video.status(), req);
  }
  Status s = domain::VideoRepository::Insert(*ctx.db, *video);
  if (!s.ok()) {
    co_return TusError(s, req);
  }
  log::Info("tus_upload_created", "resumable upload created",
            {{"video_uid", video->uid},
             {"length", std::to_string(*video->upload_length)},
             {"direct_user", video->source == domain::VideoSource::kDirect ? "true" : "false"}});

  Response r;
  r.status = 201;
  r.headers.Set("Location", UploadUrl(ctx, *video));
  r.headers.Set("stream-media-id", video->uid);
  // creation-with-upload: the first bytes may ride on the creation request.
  bool has_body =
      body.content_length() ? *body.content_length() > 0 : req.headers.Has("Transfer-Encoding");
  if (has_body && HasOffsetStreamType(req)) {
    s = co_await ReceiveBytes(ctx, &*video, body);
    if (!s.ok()) {
      Response e = TusError(s, req);
      e.headers.Set("Location", UploadUrl(ctx, *video));
      e.headers.Set("stream-media-id", video->uid);
      co_return e;
    }
  }
  AddOffsetHeaders(r, *video);
  AddTusHeaders(r);
  co_return r;
}

// --- the upload URL ---------------------------------------------------------------------------

// The upload a HEAD/PATCH/DELETE names. On the direct path only direct_user uploads exist and
// no credentials are asked; on the account path the token must be the account's.
Result<domain::Video> LoadUpload(ApiContext& ctx, const Request& req, const PathParams& params,
                                 bool direct) {
  KINO_RETURN_IF_ERROR(CheckTusVersion(req));
  const std::string& uid = Param(params, "uid");
  Status not_found = NotFound("no upload at this URL", kErrUploadNotFound);
  if (!IsId(uid)) {
    return not_found;
  }
  Result<domain::Video> video = not_found;
  if (direct) {
    video = domain::VideoRepository::GetByUid(*ctx.db, uid);
  } else {
    KINO_ASSIGN_OR_RETURN(std::string account, Authenticate(ctx, req, Param(params, "account")));
    video = domain::VideoRepository::Get(*ctx.db, account, uid);
  }
  if (!video.ok()) {
    return video.status().code() == StatusCode::kNotFound ? not_found : video.status();
  }
  if (!video->upload_length || (direct && video->source != domain::VideoSource::kDirect)) {
    return not_found;
  }
  if (IsExpired(*video)) {
    return FailedPrecondition("this upload has expired", domain::kErrUploadUrlUsed);
  }
  return video;
}

Response HeadUpload(ApiContext& ctx, Request& req, const PathParams& params, bool direct) {
  auto video = LoadUpload(ctx, req, params, direct);
  if (!video.ok()) {
    return TusError(video.status(), req);
  }
  Response r;
  r.status = 200;
  r.headers.Set("Upload-Length", std::to_string(*video->upload_length));
  r.headers.Set("Cache-Control", "no-store");
  AddOffsetHeaders(r, *video);
  AddTusHeaders(r);
  return r;
}

Status CheckPatch(const Request& req, const domain::Video& video) {
  if (!HasOffsetStreamType(req)) {
    return Status(StatusCode::kInvalidArgument,
                  "PATCH needs Content-Type: application/offset+octet-stream",
                  domain::kErrUnsupportedMediaType);
  }
  auto header = req.headers.Get("Upload-Offset");
  if (!header) {
    return InvalidArgument("Upload-Offset is required", kErrInvalidParameter);
  }
  auto offset = http::ParseTusOffset(*header, "Upload-Offset");
  if (!offset.ok()) {
    return InvalidArgument(offset.status().message(), kErrInvalidParameter);
  }
  if (*offset != static_cast<uint64_t>(video.upload_offset)) {
    return FailedPrecondition("Upload-Offset " + std::to_string(*offset) +
                                  " does not match the upload's offset " +
                                  std::to_string(video.upload_offset),
                              domain::kErrOffsetMismatch);
  }
  return Status::Ok();
}

awaitable<Response> PatchUpload(ApiContext& ctx, Request& req, const PathParams& params,
                                BodyReader& body, bool direct) {
  auto video = LoadUpload(ctx, req, params, direct);
  Status s = video.ok() ? CheckPatch(req, *video) : video.status();
  bool complete = video.ok() && video->upload_offset == *video->upload_length;
  bool has_body =
      body.content_length() ? *body.content_length() > 0 : req.headers.Has("Transfer-Encoding");
  if (s.ok() && complete && has_body) {
    s = ResourceExhausted("the upload is complete; the body goes past Upload-Length",
                          domain::kErrUploadTooLarge);
  }
  if (s.ok() && complete && video->state != domain::VideoState::kPendingUpload) {
    Response done;  // a repeated, empty final PATCH: nothing more to take
    done.status = 204;
    AddOffsetHeaders(done, *video);
    AddTusHeaders(done);
    co_return done;
  }
  if (s.ok() && complete) {
    s = CompleteUpload(ctx, &*video);  // finishing what a crash interrupted
  } else if (s.ok()) {
    s = co_await ReceiveBytes(ctx, &*video, body);
  }
  if (!s.ok()) {
    Response e = TusError(s, req);
    if (video.ok()) {
      e.headers.Set("Upload-Offset", std::to_string(video->upload_offset));
    }
    co_return e;
  }
  Response r;
  r.status = 204;
  AddOffsetHeaders(r, *video);
  AddTusHeaders(r);
  co_return r;
}

Response TerminateUpload(ApiContext& ctx, Request& req, const PathParams& params, bool direct) {
  auto video = LoadUpload(ctx, req, params, direct);
  Status s = video.status();
  if (video.ok() && video->state != domain::VideoState::kPendingUpload) {
    // A finished upload is a video now; the API's DELETE /stream/{uid} removes it.
    s = FailedPrecondition("the upload is complete; it can no longer be terminated",
                           domain::kErrConflict);
  } else if (video.ok()) {
    s = DeleteVideoNow(ctx, *video);
  }
  if (!s.ok()) {
    return TusError(s, req);
  }
  log::Info("tus_upload_terminated", "upload terminated", {{"video_uid", video->uid}});
  Response r;
  r.status = 204;
  AddTusHeaders(r);
  return r;
}

Response Options(const ApiContext& ctx) {
  Response r;
  r.status = 204;
  r.headers.Set("Tus-Version", http::kTusVersion);
  r.headers.Set("Tus-Extension", http::kTusExtensions);
  r.headers.Set("Tus-Max-Size", std::to_string(ctx.settings.max_tus_upload_bytes));
  AddTusHeaders(r);
  return r;
}

void RegisterUploadUrl(Router& router, ApiContext& ctx, const std::string& pattern, bool direct) {
  router.Add("HEAD", pattern, [&ctx, direct](Request& req, const PathParams& p) {
    return HeadUpload(ctx, req, p, direct);
  });
  router.AddStream("PATCH", pattern,
                   [&ctx, direct](Request& req, const PathParams& p, BodyReader& body) {
                     return PatchUpload(ctx, req, p, body, direct);
                   });
  router.Add("DELETE", pattern, [&ctx, direct](Request& req, const PathParams& p) {
    return TerminateUpload(ctx, req, p, direct);
  });
  router.Add("OPTIONS", pattern, [&ctx](Request&, const PathParams&) { return Options(ctx); });
}

}  // namespace

awaitable<Response> CreateTusUpload(ApiContext& ctx, Request& req, const PathParams& params,
                                    BodyReader& body) {
  co_return co_await CreateInner(ctx, req, params, body);
}

std::string PartialPath(const ApiContext& ctx, std::string_view kind, std::string_view uid) {
  return ctx.settings.data_dir + "/partial/" + std::string(kind) + "-" + std::string(uid);
}

Status EnsurePartialDir(const ApiContext& ctx) {
  std::error_code ec;
  std::filesystem::create_directories(ctx.settings.data_dir + "/partial", ec);
  if (ec) {
    return Internal("creating " + ctx.settings.data_dir + "/partial: " + ec.message());
  }
  return Status::Ok();
}

Status DeleteVideoNow(ApiContext& ctx, const domain::Video& video) {
  KINO_RETURN_IF_ERROR(ctx.db->Transact([&](storage::Database& tx) -> Status {
    KINO_RETURN_IF_ERROR(jobs::JobQueue::CancelForVideo(tx, video.uid));
    return domain::VideoRepository::Delete(tx, video.uid);
  }));
  std::error_code ec;
  std::filesystem::remove(PartialPath(ctx, "tus", video.uid), ec);
  std::filesystem::remove(PartialPath(ctx, "fetch", video.uid), ec);
  std::filesystem::remove(PartialPath(ctx, "fetch-validator", video.uid), ec);
  return ctx.blobs->DeletePrefix(domain::VideoPrefix(video.uid));
}

Status ApplyCreatorHeader(const Request& req, domain::Video* video) {
  auto creator = req.headers.Get("Upload-Creator");
  if (!creator || video->creator) {
    return Status::Ok();
  }
  if (creator->size() > kMaxCreatorLength) {
    return InvalidArgument("Upload-Creator must be at most 64 characters", kErrInvalidParameter);
  }
  video->creator = std::string(*creator);
  return Status::Ok();
}

void AddUploadCors(Response& res, std::string_view methods) {
  res.headers.Set("Access-Control-Allow-Origin", "*");
  res.headers.Set("Access-Control-Allow-Methods", methods);
  res.headers.Set("Access-Control-Allow-Headers",
                  "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Metadata, "
                  "Upload-Offset, Upload-Creator, Upload-Defer-Length, Upload-Concat, "
                  "X-Requested-With, X-HTTP-Method-Override");
  res.headers.Set("Access-Control-Expose-Headers",
                  "Location, stream-media-id, Upload-Offset, Upload-Length, Upload-Expires, "
                  "Tus-Version, Tus-Resumable, Tus-Max-Size, Tus-Extension");
  res.headers.Set("Access-Control-Max-Age", "86400");
}

void RegisterTusRoutes(Router& router, ApiContext& ctx) {
  router.Add("OPTIONS", kStreamPrefix,
             [&ctx](Request&, const PathParams&) { return Options(ctx); });
  RegisterUploadUrl(router, ctx, std::string(kStreamPrefix) + "/tus/:uid", false);
  RegisterUploadUrl(router, ctx, "/tus/:uid", true);
}

}  // namespace kino::api

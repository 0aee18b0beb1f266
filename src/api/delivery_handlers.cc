// Delivery paths (no API token; Cloudflare Stream's customer-<CODE>.cloudflarestream.com):
//
//   GET|HEAD /:id/downloads/default.mp4        the MP4 download (?filename=NAME)
//   GET|HEAD /:id/downloads/audio.m4a          the M4A download (?filename=NAME)
//   GET|HEAD /:id/manifest/video.m3u8          HLS master playlist
//   GET|HEAD /:id/manifest/video.mpd           DASH MPD
//   GET|HEAD /:id/manifest/:rendition/:file    index.m3u8, init.mp4, seg_NNNNN.m4s
//   GET|HEAD /:id/thumbnails/thumbnail.jpg     time, width, height, fit
//   GET|HEAD /:id/thumbnails/thumbnail.gif     the same + duration, fps
//   OPTIONS  on each of them                   CORS preflight
//
// `:id` is the video's uid or a signed token (api/delivery_auth.h). The manifests' URIs are
// relative (media/manifest.h), so a player that fetched /<token>/manifest/video.m3u8 asks for
// /<token>/manifest/v720/index.m3u8 and so on: the token travels in the first path segment.
// allowedOrigins is checked on playlists only. What a token let through is cached privately and
// no longer than the token lives. Token failures answer 401/403 with a small JSON body.
//
// Every file is answered by ServeFile: byte ranges (RFC 9110 section 14) and conditional
// requests (section 13), with the body sent from the file by sendfile(2), never read into
// memory. Errors are plain statuses (api::PlainError): 404 unknown video or file not there
// (yet), 424 the video failed, 401/403 from the token check. docs/downloads.md has the why.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>

#include "api/delivery_auth.h"
#include "api/envelope.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/blob_keys.h"
#include "domain/download.h"
#include "domain/errors.h"
#include "http/conditional.h"
#include "http/content_disposition.h"
#include "http/range.h"
#include "media/thumbnail.h"
#include "media/transcode.h"

namespace kino::api {
namespace {

constexpr const char* kExposedHeaders =
    "Content-Length, Content-Range, Accept-Ranges, ETag, Last-Modified, Content-Disposition, "
    "Repr-Digest";
constexpr const char* kDownloadCache = "public, max-age=3600";
constexpr const char* kSegmentCache = "public, max-age=31536000, immutable";
constexpr const char* kReadyPlaylistCache = "public, max-age=300";
constexpr const char* kProcessingPlaylistCache = "no-cache";

// One stored file as ServeFile answers it.
struct ServedFile {
  std::string path;                      // local file, sent with sendfile(2)
  std::shared_ptr<const OpenFile> file;  // `path` opened, measured by `size` and the validators
  uint64_t size = 0;
  std::string content_type;
  http::Validators validators;
  std::string cache_control;
  std::string content_disposition;  // empty: none
  std::string repr_digest;          // RFC 9530 Repr-Digest value; empty: none
};

void AddCors(Response& r) {
  r.headers.Set("Access-Control-Allow-Origin", "*");
  r.headers.Set("Access-Control-Expose-Headers", kExposedHeaders);
}

Response Plain(int status, std::string_view text) {
  Response r;
  r.status = status;
  r.body = std::string(text) + "\n";
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  AddCors(r);
  return r;
}

// 401/403 from the signed-URL check: {"error":{"code":N,"message":"..."}}, so that a player or
// a script can tell an expired token (10404) from a blocked one (10410) without parsing text.
Response AccessError(const Status& status) {
  Response r;
  r.status = HttpStatusFor(status);
  nlohmann::json body = {{"error", {{"code", ApiCodeFor(status)}, {"message", status.message()}}}};
  r.body = body.dump() + "\n";
  r.headers.Set("Content-Type", "application/json");
  return r;
}

Response DeliveryError(const Status& status, const Request& req) {
  int http = HttpStatusFor(status);
  Response r =
      http == 401 || http == 403 ? AccessError(status) : PlainError(status, req.request_id);
  AddCors(r);
  // A transient state (not ready yet, failed) must not stick in caches.
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

// The validators, caching and naming headers every answer about the file carries, 304s too
// (RFC 9110 section 15.4.5).
void SetFileHeaders(const ServedFile& f, Response& r) {
  AddCors(r);
  r.headers.Set("Accept-Ranges", "bytes");
  if (!f.validators.etag.empty()) {
    r.headers.Set("ETag", f.validators.etag);
  }
  if (f.validators.last_modified_micros > 0) {
    r.headers.Set("Last-Modified", FormatHttpDate(f.validators.last_modified_micros));
  }
  r.headers.Set("Cache-Control", f.cache_control);
  if (!f.content_disposition.empty()) {
    r.headers.Set("Content-Disposition", f.content_disposition);
  }
  if (!f.repr_digest.empty()) {
    r.headers.Set("Repr-Digest", f.repr_digest);
  }
}

http::ConditionalHeaders ConditionalsOf(const Request& req) {
  http::ConditionalHeaders h;
  h.if_match = req.headers.GetOr("If-Match", "");
  h.if_none_match = req.headers.GetOr("If-None-Match", "");
  h.if_modified_since = req.headers.GetOr("If-Modified-Since", "");
  h.if_unmodified_since = req.headers.GetOr("If-Unmodified-Since", "");
  h.if_range = req.headers.GetOr("If-Range", "");
  return h;
}

// The ranges to send, or kNone for the whole file. Only GET has range semantics (RFC 9110
// section 14.2); an If-Range that no longer matches means "send it all" (section 13.1.5).
http::RangeSpec RangesFor(const Request& req, const ServedFile& f) {
  auto range = req.headers.Get("Range");
  if (!range || req.method != "GET" ||
      !http::IfRangeAllowsRange(req.headers.GetOr("If-Range", ""), f.validators)) {
    return {};
  }
  return http::ParseRange(*range, f.size);
}

void SetMultipartBody(const ServedFile& f, const std::vector<http::ByteRange>& ranges,
                      Response& r) {
  http::MultipartRanges plan = http::PlanMultipartRanges(ranges, f.size, f.content_type);
  r.headers.Set("Content-Type", plan.ContentType());
  for (size_t i = 0; i < ranges.size(); ++i) {
    r.parts.emplace_back(plan.part_headers[i]);
    r.parts.emplace_back(FileSlice{f.file, ranges[i].first, ranges[i].length()});
  }
  r.parts.emplace_back(plan.closing);
}

// Answers GET/HEAD of a stored file: preconditions first (304/412), then Range (206 with one
// part or multipart/byteranges, 416 when nothing is satisfiable), else 200 with all of it.
Response ServeFile(const Request& req, const ServedFile& f) {
  Response r;
  SetFileHeaders(f, r);
  switch (http::EvaluatePreconditions(req.method, ConditionalsOf(req), f.validators)) {
    case http::Precondition::kNotModified:
      r.status = 304;
      return r;
    case http::Precondition::kPreconditionFailed: {
      Response failed = Plain(412, "412 Precondition Failed");
      SetFileHeaders(f, failed);
      return failed;
    }
    case http::Precondition::kProceed:
      break;
  }

  http::RangeSpec spec = RangesFor(req, f);
  if (spec.outcome == http::RangeOutcome::kUnsatisfiable) {
    Response unsatisfiable = Plain(416, "416 Range Not Satisfiable");
    SetFileHeaders(f, unsatisfiable);
    unsatisfiable.headers.Set("Content-Range", http::FormatUnsatisfiedRange(f.size));
    return unsatisfiable;
  }
  if (spec.outcome == http::RangeOutcome::kNone) {
    r.headers.Set("Content-Type", f.content_type);
    if (f.size > 0) {
      r.parts.emplace_back(FileSlice{f.file, 0, f.size});
    }
    return r;
  }
  r.status = 206;
  if (spec.ranges.size() == 1) {
    const http::ByteRange& one = spec.ranges[0];
    r.headers.Set("Content-Type", f.content_type);
    r.headers.Set("Content-Range", http::FormatContentRange(one, f.size));
    r.parts.emplace_back(FileSlice{f.file, one.first, one.length()});
    return r;
  }
  SetMultipartBody(f, spec.ranges, r);
  return r;
}

// A strong validator from a file's size and modification time: "<size hex>-<mtime µs hex>".
std::string FileTag(uint64_t size, int64_t modified_micros) {
  char digits[16];  // a 64-bit value in hex
  std::string tag = "\"";
  tag.append(digits, std::to_chars(digits, digits + sizeof(digits), size, 16).ptr);
  tag += '-';
  tag.append(digits, std::to_chars(digits, digits + sizeof(digits),
                                   static_cast<uint64_t>(modified_micros), 16)
                         .ptr);
  tag += '"';
  return tag;
}

// A stored blob opened for sending, with validators from its size and modification time. The
// descriptor measured here is the one sent from (FileSlice::file).
Result<ServedFile> OpenBlob(ApiContext& ctx, const std::string& key) {
  KINO_ASSIGN_OR_RETURN(storage::LocalBlob blob, ctx.blobs->OpenLocal(key));
  ServedFile f;
  f.file = std::make_shared<const OpenFile>(blob.fd);
  f.size = blob.info.size;
  f.validators.last_modified_micros = blob.info.modified_micros;
  f.validators.etag = FileTag(f.size, f.validators.last_modified_micros);
  return f;
}

// The grant for `:id`, refusing videos that failed (424, on every delivery path).
Result<DeliveryGrant> AuthorizedGrant(ApiContext& ctx, const Request& req, const PathParams& params,
                                      DeliveryKind kind) {
  KINO_ASSIGN_OR_RETURN(DeliveryGrant grant,
                        AuthorizeDelivery(ctx, req, Param(params, "id"), kind));
  if (grant.video->state == domain::VideoState::kError) {
    return FailedPrecondition("the video failed to process", domain::kErrVideoFailed);
  }
  return grant;
}

// What a signed token let through is for that client only and must not outlive the token in any
// cache (RFC 9111 section 5.2.2): `private`, and max-age at most the token's remaining lifetime.
void LimitCachingToToken(const DeliveryGrant& grant, ServedFile& f) {
  if (grant.token.empty()) {
    return;
  }
  if (f.cache_control.find("no-cache") != std::string::npos) {
    f.cache_control = "private, no-cache";
    return;
  }
  int64_t max_age = std::max<int64_t>(0, grant.token_exp - NowMicros() / 1000000);
  size_t at = f.cache_control.find("max-age=");
  if (at != std::string::npos) {
    std::string_view rest = std::string_view(f.cache_control).substr(at + 8);
    std::optional<int64_t> given = ParseInt64(rest.substr(0, rest.find(',')));
    max_age = std::min(max_age, given.value_or(0));
  }
  f.cache_control = "private, max-age=" + std::to_string(max_age);
}

// ServeFile for a file reached through `grant`.
Response ServeGranted(const Request& req, const DeliveryGrant& grant, ServedFile f) {
  LimitCachingToToken(grant, f);
  return ServeFile(req, f);
}

// ---- downloads ----

Result<domain::DownloadType> DownloadTypeOfFile(std::string_view file) {
  for (domain::DownloadType t : {domain::DownloadType::kDefault, domain::DownloadType::kAudio}) {
    if (file == domain::DownloadFileName(t)) {
      return t;
    }
  }
  return NotFound("no such download file; use default.mp4 or audio.m4a");
}

// `?filename=NAME` asks the browser to save the file as NAME.mp4; without it the file plays
// inline and "Save as" suggests a name made from meta.name.
Result<std::string> DispositionFor(const Request& req, const domain::Video& video,
                                   domain::DownloadType type) {
  std::string_view ext = domain::DownloadExtension(type);
  if (auto name = req.Query("filename")) {
    KINO_ASSIGN_OR_RETURN(std::string checked, http::ValidateDownloadFilename(*name, ext));
    return http::AttachmentHeader(checked);
  }
  std::string meta_name;
  if (video.meta.is_object() && video.meta.contains("name") && video.meta["name"].is_string()) {
    meta_name = video.meta["name"].get<std::string>();
  }
  // The sanitized name holds only [A-Za-z0-9_-], so it needs no quoting or RFC 8187 form.
  return "inline; filename=\"" + http::SanitizeDefaultFilename(meta_name, video.uid) +
         std::string(ext) + "\"";
}

Result<ServedFile> DownloadFile(ApiContext& ctx, const Request& req, const domain::Video& video,
                                domain::DownloadType type) {
  KINO_ASSIGN_OR_RETURN(std::shared_ptr<const domain::Download> download,
                        ctx.rows->Download(*ctx.db, video.uid, type));
  if (!download) {
    return NotFound("the download was not created; POST .../downloads first",
                    domain::kErrDownloadNotFound);
  }
  if (download->status == domain::DownloadStatus::kError) {
    return NotFound("the download failed; GET .../downloads says why",
                    domain::kErrDownloadNotFound);
  }
  if (download->status != domain::DownloadStatus::kReady) {
    return NotFound("the download is not ready yet", domain::kErrDownloadNotFound);
  }
  KINO_ASSIGN_OR_RETURN(std::string disposition, DispositionFor(req, video, type));
  KINO_ASSIGN_OR_RETURN(ServedFile f, OpenBlob(ctx, domain::DownloadBlobKey(video.uid, type)));
  f.content_type = std::string(domain::DownloadContentType(type));
  f.cache_control = kDownloadCache;
  f.content_disposition = std::move(disposition);
  f.validators.last_modified_micros = download->modified;
  if (auto raw = HexDecode(download->sha256); raw && raw->size() == 32) {
    // The SHA-256 names these exact bytes: the strongest validator there is.
    f.validators.etag = "\"" + download->sha256 + "\"";
    f.repr_digest = "sha-256=:" + Base64Encode(*raw) + ":";
  }
  return f;
}

Response ServeDownload(ApiContext& ctx, const Request& req, const PathParams& params) {
  auto type = DownloadTypeOfFile(Param(params, "file"));
  if (!type.ok()) {
    return DeliveryError(type.status(), req);
  }
  auto grant = AuthorizedGrant(ctx, req, params, DeliveryKind::kDownload);
  if (!grant.ok()) {
    return DeliveryError(grant.status(), req);
  }
  auto file = DownloadFile(ctx, req, *grant->video, *type);
  if (!file.ok()) {
    return DeliveryError(file.status(), req);
  }
  return ServeGranted(req, *grant, std::move(*file));
}

// ---- manifests and segments ----

bool EndsWith(std::string_view file, std::string_view suffix) {
  return file.size() >= suffix.size() && file.substr(file.size() - suffix.size()) == suffix;
}

// HLS playlists (master and media) and the DASH MPD, as opposed to media segments.
bool IsPlaylist(std::string_view file) {
  return EndsWith(file, ".m3u8") || EndsWith(file, ".mpd");
}

std::string_view PackageFileType(std::string_view file, bool audio) {
  if (EndsWith(file, ".m3u8")) {
    return "application/vnd.apple.mpegurl";
  }
  if (EndsWith(file, ".mpd")) {
    return "application/dash+xml";
  }
  return audio ? "audio/mp4" : "video/mp4";
}

// Whether `file` is one the package's renditions.json lists for `rendition`; the lookup keeps
// every request inside the package (no path from the URL reaches the filesystem unchecked).
bool ListedInPackage(const media::PackageResult& package, std::string_view rendition,
                     std::string_view file, bool* audio) {
  for (const media::RenditionInfo& r : package.renditions) {
    if (r.name != rendition) {
      continue;
    }
    *audio = r.kind == media::RenditionKind::kAudio;
    if (file == "index.m3u8" || file == r.init_file) {
      return true;
    }
    for (const std::string& s : r.segment_files) {
      if (file == s) {
        return true;
      }
    }
  }
  return false;
}

Result<ServedFile> PackageFile(ApiContext& ctx, const domain::Video& video,
                               std::string_view rendition, std::string_view file) {
  if (video.state != domain::VideoState::kReady && !video.ready_to_stream) {
    return NotFound("the video is not ready to stream yet");
  }
  std::string prefix = domain::PackagePrefix(video.uid);
  bool audio = false;
  if (!rendition.empty()) {
    auto dir = ctx.blobs->LocalPath(prefix);
    if (!dir) {
      return Internal("the blob store keeps no local files; delivery needs them");
    }
    KINO_ASSIGN_OR_RETURN(media::PackageResult package, media::LoadPackage(*dir));
    if (!ListedInPackage(package, rendition, file, &audio)) {
      return NotFound("no such file in the video's package");
    }
    prefix += "/" + std::string(rendition);
  } else if (file != "video.m3u8" && file != "video.mpd") {
    return NotFound("no such manifest; use video.m3u8 or video.mpd");
  }
  KINO_ASSIGN_OR_RETURN(ServedFile f, OpenBlob(ctx, prefix + "/" + std::string(file)));
  f.content_type = std::string(PackageFileType(file, audio));
  if (!IsPlaylist(file)) {
    f.cache_control = kSegmentCache;
  } else {
    f.cache_control =
        video.state == domain::VideoState::kReady ? kReadyPlaylistCache : kProcessingPlaylistCache;
  }
  return f;
}

Response ServePackage(ApiContext& ctx, const Request& req, const PathParams& params) {
  const std::string& name = Param(params, "file");
  auto grant = AuthorizedGrant(
      ctx, req, params, IsPlaylist(name) ? DeliveryKind::kManifest : DeliveryKind::kPlayback);
  if (!grant.ok()) {
    return DeliveryError(grant.status(), req);
  }
  auto file = PackageFile(ctx, *grant->video, Param(params, "rendition"), name);
  if (!file.ok()) {
    return DeliveryError(file.status(), req);
  }
  return ServeGranted(req, *grant, std::move(*file));
}

// ---- thumbnails ----

constexpr const char* kThumbnailCache = "public, max-age=86400";
constexpr int kMaxConcurrentThumbnails = 2;
constexpr double kMaxTimeSeconds = 360000;

// A decimal number without sign or exponent: "5", "1.5", ".5".
std::optional<double> ParseDecimal(std::string_view s) {
  bool digits = false;
  bool dot = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return std::nullopt;
    }
  }
  if (!digits || s.size() > 32) {
    return std::nullopt;
  }
  return ParseDouble(s);
}

// Stream's time values: "1s", "5m2s", "1h", "1.5s", or a bare number of seconds. Units come
// in the order h, m, s, each at most once.
std::optional<double> ParseTimeValue(std::string_view s) {
  if (auto plain = ParseDecimal(s)) {
    return *plain <= kMaxTimeSeconds ? plain : std::nullopt;
  }
  double total = 0;
  const std::string_view units = "hms";
  const double scale[] = {3600, 60, 1};
  size_t next_unit = 0;
  while (!s.empty()) {
    size_t end = s.find_first_of(units);
    if (end == std::string_view::npos) {
      return std::nullopt;
    }
    size_t unit = units.find(s[end]);
    auto n = ParseDecimal(s.substr(0, end));
    if (!n || unit < next_unit) {
      return std::nullopt;
    }
    total += *n * scale[unit];
    next_unit = unit + 1;
    s.remove_prefix(end + 1);
  }
  if (next_unit == 0 || total > kMaxTimeSeconds) {
    return std::nullopt;
  }
  return total;
}

Status BadParam(std::string_view name, std::string_view expected) {
  return InvalidArgument(
      "query parameter '" + std::string(name) + "' must be " + std::string(expected),
      domain::kErrInvalidParameter);
}

Result<int> SideParam(const Request& req, std::string_view name, int max) {
  auto v = req.Query(name);
  if (!v) {
    return 0;
  }
  auto n = ParseInt64(*v);
  if (!n || *n < 1 || *n > max) {
    return BadParam(name, "an integer from 1 to " + std::to_string(max));
  }
  return static_cast<int>(*n);
}

Result<media::ThumbnailRequest> ThumbnailParams(const Request& req, const domain::Video& video,
                                                bool gif) {
  media::ThumbnailRequest t;
  if (auto v = req.Query("time")) {
    auto time = ParseTimeValue(*v);
    if (!time) {
      return BadParam("time", "a time such as 1s, 5m2s, 1.5s or 12");
    }
    t.time_s = *time;
  } else if (video.duration > 0) {
    t.time_s = video.thumbnail_pct * video.duration;
  }
  int max_side = gif ? media::kMaxGifSide : media::kMaxThumbnailSide;
  KINO_ASSIGN_OR_RETURN(t.width, SideParam(req, "width", max_side));
  KINO_ASSIGN_OR_RETURN(t.height, SideParam(req, "height", max_side));
  if (auto v = req.Query("fit")) {
    auto fit = media::ParseThumbnailFit(*v);
    if (!fit) {
      return BadParam("fit", "crop, clip, scale or fill");
    }
    t.fit = *fit;
  }
  if (!gif) {
    return t;
  }
  if (auto v = req.Query("duration")) {
    auto d = ParseTimeValue(*v);
    if (!d || *d <= 0) {
      return BadParam("duration", "a positive time such as 5s");
    }
    t.duration_s = std::min(*d, media::kMaxGifSeconds);
  }
  if (auto v = req.Query("fps")) {
    auto fps = ParseDecimal(*v);
    if (!fps || *fps <= 0) {
      return BadParam("fps", "a positive number");
    }
    t.fps = std::min(*fps, media::kMaxGifFps);
  }
  return t;
}

// The cache key: the same picture for the same resolved parameters (the default time is
// resolved first, so a changed thumbnailTimestampPct gives a new picture).
std::string ThumbnailKey(const std::string& uid, const media::ThumbnailRequest& t, bool gif) {
  char canonical[160];
  std::snprintf(canonical, sizeof(canonical), "%s|%.3f|%d|%d|%d|%.3f|%.3f", gif ? "gif" : "jpg",
                t.time_s, t.width, t.height, static_cast<int>(t.fit), gif ? t.duration_s : 0.0,
                gif ? t.fps : 0.0);
  return domain::VideoPrefix(uid) + "/thumbs/" + HexEncode(Sha256(canonical)).substr(0, 32) +
         (gif ? ".gif" : ".jpg");
}

// Decoding is CPU-heavy (the server runs thumbnail routes on its blocking pool, off the I/O
// threads): only a few at once; the rest are told to come back (503 + Retry-After) rather than
// queueing up behind them.
class ThumbnailSlots {
 public:
  bool TryAcquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (busy_ >= kMaxConcurrentThumbnails) {
      return false;
    }
    ++busy_;
    return true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    --busy_;
  }

 private:
  std::mutex mu_;
  int busy_ = 0;
};

ThumbnailSlots& Slots() {
  static ThumbnailSlots slots;
  return slots;
}

// Makes the picture from the original and stores it under `key`.
Status GenerateThumbnail(ApiContext& ctx, const domain::Video& video,
                         const media::ThumbnailRequest& t, bool gif, const std::string& key) {
  auto original = ctx.blobs->LocalPath(domain::OriginalKey(video.uid));
  if (!original) {
    return Internal("the blob store keeps no local files; thumbnails need them");
  }
  if (!ctx.blobs->Stat(domain::OriginalKey(video.uid)).ok()) {
    return NotFound("the video has no uploaded file yet");
  }
  if (!Slots().TryAcquire()) {
    return Unavailable("busy making other thumbnails; retry shortly");
  }
  auto image = gif ? media::MakeThumbnailGif(*original, t) : media::MakeThumbnailJpeg(*original, t);
  Slots().Release();
  if (!image.ok()) {
    return image.TakeStatus();
  }
  KINO_ASSIGN_OR_RETURN(auto writer, ctx.blobs->Create(key));
  KINO_RETURN_IF_ERROR(writer->Write(*image));
  return writer->Commit();
}

Result<ServedFile> ThumbnailFile(ApiContext& ctx, const Request& req, const domain::Video& video,
                                 bool gif) {
  if (video.state == domain::VideoState::kPendingUpload ||
      video.state == domain::VideoState::kDownloading) {
    return NotFound("the video has no uploaded file yet");
  }
  KINO_ASSIGN_OR_RETURN(media::ThumbnailRequest t, ThumbnailParams(req, video, gif));
  std::string key = ThumbnailKey(video.uid, t, gif);
  if (!ctx.blobs->Stat(key).ok()) {
    KINO_RETURN_IF_ERROR(GenerateThumbnail(ctx, video, t, gif, key));
  }
  KINO_ASSIGN_OR_RETURN(ServedFile f, OpenBlob(ctx, key));
  f.content_type = gif ? "image/gif" : "image/jpeg";
  f.cache_control = kThumbnailCache;
  return f;
}

Response ServeThumbnail(ApiContext& ctx, const Request& req, const PathParams& params) {
  const std::string& file = Param(params, "file");
  if (file != "thumbnail.jpg" && file != "thumbnail.gif") {
    return DeliveryError(NotFound("no such thumbnail; use thumbnail.jpg or thumbnail.gif"), req);
  }
  auto grant = AuthorizedGrant(ctx, req, params, DeliveryKind::kPlayback);
  if (!grant.ok()) {
    return DeliveryError(grant.status(), req);
  }
  auto served = ThumbnailFile(ctx, req, *grant->video, file == "thumbnail.gif");
  if (!served.ok()) {
    Response r = DeliveryError(served.status(), req);
    if (r.status == 503) {
      r.headers.Set("Retry-After", "1");
    }
    return r;
  }
  return ServeGranted(req, *grant, std::move(*served));
}

// CORS preflight (Fetch standard): any origin may GET these with Range and validators.
Response Preflight(const Request& req) {
  Response r;
  r.status = 204;
  AddCors(r);
  r.headers.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
  std::string_view asked = req.headers.GetOr("Access-Control-Request-Headers", "");
  r.headers.Set(
      "Access-Control-Allow-Headers",
      asked.empty() ? "Range, If-None-Match, If-Modified-Since, If-Range, If-Match" : asked);
  r.headers.Set("Access-Control-Max-Age", "86400");
  return r;
}

}  // namespace

void RegisterDeliveryRoutes(Router& router, ApiContext& ctx) {
  auto preflight = [](Request& req, const PathParams&) { return Preflight(req); };
  auto downloads = [&ctx](Request& req, const PathParams& p) { return ServeDownload(ctx, req, p); };
  auto package = [&ctx](Request& req, const PathParams& p) { return ServePackage(ctx, req, p); };
  auto thumbnail = [&ctx](Request& req, const PathParams& p) {
    return ServeThumbnail(ctx, req, p);
  };

  for (const char* pattern : {"/:id/downloads/:file", "/:id/manifest/:file",
                              "/:id/manifest/:rendition/:file", "/:id/thumbnails/:file"}) {
    router.Add("OPTIONS", pattern, preflight);
  }
  router.Add("GET", "/:id/downloads/:file", downloads);
  router.Add("GET", "/:id/manifest/:file", package);
  router.Add("GET", "/:id/manifest/:rendition/:file", package);
  router.AddBlocking("GET", "/:id/thumbnails/:file", thumbnail);
}

}  // namespace kino::api

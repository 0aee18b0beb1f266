// The downloads resource (Cloudflare Stream's "downloads"): create, list and delete the
// progressive MP4 ("default") and audio-only M4A ("audio") files of a video.
//
//   POST   {prefix}/:uid/downloads           same as /downloads/default
//   POST   {prefix}/:uid/downloads/:type     create (idempotent), returns every created type
//   GET    {prefix}/:uid/downloads           every created type with status and progress
//   DELETE {prefix}/:uid/downloads           removes every type
//   DELETE {prefix}/:uid/downloads/:type     removes one type
//
// docs/downloads.md explains each decision (result shape, type-less DELETE, error codes).
#include "api/envelope.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "api/video_json.h"
#include "common/log.h"
#include "domain/blob_keys.h"
#include "domain/download.h"
#include "domain/errors.h"
#include "jobs/job_queue.h"

namespace kino::api {
namespace {

using domain::Download;
using domain::DownloadRepository;
using domain::DownloadType;

constexpr size_t kMaxEchoedTypeLength = 40;

// The `:type` path parameter; routes without one mean "default".
Result<DownloadType> TypeParam(const PathParams& params) {
  auto it = params.find("type");
  if (it == params.end()) {
    return DownloadType::kDefault;
  }
  if (auto type = domain::ParseDownloadType(it->second)) {
    return *type;
  }
  std::string shown = it->second.substr(0, kMaxEchoedTypeLength);
  return InvalidArgument("unknown download type '" + shown + "'; use 'default' or 'audio'",
                         domain::kErrUnknownDownloadType);
}

// Stream makes downloads "once the video is ready to view": one playable rendition is enough,
// the job waits for the rest of what it needs.
Status CheckCanDownload(const domain::Video& video) {
  if (video.state == domain::VideoState::kError) {
    return FailedPrecondition("the video failed to process; it has no downloads",
                              domain::kErrVideoFailed);
  }
  if (video.state != domain::VideoState::kReady && !video.ready_to_stream) {
    return FailedPrecondition(
        "the video is not ready to stream yet; create downloads once readyToStream is true",
        domain::kErrVideoNotReady);
  }
  return Status::Ok();
}

Result<nlohmann::json> ListJson(ApiContext& ctx, const std::string& uid) {
  KINO_ASSIGN_OR_RETURN(auto downloads, DownloadRepository::List(*ctx.db, uid));
  return DownloadsToJson(downloads, uid, ctx.settings.public_url);
}

// Inserts the download and its make_download job together, so neither exists without the
// other. Returns whether it was created (false: it already existed).
Result<bool> InsertWithJob(ApiContext& ctx, const std::string& uid, DownloadType type) {
  bool created = false;
  KINO_RETURN_IF_ERROR(ctx.db->Transact([&](storage::Database& tx) -> Status {
    Download d;
    d.video_uid = uid;
    d.type = type;
    KINO_ASSIGN_OR_RETURN(created, DownloadRepository::InsertIfAbsent(tx, d));
    if (!created) {
      return Status::Ok();
    }
    nlohmann::json payload = {{"type", domain::DownloadTypeName(type)}};
    return jobs::JobQueue::Enqueue(tx, jobs::kMakeDownload, uid, payload).status();
  }));
  return created;
}

Result<nlohmann::json> CreateDownload(ApiContext& ctx, Request& req, const PathParams& params,
                                      const std::string& account) {
  KINO_ASSIGN_OR_RETURN(DownloadType type, TypeParam(params));
  // The SDK sends no body; older clients send `{}`. Any JSON object is accepted and ignored.
  KINO_RETURN_IF_ERROR(ParseJsonBody(req.body).status());
  KINO_ASSIGN_OR_RETURN(domain::Video video, LoadVideo(ctx, params, account));
  KINO_RETURN_IF_ERROR(CheckCanDownload(video));

  KINO_ASSIGN_OR_RETURN(bool created, InsertWithJob(ctx, video.uid, type));
  if (created) {
    ctx.wake_workers();
    log::Info("download_created", "download requested",
              {{"video_uid", video.uid},
               {"type", domain::DownloadTypeName(type)},
               {"request_id", req.request_id}});
  }
  return ListJson(ctx, video.uid);
}

Result<nlohmann::json> ListDownloads(ApiContext& ctx, const PathParams& params,
                                     const std::string& account) {
  KINO_ASSIGN_OR_RETURN(domain::Video video, LoadVideo(ctx, params, account));
  return ListJson(ctx, video.uid);
}

// Deletes the rows first: a make_download job still running for one sees its row gone and
// removes the file it made (download_job.cc), so no file outlives its row for long.
Result<nlohmann::json> DeleteDownloads(ApiContext& ctx, const PathParams& params,
                                       const std::string& account) {
  std::vector<DownloadType> types = {DownloadType::kDefault, DownloadType::kAudio};
  if (params.count("type") != 0) {
    KINO_ASSIGN_OR_RETURN(DownloadType type, TypeParam(params));
    types = {type};
  }
  KINO_ASSIGN_OR_RETURN(domain::Video video, LoadVideo(ctx, params, account));

  std::vector<DownloadType> deleted;
  KINO_RETURN_IF_ERROR(ctx.db->Transact([&](storage::Database& tx) -> Status {
    deleted.clear();
    for (DownloadType type : types) {
      KINO_ASSIGN_OR_RETURN(bool removed, DownloadRepository::Delete(tx, video.uid, type));
      if (removed) {
        deleted.push_back(type);
      }
    }
    return Status::Ok();
  }));
  if (deleted.empty()) {
    return NotFound("the video has no such download", domain::kErrDownloadNotFound);
  }
  for (DownloadType type : deleted) {
    KINO_RETURN_IF_ERROR(ctx.blobs->Delete(domain::DownloadBlobKey(video.uid, type)));
  }
  return nlohmann::json("ok");
}

}  // namespace

void RegisterDownloadRoutes(Router& router, ApiContext& ctx) {
  std::string base = std::string(kStreamPrefix) + "/:uid/downloads";
  auto create = AccountRoute(ctx, [&ctx](Request& req, const PathParams& p, const std::string& a) {
    return CreateDownload(ctx, req, p, a);
  });
  auto remove = AccountRoute(ctx, [&ctx](Request&, const PathParams& p, const std::string& a) {
    return DeleteDownloads(ctx, p, a);
  });
  router.Add("POST", base, create);
  router.Add("POST", base + "/:type", create);
  router.Add("GET", base,
             AccountRoute(ctx, [&ctx](Request&, const PathParams& p, const std::string& a) {
               return ListDownloads(ctx, p, a);
             }));
  router.Add("DELETE", base, remove);
  router.Add("DELETE", base + "/:type", remove);
}

}  // namespace kino::api

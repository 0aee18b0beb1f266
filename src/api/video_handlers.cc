// GET/POST/DELETE of videos, the list with its filters, and storage usage
// (Cloudflare Stream's "videos" resource).
#include <algorithm>

#include "api/envelope.h"
#include "api/handler_util.h"
#include "api/routes.h"
#include "api/video_json.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/errors.h"
#include "jobs/job_queue.h"

namespace kino::api {
namespace {

using domain::kErrInvalidParameter;

constexpr int kMaxListLimit = 1000;

Result<bool> QueryBool(const Request& req, std::string_view name, bool fallback) {
  auto v = req.Query(name);
  if (!v) {
    return fallback;
  }
  if (*v == "true" || *v == "1") {
    return true;
  }
  if (*v == "false" || *v == "0") {
    return false;
  }
  return InvalidArgument("query parameter '" + std::string(name) + "' must be true or false",
                         kErrInvalidParameter);
}

Result<std::optional<int64_t>> QueryTime(const Request& req, std::string_view a,
                                         std::string_view b) {
  auto v = req.Query(a);
  if (!v) {
    v = req.Query(b);
  }
  if (!v) {
    return std::optional<int64_t>();
  }
  auto t = ParseRfc3339(*v);
  if (!t) {
    return InvalidArgument("query parameter '" + std::string(a) + "' must be an RFC 3339 time",
                           kErrInvalidParameter);
  }
  return std::optional<int64_t>(*t);
}

Status FillListFilter(const Request& req, domain::VideoListFilter* f) {
  if (auto status = req.Query("status")) {
    auto state = domain::ParseVideoState(*status);
    if (!state) {
      return InvalidArgument("unknown status '" + std::string(*status) + "'", kErrInvalidParameter);
    }
    f->state = state;
  }
  if (auto creator = req.Query("creator")) {
    f->creator = std::string(*creator);
  }
  if (auto search = req.Query("search")) {
    f->search = std::string(*search);
  }
  if (auto name = req.Query("video_name")) {
    f->video_name = std::string(*name);
  }
  if (auto ids = req.Query("id")) {
    for (auto id : Split(*ids, ',')) {
      f->ids.emplace_back(TrimWhitespace(id));
    }
  }
  KINO_ASSIGN_OR_RETURN(f->after, QueryTime(req, "after", "start"));
  KINO_ASSIGN_OR_RETURN(f->before, QueryTime(req, "before", "end"));
  KINO_ASSIGN_OR_RETURN(f->ascending, QueryBool(req, "asc", false));
  if (auto limit = req.Query("limit")) {
    auto n = ParseUint64(*limit);
    if (!n || *n < 1 || *n > kMaxListLimit) {
      return InvalidArgument("limit must be an integer from 1 to 1000", kErrInvalidParameter);
    }
    f->limit = static_cast<int>(*n);
  }
  return Status::Ok();
}

Response ListVideos(ApiContext& ctx, Request& req, const PathParams& params) {
  auto account = Authenticate(ctx, req, Param(params, "account"));
  if (!account.ok()) {
    return JsonError(account.status(), req.request_id);
  }
  domain::VideoListFilter filter;
  filter.account_id = *account;
  Status s = FillListFilter(req, &filter);
  if (!s.ok()) {
    return JsonError(s, req.request_id);
  }
  auto page = domain::VideoRepository::List(*ctx.db, filter);
  if (!page.ok()) {
    return JsonError(page.status(), req.request_id);
  }
  nlohmann::json result = nlohmann::json::array();
  for (const auto& v : page->videos) {
    result.push_back(VideoToJson(v, ctx.settings.public_url));
  }
  // Stream's list adds `range` (matches past this page) and, on request, `total`. Kino sends
  // `range` only when there are more, so an empty library answers the bare envelope.
  nlohmann::json extra = nlohmann::json::object();
  if (page->remaining > 0) {
    extra["range"] = page->remaining;
  }
  auto counts = QueryBool(req, "include_counts", false);
  if (counts.ok() && *counts) {
    extra["total"] = page->total;
  }
  Response r = JsonOkWith(result, 200, extra);
  return r;
}

Result<nlohmann::json> EditVideo(ApiContext& ctx, Request& req, const PathParams& params,
                                 const std::string& account) {
  KINO_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonBody(req.body));
  KINO_ASSIGN_OR_RETURN(domain::Video video, LoadVideo(ctx, params, account));
  KINO_ASSIGN_OR_RETURN(auto uid, OptionalString(body, "uid"));
  if (uid && *uid != video.uid) {
    return InvalidArgument("uid in the body does not match the path", kErrInvalidParameter);
  }
  KINO_RETURN_IF_ERROR(ApplyVideoFields(body, &video));
  KINO_RETURN_IF_ERROR(domain::VideoRepository::Save(*ctx.db, video));
  return VideoToJson(video, ctx.settings.public_url);
}

Result<nlohmann::json> DeleteVideo(ApiContext& ctx, const PathParams& params,
                                   const std::string& account) {
  KINO_ASSIGN_OR_RETURN(domain::Video video, LoadVideo(ctx, params, account));
  // The row, its downloads and its jobs go in one transaction; the files are removed by a
  // durable job so that a crash halfway leaves no orphaned bytes for long.
  KINO_RETURN_IF_ERROR(ctx.db->Transact([&](storage::Database& tx) -> Status {
    KINO_RETURN_IF_ERROR(jobs::JobQueue::CancelForVideo(tx, video.uid));
    KINO_RETURN_IF_ERROR(domain::VideoRepository::Delete(tx, video.uid));
    return jobs::JobQueue::Enqueue(tx, jobs::kDeleteVideoFiles, video.uid, {}).status();
  }));
  ctx.wake_workers();
  log::Info("video_deleted", "video deleted", {{"video_uid", video.uid}});
  return nlohmann::json("ok");
}

Result<nlohmann::json> StorageUsage(ApiContext& ctx, Request& req, const std::string& account) {
  std::optional<std::string> creator;
  if (auto c = req.Query("creator")) {
    creator = std::string(*c);
  }
  KINO_ASSIGN_OR_RETURN(domain::StorageUsage usage,
                        domain::VideoRepository::Usage(*ctx.db, account, creator));
  return nlohmann::json{{"creator", creator ? nlohmann::json(*creator) : nlohmann::json(nullptr)},
                        {"totalStorageMinutes", usage.total_minutes},
                        {"totalStorageMinutesLimit", nullptr},
                        {"videoCount", usage.video_count}};
}

}  // namespace

void RegisterVideoRoutes(Router& router, ApiContext& ctx) {
  std::string base = kStreamPrefix;
  router.Add("GET", base,
             [&ctx](Request& req, const PathParams& p) { return ListVideos(ctx, req, p); });
  router.Add("GET", base + "/storage-usage",
             AccountRoute(ctx, [&ctx](Request& req, const PathParams&, const std::string& a) {
               return StorageUsage(ctx, req, a);
             }));
  router.Add("GET", base + "/:uid",
             AccountRoute(ctx,
                          [&ctx](Request&, const PathParams& p,
                                 const std::string& a) -> Result<nlohmann::json> {
                            KINO_ASSIGN_OR_RETURN(domain::Video v, LoadVideo(ctx, p, a));
                            return VideoToJson(v, ctx.settings.public_url);
                          }));
  router.Add("POST", base + "/:uid",
             AccountRoute(ctx, [&ctx](Request& req, const PathParams& p, const std::string& a) {
               return EditVideo(ctx, req, p, a);
             }));
  router.Add("DELETE", base + "/:uid",
             AccountRoute(ctx, [&ctx](Request&, const PathParams& p, const std::string& a) {
               return DeleteVideo(ctx, p, a);
             }));
}

}  // namespace kino::api

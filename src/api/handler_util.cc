#include "api/handler_util.h"

#include "api/envelope.h"
#include "common/random.h"
#include "common/time_util.h"
#include "domain/errors.h"

namespace kino::api {
namespace {

using domain::kErrInvalidParameter;

Status BadField(const char* field, const char* expected) {
  return InvalidArgument(std::string("field '") + field + "' must be " + expected,
                         kErrInvalidParameter);
}

constexpr int64_t kMaxDurationLimit = 36000;
constexpr size_t kMaxCreatorLength = 64;
constexpr size_t kMaxMetaBytes = 16 * 1024;

Status ApplyOrigins(const nlohmann::json& body, domain::Video* video) {
  if (!body.contains("allowedOrigins")) {
    return Status::Ok();
  }
  const auto& v = body["allowedOrigins"];
  if (!v.is_array() || v.size() > 64) {
    return BadField("allowedOrigins", "an array of at most 64 host names");
  }
  std::vector<std::string> origins;
  for (const auto& o : v) {
    if (!o.is_string() || o.get_ref<const std::string&>().empty() ||
        o.get_ref<const std::string&>().size() > 253) {
      return BadField("allowedOrigins", "an array of host names");
    }
    origins.push_back(o.get<std::string>());
  }
  video->allowed_origins = std::move(origins);
  return Status::Ok();
}

Status ApplyLimits(const nlohmann::json& body, domain::Video* video) {
  if (body.contains("maxDurationSeconds") && !body["maxDurationSeconds"].is_null()) {
    const auto& v = body["maxDurationSeconds"];
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kMaxDurationLimit) {
      return BadField("maxDurationSeconds", "an integer from 1 to 36000");
    }
    video->max_duration_seconds = v.get<int64_t>();
  }
  KINO_ASSIGN_OR_RETURN(auto pct, OptionalNumber(body, "thumbnailTimestampPct"));
  if (pct) {
    if (*pct < 0 || *pct > 1) {
      return BadField("thumbnailTimestampPct", "a number from 0 to 1");
    }
    video->thumbnail_pct = *pct;
  }
  return Status::Ok();
}

}  // namespace

Handler AccountRoute(ApiContext& ctx, JsonHandler fn, int ok_status) {
  return [&ctx, fn = std::move(fn), ok_status](Request& req, const PathParams& params) {
    auto account = Authenticate(ctx, req, Param(params, "account"));
    if (!account.ok()) {
      return JsonError(account.status(), req.request_id);
    }
    Result<nlohmann::json> result = fn(req, params, *account);
    if (!result.ok()) {
      return JsonError(result.status(), req.request_id);
    }
    return JsonOk(*result, ok_status);
  };
}

const std::string& Param(const PathParams& params, std::string_view name) {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Result<domain::Video> LoadVideo(ApiContext& ctx, const PathParams& params,
                                const std::string& account_id) {
  const std::string& uid = Param(params, "uid");
  if (!IsId(uid)) {
    return NotFound("video not found", domain::kErrVideoNotFound);
  }
  return domain::VideoRepository::Get(*ctx.db, account_id, uid);
}

Result<std::optional<std::string>> OptionalString(const nlohmann::json& body, const char* field) {
  if (!body.contains(field) || body[field].is_null()) {
    return std::optional<std::string>();
  }
  if (!body[field].is_string()) {
    return BadField(field, "a string");
  }
  return std::optional<std::string>(body[field].get<std::string>());
}

Result<std::optional<bool>> OptionalBool(const nlohmann::json& body, const char* field) {
  if (!body.contains(field) || body[field].is_null()) {
    return std::optional<bool>();
  }
  if (!body[field].is_boolean()) {
    return BadField(field, "true or false");
  }
  return std::optional<bool>(body[field].get<bool>());
}

Result<std::optional<double>> OptionalNumber(const nlohmann::json& body, const char* field) {
  if (!body.contains(field) || body[field].is_null()) {
    return std::optional<double>();
  }
  if (!body[field].is_number()) {
    return BadField(field, "a number");
  }
  return std::optional<double>(body[field].get<double>());
}

Result<std::optional<std::optional<int64_t>>> OptionalTime(const nlohmann::json& body,
                                                           const char* field) {
  using Out = std::optional<std::optional<int64_t>>;
  if (!body.contains(field)) {
    return Out();
  }
  if (body[field].is_null()) {
    return Out(std::optional<int64_t>());
  }
  if (!body[field].is_string()) {
    return BadField(field, "an RFC 3339 date-time string or null");
  }
  auto t = ParseRfc3339(body[field].get_ref<const std::string&>());
  if (!t) {
    return BadField(field, "an RFC 3339 date-time such as 2026-01-02T15:04:05Z");
  }
  return Out(std::optional<int64_t>(*t));
}

Status CheckQueueRoom(ApiContext& ctx, const std::string& account) {
  if (ctx.settings.max_queued_videos <= 0) {
    return Status::Ok();
  }
  KINO_ASSIGN_OR_RETURN(int64_t unfinished,
                        domain::VideoRepository::CountUnfinished(*ctx.db, account));
  if (unfinished >= ctx.settings.max_queued_videos) {
    return ResourceExhausted("the account has " + std::to_string(unfinished) +
                                 " videos downloading, queued or in progress (the limit is " +
                                 std::to_string(ctx.settings.max_queued_videos) +
                                 "); try again when some are ready",
                             domain::kErrTooManyQueued);
  }
  return Status::Ok();
}

Status ApplyVideoFields(const nlohmann::json& body, domain::Video* video) {
  KINO_RETURN_IF_ERROR(ApplyOrigins(body, video));
  KINO_RETURN_IF_ERROR(ApplyLimits(body, video));
  KINO_ASSIGN_OR_RETURN(auto creator, OptionalString(body, "creator"));
  if (creator) {
    if (creator->size() > kMaxCreatorLength) {
      return BadField("creator", "at most 64 characters");
    }
    video->creator = *creator;
  }
  if (body.contains("meta") && !body["meta"].is_null()) {
    if (!body["meta"].is_object() || body["meta"].dump().size() > kMaxMetaBytes) {
      return BadField("meta", "a JSON object of at most 16 KiB");
    }
    video->meta = body["meta"];
  }
  if (body.contains("publicDetails") && !body["publicDetails"].is_null()) {
    if (!body["publicDetails"].is_object()) {
      return BadField("publicDetails", "an object");
    }
    video->public_details = body["publicDetails"];
  }
  KINO_ASSIGN_OR_RETURN(auto require_signed, OptionalBool(body, "requireSignedURLs"));
  if (require_signed) {
    video->require_signed_urls = *require_signed;
  }
  KINO_ASSIGN_OR_RETURN(auto deletion, OptionalTime(body, "scheduledDeletion"));
  if (deletion) {
    video->scheduled_deletion = *deletion;
  }
  KINO_ASSIGN_OR_RETURN(auto expiry, OptionalTime(body, "uploadExpiry"));
  if (expiry) {
    video->upload_expiry = *expiry;
  }
  return Status::Ok();
}

}  // namespace kino::api

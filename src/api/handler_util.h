// Helpers that keep each API handler a short story: authenticate, do the work, wrap the
// result in the envelope, map failures in one place.
#ifndef KINO_API_HANDLER_UTIL_H_
#define KINO_API_HANDLER_UTIL_H_

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/context.h"
#include "api/router.h"
#include "domain/video.h"

namespace kino::api {

using JsonHandler = std::function<Result<nlohmann::json>(Request& req, const PathParams& params,
                                                         const std::string& account_id)>;

// A buffered route handler that authenticates the request against the path's `:account`
// and answers fn's result in the envelope with `ok_status`.
Handler AccountRoute(ApiContext& ctx, JsonHandler fn, int ok_status = 200);

// The path parameter `name`; routes guarantee that it exists.
const std::string& Param(const PathParams& params, std::string_view name);

// Loads the account's video named by the `:uid` path parameter (404, code 10003, otherwise).
Result<domain::Video> LoadVideo(ApiContext& ctx, const PathParams& params,
                                const std::string& account_id);

// Typed readers for JSON request fields: absent -> nullopt; wrong type -> InvalidArgument
// naming the field (code 10002).
Result<std::optional<std::string>> OptionalString(const nlohmann::json& body, const char* field);
Result<std::optional<bool>> OptionalBool(const nlohmann::json& body, const char* field);
Result<std::optional<double>> OptionalNumber(const nlohmann::json& body, const char* field);
// RFC 3339 string or null (null -> the outer optional holds a nullopt).
Result<std::optional<std::optional<int64_t>>> OptionalTime(const nlohmann::json& body,
                                                           const char* field);

// ResourceExhausted (429, code 10016) when the account already has
// settings.max_queued_videos videos downloading, queued or in progress: called before a new
// upload of any kind is accepted. The count and the insert that follows are not one
// transaction, so concurrent requests may pass the limit by a few.
Status CheckQueueRoom(ApiContext& ctx, const std::string& account);

// Applies the fields shared by upload requests and edits (allowedOrigins, creator,
// maxDurationSeconds, meta, requireSignedURLs, scheduledDeletion, thumbnailTimestampPct,
// publicDetails, uploadExpiry) to `video`, validating each.
Status ApplyVideoFields(const nlohmann::json& body, domain::Video* video);

}  // namespace kino::api

#endif  // KINO_API_HANDLER_UTIL_H_

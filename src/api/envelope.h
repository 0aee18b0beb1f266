// The Cloudflare API envelope and the one mapping from Status to HTTP status and error code.
//
//   {"result": ..., "success": true, "errors": [], "messages": []}
//   {"result": null, "success": false, "errors": [{"code": 10003, "message": "..."}], ...}
//
// Delivery paths (downloads, manifests, thumbnails) answer errors with a plain status and a
// short text body instead; see PlainError().
#ifndef KINO_API_ENVELOPE_H_
#define KINO_API_ENVELOPE_H_

#include <nlohmann/json.hpp>

#include "api/http_types.h"
#include "common/status.h"

namespace kino::api {

// The HTTP status for a failed Status (see docs/api-errors.md).
int HttpStatusFor(const Status& status);
// The envelope error code for a failed Status: its api_code, or the default for its code.
int ApiCodeFor(const Status& status);

Response JsonOk(const nlohmann::json& result, int http_status = 200);
// The same with extra top-level fields after `messages` (the list's `range` and `total`).
Response JsonOkWith(const nlohmann::json& result, int http_status, const nlohmann::json& extra);
// Internal errors are logged (with the request id) and answered without their details.
Response JsonError(const Status& status, std::string_view request_id = "");
// text/plain error for delivery paths: "404 Not Found: <message>".
Response PlainError(const Status& status, std::string_view request_id = "");

// Parses a JSON object body. An empty body gives an empty object; anything that is not a JSON
// object is InvalidArgument with code 10001.
Result<nlohmann::json> ParseJsonBody(std::string_view body);

}  // namespace kino::api

#endif  // KINO_API_ENVELOPE_H_

#include "api/envelope.h"

#include "common/log.h"
#include "domain/errors.h"

namespace kino::api {
namespace {

using namespace kino::domain;  // NOLINT(google-build-using-namespace): error code constants

int StatusForApiCode(int api_code) {
  switch (api_code) {
    case kErrVideoNotReady:
    case kErrStateConflict:
      return 422;
    case kErrVideoFailed:
      return 424;
    case kErrUploadTooLarge:
      return 413;
    case kErrUploadUrlUsed:
      return 410;
    case kErrTooManyQueued:
      return 429;
    case kErrOffsetMismatch:
    case kErrConflict:
      return 409;
    case kErrUnsupportedMediaType:
      return 415;
    case kErrTusVersion:
      return 412;
    case kErrMethodNotAllowed:
      return 405;
    default:
      return 0;
  }
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 424:
      return "Failed Dependency";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

}  // namespace

int HttpStatusFor(const Status& status) {
  if (int by_code = StatusForApiCode(status.api_code()); by_code != 0) {
    return by_code;
  }
  switch (status.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 422;
    case StatusCode::kOutOfRange:
      return 416;
    case StatusCode::kResourceExhausted:
      return 413;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:
      return 503;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

int ApiCodeFor(const Status& status) {
  if (status.api_code() != 0) {
    return status.api_code();
  }
  switch (status.code()) {
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return kErrAuthentication;
    case StatusCode::kNotFound:
      return kErrNotFound;
    case StatusCode::kAlreadyExists:
      return kErrConflict;
    case StatusCode::kFailedPrecondition:
      return kErrStateConflict;
    case StatusCode::kResourceExhausted:
      return kErrUploadTooLarge;
    case StatusCode::kUnavailable:
    case StatusCode::kCancelled:
    case StatusCode::kDeadlineExceeded:
      return kErrUnavailable;
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
    case StatusCode::kUnimplemented:
      return kErrInternal;
    default:
      return kErrInvalidParameter;
  }
}

Response JsonOk(const nlohmann::json& result, int http_status) {
  return JsonOkWith(result, http_status, nlohmann::json::object());
}

Response JsonOkWith(const nlohmann::json& result, int http_status, const nlohmann::json& extra) {
  Response r;
  r.status = http_status;
  // Written by hand to keep Cloudflare's field order: result, success, errors, messages.
  r.body = "{\"result\":" + result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           ",\"success\":true,\"errors\":[],\"messages\":[]";
  for (const auto& [key, value] : extra.items()) {
    r.body += "," + nlohmann::json(key).dump() + ":" + value.dump();
  }
  r.body += "}";
  r.headers.Set("Content-Type", "application/json");
  return r;
}

Response JsonError(const Status& status, std::string_view request_id) {
  int http = HttpStatusFor(status);
  std::string message = status.message();
  if (http >= 500) {
    log::Error("internal_error", status.ToString(), {{"request_id", request_id}});
    message = "Internal error; see the server log for request " + std::string(request_id);
  }
  Response r;
  r.status = http;
  nlohmann::json body = {{"result", nullptr},
                         {"success", false},
                         {"errors", {{{"code", ApiCodeFor(status)}, {"message", message}}}},
                         {"messages", nlohmann::json::array()}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.headers.Set("Content-Type", "application/json");
  // The official SDK retries 409 and 5xx unless told not to; a retry cannot fix these.
  if (http == 409 || http == 500) {
    r.headers.Set("x-should-retry", "false");
  }
  return r;
}

Response PlainError(const Status& status, std::string_view request_id) {
  int http = HttpStatusFor(status);
  std::string message = status.message();
  if (http >= 500) {
    log::Error("internal_error", status.ToString(), {{"request_id", request_id}});
    message = "internal error";
  }
  Response r;
  r.status = http;
  r.body = std::to_string(http) + " " + ReasonPhrase(http) + ": " + message + "\n";
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  return r;
}

Result<nlohmann::json> ParseJsonBody(std::string_view body) {
  bool blank = true;
  for (char c : body) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      blank = false;
      break;
    }
  }
  if (blank) {
    return nlohmann::json::object();
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("request body must be a JSON object", kErrBadJson);
  }
  return j;
}

}  // namespace kino::api

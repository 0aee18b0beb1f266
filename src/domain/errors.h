// The API's error codes, in one place. docs/api-errors.md lists each with its HTTP status and
// meaning; HttpStatusFor and ApiCodeFor in api/envelope.cc turn a Status carrying one of these
// into a response.
#ifndef KINO_DOMAIN_ERRORS_H_
#define KINO_DOMAIN_ERRORS_H_

namespace kino::domain {

inline constexpr int kErrAuthentication = 10000;        // 401/403
inline constexpr int kErrNoRoute = 7003;                // 404
inline constexpr int kErrMethodNotAllowed = 7001;       // 405
inline constexpr int kErrBadJson = 10001;               // 400 body is not valid JSON
inline constexpr int kErrInvalidParameter = 10002;      // 400 a field or parameter is invalid
inline constexpr int kErrNotFound = 10003;              // 404 (any resource; videos use it)
inline constexpr int kErrVideoNotFound = 10003;         // 404
inline constexpr int kErrVideoNotReady = 10004;         // 422 downloads before the video is ready
inline constexpr int kErrVideoFailed = 10005;           // 424 the video is in state error
inline constexpr int kErrUnknownDownloadType = 10006;   // 400
inline constexpr int kErrDownloadNotFound = 10007;      // 404
inline constexpr int kErrUploadTooLarge = 10011;        // 413
inline constexpr int kErrUploadUrlUsed = 10012;         // 410 one-time upload URL used or expired
inline constexpr int kErrDurationExceeded = 10013;      // 400 longer than maxDurationSeconds
inline constexpr int kErrSigningKeyNotFound = 10014;    // 404
inline constexpr int kErrWebhookNotFound = 10015;       // 404
inline constexpr int kErrTooManyQueued = 10016;         // 429
inline constexpr int kErrBadUpload = 10017;             // 400 malformed multipart body
inline constexpr int kErrUploadNotFound = 10018;        // 404 tus upload unknown
inline constexpr int kErrOffsetMismatch = 10019;        // 409 tus Upload-Offset differs
inline constexpr int kErrUnsupportedMediaType = 10020;  // 415
inline constexpr int kErrTusVersion = 10021;            // 412 unsupported Tus-Resumable
inline constexpr int kErrConflict = 10022;              // 409 conflicts with an existing thing
inline constexpr int kErrStateConflict = 10023;         // 422 the thing is in the wrong state
inline constexpr int kErrSignedUrlRequired = 10024;     // delivery: bare uid of a private video
inline constexpr int kErrAccessDenied = 10025;          // delivery: token blocked by a rule
inline constexpr int kErrBadToken = 10026;              // delivery: token malformed/expired/...
inline constexpr int kErrTooManySigningKeys = 10027;    // 400 the account has 1000 signing keys
// 10401-10412: signed-URL token failures (401/403), defined in auth/jwt.h and auth/signed_url.h.
inline constexpr int kErrNotVideo = 10059;     // 400 upload is not a video (Stream's code)
inline constexpr int kErrInternal = 10050;     // 500
inline constexpr int kErrUnavailable = 10051;  // 503

}  // namespace kino::domain

#endif  // KINO_DOMAIN_ERRORS_H_

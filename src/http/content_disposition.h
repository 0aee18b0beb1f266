// Download filenames: the `?filename=` parameter of Cloudflare Stream download URLs, a default
// name derived from a video's meta.name, and the Content-Disposition header (RFC 6266 with the
// RFC 8187 extended parameter).
//
// Pure functions; safe from any thread.
#ifndef KINO_HTTP_CONTENT_DISPOSITION_H_
#define KINO_HTTP_CONTENT_DISPOSITION_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kino::http {

inline constexpr size_t kMaxDownloadFilenameLength = 120;

// Checks a client-supplied download name and returns it WITH `ext` appended ("clip" with ".mp4"
// -> "clip.mp4"). The name, after removing one trailing `ext` compared case-insensitively (so a
// client sending "clip.mp4" does not get "clip.mp4.mp4"), must be 1 to 120 characters of
// A-Z a-z 0-9 '-' '_'. Anything else ("../x", spaces, dots, non-ASCII, empty) -> InvalidArgument
// with a message fit for the API client. `ext` includes the dot: ".mp4" or ".m4a".
Result<std::string> ValidateDownloadFilename(std::string_view name, std::string_view ext);

// The Content-Disposition value for a download: `attachment; filename="clip.mp4"`. When the name
// holds anything beyond plain printable ASCII (or a quote, backslash or percent sign), the
// filename parameter gets an ASCII stand-in with '_' for those bytes and a
// `filename*=UTF-8''...` parameter carries the exact name percent-encoded (RFC 8187 section 3.2).
// Control characters never reach the header.
std::string AttachmentHeader(std::string_view filename_with_ext);

// A default download name (WITHOUT extension) from meta.name, which may be any UTF-8 text: keeps
// A-Z a-z 0-9 '-' '_', turns whitespace and dots into '_', drops every other byte, collapses runs
// of '_', trims separators at both ends, drops a trailing media extension such as "_mp4" that came
// from an uploaded file name, and cuts to 120 characters. Returns `fallback` (the video uid) when
// nothing is left. The result always passes ValidateDownloadFilename when `fallback` does.
std::string SanitizeDefaultFilename(std::string_view meta_name, std::string_view fallback);

}  // namespace kino::http

#endif  // KINO_HTTP_CONTENT_DISPOSITION_H_

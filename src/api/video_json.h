// The video object as Cloudflare Stream's API returns it (and as webhooks carry it).
#ifndef KINO_API_VIDEO_JSON_H_
#define KINO_API_VIDEO_JSON_H_

#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/download.h"
#include "domain/video.h"

namespace kino::api {

// Every field of the video object, with Stream's types: pctComplete as a string with six
// decimals, duration and input -1 until known, RFC 3339 UTC times, URLs under `public_url`.
nlohmann::json VideoToJson(const domain::Video& video, std::string_view public_url);

// Stream's downloads result: an object keyed by type, each with status, url and
// percentComplete; Kino adds size and sha256 once ready.
nlohmann::json DownloadsToJson(const std::vector<domain::Download>& downloads,
                               std::string_view video_uid, std::string_view public_url);

// "<public_url>/<uid>/downloads/default.mp4"
std::string DownloadUrl(std::string_view public_url, std::string_view video_uid,
                        domain::DownloadType type);

}  // namespace kino::api

#endif  // KINO_API_VIDEO_JSON_H_

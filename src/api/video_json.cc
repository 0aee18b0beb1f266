#include "api/video_json.h"

#include <cstdio>

#include "common/time_util.h"

namespace kino::api {
namespace {

nlohmann::json OptTime(const std::optional<int64_t>& micros) {
  return micros ? nlohmann::json(FormatRfc3339(*micros)) : nlohmann::json(nullptr);
}

std::string Pct(double pct) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", pct);
  return buf;
}

}  // namespace

nlohmann::json VideoToJson(const domain::Video& v, std::string_view public_url) {
  std::string base = std::string(public_url) + "/" + v.uid;
  nlohmann::json status = {{"state", domain::VideoStateName(v.state)},
                           {"pctComplete", Pct(v.pct_complete)},
                           {"errorReasonCode", v.error_code},
                           {"errorReasonText", v.error_text}};
  if (v.state == domain::VideoState::kInProgress) {
    status["step"] = "encoding";
  }
  nlohmann::json j = {
      {"uid", v.uid},
      {"creator", v.creator ? nlohmann::json(*v.creator) : nlohmann::json(nullptr)},
      {"thumbnail", base + "/thumbnails/thumbnail.jpg"},
      {"thumbnailTimestampPct", v.thumbnail_pct},
      {"readyToStream", v.ready_to_stream},
      {"readyToStreamAt", OptTime(v.ready_at)},
      {"status", status},
      {"meta", v.meta},
      {"created", FormatRfc3339(v.created)},
      {"modified", FormatRfc3339(v.modified)},
      {"uploaded", OptTime(v.uploaded)},
      {"uploadExpiry", OptTime(v.upload_expiry)},
      {"size", v.size},
      {"preview", base + "/watch"},
      {"allowedOrigins", v.allowed_origins},
      {"requireSignedURLs", v.require_signed_urls},
      {"maxSizeBytes",
       v.max_size_bytes ? nlohmann::json(*v.max_size_bytes) : nlohmann::json(nullptr)},
      {"maxDurationSeconds",
       v.max_duration_seconds ? nlohmann::json(*v.max_duration_seconds) : nlohmann::json(nullptr)},
      {"duration", v.duration},
      {"input", {{"width", v.width}, {"height", v.height}}},
      {"playback",
       {{"hls", base + "/manifest/video.m3u8"}, {"dash", base + "/manifest/video.mpd"}}},
      {"watermark", nullptr},
      {"scheduledDeletion", OptTime(v.scheduled_deletion)},
      {"publicDetails", v.public_details.is_object() ? v.public_details : nlohmann::json(nullptr)},
  };
  return j;
}

std::string DownloadUrl(std::string_view public_url, std::string_view video_uid,
                        domain::DownloadType type) {
  return std::string(public_url) + "/" + std::string(video_uid) + "/downloads/" +
         std::string(domain::DownloadFileName(type));
}

nlohmann::json DownloadsToJson(const std::vector<domain::Download>& downloads,
                               std::string_view video_uid, std::string_view public_url) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& d : downloads) {
    nlohmann::json item = {{"status", domain::DownloadStatusName(d.status)},
                           {"url", DownloadUrl(public_url, video_uid, d.type)},
                           {"percentComplete", d.percent_complete}};
    if (d.status == domain::DownloadStatus::kReady) {
      item["size"] = d.size;
      item["sha256"] = d.sha256;
    }
    if (d.status == domain::DownloadStatus::kError) {
      item["error"] = d.error_text;
    }
    out[std::string(domain::DownloadTypeName(d.type))] = item;
  }
  return out;
}

}  // namespace kino::api

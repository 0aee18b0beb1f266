// The outbox writers: an event row and its deliver_webhook job, in the caller's transaction.
// The caller wakes the workers after committing (an unwoken worker still finds the job at its
// next idle poll).
#include "api/webhook_events.h"

#include <nlohmann/json.hpp>

#include "api/video_json.h"
#include "domain/webhook.h"
#include "jobs/job_queue.h"

namespace kino::api {
namespace {

// Bodies are made from stored values that were valid JSON strings when they came in; the
// replace handler makes sure a stray invalid byte can never turn into an exception here.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status AddEventAndJob(storage::Database& tx, const domain::Webhook& webhook,
                      std::string_view video_uid, std::string_view kind,
                      const nlohmann::json& body) {
  KINO_ASSIGN_OR_RETURN(
      std::string event_id,
      domain::WebhookRepository::AddEvent(tx, webhook.account_id, video_uid, kind, Dump(body)));
  // No video uid on the job: deleting the video cancels its jobs, but a notification already
  // written (with the video as it was) must still go out.
  return jobs::JobQueue::Enqueue(tx, jobs::kDeliverWebhook, "", {{"event_id", event_id}}).status();
}

}  // namespace

Status EnqueueVideoEvent(storage::Database& tx, const domain::Video& video,
                         std::string_view public_url) {
  std::string_view kind;
  if (video.state == domain::VideoState::kReady) {
    kind = domain::kEventVideoReady;
  } else if (video.state == domain::VideoState::kError) {
    kind = domain::kEventVideoError;
  } else {
    return Status::Ok();  // only finished processing is notified
  }
  KINO_ASSIGN_OR_RETURN(std::optional<domain::Webhook> webhook,
                        domain::WebhookRepository::Get(tx, video.account_id));
  if (!webhook) {
    return Status::Ok();
  }
  // Stream's body: the bare video object, no envelope.
  return AddEventAndJob(tx, *webhook, video.uid, kind, VideoToJson(video, public_url));
}

Status EnqueueDownloadEvent(storage::Database& tx, const domain::Video& video,
                            const domain::Download& download, std::string_view public_url) {
  std::string_view kind;
  if (download.status == domain::DownloadStatus::kReady) {
    kind = domain::kEventDownloadReady;
  } else if (download.status == domain::DownloadStatus::kError) {
    kind = domain::kEventDownloadError;
  } else {
    return Status::Ok();
  }
  KINO_ASSIGN_OR_RETURN(std::optional<domain::Webhook> webhook,
                        domain::WebhookRepository::Get(tx, video.account_id));
  if (!webhook || !webhook->download_events) {
    return Status::Ok();
  }
  // Kino's own event (Stream sends none for downloads): see docs/webhooks.md.
  std::string type_name(domain::DownloadTypeName(download.type));
  nlohmann::json item = DownloadsToJson({download}, video.uid, public_url)[type_name];
  item["type"] = type_name;
  nlohmann::json body = {{"type", kind},
                         {"uid", video.uid},
                         {"download", item},
                         {"video", VideoToJson(video, public_url)}};
  return AddEventAndJob(tx, *webhook, video.uid, kind, body);
}

}  // namespace kino::api

#include "app/sweeper.h"

#include "api/tus_handlers.h"
#include "common/log.h"
#include "common/time_util.h"
#include "domain/video.h"
#include "domain/webhook.h"

namespace kino::app {

void Sweeper::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Sweeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

Result<int> Sweeper::SweepOnce() {
  // ListExpired answers at most a page at a time; a backlog is worked off over a few passes.
  KINO_ASSIGN_OR_RETURN(std::vector<domain::Video> expired,
                        domain::VideoRepository::ListExpired(*ctx_.db, NowMicros()));
  int deleted = 0;
  for (const domain::Video& video : expired) {
    Status s = api::DeleteVideoNow(ctx_, video);
    if (!s.ok()) {
      log::Warn("sweep_delete_failed", s.ToString(), {{"video_uid", video.uid}});
      continue;
    }
    bool upload = video.state == domain::VideoState::kPendingUpload;
    log::Info("video_swept", upload ? "expired upload deleted" : "scheduled deletion done",
              {{"video_uid", video.uid}});
    ++deleted;
  }
  auto events = domain::WebhookRepository::DeleteEndedBefore(
      *ctx_.db, NowMicros() - domain::WebhookRepository::kEndedEventRetentionMicros);
  if (!events.ok()) {
    log::Warn("sweep_webhook_events_failed", events.status().ToString());
  } else if (*events > 0) {
    log::Info("webhook_events_swept", "ended webhook events past their retention deleted",
              {{"events", std::to_string(*events)}});
  }
  return deleted;
}

void Sweeper::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    auto swept = SweepOnce();
    if (!swept.ok()) {
      log::Warn("sweep_failed", swept.status().ToString());
    }
    lock.lock();
  }
}

}  // namespace kino::app

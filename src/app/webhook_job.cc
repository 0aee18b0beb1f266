// deliver_webhook: sends one outbox event (domain/webhook.h) to the account's notification URL.
//
// Delivery is at least once and in order per video:
//   - An event waits while an earlier event of its video is pending; that event's job, when it
//     ends (delivered or given up), enqueues a job for the next one.
//   - The event is claimed before sending, so two jobs for one event never send it at once;
//     a worker that dies mid-send leaves a claim that ends after ClaimMicros().
//   - 2xx is delivered. Anything else (a timeout, a connection error, a 3xx that http::Post
//     did not follow, 4xx, 5xx) is a failed attempt, retried by a new delayed job with
//     exponential backoff and jitter, until the next try would be later than the event's
//     maximum age; then it is given up (a warn log line and the given_up metric).
// The job queue's own retries are left for Kino's failures (the database), not the receiver's.
//
// The policy (api::WebhookPolicy) comes from the serve flags --webhook-retry-base-ms,
// --webhook-max-backoff-seconds, --webhook-max-age-seconds and --webhook-timeout-ms.
#include <algorithm>

#include "app/job_handlers.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "domain/webhook.h"
#include "http/http_client.h"

namespace kino::app {
namespace {

using domain::WebhookRepository;

constexpr int64_t kMicrosPerMs = 1000;
constexpr int64_t kMicrosPerSecond = 1000000;
// Added to the longest an attempt can take (every redirect hop at its timeout) to get the
// claim's length, so that a live claim never ends mid-send.
constexpr int64_t kClaimMarginMicros = 30 * kMicrosPerSecond;
constexpr int kRecoverLimit = 100000;

// The delay after the n-th failed attempt: base * 2^(n-1), capped, with jitter over its upper
// half so that many events failing together do not retry together.
int64_t Backoff(const api::WebhookPolicy& p, int failures) {
  int64_t cap = p.max_backoff_seconds * kMicrosPerSecond;
  int64_t delay = p.retry_base_ms * kMicrosPerMs;
  for (int i = 1; i < failures && delay < cap; ++i) {
    delay *= 2;
  }
  delay = std::min(delay, cap);
  uint64_t r = 0;
  RandomBytes(&r, sizeof(r));
  return delay / 2 + static_cast<int64_t>(r % static_cast<uint64_t>(delay / 2 + 1));
}

metrics::Counter& Deliveries() {
  static metrics::Counter& c = metrics::GetCounter(
      "kino_webhook_deliveries_total",
      "Webhook deliveries by outcome: attempts that were delivered (2xx) or failed_attempt, "
      "and events given_up (past their maximum age) or cancelled (subscription deleted).");
  return c;
}

std::string JobPayload(std::string_view event_id) {
  return nlohmann::json{{"event_id", event_id}}.dump();
}

// Jobs carry no video uid: deleting a video cancels its jobs, but its notifications (already
// written, with the video as it was) must still go out.
Status EnqueueDelivery(storage::Database& tx, std::string_view event_id, int64_t delay) {
  jobs::EnqueueOptions options;
  options.delay_micros = std::max<int64_t>(delay, 0);
  return jobs::JobQueue::Enqueue(tx, jobs::kDeliverWebhook, "", {{"event_id", event_id}}, options)
      .status();
}

// After an event of `video_uid` ends, the next one in seq order may go.
Status EnqueueNextOfVideo(storage::Database& tx, std::string_view video_uid) {
  KINO_ASSIGN_OR_RETURN(std::optional<std::string> next,
                        WebhookRepository::FirstPending(tx, video_uid));
  return next ? EnqueueDelivery(tx, *next, 0) : Status::Ok();
}

Result<bool> HasQueuedJob(storage::Database& db, std::string_view event_id) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query("SELECT 1 FROM jobs WHERE kind = $1 AND state = 'queued' AND "
               "payload = $2 LIMIT 1",
               {storage::Text(jobs::kDeliverWebhook), storage::Text(JobPayload(event_id))}));
  return !rows.empty();
}

// "time=<unix seconds>,sig1=<hex HMAC-SHA256 of "<time>.<body>">", as Stream signs.
std::string Signature(const std::string& secret, int64_t unix_seconds, std::string_view body) {
  std::string time = std::to_string(unix_seconds);
  std::string message = time + "." + std::string(body);
  return "time=" + time + ",sig1=" + HexEncode(HmacSha256(secret, message));
}

bool Is2xx(int status) {
  return status >= 200 && status <= 299;
}

std::string AttemptError(const http::PostResult& r) {
  if (!r.error.empty() || Is2xx(r.http_status)) {
    return r.error;
  }
  if (r.http_status >= 300 && r.http_status <= 399) {
    return "redirect not followed";
  }
  return "HTTP " + std::to_string(r.http_status);
}

class WebhookHandler : public jobs::JobHandler {
 public:
  explicit WebhookHandler(api::ApiContext& ctx) : ctx_(ctx), policy_(ctx.settings.webhook) {}

  Result<jobs::JobOutcome> Run(jobs::JobContext& job) override {
    const nlohmann::json& id = job.job().payload["event_id"];
    if (!id.is_string()) {
      return InvalidArgument("deliver_webhook job without an event_id");
    }
    KINO_ASSIGN_OR_RETURN(std::optional<domain::WebhookEvent> event,
                          WebhookRepository::GetEvent(*ctx_.db, id.get<std::string>()));
    if (!event || event->state != domain::EventState::kPending) {
      return jobs::JobOutcome::kDone;  // already ended (a duplicate job)
    }
    KINO_ASSIGN_OR_RETURN(bool blocked, WebhookRepository::HasEarlierPending(*ctx_.db, *event));
    if (blocked) {
      return jobs::JobOutcome::kDone;  // the earlier event's job enqueues this one when it ends
    }
    int64_t now = NowMicros();
    KINO_ASSIGN_OR_RETURN(bool claimed,
                          WebhookRepository::Claim(*ctx_.db, event->id, now, now + ClaimMicros()));
    if (!claimed) {
      KINO_RETURN_IF_ERROR(EnsureScheduled(*event, now));
      return jobs::JobOutcome::kDone;
    }
    ++event->attempts;
    KINO_RETURN_IF_ERROR(Deliver(job, *event));
    return jobs::JobOutcome::kDone;
  }

  void OnGiveUp(const jobs::Job& job, const Status& last_error) override {
    // Only Kino's own failures (the database) get here; the event stays pending and the
    // start-up recovery pass gives it a job again.
    log::Error("webhook_job_failed", last_error.ToString(),
               {{"job_id", job.id}, {"event_id", job.payload.value("event_id", "")}});
  }

  // Gives every pending event without a queued or running job one (after a crash between a
  // failed job's last attempt and anything else, or jobs cancelled by hand).
  Status Recover() {
    KINO_ASSIGN_OR_RETURN(
        storage::Rows rows,
        ctx_.db->Query("SELECT e.id, e.next_attempt FROM webhook_events e WHERE e.state = "
                       "'pending' AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.kind = $1 AND "
                       "j.state IN ('queued', 'running') AND j.payload = "
                       "'{\"event_id\":\"' || e.id || '\"}') LIMIT $2",
                       {storage::Text(jobs::kDeliverWebhook), storage::Int(kRecoverLimit)}));
    int64_t now = NowMicros();
    for (const auto& row : rows) {
      KINO_RETURN_IF_ERROR(EnqueueDelivery(*ctx_.db, row.Text(0), row.Int(1) - now));
    }
    if (!rows.empty()) {
      log::Info("webhook_recovered", "queued deliveries for pending webhook events",
                {{"events", std::to_string(rows.size())}});
    }
    return Status::Ok();
  }

 private:
  int64_t ClaimMicros() const {
    return (http::kMaxPostRedirects + 1) * policy_.timeout_ms * kMicrosPerMs + kClaimMarginMicros;
  }

  // Not claimable: another worker holds it, or it waits for a retry. Either way a job must
  // exist for its next try; add one unless one is queued.
  Status EnsureScheduled(const domain::WebhookEvent& event, int64_t now) {
    KINO_ASSIGN_OR_RETURN(bool queued, HasQueuedJob(*ctx_.db, event.id));
    return queued ? Status::Ok() : EnqueueDelivery(*ctx_.db, event.id, event.next_attempt - now);
  }

  Status Deliver(jobs::JobContext& job, const domain::WebhookEvent& event) {
    KINO_ASSIGN_OR_RETURN(std::optional<domain::Webhook> webhook,
                          WebhookRepository::Get(*ctx_.db, event.account_id));
    if (!webhook) {
      Deliveries().Increment({{"outcome", "cancelled"}});
      return EndEvent(event, domain::EventState::kCancelled, "subscription deleted");
    }
    int64_t attempted = NowMicros();
    http::PostResult result = Send(job, *webhook, event, attempted);
    if (result.cancelled) {
      KINO_RETURN_IF_ERROR(WebhookRepository::Release(*ctx_.db, event.id, NowMicros()));
      return Cancelled("webhook delivery interrupted");
    }
    return Record(event, *webhook, result, attempted);
  }

  http::PostResult Send(jobs::JobContext& job, const domain::Webhook& webhook,
                        const domain::WebhookEvent& event, int64_t attempted) {
    http::HeaderFields headers = {
        {"Content-Type", "application/json"},
        {"Webhook-Signature", Signature(webhook.secret, attempted / kMicrosPerSecond, event.body)},
        {"Webhook-Id", event.id},
        {"Webhook-Event", event.kind},
    };
    http::PostOptions options;
    options.connect_timeout_ms = policy_.connect_timeout_ms;
    options.total_timeout_ms = policy_.timeout_ms;
    options.allow_private_addresses = ctx_.settings.allow_private_urls;
    options.cancelled = [&job] { return job.Cancelled(); };
    return http::Post(webhook.notification_url, event.body, headers, options);
  }

  Status EndEvent(const domain::WebhookEvent& event, domain::EventState state,
                  std::string_view why) {
    KINO_RETURN_IF_ERROR(ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_RETURN_IF_ERROR(WebhookRepository::Finish(tx, event.id, state, std::nullopt, why));
      return EnqueueNextOfVideo(tx, event.video_uid);
    }));
    ctx_.wake_workers();
    return Status::Ok();
  }

  // One transaction: the attempt, the event's new state, and the job that comes next.
  Status Record(const domain::WebhookEvent& event, const domain::Webhook& webhook,
                const http::PostResult& result, int64_t attempted) {
    domain::WebhookAttempt attempt;
    attempt.event_id = event.id;
    attempt.attempted = attempted;
    if (result.http_status > 0) {
      attempt.http_status = result.http_status;
    }
    attempt.latency_ms = result.latency_ms;
    attempt.error = AttemptError(result);

    bool delivered = Is2xx(result.http_status);
    int64_t now = NowMicros();
    int64_t next = now + Backoff(policy_, event.attempts);
    bool give_up = !delivered && next > event.created + policy_.max_age_seconds * kMicrosPerSecond;
    KINO_RETURN_IF_ERROR(ctx_.db->Transact([&](storage::Database& tx) -> Status {
      KINO_RETURN_IF_ERROR(WebhookRepository::AddAttempt(tx, event.account_id, attempt));
      if (delivered) {
        KINO_RETURN_IF_ERROR(
            WebhookRepository::MarkDelivered(tx, event.id, now, result.http_status));
        return EnqueueNextOfVideo(tx, event.video_uid);
      }
      if (give_up) {
        KINO_RETURN_IF_ERROR(WebhookRepository::Finish(tx, event.id, domain::EventState::kGivenUp,
                                                       attempt.http_status, attempt.error));
        return EnqueueNextOfVideo(tx, event.video_uid);
      }
      KINO_RETURN_IF_ERROR(
          WebhookRepository::ScheduleRetry(tx, event.id, next, attempt.http_status, attempt.error));
      return EnqueueDelivery(tx, event.id, next - now);
    }));
    ctx_.wake_workers();
    Report(event, webhook, attempt, delivered, give_up);
    return Status::Ok();
  }

  // The metric and the log line of one attempt. The URL is redacted; the secret and the
  // signature never appear.
  void Report(const domain::WebhookEvent& event, const domain::Webhook& webhook,
              const domain::WebhookAttempt& attempt, bool delivered, bool give_up) {
    std::string status = attempt.http_status ? std::to_string(*attempt.http_status) : "";
    std::string attempts = std::to_string(event.attempts);
    std::string url = log::RedactUrl(webhook.notification_url);
    std::initializer_list<log::Field> fields = {
        {"event_id", event.id},  {"video_uid", event.video_uid}, {"kind", event.kind},
        {"http_status", status}, {"attempts", attempts},         {"url", url}};
    if (delivered) {
      Deliveries().Increment({{"outcome", "delivered"}});
      log::Info("webhook_delivered", "webhook event delivered", fields);
      return;
    }
    Deliveries().Increment({{"outcome", "failed_attempt"}});
    if (give_up) {
      Deliveries().Increment({{"outcome", "given_up"}});
      log::Warn("webhook_given_up",
                "webhook event given up after its maximum age: " + attempt.error, fields);
      return;
    }
    log::Info("webhook_attempt_failed", attempt.error, fields);
  }

  api::ApiContext& ctx_;
  api::WebhookPolicy policy_;
};

}  // namespace

std::shared_ptr<jobs::JobHandler> MakeWebhookHandler(api::ApiContext& ctx) {
  // Every outcome's series exists from the start, so a dashboard sees zeros, not gaps.
  for (const char* outcome : {"delivered", "failed_attempt", "given_up", "cancelled"}) {
    Deliveries().Increment({{"outcome", outcome}}, 0);
  }
  auto handler = std::make_shared<WebhookHandler>(ctx);
  if (Status s = handler->Recover(); !s.ok()) {
    log::Warn("webhook_recover_failed", s.ToString());
  }
  return handler;
}

}  // namespace kino::app

// Webhooks: one subscription per account, the outbox of events to send to it, and the record
// of each delivery attempt.
//
// An event is written in the same transaction as the state change it reports, with a sequence
// number per video (`seq`) so that a video's events are sent in order. Its state is pending
// until a delivery answers 2xx (delivered), its retries run past the maximum age (given_up),
// or the subscription is deleted (cancelled). While an event is being sent it is claimed:
// its next_attempt is moved past the claim's end, so that no other worker sends it meanwhile,
// and a worker that dies leaves it to be claimed again once the claim ends.
//
// Ended events (delivered, given_up, cancelled) keep their body (a video object, about 2 KB)
// for a while, so that an attempt listed by GET .../webhook/attempts still names its event;
// DeleteEndedBefore, run by the sweeper, removes them and their attempts after
// kEndedEventRetentionMicros, so the table does not grow with every video.
//
// Every method takes the Database to use (a transaction or the database itself).
// Thread-safety: stateless; safe from any thread.
#ifndef KINO_DOMAIN_WEBHOOK_H_
#define KINO_DOMAIN_WEBHOOK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace kino::domain {

struct Webhook {
  std::string account_id;
  std::string notification_url;
  std::string secret;  // HMAC-SHA256 key for Webhook-Signature; never logged
  bool download_events = false;
  int64_t modified = 0;
};

// Event kinds.
inline constexpr std::string_view kEventVideoReady = "video.ready";
inline constexpr std::string_view kEventVideoError = "video.error";
inline constexpr std::string_view kEventDownloadReady = "download.ready";
inline constexpr std::string_view kEventDownloadError = "download.error";

enum class EventState { kPending, kDelivered, kGivenUp, kCancelled };
std::string_view EventStateName(EventState state);

struct WebhookEvent {
  std::string id;
  std::string account_id;
  std::string video_uid;
  int64_t seq = 0;
  std::string kind;
  std::string body;  // the exact bytes sent (and signed)
  EventState state = EventState::kPending;
  int attempts = 0;
  int64_t next_attempt = 0;
  int64_t created = 0;
};

struct WebhookAttempt {
  std::string event_id;
  // Filled by ListAttempts from the event: its video, kind and current state.
  std::string video_uid;
  std::string kind;
  EventState event_state = EventState::kPending;
  int64_t attempted = 0;
  std::optional<int> http_status;  // none when no response arrived
  int64_t latency_ms = 0;
  std::string error;
};

class WebhookRepository {
 public:
  // --- the subscription ---
  static Result<std::optional<Webhook>> Get(storage::Database& db, std::string_view account_id);
  // Creates the subscription with a new random secret, or changes its URL (and download_events,
  // when given) keeping the secret. Returns what was saved.
  static Result<Webhook> Put(storage::Database& db, std::string_view account_id,
                             std::string_view notification_url,
                             std::optional<bool> download_events);
  // Deletes the subscription and cancels its pending events. False when there was none.
  static Result<bool> Delete(storage::Database& db, std::string_view account_id);

  // --- the outbox ---
  // Adds a pending event due now with the video's next sequence number. Returns its id.
  static Result<std::string> AddEvent(storage::Database& tx, std::string_view account_id,
                                      std::string_view video_uid, std::string_view kind,
                                      std::string_view body);
  static Result<std::optional<WebhookEvent>> GetEvent(storage::Database& db,
                                                      std::string_view event_id);
  // True when an event of the same video with a lower seq is still pending.
  static Result<bool> HasEarlierPending(storage::Database& db, const WebhookEvent& event);
  // The pending event of `video_uid` with the lowest seq, if any.
  static Result<std::optional<std::string>> FirstPending(storage::Database& db,
                                                         std::string_view video_uid);
  // Claims a pending, due event until `until` and counts an attempt. False when it is not
  // pending or not due (another worker holds it, or it waits for a retry).
  static Result<bool> Claim(storage::Database& db, std::string_view event_id, int64_t now,
                            int64_t until);
  // Makes a claimed event due at `at` again without an attempt (the send was interrupted).
  static Status Release(storage::Database& db, std::string_view event_id, int64_t at);
  static Status MarkDelivered(storage::Database& tx, std::string_view event_id, int64_t now,
                              int http_status);
  // Records a failure; the event stays pending and is due again at `next_attempt`.
  static Status ScheduleRetry(storage::Database& tx, std::string_view event_id,
                              int64_t next_attempt, std::optional<int> http_status,
                              std::string_view error);
  // Ends a pending event for good: kGivenUp or kCancelled.
  static Status Finish(storage::Database& tx, std::string_view event_id, EventState state,
                       std::optional<int> http_status, std::string_view error);

  // Deletes the ended events created before `cutoff` (micros) and their attempts; pending
  // events stay whatever their age. Returns how many events were deleted.
  static Result<int64_t> DeleteEndedBefore(storage::Database& db, int64_t cutoff);
  static constexpr int64_t kEndedEventRetentionMicros = 7ll * 24 * 3600 * 1000000;

  // --- attempts ---
  // Records an attempt and drops the account's attempts beyond the newest kAttemptsKept, so
  // the history stays bounded however long a receiver keeps failing.
  static Status AddAttempt(storage::Database& tx, std::string_view account_id,
                           const WebhookAttempt& attempt);
  static constexpr int kAttemptsKept = 1000;
  // The account's latest attempts, newest first.
  static Result<std::vector<WebhookAttempt>> ListAttempts(storage::Database& db,
                                                          std::string_view account_id, int limit);
};

}  // namespace kino::domain

#endif  // KINO_DOMAIN_WEBHOOK_H_

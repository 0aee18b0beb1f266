#include "domain/webhook.h"

#include "common/random.h"
#include "common/time_util.h"

namespace kino::domain {
namespace {

using storage::Int;
using storage::Null;
using storage::Text;
using storage::Value;

constexpr size_t kMaxErrorBytes = 500;

Value OptStatus(std::optional<int> status) {
  return status ? Int(*status) : Null();
}

std::string ClipError(std::string_view error) {
  return std::string(error.substr(0, kMaxErrorBytes));
}

EventState ParseEventState(std::string_view name) {
  if (name == "delivered") {
    return EventState::kDelivered;
  }
  if (name == "given_up") {
    return EventState::kGivenUp;
  }
  if (name == "cancelled") {
    return EventState::kCancelled;
  }
  return EventState::kPending;
}

Webhook WebhookFromRow(const storage::Row& row) {
  Webhook w;
  w.account_id = row.Text(0);
  w.notification_url = row.Text(1);
  w.secret = row.Text(2);
  w.download_events = row.Bool(3);
  w.modified = row.Int(4);
  return w;
}

WebhookEvent EventFromRow(const storage::Row& row) {
  WebhookEvent e;
  e.id = row.Text(0);
  e.account_id = row.Text(1);
  e.video_uid = row.Text(2);
  e.seq = row.Int(3);
  e.kind = row.Text(4);
  e.body = row.Text(5);
  e.state = ParseEventState(row.Text(6));
  e.attempts = static_cast<int>(row.Int(7));
  e.next_attempt = row.Int(8);
  e.created = row.Int(9);
  return e;
}

}  // namespace

std::string_view EventStateName(EventState state) {
  switch (state) {
    case EventState::kPending:
      return "pending";
    case EventState::kDelivered:
      return "delivered";
    case EventState::kGivenUp:
      return "given_up";
    case EventState::kCancelled:
      return "cancelled";
  }
  return "pending";
}

Result<std::optional<Webhook>> WebhookRepository::Get(storage::Database& db,
                                                      std::string_view account_id) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query("SELECT account_id, notification_url, secret, download_events, modified "
               "FROM webhooks WHERE account_id = $1",
               {Text(account_id)}));
  if (rows.empty()) {
    return std::optional<Webhook>();
  }
  return std::optional<Webhook>(WebhookFromRow(rows[0]));
}

Result<Webhook> WebhookRepository::Put(storage::Database& db, std::string_view account_id,
                                       std::string_view notification_url,
                                       std::optional<bool> download_events) {
  Webhook saved;
  KINO_RETURN_IF_ERROR(db.Transact([&](storage::Database& tx) -> Status {
    KINO_ASSIGN_OR_RETURN(std::optional<Webhook> existing, Get(tx, account_id));
    saved.account_id = std::string(account_id);
    saved.notification_url = std::string(notification_url);
    // The secret outlives URL changes, so receivers keep verifying with the one they have.
    saved.secret = existing ? existing->secret : RandomHex(16);
    saved.download_events = download_events.value_or(existing && existing->download_events);
    saved.modified = NowMicros();
    return tx
        .Exec(
            "INSERT INTO webhooks (account_id, notification_url, secret, download_events, "
            "modified) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id) DO UPDATE SET "
            "notification_url = $2, secret = $3, download_events = $4, modified = $5",
            {Text(account_id), Text(notification_url), Text(saved.secret),
             storage::Bool(saved.download_events), Int(saved.modified)})
        .status();
  }));
  return saved;
}

Result<bool> WebhookRepository::Delete(storage::Database& db, std::string_view account_id) {
  bool existed = false;
  KINO_RETURN_IF_ERROR(db.Transact([&](storage::Database& tx) -> Status {
    KINO_ASSIGN_OR_RETURN(
        int64_t n, tx.Exec("DELETE FROM webhooks WHERE account_id = $1", {Text(account_id)}));
    existed = n > 0;
    return tx
        .Exec(
            "UPDATE webhook_events SET state = 'cancelled', last_error = 'subscription "
            "deleted' WHERE account_id = $1 AND state = 'pending'",
            {Text(account_id)})
        .status();
  }));
  return existed;
}

Result<std::string> WebhookRepository::AddEvent(storage::Database& tx, std::string_view account_id,
                                                std::string_view video_uid, std::string_view kind,
                                                std::string_view body) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      tx.Query("SELECT COALESCE(MAX(seq), 0) + 1 FROM webhook_events WHERE video_uid = $1",
               {Text(video_uid)}));
  std::string id = NewId();
  int64_t now = NowMicros();
  KINO_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO webhook_events (id, account_id, video_uid, seq, kind, body, state, "
              "attempts, next_attempt, created) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, "
              "$7, $7)",
              {Text(id), Text(account_id), Text(video_uid), Int(rows[0].Int(0)), Text(kind),
               Text(body), Int(now)})
          .status());
  return id;
}

Result<std::optional<WebhookEvent>> WebhookRepository::GetEvent(storage::Database& db,
                                                                std::string_view event_id) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query("SELECT id, account_id, video_uid, seq, kind, body, state, attempts, "
               "next_attempt, created FROM webhook_events WHERE id = $1",
               {Text(event_id)}));
  if (rows.empty()) {
    return std::optional<WebhookEvent>();
  }
  return std::optional<WebhookEvent>(EventFromRow(rows[0]));
}

Result<bool> WebhookRepository::HasEarlierPending(storage::Database& db,
                                                  const WebhookEvent& event) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query("SELECT 1 FROM webhook_events WHERE video_uid = $1 AND "
                                 "seq < $2 AND state = 'pending' LIMIT 1",
                                 {Text(event.video_uid), Int(event.seq)}));
  return !rows.empty();
}

Result<std::optional<std::string>> WebhookRepository::FirstPending(storage::Database& db,
                                                                   std::string_view video_uid) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query("SELECT id FROM webhook_events WHERE video_uid = $1 AND "
                                 "state = 'pending' ORDER BY seq LIMIT 1",
                                 {Text(video_uid)}));
  if (rows.empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(rows[0].Text(0));
}

Result<bool> WebhookRepository::Claim(storage::Database& db, std::string_view event_id, int64_t now,
                                      int64_t until) {
  KINO_ASSIGN_OR_RETURN(
      int64_t n, db.Exec("UPDATE webhook_events SET next_attempt = $2, attempts = attempts + 1 "
                         "WHERE id = $1 AND state = 'pending' AND next_attempt <= $3",
                         {Text(event_id), Int(until), Int(now)}));
  return n > 0;
}

Status WebhookRepository::Release(storage::Database& db, std::string_view event_id, int64_t at) {
  return db
      .Exec(
          "UPDATE webhook_events SET next_attempt = $2, attempts = attempts - 1 "
          "WHERE id = $1 AND state = 'pending'",
          {Text(event_id), Int(at)})
      .status();
}

Status WebhookRepository::MarkDelivered(storage::Database& tx, std::string_view event_id,
                                        int64_t now, int http_status) {
  return tx
      .Exec(
          "UPDATE webhook_events SET state = 'delivered', delivered = $2, last_status = $3, "
          "last_error = '' WHERE id = $1",
          {Text(event_id), Int(now), Int(http_status)})
      .status();
}

Status WebhookRepository::ScheduleRetry(storage::Database& tx, std::string_view event_id,
                                        int64_t next_attempt, std::optional<int> http_status,
                                        std::string_view error) {
  return tx
      .Exec(
          "UPDATE webhook_events SET next_attempt = $2, last_status = $3, last_error = $4 "
          "WHERE id = $1 AND state = 'pending'",
          {Text(event_id), Int(next_attempt), OptStatus(http_status), Text(ClipError(error))})
      .status();
}

Status WebhookRepository::Finish(storage::Database& tx, std::string_view event_id, EventState state,
                                 std::optional<int> http_status, std::string_view error) {
  return tx
      .Exec(
          "UPDATE webhook_events SET state = $2, last_status = $3, last_error = $4 "
          "WHERE id = $1 AND state = 'pending'",
          {Text(event_id), Text(EventStateName(state)), OptStatus(http_status),
           Text(ClipError(error))})
      .status();
}

Result<int64_t> WebhookRepository::DeleteEndedBefore(storage::Database& db, int64_t cutoff) {
  int64_t deleted = 0;
  KINO_RETURN_IF_ERROR(db.Transact([&](storage::Database& tx) -> Status {
    KINO_RETURN_IF_ERROR(
        tx.Exec("DELETE FROM webhook_attempts WHERE event_id IN (SELECT id FROM webhook_events "
                "WHERE state <> 'pending' AND created < $1)",
                {Int(cutoff)})
            .status());
    KINO_ASSIGN_OR_RETURN(
        deleted, tx.Exec("DELETE FROM webhook_events WHERE state <> 'pending' AND created < $1",
                         {Int(cutoff)}));
    return Status::Ok();
  }));
  return deleted;
}

Status WebhookRepository::AddAttempt(storage::Database& tx, std::string_view account_id,
                                     const WebhookAttempt& attempt) {
  KINO_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO webhook_attempts (event_id, account_id, attempted, http_status, "
              "latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)",
              {Text(attempt.event_id), Text(account_id), Int(attempt.attempted),
               OptStatus(attempt.http_status), Int(attempt.latency_ms),
               Text(ClipError(attempt.error))})
          .status());
  return tx
      .Exec(
          "DELETE FROM webhook_attempts WHERE account_id = $1 AND attempted < (SELECT attempted "
          "FROM webhook_attempts WHERE account_id = $1 ORDER BY attempted DESC LIMIT 1 "
          "OFFSET $2)",
          {Text(account_id), Int(kAttemptsKept - 1)})
      .status();
}

Result<std::vector<WebhookAttempt>> WebhookRepository::ListAttempts(storage::Database& db,
                                                                    std::string_view account_id,
                                                                    int limit) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query("SELECT a.event_id, COALESCE(e.kind, ''), a.attempted, a.http_status, "
               "a.latency_ms, a.error, COALESCE(e.video_uid, ''), COALESCE(e.state, '') "
               "FROM webhook_attempts a LEFT JOIN webhook_events e "
               "ON e.id = a.event_id WHERE a.account_id = $1 "
               "ORDER BY a.attempted DESC LIMIT $2",
               {Text(account_id), Int(limit)}));
  std::vector<WebhookAttempt> out;
  for (const auto& row : rows) {
    WebhookAttempt a;
    a.event_id = row.Text(0);
    a.kind = row.Text(1);
    a.attempted = row.Int(2);
    if (auto status = row.OptInt(3)) {
      a.http_status = static_cast<int>(*status);
    }
    a.latency_ms = row.Int(4);
    a.error = row.Text(5);
    a.video_uid = row.Text(6);
    a.event_state = ParseEventState(row.Text(7));
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace kino::domain

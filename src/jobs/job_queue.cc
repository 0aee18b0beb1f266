#include "jobs/job_queue.h"

#include <algorithm>

#include "common/random.h"
#include "common/time_util.h"

namespace kino::jobs {
namespace {

using storage::Int;
using storage::Text;

constexpr int64_t kMaxBackoffMicros = 300LL * 1000000;

}  // namespace

JobQueue::JobQueue(storage::Database* db, int64_t lease_micros, int64_t retry_unit_micros)
    : db_(db), lease_micros_(lease_micros), retry_unit_micros_(retry_unit_micros) {}

Result<std::string> JobQueue::Enqueue(storage::Database& tx, std::string_view kind,
                                      std::string_view video_uid, const nlohmann::json& payload,
                                      const EnqueueOptions& options) {
  std::string id = NewId();
  int64_t now = NowMicros();
  KINO_RETURN_IF_ERROR(
      tx.Exec("INSERT INTO jobs (id, kind, video_uid, payload, state, attempts, max_attempts, "
              "run_at, created, updated) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7)",
              {Text(id), Text(kind), Text(video_uid), Text(payload.dump()),
               Int(options.max_attempts), Int(now + options.delay_micros), Int(now)})
          .status());
  return id;
}

Status JobQueue::CancelForVideo(storage::Database& tx, std::string_view video_uid) {
  return tx
      .Exec(
          "UPDATE jobs SET state = 'cancelled', lease_owner = NULL, updated = $2 "
          "WHERE video_uid = $1 AND state IN ('queued', 'running')",
          {Text(video_uid), Int(NowMicros())})
      .status();
}

Result<std::optional<Job>> JobQueue::Lease(std::string_view owner,
                                           const std::vector<std::string>& kinds) {
  if (kinds.empty()) {
    return std::optional<Job>();
  }
  int64_t now = NowMicros();
  std::vector<storage::Value> params = {Text(owner), Int(now + lease_micros_), Int(now)};
  std::string in;
  for (const auto& k : kinds) {
    params.push_back(Text(k));
    in += (in.empty() ? "$" : ", $") + std::to_string(params.size());
  }
  // A running job whose lease expired belongs to a dead worker: it is due again. On PostgreSQL
  // the chosen row is locked and rows another worker is leasing are skipped, so that two workers
  // never pick the same job and neither waits for the other (SQLite has one writer anyway).
  std::string sql =
      "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires = $2, "
      "attempts = attempts + 1, updated = $3 WHERE id = (SELECT id FROM jobs WHERE kind IN (" +
      in +
      ") AND ((state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_expires < $3)) "
      "ORDER BY run_at LIMIT 1" +
      (db_->Dialect() == "postgres" ? " FOR UPDATE SKIP LOCKED" : "") +
      ") RETURNING id, kind, video_uid, payload, attempts, max_attempts";
  KINO_ASSIGN_OR_RETURN(storage::Rows rows, db_->Query(sql, params));
  if (rows.empty()) {
    return std::optional<Job>();
  }
  Job job;
  job.id = rows[0].Text(0);
  job.kind = rows[0].Text(1);
  job.video_uid = rows[0].Text(2);
  job.payload = nlohmann::json::parse(rows[0].Text(3), nullptr, false);
  if (job.payload.is_discarded()) {
    job.payload = nlohmann::json::object();
  }
  job.attempts = static_cast<int>(rows[0].Int(4));
  job.max_attempts = static_cast<int>(rows[0].Int(5));
  job.lease_owner = std::string(owner);
  return std::optional<Job>(std::move(job));
}

Status JobQueue::Heartbeat(const Job& job) {
  int64_t now = NowMicros();
  KINO_ASSIGN_OR_RETURN(
      int64_t changed,
      db_->Exec("UPDATE jobs SET lease_expires = $3, updated = $4 "
                "WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
                {Text(job.id), Text(job.lease_owner), Int(now + lease_micros_), Int(now)}));
  if (changed == 0) {
    return FailedPrecondition("job " + job.id + " is no longer leased by this worker");
  }
  return Status::Ok();
}

Status JobQueue::Complete(const Job& job) {
  return db_
      ->Exec(
          "UPDATE jobs SET state = 'done', lease_owner = NULL, updated = $3 "
          "WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
          {Text(job.id), Text(job.lease_owner), Int(NowMicros())})
      .status();
}

Status JobQueue::Defer(const Job& job, int64_t delay_micros) {
  int64_t now = NowMicros();
  return db_
      ->Exec(
          "UPDATE jobs SET state = 'queued', lease_owner = NULL, attempts = attempts - 1, "
          "run_at = $3, updated = $4 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
          {Text(job.id), Text(job.lease_owner), Int(now + delay_micros), Int(now)})
      .status();
}

Result<bool> JobQueue::Fail(const Job& job, std::string_view error) {
  int64_t now = NowMicros();
  bool retry = job.attempts < job.max_attempts;
  KINO_ASSIGN_OR_RETURN(
      int64_t changed,
      db_->Exec("UPDATE jobs SET state = $3, lease_owner = NULL, last_error = $4, run_at = $5, "
                "updated = $6 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
                {Text(job.id), Text(job.lease_owner), Text(retry ? "queued" : "failed"),
                 Text(error.substr(0, 2000)),
                 Int(now + BackoffMicros(job.attempts, retry_unit_micros_)), Int(now)}));
  if (changed == 0) {
    return FailedPrecondition("job " + job.id + " is no longer leased by this worker");
  }
  return retry;
}

Status JobQueue::ReleaseAll(std::string_view owner) {
  return db_
      ->Exec(
          "UPDATE jobs SET state = 'queued', lease_owner = NULL, attempts = attempts - 1, "
          "run_at = $2, updated = $2 WHERE lease_owner = $1 AND state = 'running'",
          {Text(owner), Int(NowMicros())})
      .status();
}

Status JobQueue::RecoverNode(std::string_view node_prefix) {
  // The attempt stays counted: a job that kills its process every time must still run out.
  return db_
      ->Exec(
          "UPDATE jobs SET state = 'queued', lease_owner = NULL, run_at = $2, updated = $2 "
          "WHERE state = 'running' AND substr(lease_owner, 1, length($1)) = $1",
          {Text(node_prefix), Int(NowMicros())})
      .status();
}

Result<int64_t> JobQueue::CountInState(std::string_view state) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db_->Query("SELECT COUNT(*) FROM jobs WHERE state = $1", {Text(state)}));
  return rows[0].Int(0);
}

int64_t JobQueue::BackoffMicros(int failures, int64_t unit_micros) {
  int shift = std::clamp(failures, 0, 20);
  int64_t base =
      std::min<int64_t>((1LL << shift) * std::max<int64_t>(unit_micros, 1), kMaxBackoffMicros);
  uint32_t r = 0;
  RandomBytes(&r, sizeof(r));
  // Full jitter over the upper half: spreads retries without making them much earlier.
  return base / 2 + static_cast<int64_t>(r % static_cast<uint32_t>(base / 2 + 1));
}

}  // namespace kino::jobs

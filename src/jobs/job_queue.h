// A durable job queue in the metadata database.
//
// A job is a row: enqueue it in the same transaction as the state change that needs it, so the
// two happen together or not at all. Workers lease a job for a while and keep the lease alive
// with heartbeats; a job whose worker died (its lease expired) is leased again by another.
// A failed attempt is retried with exponential backoff until max_attempts, then the job is
// failed for good and its handler's OnGiveUp runs.
//
// Leasing is one UPDATE ... RETURNING, which both SQLite (one writer) and PostgreSQL (the row is
// chosen FOR UPDATE SKIP LOCKED) make atomic: two workers, on one node or many, never hold the
// same job, and on PostgreSQL they do not wait for each other.
//
// Thread-safety: all methods may be called from any thread.
#ifndef KINO_JOBS_JOB_QUEUE_H_
#define KINO_JOBS_JOB_QUEUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "storage/database.h"

namespace kino::jobs {

// Job kinds.
inline constexpr std::string_view kProcessVideo = "process_video";
inline constexpr std::string_view kMakeDownload = "make_download";
inline constexpr std::string_view kFetchVideo = "fetch_video";
inline constexpr std::string_view kDeliverWebhook = "deliver_webhook";
inline constexpr std::string_view kDeleteVideoFiles = "delete_video_files";

struct Job {
  std::string id;
  std::string kind;
  std::string video_uid;
  nlohmann::json payload;
  int attempts = 0;  // including the current one
  int max_attempts = 0;
  std::string lease_owner;
};

struct EnqueueOptions {
  int max_attempts = 5;
  int64_t delay_micros = 0;
};

class JobQueue {
 public:
  // `retry_unit_micros` scales the backoff between attempts (BackoffMicros).
  JobQueue(storage::Database* db, int64_t lease_micros, int64_t retry_unit_micros = 1'000'000);

  // Adds a job using `tx` (pass the transaction that makes the state change). Returns its id.
  static Result<std::string> Enqueue(storage::Database& tx, std::string_view kind,
                                     std::string_view video_uid, const nlohmann::json& payload,
                                     const EnqueueOptions& options = {});

  // Cancels every queued or running job of a video (its worker sees it at the next heartbeat).
  static Status CancelForVideo(storage::Database& tx, std::string_view video_uid);

  // Leases the oldest due job of one of `kinds`, or returns nullopt when none is due.
  Result<std::optional<Job>> Lease(std::string_view owner, const std::vector<std::string>& kinds);

  // Extends the lease. FailedPrecondition when the job is no longer this owner's (cancelled,
  // or the lease was lost and taken by another worker): the worker must stop.
  Status Heartbeat(const Job& job);

  Status Complete(const Job& job);
  // Runs the job again after `delay` without counting an attempt (waiting on another job).
  Status Defer(const Job& job, int64_t delay_micros);
  // Records a failed attempt. Returns true when the job will be retried, false when it has
  // used its attempts and is failed for good. FailedPrecondition when the job is no longer
  // this owner's (cancelled, or taken by another worker): nothing is recorded, and the
  // attempt is neither retried nor given up on by this worker.
  Result<bool> Fail(const Job& job, std::string_view error);

  // Returns leases held by `owner` to the queue (graceful shutdown).
  Status ReleaseAll(std::string_view owner);

  // At start-up: returns to the queue the jobs still leased by earlier processes of this node
  // (owner ids starting with `node_prefix`), which can only have died, so that work cut short
  // by a crash resumes at once instead of after the lease expires.
  Status RecoverNode(std::string_view node_prefix);

  // Counts by state for metrics and tests.
  Result<int64_t> CountInState(std::string_view state);

  // Backoff before attempt n+1 after n failures: 2^n units (a second by default) with jitter
  // over the upper half, at most 5 minutes.
  static int64_t BackoffMicros(int failures, int64_t unit_micros = 1'000'000);

 private:
  storage::Database* db_;
  int64_t lease_micros_;
  int64_t retry_unit_micros_;
};

}  // namespace kino::jobs

#endif  // KINO_JOBS_JOB_QUEUE_H_

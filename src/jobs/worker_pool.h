// Workers: threads that lease jobs from the JobQueue and run their handlers.
//
// Jobs are grouped into lanes, each with its own threads, so that a long encode never holds up
// a download or a webhook: e.g. lane "encode" {process_video} x1, lane "io" {make_download,
// fetch_video, ...} x2. While a job runs, a heartbeat thread renews its lease; if the lease is
// lost (the job was cancelled, or another worker took it after a stall) the job's context
// reports Cancelled() and the handler must stop soon.
//
// Thread-safety: Register() before Start(); everything else from any thread.
#ifndef KINO_JOBS_WORKER_POOL_H_
#define KINO_JOBS_WORKER_POOL_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job_queue.h"

namespace kino::jobs {

class JobContext {
 public:
  explicit JobContext(const Job& job) : job_(job) {}
  const Job& job() const { return job_; }
  // True once the job was cancelled, its lease lost, or the pool is stopping.
  bool Cancelled() const { return cancelled_.load(); }
  void Cancel() { cancelled_.store(true); }

 private:
  const Job& job_;
  std::atomic<bool> cancelled_{false};
};

enum class JobOutcome {
  kDone,   // finished
  kDefer,  // waiting on something else: run again shortly without counting an attempt
};

class JobHandler {
 public:
  virtual ~JobHandler() = default;
  // A non-OK Status is a failed attempt: retried with backoff, unless its code is
  // kInvalidArgument or kDataLoss (retrying cannot help) or attempts are used up.
  virtual Result<JobOutcome> Run(JobContext& ctx) = 0;
  // Called once when the job is failed for good.
  virtual void OnGiveUp(const Job& job, const Status& last_error) {
    (void)job;
    (void)last_error;
  }
};

struct Lane {
  std::string name;
  std::vector<std::string> kinds;
  int threads = 1;
};

class WorkerPool {
 public:
  WorkerPool(JobQueue* queue, std::string owner_id, std::vector<Lane> lanes,
             int64_t heartbeat_micros);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Register(std::string kind, std::shared_ptr<JobHandler> handler);
  void Start();
  // Wakes idle workers: call after committing a transaction that enqueued a job.
  void Wake();
  // Stops leasing, cancels running jobs, waits for the threads, and returns their leases to
  // the queue so that the next start (or another node) takes them at once.
  void Stop();

 private:
  struct Running {
    Job job;
    JobContext* ctx;
  };

  void WorkerLoop(const Lane& lane, int index);
  void RunOne(Job job);
  // Records a failed attempt and gives up on the job when it is out of attempts. Returns the
  // outcome's name: "retry", "failed", or "cancelled" when the job is no longer this pool's.
  std::string RecordFailure(const Job& job, const Status& status, JobHandler* handler);
  void HeartbeatLoop();
  bool WaitForWork(std::chrono::milliseconds timeout);

  JobQueue* queue_;
  std::string owner_id_;
  std::vector<Lane> lanes_;
  int64_t heartbeat_micros_;
  std::map<std::string, std::shared_ptr<JobHandler>> handlers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wake_generation_ = 0;
  std::map<std::string, Running> running_;  // by job id; guarded by mu_
};

}  // namespace kino::jobs

#endif  // KINO_JOBS_WORKER_POOL_H_

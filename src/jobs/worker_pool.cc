#include "jobs/worker_pool.h"

#include "common/log.h"
#include "common/metrics.h"

namespace kino::jobs {
namespace {

constexpr auto kIdlePoll = std::chrono::milliseconds(500);
constexpr auto kErrorPause = std::chrono::milliseconds(1000);
constexpr int64_t kDeferMicros = 1000000;

metrics::Counter& JobsCounter() {
  static metrics::Counter& c =
      metrics::GetCounter("kino_jobs_total", "Job attempts by kind and outcome.");
  return c;
}

bool Permanent(const Status& s) {
  return s.code() == StatusCode::kInvalidArgument || s.code() == StatusCode::kDataLoss;
}

// The catch-all at a job's entry: a surprise exception from a library that throws becomes a
// failed attempt (retried like any other) with a log line and a counter.
Result<JobOutcome> RunGuarded(JobHandler& handler, JobContext& ctx) {
  static metrics::Counter& internal = metrics::GetCounter(
      "kino_internal_errors_total", "Surprise exceptions caught at a thread or coroutine entry.");
  try {
    return handler.Run(ctx);
  } catch (const std::exception& e) {
    internal.Increment({{"where", "job"}});
    log::Error("job_exception", log::RedactSecrets(e.what()), {{"job_id", ctx.job().id}});
    return Internal(std::string("job handler threw: ") + e.what());
  } catch (...) {
    internal.Increment({{"where", "job"}});
    log::Error("job_exception", "unknown exception", {{"job_id", ctx.job().id}});
    return Internal("job handler threw an unknown exception");
  }
}

}  // namespace

WorkerPool::WorkerPool(JobQueue* queue, std::string owner_id, std::vector<Lane> lanes,
                       int64_t heartbeat_micros)
    : queue_(queue),
      owner_id_(std::move(owner_id)),
      lanes_(std::move(lanes)),
      heartbeat_micros_(heartbeat_micros) {}

WorkerPool::~WorkerPool() {
  Stop();
}

void WorkerPool::Register(std::string kind, std::shared_ptr<JobHandler> handler) {
  handlers_[std::move(kind)] = std::move(handler);
}

void WorkerPool::Start() {
  for (const Lane& lane : lanes_) {
    for (int i = 0; i < lane.threads; ++i) {
      threads_.emplace_back([this, &lane, i] { WorkerLoop(lane, i); });
    }
  }
  threads_.emplace_back([this] { HeartbeatLoop(); });
}

void WorkerPool::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++wake_generation_;
  }
  cv_.notify_all();
}

void WorkerPool::Stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, running] : running_) {
      running.ctx->Cancel();
    }
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) {
      t.join();
    }
  }
  threads_.clear();
  Status s = queue_->ReleaseAll(owner_id_);
  if (!s.ok()) {
    log::Warn("jobs_release_failed", s.ToString());
  }
}

bool WorkerPool::WaitForWork(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t seen = wake_generation_;
  cv_.wait_for(lock, timeout, [&] { return stopping_.load() || wake_generation_ != seen; });
  return !stopping_.load();
}

void WorkerPool::WorkerLoop(const Lane& lane, int index) {
  std::string owner = owner_id_;
  (void)index;
  while (!stopping_.load()) {
    auto leased = queue_->Lease(owner, lane.kinds);
    if (!leased.ok()) {
      log::Warn("job_lease_failed", leased.status().ToString(), {{"lane", lane.name}});
      std::this_thread::sleep_for(kErrorPause);
      continue;
    }
    if (!leased->has_value()) {
      WaitForWork(kIdlePoll);
      continue;
    }
    RunOne(std::move(**leased));
  }
}

void WorkerPool::RunOne(Job job) {
  JobContext ctx(job);
  auto it = handlers_.find(job.kind);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_[job.id] = Running{job, &ctx};
  }
  log::Info("job_started", "job started",
            {{"job_id", job.id}, {"kind", job.kind}, {"video_uid", job.video_uid}});
  Result<JobOutcome> outcome = it == handlers_.end()
                                   ? Result<JobOutcome>(Internal("no handler for " + job.kind))
                                   : RunGuarded(*it->second, ctx);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.erase(job.id);
  }
  std::string outcome_name;
  if (outcome.ok() && *outcome == JobOutcome::kDone) {
    Status s = queue_->Complete(job);
    outcome_name = "done";
    if (!s.ok()) {
      log::Warn("job_complete_failed", s.ToString(), {{"job_id", job.id}});
    }
  } else if (outcome.ok()) {
    queue_->Defer(job, kDeferMicros).IgnoreError();
    outcome_name = "deferred";
  } else if (stopping_.load() && outcome.status().code() == StatusCode::kCancelled) {
    outcome_name = "interrupted";  // ReleaseAll() hands it back on the way out.
  } else {
    outcome_name =
        RecordFailure(job, outcome.status(), it == handlers_.end() ? nullptr : it->second.get());
  }
  JobsCounter().Increment({{"kind", job.kind}, {"outcome", outcome_name}});
  if (outcome_name == "done") {
    log::Info("job_done", "job finished",
              {{"job_id", job.id}, {"kind", job.kind}, {"video_uid", job.video_uid}});
  }
}

std::string WorkerPool::RecordFailure(const Job& job, const Status& status, JobHandler* handler) {
  Job final_try = job;
  if (Permanent(status)) {
    final_try.max_attempts = final_try.attempts;
  }
  auto retried = queue_->Fail(final_try, status.ToString());
  if (retried.status().code() == StatusCode::kFailedPrecondition) {
    // Cancelled (its video was deleted) or taken over after a stall: the attempt's error is
    // a consequence, not this worker's to retry or to give up on.
    log::Info("job_cancelled", status.ToString(),
              {{"job_id", job.id}, {"kind", job.kind}, {"video_uid", job.video_uid}});
    return "cancelled";
  }
  bool will_retry = retried.ok() && *retried;
  log::Warn(will_retry ? "job_retry" : "job_failed", status.ToString(),
            {{"job_id", job.id}, {"kind", job.kind}, {"video_uid", job.video_uid}});
  if (!will_retry && handler != nullptr && status.code() != StatusCode::kCancelled) {
    handler->OnGiveUp(job, status);
  }
  return will_retry ? "retry" : "failed";
}

void WorkerPool::HeartbeatLoop() {
  auto interval = std::chrono::microseconds(heartbeat_micros_);
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, interval, [&] { return stopping_.load(); });
      if (stopping_.load()) {
        return;
      }
    }
    std::vector<std::pair<Job, JobContext*>> snapshot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [id, r] : running_) {
        snapshot.emplace_back(r.job, r.ctx);
      }
    }
    for (auto& [job, ctx] : snapshot) {
      Status s = queue_->Heartbeat(job);
      if (s.code() == StatusCode::kFailedPrecondition) {
        std::lock_guard<std::mutex> lock(mu_);
        if (running_.count(job.id) != 0) {
          ctx->Cancel();  // Cancelled or taken over: stop working on it.
        }
      }
    }
  }
}

}  // namespace kino::jobs

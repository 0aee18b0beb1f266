#include "jobs/job_queue.h"

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "jobs/worker_pool.h"
#include "storage/test_database.h"
#include "tests/support/temp_dir.h"

namespace kino::jobs {
namespace {

class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::OpenTestDatabase(dir_.path());
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
  }

  std::string Enqueue(std::string_view kind, int max_attempts = 3) {
    auto id = JobQueue::Enqueue(*db_, kind, "video1", {{"k", 1}}, {max_attempts, 0});
    EXPECT_TRUE(id.ok());
    return id.ok() ? *id : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
};

TEST_F(JobQueueTest, TwoWorkersNeverLeaseTheSameJob) {
  JobQueue q(db_.get(), 60'000'000);
  Enqueue(kProcessVideo);
  auto a = q.Lease("a", {std::string(kProcessVideo)});
  auto b = q.Lease("b", {std::string(kProcessVideo)});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(a->has_value());
  EXPECT_FALSE(b->has_value());
  EXPECT_EQ((*a)->payload["k"], 1);
}

TEST_F(JobQueueTest, ExpiredLeaseIsTakenByAnotherWorker) {
  JobQueue q(db_.get(), 1);  // leases expire at once: the first worker "died"
  Enqueue(kProcessVideo);
  auto a = q.Lease("a", {std::string(kProcessVideo)});
  ASSERT_TRUE(a.ok() && a->has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  auto b = q.Lease("b", {std::string(kProcessVideo)});
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->attempts, 2);
  // The dead worker can neither heartbeat nor complete it any more.
  EXPECT_EQ(q.Heartbeat(**a).code(), StatusCode::kFailedPrecondition);
}

TEST_F(JobQueueTest, FailureRetriesUntilMaxAttempts) {
  JobQueue q(db_.get(), 60'000'000);
  Enqueue(kMakeDownload, 2);
  auto first = q.Lease("w", {std::string(kMakeDownload)});
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_TRUE(*q.Fail(**first, "boom"));
  // Backoff keeps it from being due at once.
  EXPECT_FALSE(q.Lease("w", {std::string(kMakeDownload)})->has_value());
  ASSERT_TRUE(db_->Exec("UPDATE jobs SET run_at = 0").ok());
  auto second = q.Lease("w", {std::string(kMakeDownload)});
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_FALSE(*q.Fail(**second, "boom again"));
  EXPECT_EQ(*q.CountInState("failed"), 1);
}

TEST_F(JobQueueTest, CancelForVideoStopsQueuedAndRunningJobs) {
  JobQueue q(db_.get(), 60'000'000);
  Enqueue(kProcessVideo);
  Enqueue(kMakeDownload);
  auto running = q.Lease("w", {std::string(kProcessVideo)});
  ASSERT_TRUE(running.ok() && running->has_value());
  ASSERT_TRUE(JobQueue::CancelForVideo(*db_, "video1").ok());
  EXPECT_EQ(*q.CountInState("cancelled"), 2);
  EXPECT_EQ(q.Heartbeat(**running).code(), StatusCode::kFailedPrecondition);
  // Its worker's failing attempt (the files went away) is neither retried nor failed.
  EXPECT_EQ(q.Fail(**running, "writing failed").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(*q.CountInState("cancelled"), 2);
}

TEST_F(JobQueueTest, ReleaseAllRequeuesWithoutCountingAnAttempt) {
  JobQueue q(db_.get(), 60'000'000);
  Enqueue(kProcessVideo);
  ASSERT_TRUE(q.Lease("w", {std::string(kProcessVideo)})->has_value());
  ASSERT_TRUE(q.ReleaseAll("w").ok());
  auto again = q.Lease("v", {std::string(kProcessVideo)});
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->attempts, 1);
}

// Several nodes (each its own database handle) with two workers each lease until every job is
// done; no job may be leased twice. On PostgreSQL a worker may find every due row locked by the
// others, so an empty lease does not end a worker: the count of leased jobs does.
TEST_F(JobQueueTest, WorkersOnSeveralNodesNeverLeaseAJobTwice) {
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) {
    Enqueue(kMakeDownload);
  }
  std::vector<std::unique_ptr<storage::Database>> nodes;
  for (int n = 0; n < 3; ++n) {
    auto db = storage::OpenAnotherHandle(*db_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    nodes.push_back(std::move(db).value());
  }
  std::mutex mu;
  std::map<std::string, int> leases;
  std::atomic<int> leased{0};
  auto work = [&](storage::Database* node, std::string owner) {
    JobQueue q(node, 60'000'000);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (leased.load() < kJobs && std::chrono::steady_clock::now() < deadline) {
      auto job = q.Lease(owner, {std::string(kMakeDownload)});
      ASSERT_TRUE(job.ok()) << job.status().ToString();
      if (!job->has_value()) {
        std::this_thread::yield();
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        ++leases[(*job)->id];
      }
      ++leased;
      ASSERT_TRUE(q.Complete(**job).ok());
    }
  };
  std::vector<std::thread> workers;
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (int w = 0; w < 2; ++w) {
      workers.emplace_back(work, nodes[n].get(),
                           "node" + std::to_string(n) + ":" + std::to_string(w));
    }
  }
  for (auto& t : workers) {
    t.join();
  }
  EXPECT_EQ(leases.size(), static_cast<size_t>(kJobs));
  for (const auto& [id, times] : leases) {
    EXPECT_EQ(times, 1) << "job " << id;
  }
  EXPECT_EQ(*JobQueue(db_.get(), 1).CountInState("done"), kJobs);
}

// A worker whose lease is not yet committed holds the row; another node's worker must take the
// next job at once instead of waiting for it (and then taking the same one).
TEST_F(JobQueueTest, LeaseSkipsAJobAnotherWorkerIsLeasing) {
  if (db_->Dialect() != "postgres") {
    GTEST_SKIP() << "SQLite has one writer: a second lease waits for the first";
  }
  Enqueue(kProcessVideo);
  Enqueue(kProcessVideo);
  auto other = storage::OpenAnotherHandle(*db_);
  ASSERT_TRUE(other.ok());
  std::promise<std::string> first_leased;
  std::promise<void> finish_first;
  std::thread first([&] {
    Status s = db_->Transact([&](storage::Database& tx) -> Status {
      JobQueue q(&tx, 60'000'000);
      KINO_ASSIGN_OR_RETURN(auto job, q.Lease("a", {std::string(kProcessVideo)}));
      first_leased.set_value(job ? job->id : "");
      finish_first.get_future().wait();
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  std::string first_id = first_leased.get_future().get();
  ASSERT_FALSE(first_id.empty());
  JobQueue q(other->get(), 60'000'000);
  auto second =
      std::async(std::launch::async, [&] { return q.Lease("b", {std::string(kProcessVideo)}); });
  bool answered = second.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  finish_first.set_value();
  first.join();
  ASSERT_TRUE(answered) << "the second lease waited for the first";
  auto job = second.get();
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_NE((*job)->id, first_id);
}

TEST(Backoff, GrowsAndIsCapped) {
  EXPECT_LE(JobQueue::BackoffMicros(0), 1'000'000);
  EXPECT_GE(JobQueue::BackoffMicros(3), 4'000'000);
  EXPECT_LE(JobQueue::BackoffMicros(30), 300'000'000);
}

class CountingHandler : public JobHandler {
 public:
  Result<JobOutcome> Run(JobContext& ctx) override {
    (void)ctx;
    if (++runs_ == 1) {
      return Unavailable("first attempt fails");
    }
    return JobOutcome::kDone;
  }
  std::atomic<int> runs_{0};
};

TEST_F(JobQueueTest, WorkerPoolRunsJobsAndRetriesFailures) {
  JobQueue q(db_.get(), 60'000'000);
  auto handler = std::make_shared<CountingHandler>();
  WorkerPool pool(&q, "node1", {{"io", {std::string(kMakeDownload)}, 1}}, 1'000'000);
  pool.Register(std::string(kMakeDownload), handler);
  pool.Start();
  Enqueue(kMakeDownload);
  pool.Wake();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (handler->runs_ < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(db_->Exec("UPDATE jobs SET run_at = 0 WHERE state = 'queued'").ok());
  pool.Wake();
  while (*q.CountInState("done") < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pool.Stop();
  EXPECT_EQ(*q.CountInState("done"), 1);
  EXPECT_EQ(handler->runs_, 2);
}

}  // namespace
}  // namespace kino::jobs

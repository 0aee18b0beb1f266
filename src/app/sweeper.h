// Sweeper: a background thread that, every `interval`, deletes the videos whose
// scheduledDeletion has passed and the uploads that expired before they were finished: tus
// uploads past their Upload-Expires (tus 1.0.0 expiration extension) and direct creator
// uploads past their expiry, both still in pendingupload. Each is deleted like an upload that
// is terminated: row, jobs, partial file and blobs at once. It also deletes ended webhook
// events older than their retention (domain::WebhookRepository::DeleteEndedBefore).
//
// Thread-safety: Start() and Stop() from one thread; SweepOnce() from any.
#ifndef KINO_APP_SWEEPER_H_
#define KINO_APP_SWEEPER_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/context.h"
#include "common/status.h"

namespace kino::app {

class Sweeper {
 public:
  Sweeper(api::ApiContext& ctx, std::chrono::milliseconds interval)
      : ctx_(ctx), interval_(interval) {}
  ~Sweeper() { Stop(); }
  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;

  void Start();
  // Wakes the thread and waits for it; a pass under way finishes its current video first.
  void Stop();

  // One pass. Returns how many videos it deleted.
  Result<int> SweepOnce();

 private:
  void Loop();

  api::ApiContext& ctx_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace kino::app

#endif  // KINO_APP_SWEEPER_H_

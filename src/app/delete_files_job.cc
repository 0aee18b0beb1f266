// delete_video_files: removes every blob of a video whose row is already gone, and the partial
// file of an unfinished tus upload or fetch. Runs as a job so that a crash between the row's
// deletion and the files' leaves the files to be removed later.
#include <filesystem>

#include "api/tus_handlers.h"
#include "app/job_handlers.h"
#include "domain/blob_keys.h"

namespace kino::app {
namespace {

class DeleteVideoFilesHandler : public jobs::JobHandler {
 public:
  explicit DeleteVideoFilesHandler(api::ApiContext& ctx) : ctx_(ctx) {}

  Result<jobs::JobOutcome> Run(jobs::JobContext& job) override {
    const std::string& uid = job.job().video_uid;
    for (const char* kind : {"tus", "fetch", "fetch-validator"}) {
      std::error_code ec;
      std::filesystem::remove(api::PartialPath(ctx_, kind, uid), ec);
    }
    KINO_RETURN_IF_ERROR(ctx_.blobs->DeletePrefix(domain::VideoPrefix(uid)));
    return jobs::JobOutcome::kDone;
  }

 private:
  api::ApiContext& ctx_;
};

}  // namespace

std::shared_ptr<jobs::JobHandler> MakeDeleteVideoFilesHandler(api::ApiContext& ctx) {
  return std::make_shared<DeleteVideoFilesHandler>(ctx);
}

}  // namespace kino::app

// The handlers of Kino's durable jobs, one factory per job kind. The app registers each with
// the WorkerPool; a factory that returns null registers nothing.
//
// Payloads (JSON, stored with the job):
//   process_video      {}                      encode the video's original into its package
//   make_download      {"type": "default"|"audio"}
//   fetch_video        {"url": "..."}         upload by link
//   deliver_webhook    {"event_id": "..."}
//   delete_video_files {}                      remove every blob of a deleted video
#ifndef KINO_APP_JOB_HANDLERS_H_
#define KINO_APP_JOB_HANDLERS_H_

#include <memory>

#include "api/context.h"
#include "jobs/worker_pool.h"
#include "media/transcode.h"

namespace kino::app {

std::shared_ptr<jobs::JobHandler> MakeProcessVideoHandler(api::ApiContext& ctx,
                                                          media::LadderOptions ladder);
std::shared_ptr<jobs::JobHandler> MakeDeleteVideoFilesHandler(api::ApiContext& ctx);
std::shared_ptr<jobs::JobHandler> MakeDownloadHandler(api::ApiContext& ctx);    // download_job.cc
std::shared_ptr<jobs::JobHandler> MakeFetchVideoHandler(api::ApiContext& ctx);  // fetch_job.cc
std::shared_ptr<jobs::JobHandler> MakeWebhookHandler(api::ApiContext& ctx);     // webhook_job.cc

}  // namespace kino::app

#endif  // KINO_APP_JOB_HANDLERS_H_

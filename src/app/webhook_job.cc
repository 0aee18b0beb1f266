#include "app/job_handlers.h"

namespace kino::app {

std::shared_ptr<jobs::JobHandler> MakeWebhookHandler(api::ApiContext& ctx) {
  (void)ctx;
  return nullptr;
}

}  // namespace kino::app

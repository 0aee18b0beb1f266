#include "api/webhook_events.h"

namespace kino::api {

Status EnqueueVideoEvent(storage::Database& tx, const domain::Video& video,
                         std::string_view public_url) {
  (void)tx;
  (void)video;
  (void)public_url;
  return Status::Ok();
}

Status EnqueueDownloadEvent(storage::Database& tx, const domain::Video& video,
                            const domain::Download& download, std::string_view public_url) {
  (void)tx;
  (void)video;
  (void)download;
  (void)public_url;
  return Status::Ok();
}

}  // namespace kino::api

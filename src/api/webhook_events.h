// The webhook outbox: events are written in the same transaction as the state change that
// causes them, and a deliver_webhook job sends them (at least once, in order per video).
#ifndef KINO_API_WEBHOOK_EVENTS_H_
#define KINO_API_WEBHOOK_EVENTS_H_

#include <string_view>

#include "common/status.h"
#include "domain/download.h"
#include "domain/video.h"
#include "storage/database.h"

namespace kino::api {

// Records the notification for a video whose processing finished (state ready or error), if
// its account has a webhook subscription. Call inside the transaction that saves the state.
Status EnqueueVideoEvent(storage::Database& tx, const domain::Video& video,
                         std::string_view public_url);

// Records the notification for a download that became ready or error, if the account's
// subscription opted in to download events.
Status EnqueueDownloadEvent(storage::Database& tx, const domain::Video& video,
                            const domain::Download& download, std::string_view public_url);

}  // namespace kino::api

#endif  // KINO_API_WEBHOOK_EVENTS_H_

// What the API handlers share: the stores, the job workers, and the settings they need.
// Built once by the app at start-up; handlers hold a reference for the process's life.
#ifndef KINO_API_CONTEXT_H_
#define KINO_API_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/http_types.h"
#include "api/row_cache.h"
#include "common/status.h"
#include "storage/blob_store.h"
#include "storage/database.h"

namespace kino::api {

// How webhook events are delivered (docs/webhooks.md). A failed attempt is retried after
// retry_base_ms * 2^(failures-1), capped at max_backoff_seconds, with jitter over the upper
// half; an event is given up once its next try would be later than max_age_seconds after it
// was written.
struct WebhookPolicy {
  int64_t retry_base_ms = 10000;
  int64_t max_backoff_seconds = 3600;
  int64_t max_age_seconds = 86400;
  int64_t connect_timeout_ms = 5000;
  int64_t timeout_ms = 15000;  // a whole attempt, connect included
};

struct ApiSettings {
  std::string public_url;  // e.g. "http://127.0.0.1:8080", no trailing slash
  std::string data_dir;
  uint64_t max_basic_upload_bytes = 200ull * 1000 * 1000;
  uint64_t max_tus_upload_bytes = 30ull * 1000 * 1000 * 1000;
  // New uploads are refused (429, code 10016) while an account has this many videos
  // downloading, queued or in progress; 0: no limit.
  int max_queued_videos = 120;
  bool allow_private_urls = false;
  int64_t tus_expiry_seconds = 24 * 3600;
  // Upload by link: a fetch fails when the origin sends nothing for this long.
  int64_t fetch_stall_seconds = 30;
  // Signed URLs: the MaxMind database for ip.geoip.country rules ("" = none) and the proxies
  // whose X-Forwarded-For is believed (IPs or CIDRs).
  std::string geoip_db;
  std::vector<std::string> trusted_proxies;
  WebhookPolicy webhook;
};

struct ApiContext {
  storage::Database* db = nullptr;
  storage::BlobStore* blobs = nullptr;
  // Wakes the job workers after a transaction that enqueued a job has committed.
  std::function<void()> wake_workers;
  ApiSettings settings;
  // The delivery paths' copies of video and download rows.
  std::shared_ptr<RowCache> rows = std::make_shared<RowCache>();
};

// The account a request may act on: the path's account id, if the request's credentials
// (Authorization: Bearer <token>, or X-Auth-Email + X-Auth-Key) belong to it. Unauthenticated
// (401, code 10000) for missing or bad credentials; PermissionDenied (403, code 10000) for a
// token of another account.
Result<std::string> Authenticate(ApiContext& ctx, const Request& req,
                                 std::string_view path_account_id);

}  // namespace kino::api

#endif  // KINO_API_CONTEXT_H_

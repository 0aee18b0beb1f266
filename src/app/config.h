// Kino's settings: command-line flags, each with an environment twin, and their defaults.
// A flag wins over its environment variable, which wins over the default.
#ifndef KINO_APP_CONFIG_H_
#define KINO_APP_CONFIG_H_

#include <string>
#include <vector>

#include "common/status.h"

namespace kino::app {

struct Config {
  std::string listen = "127.0.0.1:8080";     // --listen, KINO_LISTEN
  std::string data_dir = "./data";           // --data, KINO_DATA_DIR
  std::string database_url;                  // --database-url, KINO_DATABASE_URL ("": SQLite)
  std::string node_id;                       // --node-id, KINO_NODE_ID ("": kept in data_dir)
  std::string public_url;                    // --public-url, KINO_PUBLIC_URL (default: from listen)
  int workers = 1;                           // --workers, KINO_WORKERS: encodes at once
  int http_threads = 2;                      // --http-threads, KINO_HTTP_THREADS
  std::string geoip_db;                      // --geoip-db, KINO_GEOIP_DB
  std::vector<std::string> trusted_proxies;  // --trusted-proxies, KINO_TRUSTED_PROXIES
  bool allow_private_urls = false;           // KINO_ALLOW_PRIVATE_URLS=1
  uint64_t max_upload_bytes = 200ull * 1000 * 1000;  // --max-upload-bytes, KINO_MAX_UPLOAD_BYTES
  int max_queued_videos = 120;                       // --max-queued-videos, KINO_MAX_QUEUED_VIDEOS
  int fetch_stall_seconds = 30;  // --fetch-stall-seconds, KINO_FETCH_STALL_SECONDS
  int job_retry_base_ms = 1000;  // --job-retry-base-ms, KINO_JOB_RETRY_BASE_MS
  int sweep_seconds = 60;        // --sweep-seconds, KINO_SWEEP_SECONDS
  std::vector<int> ladder = {1080, 720, 480, 360, 240};  // --ladder, KINO_LADDER ("720,360")
  std::string x264_preset = "veryfast";                  // --x264-preset, KINO_X264_PRESET
  std::string account_id;                                // KINO_ACCOUNT_ID (with KINO_API_TOKEN)
  std::string api_token;                                 // KINO_API_TOKEN

  // Webhook delivery (docs/webhooks.md); flags --webhook-retry-base-ms,
  // --webhook-max-backoff-seconds, --webhook-max-age-seconds, --webhook-timeout-ms, and their
  // environment twins KINO_WEBHOOK_RETRY_BASE_MS, ..._MAX_BACKOFF_SECONDS, ..._MAX_AGE_SECONDS,
  // ..._TIMEOUT_MS.
  int64_t webhook_retry_base_ms = 10000;
  int64_t webhook_max_backoff_seconds = 3600;
  int64_t webhook_max_age_seconds = 86400;
  int64_t webhook_timeout_ms = 15000;
};

// The usage text of `kino serve`.
std::string ServeUsage();

// Reads the environment, then `args` (the words after "serve"). InvalidArgument names the bad
// flag or value.
Result<Config> ParseServeConfig(const std::vector<std::string>& args);

// Checks a --database-url value: empty (SQLite in the data directory) or postgres://...
Status CheckDatabaseUrl(std::string_view url);

}  // namespace kino::app

#endif  // KINO_APP_CONFIG_H_

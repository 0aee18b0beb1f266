#include "app/config.h"

#include <cstdlib>
#include <functional>
#include <map>

#include "auth/access_rules.h"
#include "common/strings.h"

namespace kino::app {
namespace {

using Setter = std::function<Status(Config&, std::string_view)>;

struct Option {
  const char* flag;
  const char* env;
  const char* help;
  Setter set;
};

Status SetInt(int* out, std::string_view v, const char* name, int lo, int hi) {
  auto n = ParseInt64(v);
  if (!n || *n < lo || *n > hi) {
    return InvalidArgument(std::string(name) + " must be an integer from " + std::to_string(lo) +
                           " to " + std::to_string(hi));
  }
  *out = static_cast<int>(*n);
  return Status::Ok();
}

Status SetInt64(int64_t* out, std::string_view v, const char* name, int64_t lo, int64_t hi) {
  auto n = ParseInt64(v);
  if (!n || *n < lo || *n > hi) {
    return InvalidArgument(std::string(name) + " must be an integer from " + std::to_string(lo) +
                           " to " + std::to_string(hi));
  }
  *out = *n;
  return Status::Ok();
}

Status SetList(std::vector<std::string>* out, std::string_view v) {
  out->clear();
  for (std::string_view item : Split(v, ',')) {
    item = TrimWhitespace(item);
    if (!item.empty()) {
      out->emplace_back(item);
    }
  }
  return Status::Ok();
}

// A list of IPs and CIDRs; a typo here would silently distrust (or trust) a proxy.
Status SetProxies(std::vector<std::string>* out, std::string_view v) {
  KINO_RETURN_IF_ERROR(SetList(out, v));
  for (const std::string& item : *out) {
    if (!auth::ParseNetwork(item).ok()) {
      return InvalidArgument("--trusted-proxies: '" + item + "' is not an IP address or CIDR");
    }
  }
  return Status::Ok();
}

Status SetLadder(std::vector<int>* out, std::string_view v) {
  std::vector<int> heights;
  for (std::string_view item : Split(v, ',')) {
    auto n = ParseInt64(TrimWhitespace(item));
    if (!n || *n < 64 || *n > 4320 || *n % 2 != 0) {
      return InvalidArgument("--ladder must be even heights from 64 to 4320, e.g. 1080,720,360");
    }
    heights.push_back(static_cast<int>(*n));
  }
  if (heights.empty()) {
    return InvalidArgument("--ladder needs at least one height");
  }
  *out = std::move(heights);
  return Status::Ok();
}

const std::vector<Option>& Options() {
  static const std::vector<Option> kOptions = {
      {"--listen", "KINO_LISTEN",
       "HOST:PORT to serve on; port 0 picks a free port (127.0.0.1:8080)",
       [](Config& c, std::string_view v) {
         c.listen = std::string(v);
         return Status::Ok();
       }},
      {"--data", "KINO_DATA_DIR", "directory of the database and the files (./data)",
       [](Config& c, std::string_view v) {
         c.data_dir = std::string(v);
         return Status::Ok();
       }},
      {"--database-url", "KINO_DATABASE_URL",
       "postgres://USER:PASSWORD@HOST:PORT/DB shared by several nodes (SQLite in --data)",
       [](Config& c, std::string_view v) {
         KINO_RETURN_IF_ERROR(CheckDatabaseUrl(v));
         c.database_url = std::string(v);
         return Status::Ok();
       }},
      {"--node-id", "KINO_NODE_ID",
       "this node's name among nodes sharing a data directory (kept in DATA/node-id)",
       [](Config& c, std::string_view v) {
         bool ok =
             !v.empty() && v.size() <= 64 &&
             v.find_first_not_of(
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == v.npos;
         if (!ok) {
           return InvalidArgument("--node-id must be 1 to 64 letters, digits, '-' or '_'");
         }
         c.node_id = std::string(v);
         return Status::Ok();
       }},
      {"--public-url", "KINO_PUBLIC_URL", "base of every URL Kino returns (http://LISTEN-ADDRESS)",
       [](Config& c, std::string_view v) {
         std::string url(v);
         while (!url.empty() && url.back() == '/') {
           url.pop_back();
         }
         if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
           return InvalidArgument("--public-url must start with http:// or https://");
         }
         c.public_url = url;
         return Status::Ok();
       }},
      {"--workers", "KINO_WORKERS", "encode jobs run at once (1)",
       [](Config& c, std::string_view v) { return SetInt(&c.workers, v, "--workers", 0, 64); }},
      {"--http-threads", "KINO_HTTP_THREADS", "threads serving HTTP (2)",
       [](Config& c, std::string_view v) {
         return SetInt(&c.http_threads, v, "--http-threads", 1, 256);
       }},
      {"--geoip-db", "KINO_GEOIP_DB", "MaxMind .mmdb file for ip.geoip.country access rules",
       [](Config& c, std::string_view v) {
         c.geoip_db = std::string(v);
         return Status::Ok();
       }},
      {"--trusted-proxies", "KINO_TRUSTED_PROXIES",
       "comma-separated IPs/CIDRs whose X-Forwarded-For is believed",
       [](Config& c, std::string_view v) { return SetProxies(&c.trusted_proxies, v); }},
      {"--job-retry-base-ms", "KINO_JOB_RETRY_BASE_MS",
       "a failed job is tried again after 1-2, 2-4, 4-8 ... of these units, up to its "
       "attempts (1000)",
       [](Config& c, std::string_view v) {
         return SetInt(&c.job_retry_base_ms, v, "--job-retry-base-ms", 1, 600000);
       }},
      {"--max-queued-videos", "KINO_MAX_QUEUED_VIDEOS",
       "new uploads answer 429 while an account has this many videos downloading, queued or "
       "in progress; 0 for no limit (120)",
       [](Config& c, std::string_view v) {
         return SetInt(&c.max_queued_videos, v, "--max-queued-videos", 0, 1000000);
       }},
      {"--max-upload-bytes", "KINO_MAX_UPLOAD_BYTES", "largest basic upload (200000000)",
       [](Config& c, std::string_view v) {
         auto n = ParseUint64(v);
         if (!n || *n == 0) {
           return InvalidArgument("--max-upload-bytes must be a positive integer");
         }
         c.max_upload_bytes = *n;
         return Status::Ok();
       }},
      {"--fetch-stall-seconds", "KINO_FETCH_STALL_SECONDS",
       "upload by link fails after this long without data from the origin (30)",
       [](Config& c, std::string_view v) {
         return SetInt(&c.fetch_stall_seconds, v, "--fetch-stall-seconds", 1, 3600);
       }},
      {"--sweep-seconds", "KINO_SWEEP_SECONDS",
       "how often expired uploads and scheduled deletions are removed (60)",
       [](Config& c, std::string_view v) {
         return SetInt(&c.sweep_seconds, v, "--sweep-seconds", 1, 86400);
       }},
      {"--ladder", "KINO_LADDER", "rendition heights (1080,720,480,360,240)",
       [](Config& c, std::string_view v) { return SetLadder(&c.ladder, v); }},
      {"--webhook-retry-base-ms", "KINO_WEBHOOK_RETRY_BASE_MS",
       "first retry delay of a webhook event, doubled per failure (10000)",
       [](Config& c, std::string_view v) {
         return SetInt64(&c.webhook_retry_base_ms, v, "--webhook-retry-base-ms", 1, 86400000);
       }},
      {"--webhook-max-backoff-seconds", "KINO_WEBHOOK_MAX_BACKOFF_SECONDS",
       "longest delay between two attempts of a webhook event (3600)",
       [](Config& c, std::string_view v) {
         return SetInt64(&c.webhook_max_backoff_seconds, v, "--webhook-max-backoff-seconds", 1,
                         86400);
       }},
      {"--webhook-max-age-seconds", "KINO_WEBHOOK_MAX_AGE_SECONDS",
       "give a webhook event up this long after it was written (86400)",
       [](Config& c, std::string_view v) {
         return SetInt64(&c.webhook_max_age_seconds, v, "--webhook-max-age-seconds", 1, 30 * 86400);
       }},
      {"--webhook-timeout-ms", "KINO_WEBHOOK_TIMEOUT_MS",
       "time allowed for one webhook delivery attempt (15000)",
       [](Config& c, std::string_view v) {
         return SetInt64(&c.webhook_timeout_ms, v, "--webhook-timeout-ms", 100, 120000);
       }},
      {"--x264-preset", "KINO_X264_PRESET", "x264 preset for encoded renditions (veryfast)",
       [](Config& c, std::string_view v) {
         c.x264_preset = std::string(v);
         return Status::Ok();
       }},
  };
  return kOptions;
}

}  // namespace

Status CheckDatabaseUrl(std::string_view url) {
  if (!url.empty() && !url.starts_with("postgres://") && !url.starts_with("postgresql://")) {
    return InvalidArgument("--database-url must start with postgres:// or postgresql://");
  }
  return Status::Ok();
}

std::string ServeUsage() {
  std::string out =
      "usage: kino serve [flags]\n\n"
      "Serves the API and the delivery paths, and runs the job workers.\n\nflags (each also "
      "read from its environment variable):\n";
  for (const Option& o : Options()) {
    std::string left = std::string("  ") + o.flag + " VALUE";
    left.resize(std::max<size_t>(left.size() + 1, 28), ' ');
    out += left + o.help + " [" + o.env + "]\n";
  }
  out +=
      "\nenvironment only:\n"
      "  KINO_ACCOUNT_ID, KINO_API_TOKEN  make sure this account and API token exist\n"
      "  KINO_ALLOW_PRIVATE_URLS=1        let upload-by-link and webhooks reach private and\n"
      "                                   loopback addresses (local use and tests)\n"
      "  KINO_LOG_LEVEL                   debug, info (default), warn or error\n";
  return out;
}

Result<Config> ParseServeConfig(const std::vector<std::string>& args) {
  Config config;
  for (const Option& o : Options()) {
    if (const char* v = std::getenv(o.env); v != nullptr && *v != '\0') {
      KINO_RETURN_IF_ERROR(o.set(config, v).Annotate(o.env));
    }
  }
  if (const char* v = std::getenv("KINO_ALLOW_PRIVATE_URLS")) {
    config.allow_private_urls = std::string_view(v) == "1" || std::string_view(v) == "true";
  }
  if (const char* v = std::getenv("KINO_ACCOUNT_ID")) {
    config.account_id = v;
  }
  if (const char* v = std::getenv("KINO_API_TOKEN")) {
    config.api_token = v;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const Option* match = nullptr;
    for (const Option& o : Options()) {
      if (arg == o.flag) {
        match = &o;
      }
    }
    if (match == nullptr) {
      return InvalidArgument("unknown flag " + std::string(arg) + " (see kino serve --help)");
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return InvalidArgument(std::string(arg) + " needs a value");
      }
      value = args[++i];
    }
    KINO_RETURN_IF_ERROR(match->set(config, value));
  }
  return config;
}

}  // namespace kino::app

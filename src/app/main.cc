// kino: the one binary. `kino serve` runs the API, the delivery paths and the job workers;
// `kino tokens ...` manages API tokens in the data directory's database.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "api/delivery_auth.h"
#include "api/routes.h"
#include "api/server.h"
#include "app/config.h"
#include "app/job_handlers.h"
#include "app/sweeper.h"
#include "common/log.h"
#include "common/random.h"
#include "domain/account.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"
#include "media/libav_log.h"
#include "storage/blob_store.h"
#include "storage/database.h"

namespace kino::app {
namespace {

constexpr int64_t kLeaseMicros = 60'000'000;
constexpr int64_t kHeartbeatMicros = 10'000'000;

const char kUsage[] =
    "usage: kino <command> [flags]\n\n"
    "commands:\n"
    "  serve                   serve the API and delivery paths and run the job workers\n"
    "  tokens create [--account ID] [--name NAME]\n"
    "                          make an API token (and the account, if new); prints it once\n"
    "  tokens list [--account ID]\n"
    "  tokens revoke TOKEN_ID\n\n"
    "Every command reads the data directory from --data or KINO_DATA_DIR (./data), and the\n"
    "database from --database-url or KINO_DATABASE_URL (empty: SQLite in the data directory).\n"
    "`kino serve --help` lists the server's flags.\n";

struct Stores {
  std::unique_ptr<storage::Database> db;
  std::unique_ptr<storage::BlobStore> blobs;
};

// The metadata is in PostgreSQL when `database_url` is set, else in SQLite in the data directory.
Result<Stores> OpenStores(const std::string& data_dir, const std::string& database_url) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return Unavailable("creating " + data_dir + ": " + ec.message());
  }
  Stores stores;
  KINO_ASSIGN_OR_RETURN(stores.db, database_url.empty() ? storage::OpenSqlite(data_dir + "/kino.db")
                                                        : storage::OpenPostgres(database_url));
  KINO_ASSIGN_OR_RETURN(stores.blobs, storage::OpenLocalBlobStore(data_dir + "/blobs"));
  return stores;
}

// KINO_ACCOUNT_ID + KINO_API_TOKEN make sure that account and token exist; a first start
// without them makes an account and a token and prints both once.
Status EnsureAccount(storage::Database& db, const Config& config) {
  if (!config.account_id.empty() || !config.api_token.empty()) {
    if (!IsId(config.account_id) || config.api_token.size() < 16) {
      return InvalidArgument(
          "KINO_ACCOUNT_ID must be 32 lowercase hex characters and KINO_API_TOKEN at least 16 "
          "characters");
    }
    KINO_RETURN_IF_ERROR(domain::AccountRepository::Ensure(db, config.account_id));
    return domain::AccountRepository::ImportToken(db, config.account_id, config.api_token,
                                                  "KINO_API_TOKEN");
  }
  KINO_ASSIGN_OR_RETURN(auto ids, domain::AccountRepository::ListIds(db));
  if (!ids.empty()) {
    return Status::Ok();
  }
  std::string account = NewId();
  KINO_RETURN_IF_ERROR(domain::AccountRepository::Ensure(db, account));
  KINO_ASSIGN_OR_RETURN(auto token, domain::AccountRepository::CreateToken(db, account, "first"));
  std::printf("kino: created account %s\nkino: API token (shown once, keep it): %s\n",
              account.c_str(), token.token.c_str());
  std::fflush(stdout);
  return Status::Ok();
}

// This node's id, kept in the data directory so that a restart knows which leases were its
// own, unless --node-id names it (nodes that share one data directory must). Job owners are
// "<node id>:<pid>-<random>".
Result<std::string> NodeId(const Config& config) {
  if (!config.node_id.empty()) {
    return config.node_id;
  }
  const std::string& data_dir = config.data_dir;
  std::string path = data_dir + "/node-id";
  if (FILE* f = std::fopen(path.c_str(), "r")) {
    char buf[64] = {0};
    size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    std::string id(buf, n);
    if (IsId(id)) {
      return id;
    }
  }
  std::string id = NewId();
  KINO_RETURN_IF_ERROR(storage::WriteFileAtomically(path, id));
  return id;
}

media::LadderOptions Ladder(const Config& config) {
  media::LadderOptions ladder;
  ladder.heights = config.ladder;
  ladder.preset = config.x264_preset;
  return ladder;
}

void RegisterHandlers(jobs::WorkerPool& pool, api::ApiContext& ctx, const Config& config) {
  auto add = [&pool](std::string_view kind, std::shared_ptr<jobs::JobHandler> handler) {
    if (handler) {
      pool.Register(std::string(kind), std::move(handler));
    }
  };
  add(jobs::kProcessVideo, MakeProcessVideoHandler(ctx, Ladder(config)));
  add(jobs::kDeleteVideoFiles, MakeDeleteVideoFilesHandler(ctx));
  add(jobs::kMakeDownload, MakeDownloadHandler(ctx));
  add(jobs::kFetchVideo, MakeFetchVideoHandler(ctx));
  add(jobs::kDeliverWebhook, MakeWebhookHandler(ctx));
}

// Encodes get their own lane so that a long encode never holds up a download or a webhook.
std::vector<jobs::Lane> Lanes(const Config& config) {
  std::vector<jobs::Lane> lanes;
  if (config.workers > 0) {
    lanes.push_back({"encode", {std::string(jobs::kProcessVideo)}, config.workers});
  }
  lanes.push_back({"io",
                   {std::string(jobs::kMakeDownload), std::string(jobs::kFetchVideo),
                    std::string(jobs::kDeleteVideoFiles)},
                   2});
  lanes.push_back({"webhook", {std::string(jobs::kDeliverWebhook)}, 2});
  return lanes;
}

api::ApiSettings Settings(const Config& config) {
  api::ApiSettings s;
  s.public_url = config.public_url;
  s.data_dir = config.data_dir;
  s.max_basic_upload_bytes = config.max_upload_bytes;
  s.max_queued_videos = config.max_queued_videos;
  s.allow_private_urls = config.allow_private_urls;
  s.fetch_stall_seconds = config.fetch_stall_seconds;
  s.geoip_db = config.geoip_db;
  s.trusted_proxies = config.trusted_proxies;
  s.webhook.retry_base_ms = config.webhook_retry_base_ms;
  s.webhook.max_backoff_seconds = config.webhook_max_backoff_seconds;
  s.webhook.max_age_seconds = config.webhook_max_age_seconds;
  s.webhook.timeout_ms = config.webhook_timeout_ms;
  s.webhook.connect_timeout_ms =
      std::min<int64_t>(s.webhook.connect_timeout_ms, s.webhook.timeout_ms);
  return s;
}

int Fail(const Status& s) {
  log::Error("startup_failed", s.ToString());
  std::fprintf(stderr, "kino: %s\n", s.message().c_str());
  return 1;
}

// Every download in flight holds two descriptors (its socket and its file), so the usual soft
// limit of 1024 would cap Kino near 500 concurrent downloads. The soft limit is raised to the
// hard one, which the administrator sets (systemd's default is 524288).
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  log::Info("open_file_limit", "descriptors this process may hold",
            {{"limit", std::to_string(static_cast<uint64_t>(limit.rlim_cur))}});
}

int Serve(const Config& config) {
  // A client that resets its connection while a file goes out with sendfile(2) makes the next
  // write fail with EPIPE, and by default also raise SIGPIPE, which ends the process. Kino
  // handles the error where it happens; the signal must not take every other client down.
  std::signal(SIGPIPE, SIG_IGN);
  RaiseOpenFileLimit();
  media::RouteLibavLogs();
  if (!config.geoip_db.empty()) {
    // Opened now, so that a wrong path stops the start with a clear error instead of
    // refusing every country access rule later; delivery uses this copy.
    if (Status s = api::OpenGeoIpDatabase(config.geoip_db); !s.ok()) {
      return Fail(s);
    }
  }
  auto stores = OpenStores(config.data_dir, config.database_url);
  if (!stores.ok()) {
    return Fail(stores.status());
  }
  if (Status s = EnsureAccount(*stores->db, config); !s.ok()) {
    return Fail(s);
  }

  api::ApiContext ctx;
  ctx.db = stores->db.get();
  ctx.blobs = stores->blobs.get();
  ctx.settings = Settings(config);
  auto node = NodeId(config);
  if (!node.ok()) {
    return Fail(node.status());
  }
  jobs::JobQueue queue(ctx.db, kLeaseMicros, static_cast<int64_t>(config.job_retry_base_ms) * 1000);
  if (Status s = queue.RecoverNode(*node + ":"); !s.ok()) {
    return Fail(s);
  }
  std::string owner = *node + ":" + std::to_string(getpid()) + "-" + RandomHex(4);
  jobs::WorkerPool pool(&queue, owner, Lanes(config), kHeartbeatMicros);
  ctx.wake_workers = [&pool] { pool.Wake(); };
  RegisterHandlers(pool, ctx, config);

  api::Router router;
  api::RegisterAllRoutes(router, ctx);
  api::ServerOptions options;
  options.listen = config.listen;
  options.threads = config.http_threads;
  api::Server server(options, &router);
  auto bound = server.Listen();
  if (!bound.ok()) {
    return Fail(bound.status());
  }
  if (ctx.settings.public_url.empty()) {
    ctx.settings.public_url = "http://" + *bound;
  }

  server.OnSignal([&server](int signo) {
    log::Info("shutdown_requested", "draining connections", {{"signal", std::to_string(signo)}});
    server.Shutdown();
  });
  pool.Start();
  Sweeper sweeper(ctx, std::chrono::seconds(config.sweep_seconds));
  sweeper.Start();
  log::Info(
      "server_started", "serving",
      {{"listen", *bound}, {"public_url", ctx.settings.public_url}, {"data_dir", config.data_dir}});
  std::printf("kino: listening on http://%s\n", bound->c_str());
  std::fflush(stdout);
  server.Run();
  sweeper.Stop();
  pool.Stop();
  log::Info("server_stopped", "bye");
  return 0;
}

// `kino tokens ...`: a tiny CLI over the account repository.
int Tokens(const std::vector<std::string>& args) {
  std::string data_dir = std::getenv("KINO_DATA_DIR") ? std::getenv("KINO_DATA_DIR") : "./data";
  const char* url_env = std::getenv("KINO_DATABASE_URL");
  std::string database_url = url_env != nullptr ? url_env : "";
  std::string account;
  std::string name = "cli";
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--data" || args[i] == "--account" || args[i] == "--name" ||
         args[i] == "--database-url") &&
        i + 1 < args.size()) {
      std::string& dest = args[i] == "--data"           ? data_dir
                          : args[i] == "--account"      ? account
                          : args[i] == "--database-url" ? database_url
                                                        : name;
      dest = args[++i];
    } else {
      rest.push_back(args[i]);
    }
  }
  if (rest.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (Status s = CheckDatabaseUrl(database_url); !s.ok()) {
    return Fail(s);
  }
  auto stores = OpenStores(data_dir, database_url);
  if (!stores.ok()) {
    return Fail(stores.status());
  }
  storage::Database& db = *stores->db;
  if (account.empty()) {
    auto ids = domain::AccountRepository::ListIds(db);
    if (ids.ok() && !ids->empty()) {
      account = ids->front();
    }
  }
  if (rest[0] == "create") {
    if (account.empty()) {
      account = NewId();
    }
    if (!IsId(account)) {
      return Fail(InvalidArgument("--account must be 32 lowercase hex characters"));
    }
    Status s = domain::AccountRepository::Ensure(db, account);
    auto token = s.ok() ? domain::AccountRepository::CreateToken(db, account, name)
                        : Result<domain::CreatedToken>(s);
    if (!token.ok()) {
      return Fail(token.status());
    }
    std::printf("account %s\ntoken id %s\ntoken %s\n", account.c_str(), token->info.id.c_str(),
                token->token.c_str());
    return 0;
  }
  if (rest[0] == "list") {
    auto tokens = domain::AccountRepository::ListTokens(db, account);
    if (!tokens.ok()) {
      return Fail(tokens.status());
    }
    for (const auto& t : *tokens) {
      std::printf("%s  %s  %s%s\n", t.id.c_str(), t.account_id.c_str(), t.name.c_str(),
                  t.revoked ? "  (revoked)" : "");
    }
    return 0;
  }
  if (rest[0] == "revoke" && rest.size() == 2) {
    Status s = domain::AccountRepository::RevokeToken(db, rest[1]);
    if (!s.ok()) {
      return Fail(s);
    }
    std::printf("revoked %s\n", rest[1].c_str());
    return 0;
  }
  std::fputs(kUsage, stderr);
  return 2;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "serve") {
    for (const auto& a : args) {
      if (a == "--help" || a == "-h") {
        std::fputs(ServeUsage().c_str(), stdout);
        return 0;
      }
    }
    auto config = ParseServeConfig(args);
    if (!config.ok()) {
      return Fail(config.status());
    }
    return Serve(*config);
  }
  if (command == "tokens") {
    return Tokens(args);
  }
  std::fprintf(stderr, "kino: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}

}  // namespace
}  // namespace kino::app

int main(int argc, char** argv) {
  return kino::app::Main(argc, argv);
}

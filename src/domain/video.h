// Videos: the entity, its state machine, and its repository.
//
// A video moves pendingupload -> downloading -> queued -> inprogress -> ready | error
// (Cloudflare Stream's states). `ready_to_stream` turns true as soon as one rendition is fully
// playable, which can happen while the state is still inprogress for the rest of the ladder.
//
// The repository speaks portable SQL through storage::Database; every method takes the
// Database to use, so callers can group writes (a state change and the job it needs) into one
// transaction.
#ifndef KINO_DOMAIN_VIDEO_H_
#define KINO_DOMAIN_VIDEO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "storage/database.h"

namespace kino::domain {

enum class VideoState { kPendingUpload, kDownloading, kQueued, kInProgress, kReady, kError };

std::string_view VideoStateName(VideoState state);
std::optional<VideoState> ParseVideoState(std::string_view name);

// Cloudflare Stream's errorReasonCode values.
inline constexpr std::string_view kErrNonVideo = "ERR_NON_VIDEO";
inline constexpr std::string_view kErrDurationExceedConstraint = "ERR_DURATION_EXCEED_CONSTRAINT";
inline constexpr std::string_view kErrMalformedVideo = "ERR_MALFORMED_VIDEO";
inline constexpr std::string_view kErrDurationTooShort = "ERR_DURATION_TOO_SHORT";
inline constexpr std::string_view kErrFetchOriginError = "ERR_FETCH_ORIGIN_ERROR";
inline constexpr std::string_view kErrUnknown = "ERR_UNKNOWN";

// How the video's bytes arrive.
enum class VideoSource { kBasic, kCopy, kDirect, kTus };
std::string_view VideoSourceName(VideoSource source);

struct Video {
  std::string uid;
  std::string account_id;
  std::optional<std::string> creator;
  nlohmann::json meta = nlohmann::json::object();
  VideoState state = VideoState::kPendingUpload;
  double pct_complete = 0;
  std::string error_code;
  std::string error_text;
  bool require_signed_urls = false;
  std::vector<std::string> allowed_origins;
  double thumbnail_pct = 0;
  std::optional<int64_t> max_duration_seconds;
  std::optional<int64_t> max_size_bytes;
  std::optional<int64_t> scheduled_deletion;  // micros
  std::optional<int64_t> upload_expiry;       // micros
  int64_t size = 0;
  double duration = -1;
  int width = -1;
  int height = -1;
  bool ready_to_stream = false;
  std::optional<int64_t> ready_at;
  VideoSource source = VideoSource::kBasic;
  std::optional<std::string> source_url;
  std::optional<int64_t> upload_length;
  int64_t upload_offset = 0;
  nlohmann::json public_details;  // null or object
  int64_t created = 0;
  int64_t modified = 0;
  std::optional<int64_t> uploaded;
};

struct VideoListFilter {
  std::string account_id;
  std::optional<VideoState> state;
  std::optional<std::string> creator;
  std::optional<std::string> search;      // substring of meta.name, case-insensitive
  std::optional<std::string> video_name;  // exact meta.name
  std::vector<std::string> ids;
  std::optional<int64_t> after;   // created > after
  std::optional<int64_t> before;  // created < before
  bool ascending = false;
  int limit = 1000;
};

struct VideoPage {
  std::vector<Video> videos;
  int64_t total = 0;      // all matches, ignoring limit
  int64_t remaining = 0;  // matches past this page
};

struct StorageUsage {
  int64_t video_count = 0;
  double total_minutes = 0;
};

class VideoRepository {
 public:
  static Status Insert(storage::Database& db, const Video& video);
  // Writes every mutable field of `video` (and sets modified).
  static Status Save(storage::Database& db, Video& video);
  // NotFound (api code 10003) when absent or of another account.
  static Result<Video> Get(storage::Database& db, std::string_view account_id,
                           std::string_view uid);
  // Any account: for delivery paths and jobs.
  static Result<Video> GetByUid(storage::Database& db, std::string_view uid);
  static Result<VideoPage> List(storage::Database& db, const VideoListFilter& filter);
  static Status Delete(storage::Database& db, std::string_view uid);
  // Videos whose scheduled deletion has passed, or pending uploads whose expiry passed.
  static Result<std::vector<Video>> ListExpired(storage::Database& db, int64_t now_micros);
  // How many of the account's videos are downloading, queued or in progress: the work Stream
  // bounds per account.
  static Result<int64_t> CountUnfinished(storage::Database& db, std::string_view account_id);
  // Count and total duration of an account's videos (optionally one creator's).
  static Result<StorageUsage> Usage(storage::Database& db, std::string_view account_id,
                                    const std::optional<std::string>& creator);
};

}  // namespace kino::domain

#endif  // KINO_DOMAIN_VIDEO_H_

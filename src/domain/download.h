// Downloads: a progressive MP4 ("default") or an audio-only M4A ("audio") made from a ready
// video's renditions, on request.
//
// A download is a row keyed by (video, type). Its status is inprogress until its job has
// written the file, then ready (or error). `generation` increases whenever the file is made
// again (after re-processing), so ETags and caches never mix two versions.
#ifndef KINO_DOMAIN_DOWNLOAD_H_
#define KINO_DOMAIN_DOWNLOAD_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "storage/database.h"

namespace kino::domain {

enum class DownloadType { kDefault, kAudio };
enum class DownloadStatus { kInProgress, kReady, kError };

std::string_view DownloadTypeName(DownloadType type);  // "default", "audio"
std::optional<DownloadType> ParseDownloadType(std::string_view name);
std::string_view DownloadStatusName(DownloadStatus status);
// "default.mp4" / "audio.m4a": the file name in delivery URLs.
std::string_view DownloadFileName(DownloadType type);
// ".mp4" / ".m4a".
std::string_view DownloadExtension(DownloadType type);
// "video/mp4" / "audio/mp4".
std::string_view DownloadContentType(DownloadType type);
// Blob key of the file: videos/<uid>/downloads/<file name>.
std::string DownloadBlobKey(std::string_view video_uid, DownloadType type);

struct Download {
  std::string video_uid;
  DownloadType type = DownloadType::kDefault;
  DownloadStatus status = DownloadStatus::kInProgress;
  double percent_complete = 0;
  int64_t size = 0;
  std::string sha256;  // lowercase hex of the file, when ready
  std::string error_text;
  int64_t generation = 1;
  int64_t created = 0;
  int64_t modified = 0;
};

class DownloadRepository {
 public:
  // Inserts an inprogress download; returns false (and changes nothing) if one of that type
  // already exists.
  static Result<bool> InsertIfAbsent(storage::Database& db, const Download& download);
  static Result<std::optional<Download>> Get(storage::Database& db, std::string_view video_uid,
                                             DownloadType type);
  static Result<std::vector<Download>> List(storage::Database& db, std::string_view video_uid);
  static Status SetProgress(storage::Database& db, std::string_view video_uid, DownloadType type,
                            double percent);
  static Status MarkReady(storage::Database& db, std::string_view video_uid, DownloadType type,
                          int64_t size, std::string_view sha256_hex);
  static Status MarkError(storage::Database& db, std::string_view video_uid, DownloadType type,
                          std::string_view error_text);
  // Back to inprogress with a new generation (the video was processed again).
  static Status Restart(storage::Database& db, std::string_view video_uid, DownloadType type);
  // Returns whether a row was deleted.
  static Result<bool> Delete(storage::Database& db, std::string_view video_uid, DownloadType type);
};

}  // namespace kino::domain

#endif  // KINO_DOMAIN_DOWNLOAD_H_

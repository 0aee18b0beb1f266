// RowCache: the delivery paths' copies of video and download rows, so that serving a byte range
// does not query the database.
//
// A copy is used only while the database's write generation (storage::Database::
// WriteGeneration) is the one it was read at, so any write of this process (to any row) makes
// every copy stale: no write path has to remember to invalidate. Copies also expire after
// kRowCacheTtl, which bounds what a writer outside the process could leave stale. With a
// database that cannot tell its writes (PostgreSQL) nothing is cached.
//
// Thread-safety: all methods may be called from any thread.
#ifndef KINO_API_ROW_CACHE_H_
#define KINO_API_ROW_CACHE_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "domain/download.h"
#include "domain/video.h"
#include "storage/database.h"

namespace kino::api {

inline constexpr std::chrono::milliseconds kRowCacheTtl{1000};

class RowCache {
 public:
  // VideoRepository::GetByUid, from a current copy when there is one.
  Result<std::shared_ptr<const domain::Video>> Video(storage::Database& db, std::string_view uid);
  // DownloadRepository::Get; null when the download does not exist.
  Result<std::shared_ptr<const domain::Download>> Download(storage::Database& db,
                                                           std::string_view uid,
                                                           domain::DownloadType type);

 private:
  struct Entry {
    std::shared_ptr<const void> row;  // a domain::Video or domain::Download; null: no row
    uint64_t generation = 0;
    std::chrono::steady_clock::time_point read_at;
  };
  // The current copy under `key`, or nullopt.
  std::optional<std::shared_ptr<const void>> Find(const std::string& key, uint64_t generation);
  void Keep(std::string key, std::shared_ptr<const void> row, uint64_t generation);

  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace kino::api

#endif  // KINO_API_ROW_CACHE_H_

#include "api/row_cache.h"

#include <utility>

namespace kino::api {
namespace {

// Past this many copies the cache starts over: it holds the videos being watched now.
constexpr size_t kMaxEntries = 4096;

}  // namespace

std::optional<std::shared_ptr<const void>> RowCache::Find(const std::string& key,
                                                          uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.generation != generation ||
      std::chrono::steady_clock::now() - it->second.read_at >= kRowCacheTtl) {
    return std::nullopt;
  }
  return it->second.row;
}

void RowCache::Keep(std::string key, std::shared_ptr<const void> row, uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxEntries) {
    entries_.clear();
  }
  entries_[std::move(key)] = Entry{std::move(row), generation, std::chrono::steady_clock::now()};
}

Result<std::shared_ptr<const domain::Video>> RowCache::Video(storage::Database& db,
                                                             std::string_view uid) {
  // Read before the row: a write landing in between leaves the copy already stale.
  std::optional<uint64_t> generation = db.WriteGeneration();
  std::string key = "v/" + std::string(uid);
  if (generation) {
    if (auto row = Find(key, *generation)) {
      return std::static_pointer_cast<const domain::Video>(*row);
    }
  }
  KINO_ASSIGN_OR_RETURN(domain::Video video, domain::VideoRepository::GetByUid(db, uid));
  auto row = std::make_shared<const domain::Video>(std::move(video));
  if (generation) {
    Keep(std::move(key), row, *generation);
  }
  return row;
}

Result<std::shared_ptr<const domain::Download>> RowCache::Download(storage::Database& db,
                                                                   std::string_view uid,
                                                                   domain::DownloadType type) {
  std::optional<uint64_t> generation = db.WriteGeneration();
  std::string key = "d/" + std::string(domain::DownloadTypeName(type)) + "/" + std::string(uid);
  if (generation) {
    if (auto row = Find(key, *generation)) {
      return std::static_pointer_cast<const domain::Download>(*row);
    }
  }
  KINO_ASSIGN_OR_RETURN(std::optional<domain::Download> download,
                        domain::DownloadRepository::Get(db, uid, type));
  std::shared_ptr<const domain::Download> row;
  if (download) {
    row = std::make_shared<const domain::Download>(std::move(*download));
  }
  if (generation) {
    Keep(std::move(key), row, *generation);
  }
  return row;
}

}  // namespace kino::api

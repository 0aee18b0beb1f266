#include "domain/download.h"

#include "common/time_util.h"

namespace kino::domain {
namespace {

using storage::Int;
using storage::Real;
using storage::Row;
using storage::Text;

constexpr const char* kColumns =
    "video_uid, type, status, percent_complete, size, sha256, error_text, generation, created, "
    "modified";

DownloadStatus ParseStatus(std::string_view s) {
  if (s == "ready") {
    return DownloadStatus::kReady;
  }
  if (s == "error") {
    return DownloadStatus::kError;
  }
  return DownloadStatus::kInProgress;
}

Download FromRow(const Row& r) {
  Download d;
  d.video_uid = r.Text(0);
  d.type = ParseDownloadType(r.Text(1)).value_or(DownloadType::kDefault);
  d.status = ParseStatus(r.Text(2));
  d.percent_complete = r.Real(3);
  d.size = r.Int(4);
  d.sha256 = r.Text(5);
  d.error_text = r.Text(6);
  d.generation = r.Int(7);
  d.created = r.Int(8);
  d.modified = r.Int(9);
  return d;
}

}  // namespace

std::string_view DownloadTypeName(DownloadType type) {
  return type == DownloadType::kAudio ? "audio" : "default";
}

std::optional<DownloadType> ParseDownloadType(std::string_view name) {
  if (name == "default") {
    return DownloadType::kDefault;
  }
  if (name == "audio") {
    return DownloadType::kAudio;
  }
  return std::nullopt;
}

std::string_view DownloadStatusName(DownloadStatus status) {
  switch (status) {
    case DownloadStatus::kInProgress:
      return "inprogress";
    case DownloadStatus::kReady:
      return "ready";
    case DownloadStatus::kError:
      return "error";
  }
  return "error";
}

std::string_view DownloadFileName(DownloadType type) {
  return type == DownloadType::kAudio ? "audio.m4a" : "default.mp4";
}

std::string_view DownloadExtension(DownloadType type) {
  return type == DownloadType::kAudio ? ".m4a" : ".mp4";
}

std::string_view DownloadContentType(DownloadType type) {
  return type == DownloadType::kAudio ? "audio/mp4" : "video/mp4";
}

std::string DownloadBlobKey(std::string_view video_uid, DownloadType type) {
  return "videos/" + std::string(video_uid) + "/downloads/" + std::string(DownloadFileName(type));
}

Result<bool> DownloadRepository::InsertIfAbsent(storage::Database& db, const Download& d) {
  int64_t now = NowMicros();
  KINO_ASSIGN_OR_RETURN(
      int64_t changed,
      db.Exec("INSERT INTO downloads (video_uid, type, status, percent_complete, created, "
              "modified) VALUES ($1, $2, 'inprogress', 0, $3, $3) "
              "ON CONFLICT (video_uid, type) DO NOTHING",
              {Text(d.video_uid), Text(DownloadTypeName(d.type)), Int(now)}));
  return changed > 0;
}

Result<std::optional<Download>> DownloadRepository::Get(storage::Database& db,
                                                        std::string_view video_uid,
                                                        DownloadType type) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query(std::string("SELECT ") + kColumns +
                                     " FROM downloads WHERE video_uid = $1 AND type = $2",
                                 {Text(video_uid), Text(DownloadTypeName(type))}));
  if (rows.empty()) {
    return std::optional<Download>();
  }
  return std::optional<Download>(FromRow(rows[0]));
}

Result<std::vector<Download>> DownloadRepository::List(storage::Database& db,
                                                       std::string_view video_uid) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query(std::string("SELECT ") + kColumns +
                                     " FROM downloads WHERE video_uid = $1 ORDER BY type",
                                 {Text(video_uid)}));
  std::vector<Download> out;
  for (const auto& r : rows) {
    out.push_back(FromRow(r));
  }
  return out;
}

Status DownloadRepository::SetProgress(storage::Database& db, std::string_view video_uid,
                                       DownloadType type, double percent) {
  return db
      .Exec(
          "UPDATE downloads SET percent_complete = $3, modified = $4 "
          "WHERE video_uid = $1 AND type = $2 AND status = 'inprogress'",
          {Text(video_uid), Text(DownloadTypeName(type)), Real(percent), Int(NowMicros())})
      .status();
}

Status DownloadRepository::MarkReady(storage::Database& db, std::string_view video_uid,
                                     DownloadType type, int64_t size, std::string_view sha256_hex) {
  return db
      .Exec(
          "UPDATE downloads SET status = 'ready', percent_complete = 100, size = $3, "
          "sha256 = $4, error_text = '', modified = $5 WHERE video_uid = $1 AND type = $2",
          {Text(video_uid), Text(DownloadTypeName(type)), Int(size), Text(sha256_hex),
           Int(NowMicros())})
      .status();
}

Status DownloadRepository::MarkError(storage::Database& db, std::string_view video_uid,
                                     DownloadType type, std::string_view error_text) {
  return db
      .Exec(
          "UPDATE downloads SET status = 'error', error_text = $3, modified = $4 "
          "WHERE video_uid = $1 AND type = $2",
          {Text(video_uid), Text(DownloadTypeName(type)), Text(error_text), Int(NowMicros())})
      .status();
}

Status DownloadRepository::Restart(storage::Database& db, std::string_view video_uid,
                                   DownloadType type) {
  return db
      .Exec(
          "UPDATE downloads SET status = 'inprogress', percent_complete = 0, size = 0, "
          "sha256 = '', error_text = '', generation = generation + 1, modified = $3 "
          "WHERE video_uid = $1 AND type = $2",
          {Text(video_uid), Text(DownloadTypeName(type)), Int(NowMicros())})
      .status();
}

Result<bool> DownloadRepository::Delete(storage::Database& db, std::string_view video_uid,
                                        DownloadType type) {
  KINO_ASSIGN_OR_RETURN(int64_t changed,
                        db.Exec("DELETE FROM downloads WHERE video_uid = $1 AND type = $2",
                                {Text(video_uid), Text(DownloadTypeName(type))}));
  return changed > 0;
}

}  // namespace kino::domain

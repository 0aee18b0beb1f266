#include "domain/video.h"

#include "common/time_util.h"
#include "domain/errors.h"

namespace kino::domain {
namespace {

using storage::Bool;
using storage::Int;
using storage::Null;
using storage::OptInt;
using storage::OptText;
using storage::Real;
using storage::Row;
using storage::Text;
using storage::Value;

using kino::domain::kErrVideoNotFound;

constexpr const char* kColumns =
    "uid, account_id, creator, meta, state, pct_complete, error_code, error_text, "
    "require_signed_urls, allowed_origins, thumbnail_pct, max_duration_seconds, max_size_bytes, "
    "scheduled_deletion, upload_expiry, size, duration, width, height, ready_to_stream, ready_at, "
    "source, source_url, upload_length, upload_offset, public_details, created, modified, uploaded";

nlohmann::json ParseJsonOr(const std::string& text, nlohmann::json fallback) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

VideoSource ParseSource(std::string_view s) {
  if (s == "copy") {
    return VideoSource::kCopy;
  }
  if (s == "direct") {
    return VideoSource::kDirect;
  }
  if (s == "tus") {
    return VideoSource::kTus;
  }
  return VideoSource::kBasic;
}

Video FromRow(const Row& r) {
  Video v;
  v.uid = r.Text(0);
  v.account_id = r.Text(1);
  v.creator = r.OptText(2);
  v.meta = ParseJsonOr(r.Text(3), nlohmann::json::object());
  v.state = ParseVideoState(r.Text(4)).value_or(VideoState::kError);
  v.pct_complete = r.Real(5);
  v.error_code = r.Text(6);
  v.error_text = r.Text(7);
  v.require_signed_urls = r.Bool(8);
  auto origins = ParseJsonOr(r.Text(9), nlohmann::json::array());
  for (const auto& o : origins) {
    if (o.is_string()) {
      v.allowed_origins.push_back(o.get_ref<const std::string&>());
    }
  }
  v.thumbnail_pct = r.Real(10);
  v.max_duration_seconds = r.OptInt(11);
  v.max_size_bytes = r.OptInt(12);
  v.scheduled_deletion = r.OptInt(13);
  v.upload_expiry = r.OptInt(14);
  v.size = r.Int(15);
  v.duration = r.Real(16);
  v.width = static_cast<int>(r.Int(17));
  v.height = static_cast<int>(r.Int(18));
  v.ready_to_stream = r.Bool(19);
  v.ready_at = r.OptInt(20);
  v.source = ParseSource(r.Text(21));
  v.source_url = r.OptText(22);
  v.upload_length = r.OptInt(23);
  v.upload_offset = r.Int(24);
  v.public_details = r.IsNull(25) ? nlohmann::json() : ParseJsonOr(r.Text(25), nlohmann::json());
  v.created = r.Int(26);
  v.modified = r.Int(27);
  v.uploaded = r.OptInt(28);
  return v;
}

std::vector<Value> ToValues(const Video& v) {
  nlohmann::json origins = v.allowed_origins;
  return {Text(v.uid),
          Text(v.account_id),
          OptText(v.creator),
          Text(v.meta.dump()),
          Text(VideoStateName(v.state)),
          Real(v.pct_complete),
          Text(v.error_code),
          Text(v.error_text),
          Bool(v.require_signed_urls),
          Text(origins.dump()),
          Real(v.thumbnail_pct),
          OptInt(v.max_duration_seconds),
          OptInt(v.max_size_bytes),
          OptInt(v.scheduled_deletion),
          OptInt(v.upload_expiry),
          Int(v.size),
          Real(v.duration),
          Int(v.width),
          Int(v.height),
          Bool(v.ready_to_stream),
          OptInt(v.ready_at),
          Text(VideoSourceName(v.source)),
          OptText(v.source_url),
          OptInt(v.upload_length),
          Int(v.upload_offset),
          v.public_details.is_null() ? Null() : Text(v.public_details.dump()),
          Int(v.created),
          Int(v.modified),
          OptInt(v.uploaded)};
}

std::string EscapeLike(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

// SQL for meta.name as text in the database's dialect.
std::string MetaNameExpr(std::string_view dialect) {
  return dialect == "postgres" ? "(meta::jsonb ->> 'name')" : "json_extract(meta, '$.name')";
}

// Appends the WHERE clause for `f` (without limit/order) to `sql`, and its parameters.
void AppendWhere(std::string_view dialect, const VideoListFilter& f, std::string* sql,
                 std::vector<Value>* params) {
  auto add = [&](const std::string& clause, Value v) {
    params->push_back(std::move(v));
    *sql += " AND " + clause + " $" + std::to_string(params->size());
  };
  params->push_back(Text(f.account_id));
  *sql += " WHERE account_id = $1";
  if (f.state) {
    add("state =", Text(VideoStateName(*f.state)));
  }
  if (f.creator) {
    add("creator =", Text(*f.creator));
  }
  if (f.after) {
    add("created >", Int(*f.after));
  }
  if (f.before) {
    add("created <", Int(*f.before));
  }
  if (f.search) {
    params->push_back(Text("%" + EscapeLike(*f.search) + "%"));
    *sql += " AND LOWER(COALESCE(" + MetaNameExpr(dialect) + ", '')) LIKE LOWER($" +
            std::to_string(params->size()) + ") ESCAPE '\\'";
  }
  if (f.video_name) {
    add(MetaNameExpr(dialect) + " =", Text(*f.video_name));
  }
  if (!f.ids.empty()) {
    std::string in;
    for (const auto& id : f.ids) {
      params->push_back(Text(id));
      in += (in.empty() ? "$" : ", $") + std::to_string(params->size());
    }
    *sql += " AND uid IN (" + in + ")";
  }
}

}  // namespace

std::string_view VideoStateName(VideoState state) {
  switch (state) {
    case VideoState::kPendingUpload:
      return "pendingupload";
    case VideoState::kDownloading:
      return "downloading";
    case VideoState::kQueued:
      return "queued";
    case VideoState::kInProgress:
      return "inprogress";
    case VideoState::kReady:
      return "ready";
    case VideoState::kError:
      return "error";
  }
  return "error";
}

std::optional<VideoState> ParseVideoState(std::string_view name) {
  for (VideoState s : {VideoState::kPendingUpload, VideoState::kDownloading, VideoState::kQueued,
                       VideoState::kInProgress, VideoState::kReady, VideoState::kError}) {
    if (VideoStateName(s) == name) {
      return s;
    }
  }
  return std::nullopt;
}

std::string_view VideoSourceName(VideoSource source) {
  switch (source) {
    case VideoSource::kBasic:
      return "basic";
    case VideoSource::kCopy:
      return "copy";
    case VideoSource::kDirect:
      return "direct";
    case VideoSource::kTus:
      return "tus";
  }
  return "basic";
}

Status VideoRepository::Insert(storage::Database& db, const Video& video) {
  std::string placeholders;
  for (int i = 1; i <= 29; ++i) {
    placeholders += (i == 1 ? "$" : ", $") + std::to_string(i);
  }
  return db
      .Exec(std::string("INSERT INTO videos (") + kColumns + ") VALUES (" + placeholders + ")",
            ToValues(video))
      .status();
}

Status VideoRepository::Save(storage::Database& db, Video& video) {
  video.modified = NowMicros();
  std::vector<Value> values = ToValues(video);
  // Every column but uid and account_id, which never change.
  static const std::vector<std::string> kMutable = {"creator",
                                                    "meta",
                                                    "state",
                                                    "pct_complete",
                                                    "error_code",
                                                    "error_text",
                                                    "require_signed_urls",
                                                    "allowed_origins",
                                                    "thumbnail_pct",
                                                    "max_duration_seconds",
                                                    "max_size_bytes",
                                                    "scheduled_deletion",
                                                    "upload_expiry",
                                                    "size",
                                                    "duration",
                                                    "width",
                                                    "height",
                                                    "ready_to_stream",
                                                    "ready_at",
                                                    "source",
                                                    "source_url",
                                                    "upload_length",
                                                    "upload_offset",
                                                    "public_details",
                                                    "created",
                                                    "modified",
                                                    "uploaded"};
  std::string sql = "UPDATE videos SET ";
  for (size_t i = 0; i < kMutable.size(); ++i) {
    sql += (i == 0 ? "" : ", ") + kMutable[i] + " = $" + std::to_string(i + 3);
  }
  sql += " WHERE uid = $1 AND account_id = $2";
  KINO_ASSIGN_OR_RETURN(int64_t changed, db.Exec(sql, values));
  if (changed == 0) {
    return NotFound("video " + video.uid + " not found", kErrVideoNotFound);
  }
  return Status::Ok();
}

Result<Video> VideoRepository::Get(storage::Database& db, std::string_view account_id,
                                   std::string_view uid) {
  KINO_ASSIGN_OR_RETURN(storage::Rows rows,
                        db.Query(std::string("SELECT ") + kColumns +
                                     " FROM videos WHERE uid = $1 AND account_id = $2",
                                 {Text(uid), Text(account_id)}));
  if (rows.empty()) {
    return NotFound("video not found", kErrVideoNotFound);
  }
  return FromRow(rows[0]);
}

Result<Video> VideoRepository::GetByUid(storage::Database& db, std::string_view uid) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query(std::string("SELECT ") + kColumns + " FROM videos WHERE uid = $1", {Text(uid)}));
  if (rows.empty()) {
    return NotFound("video not found", kErrVideoNotFound);
  }
  return FromRow(rows[0]);
}

Result<VideoPage> VideoRepository::List(storage::Database& db, const VideoListFilter& filter) {
  std::string where;
  std::vector<Value> params;
  AppendWhere(db.Dialect(), filter, &where, &params);
  KINO_ASSIGN_OR_RETURN(storage::Rows count,
                        db.Query("SELECT COUNT(*) FROM videos" + where, params));
  std::string sql = std::string("SELECT ") + kColumns + " FROM videos" + where +
                    " ORDER BY created " + (filter.ascending ? "ASC" : "DESC") + ", uid LIMIT " +
                    std::to_string(filter.limit);
  KINO_ASSIGN_OR_RETURN(storage::Rows rows, db.Query(sql, params));
  VideoPage page;
  page.total = count[0].Int(0);
  for (const Row& r : rows) {
    page.videos.push_back(FromRow(r));
  }
  page.remaining = page.total - static_cast<int64_t>(page.videos.size());
  return page;
}

Status VideoRepository::Delete(storage::Database& db, std::string_view uid) {
  return db.Exec("DELETE FROM videos WHERE uid = $1", {Text(uid)}).status();
}

Result<std::vector<Video>> VideoRepository::ListExpired(storage::Database& db, int64_t now_micros) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query(std::string("SELECT ") + kColumns +
                   " FROM videos WHERE (scheduled_deletion IS NOT NULL AND scheduled_deletion < $1)"
                   " OR (state = 'pendingupload' AND upload_expiry IS NOT NULL AND"
                   " upload_expiry < $1) LIMIT 100",
               {Int(now_micros)}));
  std::vector<Video> out;
  for (const Row& r : rows) {
    out.push_back(FromRow(r));
  }
  return out;
}

Result<int64_t> VideoRepository::CountUnfinished(storage::Database& db,
                                                 std::string_view account_id) {
  KINO_ASSIGN_OR_RETURN(
      storage::Rows rows,
      db.Query("SELECT COUNT(*) FROM videos WHERE account_id = $1 AND state IN ($2, $3, $4)",
               {Text(account_id), Text(VideoStateName(VideoState::kDownloading)),
                Text(VideoStateName(VideoState::kQueued)),
                Text(VideoStateName(VideoState::kInProgress))}));
  return rows[0].Int(0);
}

Result<StorageUsage> VideoRepository::Usage(storage::Database& db, std::string_view account_id,
                                            const std::optional<std::string>& creator) {
  std::string sql =
      "SELECT COUNT(*), COALESCE(SUM(CASE WHEN duration > 0 THEN duration ELSE 0 END), 0) "
      "FROM videos WHERE account_id = $1";
  std::vector<Value> params = {Text(account_id)};
  if (creator) {
    sql += " AND creator = $2";
    params.push_back(Text(*creator));
  }
  KINO_ASSIGN_OR_RETURN(storage::Rows rows, db.Query(sql, params));
  StorageUsage usage;
  usage.video_count = rows[0].Int(0);
  usage.total_minutes = rows[0].Real(1) / 60.0;
  return usage;
}

}  // namespace kino::domain

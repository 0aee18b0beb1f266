// The seam between ingest and the media pipeline: what happens once a video's original is
// stored under domain::OriginalKey(uid).
#ifndef KINO_API_PROCESSING_H_
#define KINO_API_PROCESSING_H_

#include "api/context.h"
#include "common/status.h"
#include "domain/video.h"
#include "media/probe.h"

namespace kino::api {

// Probes the stored original with libavformat and fills size, duration and input size. A file
// that is not a playable video, or is longer than maxDurationSeconds, puts the video in state
// error with Stream's errorReasonCode (ERR_NON_VIDEO, ERR_MALFORMED_VIDEO,
// ERR_DURATION_TOO_SHORT, ERR_DURATION_EXCEED_CONSTRAINT) and records its webhook event;
// otherwise the video becomes queued and its process_video job is enqueued in the same
// transaction, and the workers are woken. The row is re-read in that transaction, so edits
// made while the bytes arrived are kept; of `video` only meta.name is carried over (when the
// row has none, e.g. the file name of a direct upload). `video` is updated to what was saved.
//
// The returned Status is about Kino (database, storage), not about the file: a refused file is
// an OK return with video->state == kError. NotFound (10003) when the video was deleted while
// its bytes arrived; its files are removed then. `notify_refusal` false records no webhook
// event for a refused file (a basic upload answers the refusal itself and keeps no video).
Status FinishUpload(ApiContext& ctx, domain::Video* video, bool notify_refusal = true);

// Stream's errorReasonCode for a media refusal: ERR_NON_VIDEO, ERR_MALFORMED_VIDEO,
// ERR_DURATION_TOO_SHORT; ERR_UNKNOWN for kNone. A file no demuxer accepts is
// ERR_MALFORMED_VIDEO (damaged or cut media, random bytes), unless it is text (`text`: a
// document or a web page), which is ERR_NON_VIDEO to the user.
std::string_view ReasonCodeFor(media::MediaError error, bool text = false);

// Puts `video` in state error with `code` (one of domain::kErr*) and `text`, and records its
// webhook event, in `tx`.
Status MarkVideoFailed(storage::Database& tx, ApiContext& ctx, domain::Video* video,
                       std::string_view code, std::string_view text);

}  // namespace kino::api

#endif  // KINO_API_PROCESSING_H_

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
// transaction, and the workers are woken. `video` is updated to what was saved.
//
// The returned Status is about Kino (database, storage), not about the file: a refused file is
// an OK return with video->state == kError.
Status FinishUpload(ApiContext& ctx, domain::Video* video);

// Stream's errorReasonCode for a media refusal: ERR_NON_VIDEO, ERR_MALFORMED_VIDEO,
// ERR_DURATION_TOO_SHORT; ERR_UNKNOWN for kNone.
std::string_view ReasonCodeFor(media::MediaError error);

// Puts `video` in state error with `code` (one of domain::kErr*) and `text`, and records its
// webhook event, in `tx`.
Status MarkVideoFailed(storage::Database& tx, ApiContext& ctx, domain::Video* video,
                       std::string_view code, std::string_view text);

}  // namespace kino::api

#endif  // KINO_API_PROCESSING_H_

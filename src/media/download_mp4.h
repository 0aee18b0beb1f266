// Downloadable files made from a video's renditions: a progressive MP4 (the "default" download)
// and an audio-only M4A (the "audio" download).
//
// Both are made by remuxing the CMAF renditions (no re-encode) into one progressive file whose
// moov box comes before the mdat box ("fast start"), so a player can start while the file is
// still arriving.
//
// Output is written to `out_path + ".tmp"`, flushed with fsync and renamed to `out_path` only on
// success; on any failure the temporary file is removed and nothing exists under `out_path`
// that was not there before.
//
// Thread-safety: the functions share no state; run as many at once as there are cores to spare.
#ifndef KINO_MEDIA_DOWNLOAD_MP4_H_
#define KINO_MEDIA_DOWNLOAD_MP4_H_

#include <functional>
#include <string>

#include "common/status.h"
#include "media/mp4_fragmented.h"

namespace kino::media {

// Called with the fraction done (0..1, non-decreasing) from the calling thread, often enough to
// drive a percentComplete field. Return false to cancel: the call then ends with kCancelled.
using DownloadProgressFn = std::function<bool(double fraction)>;

// What a download file holds, computed while it was written (the file is not read back).
struct WrittenDownload {
  uint64_t size = 0;
  std::string sha256;  // the raw 32-byte SHA-256 of the whole file
};

// Writes a progressive MP4 with the H.264 track of `video` and, when `audio` is not null, the AAC
// track of `audio`; moov before mdat. `progress` may be empty; `written`, when not null, gets the
// file's size and SHA-256 on success.
// Errors: InvalidArgument for an empty segment list, an init segment that is not MP4 or a track
// of the wrong codec; NotFound for a missing file; DataLoss for a truncated or corrupt segment;
// Cancelled when `progress` returned false; Internal for write failures.
Status MakeDownloadMp4(const FragmentedTrack& video, const FragmentedTrack* audio,
                       const std::string& out_path, const DownloadProgressFn& progress,
                       WrittenDownload* written = nullptr);

// Writes an M4A (ftyp major brand "M4A ", moov first) holding only the AAC track of `audio`.
// Errors as for MakeDownloadMp4.
Status MakeDownloadM4a(const FragmentedTrack& audio, const std::string& out_path,
                       const DownloadProgressFn& progress, WrittenDownload* written = nullptr);

}  // namespace kino::media

#endif  // KINO_MEDIA_DOWNLOAD_MP4_H_

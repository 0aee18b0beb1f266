// Manifests for a package: HLS playlists (RFC 8216), the DASH MPD (ISO/IEC 23009-1) and
// renditions.json. Pure text builders plus the atomic file writes that publish them; no FFmpeg.
//
// Every URI is relative to the manifest that holds it, so a package can be served from any
// path or origin (and signed URLs can carry their token in a path segment).
//
// Thread-safety: all functions are reentrant.
#ifndef KINO_MEDIA_MANIFEST_H_
#define KINO_MEDIA_MANIFEST_H_

#include <string>
#include <string_view>

#include "common/status.h"
#include "media/transcode.h"

namespace kino::media {

// A rendition's index.m3u8: a VOD media playlist over init.mp4 and its segments.
std::string BuildMediaPlaylist(const RenditionInfo& rendition);

// video.m3u8: one EXT-X-STREAM-INF per video rendition, in the order given (highest first),
// each tied to the "audio" EXT-X-MEDIA group when the package has an audio rendition.
std::string BuildMasterPlaylist(const PackageResult& package);

// video.mpd: a static MPD with one video and (if any) one audio AdaptationSet, each
// Representation addressing the same files through SegmentTemplate + SegmentTimeline.
std::string BuildMpd(const PackageResult& package);

// renditions.json and back. The parser treats its input as untrusted: kDataLoss when it is not
// a package document.
std::string PackageToJson(const PackageResult& package);
Result<PackageResult> PackageFromJson(std::string_view text);

// Writes `contents` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the directory, so readers see the old file or the new one, never a mix.
Status WriteFileAtomic(const std::string& path, std::string_view contents);

// Publishes `package` in `out_dir`: each rendition's index.m3u8 first, then video.mpd,
// video.m3u8 and renditions.json, each atomically.
Status WriteManifests(const std::string& out_dir, const PackageResult& package);

}  // namespace kino::media

#endif  // KINO_MEDIA_MANIFEST_H_

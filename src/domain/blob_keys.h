// Where a video's bytes live in the BlobStore. One place, so that uploads, processing,
// downloads, delivery and deletion agree.
#ifndef KINO_DOMAIN_BLOB_KEYS_H_
#define KINO_DOMAIN_BLOB_KEYS_H_

#include <string>
#include <string_view>

namespace kino::domain {

// Every blob of a video sits under this prefix; deleting the video deletes the prefix.
inline std::string VideoPrefix(std::string_view uid) {
  return "videos/" + std::string(uid);
}
// The uploaded file, as received.
inline std::string OriginalKey(std::string_view uid) {
  return VideoPrefix(uid) + "/original";
}
// The streaming package (renditions, HLS and DASH manifests): a directory of files.
inline std::string PackagePrefix(std::string_view uid) {
  return VideoPrefix(uid) + "/package";
}

}  // namespace kino::domain

#endif  // KINO_DOMAIN_BLOB_KEYS_H_

// BlobStore: where Kino keeps bytes (originals, renditions, downloads, thumbnails).
//
// Keys are relative slash-separated paths made of [A-Za-z0-9._-] segments
// ("videos/<uid>/original"); a key with an empty, "." or ".." segment is refused. Writes are
// atomic: a BlobWriter writes to a temporary name and Commit() makes the blob appear under its key
// whole, or not at all; a writer destroyed without Commit() leaves nothing behind.
//
// Thread-safety: a BlobStore may be used from any thread; a BlobWriter by one thread at a time.
#ifndef KINO_STORAGE_BLOB_STORE_H_
#define KINO_STORAGE_BLOB_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kino::storage {

struct BlobInfo {
  uint64_t size = 0;
  int64_t modified_micros = 0;
};

// A blob opened for reading from a local file: the descriptor, which the caller owns and
// closes, and the size and modification time that descriptor sees.
struct LocalBlob {
  int fd = -1;
  BlobInfo info;
};

class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual Status Write(std::string_view data) = 0;
  // Flushes to stable storage and publishes the blob under its key.
  virtual Status Commit() = 0;
  virtual uint64_t bytes_written() const = 0;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  virtual Result<std::unique_ptr<BlobWriter>> Create(std::string_view key) = 0;
  // Moves (same filesystem) or copies a local file into the store under `key`, atomically.
  virtual Status PutFile(std::string_view key, const std::string& local_path) = 0;
  // NotFound when absent.
  virtual Result<BlobInfo> Stat(std::string_view key) = 0;
  virtual Result<std::string> ReadAll(std::string_view key, uint64_t max_bytes) = 0;
  // OK when absent.
  virtual Status Delete(std::string_view key) = 0;
  // Deletes every blob whose key starts with `prefix` + "/". OK when none.
  virtual Status DeletePrefix(std::string_view prefix) = 0;
  // Bytes stored under `prefix` + "/".
  virtual Result<uint64_t> SizeOfPrefix(std::string_view prefix) = 0;
  // A filesystem path for the blob when the store keeps blobs as local files (used for
  // sendfile(2) and for handing files to the media library); nullopt otherwise.
  virtual std::optional<std::string> LocalPath(std::string_view key) const = 0;
  // Opens the blob's local file for reading (delivery sends from the descriptor with
  // sendfile(2)). NotFound, naming the key only, when absent; FailedPrecondition when the store
  // keeps no local files.
  virtual Result<LocalBlob> OpenLocal(std::string_view key) = 0;
};

// True when `key` is a valid blob key (see above).
bool IsValidBlobKey(std::string_view key);

// A BlobStore over a directory of the local filesystem. Temporary files live in `root`/.tmp
// and are cleared on open, so a crash mid-write leaves nothing under a final name.
Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::string& root);

// Writes `data` to `path` atomically (temp file in the same directory, fsync, rename, fsync of
// the directory). For manifests and small files outside a BlobStore.
Status WriteFileAtomically(const std::string& path, std::string_view data);

}  // namespace kino::storage

#endif  // KINO_STORAGE_BLOB_STORE_H_

// A download file written under a temporary name and renamed into place once complete, so a
// reader never sees a half-written file under the final name.
#ifndef KINO_MEDIA_DOWNLOAD_OUTPUT_H_
#define KINO_MEDIA_DOWNLOAD_OUTPUT_H_

#include <string>

#include "common/status.h"

namespace kino::media {

// Owns `final_path + ".tmp"` from Create() until Commit(). Destroying it uncommitted closes and
// removes the temporary file. Movable, not copyable; not thread-safe.
class AtomicOutputFile {
 public:
  // Creates (or truncates) the temporary file for writing. Internal on failure (with errno text).
  static Result<AtomicOutputFile> Create(const std::string& final_path);
  AtomicOutputFile(AtomicOutputFile&& other) noexcept;
  AtomicOutputFile& operator=(AtomicOutputFile&& other) = delete;
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;
  ~AtomicOutputFile();

  int fd() const { return fd_; }
  const std::string& temp_path() const { return temp_path_; }

  // fsync(2)s the data now, so that Commit() need not. Touches only the descriptor: it may run
  // on another thread while this one reads the file through fd(), nothing else.
  Status Sync();

  // fsync(2)s the data (unless Sync() did), closes it, renames it to the final path and fsyncs
  // the directory so the rename survives a crash. On failure the temporary file is removed.
  Status Commit();

 private:
  AtomicOutputFile(std::string final_path, int fd);
  void Discard();

  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  bool synced_ = false;
};

}  // namespace kino::media

#endif  // KINO_MEDIA_DOWNLOAD_OUTPUT_H_

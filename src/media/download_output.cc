#include "media/download_output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace kino::media {
namespace {

Status ErrnoStatus(std::string_view call, const std::string& path) {
  return Internal(std::string(call) + " " + path + ": " + std::strerror(errno));
}

std::string ParentDirectory(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<AtomicOutputFile> AtomicOutputFile::Create(const std::string& final_path) {
  std::string temp = final_path + ".tmp";
  // Read and write: the writer may read what it wrote (to hash it) before committing.
  int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoStatus("open", temp);
  }
  return AtomicOutputFile(final_path, fd);
}

AtomicOutputFile::AtomicOutputFile(std::string final_path, int fd)
    : final_path_(std::move(final_path)), temp_path_(final_path_ + ".tmp"), fd_(fd) {}

AtomicOutputFile::AtomicOutputFile(AtomicOutputFile&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)),
      synced_(other.synced_) {}

AtomicOutputFile::~AtomicOutputFile() {
  Discard();
}

void AtomicOutputFile::Discard() {
  if (fd_ < 0) {
    return;
  }
  ::close(fd_);
  fd_ = -1;
  ::unlink(temp_path_.c_str());
}

Status AtomicOutputFile::Sync() {
  if (::fsync(fd_) != 0) {
    return ErrnoStatus("fsync", temp_path_);
  }
  synced_ = true;
  return Status::Ok();
}

Status AtomicOutputFile::Commit() {
  if (!synced_) {
    if (Status status = Sync(); !status.ok()) {
      Discard();
      return status;
    }
  }
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0 || ::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    Status status = ErrnoStatus("close/rename", temp_path_);
    ::unlink(temp_path_.c_str());
    return status;
  }

  // The rename lives in the directory; sync it too so the new name survives a crash.
  std::string dir = ParentDirectory(final_path_);
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

}  // namespace kino::media

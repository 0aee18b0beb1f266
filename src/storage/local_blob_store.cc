#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/random.h"
#include "storage/blob_store.h"

namespace kino::storage {
namespace {

namespace fs = std::filesystem;

Status ErrnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) {
    return NotFound(msg);
  }
  if (err == ENOSPC || err == EDQUOT) {
    return ResourceExhausted(msg);
  }
  return Internal(msg);
}

BlobInfo InfoOf(const struct stat& st) {
  BlobInfo info;
  info.size = static_cast<uint64_t>(st.st_size);
  info.modified_micros =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
  return info;
}

Status FsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus("open", path, errno);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : ErrnoStatus("fsync", path, err);
}

Status MakeParentDirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) {
    return Internal("creating directories for " + path + ": " + ec.message());
  }
  return Status::Ok();
}

class LocalBlobWriter : public BlobWriter {
 public:
  LocalBlobWriter(int fd, std::string temp_path, std::string final_path)
      : fd_(fd), temp_path_(std::move(temp_path)), final_path_(std::move(final_path)) {}

  ~LocalBlobWriter() override {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    if (!committed_) {
      ::unlink(temp_path_.c_str());
    }
  }

  Status Write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return ErrnoStatus("write", temp_path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
      bytes_ += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status Commit() override {
    if (::fsync(fd_) != 0) {
      return ErrnoStatus("fsync", temp_path_, errno);
    }
    ::close(fd_);
    fd_ = -1;
    KINO_RETURN_IF_ERROR(MakeParentDirs(final_path_));
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      return ErrnoStatus("rename", final_path_, errno);
    }
    committed_ = true;
    return FsyncPath(fs::path(final_path_).parent_path().string(), O_RDONLY | O_DIRECTORY);
  }

  uint64_t bytes_written() const override { return bytes_; }

 private:
  int fd_;
  std::string temp_path_;
  std::string final_path_;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

class LocalBlobStore : public BlobStore {
 public:
  explicit LocalBlobStore(std::string root) : root_(std::move(root)) {}

  Result<std::unique_ptr<BlobWriter>> Create(std::string_view key) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    std::string temp = TempPath();
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      return ErrnoStatus("create", temp, errno);
    }
    return std::unique_ptr<BlobWriter>(std::make_unique<LocalBlobWriter>(fd, temp, path));
  }

  Status PutFile(std::string_view key, const std::string& local_path) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    KINO_RETURN_IF_ERROR(MakeParentDirs(path));
    KINO_RETURN_IF_ERROR(FsyncPath(local_path, O_RDONLY));
    if (::rename(local_path.c_str(), path.c_str()) == 0) {
      return FsyncPath(fs::path(path).parent_path().string(), O_RDONLY | O_DIRECTORY);
    }
    if (errno != EXDEV) {
      return ErrnoStatus("rename", path, errno);
    }
    // Another filesystem: copy to a temp name beside the target, then rename.
    std::string temp = TempPath();
    std::error_code ec;
    fs::copy_file(local_path, temp, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return Internal("copying " + local_path + ": " + ec.message());
    }
    KINO_RETURN_IF_ERROR(FsyncPath(temp, O_RDONLY));
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(temp.c_str());
      return ErrnoStatus("rename", path, err);
    }
    ::unlink(local_path.c_str());
    return Status::Ok();
  }

  Result<BlobInfo> Stat(std::string_view key) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return ErrnoStatus("stat", path, errno);
    }
    if (!S_ISREG(st.st_mode)) {
      return NotFound("not a blob: " + std::string(key));
    }
    return InfoOf(st);
  }

  Result<LocalBlob> OpenLocal(std::string_view key) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      // The message may reach a client (a delivery 404): it names the key, not the path.
      std::string message = "open " + std::string(key) + ": " + std::strerror(err);
      return err == ENOENT || err == ENOTDIR ? NotFound(message) : Internal(message);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return NotFound("not a blob: " + std::string(key));
    }
    return LocalBlob{fd, InfoOf(st)};
  }

  Result<std::string> ReadAll(std::string_view key, uint64_t max_bytes) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return ErrnoStatus("open", path, errno);
    }
    std::string out;
    char buf[65536];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        int err = errno;
        ::close(fd);
        if (n < 0) {
          return ErrnoStatus("read", path, err);
        }
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > max_bytes) {
        ::close(fd);
        return ResourceExhausted("blob larger than " + std::to_string(max_bytes) + " bytes");
      }
    }
  }

  Status Delete(std::string_view key) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(key));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus("unlink", path, errno);
    }
    return Status::Ok();
  }

  Status DeletePrefix(std::string_view prefix) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(prefix));
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) {
      return Internal("removing " + path + ": " + ec.message());
    }
    return Status::Ok();
  }

  Result<uint64_t> SizeOfPrefix(std::string_view prefix) override {
    KINO_ASSIGN_OR_RETURN(std::string path, PathFor(prefix));
    uint64_t total = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) {
        total += it->file_size(ec);
      }
    }
    return total;
  }

  std::optional<std::string> LocalPath(std::string_view key) const override {
    if (!IsValidBlobKey(key)) {
      return std::nullopt;
    }
    return root_ + "/" + std::string(key);
  }

  Status Init() {
    std::error_code ec;
    fs::remove_all(root_ + "/.tmp", ec);
    fs::create_directories(root_ + "/.tmp", ec);
    if (ec) {
      return Internal("creating " + root_ + "/.tmp: " + ec.message());
    }
    return Status::Ok();
  }

 private:
  Result<std::string> PathFor(std::string_view key) const {
    if (!IsValidBlobKey(key)) {
      return InvalidArgument("invalid blob key");
    }
    return root_ + "/" + std::string(key);
  }

  std::string TempPath() const { return root_ + "/.tmp/" + RandomHex(12); }

  std::string root_;
};

}  // namespace

bool IsValidBlobKey(std::string_view key) {
  if (key.empty() || key.size() > 1024 || key.front() == '/' || key.back() == '/') {
    return false;
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    std::string_view seg =
        key.substr(start, end == std::string_view::npos ? key.npos : end - start);
    if (seg.empty() || seg == "." || seg == ".." || seg.front() == '.') {
      return false;
    }
    for (char c : seg) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
      if (!ok) {
        return false;
      }
    }
    if (end == std::string_view::npos) {
      break;
    }
    start = end + 1;
  }
  return true;
}

Result<std::unique_ptr<BlobStore>> OpenLocalBlobStore(const std::string& root) {
  auto store = std::make_unique<LocalBlobStore>(root);
  KINO_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<BlobStore>(std::move(store));
}

Status WriteFileAtomically(const std::string& path, std::string_view data) {
  KINO_RETURN_IF_ERROR(MakeParentDirs(path));
  std::string temp = path + ".tmp-" + RandomHex(6);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoStatus("create", temp, errno);
  }
  LocalBlobWriter writer(fd, temp, path);
  KINO_RETURN_IF_ERROR(writer.Write(data));
  return writer.Commit();
}

}  // namespace kino::storage

#include "media/mp4_concat_io.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kino::media {
namespace {

constexpr int kIoBufferSize = 64 * 1024;

Status StatFile(const std::string& path, int64_t* size) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    std::string msg = "stat " + path + ": " + std::strerror(err);
    return err == ENOENT ? NotFound(msg) : Internal(msg);
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument(path + " is not a regular file");
  }
  *size = st.st_size;
  return Status::Ok();
}

int ReadPacket(void* opaque, uint8_t* buf, int buf_size) {
  return static_cast<ConcatFileReader*>(opaque)->Read(buf, buf_size);
}

int64_t SeekStream(void* opaque, int64_t offset, int whence) {
  return static_cast<ConcatFileReader*>(opaque)->Seek(offset, whence);
}

}  // namespace

Result<std::unique_ptr<ConcatFileReader>> ConcatFileReader::Open(std::vector<std::string> paths) {
  if (paths.empty()) {
    return InvalidArgument("no files to read");
  }
  std::unique_ptr<ConcatFileReader> reader(new ConcatFileReader());
  reader->starts_.push_back(0);
  for (const std::string& path : paths) {
    int64_t size = 0;
    KINO_RETURN_IF_ERROR(StatFile(path, &size));
    reader->starts_.push_back(reader->starts_.back() + size);
  }
  reader->paths_ = std::move(paths);
  return reader;
}

ConcatFileReader::~ConcatFileReader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

int ConcatFileReader::OpenFileAt(size_t index) {
  if (fd_ >= 0 && open_index_ == index) {
    return 0;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  fd_ = ::open(paths_[index].c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    return AVERROR(errno);
  }
  open_index_ = index;
  return 0;
}

int ConcatFileReader::Read(uint8_t* buf, int buf_size) {
  if (position_ >= size()) {
    return AVERROR_EOF;
  }
  // The file holding position_: the last start that is <= position_.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), position_);
  size_t index = static_cast<size_t>(it - starts_.begin()) - 1;
  int err = OpenFileAt(index);
  if (err < 0) {
    return err;
  }
  int64_t in_file = position_ - starts_[index];
  int64_t want = std::min<int64_t>(buf_size, starts_[index + 1] - position_);
  ssize_t got = ::pread(fd_, buf, static_cast<size_t>(want), in_file);
  if (got < 0) {
    return AVERROR(errno);
  }
  if (got == 0) {
    return AVERROR_EOF;  // the file shrank since Open(); treat the rest as missing
  }
  position_ += got;
  return static_cast<int>(got);
}

int64_t ConcatFileReader::Seek(int64_t offset, int whence) {
  int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
      return size();
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = position_ + offset;
      break;
    case SEEK_END:
      target = size() + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0) {
    return AVERROR(EINVAL);
  }
  position_ = target;
  return position_;
}

Result<FragmentedInput> OpenFragmentedInput(const FragmentedTrack& track) {
  std::vector<std::string> paths;
  paths.reserve(track.segment_paths.size() + 1);
  paths.push_back(track.init_path);
  paths.insert(paths.end(), track.segment_paths.begin(), track.segment_paths.end());

  FragmentedInput input;
  KINO_ASSIGN_OR_RETURN(input.reader, ConcatFileReader::Open(std::move(paths)));
  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) {
    return ResourceExhausted("av_malloc failed");
  }
  input.io.reset(avio_alloc_context(buffer, kIoBufferSize, /*write_flag=*/0, input.reader.get(),
                                    &ReadPacket, nullptr, &SeekStream));
  if (!input.io) {
    av_free(buffer);
    return ResourceExhausted("avio_alloc_context failed");
  }

  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) {
    return ResourceExhausted("avformat_alloc_context failed");
  }
  raw->pb = input.io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  // On failure avformat_open_input frees `raw` (but never a custom pb).
  int err = avformat_open_input(&raw, nullptr, av_find_input_format("mp4"), nullptr);
  if (err < 0) {
    return InvalidArgument("rendition " + track.init_path +
                           " is not readable MP4: " + AvErrorText(err));
  }
  input.format.reset(raw);
  err = avformat_find_stream_info(raw, nullptr);
  if (err < 0) {
    return InvalidArgument("rendition " + track.init_path + ": " + AvErrorText(err));
  }
  return input;
}

Result<AvInputPtr> OpenMediaFile(const std::string& path) {
  int64_t size = 0;
  KINO_RETURN_IF_ERROR(StatFile(path, &size));
  AVFormatContext* raw = nullptr;
  int err = avformat_open_input(&raw, path.c_str(), nullptr, nullptr);
  if (err < 0) {
    return InvalidArgument(path + " is not readable media: " + AvErrorText(err));
  }
  AvInputPtr format(raw);
  err = avformat_find_stream_info(raw, nullptr);
  if (err < 0) {
    return InvalidArgument(path + ": " + AvErrorText(err));
  }
  return format;
}

}  // namespace kino::media

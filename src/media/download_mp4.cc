#include "media/download_mp4.h"

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/crypto.h"
#include "media/download_output.h"
#include "media/mp4_box.h"
#include "media/mp4_flatten.h"
#include "media/mp4_fragments.h"

namespace kino::media {
namespace {

constexpr size_t kFallbackBufferBytes = 1 << 20;

// A rendition to put in the download and what it must hold.
struct Source {
  const FragmentedTrack* files;
  uint32_t handler;                      // 'vide' or 'soun'
  std::vector<uint32_t> sample_entries;  // accepted stsd entry types
};

Result<Mp4TrackIndex> IndexSource(const Source& source) {
  KINO_ASSIGN_OR_RETURN(Mp4TrackIndex index, IndexFragmentedTrack(*source.files, source.handler));
  for (uint32_t entry : source.sample_entries) {
    if (index.info.sample_entry == entry) {
      return index;
    }
  }
  return InvalidArgument("rendition " + source.files->init_path + " holds " +
                         FourCcText(index.info.sample_entry) + ", not the expected codec");
}

// The source segment files, one open descriptor per track at a time: chunks are copied in
// time order, so each track moves through its segments once.
class SegmentFiles {
 public:
  explicit SegmentFiles(std::vector<const FragmentedTrack*> tracks)
      : tracks_(std::move(tracks)), open_(tracks_.size()) {}
  ~SegmentFiles() {
    for (const OpenFile& f : open_) {
      if (f.fd >= 0) {
        ::close(f.fd);
      }
    }
  }
  SegmentFiles(const SegmentFiles&) = delete;
  SegmentFiles& operator=(const SegmentFiles&) = delete;

  Result<int> Get(uint32_t track, uint32_t segment) {
    OpenFile& f = open_[track];
    if (f.fd >= 0 && f.segment == segment) {
      return f.fd;
    }
    if (f.fd >= 0) {
      ::close(f.fd);
    }
    const std::string& path = tracks_[track]->segment_paths[segment];
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    f.segment = segment;
    if (f.fd < 0) {
      int err = errno;
      std::string msg = "open " + path + ": " + std::strerror(err);
      return err == ENOENT ? NotFound(msg) : Internal(msg);
    }
    ::posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return f.fd;
  }

 private:
  struct OpenFile {
    int fd = -1;
    uint32_t segment = 0;
  };
  std::vector<const FragmentedTrack*> tracks_;
  std::vector<OpenFile> open_;
};

// Writes all `size` bytes of `data` at `offset`. False, with errno set, on failure.
bool PwriteAll(int fd, const char* data, size_t size, uint64_t offset) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (n == 0) {
        errno = EIO;  // no progress on a regular file: do not spin
      }
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Copies `length` bytes between files inside the kernel with copy_file_range(2), falling back
// to a buffer (pread, pwrite) where the kernel or file system cannot (different file systems,
// old kernels).
class RangeCopier {
 public:
  explicit RangeCopier(int out_fd) : out_fd_(out_fd) {}

  Status Copy(int in_fd, uint64_t in_offset, uint64_t out_offset, uint64_t length) {
    while (length > 0) {
      ssize_t n = fallback_ ? CopyThroughBuffer(in_fd, in_offset, out_offset, length)
                            : CopyInKernel(in_fd, in_offset, out_offset, length);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && !fallback_ && IsUnsupported(errno)) {
        fallback_ = true;
        continue;
      }
      if (n < 0) {
        return Internal(std::string("copying media data: ") + std::strerror(errno));
      }
      if (n == 0) {
        return DataLoss("a segment file is shorter than its index (changed while copying?)");
      }
      in_offset += static_cast<uint64_t>(n);
      out_offset += static_cast<uint64_t>(n);
      length -= static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

 private:
  static bool IsUnsupported(int err) {
    return err == EXDEV || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL;
  }

  ssize_t CopyInKernel(int in_fd, uint64_t in_offset, uint64_t out_offset, uint64_t length) {
    auto in = static_cast<off64_t>(in_offset);
    auto out = static_cast<off64_t>(out_offset);
    return ::copy_file_range(in_fd, &in, out_fd_, &out, length, 0);
  }

  ssize_t CopyThroughBuffer(int in_fd, uint64_t in_offset, uint64_t out_offset, uint64_t length) {
    buffer_.resize(kFallbackBufferBytes);
    size_t want = static_cast<size_t>(std::min<uint64_t>(length, buffer_.size()));
    ssize_t got = ::pread(in_fd, buffer_.data(), want, static_cast<off_t>(in_offset));
    if (got <= 0) {
      return got;
    }
    return PwriteAll(out_fd_, buffer_.data(), static_cast<size_t>(got), out_offset) ? got : -1;
  }

  int out_fd_;
  bool fallback_ = false;
  std::vector<char> buffer_;
};

// The SHA-256 of the first `size` bytes of the open file `fd`, read through a shared mapping
// of its page cache (no copy into a buffer); through pread where the file cannot be mapped.
Result<std::string> Sha256OfFile(int fd, uint64_t size) {
  Sha256Hasher hasher;
  void* map = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  if (map != MAP_FAILED) {
    ::madvise(map, static_cast<size_t>(size), MADV_SEQUENTIAL);
    hasher.Update(std::string_view(static_cast<const char*>(map), static_cast<size_t>(size)));
    ::munmap(map, static_cast<size_t>(size));
    return hasher.Finish();
  }
  std::vector<char> buffer(kFallbackBufferBytes);
  uint64_t offset = 0;
  while (offset < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(size - offset, buffer.size()));
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return Internal(std::string("reading the download back to hash it: ") +
                      (n < 0 ? std::strerror(errno) : "file shorter than written"));
    }
    hasher.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    offset += static_cast<uint64_t>(n);
  }
  return hasher.Finish();
}

Status WriteHeader(int fd, const std::string& header) {
  if (!PwriteAll(fd, header.data(), header.size(), 0)) {
    return Internal(std::string("writing download header: ") + std::strerror(errno));
  }
  return Status::Ok();
}

// Copies one chunk's samples, merging samples that are contiguous in the same segment file
// into one copy (within a fragment they always are).
Status CopyChunk(const Mp4Chunk& chunk, const Mp4TrackIndex& track, SegmentFiles& files,
                 RangeCopier& copier, uint64_t* out_offset) {
  const Mp4Sample* samples = track.samples.data() + chunk.first_sample;
  uint32_t i = 0;
  while (i < chunk.sample_count) {
    const Mp4Sample& first = samples[i];
    uint64_t length = first.size;
    for (++i; i < chunk.sample_count; ++i) {
      const Mp4Sample& s = samples[i];
      if (s.segment != first.segment || s.offset != first.offset + length) {
        break;
      }
      length += s.size;
    }
    KINO_ASSIGN_OR_RETURN(int fd, files.Get(chunk.track, first.segment));
    KINO_RETURN_IF_ERROR(copier.Copy(fd, first.offset, *out_offset, length));
    *out_offset += length;
  }
  return Status::Ok();
}

Status CopyPayload(const Mp4FlatLayout& layout, const std::vector<Mp4TrackIndex>& tracks,
                   const std::vector<const FragmentedTrack*>& track_files, int out_fd,
                   const DownloadProgressFn& progress) {
  SegmentFiles files(track_files);
  RangeCopier copier(out_fd);
  uint64_t out_offset = layout.header.size();
  uint64_t copied = 0;
  for (const Mp4Chunk& chunk : layout.chunks) {
    KINO_RETURN_IF_ERROR(CopyChunk(chunk, tracks[chunk.track], files, copier, &out_offset));
    copied += chunk.bytes;
    // Progress is bytes copied over the total; the last step (1.0) waits for the fsync.
    double fraction = static_cast<double>(copied) / static_cast<double>(layout.payload_bytes + 1);
    if (progress && !progress(fraction)) {
      return Cancelled("download cancelled");
    }
  }
  return Status::Ok();
}

// Indexes the renditions, lays out the progressive file and writes it in one pass of media I/O:
// the header from memory, then every sample copied once from the fragments' mdat boxes.
Status MakeProgressive(const std::vector<Source>& sources, Mp4Brand brand,
                       const std::string& out_path, const DownloadProgressFn& progress,
                       WrittenDownload* written) {
  std::vector<Mp4TrackIndex> tracks;
  std::vector<const FragmentedTrack*> track_files;
  for (const Source& source : sources) {
    KINO_ASSIGN_OR_RETURN(Mp4TrackIndex index, IndexSource(source));
    tracks.push_back(std::move(index));
    track_files.push_back(source.files);
  }
  std::vector<const Mp4TrackIndex*> track_ptrs;
  for (const Mp4TrackIndex& track : tracks) {
    track_ptrs.push_back(&track);
  }
  KINO_ASSIGN_OR_RETURN(Mp4FlatLayout layout, FlattenMp4(track_ptrs, brand));

  KINO_ASSIGN_OR_RETURN(AtomicOutputFile file, AtomicOutputFile::Create(out_path));
  KINO_RETURN_IF_ERROR(WriteHeader(file.fd(), layout.header));
  KINO_RETURN_IF_ERROR(CopyPayload(layout, tracks, track_files, file.fd(), progress));
  uint64_t size = layout.header.size() + layout.payload_bytes;
  if (written == nullptr) {
    KINO_RETURN_IF_ERROR(file.Commit());
  } else {
    // The SHA-256 is CPU work and the fsync is mostly waiting for the disk: the file is
    // hashed from the page cache while a second thread syncs it. Both read the file only.
    Status synced;
    std::thread syncer([&file, &synced] { synced = file.Sync(); });
    Result<std::string> digest = Sha256OfFile(file.fd(), size);
    syncer.join();
    KINO_RETURN_IF_ERROR(synced);
    KINO_RETURN_IF_ERROR(digest.status());
    KINO_RETURN_IF_ERROR(file.Commit());
    written->size = size;
    written->sha256 = std::move(*digest);
  }
  if (progress) {
    progress(1.0);  // done; a cancel now is too late to matter
  }
  return Status::Ok();
}

Source VideoSource(const FragmentedTrack& track) {
  return Source{&track, FourCc("vide"), {FourCc("avc1"), FourCc("avc3")}};
}

Source AudioSource(const FragmentedTrack& track) {
  return Source{&track, FourCc("soun"), {FourCc("mp4a")}};
}

}  // namespace

Status MakeDownloadMp4(const FragmentedTrack& video, const FragmentedTrack* audio,
                       const std::string& out_path, const DownloadProgressFn& progress,
                       WrittenDownload* written) {
  std::vector<Source> sources = {VideoSource(video)};
  if (audio != nullptr) {
    sources.push_back(AudioSource(*audio));
  }
  return MakeProgressive(sources, Mp4Brand::kMp4, out_path, progress, written);
}

Status MakeDownloadM4a(const FragmentedTrack& audio, const std::string& out_path,
                       const DownloadProgressFn& progress, WrittenDownload* written) {
  return MakeProgressive({AudioSource(audio)}, Mp4Brand::kM4a, out_path, progress, written);
}

}  // namespace kino::media

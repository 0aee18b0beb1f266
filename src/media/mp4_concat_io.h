// Reading a CMAF rendition through libavformat as if it were one fragmented MP4 file.
//
// The init segment followed by the fragments, byte for byte, is a valid fragmented MP4
// (ISO/IEC 14496-12 section 8.8); a custom AVIOContext serves that concatenation without
// copying the files, so the mp4 demuxer can open, seek and read it.
#ifndef KINO_MEDIA_MP4_CONCAT_IO_H_
#define KINO_MEDIA_MP4_CONCAT_IO_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "media/av_util.h"
#include "media/mp4_fragmented.h"

namespace kino::media {

// A read-only, seekable byte stream over several files laid end to end. The sizes are taken
// when it is opened; a file that shrinks later reads as a short stream (EOF), never as garbage.
// Holds at most one file descriptor open at a time. Not thread-safe.
class ConcatFileReader {
 public:
  // NotFound when a file is missing, Internal for other open/stat failures, InvalidArgument
  // when `paths` is empty.
  static Result<std::unique_ptr<ConcatFileReader>> Open(std::vector<std::string> paths);
  ~ConcatFileReader();
  ConcatFileReader(const ConcatFileReader&) = delete;
  ConcatFileReader& operator=(const ConcatFileReader&) = delete;

  // Reads up to `buf_size` bytes at the current position: the byte count, AVERROR_EOF at the end,
  // or another negative AVERROR on an I/O failure.
  int Read(uint8_t* buf, int buf_size);
  // AVIOContext seek semantics: SEEK_SET/SEEK_CUR/SEEK_END and AVSEEK_SIZE.
  int64_t Seek(int64_t offset, int whence);
  int64_t size() const { return starts_.back(); }

 private:
  ConcatFileReader() = default;
  int OpenFileAt(size_t index);

  std::vector<std::string> paths_;
  std::vector<int64_t> starts_;  // starts_[i] = offset of file i; starts_.back() = total size
  int64_t position_ = 0;
  size_t open_index_ = 0;
  int fd_ = -1;
};

// A demuxer opened on a rendition. Members are declared so that the format context is closed
// before the AVIOContext it reads from, and that before the reader.
struct FragmentedInput {
  std::unique_ptr<ConcatFileReader> reader;
  AvIoContextPtr io;
  AvInputPtr format;
};

// Opens `track` (init first, then the segments) with libavformat and reads its stream info.
// Errors: those of ConcatFileReader::Open; InvalidArgument when libavformat cannot parse it.
Result<FragmentedInput> OpenFragmentedInput(const FragmentedTrack& track);

// Opens a normal media file by path and reads its stream info. NotFound when it is missing.
Result<AvInputPtr> OpenMediaFile(const std::string& path);

}  // namespace kino::media

#endif  // KINO_MEDIA_MP4_CONCAT_IO_H_

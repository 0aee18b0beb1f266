// Reading and writing ISO base media file format boxes (ISO/IEC 14496-12 section 4.2): the
// byte-level tools under the download flattener. Big-endian throughout, as the standard says.
//
// Everything here works on bytes in memory and is bounds-checked: a malformed size or a read
// past the end is reported, never undefined behaviour. Not thread-safe per object.
#ifndef KINO_MEDIA_MP4_BOX_H_
#define KINO_MEDIA_MP4_BOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kino::media {

// A four-character code as a big-endian integer: FourCc("moov").
constexpr uint32_t FourCc(const char (&code)[5]) {
  return static_cast<uint32_t>(static_cast<uint8_t>(code[0])) << 24 |
         static_cast<uint32_t>(static_cast<uint8_t>(code[1])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(code[2])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(code[3]));
}
std::string FourCcText(uint32_t type);

// One box inside a buffer: `whole` spans header and payload, `payload` the bytes after the
// header (after size, type and, for size 1, the 64-bit largesize; section 4.2).
struct Box {
  uint32_t type = 0;
  std::string_view whole;
  std::string_view payload;
};

// Splits `data` into consecutive boxes. nullopt when a size is smaller than its header or runs
// past the end of `data`. A size of 0 ("to the end") takes the rest of `data`.
std::optional<std::vector<Box>> ParseBoxes(std::string_view data);

// The first box of `type`, or null.
const Box* FindBox(const std::vector<Box>& boxes, uint32_t type);

// Sequential big-endian reads with a sticky failure flag: after a read past the end, every read
// returns 0 and ok() is false, so a parser can read a whole structure and check once.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}
  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  // The (version, flags) header of a full box (section 4.2).
  void FullBoxHeader(uint8_t* version, uint32_t* flags);
  std::string_view Bytes(size_t count);
  void Skip(size_t count);
  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }

 private:
  uint64_t ReadBigEndian(size_t count);

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Appends boxes to a growing buffer. Begin()/End() nest; End() fills in the size of the box
// opened last (32-bit; boxes over 4 GiB are not built in memory here, see the mdat header).
class BoxWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Bytes(std::string_view bytes) { out_.append(bytes); }
  void Zeros(size_t count) { out_.append(count, '\0'); }

  void Begin(uint32_t type);
  // A full box: header plus version and 24-bit flags (section 4.2).
  void BeginFull(uint32_t type, uint8_t version, uint32_t flags);
  void End();

  const std::string& data() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
  std::vector<size_t> open_;
};

}  // namespace kino::media

#endif  // KINO_MEDIA_MP4_BOX_H_

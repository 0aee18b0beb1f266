#include "media/mp4_box.h"

#include <cassert>

namespace kino::media {

std::string FourCcText(uint32_t type) {
  std::string text(4, '?');
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((type >> (24 - 8 * i)) & 0xff);
    text[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return text;
}

std::optional<std::vector<Box>> ParseBoxes(std::string_view data) {
  std::vector<Box> boxes;
  size_t pos = 0;
  while (pos < data.size()) {
    ByteReader header(data.substr(pos));
    uint64_t size = header.U32();
    uint32_t type = header.U32();
    size_t header_size = 8;
    // Section 4.2: size 1 means a 64-bit largesize follows; 0 means "to the end".
    if (size == 1) {
      size = header.U64();
      header_size = 16;
    } else if (size == 0) {
      size = data.size() - pos;
    }
    if (!header.ok() || size < header_size || size > data.size() - pos) {
      return std::nullopt;
    }
    std::string_view whole = data.substr(pos, size);
    boxes.push_back(Box{type, whole, whole.substr(header_size)});
    pos += size;
  }
  return boxes;
}

const Box* FindBox(const std::vector<Box>& boxes, uint32_t type) {
  for (const Box& box : boxes) {
    if (box.type == type) {
      return &box;
    }
  }
  return nullptr;
}

uint64_t ByteReader::ReadBigEndian(size_t count) {
  if (!ok_ || data_.size() - pos_ < count) {
    ok_ = false;
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < count; ++i) {
    v = v << 8 | static_cast<uint8_t>(data_[pos_ + i]);
  }
  pos_ += count;
  return v;
}

uint8_t ByteReader::U8() {
  return static_cast<uint8_t>(ReadBigEndian(1));
}
uint16_t ByteReader::U16() {
  return static_cast<uint16_t>(ReadBigEndian(2));
}
uint32_t ByteReader::U32() {
  return static_cast<uint32_t>(ReadBigEndian(4));
}
uint64_t ByteReader::U64() {
  return ReadBigEndian(8);
}

void ByteReader::FullBoxHeader(uint8_t* version, uint32_t* flags) {
  uint32_t word = U32();
  *version = static_cast<uint8_t>(word >> 24);
  *flags = word & 0xffffff;
}

std::string_view ByteReader::Bytes(size_t count) {
  if (!ok_ || data_.size() - pos_ < count) {
    ok_ = false;
    return {};
  }
  std::string_view bytes = data_.substr(pos_, count);
  pos_ += count;
  return bytes;
}

void ByteReader::Skip(size_t count) {
  Bytes(count);
}

void BoxWriter::U16(uint16_t v) {
  U8(static_cast<uint8_t>(v >> 8));
  U8(static_cast<uint8_t>(v));
}

void BoxWriter::U32(uint32_t v) {
  U16(static_cast<uint16_t>(v >> 16));
  U16(static_cast<uint16_t>(v));
}

void BoxWriter::U64(uint64_t v) {
  U32(static_cast<uint32_t>(v >> 32));
  U32(static_cast<uint32_t>(v));
}

void BoxWriter::Begin(uint32_t type) {
  open_.push_back(out_.size());
  U32(0);  // size, filled in by End()
  U32(type);
}

void BoxWriter::BeginFull(uint32_t type, uint8_t version, uint32_t flags) {
  Begin(type);
  U32(static_cast<uint32_t>(version) << 24 | (flags & 0xffffff));
}

void BoxWriter::End() {
  assert(!open_.empty());
  size_t start = open_.back();
  open_.pop_back();
  uint64_t size = out_.size() - start;
  for (int i = 0; i < 4; ++i) {
    out_[start + i] = static_cast<char>((size >> (24 - 8 * i)) & 0xff);
  }
}

}  // namespace kino::media

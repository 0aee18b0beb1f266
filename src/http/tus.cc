#include "http/tus.h"

#include <optional>

#include "common/strings.h"

namespace kino::http {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Visible ASCII except the comma that separates pairs (the space was consumed by the split).
bool IsKeyChar(char c) {
  return c > 0x20 && c < 0x7f && c != ',';
}

// RFC 4648 section 4 base64. Padding, when present, must complete the last quantum; a value
// without padding is accepted because several tus clients leave it off.
std::optional<std::string> DecodeValue(std::string_view value) {
  size_t pad = 0;
  while (pad < value.size() && value[value.size() - 1 - pad] == '=') {
    ++pad;
  }
  if (pad > 2 || (pad > 0 && value.size() % 4 != 0)) {
    return std::nullopt;
  }
  return Base64Decode(value);
}

Status BadPair(std::string_view key, std::string_view why) {
  return InvalidArgument("Upload-Metadata: key \"" + std::string(key) + "\" " + std::string(why));
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> ParseUploadMetadata(
    std::string_view header) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (TrimSpaces(header).empty()) {
    return pairs;
  }

  for (std::string_view element : Split(header, ',')) {
    element = TrimSpaces(element);
    size_t space = element.find(' ');
    std::string_view key = element.substr(0, space);
    if (key.empty()) {
      return InvalidArgument(
          "Upload-Metadata: empty key (pairs are \"key base64value\", "
          "separated by commas)");
    }
    for (char c : key) {
      if (!IsKeyChar(c)) {
        return InvalidArgument(
            "Upload-Metadata: a key contains a character other than visible "
            "ASCII");
      }
    }

    std::string lower = AsciiLower(key);
    for (const auto& [existing, unused] : pairs) {
      if (existing == lower) {
        return BadPair(key, "appears more than once");
      }
    }

    std::string decoded;
    if (space != std::string_view::npos) {
      std::optional<std::string> value = DecodeValue(element.substr(space + 1));
      if (!value) {
        return BadPair(key, "has a value that is not valid base64");
      }
      decoded = std::move(*value);
    }
    pairs.emplace_back(std::move(lower), std::move(decoded));
  }
  return pairs;
}

Result<uint64_t> ParseTusOffset(std::string_view value, std::string_view header_name) {
  // ParseUint64 already refuses signs, spaces and overflow; also require digits only so that
  // nothing locale- or from_chars-specific slips through.
  bool digits = !value.empty();
  for (char c : value) {
    digits = digits && c >= '0' && c <= '9';
  }
  std::optional<uint64_t> n = digits ? ParseUint64(value) : std::nullopt;
  if (!n) {
    return InvalidArgument(std::string(header_name) +
                           " must be a non-negative integer (digits only, at most 2^64-1)");
  }
  return *n;
}

}  // namespace kino::http

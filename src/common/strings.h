// Small string helpers shared by every layer: hex, base64, case, strict number parsing.
#ifndef KINO_COMMON_STRINGS_H_
#define KINO_COMMON_STRINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kino {

std::string HexEncode(std::string_view bytes);
std::optional<std::string> HexDecode(std::string_view hex);

// RFC 4648 section 4 (standard, padded) and section 5 (URL-safe, unpadded on output).
std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);
// Decoders are strict: characters outside the alphabet fail. Base64Decode accepts missing
// padding; Base64UrlDecode refuses padding (JWS compact form has none, RFC 7515 section 2).
std::optional<std::string> Base64Decode(std::string_view text);
std::optional<std::string> Base64UrlDecode(std::string_view text);

std::string AsciiLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string_view TrimWhitespace(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);

// Whole-string decimal parsing: no sign for the unsigned form, no spaces, no trailing bytes,
// no overflow. nullopt otherwise.
std::optional<uint64_t> ParseUint64(std::string_view s);
std::optional<int64_t> ParseInt64(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

// Percent-decodes a URL component ('+' stays '+'); nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s);
std::string PercentEncode(std::string_view s);

}  // namespace kino

#endif  // KINO_COMMON_STRINGS_H_

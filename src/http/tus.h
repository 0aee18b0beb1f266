// Pieces of the tus 1.0.0 resumable upload protocol (https://tus.io/protocols/resumable-upload):
// header values the server must parse strictly, and the constants it advertises.
//
// Pure functions; safe from any thread.
#ifndef KINO_HTTP_TUS_H_
#define KINO_HTTP_TUS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kino::http {

inline constexpr std::string_view kTusVersion = "1.0.0";
inline constexpr std::string_view kTusExtensions =
    "creation,creation-with-upload,termination,expiration";

// Parses Upload-Metadata (tus 1.0.0, Creation extension): comma-separated pairs "key value"
// where value is standard base64, or a bare "key" (a flag). Returns the pairs in header order
// with keys lower-cased (Kino matches them case-insensitively, as Cloudflare's documentation
// mixes "maxDurationSeconds" and "requiresignedurls") and values decoded; a flag maps to "".
// Spaces and tabs around each pair are tolerated. An empty header gives an empty list.
// Errors (InvalidArgument, naming the key when there is one): an empty pair or key, a key with
// control or non-ASCII characters, a duplicate key (compared case-insensitively), a value that
// is not valid base64 (wrong alphabet, bad padding, extra spaces).
Result<std::vector<std::pair<std::string, std::string>>> ParseUploadMetadata(
    std::string_view header);

// Parses Upload-Length / Upload-Offset: 1*DIGIT with no sign, space or other byte, and no
// overflow of 64 bits. InvalidArgument naming `header_name` otherwise.
Result<uint64_t> ParseTusOffset(std::string_view value, std::string_view header_name);

}  // namespace kino::http

#endif  // KINO_HTTP_TUS_H_

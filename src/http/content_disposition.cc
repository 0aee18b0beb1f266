#include "http/content_disposition.h"

#include <array>

#include "common/strings.h"

namespace kino::http {
namespace {

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool EndsWithIgnoreCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsIgnoreCase(s.substr(s.size() - suffix.size()), suffix);
}

// attr-char of RFC 8187 section 3.2.1: sent as is inside filename*.
bool IsAttrChar(char c) {
  static constexpr std::string_view kExtra = "!#$&+-.^_`|~";
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         kExtra.find(c) != std::string_view::npos;
}

// Printable ASCII that can sit inside a quoted-string without escaping or being misread as an
// RFC 8187 escape by lenient clients.
bool IsPlainQuotedChar(char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%';
}

std::string Rfc8187Encode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "UTF-8''";
  for (char c : value) {
    auto b = static_cast<unsigned char>(c);
    if (IsAttrChar(c)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

// Suffixes that mean the meta.name was an uploaded file's name; after dots became '_'.
bool EndsWithMediaExtension(std::string_view s) {
  static constexpr std::array<std::string_view, 16> kExtensions = {
      "_mp4", "_m4v", "_m4a",  "_mov", "_mkv", "_webm", "_avi", "_flv",
      "_wmv", "_mpg", "_mpeg", "_ts",  "_3gp", "_mxf",  "_mp3", "_wav"};
  for (std::string_view ext : kExtensions) {
    if (s.size() > ext.size() && EndsWithIgnoreCase(s, ext)) {
      return true;
    }
  }
  return false;
}

void TrimSeparators(std::string& s) {
  while (!s.empty() && (s.back() == '_' || s.back() == '-')) {
    s.pop_back();
  }
  size_t start = 0;
  while (start < s.size() && (s[start] == '_' || s[start] == '-')) {
    ++start;
  }
  s.erase(0, start);
}

}  // namespace

Result<std::string> ValidateDownloadFilename(std::string_view name, std::string_view ext) {
  std::string_view base = name;
  if (!ext.empty() && EndsWithIgnoreCase(base, ext)) {
    base.remove_suffix(ext.size());
  }

  bool valid = !base.empty() && base.size() <= kMaxDownloadFilenameLength;
  for (char c : base) {
    valid = valid && IsNameChar(c);
  }
  if (!valid) {
    return InvalidArgument(
        "filename must be 1 to 120 characters of A-Z, a-z, 0-9, '-' and '_'; "
        "the extension " +
        std::string(ext) + " is added automatically");
  }
  return std::string(base) + std::string(ext);
}

std::string AttachmentHeader(std::string_view filename_with_ext) {
  std::string fallback;
  bool plain = true;
  for (char c : filename_with_ext) {
    bool ok = IsPlainQuotedChar(c);
    plain = plain && ok;
    fallback.push_back(ok ? c : '_');
  }

  std::string header = "attachment; filename=\"" + fallback + "\"";
  if (!plain) {
    header += "; filename*=" + Rfc8187Encode(filename_with_ext);
  }
  return header;
}

std::string SanitizeDefaultFilename(std::string_view meta_name, std::string_view fallback) {
  std::string out;
  for (char c : meta_name) {
    if (IsNameChar(c)) {
      out.push_back(c);
    } else if ((c == ' ' || c == '\t' || c == '.') && !out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }

  TrimSeparators(out);
  if (EndsWithMediaExtension(out)) {
    out.erase(out.rfind('_'));
    TrimSeparators(out);
  }
  if (out.size() > kMaxDownloadFilenameLength) {
    out.resize(kMaxDownloadFilenameLength);
    TrimSeparators(out);
  }
  return out.empty() ? std::string(fallback) : out;
}

}  // namespace kino::http

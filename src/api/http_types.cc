#include "api/http_types.h"

#include <unistd.h>

#include "common/strings.h"

namespace kino::api {

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (EqualsIgnoreCase(k, name)) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

std::string_view Headers::GetOr(std::string_view name, std::string_view fallback) const {
  auto v = Get(name);
  return v ? *v : fallback;
}

void Headers::Set(std::string_view name, std::string_view value) {
  Remove(name);
  Add(name, value);
}

void Headers::Add(std::string_view name, std::string_view value) {
  fields_.emplace_back(std::string(name), std::string(value));
}

void Headers::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) { return EqualsIgnoreCase(f.first, name); });
}

OpenFile::~OpenFile() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

uint64_t Response::ContentLength() const {
  if (parts.empty()) {
    return body.size();
  }
  uint64_t total = 0;
  for (const auto& p : parts) {
    if (const auto* s = std::get_if<std::string>(&p)) {
      total += s->size();
    } else {
      total += std::get<FileSlice>(p).length;
    }
  }
  return total;
}

std::optional<std::vector<std::string>> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  for (std::string_view raw : Split(path, '/')) {
    if (raw.empty()) {
      continue;
    }
    // An encoded slash would let a segment smuggle a path separator past the router.
    if (raw.find("%2f") != std::string_view::npos || raw.find("%2F") != std::string_view::npos) {
      return std::nullopt;
    }
    auto decoded = PercentDecode(raw);
    if (!decoded) {
      return std::nullopt;
    }
    out.push_back(std::move(*decoded));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view pair : Split(query, '&')) {
    if (pair.empty()) {
      continue;
    }
    size_t eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    for (char& c : value) {
      if (c == '+') {
        c = ' ';
      }
    }
    auto k = PercentDecode(key);
    auto v = PercentDecode(value);
    if (k) {
      out.emplace_back(std::move(*k), v ? std::move(*v) : std::move(value));
    }
  }
  return out;
}

}  // namespace kino::api

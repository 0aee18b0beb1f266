#include "storage/database.h"

#include <cmath>

namespace kino::storage {

int64_t Row::Int(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* p = std::get_if<int64_t>(&v)) {
    return *p;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    return static_cast<int64_t>(std::llround(*d));
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    return std::strtoll(s->c_str(), nullptr, 10);
  }
  return 0;
}

double Row::Real(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* d = std::get_if<double>(&v)) {
    return *d;
  }
  if (const auto* p = std::get_if<int64_t>(&v)) {
    return static_cast<double>(*p);
  }
  if (const auto* s = std::get_if<std::string>(&v)) {
    return std::strtod(s->c_str(), nullptr);
  }
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) {
    return *s;
  }
  if (const auto* p = std::get_if<int64_t>(&v)) {
    return std::to_string(*p);
  }
  if (const auto* d = std::get_if<double>(&v)) {
    return std::to_string(*d);
  }
  return "";
}

std::optional<std::string> Row::OptText(size_t i) const {
  if (IsNull(i)) {
    return std::nullopt;
  }
  return Text(i);
}

std::optional<int64_t> Row::OptInt(size_t i) const {
  if (IsNull(i)) {
    return std::nullopt;
  }
  return Int(i);
}

}  // namespace kino::storage

// BodyReader: how a streaming route reads a request body that may be gigabytes long, a chunk
// at a time, with the server's timeouts applied to every read.
#ifndef KINO_API_BODY_READER_H_
#define KINO_API_BODY_READER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>  // Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>

#include "common/status.h"

namespace kino::api {

class BodyReader {
 public:
  virtual ~BodyReader() = default;
  // Reads up to `capacity` bytes. Returns 0 at the end of the body. A client that stalls past
  // the read timeout or disconnects gives a kDeadlineExceeded or kCancelled Status.
  virtual boost::asio::awaitable<Result<size_t>> Read(char* buffer, size_t capacity) = 0;
  // The declared Content-Length, if any (chunked bodies have none).
  virtual std::optional<uint64_t> content_length() const = 0;
  // Bytes read so far.
  virtual uint64_t bytes_read() const = 0;
};

}  // namespace kino::api

#endif  // KINO_API_BODY_READER_H_

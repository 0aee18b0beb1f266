#include "media/av_util.h"

#include <cstdlib>
#include <string>

namespace kino::media {

std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

Status AvStatus(int err, std::string_view call) {
  if (err >= 0) {
    return Status::Ok();
  }
  return Internal(std::string(call) + ": " + AvErrorText(err));
}

AvFramePtr MakeFrame() {
  AvFramePtr frame(av_frame_alloc());
  if (!frame) {
    std::abort();
  }
  return frame;
}

AvPacketPtr MakePacket() {
  AvPacketPtr packet(av_packet_alloc());
  if (!packet) {
    std::abort();
  }
  return packet;
}

}  // namespace kino::media

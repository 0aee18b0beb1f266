#include "media/mp4_flatten.h"

#include <string>

#include <gtest/gtest.h>

#include "media/mp4_box.h"

namespace kino::media {
namespace {

// A synthetic indexed track: `count` samples of `size` bytes, `duration` ticks each.
Mp4TrackIndex MakeTrack(uint32_t handler, uint32_t timescale, uint32_t count, uint32_t size,
                        uint32_t duration) {
  Mp4TrackIndex track;
  track.info.handler = handler;
  track.info.track_id = 1;
  track.info.movie_timescale = 1000;
  track.info.media_timescale = timescale;
  track.info.tkhd_tail = std::string(60, '\0');
  track.info.mdhd_language = std::string(4, '\0');
  for (uint32_t i = 0; i < count; ++i) {
    track.samples.push_back(Mp4Sample{uint64_t{i} * size, size, duration, 0, 0, i % 25 == 0});
    track.media_bytes += size;
  }
  return track;
}

bool Contains(const std::string& data, const char* text) {
  return data.find(text) != std::string::npos;
}

TEST(Mp4FlattenTest, PutsMoovBeforeMdatWithStcoForSmallFiles) {
  Mp4TrackIndex video = MakeTrack(FourCc("vide"), 12800, 75, 1000, 512);
  auto layout = FlattenMp4({&video}, Mp4Brand::kMp4);

  ASSERT_TRUE(layout.ok());
  auto boxes = ParseBoxes(layout->header.substr(0, layout->header.size() - 8));
  ASSERT_TRUE(boxes.has_value());
  EXPECT_EQ((*boxes)[0].type, FourCc("ftyp"));
  EXPECT_EQ((*boxes)[1].type, FourCc("moov"));
  EXPECT_EQ(layout->header.substr(layout->header.size() - 4), "mdat");
  EXPECT_TRUE(Contains(layout->header, "stco"));
  EXPECT_TRUE(Contains(layout->header, "stss"));
  EXPECT_EQ(layout->payload_bytes, 75000u);
}

TEST(Mp4FlattenTest, UsesCo64AndLargeMdatPast4GiB) {
  // 5000 samples of 1 MiB: 5 GiB of payload, laid out without touching any file.
  Mp4TrackIndex video = MakeTrack(FourCc("vide"), 12800, 5000, 1 << 20, 512);
  auto layout = FlattenMp4({&video}, Mp4Brand::kMp4);

  ASSERT_TRUE(layout.ok());
  EXPECT_TRUE(Contains(layout->header, "co64"));
  EXPECT_FALSE(Contains(layout->header, "stco"));
  ByteReader mdat(std::string_view(layout->header).substr(layout->header.size() - 16));
  EXPECT_EQ(mdat.U32(), 1u);  // largesize follows
  EXPECT_EQ(mdat.U32(), FourCc("mdat"));
  EXPECT_EQ(mdat.U64(), (uint64_t{5000} << 20) + 16);
}

TEST(Mp4FlattenTest, InterleavesTracksInAboutOneSecondChunks) {
  Mp4TrackIndex video = MakeTrack(FourCc("vide"), 12800, 75, 1000, 512);   // 3 s
  Mp4TrackIndex audio = MakeTrack(FourCc("soun"), 44100, 130, 200, 1024);  // ~3 s
  auto layout = FlattenMp4({&video, &audio}, Mp4Brand::kMp4);

  ASSERT_TRUE(layout.ok());
  ASSERT_GE(layout->chunks.size(), 6u);
  for (size_t i = 0; i + 1 < 6; ++i) {
    EXPECT_NE(layout->chunks[i].track, layout->chunks[i + 1].track) << i;
  }
  EXPECT_EQ(layout->chunks[0].sample_count, 25u);
}

TEST(Mp4FlattenTest, OmitsCttsAndStssWhenNotNeeded) {
  Mp4TrackIndex audio = MakeTrack(FourCc("soun"), 44100, 100, 200, 1024);
  for (Mp4Sample& s : audio.samples) {
    s.sync = true;
  }
  auto layout = FlattenMp4({&audio}, Mp4Brand::kM4a);

  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->header.substr(8, 4), "M4A ");
  EXPECT_FALSE(Contains(layout->header, "ctts"));
  EXPECT_FALSE(Contains(layout->header, "stss"));
}

TEST(Mp4FlattenTest, AddsEmptyEditWhenFirstFragmentStartsLate) {
  Mp4TrackIndex audio = MakeTrack(FourCc("soun"), 1000, 10, 200, 100);
  audio.first_decode_time = 250;
  auto layout = FlattenMp4({&audio}, Mp4Brand::kM4a);

  ASSERT_TRUE(layout.ok());
  size_t elst = layout->header.find("elst");
  ASSERT_NE(elst, std::string::npos);
  ByteReader r(std::string_view(layout->header).substr(elst + 4));
  r.Skip(4);
  EXPECT_EQ(r.U32(), 2u);           // entries
  EXPECT_EQ(r.U32(), 250u);         // empty edit: 250 ms
  EXPECT_EQ(r.U32(), 0xffffffffu);  // media_time -1
  r.Skip(4);
  EXPECT_EQ(r.U32(), 1000u);  // then the whole second of media
  EXPECT_EQ(r.U32(), 0u);
}

TEST(Mp4FlattenTest, FailsWithoutTracks) {
  EXPECT_EQ(FlattenMp4({}, Mp4Brand::kMp4).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kino::media

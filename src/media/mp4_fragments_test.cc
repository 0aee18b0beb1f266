#include "media/mp4_fragments.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "media/download_test_util.h"
#include "media/mp4_box.h"

namespace kino::media {
namespace {

using testing::TempDir;
using testing::WriteFileBytes;

// A minimal init segment: ftyp, moov (mvhd, one trak, mvex/trex), sections 8.2-8.8.3.
std::string MakeInit(uint32_t handler, uint32_t sample_entry) {
  BoxWriter w;
  w.Begin(FourCc("ftyp"));
  w.U32(FourCc("iso6"));
  w.U32(0);
  w.End();
  w.Begin(FourCc("moov"));
  w.BeginFull(FourCc("mvhd"), 0, 0);
  w.Zeros(8);
  w.U32(1000);  // timescale
  w.Zeros(4 + 80);
  w.End();
  w.Begin(FourCc("trak"));
  w.BeginFull(FourCc("tkhd"), 0, 3);
  w.Zeros(8);
  w.U32(1);  // track_ID
  w.Zeros(8 + 60);
  w.End();
  w.Begin(FourCc("mdia"));
  w.BeginFull(FourCc("mdhd"), 0, 0);
  w.Zeros(8);
  w.U32(12800);  // timescale
  w.Zeros(4 + 4);
  w.End();
  w.BeginFull(FourCc("hdlr"), 0, 0);
  w.U32(0);
  w.U32(handler);
  w.Zeros(13);
  w.End();
  w.Begin(FourCc("minf"));
  w.Begin(FourCc("stbl"));
  w.BeginFull(FourCc("stsd"), 0, 0);
  w.U32(1);
  w.Begin(sample_entry);
  w.Zeros(8);
  w.End();
  w.End();
  w.End();
  w.End();
  w.End();
  w.End();
  w.Begin(FourCc("mvex"));
  w.BeginFull(FourCc("trex"), 0, 0);
  w.U32(1);        // track_ID
  w.U32(1);        // default_sample_description_index
  w.U32(512);      // default_sample_duration
  w.U32(0);        // default_sample_size
  w.U32(0x10000);  // default_sample_flags: non-sync
  w.End();
  w.End();
  w.End();
  return w.Take();
}

struct FragmentSpec {
  uint32_t track_id = 1;
  uint64_t decode_time = 0;
  std::vector<uint32_t> sizes = {100, 50, 60};
  int64_t mdat_bytes = -1;        // default: the sum of sizes
  int32_t data_offset_shift = 0;  // moves the run away from the mdat
  uint32_t claimed_count = 0;     // when non-zero, trun claims this many samples
};

std::string MakeMoof(const FragmentSpec& spec, int32_t data_offset) {
  BoxWriter w;
  w.Begin(FourCc("moof"));
  w.BeginFull(FourCc("mfhd"), 0, 0);
  w.U32(1);
  w.End();
  w.Begin(FourCc("traf"));
  w.BeginFull(FourCc("tfhd"), 0, 0x020000);  // default-base-is-moof
  w.U32(spec.track_id);
  w.End();
  w.BeginFull(FourCc("tfdt"), 1, 0);
  w.U64(spec.decode_time);
  w.End();
  w.BeginFull(FourCc("trun"), 0, 0x000001 | 0x000004 | 0x000200);
  w.U32(spec.claimed_count != 0 ? spec.claimed_count : static_cast<uint32_t>(spec.sizes.size()));
  w.U32(static_cast<uint32_t>(data_offset));
  w.U32(0);  // first sample flags: sync
  for (uint32_t size : spec.sizes) {
    w.U32(size);
  }
  w.End();
  w.End();
  w.End();
  return w.Take();
}

std::string MakeFragment(const FragmentSpec& spec) {
  size_t moof_size = MakeMoof(spec, 0).size();
  std::string moof = MakeMoof(spec, static_cast<int32_t>(moof_size + 8) + spec.data_offset_shift);
  uint64_t payload = 0;
  for (uint32_t size : spec.sizes) {
    payload += size;
  }
  if (spec.mdat_bytes >= 0) {
    payload = static_cast<uint64_t>(spec.mdat_bytes);
  }
  BoxWriter mdat;
  mdat.Begin(FourCc("mdat"));
  mdat.Zeros(payload);
  mdat.End();
  return moof + mdat.Take();
}

class Mp4FragmentsTest : public ::testing::Test {
 protected:
  // Writes the init and one file per fragment; returns the rendition.
  FragmentedTrack Write(const std::vector<FragmentSpec>& fragments) {
    FragmentedTrack track{tmp_.File("init.mp4"), {}};
    WriteFileBytes(track.init_path, MakeInit(FourCc("vide"), FourCc("avc1")));
    for (size_t i = 0; i < fragments.size(); ++i) {
      track.segment_paths.push_back(tmp_.File("seg_" + std::to_string(i) + ".m4s"));
      WriteFileBytes(track.segment_paths.back(), MakeFragment(fragments[i]));
    }
    return track;
  }

  StatusCode IndexCode(const std::vector<FragmentSpec>& fragments) {
    return IndexFragmentedTrack(Write(fragments), FourCc("vide")).status().code();
  }

  TempDir tmp_;
};

TEST_F(Mp4FragmentsTest, ReadsTrackDescriptionFromInit) {
  FragmentedTrack track = Write({FragmentSpec{}});
  auto info = ParseInitSegment(track.init_path, FourCc("vide"));

  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->track_id, 1u);
  EXPECT_EQ(info->movie_timescale, 1000u);
  EXPECT_EQ(info->media_timescale, 12800u);
  EXPECT_EQ(info->sample_entry, FourCc("avc1"));
  EXPECT_EQ(info->default_duration, 512u);
  EXPECT_FALSE(info->has_edit_list);
}

TEST_F(Mp4FragmentsTest, IndexesSamplesWithOffsetsAndFlags) {
  auto index = IndexFragmentedTrack(Write({FragmentSpec{}}), FourCc("vide"));

  ASSERT_TRUE(index.ok()) << index.status().ToString();
  ASSERT_EQ(index->samples.size(), 3u);
  EXPECT_TRUE(index->samples[0].sync);
  EXPECT_FALSE(index->samples[1].sync);
  EXPECT_EQ(index->samples[1].offset, index->samples[0].offset + 100);
  EXPECT_EQ(index->samples[2].duration, 512u);
  EXPECT_EQ(index->media_bytes, 210u);
}

TEST_F(Mp4FragmentsTest, AbsorbsDecodeTimeGapIntoPreviousSample) {
  FragmentSpec second;
  second.decode_time = 3 * 512 + 100;
  auto index = IndexFragmentedTrack(Write({FragmentSpec{}, second}), FourCc("vide"));

  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->samples[2].duration, 612u);
  EXPECT_EQ(index->samples[3].segment, 1u);
}

TEST_F(Mp4FragmentsTest, FailsWhenInitHasNoTrackOfTheHandler) {
  FragmentedTrack track = Write({FragmentSpec{}});
  auto info = ParseInitSegment(track.init_path, FourCc("soun"));
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(Mp4FragmentsTest, FailsWhenInitIsTruncatedInsideMoov) {
  FragmentedTrack track = Write({FragmentSpec{}});
  WriteFileBytes(track.init_path, MakeInit(FourCc("vide"), FourCc("avc1")).substr(0, 60));
  auto info = ParseInitSegment(track.init_path, FourCc("vide"));
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(Mp4FragmentsTest, FailsWithNotFoundWhenInitIsMissing) {
  auto info = ParseInitSegment(tmp_.File("nope.mp4"), FourCc("vide"));
  EXPECT_EQ(info.status().code(), StatusCode::kNotFound);
}

TEST_F(Mp4FragmentsTest, FailsWithDataLossWhenTrunClaimsMoreSamplesThanItHolds) {
  FragmentSpec spec;
  spec.claimed_count = 1000000;
  EXPECT_EQ(IndexCode({spec}), StatusCode::kDataLoss);
}

TEST_F(Mp4FragmentsTest, FailsWithDataLossWhenSamplesLieOutsideMdat) {
  FragmentSpec spec;
  spec.data_offset_shift = 40;
  EXPECT_EQ(IndexCode({spec}), StatusCode::kDataLoss);
}

TEST_F(Mp4FragmentsTest, FailsWithDataLossWhenMdatIsShorterThanTheRun) {
  FragmentSpec spec;
  spec.mdat_bytes = 150;
  EXPECT_EQ(IndexCode({spec}), StatusCode::kDataLoss);
}

TEST_F(Mp4FragmentsTest, FailsWithDataLossWhenFragmentNamesAnotherTrack) {
  FragmentSpec spec;
  spec.track_id = 7;
  EXPECT_EQ(IndexCode({spec}), StatusCode::kDataLoss);
}

TEST_F(Mp4FragmentsTest, FailsWithDataLossWhenFileEndsInsideABox) {
  FragmentedTrack track = Write({FragmentSpec{}});
  std::string bytes = testing::ReadFileBytes(track.segment_paths[0]);
  WriteFileBytes(track.segment_paths[0], bytes.substr(0, bytes.size() - 10));
  EXPECT_EQ(IndexFragmentedTrack(track, FourCc("vide")).status().code(), StatusCode::kDataLoss);
}

TEST_F(Mp4FragmentsTest, FailsWithDataLossWhenSegmentIsGarbage) {
  FragmentedTrack track = Write({FragmentSpec{}});
  WriteFileBytes(track.segment_paths[0], std::string(100, '\x7f'));
  EXPECT_EQ(IndexFragmentedTrack(track, FourCc("vide")).status().code(), StatusCode::kDataLoss);
}

TEST_F(Mp4FragmentsTest, FailsWithDataLossWhenThereAreNoSamples) {
  FragmentSpec spec;
  spec.sizes = {};
  EXPECT_EQ(IndexCode({spec}), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace kino::media

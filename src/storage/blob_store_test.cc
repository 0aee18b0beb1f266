#include "storage/blob_store.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/support/temp_dir.h"

namespace kino::storage {
namespace {

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenLocalBlobStore(dir_.path());
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
  }

  testing::TempDir dir_;
  std::unique_ptr<BlobStore> store_;
};

TEST_F(BlobStoreTest, CommittedBlobIsReadable) {
  auto w = store_->Create("videos/abc/original");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("hello ").ok());
  ASSERT_TRUE((*w)->Write("world").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(*store_->ReadAll("videos/abc/original", 100), "hello world");
  EXPECT_EQ(store_->Stat("videos/abc/original")->size, 11u);
}

TEST_F(BlobStoreTest, OpenLocalGivesTheDescriptorAndWhatItSees) {
  auto w = store_->Create("videos/abc/original");
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("hello world").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  auto blob = store_->OpenLocal("videos/abc/original");
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  char bytes[16] = {};
  EXPECT_EQ(::pread(blob->fd, bytes, sizeof(bytes), 0), 11);
  ::close(blob->fd);
  EXPECT_EQ(std::string(bytes), "hello world");
  EXPECT_EQ(blob->info.size, 11u);
  EXPECT_EQ(blob->info.modified_micros, store_->Stat("videos/abc/original")->modified_micros);

  EXPECT_EQ(store_->OpenLocal("videos/abc/none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->OpenLocal("videos/abc").status().code(), StatusCode::kNotFound);  // a dir
  EXPECT_EQ(store_->OpenLocal("videos/abc/original/x").status().code(), StatusCode::kNotFound);
}

TEST_F(BlobStoreTest, UncommittedWriterLeavesNothing) {
  {
    auto w = store_->Create("videos/abc/original");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("partial").ok());
  }
  EXPECT_EQ(store_->Stat("videos/abc/original").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.Join(".tmp")));
}

TEST_F(BlobStoreTest, RejectsKeysThatEscapeTheRoot) {
  for (const char* key : {"../x", "a/../b", "/abs", "a//b", "", "a/./b", "a/.hidden", "a b"}) {
    EXPECT_FALSE(IsValidBlobKey(key)) << key;
    EXPECT_FALSE(store_->Create(key).ok()) << key;
  }
  EXPECT_TRUE(IsValidBlobKey("videos/0123/downloads/default.mp4"));
}

TEST_F(BlobStoreTest, DeletePrefixRemovesEverythingBelow) {
  for (const char* key : {"videos/a/x", "videos/a/y/z", "videos/b/x"}) {
    auto w = store_->Create(key);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("1234").ok());
    ASSERT_TRUE((*w)->Commit().ok());
  }
  EXPECT_EQ(*store_->SizeOfPrefix("videos/a"), 8u);
  ASSERT_TRUE(store_->DeletePrefix("videos/a").ok());
  EXPECT_FALSE(store_->Stat("videos/a/y/z").ok());
  EXPECT_TRUE(store_->Stat("videos/b/x").ok());
  EXPECT_TRUE(store_->Delete("videos/none").ok());
}

TEST_F(BlobStoreTest, PutFileMovesALocalFileIn) {
  std::string src = dir_.Join("incoming");
  std::ofstream(src) << "data";
  ASSERT_TRUE(store_->PutFile("videos/c/original", src).ok());
  EXPECT_EQ(*store_->ReadAll("videos/c/original", 100), "data");
  EXPECT_FALSE(std::filesystem::exists(src));
}

TEST(WriteFileAtomically, ReplacesWholeFile) {
  testing::TempDir dir;
  std::string path = dir.Join("sub/m.m3u8");
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "two");
}

}  // namespace
}  // namespace kino::storage

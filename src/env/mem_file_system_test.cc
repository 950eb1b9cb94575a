#include <gtest/gtest.h>

#include "env/file_system_conformance.h"
#include "lightning/file_system.h"

namespace lightning::testing {
namespace {

INSTANTIATE_TEST_SUITE_P(InMemory, FileSystemConformance,
                         ::testing::Values(FileSystemFactory{"InMemory", new_in_memory_file_system,
                                                             false}),
                         fs_factory_name);

TEST(MemFileSystem, StartsEmptyWithRoots) {
  auto fs = new_in_memory_file_system();
  EXPECT_TRUE(*fs->exists("/"));
  auto names = fs->list_dir("/");
  ASSERT_TRUE(names.has_value());
  EXPECT_TRUE(names->empty());
  EXPECT_FALSE(*fs->exists("/tmp"));
}

TEST(MemFileSystem, DirectoriesMustExist) {
  auto fs = new_in_memory_file_system();
  EXPECT_TRUE(fs->create_dir("/a/b").is_not_found());
  ASSERT_TRUE(fs->create_dir("/a").is_ok());
  ASSERT_TRUE(fs->create_dir("/a/b").is_ok());
  write_file(*fs, "/a/b/f", "x");
  EXPECT_EQ(sorted(*fs->list_dir("/a")), std::vector<std::string>{"b"});
  EXPECT_EQ(*fs->list_dir("/a/b"), std::vector<std::string>{"f"});
}

TEST(MemFileSystem, PathsAreNormalized) {
  auto fs = new_in_memory_file_system();
  ASSERT_TRUE(fs->create_dir("/db/").is_ok());
  write_file(*fs, "/db//./f", "x");
  EXPECT_EQ(read_all(*fs, "/db/f"), "x");
  EXPECT_TRUE(*fs->exists("/db/f/"));
}

TEST(MemFileSystem, RelativePathsLiveUnderTheirOwnRoot) {
  auto fs = new_in_memory_file_system();
  write_file(*fs, "rel", "r");
  EXPECT_EQ(read_all(*fs, "rel"), "r");
  EXPECT_FALSE(*fs->exists("/rel"));
}

TEST(MemFileSystem, DirectoryIsNotAFile) {
  auto fs = new_in_memory_file_system();
  ASSERT_TRUE(fs->create_dir("/d").is_ok());
  EXPECT_TRUE(fs->open_readable("/d").status().is_io_error());
  EXPECT_TRUE(
      fs->new_writable_file("/d", FileSystem::OpenMode::kCreateOrTruncate).status().is_io_error());
  EXPECT_TRUE(fs->remove_file("/d").is_io_error());
  EXPECT_TRUE(fs->rename_file("/d", "/e").is_io_error());
}

TEST(MemFileSystem, InstancesAreIndependent) {
  auto a = new_in_memory_file_system();
  auto b = new_in_memory_file_system();
  write_file(*a, "/f", "x");
  EXPECT_FALSE(*b->exists("/f"));
  auto la = a->lock_file("/LOCK");
  auto lb = b->lock_file("/LOCK");
  EXPECT_TRUE(la.has_value());
  EXPECT_TRUE(lb.has_value()) << "locks are per file system instance";
}

TEST(MemFileSystem, HandlesOutliveTheFileSystem) {
  std::unique_ptr<WritableFile> w;
  std::unique_ptr<ReadableFile> r;
  {
    auto fs = new_in_memory_file_system();
    auto wr = fs->new_writable_file("/f", FileSystem::OpenMode::kCreateNew);
    ASSERT_TRUE(wr.has_value());
    w = std::move(*wr);
    auto rr = fs->open_readable("/f");
    ASSERT_TRUE(rr.has_value());
    r = std::move(*rr);
  }
  ASSERT_TRUE(w->append(as_bytes("abc")).is_ok());
  EXPECT_EQ(*r->size(), 3u);
}

}  // namespace
}  // namespace lightning::testing

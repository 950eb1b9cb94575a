// Conformance tests every FileSystem implementation must pass: the contract
// of include/lightning/file_system.h, checked once and instantiated by each
// implementation's *_test.cc with INSTANTIATE_TEST_SUITE_P.
// Include from exactly one test source per executable.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "env/file_system_test_util.h"
#include "lightning/file_system.h"
#include "testutil/testutil.h"

namespace lightning::testing {

struct FileSystemFactory {
  std::string name;
  std::function<std::shared_ptr<FileSystem>()> make;
  bool on_disk = false;  // true: work under a real TempDir; false: under "/db"
};

inline std::string fs_factory_name(const ::testing::TestParamInfo<FileSystemFactory>& info) {
  return info.param.name;
}

class FileSystemConformance : public ::testing::TestWithParam<FileSystemFactory> {
 protected:
  void SetUp() override {
    fs_ = GetParam().make();
    root_ = GetParam().on_disk ? tmp_.path() : "/db";
    ASSERT_TRUE(fs_->create_dir(root_).is_ok());
  }
  std::string path(const std::string& name) const { return root_ + "/" + name; }

  TempDir tmp_;
  std::shared_ptr<FileSystem> fs_;
  std::string root_;
};

TEST_P(FileSystemConformance, CreateAppendReadBack) {
  auto w = fs_->new_writable_file(path("f"), FileSystem::OpenMode::kCreateOrTruncate);
  ASSERT_TRUE(w.has_value()) << w.status().to_string();
  EXPECT_EQ((*w)->size(), 0u);
  ASSERT_TRUE((*w)->append(as_bytes("hello")).is_ok());
  ASSERT_TRUE((*w)->append(as_bytes("")).is_ok());
  ASSERT_TRUE((*w)->append(as_bytes(" world")).is_ok());
  EXPECT_EQ((*w)->size(), 11u);
  ASSERT_TRUE((*w)->sync().is_ok());
  ASSERT_TRUE((*w)->close().is_ok());
  EXPECT_FALSE((*w)->append(as_bytes("x")).is_ok()) << "append after close must fail";

  auto r = fs_->open_readable(path("f"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*(*r)->size(), 11u);
  std::string buf(100, '\0');
  auto out = std::as_writable_bytes(std::span<char>(buf.data(), buf.size()));
  auto n = (*r)->read_at(6, out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(buf.substr(0, *n), "world");
  n = (*r)->read_at(11, out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0u);
  n = (*r)->read_at(1000, out);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(read_all(*fs_, path("f")), "hello world");
}

TEST_P(FileSystemConformance, ReaderSeesLaterAppends) {
  auto w = fs_->new_writable_file(path("f"), FileSystem::OpenMode::kCreateNew);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->append(as_bytes("abc")).is_ok());
  auto r = fs_->open_readable(path("f"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*(*r)->size(), 3u);
  ASSERT_TRUE((*w)->append(as_bytes("def")).is_ok());
  EXPECT_EQ(*(*r)->size(), 6u);
  std::string buf(3, '\0');
  auto n = (*r)->read_at(3, std::as_writable_bytes(std::span<char>(buf.data(), buf.size())));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(buf, "def");
}

TEST_P(FileSystemConformance, CreateNewFailsWhenFileExists) {
  write_file(*fs_, path("f"), "old");
  auto w = fs_->new_writable_file(path("f"), FileSystem::OpenMode::kCreateNew);
  ASSERT_FALSE(w.has_value());
  EXPECT_TRUE(w.status().is_io_error()) << w.status().to_string();
  EXPECT_NE(w.status().message().find(path("f")), std::string::npos) << w.status().to_string();
  EXPECT_EQ(read_all(*fs_, path("f")), "old");
}

TEST_P(FileSystemConformance, AppendExistingKeepsContents) {
  auto missing = fs_->new_writable_file(path("nope"), FileSystem::OpenMode::kAppendExisting);
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.status().is_not_found()) << missing.status().to_string();
  EXPECT_NE(missing.status().message().find(path("nope")), std::string::npos);
  EXPECT_FALSE(*fs_->exists(path("nope")));

  write_file(*fs_, path("f"), "abc");
  auto w = fs_->new_writable_file(path("f"), FileSystem::OpenMode::kAppendExisting);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ((*w)->size(), 3u);
  ASSERT_TRUE((*w)->append(as_bytes("de")).is_ok());
  EXPECT_EQ((*w)->size(), 5u);
  ASSERT_TRUE((*w)->close().is_ok());
  EXPECT_EQ(read_all(*fs_, path("f")), "abcde");
}

TEST_P(FileSystemConformance, CreateOrTruncateEmptiesFile) {
  write_file(*fs_, path("f"), "long contents");
  write_file(*fs_, path("f"), "new");
  EXPECT_EQ(read_all(*fs_, path("f")), "new");
}

TEST_P(FileSystemConformance, OpenReadableMissingIsNotFoundNamingPath) {
  auto r = fs_->open_readable(path("missing"));
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.status().is_not_found()) << r.status().to_string();
  EXPECT_NE(r.status().message().find(path("missing")), std::string::npos);
}

TEST_P(FileSystemConformance, ListDirAndExists) {
  write_file(*fs_, path("a"), "1");
  write_file(*fs_, path("b"), "2");
  ASSERT_TRUE(fs_->create_dir(path("sub")).is_ok());
  ASSERT_TRUE(fs_->create_dir(path("sub")).is_ok()) << "create_dir is ok when it exists";
  write_file(*fs_, path("sub/c"), "3");
  auto names = fs_->list_dir(root_);
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(sorted(*names), (std::vector<std::string>{"a", "b", "sub"}));
  auto sub = fs_->list_dir(path("sub"));
  ASSERT_TRUE(sub.has_value());
  EXPECT_EQ(*sub, std::vector<std::string>{"c"});
  EXPECT_TRUE(*fs_->exists(path("a")));
  EXPECT_TRUE(*fs_->exists(path("sub")));
  EXPECT_FALSE(*fs_->exists(path("zzz")));
  EXPECT_FALSE(*fs_->exists(path("zzz/a")));

  auto missing = fs_->list_dir(path("zzz"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.status().is_not_found()) << missing.status().to_string();
  EXPECT_NE(missing.status().message().find(path("zzz")), std::string::npos);
}

TEST_P(FileSystemConformance, CreateDirRejectsFileAndMissingParent) {
  write_file(*fs_, path("f"), "x");
  Status s = fs_->create_dir(path("f"));
  EXPECT_TRUE(s.is_io_error()) << s.to_string();
  s = fs_->create_dir(path("no/such"));
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  auto w = fs_->new_writable_file(path("no/f"), FileSystem::OpenMode::kCreateOrTruncate);
  ASSERT_FALSE(w.has_value());
  EXPECT_TRUE(w.status().is_not_found()) << w.status().to_string();
}

TEST_P(FileSystemConformance, RenameReplacesTarget) {
  write_file(*fs_, path("from"), "new");
  write_file(*fs_, path("to"), "old");
  ASSERT_TRUE(fs_->rename_file(path("from"), path("to")).is_ok());
  EXPECT_FALSE(*fs_->exists(path("from")));
  EXPECT_EQ(read_all(*fs_, path("to")), "new");

  ASSERT_TRUE(fs_->create_dir(path("sub")).is_ok());
  ASSERT_TRUE(fs_->rename_file(path("to"), path("sub/moved")).is_ok());
  EXPECT_EQ(read_all(*fs_, path("sub/moved")), "new");

  Status s = fs_->rename_file(path("missing"), path("x"));
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find(path("missing")), std::string::npos);
}

TEST_P(FileSystemConformance, RemoveFile) {
  write_file(*fs_, path("f"), "x");
  ASSERT_TRUE(fs_->remove_file(path("f")).is_ok());
  EXPECT_FALSE(*fs_->exists(path("f")));
  Status s = fs_->remove_file(path("f"));
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find(path("f")), std::string::npos);
}

TEST_P(FileSystemConformance, OpenReaderSurvivesRemove) {
  write_file(*fs_, path("f"), "still here");
  auto r = fs_->open_readable(path("f"));
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(fs_->remove_file(path("f")).is_ok());
  std::string buf(10, '\0');
  auto n = (*r)->read_at(0, std::as_writable_bytes(std::span<char>(buf.data(), buf.size())));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(buf.substr(0, *n), "still here");
}

TEST_P(FileSystemConformance, TruncateShrinksAndGrows) {
  write_file(*fs_, path("f"), "abcdef");
  ASSERT_TRUE(fs_->truncate_file(path("f"), 2).is_ok());
  EXPECT_EQ(read_all(*fs_, path("f")), "ab");
  ASSERT_TRUE(fs_->truncate_file(path("f"), 4).is_ok());
  EXPECT_EQ(read_all(*fs_, path("f")), std::string("ab\0\0", 4));
  Status s = fs_->truncate_file(path("missing"), 0);
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find(path("missing")), std::string::npos);
}

TEST_P(FileSystemConformance, SyncDir) {
  write_file(*fs_, path("f"), "x");
  EXPECT_TRUE(fs_->sync_dir(root_).is_ok());
  Status s = fs_->sync_dir(path("missing"));
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find(path("missing")), std::string::npos);
}

TEST_P(FileSystemConformance, LockIsExclusiveUntilReleased) {
  auto first = fs_->lock_file(path("LOCK"));
  ASSERT_TRUE(first.has_value()) << first.status().to_string();
  EXPECT_TRUE(*fs_->exists(path("LOCK"))) << "lock_file creates the file";
  auto second = fs_->lock_file(path("LOCK"));
  ASSERT_FALSE(second.has_value());
  EXPECT_TRUE(second.status().is_busy()) << second.status().to_string();
  EXPECT_NE(second.status().message().find(path("LOCK")), std::string::npos);
  EXPECT_NE(second.status().message().find("locked"), std::string::npos);

  auto other = fs_->lock_file(path("OTHER"));
  EXPECT_TRUE(other.has_value()) << "locks on different paths are independent";

  first->reset();
  auto again = fs_->lock_file(path("LOCK"));
  EXPECT_TRUE(again.has_value()) << again.status().to_string();
}

// ---- RandomRWFile ----

// Reads [offset, offset + n) through f; "" with a test failure on error.
inline std::string read_rw(const RandomRWFile& f, std::uint64_t offset, std::size_t n) {
  std::string buf(n, '\0');
  auto got = f.read_at(offset, std::as_writable_bytes(std::span<char>(buf.data(), buf.size())));
  EXPECT_TRUE(got.has_value()) << got.status().to_string();
  if (!got) return "";
  buf.resize(*got);
  return buf;
}

TEST_P(FileSystemConformance, RandomRWWriteAtOffsetsZeroFillsGaps) {
  auto f = fs_->open_random_rw(path("data"), /*create=*/true);
  ASSERT_TRUE(f.has_value()) << f.status().to_string();
  EXPECT_EQ(*(*f)->size(), 0u) << "created empty";
  ASSERT_TRUE((*f)->write_at(0, as_bytes("head")).is_ok());
  ASSERT_TRUE((*f)->write_at(10, as_bytes("tail")).is_ok());
  EXPECT_EQ(*(*f)->size(), 14u);
  EXPECT_EQ(read_rw(**f, 0, 100), std::string("head\0\0\0\0\0\0tail", 14));
  ASSERT_TRUE((*f)->write_at(2, as_bytes("XYZ")).is_ok()) << "overwrite across a boundary";
  EXPECT_EQ(read_rw(**f, 0, 6), std::string("heXYZ\0", 6));
  ASSERT_TRUE((*f)->write_at(12, as_bytes("LONGER")).is_ok()) << "overwrite and extend";
  EXPECT_EQ(read_rw(**f, 10, 100), "taLONGER");
  EXPECT_EQ(*(*f)->size(), 18u);
  ASSERT_TRUE((*f)->write_at(1000, as_bytes("")).is_ok());
  EXPECT_EQ(*(*f)->size(), 18u) << "an empty write does not extend the file";
  ASSERT_TRUE((*f)->sync().is_ok());
  EXPECT_EQ(read_all(*fs_, path("data")), std::string("heXYZ\0\0\0\0\0taLONGER", 18))
      << "other handles see the bytes";
}

TEST_P(FileSystemConformance, RandomRWReadAtAndPastEnd) {
  auto f = fs_->open_random_rw(path("data"), true);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, as_bytes("0123456789")).is_ok());
  EXPECT_EQ(read_rw(**f, 3, 4), "3456");
  EXPECT_EQ(read_rw(**f, 8, 10), "89") << "short read at end of file";
  EXPECT_EQ(read_rw(**f, 10, 10), "") << "at end of file";
  EXPECT_EQ(read_rw(**f, 5000, 10), "") << "past end of file";
  EXPECT_EQ(read_rw(**f, 2, 0), "");
}

TEST_P(FileSystemConformance, RandomRWTruncateShrinksAndGrows) {
  auto f = fs_->open_random_rw(path("data"), true);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, as_bytes("abcdef")).is_ok());
  ASSERT_TRUE((*f)->truncate(2).is_ok());
  EXPECT_EQ(*(*f)->size(), 2u);
  EXPECT_EQ(read_rw(**f, 0, 10), "ab");
  ASSERT_TRUE((*f)->truncate(5).is_ok());
  EXPECT_EQ(read_rw(**f, 0, 10), std::string("ab\0\0\0", 5)) << "grows with zeros, old bytes gone";
  ASSERT_TRUE((*f)->sync().is_ok());
  ASSERT_TRUE((*f)->close().is_ok());
  EXPECT_EQ(read_all(*fs_, path("data")), std::string("ab\0\0\0", 5));
}

TEST_P(FileSystemConformance, RandomRWReopenKeepsContents) {
  {
    auto f = fs_->open_random_rw(path("data"), true);
    ASSERT_TRUE(f.has_value());
    ASSERT_TRUE((*f)->write_at(4, as_bytes("page")).is_ok());
    ASSERT_TRUE((*f)->sync().is_ok());
    ASSERT_TRUE((*f)->close().is_ok());
    EXPECT_FALSE((*f)->write_at(0, as_bytes("x")).is_ok()) << "write_at after close must fail";
    EXPECT_FALSE((*f)->read_at(0, {}).has_value()) << "read_at after close must fail";
  }
  auto again = fs_->open_random_rw(path("data"), /*create=*/true);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*(*again)->size(), 8u) << "create=true does not truncate an existing file";
  EXPECT_EQ(read_rw(**again, 0, 8), std::string("\0\0\0\0page", 8));
  auto plain = fs_->open_random_rw(path("data"), /*create=*/false);
  ASSERT_TRUE(plain.has_value()) << plain.status().to_string();
  EXPECT_EQ(read_rw(**plain, 4, 4), "page");
}

TEST_P(FileSystemConformance, RandomRWMissingIsNotFoundWithoutCreate) {
  auto f = fs_->open_random_rw(path("missing"), /*create=*/false);
  ASSERT_FALSE(f.has_value());
  EXPECT_TRUE(f.status().is_not_found()) << f.status().to_string();
  EXPECT_NE(f.status().message().find(path("missing")), std::string::npos);
  EXPECT_FALSE(*fs_->exists(path("missing"))) << "a failed open creates nothing";
  auto nodir = fs_->open_random_rw(path("no/such"), /*create=*/true);
  ASSERT_FALSE(nodir.has_value());
  EXPECT_TRUE(nodir.status().is_not_found()) << nodir.status().to_string();
}

TEST_P(FileSystemConformance, RandomRWSharesFilesWithAppendHandles) {
  write_file(*fs_, path("f"), "appended");
  auto f = fs_->open_random_rw(path("f"), false);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(read_rw(**f, 0, 100), "appended");
  ASSERT_TRUE((*f)->write_at(0, as_bytes("A")).is_ok());
  auto w = fs_->new_writable_file(path("f"), FileSystem::OpenMode::kAppendExisting);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->append(as_bytes("+more")).is_ok());
  EXPECT_EQ(read_rw(**f, 0, 100), "Appended+more");
  EXPECT_EQ(read_all(*fs_, path("f")), "Appended+more");
}

TEST_P(FileSystemConformance, MapReadonlyMatchesContentsOrIsNotSupported) {
  write_file(*fs_, path("f"), "mapped bytes");
  auto m = fs_->map_readonly(path("f"));
  if (!m.has_value()) {
    EXPECT_TRUE(m.status().is_not_supported()) << m.status().to_string();
    return;
  }
  const auto bytes = (*m)->data();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), "mapped bytes");
  EXPECT_EQ((*m)->size(), 12u);
  auto f = fs_->open_random_rw(path("f"), false);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(0, as_bytes("M")).is_ok());
  EXPECT_EQ(static_cast<char>((*m)->data()[0]), 'M') << "the mapping is shared";

  write_file(*fs_, path("empty"), "");
  auto e = fs_->map_readonly(path("empty"));
  ASSERT_TRUE(e.has_value()) << e.status().to_string();
  EXPECT_EQ((*e)->size(), 0u);
  auto missing = fs_->map_readonly(path("missing"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_TRUE(missing.status().is_not_found()) << missing.status().to_string();
}

TEST_P(FileSystemConformance, MapReadonlyReservesRoomToGrowInto) {
  write_file(*fs_, path("g"), "head");
  auto m = fs_->map_readonly(path("g"), 3 * 4096);
  if (!m.has_value()) {
    EXPECT_TRUE(m.status().is_not_supported()) << m.status().to_string();
    return;
  }
  EXPECT_EQ((*m)->size(), 3u * 4096) << "mapped past the end of the file";
  auto f = fs_->open_random_rw(path("g"), false);
  ASSERT_TRUE(f.has_value());
  ASSERT_TRUE((*f)->write_at(5000, as_bytes("grown")).is_ok());
  const auto bytes = (*m)->data();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()) + 5000, 5), "grown")
      << "bytes appended after mapping are visible through it";
  (*m)->prefetch(4096, 4096);  // a hint: must not fail or change anything
  (*f)->prefetch(0, 10000);
  EXPECT_EQ(read_rw(**f, 5000, 5), "grown");
  // A length shorter than the file maps the whole file.
  auto whole = fs_->map_readonly(path("g"), 1);
  ASSERT_TRUE(whole.has_value()) << whole.status().to_string();
  EXPECT_EQ((*whole)->size(), 5005u);
}

}  // namespace lightning::testing

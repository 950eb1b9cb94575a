#include "env/fault_injection_file_system.h"

#include <gtest/gtest.h>

#include "env/file_system_conformance.h"

namespace lightning::testing {
namespace {

using Op = FaultInjectionFileSystem::Op;
using Error = FaultInjectionFileSystem::Error;
using DropMode = FaultInjectionFileSystem::DropMode;
using OpenMode = FileSystem::OpenMode;

INSTANTIATE_TEST_SUITE_P(FaultInjection, FileSystemConformance,
                         ::testing::Values(FileSystemFactory{
                             "FaultInjection",
                             [] { return std::make_shared<FaultInjectionFileSystem>(); }, false}),
                         fs_factory_name);

class FaultFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs_.create_dir("/db").is_ok());
    ASSERT_TRUE(fs_.sync_dir("/").is_ok());
  }

  // Creates /db/<name> with synced then unsynced bytes; the writer stays open.
  std::unique_ptr<WritableFile> make_file(const std::string& name, std::string_view synced,
                                          std::string_view unsynced, bool sync_dir = true) {
    auto w = fs_.new_writable_file("/db/" + name, OpenMode::kCreateOrTruncate);
    EXPECT_TRUE(w.has_value()) << w.status().to_string();
    if (!w) return nullptr;
    EXPECT_TRUE((*w)->append(as_bytes(synced)).is_ok());
    EXPECT_TRUE((*w)->sync().is_ok());
    if (sync_dir) {
      EXPECT_TRUE(fs_.sync_dir("/db").is_ok());
    }
    EXPECT_TRUE((*w)->append(as_bytes(unsynced)).is_ok());
    return std::move(*w);
  }

  FaultInjectionFileSystem fs_;
};

// ---- drop_unsynced ----

TEST_F(FaultFsTest, UnsyncedBytesVanishSyncedSurvive) {
  auto w = make_file("f", "abc", "def");
  EXPECT_EQ(fs_.live_size("/db/f"), 6u);
  EXPECT_EQ(fs_.synced_size("/db/f"), 3u);
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/f"), "abc");
  EXPECT_EQ(fs_.synced_size("/db/f"), 3u);
}

TEST_F(FaultFsTest, FileInUnsyncedDirectoryVanishes) {
  auto w = make_file("f", "synced bytes", "", /*sync_dir=*/false);
  EXPECT_TRUE(*fs_.exists("/db/f"));
  fs_.drop_unsynced();
  EXPECT_FALSE(*fs_.exists("/db/f"));
  EXPECT_TRUE(*fs_.exists("/db")) << "directories are durable once created";
}

TEST_F(FaultFsTest, RenameWithoutSyncDirReverts) {
  make_file("CURRENT", "old", "");
  make_file("tmp", "new", "");
  ASSERT_TRUE(fs_.rename_file("/db/tmp", "/db/CURRENT").is_ok());
  EXPECT_EQ(read_all(fs_, "/db/CURRENT"), "new");
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/CURRENT"), "old");
  EXPECT_EQ(read_all(fs_, "/db/tmp"), "new");

  ASSERT_TRUE(fs_.rename_file("/db/tmp", "/db/CURRENT").is_ok());
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/CURRENT"), "new");
  EXPECT_FALSE(*fs_.exists("/db/tmp"));
}

TEST_F(FaultFsTest, RemoveWithoutSyncDirComesBackWithSyncedContents) {
  make_file("f", "synced", "-unsynced");
  ASSERT_TRUE(fs_.remove_file("/db/f").is_ok());
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/f"), "synced");

  ASSERT_TRUE(fs_.remove_file("/db/f").is_ok());
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  fs_.drop_unsynced();
  EXPECT_FALSE(*fs_.exists("/db/f"));
}

TEST_F(FaultFsTest, TruncateIsDurableOnlyAfterSync) {
  make_file("f", "abcdef", "");
  ASSERT_TRUE(fs_.truncate_file("/db/f", 2).is_ok());
  EXPECT_EQ(fs_.synced_size("/db/f"), 6u);
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/f"), "abcdef");

  ASSERT_TRUE(fs_.truncate_file("/db/f", 2).is_ok());
  auto w = fs_.new_writable_file("/db/f", OpenMode::kAppendExisting);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->append(as_bytes("XY")).is_ok());
  ASSERT_TRUE((*w)->sync().is_ok());
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/f"), "abXY");
}

TEST_F(FaultFsTest, CreateOrTruncateOfSyncedFileRevertsWithoutSync) {
  make_file("f", "durable", "");
  write_file(fs_, "/db/f", "rewritten but never synced");
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/f"), "durable");
}

std::string crash_contents(DropMode mode, std::uint64_t seed, const std::string& synced,
                           const std::string& unsynced) {
  FaultInjectionFileSystem fs;
  EXPECT_TRUE(fs.create_dir("/db").is_ok());
  auto w = fs.new_writable_file("/db/f", OpenMode::kCreateNew);
  EXPECT_TRUE(w.has_value());
  if (!w) return "";
  EXPECT_TRUE((*w)->append(as_bytes(synced)).is_ok());
  EXPECT_TRUE((*w)->sync().is_ok());
  EXPECT_TRUE(fs.sync_dir("/db").is_ok());
  EXPECT_TRUE((*w)->append(as_bytes(unsynced)).is_ok());
  fs.drop_unsynced(mode, seed);
  return read_all(fs, "/db/f");
}

TEST(FaultFsDrop, KeepTornPrefixKeepsAPrefixAtLeastTheSyncedLength) {
  const std::string synced = "SYNCED";
  const std::string unsynced(200, 'u');
  const std::string live = synced + unsynced;
  bool saw_partial = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const std::string got = crash_contents(DropMode::kKeepTornPrefix, seed, synced, unsynced);
    ASSERT_GE(got.size(), synced.size()) << "seed " << seed;
    ASSERT_LE(got.size(), live.size()) << "seed " << seed;
    EXPECT_EQ(got, live.substr(0, got.size())) << "seed " << seed;
    saw_partial |= got.size() > synced.size() && got.size() < live.size();
    EXPECT_EQ(got, crash_contents(DropMode::kKeepTornPrefix, seed, synced, unsynced))
        << "the same seed must give the same result";
  }
  EXPECT_TRUE(saw_partial) << "20 seeds never kept a strict, non-empty torn prefix";
  EXPECT_EQ(crash_contents(DropMode::kDropAll, 7, synced, unsynced), synced);
}

TEST(FaultFsDrop, TornWithGarbageKeepsSyncedBytesAndAddsGarbage) {
  const std::string synced = "SYNCED";
  const std::string unsynced(200, 'u');
  const std::string live = synced + unsynced;
  bool saw_garbage = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const std::string got = crash_contents(DropMode::kTornWithGarbage, seed, synced, unsynced);
    ASSERT_GT(got.size(), synced.size()) << "seed " << seed;
    ASSERT_LE(got.size(), live.size()) << "seed " << seed;
    EXPECT_EQ(got.substr(0, synced.size()), synced) << "seed " << seed;
    saw_garbage |= got != live.substr(0, got.size());
  }
  EXPECT_TRUE(saw_garbage);
}

TEST(FaultFsDrop, FullySyncedFileIsUntouchedByEveryMode) {
  for (DropMode mode :
       {DropMode::kDropAll, DropMode::kKeepTornPrefix, DropMode::kTornWithGarbage}) {
    EXPECT_EQ(crash_contents(mode, 3, "all synced", ""), "all synced");
  }
}

TEST_F(FaultFsTest, HandlesOpenedBeforeDropAreDead) {
  auto w = make_file("f", "abc", "");
  auto r = fs_.open_readable("/db/f");
  ASSERT_TRUE(r.has_value());
  fs_.drop_unsynced();
  EXPECT_TRUE(w->append(as_bytes("x")).is_io_error());
  EXPECT_TRUE(w->sync().is_io_error());
  std::string buf(3, '\0');
  auto n = (*r)->read_at(0, std::as_writable_bytes(std::span<char>(buf.data(), buf.size())));
  EXPECT_TRUE(n.status().is_io_error()) << n.status().to_string();
  EXPECT_TRUE((*r)->size().status().is_io_error());
  EXPECT_TRUE(w->close().is_io_error());
  EXPECT_EQ(read_all(fs_, "/db/f"), "abc") << "new handles work";
  auto w2 = fs_.new_writable_file("/db/f", OpenMode::kAppendExisting);
  ASSERT_TRUE(w2.has_value());
  EXPECT_TRUE((*w2)->append(as_bytes("d")).is_ok());
}

TEST_F(FaultFsTest, LockIsReleasedByItsHolderNotByDrop) {
  auto lock = fs_.lock_file("/db/LOCK");
  ASSERT_TRUE(lock.has_value());
  fs_.drop_unsynced();
  EXPECT_TRUE(fs_.lock_file("/db/LOCK").status().is_busy());
  lock->reset();
  EXPECT_TRUE(fs_.lock_file("/db/LOCK").has_value());
}

// ---- fail_after ----

class FaultFsErrorTest : public FaultFsTest, public ::testing::WithParamInterface<Error> {
 protected:
  std::string expected() const {
    return GetParam() == Error::kEIO ? "injected EIO" : "injected ENOSPC";
  }
};

INSTANTIATE_TEST_SUITE_P(Errors, FaultFsErrorTest, ::testing::Values(Error::kEIO, Error::kENOSPC),
                         [](const auto& info) {
                           return std::string(info.param == Error::kEIO ? "EIO" : "ENOSPC");
                         });

TEST_P(FaultFsErrorTest, NthWriteFailsOnce) {
  auto w = fs_.new_writable_file("/db/f", OpenMode::kCreateNew);
  ASSERT_TRUE(w.has_value());
  fs_.fail_after(Op::kWrite, 3, GetParam());
  EXPECT_TRUE((*w)->append(as_bytes("1")).is_ok());
  EXPECT_TRUE((*w)->append(as_bytes("2")).is_ok());
  Status s = (*w)->append(as_bytes("3"));
  ASSERT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find(expected()), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("/db/f"), std::string::npos) << s.to_string();
  EXPECT_TRUE((*w)->append(as_bytes("4")).is_ok()) << "a one-shot fault fires once";
  EXPECT_EQ(read_all(fs_, "/db/f"), "124") << "a failed append without tearing stores nothing";
  EXPECT_EQ((*w)->size(), 3u);
}

TEST_P(FaultFsErrorTest, StickyWriteFaultRepeatsUntilCleared) {
  auto w = fs_.new_writable_file("/db/f", OpenMode::kCreateNew);
  ASSERT_TRUE(w.has_value());
  fs_.fail_after(Op::kWrite, 2, GetParam(), /*sticky=*/true);
  EXPECT_TRUE((*w)->append(as_bytes("1")).is_ok());
  for (int i = 0; i < 3; ++i) {
    Status s = (*w)->append(as_bytes("x"));
    EXPECT_TRUE(s.is_io_error()) << "call " << i;
    EXPECT_NE(s.message().find(expected()), std::string::npos) << s.to_string();
  }
  fs_.clear_faults();
  EXPECT_TRUE((*w)->append(as_bytes("2")).is_ok());
  EXPECT_EQ(read_all(fs_, "/db/f"), "12");
}

TEST_P(FaultFsErrorTest, NthSyncFailsAndMakesNothingDurable) {
  auto w = fs_.new_writable_file("/db/f", OpenMode::kCreateNew);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->append(as_bytes("abc")).is_ok());
  fs_.fail_after(Op::kSync, 2, GetParam());
  ASSERT_TRUE((*w)->sync().is_ok());
  ASSERT_TRUE((*w)->append(as_bytes("def")).is_ok());
  Status s = (*w)->sync();
  ASSERT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find(expected()), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("/db/f"), std::string::npos) << s.to_string();
  EXPECT_EQ(fs_.synced_size("/db/f"), 3u);
  ASSERT_TRUE((*w)->sync().is_ok());
  EXPECT_EQ(fs_.synced_size("/db/f"), 6u);
}

TEST_P(FaultFsErrorTest, SyncDirCountsAsSync) {
  make_file("f", "x", "");
  fs_.fail_after(Op::kSync, 1, GetParam(), /*sticky=*/true);
  Status s = fs_.sync_dir("/db");
  ASSERT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find(expected()), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("/db"), std::string::npos) << s.to_string();
  auto w = fs_.new_writable_file("/db/g", OpenMode::kCreateNew);
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE((*w)->sync().is_io_error()) << "sticky";
  fs_.clear_faults();
  fs_.drop_unsynced();
  EXPECT_FALSE(*fs_.exists("/db/g")) << "the failed sync_dir recorded nothing";
  EXPECT_TRUE(*fs_.exists("/db/f"));
}

TEST_P(FaultFsErrorTest, NthCreateFails) {
  fs_.fail_after(Op::kCreate, 2, GetParam());
  EXPECT_TRUE(fs_.new_writable_file("/db/a", OpenMode::kCreateNew).has_value());
  EXPECT_TRUE(fs_.new_writable_file("/db/a", OpenMode::kAppendExisting).has_value())
      << "opening an existing file is not a create";
  auto b = fs_.new_writable_file("/db/b", OpenMode::kCreateOrTruncate);
  ASSERT_FALSE(b.has_value());
  EXPECT_TRUE(b.status().is_io_error());
  EXPECT_NE(b.status().message().find(expected()), std::string::npos) << b.status().to_string();
  EXPECT_NE(b.status().message().find("/db/b"), std::string::npos) << b.status().to_string();
  EXPECT_FALSE(*fs_.exists("/db/b"));
  EXPECT_TRUE(fs_.new_writable_file("/db/b", OpenMode::kCreateNew).has_value());
}

TEST_F(FaultFsTest, TornWriteStoresAStrictPrefix) {
  auto w = fs_.new_writable_file("/db/f", OpenMode::kCreateNew);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->append(as_bytes("head-")).is_ok());
  std::string data(1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  fs_.fail_after(Op::kWrite, 1, Error::kEIO, /*sticky=*/false, /*torn_write=*/true);
  ASSERT_TRUE((*w)->append(as_bytes(data)).is_io_error());
  const std::uint64_t size = fs_.live_size("/db/f");
  EXPECT_LT(size, 5u + data.size());
  EXPECT_EQ((*w)->size(), size) << "size() counts the torn bytes that were stored";
  EXPECT_EQ(read_all(fs_, "/db/f"), "head-" + data.substr(0, size - 5));
}

TEST_F(FaultFsTest, CountersCountCalls) {
  const std::uint64_t writes = fs_.write_count();
  const std::uint64_t syncs = fs_.sync_count();
  auto w = fs_.new_writable_file("/db/f", OpenMode::kCreateNew);
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->append(as_bytes("a")).is_ok());
  ASSERT_TRUE((*w)->append(as_bytes("b")).is_ok());
  ASSERT_TRUE((*w)->sync().is_ok());
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  fs_.fail_after(Op::kWrite, 1, Error::kEIO);
  EXPECT_FALSE((*w)->append(as_bytes("c")).is_ok());
  EXPECT_EQ(fs_.write_count(), writes + 3);
  EXPECT_EQ(fs_.sync_count(), syncs + 2);
}

TEST_F(FaultFsTest, CorruptBytesHitsLiveAndDurableImages) {
  make_file("f", "hello", "");
  fs_.corrupt_bytes("/db/f", 1, "EL");
  EXPECT_EQ(read_all(fs_, "/db/f"), "hELlo");
  fs_.corrupt_bytes("/db/f", 4, "OOPS");  // clipped at the end of the file
  fs_.corrupt_bytes("/db/f", 99, "X");    // outside the file: no-op
  fs_.corrupt_bytes("/db/missing", 0, "X");
  EXPECT_EQ(read_all(fs_, "/db/f"), "hELlO");
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/f"), "hELlO");
}

TEST_F(FaultFsTest, SizesOfMissingFilesAreZero) {
  EXPECT_EQ(fs_.live_size("/db/none"), 0u);
  EXPECT_EQ(fs_.synced_size("/db/none"), 0u);
}

}  // namespace
}  // namespace lightning::testing

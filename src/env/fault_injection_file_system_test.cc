#include "env/fault_injection_file_system.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>
#include <vector>

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

// ---- RandomRWFile: durability ----

// Opens path with open_random_rw; nullptr with a test failure on error.
std::unique_ptr<RandomRWFile> open_rw(FaultInjectionFileSystem& fs, const std::string& path,
                                      bool create = true) {
  auto f = fs.open_random_rw(path, create);
  EXPECT_TRUE(f.has_value()) << f.status().to_string();
  return f ? std::move(*f) : nullptr;
}

TEST_F(FaultFsTest, RandomRWUnsyncedWritesVanishSyncedSurvive) {
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  ASSERT_TRUE(f->write_at(0, as_bytes("page0")).is_ok());
  ASSERT_TRUE(f->write_at(10, as_bytes("page2")).is_ok());
  ASSERT_TRUE(f->sync().is_ok());
  ASSERT_TRUE(f->write_at(20, as_bytes("page4")).is_ok());
  ASSERT_TRUE(f->write_at(5, as_bytes("page1")).is_ok());
  EXPECT_EQ(fs_.live_size("/db/data"), 25u);
  EXPECT_EQ(fs_.synced_size("/db/data"), 15u);
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/data"), std::string("page0\0\0\0\0\0page2", 15));
}

TEST_F(FaultFsTest, RandomRWOverwriteOfSyncedBytesRevertsWithoutSync) {
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  ASSERT_TRUE(f->write_at(0, as_bytes("old-old-old")).is_ok());
  ASSERT_TRUE(f->sync().is_ok());
  ASSERT_TRUE(f->write_at(4, as_bytes("NEW")).is_ok());
  ASSERT_TRUE(f->truncate(2).is_ok());
  ASSERT_TRUE(f->write_at(2, as_bytes("d")).is_ok());
  EXPECT_EQ(read_all(fs_, "/db/data"), "old");
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/data"), "old-old-old");

  auto g = open_rw(fs_, "/db/data", false);
  ASSERT_TRUE(g->write_at(4, as_bytes("NEW")).is_ok());
  ASSERT_TRUE(g->truncate(9).is_ok());
  ASSERT_TRUE(g->sync().is_ok());
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/data"), "old-NEW-o");
}

TEST_F(FaultFsTest, RandomRWCreatedFileNeedsSyncDir) {
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(f->write_at(0, as_bytes("x")).is_ok());
  ASSERT_TRUE(f->sync().is_ok());
  fs_.drop_unsynced();
  EXPECT_FALSE(*fs_.exists("/db/data"));
}

TEST_F(FaultFsTest, RandomRWAndAppendHandlesShareOneFile) {
  auto w = make_file("f", "0123456789", "");
  auto f = open_rw(fs_, "/db/f", false);
  ASSERT_TRUE(f->write_at(2, as_bytes("ab")).is_ok());
  ASSERT_TRUE(w->append(as_bytes("tail")).is_ok());
  ASSERT_TRUE(f->sync().is_ok()) << "a sync through any handle makes the file durable";
  EXPECT_EQ(fs_.synced_size("/db/f"), 14u);
  ASSERT_TRUE(w->append(as_bytes("!")).is_ok());
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/f"), "01ab456789tail");
}

// The file after a drop in mode with seed, when "/db/f" holds `base` synced
// and then the unsynced writes (offset, bytes) are made through write_at.
std::string crash_rw(DropMode mode, std::uint64_t seed, const std::string& base,
                     const std::vector<std::pair<std::uint64_t, std::string>>& writes) {
  FaultInjectionFileSystem fs;
  EXPECT_TRUE(fs.create_dir("/db").is_ok());
  auto f = open_rw(fs, "/db/f");
  if (!f) return "";
  EXPECT_TRUE(fs.sync_dir("/db").is_ok());
  EXPECT_TRUE(f->write_at(0, as_bytes(base)).is_ok());
  EXPECT_TRUE(f->sync().is_ok());
  for (const auto& [offset, bytes] : writes) {
    EXPECT_TRUE(f->write_at(offset, as_bytes(bytes)).is_ok());
  }
  fs.drop_unsynced(mode, seed);
  return read_all(fs, "/db/f");
}

// Disjoint page-sized writes inside the synced range: after a torn drop each
// write's range holds new[0, k) + old[k, len) for some k, and the rest of the
// file keeps its synced bytes.
TEST(FaultFsDrop, RandomRWKeepTornPrefixMixesOldAndNewPerWrite) {
  constexpr std::size_t kPage = 64;
  const std::string base(8 * kPage, 'o');
  std::vector<std::pair<std::uint64_t, std::string>> writes;
  for (std::uint64_t page : {1, 6, 3, 4}) {
    writes.emplace_back(page * kPage, std::string(kPage, static_cast<char>('a' + page)));
  }
  bool saw_lost = false, saw_whole = false, saw_torn = false;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const std::string got = crash_rw(DropMode::kKeepTornPrefix, seed, base, writes);
    ASSERT_EQ(got.size(), base.size()) << "seed " << seed;
    std::string expected_rest = got;
    for (const auto& [offset, bytes] : writes) {
      const std::string range = got.substr(offset, kPage);
      std::size_t k = 0;
      while (k < kPage && range[k] == bytes[k]) ++k;
      EXPECT_EQ(range.substr(k), base.substr(offset + k, kPage - k))
          << "seed " << seed << ": write at " << offset << " is not new-prefix + old-rest";
      saw_lost |= k == 0;
      saw_whole |= k == kPage;
      saw_torn |= k > 0 && k < kPage;
      expected_rest.replace(offset, kPage, base.substr(offset, kPage));
    }
    EXPECT_EQ(expected_rest, base) << "seed " << seed << ": bytes no write touched changed";
    EXPECT_EQ(got, crash_rw(DropMode::kKeepTornPrefix, seed, base, writes))
        << "the same seed must give the same result";
  }
  EXPECT_TRUE(saw_lost && saw_whole && saw_torn)
      << "30 seeds x 4 writes never produced every outcome (lost, whole, torn)";
  EXPECT_EQ(crash_rw(DropMode::kDropAll, 5, base, writes), base);
}

TEST(FaultFsDrop, RandomRWSurvivorsMayBeAnySubsetInAnyOrder) {
  // Two unsynced writes: every combination of (first lands, second lands)
  // shows up across seeds, including the second without the first.
  const std::string base(4, 'o');
  const std::vector<std::pair<std::uint64_t, std::string>> writes = {{0, "A"}, {2, "B"}};
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    seen.insert(crash_rw(DropMode::kKeepTornPrefix, seed, base, writes));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"oooo", "Aooo", "ooBo", "AoBo"}));
}

TEST(FaultFsDrop, RandomRWWritesPastTheEndMayLeaveZeroGaps) {
  const std::vector<std::pair<std::uint64_t, std::string>> writes = {{4, "AAAA"}, {12, "BBBB"}};
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    const std::string got = crash_rw(DropMode::kKeepTornPrefix, seed, "base", writes);
    ASSERT_GE(got.size(), 4u);
    ASSERT_LE(got.size(), 16u);
    EXPECT_EQ(got.substr(0, 4), "base") << "seed " << seed;
    for (std::size_t i = 4; i < got.size(); ++i) {
      const char want = i < 8 ? 'A' : i < 12 ? '\0' : 'B';
      EXPECT_TRUE(got[i] == want || got[i] == '\0') << "seed " << seed << " byte " << i;
    }
  }
}

TEST(FaultFsDrop, RandomRWTornWithGarbageStaysInsideWrittenRanges) {
  constexpr std::size_t kPage = 64;
  const std::string base(8 * kPage, 'o');
  const std::vector<std::pair<std::uint64_t, std::string>> writes = {
      {2 * kPage, std::string(kPage, 'n')}, {5 * kPage, std::string(kPage, 'm')}};
  bool saw_garbage = false;
  for (std::uint64_t seed = 0; seed < 30; ++seed) {
    std::string got = crash_rw(DropMode::kTornWithGarbage, seed, base, writes);
    ASSERT_EQ(got.size(), base.size()) << "seed " << seed;
    for (const auto& [offset, bytes] : writes) {
      const std::string range = got.substr(offset, kPage);
      saw_garbage |= range != bytes && range != base.substr(offset, kPage) &&
                     range.find_first_not_of(std::string("o") + bytes[0]) != std::string::npos;
      got.replace(offset, kPage, base.substr(offset, kPage));
    }
    EXPECT_EQ(got, base) << "seed " << seed << ": garbage outside a written range";
  }
  EXPECT_TRUE(saw_garbage);
}

TEST(FaultFsDrop, AppendOnlyFilesKeepThePrefixModel) {
  // Many appends, no write_at: kKeepTornPrefix still keeps a prefix.
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    FaultInjectionFileSystem fs;
    ASSERT_TRUE(fs.create_dir("/db").is_ok());
    auto w = fs.new_writable_file("/db/f", OpenMode::kCreateNew);
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(fs.sync_dir("/db").is_ok());
    std::string live;
    for (int i = 0; i < 20; ++i) {
      const std::string rec = "record" + std::to_string(i) + ";";
      ASSERT_TRUE((*w)->append(as_bytes(rec)).is_ok());
      live += rec;
    }
    fs.drop_unsynced(DropMode::kKeepTornPrefix, seed);
    const std::string got = read_all(fs, "/db/f");
    EXPECT_EQ(got, live.substr(0, got.size())) << "seed " << seed;
  }
}

TEST_F(FaultFsTest, RandomRWHandlesOpenedBeforeDropAreDead) {
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  ASSERT_TRUE(f->write_at(0, as_bytes("abc")).is_ok());
  ASSERT_TRUE(f->sync().is_ok());
  fs_.drop_unsynced();
  EXPECT_TRUE(f->write_at(0, as_bytes("x")).is_io_error());
  EXPECT_TRUE(f->sync().is_io_error());
  EXPECT_TRUE(f->truncate(0).is_io_error());
  EXPECT_TRUE(f->read_at(0, {}).status().is_io_error());
  EXPECT_TRUE(f->size().status().is_io_error());
  EXPECT_TRUE(f->close().is_io_error());
  auto g = open_rw(fs_, "/db/data", false);
  ASSERT_TRUE(g->write_at(3, as_bytes("d")).is_ok()) << "new handles work";
  EXPECT_EQ(read_all(fs_, "/db/data"), "abcd");
}

TEST_F(FaultFsTest, CorruptBytesOnRandomRWFileOutlivesDrop) {
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  ASSERT_TRUE(f->write_at(0, as_bytes("synced")).is_ok());
  ASSERT_TRUE(f->sync().is_ok());
  ASSERT_TRUE(f->write_at(6, as_bytes("-unsynced")).is_ok());
  fs_.corrupt_bytes("/db/data", 4, "XXXX");  // across the synced/unsynced border
  EXPECT_EQ(read_all(fs_, "/db/data"), "syncXXXXnsynced");
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    FaultInjectionFileSystem fs;
    ASSERT_TRUE(fs.create_dir("/db").is_ok());
    auto g = open_rw(fs, "/db/data");
    ASSERT_TRUE(fs.sync_dir("/db").is_ok());
    ASSERT_TRUE(g->write_at(0, as_bytes("synced")).is_ok());
    ASSERT_TRUE(g->sync().is_ok());
    ASSERT_TRUE(g->write_at(6, as_bytes("-unsynced")).is_ok());
    fs.corrupt_bytes("/db/data", 4, "XXXX");
    fs.drop_unsynced(DropMode::kKeepTornPrefix, seed);
    const std::string got = read_all(fs, "/db/data");
    ASSERT_GE(got.size(), 6u);
    EXPECT_EQ(got.substr(0, 6), "syncXX") << "seed " << seed;
    const std::string live = "syncXXXXnsynced";
    EXPECT_EQ(got, live.substr(0, got.size())) << "seed " << seed << ": damage undone";
  }
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/data"), "syncXX");
}

// ---- RandomRWFile: injected errors ----

TEST_P(FaultFsErrorTest, NthWriteAtFailsAndPoisonsTheHandle) {
  auto f = open_rw(fs_, "/db/data");
  fs_.fail_after(Op::kWrite, 2, GetParam());
  ASSERT_TRUE(f->write_at(0, as_bytes("one")).is_ok());
  Status s = f->write_at(100, as_bytes("two"));
  ASSERT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find(expected()), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("write_at /db/data at offset 100"), std::string::npos)
      << s.to_string();
  EXPECT_EQ(fs_.live_size("/db/data"), 3u) << "a failed write_at without tearing stores nothing";
  EXPECT_EQ(f->write_at(3, as_bytes("x")), s) << "the handle is poisoned with the same error";
  EXPECT_EQ(f->sync(), s);
  EXPECT_EQ(f->truncate(0), s);
  EXPECT_EQ(read_rw(*f, 0, 10), "one") << "reads still work";
  auto g = open_rw(fs_, "/db/data", false);
  EXPECT_TRUE(g->write_at(3, as_bytes("x")).is_ok()) << "the fault was one-shot";
}

TEST_P(FaultFsErrorTest, NthRandomRWSyncFailsMakesNothingDurableAndSticks) {
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(fs_.sync_dir("/db").is_ok());
  ASSERT_TRUE(f->write_at(0, as_bytes("abc")).is_ok());
  fs_.fail_after(Op::kSync, 2, GetParam());
  ASSERT_TRUE(f->sync().is_ok());
  ASSERT_TRUE(f->write_at(0, as_bytes("XYZ")).is_ok());
  Status s = f->sync();
  ASSERT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find(expected()), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("/db/data"), std::string::npos) << s.to_string();
  EXPECT_EQ(f->sync(), s) << "a failed sync is never retried as if nothing happened";
  EXPECT_EQ(f->write_at(0, as_bytes("Q")), s);
  fs_.drop_unsynced();
  EXPECT_EQ(read_all(fs_, "/db/data"), "abc");
}

TEST_P(FaultFsErrorTest, StickyFaultFailsEveryWriteAtUntilCleared) {
  fs_.fail_after(Op::kWrite, 1, GetParam(), /*sticky=*/true);
  for (int i = 0; i < 3; ++i) {
    auto f = open_rw(fs_, "/db/data");
    Status s = f->write_at(0, as_bytes("x"));
    EXPECT_TRUE(s.is_io_error()) << "handle " << i;
    EXPECT_NE(s.message().find(expected()), std::string::npos) << s.to_string();
  }
  fs_.clear_faults();
  auto f = open_rw(fs_, "/db/data");
  EXPECT_TRUE(f->write_at(0, as_bytes("x")).is_ok());
}

TEST_P(FaultFsErrorTest, OpenRandomRWCreateCountsAsCreate) {
  write_file(fs_, "/db/existing", "x");
  fs_.fail_after(Op::kCreate, 1, GetParam());
  EXPECT_TRUE(fs_.open_random_rw("/db/existing", true).has_value())
      << "opening an existing file is not a create";
  auto f = fs_.open_random_rw("/db/new", true);
  ASSERT_FALSE(f.has_value());
  EXPECT_TRUE(f.status().is_io_error());
  EXPECT_NE(f.status().message().find(expected()), std::string::npos) << f.status().to_string();
  EXPECT_NE(f.status().message().find("/db/new"), std::string::npos) << f.status().to_string();
  EXPECT_FALSE(*fs_.exists("/db/new"));
  EXPECT_TRUE(fs_.open_random_rw("/db/new", true).has_value());
}

TEST_F(FaultFsTest, TornWriteAtStoresAStrictPrefix) {
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(f->write_at(0, as_bytes(std::string(100, 'o'))).is_ok());
  std::string data(1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  fs_.fail_after(Op::kWrite, 1, Error::kEIO, /*sticky=*/false, /*torn_write=*/true);
  ASSERT_TRUE(f->write_at(50, as_bytes(data)).is_io_error());
  const std::string got = read_all(fs_, "/db/data");
  ASSERT_GE(got.size(), 100u);
  ASSERT_LT(got.size(), 50u + data.size()) << "a strict prefix";
  // How many new bytes landed: all past the old end, or a match inside it.
  std::size_t k = got.size() > 100 ? got.size() - 50 : 0;
  while (k < 50 && got[50 + k] == data[k]) ++k;
  std::string want(std::max<std::size_t>(100, 50 + k), 'o');
  want.replace(50, k, data.substr(0, k));
  EXPECT_EQ(got, want);
}

TEST_F(FaultFsTest, RandomRWCallsAreCounted) {
  const std::uint64_t writes = fs_.write_count();
  const std::uint64_t syncs = fs_.sync_count();
  auto f = open_rw(fs_, "/db/data");
  ASSERT_TRUE(f->write_at(0, as_bytes("a")).is_ok());
  ASSERT_TRUE(f->write_at(5, as_bytes("b")).is_ok());
  ASSERT_TRUE(f->sync().is_ok());
  EXPECT_EQ(fs_.write_count(), writes + 2);
  EXPECT_EQ(fs_.sync_count(), syncs + 1);
}

TEST_F(FaultFsTest, MapReadonlyIsNotSupported) {
  write_file(fs_, "/db/f", "x");
  EXPECT_TRUE(fs_.map_readonly("/db/f").status().is_not_supported());
}

}  // namespace
}  // namespace lightning::testing

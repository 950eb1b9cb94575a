// Regression tests for recovery bugs found in review (each failed before its
// fix). Runs on the fault-injecting file system.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <map>
#include <string>

#include "env/fault_injection_file_system.h"

namespace lightning {
namespace {

constexpr const char* kDir = "/db";

class RecoveryRegressionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FaultInjectionFileSystem>();
    config_.file_system = fs_;
  }
  Result<std::unique_ptr<Database>> open(bool paranoid = true) {
    Config c = config_;
    c.paranoid_checks = paranoid;
    return Database::open(kDir, c);
  }
  std::map<std::string, std::string> contents(Database& db) {
    std::map<std::string, std::string> out;
    auto it = db.new_iterator();
    for (it->first(); it->valid(); it->next()) out.emplace(it->key(), it->value());
    EXPECT_TRUE(it->status());
    return out;
  }
  std::shared_ptr<FaultInjectionFileSystem> fs_;
  Config config_;
};

// A record replayed at open but never synced (its fsync failed) must become
// durable before a newer segment holds acknowledged writes.
TEST_F(RecoveryRegressionTest, ReplayedTailIsSyncedBeforeNewSegment) {
  {
    auto db = open();
    ASSERT_TRUE(db) << db.status().to_string();
    ASSERT_TRUE((*db)->put("a", "1"));
    fs_->fail_after(FaultInjectionFileSystem::Op::kSync, 1, FaultInjectionFileSystem::Error::kEIO);
    EXPECT_FALSE((*db)->put("b", "2"));  // appended, fsync failed: unknown outcome
  }
  fs_->clear_faults();
  {
    auto db = open();  // process restart: the page cache still has b
    ASSERT_TRUE(db) << db.status().to_string();
    EXPECT_EQ(contents(**db).count("b"), 1u);
    ASSERT_TRUE((*db)->put("c", "3"));  // acknowledged in Sync mode
  }
  fs_->drop_unsynced();  // power loss
  auto db = open();
  ASSERT_TRUE(db) << db.status().to_string();
  auto m = contents(**db);
  EXPECT_EQ(m, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

// A torn tail followed by a segment with a damaged header is damage in the
// middle: a paranoid open must fail, not return ok with an empty view.
TEST_F(RecoveryRegressionTest, TornTailThenBadHeaderFailsParanoidOpen) {
  for (const char* k : {"a", "b", "c"}) {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->put(k, std::string(100, 'v')));
    ASSERT_TRUE((*db)->put(std::string(k) + "2", std::string(100, 'w')));
  }
  // Segments 1..3 hold a/a2, b/b2, c/c2; each reopen added one more empty one.
  const std::string seg1 = std::string(kDir) + "/000001.wal";
  const std::string seg2 = std::string(kDir) + "/000002.wal";
  ASSERT_TRUE(fs_->truncate_file(seg1, fs_->live_size(seg1) - 20));
  fs_->corrupt_bytes(seg2, 0, "X");
  auto db = open();
  ASSERT_FALSE(db);
  EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
  EXPECT_NE(db.status().message().find("000001.wal"), std::string::npos) << db.status().message();
}

// A one-record last segment with a damaged header is corruption, not an
// interrupted segment creation to be deleted.
TEST_F(RecoveryRegressionTest, SmallLastSegmentWithBadHeaderIsCorruption) {
  {
    auto db = open();
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->put("k", "v"));
  }
  const std::string seg1 = std::string(kDir) + "/000001.wal";
  ASSERT_LE(fs_->live_size(seg1), 64u);
  fs_->corrupt_bytes(seg1, 3, "\x7f");
  auto db = open();
  ASSERT_FALSE(db);
  EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
  ASSERT_TRUE(*fs_->exists(seg1)) << "the segment must not be deleted";
}

// Point-in-time recovery interrupted at any sync leaves a log that is a
// prefix of the original history, never one with a hole.
TEST_F(RecoveryRegressionTest, InterruptedSetAsideNeverLeavesAHole) {
  for (int fail_at = 1; fail_at <= 12; ++fail_at) {
    SCOPED_TRACE("fail_at " + std::to_string(fail_at));
    SetUp();
    {
      auto db = open();
      ASSERT_TRUE(db);
      ASSERT_TRUE((*db)->put("a", std::string(200, 'a')));
      ASSERT_TRUE((*db)->put("b", std::string(200, 'b')));
    }
    for (const char* k : {"c", "d"}) {
      auto db = open();
      ASSERT_TRUE(db);
      ASSERT_TRUE((*db)->put(k, std::string(200, *k)));
    }
    // Damage b (the second record of segment 1); c and d follow in later segments.
    const std::string seg1 = std::string(kDir) + "/000001.wal";
    fs_->corrupt_bytes(seg1, fs_->live_size(seg1) - 50, "XYZ");
    fs_->fail_after(FaultInjectionFileSystem::Op::kSync, fail_at, FaultInjectionFileSystem::Error::kEIO,
                    /*sticky=*/true);
    { auto db = open(/*paranoid=*/false); }
    fs_->clear_faults();
    fs_->drop_unsynced();
    auto db = open(/*paranoid=*/false);
    ASSERT_TRUE(db) << db.status().to_string();
    auto m = contents(**db);
    // The history is a, b, c, d with b damaged: only {a} is a valid result.
    EXPECT_EQ(m.size(), 1u);
    EXPECT_EQ(m.count("a"), 1u);
  }
}

}  // namespace
}  // namespace lightning

namespace lightning {
namespace {

// Losing the newest meta slot after its flush deleted the WAL the older tree
// needs must fail the open, not silently serve the older tree.
TEST(RecoveryMetaFallback, DamagedNewestSlotWithDeletedWalIsCorruption) {
  auto fs = std::make_shared<FaultInjectionFileSystem>();
  Config c;
  c.file_system = fs;
  std::uint64_t epoch = 0;
  {
    auto db = Database::open("/db", c);
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->put("a", "1"));
    ASSERT_TRUE((*db)->flush_lsm());
    ASSERT_TRUE((*db)->put("b", "2"));
    ASSERT_TRUE((*db)->flush_lsm());
    epoch = (*db)->stats().tree_epoch;
  }
  fs->corrupt_bytes("/db/DATA", (epoch % 2) * 4096 + 20, "\x55\x66");
  auto db = Database::open("/db", c);
  ASSERT_FALSE(db);
  EXPECT_TRUE(db.status().is_corruption()) << db.status().to_string();
  EXPECT_NE(db.status().message().find("missing"), std::string::npos) << db.status().message();
}

// A flush whose commit fails at any write (page, free-space map, or a torn
// meta slot) before the WAL was deleted: reopen falls back to the older slot
// and replays the WAL, losing nothing.
TEST(RecoveryMetaFallback, FailedFlushAtEveryWriteRecoversEverything) {
  for (int n = 1; n <= 6; ++n) {
    SCOPED_TRACE("failing write " + std::to_string(n));
    auto fs = std::make_shared<FaultInjectionFileSystem>();
    Config c;
    c.file_system = fs;
    {
      auto db = Database::open("/db", c);
      ASSERT_TRUE(db);
      ASSERT_TRUE((*db)->put("a", "1"));
      ASSERT_TRUE((*db)->flush_lsm());
      ASSERT_TRUE((*db)->put("b", std::string(3000, 'b')));  // an overflow extent too
      fs->fail_after(FaultInjectionFileSystem::Op::kWrite, n, FaultInjectionFileSystem::Error::kEIO,
                     /*sticky=*/true, /*torn_write=*/true);
      (void)(*db)->flush_lsm();
    }
    fs->clear_faults();
    fs->drop_unsynced(FaultInjectionFileSystem::DropMode::kKeepTornPrefix, 7 + n);
    auto db = Database::open("/db", c);
    ASSERT_TRUE(db) << db.status().to_string();
    EXPECT_EQ((*db)->get("a")->value(), "1");
    EXPECT_EQ((*db)->get("b")->value(), std::string(3000, 'b'));
    EXPECT_TRUE((*db)->verify());
  }
}

}  // namespace
}  // namespace lightning

// Crash tests of transaction commits on the fault-injecting file system:
// a transaction whose process dies before its commit, while its WAL record
// is being written or synced, or after the commit returned, is afterwards
// either wholly present or wholly absent, and present if commit() returned
// OK in Sync mode. Seeds are printed; rerun with LIGHTNING_TEST_SEED.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <random>
#include <string>

#include "env/fault_injection_file_system.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

using FaultFs = FaultInjectionFileSystem;
constexpr FaultFs::DropMode kModes[] = {FaultFs::DropMode::kDropAll, FaultFs::DropMode::kKeepTornPrefix,
                                        FaultFs::DropMode::kTornWithGarbage};
constexpr int kKeys = 40;

Config config_for(const std::shared_ptr<FileSystem>& fs, WalSyncMode mode) {
  Config c;
  c.file_system = fs;
  c.wal_sync_mode = mode;
  c.wal_sync_interval = std::chrono::milliseconds(60'000);  // Periodic: no timer sync during the test
  return c;
}

std::string key(int i) { return "tx-key-" + std::to_string(i); }

// A transaction over kKeys keys with values large enough that its WAL record
// spans several WAL blocks (a torn tail can cut it anywhere).
Status run_transaction(Database& db, std::mt19937_64& rng, IsolationLevel level) {
  auto t = db.transaction(level);
  if (!t) return t.status();
  for (int i = 0; i < kKeys; ++i) {
    Status s = t->put(key(i), "new-" + std::to_string(i) + "-" + testing::random_string(rng, 1500, 'a', 'z'));
    if (!s.is_ok()) return s;
  }
  return t->commit();
}

// "all", "none", or a description of the mix found.
std::string state_of(Database& db) {
  int fresh = 0, old = 0;
  for (int i = 0; i < kKeys; ++i) {
    auto v = db.get(key(i));
    if (!v) return "read error: " + v.status().to_string();
    if (!*v) return "key " + key(i) + " is missing";
    if ((*v)->starts_with("new-" + std::to_string(i) + "-")) {
      ++fresh;
    } else if (**v == "old") {
      ++old;
    } else {
      return "key " + key(i) + " has a foreign value";
    }
  }
  if (fresh == kKeys) return "all";
  if (old == kKeys) return "none";
  return std::to_string(fresh) + " of " + std::to_string(kKeys) + " keys committed";
}

struct Case {
  WalSyncMode mode;
  int fail_sync;  // 0: no fault; n: the n-th sync from the commit on fails
  bool commit_at_all;
};

TEST(DbTransactionCrash, AllOrNothingAroundTheCommitsWalSync) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  const Case cases[] = {
      {WalSyncMode::kSync, 0, false},     // killed before commit
      {WalSyncMode::kSync, 1, true},      // the commit's sync fails
      {WalSyncMode::kSync, 0, true},      // killed after commit returned
      {WalSyncMode::kNoSync, 0, true},    // the record is written, never synced: torn anywhere
      {WalSyncMode::kPeriodic, 0, true},  // same, Periodic mode
  };
  int present = 0, absent = 0;
  for (const Case& c : cases) {
    for (FaultFs::DropMode drop : kModes) {
      for (IsolationLevel level : {IsolationLevel::kSnapshot, IsolationLevel::kSerializable}) {
        SCOPED_TRACE("mode " + std::to_string(static_cast<int>(c.mode)) + ", fail sync " +
                     std::to_string(c.fail_sync) + ", commit " + std::to_string(c.commit_at_all) + ", drop " +
                     std::to_string(static_cast<int>(drop)) + ", seed " + std::to_string(seed));
        auto fs = std::make_shared<FaultFs>();
        ASSERT_TRUE(fs->create_dir("/db"));
        {
          auto opened = Database::open("/db", config_for(fs, WalSyncMode::kSync));
          ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
          for (int i = 0; i < kKeys; ++i) ASSERT_TRUE((*opened)->put(key(i), "old").is_ok());
        }
        auto opened = Database::open("/db", config_for(fs, c.mode));
        ASSERT_TRUE(opened.has_value());
        std::unique_ptr<Database> db = std::move(*opened);
        Status s;
        if (c.commit_at_all) {
          if (c.fail_sync > 0) fs->fail_after(FaultFs::Op::kSync, c.fail_sync, FaultFs::Error::kEIO, true);
          s = run_transaction(*db, rng, level);
          if (c.fail_sync > 0) {
            EXPECT_FALSE(s.is_ok()) << "commit acknowledged although its sync failed";
          } else {
            EXPECT_TRUE(s.is_ok()) << s.to_string();
          }
        } else {
          auto t = db->transaction(level);
          ASSERT_TRUE(t.has_value());
          for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(t->put(key(i), "never").is_ok());
          fs->drop_unsynced(drop, rng());  // the process dies with the transaction open
          (void)t->rollback();
        }
        fs->drop_unsynced(drop, rng());
        db.reset();
        fs->clear_faults();
        auto reopened = Database::open("/db", config_for(fs, WalSyncMode::kSync));
        ASSERT_TRUE(reopened.has_value()) << reopened.status().to_string();
        const std::string st = state_of(**reopened);
        ASSERT_TRUE(st == "all" || st == "none") << st;
        if (c.mode == WalSyncMode::kSync && c.commit_at_all && s.is_ok()) {
          EXPECT_EQ(st, "all") << "an acknowledged Sync-mode commit was lost";
        }
        if (!c.commit_at_all) EXPECT_EQ(st, "none");
        (st == "all" ? present : absent) += 1;
      }
    }
  }
  std::printf("[ info     ] seed %llu: %d transactions present, %d absent after the crash\n",
              static_cast<unsigned long long>(seed), present, absent);
  EXPECT_GT(present, 0);
  EXPECT_GT(absent, 0);
}

}  // namespace
}  // namespace lightning

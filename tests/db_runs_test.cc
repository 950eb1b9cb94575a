// LSM runs through the public API: automatic flushes write run files, reads
// and iterators see them, merges fold them into the tree and delete their
// files, orphans are removed at open, deletes stay deleted through flush,
// merge and reopen.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "db/db_impl.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

std::string key_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key%07d", i);
  return buf;
}

int count_runs(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".run") ++n;
  }
  return n;
}

class DbRunsTest : public ::testing::Test {
 protected:
  Config config() {
    Config c;
    c.memtable_size = 64 << 10;  // a flush every few hundred puts
    c.max_runs = 4;
    c.merge_ratio = 100;  // merge by count only
    return c;
  }
  std::unique_ptr<Database> open_db(const Config& c) {
    auto db = Database::open(dir_.sub("db"), c);
    EXPECT_TRUE(db.has_value()) << db.status().to_string();
    return db ? std::move(*db) : nullptr;
  }
  // Puts `n` keys with values tagged `round`, waiting for each flush.
  static void fill(Database& db, int n, int round, std::map<std::string, std::string>* model) {
    for (int i = 0; i < n; ++i) {
      const std::string v = "r" + std::to_string(round) + "-" + std::to_string(i) + std::string(60, 'x');
      ASSERT_TRUE(db.put(key_of(i), v).is_ok());
      (*model)[key_of(i)] = v;
    }
  }
  testing::TempDir dir_;
};

TEST_F(DbRunsTest, FlushesWriteRunsThatReadsAndIteratorsSee) {
  auto db = open_db(config());
  ASSERT_NE(db, nullptr);
  std::map<std::string, std::string> model;
  ASSERT_NO_FATAL_FAILURE(fill(*db, 1500, 0, &model));
  // Wait for the last automatic flush (a put that froze a memtable).
  Stats st = db->stats();
  EXPECT_GT(st.flushes, 0u);
  EXPECT_GT(st.run_bytes_written, 0u);
  EXPECT_GE(st.runs + st.merges, 1u);
  EXPECT_LE(st.runs, config().effective_stop_runs()) << "stop_runs bounds the live runs";
  // Every byte written counts towards write amplification (the benchmark
  // left the run files out before it used bytes_written()).
  EXPECT_EQ(st.bytes_written(), st.wal_bytes_written + st.run_bytes_written + st.data_bytes_written);
  EXPECT_DOUBLE_EQ(st.write_amplification(),
                   static_cast<double>(st.bytes_written()) / static_cast<double>(st.user_bytes_written));
  for (const auto& [k, v] : model) {
    auto got = db->get(k);
    ASSERT_TRUE(got.has_value() && got->has_value()) << k;
    ASSERT_EQ(**got, v);
  }
  std::size_t n = 0;
  for (auto [k, v] : db->prefix("key")) {
    ASSERT_EQ(model.at(std::string(k)), v);
    ++n;
  }
  EXPECT_EQ(n, model.size());
  EXPECT_TRUE(db->verify().is_ok());
}

TEST_F(DbRunsTest, MergesFoldRunsIntoTheTreeAndDeleteTheirFiles) {
  auto db = open_db(config());
  ASSERT_NE(db, nullptr);
  std::map<std::string, std::string> model;
  for (int round = 0; round < 6; ++round) ASSERT_NO_FATAL_FAILURE(fill(*db, 1000, round, &model));
  Stats st = db->stats();
  EXPECT_GT(st.merges, 0u) << "max_runs = 4 should have forced merges";
  EXPECT_LE(st.runs, config().effective_stop_runs());
  // flush_lsm(): memtable to a run, then every run into the tree.
  ASSERT_TRUE(db->flush_lsm().is_ok());
  st = db->stats();
  EXPECT_EQ(st.runs, 0u);
  EXPECT_EQ(st.tree_entries, model.size());
  EXPECT_EQ(count_runs(dir_.sub("db")), 0) << "merged runs' files must be deleted";
  for (const auto& [k, v] : model) ASSERT_EQ(**db->get(k), v);
}

TEST_F(DbRunsTest, MergedRunFileStaysWhileAnIteratorUsesIt) {
  Config c = config();
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  std::map<std::string, std::string> model;
  ASSERT_NO_FATAL_FAILURE(fill(*db, 600, 0, &model));
  ASSERT_TRUE(db->put("zzz", "last").is_ok());
  // Force the memtable into a run without merging: close and reopen is not
  // that; instead hold an iterator over the current runs and merge.
  auto it = db->new_iterator();
  const int runs_before = count_runs(dir_.sub("db"));
  ASSERT_TRUE(db->flush_lsm().is_ok());  // merges every run
  if (runs_before > 0) {
    EXPECT_GE(count_runs(dir_.sub("db")), runs_before) << "a run in use by an iterator was deleted";
  }
  std::size_t n = 0;
  for (it->first(); it->valid(); it->next()) ++n;
  ASSERT_TRUE(it->status().is_ok()) << it->status().to_string();
  it.reset();
  EXPECT_EQ(count_runs(dir_.sub("db")), 0) << "released runs are deleted";
}

TEST_F(DbRunsTest, DeletesStayDeletedThroughFlushMergeAndReopen) {
  Config c = config();
  c.max_runs = 64;  // keep runs around until flush_lsm()
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  std::map<std::string, std::string> model;
  ASSERT_NO_FATAL_FAILURE(fill(*db, 800, 0, &model));
  ASSERT_TRUE(db->flush_lsm().is_ok());  // in the tree
  for (int i = 0; i < 800; i += 3) {
    ASSERT_TRUE(db->remove(key_of(i)).is_ok());
    model.erase(key_of(i));
  }
  // Push the tombstones into runs with unrelated writes.
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(db->put("pad" + std::to_string(i), std::string(50, 'p')).is_ok());
  for (int i = 0; i < 1500; ++i) model["pad" + std::to_string(i)] = std::string(50, 'p');
  EXPECT_GT(db->stats().runs, 0u);
  auto check = [&](Database& d, const char* when) {
    for (int i = 0; i < 800; ++i) {
      auto got = d.get(key_of(i));
      ASSERT_TRUE(got.has_value()) << when;
      ASSERT_EQ(got->has_value(), model.contains(key_of(i))) << key_of(i) << " " << when;
    }
    std::size_t n = 0;
    for ([[maybe_unused]] auto kv : d.prefix("")) ++n;
    ASSERT_EQ(n, model.size()) << when;
  };
  ASSERT_NO_FATAL_FAILURE(check(*db, "with tombstones in runs"));
  db.reset();
  db = open_db(c);
  ASSERT_NE(db, nullptr);
  ASSERT_NO_FATAL_FAILURE(check(*db, "after reopen"));
  ASSERT_TRUE(db->flush_lsm().is_ok());
  ASSERT_NO_FATAL_FAILURE(check(*db, "after the merge"));
  db.reset();
  db = open_db(c);
  ASSERT_NE(db, nullptr);
  ASSERT_NO_FATAL_FAILURE(check(*db, "after the merge and reopen"));
}

TEST_F(DbRunsTest, BloomFiltersAnswerMissingKeys) {
  Config c = config();
  c.max_runs = 64;
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  std::map<std::string, std::string> model;
  ASSERT_NO_FATAL_FAILURE(fill(*db, 2000, 0, &model));
  ASSERT_GT(db->stats().runs, 0u);
  for (int i = 0; i < 2000; ++i) {
    auto got = db->get(key_of(i) + "a");  // inside the runs' key ranges
    ASSERT_TRUE(got.has_value() && !got->has_value());
  }
  const Stats st = db->stats();
  EXPECT_GT(st.bloom_useful, 0u);
  EXPECT_LT(st.bloom_false_positives, st.bloom_useful / 10 + 10) << "about 1% false positives at 10 bits per key";
}

// Regression: a run whose first data block cannot be read made the merge's
// input look empty; the merge then committed an empty run list and deleted
// every run (their WAL already gone): acknowledged writes lost, flush_lsm()
// OK. The merge must fail with Corruption and keep the runs.
TEST_F(DbRunsTest, DamagedRunFailsTheMergeAndKeepsTheRuns) {
  Config c = config();
  c.max_runs = 64;
  c.merge_ratio = 100;
  std::map<std::string, std::string> model;
  {
    auto db = open_db(c);
    ASSERT_NE(db, nullptr);
    ASSERT_NO_FATAL_FAILURE(fill(*db, 600, 0, &model));
    ASSERT_TRUE(db->flush_lsm().is_ok());  // a tree of height >= 1
    ASSERT_NO_FATAL_FAILURE(fill(*db, 1500, 1, &model));
    ASSERT_GE(db->stats().runs, 2u);
  }
  // Flip a byte in the first data block of every run file.
  int damaged = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.sub("db"))) {
    if (e.path().extension() != ".run") continue;
    std::FILE* f = std::fopen(e.path().c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 20, SEEK_SET);
    const int ch = std::fgetc(f);
    std::fseek(f, 20, SEEK_SET);
    std::fputc(ch ^ 0x5a, f);
    std::fclose(f);
    ++damaged;
  }
  ASSERT_GE(damaged, 2);
  auto db = open_db(c);  // open reads footers, indexes and filters only
  ASSERT_NE(db, nullptr);
  Status s = db->flush_lsm();
  EXPECT_TRUE(s.is_corruption()) << s.to_string();
  EXPECT_NE(s.message().find(".run block at offset"), std::string::npos) << s.to_string();
  db.reset();
  EXPECT_GE(count_runs(dir_.sub("db")), damaged) << "a failed merge must not delete runs";
}

TEST_F(DbRunsTest, OrphanRunFilesAreRemovedAtOpen) {
  {
    auto db = open_db(config());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(db->put("a", "1").is_ok());
  }
  // A run file no meta slot names: a flush that crashed before its commit.
  {
    std::FILE* f = std::fopen(dir_.sub("db/000777.run").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("half-written run", f);
    std::fclose(f);
  }
  auto db = open_db(config());
  ASSERT_NE(db, nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("db/000777.run")));
  EXPECT_EQ(**db->get("a"), "1");
}

TEST_F(DbRunsTest, ConfigValidatesRunSettings) {
  Config c;
  c.bloom_bits_per_key = 65;
  EXPECT_TRUE(c.validate().is_invalid_argument());
  c = Config{};
  c.merge_ratio = 0;
  EXPECT_NE(c.validate().message().find("merge_ratio"), std::string::npos);
  c = Config{};
  c.max_runs = 0;
  EXPECT_NE(c.validate().message().find("max_runs"), std::string::npos);
  c = Config{};
  c.bloom_bits_per_key = 0;  // no filters: allowed
  EXPECT_TRUE(c.validate().is_ok());
  c = Config{};
  c.slowdown_runs = c.max_runs;  // must be above max_runs
  EXPECT_NE(c.validate().message().find("slowdown_runs"), std::string::npos);
  c = Config{};
  c.stop_runs = c.effective_slowdown_runs() - 1;
  EXPECT_NE(c.validate().message().find("stop_runs"), std::string::npos);
  c = Config{};
  c.stop_runs = 257;
  EXPECT_NE(c.validate().message().find("stop_runs"), std::string::npos);
  c = Config{};
  EXPECT_EQ(c.effective_slowdown_runs(), 36u);
  EXPECT_EQ(c.effective_stop_runs(), 48u);
  c.max_runs = 1;
  EXPECT_EQ(c.effective_slowdown_runs(), 2u);
  EXPECT_EQ(c.effective_stop_runs(), 2u);
  EXPECT_TRUE(c.validate().is_ok());
}

// Backpressure, deterministically: the merge is held by a test hook while a
// writer keeps filling memtables. With slowdown_runs runs its commit groups
// are delayed; at stop_runs runs its next memtable switch waits (the hook
// on_write_stop fires) until the merge finishes. Runs never exceed
// stop_runs, and the stall shows in stats().
TEST_F(DbRunsTest, WritesSlowDownThenStopUntilTheMergeFinishes) {
  Config c = config();
  c.max_runs = 1;  // a merge is due after every flush
  c.slowdown_runs = 2;
  c.stop_runs = 3;
  c.slowdown_write_rate = 8 << 20;
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  auto* impl = dynamic_cast<DatabaseImpl*>(db.get());
  ASSERT_NE(impl, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  bool merge_held = false, release = false, stopped = false;
  DatabaseImpl::TestHooks hooks;
  hooks.before_merge = [&] {
    std::unique_lock l(mu);
    merge_held = true;
    cv.notify_all();
    cv.wait(l, [&] { return release; });
  };
  hooks.on_write_stop = [&] {
    std::lock_guard l(mu);
    stopped = true;
    cv.notify_all();
  };
  impl->set_test_hooks(hooks);
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> most_runs{0};
  std::thread watcher([&] {
    while (!done.load()) {
      most_runs.store(std::max(most_runs.load(), db->stats().runs));
      std::this_thread::yield();
    }
  });
  std::map<std::string, std::string> model;
  std::thread writer([&] { fill(*db, 6000, 1, &model); });
  {
    std::unique_lock l(mu);
    cv.wait(l, [&] { return stopped; });
  }
  Stats st = db->stats();
  EXPECT_TRUE(merge_held);
  EXPECT_EQ(st.runs, 3u) << "the writer stopped before stop_runs runs";
  EXPECT_EQ(st.merges, 0u);
  EXPECT_GT(st.write_slowdowns, 0u) << "no slowdown at slowdown_runs runs";
  EXPECT_GT(st.write_slowdown_micros, 0u);
  {
    std::lock_guard l(mu);
    release = true;
  }
  cv.notify_all();
  writer.join();
  done.store(true);
  watcher.join();
  impl->set_test_hooks({});
  st = db->stats();
  EXPECT_GE(st.write_stalls, 1u);
  EXPECT_GT(st.max_write_stall_micros, 0u);
  EXPECT_LE(st.max_write_stall_micros, st.write_stall_micros);
  EXPECT_GT(st.merges, 0u);
  EXPECT_LE(most_runs.load(), 3u) << "more runs than stop_runs";
  for (const auto& [k, v] : model) ASSERT_EQ(**db->get(k), v) << k;
}

// Closing while a merge is in progress abandons it: nothing of it is
// published, the runs stay listed, and the reopened database has every
// write (a merge then folds the runs).
TEST_F(DbRunsTest, CloseAbandonsAMergeInProgress) {
  Config c = config();
  c.max_runs = 2;
  c.slowdown_runs = c.stop_runs = 100;  // the held merge must not stop the writer
  std::map<std::string, std::string> model;
  std::uint64_t runs_at_close = 0;
  {
    auto db = open_db(c);
    ASSERT_NE(db, nullptr);
    auto* impl = dynamic_cast<DatabaseImpl*>(db.get());
    std::atomic<bool> merge_held{false};
    DatabaseImpl::TestHooks hooks;
    // The first merge waits until the database is closing.
    hooks.before_merge = [&] {
      merge_held.store(true);
      while (!impl->closing()) std::this_thread::yield();
    };
    impl->set_test_hooks(hooks);
    ASSERT_NO_FATAL_FAILURE(fill(*db, 3000, 0, &model));
    while (!merge_held.load()) std::this_thread::yield();
    const Stats st = db->stats();
    EXPECT_EQ(st.merges, 0u);
    runs_at_close = st.runs;
    EXPECT_GE(runs_at_close, 2u);
    db.reset();  // closes: the hook sees closing() and the merge gives up
  }
  // Reopen without a merge due: the runs the abandoned merge was folding
  // are all still there (plus the one the close's final flush wrote).
  Config keep = c;
  keep.max_runs = 64;
  auto db = open_db(keep);
  ASSERT_NE(db, nullptr);
  Stats st = db->stats();
  EXPECT_GE(st.runs, runs_at_close);
  EXPECT_EQ(st.merges, 0u);
  EXPECT_EQ(count_runs(dir_.sub("db")), static_cast<int>(st.runs));
  for (const auto& [k, v] : model) ASSERT_EQ(**db->get(k), v) << k;
  EXPECT_TRUE(db->verify().is_ok());
  ASSERT_TRUE(db->flush_lsm().is_ok());
  EXPECT_EQ(db->stats().runs, 0u);
  EXPECT_EQ(count_runs(dir_.sub("db")), 0);
  for (const auto& [k, v] : model) ASSERT_EQ(**db->get(k), v) << k;
}

// Regression: a compact() whose rewrite failed left its frees (pages of the
// live tree) pending, and the next merge's commit freed them: later writes
// reused pages the tree still referenced.
TEST_F(DbRunsTest, FailedCompactLeavesNoPendingFreesBehind) {
  Config c = config();
  c.max_runs = 64;  // merges only through flush_lsm()
  c.merge_ratio = 100;
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  auto* impl = dynamic_cast<DatabaseImpl*>(db.get());
  std::map<std::string, std::string> model;
  ASSERT_NO_FATAL_FAILURE(fill(*db, 4000, 0, &model));
  ASSERT_TRUE(db->flush_lsm().is_ok());
  DatabaseImpl::TestHooks hooks;
  hooks.fail_tree_write = [] { return Status::corruption("injected read error"); };
  impl->set_test_hooks(hooks);
  Status s = db->compact();
  EXPECT_TRUE(s.is_corruption()) << s.to_string();
  impl->set_test_hooks({});
  // Overwrite a few neighbouring keys, merge, several times: the merges
  // rewrite only the leaves they touch (and reuse freed pages); the other
  // leaves must stay intact.
  for (int round = 1; round <= 6; ++round) {
    for (int i = 0; i < 40; ++i) {
      const std::string v = "r" + std::to_string(round) + std::string(60, 'y');
      ASSERT_TRUE(db->put(key_of(i), v).is_ok());
      model[key_of(i)] = v;
    }
    ASSERT_TRUE(db->flush_lsm().is_ok());
  }
  Status v = db->verify();
  ASSERT_TRUE(v.is_ok()) << v.to_string();
  for (const auto& [k, val] : model) ASSERT_EQ(**db->get(k), val) << k;
  ASSERT_TRUE(db->compact().is_ok());
  EXPECT_TRUE(db->verify().is_ok());
}

}  // namespace
}  // namespace lightning

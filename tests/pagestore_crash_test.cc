// Crash tests of the page store's commit protocol, through the database, on
// the fault-injecting file system (src/env/fault_injection_file_system.h).
//
// A flush (Database::flush_lsm) switches the memtable to a new WAL segment,
// merges the frozen memtable into the copy-on-write B+tree, and commits:
// pages -> fsync -> meta slot (epoch % 2) -> fsync, then deletes the WAL
// segments the tree now covers. Whatever point a crash hits, a reopen must
// give exactly the acknowledged state (Sync mode): the tree is the pre-flush
// or the post-flush one (never a mix: the recovered tree epoch and entry
// count are one of the two), the WAL replays the rest, and verify() passes.
//
//  (a) a sticky EIO on the n-th sync of a flush, for every n from 1 to the
//      number of syncs a flush performs + 3, then a power loss in each
//      DropMode; a power loss right after flush_lsm() returns; a power loss
//      at a random point while a writer runs and background flushes happen.
//  (b) EIO (torn) / ENOSPC on the n-th data or WAL write of a flush.
//  (c) a damaged meta slot after a successful flush: the newest one (the
//      engine falls back to the older slot, whose WAL segments the flush has
//      deleted: the open must either give the acknowledged state or fail
//      with a Corruption naming DATA, never silently lose acked writes), and
//      the older one (the newest is used; nothing is lost).
//  (d) space reuse: overwriting the same keys many times keeps the data file
//      within a small factor of the live data.
//
// Every test prints its seed; rerun with LIGHTNING_TEST_SEED=<seed>. Tests
// (a)..(c) are single-threaded apart from the engine's flush thread and are
// deterministic for a seed; the random-crash-point test has a writer thread,
// so its exact crash point depends on scheduling (the seed fixes the
// operations, the drop mode and the ack count at which the crash is issued).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "db/filename.h"
#include "env/fault_injection_file_system.h"
#include "lightning/lightning.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

using FaultFs = FaultInjectionFileSystem;
using Model = std::map<std::string, std::string>;
constexpr const char* kDir = "/db";
constexpr const char* kDataFile = "/db/DATA";
// 16 KiB pages for the crash scenarios: with 4 KiB pages their free-space
// map outgrows one page, and a data file whose map spans several pages cannot
// be reopened at all (see MultiPageFreeSpaceMapReopens below), which would
// hide every other result.
constexpr std::uint32_t kPageSize = 16384;
constexpr FaultFs::DropMode kDropModes[] = {FaultFs::DropMode::kDropAll,
                                            FaultFs::DropMode::kKeepTornPrefix,
                                            FaultFs::DropMode::kTornWithGarbage};

const char* mode_name(FaultFs::DropMode m) {
  switch (m) {
    case FaultFs::DropMode::kDropAll:
      return "kDropAll";
    case FaultFs::DropMode::kKeepTornPrefix:
      return "kKeepTornPrefix";
    case FaultFs::DropMode::kTornWithGarbage:
      return "kTornWithGarbage";
  }
  return "?";
}

// background_merges false: runs are merged only by flush_lsm(), so that a
// scenario's commits (and epochs) do not depend on the merge thread's
// timing; true: merges run on the merge thread constantly (a merge is due
// at 3 runs or at 30% of the tree), beside flushes committing.
Config small_config(const std::shared_ptr<FileSystem>& fs, std::uint32_t page_size = kPageSize,
                    bool background_merges = false) {
  Config c;
  c.file_system = fs;
  c.wal_sync_mode = WalSyncMode::kSync;
  c.memtable_size = 64 << 10;
  c.page_size = page_size;
  c.cache_size = 256 << 10;  // small: most tree reads go to the file
  c.max_runs = background_merges ? 3 : 64;
  c.merge_ratio = background_merges ? 0.3 : 100;
  return c;
}

// One user operation: a batch of puts (value) and removes (nullopt).
struct Op {
  std::vector<std::pair<std::string, std::optional<std::string>>> entries;
};

void apply_op(Model& m, const Op& op) {
  for (const auto& [k, v] : op.entries) {
    if (v) {
      m[k] = *v;
    } else {
      m.erase(k);
    }
  }
}

Status submit(Database& db, const Op& op) {
  if (op.entries.size() == 1) {
    const auto& [k, v] = op.entries[0];
    return v ? db.put(k, *v) : db.remove(k);
  }
  WriteBatch b;
  for (const auto& [k, v] : op.entries) {
    Status s = v ? b.put(k, *v) : b.remove(k);
    if (!s.is_ok()) return s;
  }
  return db.write(b);
}

std::string key_name(std::uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key%08llu", static_cast<unsigned long long>(i));
  return buf;
}

// Mostly small values; 1 in 40 is an overflow value (> page_size / 8 for
// both 4 KiB and 16 KiB pages), 1 to 3 pages long.
std::string random_value(std::mt19937_64& rng, bool allow_overflow = true) {
  std::size_t len = allow_overflow && rng() % 40 == 0 ? 2100 + rng() % 30000 : 1 + rng() % 160;
  return testing::random_string(rng, len, '0', 'z');
}

Op random_op(std::mt19937_64& rng, std::uint64_t key_space, bool allow_overflow = true) {
  Op op;
  const std::size_t n = rng() % 5 == 0 ? 2 + rng() % 20 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    std::string k = key_name(rng() % key_space);
    if (rng() % 8 == 0) {
      op.entries.emplace_back(std::move(k), std::nullopt);
    } else {
      op.entries.emplace_back(std::move(k), random_value(rng, allow_overflow));
    }
  }
  return op;
}

// The whole database as seen by a fresh iterator. Keys must come out in
// strictly increasing order (a repeated key would mean an endless loop).
Model read_all(Database& db) {
  Model m;
  auto it = db.new_iterator();
  std::string prev;
  for (it->first(); it->valid(); it->next()) {
    std::string k(it->key());
    if (!m.empty() && k <= prev) {
      ADD_FAILURE() << "the iterator returned key " << k << " after " << prev << " (" << m.size()
                    << " keys so far): not strictly increasing";
      break;
    }
    m.emplace(k, std::string(it->value()));
    prev = std::move(k);
  }
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  return m;
}

std::string diff(const Model& got, const Model& want) {
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) return "missing key " + k;
    if (it->second != v)
      return "key " + k + " has a wrong value (" + std::to_string(it->second.size()) + " bytes, want " +
             std::to_string(v.size()) + ")";
  }
  for (const auto& [k, v] : got) {
    if (!want.contains(k)) return "unexpected key " + k;
  }
  return "equal";
}

// Point reads of every model key and of a few absent keys.
std::string check_gets(Database& db, const Model& want, std::uint64_t key_space) {
  std::size_t n = 0;
  for (const auto& [k, v] : want) {
    if (n++ % 5 != 0) continue;  // every 5th key: the iterator checked them all
    auto got = db.get(k);
    if (!got) return "get(" + k + "): " + got.status().to_string();
    if (!*got || **got != v) return "get(" + k + ") returned a wrong value";
  }
  for (std::uint64_t i = 0; i < key_space; i += 97) {
    const std::string k = key_name(i);
    if (want.contains(k)) continue;
    auto got = db.get(k);
    if (!got) return "get(" + k + "): " + got.status().to_string();
    if (*got) return "get(" + k + ") found a removed/absent key";
  }
  return "ok";
}

// Power loss while the database is open, then its (dead) handles go.
void crash(FaultFs& fs, std::unique_ptr<Database>& db, FaultFs::DropMode mode, std::uint64_t seed) {
  fs.drop_unsynced(mode, seed);
  db.reset();
  fs.clear_faults();
}

// A database with a multi-level tree and some flushed history, plus a
// memtable of `pending` acknowledged but unflushed operations. Fully
// determined by `seed`.
struct Scenario {
  std::shared_ptr<FaultFs> fs;
  std::unique_ptr<Database> db;
  Model model;
  std::uint64_t epoch_before = 0;    // tree epoch with the pending ops unflushed
  std::uint64_t entries_before = 0;  // tree entries then
};

constexpr std::uint64_t kKeySpace = 2500;

void build(Scenario* sc, std::uint64_t seed, int pending, std::uint32_t page_size = kPageSize) {
  std::mt19937_64 rng(seed);
  sc->fs = std::make_shared<FaultFs>();
  auto db = Database::open(kDir, small_config(sc->fs, page_size));
  ASSERT_TRUE(db.has_value()) << db.status().to_string();
  sc->db = std::move(*db);
  // 2500 keys in batches of 100: several automatic flushes, a 2-level tree.
  for (std::uint64_t first = 0; first < kKeySpace; first += 100) {
    Op op;
    for (std::uint64_t i = first; i < first + 100; ++i) op.entries.emplace_back(key_name(i), random_value(rng));
    ASSERT_TRUE(submit(*sc->db, op).is_ok());
    apply_op(sc->model, op);
  }
  for (int i = 0; i < 150; ++i) {
    Op op = random_op(rng, kKeySpace);
    ASSERT_TRUE(submit(*sc->db, op).is_ok());
    apply_op(sc->model, op);
  }
  ASSERT_TRUE(sc->db->flush_lsm().is_ok());
  // The pending ops: small values only, so they stay under memtable_size and
  // no automatic flush runs before the one under test.
  for (int i = 0; i < pending; ++i) {
    Op op = random_op(rng, kKeySpace, /*allow_overflow=*/false);
    if (op.entries.size() > 4) op.entries.resize(4);
    ASSERT_TRUE(submit(*sc->db, op).is_ok());
    apply_op(sc->model, op);
  }
  Stats st = sc->db->stats();
  sc->epoch_before = st.tree_epoch;
  sc->entries_before = st.tree_entries;
}

constexpr int kPending = 120;

// What one successful flush of the scenario does.
struct FlushProfile {
  std::uint64_t syncs = 0;
  std::uint64_t writes = 0;
  std::uint64_t epoch_before = 0, epoch_after = 0;
  std::uint64_t entries_before = 0, entries_after = 0;
};

FlushProfile profile_flush(std::uint64_t seed) {
  FlushProfile p;
  Scenario sc;
  build(&sc, seed, kPending);
  if (::testing::Test::HasFatalFailure()) return p;
  p.epoch_before = sc.epoch_before;
  p.entries_before = sc.entries_before;
  const std::uint64_t s0 = sc.fs->sync_count(), w0 = sc.fs->write_count();
  EXPECT_TRUE(sc.db->flush_lsm().is_ok());
  p.syncs = sc.fs->sync_count() - s0;
  p.writes = sc.fs->write_count() - w0;
  Stats st = sc.db->stats();
  p.epoch_after = st.tree_epoch;
  p.entries_after = st.tree_entries;
  // Two commits: the memtable becomes a run, then flush_lsm() merges the
  // runs into the tree.
  EXPECT_EQ(p.epoch_after, p.epoch_before + 2);
  EXPECT_GE(p.epoch_before, 3u) << "the scenario should have flushed a few times already";
  EXPECT_GE(st.tree_height, 2u);
  return p;
}

constexpr const char* kRefusedKey = "after-failure";

// Reopens after a crash and checks: the acknowledged state exactly, a tree
// that is the pre- or post-flush one, verify(), and that the recovered
// database can flush again and survive a clean reopen (free-space map sane).
void check_recovery(const std::shared_ptr<FaultFs>& fs, const Model& model, const FlushProfile& p,
                    bool flush_acked, std::mt19937_64& rng) {
  auto opened = Database::open(kDir, small_config(fs));
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(*opened);
  // A write refused after the failure (its fsync failed) may or may not have
  // survived, as any write in flight at a crash; take it out.
  if (auto g = db->get(kRefusedKey); g && g->has_value()) {
    ASSERT_EQ(**g, "x");
    ASSERT_TRUE(db->remove(kRefusedKey).is_ok());
  }
  Stats st = db->stats();
  // Before the flush, after its run commit (the data in a run), or after
  // the merge commit (the data in the tree): never anything else.
  if (flush_acked) {
    EXPECT_EQ(st.tree_epoch, p.epoch_after) << "an acknowledged flush is not in the recovered tree";
  } else {
    EXPECT_TRUE(st.tree_epoch >= p.epoch_before && st.tree_epoch <= p.epoch_after) << st.tree_epoch;
  }
  if (st.tree_epoch == p.epoch_after) {
    EXPECT_EQ(st.tree_entries, p.entries_after);
    EXPECT_EQ(st.runs, 0u);
  } else {
    EXPECT_EQ(st.tree_entries, p.entries_before);
    EXPECT_EQ(st.runs, st.tree_epoch == p.epoch_before ? 0u : 1u);
  }
  ASSERT_EQ(diff(read_all(*db), model), "equal");
  ASSERT_EQ(check_gets(*db, model, kKeySpace), "ok");
  Status v = db->verify();
  ASSERT_TRUE(v.is_ok()) << v.to_string();
  // Go on: more writes, a flush (reusing free space), a clean reopen.
  Model m = model;
  for (int i = 0; i < 60; ++i) {
    Op op = random_op(rng, kKeySpace);
    ASSERT_TRUE(submit(*db, op).is_ok());
    apply_op(m, op);
  }
  Status f = db->flush_lsm();
  ASSERT_TRUE(f.is_ok()) << f.to_string();
  db.reset();
  opened = Database::open(kDir, small_config(fs));
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  db = std::move(*opened);
  ASSERT_EQ(diff(read_all(*db), m), "equal");
  v = db->verify();
  ASSERT_TRUE(v.is_ok()) << v.to_string();
}

// ------------------------------------------------------------ (a) sync faults

// No crash at all: 4 KiB pages, 1200 keys with 5000-byte values (a 2-page
// overflow extent each), then every other key removed: ~600 separate free
// extents, a free-space map of ~10 KB, more than one page. A clean close and
// reopen must work. PageStore::load reads the map with
// verify_page(kFreeList), which accepts page_count == 1 only (only kOverflow
// may be a multi-page extent: src/pagestore/page_format.cc, "bad extent").
TEST(PageStoreCrash, MultiPageFreeSpaceMapReopens) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  auto fs = std::make_shared<FaultFs>();
  auto opened = Database::open(kDir, small_config(fs, 4096));
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(*opened);
  Model model;
  for (int i = 0; i < 1200; ++i) {
    std::string v = testing::random_string(rng, 5000, 'a', 'z');
    ASSERT_TRUE(db->put(key_name(i), v).is_ok());
    model[key_name(i)] = v;
  }
  ASSERT_TRUE(db->flush_lsm().is_ok());
  for (int i = 0; i < 1200; i += 2) {
    ASSERT_TRUE(db->remove(key_name(i)).is_ok());
    model.erase(key_name(i));
  }
  ASSERT_TRUE(db->flush_lsm().is_ok());
  ASSERT_TRUE(db->put("one-more", "v").is_ok());  // a third commit releases the freed extents
  model["one-more"] = "v";
  ASSERT_TRUE(db->flush_lsm().is_ok());
  const Stats st = db->stats();
  db.reset();  // clean close: nothing is lost, nothing torn
  opened = Database::open(kDir, small_config(fs, 4096));
  ASSERT_TRUE(opened.has_value()) << "a cleanly closed database does not reopen (epoch " << st.tree_epoch
                                  << ", data file " << st.data_file_bytes << " B, free " << st.data_free_bytes
                                  << " B): " << opened.status().to_string();
  db = std::move(*opened);
  ASSERT_EQ(diff(read_all(*db), model), "equal");
  Status v = db->verify();
  ASSERT_TRUE(v.is_ok()) << v.to_string();
}

TEST(PageStoreCrash, SyncFailureAtEveryPointOfAFlush) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  const std::uint64_t build_seed = rng();
  const FlushProfile p = profile_flush(build_seed);
  ASSERT_FALSE(HasFatalFailure());
  std::printf("[ info     ] a flush performs %llu syncs and %llu writes (epoch %llu -> %llu)\n",
              static_cast<unsigned long long>(p.syncs), static_cast<unsigned long long>(p.writes),
              static_cast<unsigned long long>(p.epoch_before), static_cast<unsigned long long>(p.epoch_after));
  ASSERT_GE(p.syncs, 3u) << "a flush must sync pages, then the meta slot";
  std::uint64_t failed_flushes = 0, acked_flushes = 0;
  for (std::uint64_t n = 1; n <= p.syncs + 3; ++n) {
    for (FaultFs::DropMode mode : kDropModes) {
      SCOPED_TRACE("sync " + std::to_string(n) + " fails (sticky EIO), then " + mode_name(mode));
      Scenario sc;
      build(&sc, build_seed, kPending);
      ASSERT_FALSE(HasFatalFailure());
      ASSERT_EQ(sc.epoch_before, p.epoch_before);
      sc.fs->fail_after(FaultFs::Op::kSync, static_cast<int>(n), FaultFs::Error::kEIO, /*sticky=*/true);
      const Status s = sc.db->flush_lsm();
      if (n <= p.syncs) {
        EXPECT_FALSE(s.is_ok()) << "flush_lsm succeeded although its sync " << n << " failed";
      }
      (s.is_ok() ? acked_flushes : failed_flushes) += 1;
      // Writes are refused after a failed sync (Aborted) and reads still work.
      if (!s.is_ok()) {
        EXPECT_FALSE(sc.db->put(kRefusedKey, "x").is_ok());
        auto g = sc.db->get(sc.model.begin()->first);
        ASSERT_TRUE(g.has_value()) << g.status().to_string();
        ASSERT_TRUE(g->has_value());
        EXPECT_EQ(**g, sc.model.begin()->second);
      }
      crash(*sc.fs, sc.db, mode, rng());
      check_recovery(sc.fs, sc.model, p, s.is_ok(), rng);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
  EXPECT_GT(failed_flushes, 0u);
  EXPECT_GT(acked_flushes, 0u);
}

// A power loss right after flush_lsm() returned: the flush is durable.
TEST(PageStoreCrash, PowerLossRightAfterAFlush) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  const std::uint64_t build_seed = rng();
  const FlushProfile p = profile_flush(build_seed);
  ASSERT_FALSE(HasFatalFailure());
  for (FaultFs::DropMode mode : kDropModes) {
    {
      const bool writes_after = rng() % 2 == 0;
      SCOPED_TRACE(std::string(mode_name(mode)) + (writes_after ? ", writes after the flush" : ""));
      Scenario sc;
      build(&sc, build_seed, kPending);
      ASSERT_FALSE(HasFatalFailure());
      ASSERT_TRUE(sc.db->flush_lsm().is_ok());
      if (writes_after) {
        for (int i = 0; i < 40; ++i) {
          Op op = random_op(rng, kKeySpace, false);
          if (op.entries.size() > 4) op.entries.resize(4);
          ASSERT_TRUE(submit(*sc.db, op).is_ok());
          apply_op(sc.model, op);
        }
      }
      crash(*sc.fs, sc.db, mode, rng());
      check_recovery(sc.fs, sc.model, p, /*flush_acked=*/true, rng);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
}

// A power loss at a random point while one thread writes and the small
// memtable makes background flushes run all the time. The recovered state is
// the model after a prefix of the operations, at least as long as every
// acknowledged one (acks can still arrive after the drop: a sync that
// completed before it), at most as long as what was attempted.
// Background flushes and merges in flight (merges fold runs into the tree
// while flushes publish new runs with their own commits).
TEST(PageStoreCrash, PowerLossDuringBackgroundFlushesAndMerges) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  constexpr std::uint64_t kSpace = 1500;
  std::uint64_t merges = 0;
  for (int iter = 0; iter < 10; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    auto fs = std::make_shared<FaultFs>();
    Config config = small_config(fs, kPageSize, /*background_merges=*/true);
    auto opened = Database::open(kDir, config);
    ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
    std::unique_ptr<Database> db = std::move(*opened);
    Model base;  // the state at the start of the round (all acked, durable)
    for (int round = 0; round < 2; ++round) {
      SCOPED_TRACE("round " + std::to_string(round));
      std::vector<Op> ops;
      const int total = 400 + static_cast<int>(rng() % 1600);
      for (int i = 0; i < total; ++i) ops.push_back(random_op(rng, kSpace));
      const std::uint64_t crash_at = rng() % static_cast<std::uint64_t>(total);
      const FaultFs::DropMode mode = kDropModes[rng() % 3];
      const std::uint64_t drop_seed = rng();
      SCOPED_TRACE(std::string("crash after ") + std::to_string(crash_at) + " acks, " + mode_name(mode));
      std::atomic<std::uint64_t> acked{0};
      std::atomic<std::uint64_t> attempted{0};
      std::thread writer([&] {
        for (const Op& op : ops) {
          attempted.fetch_add(1);
          if (!submit(*db, op).is_ok()) return;
          acked.fetch_add(1);
        }
      });
      while (acked.load() < crash_at) std::this_thread::yield();
      merges += db->stats().merges;
      fs->drop_unsynced(mode, drop_seed);
      writer.join();
      const std::uint64_t lo = acked.load(), hi = attempted.load();
      db.reset();
      fs->clear_faults();
      opened = Database::open(kDir, config);
      ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
      db = std::move(*opened);
      const Model got = read_all(*db);
      Model m = base;
      for (std::uint64_t i = 0; i < lo; ++i) apply_op(m, ops[i]);
      std::optional<std::uint64_t> match;
      std::string first_diff = diff(got, m);
      for (std::uint64_t p = lo;; ++p) {
        if (got == m) {
          match = p;
          break;
        }
        if (p >= hi) break;
        apply_op(m, ops[p]);
      }
      ASSERT_TRUE(match.has_value()) << "the recovered state is no prefix of [" << lo << ", " << hi
                                     << "] operations; vs " << lo << ": " << first_diff;
      Status v = db->verify();
      ASSERT_TRUE(v.is_ok()) << v.to_string();
      base = got;
    }
  }
  EXPECT_GT(merges, 0u) << "no background merge ran before a crash";
}

// ----------------------------------------------------------- (b) write faults

TEST(PageStoreCrash, WriteFailureDuringAFlush) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  const std::uint64_t build_seed = rng();
  const FlushProfile p = profile_flush(build_seed);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_GE(p.writes, 3u);
  std::vector<std::uint64_t> points = {1, 2, 3, p.writes / 2, p.writes - 1, p.writes, p.writes + 1};
  for (int i = 0; i < 4; ++i) points.push_back(1 + rng() % p.writes);
  for (std::size_t pi = 0; pi < points.size(); ++pi) {
    const std::uint64_t n = points[pi];
    {
      const bool enospc = pi % 2 == 1;
      const bool sticky = rng() % 2 == 0;
      const bool power_loss = rng() % 4 != 0;
      const FaultFs::DropMode mode = kDropModes[rng() % 3];
      SCOPED_TRACE("write " + std::to_string(n) + " fails with " + (enospc ? "ENOSPC" : "EIO (torn)") +
                   (sticky ? ", sticky" : "") +
                   (power_loss ? std::string(", then ") + mode_name(mode) : ", then a clean close"));
      Scenario sc;
      build(&sc, build_seed, kPending);
      ASSERT_FALSE(HasFatalFailure());
      sc.fs->fail_after(FaultFs::Op::kWrite, static_cast<int>(n),
                        enospc ? FaultFs::Error::kENOSPC : FaultFs::Error::kEIO, sticky,
                        /*torn_write=*/!enospc);
      const Status s = sc.db->flush_lsm();
      if (n <= p.writes) EXPECT_FALSE(s.is_ok()) << "flush_lsm succeeded although write " << n << " failed";
      if (power_loss) {
        crash(*sc.fs, sc.db, mode, rng());
      } else {
        sc.fs->clear_faults();
        sc.db.reset();
      }
      check_recovery(sc.fs, sc.model, p, s.is_ok(), rng);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
}

// ------------------------------------------------------- (c) damaged meta slot

// Flips bytes in one meta slot of a closed database and reopens it. The open
// must give the full acknowledged state, or fail with a Corruption naming the
// data file. Silently opening an older state is data loss.
void damaged_slot_case(std::uint64_t seed, bool first_flush, bool writes_after, bool newest) {
  std::mt19937_64 rng(seed);
  auto fs = std::make_shared<FaultFs>();
  auto opened = Database::open(kDir, small_config(fs));
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(*opened);
  Model model;
  const int ops = first_flush ? 100 : 1500;  // 100 small ops: no automatic flush
  for (int i = 0; i < ops; ++i) {
    Op op = random_op(rng, kKeySpace, !first_flush);
    if (first_flush && op.entries.size() > 4) op.entries.resize(4);
    ASSERT_TRUE(submit(*db, op).is_ok());
    apply_op(model, op);
  }
  if (first_flush) ASSERT_EQ(db->stats().tree_epoch, 1u) << "an automatic flush ran";
  ASSERT_TRUE(db->flush_lsm().is_ok());
  const std::uint64_t epoch = db->stats().tree_epoch;
  if (first_flush) ASSERT_EQ(epoch, 3u) << "flush_lsm(): a run commit, then a merge commit";
  if (writes_after) {
    for (int i = 0; i < 30; ++i) {
      Op op = random_op(rng, kKeySpace, false);
      if (op.entries.size() > 4) op.entries.resize(4);
      ASSERT_TRUE(submit(*db, op).is_ok());
      apply_op(model, op);
    }
  }
  db.reset();  // clean close
  const std::uint64_t slot = newest ? epoch % 2 : (epoch + 1) % 2;
  // Bit rot (or a torn rewrite) of the slot: bytes inside its checksummed 124.
  const std::uint64_t off = slot * kPageSize + 16 + rng() % 100;
  fs->corrupt_bytes(kDataFile, off, std::string(1, static_cast<char>(0x5a ^ (rng() & 0xff))));
  fs->corrupt_bytes(kDataFile, off + 1, std::string(1, static_cast<char>(0xa5)));
  SCOPED_TRACE("damaged meta slot " + std::to_string(slot) + " (epoch " + std::to_string(epoch) +
               " is the newest) at offset " + std::to_string(off));
  opened = Database::open(kDir, small_config(fs));
  if (!opened) {
    EXPECT_FALSE(!newest) << "the older slot is damaged, the newest intact: open must succeed: "
                          << opened.status().to_string();
    // A clear error: Corruption naming the data file or the WAL segment
    // that does not follow the older tree.
    EXPECT_TRUE(opened.status().is_corruption()) << opened.status().to_string();
    EXPECT_TRUE(opened.status().message().find("DATA") != std::string::npos ||
                opened.status().message().find(".wal") != std::string::npos ||
                opened.status().message().find(".run") != std::string::npos)
        << opened.status().to_string();
    return;
  }
  db = std::move(*opened);
  const Model got = read_all(*db);
  EXPECT_EQ(diff(got, model), "equal")
      << "the open succeeded (tree epoch " << db->stats().tree_epoch << ", newest was " << epoch
      << ") but acknowledged writes are lost: the engine fell back to the older meta slot whose WAL "
         "segments the flush had deleted, without reporting Corruption";
  if (!newest) {
    EXPECT_EQ(db->stats().tree_epoch, epoch);
  }
  Status v = db->verify();
  EXPECT_TRUE(v.is_ok()) << v.to_string();
}

TEST(PageStoreCrash, DamagedNewestMetaSlotNeverLosesAckedWritesSilently) {
  const std::uint64_t seed = testing::test_seed();
  for (bool first_flush : {false, true}) {
    for (bool writes_after : {false, true}) {
      SCOPED_TRACE(std::string(first_flush ? "first flush (older slot: empty epoch-1 tree)" : "later flush") +
                   (writes_after ? ", writes after the flush" : ", no writes after the flush"));
      damaged_slot_case(seed, first_flush, writes_after, /*newest=*/true);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
}

TEST(PageStoreCrash, DamagedOlderMetaSlotIsHarmless) {
  const std::uint64_t seed = testing::test_seed();
  for (bool first_flush : {false, true}) {
    for (bool writes_after : {false, true}) {
      SCOPED_TRACE(std::string(first_flush ? "first flush" : "later flush") +
                   (writes_after ? ", writes after" : ""));
      damaged_slot_case(seed, first_flush, writes_after, /*newest=*/false);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
}

// A meta slot torn by a power loss during a commit: for every sync of a
// flush_lsm() that fails (so it is not acknowledged), the slot its first
// commit (the run commit) occupies is damaged after the power loss (as a torn
// write of it would leave it; if the commit never reached the meta write,
// this damages the previous-but-one slot instead). If the failure hit the
// run commit, recovery must use the other slot, the pre-flush tree, and
// replay the WAL, which the failed flush did not delete. If the run commit
// was durable and the merge commit failed, the torn slot is the newest
// durable one and the WAL it covered is gone: recovery must then either
// report Corruption or lose nothing.
TEST(PageStoreCrash, TornMetaWriteFallsBackToTheOlderSlot) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  const std::uint64_t build_seed = rng();
  const FlushProfile p = profile_flush(build_seed);
  ASSERT_FALSE(HasFatalFailure());
  const std::uint64_t slot = (p.epoch_before + 1) % 2;
  int cases = 0;
  for (std::uint64_t n = 1; n <= p.syncs; ++n) {
    const FaultFs::DropMode mode = kDropModes[rng() % 3];
    SCOPED_TRACE("sync " + std::to_string(n) + " fails, " + mode_name(mode) + ", then meta slot " +
                 std::to_string(slot) + " is torn");
    Scenario sc;
    build(&sc, build_seed, kPending);
    ASSERT_FALSE(HasFatalFailure());
    sc.fs->fail_after(FaultFs::Op::kSync, static_cast<int>(n), FaultFs::Error::kEIO, true);
    const Status s = sc.db->flush_lsm();
    const bool run_commit_durable = sc.db->stats().tree_epoch > p.epoch_before;
    crash(*sc.fs, sc.db, mode, rng());
    if (s.is_ok()) continue;  // the flush got through: not this case
    ++cases;
    // Keep the first 40 bytes (magic, version, page size, epoch, sequence),
    // zero the rest of the slot, as a torn 128-byte write would.
    sc.fs->corrupt_bytes(kDataFile, slot * kPageSize + 40, std::string(88, '\0'));
    {
      auto opened = Database::open(kDir, small_config(sc.fs));
      if (run_commit_durable) {
        if (!opened) {
          EXPECT_TRUE(opened.status().is_corruption()) << opened.status().to_string();
          continue;
        }
        EXPECT_EQ(diff(read_all(**opened), sc.model), "equal") << "acknowledged writes lost silently";
        continue;
      }
      ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
      EXPECT_EQ((*opened)->stats().tree_epoch, p.epoch_before);
    }
    check_recovery(sc.fs, sc.model, p, /*flush_acked=*/false, rng);
    ASSERT_FALSE(HasFatalFailure());
  }
  EXPECT_GT(cases, 0);
}

// ---------------------------------------------------------- (d) space reuse

// Overwriting the same keys again and again must reuse freed pages: the data
// file stays within 4x the live data (pages are written copy-on-write, two
// meta slots keep one older tree alive, so ~2x plus fill factor is
// expected). 100k keys of 16 + 100 bytes, 20 passes; a 32 MiB memtable makes
// each pass one flush.
TEST(PageStoreCrash, OverwriteLoopKeepsTheDataFileBounded) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  constexpr std::uint64_t kKeys = 100'000;
  constexpr int kPasses = 20;
  constexpr std::size_t kKeySize = 16, kValueSize = 100;
  Config config;
  config.file_system = new_in_memory_file_system();
  config.wal_sync_mode = WalSyncMode::kNoSync;
  config.memtable_size = 32 << 20;
  config.page_size = kPageSize;
  auto opened = Database::open(kDir, config);
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(*opened);
  const std::uint64_t live = kKeys * (kKeySize + kValueSize);
  std::uint64_t first_pass_file = 0, max_file = 0;
  for (int pass = 0; pass < kPasses; ++pass) {
    for (std::uint64_t first = 0; first < kKeys; first += 400) {
      WriteBatch b;
      for (std::uint64_t i = first; i < first + 400; ++i) {
        char k[kKeySize + 1];
        std::snprintf(k, sizeof k, "k%015llu", static_cast<unsigned long long>((i * 7919) % kKeys));
        ASSERT_TRUE(b.put(std::string_view(k, kKeySize), testing::random_string(rng, kValueSize)).is_ok());
      }
      ASSERT_TRUE(db->write(b).is_ok());
    }
    ASSERT_TRUE(db->flush_lsm().is_ok());
    const Stats st = db->stats();
    ASSERT_EQ(st.tree_entries, kKeys);
    if (pass == 0) first_pass_file = st.data_file_bytes;
    max_file = std::max(max_file, st.data_file_bytes);
    EXPECT_LE(st.data_file_bytes, 4 * live)
        << "pass " << pass << ": data file " << st.data_file_bytes << " bytes for " << live
        << " bytes of live data (free " << st.data_free_bytes << ", after pass 0: " << first_pass_file << ")";
  }
  std::printf("[ info     ] live %llu B, data file after pass 0: %llu B, max over %d passes: %llu B\n",
              static_cast<unsigned long long>(live), static_cast<unsigned long long>(first_pass_file), kPasses,
              static_cast<unsigned long long>(max_file));
  Status v = db->verify();
  EXPECT_TRUE(v.is_ok()) << v.to_string();
  // The bound survives a reopen (the free-space map is persisted).
  db.reset();
  opened = Database::open(kDir, config);
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  db = std::move(*opened);
  EXPECT_LE(db->stats().data_file_bytes, 4 * live);
  EXPECT_EQ(db->stats().tree_entries, kKeys);
}

}  // namespace
}  // namespace lightning

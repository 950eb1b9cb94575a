// Crash tests on the fault-injecting file system (src/env/fault_injection_file_system.h).
//
// Every test runs random operation sequences (reproducible from the printed
// seed, LIGHTNING_TEST_SEED=...), simulates power loss with drop_unsynced()
// or injects I/O errors with fail_after(), reopens the database and compares
// it with a std::map model:
//  - Sync mode: the recovered state is exactly the acknowledged state (plus,
//    at most, the one write whose fsync failed when the crash hit).
//  - Periodic / NoSync: everything acknowledged before an explicit sync() is
//    there, and the state is the model after some prefix of the operation
//    order (a suffix may be lost, never a hole).
//  - A write batch is all-or-nothing, also when torn across 32 KiB WAL blocks.
//  - After a failed write or sync every later write is refused (Aborted),
//    reads keep working, and a reopen keeps every acknowledged write.
//
// Crash recipe: drop_unsynced() while the database is still open (the power
// goes out first), then destroy the Database (its handles are dead, so its
// closing sync cannot rescue anything), then reopen on the same file system.
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

// One user operation: a write batch (a single put or remove is a batch of one).
struct Op {
  std::vector<std::pair<std::string, std::optional<std::string>>> entries;  // nullopt = remove
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

// Submits op through one of the write entry points (chosen by rng).
Status submit(Database& db, const Op& op, std::mt19937_64& rng) {
  if (op.entries.size() == 1 && rng() % 2 == 0) {
    const auto& [k, v] = op.entries[0];
    return v ? db.put(k, *v) : db.remove(k);
  }
  bool all_puts = true;
  for (const auto& e : op.entries) all_puts &= e.second.has_value();
  if (all_puts && rng() % 2 == 0) {
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    for (const auto& [k, v] : op.entries) pairs.emplace_back(k, *v);
    return db.batch_put(pairs);
  }
  WriteBatch b;
  for (const auto& [k, v] : op.entries) {
    Status s = v ? b.put(k, *v) : b.remove(k);
    if (!s.is_ok()) return s;
  }
  return db.write(b);
}

std::string random_value(std::mt19937_64& rng) {
  std::size_t len = rng() % 8 == 0 ? rng() % 4000 : rng() % 200;
  return testing::random_string(rng, len, '0', 'z');
}

// Random op over a small key space (so keys are overwritten and removed).
Op random_op(std::mt19937_64& rng) {
  Op op;
  const std::size_t n = rng() % 4 == 0 ? 1 + rng() % 12 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    std::string key = "k" + testing::random_string(rng, 2, 'a', 'f');
    if (rng() % 5 == 0) {
      op.entries.emplace_back(std::move(key), std::nullopt);
    } else {
      op.entries.emplace_back(std::move(key), random_value(rng));
    }
  }
  return op;
}

// The whole database as seen by a fresh iterator.
Model read_all(Database& db) {
  Model m;
  auto it = db.new_iterator();
  for (it->first(); it->valid(); it->next())
    m.emplace(std::string(it->key()), std::string(it->value()));
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  return m;
}

// "equal" or the first difference, for failure messages.
std::string diff(const Model& got, const Model& want) {
  for (const auto& [k, v] : want) {
    auto it = got.find(k);
    if (it == got.end()) return "missing key " + k;
    if (it->second != v)
      return "key " + k + " has a wrong value (" + std::to_string(it->second.size()) +
             " bytes, want " + std::to_string(v.size()) + ")";
  }
  for (const auto& [k, v] : got) {
    if (!want.contains(k)) return "unexpected key " + k;
  }
  return "equal";
}

std::unique_ptr<Database> open_db(const std::shared_ptr<FaultFs>& fs, Config config) {
  config.file_system = fs;
  auto db = Database::open(kDir, config);
  EXPECT_TRUE(db.has_value()) << db.status().to_string();
  return db ? std::move(*db) : nullptr;
}

// Power loss: drop what is not durable, then let the (dead) handles go.
void crash(FaultFs& fs, std::unique_ptr<Database>& db, FaultFs::DropMode mode, std::uint64_t seed) {
  fs.drop_unsynced(mode, seed);
  db.reset();
  fs.clear_faults();
}

std::size_t count_files(FaultFs& fs, FileType type) {
  auto names = fs.list_dir(kDir);
  EXPECT_TRUE(names.has_value());
  std::size_t n = 0;
  std::uint64_t number = 0;
  for (const auto& name : names ? *names : std::vector<std::string>{}) {
    if (parse_file_name(name, &number) == type) ++n;
  }
  return n;
}

// ---------------------------------------------------------------- (a) Sync mode

// Sync mode: after a crash the state is exactly the acknowledged state. In
// some rounds the crash hits while a write's fsync is failing; that one write
// may then be present or absent, nothing else may differ.
TEST(CrashFaultFs, SyncModeKeepsExactlyTheAcknowledgedWrites) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 60; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    auto fs = std::make_shared<FaultFs>();
    Config config;
    config.wal_sync_mode = WalSyncMode::kSync;
    if (rng() % 2 == 0) config.wal_segment_size = 64 << 10;
    // A torn tail is never damage, so recovery must not depend on this.
    config.paranoid_checks = rng() % 2 == 0;
    auto db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    Model model;
    for (int round = 0; round < 3; ++round) {
      SCOPED_TRACE("crash round " + std::to_string(round));
      const int n = static_cast<int>(rng() % 80);
      for (int i = 0; i < n; ++i) {
        Op op = random_op(rng);
        ASSERT_TRUE(submit(*db, op, rng).is_ok()) << "op " << i;
        apply_op(model, op);
      }
      std::optional<Op> in_flight;
      if (rng() % 3 == 0) {
        // The crash hits during this write's fsync: its bytes are appended but
        // not durable, and the write is not acknowledged.
        in_flight = random_op(rng);
        fs->fail_after(FaultFs::Op::kSync, 1, FaultFs::Error::kEIO);
        EXPECT_FALSE(submit(*db, *in_flight, rng).is_ok());
      }
      const FaultFs::DropMode mode = kDropModes[rng() % 3];
      SCOPED_TRACE(mode_name(mode));
      crash(*fs, db, mode, rng());
      db = open_db(fs, config);
      ASSERT_NE(db, nullptr);
      Model got = read_all(*db);
      if (in_flight) {
        Model with = model;
        apply_op(with, *in_flight);
        ASSERT_TRUE(got == model || got == with)
            << "without the failed write: " << diff(got, model) << "; with it: " << diff(got, with);
        model = got;
      } else {
        ASSERT_EQ(diff(got, model), "equal");
      }
    }
    // A clean close and reopen changes nothing.
    db.reset();
    db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    ASSERT_EQ(diff(read_all(*db), model), "equal");
  }
}

// Periodic and NoSync: after an explicit sync() everything before it survives,
// and the state is the model after some prefix of the acknowledged operations.
void run_prefix_test(WalSyncMode sync_mode, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 40; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    auto fs = std::make_shared<FaultFs>();
    Config config;
    config.wal_sync_mode = sync_mode;
    // A 1 ms timer makes the sync thread interleave with the writes.
    config.wal_sync_interval = std::chrono::milliseconds(rng() % 2 == 0 ? 1 : 60000);
    if (rng() % 2 == 0) config.wal_segment_size = 64 << 10;
    config.paranoid_checks = rng() % 2 == 0;
    auto db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    Model model;  // the durable-so-far state at the start of a round
    for (int round = 0; round < 3; ++round) {
      SCOPED_TRACE("crash round " + std::to_string(round));
      std::vector<Op> ops;
      const int before_sync = static_cast<int>(rng() % 40);
      const int after_sync = static_cast<int>(rng() % 60);
      for (int i = 0; i < before_sync + after_sync; ++i) {
        if (i == before_sync) ASSERT_TRUE(db->sync().is_ok());
        ops.push_back(random_op(rng));
        ASSERT_TRUE(submit(*db, ops.back(), rng).is_ok()) << "op " << i;
      }
      if (after_sync == 0) ASSERT_TRUE(db->sync().is_ok());
      const FaultFs::DropMode mode = kDropModes[rng() % 3];
      SCOPED_TRACE(mode_name(mode));
      crash(*fs, db, mode, rng());
      db = open_db(fs, config);
      ASSERT_NE(db, nullptr);
      const Model got = read_all(*db);
      Model prefix = model;
      for (int i = 0; i < before_sync; ++i) apply_op(prefix, ops[i]);
      int matched = -1;
      for (int p = before_sync; p <= before_sync + after_sync; ++p) {
        if (p > before_sync) apply_op(prefix, ops[p - 1]);
        if (got == prefix) {
          matched = p;
          break;
        }
      }
      ASSERT_GE(matched, 0) << "the recovered state is no prefix of the " << ops.size()
                            << " operations that includes the " << before_sync
                            << " synced ones; vs synced prefix: " << [&] {
                                 Model m = model;
                                 for (int i = 0; i < before_sync; ++i) apply_op(m, ops[i]);
                                 return diff(got, m);
                               }();
      model = got;
    }
  }
}

TEST(CrashFaultFs, PeriodicModeLosesOnlyASuffixAfterSync) {
  run_prefix_test(WalSyncMode::kPeriodic, testing::test_seed());
}

TEST(CrashFaultFs, NoSyncModeLosesOnlyASuffixAfterSync) {
  run_prefix_test(WalSyncMode::kNoSync, testing::test_seed());
}

// Sync mode with concurrent writers (group commit): the power goes out while
// threads are writing. Per thread, the recovered keys are a contiguous prefix
// that covers every acknowledged write and nothing beyond what was attempted.
TEST(CrashFaultFs, SyncModeConcurrentWritersKeepAcknowledgedPrefix) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  constexpr int kThreads = 4;
  constexpr std::uint64_t kBatchKeys = 5;  // odd threads write batches of this many keys
  auto key = [](int t, std::uint64_t i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "t%d-%08llu", t, static_cast<unsigned long long>(i));
    return std::string(buf);
  };
  auto value = [seed](int t, std::uint64_t i) {
    return std::to_string(seed) + "/" + std::to_string(t) + "/" + std::to_string(i) +
           std::string((i * 7 + static_cast<std::uint64_t>(t)) % 300, 'v');
  };
  for (int iter = 0; iter < 12; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    auto fs = std::make_shared<FaultFs>();
    Config config;
    config.wal_sync_mode = WalSyncMode::kSync;
    config.wal_segment_size = 64 << 10;
    config.write_batch_size = 1 + static_cast<std::uint32_t>(rng() % 8);
    auto db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    std::atomic<std::uint64_t> total_acked{0};
    std::atomic<int> running{kThreads};
    std::atomic<bool> stop{false};
    std::vector<std::int64_t> last_acked(kThreads, -1), attempted(kThreads, -1);
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        struct Done {
          std::atomic<int>& n;
          ~Done() { n.fetch_sub(1); }
        } done{running};
        const std::uint64_t step = t % 2 == 1 ? kBatchKeys : 1;
        for (std::uint64_t i = 0; !stop.load() && i < 100000; i += step) {
          attempted[t] = static_cast<std::int64_t>(i + step - 1);
          Status s;
          if (step == 1) {
            s = db->put(key(t, i), value(t, i));
          } else {
            WriteBatch b;
            for (std::uint64_t j = i; j < i + step; ++j)
              ASSERT_TRUE(b.put(key(t, j), value(t, j)).is_ok());
            s = db->write(b);
          }
          if (!s.is_ok()) return;  // the crash happened: files are dead
          last_acked[t] = static_cast<std::int64_t>(i + step - 1);
          total_acked.fetch_add(1);
        }
      });
    }
    const std::uint64_t crash_after = 20 + rng() % 400;
    while (total_acked.load() < crash_after && running.load() > 0) std::this_thread::yield();
    ASSERT_EQ(running.load(), kThreads) << "a writer failed before the crash";
    const FaultFs::DropMode mode = kDropModes[iter % 3];
    SCOPED_TRACE(mode_name(mode));
    fs->drop_unsynced(mode, rng());
    stop.store(true);
    threads.clear();  // joins
    db.reset();
    db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    Model got = read_all(*db);
    for (int t = 0; t < kThreads; ++t) {
      SCOPED_TRACE("thread " + std::to_string(t));
      std::int64_t present = 0;
      while (got.contains(key(t, static_cast<std::uint64_t>(present)))) {
        ASSERT_EQ(got[key(t, static_cast<std::uint64_t>(present))],
                  value(t, static_cast<std::uint64_t>(present)));
        ++present;
      }
      EXPECT_GE(present - 1, last_acked[t]) << "an acknowledged write is missing";
      EXPECT_LE(present - 1, attempted[t]) << "a key that was never written is present";
      if (t % 2 == 1)
        EXPECT_EQ(present % static_cast<std::int64_t>(kBatchKeys), 0) << "a torn batch";
    }
    std::size_t expected_keys = 0;
    for (int t = 0; t < kThreads; ++t) {
      for (std::uint64_t i = 0; got.contains(key(t, i)); ++i) ++expected_keys;
    }
    EXPECT_EQ(got.size(), expected_keys) << "keys beyond a hole are present";
  }
}

// ---------------------------------------------------------------- (b) batches

// A batch is one WAL record: after any crash it is entirely present or
// entirely absent, even when it spans many 32 KiB blocks and the crash keeps a
// torn prefix of it (with or without garbage after it). Batches also overwrite
// a shared set of keys, which must all carry the tag of the same batch.
TEST(CrashFaultFs, BatchesAreAtomicAcrossCrashes) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  constexpr int kShared = 40;
  auto shared_key = [](int j) { return "shared" + std::to_string(j); };
  auto marker = [](int b) { return "marker" + std::to_string(b); };
  int partial = 0;  // iterations where some but not all batches survived
  for (int iter = 0; iter < 45; ++iter) {
    SCOPED_TRACE("iteration " + std::to_string(iter));
    auto fs = std::make_shared<FaultFs>();
    Config config;
    // NoSync leaves the batches unsynced, so the crash can tear them; Sync
    // mode tears the last batch by failing its fsync.
    const bool sync_mode = iter % 4 == 3;
    config.wal_sync_mode = sync_mode ? WalSyncMode::kSync : WalSyncMode::kNoSync;
    auto db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    {
      WriteBatch init;
      for (int j = 0; j < kShared; ++j) ASSERT_TRUE(init.put(shared_key(j), "init").is_ok());
      ASSERT_TRUE(db->write(init).is_ok());
      ASSERT_TRUE(db->sync().is_ok());
    }
    const int batches = 1 + static_cast<int>(rng() % 4);
    const int synced_batches = sync_mode ? batches - 1 : static_cast<int>(rng() % (batches + 1));
    std::vector<Model> contents(batches);
    for (int b = 0; b < batches; ++b) {
      WriteBatch batch;
      const std::string tag = "b" + std::to_string(b);
      if (rng() % 3 == 0) {
        // Few keys, one value much larger than a block.
        std::string big = testing::random_string(rng, 40000 + rng() % 100000);
        contents[b][tag + "-big"] = big;
      } else {
        const int keys = 1 + static_cast<int>(rng() % 1500);
        for (int k = 0; k < keys; ++k) {
          contents[b][tag + "-" + std::to_string(k)] = testing::random_string(rng, 1 + rng() % 100);
        }
      }
      for (const auto& [k, v] : contents[b]) ASSERT_TRUE(batch.put(k, v).is_ok());
      for (int j = 0; j < kShared; ++j) ASSERT_TRUE(batch.put(shared_key(j), tag).is_ok());
      // Each batch drops the previous batch's marker key and adds its own.
      if (b > 0) ASSERT_TRUE(batch.remove(marker(b - 1)).is_ok());
      ASSERT_TRUE(batch.put(marker(b), "x").is_ok());
      if (sync_mode && b == batches - 1) {
        fs->fail_after(FaultFs::Op::kSync, 1, FaultFs::Error::kEIO);
        ASSERT_FALSE(db->write(batch).is_ok());
      } else {
        ASSERT_TRUE(db->write(batch).is_ok());
      }
      if (b + 1 == synced_batches) ASSERT_TRUE(db->sync().is_ok());
    }
    const FaultFs::DropMode mode = kDropModes[rng() % 3];
    SCOPED_TRACE(mode_name(mode));
    crash(*fs, db, mode, rng());
    db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    Model got = read_all(*db);
    int present = 0;  // batches 0..present-1 are in, the rest out
    for (int b = 0; b < batches; ++b) {
      SCOPED_TRACE("batch " + std::to_string(b) + " of " + std::to_string(batches));
      std::size_t found = 0;
      for (const auto& [k, v] : contents[b]) {
        auto it = got.find(k);
        if (it != got.end()) {
          ++found;
          ASSERT_EQ(it->second, v) << k;
        }
      }
      if (found == 0) continue;
      ASSERT_EQ(found, contents[b].size()) << "torn batch";
      ASSERT_EQ(present, b) << "batch " << b << " is present after an absent batch (a hole)";
      present = b + 1;
    }
    ASSERT_GE(present, synced_batches) << "a synced batch is missing";
    if (present > synced_batches && present < batches) ++partial;
    for (int b = 0; b < batches; ++b) {
      EXPECT_EQ(got.contains(marker(b)), b == present - 1) << "marker of batch " << b;
    }
    EXPECT_EQ(
        got.size(), static_cast<std::size_t>(kShared) + (present > 0 ? 1 : 0) +
                        [&] {
                          std::size_t n = 0;
                          for (int b = 0; b < present; ++b) n += contents[b].size();
                          return n;
                        }())
        << "unexpected keys";
    const std::string want_tag = present == 0 ? "init" : "b" + std::to_string(present - 1);
    for (int j = 0; j < kShared; ++j) ASSERT_EQ(got[shared_key(j)], want_tag) << shared_key(j);
  }
  std::printf("[ info     ] %d of 45 crashes kept some unsynced batches and lost later ones\n",
              partial);
}

// ---------------------------------------------------------------- (c) I/O errors

// Common checks once a write has failed: every later write and sync() is
// Aborted (mentioning the original error), reads see the acknowledged state.
void expect_refuses_writes(Database& db, const Model& acked, const std::string& original) {
  Status s = db.put("after", "x");
  EXPECT_TRUE(s.is_aborted()) << s.to_string();
  EXPECT_NE(s.message().find(original), std::string::npos) << s.to_string();
  s = db.remove("k0");
  EXPECT_TRUE(s.is_aborted()) << s.to_string();
  WriteBatch b;
  ASSERT_TRUE(b.put("after2", "y").is_ok());
  s = db.write(b);
  EXPECT_TRUE(s.is_aborted()) << s.to_string();
  std::pair<std::string_view, std::string_view> pair{"after3", "z"};
  s = db.batch_put(std::span(&pair, 1));
  EXPECT_TRUE(s.is_aborted()) << s.to_string();
  s = db.sync();
  EXPECT_TRUE(s.is_aborted()) << s.to_string();
  // Reads keep working and see exactly the acknowledged writes.
  EXPECT_EQ(diff(read_all(db), acked), "equal");
  for (const auto& [k, v] : acked) {
    auto got = db.get(k);
    ASSERT_TRUE(got.has_value()) << got.status().to_string();
    ASSERT_TRUE(got->has_value()) << k;
    EXPECT_EQ(**got, v);
  }
}

// Writes acknowledged puts "<prefix><i>" until one fails; returns the index
// of the failed one (or -1). `acked` receives the acknowledged ones.
int put_until_failure(Database& db, const std::string& prefix, Model& acked, int limit,
                      std::size_t value_size, Status* failure) {
  for (int i = 0; i < limit; ++i) {
    const std::string k = prefix + std::to_string(i);
    const std::string v =
        std::string(value_size, static_cast<char>('a' + i % 26)) + std::to_string(i);
    Status s = db.put(k, v);
    if (!s.is_ok()) {
      *failure = s;
      return i;
    }
    acked[k] = v;
  }
  return -1;
}

// After the failure: reopen (optionally after a power loss) and check that the
// acknowledged writes are there, plus at most the failed one when it may
// survive (its bytes were appended, only the fsync failed).
void reopen_and_check(const std::shared_ptr<FaultFs>& fs, std::unique_ptr<Database>& db,
                      const Config& config, const Model& acked, const std::string& failed_key,
                      std::optional<FaultFs::DropMode> power_loss, std::uint64_t seed,
                      bool failed_may_survive) {
  if (power_loss) fs->drop_unsynced(*power_loss, seed);
  db.reset();
  fs->clear_faults();
  db = open_db(fs, config);
  ASSERT_NE(db, nullptr);
  Model got = read_all(*db);
  if (failed_may_survive) got.erase(failed_key);
  EXPECT_EQ(diff(got, acked), "equal");
  // The database accepts writes again, and keeps them.
  ASSERT_TRUE(db->put("after-reopen", "1").is_ok());
  ASSERT_TRUE(db->sync().is_ok());
  got = read_all(*db);
  if (failed_may_survive) got.erase(failed_key);
  Model want = acked;
  want["after-reopen"] = "1";
  EXPECT_EQ(diff(got, want), "equal");
}

TEST(CrashFaultFs, FailedSyncAbortsLaterWritesAndKeepsAcknowledged) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  for (int n = 1; n <= 6; ++n) {
    for (int drop = 0; drop < 4; ++drop) {
      SCOPED_TRACE("fail sync #" + std::to_string(n) + ", drop " + std::to_string(drop));
      auto fs = std::make_shared<FaultFs>();
      Config config;
      auto db = open_db(fs, config);
      ASSERT_NE(db, nullptr);
      Model acked;
      Status failure;
      ASSERT_EQ(put_until_failure(*db, "a", acked, 20, 100, &failure), -1);
      // Each put is one commit group with exactly one fsync.
      fs->fail_after(FaultFs::Op::kSync, n, FaultFs::Error::kEIO, /*sticky=*/drop % 2 == 0);
      const int failed = put_until_failure(*db, "k", acked, 50, 100, &failure);
      ASSERT_EQ(failed, n - 1) << "the n-th write after arming must fail";
      EXPECT_NE(failure.to_string().find("injected EIO"), std::string::npos) << failure.to_string();
      const std::string failed_key = "k" + std::to_string(failed);
      auto visible = db->get(failed_key);
      ASSERT_TRUE(visible.has_value());
      EXPECT_FALSE(visible->has_value()) << "a failed write is visible to reads";
      expect_refuses_writes(*db, acked, "injected EIO");
      std::optional<FaultFs::DropMode> loss;
      if (drop > 0) loss = kDropModes[drop - 1];
      reopen_and_check(fs, db, config, acked, failed_key, loss, rng(), /*failed_may_survive=*/true);
    }
  }
}

TEST(CrashFaultFs, FailedAppendAbortsLaterWritesAndKeepsAcknowledged) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  for (WalSyncMode sync_mode : {WalSyncMode::kSync, WalSyncMode::kNoSync}) {
    for (bool torn : {false, true}) {
      for (bool sticky : {false, true}) {
        for (int n : {1, 2, 7}) {
          for (int drop = 0; drop < 4; ++drop) {
            // NoSync keeps acknowledged writes only across a process crash.
            if (sync_mode == WalSyncMode::kNoSync && drop > 0) continue;
            SCOPED_TRACE("sync mode " + std::to_string(static_cast<int>(sync_mode)) + " torn " +
                         std::to_string(torn) + " sticky " + std::to_string(sticky) + " n " +
                         std::to_string(n) + " drop " + std::to_string(drop));
            auto fs = std::make_shared<FaultFs>();
            Config config;
            config.wal_sync_mode = sync_mode;
            auto db = open_db(fs, config);
            ASSERT_NE(db, nullptr);
            Model acked;
            Status failure;
            // 3000-byte values: torn prefixes cross block boundaries.
            ASSERT_EQ(put_until_failure(*db, "a", acked, 10, 3000, &failure), -1);
            fs->fail_after(FaultFs::Op::kWrite, n, FaultFs::Error::kENOSPC, sticky, torn);
            const int failed = put_until_failure(*db, "k", acked, 50, 3000, &failure);
            ASSERT_EQ(failed, n - 1) << "each put is one append; the n-th must fail";
            EXPECT_NE(failure.to_string().find("injected ENOSPC"), std::string::npos)
                << failure.to_string();
            expect_refuses_writes(*db, acked, "injected ENOSPC");
            std::optional<FaultFs::DropMode> loss;
            if (drop > 0) loss = kDropModes[drop - 1];
            // A failed append stores at most a strict prefix of its record:
            // the write cannot survive, with or without a power loss.
            reopen_and_check(fs, db, config, acked, "k" + std::to_string(failed), loss, rng(),
                             /*failed_may_survive=*/false);
          }
        }
      }
    }
  }
}

// A segment cannot be created during rotation: the write that triggered the
// rotation fails (its record is durable, so it may survive), later writes are
// Aborted, and a reopen keeps everything acknowledged.
TEST(CrashFaultFs, FailedSegmentCreationDuringRotation) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  for (int n = 1; n <= 3; ++n) {
    for (int drop = 0; drop < 4; ++drop) {
      for (bool sync : {true, false}) {
        SCOPED_TRACE("fail create #" + std::to_string(n) + " drop " + std::to_string(drop) +
                     " sync " + std::to_string(sync));
        auto fs = std::make_shared<FaultFs>();
        Config config;
        config.wal_segment_size = 64 << 10;
        config.wal_sync_mode = sync ? WalSyncMode::kSync : WalSyncMode::kNoSync;
        auto db = open_db(fs, config);
        ASSERT_NE(db, nullptr);
        ASSERT_EQ(count_files(*fs, FileType::kWalSegment), 1u);
        fs->fail_after(FaultFs::Op::kCreate, n, FaultFs::Error::kEIO);
        Model acked;
        Status failure;
        // 2 KiB values: a rotation every ~32 writes; the n-th one fails.
        const int failed = put_until_failure(*db, "k", acked, 1000, 2000, &failure);
        ASSERT_GE(failed, 0) << "no rotation failed";
        EXPECT_EQ(count_files(*fs, FileType::kWalSegment), static_cast<std::size_t>(n));
        EXPECT_NE(failure.to_string().find("injected EIO"), std::string::npos)
            << failure.to_string();
        const std::string failed_key = "k" + std::to_string(failed);
        expect_refuses_writes(*db, acked, "injected EIO");
        std::optional<FaultFs::DropMode> loss;
        if (drop > 0) loss = kDropModes[drop - 1];
        reopen_and_check(fs, db, config, acked, failed_key, loss, rng(),
                         /*failed_may_survive=*/true);
      }
    }
  }
}

// Faults while opening (marker, segment creation, torn-tail truncation,
// header sync): the open fails cleanly or succeeds, and a later clean open
// still has every write that was durable before.
TEST(CrashFaultFs, FaultsDuringOpenLoseNothing) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  const FaultFs::Op kOps[] = {FaultFs::Op::kWrite, FaultFs::Op::kSync, FaultFs::Op::kCreate};
  for (FaultFs::Op op : kOps) {
    for (int n = 1; n <= 6; ++n) {
      SCOPED_TRACE("op " + std::to_string(static_cast<int>(op)) + " n " + std::to_string(n));
      auto fs = std::make_shared<FaultFs>();
      Config config;
      config.wal_sync_mode = WalSyncMode::kNoSync;
      Model durable;
      {
        auto db = open_db(fs, config);
        ASSERT_NE(db, nullptr);
        Status failure;
        ASSERT_EQ(put_until_failure(*db, "d", durable, 30, 500, &failure), -1);
        ASSERT_TRUE(db->sync().is_ok());
        Model unsynced;
        ASSERT_EQ(put_until_failure(*db, "u", unsynced, 30, 500, &failure), -1);
        // A torn tail for recovery to truncate.
        crash(*fs, db, FaultFs::DropMode::kKeepTornPrefix, rng());
      }
      fs->fail_after(op, n, FaultFs::Error::kEIO);
      {
        auto db = Database::open(kDir, [&] {
          Config c = config;
          c.file_system = fs;
          return c;
        }());
        if (db) {
          Model got = read_all(**db);
          for (const auto& [k, v] : durable) ASSERT_EQ(got[k], v);
        } else {
          EXPECT_FALSE(db.status().message().empty());
        }
        // The power goes out right after the (failed or not) open.
        fs->drop_unsynced(kDropModes[rng() % 3], rng());
      }
      fs->clear_faults();
      auto db = open_db(fs, config);
      ASSERT_NE(db, nullptr);
      Model got = read_all(*db);
      for (const auto& [k, v] : durable) ASSERT_EQ(got[k], v) << k;
      // What survived of the unsynced writes is a prefix u0..u<m>.
      std::size_t m = 0;
      while (got.contains("u" + std::to_string(m))) ++m;
      EXPECT_EQ(got.size(), durable.size() + m) << "a hole among the unsynced writes";
    }
  }
}

// Periodic mode: a failed fsync (by the timer or by sync()) also aborts writes.
TEST(CrashFaultFs, PeriodicModeFailedSyncAbortsWrites) {
  auto fs = std::make_shared<FaultFs>();
  Config config;
  config.wal_sync_mode = WalSyncMode::kPeriodic;
  config.wal_sync_interval = std::chrono::milliseconds(60000);
  auto db = open_db(fs, config);
  ASSERT_NE(db, nullptr);
  Model acked;
  Status failure;
  ASSERT_EQ(put_until_failure(*db, "k", acked, 20, 100, &failure), -1);
  fs->fail_after(FaultFs::Op::kSync, 1, FaultFs::Error::kEIO);
  Status s = db->sync();
  EXPECT_TRUE(s.is_io_error()) << s.to_string();
  expect_refuses_writes(*db, acked, "injected EIO");
  // Nothing was synced: after a power loss nothing of it must be required,
  // but without one (a process crash) everything is still there.
  reopen_and_check(fs, db, config, acked, "none", std::nullopt, 0, false);
}

// ---------------------------------------------------------------- (d) segments

// Many segments: a crash keeps every write of a closed segment (rotation
// syncs the old segment), Sync mode keeps everything, and reopening again and
// again (each open starts a new segment) keeps all of it.
TEST(CrashFaultFs, SegmentRotationAndRepeatedReopen) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  for (WalSyncMode sync_mode : {WalSyncMode::kSync, WalSyncMode::kNoSync}) {
    SCOPED_TRACE("sync mode " + std::to_string(static_cast<int>(sync_mode)));
    auto fs = std::make_shared<FaultFs>();
    Config config;
    config.wal_segment_size = 64 << 10;
    config.wal_sync_mode = sync_mode;
    auto db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    std::vector<std::pair<std::string, std::string>> writes;
    int durable_through = -1;  // every write up to this index is durable
    std::uint64_t segments = db->stats().wal_segments_created;
    for (int i = 0; i < 700; ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "key%06d", i);
      writes.emplace_back(key, testing::random_string(rng, 500 + rng() % 1000));
      ASSERT_TRUE(db->put(writes.back().first, writes.back().second).is_ok());
      const std::uint64_t now = db->stats().wal_segments_created;
      if (now != segments || sync_mode == WalSyncMode::kSync) durable_through = i;
      segments = now;
    }
    EXPECT_GE(segments, 10u);
    EXPECT_EQ(count_files(*fs, FileType::kWalSegment), segments);
    crash(*fs, db, kDropModes[rng() % 3], rng());
    db = open_db(fs, config);
    ASSERT_NE(db, nullptr);
    Model got = read_all(*db);
    std::size_t present = 0;
    while (present < writes.size() && got.contains(writes[present].first)) {
      ASSERT_EQ(got[writes[present].first], writes[present].second);
      ++present;
    }
    ASSERT_EQ(got.size(), present) << "a hole after write " << present;
    ASSERT_GE(static_cast<int>(present) - 1, durable_through)
        << "a write of a closed segment is lost";
    writes.resize(present);
    EXPECT_EQ(db->stats().wal_records_replayed, present);

    // Reopen several times; some closes are clean, some are crashes after a sync.
    for (int reopen = 0; reopen < 6; ++reopen) {
      SCOPED_TRACE("reopen " + std::to_string(reopen));
      for (int j = 0; j < 20; ++j) {
        char key[32];
        std::snprintf(key, sizeof key, "re%d-%03d", reopen, j);
        writes.emplace_back(key, testing::random_string(rng, rng() % 3000));
        ASSERT_TRUE(db->put(writes.back().first, writes.back().second).is_ok());
      }
      ASSERT_TRUE(db->sync().is_ok());
      const std::size_t before = count_files(*fs, FileType::kWalSegment);
      if (reopen % 2 == 0) {
        db.reset();
      } else {
        crash(*fs, db, kDropModes[rng() % 3], rng());
      }
      db = open_db(fs, config);
      ASSERT_NE(db, nullptr);
      EXPECT_EQ(count_files(*fs, FileType::kWalSegment), before + 1)
          << "each open starts a segment";
      Model want(writes.begin(), writes.end());
      ASSERT_EQ(diff(read_all(*db), want), "equal");
    }
  }
}

}  // namespace
}  // namespace lightning

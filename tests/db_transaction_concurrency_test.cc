// Transactions under concurrency (also run under ThreadSanitizer):
//  - bank transfers: threads move money between accounts (Serializable and
//    Snapshot) while flushes and merges run constantly (64 KiB memtable);
//    snapshot readers check that the total never changes; after close and
//    reopen it is still the same;
//  - a model check: transactions of random reads and writes commit
//    concurrently at Serializable; every committed one records what it read,
//    and replaying the committed ones serially in commit order (the
//    sequence numbers their writes got) must reproduce every read.
// Seeds are printed; rerun with LIGHTNING_TEST_SEED=<seed>.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "db/db_impl.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

constexpr int kAccounts = 32;
constexpr long kStart = 1000;

std::string account(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "acct%03d", i);
  return buf;
}

Config busy_config() {
  Config c;
  c.memtable_size = 64 << 10;  // flushes all the time
  c.max_runs = 3;              // and merges
  c.merge_ratio = 0.5;
  return c;
}

// Sums every account through one snapshot (iterator) and through point
// reads at the same snapshot; both must give the invariant.
long total_at(Database& db, const Snapshot& s, int* accounts_seen) {
  ReadOptions ro;
  ro.snapshot = &s;
  long sum = 0;
  int n = 0;
  auto it = db.new_iterator(ro);
  for (it->seek("acct"); it->valid() && it->key().starts_with("acct"); it->next()) {
    sum += std::stol(std::string(it->value()));
    ++n;
  }
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  *accounts_seen = n;
  return sum;
}

TEST(DbTransactionConcurrency, BankTransfersKeepTheTotalThroughFlushesAndMerges) {
  const std::uint64_t seed = testing::test_seed();
  testing::TempDir dir;
  const Config config = busy_config();
  {
    auto opened = Database::open(dir.sub("db"), config);
    ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
    auto& db = **opened;
    {
      auto t = db.transaction(IsolationLevel::kSerializable);
      ASSERT_TRUE(t.has_value());
      for (int i = 0; i < kAccounts; ++i) ASSERT_TRUE(t->put(account(i), std::to_string(kStart)).is_ok());
      ASSERT_TRUE(t->commit().is_ok());
    }
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> committed{0}, conflicts{0};
    std::atomic<int> bad_totals{0};
    auto mover = [&](int id, IsolationLevel level) {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(id));
      // A filler key per mover keeps the memtable turning over.
      const std::string pad(300, static_cast<char>('a' + id));
      for (int n = 0; n < 300; ++n) {
        const int from = static_cast<int>(rng() % kAccounts);
        const int to = (from + 1 + static_cast<int>(rng() % (kAccounts - 1))) % kAccounts;
        const long amount = static_cast<long>(rng() % 50);
        for (int attempt = 0;; ++attempt) {
          auto t = db.transaction(level);
          ASSERT_TRUE(t.has_value()) << t.status().to_string();
          auto a = t->get(account(from));
          auto b = t->get(account(to));
          ASSERT_TRUE(a.has_value() && b.has_value());
          ASSERT_TRUE(a->has_value() && b->has_value());
          const long va = std::stol(**a), vb = std::stol(**b);
          ASSERT_TRUE(t->put(account(from), std::to_string(va - amount)).is_ok());
          ASSERT_TRUE(t->put(account(to), std::to_string(vb + amount)).is_ok());
          ASSERT_TRUE(t->put("pad" + std::to_string(id) + "-" + std::to_string(n % 50), pad).is_ok());
          Status s = t->commit();
          if (s.is_ok()) {
            committed.fetch_add(1);
            break;
          }
          ASSERT_TRUE(s.is_conflict()) << s.to_string();
          conflicts.fetch_add(1);
          ASSERT_LT(attempt, 10000) << "a transfer never got through";
        }
      }
    };
    std::thread checker([&] {
      while (!stop.load()) {
        Snapshot s = db.snapshot();
        int seen = 0;
        const long total = total_at(db, s, &seen);
        if (total != kAccounts * kStart || seen != kAccounts) bad_totals.fetch_add(1);
        // The same snapshot through a read-only serializable transaction.
        auto t = db.transaction(IsolationLevel::kSnapshot);
        if (t) {
          long sum = 0;
          for (auto [k, v] : t->prefix("acct")) sum += std::stol(std::string(v));
          if (sum != kAccounts * kStart) bad_totals.fetch_add(1);
          (void)t->rollback();
        }
      }
    });
    std::vector<std::thread> movers;
    movers.emplace_back(mover, 0, IsolationLevel::kSerializable);
    movers.emplace_back(mover, 1, IsolationLevel::kSerializable);
    movers.emplace_back(mover, 2, IsolationLevel::kSnapshot);
    for (auto& m : movers) m.join();
    stop.store(true);
    checker.join();
    std::printf("[ info     ] seed %llu: %llu transfers committed, %llu conflicts retried, %llu flushes, %llu merges\n",
                static_cast<unsigned long long>(seed), static_cast<unsigned long long>(committed.load()),
                static_cast<unsigned long long>(conflicts.load()),
                static_cast<unsigned long long>(db.stats().flushes),
                static_cast<unsigned long long>(db.stats().merges));
    EXPECT_EQ(bad_totals.load(), 0) << "a snapshot saw money created or destroyed";
    EXPECT_EQ(committed.load(), 900u);
    EXPECT_GT(db.stats().flushes, 0u);
    Snapshot s = db.snapshot();
    int seen = 0;
    EXPECT_EQ(total_at(db, s, &seen), kAccounts * kStart);
  }
  auto reopened = Database::open(dir.sub("db"), config);
  ASSERT_TRUE(reopened.has_value());
  Snapshot s = (*reopened)->snapshot();
  int seen = 0;
  EXPECT_EQ(total_at(**reopened, s, &seen), kAccounts * kStart);
  EXPECT_EQ(seen, kAccounts);
}

// Serializable transactions of random reads, scans and writes commit
// concurrently; each committed transaction's reads must equal what a
// serial execution in commit order reads.
TEST(DbTransactionConcurrency, SerializableMatchesASerialExecutionInCommitOrder) {
  const std::uint64_t seed = testing::test_seed();
  testing::TempDir dir;
  auto opened = Database::open(dir.sub("db"), busy_config());
  ASSERT_TRUE(opened.has_value());
  auto& db = **opened;
  constexpr int kKeys = 24;
  auto key = [](int i) { return "m" + std::to_string(100 + i); };
  struct Op {
    enum Kind { kGet, kScan, kPut, kDelete } kind;
    std::string key, key2, value;
    std::optional<std::string> seen;        // kGet: what it read
    std::vector<std::pair<std::string, std::string>> scanned;  // kScan
  };
  struct Committed {
    std::uint64_t sequence;  // the sequence of its commit (its writes')
    std::vector<Op> ops;
  };
  std::mutex mu;
  std::vector<Committed> log;
  auto worker = [&](int id) {
    std::mt19937_64 rng(seed * 31 + static_cast<std::uint64_t>(id));
    for (int n = 0; n < 150; ++n) {
      auto t = db.transaction(IsolationLevel::kSerializable);
      ASSERT_TRUE(t.has_value());
      std::vector<Op> ops;
      const int count = 1 + static_cast<int>(rng() % 6);
      bool wrote = false;
      for (int i = 0; i < count; ++i) {
        Op op;
        const int r = static_cast<int>(rng() % 10);
        op.key = key(static_cast<int>(rng() % kKeys));
        if (r < 4) {
          op.kind = Op::kGet;
          auto v = t->get(op.key);
          ASSERT_TRUE(v.has_value());
          op.seen = *v;
        } else if (r < 5) {
          op.kind = Op::kScan;
          op.key2 = key(static_cast<int>(rng() % kKeys));
          if (op.key2 < op.key) std::swap(op.key, op.key2);
          for (auto [k, v] : t->range(op.key, op.key2)) op.scanned.emplace_back(k, v);
        } else if (r < 9) {
          op.kind = Op::kPut;
          op.value = std::to_string(id) + ":" + std::to_string(n) + ":" + std::to_string(i);
          ASSERT_TRUE(t->put(op.key, op.value).is_ok());
          wrote = true;
        } else {
          op.kind = Op::kDelete;
          ASSERT_TRUE(t->remove(op.key).is_ok());
          wrote = true;
        }
        ops.push_back(std::move(op));
      }
      if (!wrote) {
        Status s = t->commit();
        ASSERT_TRUE(s.is_ok() || s.is_conflict()) << s.to_string();
        continue;  // read-only: no commit order to check against
      }
      // Commit order = the sequence numbers the commit gave the writes.
      Status s = t->commit();
      ASSERT_TRUE(s.is_ok() || s.is_conflict()) << s.to_string();
      if (s.is_ok()) {
        ASSERT_GT(t->commit_sequence(), 0u);
        std::lock_guard l(mu);
        log.push_back({t->commit_sequence(), std::move(ops)});
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back(worker, i);
  for (auto& th : threads) th.join();
  std::sort(log.begin(), log.end(), [](const Committed& a, const Committed& b) { return a.sequence < b.sequence; });
  // Serial replay.
  std::map<std::string, std::string> state;
  std::size_t checked = 0;
  for (const Committed& c : log) {
    std::map<std::string, std::string> view = state;
    for (const Op& op : c.ops) {
      switch (op.kind) {
        case Op::kGet: {
          auto it = view.find(op.key);
          std::optional<std::string> want = it == view.end() ? std::nullopt : std::optional(it->second);
          ASSERT_EQ(op.seen, want) << "seed " << seed << ": read of " << op.key << " at commit sequence "
                                   << c.sequence << " differs from the serial order";
          ++checked;
          break;
        }
        case Op::kScan: {
          std::vector<std::pair<std::string, std::string>> want;
          for (auto it = view.lower_bound(op.key); it != view.end() && it->first < op.key2; ++it) {
            want.emplace_back(it->first, it->second);
          }
          ASSERT_EQ(op.scanned, want) << "seed " << seed << ": scan [" << op.key << ", " << op.key2
                                      << ") at commit sequence " << c.sequence;
          ++checked;
          break;
        }
        case Op::kPut:
          view[op.key] = op.value;
          break;
        case Op::kDelete:
          view.erase(op.key);
          break;
      }
    }
    state = std::move(view);
  }
  // The database ends in the serial state.
  std::map<std::string, std::string> final_state;
  auto it = db.new_iterator();
  for (it->seek("m"); it->valid() && it->key().starts_with("m"); it->next()) {
    final_state.emplace(it->key(), it->value());
  }
  EXPECT_EQ(final_state, state) << "seed " << seed;
  std::printf("[ info     ] seed %llu: %zu transactions committed, %zu reads checked\n",
              static_cast<unsigned long long>(seed), log.size(), checked);
  EXPECT_GT(log.size(), 50u);
}

// Regression: a snapshot loaded the version and then the last sequence
// separately; a memtable switch in between gave a read point whose sequence
// covered writes its version did not hold (a transaction validating from it
// could lose an update). Every snapshot must see exactly the writes up to
// its sequence.
TEST(DbTransactionConcurrency, SnapshotsSeeEveryWriteUpToTheirSequence) {
  testing::TempDir dir;
  Config c = busy_config();
  c.wal_sync_mode = WalSyncMode::kNoSync;
  auto opened = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(opened.has_value());
  auto& db = **opened;
  // Widen the window between a read point's two loads: the writer gets to
  // switch memtables and commit in it.
  dynamic_cast<DatabaseImpl&>(db).set_read_point_hook([] { std::this_thread::sleep_for(std::chrono::microseconds(200)); });
  constexpr int kWrites = 3000;
  std::vector<std::atomic<std::uint64_t>> seq_of(kWrites);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    const std::string pad(1500, 'p');  // a memtable switch every ~40 writes
    for (int i = 0; i < kWrites; ++i) {
      auto t = db.transaction(IsolationLevel::kReadCommitted);
      ASSERT_TRUE(t.has_value());
      ASSERT_TRUE(t->put("c", std::to_string(i)).is_ok());
      ASSERT_TRUE(t->put("pad" + std::to_string(i % 8), pad).is_ok());
      ASSERT_TRUE(t->commit().is_ok());
      seq_of[static_cast<std::size_t>(i)].store(t->commit_sequence());
    }
    done.store(true);
  });
  std::vector<std::pair<std::uint64_t, long>> seen;  // (snapshot sequence, value of c)
  while (!done.load()) {
    Snapshot s = db.snapshot();
    ReadOptions ro;
    ro.snapshot = &s;
    auto v = db.get(ro, "c");
    ASSERT_TRUE(v.has_value());
    seen.emplace_back(s.sequence(), *v ? std::stol(**v) : -1);
  }
  writer.join();
  std::size_t checked = 0;
  for (const auto& [seq, value] : seen) {
    long want = -1;
    for (int i = 0; i < kWrites && seq_of[static_cast<std::size_t>(i)].load() <= seq; ++i) want = i;
    ASSERT_EQ(value, want) << "snapshot at sequence " << seq << " missed a write at or below it";
    ++checked;
  }
  std::printf("[ info     ] %zu snapshots checked, %llu flushes\n", checked,
              static_cast<unsigned long long>(db.stats().flushes));
}

}  // namespace
}  // namespace lightning

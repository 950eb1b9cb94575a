// Runs under load (also run under ThreadSanitizer in CI): a tiny memtable so
// that flushes into runs and merges into the tree happen constantly, one
// writer, readers doing point reads and iterators at the same time.
//
// Invariants checked while everything runs:
//  - atomic batches: every batch writes "a<k>" and "b<k>" with the same
//    version; an iterator (one consistent view) never sees them differ;
//  - monotonic values: a point read of a key never goes back to an older
//    version than one the same reader saw before;
//  - iterators see keys in strictly increasing order.
// At the end the database equals the writer's model, before and after a
// reopen. Reproducible from the printed seed (the writer's choices).
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

constexpr int kKeys = 300;

std::string pad(int k) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", k);
  return buf;
}
std::string value_of(std::uint64_t version) { return "v" + std::to_string(version) + std::string(40, '.'); }
std::uint64_t version_of(std::string_view v) { return std::stoull(std::string(v.substr(1, v.find('.') - 1))); }

TEST(DbRunsConcurrency, FlushesAndMergesUnderReadersAndIterators) {
  const std::uint64_t seed = testing::test_seed();
  testing::TempDir dir;
  Config config;
  config.wal_sync_mode = WalSyncMode::kNoSync;
  config.memtable_size = 64 << 10;
  config.max_runs = 3;
  config.merge_ratio = 0.3;
  auto opened = Database::open(dir.sub("db"), config);
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  Database& db = **opened;

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::map<std::string, std::string> model;  // the writer's, read after join
  std::thread writer([&] {
    std::mt19937_64 rng(seed);
    for (std::uint64_t version = 1; version <= 6000; ++version) {
      const int k = static_cast<int>(rng() % kKeys);
      WriteBatch b;
      if (rng() % 8 == 0) {
        (void)b.remove("a" + pad(k));
        (void)b.remove("b" + pad(k));
        model.erase("a" + pad(k));
        model.erase("b" + pad(k));
      } else {
        (void)b.put("a" + pad(k), value_of(version));
        (void)b.put("b" + pad(k), value_of(version));
        model["a" + pad(k)] = value_of(version);
        model["b" + pad(k)] = value_of(version);
      }
      if (!db.write(b).is_ok()) failures.fetch_add(1);
    }
    done.store(true);
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      std::vector<std::uint64_t> seen(kKeys, 0);
      std::mt19937_64 rng(seed + 1 + static_cast<std::uint64_t>(r));
      while (!done.load()) {
        const int k = static_cast<int>(rng() % kKeys);
        auto got = db.get("a" + pad(k));
        if (!got) {
          failures.fetch_add(1);
          continue;
        }
        if (got->has_value()) {
          const std::uint64_t v = version_of(**got);
          if (v < seen[static_cast<std::size_t>(k)]) failures.fetch_add(1);  // went back in time
          seen[static_cast<std::size_t>(k)] = v;
        }
        if (rng() % 20 == 0) {
          auto it = db.new_iterator();
          std::string prev;
          std::map<std::string, std::string> view;
          for (it->first(); it->valid(); it->next()) {
            const std::string key(it->key());
            if (!prev.empty() && key <= prev) failures.fetch_add(1);
            prev = key;
            view[key] = std::string(it->value());
          }
          if (!it->status().is_ok()) failures.fetch_add(1);
          for (int j = 0; j < kKeys; ++j) {
            auto a = view.find("a" + pad(j));
            auto b = view.find("b" + pad(j));
            const bool a_in = a != view.end(), b_in = b != view.end();
            if (a_in != b_in || (a_in && a->second != b->second)) failures.fetch_add(1);  // torn batch
          }
        }
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  const Stats st = db.stats();
  EXPECT_GT(st.flushes, 3u) << "the memtable should have been flushed many times";
  EXPECT_GT(st.merges, 0u) << "runs should have been merged";

  auto check = [&](Database& d) {
    std::map<std::string, std::string> got;
    for (auto [k, v] : d.prefix("")) got[std::string(k)] = std::string(v);
    EXPECT_EQ(got, model);
    EXPECT_TRUE(d.verify().is_ok());
  };
  check(db);
  opened->reset();
  auto again = Database::open(dir.sub("db"), config);
  ASSERT_TRUE(again.has_value()) << again.status().to_string();
  check(**again);
}

}  // namespace
}  // namespace lightning

// Model test: random put/remove/batch/get/iterate sequences, checked against a
// std::map after every step, with reopens at random points. Reproduce a
// failure with LIGHTNING_TEST_SEED=<printed seed>.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <map>
#include <random>
#include <string>

#include "testutil/testutil.h"

namespace lightning {
namespace {

using Model = std::map<std::string, std::string>;

class ModelTest : public ::testing::TestWithParam<int> {};

std::string pick_key(std::mt19937_64& rng) {
  // Small alphabet and short keys: many collisions, overwrites and deletes.
  std::uniform_int_distribution<int> len(1, 5);
  return testing::random_string(rng, static_cast<std::size_t>(len(rng)), 'a', 'h');
}

std::string pick_value(std::mt19937_64& rng) {
  // Mostly small values, some past the inline limit (overflow extents).
  std::uniform_int_distribution<int> len(0, rng() % 16 == 0 ? 3000 : 40);
  return testing::random_string(rng, static_cast<std::size_t>(len(rng)), '0', 'z');
}

// Checks a full scan, forward and backward, within optional bounds.
void check_scan(Database& db, const Model& model, std::mt19937_64& rng) {
  ReadOptions ro;
  if (rng() % 2) ro.lower_bound = pick_key(rng);
  if (rng() % 2) ro.upper_bound = pick_key(rng);
  auto in_bounds = [&](const std::string& k) {
    return (!ro.lower_bound || k >= *ro.lower_bound) && (!ro.upper_bound || k < *ro.upper_bound);
  };
  std::vector<std::pair<std::string, std::string>> expect;
  for (const auto& kv : model) {
    if (in_bounds(kv.first)) expect.push_back(kv);
  }
  auto it = db.new_iterator(ro);
  std::size_t i = 0;
  for (it->first(); it->valid(); it->next(), ++i) {
    ASSERT_LT(i, expect.size()) << "extra key " << it->key();
    ASSERT_EQ(it->key(), expect[i].first);
    ASSERT_EQ(it->value(), expect[i].second);
  }
  ASSERT_EQ(i, expect.size());
  ASSERT_TRUE(it->status());
  i = expect.size();
  for (it->last(); it->valid(); it->prev()) {
    ASSERT_GT(i, 0u);
    --i;
    ASSERT_EQ(it->key(), expect[i].first);
    ASSERT_EQ(it->value(), expect[i].second);
  }
  ASSERT_EQ(i, 0u);
}

// Seeks to random targets and walks a few steps in random directions.
void check_seeks(Database& db, const Model& model, std::mt19937_64& rng) {
  auto it = db.new_iterator();
  for (int round = 0; round < 5; ++round) {
    std::string target = pick_key(rng);
    auto mit = model.lower_bound(target);
    bool forward = rng() % 2;
    if (forward) {
      it->seek(target);
    } else {
      it->seek_for_prev(target);
      mit = model.upper_bound(target);
      mit = mit == model.begin() ? model.end() : std::prev(mit);
    }
    for (int step = 0; step < 6; ++step) {
      if (mit == model.end()) {
        ASSERT_FALSE(it->valid()) << "target " << target << " got " << it->key();
        break;
      }
      ASSERT_TRUE(it->valid()) << "target " << target << " expected " << mit->first;
      ASSERT_EQ(it->key(), mit->first);
      ASSERT_EQ(it->value(), mit->second);
      if (rng() % 2) {
        it->next();
        ++mit;
      } else {
        it->prev();
        mit = mit == model.begin() ? model.end() : std::prev(mit);
      }
    }
  }
}

TEST_P(ModelTest, RandomOperationsMatchStdMap) {
  const std::uint64_t seed = testing::test_seed() + static_cast<std::uint64_t>(GetParam());
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  Config config;
  // Alternate configurations so every sync mode and small segments are covered.
  config.wal_sync_mode = static_cast<WalSyncMode>(GetParam() % 3);
  config.wal_segment_size = 64u << 10;
  config.write_batch_size = 1 + static_cast<std::uint32_t>(rng() % 8);
  // Tiny memtables and cache: flushes into the B+tree happen all the time and
  // the tree is many times larger than the cache.
  config.memtable_size = 64u << 10;
  config.cache_size = (GetParam() % 2 == 0) ? 0 : (32u << 10);
  config.page_size = (GetParam() % 3 == 1) ? 16384 : 4096;
  config.use_mmap = GetParam() >= 3;  // reads through the memory mapping
  auto opened = Database::open(dir.sub("db"), config);
  ASSERT_TRUE(opened) << opened.status().to_string();
  std::unique_ptr<Database> db = std::move(*opened);
  Model model;

  const int kOps = 6000;
  for (int op = 0; op < kOps; ++op) {
    int choice = static_cast<int>(rng() % 100);
    if (choice < 35) {
      std::string k = pick_key(rng), v = pick_value(rng);
      ASSERT_TRUE(db->put(k, v));
      model[k] = v;
    } else if (choice < 50) {
      std::string k = pick_key(rng);
      ASSERT_TRUE(db->remove(k));
      model.erase(k);
    } else if (choice < 60) {
      WriteBatch b;
      Model staged = model;
      int n = 1 + static_cast<int>(rng() % 10);
      for (int i = 0; i < n; ++i) {
        std::string k = pick_key(rng);
        if (rng() % 3 == 0) {
          ASSERT_TRUE(b.remove(k));
          staged.erase(k);
        } else {
          std::string v = pick_value(rng);
          ASSERT_TRUE(b.put(k, v));
          staged[k] = v;
        }
      }
      ASSERT_TRUE(db->write(b));
      model = std::move(staged);
    } else if (choice < 80) {
      std::string k = pick_key(rng);
      auto got = db->get(k);
      ASSERT_TRUE(got);
      auto it = model.find(k);
      if (it == model.end()) {
        ASSERT_FALSE(got->has_value()) << "key " << k << " op " << op;
      } else {
        ASSERT_TRUE(got->has_value()) << "key " << k << " op " << op;
        ASSERT_EQ(**got, it->second);
      }
    } else if (choice < 88) {
      ASSERT_NO_FATAL_FAILURE(check_seeks(*db, model, rng));
    } else if (choice < 95) {
      ASSERT_NO_FATAL_FAILURE(check_scan(*db, model, rng));
    } else if (choice < 96) {
      ASSERT_TRUE(db->flush_lsm());
      Status v = db->verify();
      ASSERT_TRUE(v) << v.to_string();
    } else if (choice < 97) {
      // An iterator sees the state at its creation, not later writes.
      auto it = db->new_iterator();
      std::string k = pick_key(rng);
      ASSERT_TRUE(db->put(k, "after-iterator"));
      Model before = model;
      model[k] = "after-iterator";
      std::size_t n = 0;
      for (it->first(); it->valid(); it->next()) {
        auto mi = before.find(std::string(it->key()));
        ASSERT_NE(mi, before.end());
        ASSERT_EQ(it->value(), mi->second);
        ++n;
      }
      ASSERT_EQ(n, before.size());
    } else {
      db.reset();
      auto again = Database::open(dir.sub("db"), config);
      ASSERT_TRUE(again) << again.status().to_string();
      db = std::move(*again);
      ASSERT_NO_FATAL_FAILURE(check_scan(*db, model, rng));
    }
  }
  ASSERT_NO_FATAL_FAILURE(check_scan(*db, model, rng));
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest, ::testing::Range(0, 6));

}  // namespace
}  // namespace lightning

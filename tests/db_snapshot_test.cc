// Snapshots (issue 6, first part): reads at a snapshot see the database as
// of the snapshot through memtables, runs and the tree, while writes,
// flushes and merges go on; stats show live snapshots.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

using Model = std::map<std::string, std::string>;

Model scan(Database& db, const Snapshot* snap) {
  ReadOptions o;
  o.snapshot = snap;
  Model m;
  auto it = db.new_iterator(o);
  for (it->first(); it->valid(); it->next()) m[std::string(it->key())] = std::string(it->value());
  EXPECT_TRUE(it->status().is_ok()) << it->status().to_string();
  return m;
}

TEST(DbSnapshot, SeesTheOldStateThroughOverwritesDeletesFlushesAndMerges) {
  testing::TempDir dir;
  Config c;
  c.memtable_size = 64 << 10;
  c.max_runs = 3;
  auto opened = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  Database& db = **opened;
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(db.put("k" + std::to_string(i), "old" + std::to_string(i)).is_ok());
  ASSERT_TRUE(db.flush_lsm().is_ok());  // part of the old state in the tree
  for (int i = 500; i < 800; ++i) ASSERT_TRUE(db.put("k" + std::to_string(i), "old" + std::to_string(i)).is_ok());
  Snapshot snap = db.snapshot();
  ASSERT_TRUE(snap.valid());
  const Model before = scan(db, nullptr);
  // Overwrite, delete and add, with automatic flushes and merges.
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 800; ++i) {
      if (i % 7 == 0) {
        ASSERT_TRUE(db.remove("k" + std::to_string(i)).is_ok());
      } else {
        ASSERT_TRUE(db.put("k" + std::to_string(i), "new" + std::to_string(round)).is_ok());
      }
    }
    ASSERT_TRUE(db.put("added" + std::to_string(round), "x").is_ok());
  }
  ASSERT_TRUE(db.flush_lsm().is_ok());
  EXPECT_GT(db.stats().merges, 0u);
  EXPECT_EQ(scan(db, &snap), before);
  ReadOptions o;
  o.snapshot = &snap;
  for (int i = 0; i < 800; i += 37) {
    auto got = db.get(o, "k" + std::to_string(i));
    ASSERT_TRUE(got.has_value() && got->has_value()) << i;
    EXPECT_EQ(**got, "old" + std::to_string(i));
  }
  auto absent = db.get(o, "added0");
  ASSERT_TRUE(absent.has_value());
  EXPECT_FALSE(absent->has_value()) << "a key added after the snapshot is visible in it";
  std::vector<std::string_view> keys{"k1", "k7", "added1"};
  auto batch = db.batch_get(o, keys);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ((*batch)[0], std::optional<std::string>("old1"));
  EXPECT_EQ((*batch)[1], std::optional<std::string>("old7"));
  EXPECT_EQ((*batch)[2], std::nullopt);
  // The latest state is unaffected.
  auto now = db.get("k7");
  ASSERT_TRUE(now.has_value());
  EXPECT_FALSE(now->has_value());

  const Stats st = db.stats();
  EXPECT_EQ(st.snapshots, 1u);
  EXPECT_GT(st.oldest_snapshot_micros, 0u);
  EXPECT_GT(st.snapshot_pinned_bytes, 0u) << "the snapshot keeps an old memtable";
  snap.reset();
  EXPECT_EQ(db.stats().snapshots, 0u);
  EXPECT_EQ(db.stats().snapshot_pinned_bytes, 0u);
}

// Random operations with snapshots taken at random points; at the end every
// snapshot must still read exactly the model copy taken with it.
TEST(DbSnapshot, ManySnapshotsMatchTheirModels) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  Config c;
  c.memtable_size = 64 << 10;
  c.max_runs = 2;
  c.merge_ratio = 0.2;
  auto opened = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
  Database& db = **opened;
  Model model;
  std::vector<std::pair<Snapshot, Model>> snaps;
  for (int op = 0; op < 8000; ++op) {
    const std::string k = "key" + std::to_string(rng() % 700);
    if (rng() % 5 == 0) {
      ASSERT_TRUE(db.remove(k).is_ok());
      model.erase(k);
    } else {
      const std::string v = testing::random_string(rng, 20 + rng() % 60);
      ASSERT_TRUE(db.put(k, v).is_ok());
      model[k] = v;
    }
    if (op % 900 == 0) snaps.emplace_back(db.snapshot(), model);
    if (op % 2500 == 0) ASSERT_TRUE(db.flush_lsm().is_ok());
  }
  EXPECT_EQ(db.stats().snapshots, snaps.size());
  for (std::size_t i = 0; i < snaps.size(); ++i) {
    ASSERT_EQ(scan(db, &snaps[i].first), snaps[i].second) << "snapshot " << i << " at sequence "
                                                          << snaps[i].first.sequence();
  }
  EXPECT_EQ(scan(db, nullptr), model);
  EXPECT_TRUE(db.verify().is_ok());
  snaps.clear();
  EXPECT_EQ(db.stats().snapshots, 0u);
}

TEST(DbSnapshot, ASnapshotOfAnotherDatabaseIsRejected) {
  testing::TempDir dir;
  auto a = Database::open(dir.sub("a"));
  auto b = Database::open(dir.sub("b"));
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_TRUE((*a)->put("k", "a").is_ok());
  Snapshot from_a = (*a)->snapshot();
  ReadOptions o;
  o.snapshot = &from_a;
  auto got = (*b)->get(o, "k");
  ASSERT_FALSE(got.has_value());
  EXPECT_TRUE(got.status().is_invalid_argument()) << got.status().to_string();
  auto it = (*b)->new_iterator(o);
  it->first();
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().is_invalid_argument()) << it->status().to_string();
  // An empty snapshot reads the latest state.
  Snapshot empty;
  o.snapshot = &empty;
  auto latest = (*a)->get(o, "k");
  ASSERT_TRUE(latest.has_value() && latest->has_value());
  EXPECT_EQ(**latest, "a");
}

// A snapshot released after its database closed (a misuse) must not touch
// the closed database (ASan would report a use after free).
TEST(DbSnapshot, ReleasingAfterCloseIsHarmless) {
  testing::TempDir dir;
  Snapshot kept;
  {
    Config c;
    c.memtable_size = 64 << 10;
    auto db = Database::open(dir.sub("db"), c);
    ASSERT_TRUE(db.has_value());
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE((*db)->put("k" + std::to_string(i), std::string(50, 'v')).is_ok());
    kept = (*db)->snapshot();
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE((*db)->put("k" + std::to_string(i), "new").is_ok());
    ASSERT_TRUE((*db)->flush_lsm().is_ok());
  }
  auto other = Database::open(dir.sub("db"));
  ASSERT_TRUE(other.has_value()) << other.status().to_string();
  ReadOptions o;
  o.snapshot = &kept;
  EXPECT_TRUE((*other)->get(o, "k1").status().is_invalid_argument());
  kept.reset();
  EXPECT_EQ(**(*other)->get("k1"), "new");
}

}  // namespace
}  // namespace lightning

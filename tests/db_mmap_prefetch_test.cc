// Config::use_mmap (reads from a read-only memory mapping of the data file)
// and Config::prefetch_enabled (read-ahead for iterators), through the
// public API. Corruption through the mapping: pagestore_corruption_test.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "env/fault_injection_file_system.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

std::string key_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key%08d", i);
  return buf;
}

std::string value_of(int i, int round) {
  return "value-" + std::to_string(round) + "-" + std::to_string(i) + std::string(80, 'v');
}

class MmapPrefetchTest : public ::testing::Test {
 protected:
  std::unique_ptr<Database> open_db(const Config& config) {
    auto db = Database::open(dir_.sub("db"), config);
    EXPECT_TRUE(db.has_value()) << db.status().to_string();
    return db ? std::move(*db) : nullptr;
  }
  // n keys of round `round`, merged into the B+tree.
  static void load(Database& db, int n, int round) {
    WriteBatch b;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(b.put(key_of(i), value_of(i, round)));
    ASSERT_TRUE(db.write(b));
    ASSERT_TRUE(db.flush_lsm());
  }
  testing::TempDir dir_;
};

TEST_F(MmapPrefetchTest, UseMmapNeedsAFileSystemThatMaps) {
  Config c;
  c.use_mmap = true;
  c.file_system = std::make_shared<FaultInjectionFileSystem>();
  auto db = Database::open("/db", c);
  ASSERT_FALSE(db.has_value());
  EXPECT_TRUE(db.status().is_not_supported()) << db.status().to_string();
  EXPECT_NE(db.status().message().find("use_mmap"), std::string::npos) << db.status().to_string();
  EXPECT_NE(db.status().message().find("DATA"), std::string::npos) << db.status().to_string();
}

TEST_F(MmapPrefetchTest, ReadsComeFromTheMappingNotTheCache) {
  Config c;
  c.use_mmap = true;
  c.memtable_size = 256 << 10;
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  // ~6 MiB of tree: the file outgrows the first mapping several times.
  const int n = 50'000;
  ASSERT_NO_FATAL_FAILURE(load(*db, n, 0));
  const Stats before = db->stats();
  EXPECT_TRUE(before.mmap_reads);
  EXPECT_GT(before.data_file_bytes, 4u << 20);
  std::mt19937 rng(7);
  for (int j = 0; j < 2000; ++j) {
    const int i = static_cast<int>(rng() % n);
    auto v = db->get(key_of(i));
    ASSERT_TRUE(v.has_value()) << v.status().to_string();
    ASSERT_TRUE(v->has_value()) << key_of(i);
    ASSERT_EQ(**v, value_of(i, 0));
  }
  int seen = 0;
  for (auto [k, v] : db->prefix("")) {
    ASSERT_EQ(k, key_of(seen));
    ASSERT_EQ(v, value_of(seen, 0));
    ++seen;
  }
  EXPECT_EQ(seen, n);
  const Stats after = db->stats();
  EXPECT_EQ(after.cache_hits, before.cache_hits) << "tree pages were read through the page cache";
  EXPECT_EQ(after.cache_misses, before.cache_misses) << "tree pages were read through the page cache";
  EXPECT_TRUE(db->verify().is_ok());

  // Reopen: the mapping is made again and reads still match.
  db.reset();
  db = open_db(c);
  ASSERT_NE(db, nullptr);
  auto v = db->get(key_of(n - 1));
  ASSERT_TRUE(v.has_value() && v->has_value());
  EXPECT_EQ(**v, value_of(n - 1, 0));
}

// A pinned value borrowed from the mapping keeps its bytes while the tree is
// rewritten around it: its page is not reused while the value is held.
TEST_F(MmapPrefetchTest, PinnedValueFromTheMappingSurvivesRewrites) {
  Config c;
  c.use_mmap = true;
  c.memtable_size = 256 << 10;
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  const int n = 5'000;
  ASSERT_NO_FATAL_FAILURE(load(*db, n, 0));
  PinnedValue pinned;
  auto found = db->get_pinned(key_of(42), pinned);
  ASSERT_TRUE(found.has_value() && *found) << found.status().to_string();
  const std::string expected = value_of(42, 0);
  ASSERT_EQ(pinned.value(), expected);
  const std::uint64_t size_before = db->stats().data_file_bytes;
  for (int round = 1; round <= 6; ++round) {
    ASSERT_NO_FATAL_FAILURE(load(*db, n, round));
    ASSERT_EQ(pinned.value(), expected) << "round " << round;
  }
  // Every round rewrote the whole tree; the pages of round 0 stayed reserved.
  EXPECT_GT(db->stats().data_file_bytes, 2 * size_before);
  pinned.reset();
  // Released: the next commits reuse what the pin held; the file stops growing.
  ASSERT_NO_FATAL_FAILURE(load(*db, n, 7));
  const std::uint64_t size_released = db->stats().data_file_bytes;
  for (int round = 8; round <= 10; ++round) ASSERT_NO_FATAL_FAILURE(load(*db, n, round));
  EXPECT_LE(db->stats().data_file_bytes, size_released);
  auto now = db->get(key_of(42));
  ASSERT_TRUE(now.has_value() && now->has_value());
  EXPECT_EQ(**now, value_of(42, 10));
}

TEST_F(MmapPrefetchTest, ScansIssueReadAheadAndPointReadsDoNot) {
  for (bool use_mmap : {false, true}) {
    SCOPED_TRACE(use_mmap ? "use_mmap" : "page cache");
    testing::TempDir dir;
    Config c;
    c.use_mmap = use_mmap;
    c.cache_size = 64 << 10;  // far smaller than the tree: leaves are not cached
    c.memtable_size = 256 << 10;
    auto opened = Database::open(dir.sub("db"), c);
    ASSERT_TRUE(opened.has_value()) << opened.status().to_string();
    auto& db = **opened;
    const int n = 20'000;  // ~700 leaves
    ASSERT_NO_FATAL_FAILURE(load(db, n, 0));
    for (int i = 0; i < n; i += 97) ASSERT_TRUE(db.get(key_of(i)).has_value());
    {
      auto it = db.new_iterator();
      for (int i = 0; i < 200; ++i) {  // seeks reading a few keys: no read-ahead
        it->seek(key_of(i * 97));
        for (int j = 0; j < 3 && it->valid(); ++j) it->next();
      }
    }
    EXPECT_EQ(db.stats().prefetch_requests, 0u);

    int seen = 0;
    for ([[maybe_unused]] auto kv : db.prefix("")) ++seen;
    ASSERT_EQ(seen, n);
    const Stats forward = db.stats();
    EXPECT_GT(forward.prefetch_requests, 0u);
    EXPECT_GT(forward.prefetch_bytes, 100u * 4096) << "most leaves should be advised ahead";

    auto it = db.new_iterator();
    seen = 0;
    for (it->last(); it->valid(); it->prev()) ++seen;
    ASSERT_TRUE(it->status().is_ok()) << it->status().to_string();
    ASSERT_EQ(seen, n);
    EXPECT_GT(db.stats().prefetch_requests, forward.prefetch_requests) << "reverse scans read ahead too";
  }
}

TEST_F(MmapPrefetchTest, PrefetchDisabledIssuesNothing) {
  Config c;
  c.prefetch_enabled = false;
  c.cache_size = 64 << 10;
  c.memtable_size = 256 << 10;
  auto db = open_db(c);
  ASSERT_NE(db, nullptr);
  ASSERT_NO_FATAL_FAILURE(load(*db, 20'000, 0));
  int seen = 0;
  for ([[maybe_unused]] auto kv : db->prefix("")) ++seen;
  EXPECT_EQ(seen, 20'000);
  EXPECT_EQ(db->stats().prefetch_requests, 0u);
  EXPECT_EQ(db->stats().prefetch_bytes, 0u);
}

}  // namespace
}  // namespace lightning

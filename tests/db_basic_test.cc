// Public API behaviour: open/close, put/get/remove/contains, batches, limits,
// configuration validation, locking, reopen.
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

class DbBasicTest : public ::testing::Test {
 protected:
  std::unique_ptr<Database> open_db(Config config = {}) {
    auto db = Database::open(dir_.sub("db"), config);
    EXPECT_TRUE(db.has_value()) << db.status().to_string();
    return db ? std::move(*db) : nullptr;
  }
  testing::TempDir dir_;
};

TEST_F(DbBasicTest, PutGetRemoveContains) {
  auto db = open_db();
  ASSERT_TRUE(db->put("k1", "v1"));
  ASSERT_TRUE(db->put("k2", ""));
  auto v = db->get("k1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value(), "v1");
  auto empty = db->get("k2");
  ASSERT_TRUE(empty && empty->has_value());
  EXPECT_EQ(empty->value(), "");
  auto missing = db->get("nope");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
  EXPECT_TRUE(*db->contains("k1"));
  ASSERT_TRUE(db->remove("k1"));
  EXPECT_FALSE(*db->contains("k1"));
  EXPECT_FALSE(db->get("k1")->has_value());
  ASSERT_TRUE(db->remove("never-existed"));
  ASSERT_TRUE(db->put("k1", "again"));
  EXPECT_EQ(db->get("k1")->value(), "again");
}

TEST_F(DbBasicTest, BinaryKeysAndValues) {
  auto db = open_db();
  std::string key("a\0b\xff", 4);
  std::string value("\0\0\x01\xfe", 4);
  ASSERT_TRUE(db->put(key, value));
  EXPECT_EQ(db->get(key)->value(), value);
  EXPECT_FALSE(db->get(std::string("a\0b", 3))->has_value());
}

TEST_F(DbBasicTest, WriteBatchIsAtomicAndOrdered) {
  auto db = open_db();
  ASSERT_TRUE(db->put("gone", "x"));
  WriteBatch b;
  ASSERT_TRUE(b.put("a", "1"));
  ASSERT_TRUE(b.put("a", "2"));  // later put of the same key wins
  ASSERT_TRUE(b.remove("gone"));
  ASSERT_TRUE(b.put("b", "3"));
  EXPECT_EQ(b.count(), 4u);
  ASSERT_TRUE(db->write(b));
  EXPECT_EQ(db->get("a")->value(), "2");
  EXPECT_EQ(db->get("b")->value(), "3");
  EXPECT_FALSE(db->get("gone")->has_value());
  Stats st = db->stats();
  EXPECT_EQ(st.puts, 4u);
  EXPECT_EQ(st.removes, 1u);
  ASSERT_TRUE(db->write(WriteBatch{}));  // empty batch is a no-op
  EXPECT_EQ(db->stats().writes, st.writes);
}

TEST_F(DbBasicTest, BatchPutAndBatchGet) {
  auto db = open_db();
  std::vector<std::pair<std::string_view, std::string_view>> pairs = {{"x", "1"}, {"y", "2"}, {"z", "3"}};
  ASSERT_TRUE(db->batch_put(pairs));
  std::vector<std::string_view> keys = {"z", "missing", "x"};
  auto got = db->batch_get(keys);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0], std::optional<std::string>("3"));
  EXPECT_EQ((*got)[1], std::nullopt);
  EXPECT_EQ((*got)[2], std::optional<std::string>("1"));
  std::vector<std::string_view> bad = {"x", ""};
  EXPECT_TRUE(db->batch_get(bad).status().is_invalid_argument());
  std::vector<std::pair<std::string_view, std::string_view>> bad_pairs = {{"ok", "1"}, {"", "2"}};
  EXPECT_TRUE(db->batch_put(bad_pairs).is_invalid_argument());
  EXPECT_FALSE(db->get("ok")->has_value()) << "a rejected batch must apply nothing";
}

TEST_F(DbBasicTest, KeyAndValueLimits) {
  auto db = open_db();
  Status s = db->put("", "v");
  EXPECT_TRUE(s.is_invalid_argument());
  EXPECT_NE(s.message().find("empty key"), std::string::npos);
  EXPECT_TRUE(db->get("").status().is_invalid_argument());
  EXPECT_TRUE(db->contains("").status().is_invalid_argument());
  EXPECT_TRUE(db->remove("").is_invalid_argument());

  std::string max_key(kMaxKeySize, 'k');
  ASSERT_TRUE(db->put(max_key, "v"));
  EXPECT_EQ(db->get(max_key)->value(), "v");
  std::string long_key(kMaxKeySize + 1, 'k');
  s = db->put(long_key, "v");
  EXPECT_TRUE(s.is_invalid_argument());
  EXPECT_NE(s.message().find("kkkk"), std::string::npos) << "message names the key: " << s.message();
  EXPECT_TRUE(db->get(long_key).status().is_invalid_argument());

  std::string big(64u << 20, 'v');  // 64 MiB value must work
  ASSERT_TRUE(db->put("big", big));
  auto got = db->get("big");
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(got->value().size(), big.size());
  EXPECT_TRUE(db->put("too-big", std::string_view(big.data(), 1)).is_ok());
  WriteBatch b;
  std::string huge;
  huge.resize(kMaxValueSize + 1);
  EXPECT_TRUE(b.put("huge", huge).is_invalid_argument());
}

TEST_F(DbBasicTest, BigValueSurvivesReopen) {
  std::string big(5u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 9));
  {
    auto db = open_db();
    ASSERT_TRUE(db->put("big", big));
    ASSERT_TRUE(db->put("after", "x"));
  }
  auto db = open_db();
  EXPECT_EQ(db->get("big")->value(), big);
  EXPECT_EQ(db->get("after")->value(), "x");
}

TEST_F(DbBasicTest, ReopenKeepsDataAndSequence) {
  {
    auto db = open_db();
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(db->put("k" + std::to_string(i), std::to_string(i)));
    ASSERT_TRUE(db->remove("k7"));
  }
  {
    auto db = open_db();
    EXPECT_EQ(db->stats().wal_records_replayed, 101u);
    EXPECT_EQ(db->stats().last_sequence, 101u);
    EXPECT_EQ(db->get("k42")->value(), "42");
    EXPECT_FALSE(db->get("k7")->has_value());
    ASSERT_TRUE(db->put("k7", "back"));
  }
  auto db = open_db();
  EXPECT_EQ(db->get("k7")->value(), "back");
  EXPECT_EQ(db->stats().last_sequence, 102u);
}

TEST_F(DbBasicTest, SyncModesAllDurableAfterClose) {
  for (WalSyncMode mode : {WalSyncMode::kSync, WalSyncMode::kPeriodic, WalSyncMode::kNoSync}) {
    testing::TempDir dir;
    Config c;
    c.wal_sync_mode = mode;
    c.wal_sync_interval = std::chrono::milliseconds(5);
    {
      auto db = Database::open(dir.sub("db"), c);
      ASSERT_TRUE(db) << db.status().to_string();
      for (int i = 0; i < 50; ++i) ASSERT_TRUE((*db)->put("k" + std::to_string(i), "v"));
      ASSERT_TRUE((*db)->sync());
      if (mode == WalSyncMode::kSync) EXPECT_GE((*db)->stats().wal_syncs, 50u);
      if (mode == WalSyncMode::kNoSync) EXPECT_LE((*db)->stats().wal_syncs, 3u);
    }
    auto db = Database::open(dir.sub("db"), c);
    ASSERT_TRUE(db);
    for (int i = 0; i < 50; ++i) EXPECT_TRUE(*(*db)->contains("k" + std::to_string(i)));
  }
}

TEST_F(DbBasicTest, PeriodicModeTimerSyncs) {
  Config c;
  c.wal_sync_mode = WalSyncMode::kPeriodic;
  c.wal_sync_interval = std::chrono::milliseconds(2);
  auto db = open_db(c);
  std::uint64_t base = db->stats().wal_syncs;
  ASSERT_TRUE(db->put("a", "b"));
  // The timer thread, not the writer, performs the sync: wait for it.
  for (int i = 0; i < 5000 && db->stats().wal_syncs == base; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT(db->stats().wal_syncs, base);
}

TEST_F(DbBasicTest, ConfigValidation) {
  auto expect_bad = [&](Config c, const char* field) {
    auto db = Database::open(dir_.sub("cfg"), c);
    ASSERT_FALSE(db);
    EXPECT_TRUE(db.status().is_invalid_argument());
    EXPECT_NE(db.status().message().find(field), std::string::npos) << db.status().message();
  };
  Config c;
  c.write_batch_size = 0;
  expect_bad(c, "write_batch_size");
  c = {};
  c.write_batch_size = 1u << 20;
  expect_bad(c, "write_batch_size");
  c = {};
  c.wal_segment_size = 100;
  expect_bad(c, "wal_segment_size");
  c = {};
  c.wal_sync_mode = WalSyncMode::kPeriodic;
  c.wal_sync_interval = std::chrono::milliseconds(0);
  expect_bad(c, "wal_sync_interval");
  c = {};
  c.wal_sync_mode = static_cast<WalSyncMode>(9);
  expect_bad(c, "wal_sync_mode");
  c = {};
  c.create_if_missing = false;
  c.error_if_exists = true;
  expect_bad(c, "error_if_exists");
  for (const Config& preset : {Config::balanced(), Config::read_optimized(), Config::write_optimized(),
                               Config::low_memory(), Config::max_durability()}) {
    EXPECT_TRUE(preset.validate());
  }
  EXPECT_EQ(Config::write_optimized().wal_sync_mode, WalSyncMode::kPeriodic);
  EXPECT_EQ(Config::max_durability().wal_sync_mode, WalSyncMode::kSync);
}

TEST_F(DbBasicTest, CreateIfMissingAndErrorIfExists) {
  Config c;
  c.create_if_missing = false;
  auto none = Database::open(dir_.sub("absent"), c);
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.status().is_invalid_argument());
  EXPECT_NE(none.status().message().find("create_if_missing"), std::string::npos);
  { auto db = open_db(); }
  c = {};
  c.error_if_exists = true;
  auto exists = Database::open(dir_.sub("db"), c);
  ASSERT_FALSE(exists);
  EXPECT_TRUE(exists.status().is_invalid_argument());
  c = {};
  c.create_if_missing = false;
  EXPECT_TRUE(Database::open(dir_.sub("db"), c));
  EXPECT_FALSE(Database::open("", Config{}));
}

TEST_F(DbBasicTest, SecondOpenIsBusy) {
  auto db = open_db();
  auto second = Database::open(dir_.sub("db"), Config{});
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.status().is_busy()) << second.status().to_string();
  db.reset();
  EXPECT_TRUE(Database::open(dir_.sub("db"), Config{}));
}

// Regression: refusing a foreign directory used to leave a LOCK file in it.
TEST_F(DbBasicTest, ForeignDirectoryIsRefusedAndLeftUntouched) {
  Config c;
  c.file_system = new_in_memory_file_system();
  ASSERT_TRUE(c.file_system->create_dir("/photos"));
  auto f = c.file_system->new_writable_file("/photos/cat.jpg", FileSystem::OpenMode::kCreateNew);
  ASSERT_TRUE(f);
  auto db = Database::open("/photos", c);
  ASSERT_FALSE(db);
  EXPECT_TRUE(db.status().is_invalid_argument()) << db.status().to_string();
  EXPECT_NE(db.status().message().find("not a Lightning DB"), std::string::npos);
  auto names = c.file_system->list_dir("/photos");
  ASSERT_TRUE(names);
  EXPECT_EQ(*names, std::vector<std::string>{"cat.jpg"});
}

TEST_F(DbBasicTest, InMemoryFileSystem) {
  Config c;
  c.file_system = new_in_memory_file_system();
  {
    auto db = Database::open("/mem/db", c);
    ASSERT_FALSE(db) << "parent directory does not exist";
  }
  ASSERT_TRUE(c.file_system->create_dir("/mem"));
  {
    auto db = Database::open("/mem/db", c);
    ASSERT_TRUE(db) << db.status().to_string();
    ASSERT_TRUE((*db)->put("a", "1"));
  }
  auto db = Database::open("/mem/db", c);
  ASSERT_TRUE(db);
  EXPECT_EQ((*db)->get("a")->value(), "1");
}

TEST_F(DbBasicTest, StatsCountOperations) {
  auto db = open_db();
  ASSERT_TRUE(db->put("a", "12345"));
  ASSERT_TRUE(db->remove("a"));
  (void)db->get("a");
  (void)db->contains("a");
  Stats s = db->stats();
  EXPECT_EQ(s.puts, 1u);
  EXPECT_EQ(s.removes, 1u);
  EXPECT_EQ(s.gets, 2u);
  EXPECT_EQ(s.writes, 2u);
  EXPECT_EQ(s.user_bytes_written, 1u + 5u + 1u);
  EXPECT_GT(s.wal_bytes_written, 0u);
  EXPECT_GE(s.wal_syncs, 2u);
  EXPECT_EQ(s.commit_groups, 2u);
  EXPECT_EQ(s.max_commit_group_size, 1u);
  EXPECT_EQ(s.last_sequence, 2u);
  EXPECT_NE(s.to_string().find("wal_syncs"), std::string::npos);
}

TEST_F(DbBasicTest, StatusBasics) {
  EXPECT_TRUE(Status::ok().is_ok());
  Status c = Status::corruption("x");
  EXPECT_EQ(c.to_string(), "Corruption: x");
  EXPECT_EQ(c.with_context("file").message(), "file: x");
  Result<int> r = 5;
  EXPECT_EQ(*r, 5);
  Result<int> e = Status::busy("held");
  EXPECT_FALSE(e);
  EXPECT_TRUE(e.status().is_busy());
  EXPECT_STREQ(version_string(), "0.1.0");
}

}  // namespace
}  // namespace lightning

namespace lightning {
namespace {

TEST(DbPageStoreTest, FlushMovesDataIntoTheTreeAndDeletesWal) {
  testing::TempDir dir;
  Config c;
  c.memtable_size = 64u << 10;
  {
    auto db = Database::open(dir.sub("db"), c);
    ASSERT_TRUE(db);
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE((*db)->put("key" + std::to_string(i), std::string(100, 'v')));
    ASSERT_TRUE((*db)->flush_lsm());
    Stats s = (*db)->stats();
    EXPECT_GE(s.flushes, 2u);
    EXPECT_EQ(s.tree_entries, 5000u);
    EXPECT_GE(s.tree_height, 2u);
    EXPECT_GT(s.wal_segments_deleted, 0u);
    EXPECT_GT(s.data_bytes_written, 0u);
    ASSERT_TRUE((*db)->verify());
    ASSERT_TRUE((*db)->remove("key7"));
  }
  auto db = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(db);
  EXPECT_LT((*db)->stats().wal_records_replayed, 100u) << "flushed writes are not replayed";
  EXPECT_EQ((*db)->get("key4999")->value(), std::string(100, 'v'));
  EXPECT_FALSE((*db)->get("key7")->has_value());
  std::string out;
  auto found = (*db)->get("key42", out);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(out, std::string(100, 'v'));
  std::size_t n = 0;
  for (auto kv : (*db)->prefix("key")) {
    (void)kv;
    ++n;
  }
  EXPECT_EQ(n, 4999u);
}

TEST(DbPageStoreTest, CheckpointIsAnOpenableCopy) {
  testing::TempDir dir;
  Config c;
  c.memtable_size = 64u << 10;
  auto db = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(db);
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE((*db)->put("k" + std::to_string(i), std::to_string(i)));
  ASSERT_TRUE((*db)->checkpoint(dir.sub("copy")));
  ASSERT_TRUE((*db)->put("after", "x"));
  EXPECT_TRUE((*db)->checkpoint(dir.sub("copy")).is_invalid_argument());
  auto copy = Database::open(dir.sub("copy"), c);
  ASSERT_TRUE(copy) << copy.status().to_string();
  EXPECT_EQ((*copy)->get("k2999")->value(), "2999");
  EXPECT_FALSE((*copy)->get("after")->has_value());
  EXPECT_TRUE((*copy)->verify());
}

}  // namespace
}  // namespace lightning

namespace lightning {
namespace {

TEST(DbPinnedTest, PinnedValuesFromMemtableTreeAndOverflow) {
  testing::TempDir dir;
  auto db = Database::open(dir.sub("db"), Config{});
  ASSERT_TRUE(db);
  ASSERT_TRUE((*db)->put("tree", "in-a-leaf"));
  ASSERT_TRUE((*db)->put("big", std::string(5000, 'b')));
  ASSERT_TRUE((*db)->flush_lsm());
  ASSERT_TRUE((*db)->put("mem", "in-the-memtable"));
  PinnedValue a, b, c, d;
  ASSERT_TRUE(*(*db)->get_pinned("mem", a));
  ASSERT_TRUE(*(*db)->get_pinned("tree", b));
  ASSERT_TRUE(*(*db)->get_pinned("big", c));
  EXPECT_FALSE(*(*db)->get_pinned("absent", d));
  // Later writes and flushes do not disturb pinned views.
  ASSERT_TRUE((*db)->put("tree", "changed"));
  ASSERT_TRUE((*db)->put("mem", "changed"));
  ASSERT_TRUE((*db)->flush_lsm());
  EXPECT_EQ(a.value(), "in-the-memtable");
  EXPECT_EQ(b.value(), "in-a-leaf");
  EXPECT_EQ(c.value(), std::string(5000, 'b'));
  PinnedValue moved = std::move(c);
  EXPECT_EQ(moved.value(), std::string(5000, 'b'));
  EXPECT_TRUE(c.value().empty());
  b.reset();
  EXPECT_TRUE(b.value().empty());
  EXPECT_TRUE((*db)->get_pinned("", a).status().is_invalid_argument());
  EXPECT_TRUE(a.value().empty());
}

}  // namespace
}  // namespace lightning

namespace lightning {
namespace {

TEST(DbCompactTest, CompactShrinksTheFileAfterDeletes) {
  testing::TempDir dir;
  Config c;
  c.memtable_size = 256u << 10;
  auto db = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(db);
  char key[32];
  for (int i = 0; i < 20000; ++i) {
    std::snprintf(key, sizeof key, "key%08d", i);
    ASSERT_TRUE((*db)->put(key, std::string(100, 'v')));
  }
  ASSERT_TRUE((*db)->put("big", std::string(20000, 'b')));  // an overflow extent
  ASSERT_TRUE((*db)->flush_lsm());
  const std::uint64_t full = (*db)->stats().data_file_bytes;
  // Delete most keys, keeping every 50th (spread over the whole file).
  WriteBatch b;
  for (int i = 0; i < 20000; ++i) {
    if (i % 50 == 0) continue;
    std::snprintf(key, sizeof key, "key%08d", i);
    ASSERT_TRUE(b.remove(key));
  }
  ASSERT_TRUE((*db)->write(b));
  ASSERT_TRUE((*db)->flush_lsm());
  ASSERT_TRUE((*db)->compact());
  const Stats s = (*db)->stats();
  EXPECT_LT(s.data_file_bytes, full / 4) << "before " << full << " after " << s.data_file_bytes;
  EXPECT_EQ(s.tree_entries, 401u);
  ASSERT_TRUE((*db)->verify());
  EXPECT_EQ((*db)->get("big")->value(), std::string(20000, 'b'));
  EXPECT_EQ((*db)->get("key00000050")->value(), std::string(100, 'v'));
  EXPECT_FALSE((*db)->get("key00000051")->has_value());
  db->reset();
  auto again = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->verify());
  EXPECT_EQ((*again)->get("key00019950")->value(), std::string(100, 'v'));
}

}  // namespace
}  // namespace lightning

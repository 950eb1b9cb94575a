// Transactions: the API (RAII and id style), limits, iterators over a write
// set, and one test per anomaly asserting exactly which isolation levels
// prevent it (docs/transactions.md has the same table).
#include <gtest/gtest.h>

#include <lightning/lightning.h>

#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

using IL = IsolationLevel;
constexpr IL kLevels[] = {IL::kReadCommitted, IL::kSnapshot, IL::kSerializable};

class DbTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config c;
    c.memtable_size = 1 << 20;
    c.max_runs = 64;  // merges only through flush_lsm()
    c.merge_ratio = 100;
    auto db = Database::open(dir_.sub("db"), c);
    ASSERT_TRUE(db.has_value()) << db.status().to_string();
    db_ = std::move(*db);
  }
  Transaction begin(IL level) {
    auto t = db_->transaction(level);
    EXPECT_TRUE(t.has_value()) << t.status().to_string();
    return t ? std::move(*t) : Transaction();
  }
  std::optional<std::string> read(Transaction& t, std::string_view key) {
    auto v = t.get(key);
    EXPECT_TRUE(v.has_value()) << v.status().to_string();
    return v ? *v : std::nullopt;
  }
  std::optional<std::string> committed(std::string_view key) { return *db_->get(key); }
  static std::vector<std::string> keys_of(Transaction& t, std::string_view lo, std::string_view hi) {
    std::vector<std::string> out;
    for (auto [k, v] : t.range(lo, hi)) out.emplace_back(k);
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

// ------------------------------------------------------------------- API

TEST_F(DbTransactionTest, CommitIsAtomicAndSeesItsOwnWrites) {
  ASSERT_TRUE(db_->put("gone", "x").is_ok());
  Transaction t = begin(IL::kSnapshot);
  ASSERT_TRUE(t.active());
  ASSERT_TRUE(t.put("a", "1").is_ok());
  ASSERT_TRUE(t.put("b", "2").is_ok());
  ASSERT_TRUE(t.put("a", "3").is_ok());  // overwrite inside the transaction
  ASSERT_TRUE(t.remove("gone").is_ok());
  EXPECT_EQ(read(t, "a"), "3");
  EXPECT_EQ(read(t, "gone"), std::nullopt);
  EXPECT_EQ(t.write_count(), 3u);
  EXPECT_EQ(committed("a"), std::nullopt) << "uncommitted write visible outside";
  EXPECT_EQ(committed("gone"), "x");
  ASSERT_TRUE(t.commit().is_ok());
  EXPECT_FALSE(t.active());
  EXPECT_EQ(committed("a"), "3");
  EXPECT_EQ(committed("b"), "2");
  EXPECT_EQ(committed("gone"), std::nullopt);
  Stats st = db_->stats();
  EXPECT_EQ(st.transactions_committed, 1u);
  EXPECT_EQ(st.active_transactions, 0u);
  // Finished: every call is a clear error.
  EXPECT_TRUE(t.put("c", "1").is_invalid_argument());
  EXPECT_TRUE(t.commit().is_invalid_argument());
  EXPECT_FALSE(t.get("a").has_value());
}

TEST_F(DbTransactionTest, RollbackAndDestructionDiscardTheWriteSet) {
  {
    Transaction t = begin(IL::kSerializable);
    ASSERT_TRUE(t.put("k", "v").is_ok());
    EXPECT_EQ(db_->stats().active_transactions, 1u);
  }  // destroyed open: rolled back
  EXPECT_EQ(committed("k"), std::nullopt);
  Transaction t = begin(IL::kSnapshot);
  ASSERT_TRUE(t.put("k", "v").is_ok());
  ASSERT_TRUE(t.rollback().is_ok());
  EXPECT_TRUE(t.rollback().is_invalid_argument());
  EXPECT_EQ(committed("k"), std::nullopt);
  Stats st = db_->stats();
  EXPECT_EQ(st.transactions_rolled_back, 2u);
  EXPECT_EQ(st.active_transactions, 0u);
  // Moving a handle moves the transaction.
  Transaction a = begin(IL::kSnapshot);
  ASSERT_TRUE(a.put("m", "1").is_ok());
  Transaction b = std::move(a);
  EXPECT_FALSE(a.active());
  EXPECT_TRUE(a.put("x", "1").is_invalid_argument());
  ASSERT_TRUE(b.commit().is_ok());
  EXPECT_EQ(committed("m"), "1");
}

TEST_F(DbTransactionTest, IdStyleApi) {
  auto id = db_->begin_transaction(IL::kSerializable);
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(db_->put_tx(*id, "a", "1").is_ok());
  ASSERT_TRUE(db_->put_tx(*id, "b", "2").is_ok());
  ASSERT_TRUE(db_->delete_tx(*id, "b").is_ok());
  auto got = db_->get_tx(*id, "a");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "1");
  EXPECT_EQ(*db_->get_tx(*id, "b"), std::nullopt);
  ASSERT_TRUE(db_->commit_transaction(*id).is_ok());
  EXPECT_EQ(committed("a"), "1");
  // Finished and unknown ids: NotFound naming the id.
  Status s = db_->put_tx(*id, "c", "3");
  EXPECT_TRUE(s.is_not_found()) << s.to_string();
  EXPECT_NE(s.message().find(std::to_string(*id)), std::string::npos);
  EXPECT_TRUE(db_->commit_transaction(*id).is_not_found());
  EXPECT_TRUE(db_->rollback_transaction(9999).is_not_found());
  EXPECT_TRUE(db_->get_tx(9999, "a").status().is_not_found());
  auto id2 = db_->begin_transaction(IL::kSnapshot);
  ASSERT_TRUE(id2.has_value());
  EXPECT_NE(*id2, *id);
  ASSERT_TRUE(db_->put_tx(*id2, "z", "1").is_ok());
  ASSERT_TRUE(db_->rollback_transaction(*id2).is_ok());
  EXPECT_EQ(committed("z"), std::nullopt);
  EXPECT_EQ(db_->stats().active_transactions, 0u);
}

TEST_F(DbTransactionTest, LimitsAndBadInput) {
  testing::TempDir dir;
  Config c;
  c.max_active_transactions = 2;
  c.max_transaction_writes = 3;
  auto opened = Database::open(dir.sub("db"), c);
  ASSERT_TRUE(opened.has_value());
  auto& db = **opened;
  auto t1 = db.transaction();
  auto t2 = db.begin_transaction();
  ASSERT_TRUE(t1.has_value() && t2.has_value());
  auto t3 = db.transaction();
  ASSERT_FALSE(t3.has_value());
  EXPECT_TRUE(t3.status().is_busy()) << t3.status().to_string();
  EXPECT_TRUE(t3.status().is_retryable());
  EXPECT_NE(t3.status().message().find("max_active_transactions"), std::string::npos);
  ASSERT_TRUE(db.rollback_transaction(*t2).is_ok());
  auto t4 = db.transaction();  // a slot is free again
  ASSERT_TRUE(t4.has_value());
  ASSERT_TRUE(t1->put("a", "1").is_ok());
  ASSERT_TRUE(t1->put("b", "1").is_ok());
  ASSERT_TRUE(t1->put("c", "1").is_ok());
  ASSERT_TRUE(t1->put("a", "2").is_ok()) << "rewriting a key already in the set is not a new entry";
  Status full = t1->put("d", "1");
  EXPECT_TRUE(full.is_invalid_argument());
  EXPECT_NE(full.message().find("max_transaction_writes"), std::string::npos);
  EXPECT_TRUE(t1->put("", "v").is_invalid_argument()) << "empty key";
  auto level = db.transaction(static_cast<IL>(7));
  EXPECT_TRUE(level.status().is_invalid_argument());
  ASSERT_TRUE(t1->commit().is_ok());
  EXPECT_EQ(**db.get("a"), "2");
}

TEST_F(DbTransactionTest, IteratorMergesTheWriteSetBothWays) {
  for (const char* k : {"b", "d", "f", "h"}) ASSERT_TRUE(db_->put(k, std::string("db-") + k).is_ok());
  Transaction t = begin(IL::kSnapshot);
  ASSERT_TRUE(t.put("a", "tx-a").is_ok());
  ASSERT_TRUE(t.put("d", "tx-d").is_ok());  // shadows the database's d
  ASSERT_TRUE(t.remove("f").is_ok());       // hides f
  ASSERT_TRUE(t.put("g", "tx-g").is_ok());
  ASSERT_TRUE(t.remove("z").is_ok());  // deleting an absent key
  const std::vector<std::pair<std::string, std::string>> want = {
      {"a", "tx-a"}, {"b", "db-b"}, {"d", "tx-d"}, {"g", "tx-g"}, {"h", "db-h"}};
  auto it = t.new_iterator();
  std::vector<std::pair<std::string, std::string>> got;
  for (it->first(); it->valid(); it->next()) got.emplace_back(it->key(), it->value());
  EXPECT_EQ(got, want);
  got.clear();
  for (it->last(); it->valid(); it->prev()) got.emplace_back(it->key(), it->value());
  std::reverse(got.begin(), got.end());
  EXPECT_EQ(got, want);
  // Direction changes in the middle, seeks.
  it->seek("c");
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->key(), "d");
  it->prev();
  EXPECT_EQ(it->key(), "b");
  it->next();
  EXPECT_EQ(it->key(), "d");
  it->next();
  EXPECT_EQ(it->key(), "g");
  it->prev();
  EXPECT_EQ(it->key(), "d");
  it->seek_for_prev("f");
  EXPECT_EQ(it->key(), "d");
  it->seek_for_prev("g");
  EXPECT_EQ(it->key(), "g");
  // Bounds and prefixes.
  EXPECT_EQ(keys_of(t, "b", "h"), (std::vector<std::string>{"b", "d", "g"}));
  std::vector<std::string> pre;
  for (auto [k, v] : t.prefix("g")) pre.emplace_back(k);
  EXPECT_EQ(pre, std::vector<std::string>{"g"});
  ReadOptions bounded;
  bounded.lower_bound = "c";
  bounded.upper_bound = "h";
  auto b = t.new_iterator(bounded);
  b->last();
  ASSERT_TRUE(b->valid());
  EXPECT_EQ(b->key(), "g");
  b->first();
  EXPECT_EQ(b->key(), "d");
  b->seek_for_prev("zz");
  EXPECT_EQ(b->key(), "g");
  b->seek("a");
  EXPECT_EQ(b->key(), "d");
  // A snapshot in the options is refused: the transaction has its own.
  Snapshot s = db_->snapshot();
  ReadOptions with_snapshot;
  with_snapshot.snapshot = &s;
  auto bad = t.new_iterator(with_snapshot);
  EXPECT_FALSE(bad->valid());
  EXPECT_TRUE(bad->status().is_invalid_argument());
}

// The write-set iterator against a model: random write sets over random
// database contents, random moves, both directions (seed printed).
TEST_F(DbTransactionTest, IteratorModel) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 20; ++round) {
    std::map<std::string, std::string> model;
    auto key = [&] { return "k" + std::to_string(rng() % 40); };
    for (int i = 0; i < 25; ++i) {
      std::string k = key(), v = "db" + std::to_string(rng() % 1000);
      ASSERT_TRUE(db_->put(k, v).is_ok());
      model[k] = v;
    }
    Transaction t = begin(kLevels[round % 3]);
    for (int i = 0; i < 20; ++i) {
      std::string k = key();
      if (rng() % 3 == 0) {
        ASSERT_TRUE(t.remove(k).is_ok());
        model.erase(k);
      } else {
        std::string v = "tx" + std::to_string(rng() % 1000);
        ASSERT_TRUE(t.put(k, v).is_ok());
        model[k] = v;
      }
    }
    auto it = t.new_iterator();
    auto m = model.end();  // model position; end() = invalid
    for (int step = 0; step < 200; ++step) {
      const int op = static_cast<int>(rng() % 6);
      std::string target = key();
      if (op == 0) {
        it->first();
        m = model.begin();
      } else if (op == 1) {
        it->last();
        m = model.empty() ? model.end() : std::prev(model.end());
      } else if (op == 2) {
        it->seek(target);
        m = model.lower_bound(target);
      } else if (op == 3) {
        it->seek_for_prev(target);
        m = model.upper_bound(target);
        m = m == model.begin() ? model.end() : std::prev(m);
      } else if (op == 4 && m != model.end()) {
        it->next();
        ++m;
      } else if (op == 5 && m != model.end()) {
        it->prev();
        m = m == model.begin() ? model.end() : std::prev(m);
      } else {
        continue;
      }
      ASSERT_EQ(it->valid(), m != model.end()) << "seed " << seed << " round " << round << " step " << step;
      if (m != model.end()) {
        ASSERT_EQ(it->key(), m->first) << "seed " << seed << " round " << round << " step " << step;
        ASSERT_EQ(it->value(), m->second);
      }
    }
    ASSERT_TRUE(t.rollback().is_ok());
    for (const auto& [k, v] : model) ASSERT_TRUE(db_->remove(k).is_ok());
    auto all = db_->new_iterator();
    for (all->first(); all->valid(); all->next()) ASSERT_TRUE(db_->remove(all->key()).is_ok());
  }
}

// -------------------------------------------------------------- anomalies
//
// Each test runs the same interleaving at every level and asserts, per
// level, whether the anomaly happened.

TEST_F(DbTransactionTest, DirtyReadIsPreventedAtEveryLevel) {
  for (IL level : kLevels) {
    SCOPED_TRACE(isolation_level_name(level));
    ASSERT_TRUE(db_->put("x", "0").is_ok());
    Transaction writer = begin(IL::kSnapshot);
    ASSERT_TRUE(writer.put("x", "dirty").is_ok());
    Transaction reader = begin(level);
    EXPECT_EQ(read(reader, "x"), "0");
    EXPECT_EQ(keys_of(reader, "a", "z"), std::vector<std::string>{"x"});
    auto it = reader.new_iterator();
    it->seek("x");
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(it->value(), "0");
    ASSERT_TRUE(writer.rollback().is_ok());
    ASSERT_TRUE(reader.commit().is_ok());
  }
}

TEST_F(DbTransactionTest, NonRepeatableReadOnlyAtReadCommitted) {
  for (IL level : kLevels) {
    SCOPED_TRACE(isolation_level_name(level));
    ASSERT_TRUE(db_->put("x", "0").is_ok());
    Transaction t = begin(level);
    EXPECT_EQ(read(t, "x"), "0");
    ASSERT_TRUE(db_->put("x", "1").is_ok());  // another commit
    const auto again = read(t, "x");
    if (level == IL::kReadCommitted) {
      EXPECT_EQ(again, "1") << "ReadCommitted reads the latest committed value";
    } else {
      EXPECT_EQ(again, "0") << "the snapshot must repeat the read";
    }
    Status s = t.commit();
    // Serializable refuses even a read-only transaction whose reads changed.
    EXPECT_EQ(s.is_conflict(), level == IL::kSerializable) << s.to_string();
  }
}

TEST_F(DbTransactionTest, LostUpdateIsPreventedAboveReadCommitted) {
  for (IL level : kLevels) {
    SCOPED_TRACE(isolation_level_name(level));
    ASSERT_TRUE(db_->put("counter", "10").is_ok());
    Transaction a = begin(level);
    Transaction b = begin(level);
    const int va = std::stoi(*read(a, "counter"));
    const int vb = std::stoi(*read(b, "counter"));
    ASSERT_TRUE(a.put("counter", std::to_string(va + 1)).is_ok());
    ASSERT_TRUE(b.put("counter", std::to_string(vb + 1)).is_ok());
    ASSERT_TRUE(a.commit().is_ok());
    Status s = b.commit();
    if (level == IL::kReadCommitted) {
      EXPECT_TRUE(s.is_ok());
      EXPECT_EQ(committed("counter"), "11") << "the lost update ReadCommitted allows";
    } else {
      EXPECT_TRUE(s.is_conflict()) << s.to_string();
      EXPECT_NE(s.message().find("counter"), std::string::npos) << "the message names the key";
      EXPECT_EQ(committed("counter"), "11");
    }
  }
  EXPECT_EQ(db_->stats().transaction_conflicts, 2u);
}

TEST_F(DbTransactionTest, WriteSkewIsPreventedOnlyBySerializable) {
  for (IL level : kLevels) {
    SCOPED_TRACE(isolation_level_name(level));
    // Two doctors on call; each goes off call if the other is still on.
    ASSERT_TRUE(db_->put("alice", "on").is_ok());
    ASSERT_TRUE(db_->put("bob", "on").is_ok());
    Transaction a = begin(level);
    Transaction b = begin(level);
    ASSERT_EQ(read(a, "alice"), "on");
    ASSERT_EQ(read(a, "bob"), "on");
    ASSERT_EQ(read(b, "alice"), "on");
    ASSERT_EQ(read(b, "bob"), "on");
    ASSERT_TRUE(a.put("alice", "off").is_ok());
    ASSERT_TRUE(b.put("bob", "off").is_ok());
    ASSERT_TRUE(a.commit().is_ok());
    Status s = b.commit();
    const bool both_off = committed("alice") == "off" && committed("bob") == "off";
    if (level == IL::kSerializable) {
      EXPECT_TRUE(s.is_conflict()) << s.to_string();
      EXPECT_FALSE(both_off);
    } else {
      EXPECT_TRUE(s.is_ok()) << s.to_string();
      EXPECT_TRUE(both_off) << "the write skew this level allows";
    }
  }
}

TEST_F(DbTransactionTest, PhantomIsPreventedOnlyBySerializable) {
  for (IL level : kLevels) {
    SCOPED_TRACE(isolation_level_name(level));
    ASSERT_TRUE(db_->put("order/1", "5").is_ok());
    ASSERT_TRUE(db_->put("order/3", "7").is_ok());
    Transaction t = begin(level);
    // Sum the orders, record the total.
    int total = 0;
    for (auto [k, v] : t.prefix("order/")) total += std::stoi(std::string(v));
    ASSERT_EQ(total, 12);
    // Another commit inserts into the scanned range.
    ASSERT_TRUE(db_->put("order/2", "100").is_ok());
    int again = 0;
    for (auto [k, v] : t.prefix("order/")) again += std::stoi(std::string(v));
    EXPECT_EQ(again, level == IL::kReadCommitted ? 112 : 12);
    ASSERT_TRUE(t.put("total", std::to_string(total)).is_ok());
    Status s = t.commit();
    if (level == IL::kSerializable) {
      EXPECT_TRUE(s.is_conflict()) << s.to_string();
      EXPECT_NE(s.message().find("phantom"), std::string::npos);
    } else {
      EXPECT_TRUE(s.is_ok()) << "the phantom this level allows: " << s.to_string();
    }
    ASSERT_TRUE(db_->remove("order/2").is_ok());
    ASSERT_TRUE(db_->remove("total").is_ok());
  }
}

TEST_F(DbTransactionTest, InsertsOutsideTheScannedRangeDoNotConflict) {
  ASSERT_TRUE(db_->put("a1", "1").is_ok());
  ASSERT_TRUE(db_->put("a5", "1").is_ok());
  ASSERT_TRUE(db_->put("a9", "1").is_ok());
  Transaction t = begin(IL::kSerializable);
  auto it = t.new_iterator();
  it->seek("a2");  // examines [a2, a5]
  ASSERT_TRUE(it->valid());
  ASSERT_EQ(it->key(), "a5");
  it.reset();
  ASSERT_TRUE(db_->put("a0", "x").is_ok());  // below the range
  ASSERT_TRUE(db_->put("a7", "x").is_ok());  // above what it reached
  ASSERT_TRUE(t.put("out", "1").is_ok());
  EXPECT_TRUE(t.commit().is_ok());
  Transaction u = begin(IL::kSerializable);
  auto it2 = u.new_iterator();
  it2->seek("a2");
  it2.reset();
  ASSERT_TRUE(db_->put("a3", "x").is_ok());  // inside [a2, a5]
  ASSERT_TRUE(u.put("out", "2").is_ok());
  EXPECT_TRUE(u.commit().is_conflict());
}

// The read-only anomaly (Fekete, O'Neil, O'Neil 2004): checking x and
// savings y, both 0. T2 withdraws 10 from x, with an 1-unit penalty if
// x + y would go negative; T1 deposits 20 into y; read-only T3 reports
// after T1 committed but before T2 did. Snapshot lets T3 see (0, 20) while
// T2 charged the penalty as if T1 had not happened: no serial order gives
// both. Serializable refuses T2.
TEST_F(DbTransactionTest, ReadOnlyAnomalyIsPreventedOnlyBySerializable) {
  for (IL level : {IL::kSnapshot, IL::kSerializable}) {
    SCOPED_TRACE(isolation_level_name(level));
    ASSERT_TRUE(db_->put("x", "0").is_ok());
    ASSERT_TRUE(db_->put("y", "0").is_ok());
    Transaction t2 = begin(level);
    const int x = std::stoi(*read(t2, "x"));
    const int y = std::stoi(*read(t2, "y"));
    Transaction t1 = begin(level);
    const int y1 = std::stoi(*read(t1, "y"));
    ASSERT_TRUE(t1.put("y", std::to_string(y1 + 20)).is_ok());
    ASSERT_TRUE(t1.commit().is_ok());
    Transaction t3 = begin(level);
    const int x3 = std::stoi(*read(t3, "x"));
    const int y3 = std::stoi(*read(t3, "y"));
    EXPECT_EQ(x3, 0);
    EXPECT_EQ(y3, 20);
    ASSERT_TRUE(t3.commit().is_ok()) << "nothing T3 read has changed yet";
    ASSERT_TRUE(t2.put("x", std::to_string(x + y - 10 < 0 ? x - 11 : x - 10)).is_ok());
    Status s = t2.commit();
    if (level == IL::kSerializable) {
      EXPECT_TRUE(s.is_conflict()) << s.to_string();
      EXPECT_EQ(committed("x"), "0");
    } else {
      EXPECT_TRUE(s.is_ok());
      EXPECT_EQ(committed("x"), "-11") << "the anomaly: T3 saw the deposit, T2 charged the penalty";
    }
  }
}

// The tree keeps no sequence numbers; a transaction that lives across a
// merge is validated against the merged runs, which the database keeps (and
// their files) while such a transaction is open.
TEST_F(DbTransactionTest, ValidationSeesWritesAMergeFoldedIntoTheTree) {
  ASSERT_TRUE(db_->put("k", "0").is_ok());
  Transaction clean = begin(IL::kSerializable);
  Transaction dirty = begin(IL::kSnapshot);
  EXPECT_EQ(read(clean, "k"), "0");
  ASSERT_TRUE(clean.put("mine", "1").is_ok());
  ASSERT_TRUE(dirty.put("k", "dirty").is_ok());
  ASSERT_TRUE(db_->put("other", "1").is_ok());
  ASSERT_TRUE(db_->put("k", "theirs").is_ok());
  ASSERT_TRUE(db_->flush_lsm().is_ok());  // both writes are in the tree now
  EXPECT_EQ(db_->stats().runs, 0u);
  std::size_t run_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.sub("db"))) {
    run_files += e.path().extension() == ".run";
  }
  EXPECT_EQ(run_files, 1u) << "the merged run is kept while transactions that may need it are open";
  EXPECT_GT(db_->stats().snapshot_pinned_bytes, 0u) << "the kept run shows in stats";
  Status d = dirty.commit();
  EXPECT_TRUE(d.is_conflict()) << "a write merged into the tree was missed: " << d.to_string();
  EXPECT_NE(d.message().find("\"k\""), std::string::npos) << d.message();
  // clean read k, which changed: Serializable refuses it too.
  EXPECT_TRUE(clean.commit().is_conflict());
  // Untouched keys commit across a merge.
  Transaction t = begin(IL::kSerializable);
  EXPECT_EQ(read(t, "mine"), std::nullopt);
  ASSERT_TRUE(t.put("mine", "2").is_ok());
  ASSERT_TRUE(db_->put("unrelated", "x").is_ok());
  ASSERT_TRUE(db_->flush_lsm().is_ok());
  EXPECT_TRUE(t.commit().is_ok());
  EXPECT_EQ(committed("mine"), "2");
  // No transaction open: the merged runs' files are gone.
  run_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.sub("db"))) {
    run_files += e.path().extension() == ".run";
  }
  EXPECT_EQ(run_files, 0u);
  EXPECT_EQ(db_->stats().snapshot_pinned_bytes, 0u);
}

TEST_F(DbTransactionTest, ConflictsAreFoundInRunsAndAcrossReopen) {
  Transaction t = begin(IL::kSnapshot);
  ASSERT_TRUE(t.put("k", "mine").is_ok());
  ASSERT_TRUE(db_->put("k", "theirs").is_ok());
  // Push "theirs" from the memtable into a run (no merge): still found.
  std::string big(200, 'v');
  for (int i = 0; i < 6000; ++i) ASSERT_TRUE(db_->put("fill" + std::to_string(i), big).is_ok());
  EXPECT_GE(db_->stats().flushes, 1u);
  Status s = t.commit();
  EXPECT_TRUE(s.is_conflict()) << s.to_string();
  EXPECT_EQ(committed("k"), "theirs");
  // Committed transactions survive a reopen.
  Transaction u = begin(IL::kSerializable);
  ASSERT_TRUE(u.put("k", "after").is_ok());
  ASSERT_TRUE(u.put("k2", "after").is_ok());
  ASSERT_TRUE(u.commit().is_ok());
  db_.reset();
  Config c;
  c.max_runs = 64;
  auto db = Database::open(dir_.sub("db"), c);
  ASSERT_TRUE(db.has_value());
  EXPECT_EQ(**(*db)->get("k"), "after");
  EXPECT_EQ(**(*db)->get("k2"), "after");
}

// A transaction handle that outlives its database (a misuse): using it is
// InvalidArgument, destroying it is harmless.
TEST_F(DbTransactionTest, AHandleThatOutlivesItsDatabaseIsHarmless) {
  Transaction t = begin(IL::kSerializable);
  ASSERT_TRUE(t.put("k", "v").is_ok());
  Transaction u = begin(IL::kReadCommitted);
  db_.reset();  // closes with both open
  Status s = t.put("k2", "v");
  EXPECT_TRUE(s.is_invalid_argument()) << s.to_string();
  EXPECT_TRUE(t.commit().is_invalid_argument());
  EXPECT_FALSE(t.get("k").has_value());
  auto it = u.new_iterator();
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().is_invalid_argument());
  // t and u are destroyed here, after their database.
}

}  // namespace
}  // namespace lightning

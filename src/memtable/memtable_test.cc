#include "memtable/memtable.h"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "db/dbformat.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

using LR = MemTable::LookupResult;

std::string ikey(std::string_view user_key, SequenceNumber seq, ValueKind kind) {
  std::string out;
  append_internal_key(out, user_key, seq, kind);
  return out;
}

ParsedInternalKey parse(std::string_view k) {
  ParsedInternalKey p;
  EXPECT_TRUE(parse_internal_key(k, &p));
  return p;
}

TEST(MemTableTest, EmptyTable) {
  auto mem = MemTable::create();
  std::string v = "untouched";
  EXPECT_EQ(mem->get("a", kMaxSequenceNumber, &v), LR::kNotFound);
  EXPECT_EQ(v, "untouched");
  EXPECT_EQ(mem->entry_count(), 0u);
  auto it = mem->new_iterator();
  it->seek_to_first();
  EXPECT_FALSE(it->valid());
  it->seek_to_last();
  EXPECT_FALSE(it->valid());
  EXPECT_TRUE(it->status().is_ok());
}

TEST(MemTableTest, VersionsNewestFirst) {
  auto mem = MemTable::create();
  mem->add(1, ValueKind::kPut, "k", "v1");
  mem->add(3, ValueKind::kPut, "k", "v3");
  mem->add(2, ValueKind::kDelete, "k", "ignored");
  mem->add(4, ValueKind::kPut, "a", "va");
  mem->add(5, ValueKind::kPut, "z", "vz");
  EXPECT_EQ(mem->entry_count(), 5u);

  auto it = mem->new_iterator();
  it->seek_to_first();
  std::vector<std::pair<std::string, SequenceNumber>> seen;
  for (; it->valid(); it->next()) {
    ParsedInternalKey p = parse(it->key());
    seen.emplace_back(std::string(p.user_key), p.sequence);
  }
  std::vector<std::pair<std::string, SequenceNumber>> want = {
      {"a", 4}, {"k", 3}, {"k", 2}, {"k", 1}, {"z", 5}};
  EXPECT_EQ(seen, want);

  it->seek(ikey("k", 2, ValueKind::kPut));
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(parse(it->key()).kind, ValueKind::kDelete);
  EXPECT_EQ(it->value(), "");  // tombstones carry no value
}

TEST(MemTableTest, SnapshotReads) {
  auto mem = MemTable::create();
  mem->add(10, ValueKind::kPut, "key", "ten");
  mem->add(20, ValueKind::kPut, "key", "twenty");
  std::string v;
  EXPECT_EQ(mem->get("key", 9, &v), LR::kNotFound);
  EXPECT_EQ(mem->get("key", 10, &v), LR::kFound);
  EXPECT_EQ(v, "ten");
  EXPECT_EQ(mem->get("key", 19, &v), LR::kFound);
  EXPECT_EQ(v, "ten");
  EXPECT_EQ(mem->get("key", 20, &v), LR::kFound);
  EXPECT_EQ(v, "twenty");
  EXPECT_EQ(mem->get("key", kMaxSequenceNumber, &v), LR::kFound);
  EXPECT_EQ(v, "twenty");
  // Neighbouring keys and prefixes do not match.
  EXPECT_EQ(mem->get("ke", kMaxSequenceNumber, &v), LR::kNotFound);
  EXPECT_EQ(mem->get(std::string_view("key\0", 4), kMaxSequenceNumber, &v), LR::kNotFound);
  EXPECT_EQ(mem->get("keys", kMaxSequenceNumber, &v), LR::kNotFound);
}

TEST(MemTableTest, TombstoneHidesOlderPutButNotFromOlderSnapshots) {
  auto mem = MemTable::create();
  mem->add(5, ValueKind::kPut, "k", "old");
  mem->add(7, ValueKind::kDelete, "k", "");
  mem->add(9, ValueKind::kPut, "k", "new");
  std::string v = "sentinel";
  EXPECT_EQ(mem->get("k", 4, &v), LR::kNotFound);
  EXPECT_EQ(mem->get("k", 6, &v), LR::kFound);
  EXPECT_EQ(v, "old");
  v = "sentinel";
  EXPECT_EQ(mem->get("k", 7, &v), LR::kDeleted);
  EXPECT_EQ(mem->get("k", 8, &v), LR::kDeleted);
  EXPECT_EQ(v, "sentinel");
  EXPECT_EQ(mem->get("k", 9, &v), LR::kFound);
  EXPECT_EQ(v, "new");
}

TEST(MemTableTest, EmptyValueIsAValue) {
  auto mem = MemTable::create();
  mem->add(1, ValueKind::kPut, "k", "");
  std::string v = "not empty";
  EXPECT_EQ(mem->get("k", 1, &v), LR::kFound);
  EXPECT_EQ(v, "");  // assigned, not appended
  auto it = mem->new_iterator();
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->value(), "");
}

TEST(MemTableTest, BigValues) {
  auto mem = MemTable::create();
  std::string big(10 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>(i * 131 + 7);
  std::size_t before = mem->approximate_memory_usage();
  mem->add(1, ValueKind::kPut, "big", big);
  mem->add(2, ValueKind::kPut, "small", "s");
  EXPECT_GE(mem->approximate_memory_usage(), before + big.size());
  std::string v;
  ASSERT_EQ(mem->get("big", 1, &v), LR::kFound);
  EXPECT_TRUE(v == big);
  auto it = mem->new_iterator();
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  EXPECT_TRUE(it->value() == big);
  it->next();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->value(), "s");
}

TEST(MemTableTest, BinaryKeys) {
  auto mem = MemTable::create();
  const std::vector<std::string> keys = {
      std::string("\0", 1),   std::string("\0\0", 2),     std::string("\0\xff", 2),
      std::string("\x01", 1), std::string("a\0b", 3),     std::string("a", 1),
      std::string("\xff", 1), std::string("\xff\xff", 2), std::string("\xff\0", 2),
  };
  SequenceNumber seq = 1;
  for (const auto& k : keys) mem->add(seq++, ValueKind::kPut, k, "v:" + k);
  std::map<std::string, std::string> model;  // bytewise order
  for (const auto& k : keys) model[k] = "v:" + k;

  for (const auto& k : keys) {
    std::string v;
    ASSERT_EQ(mem->get(k, kMaxSequenceNumber, &v), LR::kFound);
    EXPECT_EQ(v, "v:" + k);
  }
  std::string unused;
  EXPECT_EQ(mem->get(std::string("\0\0\0", 3), kMaxSequenceNumber, &unused), LR::kNotFound);

  auto it = mem->new_iterator();
  it->seek_to_first();
  for (const auto& [k, v] : model) {
    ASSERT_TRUE(it->valid());
    EXPECT_EQ(extract_user_key(it->key()), k);
    EXPECT_EQ(it->value(), v);
    it->next();
  }
  EXPECT_FALSE(it->valid());
}

TEST(MemTableTest, IteratorKeepsMemTableAlive) {
  auto mem = MemTable::create();
  mem->add(1, ValueKind::kPut, "k", "v");
  auto it = mem->new_iterator();
  mem.reset();  // the iterator holds the last reference
  it->seek_to_first();
  ASSERT_TRUE(it->valid());
  EXPECT_EQ(it->value(), "v");
}

TEST(MemTableTest, MemoryUsageGrows) {
  auto mem = MemTable::create();
  std::size_t last = mem->approximate_memory_usage();
  for (int i = 0; i < 1000; i++) {
    mem->add(static_cast<SequenceNumber>(i + 1), ValueKind::kPut, "key" + std::to_string(i),
             std::string(100, 'x'));
    std::size_t now = mem->approximate_memory_usage();
    EXPECT_GE(now, last);
    last = now;
  }
  EXPECT_GE(last, 1000u * 100u);
  EXPECT_EQ(mem->entry_count(), 1000u);
}

// ---- Model test against std::map ----

struct InternalKeyLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return compare_internal_keys(a, b) < 0;
  }
};
using Model = std::map<std::string, std::string, InternalKeyLess>;

std::string random_user_key(std::mt19937_64& rng) {
  // A small alphabet with the edge bytes, so keys collide and share prefixes.
  static const char kAlphabet[] = {'\0', '\x01', 'a', 'b', '\x7f', '\x80', '\xff'};
  std::size_t len = rng() % 4 + 1;
  std::string s(len, '\0');
  for (auto& c : s) c = kAlphabet[rng() % sizeof(kAlphabet)];
  return s;
}

void expect_at(const InternalIterator& it, const Model& model, Model::const_iterator pos) {
  if (pos == model.end()) {
    ASSERT_FALSE(it.valid());
  } else {
    ASSERT_TRUE(it.valid());
    ASSERT_EQ(it.key(), pos->first);
    ASSERT_EQ(it.value(), pos->second);
  }
}

TEST(MemTableTest, RandomizedAgainstModel) {
  std::mt19937_64 rng(testing::test_seed());
  auto mem = MemTable::create();
  Model model;
  const SequenceNumber kOps = 3000;
  for (SequenceNumber seq = 1; seq <= kOps; seq++) {
    std::string k = random_user_key(rng);
    ValueKind kind = rng() % 4 == 0 ? ValueKind::kDelete : ValueKind::kPut;
    std::string v = kind == ValueKind::kPut ? testing::random_string(rng, rng() % 20) : "";
    mem->add(seq, kind, k, v);
    model[ikey(k, seq, kind)] = v;
  }
  ASSERT_EQ(mem->entry_count(), kOps);

  auto it = mem->new_iterator();
  // Full scans both ways.
  it->seek_to_first();
  for (auto m = model.begin(); m != model.end(); ++m) {
    ASSERT_NO_FATAL_FAILURE(expect_at(*it, model, m));
    it->next();
  }
  EXPECT_FALSE(it->valid());
  it->seek_to_last();
  for (auto m = model.rbegin(); m != model.rend(); ++m) {
    ASSERT_NO_FATAL_FAILURE(expect_at(*it, model, std::prev(m.base())));
    it->prev();
  }
  EXPECT_FALSE(it->valid());

  for (int round = 0; round < 1000; round++) {
    std::string target = ikey(random_user_key(rng), rng() % (kOps + 2),
                              rng() % 2 ? ValueKind::kPut : ValueKind::kDelete);
    // seek: first >= target, then a random walk.
    it->seek(target);
    auto pos = model.lower_bound(target);
    ASSERT_NO_FATAL_FAILURE(expect_at(*it, model, pos));
    for (int step = 0; step < 8 && pos != model.end(); step++) {
      if (rng() % 2 == 0) {
        it->next();
        ++pos;
      } else if (pos == model.begin()) {
        it->prev();
        ASSERT_FALSE(it->valid());
        break;
      } else {
        it->prev();
        --pos;
      }
      ASSERT_NO_FATAL_FAILURE(expect_at(*it, model, pos));
    }
    // seek_for_prev: last <= target.
    it->seek_for_prev(target);
    auto ub = model.upper_bound(target);
    if (ub == model.begin()) {
      ASSERT_FALSE(it->valid());
    } else {
      ASSERT_NO_FATAL_FAILURE(expect_at(*it, model, std::prev(ub)));
    }
  }

  // Point lookups at random snapshots.
  for (int round = 0; round < 2000; round++) {
    std::string k = random_user_key(rng);
    SequenceNumber snap = rng() % (kOps + 2);
    auto pos = model.lower_bound(ikey(k, snap, kValueKindForSeek));
    LR want = LR::kNotFound;
    if (pos != model.end() && extract_user_key(pos->first) == k) {
      want = parse(pos->first).kind == ValueKind::kPut ? LR::kFound : LR::kDeleted;
    }
    std::string v;
    ASSERT_EQ(mem->get(k, snap, &v), want) << "snapshot " << snap;
    if (want == LR::kFound) {
      ASSERT_EQ(v, pos->second);
    }
  }
}

}  // namespace
}  // namespace lightning

#include "memtable/skiplist.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <set>

#include "memtable/arena.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

struct U64Compare {
  int operator()(std::uint64_t a, std::uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};
using U64List = SkipList<std::uint64_t, U64Compare>;

TEST(SkipListTest, Empty) {
  Arena arena;
  U64List list(U64Compare{}, &arena);
  EXPECT_FALSE(list.contains(10));
  U64List::Iterator it(&list);
  EXPECT_FALSE(it.valid());
  it.seek_to_first();
  EXPECT_FALSE(it.valid());
  it.seek_to_last();
  EXPECT_FALSE(it.valid());
  it.seek(100);
  EXPECT_FALSE(it.valid());
  it.seek_for_prev(100);
  EXPECT_FALSE(it.valid());
}

TEST(SkipListTest, MatchesStdSet) {
  std::mt19937_64 rng(testing::test_seed());
  Arena arena;
  U64List list(U64Compare{}, &arena);
  std::set<std::uint64_t> model;
  for (int i = 0; i < 3000; i++) {
    std::uint64_t k = rng() % 10000;
    if (model.insert(k).second) list.insert(k);
  }
  for (std::uint64_t k = 0; k < 10000; k++) {
    ASSERT_EQ(list.contains(k), model.count(k) == 1) << k;
  }

  U64List::Iterator it(&list);
  it.seek_to_first();
  for (std::uint64_t k : model) {
    ASSERT_TRUE(it.valid());
    ASSERT_EQ(it.key(), k);
    it.next();
  }
  EXPECT_FALSE(it.valid());

  it.seek_to_last();
  for (auto r = model.rbegin(); r != model.rend(); ++r) {
    ASSERT_TRUE(it.valid());
    ASSERT_EQ(it.key(), *r);
    it.prev();
  }
  EXPECT_FALSE(it.valid());

  for (int i = 0; i < 2000; i++) {
    std::uint64_t target = rng() % 10100;
    it.seek(target);
    auto lb = model.lower_bound(target);
    if (lb == model.end()) {
      ASSERT_FALSE(it.valid());
    } else {
      ASSERT_TRUE(it.valid());
      ASSERT_EQ(it.key(), *lb);
    }
    it.seek_for_prev(target);
    auto ub = model.upper_bound(target);
    if (ub == model.begin()) {
      ASSERT_FALSE(it.valid());
    } else {
      ASSERT_TRUE(it.valid());
      ASSERT_EQ(it.key(), *std::prev(ub));
    }
  }
}

TEST(SkipListTest, BoundaryKeys) {
  Arena arena;
  U64List list(U64Compare{}, &arena);
  list.insert(0);
  list.insert(UINT64_MAX);
  U64List::Iterator it(&list);
  it.seek_for_prev(0);
  ASSERT_TRUE(it.valid());
  EXPECT_EQ(it.key(), 0u);
  it.prev();
  EXPECT_FALSE(it.valid());
  it.seek(UINT64_MAX);
  ASSERT_TRUE(it.valid());
  EXPECT_EQ(it.key(), UINT64_MAX);
  it.next();
  EXPECT_FALSE(it.valid());
  it.seek(1);
  ASSERT_TRUE(it.valid());
  EXPECT_EQ(it.key(), UINT64_MAX);
}

}  // namespace
}  // namespace lightning

#include "pagestore/page_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

TEST(PagePoolTest, PooledSizesArePowersOfTwoFrom4To64KiB) {
  for (std::size_t s : {4096u, 8192u, 16384u, 32768u, 65536u}) EXPECT_TRUE(PagePool::pooled(s)) << s;
  for (std::size_t s : {0u, 256u, 4095u, 4097u, 12288u, 131072u}) EXPECT_FALSE(PagePool::pooled(s)) << s;
}

TEST(PagePoolTest, BuffersAreDistinctWritableAndReused) {
  PagePool pool;
  EXPECT_EQ(pool.mapped_bytes(), 0u);
  std::vector<std::byte*> bufs;
  for (int i = 0; i < 1000; ++i) {  // two slabs of 4 KiB slots (511 per slab)
    std::byte* p = pool.allocate(4096);
    std::memset(p, i & 0xff, 4096);
    bufs.push_back(p);
  }
  EXPECT_EQ(std::set<std::byte*>(bufs.begin(), bufs.end()).size(), bufs.size());
  EXPECT_EQ(pool.mapped_bytes(), 2 * PagePool::kSlabSize);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(static_cast<int>(bufs[static_cast<std::size_t>(i)][4095]), i & 0xff) << i;
  }
  std::byte* last = bufs.back();
  pool.release(last);
  EXPECT_EQ(pool.allocate(4096), last) << "a freed slot is handed out again";
  for (std::byte* p : bufs) pool.release(p);
  // Both slabs are empty: one is kept as spare, the other unmapped.
  EXPECT_EQ(pool.mapped_bytes(), PagePool::kSlabSize);
}

TEST(PagePoolTest, SizeClassesDoNotShareSlabs) {
  PagePool pool;
  std::byte* a = pool.allocate(4096);
  std::byte* b = pool.allocate(65536);
  std::memset(b, 7, 65536);
  EXPECT_EQ(pool.mapped_bytes(), 2 * PagePool::kSlabSize);
  pool.release(a);
  pool.release(b);
}

TEST(PagePoolTest, ConcurrentAllocateAndReleaseFromManyThreads) {
  PagePool pool;
  const std::uint64_t seed = testing::test_seed();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, seed, t] {
      std::mt19937_64 rng(seed + static_cast<std::uint64_t>(t));
      std::vector<std::pair<std::byte*, std::size_t>> held;
      for (int i = 0; i < 5000; ++i) {
        if (held.empty() || rng() % 3 != 0) {
          const std::size_t size = std::size_t{4096} << (rng() % 3);
          std::byte* p = pool.allocate(size);
          std::memset(p, t, size);
          held.emplace_back(p, size);
        } else {
          const std::size_t i2 = rng() % held.size();
          auto [p, size] = held[i2];
          ASSERT_EQ(static_cast<int>(p[size - 1]), t);
          pool.release(p);
          held[i2] = held.back();
          held.pop_back();
        }
      }
      for (auto [p, size] : held) pool.release(p);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(pool.mapped_bytes(), 3 * PagePool::kSlabSize) << "at most one spare slab per class remains";
}

}  // namespace
}  // namespace lightning

#include "pagestore/page_pool.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

TEST(PagePoolTest, PooledSizesArePowersOfTwoFrom4To64KiB) {
  for (std::size_t s : {1u, 256u, 4095u, 4096u, 4097u, 12288u, 65536u}) EXPECT_TRUE(PagePool::pooled(s)) << s;
  for (std::size_t s : {0u, 65537u, 131072u}) EXPECT_FALSE(PagePool::pooled(s)) << s;
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
  std::byte* c = pool.allocate(5000);  // rounded up to the 8 KiB class
  std::memset(c, 8, 8192);
  EXPECT_EQ(pool.mapped_bytes(), 3 * PagePool::kSlabSize);
  std::byte* d = pool.allocate(100);  // the 4 KiB class: a's slab
  EXPECT_EQ(pool.mapped_bytes(), 3 * PagePool::kSlabSize);
  pool.release(a);
  pool.release(b);
  pool.release(c);
  pool.release(d);
}

}  // namespace
}  // namespace lightning

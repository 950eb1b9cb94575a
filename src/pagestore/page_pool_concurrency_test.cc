// PagePool under concurrent allocate/release (also run under ThreadSanitizer).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "pagestore/page_pool.h"
#include "testutil/testutil.h"

namespace lightning {
namespace {

TEST(PagePoolConcurrencyTest, ConcurrentAllocateAndReleaseFromManyThreads) {
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

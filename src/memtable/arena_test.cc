#include "memtable/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "testutil/testutil.h"

namespace lightning {
namespace {

TEST(ArenaTest, EmptyUsesNothing) {
  Arena arena;
  EXPECT_EQ(arena.memory_usage(), 0u);
}

TEST(ArenaTest, SmallAllocationsShareABlock) {
  Arena arena;
  char* a = arena.allocate(10);
  char* b = arena.allocate(20);
  EXPECT_EQ(b, a + 10);
  std::size_t usage = arena.memory_usage();
  EXPECT_GE(usage, Arena::kDefaultBlockSize);
  EXPECT_LT(usage, 2 * Arena::kDefaultBlockSize);
}

TEST(ArenaTest, AlignedAllocationsAreAligned) {
  Arena arena;
  for (int i = 0; i < 1000; i++) {
    arena.allocate(static_cast<std::size_t>(i % 7) + 1);  // misalign the cursor
    char* p = arena.allocate_aligned(static_cast<std::size_t>(i % 50) + 1);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u);
  }
}

TEST(ArenaTest, LargeRequestGetsOwnBlockAndKeepsCurrentBlock) {
  Arena arena;
  char* a = arena.allocate(100);
  std::size_t before = arena.memory_usage();
  const std::size_t big = 10 << 20;
  char* huge = arena.allocate(big);
  std::memset(huge, 0xab, big);  // ASan checks the whole range is ours
  EXPECT_GE(arena.memory_usage(), before + big);
  char* b = arena.allocate(100);
  EXPECT_EQ(b, a + 100);  // the normal block's tail is still used
}

TEST(ArenaTest, MappedBlocksForLargeBlockSizes) {
  Arena arena(1 << 20);  // >= kMapThreshold: blocks come from mmap
  EXPECT_EQ(arena.block_size(), 1u << 20);
  char* a = arena.allocate(100);
  char* b = arena.allocate_aligned(64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b) % alignof(std::max_align_t), 0u);
  EXPECT_GE(b, a + 100);
  EXPECT_GE(arena.memory_usage(), 1u << 20);
  EXPECT_LT(arena.memory_usage(), (1u << 20) + 4096);
  std::memset(a, 1, 100);
  std::memset(b, 2, 64);
  EXPECT_EQ(a[99], 1);
}

class ArenaBlockSizeTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ArenaBlockSizeTest, RandomAllocationsDoNotOverlap) {
  std::mt19937_64 rng(testing::test_seed());
  Arena arena(GetParam());
  std::vector<std::pair<char*, std::size_t>> allocs;
  std::size_t total = 0;
  for (int i = 0; i < 4000; i++) {
    std::size_t n = (i % 100 == 0) ? rng() % 20000 + 1 : rng() % 200 + 1;
    char* p = (i % 2 == 0) ? arena.allocate(n) : arena.allocate_aligned(n);
    std::memset(p, static_cast<int>(i & 0xff), n);
    allocs.emplace_back(p, n);
    total += n;
    EXPECT_GE(arena.memory_usage(), total);
  }
  for (std::size_t i = 0; i < allocs.size(); i++) {
    auto [p, n] = allocs[i];
    for (std::size_t j = 0; j < n; j++) {
      ASSERT_EQ(static_cast<unsigned char>(p[j]), i & 0xff) << "allocation " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, ArenaBlockSizeTest,
                         ::testing::Values(Arena::kDefaultBlockSize, Arena::kMapThreshold, 1u << 20));

}  // namespace
}  // namespace lightning

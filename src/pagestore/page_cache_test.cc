#include "pagestore/page_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "testutil/testutil.h"

// ---- Allocation counting (this test binary only) ----
// Every global operator new of this binary counts into g_allocations; the
// AllocationFreeLookup test reads the counter around a lookup loop. The
// ThreadSanitizer runtime defines operator new itself (a replacement would
// not link), so there the counter is off and that test is skipped.
#if defined(__SANITIZE_THREAD__)
#define LT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LT_TSAN 1
#endif
#endif

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

#if !defined(LT_TSAN)
namespace {
void* counted_malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_malloc(n); }
void* operator new[](std::size_t n) { return counted_malloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#endif

namespace lightning {
namespace {

constexpr std::size_t kPage = 256;
constexpr std::size_t kCharge = kPage + PageCache::kEntryOverhead;

std::byte pattern(const PageCacheKey& key, std::uint64_t version, std::size_t i) {
  return static_cast<std::byte>((key.file_id * 131 + key.offset * 7 + version * 29 + i) & 0xff);
}

std::unique_ptr<std::byte[]> make_page(const PageCacheKey& key, std::uint64_t version = 0,
                                       std::size_t size = kPage) {
  auto data = std::make_unique<std::byte[]>(size);
  for (std::size_t i = 0; i < size; i++) data[i] = pattern(key, version, i);
  return data;
}

// True if h holds the page make_page(key, version, size) built.
bool holds(const PageHandle& h, const PageCacheKey& key, std::uint64_t version = 0,
           std::size_t size = kPage) {
  if (!h.valid() || h.data().size() != size) return false;
  for (std::size_t i = 0; i < size; i++) {
    if (h.data()[i] != pattern(key, version, i)) return false;
  }
  return true;
}

// Inserts key (version 0, kPage bytes) and drops the returned pin.
void put(PageCache& cache, const PageCacheKey& key) {
  PageHandle h = cache.insert(key, make_page(key), kPage);
  ASSERT_TRUE(h.valid());
}

// n distinct keys of file_id that all live in shard `shard`.
std::vector<PageCacheKey> keys_in_shard(int shard, std::size_t n, std::uint64_t file_id = 1) {
  std::vector<PageCacheKey> keys;
  for (std::uint64_t off = 0; keys.size() < n; off += 4096) {
    PageCacheKey k{file_id, off};
    if (PageCache::shard_index(k) == shard) keys.push_back(k);
  }
  return keys;
}

bool cached(PageCache& cache, const PageCacheKey& key) { return cache.lookup(key).valid(); }

TEST(PageCacheTest, EmptyHandle) {
  PageHandle h;
  EXPECT_FALSE(h.valid());
  EXPECT_TRUE(h.data().empty());
  h.reset();
  EXPECT_FALSE(h.valid());
}

TEST(PageCacheTest, HitMissCounting) {
  PageCache cache(1 << 20);
  const PageCacheKey a{1, 0}, b{1, 4096};
  EXPECT_FALSE(cache.lookup(a).valid());
  put(cache, a);
  {
    PageHandle h = cache.lookup(a);
    EXPECT_TRUE(holds(h, a));
  }
  EXPECT_TRUE(cached(cache, a));
  EXPECT_FALSE(cached(cache, b));
  PageCacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.inserts, 1u);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.usage_bytes, kCharge);
  EXPECT_EQ(s.pinned_bytes, 0u);
  EXPECT_EQ(s.capacity_bytes, 1u << 20);
  EXPECT_EQ(cache.capacity(), 1u << 20);
}

TEST(PageCacheTest, ContainsNeitherCountsNorPromotes) {
  // Every shard holds 4 entries. contains() on k0 must not promote it: a
  // promoted k0 would survive and k1 would be evicted instead.
  PageCache cache(PageCache::kShards * 4 * kCharge);
  const std::vector<PageCacheKey> k = keys_in_shard(9, 5);
  for (int i = 0; i < 4; i++) put(cache, k[i]);
  const PageCacheStats before = cache.stats();
  EXPECT_TRUE(cache.contains(k[0]));
  EXPECT_FALSE(cache.contains(k[4]));
  EXPECT_EQ(cache.stats().hits, before.hits);
  EXPECT_EQ(cache.stats().misses, before.misses);
  put(cache, k[4]);  // evicts probation's least recently used entry
  EXPECT_FALSE(cache.contains(k[0]));
  EXPECT_TRUE(cache.contains(k[1]));
}

TEST(PageCacheTest, BorrowedHandleIsValidWithoutPin) {
  const std::byte bytes[3] = {std::byte{1}, std::byte{2}, std::byte{3}};
  PageHandle h = PageHandle::borrowed(bytes, sizeof bytes);
  EXPECT_TRUE(h.valid());
  EXPECT_FALSE(h.pinned());
  EXPECT_EQ(h.data().data(), bytes);
  EXPECT_EQ(h.data().size(), 3u);
  PageHandle moved = std::move(h);
  EXPECT_FALSE(h.valid());
  EXPECT_TRUE(moved.valid());
  moved.reset();
  EXPECT_FALSE(moved.valid());
  EXPECT_TRUE(moved.data().empty());
}

TEST(PageCacheTest, PooledBuffersAreReusedAcrossEvictions) {
  // 4 KiB pages from allocate() live in the cache's pool: churning through
  // many times the capacity keeps the pool near the capacity.
  constexpr std::size_t kPageBytes = 4096;
  PageCache cache(PageCache::kShards * 4 * (kPageBytes + PageCache::kEntryOverhead));
  for (std::uint64_t i = 0; i < 20'000; ++i) {
    const PageCacheKey key{3, i * kPageBytes};
    PageBuffer buf = cache.allocate(kPageBytes);
    std::memset(buf.get(), static_cast<int>(i & 0xff), kPageBytes);
    PageHandle h = cache.insert(key, std::move(buf), kPageBytes);
    ASSERT_EQ(static_cast<int>(h.data()[kPageBytes - 1]), static_cast<int>(i & 0xff));
  }
  EXPECT_LE(cache.stats().usage_bytes, cache.capacity());
  // 256 cached pages fit one slab (511 slots); allow a partial one and a spare.
  EXPECT_LE(cache.pool_mapped_bytes(), 3 * PagePool::kSlabSize);
  // Odd sizes use the smallest class that holds them.
  PageBuffer odd = cache.allocate(300);
  std::memset(odd.get(), 1, 300);
  PageHandle h = cache.insert({3, 1}, std::move(odd), 300);
  EXPECT_EQ(h.data().size(), 300u);
}

TEST(PageCacheTest, HandleMoveAndPinnedBytes) {
  PageCache cache(1 << 20);
  const PageCacheKey a{1, 0};
  PageHandle h1 = cache.insert(a, make_page(a), kPage);
  EXPECT_EQ(cache.stats().pinned_bytes, kCharge);
  PageHandle h2 = cache.lookup(a);
  EXPECT_EQ(cache.stats().pinned_bytes, kCharge);  // counted once per entry
  PageHandle h3 = std::move(h1);
  EXPECT_FALSE(h1.valid());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_TRUE(holds(h3, a));
  h2 = std::move(h3);
  EXPECT_TRUE(holds(h2, a));
  EXPECT_EQ(cache.stats().pinned_bytes, kCharge);
  h2.reset();
  EXPECT_EQ(cache.stats().pinned_bytes, 0u);
}

TEST(PageCacheTest, CapacityRespectedWhenNothingPinned) {
  const std::uint64_t seed = testing::test_seed();
  std::mt19937_64 rng(seed);
  const std::size_t capacity = PageCache::kShards * 6 * kCharge + 1000;
  PageCache cache(capacity);
  for (int i = 0; i < 5000; i++) {
    const PageCacheKey key{rng() % 4, (rng() % 2000) * 4096};
    const std::size_t size = 1 + rng() % 900;
    cache.insert(key, make_page(key, 0, size), size).reset();
    if (rng() % 3 == 0) cache.lookup(PageCacheKey{rng() % 4, (rng() % 2000) * 4096}).reset();
    ASSERT_LE(cache.stats().usage_bytes, capacity) << "i=" << i;
  }
  PageCacheStats s = cache.stats();
  EXPECT_GT(s.evictions, 0u);
  EXPECT_EQ(s.pinned_bytes, 0u);
}

TEST(PageCacheTest, EvictionOrderProbationFirst) {
  // Every shard holds 4 entries; protected holds 3 (80%).
  PageCache cache(PageCache::kShards * 4 * kCharge);
  const std::vector<PageCacheKey> k = keys_in_shard(5, 8);
  for (int i = 0; i < 4; i++) put(cache, k[i]);
  EXPECT_TRUE(cached(cache, k[1]));  // second touch: k1 -> protected
  put(cache, k[4]);                  // evicts probation's LRU: k0
  put(cache, k[5]);                  // then k2
  EXPECT_EQ(cache.stats().evictions, 2u);
  EXPECT_FALSE(cached(cache, k[0]));
  EXPECT_FALSE(cached(cache, k[2]));
  // Survivors: k1 (protected), k3, k4, k5 (probation, hits promote them).
  EXPECT_TRUE(cached(cache, k[1]));
  EXPECT_TRUE(cached(cache, k[3]));
  EXPECT_TRUE(cached(cache, k[4]));
  EXPECT_TRUE(cached(cache, k[5]));
  // Promoting k5 overflowed protected (room for 3): its LRU, k1, was demoted
  // to probation, so k1 is the next victim; k3, k4, k5 stay protected.
  put(cache, k[6]);
  EXPECT_FALSE(cached(cache, k[1]));
  EXPECT_TRUE(cached(cache, k[3]));
  EXPECT_LE(cache.stats().usage_bytes, cache.capacity());
}

TEST(PageCacheTest, ProtectedEvictedWhenProbationIsPinned) {
  PageCache cache(PageCache::kShards * 4 * kCharge);
  const std::vector<PageCacheKey> k = keys_in_shard(9, 5);
  for (int i = 0; i < 3; i++) {
    put(cache, k[i]);
    EXPECT_TRUE(cached(cache, k[i]));  // protected: k2, k1, k0 (LRU)
  }
  PageHandle p3 = cache.insert(k[3], make_page(k[3]), kPage);
  PageHandle p4 = cache.insert(k[4], make_page(k[4]), kPage);  // probation all pinned
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_FALSE(cached(cache, k[0]));
  EXPECT_TRUE(cached(cache, k[1]));
  EXPECT_TRUE(cached(cache, k[2]));
  EXPECT_TRUE(holds(p3, k[3]));
  EXPECT_TRUE(holds(p4, k[4]));
}

TEST(PageCacheTest, ScanResistance) {
  // 2000 entries of room; a hot set of 300 pages touched twice, then a
  // one-pass scan of 20000 distinct pages (10x the capacity) streams through.
  PageCache cache(2000 * kCharge);
  constexpr std::uint64_t kHot = 300;
  constexpr std::uint64_t kScan = 20000;
  auto hot = [](std::uint64_t i) { return PageCacheKey{1, i * 4096}; };
  for (int pass = 0; pass < 2; pass++) {
    for (std::uint64_t i = 0; i < kHot; i++) {
      if (!cached(cache, hot(i))) put(cache, hot(i));
    }
  }
  for (std::uint64_t i = 0; i < kScan; i++) {
    const PageCacheKey key{2, i * 4096};
    ASSERT_FALSE(cached(cache, key));
    put(cache, key);
  }
  const PageCacheStats before = cache.stats();
  EXPECT_GE(before.evictions, kScan - 2000);
  std::uint64_t hot_hits = 0;
  for (std::uint64_t i = 0; i < kHot; i++) hot_hits += cached(cache, hot(i)) ? 1 : 0;
  // A plain LRU would hit 0 here.
  EXPECT_EQ(hot_hits, kHot);
  EXPECT_EQ(cache.stats().hits - before.hits, kHot);
}

TEST(PageCacheTest, PinnedEntriesAreNotEvicted) {
  PageCache cache(PageCache::kShards * 2 * kCharge);
  const std::vector<PageCacheKey> k = keys_in_shard(3, 20);
  PageHandle pinned = cache.insert(k[0], make_page(k[0]), kPage);
  for (int i = 1; i < 20; i++) put(cache, k[i]);
  EXPECT_TRUE(holds(pinned, k[0]));
  EXPECT_TRUE(cached(cache, k[0]));
  EXPECT_LE(cache.stats().usage_bytes, cache.capacity());
}

TEST(PageCacheTest, PinsMayExceedCapacityUntilReleased) {
  PageCache cache(PageCache::kShards * 2 * kCharge);
  const std::vector<PageCacheKey> k = keys_in_shard(7, 5);
  std::vector<PageHandle> pins;
  for (const PageCacheKey& key : k) pins.push_back(cache.insert(key, make_page(key), kPage));
  // All five are pinned in a shard with room for two: all stay cached.
  EXPECT_EQ(cache.stats().usage_bytes, 5 * kCharge);
  EXPECT_EQ(cache.stats().pinned_bytes, 5 * kCharge);
  for (std::size_t i = 0; i < k.size(); i++) EXPECT_TRUE(holds(pins[i], k[i]));
  pins.clear();  // the last unpins trim the shard
  const PageCacheStats s = cache.stats();
  EXPECT_EQ(s.pinned_bytes, 0u);
  EXPECT_EQ(s.usage_bytes, 2 * kCharge);
  EXPECT_EQ(s.evictions, 3u);
}

TEST(PageCacheTest, ErasedEntryStaysValidWhilePinned) {
  PageCache cache(1 << 20);
  const PageCacheKey a{1, 0};
  put(cache, a);
  PageHandle h = cache.lookup(a);
  cache.erase(a);
  EXPECT_FALSE(cached(cache, a));
  EXPECT_TRUE(holds(h, a));  // ASan would flag a freed page here
  EXPECT_EQ(cache.stats().usage_bytes, 0u);
  EXPECT_EQ(cache.stats().pinned_bytes, kCharge);
  h.reset();
  EXPECT_EQ(cache.stats().pinned_bytes, 0u);
  cache.erase(a);  // erasing an absent key is a no-op
}

TEST(PageCacheTest, ReplacedEntryStaysValidWhilePinned) {
  PageCache cache(1 << 20);
  const PageCacheKey a{1, 0};
  PageHandle old_pin = cache.insert(a, make_page(a, 1), kPage);
  PageHandle new_pin = cache.insert(a, make_page(a, 2, 100), 100);
  EXPECT_TRUE(holds(old_pin, a, 1));
  EXPECT_TRUE(holds(new_pin, a, 2, 100));
  EXPECT_TRUE(holds(cache.lookup(a), a, 2, 100));
  EXPECT_EQ(cache.stats().usage_bytes, 100 + PageCache::kEntryOverhead);
  old_pin.reset();
  new_pin.reset();
  EXPECT_TRUE(holds(cache.lookup(a), a, 2, 100));
  EXPECT_EQ(cache.stats().pinned_bytes, 0u);
}

TEST(PageCacheTest, EraseFile) {
  PageCache cache(1 << 22);
  for (std::uint64_t f = 1; f <= 3; f++) {
    for (std::uint64_t i = 0; i < 200; i++) put(cache, PageCacheKey{f, i * 4096});
  }
  PageHandle pinned = cache.lookup(PageCacheKey{2, 0});
  cache.erase_file(2);
  for (std::uint64_t i = 0; i < 200; i++) {
    EXPECT_TRUE(cached(cache, PageCacheKey{1, i * 4096}));
    EXPECT_FALSE(cached(cache, PageCacheKey{2, i * 4096}));
    EXPECT_TRUE(cached(cache, PageCacheKey{3, i * 4096}));
  }
  EXPECT_TRUE(holds(pinned, PageCacheKey{2, 0}));
  EXPECT_EQ(cache.stats().usage_bytes, 400 * kCharge);
}

TEST(PageCacheTest, ZeroCapacityCachesNothing) {
  PageCache cache(0);
  const PageCacheKey a{1, 0};
  PageHandle h = cache.insert(a, make_page(a), kPage);
  EXPECT_TRUE(holds(h, a));
  EXPECT_FALSE(cached(cache, a));
  PageCacheStats s = cache.stats();
  EXPECT_EQ(s.usage_bytes, 0u);
  EXPECT_EQ(s.pinned_bytes, kCharge);
  EXPECT_EQ(s.inserts, 1u);
  EXPECT_EQ(s.misses, 1u);
  h.reset();
  EXPECT_EQ(cache.stats().pinned_bytes, 0u);
  // An empty page is fine too.
  PageHandle empty = cache.insert(a, std::unique_ptr<std::byte[]>(), 0);
  EXPECT_TRUE(empty.valid());
  EXPECT_TRUE(empty.data().empty());
}

TEST(PageCacheTest, PageLargerThanShardIsNotCached) {
  PageCache cache(PageCache::kShards * 1000);
  const PageCacheKey a{1, 0};
  put(cache, a);  // 256 + overhead fits in 1000
  PageHandle big = cache.insert(a, make_page(a, 1, 4096), 4096);
  EXPECT_TRUE(holds(big, a, 1, 4096));
  EXPECT_FALSE(cached(cache, a));  // the old entry was replaced, the new one is uncached
}

TEST(PageCacheTest, ManyKeysAcrossShards) {
  constexpr std::uint64_t kKeys = 20000;
  PageCache cache(kKeys * 2 * kCharge);
  std::vector<int> per_shard(PageCache::kShards, 0);
  for (std::uint64_t i = 0; i < kKeys; i++) {
    const PageCacheKey key{i % 7, (i / 7) * 4096};
    put(cache, key);
    per_shard[static_cast<std::size_t>(PageCache::shard_index(key))]++;
  }
  for (std::uint64_t i = 0; i < kKeys; i++) {
    const PageCacheKey key{i % 7, (i / 7) * 4096};
    ASSERT_TRUE(holds(cache.lookup(key), key)) << i;
  }
  const double mean = static_cast<double>(kKeys) / PageCache::kShards;
  for (int n : per_shard) {
    EXPECT_GT(n, mean * 0.75);
    EXPECT_LT(n, mean * 1.25);
  }
  PageCacheStats s = cache.stats();
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.usage_bytes, kKeys * kCharge);
  EXPECT_EQ(s.hits, kKeys);
}

TEST(PageCacheTest, AllocationFreeLookup) {
#if defined(LT_TSAN)
  GTEST_SKIP() << "operator new cannot be replaced under ThreadSanitizer";
#endif
  PageCache cache(1 << 22);
  std::vector<PageCacheKey> keys;
  for (std::uint64_t i = 0; i < 1000; i++) keys.push_back(PageCacheKey{1, i * 4096});
  for (const PageCacheKey& k : keys) put(cache, k);

  const std::uint64_t before = g_allocations.load();
  std::uint64_t sum = 0;
  for (int round = 0; round < 10; round++) {
    for (const PageCacheKey& k : keys) {
      PageHandle h = cache.lookup(k);  // hit
      sum += static_cast<std::uint64_t>(h.data()[7]);
      PageHandle moved = std::move(h);
      sum += moved.data().size();
    }
    sum += cache.lookup(PageCacheKey{9, 0}).valid() ? 1 : 0;  // miss
  }
  const std::uint64_t after = g_allocations.load();
  EXPECT_EQ(after - before, 0u);
  EXPECT_GT(sum, 0u);
  // The counter does count: an insert allocates.
  put(cache, PageCacheKey{2, 0});
  EXPECT_GT(g_allocations.load(), after);
}

}  // namespace
}  // namespace lightning

// Several threads look up, insert, erase, pin and unpin pages at random over a
// small key space in a cache far too small for it, so eviction, replacement
// and erasure race with pins. Run under ThreadSanitizer in CI (the
// _concurrency_test suffix).
//
// Every page encodes its key and a version in its header and fills its body
// with a pattern derived from both, so a pinned page that was freed, reused
// or torn is detected when it is re-checked later (ASan/TSan see the rest).
// Pins are also handed between threads, so handles are dropped on threads
// other than the one that took them.
#include "pagestore/page_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "testutil/testutil.h"
#include "util/thread_annotations.h"

namespace lightning {
namespace {

constexpr int kThreads = 4;
constexpr int kOpsPerThread = 6000;
constexpr std::uint64_t kFiles = 3;
constexpr std::uint64_t kOffsets = 40;
constexpr std::size_t kHeader = 3 * sizeof(std::uint64_t);  // file_id, offset, version

std::byte body_byte(std::uint64_t file_id, std::uint64_t offset, std::uint64_t version,
                    std::size_t i) {
  return static_cast<std::byte>((file_id * 131 + offset / 64 * 7 + version * 29 + i) & 0xff);
}

std::unique_ptr<std::byte[]> make_page(const PageCacheKey& key, std::uint64_t version,
                                       std::size_t size) {
  auto data = std::make_unique<std::byte[]>(size);
  const std::uint64_t header[3] = {key.file_id, key.offset, version};
  std::memcpy(data.get(), header, kHeader);
  for (std::size_t i = kHeader; i < size; i++)
    data[i] = body_byte(key.file_id, key.offset, version, i);
  return data;
}

// True if h holds some version of key's page, intact.
bool intact(const PageHandle& h, const PageCacheKey& key) {
  std::span<const std::byte> d = h.data();
  if (!h.valid() || d.size() < kHeader) return false;
  std::uint64_t header[3];
  std::memcpy(header, d.data(), kHeader);
  if (header[0] != key.file_id || header[1] != key.offset) return false;
  for (std::size_t i = kHeader; i < d.size(); i++) {
    if (d[i] != body_byte(key.file_id, key.offset, header[2], i)) return false;
  }
  return true;
}

struct Pin {
  PageCacheKey key;
  PageHandle handle;
};

// Pins passed between threads; whoever pops one verifies and drops it.
class PinExchange {
 public:
  void push(Pin pin) {
    MutexLock l(mu_);
    if (pins_.size() < 64) pins_.push_back(std::move(pin));
  }
  bool pop(Pin* out) {
    MutexLock l(mu_);
    if (pins_.empty()) return false;
    *out = std::move(pins_.back());
    pins_.pop_back();
    return true;
  }
  void clear() {
    MutexLock l(mu_);
    pins_.clear();
  }

 private:
  Mutex mu_;
  std::vector<Pin> pins_ GUARDED_BY(mu_);
};

TEST(PageCacheConcurrencyTest, RandomOpsKeepPinnedPagesIntact) {
  const std::uint64_t seed = testing::test_seed();
  // Room for ~1.5 pages of 300 bytes per shard: most inserts evict.
  const std::size_t capacity = PageCache::kShards * (450 + PageCache::kEntryOverhead);
  PageCache cache(capacity);
  PinExchange exchange;
  std::atomic<std::uint64_t> next_version{1};
  std::atomic<int> failures{0};

  auto worker = [&](int t) {
    std::mt19937_64 rng(seed * 7919 + static_cast<std::uint64_t>(t));
    std::vector<Pin> held;
    held.reserve(8);
    for (int op = 0; op < kOpsPerThread; op++) {
      const PageCacheKey key{rng() % kFiles, (rng() % kOffsets) * 4096};
      const unsigned dice = static_cast<unsigned>(rng() % 100);
      if (dice < 45) {  // read: look up, insert on miss, maybe keep the pin
        PageHandle h = cache.lookup(key);
        if (!h.valid()) {
          const std::size_t size = kHeader + rng() % 600;
          h = cache.insert(key, make_page(key, next_version.fetch_add(1), size), size);
        }
        if (!intact(h, key)) failures++;
        if (held.size() < 8 && rng() % 3 == 0) held.push_back(Pin{key, std::move(h)});
      } else if (dice < 60) {  // overwrite
        const std::size_t size = kHeader + rng() % 600;
        PageHandle h = cache.insert(key, make_page(key, next_version.fetch_add(1), size), size);
        if (!intact(h, key)) failures++;
      } else if (dice < 70) {
        cache.erase(key);
      } else if (dice < 71) {
        cache.erase_file(key.file_id);
      } else if (dice < 85) {  // unpin one of ours, after re-checking it
        if (!held.empty()) {
          const std::size_t i = rng() % held.size();
          if (!intact(held[i].handle, held[i].key)) failures++;
          held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
        }
      } else if (dice < 93) {  // hand one of ours to another thread
        if (!held.empty()) {
          exchange.push(std::move(held.back()));
          held.pop_back();
        }
      } else if (dice < 99) {  // take someone's pin, check it, drop it here
        Pin pin;
        if (exchange.pop(&pin) && !intact(pin.handle, pin.key)) failures++;
      } else {
        const PageCacheStats s = cache.stats();
        if (s.capacity_bytes != capacity) failures++;
      }
    }
    for (const Pin& pin : held) {
      if (!intact(pin.handle, pin.key)) failures++;
    }
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) threads.emplace_back(worker, t);
  for (std::thread& th : threads) th.join();
  exchange.clear();

  EXPECT_EQ(failures.load(), 0);
  const PageCacheStats s = cache.stats();
  EXPECT_EQ(s.pinned_bytes, 0u);
  EXPECT_LE(s.usage_bytes, capacity);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_GT(s.hits, 0u);
  for (std::uint64_t f = 0; f < kFiles; f++) {
    for (std::uint64_t o = 0; o < kOffsets; o++) {
      const PageCacheKey key{f, o * 4096};
      PageHandle h = cache.lookup(key);
      if (h.valid()) {
        EXPECT_TRUE(intact(h, key));
      }
    }
  }
}

// Many threads pin and unpin the same few keys of one tiny shard while one
// thread keeps inserting into it: exercises the unpin-triggered trim racing
// with insert-time eviction. Afterwards usage must be back under capacity.
TEST(PageCacheConcurrencyTest, UnpinTrimRacesWithInsert) {
  const std::size_t per_shard = 2 * (100 + PageCache::kEntryOverhead);
  PageCache cache(PageCache::kShards * per_shard);
  std::vector<PageCacheKey> keys;
  for (std::uint64_t off = 0; keys.size() < 6; off += 4096) {
    if (PageCache::shard_index(PageCacheKey{1, off}) == 0) keys.push_back(PageCacheKey{1, off});
  }
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; i < 3000; i++) {
      const PageCacheKey& key = keys[static_cast<std::size_t>(i) % keys.size()];
      cache.insert(key, make_page(key, static_cast<std::uint64_t>(i), 100), 100).reset();
    }
    stop = true;
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; t++) {
    readers.emplace_back([&, t] {
      std::size_t i = static_cast<std::size_t>(t);
      while (!stop.load()) {
        const PageCacheKey& key = keys[i++ % keys.size()];
        PageHandle a = cache.lookup(key);
        PageHandle b = cache.lookup(keys[i % keys.size()]);
        if (a.valid() && !intact(a, key)) failures++;
      }
    });
  }
  writer.join();
  for (std::thread& th : readers) th.join();
  EXPECT_EQ(failures.load(), 0);
  const PageCacheStats s = cache.stats();
  EXPECT_EQ(s.pinned_bytes, 0u);
  EXPECT_LE(s.usage_bytes, s.capacity_bytes);
}

}  // namespace
}  // namespace lightning

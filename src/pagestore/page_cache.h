// PageCache: a sharded, scan-resistant cache of immutable page images, keyed
// by (file_id, offset). Readers get a PageHandle, a pin that keeps the bytes
// alive and unmoved for as long as the handle lives; a cached point read
// (lookup + data() + handle destruction) does no heap allocation.
//
// Policy: segmented LRU per shard. A new entry enters the probation segment;
// a hit on a probationary entry promotes it to the protected segment (at most
// 80% of the shard's capacity; overflow is demoted back to probation).
// Eviction takes the least recently used unpinned entry of probation first,
// then of protected. A one-pass scan therefore only churns probation and
// cannot flush pages that were hit twice. See docs/page_cache.md.
//
// Thread safety: every PageCache method may be called concurrently. A
// PageHandle is used by one thread at a time but may be destroyed (unpinned)
// on any thread; unpinning takes no lock unless the shard is over capacity.
//
// Lifetime: REQUIRES every PageHandle to be destroyed or reset before the
// PageCache that produced it.
//
// Invariants:
//  1. lookup() finds only the newest entry inserted for a key, and nothing
//     after erase()/erase_file() of that key or its eviction.
//  2. The bytes of a pinned entry never change and are not freed until its
//     last handle is gone, even if the entry was erased, replaced or the
//     cache considered it for eviction.
//  3. Pinned entries are never evicted. Pins may push a shard's usage above
//     its capacity; the excess is evicted when an insert runs in that shard
//     or when the last pin of one of its entries is dropped. With no handle
//     outstanding, usage_bytes <= capacity_bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "pagestore/page_pool.h"

namespace lightning {

// One cached page image and its bookkeeping; defined in page_cache.cc.
struct CachedPage;
class PageCacheShard;

// A pin on a cached page. Movable, not copyable; releasing is destruction or
// reset(). An empty (default or moved-from) handle is !valid() and its
// data() is empty.
class PageHandle {
 public:
  PageHandle() = default;
  ~PageHandle() { reset(); }
  PageHandle(PageHandle&& other) noexcept
      : page_(other.page_), data_(other.data_), size_(other.size_) {
    other.page_ = nullptr;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  PageHandle& operator=(PageHandle&& other) noexcept {
    if (this != &other) {
      reset();
      page_ = other.page_;
      data_ = other.data_;
      size_ = other.size_;
      other.page_ = nullptr;
      other.data_ = nullptr;
      other.size_ = 0;
    }
    return *this;
  }
  PageHandle(const PageHandle&) = delete;
  PageHandle& operator=(const PageHandle&) = delete;

  // A handle on bytes the cache does not own (a page read from a memory
  // mapping): no pin; whoever hands it out keeps the bytes alive and
  // unchanged for as long as the caller may use them.
  static PageHandle borrowed(const std::byte* data, std::size_t size) {
    PageHandle h;
    h.data_ = data;
    h.size_ = size;
    return h;
  }

  // The page bytes; valid until this handle is reset, destroyed or assigned.
  std::span<const std::byte> data() const { return {data_, size_}; }
  bool valid() const { return page_ != nullptr || data_ != nullptr; }
  // True when the handle pins a cache entry (false for borrowed bytes).
  bool pinned() const { return page_ != nullptr; }
  explicit operator bool() const { return valid(); }
  // Drops the pin (no-op when empty). May free the page if it was erased,
  // replaced or evicted meanwhile.
  void reset() {
    if (page_ != nullptr) release();
    data_ = nullptr;
    size_ = 0;
  }
  // Hands the pin to an opaque holder (e.g. a public PinnedValue); the page
  // stays pinned until unpin_detached(raw). The handle becomes empty.
  // REQUIRES: pinned().
  void* detach() {
    void* raw = page_;
    page_ = nullptr;
    data_ = nullptr;
    size_ = 0;
    return raw;
  }
  static void unpin_detached(void* raw);

 private:
  friend class PageCacheShard;
  PageHandle(CachedPage* page, const std::byte* data, std::size_t size)
      : page_(page), data_(data), size_(size) {}
  void release();

  CachedPage* page_ = nullptr;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// file_id distinguishes the files that share one cache (page file, runs).
struct PageCacheKey {
  std::uint64_t file_id = 0;
  std::uint64_t offset = 0;
  friend bool operator==(const PageCacheKey&, const PageCacheKey&) = default;
};

// A snapshot of the counters, summed over shards (each shard is read
// consistently, the sum is not one atomic snapshot).
struct PageCacheStats {
  std::uint64_t hits = 0;            // lookups that returned a pin
  std::uint64_t misses = 0;          // lookups that returned an empty handle
  std::uint64_t inserts = 0;         // insert() calls
  std::uint64_t evictions = 0;       // entries dropped to make room (not erase/replace)
  std::uint64_t usage_bytes = 0;     // charge of the entries lookup() can find
  std::uint64_t pinned_bytes = 0;    // charge of entries with a live handle, cached or not
  std::uint64_t capacity_bytes = 0;  // the constructor's capacity
};

class PageCache {
 public:
  static constexpr int kShards = 64;
  // Charged per entry on top of the page size: the CachedPage record, its
  // hash bucket slot and allocator slack (checked by a static_assert).
  static constexpr std::size_t kEntryOverhead = 128;

  // capacity_bytes is split evenly over the shards. An entry whose charge
  // exceeds its shard's share is never cached: insert() returns a pin on it
  // and the bytes are freed with the last pin (so capacity 0 caches nothing).
  explicit PageCache(std::size_t capacity_bytes);
  ~PageCache();
  PageCache(const PageCache&) = delete;
  PageCache& operator=(const PageCache&) = delete;

  // A pin on the entry for key, or an empty handle on a miss.
  // No heap allocation.
  PageHandle lookup(const PageCacheKey& key);

  // Whether key is cached, without pinning it or counting a hit or miss and
  // without touching the eviction order (for read-ahead decisions).
  bool contains(const PageCacheKey& key) const;

  // Inserts data[0, size) for key, replacing any older entry for key (whose
  // pins stay valid), and returns a pin on the new entry. The charge is
  // size + kEntryOverhead. May evict unpinned entries of the same shard.
  // REQUIRES: data != nullptr || size == 0.
  PageHandle insert(const PageCacheKey& key, std::unique_ptr<std::byte[]> data, std::size_t size);
  // The same for a buffer from allocate().
  PageHandle insert(const PageCacheKey& key, PageBuffer data, std::size_t size);
  // An uninitialized buffer of `size` bytes for insert(). Page sizes (4 KiB
  // .. 64 KiB, powers of two) come from the cache's PagePool, shared by all
  // threads, so memory freed by evictions is reused by whichever thread
  // misses next and empty slabs go back to the OS; other sizes use new[].
  PageBuffer allocate(std::size_t size);
  // Bytes of pool slabs mapped (diagnostics).
  std::uint64_t pool_mapped_bytes() const { return pool_.mapped_bytes(); }

  // Removes the entry for key, if any; existing pins stay valid.
  void erase(const PageCacheKey& key);

  // Removes every entry of file_id (e.g. a deleted run file); existing pins
  // stay valid. Walks every entry of every shard: O(entries).
  void erase_file(std::uint64_t file_id);

  PageCacheStats stats() const;
  std::size_t capacity() const { return capacity_; }

  // The shard that holds key, in [0, kShards). For tests and diagnostics.
  static int shard_index(const PageCacheKey& key);

 private:
  PageCacheShard& shard_for(std::uint64_t hash) const;

  // Constant after construction.
  const std::size_t capacity_;
  PagePool pool_;  // declared before shards_: outlives the entries
  std::unique_ptr<PageCacheShard[]> shards_;
};

}  // namespace lightning

#include "pagestore/page_cache.h"

#include <atomic>
#include <bit>
#include <cassert>
#include <utility>
#include <vector>

#include "util/thread_annotations.h"

namespace lightning {

namespace {

// A node of a circular doubly-linked list with a sentinel.
struct ListNode {
  ListNode* prev = this;
  ListNode* next = this;
};

enum class Segment : std::uint8_t { kProbation, kProtected };

constexpr int kShardBits = std::countr_zero(static_cast<unsigned>(PageCache::kShards));
static_assert((1 << kShardBits) == PageCache::kShards, "kShards must be a power of two");

// The 64-bit finalizer of MurmurHash3: a bijection with full avalanche.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

// Offsets are page-aligned (low bits zero) and file ids small: mix both.
inline std::uint64_t hash_key(const PageCacheKey& k) { return mix64(k.offset + mix64(k.file_id)); }

}  // namespace

// Refcount encoding: refs == 2 * pins + (1 if the shard's table holds the
// entry). New pins are taken only under the shard mutex and only on cached
// entries, so an entry seen with refs == 1 under the mutex stays unpinned
// until the mutex is released. Whoever takes refs to 0 frees the entry.
struct CachedPage : ListNode {
  PageCacheKey key;
  std::uint64_t hash = 0;
  PageBuffer data;
  std::size_t size = 0;
  PageCacheShard* shard = nullptr;
  std::atomic<std::uint32_t> refs{0};
  // The rest is protected by shard->mu_ while the entry is cached; after
  // removal next_hash links the entries to free once the mutex is dropped.
  CachedPage* next_hash = nullptr;
  Segment segment = Segment::kProbation;

  std::size_t charge() const { return size + PageCache::kEntryOverhead; }
};
static_assert(sizeof(CachedPage) + sizeof(CachedPage*) + 16 <= PageCache::kEntryOverhead,
              "kEntryOverhead must cover the entry record, its bucket slot and malloc slack");

// One shard: a chained hash table plus the two segments of the SLRU policy.
// Aligned to a cache line so that shards do not share lines.
class alignas(64) PageCacheShard {
 public:
  PageCacheShard() = default;
  ~PageCacheShard();
  PageCacheShard(const PageCacheShard&) = delete;
  PageCacheShard& operator=(const PageCacheShard&) = delete;

  // REQUIRES: called once, before the shard is shared between threads.
  void set_capacity(std::size_t capacity) {
    capacity_ = capacity;
    protected_capacity_ = capacity - capacity / 5;
  }

  PageHandle lookup(const PageCacheKey& key, std::uint64_t hash) EXCLUDES(mu_);
  bool contains(const PageCacheKey& key, std::uint64_t hash) EXCLUDES(mu_);
  PageHandle insert(const PageCacheKey& key, std::uint64_t hash, PageBuffer data,
                    std::size_t size) EXCLUDES(mu_);
  void erase(const PageCacheKey& key, std::uint64_t hash) EXCLUDES(mu_);
  void erase_file(std::uint64_t file_id) EXCLUDES(mu_);
  void add_stats(PageCacheStats* stats) const EXCLUDES(mu_);

  // Drops one pin of e (any thread, no lock unless this shard must evict).
  static void unpin(CachedPage* e);

 private:
  static PageHandle make_handle(CachedPage* e) { return PageHandle(e, e->data.get(), e->size); }
  static void free_chain(CachedPage* e);
  static void unlink(ListNode* n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
  }
  static void push_front(ListNode* list, ListNode* n) {
    n->next = list->next;
    n->prev = list;
    list->next->prev = n;
    list->next = n;
  }

  CachedPage** find_slot_locked(const PageCacheKey& key, std::uint64_t hash) REQUIRES(mu_);
  PageHandle pin_locked(CachedPage* e) REQUIRES(mu_);
  void promote_locked(CachedPage* e) REQUIRES(mu_);
  void grow_table_locked() REQUIRES(mu_);
  // Takes e out of the table and its segment and drops the cache's
  // reference; if that was the last one, chains e onto *to_free.
  void remove_locked(CachedPage* e, CachedPage** to_free) REQUIRES(mu_);
  // Removes unpinned entries, LRU first, probation before protected, until
  // usage_ <= capacity_ or only pinned entries are left.
  void evict_locked(CachedPage** to_free) REQUIRES(mu_);
  void evict_segment_locked(ListNode* list, CachedPage** to_free) REQUIRES(mu_);

  // Constant after set_capacity().
  std::size_t capacity_ = 0;
  std::size_t protected_capacity_ = 0;

  mutable Mutex mu_;
  std::vector<CachedPage*> buckets_ GUARDED_BY(mu_) = std::vector<CachedPage*>(16, nullptr);
  std::size_t entries_ GUARDED_BY(mu_) = 0;
  ListNode probation_ GUARDED_BY(mu_);  // most recently used first
  ListNode protected_ GUARDED_BY(mu_);  // most recently used first
  std::size_t protected_usage_ GUARDED_BY(mu_) = 0;
  std::uint64_t hits_ GUARDED_BY(mu_) = 0;
  std::uint64_t misses_ GUARDED_BY(mu_) = 0;
  std::uint64_t inserts_ GUARDED_BY(mu_) = 0;
  std::uint64_t evictions_ GUARDED_BY(mu_) = 0;

  // Written under mu_, read without it by unpin(). Sequentially consistent:
  // an unpin (refs RMW, then usage_ load) and an eviction (usage_ RMW, then
  // refs load) cannot both miss each other, so an over-capacity shard is
  // always trimmed by one of them.
  std::atomic<std::size_t> usage_{0};
  // Charge of entries with at least one pin; changed without mu_ on unpin.
  std::atomic<std::uint64_t> pinned_bytes_{0};
};

PageCacheShard::~PageCacheShard() {
  MutexLock l(mu_);
  for (ListNode* list : {&probation_, &protected_}) {
    while (list->next != list) {
      auto* e = static_cast<CachedPage*>(list->next);
      assert(e->refs.load() == 1 && "a PageHandle outlived its PageCache");
      unlink(e);
      delete e;
    }
  }
}

void PageCacheShard::free_chain(CachedPage* e) {
  while (e != nullptr) {
    CachedPage* next = e->next_hash;
    delete e;
    e = next;
  }
}

CachedPage** PageCacheShard::find_slot_locked(const PageCacheKey& key, std::uint64_t hash) {
  CachedPage** slot = &buckets_[hash & (buckets_.size() - 1)];
  while (*slot != nullptr && ((*slot)->hash != hash || !((*slot)->key == key))) {
    slot = &(*slot)->next_hash;
  }
  return slot;
}

PageHandle PageCacheShard::pin_locked(CachedPage* e) {
  if (e->refs.fetch_add(2, std::memory_order_relaxed) < 2) {
    pinned_bytes_.fetch_add(e->charge(), std::memory_order_relaxed);
  }
  return make_handle(e);
}

void PageCacheShard::promote_locked(CachedPage* e) {
  unlink(e);
  push_front(&protected_, e);
  if (e->segment == Segment::kProtected) return;
  e->segment = Segment::kProtected;
  protected_usage_ += e->charge();
  // Demote protected's LRU tail back to probation's MRU head.
  while (protected_usage_ > protected_capacity_) {
    auto* victim = static_cast<CachedPage*>(protected_.prev);
    unlink(victim);
    push_front(&probation_, victim);
    victim->segment = Segment::kProbation;
    protected_usage_ -= victim->charge();
  }
}

void PageCacheShard::grow_table_locked() {
  std::vector<CachedPage*> grown(buckets_.size() * 2, nullptr);
  const std::size_t mask = grown.size() - 1;
  for (CachedPage* head : buckets_) {
    while (head != nullptr) {
      CachedPage* next = head->next_hash;
      CachedPage** slot = &grown[head->hash & mask];
      head->next_hash = *slot;
      *slot = head;
      head = next;
    }
  }
  buckets_.swap(grown);
}

void PageCacheShard::remove_locked(CachedPage* e, CachedPage** to_free) {
  CachedPage** slot = find_slot_locked(e->key, e->hash);
  assert(*slot == e);
  *slot = e->next_hash;
  entries_--;
  unlink(e);
  if (e->segment == Segment::kProtected) protected_usage_ -= e->charge();
  usage_.fetch_sub(e->charge());
  // After this, e may be freed by a concurrent unpin unless we were last.
  if (e->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    e->next_hash = *to_free;
    *to_free = e;
  }
}

void PageCacheShard::evict_segment_locked(ListNode* list, CachedPage** to_free) {
  ListNode* n = list->prev;
  while (n != list && usage_.load() > capacity_) {
    auto* e = static_cast<CachedPage*>(n);
    n = n->prev;
    if (e->refs.load() != 1) continue;  // pinned: skip, keep its position
    remove_locked(e, to_free);
    evictions_++;
  }
}

void PageCacheShard::evict_locked(CachedPage** to_free) {
  evict_segment_locked(&probation_, to_free);
  evict_segment_locked(&protected_, to_free);
}

PageHandle PageCacheShard::lookup(const PageCacheKey& key, std::uint64_t hash) {
  MutexLock l(mu_);
  CachedPage* e = *find_slot_locked(key, hash);
  if (e == nullptr) {
    misses_++;
    return PageHandle();
  }
  hits_++;
  promote_locked(e);
  return pin_locked(e);
}

bool PageCacheShard::contains(const PageCacheKey& key, std::uint64_t hash) {
  MutexLock l(mu_);
  return *find_slot_locked(key, hash) != nullptr;
}

PageHandle PageCacheShard::insert(const PageCacheKey& key, std::uint64_t hash,
                                  PageBuffer data, std::size_t size) {
  auto* e = new CachedPage;
  e->key = key;
  e->hash = hash;
  e->data = std::move(data);
  e->size = size;
  e->shard = this;
  const bool cacheable = e->charge() <= capacity_;
  e->refs.store(cacheable ? 3 : 2, std::memory_order_relaxed);  // our pin (+ the table)
  pinned_bytes_.fetch_add(e->charge(), std::memory_order_relaxed);

  CachedPage* to_free = nullptr;
  {
    MutexLock l(mu_);
    inserts_++;
    if (CachedPage* old = *find_slot_locked(key, hash)) remove_locked(old, &to_free);
    if (cacheable) {
      CachedPage** slot = &buckets_[hash & (buckets_.size() - 1)];
      e->next_hash = *slot;
      *slot = e;
      if (++entries_ > buckets_.size()) grow_table_locked();
      push_front(&probation_, e);
      usage_.fetch_add(e->charge());
      evict_locked(&to_free);
    }
  }
  free_chain(to_free);
  return make_handle(e);
}

void PageCacheShard::erase(const PageCacheKey& key, std::uint64_t hash) {
  CachedPage* to_free = nullptr;
  {
    MutexLock l(mu_);
    if (CachedPage* e = *find_slot_locked(key, hash)) remove_locked(e, &to_free);
  }
  free_chain(to_free);
}

void PageCacheShard::erase_file(std::uint64_t file_id) {
  CachedPage* to_free = nullptr;
  {
    MutexLock l(mu_);
    for (ListNode* list : {&probation_, &protected_}) {
      for (ListNode* n = list->next; n != list;) {
        auto* e = static_cast<CachedPage*>(n);
        n = n->next;
        if (e->key.file_id == file_id) remove_locked(e, &to_free);
      }
    }
  }
  free_chain(to_free);
}

void PageCacheShard::add_stats(PageCacheStats* stats) const {
  MutexLock l(mu_);
  stats->hits += hits_;
  stats->misses += misses_;
  stats->inserts += inserts_;
  stats->evictions += evictions_;
  stats->usage_bytes += usage_.load();
  stats->pinned_bytes += pinned_bytes_.load(std::memory_order_relaxed);
}

void PageCacheShard::unpin(CachedPage* e) {
  PageCacheShard* shard = e->shard;
  const std::size_t charge = e->charge();
  const std::uint32_t old = e->refs.fetch_sub(2);  // seq_cst: see usage_
  if (old >= 4) return;                            // other pins remain
  shard->pinned_bytes_.fetch_sub(charge, std::memory_order_relaxed);
  if (old == 2) {  // no longer cached and this was the last pin
    delete e;
    return;
  }
  // Still cached (e may be evicted by another thread from here on): trim the
  // shard if pins had pushed it over capacity.
  if (shard->usage_.load() > shard->capacity_) {
    CachedPage* to_free = nullptr;
    {
      MutexLock l(shard->mu_);
      shard->evict_locked(&to_free);
    }
    free_chain(to_free);
  }
}

void PageHandle::release() {
  PageCacheShard::unpin(page_);
  page_ = nullptr;
  data_ = nullptr;
  size_ = 0;
}

void PageHandle::unpin_detached(void* raw) {
  if (raw != nullptr) PageCacheShard::unpin(static_cast<CachedPage*>(raw));
}

// ---- PageCache ----

PageCache::PageCache(std::size_t capacity_bytes)
    : capacity_(capacity_bytes), shards_(new PageCacheShard[kShards]) {
  const std::size_t base = capacity_bytes / kShards;
  const std::size_t extra = capacity_bytes % kShards;
  for (std::size_t i = 0; i < kShards; i++) shards_[i].set_capacity(base + (i < extra ? 1 : 0));
}

PageCache::~PageCache() = default;

PageCacheShard& PageCache::shard_for(std::uint64_t hash) const {
  return shards_[hash >> (64 - kShardBits)];
}

int PageCache::shard_index(const PageCacheKey& key) {
  return static_cast<int>(hash_key(key) >> (64 - kShardBits));
}

PageHandle PageCache::lookup(const PageCacheKey& key) {
  const std::uint64_t hash = hash_key(key);
  return shard_for(hash).lookup(key, hash);
}

bool PageCache::contains(const PageCacheKey& key) const {
  const std::uint64_t hash = hash_key(key);
  return shard_for(hash).contains(key, hash);
}

PageHandle PageCache::insert(const PageCacheKey& key, std::unique_ptr<std::byte[]> data,
                             std::size_t size) {
  return insert(key, PageBuffer(data.release(), PageBufferDeleter{nullptr}), size);
}

PageHandle PageCache::insert(const PageCacheKey& key, PageBuffer data, std::size_t size) {
  assert(data != nullptr || size == 0);
  const std::uint64_t hash = hash_key(key);
  return shard_for(hash).insert(key, hash, std::move(data), size);
}

PageBuffer PageCache::allocate(std::size_t size) {
  if (PagePool::pooled(size)) return PageBuffer(pool_.allocate(size), PageBufferDeleter{&pool_});
  return PageBuffer(new std::byte[size], PageBufferDeleter{nullptr});
}

void PageCache::erase(const PageCacheKey& key) {
  const std::uint64_t hash = hash_key(key);
  shard_for(hash).erase(key, hash);
}

void PageCache::erase_file(std::uint64_t file_id) {
  for (int i = 0; i < kShards; i++) shards_[i].erase_file(file_id);
}

PageCacheStats PageCache::stats() const {
  PageCacheStats s;
  for (int i = 0; i < kShards; i++) shards_[i].add_stats(&s);
  s.capacity_bytes = capacity_;
  return s;
}

}  // namespace lightning

// PagePool: page-sized buffers for the page cache, carved from 2 MiB slabs
// mapped straight from the operating system.
//
// Why: cache misses allocate on reader threads and evictions free on other
// threads. With malloc, every thread's arena keeps the pages it once
// allocated (glibc does not trim per-thread arenas), so the process grows
// well past cache_size under concurrent reads. A pool shared by all threads
// reuses freed slots for any thread and returns a slab to the OS as soon as
// its last slot is freed (one empty slab per size class is kept as spare).
//
// Size classes: 4, 8, 16, 32 and 64 KiB (the legal page sizes). A request
// up to 64 KiB gets a slot of the smallest class that holds it (run blocks
// are cut to fit a class); larger ones fall back to operator new[] (handled
// by the caller through PageBuffer).
//
// Slab layout: 2 MiB aligned; slot 0 holds the SlabHeader and the free-slot
// stack; slots 1..N-1 are handed out. Never-used slots are taken in order
// (their memory is untouched until then). Under AddressSanitizer, free slots
// are poisoned.
//
// Thread safety: allocate() and release() may be called concurrently; one
// mutex per size class. Lifetime: every buffer must be released before the
// pool is destroyed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "util/thread_annotations.h"

namespace lightning {

class PagePool {
 public:
  static constexpr std::size_t kSlabSize = 2u << 20;
  static constexpr std::size_t kMinSize = 4096;
  static constexpr int kClasses = 5;  // 4 KiB .. 64 KiB

  PagePool();
  ~PagePool();
  PagePool(const PagePool&) = delete;
  PagePool& operator=(const PagePool&) = delete;

  // Whether a request of `size` bytes is served by the pool (1 .. 64 KiB).
  static bool pooled(std::size_t size) { return class_of(size) >= 0; }
  // A buffer of at least `size` bytes (uninitialized); throws std::bad_alloc
  // when the OS refuses memory. REQUIRES: pooled(size).
  std::byte* allocate(std::size_t size);
  // Returns p (from allocate()) to the pool.
  void release(std::byte* p);

  // Bytes of slabs currently mapped (including headers and spares).
  std::uint64_t mapped_bytes() const { return mapped_bytes_.load(std::memory_order_relaxed); }

 private:
  struct SlabHeader;
  struct SizeClass {
    Mutex mu;
    SlabHeader* partial GUARDED_BY(mu) = nullptr;  // slabs with a free slot
    SlabHeader* spare GUARDED_BY(mu) = nullptr;    // one empty slab kept mapped
  };
  static int class_of(std::size_t size);
  SlabHeader* new_slab(int cls);
  void unmap_slab(SlabHeader* s);

  std::unique_ptr<SizeClass[]> classes_;
  std::atomic<std::uint64_t> mapped_bytes_{0};
};

// A cache page's bytes: from a PagePool, or from new[] when pool is null.
struct PageBufferDeleter {
  PagePool* pool = nullptr;
  void operator()(std::byte* p) const {
    if (pool != nullptr) {
      pool->release(p);
    } else {
      delete[] p;
    }
  }
};
using PageBuffer = std::unique_ptr<std::byte[], PageBufferDeleter>;

}  // namespace lightning

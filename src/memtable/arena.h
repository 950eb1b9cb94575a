// Arena: a bump allocator for memtable entries and skiplist nodes. Memory is
// handed out from fixed-size blocks and released all at once when the arena
// is destroyed; there is no per-allocation free. Blocks of kMapThreshold
// bytes or more are mapped straight from the operating system (mmap), so a
// dropped memtable's memory goes back to it at once instead of staying in a
// malloc arena of whichever thread allocated it.
//
// Thread safety: allocate() and allocate_aligned() require external
// synchronization (the memtable's single writer). memory_usage() may be
// called from any thread concurrently with allocation.
//
// Invariants:
//  1. Every pointer returned stays valid and unmoved until ~Arena().
//  2. memory_usage() >= total bytes handed out; it never decreases.
//  3. Requests larger than block_size() / 4 get a block of their own, so a
//     large value wastes at most the tail of one normal block.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace lightning {

class Arena {
 public:
  static constexpr std::size_t kDefaultBlockSize = 4096;
  static constexpr std::size_t kMapThreshold = 256 * 1024;

  // REQUIRES: block_size >= 64.
  explicit Arena(std::size_t block_size = kDefaultBlockSize) : block_size_(block_size) {}
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  std::size_t block_size() const { return block_size_; }

  // Returns bytes bytes with no alignment guarantee.
  // REQUIRES: bytes > 0; external synchronization among allocating threads.
  char* allocate(std::size_t bytes);
  // Like allocate(), aligned to alignof(std::max_align_t) (at least pointer
  // alignment), suitable for objects holding std::atomic pointers.
  char* allocate_aligned(std::size_t bytes);

  // Bytes reserved from the system (blocks plus bookkeeping).
  std::size_t memory_usage() const { return memory_usage_.load(std::memory_order_relaxed); }

 private:
  char* allocate_fallback(std::size_t bytes);
  char* allocate_new_block(std::size_t block_bytes);

  struct Block {
    char* data;
    std::size_t size;
    bool mapped;  // from mmap (else from operator new[])
  };

  const std::size_t block_size_;
  // Protected by the caller's writer synchronization.
  char* alloc_ptr_ = nullptr;
  std::size_t alloc_bytes_remaining_ = 0;
  std::vector<Block> blocks_;

  // Readable by any thread.
  std::atomic<std::size_t> memory_usage_{0};
};

inline char* Arena::allocate(std::size_t bytes) {
  if (bytes <= alloc_bytes_remaining_) {
    char* result = alloc_ptr_;
    alloc_ptr_ += bytes;
    alloc_bytes_remaining_ -= bytes;
    return result;
  }
  return allocate_fallback(bytes);
}

}  // namespace lightning

#include "memtable/arena.h"

#include <sys/mman.h>

#include <cassert>
#include <cstdint>
#include <new>

namespace lightning {

namespace {
constexpr std::size_t kAlign = alignof(std::max_align_t) > sizeof(void*) ? alignof(std::max_align_t)
                                                                         : sizeof(void*);
static_assert((kAlign & (kAlign - 1)) == 0, "alignment must be a power of two");
}  // namespace

Arena::~Arena() {
  for (const Block& b : blocks_) {
    if (b.mapped) {
      ::munmap(b.data, b.size);
    } else {
      delete[] b.data;
    }
  }
}

char* Arena::allocate_aligned(std::size_t bytes) {
  std::size_t misalign = reinterpret_cast<std::uintptr_t>(alloc_ptr_) & (kAlign - 1);
  std::size_t slop = misalign == 0 ? 0 : kAlign - misalign;
  std::size_t needed = bytes + slop;
  char* result;
  if (alloc_ptr_ != nullptr && needed <= alloc_bytes_remaining_) {
    result = alloc_ptr_ + slop;
    alloc_ptr_ += needed;
    alloc_bytes_remaining_ -= needed;
  } else {
    // Fresh blocks come from operator new[], which aligns to
    // __STDCPP_DEFAULT_NEW_ALIGNMENT__ >= alignof(std::max_align_t), or from
    // mmap (page-aligned).
    result = allocate_fallback(bytes);
  }
  assert((reinterpret_cast<std::uintptr_t>(result) & (kAlign - 1)) == 0);
  return result;
}

char* Arena::allocate_fallback(std::size_t bytes) {
  assert(bytes > 0);
  if (bytes > block_size_ / 4) {
    // Large request: its own block, keep the current block's tail for later.
    return allocate_new_block(bytes);
  }
  // Start a new normal block; the old block's remainder is wasted.
  alloc_ptr_ = allocate_new_block(block_size_);
  alloc_bytes_remaining_ = block_size_;
  char* result = alloc_ptr_;
  alloc_ptr_ += bytes;
  alloc_bytes_remaining_ -= bytes;
  return result;
}

char* Arena::allocate_new_block(std::size_t block_bytes) {
  // Reserve the vector slot first so a bad_alloc cannot leak the block.
  blocks_.reserve(blocks_.size() + 1);
  Block b{nullptr, block_bytes, block_bytes >= kMapThreshold};
  if (b.mapped) {
    void* p = ::mmap(nullptr, block_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    b.data = static_cast<char*>(p);
  } else {
    b.data = new char[block_bytes];
  }
  blocks_.push_back(b);
  memory_usage_.fetch_add(block_bytes + sizeof(Block), std::memory_order_relaxed);
  return b.data;
}

}  // namespace lightning

#include "pagestore/page_pool.h"

#include <sys/mman.h>

#include <cassert>
#include <cstdint>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIGHTNING_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define LIGHTNING_ASAN 1
#endif
#if defined(LIGHTNING_ASAN)
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace lightning {

struct PagePool::SlabHeader {
  SlabHeader* prev;  // in the class's partial list
  SlabHeader* next;
  int cls;
  std::uint32_t slot_size;
  std::uint32_t slots;       // including slot 0 (this header)
  std::uint32_t used;        // slots handed out
  std::uint32_t next_fresh;  // first slot never handed out
  std::uint32_t free_count;  // entries in the free-slot stack

  std::byte* base() { return reinterpret_cast<std::byte*>(this); }
  // The free-slot stack: slots - 1 entries right after the header, in slot 0.
  std::uint16_t* free_stack() { return reinterpret_cast<std::uint16_t*>(base() + sizeof(SlabHeader)); }
  bool has_free() const { return free_count > 0 || next_fresh < slots; }
};

namespace {
constexpr std::size_t kMaxSlots = PagePool::kSlabSize / PagePool::kMinSize;  // 512
static_assert(kMaxSlots - 1 <= UINT16_MAX, "slot indexes are 16-bit");

void list_remove(auto*& head, auto* s) {
  if (s->prev != nullptr) s->prev->next = s->next;
  if (s->next != nullptr) s->next->prev = s->prev;
  if (head == s) head = s->next;
  s->prev = s->next = nullptr;
}

void list_push(auto*& head, auto* s) {
  s->prev = nullptr;
  s->next = head;
  if (head != nullptr) head->prev = s;
  head = s;
}
}  // namespace

PagePool::PagePool() : classes_(new SizeClass[kClasses]) {
  static_assert(sizeof(SlabHeader) + sizeof(std::uint16_t) * (kMaxSlots - 1) <= kMinSize,
                "the header and the free-slot stack fit slot 0");
}

PagePool::~PagePool() {
  for (int c = 0; c < kClasses; ++c) {
    SizeClass& sc = classes_[c];
    MutexLock l(sc.mu);
    // REQUIRES every buffer released: what is left is empty slabs.
    while (sc.partial != nullptr) {
      SlabHeader* s = sc.partial;
      assert(s->used == 0);
      list_remove(sc.partial, s);
      unmap_slab(s);
    }
    if (sc.spare != nullptr) unmap_slab(sc.spare);
    sc.spare = nullptr;
  }
}

int PagePool::class_of(std::size_t size) {
  if (size == 0) return -1;
  for (int c = 0; c < kClasses; ++c) {
    if (size <= (kMinSize << c)) return c;
  }
  return -1;
}

PagePool::SlabHeader* PagePool::new_slab(int cls) {
  // Map twice the slab size and keep the aligned middle, so a slot's slab is
  // found by masking its address.
  void* raw = ::mmap(nullptr, 2 * kSlabSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto addr = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (addr + kSlabSize - 1) & ~(std::uintptr_t{kSlabSize} - 1);
  if (aligned > addr) ::munmap(raw, aligned - addr);
  const std::uintptr_t end = addr + 2 * kSlabSize;
  if (end > aligned + kSlabSize) ::munmap(reinterpret_cast<void*>(aligned + kSlabSize), end - aligned - kSlabSize);
  mapped_bytes_.fetch_add(kSlabSize, std::memory_order_relaxed);

  auto* s = reinterpret_cast<SlabHeader*>(aligned);
  s->prev = s->next = nullptr;
  s->cls = cls;
  s->slot_size = static_cast<std::uint32_t>(kMinSize << cls);
  s->slots = static_cast<std::uint32_t>(kSlabSize / s->slot_size);
  s->used = 0;
  s->next_fresh = 1;
  s->free_count = 0;
  POOL_POISON(s->base() + s->slot_size, kSlabSize - s->slot_size);
  return s;
}

void PagePool::unmap_slab(SlabHeader* s) {
  POOL_UNPOISON(s->base(), kSlabSize);
  ::munmap(s->base(), kSlabSize);
  mapped_bytes_.fetch_sub(kSlabSize, std::memory_order_relaxed);
}

std::byte* PagePool::allocate(std::size_t size) {
  const int cls = class_of(size);
  assert(cls >= 0);
  SizeClass& sc = classes_[cls];
  MutexLock l(sc.mu);
  SlabHeader* s = sc.partial;
  if (s == nullptr) {
    if (sc.spare != nullptr) {
      s = sc.spare;
      sc.spare = nullptr;
    } else {
      s = new_slab(cls);
    }
    list_push(sc.partial, s);
  }
  std::uint32_t slot = s->free_count > 0 ? s->free_stack()[--s->free_count] : s->next_fresh++;
  s->used++;
  if (!s->has_free()) list_remove(sc.partial, s);
  std::byte* p = s->base() + static_cast<std::size_t>(slot) * s->slot_size;
  POOL_UNPOISON(p, s->slot_size);
  return p;
}

void PagePool::release(std::byte* p) {
  const auto addr = reinterpret_cast<std::uintptr_t>(p);
  auto* s = reinterpret_cast<SlabHeader*>(addr & ~(std::uintptr_t{kSlabSize} - 1));
  SizeClass& sc = classes_[s->cls];
  SlabHeader* to_unmap = nullptr;
  {
    MutexLock l(sc.mu);
    const bool was_full = !s->has_free();
    const auto slot = static_cast<std::uint32_t>((addr - reinterpret_cast<std::uintptr_t>(s)) / s->slot_size);
    assert(slot >= 1 && slot < s->slots);
    POOL_POISON(p, s->slot_size);
    s->free_stack()[s->free_count++] = static_cast<std::uint16_t>(slot);
    s->used--;
    if (was_full) list_push(sc.partial, s);
    if (s->used == 0) {
      list_remove(sc.partial, s);
      if (sc.spare == nullptr) {
        sc.spare = s;
      } else {
        to_unmap = s;
      }
    }
  }
  if (to_unmap != nullptr) unmap_slab(to_unmap);
}

}  // namespace lightning

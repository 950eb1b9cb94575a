// SkipList: an ordered set of keys supporting one writer and any number of
// lock-free readers (after LevelDB's design; written anew here).
//
// Thread safety:
//   insert() requires external synchronization: at most one thread inserts at
//   a time (for the memtable, the group-commit leader). contains() and
//   Iterator may run concurrently with insert() and with each other, without
//   locks; the caller keeps the SkipList (and its Arena) alive meanwhile.
//   Publication: a node is fully built (key and all next pointers) before it
//   becomes reachable, and every link is stored with release / loaded with
//   acquire, so a reader that reaches a node also sees everything the writer
//   wrote before linking it, including the bytes the key points to.
//
// Invariants:
//   1. Nodes are allocated from the Arena and never freed or unlinked while
//      the SkipList lives; a key visible to a reader stays visible.
//   2. A node's key never changes after allocation.
//   3. At every level the list is sorted strictly ascending by Comparator;
//      level i's list is a sublist of level i-1's.
//   4. Only next pointers change after publication, and only from nullptr or
//      from the old successor to a new node that sits between the two.
//   5. max_height_ only grows; levels in [old, new) of head_ point to nullptr
//      until a node is linked there.
//
// Key must be cheap to copy (e.g. const char*). Comparator is a callable
// returning <0, 0, >0, and must be safe to call concurrently.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>

#include "memtable/arena.h"

namespace lightning {

template <typename Key, class Comparator>
class SkipList {
 private:
  struct Node;

 public:
  static constexpr int kMaxHeight = 12;
  static constexpr unsigned kBranching = 4;

  // Allocates nodes from *arena, which must outlive this SkipList.
  SkipList(Comparator cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: external synchronization among writers; no equal key present.
  void insert(const Key& key);

  bool contains(const Key& key) const;

  // Thread safety: one thread at a time per Iterator; many Iterators may run
  // concurrently with insert(). An Iterator sees every node linked before its
  // positioning call and possibly some linked later.
  class Iterator {
   public:
    // Initially invalid.
    explicit Iterator(const SkipList* list) : list_(list) {}

    bool valid() const { return node_ != nullptr; }
    // REQUIRES: valid()
    const Key& key() const {
      assert(valid());
      return node_->key;
    }
    // REQUIRES: valid()
    void next() {
      assert(valid());
      node_ = node_->next(0);
    }
    // REQUIRES: valid(). There are no back links: searches for the last
    // node before key(), O(log n).
    void prev() {
      assert(valid());
      node_ = list_->find_last_before(node_->key, /*inclusive=*/false);
    }
    // First key >= target.
    void seek(const Key& target) { node_ = list_->find_greater_or_equal(target, nullptr); }
    // Last key <= target.
    void seek_for_prev(const Key& target) {
      node_ = list_->find_last_before(target, /*inclusive=*/true);
    }
    void seek_to_first() { node_ = list_->head_->next(0); }
    void seek_to_last() { node_ = list_->find_last(); }

   private:
    const SkipList* list_;
    Node* node_ = nullptr;  // nullptr (not head_) when invalid
  };

 private:
  int current_max_height() const {
    // Relaxed is enough: a reader that sees a stale (smaller) height merely
    // starts lower; one that sees a new height before the links at those
    // levels finds nullptr in head_ there and descends (invariant 5). No
    // data is reached through this value, only through acquire-loaded links.
    return max_height_.load(std::memory_order_relaxed);
  }
  int random_height();
  Node* new_node(const Key& key, int height);
  bool equal(const Key& a, const Key& b) const { return cmp_(a, b) == 0; }
  // True if key sorts after n's key (nullptr counts as +infinity).
  bool key_is_after_node(const Key& key, Node* n) const {
    return n != nullptr && cmp_(n->key, key) < 0;
  }
  // First node with key >= target, or nullptr. Fills prev[level] with the
  // last node before it at each level when prev != nullptr.
  Node* find_greater_or_equal(const Key& target, Node** prev) const;
  // Last node with key < target (inclusive: <= target), or nullptr.
  Node* find_last_before(const Key& target, bool inclusive) const;
  // Last node, or nullptr if empty.
  Node* find_last() const;

  // Constant after construction.
  Comparator const cmp_;
  Arena* const arena_;
  Node* const head_;

  // Written by the writer only, read by readers (see current_max_height()).
  std::atomic<int> max_height_{1};
  // Writer-only state.
  std::uint64_t rnd_ = 0x9e3779b97f4a7c15ULL;
};

// A node is this header followed by `height` std::atomic<Node*> links, all in
// one arena allocation.
template <typename Key, class Comparator>
struct SkipList<Key, Comparator>::Node {
  using Link = std::atomic<Node*>;
  explicit Node(const Key& k) : key(k) {}

  Key const key;

  Link* links() { return std::launder(reinterpret_cast<Link*>(this + 1)); }
  Node* next(int level) {
    assert(level >= 0);
    // Acquire: pairs with the release in set_next, so the linked node is
    // observed fully initialized.
    return links()[level].load(std::memory_order_acquire);
  }
  void set_next(int level, Node* x) {
    assert(level >= 0);
    links()[level].store(x, std::memory_order_release);
  }
  // Writer only: it reads links it wrote itself, and sets links of a node
  // that is not yet reachable, so no ordering is needed.
  Node* relaxed_next(int level) { return links()[level].load(std::memory_order_relaxed); }
  void relaxed_set_next(int level, Node* x) { links()[level].store(x, std::memory_order_relaxed); }
};

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::new_node(const Key& key,
                                                                              int height) {
  using Link = typename Node::Link;
  static_assert(sizeof(Node) % alignof(Link) == 0, "links must follow the header aligned");
  static_assert(alignof(Node) <= alignof(std::max_align_t));
  static_assert(alignof(Link) <= alignof(std::max_align_t));
  char* mem =
      arena_->allocate_aligned(sizeof(Node) + sizeof(Link) * static_cast<std::size_t>(height));
  Node* n = new (mem) Node(key);
  for (int i = 0; i < height; i++) {
    new (mem + sizeof(Node) + sizeof(Link) * static_cast<std::size_t>(i)) Link(nullptr);
  }
  return n;
}

template <typename Key, class Comparator>
SkipList<Key, Comparator>::SkipList(Comparator cmp, Arena* arena)
    : cmp_(cmp), arena_(arena), head_(new_node(Key{}, kMaxHeight)) {}

template <typename Key, class Comparator>
int SkipList<Key, Comparator>::random_height() {
  // xorshift64*: cheap, deterministic, writer-only.
  int height = 1;
  while (height < kMaxHeight) {
    rnd_ ^= rnd_ >> 12;
    rnd_ ^= rnd_ << 25;
    rnd_ ^= rnd_ >> 27;
    std::uint64_t r = rnd_ * 0x2545F4914F6CDD1DULL;
    if ((r >> 32) % kBranching != 0) break;
    height++;
  }
  return height;
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::find_greater_or_equal(
    const Key& target, Node** prev) const {
  Node* x = head_;
  int level = current_max_height() - 1;
  while (true) {
    Node* next = x->next(level);
    if (key_is_after_node(target, next)) {
      x = next;
    } else {
      if (prev != nullptr) prev[level] = x;
      if (level == 0) return next;
      level--;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::find_last_before(
    const Key& target, bool inclusive) const {
  Node* x = head_;
  int level = current_max_height() - 1;
  while (true) {
    Node* next = x->next(level);
    bool advance = false;
    if (next != nullptr) {
      int c = cmp_(next->key, target);
      advance = inclusive ? c <= 0 : c < 0;
    }
    if (advance) {
      x = next;
    } else {
      if (level == 0) return x == head_ ? nullptr : x;
      level--;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::find_last() const {
  Node* x = head_;
  int level = current_max_height() - 1;
  while (true) {
    Node* next = x->next(level);
    if (next != nullptr) {
      x = next;
    } else {
      if (level == 0) return x == head_ ? nullptr : x;
      level--;
    }
  }
}

template <typename Key, class Comparator>
void SkipList<Key, Comparator>::insert(const Key& key) {
  Node* prev[kMaxHeight];
  Node* x = find_greater_or_equal(key, prev);
  assert(x == nullptr || !equal(key, x->key));
  (void)x;

  int height = random_height();
  int old_height = current_max_height();
  if (height > old_height) {
    for (int i = old_height; i < height; i++) prev[i] = head_;
    // Relaxed: see current_max_height(). The links at the new levels are
    // published below with release stores, independently of this value.
    max_height_.store(height, std::memory_order_relaxed);
  }

  x = new_node(key, height);
  for (int i = 0; i < height; i++) {
    // x is not yet reachable, so its own links need no ordering; the release
    // store into prev[i] publishes them together with the key.
    x->relaxed_set_next(i, prev[i]->relaxed_next(i));
    prev[i]->set_next(i, x);
  }
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::contains(const Key& key) const {
  Node* x = find_greater_or_equal(key, nullptr);
  return x != nullptr && equal(key, x->key);
}

}  // namespace lightning

// B+tree reads: point lookups, iteration, verification.
#include <algorithm>
#include <optional>
#include <vector>

#include "db/dbformat.h"
#include "pagestore/btree_internal.h"

namespace lightning::pagestore {

using detail::key_loader;
using detail::load_overflow;
using detail::page_where;

Result<bool> tree_get(const PageStore& store, const TreeRoot& root, std::string_view key,
                      std::string* value) {
  PageHandle pin;
  std::string_view view;
  auto found = tree_get_pinned(store, root, key, &pin, &view, value);
  if (found && *found && view.data() != value->data()) value->assign(view);
  return found;
}

Result<std::shared_ptr<const InnerIndex>> InnerIndex::build(const PageStore& store, const TreeRoot& root,
                                                            std::size_t max_bytes) {
  auto index = std::make_shared<InnerIndex>();
  std::vector<std::pair<std::uint64_t, PageHandle>> pinned;
  // Breadth-first from the root, so the top levels are pinned first.
  std::vector<PageRef> level_refs;
  if (root.height > 1) level_refs.push_back(root.root);
  std::size_t bytes = 0;
  for (int level = root.height - 1; level >= 1 && !level_refs.empty(); --level) {
    std::vector<PageRef> next;
    for (const PageRef& ref : level_refs) {
      if (bytes + ref.length > max_bytes) break;
      auto h = store.read(ref, PageType::kInner);
      if (!h) return h.status();
      auto page = InnerPage::open(h->data(), store.path(), PageValidation::kFull);
      if (!page) return page.status().with_context(page_where(store, ref));
      if (level > 1) {
        for (std::uint32_t i = 0; i < page->count(); ++i) next.push_back(page->child(i));
      }
      bytes += ref.length;
      pinned.emplace_back(ref.page_id, std::move(*h));
    }
    level_refs = std::move(next);
  }
  std::sort(pinned.begin(), pinned.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [id, handle] : pinned) {
    index->ids_.push_back(id);
    index->pins_.push_back(std::move(handle));
  }
  return std::shared_ptr<const InnerIndex>(std::move(index));
}

std::span<const std::byte> InnerIndex::find(std::uint64_t page_id) const {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), page_id);
  if (it == ids_.end() || *it != page_id) return {};
  return pins_[static_cast<std::size_t>(it - ids_.begin())].data();
}

Result<bool> tree_get_pinned(const PageStore& store, const TreeRoot& root, std::string_view key,
                             PageHandle* pin, std::string_view* view, std::string* overflow,
                             const InnerIndex* inner) {
  if (root.height == 0) return false;
  const KeyLoader loader = key_loader(store);
  PageRef ref = root.root;
  PageHandle inner_pin;
  for (std::uint8_t level = root.height - 1; level > 0; --level) {
    std::span<const std::byte> image = inner != nullptr ? inner->find(ref.page_id) : std::span<const std::byte>();
    if (image.empty()) {
      auto h = store.read(ref, PageType::kInner);
      if (!h) return h.status();
      inner_pin = std::move(*h);
      image = inner_pin.data();
    }
    auto page = InnerPage::open(image, store.path(), PageValidation::kHeaderOnly);  // no allocation on the hot path
    if (!page) return page.status().with_context(page_where(store, ref));
    if (page->level() != level) {
      return Status::corruption(page_where(store, ref) + ": inner page has level " +
                                std::to_string(page->level()) + ", expected " + std::to_string(level));
    }
    std::uint32_t i;
    if (page->has_long_keys()) {
      auto r = page->find_child(key, loader);
      if (!r) return r.status();
      i = *r;
    } else {
      i = page->find_child(key);
    }
    ref = page->child(i);
  }
  auto h = store.read(ref, PageType::kLeaf);
  if (!h) return h.status();
  auto leaf = LeafPage::open(h->data(), store.path(), PageValidation::kHeaderOnly);
  if (!leaf) return leaf.status().with_context(page_where(store, ref));
  std::uint32_t i;
  int cmp;
  if (leaf->has_long_keys()) {
    auto r = leaf->lower_bound(key, loader);
    if (!r) return r.status();
    i = *r;
    if (i >= leaf->count()) return false;
    auto c = leaf->compare_key(i, key, loader);
    if (!c) return c.status();
    cmp = *c;
  } else {
    i = leaf->lower_bound(key);
    if (i >= leaf->count()) return false;
    cmp = leaf->compare_key(i, key);
  }
  if (cmp != 0) return false;
  if (leaf->is_overflow(i)) {
    LIGHTNING_RETURN_IF_ERROR(load_overflow(store, leaf->overflow_ref(i), overflow));
    *view = *overflow;
  } else {
    *view = leaf->inline_value(i);
    *pin = std::move(*h);
  }
  return true;
}

namespace {

// A root-to-leaf path of pinned pages. Each level keeps its page pinned so
// that the views into it stay valid.
class TreeIterator final : public InternalIterator {
 public:
  TreeIterator(const PageStore& store, const TreeRoot& root, bool prefetch)
      : store_(store), root_(root), loader_(key_loader(store)), prefetch_(prefetch) {}

  bool valid() const override { return valid_; }
  void seek_to_first() override { descend_edge(true); }
  void seek_to_last() override { descend_edge(false); }

  // Tree entries are (key, tag kTreeTag). For a target (k, T): an entry with
  // user key k sorts before the target iff kTreeTag > T (tags descend).
  static constexpr std::uint64_t kTreeTag = 1;  // pack_tag(0, kPut)
  static_assert(kTreeTag == (0u << 8 | static_cast<std::uint8_t>(ValueKind::kPut)));

  void seek(std::string_view internal_target) override {
    std::string_view user = extract_user_key(internal_target);
    const std::uint64_t tag = target_tag(internal_target);
    if (!descend_to(user)) return;
    Level& leaf = path_.back();
    std::uint32_t i = 0;
    if (!leaf_lower_bound(leaf, user, &i)) return;
    if (i < leaf.leaf->count() && tag < kTreeTag) {
      auto c = compare(leaf, i, user);
      if (!c) return fail(c.status());
      if (*c == 0) ++i;  // the entry for user sorts before the target
    }
    if (i >= leaf.leaf->count()) {
      leaf.index = leaf.leaf->count() - 1;
      advance_leaf(true);
    } else {
      leaf.index = i;
      load_current();
    }
  }

  void seek_for_prev(std::string_view internal_target) override {
    std::string_view user = extract_user_key(internal_target);
    const std::uint64_t tag = target_tag(internal_target);
    if (!descend_to(user)) return;
    Level& leaf = path_.back();
    std::uint32_t i = 0;
    if (!leaf_lower_bound(leaf, user, &i)) return;
    // i = first key >= user; the entry for user is <= target iff kTreeTag >= tag.
    bool include_equal = false;
    if (i < leaf.leaf->count()) {
      auto c = compare(leaf, i, user);
      if (!c) return fail(c.status());
      include_equal = (*c == 0) && kTreeTag >= tag;
    }
    if (include_equal) {
      leaf.index = i;
      load_current();
    } else if (i == 0) {
      leaf.index = 0;
      advance_leaf(false);
    } else {
      leaf.index = i - 1;
      load_current();
    }
  }

  void next() override {
    Level& leaf = path_.back();
    if (leaf.index + 1 < leaf.leaf->count()) {
      ++leaf.index;
      load_current();
    } else {
      advance_leaf(true);
    }
  }

  void prev() override {
    Level& leaf = path_.back();
    if (leaf.index > 0) {
      --leaf.index;
      load_current();
    } else {
      advance_leaf(false);
    }
  }

  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_view_; }
  Status status() const override { return status_; }

 private:
  struct Level {
    PageHandle handle;
    std::optional<InnerPage> inner;
    std::optional<LeafPage> leaf;
    std::uint32_t index = 0;
  };

  static std::uint64_t target_tag(std::string_view internal_target) {
    if (internal_target.size() < kInternalKeyTagSize) return 0;
    return decode_fixed64(internal_target.data() + internal_target.size() - kInternalKeyTagSize);
  }

  void fail(Status s) {
    status_ = std::move(s);
    valid_ = false;
  }

  // Loads the page at ref as level `level` (0 = leaf) into *out.
  bool load(const PageRef& ref, std::uint8_t level, Level* out) {
    PageType type = level == 0 ? PageType::kLeaf : PageType::kInner;
    auto h = store_.read(ref, type);
    if (!h) {
      fail(h.status());
      return false;
    }
    out->handle = std::move(*h);
    out->inner.reset();
    out->leaf.reset();
    if (level == 0) {
      auto p = LeafPage::open(out->handle.data(), store_.path(), PageValidation::kHeaderOnly);
      if (!p) {
        fail(p.status().with_context(page_where(store_, ref)));
        return false;
      }
      out->leaf.emplace(*p);
      if (out->leaf->count() == 0) {
        fail(Status::corruption(page_where(store_, ref) + ": empty leaf page"));
        return false;
      }
    } else {
      auto p = InnerPage::open(out->handle.data(), store_.path(), PageValidation::kHeaderOnly);
      if (!p) {
        fail(p.status().with_context(page_where(store_, ref)));
        return false;
      }
      if (p->level() != level) {
        fail(Status::corruption(page_where(store_, ref) + ": inner page has level " +
                                std::to_string(p->level()) + ", expected " + std::to_string(level)));
        return false;
      }
      out->inner.emplace(*p);
    }
    return true;
  }

  void reset_path() {
    valid_ = false;
    crossings_ = 0;  // a seek starts a new access pattern
    path_.clear();
    path_.resize(root_.height);
  }

  // Descends along the first (or last) child at every level.
  void descend_edge(bool leftmost) {
    reset_path();
    if (root_.height == 0) return;
    descend_edge_from(0, root_.root, leftmost);
  }

  // Loads ref at depth `depth` and follows the first (or last) child down to
  // a leaf, then materializes the current cell.
  void descend_edge_from(int depth, PageRef ref, bool leftmost) {
    const int leaf_depth = static_cast<int>(path_.size()) - 1;
    for (int d = depth; d <= leaf_depth; ++d) {
      std::uint8_t level = static_cast<std::uint8_t>(leaf_depth - d);
      if (!load(ref, level, &path_[static_cast<std::size_t>(d)])) return;
      Level& l = path_[static_cast<std::size_t>(d)];
      if (level > 0) {
        l.index = leftmost ? 0 : l.inner->count() - 1;
        ref = l.inner->child(l.index);
      } else {
        l.index = leftmost ? 0 : l.leaf->count() - 1;
      }
    }
    load_current();
  }

  // Descends to the leaf whose range holds user; false on error/empty tree.
  bool descend_to(std::string_view user) {
    reset_path();
    if (root_.height == 0) return false;
    PageRef ref = root_.root;
    for (int d = 0; d < root_.height; ++d) {
      std::uint8_t level = static_cast<std::uint8_t>(root_.height - 1 - d);
      if (!load(ref, level, &path_[static_cast<std::size_t>(d)])) return false;
      Level& l = path_[static_cast<std::size_t>(d)];
      if (level > 0) {
        if (l.inner->has_long_keys()) {
          auto r = l.inner->find_child(user, loader_);
          if (!r) {
            fail(r.status());
            return false;
          }
          l.index = *r;
        } else {
          l.index = l.inner->find_child(user);
        }
        ref = l.inner->child(l.index);
      }
    }
    return true;
  }

  bool leaf_lower_bound(Level& leaf, std::string_view user, std::uint32_t* i) {
    if (leaf.leaf->has_long_keys()) {
      auto r = leaf.leaf->lower_bound(user, loader_);
      if (!r) {
        fail(r.status());
        return false;
      }
      *i = *r;
    } else {
      *i = leaf.leaf->lower_bound(user);
    }
    return true;
  }

  Result<int> compare(Level& leaf, std::uint32_t i, std::string_view user) {
    if (leaf.leaf->has_long_keys()) return leaf.leaf->compare_key(i, user, loader_);
    return leaf.leaf->compare_key(i, user);
  }

  // Moves to the next (forward) or previous leaf, positioned at its first
  // (or last) cell; invalid at either end of the tree.
  void advance_leaf(bool forward) {
    int depth = static_cast<int>(path_.size()) - 1;
    // Climb to the nearest ancestor that has a sibling in that direction.
    int d = depth - 1;
    for (; d >= 0; --d) {
      Level& l = path_[static_cast<std::size_t>(d)];
      if (forward ? l.index + 1 < l.inner->count() : l.index > 0) break;
    }
    if (d < 0) {
      valid_ = false;
      return;
    }
    Level& pivot = path_[static_cast<std::size_t>(d)];
    pivot.index = forward ? pivot.index + 1 : pivot.index - 1;
    descend_edge_from(d + 1, pivot.inner->child(pivot.index), forward);
    if (prefetch_ && valid_) read_ahead(forward);
  }

  // Called after moving to a neighbouring leaf: from the
  // kPrefetchAfterCrossings-th consecutive crossing in one direction on,
  // keeps a window of the parent's next leaves advised ahead of the one just
  // entered; the window starts at kPrefetchInitialWindow leaves and doubles
  // with every top-up up to kPrefetchWindow.
  void read_ahead(bool forward) {
    if (path_.size() < 2) return;
    if (crossings_ == 0 || crossing_forward_ != forward) {
      crossings_ = 0;
      crossing_forward_ = forward;
      window_ = kPrefetchInitialWindow;
    }
    if (++crossings_ < kPrefetchAfterCrossings) return;
    const Level& parent = path_[path_.size() - 2];
    const std::uint32_t n = parent.inner->count();
    const std::uint32_t i = parent.index;
    if (parent.handle.data().data() != advised_parent_) {
      advised_parent_ = parent.handle.data().data();
      advised_edge_ = i;  // nothing advised in this parent yet
    }
    std::uint32_t from, to;
    if (forward) {
      if (advised_edge_ <= i) advised_edge_ = i + 1;  // first child not yet advised
      if (advised_edge_ >= n || advised_edge_ - i > window_ / 4) return;
      from = advised_edge_;
      to = std::min(n, i + 1 + window_);
      advised_edge_ = to;
    } else {
      if (advised_edge_ > i) advised_edge_ = i;  // lowest child advised (exclusive edge)
      if (advised_edge_ == 0 || i - advised_edge_ > window_ / 4) return;
      to = advised_edge_;
      from = i > window_ ? i - window_ : 0;
      advised_edge_ = from;
    }
    window_ = std::min(2 * window_, kPrefetchWindow);
    prefetch_refs_.clear();
    for (std::uint32_t c = from; c < to; ++c) prefetch_refs_.push_back(parent.inner->child(c));
    store_.prefetch(prefetch_refs_);
  }

  // Materializes key_ (internal key, tag 0) and the value of the current cell.
  void load_current() {
    Level& leaf = path_.back();
    const std::uint32_t i = leaf.index;
    Status s;
    if (leaf.leaf->is_long_key(i)) {
      s = leaf.leaf->key(i, &key_, loader_);
    } else {
      leaf.leaf->key(i, &key_);
    }
    if (!s.is_ok()) return fail(s);
    put_fixed64(key_, pack_tag(0, ValueKind::kPut));
    if (leaf.leaf->is_overflow(i)) {
      s = load_overflow(store_, leaf.leaf->overflow_ref(i), &value_);
      if (!s.is_ok()) return fail(s);
      value_view_ = value_;
    } else {
      value_view_ = leaf.leaf->inline_value(i);
    }
    valid_ = true;
  }

  const PageStore& store_;
  const TreeRoot root_;
  const KeyLoader loader_;
  const bool prefetch_;
  int crossings_ = 0;               // consecutive leaf crossings in one direction
  std::uint32_t window_ = kPrefetchInitialWindow;  // leaves to keep advised ahead
  bool crossing_forward_ = true;
  const void* advised_parent_ = nullptr;  // the parent whose children were advised
  std::uint32_t advised_edge_ = 0;  // forward: first child not advised; backward: lowest advised
  std::vector<PageRef> prefetch_refs_;
  std::vector<Level> path_;  // path_[0] = root, path_.back() = leaf
  bool valid_ = false;
  std::string key_;
  std::string value_;
  std::string_view value_view_;
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> new_tree_iterator(const PageStore& store, const TreeRoot& root,
                                                    bool prefetch) {
  return std::make_unique<TreeIterator>(store, root, prefetch);
}

namespace {

// Recursive checker: every key of the subtree at ref lies in [lower, upper).
class TreeVerifier {
 public:
  TreeVerifier(const PageStore& store) : store_(store), loader_(key_loader(store)) {}

  Status check(const PageRef& ref, std::uint8_t level, const std::optional<std::string>& lower,
               const std::optional<std::string>& upper) {
    ++pages_;
    const std::string where = page_where(store_, ref);
    std::string image;
    if (level == 0) {
      LIGHTNING_RETURN_IF_ERROR(store_.read_uncached(ref, PageType::kLeaf, &image));
      auto leaf = LeafPage::open(std::as_bytes(std::span(image.data(), image.size())), where);
      if (!leaf) return leaf.status();
      if (leaf->count() == 0) return Status::corruption(where + ": empty leaf");
      std::string key, prev;
      for (std::uint32_t i = 0; i < leaf->count(); ++i) {
        LIGHTNING_RETURN_IF_ERROR(leaf->key(i, &key, loader_));
        if (i > 0 && key <= prev) return Status::corruption(where + ": keys out of order at cell " + std::to_string(i));
        if ((lower && key < *lower) || (upper && key >= *upper)) {
          return Status::corruption(where + ": key at cell " + std::to_string(i) +
                                    " lies outside the range its parent gives");
        }
        if (leaf->is_overflow(i)) {
          std::string value;
          LIGHTNING_RETURN_IF_ERROR(load_overflow(store_, leaf->overflow_ref(i), &value));
        }
        prev = key;
        ++entries_;
      }
      return Status::ok();
    }
    LIGHTNING_RETURN_IF_ERROR(store_.read_uncached(ref, PageType::kInner, &image));
    auto page = InnerPage::open(std::as_bytes(std::span(image.data(), image.size())), where);
    if (!page) return page.status();
    if (page->level() != level) {
      return Status::corruption(where + ": level " + std::to_string(page->level()) + ", expected " +
                                std::to_string(level));
    }
    std::vector<std::string> keys(page->count());
    for (std::uint32_t i = 1; i < page->count(); ++i) {
      LIGHTNING_RETURN_IF_ERROR(page->key(i, &keys[i], loader_));
      if (i > 1 && keys[i] <= keys[i - 1]) {
        return Status::corruption(where + ": separators out of order at cell " + std::to_string(i));
      }
      if ((lower && keys[i] < *lower) || (upper && keys[i] >= *upper)) {
        return Status::corruption(where + ": separator at cell " + std::to_string(i) +
                                  " lies outside the range its parent gives");
      }
    }
    for (std::uint32_t i = 0; i < page->count(); ++i) {
      std::optional<std::string> lo = i == 0 ? lower : std::optional<std::string>(keys[i]);
      std::optional<std::string> hi = i + 1 < page->count() ? std::optional<std::string>(keys[i + 1]) : upper;
      LIGHTNING_RETURN_IF_ERROR(check(page->child(i), level - 1, lo, hi));
    }
    return Status::ok();
  }

  std::uint64_t pages_ = 0;
  std::uint64_t entries_ = 0;

 private:
  const PageStore& store_;
  const KeyLoader loader_;
};

}  // namespace

Status verify_tree(const PageStore& store, const TreeRoot& root, std::uint64_t* pages_visited) {
  TreeVerifier v(store);
  Status s;
  if (root.height > 0) s = v.check(root.root, static_cast<std::uint8_t>(root.height - 1), std::nullopt, std::nullopt);
  if (pages_visited != nullptr) *pages_visited = v.pages_;
  if (!s.is_ok()) return s;
  if (v.entries_ != root.entry_count) {
    return Status::corruption(store.path() + ": the tree holds " + std::to_string(v.entries_) +
                              " keys but its meta slot says " + std::to_string(root.entry_count));
  }
  return Status::ok();
}

}  // namespace lightning::pagestore

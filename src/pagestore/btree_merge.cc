// B+tree writes: a copy-on-write merge of a sorted change stream, one pass
// over the touched pages (docs/format/datafile.md, "Merging").
//
// Leaves are re-packed from a stream of cells. The packer keeps the last
// two pages unwritten so that the final page of a run is never left tiny
// (the two are balanced), and a touched leaf whose output is less than half
// full absorbs its right sibling (a merge at the page boundary). Inner pages
// are re-packed from the entries their touched children return; empty
// children disappear; a root with a single child is collapsed.
#include <optional>
#include <vector>

#include "pagestore/btree_internal.h"

namespace lightning::pagestore {

namespace detail {

Result<OverflowRef> write_overflow(PageStore& store, std::string_view bytes) {
  const std::uint64_t pages = overflow_pages(bytes.size(), store.page_size());
  Extent ext = store.allocate(pages);
  std::string image;
  OverflowRef ref;
  build_overflow(bytes, ext.start, store.page_size(), &image, &ref);
  LIGHTNING_RETURN_IF_ERROR(store.write(ext.start, std::move(image), /*cache=*/false));
  return ref;
}

}  // namespace detail

namespace {

using detail::key_loader;
using detail::page_where;
using detail::write_overflow;

// One leaf cell in flight. Owns its overflow extents (value, long key).
struct LeafCell {
  std::string key;  // the whole key
  std::optional<OverflowRef> key_ref;
  bool overflow = false;
  std::string value;  // inline value
  OverflowRef value_ref;
  std::size_t value_len() const { return overflow ? value_ref.value_length : value.size(); }
};

// One inner cell in flight: the child's separator (its minimum key bound).
struct Entry {
  std::string key;
  std::optional<OverflowRef> key_ref;  // owned long-key extent
  PageRef child;
};

class Merger {
 public:
  // rewrite_all: every page (and extent) is rewritten, not only the touched
  // ones: compact() uses it to move the whole tree into the lowest free
  // pages.
  Merger(PageStore& store, ChangeSource& changes, MergeStats* stats, bool rewrite_all = false)
      : store_(store), changes_(changes), stats_(stats), loader_(key_loader(store)),
        rewrite_all_(rewrite_all) {}

  Result<TreeRoot> run(const TreeRoot& old);

 private:
  // ---- leaf packing ----
  class LeafPacker {
   public:
    LeafPacker(Merger& m, std::vector<Entry>* out) : m_(m), out_(out), builder_(m.store_.page_size()) {}
    Status add(LeafCell&& c) {
      if (!cur_.empty() && !builder_.fits(c.key, c.value_len())) {
        if (!prev_.empty()) LIGHTNING_RETURN_IF_ERROR(m_.write_leaf(prev_, out_));
        prev_ = std::move(cur_);
        cur_.clear();
        builder_.reset();
      }
      add_to_builder(builder_, c);
      cur_.push_back(std::move(c));
      return Status::ok();
    }
    // The newest pending page is less than half full.
    bool underfull() const { return !cur_.empty() && builder_.used_bytes() < m_.store_.page_size() / 2; }
    Status finish() {
      if (!cur_.empty() && !prev_.empty() && underfull()) {
        // Balance the last two pages by bytes.
        std::vector<LeafCell> all = std::move(prev_);
        for (auto& c : cur_) all.push_back(std::move(c));
        prev_.clear();
        cur_.clear();
        LeafBuilder probe(m_.store_.page_size());
        std::size_t total = 0;
        for (const auto& c : all) {
          LeafBuilder one(m_.store_.page_size());
          add_to_builder(one, c);
          total += one.used_bytes();
        }
        std::size_t split = 0;
        for (; split + 1 < all.size(); ++split) {
          if (!probe.fits(all[split].key, all[split].value_len())) break;
          add_to_builder(probe, all[split]);
          if (probe.used_bytes() >= total / 2) {
            ++split;
            break;
          }
        }
        if (split == 0) split = 1;
        std::vector<LeafCell> second(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(split)),
                                     std::make_move_iterator(all.end()));
        all.resize(split);
        LIGHTNING_RETURN_IF_ERROR(m_.write_leaf(all, out_));
        LIGHTNING_RETURN_IF_ERROR(m_.write_leaf(second, out_));
      } else {
        if (!prev_.empty()) LIGHTNING_RETURN_IF_ERROR(m_.write_leaf(prev_, out_));
        if (!cur_.empty()) LIGHTNING_RETURN_IF_ERROR(m_.write_leaf(cur_, out_));
        prev_.clear();
        cur_.clear();
      }
      builder_.reset();
      return Status::ok();
    }
    bool empty() const { return cur_.empty() && prev_.empty(); }

   private:
    Merger& m_;
    std::vector<Entry>* out_;
    LeafBuilder builder_;
    std::vector<LeafCell> prev_, cur_;
  };

  static void add_to_builder(LeafBuilder& b, const LeafCell& c) {
    const OverflowRef* kr = c.key_ref ? &*c.key_ref : nullptr;
    if (c.overflow) {
      b.add_overflow(c.key, c.value_ref, kr);
    } else {
      b.add_inline(c.key, c.value, kr);
    }
  }

  // ---- inner packing ----
  Status pack_inner(std::vector<Entry>& entries, std::uint8_t level, std::vector<Entry>* out) {
    InnerBuilder b(store_.page_size(), level);
    std::vector<Entry*> page;
    for (Entry& e : entries) {
      if (!page.empty() && !b.fits(e.key)) {
        LIGHTNING_RETURN_IF_ERROR(write_inner(b, page, out));
        b.reset();
        page.clear();
      }
      LIGHTNING_RETURN_IF_ERROR(ensure_key_ref(e));
      b.add(e.key, e.child, e.key_ref ? &*e.key_ref : nullptr);
      page.push_back(&e);
    }
    if (!page.empty()) LIGHTNING_RETURN_IF_ERROR(write_inner(b, page, out));
    return Status::ok();
  }

  // A long separator gets its own key extent (never shared with a leaf).
  Status ensure_key_ref(Entry& e) {
    if (!is_long_key(store_.page_size(), e.key.size()) || e.key_ref) return Status::ok();
    auto r = write_overflow(store_, e.key);
    if (!r) return r.status();
    e.key_ref = *r;
    return Status::ok();
  }

  Status write_inner(const InnerBuilder& b, const std::vector<Entry*>& page, std::vector<Entry>* out) {
    Extent ext = store_.allocate(1);
    std::string image;
    PageRef ref = b.finish(ext.start, &image);
    LIGHTNING_RETURN_IF_ERROR(store_.write(ext.start, std::move(image)));
    ++stats_->pages_written;
    // The first cell's separator is not stored in the page (it is -inf
    // there); it becomes this page's separator in the parent, so its extent
    // ownership moves to the returned entry.
    Entry e;
    e.key = page.front()->key;
    e.key_ref = page.front()->key_ref;
    e.child = ref;
    out->push_back(std::move(e));
    return Status::ok();
  }

  Status write_leaf(std::vector<LeafCell>& cells, std::vector<Entry>* out) {
    LeafBuilder b(store_.page_size());
    for (const auto& c : cells) add_to_builder(b, c);
    Extent ext = store_.allocate(1);
    std::string image;
    PageRef ref = b.finish(ext.start, &image);
    LIGHTNING_RETURN_IF_ERROR(store_.write(ext.start, std::move(image)));
    ++stats_->pages_written;
    Entry e;
    e.key = cells.front().key;  // a long separator gets its own extent when packed
    e.child = ref;
    out->push_back(std::move(e));
    cells.clear();
    return Status::ok();
  }

  void free_page(const PageRef& ref) {
    store_.free(ref);
    ++stats_->pages_freed;
  }
  void free_extent(const OverflowRef& ref) { store_.free(ref.extent); }

  bool in_range(const std::optional<std::string>& upper) const {
    return changes_.valid() && (!upper || changes_.key() < std::string_view(*upper));
  }

  // A new cell for the current change (a put).
  Result<LeafCell> cell_from_change(std::optional<OverflowRef> key_ref) {
    LeafCell c;
    c.key.assign(changes_.key());
    std::string_view v = changes_.value();
    if (is_long_key(store_.page_size(), c.key.size()) && !key_ref) {
      auto r = write_overflow(store_, c.key);
      if (!r) return r.status();
      key_ref = *r;
    }
    c.key_ref = key_ref;
    if (LeafBuilder::is_inline(store_.page_size(), v.size())) {
      c.value.assign(v);
    } else {
      auto r = write_overflow(store_, v);
      if (!r) return r.status();
      c.overflow = true;
      c.value_ref = *r;
    }
    return c;
  }

  Status read_leaf_cell(const LeafPage& leaf, std::uint32_t i, LeafCell* c) {
    if (leaf.is_long_key(i)) {
      LIGHTNING_RETURN_IF_ERROR(leaf.key(i, &c->key, loader_));
      c->key_ref = leaf.long_key_ref(i);
    } else {
      leaf.key(i, &c->key);
      c->key_ref.reset();
    }
    c->overflow = leaf.is_overflow(i);
    if (c->overflow) {
      c->value_ref = leaf.overflow_ref(i);
      c->value.clear();
    } else {
      c->value.assign(leaf.inline_value(i));
    }
    if (rewrite_all_) {
      // Move the cell's extents too (their old pages are freed).
      if (c->overflow) {
        std::string bytes;
        LIGHTNING_RETURN_IF_ERROR(detail::load_overflow(store_, c->value_ref, &bytes));
        auto r = write_overflow(store_, bytes);
        if (!r) return r.status();
        free_extent(c->value_ref);
        c->value_ref = *r;
      }
      if (c->key_ref) {
        auto r = write_overflow(store_, c->key);
        if (!r) return r.status();
        free_extent(*c->key_ref);
        c->key_ref = *r;
      }
    }
    return Status::ok();
  }

  // Streams the leaf at ref merged with the changes below upper into packer.
  Status merge_leaf(const PageRef& ref, const std::optional<std::string>& upper, LeafPacker& packer) {
    auto h = store_.read(ref, PageType::kLeaf);
    if (!h) return h.status();
    auto leaf = LeafPage::open(h->data(), page_where(store_, ref), PageValidation::kHeaderOnly);
    if (!leaf) return leaf.status();
    std::uint32_t i = 0;
    const std::uint32_t n = leaf->count();
    LeafCell old;
    bool have_old = false;
    while (true) {
      if (!have_old && i < n) {
        LIGHTNING_RETURN_IF_ERROR(read_leaf_cell(*leaf, i++, &old));
        have_old = true;
      }
      const bool have_change = in_range(upper);
      if (!have_old && !have_change) break;
      int cmp = !have_old ? 1 : !have_change ? -1 : std::string_view(old.key).compare(changes_.key());
      if (cmp < 0) {
        LIGHTNING_RETURN_IF_ERROR(packer.add(std::move(old)));
        have_old = false;
        continue;
      }
      if (cmp == 0) {
        // The change replaces the stored cell: its value extent goes; the
        // key extent (same key) moves to the new cell.
        if (old.overflow) free_extent(old.value_ref);
        if (changes_.is_delete()) {
          if (old.key_ref) free_extent(*old.key_ref);
          ++stats_->keys_removed;
        } else {
          auto c = cell_from_change(old.key_ref);
          if (!c) return c.status();
          LIGHTNING_RETURN_IF_ERROR(packer.add(std::move(*c)));
        }
        have_old = false;
      } else if (!changes_.is_delete()) {
        auto c = cell_from_change(std::nullopt);
        if (!c) return c.status();
        LIGHTNING_RETURN_IF_ERROR(packer.add(std::move(*c)));
        ++stats_->keys_added;
      }
      changes_.next();
      LIGHTNING_RETURN_IF_ERROR(changes_.status());
    }
    free_page(ref);
    return Status::ok();
  }

  // Streams an untouched leaf's cells into packer (a merge with a sibling).
  Status absorb_leaf(const PageRef& ref, LeafPacker& packer) {
    auto h = store_.read(ref, PageType::kLeaf);
    if (!h) return h.status();
    auto leaf = LeafPage::open(h->data(), page_where(store_, ref), PageValidation::kHeaderOnly);
    if (!leaf) return leaf.status();
    for (std::uint32_t i = 0; i < leaf->count(); ++i) {
      LeafCell c;
      LIGHTNING_RETURN_IF_ERROR(read_leaf_cell(*leaf, i, &c));
      LIGHTNING_RETURN_IF_ERROR(packer.add(std::move(c)));
    }
    free_page(ref);
    return Status::ok();
  }

  // Replaces the inner page at ref (level >= 1) with 0..n pages of the same
  // level appended to out.
  // `lower` is the page's separator in its parent ("" for the leftmost):
  // cell 0 (stored as -inf) carries it when the child is kept.
  Status merge_inner(const PageRef& ref, std::uint8_t level, const std::string& lower,
                     const std::optional<std::string>& upper, std::vector<Entry>* out) {
    auto h = store_.read(ref, PageType::kInner);
    if (!h) return h.status();
    auto page = InnerPage::open(h->data(), page_where(store_, ref), PageValidation::kHeaderOnly);
    if (!page) return page.status();
    if (page->level() != level) {
      return Status::corruption(page_where(store_, ref) + ": inner page has level " +
                                std::to_string(page->level()) + ", expected " + std::to_string(level));
    }
    const std::uint32_t n = page->count();
    std::vector<Entry> children;
    LeafPacker packer(*this, &children);
    std::string next_key;
    for (std::uint32_t i = 0; i < n; ++i) {
      std::optional<std::string> child_upper = upper;
      if (i + 1 < n) {
        if (page->is_long_key(i + 1)) {
          LIGHTNING_RETURN_IF_ERROR(page->key(i + 1, &next_key, loader_));
        } else {
          page->key(i + 1, &next_key);
        }
        child_upper = next_key;
      }
      Entry carried;
      if (i == 0) {
        carried.key = lower;
      } else {
        if (page->is_long_key(i)) {
          LIGHTNING_RETURN_IF_ERROR(page->key(i, &carried.key, loader_));
          carried.key_ref = page->long_key_ref(i);
        } else {
          page->key(i, &carried.key);
        }
      }
      carried.child = page->child(i);
      const bool touched = rewrite_all_ || in_range(child_upper);
      if (level == 1) {
        if (touched) {
          if (carried.key_ref) free_extent(*carried.key_ref);
          LIGHTNING_RETURN_IF_ERROR(merge_leaf(carried.child, child_upper, packer));
        } else if (packer.underfull()) {
          if (carried.key_ref) free_extent(*carried.key_ref);
          // One sibling at most, then balance: never a cascade of rewrites.
          LIGHTNING_RETURN_IF_ERROR(absorb_leaf(carried.child, packer));
          LIGHTNING_RETURN_IF_ERROR(packer.finish());
        } else {
          LIGHTNING_RETURN_IF_ERROR(packer.finish());
          children.push_back(std::move(carried));
        }
      } else if (touched) {
        if (carried.key_ref) free_extent(*carried.key_ref);
        LIGHTNING_RETURN_IF_ERROR(
            merge_inner(carried.child, level - 1, carried.key, child_upper, &children));
      } else {
        children.push_back(std::move(carried));
      }
    }
    if (level == 1) LIGHTNING_RETURN_IF_ERROR(packer.finish());
    free_page(ref);
    // Cell 0 of this page routed everything below key(1); its replacement
    // keeps that role only if it stays first, which pack_inner guarantees.
    return pack_inner(children, level, out);
  }

  PageStore& store_;
  ChangeSource& changes_;
  MergeStats* stats_;
  const KeyLoader loader_;
  const bool rewrite_all_;
};

// No changes: for rewrite_tree.
class NoChanges final : public ChangeSource {
 public:
  bool valid() const override { return false; }
  std::string_view key() const override { return {}; }
  bool is_delete() const override { return false; }
  std::string_view value() const override { return {}; }
  void next() override {}
  Status status() const override { return Status::ok(); }
};

Result<TreeRoot> Merger::run(const TreeRoot& old) {
  std::vector<Entry> top;
  std::uint8_t level = 0;  // level of the pages listed in `top`
  if (old.height == 0) {
    LeafPacker packer(*this, &top);
    while (changes_.valid()) {
      if (!changes_.is_delete()) {
        auto c = cell_from_change(std::nullopt);
        if (!c) return c.status();
        LIGHTNING_RETURN_IF_ERROR(packer.add(std::move(*c)));
        ++stats_->keys_added;
      }
      changes_.next();
    }
    LIGHTNING_RETURN_IF_ERROR(changes_.status());
    LIGHTNING_RETURN_IF_ERROR(packer.finish());
  } else if (old.height == 1) {
    LeafPacker packer(*this, &top);
    LIGHTNING_RETURN_IF_ERROR(merge_leaf(old.root, std::nullopt, packer));
    LIGHTNING_RETURN_IF_ERROR(packer.finish());
  } else {
    level = static_cast<std::uint8_t>(old.height - 1);
    LIGHTNING_RETURN_IF_ERROR(merge_inner(old.root, level, std::string(), std::nullopt, &top));
  }
  // A source that failed before its first entry (or between entries) looks
  // like an empty one: never publish a tree built from a failed source.
  LIGHTNING_RETURN_IF_ERROR(changes_.status());
  // Grow: pack levels until one page remains.
  while (top.size() > 1) {
    std::vector<Entry> up;
    ++level;
    LIGHTNING_RETURN_IF_ERROR(pack_inner(top, level, &up));
    top = std::move(up);
  }
  TreeRoot root;
  root.entry_count = old.entry_count + stats_->keys_added - stats_->keys_removed;
  if (top.empty()) return root;  // every key was deleted
  if (top.front().key_ref) free_extent(*top.front().key_ref);  // the root has no separator
  root.root = top.front().child;
  root.height = static_cast<std::uint8_t>(level + 1);
  // Shrink: an inner root with a single child is replaced by that child.
  while (root.height > 1) {
    auto h = store_.read(root.root, PageType::kInner);
    if (!h) return h.status();
    auto page = InnerPage::open(h->data(), page_where(store_, root.root), PageValidation::kHeaderOnly);
    if (!page) return page.status();
    if (page->count() != 1) break;
    PageRef child = page->child(0);
    free_page(root.root);
    root.root = child;
    --root.height;
  }
  return root;
}

}  // namespace

Result<TreeRoot> merge_into_tree(PageStore& store, const TreeRoot& old, ChangeSource& changes,
                                 MergeStats* stats) {
  MergeStats local;
  Merger m(store, changes, stats != nullptr ? stats : &local);
  return m.run(old);
}

Result<TreeRoot> rewrite_tree(PageStore& store, const TreeRoot& old, MergeStats* stats) {
  MergeStats local;
  NoChanges none;
  Merger m(store, none, stats != nullptr ? stats : &local, /*rewrite_all=*/true);
  return m.run(old);
}

}  // namespace lightning::pagestore

// The copy-on-write B+tree over a PageStore.
//
// Shape: leaves hold (key, value) cells (values inline or in overflow
// extents); inner pages hold (min key of child, child PageRef) cells; the
// first cell of an inner page routes everything smaller. Pages are never
// modified in place: a merge writes new pages for every page it changes and
// for their ancestors, and the caller publishes the new root with
// PageStore::commit().
//
// Reads (get, iterators) take a TreeRoot: the tree as of one commit. They
// are safe while a merge runs, as long as the caller holds a
// PageStore::ReaderTicket for that root's epoch.
//
// Thread safety: reads may run concurrently; merge_into_tree is the single
// writer.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>
#include <string>
#include <string_view>

#include "db/internal_iterator.h"
#include "lightning/status.h"
#include "pagestore/page_format.h"
#include "pagestore/page_store.h"

namespace lightning::pagestore {

struct TreeRoot {
  PageRef root;                  // page_id 0: empty tree
  std::uint8_t height = 0;       // 0 empty, 1 = the root is a leaf
  std::uint64_t entry_count = 0;
};

// Point lookup. Returns true and sets *value when key is present.
Result<bool> tree_get(const PageStore& store, const TreeRoot& root, std::string_view key,
                      std::string* value);
// The inner pages of one tree, pinned and indexed by page id, so that a
// point lookup goes through the page cache only for the leaf. Built once per
// published tree (flush, open); read-only afterwards, so lookups take no
// lock. Pins at most max_bytes of inner pages, top levels first.
class InnerIndex {
 public:
  static Result<std::shared_ptr<const InnerIndex>> build(const PageStore& store, const TreeRoot& root,
                                                         std::size_t max_bytes);
  // The image of inner page page_id, or an empty span if it is not pinned.
  std::span<const std::byte> find(std::uint64_t page_id) const;
  std::size_t pages() const { return ids_.size(); }

 private:
  std::vector<std::uint64_t> ids_;  // sorted
  std::vector<PageHandle> pins_;    // pins_[i] holds page ids_[i]
};

// Zero-copy lookup: on true, *view points into the leaf pinned by *pin, or,
// for an overflow value, into *overflow (which receives a copy). Inner pages
// found in `inner` (may be null) skip the page cache.
Result<bool> tree_get_pinned(const PageStore& store, const TreeRoot& root, std::string_view key,
                             PageHandle* pin, std::string_view* view, std::string* overflow,
                             const InnerIndex* inner = nullptr);

// Ordered iteration over the tree's entries, presented as internal keys with
// sequence 0 and kind kPut (older than every memtable entry). With prefetch,
// an iterator that crosses kPrefetchAfterCrossings leaf boundaries in a row
// in one direction (a scan, not a short range read) issues read-ahead hints
// (PageStore::prefetch) for the next leaves of the parent: a window of
// kPrefetchInitialWindow leaves, doubling with every top-up (issued when a
// quarter of the window remains ahead) up to kPrefetchWindow.
inline constexpr int kPrefetchAfterCrossings = 4;
inline constexpr std::uint32_t kPrefetchInitialWindow = 8;
inline constexpr std::uint32_t kPrefetchWindow = 32;
std::unique_ptr<InternalIterator> new_tree_iterator(const PageStore& store, const TreeRoot& root,
                                                    bool prefetch = false);

// A sorted stream of changes to apply (strictly increasing keys).
class ChangeSource {
 public:
  virtual ~ChangeSource() = default;
  virtual bool valid() const = 0;
  virtual std::string_view key() const = 0;
  virtual bool is_delete() const = 0;
  virtual std::string_view value() const = 0;  // REQUIRES !is_delete()
  virtual void next() = 0;
  virtual Status status() const = 0;
};

struct MergeStats {
  std::uint64_t pages_written = 0;
  std::uint64_t pages_freed = 0;
  std::uint64_t keys_added = 0;
  std::uint64_t keys_removed = 0;
};

// Applies changes to the tree at `old` copy-on-write: writes the new pages
// through store.write(), frees replaced pages and extents with store.free(),
// and returns the new root (not yet published).
Result<TreeRoot> merge_into_tree(PageStore& store, const TreeRoot& old, ChangeSource& changes,
                                 MergeStats* stats);

// Rewrites every page and extent of the tree into freshly allocated pages
// (lowest free addresses first), freeing the old ones: after the commit and
// the next one, the file's tail is free and is trimmed (compact()).
Result<TreeRoot> rewrite_tree(PageStore& store, const TreeRoot& old, MergeStats* stats);

// Walks every page reachable from root: checksums (via verify_page), key
// order within and across pages, separator keys bounding their subtrees,
// levels, and the entry count. Corruption names the page.
Status verify_tree(const PageStore& store, const TreeRoot& root, std::uint64_t* pages_visited);

}  // namespace lightning::pagestore

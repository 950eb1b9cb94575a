// PageStore: the data file of the copy-on-write B+tree.
//
// Reads return verified page images through the shared page cache, or, with
// Options::use_mmap, straight from a read-only memory mapping of the file
// (each page's checksum is verified on its first read through the mapping
// and again after it is rewritten). Writes
// go to pages handed out by the free-space map (never to a page reachable
// from either meta slot or from a live reader), and a commit publishes them:
//
//   1. write the new pages (tree, overflow, free-space map) to free space;
//   2. fsync the data file;
//   3. write the meta slot of the new epoch's parity (epoch % 2);
//   4. fsync the data file again.
//
// Recovery (open) reads both meta slots and takes the valid one with the
// higher epoch. docs/format/datafile.md analyses every crash point.
//
// Thread safety: read(), durable_meta() and reader registration may run
// concurrently from any thread. allocate(), write() and free() are the tree
// writer's calls (one tree writer at a time: the caller serializes them);
// commit() calls are serialized by the caller too, but a meta-only commit
// (CommitScope::kMetaOnly) may run while the tree writer is between its
// commits: it publishes none of the tree writer's pending work.
//
// Pending tree work: pages allocate()d and extents free()d since the last
// tree commit belong to the tree writer's open transaction. A tree commit
// publishes them (the frees take effect from its epoch); a meta-only commit
// records the pending allocations as free in the map it writes (nothing
// durable references them yet) and leaves the frees pending;
// abandon_tree_writes() drops the transaction (allocations return to the
// free set, frees are forgotten).
// Errors: a failed write or sync poisons the store: later commits return
// the same error (reads keep working).
#pragma once

#include <cstdint>
#include <atomic>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lightning/file_system.h"
#include "lightning/status.h"
#include "pagestore/free_space.h"
#include "pagestore/meta.h"
#include "pagestore/page_cache.h"
#include "pagestore/page_format.h"
#include "util/thread_annotations.h"

namespace lightning::pagestore {

class PageStore {
 public:
  struct Options {
    std::uint32_t page_size = 4096;  // used when creating; an existing file keeps its own
    PageCache* cache = nullptr;      // required; shared, outlives the store
    std::uint64_t file_id = 0;       // cache key namespace
    bool create_if_missing = true;
    // The wal_floor of the epoch-1 meta slot written when the file is
    // created: the first WAL segment the (empty) tree does not cover.
    std::uint64_t initial_wal_floor = 0;
    // Read pages through a read-only memory mapping instead of the page
    // cache (the file system must support map_readonly). The cache then
    // only serves reads past the end of the mapping.
    bool use_mmap = false;
  };
  static Result<std::unique_ptr<PageStore>> open(std::shared_ptr<FileSystem> fs, std::string path,
                                                 const Options& options);
  ~PageStore();

  std::uint32_t page_size() const { return page_size_; }
  const std::string& path() const { return path_; }
  // The last published (durable) meta slot.
  Meta durable_meta() const EXCLUDES(mu_);
  // Which slot recovery used and whether the other one was damaged.
  bool recovered_from_fallback_slot() const { return fallback_used_; }

  // Reads the extent at ref (ref.length bytes) and verifies it against ref
  // and `type` (Corruption naming the page id and file offset). The handle
  // pins a cache entry, or (use_mmap) borrows the mapped bytes: those stay
  // valid and unchanged while the caller holds a ReaderTicket for an epoch
  // that reaches ref, and at most until the store is destroyed.
  Result<PageHandle> read(const PageRef& ref, PageType type) const;
  // A read-ahead hint for the extents of refs (in order): adjacent extents
  // are coalesced into one request; without a mapping, extents already in
  // the page cache are skipped. Never fails.
  void prefetch(std::span<const PageRef> refs) const;
  bool uses_mmap() const { return map_.load(std::memory_order_acquire) != nullptr; }
  std::uint64_t prefetch_requests() const { return prefetch_requests_.load(std::memory_order_relaxed); }
  std::uint64_t prefetch_bytes() const { return prefetch_bytes_.load(std::memory_order_relaxed); }
  // Reads ref without the cache (verify(), overflow values).
  Status read_uncached(const PageRef& ref, PageType type, std::string* image) const;

  // ---- readers ----
  // While a ticket for epoch e lives, no page reachable from commit e is
  // reused. Tickets are cheap; copy-free RAII.
  class ReaderTicket {
   public:
    ReaderTicket() = default;
    ReaderTicket(ReaderTicket&& o) noexcept : store_(o.store_), epoch_(o.epoch_) { o.store_ = nullptr; }
    ReaderTicket& operator=(ReaderTicket&& o) noexcept;
    ReaderTicket(const ReaderTicket&) = delete;
    ReaderTicket& operator=(const ReaderTicket&) = delete;
    ~ReaderTicket() { reset(); }
    void reset();
    std::uint64_t epoch() const { return epoch_; }

   private:
    friend class PageStore;
    ReaderTicket(const PageStore* store, std::uint64_t epoch) : store_(store), epoch_(epoch) {}
    const PageStore* store_ = nullptr;
    std::uint64_t epoch_ = 0;
  };
  ReaderTicket register_reader(std::uint64_t epoch) const EXCLUDES(mu_);

  // ---- the commit path (single writer) ----
  // `pages` contiguous pages that the next commit may write.
  Extent allocate(std::uint64_t pages) EXCLUDES(mu_);
  // Writes a sealed image (a whole number of pages) at page_id; caches it
  // unless `cache` is false (overflow extents are read uncached).
  Status write(std::uint64_t page_id, std::string image, bool cache = true);
  // The extent of ref stops being needed from the next tree commit on.
  void free(const PageRef& ref) EXCLUDES(mu_);
  enum class CommitScope {
    kTree,      // publishes `next`'s tree and the tree writer's pending work
    kMetaOnly,  // keeps the durable tree (root, height, entry count of
                // `next` are ignored) and leaves the pending work pending
  };
  // Publishes a new commit: `next` carries root, height, entry count,
  // last_sequence and wal_floor; epoch, page size, free-space map, run list
  // and high-water mark are filled in here. run_list: the new run list blob
  // (written to its own extent, the old one freed), or null to keep the
  // current one. On success durable_meta() == next.
  Status commit(Meta next, const std::string* run_list = nullptr,
                CommitScope scope = CommitScope::kTree) EXCLUDES(mu_);
  // Drops the tree writer's pending work (an abandoned or failed merge): its
  // allocations become free again (nothing durable references them) and its
  // frees are forgotten (the durable tree still references those pages).
  void abandon_tree_writes() EXCLUDES(mu_);
  // The tree writer's scope: abandons the pending tree work when it ends
  // without committed() (an error return anywhere between the first
  // allocate() and the tree commit). One per tree writer, on its stack.
  class TreeWrite {
   public:
    explicit TreeWrite(PageStore& store) : store_(store) {}
    TreeWrite(const TreeWrite&) = delete;
    TreeWrite& operator=(const TreeWrite&) = delete;
    ~TreeWrite() {
      if (!committed_) store_.abandon_tree_writes();
    }
    // The tree commit succeeded: the work is published, nothing to undo.
    void committed() { committed_ = true; }

   private:
    PageStore& store_;
    bool committed_ = false;
  };
  // Pages allocated by the tree writer since its last commit.
  std::uint64_t pending_tree_pages() const EXCLUDES(mu_);
  // The run list blob of the last commit (empty: no runs).
  std::string run_list() const EXCLUDES(mu_);

  // Bytes written to the data file (pages + meta slots) since open.
  std::uint64_t bytes_written() const { return bytes_written_.load(std::memory_order_relaxed); }
  std::uint64_t file_pages() const EXCLUDES(mu_);
  std::uint64_t free_pages() const EXCLUDES(mu_);

 private:
  PageStore(std::shared_ptr<FileSystem> fs, std::string path, const Options& options);
  Status load();
  Status create(std::uint64_t initial_wal_floor);
  Status write_meta(const Meta& m);
  Status poison(Status s) EXCLUDES(mu_);
  std::uint64_t page_count(const PageRef& ref) const;
  void unregister_reader(std::uint64_t epoch) const EXCLUDES(mu_);
  std::string where(const PageRef& ref) const;
  // Corruption unless ref has a legal page id and length.
  Status check_ref(const PageRef& ref) const;
  // Reads ref.length bytes at ref into out and verifies them against ref.
  // REQUIRES: check_ref(ref) is ok, out.size() == ref.length.
  Status read_checked(const PageRef& ref, PageType type, std::span<std::byte> out) const;

  // A read-only mapping of the file's first `pages` pages (address space
  // reserved past the end for growth). verified[p] is the checksum of page
  // p's image as last verified through this mapping, 0 when not verified
  // since the page was (re)written.
  struct Mapping {
    std::unique_ptr<MappedRegion> region;
    std::uint64_t pages = 0;
    std::unique_ptr<std::atomic<std::uint32_t>[]> verified;
  };
  // Maps at least min_pages pages (twice that, 1 MiB at least) and makes
  // it the mapping reads use; older mappings stay until destruction.
  Status map_file(std::uint64_t min_pages) REQUIRES(mu_);
  // The page at ref from mapping m, or an empty handle if m does not hold it.
  Result<PageHandle> read_mapped(const Mapping& m, const PageRef& ref, PageType type) const;

  // Constant after open.
  const std::shared_ptr<FileSystem> fs_;
  const std::string path_;
  PageCache* const cache_;
  const std::uint64_t file_id_;
  std::uint32_t page_size_ = 0;
  bool fallback_used_ = false;
  std::unique_ptr<RandomRWFile> file_;
  const bool want_mmap_;
  // The mapping reads use (null without use_mmap); set under mu_.
  std::atomic<const Mapping*> map_{nullptr};
  // Pages the file holds (a mapped page past them must not be touched).
  std::atomic<std::uint64_t> file_pages_{0};
  std::vector<std::unique_ptr<Mapping>> maps_ GUARDED_BY(mu_);  // every mapping made
  mutable std::atomic<std::uint64_t> prefetch_requests_{0};
  mutable std::atomic<std::uint64_t> prefetch_bytes_{0};

  mutable Mutex mu_;
  Meta meta_ GUARDED_BY(mu_);
  std::unique_ptr<FreeSpace> free_ GUARDED_BY(mu_);
  PageRef free_space_ref_ GUARDED_BY(mu_);  // the current map's extent (freed by the next commit)
  std::string run_list_ GUARDED_BY(mu_);     // the current run list blob
  mutable std::map<std::uint64_t, std::uint64_t> readers_ GUARDED_BY(mu_);  // epoch -> count
  mutable bool release_needed_ GUARDED_BY(mu_) = false;  // a reader left since the last release
  // The tree writer's open transaction (see "Pending tree work").
  std::vector<Extent> tree_allocs_ GUARDED_BY(mu_);
  std::vector<Extent> tree_frees_ GUARDED_BY(mu_);
  Status error_ GUARDED_BY(mu_);
  std::atomic<std::uint64_t> bytes_written_{0};
};

}  // namespace lightning::pagestore

// FreeSpace: which pages of the data file may be written by the next commit.
//
// Definitions
//  - A page is *reachable from commit e* if the tree, overflow extents or
//    free-space pages published by meta slot epoch e reference it.
//  - A page is *freed at commit e* when commit e publishes a tree that no
//    longer references it (a copy-on-write replacement, a deleted key's
//    overflow extent, the previous commit's free-space pages).
// Invariants
//  1. A page handed out by allocate() is reachable from neither of the two
//     meta slots on disk nor from any live reader's epoch.
//  2. A page freed at commit e becomes allocatable once commit e+1 is durable
//     (so neither meta slot still references it: the older slot may be the
//     fallback after a torn meta write) and no reader of an epoch < e
//     remains.
//  3. The free-space map written with commit e describes exactly the free and
//     pending-free pages as of commit e.
// Operations
//  - allocate(n): n contiguous pages, lowest address first-fit, else extend
//    the file at the high-water mark.
//  - free(extent, epoch): pending until invariant 2 allows reuse.
//  - release(durable_epoch, oldest_reader_epoch): moves pending extents
//    whose time has come into the free set.
//  - trim_tail(): gives back a free extent that ends at the high-water mark,
//    so the file can be truncated.
//
// Thread safety: not thread-safe; the data file serializes commits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/status.h"

namespace lightning::pagestore {

struct Extent {
  std::uint64_t start = 0;  // page id
  std::uint64_t pages = 0;
  friend bool operator==(const Extent&, const Extent&) = default;
};

class FreeSpace {
 public:
  // first_data_page: pages below it (the meta slots) are never handed out.
  FreeSpace(std::uint64_t first_data_page, std::uint64_t high_water);

  Extent allocate(std::uint64_t pages);
  // Returns an extent from allocate() that was never written: free at once.
  void unallocate(Extent e) { insert_free(e.start, e.pages); }
  void free(Extent e, std::uint64_t freed_at_epoch);
  // Makes pending extents freed at epoch <= min(durable_epoch - 1,
  // oldest_reader_epoch) allocatable. Pass UINT64_MAX as
  // oldest_reader_epoch when no reader is active.
  void release(std::uint64_t durable_epoch, std::uint64_t oldest_reader_epoch);
  // Lowers the high-water mark over a free extent that ends there; returns
  // the new high-water mark.
  std::uint64_t trim_tail();

  std::uint64_t high_water() const { return high_water_; }
  std::uint64_t free_pages() const { return free_pages_; }
  std::uint64_t pending_pages() const { return pending_pages_; }
  const std::map<std::uint64_t, std::uint64_t>& free_extents() const { return free_; }

  // Serialized form (docs/format/datafile.md, "free-space map"):
  //   high_water u64 | n_free u32 | (start u64, pages u64)*n_free
  //   | n_pending u32 | (epoch u64, start u64, pages u64)*n_pending
  void encode(std::string* out) const;
  static Result<FreeSpace> decode(std::string_view in, std::uint64_t first_data_page,
                                  std::string_view where);

  // For verify(): every page in [first_data_page, high_water) is either in
  // exactly one of {free, pending} or not; returns false on overlap.
  bool consistent() const;

 private:
  void insert_free(std::uint64_t start, std::uint64_t pages);

  std::uint64_t first_data_page_;
  std::uint64_t high_water_;
  std::map<std::uint64_t, std::uint64_t> free_;  // start -> pages, coalesced
  struct Pending {
    std::uint64_t epoch;
    Extent extent;
  };
  std::vector<Pending> pending_;  // in epoch order
  std::uint64_t free_pages_ = 0;
  std::uint64_t pending_pages_ = 0;
};

}  // namespace lightning::pagestore

// Version: an immutable description of what is live, shared by readers.
//
// A reader takes the current version (one atomic shared_ptr load), then the
// last sequence: everything with a sequence at or below it is in the
// version's memtables or tree. The version keeps its memtables alive and
// holds a reader ticket on its tree's epoch, so the pages it reaches are not
// reused while the reader runs (docs/architecture.md, "Versions").
#pragma once

#include <cstdint>
#include <memory>

#include "db/dbformat.h"
#include "memtable/memtable.h"
#include "pagestore/btree.h"
#include "pagestore/page_store.h"
#include "db/run_list.h"
#include "run/run_reader.h"

namespace lightning {

struct TreeVersion {
  pagestore::TreeRoot root;
  std::uint64_t epoch = 0;
  pagestore::PageStore::ReaderTicket ticket;  // pins the tree's pages
  // Its inner pages pinned in the page cache (up to a quarter of the
  // cache), so a point read looks up only the leaf in the cache. May be null.
  std::shared_ptr<const pagestore::InnerIndex> inner;
  // No entry in the tree is newer than this (the tree keeps no sequence
  // numbers per key). Transactions that began before it cannot tell which
  // keys the tree's last merges changed (docs/transactions.md).
  SequenceNumber max_sequence = 0;
};

// A live run file and its reader (which keeps the file open; an obsolete
// run's file is deleted when its last reader reference goes).
struct RunRef {
  RunListEntry entry;
  std::shared_ptr<const run::RunReader> reader;
};

struct Version {
  std::shared_ptr<MemTable> mem;  // active: the leader inserts here
  std::shared_ptr<MemTable> imm;  // frozen, being flushed (may be null)
  SequenceNumber imm_last_sequence = 0;  // newest entry in imm
  std::uint64_t imm_wal_floor = 0;       // first WAL segment not holding imm's writes
  std::vector<RunRef> runs;  // newest first: entries older than imm, newer than the tree
  std::shared_ptr<const TreeVersion> tree;
};

}  // namespace lightning

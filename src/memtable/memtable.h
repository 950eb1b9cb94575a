// MemTable: the in-memory write buffer, a concurrent skiplist of internal
// entries (user key, sequence, kind, value) ordered as in dbformat.h.
//
// Thread safety: add() requires external synchronization (one writer at a
// time: the group-commit leader). get(), new_iterator() and
// approximate_memory_usage() may run concurrently with add() and each other
// without locks; readers never block and never see a half-inserted entry.
//
// Lifetime: shared_ptr-owned; iterators keep a reference so the memtable
// outlives every iterator over it.
//
// Invariants:
//  1. No two entries have the same (user key, sequence).
//  2. Entries are never removed or modified once inserted; tombstones are
//     entries of kind kDelete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "db/dbformat.h"
#include "db/internal_iterator.h"
#include "memtable/arena.h"

namespace lightning {

class MemTable : public std::enable_shared_from_this<MemTable> {
 public:
  // arena_block_size: see Arena (larger blocks for larger memtables).
  static std::shared_ptr<MemTable> create(std::size_t arena_block_size = Arena::kDefaultBlockSize);
  ~MemTable();
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // REQUIRES: external synchronization among writers; (key, seq) not present.
  // value is ignored for kDelete.
  void add(SequenceNumber seq, ValueKind kind, std::string_view key, std::string_view value);

  enum class LookupResult { kNotFound, kFound, kDeleted };
  // Finds the newest entry for key with sequence <= snapshot. On kFound,
  // *value receives the value (assign, not append) unless value is null.
  // Does not allocate for keys up to ~240 bytes.
  LookupResult get(std::string_view key, SequenceNumber snapshot, std::string* value) const;
  // Like get(), but *value views the bytes in the memtable (valid while the
  // memtable lives).
  LookupResult get_view(std::string_view key, SequenceNumber snapshot, std::string_view* value) const;

  // Iterates every entry (all versions, tombstones) in internal-key order.
  // The iterator holds a reference to this memtable.
  std::unique_ptr<InternalIterator> new_iterator() const;

  // Bytes allocated for entries and skiplist nodes.
  std::size_t approximate_memory_usage() const;
  // Number of entries added.
  std::uint64_t entry_count() const;

 private:
  explicit MemTable(std::size_t arena_block_size);
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

}  // namespace lightning

// Snapshot: a read point. Reads that pass a snapshot (ReadOptions::snapshot)
// see the database exactly as it was when Database::snapshot() returned:
// later writes, deletes, flushes and merges are invisible to them.
//
// A snapshot pins what its reads need: the memtables, run files and B+tree
// pages of that moment stay (in memory, on disk) until the last copy of the
// snapshot is released. A long-lived snapshot therefore keeps memory and
// file space from being reused; Stats::snapshots, oldest_snapshot_micros and
// snapshot_pinned_bytes show it.
//
// Ownership: a value type sharing one pin; copies are cheap; the pin is
// released when the last copy is reset or destroyed. Release snapshots
// before closing the database: closing drops what they pin, and a read
// through one afterwards (with another database) is InvalidArgument;
// releasing one after the close is harmless.
// Thread safety: a Snapshot may be used by many threads at once for reads;
// copying or resetting one object is not synchronized.
#pragma once

#include <cstdint>
#include <memory>

namespace lightning {

class Snapshot {
 public:
  Snapshot() = default;  // empty: reads with it see the latest state
  // The sequence number of the newest write the snapshot sees.
  std::uint64_t sequence() const { return sequence_; }
  bool valid() const { return pin_ != nullptr; }
  explicit operator bool() const { return valid(); }
  void reset() {
    pin_.reset();
    sequence_ = 0;
  }

 private:
  friend class DatabaseImpl;
  std::shared_ptr<const void> pin_;  // the database's record of this snapshot
  std::uint64_t sequence_ = 0;
};

}  // namespace lightning

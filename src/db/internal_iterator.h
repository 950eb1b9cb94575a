// InternalIterator: ordered traversal over internal entries (see dbformat.h),
// every version of every key, tombstones included. Sources (memtables, and in
// later versions run files and the B+tree) implement it; DbIterator turns it
// into the user-visible Iterator.
//
// Thread safety: one thread at a time per iterator.
#pragma once

#include <string_view>

#include "lightning/status.h"

namespace lightning {

class InternalIterator {
 public:
  virtual ~InternalIterator() = default;
  virtual bool valid() const = 0;
  // First entry whose internal key >= target (an internal key).
  virtual void seek(std::string_view internal_target) = 0;
  // Last entry whose internal key <= target (an internal key).
  virtual void seek_for_prev(std::string_view internal_target) = 0;
  virtual void seek_to_first() = 0;
  virtual void seek_to_last() = 0;
  // REQUIRES: valid()
  virtual void next() = 0;
  // REQUIRES: valid()
  virtual void prev() = 0;
  // REQUIRES: valid(). The internal key; valid until the iterator moves.
  virtual std::string_view key() const = 0;
  // REQUIRES: valid(). Empty for tombstones.
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

}  // namespace lightning

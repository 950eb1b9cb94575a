// WriteBatch: an ordered group of puts and removes applied atomically.
//
// Database::write(batch) applies every operation or none, also across a crash:
// a batch is one WAL record. Operations apply in insertion order, so a later
// put of the same key wins.
//
// Thread safety: not thread-safe; one thread builds a batch at a time. A
// batch may be reused (clear()) after write() returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/status.h"

namespace lightning {

class WriteBatch {
 public:
  WriteBatch();
  WriteBatch(const WriteBatch&) = default;
  WriteBatch& operator=(const WriteBatch&) = default;
  WriteBatch(WriteBatch&&) noexcept = default;
  WriteBatch& operator=(WriteBatch&&) noexcept = default;
  ~WriteBatch() = default;

  // Queues a put. Key and value are copied. Size limits are checked here
  // (InvalidArgument naming the key), so a batch never holds an invalid entry.
  Status put(std::string_view key, std::string_view value);
  // Queues a remove (a tombstone). Removing an absent key is not an error.
  Status remove(std::string_view key);
  void clear();

  // Number of queued operations.
  std::uint32_t count() const;
  bool empty() const { return count() == 0; }
  // Encoded size in bytes (what the WAL record payload will hold).
  std::size_t byte_size() const { return rep_.size(); }

  // Calls handler.put(key, value) / handler.remove(key) in order.
  // The views are valid only during the call.
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void put(std::string_view key, std::string_view value) = 0;
    virtual void remove(std::string_view key) = 0;
  };
  Status iterate(Handler& handler) const;

 private:
  friend class WriteBatchInternal;
  // Encoding (docs/format/wal.md, "batch payload"):
  //   sequence fixed64 | count fixed32 | entry*
  //   entry := kind u8 | varint32 key_len | key | [varint32 value_len | value]
  std::string rep_;
};

}  // namespace lightning

// Engine-side access to a WriteBatch's encoding (the WAL record payload).
//
//   rep := sequence fixed64 | count fixed32 | entry*
//   entry := kind u8 (ValueKind) | varint32 key_len | key
//            [ | varint32 value_len | value ]   (kPut only)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "db/dbformat.h"
#include "lightning/status.h"
#include "lightning/write_batch.h"

namespace lightning {

class MemTable;

class WriteBatchInternal {
 public:
  static constexpr std::size_t kHeaderSize = 12;

  static SequenceNumber sequence(const WriteBatch& b);
  static void set_sequence(WriteBatch& b, SequenceNumber seq);
  static std::string_view contents(const WriteBatch& b) { return b.rep_; }
  // Replaces b's contents with a payload read from the WAL after checking
  // that it decodes completely (Corruption otherwise, naming what is wrong).
  static Status set_contents(WriteBatch& b, std::string_view payload);

  struct InsertCounts {
    std::uint64_t puts = 0;
    std::uint64_t removes = 0;
    std::uint64_t user_bytes = 0;  // key + value bytes
  };
  // Inserts every entry into mem with sequence numbers seq, seq+1, ...
  // REQUIRES: b was validated (built through the API or set_contents).
  static InsertCounts insert_into(const WriteBatch& b, SequenceNumber seq, MemTable& mem);
};

// Size rules shared by Database and WriteBatch: InvalidArgument naming the key.
Status check_key(std::string_view key);
Status check_value(std::string_view key, std::string_view value);

}  // namespace lightning

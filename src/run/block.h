// Blocks of a run file: sorted (key, value) entries with prefix-compressed
// keys and restart points (docs/format/run.md).
//
//   block payload := entry* restart u32le[num_restarts] num_restarts u32le
//   entry := shared varint32 | unshared varint32 | value_len varint32
//            | key_delta[unshared] | value[value_len]
//
// A key shares `shared` bytes with the previous key of the block; at a
// restart point shared is 0 and restart[i] is the entry's offset. Keys are
// compared with a caller-supplied order (internal keys for data blocks and
// the index).
//
// Thread safety: a BlockBuilder is single-threaded. A BlockReader is
// immutable; each BlockIterator is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "db/internal_iterator.h"
#include "lightning/status.h"

namespace lightning::run {

class BlockBuilder {
 public:
  // REQUIRES: restart_interval >= 1.
  explicit BlockBuilder(int restart_interval);
  // REQUIRES: key > every key added since reset() (the caller's order).
  void add(std::string_view key, std::string_view value);
  // Appends the restart array; the payload stays valid until reset().
  std::string_view finish();
  void reset();
  // Payload size if finished now.
  std::size_t size_estimate() const;
  bool empty() const { return counter_ == 0 && buffer_.empty(); }
  std::string_view last_key() const { return last_key_; }

 private:
  const int restart_interval_;
  std::string buffer_;
  std::string restarts_;  // u32le offsets
  std::uint32_t num_restarts_ = 0;
  int counter_ = 0;  // entries since the last restart
  bool finished_ = false;
  std::string last_key_;
};

// Key order of a block: <0, 0, >0.
using KeyCompare = int (*)(std::string_view, std::string_view);

// Names a block in errors: "<file> block at offset N". `file` must outlive
// the readers and iterators that use it.
struct BlockLocation {
  const std::string* file = nullptr;
  std::uint64_t offset = 0;
  std::string to_string() const;
};

// A parsed block (no allocation: opening one is cheap).
class BlockReader {
 public:
  // Corruption unless the restart array fits the payload.
  static Result<BlockReader> open(std::string_view payload, BlockLocation where);
  // An iterator over the entries; the payload must outlive it. Entries that
  // fail to decode stop it with Corruption naming the block.
  std::unique_ptr<InternalIterator> new_iterator(KeyCompare compare) const;
  std::uint32_t num_restarts() const { return num_restarts_; }

 private:
  BlockReader(std::string_view data, std::uint32_t restarts_offset, std::uint32_t num_restarts,
              BlockLocation where)
      : data_(data), restarts_offset_(restarts_offset), num_restarts_(num_restarts), where_(where) {}
  std::string_view data_;
  std::uint32_t restarts_offset_;
  std::uint32_t num_restarts_;
  BlockLocation where_;
};

}  // namespace lightning::run

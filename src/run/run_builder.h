// RunBuilder: writes one sorted run file (docs/format/run.md) from entries
// given in internal-key order (user key ascending, sequence descending).
//
// Errors: the first failed append is returned by every later call. The
// builder never syncs; the caller syncs and closes the file and only then
// makes the run part of the database.
// Thread safety: single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/status.h"
#include "run/block.h"
#include "run/bloom.h"
#include "run/run_format.h"

namespace lightning::run {

struct RunBuilderOptions {
  std::size_t block_size = 4096;  // upper bound of a stored data block (payload + trailer), unless one entry is larger
  int restart_interval = 16;      // keys between restart points
  int bloom_bits_per_key = 10;    // 0: no filter (every lookup reads the index)
};

class RunBuilder {
 public:
  // `file` must be empty (size 0) and outlive the builder.
  RunBuilder(WritableFile* file, const RunBuilderOptions& options);

  // REQUIRES: internal_key > the previous key (compare_internal_keys), and a
  // valid internal key (parse_internal_key succeeds).
  Status add(std::string_view internal_key, std::string_view value);
  // Writes the last data block, the filter, properties, index and footer.
  Status finish();
  std::uint64_t entries() const { return props_.entries; }
  const RunProperties& properties() const { return props_; }
  // Bytes written so far (the file size after finish()).
  std::uint64_t file_size() const { return offset_; }

 private:
  Status flush_data_block();
  Status write_block(std::string_view payload, BlockHandle* handle);

  WritableFile* const file_;
  const RunBuilderOptions options_;
  BlockBuilder data_;
  BlockBuilder index_;
  BloomBuilder bloom_;
  RunProperties props_;
  std::string last_user_key_;
  bool has_last_user_key_ = false;
  std::string scratch_;
  std::uint64_t offset_ = 0;
  Status status_;
  bool finished_ = false;
};

}  // namespace lightning::run

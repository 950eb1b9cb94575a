// RunReader: reads one run file (docs/format/run.md). Opening reads and
// checks the footer, the properties, the index and the bloom filter (kept in
// memory); data blocks are read through the shared page cache, keyed by
// (file_id, block offset), and verified against their trailer checksum when
// read from the file.
//
// Thread safety: a RunReader is immutable after open(); get() and
// new_iterator() may be called concurrently. Each iterator is used by one
// thread at a time; it keeps the reader alive (shared ownership).
// Errors: Corruption names the file and the block offset.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "db/dbformat.h"
#include "db/internal_iterator.h"
#include "lightning/file_system.h"
#include "lightning/status.h"
#include "pagestore/page_cache.h"
#include "run/block.h"
#include "run/run_format.h"

namespace lightning::run {

// Counters a reader adds to (owned by the caller, shared by many readers).
struct RunReadStats {
  std::atomic<std::uint64_t> bloom_useful{0};           // lookups the filter answered "absent"
  std::atomic<std::uint64_t> bloom_false_positives{0};  // filter said "maybe", key absent
  std::atomic<std::uint64_t> runs_probed{0};            // lookups that read a data block
};

class RunReader : public std::enable_shared_from_this<RunReader> {
 public:
  struct Options {
    PageCache* cache = nullptr;   // required; outlives the reader
    std::uint64_t file_id = 0;    // cache key namespace (unique per file)
    RunReadStats* stats = nullptr;  // may be null
  };
  static Result<std::shared_ptr<RunReader>> open(FileSystem& fs, const std::string& path, const Options& options);
  ~RunReader();

  enum class Lookup { kNotFound, kFound, kDeleted };
  // The newest entry for user_key with sequence <= snapshot: kFound (value
  // set), kDeleted (a tombstone) or kNotFound.
  Result<Lookup> get(std::string_view user_key, SequenceNumber snapshot, std::string* value) const;
  // False when user_key is certainly not in the run (key range, bloom filter).
  bool may_contain(std::string_view user_key) const;

  // Every entry, in internal-key order, both directions.
  std::unique_ptr<InternalIterator> new_iterator() const;

  // Deletes the file through fs when the last reference to this reader is
  // dropped (the run was merged; readers may still be using it). Called
  // once, by the owner, while it holds a reference.
  void delete_file_when_unused(std::shared_ptr<FileSystem> fs) const { delete_with_ = std::move(fs); }

  const RunProperties& properties() const { return props_; }
  const std::string& path() const { return path_; }
  std::uint64_t file_size() const { return file_size_; }
  std::uint64_t file_id() const { return file_id_; }

  // Reads (through the cache) the data block at handle; the payload is
  // data().first(handle.size).
  Result<PageHandle> read_block(const BlockHandle& handle) const;
  // read_block, pinned in *pin, opened as a block (valid while *pin is).
  Result<BlockReader> open_block(const BlockHandle& handle, PageHandle* pin) const;
  std::string_view index_block() const { return index_; }

 private:
  RunReader(std::string path, const Options& options);
  Result<std::string> read_raw(const BlockHandle& handle) const;
  // Reads the stored block at handle (payload + trailer) into out and checks
  // its bounds, length and trailer. REQUIRES: out.size() >= stored size.
  Status read_stored(const BlockHandle& handle, std::span<std::byte> out) const;

  const std::string path_;
  PageCache* const cache_;
  const std::uint64_t file_id_;
  RunReadStats* const stats_;
  std::unique_ptr<ReadableFile> file_;
  std::uint64_t file_size_ = 0;
  RunProperties props_;
  std::string index_;   // index block payload
  std::string filter_;  // bloom filter (empty: none)
  mutable std::shared_ptr<FileSystem> delete_with_;  // set once an obsolete run is scheduled for deletion
};

// Index values: varint64 offset | varint64 size.
bool decode_block_handle(std::string_view in, BlockHandle* h);

}  // namespace lightning::run

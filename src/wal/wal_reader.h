// WalReader: reads logical records back from one WAL segment.
//
// Damage handling (the recovery rules of docs/format/wal.md). "Damage" at
// file offset X is any of: a fragment that fails its checksum, has an unknown
// type, a length that runs past its block (or past end of file), an
// out-of-sequence type (kMiddle/kLast outside a record, kFull/kFirst inside
// one), a truncated fragment header at end of file, or zero-filled space.
// On damage the reader looks for an intact fragment of type kFull or kFirst
// after X: at the start of every later block, and along the chain of
// fragment lengths from each block start (and from X itself when X's length
// field is in bounds). Then:
//  - something intact follows  -> kCorruption; status() is Corruption naming
//    the file, X, and the offset of the intact fragment.
//  - nothing intact follows, and X is zero-filled space that starts at
//    good_end() (not inside a record) with only zero bytes up to EOF -> kEnd.
//  - otherwise -> kTornTail: a crash interrupted the last append(s).
//    A record whose fragments run into EOF (kFirst, then EOF) is a torn tail.
// A bad segment header (including a file shorter than 32 bytes) is reported
// by read_header() as Corruption; an unknown version or codec as NotSupported.
// An I/O error while reading is reported as kCorruption with status() an
// IOError naming the file and offset.
// After any outcome other than kRecord the reader is finished: later next()
// calls return the same outcome. good_end() never includes trailer padding.
//
// Memory: one block plus the record being assembled (bounded by the record
// size, hence by the file size).
// Thread safety: not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/status.h"
#include "wal/wal_format.h"

namespace lightning::wal {

class WalReader {
 public:
  enum class Outcome {
    kRecord,      // *record holds the next logical record
    kEnd,         // clean end of segment (EOF, or only zero bytes after good_end())
    kTornTail,    // damage with nothing intact after it (see good_end())
    kCorruption,  // damage followed by intact records, or an I/O error (see status())
  };

  // `name` is used in messages. The reader reads the file in blocks.
  // `file` must outlive the reader.
  WalReader(const ReadableFile& file, std::string name);
  WalReader(const WalReader&) = delete;
  WalReader& operator=(const WalReader&) = delete;

  // Reads and verifies the segment header; Corruption if bad or if the
  // header's segment number differs from expected_segment_number;
  // NotSupported for an unknown version or codec; IOError if unreadable.
  Status read_header(std::uint64_t expected_segment_number);

  // REQUIRES: read_header() returned ok (otherwise returns kCorruption).
  Outcome next(std::string* record);

  // File offset just past the last intact record returned (the length to
  // truncate a torn segment to); kSegmentHeaderSize before any record, 0 if
  // the header is bad. Valid after any next() call.
  std::uint64_t good_end() const { return good_end_; }
  // File offset where the last returned record started.
  std::uint64_t record_offset() const { return record_offset_; }
  // For kCorruption (and I/O errors): names the file and offset.
  const Status& status() const { return status_; }
  // Size of the file when read_header() ran; file_size() - good_end() is the
  // number of bytes a torn tail (or zero fill) occupies (for stats).
  std::uint64_t file_size() const { return file_size_; }

 private:
  // One fragment as parsed from the current block.
  struct Fragment {
    enum class Kind { kOk, kEof, kZero, kBad, kIOError } kind = Kind::kEof;
    std::uint64_t offset = 0;  // file offset of the fragment header
    FragmentType type = FragmentType::kZero;
    std::string_view payload;  // into block_; valid until the next read
    std::string reason;        // for kBad
    // For kBad: block-relative position just past the damaged fragment when
    // its length field is in bounds (where the length chain continues).
    std::optional<std::size_t> chain_next;
  };
  // What scanning forward from a damage point found.
  struct ScanResult {
    std::optional<std::uint64_t> intact_start;  // offset of a kFull/kFirst
    bool all_zero = true;                       // every byte scanned is zero
    Status io_error;
  };

  // Reads block `index` (at most kBlockSize bytes, fewer at EOF) into *buf.
  Status load_block(std::uint64_t index, std::string* buf) const;
  Fragment read_fragment();
  ScanResult scan_forward(std::uint64_t block_index, std::size_t zero_from,
                          std::optional<std::size_t> chain_from) const;
  Outcome on_damage(const Fragment& f, bool in_record, std::uint64_t record_start);
  Outcome finish(Outcome outcome);

  const ReadableFile& file_;
  const std::string name_;
  std::uint64_t file_size_ = 0;
  std::uint64_t good_end_ = 0;
  std::uint64_t record_offset_ = 0;
  Status status_;
  bool header_ok_ = false;
  std::optional<Outcome> final_;  // set once the reader is finished

  std::string block_;              // the current block's bytes
  std::uint64_t block_index_ = 0;  // which block block_ holds
  bool block_loaded_ = false;
  std::size_t pos_in_block_ = 0;  // next unread byte of block_
};

}  // namespace lightning::wal

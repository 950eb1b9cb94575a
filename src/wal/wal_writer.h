// WalWriter: appends framed records to one WAL segment.
//
// Records are framed into memory by add_record(); flush() hands everything
// framed so far to the file in a single append; sync() flushes and fsyncs.
// The group-commit leader calls add_record() once per batch of its group,
// then sync() (or flush() in Periodic/NoSync mode) once.
//
// Thread safety: not thread-safe; the caller serializes all calls.
// Errors: the first failed append, sync or close is returned and remembered;
// every later call returns it again (the segment is unusable after a failure;
// a failed sync is never retried as if nothing happened). Calls after close()
// return InvalidArgument. Bytes framed but not flushed when the writer is
// destroyed are dropped (destruction closes the file without flushing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/status.h"
#include "wal/wal_format.h"

namespace lightning::wal {

class WalWriter {
 public:
  // Writes the segment header into the pending buffer (it reaches the file
  // with the first flush()). `file` must be empty. `name` is used in errors.
  WalWriter(std::unique_ptr<WritableFile> file, std::string name, std::uint64_t segment_number);
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  // Frames payload (non-empty, any size) as one logical record: one kFull
  // fragment, or kFirst, kMiddle*, kLast (see wal_format.h). Nothing reaches
  // the file until flush(). An empty payload is InvalidArgument (not sticky).
  Status add_record(std::string_view payload);
  // Appends all framed bytes to the file (one WritableFile::append call).
  Status flush();
  // flush() then WritableFile::sync().
  Status sync();
  // Closes the file (after flush()); does not sync. A second close() returns
  // the sticky error (ok if none).
  Status close();

  // Segment size including bytes framed but not yet flushed.
  std::uint64_t size() const;
  // Framed bytes appended to the file so far (header included).
  std::uint64_t bytes_flushed() const { return flushed_; }
  const std::string& name() const { return name_; }
  std::uint64_t segment_number() const { return segment_number_; }

 private:
  // Appends one fragment header + payload to pending_.
  // REQUIRES: block_offset_ + kFragmentHeaderSize + n <= kBlockSize.
  void emit_fragment(FragmentType type, const char* data, std::size_t n);

  std::unique_ptr<WritableFile> file_;  // null after close()
  const std::string name_;
  const std::uint64_t segment_number_;
  std::string pending_;           // framed, not yet appended
  std::uint64_t flushed_ = 0;     // bytes appended to file_
  std::size_t block_offset_ = 0;  // offset within the current block (of all framed bytes)
  Status error_;                  // sticky
};

}  // namespace lightning::wal

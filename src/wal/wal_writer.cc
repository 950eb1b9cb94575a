#include "wal/wal_writer.h"

#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>

#include "util/coding.h"
#include "util/crc32c.h"
#include "wal/wal_format.h"

namespace lightning::wal {

namespace {

// A buffer left this large by a huge record is released after it is flushed,
// so one 100 MiB batch does not pin 100 MiB for the life of the segment.
constexpr std::size_t kMaxRetainedBuffer = 1 << 20;

void encode_segment_header(char* dst, std::uint64_t segment_number) {
  std::fill(dst, dst + kSegmentHeaderSize, '\0');
  encode_fixed64(dst + offsetof(SegmentHeader, magic), kWalMagic);
  encode_fixed32(dst + offsetof(SegmentHeader, version), kWalFormatVersion);
  dst[offsetof(SegmentHeader, codec)] = static_cast<char>(kCodecNone);
  encode_fixed64(dst + offsetof(SegmentHeader, segment_number), segment_number);
  const std::uint32_t crc = crc32c::value(dst, offsetof(SegmentHeader, crc));
  encode_fixed32(dst + offsetof(SegmentHeader, crc), crc32c::mask(crc));
}

}  // namespace

WalWriter::WalWriter(std::unique_ptr<WritableFile> file, std::string name,
                     std::uint64_t segment_number)
    : file_(std::move(file)), name_(std::move(name)), segment_number_(segment_number) {
  if (file_ == nullptr) {
    error_ = Status::invalid_argument(name_ + ": WalWriter needs a file");
    return;
  }
  if (file_->size() != 0) {
    error_ = Status::invalid_argument(name_ + ": WAL segment file is not empty (" +
                                      std::to_string(file_->size()) + " bytes)");
    return;
  }
  char header[kSegmentHeaderSize];
  encode_segment_header(header, segment_number_);
  pending_.assign(header, kSegmentHeaderSize);
}

void WalWriter::emit_fragment(FragmentType type, const char* data, std::size_t n) {
  char header[kFragmentHeaderSize];
  const char type_byte = static_cast<char>(type);
  std::uint32_t crc = crc32c::value(&type_byte, 1);
  crc = crc32c::extend(crc, data, n);
  encode_fixed32(header, crc32c::mask(crc));
  encode_fixed16(header + 4, static_cast<std::uint16_t>(n));
  header[6] = type_byte;
  pending_.append(header, kFragmentHeaderSize);
  pending_.append(data, n);
  block_offset_ += kFragmentHeaderSize + n;
}

Status WalWriter::add_record(std::string_view payload) {
  if (!error_.is_ok()) return error_;
  if (file_ == nullptr) return Status::invalid_argument(name_ + ": WAL writer is closed");
  if (payload.empty()) return Status::invalid_argument(name_ + ": empty WAL record");

  const char* p = payload.data();
  std::size_t left = payload.size();
  bool begin = true;
  do {
    const std::size_t leftover = kBlockSize - block_offset_;
    if (leftover < kFragmentHeaderSize) {
      pending_.append(leftover, '\0');  // trailer
      block_offset_ = 0;
    }
    // A block with exactly kFragmentHeaderSize bytes left gets an empty
    // kFirst fragment, as LevelDB does.
    const std::size_t avail = kBlockSize - block_offset_ - kFragmentHeaderSize;
    const std::size_t n = std::min(left, avail);
    const bool end = (n == left);
    const FragmentType type = begin && end ? FragmentType::kFull
                              : begin      ? FragmentType::kFirst
                              : end        ? FragmentType::kLast
                                           : FragmentType::kMiddle;
    emit_fragment(type, p, n);
    p += n;
    left -= n;
    begin = false;
  } while (left > 0);
  return Status::ok();
}

Status WalWriter::flush() {
  if (!error_.is_ok()) return error_;
  if (file_ == nullptr) return Status::invalid_argument(name_ + ": WAL writer is closed");
  if (pending_.empty()) return Status::ok();
  Status st = file_->append(std::as_bytes(std::span<const char>(pending_.data(), pending_.size())));
  if (!st.is_ok()) {
    error_ = st.with_context(name_ + ": WAL append of " + std::to_string(pending_.size()) +
                             " bytes at offset " + std::to_string(flushed_) + " failed");
    return error_;
  }
  flushed_ += pending_.size();
  if (pending_.capacity() > kMaxRetainedBuffer) {
    std::string().swap(pending_);
  } else {
    pending_.clear();
  }
  return Status::ok();
}

Status WalWriter::sync() {
  LIGHTNING_RETURN_IF_ERROR(flush());
  Status st = file_->sync();
  if (!st.is_ok()) {
    // Never retried: after a failed fsync the page cache state is unknown.
    error_ = st.with_context(name_ + ": WAL sync at size " + std::to_string(flushed_) + " failed");
    return error_;
  }
  return Status::ok();
}

Status WalWriter::close() {
  if (file_ == nullptr) return error_;  // already closed (or never had a file)
  Status st = flush();
  Status close_st = file_->close();
  file_.reset();
  if (!st.is_ok()) return st;
  if (!close_st.is_ok()) {
    error_ = close_st.with_context(name_ + ": WAL close failed");
    return error_;
  }
  return Status::ok();
}

std::uint64_t WalWriter::size() const { return flushed_ + pending_.size(); }

}  // namespace lightning::wal

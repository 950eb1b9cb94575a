#include "wal/wal_reader.h"

#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>

#include "util/coding.h"
#include "util/crc32c.h"

namespace lightning::wal {

namespace {

// The result of parsing the fragment header at buf[pos].
struct Parsed {
  enum class Kind { kOk, kZero, kTruncatedHeader, kBadType, kTooLong, kBadCrc } kind;
  FragmentType type = FragmentType::kZero;
  std::size_t length = 0;
};

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

// Never reads outside buf.
Parsed parse_fragment(const std::string& buf, std::size_t pos) {
  Parsed p{};
  if (pos > buf.size() || buf.size() - pos < kFragmentHeaderSize) {
    p.kind = Parsed::Kind::kTruncatedHeader;
    return p;
  }
  const char* h = buf.data() + pos;
  const std::uint32_t stored_crc = decode_fixed32(h);
  p.length = decode_fixed16(h + 4);
  const auto type = static_cast<std::uint8_t>(h[6]);
  p.type = static_cast<FragmentType>(type);
  if (type == 0 && p.length == 0 && stored_crc == 0) {
    p.kind = Parsed::Kind::kZero;
  } else if (type == 0 || type > kMaxFragmentType) {
    p.kind = Parsed::Kind::kBadType;
  } else if (p.length > buf.size() - pos - kFragmentHeaderSize) {
    p.kind = Parsed::Kind::kTooLong;
  } else {
    std::uint32_t crc = crc32c::value(h + 6, 1);
    crc = crc32c::extend(crc, h + kFragmentHeaderSize, p.length);
    p.kind = crc32c::unmask(stored_crc) == crc ? Parsed::Kind::kOk : Parsed::Kind::kBadCrc;
  }
  return p;
}

// Whether the length field of p can be followed to the next fragment.
bool length_in_bounds(const Parsed& p) {
  return p.kind == Parsed::Kind::kBadType || p.kind == Parsed::Kind::kBadCrc ||
         p.kind == Parsed::Kind::kOk;
}

const char* type_name(FragmentType t) {
  switch (t) {
    case FragmentType::kZero:
      return "zero";
    case FragmentType::kFull:
      return "full";
    case FragmentType::kFirst:
      return "first";
    case FragmentType::kMiddle:
      return "middle";
    case FragmentType::kLast:
      return "last";
  }
  return "unknown";
}

}  // namespace

WalReader::WalReader(const ReadableFile& file, std::string name)
    : file_(file), name_(std::move(name)) {}

Status WalReader::read_header(std::uint64_t expected_segment_number) {
  header_ok_ = false;
  good_end_ = 0;
  final_.reset();
  block_index_ = 0;
  block_loaded_ = false;
  pos_in_block_ = 0;

  Result<std::uint64_t> size = file_.size();
  if (!size) {
    status_ =
        Status::io_error(name_ + ": cannot get WAL segment size: " + size.status().to_string());
    return status_;
  }
  file_size_ = *size;
  char h[kSegmentHeaderSize];
  std::size_t got = 0;
  if (file_size_ >= kSegmentHeaderSize) {
    Result<std::size_t> r = file_.read_at(0, std::as_writable_bytes(std::span<char>(h, sizeof h)));
    if (!r) {
      status_ = Status::io_error(
          name_ + ": reading WAL segment header at offset 0 failed: " + r.status().to_string());
      return status_;
    }
    got = *r;
  }
  if (file_size_ < kSegmentHeaderSize || got < kSegmentHeaderSize) {
    status_ = Status::corruption(name_ + ": WAL segment header truncated at offset 0 (file has " +
                                 std::to_string(file_size_) + " bytes, header needs " +
                                 std::to_string(kSegmentHeaderSize) + ")");
    return status_;
  }
  const std::uint64_t magic = decode_fixed64(h + offsetof(SegmentHeader, magic));
  const std::uint32_t version = decode_fixed32(h + offsetof(SegmentHeader, version));
  const auto codec = static_cast<std::uint8_t>(h[offsetof(SegmentHeader, codec)]);
  const std::uint64_t number = decode_fixed64(h + offsetof(SegmentHeader, segment_number));
  const std::uint32_t stored_crc = decode_fixed32(h + offsetof(SegmentHeader, crc));
  const std::string where = name_ + ": WAL segment header at offset 0: ";
  if (magic != kWalMagic) {
    status_ = Status::corruption(where + "bad magic");
    return status_;
  }
  if (crc32c::unmask(stored_crc) != crc32c::value(h, offsetof(SegmentHeader, crc))) {
    status_ = Status::corruption(where + "checksum mismatch");
    return status_;
  }
  if (version != kWalFormatVersion) {
    status_ =
        Status::not_supported(where + "unsupported format version " + std::to_string(version));
    return status_;
  }
  if (codec != kCodecNone) {
    status_ = Status::not_supported(where + "unsupported codec " + std::to_string(codec));
    return status_;
  }
  if (number != expected_segment_number) {
    status_ = Status::corruption(where + "segment number " + std::to_string(number) +
                                 ", expected " + std::to_string(expected_segment_number));
    return status_;
  }
  header_ok_ = true;
  good_end_ = kSegmentHeaderSize;
  status_ = Status::ok();
  return status_;
}

Status WalReader::load_block(std::uint64_t index, std::string* buf) const {
  const std::uint64_t start = block_start(index);
  if (start >= file_size_) {
    buf->clear();
    return Status::ok();
  }
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kBlockSize, file_size_ - start));
  buf->resize(n);
  Result<std::size_t> r =
      file_.read_at(start, std::as_writable_bytes(std::span<char>(buf->data(), n)));
  if (!r) return r.status();
  buf->resize(std::min(*r, n));  // a short read means the file shrank: EOF there
  return Status::ok();
}

WalReader::Fragment WalReader::read_fragment() {
  for (;;) {
    Fragment f;
    if (!block_loaded_) {
      Status st = load_block(block_index_, &block_);
      if (!st.is_ok()) {
        f.kind = Fragment::Kind::kIOError;
        f.offset = block_start(block_index_);
        status_ = Status::io_error(name_ + ": reading WAL block at offset " +
                                   std::to_string(f.offset) + " failed: " + st.to_string());
        return f;
      }
      block_loaded_ = true;
      pos_in_block_ = 0;
    }
    f.offset = block_start(block_index_) + pos_in_block_;
    const bool full_block = block_.size() == kBlockSize;
    const std::size_t remaining = block_.size() - pos_in_block_;
    if (remaining < kFragmentHeaderSize) {
      if (full_block) {  // trailer: skip to the next block
        ++block_index_;
        block_loaded_ = false;
        continue;
      }
      if (remaining == 0) {
        f.kind = Fragment::Kind::kEof;
      } else if (all_zero(std::string_view(block_).substr(pos_in_block_))) {
        f.kind = Fragment::Kind::kZero;
      } else {
        f.kind = Fragment::Kind::kBad;
        f.reason = "truncated fragment header";
      }
      return f;
    }
    const Parsed p = parse_fragment(block_, pos_in_block_);
    if (length_in_bounds(p)) f.chain_next = pos_in_block_ + kFragmentHeaderSize + p.length;
    switch (p.kind) {
      case Parsed::Kind::kOk:
        f.kind = Fragment::Kind::kOk;
        f.type = p.type;
        f.payload = std::string_view(block_).substr(pos_in_block_ + kFragmentHeaderSize, p.length);
        pos_in_block_ += kFragmentHeaderSize + p.length;
        return f;
      case Parsed::Kind::kZero:
        f.kind = Fragment::Kind::kZero;
        return f;
      case Parsed::Kind::kTruncatedHeader:  // not reached: remaining >= header size
        f.kind = Fragment::Kind::kBad;
        f.reason = "truncated fragment header";
        return f;
      case Parsed::Kind::kBadType:
        f.kind = Fragment::Kind::kBad;
        f.reason = "unknown fragment type " + std::to_string(static_cast<unsigned>(p.type));
        return f;
      case Parsed::Kind::kTooLong:
        f.kind = Fragment::Kind::kBad;
        f.reason = "fragment length " + std::to_string(p.length) +
                   (full_block ? " runs past the end of its block" : " runs past the end of file");
        return f;
      case Parsed::Kind::kBadCrc:
        f.kind = Fragment::Kind::kBad;
        f.reason = "fragment checksum mismatch";
        return f;
    }
  }
}

WalReader::ScanResult WalReader::scan_forward(std::uint64_t block_index, std::size_t zero_from,
                                              std::optional<std::size_t> chain_from) const {
  ScanResult r;
  std::string buf;
  for (std::uint64_t b = block_index;; ++b) {
    r.io_error = load_block(b, &buf);
    if (!r.io_error.is_ok()) {
      r.io_error = r.io_error.with_context("block at offset " + std::to_string(block_start(b)));
      return r;
    }
    if (buf.empty()) break;
    if (r.all_zero) {
      const std::size_t z = b == block_index ? std::min(zero_from, buf.size()) : 0;
      r.all_zero = all_zero(std::string_view(buf).substr(z));
    }
    // Follow the chain of fragment lengths while fragments are intact.
    std::optional<std::size_t> pos = b == block_index ? chain_from : std::optional<std::size_t>(0);
    while (pos.has_value()) {
      const Parsed p = parse_fragment(buf, *pos);
      if (p.kind != Parsed::Kind::kOk) break;
      if (p.type == FragmentType::kFull || p.type == FragmentType::kFirst) {
        r.intact_start = block_start(b) + *pos;
        return r;
      }
      *pos += kFragmentHeaderSize + p.length;
    }
    if (buf.size() < kBlockSize) break;
  }
  return r;
}

WalReader::Outcome WalReader::finish(Outcome outcome) {
  final_ = outcome;
  return outcome;
}

WalReader::Outcome WalReader::on_damage(const Fragment& f, bool in_record,
                                        std::uint64_t record_start) {
  const bool zero = f.kind == Fragment::Kind::kZero;
  const std::size_t pos = static_cast<std::size_t>(f.offset - block_start(block_index_));
  const ScanResult r = scan_forward(block_index_, pos, zero ? std::nullopt : f.chain_next);
  if (!r.io_error.is_ok()) {
    status_ = Status::io_error(name_ + ": reading WAL while checking damage at offset " +
                               std::to_string(f.offset) + " failed: " + r.io_error.to_string());
    return finish(Outcome::kCorruption);
  }
  if (r.intact_start.has_value()) {
    std::string msg = name_ + ": " + (zero ? std::string("zero-filled space") : f.reason) +
                      " at offset " + std::to_string(f.offset);
    if (in_record) msg += " inside the record starting at offset " + std::to_string(record_start);
    msg += "; an intact record follows at offset " + std::to_string(*r.intact_start);
    status_ = Status::corruption(msg);
    return finish(Outcome::kCorruption);
  }
  if (zero && !in_record && r.all_zero) return finish(Outcome::kEnd);
  return finish(Outcome::kTornTail);
}

WalReader::Outcome WalReader::next(std::string* record) {
  if (!header_ok_) {
    status_ = Status::invalid_argument(name_ + ": WalReader::next() before a good read_header()");
    return Outcome::kCorruption;
  }
  if (final_.has_value()) return *final_;
  record->clear();
  bool in_record = false;
  std::uint64_t record_start = 0;
  for (;;) {
    Fragment f = read_fragment();
    switch (f.kind) {
      case Fragment::Kind::kIOError:
        record->clear();
        return finish(Outcome::kCorruption);
      case Fragment::Kind::kEof:
        record->clear();
        return finish(in_record ? Outcome::kTornTail : Outcome::kEnd);
      case Fragment::Kind::kZero:
      case Fragment::Kind::kBad:
        record->clear();
        return on_damage(f, in_record, record_start);
      case Fragment::Kind::kOk:
        break;
    }
    const bool starts = f.type == FragmentType::kFull || f.type == FragmentType::kFirst;
    if (starts && in_record) {
      // The open record lost its end, yet an intact record follows.
      record->clear();
      status_ =
          Status::corruption(name_ + ": record starting at offset " + std::to_string(record_start) +
                             " is cut off by a " + type_name(f.type) + " fragment at offset " +
                             std::to_string(f.offset));
      return finish(Outcome::kCorruption);
    }
    if (!starts && !in_record) {
      f.kind = Fragment::Kind::kBad;
      f.reason = std::string(type_name(f.type)) + " fragment outside a record";
      f.chain_next = pos_in_block_;  // just past this (intact) fragment
      record->clear();
      return on_damage(f, in_record, record_start);
    }
    switch (f.type) {
      case FragmentType::kFull:
        record->assign(f.payload);
        record_offset_ = f.offset;
        good_end_ = f.offset + kFragmentHeaderSize + f.payload.size();
        return Outcome::kRecord;
      case FragmentType::kFirst:
        in_record = true;
        record_start = f.offset;
        record->assign(f.payload);
        break;
      case FragmentType::kMiddle:
        record->append(f.payload);
        break;
      case FragmentType::kLast:
        record->append(f.payload);
        record_offset_ = record_start;
        good_end_ = f.offset + kFragmentHeaderSize + f.payload.size();
        return Outcome::kRecord;
      case FragmentType::kZero:  // not reached: parse_fragment rejects type 0
        break;
    }
  }
}

}  // namespace lightning::wal

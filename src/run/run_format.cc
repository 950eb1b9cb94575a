#include "run/run_format.h"

#include <cstring>

#include "util/coding.h"
#include "util/crc32c.h"

namespace lightning::run {

namespace {
constexpr std::size_t kCrcOffset = 12;
}  // namespace

void encode_footer(const Footer& f, char* out) {
  encode_fixed64(out, kRunMagic);
  encode_fixed32(out + 8, kRunFormatVersion);
  encode_fixed32(out + kCrcOffset, 0);
  char* p = out + 16;
  for (const BlockHandle& h : {f.index, f.filter, f.props}) {
    encode_fixed64(p, h.offset);
    encode_fixed64(p + 8, h.size);
    p += 16;
  }
  encode_fixed32(out + kCrcOffset, crc32c::mask(crc32c::value(out, kFooterSize)));
}

Result<Footer> decode_footer(std::string_view bytes, std::uint64_t file_size, const std::string& where) {
  if (bytes.size() != kFooterSize || file_size < kFooterSize) {
    return Status::corruption(where + ": file too short for a run footer");
  }
  if (decode_fixed64(bytes.data()) != kRunMagic) return Status::corruption(where + ": not a run file (bad magic)");
  const std::uint32_t version = decode_fixed32(bytes.data() + 8);
  if (version != kRunFormatVersion) {
    return Status::corruption(where + ": unknown run format version " + std::to_string(version));
  }
  char copy[kFooterSize];
  std::memcpy(copy, bytes.data(), kFooterSize);
  encode_fixed32(copy + kCrcOffset, 0);
  if (crc32c::mask(crc32c::value(copy, kFooterSize)) != decode_fixed32(bytes.data() + kCrcOffset)) {
    return Status::corruption(where + ": run footer checksum mismatch");
  }
  Footer f;
  const char* p = bytes.data() + 16;
  const std::uint64_t body = file_size - kFooterSize;
  for (BlockHandle* h : {&f.index, &f.filter, &f.props}) {
    h->offset = decode_fixed64(p);
    h->size = decode_fixed64(p + 8);
    p += 16;
    if (h->offset > body || h->size > body - h->offset || kBlockTrailerSize > body - h->offset - h->size) {
      return Status::corruption(where + ": run footer points past the data (offset " + std::to_string(h->offset) +
                                ", size " + std::to_string(h->size) + ")");
    }
  }
  return f;
}

void encode_properties(const RunProperties& p, std::string* out) {
  put_varint64(*out, p.entries);
  put_varint64(*out, p.deletions);
  put_varint64(*out, p.min_sequence);
  put_varint64(*out, p.max_sequence);
  put_varint64(*out, p.data_blocks);
  put_varint64(*out, p.data_bytes);
  put_varint32(*out, p.bloom_bits_per_key);
  put_length_prefixed(*out, p.smallest_user_key);
  put_length_prefixed(*out, p.largest_user_key);
}

bool decode_properties(std::string_view in, RunProperties* p) {
  std::string_view smallest, largest;
  if (!get_varint64(&in, &p->entries) || !get_varint64(&in, &p->deletions) ||
      !get_varint64(&in, &p->min_sequence) || !get_varint64(&in, &p->max_sequence) ||
      !get_varint64(&in, &p->data_blocks) || !get_varint64(&in, &p->data_bytes) ||
      !get_varint32(&in, &p->bloom_bits_per_key) || !get_length_prefixed(&in, &smallest) ||
      !get_length_prefixed(&in, &largest)) {
    return false;
  }
  p->smallest_user_key.assign(smallest);
  p->largest_user_key.assign(largest);
  return p->deletions <= p->entries && p->min_sequence <= p->max_sequence;
}

void append_block(std::string_view payload, std::string* out) {
  out->append(payload);
  out->push_back(static_cast<char>(kCodecNone));
  std::uint32_t crc = crc32c::value(payload);
  const char codec = static_cast<char>(kCodecNone);
  crc = crc32c::extend(crc, &codec, 1);
  put_fixed32(*out, crc32c::mask(crc));
}

Result<std::string_view> check_block(std::string_view stored, const std::string& where) {
  if (stored.size() < kBlockTrailerSize) return Status::corruption(where + ": block shorter than its trailer");
  const std::size_t n = stored.size() - kBlockTrailerSize;
  const std::uint32_t expected = crc32c::unmask(decode_fixed32(stored.data() + n + 1));
  if (crc32c::extend(crc32c::value(stored.data(), n), stored.data() + n, 1) != expected) {
    return Status::corruption(where + ": block checksum mismatch");
  }
  const auto codec = static_cast<std::uint8_t>(stored[n]);
  if (codec != kCodecNone) return Status::corruption(where + ": unknown block codec " + std::to_string(codec));
  return stored.substr(0, n);
}

}  // namespace lightning::run

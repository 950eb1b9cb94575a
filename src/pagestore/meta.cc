#include "pagestore/meta.h"

#include <cstring>
#include <string>

#include "util/coding.h"
#include "util/crc32c.h"

namespace lightning::pagestore {

using namespace meta_layout;

void encode_meta(const Meta& m, char* out) {
  std::memset(out, 0, kMetaSize);
  encode_fixed64(out + kMagic, kMetaMagic);
  encode_fixed32(out + kVersion, kDataFileFormatVersion);
  encode_fixed32(out + kPageSize, m.page_size);
  encode_fixed64(out + kEpoch, m.epoch);
  encode_fixed64(out + kLastSeq, m.last_sequence);
  encode_page_ref(out + kRoot, m.root);
  out[kHeight] = static_cast<char>(m.tree_height);
  encode_fixed64(out + kEntryCount, m.entry_count);
  encode_page_ref(out + kFreeSpace, m.free_space);
  encode_fixed64(out + kFreeSpaceBytes, m.free_space_bytes);
  encode_fixed64(out + kHighWater, m.high_water);
  encode_fixed64(out + kWalFloor, m.wal_floor);
  encode_page_ref(out + kRuns, m.runs);
  encode_fixed32(out + kRunsBytes, m.runs_bytes);
  encode_fixed32(out + kCrc, crc32c::mask(crc32c::value(out, kCrc)));
}

Result<Meta> decode_meta(std::span<const std::byte> bytes, std::string_view where) {
  auto bad = [&](const std::string& why) { return Status::corruption(std::string(where) + ": " + why); };
  if (bytes.size() < kMetaSize) return bad("meta slot is truncated");
  const char* p = reinterpret_cast<const char*>(bytes.data());
  if (decode_fixed64(p + kMagic) != kMetaMagic) return bad("meta slot has a bad magic");
  if (crc32c::unmask(decode_fixed32(p + kCrc)) != crc32c::value(p, kCrc)) {
    return bad("meta slot checksum mismatch");
  }
  std::uint32_t version = decode_fixed32(p + kVersion);
  if (version > kDataFileFormatVersion) {
    return Status::not_supported(std::string(where) + ": data file format version " +
                                 std::to_string(version) + " is newer than supported (" +
                                 std::to_string(kDataFileFormatVersion) + ")");
  }
  Meta m;
  m.page_size = decode_fixed32(p + kPageSize);
  m.epoch = decode_fixed64(p + kEpoch);
  m.last_sequence = decode_fixed64(p + kLastSeq);
  m.root = decode_page_ref(p + kRoot);
  m.tree_height = static_cast<std::uint8_t>(p[kHeight]);
  m.entry_count = decode_fixed64(p + kEntryCount);
  m.free_space = decode_page_ref(p + kFreeSpace);
  m.free_space_bytes = decode_fixed64(p + kFreeSpaceBytes);
  m.high_water = decode_fixed64(p + kHighWater);
  m.wal_floor = decode_fixed64(p + kWalFloor);
  m.runs = decode_page_ref(p + kRuns);
  m.runs_bytes = decode_fixed32(p + kRunsBytes);
  bool page_size_ok = m.page_size >= 4096 && m.page_size <= 65536 && (m.page_size & (m.page_size - 1)) == 0;
  if (!page_size_ok) return bad("meta slot has an invalid page size " + std::to_string(m.page_size));
  if (m.epoch == 0) return bad("meta slot has epoch 0");
  if (m.high_water < kMetaPages) return bad("meta slot has an invalid high-water mark");
  if ((m.root.page_id == 0) != (m.tree_height == 0) || m.tree_height > 64) {
    return bad("meta slot root and tree height disagree");
  }
  if (m.root.page_id != 0 && (m.root.page_id < kMetaPages || m.root.page_id >= m.high_water)) {
    return bad("meta slot root page " + std::to_string(m.root.page_id) + " is outside the file");
  }
  if (m.runs.page_id != 0 && (m.runs.page_id < kMetaPages || m.runs.page_id >= m.high_water)) {
    return bad("meta slot run list page " + std::to_string(m.runs.page_id) + " is outside the file");
  }
  if ((m.runs.page_id == 0) != (m.runs_bytes == 0)) return bad("meta slot run list and its length disagree");
  return m;
}

}  // namespace lightning::pagestore

// Meta slots: the two fixed places (pages 0 and 1 of the data file) that
// publish a commit. A commit writes the slot of its epoch's parity and syncs;
// recovery takes the valid slot with the higher epoch.
//
//   offset size field
//   0      8    magic            u64 le = kMetaMagic
//   8      4    format_version   u32 le = kDataFileFormatVersion
//   12     4    page_size        u32 le
//   16     8    epoch            u64 le (commit counter, starts at 1)
//   24     8    last_sequence    u64 le (every write with sequence <= this is in the tree)
//   32     16   root             PageRef (page_id 0 = empty tree)
//   48     1    tree_height      u8 (0 = empty, 1 = root is a leaf)
//   49     7    reserved         zero
//   56     8    entry_count      u64 le (keys in the tree)
//   64     16   free_space       PageRef of the first free-space map page (0 = none)
//   80     8    free_space_bytes u64 le (encoded size of the map)
//   88     8    high_water       u64 le (pages in use: the file holds [0, high_water))
//   96     8    wal_floor        u64 le (WAL segments numbered below this are covered)
//   104    20   reserved         zero
//   124    4    crc              u32 le masked crc32c of bytes [0, 124)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "lightning/status.h"
#include "pagestore/page_format.h"

namespace lightning::pagestore {

inline constexpr std::uint64_t kMetaMagic = 0x4154454d474e544cull;  // "LTNGMETA" le
// 2: meta slots carry a run list (bytes 104..123). Version 1 slots (zeros
// there: no runs) are still read; a build that knows only version 1 refuses
// version 2 (NotSupported) instead of ignoring live runs.
inline constexpr std::uint32_t kDataFileFormatVersion = 2;
inline constexpr std::size_t kMetaSize = 128;
inline constexpr std::uint64_t kMetaPages = 2;  // pages 0 and 1

struct Meta {
  std::uint32_t page_size = 0;
  std::uint64_t epoch = 0;
  std::uint64_t last_sequence = 0;
  PageRef root;
  std::uint8_t tree_height = 0;
  std::uint64_t entry_count = 0;
  PageRef free_space;
  std::uint64_t free_space_bytes = 0;
  std::uint64_t high_water = kMetaPages;
  std::uint64_t wal_floor = 0;
  // The run list's blob extent (page_id 0: no runs) and its length.
  PageRef runs;
  std::uint32_t runs_bytes = 0;
};

namespace meta_layout {
inline constexpr std::size_t kMagic = 0, kVersion = 8, kPageSize = 12, kEpoch = 16, kLastSeq = 24,
                             kRoot = 32, kHeight = 48, kEntryCount = 56, kFreeSpace = 64,
                             kFreeSpaceBytes = 80, kHighWater = 88, kWalFloor = 96, kRuns = 104,
                             kRunsBytes = 120, kCrc = 124;
static_assert(kRuns + kPageRefSize == kRunsBytes && kRunsBytes + 4 == kCrc);
static_assert(kRoot + kPageRefSize <= kHeight);
static_assert(kFreeSpace + kPageRefSize == kFreeSpaceBytes);
static_assert(kCrc + 4 == kMetaSize);
}  // namespace meta_layout

// The slot (0 or 1) a commit of this epoch writes.
inline std::uint64_t meta_slot_for_epoch(std::uint64_t epoch) { return epoch % 2; }

void encode_meta(const Meta& meta, char* out /* kMetaSize bytes */);
// Corruption (naming `where`) for a bad magic/checksum/field; NotSupported
// for a newer format version.
Result<Meta> decode_meta(std::span<const std::byte> bytes, std::string_view where);

}  // namespace lightning::pagestore

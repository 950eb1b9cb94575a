// WAL segment format (docs/format/wal.md has the byte layout).
//
//   segment := segment_header block*
//   segment_header (32 bytes) :=
//     magic      u64 le  = kWalMagic
//     version    u32 le  = kWalFormatVersion
//     codec      u8      = kCodecNone (compression/encryption arrive later)
//     reserved   u8[3]   = 0
//     segment_no u64 le
//     reserved   u32     = 0
//     crc        u32 le  = masked crc32c of bytes [0, 28)
//   block (kBlockSize bytes, the last one may be short) := fragment* trailer?
//   fragment := crc u32 le | length u16 le | type u8 | payload[length]
//     crc = masked crc32c over (type byte, payload)
//   trailer: fewer than kFragmentHeaderSize bytes at the end of a block are
//     zero-filled and skipped.
//
// A logical record (one write batch) is one kFull fragment, or kFirst,
// kMiddle*, kLast fragments in consecutive blocks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lightning::wal {

inline constexpr std::uint64_t kWalMagic = 0x4c41574e544c474cull;  // "LGLTNWAL" le
inline constexpr std::uint32_t kWalFormatVersion = 1;
inline constexpr std::uint8_t kCodecNone = 0;

inline constexpr std::size_t kSegmentHeaderSize = 32;
inline constexpr std::size_t kBlockSize = 32 * 1024;
inline constexpr std::size_t kFragmentHeaderSize = 7;  // crc(4) + length(2) + type(1)

// DO NOT CHANGE: embedded in on-disk data.
enum class FragmentType : std::uint8_t {
  kZero = 0,  // never written; zero-filled space (preallocation / padding)
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};
inline constexpr std::uint8_t kMaxFragmentType = 4;

struct SegmentHeader {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint8_t codec;
  std::uint8_t reserved1[3];
  std::uint64_t segment_number;
  std::uint32_t reserved2;
  std::uint32_t crc;
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);
static_assert(offsetof(SegmentHeader, version) == 8);
static_assert(offsetof(SegmentHeader, codec) == 12);
static_assert(offsetof(SegmentHeader, segment_number) == 16);
static_assert(offsetof(SegmentHeader, crc) == 28);

// Offset (within the segment file) at which block b starts.
constexpr std::uint64_t block_start(std::uint64_t b) { return kSegmentHeaderSize + b * kBlockSize; }

}  // namespace lightning::wal

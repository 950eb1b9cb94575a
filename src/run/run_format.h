// Run file format (docs/format/run.md):
//
//   run file := data_block* filter_block props_block index_block footer
//   block    := payload | codec u8 | crc u32le      (trailer: 5 bytes)
//     crc = masked CRC32C of payload and codec; codec 0 = stored as is
//   data block  payload: see block.h; keys are internal keys (dbformat.h)
//   index block payload: see block.h, restart interval 1; key = the last
//     internal key of a data block, value = BlockHandle of that block
//   filter block payload: see bloom.h (over user keys)
//   props block payload: RunProperties (encode_properties)
//   footer (kFooterSize = 64 bytes, at the end of the file):
//     magic u64le | format_version u32le | footer crc u32le (masked CRC32C of
//     the 64 bytes with this field zero) | index BlockHandle (offset u64le,
//     size u64le) | filter BlockHandle | props BlockHandle
//
// A BlockHandle's size counts the payload only (the trailer follows it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/status.h"

namespace lightning::run {

inline constexpr std::uint64_t kRunMagic = 0x314E55524E54474CULL;  // "LGTNRUN1" little-endian
inline constexpr std::uint32_t kRunFormatVersion = 1;
inline constexpr std::size_t kBlockTrailerSize = 5;
inline constexpr std::uint8_t kCodecNone = 0;

struct BlockHandle {
  std::uint64_t offset = 0;
  std::uint64_t size = 0;  // payload bytes
};

struct Footer {
  BlockHandle index;
  BlockHandle filter;
  BlockHandle props;
};
inline constexpr std::size_t kFooterSize = 8 + 4 + 4 + 3 * 16;
static_assert(kFooterSize == 64, "footer layout (docs/format/run.md)");

void encode_footer(const Footer& f, char* out);  // kFooterSize bytes
// Corruption (naming `where`) on a bad magic, version or checksum, or
// handles that do not fit a file of file_size bytes.
Result<Footer> decode_footer(std::string_view bytes, std::uint64_t file_size, const std::string& where);

// Describes a finished run.
struct RunProperties {
  std::uint64_t entries = 0;
  std::uint64_t deletions = 0;      // tombstones among entries
  std::uint64_t min_sequence = 0;
  std::uint64_t max_sequence = 0;
  std::uint64_t data_blocks = 0;
  std::uint64_t data_bytes = 0;     // data blocks with trailers
  std::uint32_t bloom_bits_per_key = 0;
  std::string smallest_user_key;
  std::string largest_user_key;
};
void encode_properties(const RunProperties& p, std::string* out);
bool decode_properties(std::string_view in, RunProperties* p);

// Appends payload | codec | crc.
void append_block(std::string_view payload, std::string* out);
// Verifies the trailer of the stored block (payload + trailer bytes) and
// returns the payload. Corruption naming `where` on a bad checksum or codec.
Result<std::string_view> check_block(std::string_view stored, const std::string& where);

}  // namespace lightning::run

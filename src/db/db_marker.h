// The database marker file "LIGHTNING": proves a directory is a Lightning DB
// and records the on-disk format version. Written once at creation (to
// LIGHTNING.tmp, synced, renamed, directory synced), read at every open.
//
//   offset size field
//   0      8    magic          u64 le = kMarkerMagic
//   8      4    format_version u32 le = kDatabaseFormatVersion
//   12     4    flags          u32 le = 0 (reserved)
//   16     8    created_unix   u64 le seconds since the epoch
//   24     4    reserved       u32    = 0
//   28     4    crc            u32 le masked crc32c of bytes [0, 28)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lightning/file_system.h"
#include "lightning/status.h"

namespace lightning {

inline constexpr std::uint64_t kMarkerMagic = 0x4244474e54484c4cull;  // "LLHTNGDB" le
// 1: WAL only. 2: WAL + DATA (the page store); a version-1 database is
// upgraded at open by creating an empty DATA file and rewriting the marker.
inline constexpr std::uint32_t kDatabaseFormatVersion = 2;

struct MarkerFile {
  std::uint64_t magic;
  std::uint32_t format_version;
  std::uint32_t flags;
  std::uint64_t created_unix;
  std::uint32_t reserved;
  std::uint32_t crc;
};
static_assert(sizeof(MarkerFile) == 32);
static_assert(offsetof(MarkerFile, format_version) == 8);
static_assert(offsetof(MarkerFile, created_unix) == 16);
static_assert(offsetof(MarkerFile, crc) == 28);

// Writes the marker durably into dir (which must exist).
Status write_marker(FileSystem& fs, const std::string& dir);
// Reads and checks dir's marker; returns its format version. Corruption
// (bad size, magic or checksum, naming the file) or NotSupported (a newer
// format version).
Result<std::uint32_t> check_marker(FileSystem& fs, const std::string& dir);

}  // namespace lightning

#include "db/db_marker.h"

#include <chrono>
#include <cstring>
#include <span>

#include "db/filename.h"
#include "util/coding.h"
#include "util/crc32c.h"

namespace lightning {

namespace {
void encode_marker(char* out, std::uint64_t created_unix) {
  std::memset(out, 0, sizeof(MarkerFile));
  encode_fixed64(out + offsetof(MarkerFile, magic), kMarkerMagic);
  encode_fixed32(out + offsetof(MarkerFile, format_version), kDatabaseFormatVersion);
  encode_fixed64(out + offsetof(MarkerFile, created_unix), created_unix);
  encode_fixed32(out + offsetof(MarkerFile, crc),
                 crc32c::mask(crc32c::value(out, offsetof(MarkerFile, crc))));
}
}  // namespace

Status write_marker(FileSystem& fs, const std::string& dir) {
  const std::string tmp = temp_marker_file_name(dir);
  char buf[sizeof(MarkerFile)];
  auto now = std::chrono::system_clock::now().time_since_epoch();
  encode_marker(buf, static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now).count()));
  auto file = fs.new_writable_file(tmp, FileSystem::OpenMode::kCreateOrTruncate);
  if (!file) return file.status();
  LIGHTNING_RETURN_IF_ERROR((*file)->append(std::as_bytes(std::span(buf))));
  LIGHTNING_RETURN_IF_ERROR((*file)->sync());
  LIGHTNING_RETURN_IF_ERROR((*file)->close());
  LIGHTNING_RETURN_IF_ERROR(fs.rename_file(tmp, marker_file_name(dir)));
  return fs.sync_dir(dir);
}

Result<std::uint32_t> check_marker(FileSystem& fs, const std::string& dir) {
  const std::string name = marker_file_name(dir);
  auto file = fs.open_readable(name);
  if (!file) return file.status();
  char buf[sizeof(MarkerFile) + 1];
  auto n = (*file)->read_at(0, std::as_writable_bytes(std::span(buf)));
  if (!n) return n.status();
  if (*n != sizeof(MarkerFile)) {
    return Status::corruption(name + ": marker file is " + std::to_string(*n) +
                              " bytes, expected 32; not a Lightning DB or damaged");
  }
  if (decode_fixed64(buf) != kMarkerMagic) {
    return Status::corruption(name + ": bad magic at offset 0; not a Lightning DB");
  }
  std::uint32_t stored = crc32c::unmask(decode_fixed32(buf + offsetof(MarkerFile, crc)));
  if (stored != crc32c::value(buf, offsetof(MarkerFile, crc))) {
    return Status::corruption(name + ": checksum mismatch at offset 28");
  }
  std::uint32_t version = decode_fixed32(buf + offsetof(MarkerFile, format_version));
  if (version > kDatabaseFormatVersion) {
    return Status::not_supported(name + ": format version " + std::to_string(version) +
                                 " is newer than this library supports (" +
                                 std::to_string(kDatabaseFormatVersion) + ")");
  }
  if (version == 0) return Status::corruption(name + ": format version 0");
  return version;
}

}  // namespace lightning

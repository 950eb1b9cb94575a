// Fuzzes the marker-file check: arbitrary bytes as the LIGHTNING file must give
// ok only for a well-formed marker, and never crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "db/db_marker.h"
#include "db/filename.h"
#include "lightning/file_system.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto fs = lightning::new_in_memory_file_system();
  if (!fs->create_dir("/db").is_ok()) __builtin_trap();
  auto file = fs->new_writable_file(lightning::marker_file_name("/db"),
                                    lightning::FileSystem::OpenMode::kCreateOrTruncate);
  if (!file) __builtin_trap();
  if (!(*file)->append(std::as_bytes(std::span(data, size))).is_ok()) __builtin_trap();
  auto version = lightning::check_marker(*fs, "/db");
  if (version.has_value() && size != sizeof(lightning::MarkerFile)) __builtin_trap();
  return 0;
}

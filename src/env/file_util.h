// Small helpers over the FileSystem interface.
#pragma once

#include <cstdint>
#include <string>

#include "lightning/file_system.h"

namespace lightning {

// The directory holding path ("." for a bare name, "/" for a top-level one).
std::string parent_dir(const std::string& path);

// Copies `from` to `to` (opened with `mode`), fsyncs the copy and returns
// the bytes copied. The directory entry is durable only after sync_dir().
Result<std::uint64_t> copy_file(FileSystem& fs, const std::string& from, const std::string& to,
                                FileSystem::OpenMode mode);

}  // namespace lightning

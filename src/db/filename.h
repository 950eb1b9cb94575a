// The names of the files in a database directory; the only module that
// builds or parses them.
//
//   LOCK               advisory lock held while the database is open
//   LIGHTNING          the database marker (db_marker.h)
//   LIGHTNING.tmp      marker being written (removed at open)
//   NNNNNN.wal         WAL segment number NNNNNN (at least 6 digits)
//   NNNNNN.wal.corrupt a damaged segment moved aside by non-paranoid recovery
//   DATA               the page store: copy-on-write B+tree (docs/format/datafile.md)
//   NNNNNN.run         sorted run file number NNNNNN (docs/format/run.md)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lightning {

enum class FileType { kLock, kMarker, kTempMarker, kWalSegment, kCorruptWal, kData, kRun, kUnknown };

std::string lock_file_name(const std::string& dir);
std::string marker_file_name(const std::string& dir);
std::string temp_marker_file_name(const std::string& dir);
std::string wal_file_name(const std::string& dir, std::uint64_t number);
std::string corrupt_wal_file_name(const std::string& dir, std::uint64_t number);
std::string data_file_name(const std::string& dir);
std::string run_file_name(const std::string& dir, std::uint64_t number);

// Classifies a directory entry name; *number is set for WAL segments and runs.
FileType parse_file_name(std::string_view name, std::uint64_t* number);

}  // namespace lightning

#include "db/filename.h"

#include <cstdio>

namespace lightning {

namespace {
constexpr std::string_view kWalSuffix = ".wal";
constexpr std::string_view kCorruptSuffix = ".wal.corrupt";
constexpr std::string_view kRunSuffix = ".run";

std::string numbered(const std::string& dir, std::uint64_t number, std::string_view suffix) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%06llu", static_cast<unsigned long long>(number));
  return dir + "/" + buf + std::string(suffix);
}

// Parses a decimal number of at least one digit that makes up all of s.
bool parse_number(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = v;
  return true;
}
}  // namespace

std::string lock_file_name(const std::string& dir) { return dir + "/LOCK"; }
std::string data_file_name(const std::string& dir) { return dir + "/DATA"; }
std::string marker_file_name(const std::string& dir) { return dir + "/LIGHTNING"; }
std::string temp_marker_file_name(const std::string& dir) { return dir + "/LIGHTNING.tmp"; }
std::string wal_file_name(const std::string& dir, std::uint64_t number) {
  return numbered(dir, number, kWalSuffix);
}
std::string corrupt_wal_file_name(const std::string& dir, std::uint64_t number) {
  return numbered(dir, number, kCorruptSuffix);
}
std::string run_file_name(const std::string& dir, std::uint64_t number) {
  return numbered(dir, number, kRunSuffix);
}

FileType parse_file_name(std::string_view name, std::uint64_t* number) {
  if (name == "LOCK") return FileType::kLock;
  if (name == "LIGHTNING") return FileType::kMarker;
  if (name == "LIGHTNING.tmp") return FileType::kTempMarker;
  if (name == "DATA") return FileType::kData;
  if (name.ends_with(kCorruptSuffix) &&
      parse_number(name.substr(0, name.size() - kCorruptSuffix.size()), number)) {
    return FileType::kCorruptWal;
  }
  if (name.ends_with(kWalSuffix) &&
      parse_number(name.substr(0, name.size() - kWalSuffix.size()), number)) {
    return FileType::kWalSegment;
  }
  if (name.ends_with(kRunSuffix) && parse_number(name.substr(0, name.size() - kRunSuffix.size()), number)) {
    return FileType::kRun;
  }
  return FileType::kUnknown;
}

}  // namespace lightning

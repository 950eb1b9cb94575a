// Small helpers for FileSystem tests: byte views of strings, whole-file
// read and write. Failures are reported through gtest.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/file_system.h"

namespace lightning::testing {

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

// Reads the whole file at path; "" with a test failure on error.
inline std::string read_all(FileSystem& fs, const std::string& path) {
  auto file = fs.open_readable(path);
  EXPECT_TRUE(file.has_value()) << file.status().to_string();
  if (!file) return "";
  auto size = (*file)->size();
  EXPECT_TRUE(size.has_value());
  if (!size) return "";
  std::string out(*size, '\0');
  auto n = (*file)->read_at(0, std::as_writable_bytes(std::span<char>(out.data(), out.size())));
  EXPECT_TRUE(n.has_value()) << n.status().to_string();
  if (!n) return "";
  out.resize(*n);
  return out;
}

// Creates (or truncates) path with contents and closes it.
inline void write_file(FileSystem& fs, const std::string& path, std::string_view contents) {
  auto file = fs.new_writable_file(path, FileSystem::OpenMode::kCreateOrTruncate);
  ASSERT_TRUE(file.has_value()) << file.status().to_string();
  ASSERT_TRUE((*file)->append(as_bytes(contents)).is_ok());
  ASSERT_TRUE((*file)->close().is_ok());
}

inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace lightning::testing
